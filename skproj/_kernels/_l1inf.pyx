# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Exact Euclidean projection onto the l1,inf ball (rows are the groups).

No validation happens here: callers pass C-contiguous float32/float64 buffers, a finite
radius > 0 and an output buffer of the same shape. All sums are accumulated in double.

Problem. With y = |X| and radius C, if sum_g max_j y_gj <= C the projection is X. Otherwise
there is a unique theta > 0 such that, clipping every group g at the level mu_g(theta) defined
by sum_j max(y_gj - mu_g, 0) = theta (mu_g = 0 when ||y_g||_1 <= theta), sum_g mu_g = C; the
projection is sign(X) * min(|X|, mu_g) (Quattoni et al., ICML 2009; Perez, Condat, Barlaud,
arXiv 2307.09836). F(theta) = sum_g mu_g(theta) is convex, decreasing and piecewise linear,
with slope -sum_g 1 / k_g (k_g = number of clipped entries of group g): on the piece with
clipped sums S_g and counts k_g, F(theta) = sum_g (S_g - theta) / k_g, so the Newton step
theta = (sum_g S_g / k_g - C) / (sum_g 1 / k_g) is exact on the final piece (the semismooth
Newton method of Chu, Yu, Wang, Zhang, Zhao, "Semismooth Newton algorithm for efficient
projections onto l1,inf-norm ball", ICML 2020).

Strategy (_l1inf_fast). (1) One pass computes every group's maximum and l1 norm. (2) A lower
bound theta_lb of theta* comes from the levels' lower bounds max(max_g - theta, (l1_g - theta) /
m) (Newton, O(n) per step); groups with l1 norm <= theta_lb are dead and never looked at again.
A model of each other group built from a strided column subsample (_l1inf_model.pxd: its maximum
plus q <= 32 entries, sorted by a sorting network on 4 groups at a time, weighted so that the
model group dies exactly at its true l1 norm) gives an estimate of theta* by Newton on the
model, O(n q) per step (branch-free, 4 groups at a time; from 1024 groups on started at the root
of the model of every 8th block of 4 groups). (3) Groups are then evaluated lazily,
only while they can survive (l1 norm > theta). A row of at most 32 KB (it stays in the L1 cache)
is evaluated on the row itself by Michelot sweeps (_row_level: one vectorised pass per sweep,
the first from the model's level, later ones from the last clipped set; O(1) while that set
stays the clipped set). For a longer row, a group's first evaluation splits its row once,
branch-free, into entries above a window (counted as clipped), entries inside it (stored) and
entries below it (dropped), the window being the model's levels at theta_est * 1.25 and
theta_est / 1.25, its lower end raised to the guaranteed bound max(max_g - theta, (l1_g - theta)
/ m) at theta_est * 1.25, and no upper end for a group the model clips few entries of; the exact
level is found among the stored entries only (any subset V gives (sum_V - theta) / |V| <= the
level (Condat 2016): admit the entries above that bound (a vectorised stable partition), then
Newton/Michelot pruning sweeps, each a read-only vector pass, the entries moved once at the end),
and checked against the window; a group whose level leaves its window is split
again (the entries above the window stay clipped when the level fell below it; otherwise every
entry above the subset's level is a candidate). (4) theta_0 = theta_est is evaluated exactly. If
F(theta_0) > C, theta_0 < theta*; otherwise the tangent at theta_0 >= theta* (refined by lower
bounds of the groups dead at theta_0) gives a point <= theta*. From there Newton from the left
ends exactly on the final piece, updating each group incrementally (levels only fall, clipped
sets only grow; a group whose largest unclipped candidate stays below its new level is
unchanged, O(1)). (5) theta is corrected once from the final clipped sums in double, and the
output written in one pass. Groups whose l1 norm is below the current theta are never split or
stored: when the result is sparse only the few groups that can survive are touched beyond the
first pass (the seed algorithm of Perez, Condat, Barlaud reaches this by visiting groups in
decreasing l1 norm). All work buffers are malloc'ed and freed on every path. Threads: the
per-group passes run over a fixed number of chunks of consecutive groups (OpenMP prange on
inputs of >= 200,000 entries, omp_get_max_threads() threads) and their partial sums are added in
chunk order, so the result does not depend on the number of threads. The reference kernel
(Newton from theta = 0 with Condat's algorithm on every group at every step, for the tests and
the benchmark) is in _l1inf_ref.pyx.
"""
from cython cimport floating
from cython.parallel cimport prange
from libc.stdlib cimport calloc, malloc, free, realloc
from libc.float cimport FLT_MAX
from libc.math cimport INFINITY, fabs, nextafterf, sqrt
from libc.string cimport memcpy

from skproj._kernels._l1inf_ref import l1inf_ball_reference
from skproj._kernels._parallel cimport HAVE_OPENMP, max_threads, n_threads
from skproj._kernels._select cimport clamp_d
from skproj._kernels._l1inf_common cimport (level_lb, level_scale, max_sum, refine_theta,
                                           skproj_row_level_f32, skproj_row_level_f64,
                                           write_clipped)
from skproj._kernels._l1inf_model cimport (_bound_root, _estimate_theta, _model_level,
                                          _sort_network, _zs, skproj_model_eval)

cdef extern from "_simd.h":
    Py_ssize_t skproj_window_f32(const float* x, Py_ssize_t n, int use_abs, float lo, float hi,
                                 double* dst, double* sh_out, Py_ssize_t* kh_out) noexcept nogil
    Py_ssize_t skproj_window_f64(const double* x, Py_ssize_t n, int use_abs, double lo, double hi,
                                 double* dst, double* sh_out, Py_ssize_t* kh_out) noexcept nogil
    int skproj_simd_level() noexcept nogil
    void skproj_set_simd_level(int level) noexcept nogil

cdef extern from "_simd_model.h":
    void skproj_sort4_desc(double* z, Py_ssize_t nc, const int* ci, const int* cj) noexcept nogil

cdef extern from "_simd_gt.h":
    Py_ssize_t skproj_gtstat_f32(const float* x, Py_ssize_t n, float t, double* s_out,
                                 double* kmin_out, double* rmax_out) noexcept nogil
    Py_ssize_t skproj_gtstat_f64(const double* x, Py_ssize_t n, double t, double* s_out,
                                 double* kmin_out, double* rmax_out) noexcept nogil
    Py_ssize_t skproj_partition_f64(double* seg, Py_ssize_t n, double t, double* tmp,
                                    double* s_out, double* rmax_io) noexcept nogil

# chunks of consecutive groups for the parallel passes (fixed: results do not depend on threads)
cdef enum:
    NCHUNK = 64
    # a group whose model clips at most m / FEW_CLIPPED entries keeps every entry above its
    # lower window bound (no upper bound)
    FEW_CLIPPED = 8
    # Newton steps of the first lower bound of theta* (a start for the model's Newton)
    LB_STEPS = 6
    # rows of at most this many bytes (they fit in a 32 KB L1 cache) are solved on the row itself;
    # on longer rows the candidate windows were faster in float64 and for N(0, 1) rows of 10,000
    # float32 entries at radius 0.5 of the norm
    ROW_BYTES = 32768

# the candidate windows are the model levels at theta_est * f and theta_est / f, f = WINDOW;
# with q = 32 samples f = 1 + WINDOW_C mu w sqrt(k (q - k) / q + 1) / theta_est in [WINDOW_MIN,
# WINDOW] (mu, w, k: the model's level, weight, samples above mu at theta_est: the noise of the
# sampled count times the level), measured faster (narrower) for radii <= 0.1 of the norm
cdef double WINDOW = 1.25
cdef double WINDOW_MIN = 1.03
cdef double WINDOW_C = 4.0
# a row's first sweep starts at the model's level at theta * GUESS (a guess a little below it)
cdef double GUESS = 1.1


cdef int _store_reserve(double** store, Py_ssize_t* cap, Py_ssize_t need) noexcept nogil:
    cdef Py_ssize_t newcap
    cdef double* p
    if need <= cap[0]:
        return 0
    newcap = cap[0] * 2
    if newcap < need:
        newcap = need
    p = <double*> realloc(store[0], newcap * sizeof(double))
    if p == NULL:
        return -1
    store[0] = p
    cap[0] = newcap
    return 0


cdef inline float _down_f(double d) noexcept nogil:
    """The largest float <= d (FLT_MAX above): y > d and y > _down_f(d) agree for float y
    (for f > 0 the float below f is its bit pattern minus one: no libm call, no branch)."""
    cdef float f = <float> d if d < FLT_MAX else FLT_MAX
    cdef unsigned int u   # 32 bits, as float
    if not f > 0.0:
        return nextafterf(f, -INFINITY) if <double> f > d else f
    memcpy(&u, &f, sizeof(float)); u -= <double> f > d; memcpy(&f, &u, sizeof(float))
    return f


cdef inline Py_ssize_t _collect_window(const floating* x, Py_ssize_t m, double L, double H,
                                       double* seg, double* sh_out, Py_ssize_t* kh_out) noexcept nogil:
    """Split |x| in three (skproj_window_*): entries > H (sum, count), entries in (L, H] (to seg
    in order, their number returned), the rest (dropped). L <= H (rounded down for float32)."""
    if floating is float:
        return skproj_window_f32(x, m, 1, _down_f(L), _down_f(H), seg, sh_out, kh_out)
    else:
        return skproj_window_f64(x, m, 1, L, H, seg, sh_out, kh_out)


cdef double _window_level(double* seg, Py_ssize_t ln, Py_ssize_t* kc_io, double* sc_io,
                          double* xo_io, Py_ssize_t kh, double sh, double theta,
                          int mode, double* tmp) noexcept nogil:
    """Exact level at theta of a group whose entries above the window are all clipped.

    seg[0:kc] holds the candidates currently clipped (sum sc), seg[kc:ln] the others (the
    largest of them xo, +inf when unknown); kh entries of sum sh lie above the window. Any
    subset V of the group gives (sum_V - theta) / |V| <= the level (Condat 2016), so: take mu
    from the current clipped set (a lower bound), admit every other candidate above it (one
    stable partition, skproj_partition_f64), then prune by Newton (Michelot) sweeps, mu <- (sh +
    sum of the kept - theta) / (kh + their number), which increase mu to the exact level (each
    sweep counts and sums the entries above mu in one read-only pass, skproj_gtstat_f64; the
    pruned entries are moved behind the kept ones once, at the end). mode 0: no knowledge of the
    previous state; mode 1: theta grew since the last call (the clipped candidates stay clipped,
    all above the new mu: when xo <= mu too, the set is unchanged, O(1)); mode 2: theta shrank
    (nothing outside can enter, only the clipped ones are pruned). tmp: scratch of ln doubles.
    Returns the level; kc, sc, xo then describe its clipped candidates.
    """
    cdef Py_ssize_t kc = kc_io[0], p, it, kc0
    cdef double sc = sc_io[0], mu, s, r, t, rx, kmin, rmx
    if mode == 0:
        kc = 0
        sc = 0.0
    if kh + kc > 0:
        mu = (sh + sc - theta) / (kh + kc)
    else:
        mu = -INFINITY
    if mode == 1 and kh + kc > 0 and xo_io[0] <= mu:
        return mu
    r = xo_io[0] if mode == 2 else 0.0
    if mode != 2:
        kc += skproj_partition_f64(seg + kc, ln - kc, mu, tmp, &s, &r)
        sc += s
    # Newton (Michelot) sweeps over seg[0:kc0]: the set {seg[0:kc0] > t} shrinks as t = mu grows;
    # each sweep is one read-only vector pass (count, sum, and the largest entry left out); the
    # entries are moved once, at the end
    kc0 = kc
    t = -INFINITY   # the set's threshold (the whole of seg[0:kc0])
    rx = 0.0
    for it in range(ln + 1):
        if kh + kc == 0:
            break
        mu = (sh + sc - theta) / (kh + kc)
        p = skproj_gtstat_f64(seg, kc0, mu, &s, &kmin, &rmx)
        if p == kc:
            sc = s   # the same set: a fresh sum
            rx = rmx
            break
        if kh + p == 0:
            # rounding: keep the last non-empty set (not verified: no shortcut next time)
            r = INFINITY
            break
        t = mu
        kc = p
        sc = s
    if kc < kc0:
        skproj_partition_f64(seg, kc0, t, tmp, &s, &rx)
        r = clamp_d(rx, r, INFINITY)
    kc_io[0] = kc
    sc_io[0] = sc
    xo_io[0] = r
    return (sh + sc - theta) / (kh + kc)


cdef struct _Work:
    # per group
    double* amax
    double* l1
    double* SH
    double* SC
    double* WL
    double* WH
    double* MU
    double* TH
    double* XO
    Py_ssize_t* KH
    Py_ssize_t* KC
    Py_ssize_t* off
    Py_ssize_t* ln
    Py_ssize_t* KS
    double theta_est
    double* samp
    double* tau
    double* wg
    # per chunk of consecutive groups: a growable store of candidates, partial sums, status
    double** store
    Py_ssize_t* cap
    double** tmp   # scratch of a group's candidates (grows as store)
    Py_ssize_t* tcap
    Py_ssize_t* used
    double* part
    int* cstat
    Py_ssize_t q
    Py_ssize_t nch
    double scale   # factor of every level in the output (level_scale)


cdef inline Py_ssize_t _chunk_lo(Py_ssize_t c, Py_ssize_t n, Py_ssize_t nch) noexcept nogil:
    return (c * n) // nch


cdef void _first_pass_chunk(const floating[:, ::1] X, _Work* w, Py_ssize_t c) noexcept nogil:
    """Maxima and l1 norms of the groups of chunk c, and |X| at the q sample columns (to samp,
    see _estimate_theta); part[4c] = sum of their maxima."""
    cdef Py_ssize_t n = X.shape[0], m = X.shape[1], g, i, q = w.q
    cdef double tot = 0.0
    cdef const Py_ssize_t* cols = <Py_ssize_t*> (w.samp + 2 * ((n + 3) // 4) * 4 * q)
    cdef double* z
    for g in range(_chunk_lo(c, n, w.nch), _chunk_lo(c + 1, n, w.nch)):
        max_sum(&X[g, 0], m, &w.amax[g], &w.l1[g])
        z = _zs(w.samp, g, q)
        for i in range(q):
            z[4 * i] = fabs(<double> X[g, cols[i]])
        tot += w.amax[g]
        w.ln[g] = -1
    w.part[4 * c] = tot


cdef int _split_group(const floating* x, Py_ssize_t m, _Work* w, Py_ssize_t c,
                      Py_ssize_t g) noexcept nogil:
    """Split group g (entries x[0:m]) at its window (WL[g], WH[g]]: the entries inside go to the
    end of chunk c's store, those above it are summed and counted (SH[g], KH[g]); no entry is
    clipped yet. Returns 0, or -1 (and cstat[c] = -1) if the store cannot grow."""
    if _store_reserve(&w.store[c], &w.cap[c], w.used[c] + m) != 0:
        w.cstat[c] = -1
        return -1
    w.off[g] = w.used[c]
    w.ln[g] = _collect_window(x, m, w.WL[g], w.WH[g], w.store[c] + w.used[c], &w.SH[g], &w.KH[g])
    w.used[c] += w.ln[g]
    w.KC[g] = 0
    w.SC[g] = 0.0
    return 0


cdef double _row_level(const floating* x, Py_ssize_t m, _Work* w, Py_ssize_t g,
                       double theta) noexcept nogil:
    """Exact level at theta of group g from its row (skproj_row_level_*: Michelot sweeps).

    The first time, the sweeps start at the model's level at theta * GUESS (at theta = theta_est
    computed for every group at once, in WH), with the lower bound
    max(max_g - theta, (l1_g - theta) / m) in reserve; later, from the last clipped set's
    (S_g - theta) / k_g (a lower bound: any subset gives one). The set is kept (SH, KH; its
    smallest entry in WL, the largest outside it in XO): while it stays the clipped set at its
    new level, that is the level, O(1).
    """
    cdef double t, t_safe, mu
    if w.ln[g] >= 0:
        mu = (w.SH[g] - theta) / w.KH[g]
        if w.WL[g] > mu and w.XO[g] <= mu:
            return mu
        t = t_safe = mu
    else:
        w.ln[g] = 0
        w.KC[g] = 0
        w.SC[g] = 0.0
        t_safe = level_lb(w.amax[g], w.l1[g], m, theta)
        if theta == w.theta_est:
            t = w.WH[g]   # computed for every group at once (_l1inf_fast)
        else:
            t = _model_level(_zs(w.samp, g, w.q), _zs(w.tau, g, w.q), w.q, w.amax[g], w.wg[g],
                             w.l1[g], theta * GUESS)
        if t < t_safe:
            t = t_safe
    if floating is float:
        return skproj_row_level_f32(x, m, theta, w.amax[g], t, t_safe, &w.SH[g], &w.KH[g],
                                    &w.WL[g], &w.XO[g], 2 * m + 2)
    else:
        return skproj_row_level_f64(x, m, theta, w.amax[g], t, t_safe, &w.SH[g], &w.KH[g],
                                    &w.WL[g], &w.XO[g], 2 * m + 2)


cdef void _eval_chunk(const floating[:, ::1] X, _Work* w, Py_ssize_t c,
                      double theta) noexcept nogil:
    """Exact levels at theta of the groups of chunk c (lazy windows; a group whose level leaves
    its window is recollected with every entry above a valid lower bound as candidate).

    part[4c: 4c + 4] = (sum of the levels, sum_g S_g / k_g, sum_g 1 / k_g, the largest theta up
    to which every clipped set stays the same) over the chunk's surviving groups (the last one
    -inf when a group has candidate windows); cstat[c] = -1 if the chunk's store cannot grow.
    """
    cdef Py_ssize_t n = X.shape[0], m = X.shape[1], g, q = w.q
    cdef double A = 0.0, B = 0.0, F0 = 0.0, mu, k_tot, lb, k_est, t_lo, t_hi, f, lim = INFINITY
    cdef int mode
    cdef bint ok
    cdef double* seg
    w.cstat[c] = 0
    for g in range(_chunk_lo(c, n, w.nch), _chunk_lo(c + 1, n, w.nch)):
        if w.l1[g] < theta or w.l1[g] == 0.0:
            w.MU[g] = 0.0
            continue
        if m * <Py_ssize_t> sizeof(floating) <= ROW_BYTES:
            mu = _row_level(&X[g, 0], m, w, g, theta)
            w.MU[g] = mu
            F0 += mu if mu > 0.0 else 0.0
            A += w.SH[g] / w.KH[g]
            B += 1.0 / w.KH[g]
            # the level (S - t) / k stays >= the largest entry outside the set up to t = lim
            lim = clamp_d(w.SH[g] - w.KH[g] * w.XO[g], -INFINITY, lim)
            continue
        lim = -INFINITY
        if w.ln[g] < 0:
            f = WINDOW
            if q == 32:
                f = _model_level(_zs(w.samp, g, q), _zs(w.tau, g, q), q, w.amax[g], w.wg[g],
                                 w.l1[g], w.theta_est)
                f *= WINDOW_C * w.wg[g] * sqrt(w.KS[g] * (q - w.KS[g]) / 32.0 + 1.0)
                f = clamp_d(1.0 + f / w.theta_est, WINDOW_MIN, WINDOW)
            t_hi = w.theta_est * f
            t_lo = w.theta_est / f
            w.WL[g] = _model_level(_zs(w.samp, g, q), _zs(w.tau, g, q), q, w.amax[g], w.wg[g],
                                   w.l1[g], t_hi)
            # a lower bound of the level valid for every theta <= t_hi (see _bound_root)
            lb = level_lb(w.amax[g], w.l1[g], m, t_hi)
            if lb > w.WL[g]:
                w.WL[g] = lb
            w.WH[g] = _model_level(_zs(w.samp, g, q), _zs(w.tau, g, q), q, w.amax[g], w.wg[g],
                                   w.l1[g], t_lo, &k_est)
            if k_est * FEW_CLIPPED <= m:
                # few entries above the level: the model (a few samples) places it coarsely,
                # and keeping every entry above WL costs little
                w.WH[g] = w.amax[g]
            if w.WH[g] >= w.amax[g] or w.WH[g] <= w.WL[g]:
                w.WH[g] = w.amax[g]
            if _split_group(&X[g, 0], m, w, c, g) != 0:
                return
        if w.KC[g] == 0:
            mode = 0
        elif theta > w.TH[g]:
            mode = 1
        elif theta < w.TH[g]:
            mode = 2
        else:
            mode = 0
        w.TH[g] = theta
        if _store_reserve(&w.tmp[c], &w.tcap[c], w.ln[g]) != 0:
            w.cstat[c] = -1
            return
        seg = w.store[c] + w.off[g]
        mu = _window_level(seg, w.ln[g], &w.KC[g], &w.SC[g], &w.XO[g], w.KH[g], w.SH[g], theta,
                           mode, w.tmp[c])
        ok = mu >= w.WL[g] and (w.KH[g] == 0 or mu < w.WH[g])
        if not ok:
            # mu is a lower bound of the true level (it comes from a subset): keep the entries
            # above it as candidates; below the window, the level is < WL (mu = it if it
            # were >= WL), so the entries above WL stay clipped as theta grows.
            w.WH[g] = w.WL[g] if mu < w.WL[g] else 2.0 * w.amax[g] + 1.0
            w.WL[g] = mu if mu > 0.0 else 0.0
            if (_split_group(&X[g, 0], m, w, c, g) != 0
                    or _store_reserve(&w.tmp[c], &w.tcap[c], w.ln[g]) != 0):
                w.cstat[c] = -1
                return
            mu = _window_level(w.store[c] + w.off[g], w.ln[g], &w.KC[g], &w.SC[g], &w.XO[g],
                               w.KH[g], w.SH[g], theta, 0, w.tmp[c])
        w.MU[g] = mu
        k_tot = <double> (w.KH[g] + w.KC[g])
        F0 += mu if mu > 0.0 else 0.0
        A += (w.SH[g] + w.SC[g]) / k_tot
        B += 1.0 / k_tot
    w.part[4 * c] = F0
    w.part[4 * c + 1] = A
    w.part[4 * c + 2] = B
    w.part[4 * c + 3] = lim


cdef void _write_chunk(const floating[:, ::1] X, floating[:, ::1] out, _Work* w, Py_ssize_t c,
                       double theta, bint inside) noexcept nogil:
    """Write the projection of the groups of chunk c (a copy when X is inside the ball)."""
    cdef Py_ssize_t n = X.shape[0], m = X.shape[1], g
    cdef double mu
    for g in range(_chunk_lo(c, n, w.nch), _chunk_lo(c + 1, n, w.nch)):
        if inside:
            memcpy(&out[g, 0], &X[g, 0], m * sizeof(floating))
            continue
        mu = 0.0
        if w.ln[g] >= 0 and w.l1[g] > theta and w.KH[g] + w.KC[g] > 0:
            mu = (w.SH[g] + w.SC[g] - theta) / (w.KH[g] + w.KC[g]) * w.scale
        write_clipped(&X[g, 0], &out[g, 0], m, mu)


cdef double _eval_all(const floating[:, ::1] X, _Work* w, double theta, int nt, double* A_out,
                      double* B_out, double* lim_out, int* status) noexcept nogil:
    """Evaluate every chunk at theta (in parallel); returns F(theta) = sum of the levels, with
    A, B of the Newton step and lim_out (see _eval_chunk's part).

    The partial sums are added in chunk order, so the result does not depend on the number of
    threads.
    """
    cdef Py_ssize_t c
    cdef double F0 = 0.0, A = 0.0, B = 0.0, lim = INFINITY
    for c in prange(w.nch, schedule='dynamic', num_threads=nt):
        _eval_chunk(X, w, c, theta)
    for c in range(w.nch):
        if w.cstat[c] != 0:
            status[0] = -1
        F0 += w.part[4 * c]
        A += w.part[4 * c + 1]
        B += w.part[4 * c + 2]
        lim = clamp_d(w.part[4 * c + 3], -INFINITY, lim)
    A_out[0] = A
    B_out[0] = B
    lim_out[0] = lim
    return F0


cdef int _l1inf_fast(const floating[:, ::1] X, floating[:, ::1] out, double C,
                     double* theta_out) noexcept nogil:
    """Subsample estimate, per-group candidate windows, Newton from the left (see the module).

    The per-group passes (maxima and l1 norms, windows and levels, output) run over NCHUNK
    chunks of consecutive groups, in parallel (OpenMP) on large inputs; every sum over groups
    is accumulated per chunk and the chunks added in order, so the result is the same for any
    number of threads. Returns 0, or -1 when a buffer cannot be allocated (every buffer freed
    on every path).
    """
    cdef Py_ssize_t n = X.shape[0], m = X.shape[1], g, c, q, it, nch
    cdef _Work w
    cdef double total = 0.0, A, B, F0, theta0, theta, theta_new, maxl1 = 0.0
    cdef double theta_est, theta_lb = 0.0, lim
    cdef int status = 0
    cdef int nt = n_threads(n * m)
    cdef bint upper, inside = False
    nch = n if n < NCHUNK else NCHUNK
    w.nch = nch
    w.scale = 1.0
    # the per-group arrays share one block: 10 of doubles, then 5 of Py_ssize_t (kp included)
    cdef double* blk = <double*> malloc(n * (10 * sizeof(double) + 5 * sizeof(Py_ssize_t)))
    cdef Py_ssize_t* kp = NULL
    if blk != NULL:
        w.amax, w.l1, w.SH, w.SC, w.WL = blk, blk + n, blk + 2 * n, blk + 3 * n, blk + 4 * n
        w.WH, w.MU, w.TH, w.wg = blk + 5 * n, blk + 6 * n, blk + 7 * n, blk + 8 * n
        w.XO = blk + 9 * n
        w.KH = <Py_ssize_t*> (blk + 10 * n)
        w.KC, w.off, w.ln, kp = w.KH + n, w.KH + 2 * n, w.KH + 3 * n, w.KH + 4 * n
    q = 32 if m >= 256 else (m // 8 if m >= 8 else 1)
    w.q = q
    # the samples of (n rounded up to 4) groups, their model's tau (see _estimate_theta), then
    # the q sample columns
    w.samp = <double*> malloc(2 * ((n + 3) // 4) * 4 * q * sizeof(double) + q * sizeof(Py_ssize_t))
    w.tau = w.samp + ((n + 3) // 4) * 4 * q
    w.store = <double**> calloc(nch, sizeof(double*))
    w.cap = <Py_ssize_t*> calloc(nch, sizeof(Py_ssize_t))
    w.tmp = <double**> calloc(nch, sizeof(double*))
    w.tcap = <Py_ssize_t*> calloc(nch, sizeof(Py_ssize_t))
    w.used = <Py_ssize_t*> calloc(nch, sizeof(Py_ssize_t))
    w.part = <double*> malloc(4 * nch * sizeof(double))
    w.cstat = <int*> calloc(nch, sizeof(int))
    if (blk == NULL or w.samp == NULL or w.store == NULL or w.cap == NULL or w.used == NULL
            or w.tmp == NULL or w.tcap == NULL
            or w.part == NULL or w.cstat == NULL):
        status = -1
    if status == 0:
        # the q sample columns (strided), stored after the samples; the padding groups' zeros
        for c in range(q):
            (<Py_ssize_t*> (w.samp + 2 * ((n + 3) // 4) * 4 * q))[c] = (c * m) // q
        for g in range(n, (n + 3) // 4 * 4):
            for c in range(q):
                _zs(w.samp, g, q)[4 * c] = 0.0
        for c in prange(nch, schedule='static', num_threads=nt):
            _first_pass_chunk(X, &w, c)
        for c in range(nch):
            total += w.part[4 * c]
        for g in range(n):
            if w.l1[g] > maxl1:
                maxl1 = w.l1[g]
            elif not w.l1[g] <= maxl1:
                maxl1 = INFINITY   # NaN in the row
        if not (total < INFINITY and maxl1 < INFINITY):
            status = 2   # NaN or inf in X, or sums that overflow double: theta = inf, nothing written
        elif total <= C:
            inside = True
            theta = 0.0
            status = 1
    if status == 0:
        # lower bound of theta*: every level is >= max(max_g - theta, (l1_g - theta) / m), a
        # convex piecewise-linear function of theta; Newton from the left on its sum.
        theta_lb = _bound_root(n, m, w.amax, w.l1, 0.0, 0.0, C, 0.0, INFINITY, LB_STEPS)
        theta_est = _estimate_theta(n, w.amax, w.l1, C, q, w.samp, w.tau, w.wg, kp, theta_lb)
        if not (theta_est >= theta_lb and theta_est <= maxl1):
            # never expected (the model is finite); the exact phase needs a finite start
            theta_est = theta_lb
        w.theta_est = theta_est
        w.KS = kp   # the model's samples above its level near theta_est (_estimate_theta)
        if m * <Py_ssize_t> sizeof(floating) <= ROW_BYTES:
            # the rows' first sweeps start at the model levels at theta_est * GUESS (_row_level):
            # all of them in one vector pass (WH is not used by rows solved in place)
            skproj_model_eval(w.samp, w.tau, w.amax, w.wg, w.l1, n, q, theta_est * GUESS, NULL,
                              &A, &B, w.WH, 1)
        theta = theta_est
        upper = True   # first evaluation, at theta_est (then: Newton from the left)
        for it in range(10000):
            F0 = _eval_all(X, &w, theta, nt, &A, &B, &lim, &status)
            if status != 0:
                break
            if upper:
                upper = False
                if not F0 > C * (1.0 + 1e-12):
                    # theta0 >= theta*: the root of the tangent at theta0 is a lower bound of
                    # theta*; refine it with the lower bounds max(max_g - theta, (l1_g - theta) / m)
                    # of the groups dead at theta0.
                    theta0 = theta
                    theta = (A - C) / B if B > 0.0 else theta0
                    if theta > theta0:
                        theta = theta0
                    if theta < theta_lb:
                        theta = theta_lb
                    theta = _bound_root(n, m, w.amax, w.l1, A, B, C, theta, theta0, 10000)
                    continue
                # else theta < theta*: Newton from the left from here
            # --- Newton from the left ---
            theta_new = (A - C) / B
            if not theta_new > theta:
                theta = theta_new
                break
            theta = theta_new
            if theta <= lim:
                break   # no clipped set changes up to theta: it is on the final piece
    if status == 0:
        # exact finish on the final piece: one residual correction, then the levels (the
        # clipped counts and sums of the surviving groups go to kp and TH, free by now)
        for g in range(n):
            kp[g] = 0
            if w.MU[g] > 0.0 or (w.ln[g] >= 0 and w.l1[g] > theta):
                kp[g] = w.KH[g] + w.KC[g]
                w.TH[g] = w.SH[g] + w.SC[g]
        theta = refine_theta(n, kp, w.TH, C, theta)
        w.scale = level_scale(n, kp, w.TH, C, theta)
    if status == 0 or status == 1:
        for c in prange(nch, schedule='static', num_threads=nt):
            _write_chunk(X, out, &w, c, theta, inside)
        theta_out[0] = theta
        status = 0
    elif status == 2:
        theta_out[0] = INFINITY
        status = 0
    free(blk); free(w.samp)
    for c in range(nch):
        if w.store != NULL:
            free(w.store[c])
        if w.tmp != NULL:
            free(w.tmp[c])
    free(w.store); free(w.cap); free(w.tmp); free(w.tcap); free(w.used); free(w.part); free(w.cstat)
    return status


def l1inf_ball(const floating[:, ::1] X, floating[:, ::1] out, double radius, bint reference=False):
    """Project X (groups = rows) onto {sum_g max_j |X_gj| <= radius}, radius > 0, into out.

    Returns theta, the l1 mass removed from every surviving group (0.0 when X is inside; inf,
    with out not written, when X has NaN or inf or the sums of |X| overflow double: the caller
    raises or rescales).
    reference=True runs the reference kernel (Newton from 0 with Condat's algorithm on every
    group at every step: slow, for the tests and the benchmark). Raises MemoryError if the
    work buffers cannot be allocated.
    """
    cdef double theta = 0.0
    cdef int status
    if reference:
        return l1inf_ball_reference(X, out, radius)
    with nogil:
        status = _l1inf_fast(X, out, radius, &theta)
    if status != 0:
        raise MemoryError("could not allocate the work buffers of the l1,inf-ball projection")
    return theta


def l1inf_norm(const floating[:, ::1] X):
    """sum_g max_j |X_gj| (rows are the groups), in double, added in the order of the
    projection's first pass (per chunk of consecutive groups, then the chunks in order), so
    that l1inf_ball(X, l1inf_norm(X)) finds X inside the ball."""
    cdef Py_ssize_t n = X.shape[0], g, c, nch = X.shape[0] if X.shape[0] < NCHUNK else NCHUNK
    cdef double s = 0.0, part, a, l1
    with nogil:
        for c in range(nch):
            part = 0.0
            for g in range(_chunk_lo(c, n, nch), _chunk_lo(c + 1, n, nch)):
                max_sum(&X[g, 0], X.shape[1], &a, &l1)
                part += a
            s += part
    return s


def openmp_info():
    """(built with OpenMP, threads a large input would use now): the threaded kernels' view of
    OMP_NUM_THREADS and threadpoolctl limits (1 thread when built without OpenMP)."""
    return bool(HAVE_OPENMP), max_threads()


def _set_simd_level(int level):
    """Cap the vector instructions of the per-group passes (_simd.h) at level: 0 plain C, 1 SSE2,
    2 AVX2, 3 AVX-512F (the row sweeps; the other passes run AVX2), -1 the CPU's best (tests).
    Returns the level now used (at most the CPU's)."""
    skproj_set_simd_level(level)
    return skproj_simd_level()


def _gtstat(const floating[::1] x, double t):
    """One row sweep as the level search runs it (skproj_gtstat_f32 / _f64 at the current vector
    level; tests): returns (k, s, kmin, rmax), the number of entries with |x_i| > t, their sum
    (double), the smallest of them (inf if none) and the largest other |x_i| (0.0 if none). In
    float32, t is rounded to float32 first."""
    cdef Py_ssize_t n = x.shape[0], k = 0
    cdef double s = 0.0, kmin = INFINITY, rmax = 0.0
    with nogil:
        if n > 0:
            if floating is float:
                k = skproj_gtstat_f32(&x[0], n, <float> t, &s, &kmin, &rmax)
            else:
                k = skproj_gtstat_f64(&x[0], n, t, &s, &kmin, &rmax)
    return k, s, kmin, rmax


def _partition(double[::1] seg, double t):
    """Partition seg in place around t as the candidate windows' level search does
    (skproj_partition_f64 at the current vector level: the entries > t first, then the others,
    both in order); returns (their number, their sum, the largest other entry or 0.0) (tests).
    seg holds entries >= 0. Raises MemoryError if the scratch cannot be allocated."""
    cdef Py_ssize_t n = seg.shape[0], k = 0
    cdef double s = 0.0, rmax = 0.0
    cdef double* tmp = <double*> malloc((n + 1) * sizeof(double))
    if tmp == NULL:
        raise MemoryError("could not allocate the scratch")
    with nogil:
        if n > 0:
            k = skproj_partition_f64(&seg[0], n, t, tmp, &s, &rmax)
    free(tmp)
    return k, s, rmax


def _network_sort(const double[:, ::1] Z, double[:, ::1] out):
    """out = the rows of Z (at most 32 columns) in decreasing order, sorted as the subsample
    model sorts its samples (a sorting network on 4 interleaved rows at a time, at the current
    vector level; tests). Raises MemoryError if the buffer cannot be allocated."""
    cdef Py_ssize_t n = Z.shape[0], q = Z.shape[1], g, i, nc
    cdef int ci[191]
    cdef int cj[191]
    if q > 32 or out.shape[0] != n or out.shape[1] != q:
        raise ValueError("Z must have at most 32 columns and out Z's shape")
    cdef double* buf = <double*> calloc((n + 3) // 4 * 4 * q + 1, sizeof(double))
    if buf == NULL:
        raise MemoryError("could not allocate the sort buffer")
    with nogil:
        for g in range(n):
            for i in range(q):
                _zs(buf, g, q)[4 * i] = Z[g, i]
        nc = _sort_network(q, ci, cj)
        for g in range(0, n, 4):
            skproj_sort4_desc(_zs(buf, g, q), nc, ci, cj)
        for g in range(n):
            for i in range(q):
                out[g, i] = _zs(buf, g, q)[4 * i]
    free(buf)
