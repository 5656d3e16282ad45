# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Fused Adam updates (Kingma and Ba, ICLR 2015, Algorithm 1) on flat contiguous arrays.

One pass over the entries replaces the half-dozen temporaries of the numpy expression. The
arithmetic follows :meth:`skproj._optim.Adam.step` operation by operation in the arrays'
precision (float32 stays float32), so the fused and the numpy updates agree to rounding:
``m <- b1 m + (1 - b1) g``, ``v <- b2 v + (1 - b2) g^2``,
``p <- p - step m / (sqrt(v) / sqrt_c2 + eps)`` with ``step = lr / (1 - b1^t)`` and
``sqrt_c2 = sqrt(1 - b2^t)`` (the bias corrections folded in), every constant rounded to the
arrays' precision. No validation happens here:
callers pass arrays of one length and one dtype.
"""
from cython cimport floating
from libc.math cimport sqrt

cdef extern from *:
    """
    /* Per-entry Adam update, 4 floats / 2 doubles at a time with SSE2 where available (the
       compiler does not vectorise a loop with sqrt under errno semantics). The operations and
       their precision are those of the scalar tail loop and of the numpy path of Adam.step.
       One definition serves both precisions: T the scalar type, V the SSE2 vector of W lanes,
       S the intrinsics' suffix (ps or pd), SQRT the scalar square root. */
    #if defined(__SSE2__)
    #include <emmintrin.h>
    #define SKPROJ_ADAM_SIMD(V, W, S)                                                              \
        V B1 = _mm_set1_##S(b1), A1 = _mm_set1_##S(a1), B2 = _mm_set1_##S(b2), A2 = _mm_set1_##S(a2); \
        V ST = _mm_set1_##S(step), SC = _mm_set1_##S(sc2), EP = _mm_set1_##S(eps);              \
        for (; i + W <= n; i += W) {                                                           \
            V gi = _mm_loadu_##S(g + i);                                                       \
            V mi = _mm_add_##S(_mm_mul_##S(_mm_loadu_##S(m + i), B1), _mm_mul_##S(A1, gi));    \
            V vi = _mm_add_##S(_mm_mul_##S(_mm_loadu_##S(v + i), B2),                          \
                               _mm_mul_##S(A2, _mm_mul_##S(gi, gi)));                          \
            V den = _mm_add_##S(_mm_div_##S(_mm_sqrt_##S(vi), SC), EP);                        \
            _mm_storeu_##S(m + i, mi);                                                         \
            _mm_storeu_##S(v + i, vi);                                                         \
            _mm_storeu_##S(p + i, _mm_sub_##S(_mm_loadu_##S(p + i), _mm_div_##S(_mm_mul_##S(ST, mi), den))); \
        }
    #else
    #define SKPROJ_ADAM_SIMD(V, W, S)
    #endif
    #include <math.h>
    #define SKPROJ_ADAM_DEF(NAME, T, V, W, S, SQRT)                                                \
        static void NAME(T *p, const T *g, T *m, T *v, Py_ssize_t n, T b1, T a1, T b2, T a2,      \
                         T step, T sc2, T eps) {                                                  \
            Py_ssize_t i = 0;                                                                     \
            SKPROJ_ADAM_SIMD(V, W, S)                                                             \
            for (; i < n; i++) {                                                                  \
                T gi = g[i], mi = m[i] * b1 + a1 * gi, vi = v[i] * b2 + a2 * (gi * gi);           \
                m[i] = mi;                                                                        \
                v[i] = vi;                                                                        \
                p[i] = p[i] - (step * mi) / (SQRT(vi) / sc2 + eps);                               \
            }                                                                                     \
        }
    SKPROJ_ADAM_DEF(skproj_adam_f32, float, __m128, 4, ps, sqrtf)
    SKPROJ_ADAM_DEF(skproj_adam_f64, double, __m128d, 2, pd, sqrt)
    """
    void skproj_adam_f32(float *p, const float *g, float *m, float *v, Py_ssize_t n, float b1, float a1,
                         float b2, float a2, float step, float sc2, float eps) noexcept nogil
    void skproj_adam_f64(double *p, const double *g, double *m, double *v, Py_ssize_t n, double b1, double a1,
                         double b2, double a2, double step, double sc2, double eps) noexcept nogil


def adam_update(floating[::1] p, const floating[::1] g, floating[::1] m, floating[::1] v,
                double b1, double b2, double step, double sqrt_c2, double eps):
    """Per-entry second moment: update ``m``, ``v`` and ``p`` in place (all constants rounded
    to the arrays' precision first)."""
    cdef Py_ssize_t n = p.shape[0]
    if n == 0:
        return
    with nogil:
        if floating is float:
            skproj_adam_f32(&p[0], &g[0], &m[0], &v[0], n, <float>b1, <float>(1.0 - b1), <float>b2,
                            <float>(1.0 - b2), <float>step, <float>sqrt_c2, <float>eps)
        else:
            skproj_adam_f64(&p[0], &g[0], &m[0], &v[0], n, b1, 1.0 - b1, b2, 1.0 - b2, step, sqrt_c2, eps)


def adam_update_scalar_v(floating[::1] p, const floating[::1] g, floating[::1] m, double v,
                         double b1, double step, double sqrt_c2, double eps):
    """Scalar second moment ``v`` (already updated by the caller): update ``m`` and ``p`` in place."""
    cdef Py_ssize_t i, n = p.shape[0]
    cdef floating fb1 = <floating>b1, a1 = <floating>(1.0 - b1), fstep = <floating>step
    cdef floating den = <floating>sqrt(<floating>v) / <floating>sqrt_c2 + <floating>eps
    cdef floating mi
    with nogil:
        for i in range(n):
            mi = m[i] * fb1 + a1 * g[i]
            m[i] = mi
            p[i] = p[i] - (fstep * mi) / den


def sum_squares(const floating[::1] g):
    """``sum(g**2)``, accumulated in double."""
    cdef Py_ssize_t i, n = g.shape[0]
    cdef Py_ssize_t n4 = n - n % 4
    cdef double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    with nogil:
        for i in range(0, n4, 4):  # four partial sums: the additions do not wait on each other
            s0 += <double>g[i] * g[i]
            s1 += <double>g[i + 1] * g[i + 1]
            s2 += <double>g[i + 2] * g[i + 2]
            s3 += <double>g[i + 3] * g[i + 3]
        for i in range(n4, n):
            s0 += <double>g[i] * g[i]
    return (s0 + s1) + (s2 + s3)
