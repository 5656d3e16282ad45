# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""l1-ball and simplex projection kernels (Condat, Math. Program. 158, 2016, Algorithm 1).

No validation happens here: callers pass C-contiguous float32/float64 buffers, a finite
radius > 0 and an output buffer of the same length. The threshold is accumulated in double.
The l1 ball and the simplex share one threshold (`threshold`: a sampled bracket, one
vectorised pass, Newton on the bracket's entries) and one output pass (_simd.h).
"""
from cython cimport floating
from cython.parallel cimport prange
from libc.stdlib cimport malloc, free, realloc
from libc.float cimport DBL_MAX, FLT_MAX
from libc.math cimport INFINITY, copysign, fabs, nextafterf, sqrt

from skproj._kernels._parallel cimport n_threads
from skproj._kernels._select cimport sel_gt
from skproj._kernels._simplex cimport l2_norm, scale_row, simplex_threshold


# below this length the thresholds run Condat's algorithm directly (no sample, no window)
cdef enum:
    SMALL_N = 4096
    # the largest strided sample of _sample_estimate
    SAMPLE_MAX = 16384


cdef extern from "_simd.h":
    # the vectorised passes over x (SSE2 / AVX2 on x86-64, plain C elsewhere); see _simd.h
    Py_ssize_t skproj_window_f32(const float* x, Py_ssize_t n, int use_abs, float lo, float hi,
                                 double* dst, double* sh_out, Py_ssize_t* kh_out) noexcept nogil
    Py_ssize_t skproj_window_f64(const double* x, Py_ssize_t n, int use_abs, double lo, double hi,
                                 double* dst, double* sh_out, Py_ssize_t* kh_out) noexcept nogil
    void skproj_shrink_f32(const float* x, float* o, Py_ssize_t n, int use_abs, double tau) noexcept nogil
    void skproj_shrink_f64(const double* x, double* o, Py_ssize_t n, int use_abs, double tau) noexcept nogil
    int skproj_simd_level() noexcept nogil
    void skproj_set_simd_level(int level) noexcept nogil


def simd_level():
    """The vector instructions of the l1-ball / simplex passes: 0 plain C, 1 SSE2, 2 AVX2, 3 a CPU
    with AVX-512F (these passes run their AVX2 loops there)."""
    return skproj_simd_level()


def _set_simd_level(int level):
    """Cap the vector instructions of those passes at level (tests; -1: the CPU's best)."""
    skproj_set_simd_level(level)


cdef inline int _small_threshold(const floating* x, Py_ssize_t n, double radius, bint use_abs,
                                 double* tau_out, Py_ssize_t* k_out) noexcept nogil:
    """The threshold of a short x by Condat's algorithm; with use_abs, tau = 0 when x is inside
    the ball. k_out: the number of entries above tau. Returns 0, or -1 if a work buffer cannot
    be allocated."""
    cdef Py_ssize_t i
    cdef double total = 0.0
    if use_abs:
        for i in range(n):
            total += fabs(<double> x[i])
        if total <= radius:
            tau_out[0] = 0.0
            k_out[0] = 0
            return 0
    return simplex_threshold(x, n, radius, use_abs, tau_out, k_out)


cdef inline Py_ssize_t _sample_size(Py_ssize_t n) noexcept nogil:
    """k ~ 4 sqrt(n), clamped to [1024, SAMPLE_MAX]: the strided sample of _sample_estimate."""
    cdef Py_ssize_t k = <Py_ssize_t> (4.0 * sqrt(<double> n))
    if k < 1024:
        k = 1024
    if k > SAMPLE_MAX:
        k = SAMPLE_MAX
    return k


cdef inline Py_ssize_t _sample_estimate(const floating* x, Py_ssize_t n, double radius, bint use_abs,
                                        double* buf, double* t_out) noexcept nogil:
    """Estimate of the threshold of y = |x| (use_abs) or x (n >= SMALL_N): k = _sample_size(n)
    strided entries (a small fraction of the pass over x) are copied to buf (k doubles) and
    Condat's algorithm runs on them with the radius scaled by k / n. Returns k, or -1 if
    Condat's buffer cannot be allocated.
    """
    cdef Py_ssize_t k = _sample_size(n), step, j
    step = n // k
    for j in range(k):
        buf[j] = fabs(<double> x[j * step]) if use_abs else <double> x[j * step]
    if simplex_threshold(buf, k, radius * k / n, False, t_out) != 0:
        return -1
    return k


cdef inline Py_ssize_t _window_pass(const floating* x, Py_ssize_t n, bint use_abs, double* lo,
                                    double* hi, double* dst, double* sh_out,
                                    Py_ssize_t* kh_out) noexcept nogil:
    """One pass over y = |x| (use_abs) or x: dst <- the y_i in (lo, hi] (in order, their count
    returned), sh_out <- the sum of the y_i > hi, kh_out <- their count (skproj_window_*).
    lo <= hi are first moved to values of the input's type (lo rounded down, hi up, within its
    finite range), so that the comparisons are exact and the caller's sums use the same bounds.
    """
    cdef float f
    if floating is float:
        # lo rounded down and hi up (a lower bound stays one: rounding lo to nearest could put
        # it just above tau when it is an exact tangent root, and every later pass then missed
        # the same way until the last resort)
        f = <float> (lo[0] if lo[0] > -FLT_MAX else -FLT_MAX)
        if <double> f > lo[0] and f > -FLT_MAX:
            f = nextafterf(f, -INFINITY)
        lo[0] = <double> f
        f = <float> (hi[0] if hi[0] < FLT_MAX else FLT_MAX)
        if <double> f < hi[0] and f < FLT_MAX:
            f = nextafterf(f, INFINITY)
        hi[0] = <double> f
        if lo[0] > FLT_MAX:
            lo[0] = FLT_MAX
        if hi[0] < -FLT_MAX:
            hi[0] = -FLT_MAX
        return skproj_window_f32(x, n, use_abs, <float> lo[0], <float> hi[0], dst, sh_out, kh_out)
    else:
        if not lo[0] > -DBL_MAX:
            lo[0] = -DBL_MAX
        if not hi[0] < DBL_MAX:
            hi[0] = DBL_MAX
        return skproj_window_f64(x, n, use_abs, lo[0], hi[0], dst, sh_out, kh_out)


cdef inline Py_ssize_t _compact(double* v, Py_ssize_t n, double t, double* sum_out) noexcept nogil:
    """v[0:count] <- the v_i > t (in order, in place); returns their count and (in sum_out) sum.

    Branch-free: every v_i is written and the write position advances past the kept ones (it
    never passes the read position); the sum adds the kept values themselves (masked, no
    cancellation)."""
    cdef Py_ssize_t i, nc = 0
    cdef int ka, kb
    cdef double a, b, s0 = 0.0, s1 = 0.0
    i = 0
    while i + 2 <= n:
        a = v[i]
        b = v[i + 1]
        ka = a > t
        kb = b > t
        s0 += sel_gt(a, t)
        s1 += sel_gt(b, t)
        v[nc] = a
        nc += ka
        v[nc] = b
        nc += kb
        i += 2
    while i < n:
        a = v[i]
        ka = a > t
        s0 += sel_gt(a, t)
        v[nc] = a
        nc += ka
        i += 1
    sum_out[0] = s0 + s1
    return nc


cdef int _michelot(double* v, Py_ssize_t nv, double t, double sh, Py_ssize_t kh, double radius,
                   double* tau_out, Py_ssize_t* k_out) noexcept nogil:
    """Newton (Michelot) from t <= tau on candidates v[0:nv] (every entry above tau is one of
    them or one of kh entries of sum sh surely above tau): t <- (sh + sum_{v > t} v - radius)
    / (kh + #{v > t}) increases to tau; v is compacted in place; k_out: the entries above tau.
    Returns 0, or 1 if 100 sweeps did not settle."""
    cdef Py_ssize_t it, j
    cdef double s
    if kh + nv == 0:
        return 1
    for it in range(100):
        j = _compact(v, nv, t, &s)
        if j == nv:
            tau_out[0] = (sh + s - radius) / (kh + nv)
            k_out[0] = kh + nv
            return 0
        nv = j
        if kh + nv == 0:
            return 1
        t = (sh + s - radius) / (kh + nv)
    return 1


cdef inline double _window_side(const double* v, Py_ssize_t k, double t, double d) noexcept nogil:
    """t + d, with d halved until at most k / 64 of the v_i lie between t and t + d."""
    cdef Py_ssize_t j, c
    cdef int it
    for it in range(60):
        c = 0
        if d > 0.0:
            for j in range(k):
                c += (v[j] > t) & (v[j] <= t + d)
        else:
            for j in range(k):
                c += (v[j] > t + d) & (v[j] <= t)
        if c <= k // 64:
            break
        d *= 0.5
    return t + d


cdef double _second_estimate(const double* samp, Py_ssize_t k, double b, bint above,
                             double s_top, Py_ssize_t k_top, Py_ssize_t n_side, double radius,
                             double t, double* sd_out) noexcept nogil:
    """Estimate of tau after a pass whose window missed it, below (t < b = the window's lower
    end) or above (b = its upper end < t). The k_top entries above b are known in sum (s_top),
    so f(t) = s_top - k_top t + sum of |y - t| over the entries between t and b - radius; that
    last sum is modelled by the sample's entries on the side of b where tau lies (<= b below,
    > b above), each standing for w = n_side / (their number) entries (n_side: the entries on
    that side, counted by the pass). Newton on the model from t, the root of f's tangent at b
    (f and the model agree at b in value and slope and both are convex and decreasing, so the
    steps increase to the model's root). sd_out: the sampling standard deviation of that root
    (the modelled sum's, over the slope). Returns t when the sample has no entry on that side.
    """
    cdef Py_ssize_t j, kr = 0, cnt, it
    cdef double w, acc, m, slope, tn, ex, ex2, y
    for j in range(k):
        kr += (samp[j] > b) if above else (samp[j] <= b)
    sd_out[0] = 0.0
    if kr == 0:
        return t
    w = <double> n_side / kr
    for it in range(64):
        cnt = 0
        acc = 0.0
        for j in range(k):
            if (b < samp[j] <= t) if above else (t < samp[j] <= b):
                cnt += 1
                acc += fabs(samp[j] - t)
        m = s_top - k_top * t + w * acc - radius
        slope = w * cnt - k_top if above else -w * cnt - k_top
        if not slope < 0.0 or not m > 0.0:
            break
        tn = t - m / slope
        if not tn > t:
            break
        t = tn
    ex = 0.0
    ex2 = 0.0
    cnt = 0
    for j in range(k):
        if (b < samp[j] <= t) if above else (t < samp[j] <= b):
            y = fabs(samp[j] - t)
            ex += y
            ex2 += y * y
            cnt += 1
    ex /= kr
    ex2 /= kr
    slope = k_top - w * cnt if above else k_top + w * cnt
    sd_out[0] = w * sqrt((ex2 - ex * ex if ex2 > ex * ex else 0.0) * kr)
    sd_out[0] /= slope if slope > 1.0 else 1.0
    return t


cdef inline bint _model_window(const double* samp, Py_ssize_t k, double b, bint above,
                               double s_top, Py_ssize_t k_top, Py_ssize_t n_side, double radius,
                               double t, double* lo, double* hi) noexcept nogil:
    """After a pass whose window missed tau on one side of its end b, with t <= tau the root of
    f's tangent at b: the next window (lo, hi] around the root of _second_estimate's model, 4
    sampling standard deviations wide on each side (each side holding at most a 64th of the
    sample, as the first window), within (t, b] below and above t above. Returns False (lo, hi
    unchanged) when the model's root is not strictly between t and b (below) or above t."""
    cdef double sd, t2, l, h
    t2 = _second_estimate(samp, k, b, above, s_top, k_top, n_side, radius, t, &sd)
    if not (t2 > t and (above or t2 < b)):
        return False
    sd = 4.0 * sd + 1e-3 * fabs(t2 - b) + 1e-12 * fabs(t2)
    h = _window_side(samp, k, t2, sd)
    l = _window_side(samp, k, t2, -sd)
    hi[0] = h if above or h < b else b
    lo[0] = l if l > t else t
    return True


cdef int threshold(const floating* x, Py_ssize_t n, double radius, bint use_abs,
                   double* tau_out, Py_ssize_t* k_out, double* work) noexcept nogil:
    """Threshold tau with sum_i max(y_i - tau, 0) = radius, y = |x| or x (l1 ball and simplex).

    work: a buffer of n doubles not overlapping x (the float64 output, which the shrink writes
    afterwards), or NULL: one is allocated and freed here (a fresh buffer beside a fresh output
    made every call fault the output's pages in again).

    With use_abs, tau = 0 when ||x||_1 <= radius (x is inside the ball). k_out receives the
    number of entries above tau (0 when x is inside).
    Strategy (exact in every case; Condat, Math. Program. 158, 2016, for the fallbacks):
    1. a strided sample of k ~ 4 sqrt(n) entries gives an estimate t_est of tau (Condat on the
       sample with the radius scaled by k / n) and the standard deviation of that estimate
       (from the sample variance of max(y - t_est, 0)); the window is t_est -/+ 4 sd;
    2. one pass over x (skproj_window_*: vectorised sums and counts) keeps the entries inside
       the window (lo, hi] and sums and counts those above it, without storing them;
    3. the sign of f(t) = sum_i max(y_i - t, 0) - radius at lo and hi, known from those sums,
       tells where tau is. Inside the window (the usual case): Newton (Michelot) from lo on the
       window's entries, those above hi counted as active, increases to tau. Otherwise f being
       convex and decreasing gives the next window: above hi, it starts at the Newton step from
       hi (<= tau) and holds everything above (when at most n / 16 entries lie above hi, or
       after 3 passes), or, the first time, lies around the root of a second model
       (_model_window: the entries above hi in sum, the sample's entries above hi for those
       between hi and tau), or is 4 times as wide as the last one (a miss is one more Newton
       step);
       below lo, (root of the tangent at lo, lo] surely holds tau (with lo = 0 and use_abs,
       x is inside the ball); the first time, the next window is only the part of it around
       the root of a second model (_model_window: the entries above lo exact, the sample's
       entries below lo for the rest), as wide as that root's sampling noise (heavy tails: the
       first estimate missed the largest entries' share of the sum, and all of (root, lo] can
       be most of x). Condat's algorithm on all of x is the last resort (after 8
       passes, or if Michelot's sweeps do not settle; not reached in the tests).
    The first window's sides are halved until each holds at most a 64th of the sample (heavy
    tails make sd large where the entries are dense), so the stored entries stay few.
    Returns 0, or -1 if the work buffer cannot be allocated.
    """
    cdef Py_ssize_t k, j, nw, kh
    cdef double t_est, sw, sh, smax, y, sd, ex, ex2, lo, hi, flo, fhi, tol, t
    cdef double* buf = work
    cdef double* own = NULL
    cdef double* samp
    cdef bint remodelled = False, remodelled_above = False
    if n < SMALL_N:
        return _small_threshold(x, n, radius, use_abs, tau_out, k_out)
    samp = <double*> malloc(_sample_size(n) * sizeof(double))
    if buf == NULL:
        buf = own = <double*> malloc(n * sizeof(double))
    if buf == NULL or samp == NULL:
        free(own)
        free(samp)
        return -1
    # 1. estimate from a strided sample (kept in samp: a miss below the window models again)
    k = _sample_estimate(x, n, radius, use_abs, samp, &t_est)
    if k < 0:
        free(own)
        free(samp)
        return -1
    ex = 0.0
    ex2 = 0.0
    kh = 0
    smax = samp[0]
    for j in range(k):
        y = samp[j] - t_est
        if samp[j] > smax:
            smax = samp[j]
        if y > 0.0:
            ex += y
            ex2 += y * y
            kh += 1
    ex /= k
    ex2 /= k
    sd = sqrt((ex2 - ex * ex if ex2 > ex * ex else 0.0) * k) / (kh if kh > 0 else 1)
    sd = 4.0 * sd + 1e-3 * (smax - t_est if smax > t_est else 0.0) + 1e-12 * fabs(t_est)
    # each side of the window holds at most a 64th of the sample (heavy tails make sd large
    # where the entries are dense): the stored entries stay few, and a miss costs one more pass
    lo = _window_side(samp, k, t_est, -sd)
    hi = _window_side(samp, k, t_est, sd)
    if use_abs and not lo > 0.0:
        lo = 0.0
    if not hi >= lo:
        hi = lo
    # 2.-3. one pass per window (lo, hi]; f(lo) >= 0 >= f(hi) (to rounding) brackets tau
    for it in range(8):
        nw = _window_pass(x, n, use_abs, &lo, &hi, buf, &sh, &kh)
        sw = 0.0
        for j in range(nw):
            sw += buf[j]
        fhi = sh - kh * hi - radius
        flo = sh + sw - (kh + nw) * lo - radius
        tol = 1e-13 * (sh + sw + radius + (kh + nw) * fabs(lo))
        if flo >= -tol and fhi <= tol and kh + nw > 0:
            # tau in (lo, hi]: Newton from lo (the step lands <= tau) on the window, the kh
            # entries above hi active
            if _michelot(buf, nw, (sh + sw - radius) / (kh + nw), sh, kh, radius, tau_out, k_out) == 0:
                free(own)
                free(samp)
                if use_abs and tau_out[0] < 0.0:
                    tau_out[0] = 0.0   # ||x||_1 = radius to rounding
                return 0
            break
        if fhi > 0.0:
            # tau > hi (a tiny radius, heavy tails): f is convex and decreasing, so the Newton
            # step t from hi stays <= tau (kh > 0 here) and starts the next window: everything
            # above it when that is few entries (or after 3 misses); the first time, else, the
            # window around the root of a second model (_model_window); else 4 times as wide
            # as the last one
            t = hi + fhi / kh
            if kh > n // 16 and not remodelled_above:
                remodelled_above = True
                if _model_window(samp, k, hi, True, sh, kh, kh, radius, t, &lo, &hi):
                    continue
            sd = 4.0 * (hi - lo)
            lo = t
            hi = DBL_MAX if kh <= n // 16 or it >= 2 else lo + sd
        elif use_abs and lo == 0.0:
            # f(0) = ||x||_1 - radius < 0 (the y_i <= 0 are zeros): x is inside the ball
            free(own)
            free(samp)
            tau_out[0] = 0.0
            k_out[0] = 0
            return 0
        else:
            # tau < lo: the tangent of f at lo crosses zero at a t <= tau; next window (t, lo]
            t = lo + flo / (kh + nw) if kh + nw > 0 else -DBL_MAX
            if use_abs and t < 0.0:
                t = 0.0
            if not remodelled:
                # the first miss below (heavy tails: the sample missed the largest entries'
                # share of the sum): a window around the second model's root rather than all
                # of (t, lo], most of x when the tails are heavy
                remodelled = True
                if _model_window(samp, k, lo, False, sh + sw, kh + nw, n - kh - nw, radius, t,
                                 &lo, &hi):
                    continue
            hi = lo
            lo = t
    # the last resort (8 passes without a bracket, or Michelot's sweeps not settling)
    free(own)
    free(samp)
    return _small_threshold(x, n, radius, use_abs, tau_out, k_out)   # Condat on all of x


cdef inline void _shrink(const floating* x, floating* o, Py_ssize_t n, bint use_abs,
                         double tau) noexcept nogil:
    """o = sign(x) max(|x| - tau, 0) (use_abs) or max(x - tau, 0) (skproj_shrink_*)."""
    if floating is float:
        skproj_shrink_f32(x, o, n, use_abs, tau)
    else:
        skproj_shrink_f64(x, o, n, use_abs, tau)


cdef int _refine(const floating* x, floating* out, Py_ssize_t n, double radius, bint use_abs,
                 double* tau_io) noexcept nogil:
    """Exact outputs when tau cannot carry the threshold (a radius small next to the entries).

    The outputs y_i - tau keep only the bits of tau's spacing there (all of them 0 when the
    radius is below that spacing: a point off the simplex). Relative to the largest entry
    ymax, with w_i = ymax - y_i (exact for the entries near it, Sterbenz), the outputs are
    max(e - w_i, 0) with sum_i max(e - w_i, 0) = radius: e <= radius (the largest entry alone),
    so only the entries with w_i < radius are candidates, and no quantity of the size of the
    entries is subtracted. e comes from Michelot's sweeps (for any set V of candidates,
    (radius + sum_V w) / |V| >= e, Condat 2016: from all of them, keep those below the last
    value until the set stays the same). The other entries are written 0. tau_io becomes
    ymax - e. Two passes over x. Returns 0, or -1 if the candidates cannot be stored.
    """
    cdef Py_ssize_t i, j, m = 0, c, c_prev, cap = 64
    cdef double y, w, e, s = 0.0, v, ymax = -INFINITY
    cdef double* cw = NULL
    cdef Py_ssize_t* ci = NULL
    cdef void* grown
    for i in range(n):
        y = fabs(<double> x[i]) if use_abs else <double> x[i]
        if y > ymax:
            ymax = y
    if cap > n:
        cap = n
    cw = <double*> malloc(cap * sizeof(double))
    ci = <Py_ssize_t*> malloc(cap * sizeof(Py_ssize_t))
    if cw == NULL or ci == NULL:
        free(cw); free(ci)
        return -1
    for i in range(n):
        y = fabs(<double> x[i]) if use_abs else <double> x[i]
        w = ymax - y
        if w < radius:
            if m == cap:
                cap = 2 * cap if 2 * cap < n else n
                grown = realloc(cw, cap * sizeof(double))
                if grown == NULL:
                    free(cw); free(ci)
                    return -1
                cw = <double*> grown
                grown = realloc(ci, cap * sizeof(Py_ssize_t))
                if grown == NULL:
                    free(cw); free(ci)
                    return -1
                ci = <Py_ssize_t*> grown
            cw[m] = w
            ci[m] = i
            s += w
            m += 1
        elif out[i] != 0:   # the shrink at a tau too low wrote it non-zero
            out[i] = <floating> (copysign(0.0, <double> x[i]) if use_abs else 0.0)
    c = m
    e = (radius + s) / c
    for _ in range(m + 1):
        c_prev = c
        s = 0.0
        c = 0
        for j in range(m):
            if cw[j] < e:
                s += cw[j]
                c += 1
        if c == c_prev or c == 0:
            break
        e = (radius + s) / c
    if c > 0:
        e = (radius + s) / c
    for j in range(m):
        v = e - cw[j]
        if v < 0.0:
            v = 0.0
        out[ci[j]] = <floating> (copysign(v, <double> x[ci[j]]) if use_abs else v)
    tau_io[0] = ymax - e
    free(cw); free(ci)
    return 0


cdef int _rescale(floating* out, Py_ssize_t n, double radius, Py_ssize_t k) noexcept nogil:
    """Scale the non-zero outputs (at most k: the scan stops at the k-th) to sum to the radius
    (their Neumaier compensated sum); returns 1 when there is none (nothing to scale), -1 if
    their positions cannot be stored, else 0."""
    cdef Py_ssize_t i, nz = 0, last = n
    cdef double tot = 0.0, comp = 0.0, a, t, f
    cdef Py_ssize_t* idx = <Py_ssize_t*> malloc(k * sizeof(Py_ssize_t)) if k <= 65536 else NULL
    for i in range(n):
        if out[i] != 0:
            if idx != NULL:
                idx[nz] = i
            nz += 1
            a = fabs(<double> out[i])
            t = tot + a
            comp += (tot - t) + a if tot >= a else (a - t) + tot
            tot = t
            if nz == k:
                last = i + 1
                break
    tot += comp
    if not tot > 0.0:
        free(idx)
        return 1
    if tot != radius:
        f = radius / tot
        if idx != NULL:
            for i in range(nz):
                out[idx[i]] = <floating> (out[idx[i]] * f)
        else:
            for i in range(last):
                if out[i] != 0:
                    out[i] = <floating> (out[i] * f)
    free(idx)
    return 0


def _project(const floating[::1] x, floating[::1] out, double radius, bint use_abs):
    """The threshold tau, then out = sign(x) max(|x| - tau, 0) (use_abs) or max(x - tau, 0).

    When the k entries above tau exceed it by little (k |tau| > 256 radius: a radius small next
    to the entries), tau is close to them and y_i - tau keeps only the bits of tau's spacing:
    each output is off by up to about ulp(tau) (below 6e-14 radius when k |tau| <= 256 radius),
    and they could sum to more or less than the radius (1e-10 too much at radius / norm = 1e-6
    on short vectors, 9% at 1e-15). Up to |tau| = 2^20 radius (an error of at most 2.3e-10
    radius per output) the non-zero outputs are scaled to sum to the radius (one scan that
    stops at the k-th); beyond it, or when there is none (k = 0 < |tau|: tau rounded up to the
    largest entry, or every output 0), the outputs are solved again around tau, exactly
    (_refine: one more pass over x).
    """
    cdef double tau = 0.0
    cdef Py_ssize_t k = 0, n = x.shape[0]
    cdef int status
    with nogil:
        # the float64 output is the work buffer (x and out never overlap: separate_input)
        status = threshold(&x[0], n, radius, use_abs, &tau, &k,
                           <double*> &out[0] if floating is double else NULL)
        if status == 0:
            _shrink(&x[0], &out[0], n, use_abs, tau)
            if k * fabs(tau) > 256.0 * radius or (k == 0 and tau != 0.0):
                status = 1
                if k > 0 and fabs(tau) <= 1048576.0 * radius:
                    status = _rescale(&out[0], n, radius, k)
                if status == 1:
                    status = _refine(&x[0], &out[0], n, radius, use_abs, &tau)
    if status != 0:
        raise MemoryError("could not allocate the work buffers of the l1-ball / simplex projection")
    return tau


def l1_ball(x, out, double radius):
    """Write the projection of x onto {||z||_1 <= radius} (radius > 0) into out.

    Returns the threshold tau (out = sign(x) max(|x| - tau, 0); tau = 0 and out = x when x is
    inside the ball), or raises MemoryError.
    """
    return _project(x, out, radius, True)


def simplex(x, out, double radius):
    """Write the projection of x onto {z >= 0, sum z = radius} (radius > 0) into out; return tau."""
    return _project(x, out, radius, False)


def l12_ball(const floating[:, ::1] X, floating[:, ::1] out, double radius):
    """Project X (groups = rows) onto {sum_g ||X_g||_2 <= radius}, radius > 0, into out.

    The vector of row l2 norms is projected onto the l1 ball (threshold tau), then row g is
    scaled by max(0, 1 - tau / ||X_g||_2). When the radius is below the rounding of the norms
    (radius / sum of norms near the machine epsilon), tau cannot carry it and the shrunk norms
    may sum to more or less than the radius; they are then scaled to sum to it (when they sum
    to more, or when k tau > 256 radius for the k kept rows). So the result is
    always in the ball, exact when the kept rows have equal norms, and within about the radius
    of the projection when the radius is below the rounding (tau may then equal every norm and
    the result be 0). The two passes over the rows run in parallel
    (OpenMP) on large inputs; the norms are added in row order, so the result does not depend
    on the number of threads. Returns tau (0.0 when X is inside the ball; inf, with out not
    written, when X has NaN or inf or the sum of the norms overflows double: the caller raises
    or rescales).
    """
    cdef Py_ssize_t n = X.shape[0], m = X.shape[1], i, nk = 0
    cdef double tau = 0.0, total = 0.0, kept = 0.0, factor = 1.0
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
            if not total <= DBL_MAX:
                # NaN or inf in X, or norms whose sum overflows double: tau = inf, out not written
                status = 2
            if status == 0 and total > radius:
                status = simplex_threshold(norms, n, radius, False, &tau)
            if status == 0 and total > radius:
                for i in range(n):
                    if norms[i] > tau:
                        kept += norms[i] - tau
                        nk += 1
                # above the radius, or (radius small next to the norms: tau cancels, as in
                # _project) below it: scale the shrunk norms to sum to the radius
                if kept > radius or (kept > 0.0 and nk * tau > 256.0 * radius):
                    factor = radius / kept
            if status == 0:
                for i in prange(n, schedule='static', num_threads=nt):
                    scale_row(&X[i, 0], &out[i, 0], m, norms[i], tau, factor)
            free(norms)
    if status == 2:
        return INFINITY
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
