# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Fused Adam updates (Kingma and Ba, ICLR 2015, Algorithm 1) on flat contiguous arrays.

One pass over the entries replaces the half-dozen temporaries of the numpy expression. The
arithmetic follows :meth:`skproj._optim.Adam.step` operation by operation in the arrays'
precision (float32 stays float32), so the fused and the numpy updates agree to rounding:
``m <- b1 m + (1 - b1) g``, ``v <- b2 v + (1 - b2) g^2``,
``p <- p - step m / (sqrt(v) / sqrt_c2 + eps)`` with ``step = lr / (1 - b1^t)`` and
``sqrt_c2 = sqrt(1 - b2^t)`` (the bias corrections folded in). No validation happens here:
callers pass arrays of one length and one dtype.
"""
from cython cimport floating
from libc.math cimport sqrt


def adam_update(floating[::1] p, const floating[::1] g, floating[::1] m, floating[::1] v,
                double b1, double b2, double step, double sqrt_c2, double eps):
    """Per-entry second moment: update ``m``, ``v`` and ``p`` in place."""
    cdef Py_ssize_t i, n = p.shape[0]
    cdef floating fb1 = <floating>b1, fb2 = <floating>b2
    cdef floating a1 = <floating>(1.0 - b1), a2 = <floating>(1.0 - b2)
    cdef floating fstep = <floating>step, feps = <floating>eps
    cdef floating gi, mi, vi, den
    with nogil:
        for i in range(n):
            gi = g[i]
            mi = m[i] * fb1 + a1 * gi
            vi = v[i] * fb2 + a2 * (gi * gi)
            m[i] = mi
            v[i] = vi
            den = <floating>(<floating>sqrt(vi) / sqrt_c2) + feps
            p[i] = p[i] - (fstep * mi) / den


def adam_update_scalar_v(floating[::1] p, const floating[::1] g, floating[::1] m, double v,
                         double b1, double step, double sqrt_c2, double eps):
    """Scalar second moment ``v`` (already updated by the caller): update ``m`` and ``p`` in place."""
    cdef Py_ssize_t i, n = p.shape[0]
    cdef floating fb1 = <floating>b1, a1 = <floating>(1.0 - b1), fstep = <floating>step
    cdef floating den = <floating>(<floating>sqrt(<floating>v) / sqrt_c2) + <floating>eps
    cdef floating mi
    with nogil:
        for i in range(n):
            mi = m[i] * fb1 + a1 * g[i]
            m[i] = mi
            p[i] = p[i] - (fstep * mi) / den


def sum_squares(const floating[::1] g):
    """``sum(g**2)``, accumulated in double."""
    cdef Py_ssize_t i, n = g.shape[0]
    cdef double s = 0.0
    with nogil:
        for i in range(n):
            s += <double>g[i] * g[i]
    return s
