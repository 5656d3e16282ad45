# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Proximal-operator kernels: soft thresholding, group soft thresholding, prox of the l1,inf norm,
and the weighted group-lasso / group-MCP proximal operators (Newton on one scalar per group).

No validation happens here: callers pass C-contiguous float32/float64 buffers (rows are the
groups), finite thresholds >= 0, positive weights, and output buffers of the input's shape.
Arithmetic is done in double; results are written in the input's precision.
"""
from cython cimport floating
from libc.math cimport fabs, sqrt, isfinite

from skproj._kernels._simplex cimport l2_norm, simplex_threshold


def soft_threshold(const floating[::1] x, floating[::1] out, double c):
    """out_i = sign(x_i) max(|x_i| - c, 0)."""
    cdef Py_ssize_t i
    cdef double a
    with nogil:
        for i in range(x.shape[0]):
            a = fabs(<double> x[i]) - c
            if a <= 0.0:
                out[i] = 0.0
            elif x[i] > 0:
                out[i] = <floating> a
            else:
                out[i] = <floating> (-a)


def group_soft_threshold(const floating[:, ::1] X, floating[:, ::1] out, double c):
    """Row g of out = max(0, 1 - c / ||X_g||_2) X_g (rows are the groups)."""
    cdef Py_ssize_t n = X.shape[0], m = X.shape[1], i, j
    cdef double norm, scale
    with nogil:
        for i in range(n):
            norm = l2_norm(&X[i, 0], m) if m > 0 else 0.0
            if norm <= c:
                scale = 0.0
            else:
                scale = 1.0 - c / norm
            for j in range(m):
                out[i, j] = <floating> (scale * X[i, j])


def l1inf_prox(const floating[:, ::1] X, floating[:, ::1] out, double c):
    """prox of c * sum_g max_j |X_gj| (rows are the groups), c > 0, by Moreau's identity.

    Row g of the result is X_g - P_g where P_g is the projection of X_g onto the l1 ball of
    radius c: zero when ||X_g||_1 <= c, otherwise X_g clipped to [-tau_g, tau_g] where tau_g is
    the l1-ball threshold (Condat's algorithm). Raises MemoryError if a work buffer fails.
    """
    cdef Py_ssize_t n = X.shape[0], m = X.shape[1], i, j
    cdef double s, tau, a
    cdef int status = 0
    with nogil:
        for i in range(n):
            s = 0.0
            for j in range(m):
                s += fabs(<double> X[i, j])
            if s <= c:
                for j in range(m):
                    out[i, j] = 0.0
                continue
            status = simplex_threshold(&X[i, 0], m, c, True, &tau)
            if status != 0:
                break
            for j in range(m):
                a = <double> X[i, j]
                if a > tau:
                    out[i, j] = <floating> tau
                elif a < -tau:
                    out[i, j] = <floating> (-tau)
                else:
                    out[i, j] = X[i, j]
    if status != 0:
        raise MemoryError("could not allocate the work buffers of the l1,inf prox")


cdef inline double _weighted_norm(const floating* z, const floating* d, Py_ssize_t m) noexcept nogil:
    """||d * z||_2 in double, rescaled by the largest |d_i z_i| when the plain sum under/overflows."""
    cdef Py_ssize_t j
    cdef double s = 0.0, p, pmax = 0.0
    for j in range(m):
        p = (<double> d[j]) * z[j]
        s += p * p
    if 1e-280 < s < 1e280:
        return sqrt(s)
    for j in range(m):
        p = fabs((<double> d[j]) * z[j])
        if p > pmax:
            pmax = p
    if pmax == 0.0 or not isfinite(pmax):
        return pmax
    s = 0.0
    for j in range(m):
        p = (<double> d[j]) * z[j] / pmax
        s += p * p
    return pmax * sqrt(s)


cdef inline double _secular_root(const floating* z, const floating* d, Py_ssize_t m, double c,
                                 double inv_gamma, double t, double tol, int max_iter,
                                 int* converged) noexcept nogil:
    """Root t > 0 of S(t) = sum_i (d_i z_i / (a_i t + c))^2 = 1 with a_i = d_i - inv_gamma > 0.

    Newton's method on g(t) = S(t)^(-1/2) = 1. g is a weighted power mean of exponent -2 of the
    affine functions a_i t + c, hence concave and increasing: started left of the root (S(t) >= 1)
    the Newton iterates increase monotonically to it, and the iteration is exact in one step when
    all a_i are equal. Stops when the relative increase of t is <= tol, when t stops increasing
    (rounding), or after max_iter steps (then converged[0] = 0).
    """
    cdef Py_ssize_t j
    cdef int it
    cdef double S, dS, r, u, a, step, t_new
    converged[0] = 0
    for it in range(max_iter):
        S = 0.0
        dS = 0.0
        for j in range(m):
            a = (<double> d[j]) - inv_gamma
            u = a * t + c
            r = (<double> d[j]) * z[j] / u
            r = r * r
            S += r
            dS += r * a / u
        if S <= 1.0 or dS <= 0.0 or not isfinite(S):
            # at (or, by rounding, past) the root
            converged[0] = 1
            break
        # t+ = t + (1 - g) / g' with g = S^(-1/2), g' = S^(-3/2) * dS  (dS = -S'/2)
        step = (sqrt(S) - 1.0) * S / dS
        t_new = t + step
        if not (t_new > t):
            converged[0] = 1
            break
        if step <= tol * t_new:
            t = t_new
            converged[0] = 1
            break
        t = t_new
    return t


def weighted_group_prox(const floating[:, ::1] Z, const floating[:, ::1] D, const double[::1] c,
                        double inv_gamma, floating[:, ::1] out, double tol, int max_iter):
    """Weighted prox of the group lasso (inv_gamma = 0) or group MCP (inv_gamma = 1/gamma > 0).

    Row g: argmin_x 0.5 sum_i d_i (x_i - z_i)^2 + P_g(||x||_2) with P_g(t) = c_g t (group lasso)
    or the MCP c_g t - t^2 inv_gamma / 2 for t <= c_g / inv_gamma, c_g^2 / (2 inv_gamma) beyond
    (requires d_i > inv_gamma). Solution: 0 if ||d z|| <= c_g; z if c_g = 0 or (MCP)
    ||z|| * inv_gamma >= c_g; otherwise x_i = d_i t z_i / ((d_i - inv_gamma) t + c_g) with
    t = ||x||_2 the root found by `_secular_root` from t0 = (||d z|| - c_g) / max_i(d_i - inv_gamma).

    Returns the number of groups whose Newton iteration hit max_iter, or -1 when ||d z||
    overflows double precision for some group (then out is incomplete).
    """
    cdef Py_ssize_t n = Z.shape[0], m = Z.shape[1], i, j
    cdef double cg, dz, amax, a, t, u
    cdef int conv
    cdef Py_ssize_t not_converged = 0
    cdef int overflow = 0
    with nogil:
        for i in range(n):
            cg = c[i]
            if cg == 0.0 or m == 0:
                for j in range(m):
                    out[i, j] = Z[i, j]
                continue
            dz = _weighted_norm(&Z[i, 0], &D[i, 0], m)
            if not isfinite(dz):
                overflow = 1
                break
            if dz <= cg:
                for j in range(m):
                    out[i, j] = 0.0
                continue
            if inv_gamma > 0.0 and l2_norm(&Z[i, 0], m) * inv_gamma >= cg:
                for j in range(m):
                    out[i, j] = Z[i, j]
                continue
            amax = 0.0
            for j in range(m):
                a = (<double> D[i, j]) - inv_gamma
                if a > amax:
                    amax = a
            t = _secular_root(&Z[i, 0], &D[i, 0], m, cg, inv_gamma, (dz - cg) / amax, tol, max_iter, &conv)
            if not conv:
                not_converged += 1
            for j in range(m):
                a = (<double> D[i, j]) - inv_gamma
                u = a * t + cg
                # t * (d z / u): the ratio first, so that tiny t and z do not underflow
                out[i, j] = <floating> (t * ((<double> D[i, j]) * Z[i, j] / u))
    if overflow:
        return -1
    return not_converged
