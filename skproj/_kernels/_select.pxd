# cython: language_level=3
"""Branch-free max / clamp of scalars for the kernels' output loops.

With data-dependent comparisons (half the entries clipped, half not) a branch costs a
misprediction every other entry, and compilers often keep the branch for ``a if a > b else b``.
On x86-64 (SSE2 is part of the base instruction set) these helpers are the min/max
instructions; elsewhere the plain conditional expression. For finite arguments every variant
returns the same value (and +0.0, not -0.0, from ``pos(d)`` when d <= 0).
``sel_gt(a, t)`` is a if a > t, else +0.0 (a masked sum term with no rounding).
"""

cdef extern from *:
    """
    #if defined(__SSE2__) || defined(_M_X64)
    #include <emmintrin.h>
    static inline double skproj_pos(double d) {
        return _mm_cvtsd_f64(_mm_max_sd(_mm_set_sd(d), _mm_setzero_pd()));
    }
    static inline double skproj_sel_gt(double a, double t) {
        __m128d v = _mm_set_sd(a);
        return _mm_cvtsd_f64(_mm_and_pd(_mm_cmpgt_sd(v, _mm_set_sd(t)), v));
    }
    static inline double skproj_clamp_d(double a, double lo, double hi) {
        return _mm_cvtsd_f64(_mm_max_sd(_mm_min_sd(_mm_set_sd(a), _mm_set_sd(hi)), _mm_set_sd(lo)));
    }
    static inline float skproj_clamp_f(float a, float lo, float hi) {
        return _mm_cvtss_f32(_mm_max_ss(_mm_min_ss(_mm_set_ss(a), _mm_set_ss(hi)), _mm_set_ss(lo)));
    }
    #else
    static inline double skproj_pos(double d) { return d > 0.0 ? d : 0.0; }
    static inline double skproj_sel_gt(double a, double t) { return a > t ? a : 0.0; }
    static inline double skproj_clamp_d(double a, double lo, double hi) {
        a = a < hi ? a : hi;
        return a > lo ? a : lo;
    }
    static inline float skproj_clamp_f(float a, float lo, float hi) {
        a = a < hi ? a : hi;
        return a > lo ? a : lo;
    }
    #endif
    """
    double pos "skproj_pos" (double d) noexcept nogil
    double sel_gt "skproj_sel_gt" (double a, double t) noexcept nogil
    double clamp_d "skproj_clamp_d" (double a, double lo, double hi) noexcept nogil
    float clamp_f "skproj_clamp_f" (float a, float lo, float hi) noexcept nogil
