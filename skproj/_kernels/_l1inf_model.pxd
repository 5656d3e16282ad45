# cython: language_level=3
"""The l1,inf-ball kernel's (_l1inf.pyx) first estimates of theta*: a lower bound from every
group's maximum and l1 norm, and a model of every group from a column subsample.

A model group g is its maximum plus w_g times its q sorted samples (prefix sums stored), w_g =
(||y_g||_1 - max_g) / (sample sum), so that it dies exactly at theta = ||y_g||_1 as the group
does; the largest weight is 1e300 (w q and 1 + w q stay finite for q <= 32).
"""
from libc.math cimport INFINITY

cdef enum:
    # _estimate_theta first solves the model of every SUB_STEP-th block of 4 groups when there
    # are at least SUB_MIN_GROUPS groups
    SUB_STEP = 8
    SUB_MIN_GROUPS = 1024

cdef extern from "_simd_model.h":
    void skproj_sort4_desc(double* z, Py_ssize_t nc, const int* ci, const int* cj) noexcept nogil
    void skproj_model_eval(const double* P, const double* tau, const double* amax,
                           const double* wg, const double* l1, Py_ssize_t n, Py_ssize_t q,
                           double theta, Py_ssize_t* kk, double* A_out,
                           double* B_out, double* lv, Py_ssize_t bstep) noexcept nogil
    int skproj_model_build4(double* z, double* tau, const double* amax, const double* l1,
                            double* wg, Py_ssize_t q, double theta_lb) noexcept nogil
    void skproj_bound_sums(const double* amax, const double* l1, Py_ssize_t n, Py_ssize_t m,
                           double theta, double upper, double* U_out,
                           double* W_out) noexcept nogil


cdef inline double* _zs(double* samp, Py_ssize_t g, Py_ssize_t q) noexcept nogil:
    """Group g's q samples: the samples of 4 consecutive groups are interleaved (entry i of
    group g at _zs(samp, g, q)[4 * i]), so that one vector comparator sorts 4 groups."""
    return samp + (g >> 2) * 4 * q + (g & 3)


cdef inline Py_ssize_t _sort_network(Py_ssize_t q, int* ci, int* cj) noexcept nogil:
    """Batcher's odd-even merge sort network for q entries (Knuth, TAOCP vol. 3, 5.3.4; the
    comparators of the next power of two that stay below q): ci[c] < cj[c], at most 191 for
    q <= 32. Returns the number of comparators."""
    cdef Py_ssize_t p = 1, k, j, i, nc = 0
    while p < q:
        k = p
        while k >= 1:
            j = k % p
            while j + k < q:
                for i in range(k if k < q - j - k else q - j - k):
                    if (i + j) // (2 * p) == (i + j + k) // (2 * p):
                        ci[nc] = <int> (i + j)
                        cj[nc] = <int> (i + j + k)
                        nc += 1
                j += 2 * k
            k //= 2
        p *= 2
    return nc


cdef inline double _bound_root(Py_ssize_t n, Py_ssize_t m, const double* amax, const double* l1,
                        double A, double B, double C, double theta, double upper,
                        Py_ssize_t max_it) noexcept nogil:
    """A lower bound of theta*: Newton from the left, from theta, on G(t) = C, where
    G(t) = A - t B + sum over the groups with t < l1_g < upper of max(max_g - t, (l1_g - t) / m)
    (each term a lower bound of the group's level at mass t) is convex, decreasing and piecewise
    linear; the iterate is capped at upper. Every iterate is a lower bound: at most max_it."""
    cdef Py_ssize_t it
    cdef double U, W, a
    for it in range(max_it):
        skproj_bound_sums(amax, l1, n, m, theta, upper, &U, &W)   # branch-free, 4 groups at a time
        U += A - theta * B
        W += B
        if W == 0.0:
            break
        a = theta + (U - C) / W
        if not a > theta:
            break
        if a >= upper:
            return upper
        theta = a
    return theta


cdef inline double _estimate_theta(Py_ssize_t n, const double* amax, const double* l1,
                            double C, Py_ssize_t q, double* samp, double* tau, double* wg,
                            Py_ssize_t* kk, double theta_lb) noexcept nogil:
    """Estimate theta* from a column subsample of every group.

    _zs(samp, g, q)[4 * i] (i < q) holds |X[g, cols[i]]| for q strided columns (gathered by
    the first pass while the row is in cache; the groups from n to the next multiple of 4 are
    zeros). Group g's mass function T_g(mu) = sum_j max(y_gj - mu, 0)
    is approximated by its maximum plus w_g times that of its samples,
    w_g = (||y_g||_1 - max_g) / (sample sum), so that a group dies exactly at theta = ||y_g||_1
    as in the full problem. _zs(tau, g, q)[4 * j] receives tau_j, the model's mass at its
    (j + 1)-th largest sample (k samples lie above the level at theta when exactly k of the
    tau_j are < theta; not written for 4 groups all dead at theta_lb). The approximate F is
    solved by Newton from the left (O(n q) per step, 4 groups at a time, branch-free:
    skproj_model_eval), from theta_lb or, with at least SUB_MIN_GROUPS groups, from the root of
    the model of every SUB_STEP-th block of 4 groups (then the tangent's root is returned when
    that start lies above the model's root).
    """
    cdef Py_ssize_t g, i, k, it, nc, ns
    cdef bint sub = False
    cdef double* z
    cdef double tot, theta, theta_new, A, B, Pk
    cdef bint live
    cdef double* t
    cdef int ci[191]
    cdef int cj[191]
    # per block of 4 groups (skipped when the 4 are dead at theta_lb: weight 0, tau unwritten):
    # sort the samples in decreasing order (branch-free, the 4 groups at once), then each group's
    # weight, prefix sums P_k = z[4 (k - 1)] (sample k + 1 = P_{k+1} - P_k) and the masses at its
    # samples tau_k = max + w P_k - (1 + w k) (P_{k+1} - P_k) (for 4 groups at once when the CPU
    # has AVX2, skproj_model_build4, with the same operations per group). A dead group of a live
    # block keeps weight 0 and finite tau from its unsummed samples, read only by masked vector
    # lanes; the padding groups get tau = +inf.
    nc = _sort_network(q, ci, cj)
    for g in range(0, n, 4):
        live = False
        for i in range(g, g + 4 if g + 4 <= n else n):
            kk[i] = 0
            wg[i] = 0.0
            live = live or l1[i] > theta_lb
        if not live:
            continue
        skproj_sort4_desc(_zs(samp, g, q), nc, ci, cj)
        if g + 4 <= n and skproj_model_build4(_zs(samp, g, q), _zs(tau, g, q), &amax[g], &l1[g],
                                              &wg[g], q, theta_lb) == 0:
            continue
        for i in range(g, g + 4):
            t = _zs(tau, i, q)
            if i >= n:
                for k in range(q):
                    t[4 * k] = INFINITY
                continue
            z = _zs(samp, i, q)
            if l1[i] > theta_lb:
                tot = 0.0
                for k in range(q):
                    tot += z[4 * k]
                if tot > 0.0 and l1[i] - amax[i] <= tot * 1e300:
                    wg[i] = (l1[i] - amax[i]) / tot
                elif tot > 0.0:
                    # the samples are negligible next to the group's mass (e.g. subnormal
                    # entries): (l1 - max) / (sample sum) would overflow to inf and inf * 0
                    # gives NaN levels, so the model takes q equal entries (l1 - max) / q
                    # instead (it still dies at l1).
                    for k in range(q):
                        z[4 * k] = (l1[i] - amax[i]) / q
                    wg[i] = 1.0
                for k in range(1, q):
                    z[4 * k] += z[4 * k - 4]
            Pk = 0.0
            for k in range(q):
                t[4 * k] = amax[i] + wg[i] * Pk - (1.0 + wg[i] * k) * (z[4 * k] - Pk)
                Pk = z[4 * k]
    theta = theta_lb
    if n >= SUB_MIN_GROUPS:
        # start from the root of the model of every SUB_STEP-th block of 4 groups (ns groups:
        # F ~ (n / ns) (A - theta B) there), far cheaper than the first full steps from theta_lb
        ns = 0
        g = 0
        while g < n:
            ns += 4 if g + 4 <= n else n - g
            g += 4 * SUB_STEP
        for it in range(10000):
            skproj_model_eval(samp, tau, amax, wg, l1, n, q, theta, NULL, &A, &B, NULL, SUB_STEP)
            if B == 0.0:
                break
            theta_new = (A - C * ns / n) / B
            if not theta_new > theta:
                break
            if theta_new - theta <= 1e-3 * theta:
                theta = theta_new
                break
            theta = theta_new
        sub = theta > theta_lb
    for it in range(10000):
        skproj_model_eval(samp, tau, amax, wg, l1, n, q, theta, kk, &A, &B, NULL, 1)
        if B == 0.0:
            break
        theta_new = (A - C) / B
        if theta_new <= theta:
            if it == 0 and sub:
                # the subsample's root lies above the model's: the tangent's root is below it,
                # close (a lower bound no better than theta_lb is not kept); kk stays that of
                # the start, a little above (it only sizes the candidate windows)
                return theta_new if theta_new > theta_lb else theta_lb
            break
        if theta_new - theta <= 1e-2 * theta:
            # closer than the model's accuracy: enough for an estimate (kk stays that of theta,
            # a little below: it only sizes the candidate windows)
            return theta_new
        theta = theta_new
    return theta


cdef inline double _model_level(const double* z, const double* t, Py_ssize_t q, double base,
                                double w, double l1g, double theta,
                                double* above=NULL) noexcept nogil:
    """Level at theta of the subsample model of one group (z = _zs(samp, g, q), t = _zs(tau,
    g, q), see _estimate_theta; branch-free); above (if given) receives the model's number of
    entries clipped at that level, 1 + w * k. A model of weight 0 (the group's maximum alone;
    its tau may be unwritten) has level max(max - theta, 0)."""
    cdef Py_ssize_t k = 0, j
    cdef double Pk = 0.0, mu
    if theta >= l1g:
        if above != NULL:
            above[0] = 1.0 + w * q
        return 0.0
    if w == 0.0:
        if above != NULL:
            above[0] = 1.0
        return base - theta if base > theta else 0.0
    for j in range(q):
        k += t[4 * j] < theta
    if k > 0:
        Pk = z[4 * k - 4]
    if above != NULL:
        above[0] = 1.0 + w * k
    mu = (base + w * Pk - theta) / (1.0 + w * k)
    return mu if mu > 0.0 else 0.0
