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
from libc.stdlib cimport malloc, free
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


def l1inf_ball(const floating[:, ::1] X, floating[:, ::1] out, double radius):
    """Project X (groups = rows) onto {sum_g max_j |X_gj| <= radius}, radius > 0, into out.

    Returns theta, the l1 mass removed from every surviving group (0.0 when X is inside).
    Raises MemoryError if the work buffers cannot be allocated.
    """
    return l1inf_ball_simple(X, out, radius)


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
