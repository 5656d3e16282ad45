# cython: language_level=3
"""Helpers shared by the l1,inf-ball kernel (_l1inf.pyx), its reference (_l1inf_ref.pyx) and the
l1,inf prox (_prox.pyx)."""
from cython cimport floating
from libc.math cimport INFINITY

from skproj._kernels._select cimport clamp_d

cdef extern from "_simd.h":
    void skproj_clip_f32(const float* x, float* o, Py_ssize_t n, double mu) noexcept nogil
    void skproj_clip_f64(const double* x, double* o, Py_ssize_t n, double mu) noexcept nogil
    void skproj_maxsum_f32(const float* x, Py_ssize_t n, double* amax, double* l1) noexcept nogil
    void skproj_maxsum_f64(const double* x, Py_ssize_t n, double* amax, double* l1) noexcept nogil


cdef extern from "_simd_gt.h":
    # Michelot sweeps for one group's level (see _simd_gt.h)
    double skproj_row_level_f32(const float* x, Py_ssize_t m, double theta, double amax, double t,
                                double t_safe, double* s_out, Py_ssize_t* k_out, double* kmin_out,
                                double* rmax_out, Py_ssize_t max_sweeps) noexcept nogil
    double skproj_row_level_f64(const double* x, Py_ssize_t m, double theta, double amax, double t,
                                double t_safe, double* s_out, Py_ssize_t* k_out, double* kmin_out,
                                double* rmax_out, Py_ssize_t max_sweeps) noexcept nogil


cdef inline void max_sum(const floating* x, Py_ssize_t m, double* amax, double* l1) noexcept nogil:
    """max_j |x_j| and sum_j |x_j| in double (skproj_maxsum_*)."""
    if floating is float:
        skproj_maxsum_f32(x, m, amax, l1)
    else:
        skproj_maxsum_f64(x, m, amax, l1)


cdef inline double level_lb(double amax, double l1, Py_ssize_t m, double theta) noexcept nogil:
    """max(max_g - theta, (l1_g - theta) / m): a lower bound of the level at mass theta of a group
    of m entries with maximum amax and l1 norm l1 (any subset V gives (sum_V - theta) / |V| <= the
    level: here the largest entry alone, and the whole group)."""
    return clamp_d((l1 - theta) / m, amax - theta, INFINITY)


cdef inline double refine_theta(Py_ssize_t n, const Py_ssize_t* K, const double* S, double C,
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


cdef inline double level_scale(Py_ssize_t n, const Py_ssize_t* K, const double* S, double C,
                               double theta) noexcept nogil:
    """The factor applied to every level before the output is written: C / sum_g mu_g when the
    positive levels mu_g = (S_g - theta) / k_g sum to more than C, or when they carry the
    rounding of theta (theta sum_g 1 / k_g > 256 C), else 1.

    When the radius is much smaller than the norm, theta is close to the clipped sums and
    S_g - theta keeps only the bits of theta's spacing: the levels carry a relative error of
    up to about ulp(theta) / (S_g - theta) (1e-8 at radius / norm = 1e-9, 2e-5 at 1e-12), which
    refine_theta cannot remove (theta cannot be represented more closely). Scaling the levels
    to sum to C keeps the result in the ball and on its boundary (exact for one group; as the
    l1 and l1,2 projections do). Below theta sum_g 1 / k_g = 256 C the error is under about
    6e-14 relative and the levels are left as they are. They are scaled up by at most 1e-3:
    further short, the radius is below the rounding of the clipped sums themselves (radius /
    norm under about 1e-16), where the levels carry no reliable digit and the written ones
    need not add up as these do.
    """
    cdef Py_ssize_t g
    cdef double tot = 0.0, W = 0.0, mu
    for g in range(n):
        if K[g] > 0:
            mu = (S[g] - theta) / K[g]
            if mu > 0.0:
                tot += mu
                W += 1.0 / K[g]
    if tot > C or (tot >= C * (1.0 - 1e-3) and theta * W > 256.0 * C):
        return C / tot
    return 1.0


cdef inline void write_clipped(const floating* x, floating* out, Py_ssize_t m,
                               double mu) noexcept nogil:
    """out = sign(x) * min(|x|, mu) (a clamp to [-mu, mu]; zeros when mu <= 0; skproj_clip_*)."""
    if floating is float:
        skproj_clip_f32(x, out, m, mu)
    else:
        skproj_clip_f64(x, out, m, mu)
