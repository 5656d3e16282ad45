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

Strategy. (1) One pass computes every group's maximum and l1 norm. (2) The groups are visited
in decreasing l1 norm (the order of the seed algorithm of Perez, Condat, Barlaud): a doubling
search over the number of surviving groups brackets theta between two breakpoints, evaluating
only the groups that can survive; when the result is dense this search stops early and a
column subsample of X gives the starting point instead. (3) From a point theta_0 >= theta*
(F(theta_0) <= C), each surviving group's clipped set at theta_0 is stored once; it contains
the clipped set at theta* (levels only rise as theta falls), so the Newton iterations that
follow only touch these stored entries (plus the full rows of groups that revive). (4) theta
is recomputed from the final clipped sets in double, and the output written in one pass.
The per-group level is Condat's simplex threshold (Math. Program. 158, 2016, Algorithm 1).
"""
from cython cimport floating
from libc.stdlib cimport malloc, free, realloc
from libc.math cimport fabs
from libc.string cimport memcpy


cdef Py_ssize_t _group_level(const floating* x, Py_ssize_t m, double theta, double* v,
                             double* vt, double* s_out) noexcept nogil:
    """Clipped set of |x[0:m]| at mass theta (0 < theta < ||x||_1), by Condat's algorithm.

    On return v[0:k] holds the clipped entries (those > the level mu), *s_out their sum, and
    mu = (*s_out - theta) / k. vt is scratch of length m. Returns k >= 1.
    """
    cdef Py_ssize_t nv = 0, nvt = 0, i, j, k
    cdef double rho, y, s
    cdef bint changed
    y = fabs(<double> x[0])
    v[0] = y
    nv = 1
    rho = y - theta
    for i in range(1, m):
        y = fabs(<double> x[i])
        if y > rho:
            rho += (y - rho) / (nv + 1)
            if rho > y - theta:
                v[nv] = y
                nv += 1
            else:
                for j in range(nv):
                    vt[nvt] = v[j]
                    nvt += 1
                v[0] = y
                nv = 1
                rho = y - theta
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
                    rho += (rho - y) / (k + (nv - j - 1))
        nv = k
    if nv == 0:
        # theta below the resolution of the largest entries (max - theta rounds to max):
        # the clipped set is the set of maxima.
        rho = 0.0
        for i in range(m):
            y = fabs(<double> x[i])
            if y > rho:
                rho = y
                nv = 1
            elif y == rho:
                nv += 1
        for j in range(nv):
            v[j] = rho
    s = 0.0
    for j in range(nv):
        s += v[j]
    s_out[0] = s
    return nv


cdef double _refine_theta(Py_ssize_t n, const Py_ssize_t* K, const double* S, double C,
                          double theta) noexcept nogil:
    """One correction of theta on the final piece so that sum_g mu_g = C to rounding.

    theta = (sum S_g / k_g - C) / sum 1 / k_g suffers cancellation when theta is close to the
    clipped sums (tiny levels); re-evaluating the residual of sum_g (S_g - theta) / k_g = C and
    moving theta by residual / slope removes that error (exact for a single surviving group).
    """
    cdef Py_ssize_t g
    cdef double r = 0.0, W = 0.0
    for g in range(n):
        if K[g] > 0:
            r += (S[g] - theta) / K[g]
            W += 1.0 / K[g]
    if W > 0.0:
        theta += (r - C) / W
    return theta


cdef void _write_clipped(const floating* x, floating* out, Py_ssize_t m, double mu) noexcept nogil:
    """out = sign(x) * min(|x|, mu) for mu >= 0."""
    cdef Py_ssize_t j
    cdef floating lvl = <floating> mu
    cdef floating a
    if mu <= 0.0:
        for j in range(m):
            out[j] = 0
        return
    for j in range(m):
        a = x[j]
        if a > lvl:
            out[j] = lvl
        elif a < -lvl:
            out[j] = -lvl
        else:
            out[j] = a


cdef int _l1inf_simple(const floating[:, ::1] X, floating[:, ::1] out, double C,
                       double* theta_out) noexcept nogil:
    """Newton from theta = 0 with a full Condat pass per group and iteration (reference kernel)."""
    cdef Py_ssize_t n = X.shape[0], m = X.shape[1], g, j, it, k
    cdef double* amax = NULL
    cdef double* l1 = NULL
    cdef double* S = NULL
    cdef Py_ssize_t* K = NULL
    cdef double* v = NULL
    cdef double* vt = NULL
    cdef double total = 0.0, a, s, y, A, B, theta, theta_new
    amax = <double*> malloc(n * sizeof(double))
    l1 = <double*> malloc(n * sizeof(double))
    S = <double*> malloc(n * sizeof(double))
    K = <Py_ssize_t*> malloc(n * sizeof(Py_ssize_t))
    v = <double*> malloc(m * sizeof(double))
    vt = <double*> malloc(m * sizeof(double))
    if amax == NULL or l1 == NULL or S == NULL or K == NULL or v == NULL or vt == NULL:
        free(amax); free(l1); free(S); free(K); free(v); free(vt)
        return -1
    for g in range(n):
        a = 0.0
        s = 0.0
        k = 0
        for j in range(m):
            y = fabs(<double> X[g, j])
            s += y
            if y > a:
                a = y
                k = 1
            elif y == a:
                k += 1
        amax[g] = a
        l1[g] = s
        K[g] = k
        S[g] = k * a
        total += a
    if total <= C:
        for g in range(n):
            memcpy(&out[g, 0], &X[g, 0], m * sizeof(floating))
        free(amax); free(l1); free(S); free(K); free(v); free(vt)
        theta_out[0] = 0.0
        return 0
    theta = 0.0
    for it in range(10000):
        A = 0.0
        B = 0.0
        for g in range(n):
            if l1[g] <= theta:
                K[g] = 0
                continue
            if theta > 0.0:
                K[g] = _group_level(&X[g, 0], m, theta, v, vt, &S[g])
            A += S[g] / K[g]
            B += 1.0 / K[g]
        theta_new = (A - C) / B
        if theta_new <= theta:
            theta = theta_new
            break
        theta = theta_new
    theta = _refine_theta(n, K, S, C, theta)
    for g in range(n):
        if K[g] > 0:
            _write_clipped(&X[g, 0], &out[g, 0], m, (S[g] - theta) / K[g])
        else:
            _write_clipped(&X[g, 0], &out[g, 0], m, 0.0)
    free(amax); free(l1); free(S); free(K); free(v); free(vt)
    theta_out[0] = theta
    return 0


def l1inf_ball_simple(const floating[:, ::1] X, floating[:, ::1] out, double radius):
    """Reference kernel (Newton from 0, full Condat per group per step); returns theta."""
    cdef double theta = 0.0
    cdef int status
    with nogil:
        status = _l1inf_simple(X, out, radius, &theta)
    if status != 0:
        raise MemoryError("could not allocate the work buffers of the l1,inf-ball projection")
    return theta


cdef double _estimate_theta(const floating[:, ::1] X, const double* amax, const double* l1,
                            double C, Py_ssize_t q, double* samp, double* wg,
                            Py_ssize_t* kk) noexcept nogil:
    """Estimate theta* from a column subsample of every group.

    Group g's mass function T_g(mu) = sum_j max(y_gj - mu, 0) is approximated by its maximum
    plus w_g times that of q strided entries, w_g = (||y_g||_1 - max_g) / (sample sum), so that
    a group dies exactly at theta = ||y_g||_1 as in the full problem. The approximate F is
    solved exactly by Newton from the left (O(n) per step, pointers only move forward).
    """
    cdef Py_ssize_t n = X.shape[0], m = X.shape[1], g, i, j, k, it
    cdef double* z
    cdef double y, tot, theta = 0.0, theta_new, A, B, base, w, Pk, den
    for g in range(n):
        z = samp + g * q
        tot = 0.0
        for i in range(q):
            y = fabs(<double> X[g, (i * m) // q])
            tot += y
            j = i
            while j > 0 and z[j - 1] < y:
                z[j] = z[j - 1]
                j -= 1
            z[j] = y
        for i in range(1, q):
            z[i] += z[i - 1]
        wg[g] = (l1[g] - amax[g]) / tot if tot > 0.0 else 0.0
        kk[g] = 0
    # z holds prefix sums: P_k = z[k - 1]; sample k + 1 = P_{k+1} - P_k.
    for it in range(10000):
        A = 0.0
        B = 0.0
        for g in range(n):
            if l1[g] <= theta:
                continue
            z = samp + g * q
            k = kk[g]
            base = amax[g]
            w = wg[g]
            Pk = z[k - 1] if k > 0 else 0.0
            while k < q and base + w * Pk - (1.0 + w * k) * (z[k] - Pk) < theta:
                Pk = z[k]
                k += 1
            kk[g] = k
            den = 1.0 + w * k
            A += (base + w * Pk) / den
            B += 1.0 / den
        if B == 0.0:
            break
        theta_new = (A - C) / B
        if theta_new <= theta:
            break
        theta = theta_new
    return theta


cdef inline double _est_level(const double* z, Py_ssize_t q, double base, double w, double l1g,
                              Py_ssize_t* kp, double theta) noexcept nogil:
    """Level of the subsample model of one group at theta (pointer kp only moves forward)."""
    cdef Py_ssize_t k = kp[0]
    cdef double Pk, mu
    if theta >= l1g:
        return 0.0
    Pk = z[k - 1] if k > 0 else 0.0
    while k < q and base + w * Pk - (1.0 + w * k) * (z[k] - Pk) < theta:
        Pk = z[k]
        k += 1
    kp[0] = k
    mu = (base + w * Pk - theta) / (1.0 + w * k)
    return mu if mu > 0.0 else 0.0


cdef Py_ssize_t _collect_above(const floating* x, Py_ssize_t m, double L, double* seg,
                               double* s_out) noexcept nogil:
    """seg[0:k] = the entries of |x| above L (branch-free), *s_out their sum; returns k."""
    cdef Py_ssize_t j, k = 0
    cdef double y, s = 0.0
    cdef bint above
    for j in range(m):
        y = fabs(<double> x[j])
        above = y > L
        seg[k] = y
        k += above
        s += y if above else 0.0
    s_out[0] = s
    return k


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


cdef void _update_down(double* seg, Py_ssize_t* k_io, double* s_io, double theta) noexcept nogil:
    """theta decreased (level rises): prune the clipped prefix seg[0:k] until stable."""
    cdef Py_ssize_t k = k_io[0], j, kk
    cdef double S = s_io[0], mu, y
    cdef bint changed = True
    while changed and k > 0:
        changed = False
        mu = (S - theta) / k
        j = 0
        while j < k:
            y = seg[j]
            if y <= mu and k > 1:
                # move to the rest (swap with the last clipped entry)
                k -= 1
                seg[j] = seg[k]
                seg[k] = y
                S -= y
                mu = (S - theta) / k
                changed = True
            else:
                j += 1
    k_io[0] = k
    s_io[0] = S


cdef void _update_up(double* seg, Py_ssize_t ln, Py_ssize_t* k_io, double* s_io,
                     double theta) noexcept nogil:
    """theta increased (level falls): admit entries of the rest seg[k:ln], prune the new ones."""
    cdef Py_ssize_t k = k_io[0], k0 = k_io[0], j, first
    cdef double S = s_io[0], mu, y
    cdef bint changed
    if k > 0:
        mu = (S - theta) / k
    else:
        mu = -1.0
    for j in range(k0, ln):
        y = seg[j]
        if y > mu:
            seg[j] = seg[k]
            seg[k] = y
            k += 1
            S += y
            mu = (S - theta) / k
    # prune the newly admitted entries seg[k0:k] (mu only rises, see Condat 2016)
    changed = True
    while changed and k > k0:
        changed = False
        mu = (S - theta) / k
        j = k0
        while j < k:
            y = seg[j]
            if y <= mu and k > 1:
                k -= 1
                seg[j] = seg[k]
                seg[k] = y
                S -= y
                mu = (S - theta) / k
                changed = True
            else:
                j += 1
    k_io[0] = k
    s_io[0] = S


cdef double _dbg[16]
from posix.time cimport clock_gettime, timespec, CLOCK_MONOTONIC

cdef inline double _now() noexcept nogil:
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec + 1e-9 * ts.tv_nsec


def _debug_info():
    """Diagnostics of the last fast call (single-threaded benchmarking only)."""
    return [_dbg[i] for i in range(16)]


cdef int _l1inf_fast(const floating[:, ::1] X, floating[:, ::1] out, double C,
                     double* theta_out) noexcept nogil:
    """Estimate theta* from a subsample, evaluate exactly at theta_0 >= theta* storing each
    surviving group's clipped set, then Newton from the left on the stored entries only."""
    cdef Py_ssize_t n = X.shape[0], m = X.shape[1], g, j, k, q, it, attempt, cap = 0, used
    cdef double* amax = NULL
    cdef double* l1 = NULL
    cdef double* S = NULL
    cdef Py_ssize_t* K = NULL
    cdef Py_ssize_t* off = NULL
    cdef Py_ssize_t* ln = NULL
    cdef double* v = NULL
    cdef double* vt = NULL
    cdef double* store = NULL
    cdef double* samp = NULL
    cdef double* cg = NULL
    cdef Py_ssize_t* kp = NULL
    cdef double L, theta_hi
    cdef double total = 0.0, a, s, y, A, B, F0, theta0, theta, theta_new, maxl1 = 0.0, U, W, mu0
    cdef int status = 0
    _dbg[7] = _now()
    amax = <double*> malloc(n * sizeof(double))
    l1 = <double*> malloc(n * sizeof(double))
    S = <double*> malloc(n * sizeof(double))
    K = <Py_ssize_t*> malloc(n * sizeof(Py_ssize_t))
    off = <Py_ssize_t*> malloc(n * sizeof(Py_ssize_t))
    ln = <Py_ssize_t*> malloc(n * sizeof(Py_ssize_t))
    v = <double*> malloc(m * sizeof(double))
    vt = <double*> malloc(m * sizeof(double))
    if (amax == NULL or l1 == NULL or S == NULL or K == NULL or off == NULL or ln == NULL
            or v == NULL or vt == NULL):
        status = -1
    if status == 0:
        for g in range(n):
            a = 0.0
            s = 0.0
            for j in range(m):
                y = fabs(<double> X[g, j])
                s += y
                if y > a:
                    a = y
            amax[g] = a
            l1[g] = s
            total += a
            if s > maxl1:
                maxl1 = s
        if total <= C:
            for g in range(n):
                memcpy(&out[g, 0], &X[g, 0], m * sizeof(floating))
            theta_out[0] = 0.0
        else:
            status = 1
    _dbg[8] = _now()
    if status == 1:
        status = 0
        # (1) starting point from a subsample
        q = m // 8
        if q > 32:
            q = 32
        if q < 1:
            q = 1
        samp = <double*> malloc(n * q * sizeof(double))
        cg = <double*> malloc(n * sizeof(double))
        kp = <Py_ssize_t*> malloc(n * sizeof(Py_ssize_t))
        if samp == NULL or cg == NULL or kp == NULL:
            status = -1
        else:
            theta0 = _estimate_theta(X, amax, l1, C, q, samp, cg, kp) * 1.05
            _dbg[0] = theta0
            _dbg[9] = _now()
    if status == 0 and total > C:
        if theta0 >= maxl1:
            theta0 = maxl1
        # (2) exact evaluation at theta0, storing clipped sets; raise theta0 until F <= C
        for attempt in range(4):
            theta_hi = 1.3 * theta0
            used = 0
            A = 0.0
            B = 0.0
            F0 = 0.0
            for g in range(n):
                ln[g] = 0
                K[g] = 0
                if l1[g] < theta0 or l1[g] == 0.0:
                    continue
                if _store_reserve(&store, &cap, used + m) != 0:
                    status = -1
                    break
                # Candidates: entries above the model's level at theta_hi > theta0. When the
                # level at theta0 is above that bound (T_g(L) >= theta0) the pruned candidate
                # set is the exact clipped set; otherwise fall back to Condat on the row.
                L = _est_level(samp + g * q, q, amax[g], cg[g], l1[g], &kp[g], theta_hi)
                k = _collect_above(&X[g, 0], m, L, store + used, &S[g])
                if k > 0 and S[g] - k * L >= theta0:
                    _update_down(store + used, &k, &S[g], theta0)
                else:
                    k = _group_level(&X[g, 0], m, theta0, store + used, vt, &S[g])
                off[g] = used
                ln[g] = k
                K[g] = k
                used += k
                mu0 = (S[g] - theta0) / k
                F0 += mu0 if mu0 > 0.0 else 0.0
                A += S[g] / k
                B += 1.0 / k
            _dbg[1] = attempt
            _dbg[2] = used
            if status != 0 or F0 <= C * (1.0 + 1e-12) or attempt == 3:
                break
            # F(theta0) > C: theta0 < theta*. Each level is convex in theta and vanishes at
            # ||y_g||_1, so F(theta) <= U(theta) = sum_g mu_g(theta0) (l1_g - theta) / (l1_g - theta0);
            # the root of U = C (Newton from the left, finite) is a new upper bound.
            theta = theta0
            for it in range(1000):
                U = 0.0
                W = 0.0
                for g in range(n):
                    if ln[g] == 0 or l1[g] <= theta:
                        continue
                    mu0 = (S[g] - theta0) / K[g]
                    U += mu0 * (l1[g] - theta) / (l1[g] - theta0)
                    W += mu0 / (l1[g] - theta0)
                if W == 0.0:
                    break
                theta_new = theta + (U - C) / W
                if theta_new <= theta:
                    break
                theta = theta_new
            if attempt == 2 or theta <= theta0:
                theta = maxl1
            theta0 = theta
        _dbg[10] = _now()
        if status == 0:
            # (3) Newton from the left: theta_1 from the tangent at theta0 is <= theta*
            theta = (A - C) / B if B > 0.0 else theta0
            if theta > theta0:
                theta = theta0
            if theta < 0.0:
                theta = 0.0
            # Tighter lower bound: every level is at least (sum of any subset - theta) / size, so
            # F(theta) >= A - theta B + sum over the other groups alive at theta of
            # max(max_g - theta, (l1_g - theta) / m): convex; Newton from the left on it.
            for it in range(10000):
                U = A - theta * B
                W = B
                for g in range(n):
                    if ln[g] != 0 or l1[g] <= theta:
                        continue
                    a = amax[g] - theta
                    s = (l1[g] - theta) / m
                    if a >= s:
                        U += a
                        W += 1.0
                    else:
                        U += s
                        W += 1.0 / m
                if W == 0.0:
                    break
                theta_new = theta + (U - C) / W
                if not theta_new > theta:
                    break
                if theta_new > theta0:
                    theta = theta0
                    break
                theta = theta_new
            # groups that revive below theta0 bring their whole row as candidates
            for g in range(n):
                if ln[g] == 0 and l1[g] > theta:
                    if _store_reserve(&store, &cap, used + m) != 0:
                        status = -1
                        break
                    for j in range(m):
                        store[used + j] = fabs(<double> X[g, j])
                    off[g] = used
                    ln[g] = m
                    K[g] = 0
                    S[g] = 0.0
                    used += m
        _dbg[11] = _now()
        if status == 0:
            for g in range(n):
                if ln[g] > 0 and K[g] > 0 and l1[g] > theta:
                    _update_down(store + off[g], &K[g], &S[g], theta)
            _dbg[12] = _now()
            for it in range(1000):
                A = 0.0
                B = 0.0
                for g in range(n):
                    if ln[g] == 0 or l1[g] <= theta:
                        continue
                    if it > 0 or K[g] == 0:
                        _update_up(store + off[g], ln[g], &K[g], &S[g], theta)
                    A += S[g] / K[g]
                    B += 1.0 / K[g]
                theta_new = (A - C) / B
                _dbg[3] = it
                if theta_new <= theta:
                    theta = theta_new
                    break
                theta = theta_new
            _dbg[4] = used
            _dbg[13] = _now()
            _dbg[5] = theta
            for g in range(n):
                if ln[g] == 0 or l1[g] <= theta:
                    K[g] = 0
            theta = _refine_theta(n, K, S, C, theta)
            for g in range(n):
                if K[g] > 0:
                    _write_clipped(&X[g, 0], &out[g, 0], m, (S[g] - theta) / K[g])
                else:
                    _write_clipped(&X[g, 0], &out[g, 0], m, 0.0)
            theta_out[0] = theta
            _dbg[14] = _now()
    free(amax); free(l1); free(S); free(K); free(off); free(ln); free(v); free(vt); free(store)
    free(samp); free(cg); free(kp)
    return status


def l1inf_ball(const floating[:, ::1] X, floating[:, ::1] out, double radius):
    """Project X (groups = rows) onto {sum_g max_j |X_gj| <= radius}, radius > 0, into out.

    Returns theta, the l1 mass removed from every surviving group (0.0 when X is inside).
    Raises MemoryError if the work buffers cannot be allocated.
    """
    cdef double theta = 0.0
    cdef int status
    with nogil:
        status = _l1inf_fast(X, out, radius, &theta)
    if status != 0:
        raise MemoryError("could not allocate the work buffers of the l1,inf-ball projection")
    return theta


def l1inf_norm(const floating[:, ::1] X):
    """sum_g max_j |X_gj| (rows are the groups), in double."""
    cdef Py_ssize_t g, j
    cdef double s = 0.0, a, y
    with nogil:
        for g in range(X.shape[0]):
            a = 0.0
            for j in range(X.shape[1]):
                y = fabs(<double> X[g, j])
                if y > a:
                    a = y
            s += a
    return s
