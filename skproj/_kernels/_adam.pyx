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
       their precision are those of the scalar tail loop and of the numpy path of Adam.step. */
    #if defined(__SSE2__)
    #include <emmintrin.h>
    #endif
    #include <math.h>
    static void skproj_adam_f32(float *p, const float *g, float *m, float *v, Py_ssize_t n, float b1,
                                float a1, float b2, float a2, float step, float sc2, float eps) {
        Py_ssize_t i = 0;
    #if defined(__SSE2__)
        __m128 B1 = _mm_set1_ps(b1), A1 = _mm_set1_ps(a1), B2 = _mm_set1_ps(b2), A2 = _mm_set1_ps(a2);
        __m128 ST = _mm_set1_ps(step), SC = _mm_set1_ps(sc2), EP = _mm_set1_ps(eps);
        for (; i + 4 <= n; i += 4) {
            __m128 gi = _mm_loadu_ps(g + i);
            __m128 mi = _mm_add_ps(_mm_mul_ps(_mm_loadu_ps(m + i), B1), _mm_mul_ps(A1, gi));
            __m128 vi = _mm_add_ps(_mm_mul_ps(_mm_loadu_ps(v + i), B2), _mm_mul_ps(A2, _mm_mul_ps(gi, gi)));
            __m128 den = _mm_add_ps(_mm_div_ps(_mm_sqrt_ps(vi), SC), EP);
            _mm_storeu_ps(m + i, mi);
            _mm_storeu_ps(v + i, vi);
            _mm_storeu_ps(p + i, _mm_sub_ps(_mm_loadu_ps(p + i), _mm_div_ps(_mm_mul_ps(ST, mi), den)));
        }
    #endif
        for (; i < n; i++) {
            float gi = g[i], mi = m[i] * b1 + a1 * gi, vi = v[i] * b2 + a2 * (gi * gi);
            m[i] = mi;
            v[i] = vi;
            p[i] = p[i] - (step * mi) / (sqrtf(vi) / sc2 + eps);
        }
    }
    static void skproj_adam_f64(double *p, const double *g, double *m, double *v, Py_ssize_t n, double b1,
                                double a1, double b2, double a2, double step, double sc2, double eps) {
        Py_ssize_t i = 0;
    #if defined(__SSE2__)
        __m128d B1 = _mm_set1_pd(b1), A1 = _mm_set1_pd(a1), B2 = _mm_set1_pd(b2), A2 = _mm_set1_pd(a2);
        __m128d ST = _mm_set1_pd(step), SC = _mm_set1_pd(sc2), EP = _mm_set1_pd(eps);
        for (; i + 2 <= n; i += 2) {
            __m128d gi = _mm_loadu_pd(g + i);
            __m128d mi = _mm_add_pd(_mm_mul_pd(_mm_loadu_pd(m + i), B1), _mm_mul_pd(A1, gi));
            __m128d vi = _mm_add_pd(_mm_mul_pd(_mm_loadu_pd(v + i), B2), _mm_mul_pd(A2, _mm_mul_pd(gi, gi)));
            __m128d den = _mm_add_pd(_mm_div_pd(_mm_sqrt_pd(vi), SC), EP);
            _mm_storeu_pd(m + i, mi);
            _mm_storeu_pd(v + i, vi);
            _mm_storeu_pd(p + i, _mm_sub_pd(_mm_loadu_pd(p + i), _mm_div_pd(_mm_mul_pd(ST, mi), den)));
        }
    #endif
        for (; i < n; i++) {
            double gi = g[i], mi = m[i] * b1 + a1 * gi, vi = v[i] * b2 + a2 * (gi * gi);
            m[i] = mi;
            v[i] = vi;
            p[i] = p[i] - (step * mi) / (sqrt(vi) / sc2 + eps);
        }
    }
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
