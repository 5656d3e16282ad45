# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Proximal-operator kernels: soft thresholding, group soft thresholding, prox of the l1,inf norm,
and the weighted group-lasso / group-MCP proximal operators (Newton on one scalar per group).

No validation happens here: callers pass C-contiguous float32/float64 buffers (rows are the
groups), finite thresholds >= 0, positive weights, and output buffers of the input's shape.
Arithmetic is done in double; results are written in the input's precision.
"""
from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport fabs, frexp, isfinite, ldexp, sqrt

from skproj._kernels._l1inf_common cimport (level_lb, max_sum, skproj_row_level_f32,
                                           skproj_row_level_f64, write_clipped)
from skproj._kernels._parallel cimport n_threads
from skproj._kernels._simplex cimport l2_norm, scale_row, simplex_threshold


cdef extern from "_simd_prox.h":
    # the per-group sums of the weighted prox, vectorised (SSE2 / AVX2 on x86-64); see _simd_prox.h
    void skproj_secular_f32(const float* z, const float* d, Py_ssize_t m, double sc, double ig,
                            double c, double t, double* S, double* dS) noexcept nogil
    void skproj_secular_f64(const double* z, const double* d, Py_ssize_t m, double sc, double ig,
                            double c, double t, double* S, double* dS) noexcept nogil
    double skproj_wnorm2_f32(const float* z, const float* d, Py_ssize_t m, double sc) noexcept nogil
    double skproj_wnorm2_f64(const double* z, const double* d, Py_ssize_t m, double sc) noexcept nogil
    void skproj_wprox_out_f32(const float* z, const float* d, float* o, Py_ssize_t m, double sc,
                              double ig, double c, double t, double unsc) noexcept nogil
    void skproj_wprox_out_f64(const double* z, const double* d, double* o, Py_ssize_t m, double sc,
                              double ig, double c, double t, double unsc) noexcept nogil
    int skproj_simd_level() noexcept nogil
    void skproj_set_simd_level(int level) noexcept nogil


def simd_level():
    """The vector instructions of the weighted prox sums: 0 plain C, 1 SSE2, 2 AVX2."""
    return skproj_simd_level()


def _set_simd_level(int level):
    """Cap the vector instructions of this module's loops at level (tests; -1: the CPU's best)."""
    skproj_set_simd_level(level)


def soft_threshold(const floating[::1] x, floating[::1] out, double c):
    """out_i = sign(x_i) max(|x_i| - c, 0); c = 0 copies x (-0.0 stays -0.0)."""
    cdef Py_ssize_t i
    cdef double a
    with nogil:
        for i in range(x.shape[0]):
            a = fabs(<double> x[i]) - c
            if c == 0.0:
                out[i] = x[i]
            elif a <= 0.0:
                out[i] = 0.0
            elif x[i] > 0:
                out[i] = <floating> a
            else:
                out[i] = <floating> (-a)


def group_soft_threshold(const floating[:, ::1] X, floating[:, ::1] out, double c):
    """Row g of out = max(0, 1 - c / ||X_g||_2) X_g (rows are the groups); rows in parallel
    (OpenMP) on large inputs. Returns the number of rows whose l2 norm overflows double (their
    rows of out are then meaningless; float64 entries near the top of its range)."""
    cdef Py_ssize_t n = X.shape[0], m = X.shape[1], i
    cdef Py_ssize_t overflow = 0
    cdef double nrm
    cdef int nt = n_threads(n * m)
    with nogil:
        for i in prange(n, schedule='static', num_threads=nt):
            nrm = l2_norm(&X[i, 0], m)
            overflow += not isfinite(nrm)
            scale_row(&X[i, 0], &out[i, 0], m, nrm, c, 1.0)
    return overflow


# Michelot sweeps of the l1,inf prox's rows before Condat's algorithm takes over (a bound on the
# time of rows that would need many)
cdef Py_ssize_t PROX_SWEEPS = 32


def _set_prox_sweeps(Py_ssize_t n):
    """Set the l1,inf prox's sweep cap before Condat's algorithm (tests; n >= 1; default 32)."""
    global PROX_SWEEPS
    PROX_SWEEPS = n


cdef int _l1inf_prox_row(const floating* x, floating* o, Py_ssize_t m, double c) noexcept nogil:
    """One row of :func:`l1inf_prox`: 0, 1 if its l1 norm overflows double (the row is then not
    written), or -1 if a work buffer cannot be allocated.

    The row's l1-ball threshold tau (sum_j max(|x_j| - tau, 0) = c) is the level of the l1,inf
    projection's groups at mass c, found by the same routine (skproj_row_level_*: Michelot sweeps
    over the row, each one vectorised pass) from the lower bound max(max_j |x_j| - c,
    (||x||_1 - c) / m); after PROX_SWEEPS sweeps, by Condat's algorithm. The output, x clipped to
    [-tau, tau], is written by the same clamp.
    """
    cdef double amax = 0.0, s = 0.0, t, tau, sk, kmin, rmax
    cdef Py_ssize_t k
    max_sum(x, m, &amax, &s)
    if not isfinite(s):
        return 1
    if s <= c:
        write_clipped(x, o, m, 0.0)
        return 0
    t = level_lb(amax, s, m, c)
    if floating is float:
        tau = skproj_row_level_f32(x, m, c, amax, t, t, &sk, &k, &kmin, &rmax, PROX_SWEEPS)
    else:
        tau = skproj_row_level_f64(x, m, c, amax, t, t, &sk, &k, &kmin, &rmax, PROX_SWEEPS)
    if k == 0 and simplex_threshold(x, m, c, True, &tau) != 0:
        return -1
    write_clipped(x, o, m, tau)
    return 0


def l1inf_prox(const floating[:, ::1] X, floating[:, ::1] out, double c):
    """prox of c * sum_g max_j |X_gj| (rows are the groups), c > 0, by Moreau's identity.

    Row g of the result is X_g - P_g where P_g is the projection of X_g onto the l1 ball of
    radius c: zero when ||X_g||_1 <= c, otherwise X_g clipped to [-tau_g, tau_g] where tau_g is
    the l1-ball threshold (Michelot's algorithm from a lower bound, as the l1,inf projection
    finds its levels; Condat's algorithm for a row that needs many sweeps). Rows run in parallel
    (OpenMP) on large inputs. Returns the number of rows whose l1 norm overflows double (their
    rows of out are then meaningless; float64 entries near the top of its range). Raises
    MemoryError if a work buffer fails.
    """
    cdef Py_ssize_t n = X.shape[0], m = X.shape[1], i
    cdef Py_ssize_t failed = 0, overflow = 0
    cdef int status
    cdef int nt = n_threads(n * m)
    with nogil:
        for i in prange(n, schedule='static', num_threads=nt):
            status = _l1inf_prox_row(&X[i, 0], &out[i, 0], m, c)
            failed += status == -1
            overflow += status == 1
    if failed:
        raise MemoryError("could not allocate the work buffers of the l1,inf prox")
    return overflow


cdef inline double _weighted_norm(const floating* z, const floating* d, Py_ssize_t m,
                                  double sc) noexcept nogil:
    """||d * z * sc||_2 in double, rescaled by the largest |d_i z_i sc| when the plain sum
    under/overflows."""
    cdef Py_ssize_t j
    cdef double s, p, pmax = 0.0
    if floating is float:
        s = skproj_wnorm2_f32(z, d, m, sc)
    else:
        s = skproj_wnorm2_f64(z, d, m, sc)
    if 1e-280 < s < 1e280:
        return sqrt(s)
    for j in range(m):
        p = fabs((<double> d[j]) * (z[j] * sc))
        if p > pmax:
            pmax = p
    if pmax == 0.0 or not isfinite(pmax):
        return pmax
    s = 0.0
    for j in range(m):
        p = (<double> d[j]) * (z[j] * sc) / pmax
        s += p * p
    return pmax * sqrt(s)


cdef inline double _secular_root(const floating* z, const floating* d, Py_ssize_t m, double sc,
                                 double c, double inv_gamma, double t, double tol, int max_iter,
                                 int* converged) noexcept nogil:
    """Root t > 0 of S(t) = sum_i (d_i z_i sc / (a_i t + c))^2 = 1 with a_i = d_i - inv_gamma > 0.

    Newton's method on g(t) = S(t)^(-1/2) = 1. g is a weighted power mean of exponent -2 of the
    affine functions a_i t + c, hence concave and increasing: started left of the root (S(t) >= 1)
    the Newton iterates increase monotonically to it, and the iteration is exact in one step when
    all a_i are equal. Stops when the relative increase of t is <= tol, when t stops increasing
    (rounding), or after max_iter steps (then converged[0] = 0).
    """
    cdef int it
    cdef double S, dS, step, t_new
    converged[0] = 0
    for it in range(max_iter):
        # S = sum r_i^2 with r_i = d_i z_i / u_i, u_i = a_i t + c; dS = sum r_i^2 a_i / u_i
        # (one reciprocal per entry; vectorised in _simd_prox.h)
        if floating is float:
            skproj_secular_f32(z, d, m, sc, inv_gamma, c, t, &S, &dS)
        else:
            skproj_secular_f64(z, d, m, sc, inv_gamma, c, t, &S, &dS)
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


cdef inline double _scaled_l2_norm(const floating* z, Py_ssize_t m, double sc) noexcept nogil:
    """||z||_2 * sc (sc a power of two) in double, finite when the scaled norm is even if ||z||_2
    overflows (entries near the largest double): then the largest |z_j| is scaled first."""
    cdef Py_ssize_t j
    cdef double nz = l2_norm(z, m), a, amax = 0.0, s = 0.0
    if isfinite(nz):
        return nz * sc
    for j in range(m):
        a = fabs(<double> z[j])
        if a > amax:
            amax = a
    for j in range(m):
        a = (<double> z[j]) / amax
        s += a * a
    return (amax * sc) * sqrt(s)


cdef int _weighted_group_prox_row(const floating* z, const floating* d, floating* o, Py_ssize_t m,
                                  double cg, double inv_gamma, double tol, int max_iter) noexcept nogil:
    """One group of :func:`weighted_group_prox`: 0 done, 1 Newton hit max_iter, 2 ||d z|| overflows.

    The prox is positively homogeneous (z and c_g scaled by s scale x by s), and a power of two
    scales exactly: a group with ||d z||_2 below 2^-300 or above 2^300 is solved as z 2^-e,
    c_g 2^-e with ||d z 2^-e||_2 in [0.5, 1), so that no square or reciprocal of the Newton
    iteration underflows or overflows (subnormal z and c_g included); x is scaled back by 2^e.
    (A d z that overflows, or weights so extreme that z 2^-e does, is not covered.)
    """
    cdef Py_ssize_t j
    cdef double dz, amax, a, t, u, sc, unsc
    cdef int conv, e = 0
    if cg == 0.0 or m == 0:
        for j in range(m):
            o[j] = z[j]
        return 0
    sc = 1.0
    unsc = 1.0
    dz = _weighted_norm(z, d, m, 1.0)
    if not isfinite(dz):
        return 2
    if dz > 0.0 and not (dz > 4.9e-91 and dz < 2.0e90):   # outside (2^-300, 2^300)
        frexp(dz, &e)   # dz 2^-e in [0.5, 1)
        e = -1000 if e < -1000 else (1000 if e > 1000 else e)
        sc = ldexp(1.0, -e)
        unsc = ldexp(1.0, e)
        cg = cg * sc
        dz = _weighted_norm(z, d, m, sc)
    if dz <= cg:
        for j in range(m):
            o[j] = 0.0
        return 0
    if inv_gamma > 0.0 and _scaled_l2_norm(z, m, sc) * inv_gamma >= cg:
        for j in range(m):
            o[j] = z[j]
        return 0
    amax = 0.0
    for j in range(m):
        a = (<double> d[j]) - inv_gamma
        if a > amax:
            amax = a
    t = _secular_root(z, d, m, sc, cg, inv_gamma, (dz - cg) / amax, tol, max_iter, &conv)
    # o_j = t * (d_j z_j / u_j) with u_j = a_j t + c_g: the ratio first, so that tiny t and z
    # do not underflow (vectorised in _simd_prox.h)
    if floating is float:
        skproj_wprox_out_f32(z, d, o, m, sc, inv_gamma, cg, t, unsc)
    else:
        skproj_wprox_out_f64(z, d, o, m, sc, inv_gamma, cg, t, unsc)
    return 0 if conv else 1


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
    cdef Py_ssize_t n = Z.shape[0], m = Z.shape[1], i
    cdef Py_ssize_t not_converged = 0, overflow = 0
    cdef int code
    cdef int nt = n_threads(n * m * 8)
    with nogil:
        for i in prange(n, schedule='static', num_threads=nt):
            code = _weighted_group_prox_row(&Z[i, 0], &D[i, 0], &out[i, 0], m, c[i], inv_gamma, tol,
                                            max_iter)
            not_converged += code == 1
            overflow += code == 2
    if overflow:
        return -1
    return not_converged
