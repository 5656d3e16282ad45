# cython: language_level=3
"""Shared nogil helpers for the kernels, defined inline so that any kernel module can cimport them.

`simplex_threshold` is Condat's simplex/l1-ball threshold (Math. Program. 158, 2016, Algorithm 1).
"""
from cython cimport floating
from libc.stdlib cimport malloc, free
from libc.math cimport fabs, sqrt


cdef inline double _val(const floating* x, Py_ssize_t i, bint use_abs) noexcept nogil:
    if use_abs:
        return fabs(<double> x[i])
    return <double> x[i]


cdef inline Py_ssize_t condat_active_set(const floating* x, Py_ssize_t n, double radius,
                                         bint use_abs, double* v, double* vt,
                                         double* rho_out) noexcept nogil:
    """Active set of the threshold equation sum_i max(y_i - tau, 0) = radius (n >= 1).

    y = |x| if use_abs else x. Condat's algorithm (Math. Program. 158, 2016, Algorithm 1): one
    pass builds a candidate set v whose running mean rho is a lower bound of tau (elements that
    cannot be active are parked in vt), a pass over vt re-admits the ones above rho, then v is
    pruned until stable. Expected linear time. v and vt are caller buffers of length n. On
    return v[0:k] holds the active values (those > tau) and *rho_out the running estimate of
    tau; returns k, which is 0 only when radius is below the rounding of the largest values.
    """
    cdef Py_ssize_t nv = 0, nvt = 0, i, j, k
    cdef double rho, y
    cdef bint changed
    y = _val(x, 0, use_abs)
    v[0] = y
    nv = 1
    rho = y - radius
    for i in range(1, n):
        y = _val(x, i, use_abs)
        if y > rho:
            rho += (y - rho) / (nv + 1)
            if rho > y - radius:
                v[nv] = y
                nv += 1
            else:
                for j in range(nv):
                    vt[nvt] = v[j]
                    nvt += 1
                v[0] = y
                nv = 1
                rho = y - radius
    for j in range(nvt):
        y = vt[j]
        if y > rho:
            v[nv] = y
            nv += 1
            rho += (y - rho) / nv
    changed = True
    while changed:
        changed = False
        k = 0
        for j in range(nv):
            y = v[j]
            if y > rho:
                v[k] = y
                k += 1
            else:
                changed = True
                if nv - (j - k) - 1 > 0:
                    # one fewer element: rho += (rho - y) / |v| with |v| after the removal
                    rho += (rho - y) / (k + (nv - j - 1))
        nv = k
    rho_out[0] = rho
    return nv


cdef inline int simplex_threshold(const floating* x, Py_ssize_t n, double radius, bint use_abs,
                                  double* tau_out, Py_ssize_t* k_out=NULL) noexcept nogil:
    """Threshold tau with sum_i max(y_i - tau, 0) = radius, y = |x| if use_abs else x.

    :func:`condat_active_set` on heap buffers; tau is then recomputed from the final active
    set with a fresh double sum, so it is exact up to the rounding of that sum; k_out (if not
    NULL) receives the size of that set. Returns 0, or -1 if the work buffers cannot be
    allocated.
    """
    cdef double* v
    cdef double* vt
    cdef Py_ssize_t nv, j
    cdef double rho = 0.0, s = 0.0
    if n == 0:
        tau_out[0] = 0.0
        if k_out != NULL:
            k_out[0] = 0
        return 0
    v = <double*> malloc(n * sizeof(double))
    vt = <double*> malloc(n * sizeof(double))
    if v == NULL or vt == NULL:
        free(v)
        free(vt)
        return -1
    nv = condat_active_set(x, n, radius, use_abs, v, vt, &rho)
    for j in range(nv):
        s += v[j]
    tau_out[0] = (s - radius) / nv if nv > 0 else rho
    if k_out != NULL:
        k_out[0] = nv
    free(v)
    free(vt)
    return 0


cdef inline double l2_norm(const floating* x, Py_ssize_t m) noexcept nogil:
    """Euclidean norm of x[0:m] in double, without overflow or underflow.

    Fast path: a plain sum of squares; when that sum is 0, subnormal-range or overflows, the
    norm is recomputed with the entries scaled by their maximum magnitude.
    """
    cdef Py_ssize_t j
    cdef double s = 0.0, a, amax = 0.0
    for j in range(m):
        s += (<double> x[j]) * x[j]
    if 1e-280 < s < 1e280:
        return sqrt(s)
    for j in range(m):
        a = fabs(<double> x[j])
        if a > amax:
            amax = a
    if amax == 0.0:
        return s   # 0.0, or NaN when x has NaN (the scan above skips NaN)
    s = 0.0
    for j in range(m):
        a = (<double> x[j]) / amax
        s += a * a
    return amax * sqrt(s)


cdef inline void scale_row(const floating* x, floating* o, Py_ssize_t m, double norm,
                           double tau, double factor) noexcept nogil:
    """o = factor * max(0, (norm - tau) / norm) * x[0:m], norm = ||x||_2 (the l1,2-ball
    projection and the group soft thresholding both shrink a group this way). ``norm - tau``
    rather than ``1 - tau / norm``: when tau is close to norm the difference is exact, the
    other form loses it to cancellation."""
    cdef Py_ssize_t j
    cdef double scale = 0.0
    if norm > tau:
        scale = factor * ((norm - tau) / norm)
    for j in range(m):
        o[j] = <floating> (scale * x[j])
