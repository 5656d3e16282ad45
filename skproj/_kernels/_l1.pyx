# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""l1-ball and simplex projection kernels (Condat, Math. Program. 158, 2016, Algorithm 1).

No validation happens here: callers pass C-contiguous float32/float64 buffers, a finite
radius > 0 and an output buffer of the same length. The threshold is accumulated in double.
"""
from cython cimport floating
from libc.stdlib cimport malloc, free
from libc.math cimport fabs

from skproj._kernels._simplex cimport l2_norm, simplex_threshold


def l1_ball(const floating[::1] x, floating[::1] out, double radius):
    """Write the projection of x onto {||z||_1 <= radius} (radius > 0, ||x||_1 > radius) into out.

    Returns the threshold tau (out = sign(x) max(|x| - tau, 0)), or raises MemoryError.
    """
    cdef Py_ssize_t n = x.shape[0], i
    cdef double tau = 0.0, a
    cdef int status
    with nogil:
        status = simplex_threshold(&x[0], n, radius, True, &tau)
        if status == 0:
            for i in range(n):
                a = fabs(<double> x[i]) - tau
                if a <= 0.0:
                    out[i] = 0.0
                elif x[i] > 0:
                    out[i] = <floating> a
                else:
                    out[i] = <floating> (-a)
    if status != 0:
        raise MemoryError("could not allocate the work buffers of the l1-ball projection")
    return tau


def simplex(const floating[::1] x, floating[::1] out, double radius):
    """Write the projection of x onto {z >= 0, sum z = radius} (radius > 0) into out; return tau."""
    cdef Py_ssize_t n = x.shape[0], i
    cdef double tau = 0.0, a
    cdef int status
    with nogil:
        status = simplex_threshold(&x[0], n, radius, False, &tau)
        if status == 0:
            for i in range(n):
                a = <double> x[i] - tau
                out[i] = <floating> a if a > 0.0 else 0.0
    if status != 0:
        raise MemoryError("could not allocate the work buffers of the simplex projection")
    return tau


def l1_norm(const floating[::1] x):
    """Sum of |x_i| accumulated in double."""
    cdef Py_ssize_t i
    cdef double s = 0.0
    with nogil:
        for i in range(x.shape[0]):
            s += fabs(<double> x[i])
    return s


def l12_ball(const floating[:, ::1] X, floating[:, ::1] out, double radius):
    """Project X (groups = rows) onto {sum_g ||X_g||_2 <= radius}, radius > 0, into out.

    The vector of row l2 norms is projected onto the l1 ball (threshold tau), then row g is
    scaled by max(0, 1 - tau / ||X_g||_2). Returns tau (0.0 when X is inside the ball).
    """
    cdef Py_ssize_t n = X.shape[0], m = X.shape[1], i, j
    cdef double tau = 0.0, total = 0.0, s, scale
    cdef int status = 0
    cdef double* norms
    with nogil:
        norms = <double*> malloc((n if n > 0 else 1) * sizeof(double))
        if norms == NULL:
            status = -1
        else:
            for i in range(n):
                norms[i] = l2_norm(&X[i, 0], m)
                total += norms[i]
            if total > radius:
                status = simplex_threshold(norms, n, radius, False, &tau)
            if status == 0:
                for i in range(n):
                    if norms[i] <= tau:
                        scale = 0.0
                    else:
                        scale = 1.0 - tau / norms[i]
                    for j in range(m):
                        out[i, j] = <floating> (scale * X[i, j])
            free(norms)
    if status != 0:
        raise MemoryError("could not allocate the work buffers of the l1,2-ball projection")
    return tau


def l12_norm(const floating[:, ::1] X):
    """sum_i ||X_i,:||_2 (rows are the groups), in double, overflow/underflow safe."""
    cdef Py_ssize_t i
    cdef double s = 0.0
    with nogil:
        for i in range(X.shape[0]):
            s += l2_norm(&X[i, 0], X.shape[1])
    return s
