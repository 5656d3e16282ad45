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
from skproj._kernels._select cimport pos, sel_gt
from skproj._kernels._simplex cimport l2_norm, scale_row, simplex_threshold


# below this length the thresholds run Condat's algorithm directly (no sample, no window)
cdef enum:
    SMALL_N = 4096


cdef inline int _small_threshold(const floating* x, Py_ssize_t n, double radius, bint use_abs,
                                 double* tau_out, double* total_out) noexcept nogil:
    """The threshold of a short x by Condat's algorithm; with use_abs, total_out = ||x||_1 and
    tau = 0 when x is inside the ball. Returns 0, or -1 if a work buffer cannot be allocated."""
    cdef Py_ssize_t i
    cdef double total = 0.0
    if use_abs:
        for i in range(n):
            total += fabs(<double> x[i])
        total_out[0] = total
        if total <= radius:
            tau_out[0] = 0.0
            return 0
    return simplex_threshold(x, n, radius, use_abs, tau_out)


cdef inline Py_ssize_t _sample_estimate(const floating* x, Py_ssize_t n, double radius, bint use_abs,
                                        double** buf_out, double* t_out) noexcept nogil:
    """Work buffer and estimate of the threshold of y = |x| (use_abs) or x (n >= SMALL_N).

    *buf_out <- a malloc'ed buffer of n doubles (the caller frees it); k ~ 4 sqrt(n) strided
    entries (clamped to [1024, 16384]: the sample costs a small fraction of the pass over x)
    are copied to its start and Condat's algorithm runs on them with the radius scaled by
    k / n. Returns k, or -1 (nothing left allocated) if a buffer cannot be allocated.
    """
    cdef Py_ssize_t k, step, j
    cdef double* buf = <double*> malloc(n * sizeof(double))
    buf_out[0] = buf
    if buf == NULL:
        return -1
    k = <Py_ssize_t> (4.0 * sqrt(<double> n))
    if k < 1024:
        k = 1024
    if k > 16384:
        k = 16384
    step = n // k
    for j in range(k):
        buf[j] = fabs(<double> x[j * step]) if use_abs else <double> x[j * step]
    if simplex_threshold(buf, k, radius * k / n, False, t_out) != 0:
        free(buf)
        return -1
    return k


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
    cdef Py_ssize_t j, nc, it
    cdef double t_lo, s, total, t
    cdef double* buf
    cdef int status
    if n < SMALL_N:
        return _small_threshold(x, n, radius, True, tau_out, total_out)
    # 1. estimate from a strided sample
    if _sample_estimate(x, n, radius, True, &buf, &t_lo) < 0:
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


cdef inline Py_ssize_t _filter(const floating* x, Py_ssize_t n, bint use_abs, double t, double* dst,
                               double* sum_out) noexcept nogil:
    """dst <- the y_i > t (y = |x| or x, in order); returns their count and (in sum_out) sum.

    Branch-free: every y_i is written and the write position advances past the kept ones; the
    sum adds the kept values themselves (masked, no cancellation)."""
    cdef Py_ssize_t i, nc = 0
    cdef int ka, kb
    cdef double a, b, s0 = 0.0, s1 = 0.0
    i = 0
    while i + 2 <= n:
        a = fabs(<double> x[i]) if use_abs else <double> x[i]
        b = fabs(<double> x[i + 1]) if use_abs else <double> x[i + 1]
        ka = a > t
        kb = b > t
        s0 += sel_gt(a, t)
        s1 += sel_gt(b, t)
        dst[nc] = a
        nc += ka
        dst[nc] = b
        nc += kb
        i += 2
    while i < n:
        a = fabs(<double> x[i]) if use_abs else <double> x[i]
        ka = a > t
        s0 += sel_gt(a, t)
        dst[nc] = a
        nc += ka
        i += 1
    sum_out[0] = s0 + s1
    return nc


cdef inline Py_ssize_t _window_filter(const floating* x, Py_ssize_t n, bint use_abs, double lo,
                                      double hi, double* dst, double* total_out, double* sw_out,
                                      double* sh_out, Py_ssize_t* kh_out) noexcept nogil:
    """One pass over y = |x| (use_abs) or x, lo <= hi: dst <- the y_i in (lo, hi] (in order;
    their count returned, their sum in sw_out), the sum sh and count kh of the y_i > hi, and
    total = sum_i y_i. Branch-free (masked sums), two sets of partial sums."""
    cdef Py_ssize_t i = 0, nc = 0, kh0 = 0, kh1 = 0
    cdef int la, ha, lb, hb
    cdef double a, b, t0 = 0.0, t1 = 0.0, w0 = 0.0, w1 = 0.0, h0 = 0.0, h1 = 0.0
    while i + 2 <= n:
        a = fabs(<double> x[i]) if use_abs else <double> x[i]
        b = fabs(<double> x[i + 1]) if use_abs else <double> x[i + 1]
        t0 += a
        t1 += b
        la = a > lo
        ha = a > hi
        lb = b > lo
        hb = b > hi
        w0 += sel_gt(a, lo)
        w1 += sel_gt(b, lo)
        h0 += sel_gt(a, hi)
        h1 += sel_gt(b, hi)
        kh0 += ha
        kh1 += hb
        dst[nc] = a
        nc += la - ha
        dst[nc] = b
        nc += lb - hb
        i += 2
    while i < n:
        a = fabs(<double> x[i]) if use_abs else <double> x[i]
        t0 += a
        la = a > lo
        ha = a > hi
        w0 += sel_gt(a, lo)
        h0 += sel_gt(a, hi)
        kh0 += ha
        dst[nc] = a
        nc += la - ha
        i += 1
    total_out[0] = t0 + t1
    sh_out[0] = h0 + h1
    sw_out[0] = (w0 + w1) - sh_out[0]   # (sum over y > lo) - (sum over y > hi)
    kh_out[0] = kh0 + kh1
    return nc


cdef int _michelot(double* v, Py_ssize_t nv, double t, double sh, Py_ssize_t kh, double radius,
                   double* tau_out) noexcept nogil:
    """Newton (Michelot) from t <= tau on candidates v[0:nv] (every entry above tau is one of
    them or one of kh entries of sum sh surely above tau): t <- (sh + sum_{v > t} v - radius)
    / (kh + #{v > t}) increases to tau; v is compacted in place. Returns 0, or 1 if 100 sweeps
    did not settle."""
    cdef Py_ssize_t it, j
    cdef double s
    if kh + nv == 0:
        return 1
    for it in range(100):
        j = _filter(v, nv, False, t, v, &s)
        if j == nv:
            tau_out[0] = (sh + s - radius) / (kh + nv)
            return 0
        nv = j
        if kh + nv == 0:
            return 1
        t = (sh + s - radius) / (kh + nv)
    return 1


cdef int threshold(const floating* x, Py_ssize_t n, double radius, bint use_abs, double* tau_out,
                   double* total_out) noexcept nogil:
    """Threshold tau with sum_i max(y_i - tau, 0) = radius, y = |x| or x (the simplex uses it;
    the l1 ball keeps :func:`l1_threshold`, measured as fast or faster on |x| at 1e6-1e7 entries).

    With use_abs, total_out = ||x||_1 and tau = 0 when ||x||_1 <= radius (x is inside the ball).
    Strategy (exact in every case; Condat, Math. Program. 158, 2016, for the fallbacks):
    1. a strided sample of k ~ 4 sqrt(n) entries gives an estimate t_est of tau (Condat on the
       sample with the radius scaled by k / n) and the standard deviation of that estimate
       (from the sample variance of max(y - t_est, 0)); the window is t_est -/+ 4 sd;
    2. one pass over x sums |x|, keeps the entries inside the window (lo, hi] and sums and
       counts those above it;
    3. the sign of f(t) = sum_i max(y_i - t, 0) - radius at lo and hi, known from those sums,
       tells where tau is. Inside the window (the usual case): Newton (Michelot) from lo on the
       window's entries, those above hi counted as active, increases to tau; above hi: the
       same from hi on every entry above it (one more pass); below lo: Condat on all of x.
    Returns 0, or -1 if the work buffer cannot be allocated.
    """
    cdef Py_ssize_t k, j, nw, kh
    cdef double t_est, total = 0.0, sw, sh, smax, y, sd, ex, ex2, lo, hi, flo, fhi
    cdef double* buf
    if n < SMALL_N:
        return _small_threshold(x, n, radius, use_abs, tau_out, total_out)
    # 1. estimate from a strided sample
    k = _sample_estimate(x, n, radius, use_abs, &buf, &t_est)
    if k < 0:
        return -1
    ex = 0.0
    ex2 = 0.0
    kh = 0
    smax = buf[0]
    for j in range(k):
        y = buf[j] - t_est
        if buf[j] > smax:
            smax = buf[j]
        if y > 0.0:
            ex += y
            ex2 += y * y
            kh += 1
    ex /= k
    ex2 /= k
    sd = sqrt((ex2 - ex * ex if ex2 > ex * ex else 0.0) * k) / (kh if kh > 0 else 1)
    sd = 4.0 * sd + 1e-3 * (smax - t_est if smax > t_est else 0.0) + 1e-12 * fabs(t_est)
    lo = t_est - sd
    hi = t_est + sd
    if use_abs and lo < 0.0:
        lo = 0.0
    if not hi >= lo:
        hi = lo   # _window_filter needs lo <= hi
    # 2. one pass: the norm, the window and what lies above it
    nw = _window_filter(x, n, use_abs, lo, hi, buf, &total, &sw, &sh, &kh)
    if use_abs:
        total_out[0] = total
        if total <= radius:
            free(buf)
            tau_out[0] = 0.0
            return 0
    fhi = sh - kh * hi - radius
    flo = sh + sw - (kh + nw) * lo - radius
    if flo >= 0.0 and fhi <= 0.0 and kh + nw > 0:
        # 3. tau in (lo, hi]: Newton from lo (the step lands <= tau) on the window, the kh
        # entries above hi active
        if _michelot(buf, nw, (sh + sw - radius) / (kh + nw), sh, kh, radius, tau_out) == 0:
            free(buf)
            return 0
    elif fhi > 0.0:
        # tau > hi: every entry that can survive is above hi
        nw = _filter(x, n, use_abs, hi, buf, &sw)
        if nw > 0 and _michelot(buf, nw, (sw - radius) / nw, 0.0, 0, radius, tau_out) == 0:
            free(buf)
            return 0
    # estimate far off (or Newton too slow): exact fallback on everything
    free(buf)
    return simplex_threshold(x, n, radius, use_abs, tau_out)


cdef void _write_shifted(const floating* x, floating* o, Py_ssize_t n, double tau) noexcept nogil:
    """o = max(x - tau, 0), branch-free."""
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = <floating> pos(<double> x[i] - tau)


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
    cdef double tau = 0.0, a, total = 0.0
    cdef int status
    with nogil:
        status = threshold(&x[0], n, radius, False, &tau, &total)
        if status == 0:
            _write_shifted(&x[0], &out[0], n, tau)
    if status != 0:
        raise MemoryError("could not allocate the work buffers of the simplex projection")
    return tau


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
                    scale_row(&X[i, 0], &out[i, 0], m, norms[i], tau)
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
