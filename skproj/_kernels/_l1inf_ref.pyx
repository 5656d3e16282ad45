# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Reference kernel of the l1,inf-ball projection (rows are the groups), for the tests and the
benchmark: Newton from theta = 0 (Chu et al., ICML 2020) with an exact level of every group at
every step by Condat's algorithm (Condat, Math. Program. 2016). The problem and the notation
are those of _l1inf.pyx, whose fast kernel must agree with this one to rounding.
"""
from cython cimport floating
from libc.stdlib cimport malloc, free
from libc.math cimport fabs
from libc.string cimport memcpy

from skproj._kernels._l1inf_common cimport level_scale, refine_theta, write_clipped
from skproj._kernels._simplex cimport condat_active_set


cdef Py_ssize_t _max_ties(const floating* x, Py_ssize_t m, double* amax, double* l1) noexcept nogil:
    """amax = max_j |x_j| and l1 = sum_j |x_j|; returns the number of entries equal to amax
    (m when x == 0)."""
    cdef Py_ssize_t j, k = 0
    cdef double a = 0.0, s = 0.0, y
    for j in range(m):
        y = fabs(<double> x[j])
        s += y
        if y > a:
            a = y
            k = 1
        elif y == a:
            k += 1
    amax[0] = a
    l1[0] = s
    return k


cdef Py_ssize_t _group_level(const floating* x, Py_ssize_t m, double theta, double* v,
                             double* vt, double* s_out) noexcept nogil:
    """Clipped set of |x[0:m]| at mass theta (0 < theta < ||x||_1), by Condat's algorithm.

    On return v[0:k] holds the clipped entries (those > the level mu), *s_out their sum, and
    mu = (*s_out - theta) / k. vt is scratch of length m. Returns k >= 1.
    """
    cdef Py_ssize_t nv, j
    cdef double rho = 0.0, y, s
    nv = condat_active_set(x, m, theta, True, v, vt, &rho)
    if nv == 0:
        # theta below the resolution of the largest entries (max - theta rounds to max):
        # the clipped set is the set of maxima.
        nv = _max_ties(x, m, &rho, &y)
        for j in range(nv):
            v[j] = rho
    s = 0.0
    for j in range(nv):
        s += v[j]
    s_out[0] = s
    return nv


cdef int _l1inf_simple(const floating[:, ::1] X, floating[:, ::1] out, double C,
                       double* theta_out) noexcept nogil:
    """Newton from theta = 0 with a full Condat pass per group and iteration (reference kernel)."""
    cdef Py_ssize_t n = X.shape[0], m = X.shape[1], g, it
    cdef double* amax = NULL
    cdef double* l1 = NULL
    cdef double* S = NULL
    cdef Py_ssize_t* K = NULL
    cdef double* v = NULL
    cdef double* vt = NULL
    cdef double total = 0.0, A, B, theta, theta_new, scale
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
        K[g] = _max_ties(&X[g, 0], m, &amax[g], &l1[g])
        S[g] = K[g] * amax[g]
        total += amax[g]
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
    theta = refine_theta(n, K, S, C, theta)
    scale = level_scale(n, K, S, C, theta)
    for g in range(n):
        if K[g] > 0:
            write_clipped(&X[g, 0], &out[g, 0], m, (S[g] - theta) / K[g] * scale)
        else:
            write_clipped(&X[g, 0], &out[g, 0], m, 0.0)
    free(amax); free(l1); free(S); free(K); free(v); free(vt)
    theta_out[0] = theta
    return 0


def l1inf_ball_reference(const floating[:, ::1] X, floating[:, ::1] out, double radius):
    """Project X (groups = rows) onto {sum_g max_j |X_gj| <= radius}, radius > 0, into out, by
    the slow reference method; returns theta. Raises MemoryError if the work buffers cannot be
    allocated."""
    cdef double theta = 0.0
    cdef int status
    with nogil:
        status = _l1inf_simple(X, out, radius, &theta)
    if status != 0:
        raise MemoryError("could not allocate the work buffers of the l1,inf-ball reference kernel")
    return theta
