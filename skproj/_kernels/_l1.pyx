# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""l1-ball and simplex projection kernels (Condat, Math. Program. 158, 2016, Algorithm 1).

No validation happens here: callers pass C-contiguous float32/float64 buffers, a finite
radius > 0 and an output buffer of the same length. The threshold is accumulated in double.
"""
from cython cimport floating
from cython.parallel cimport prange
from libc.stdlib cimport malloc, free
from libc.math cimport copysign, fabs, sqrt

from skproj._kernels._parallel cimport n_threads
from skproj._kernels._simplex cimport l2_norm, simplex_threshold


cdef inline Py_ssize_t _abs_filter(const floating* x, Py_ssize_t n, double t, double* dst,
                                    double* total_out, double* sum_out) noexcept nogil:
    """dst <- the |x_i| > t (in order); returns their count, their sum and sum |x_i|.

    Branch-free (every |x_i| is written, the write position advances past the kept ones) and
    with four partial sums, so the floating-point add latency does not serialise the loop.
    """
    cdef Py_ssize_t i = 0, nc = 0
    cdef double a0, a1, a2, a3
    cdef double t0 = 0.0, t1 = 0.0, t2 = 0.0, t3 = 0.0
    cdef double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    while i + 4 <= n:
        a0 = fabs(<double> x[i])
        a1 = fabs(<double> x[i + 1])
        a2 = fabs(<double> x[i + 2])
        a3 = fabs(<double> x[i + 3])
        t0 += a0
        t1 += a1
        t2 += a2
        t3 += a3
        s0 += a0 if a0 > t else 0.0
        s1 += a1 if a1 > t else 0.0
        s2 += a2 if a2 > t else 0.0
        s3 += a3 if a3 > t else 0.0
        dst[nc] = a0
        nc += a0 > t
        dst[nc] = a1
        nc += a1 > t
        dst[nc] = a2
        nc += a2 > t
        dst[nc] = a3
        nc += a3 > t
        i += 4
    while i < n:
        a0 = fabs(<double> x[i])
        t0 += a0
        s0 += a0 if a0 > t else 0.0
        dst[nc] = a0
        nc += a0 > t
        i += 1
    total_out[0] = (t0 + t1) + (t2 + t3)
    sum_out[0] = (s0 + s1) + (s2 + s3)
    return nc


cdef int l1_threshold(const floating* x, Py_ssize_t n, double radius, double* tau_out,
                      double* total_out) noexcept nogil:
    """Threshold tau of the l1-ball projection of x (radius > 0), and total = ||x||_1.

    tau is 0 when ||x||_1 <= radius. Strategy (exact in every case):
    1. a strided sample of k ~ 4 sqrt(n) entries gives an estimate t_lo of tau (Condat on the sample with
       the radius scaled by k / n, times a safety factor < 1);
    2. one pass over x sums |x| and keeps the candidates |x_i| > t_lo;
    3. if sum_{candidates} (|x_i| - t_lo) >= radius, then t_lo <= tau, every entry that can
       survive is a candidate, and Newton's method on the convex piecewise-linear
       f(t) = sum_i max(|x_i| - t, 0) - radius from t_lo (Michelot's iteration,
       t <- (sum_{|x_i| > t} |x_i| - radius) / #{|x_i| > t}) increases monotonically to tau,
       compacting the candidate set as it goes; after a few sweeps Condat's algorithm
       finishes on what is left;
    4. otherwise the estimate was too high: Condat's algorithm on all of x.
    Returns 0, or -1 if the work buffer cannot be allocated.
    """
    cdef Py_ssize_t k, step, i, j, nc, it
    cdef double a, t_lo, s, total, t
    cdef double* buf
    cdef int status
    if n < 4096:
        total = 0.0
        for i in range(n):
            total += fabs(<double> x[i])
        total_out[0] = total
        if total <= radius:
            tau_out[0] = 0.0
            return 0
        return simplex_threshold(x, n, radius, True, tau_out)
    buf = <double*> malloc(n * sizeof(double))
    if buf == NULL:
        return -1
    # 1. estimate from a strided sample
    # sample size ~ 4 sqrt(n): its cost stays a small fraction of the pass over x
    k = <Py_ssize_t> (4.0 * sqrt(<double> n))
    if k < 1024:
        k = 1024
    if k > 16384:
        k = 16384
    step = n // k
    for j in range(k):
        buf[j] = fabs(<double> x[j * step])
    status = simplex_threshold(buf, k, radius * k / n, False, &t_lo)
    if status != 0:
        free(buf)
        return -1
    t_lo *= 0.97
    if t_lo < 0.0:
        t_lo = 0.0
    # 2. one pass: the norm and the candidates
    nc = _abs_filter(x, n, t_lo, buf, &total, &s)
    total_out[0] = total
    if total <= radius:
        free(buf)
        tau_out[0] = 0.0
        return 0
    if nc == 0 or s - nc * t_lo < radius:
        # 4. estimate above tau: exact fallback on everything
        free(buf)
        return simplex_threshold(x, n, radius, True, tau_out)
    # 3. Newton (Michelot) sweeps from the lower bound t_lo, then Condat on the survivors
    t = (s - radius) / nc
    for it in range(16):
        # in place: the write position never passes the read position
        j = _abs_filter(buf, nc, t, buf, &total, &s)
        if j == nc:
            # converged: every candidate is above t = (sum of candidates - radius) / count
            free(buf)
            tau_out[0] = (s - radius) / nc
            return 0
        nc = j
        t = (s - radius) / nc
    status = simplex_threshold(buf, nc, radius, False, tau_out)
    free(buf)
    return status


def l1_ball(const floating[::1] x, floating[::1] out, double radius):
    """Write the projection of x onto {||z||_1 <= radius} (radius > 0) into out.

    Returns the threshold tau (out = sign(x) max(|x| - tau, 0); tau = 0 and out = x when x is
    inside the ball), or raises MemoryError.
    """
    cdef Py_ssize_t n = x.shape[0], i
    cdef double tau = 0.0, total = 0.0, a
    cdef int status
    with nogil:
        status = l1_threshold(&x[0], n, radius, &tau, &total)
        if status == 0:
            if total <= radius:
                for i in range(n):
                    out[i] = x[i]
            else:
                for i in range(n):
                    a = fabs(<double> x[i]) - tau
                    a = a if a > 0.0 else 0.0
                    out[i] = <floating> copysign(a, <double> x[i])
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


cdef void _scale_row(const floating* x, floating* o, Py_ssize_t m, double norm, double tau) noexcept nogil:
    cdef Py_ssize_t j
    cdef double scale
    if norm <= tau:
        scale = 0.0
    else:
        scale = 1.0 - tau / norm
    for j in range(m):
        o[j] = <floating> (scale * x[j])


def l12_ball(const floating[:, ::1] X, floating[:, ::1] out, double radius):
    """Project X (groups = rows) onto {sum_g ||X_g||_2 <= radius}, radius > 0, into out.

    The vector of row l2 norms is projected onto the l1 ball (threshold tau), then row g is
    scaled by max(0, 1 - tau / ||X_g||_2). The two passes over the rows run in parallel
    (OpenMP) on large inputs; the norms are added in row order, so the result does not depend
    on the number of threads. Returns tau (0.0 when X is inside the ball).
    """
    cdef Py_ssize_t n = X.shape[0], m = X.shape[1], i
    cdef double tau = 0.0, total = 0.0
    cdef int status = 0
    cdef int nt = n_threads(n * m)
    cdef double* norms
    with nogil:
        norms = <double*> malloc((n if n > 0 else 1) * sizeof(double))
        if norms == NULL:
            status = -1
        else:
            for i in prange(n, schedule='static', num_threads=nt):
                norms[i] = l2_norm(&X[i, 0], m)
            for i in range(n):
                total += norms[i]
            if total > radius:
                status = simplex_threshold(norms, n, radius, False, &tau)
            if status == 0:
                for i in prange(n, schedule='static', num_threads=nt):
                    _scale_row(&X[i, 0], &out[i, 0], m, norms[i], tau)
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
