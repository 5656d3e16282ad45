/* The vector loops of the l1,inf-ball projection's subsample model (skproj/_kernels/_l1inf_model.pxd),
   on the samples of 4 consecutive groups interleaved (entry j of group 4 b + l at 4 (b q + j) + l).
   min, max, comparisons and the per-lane sums (same operations in the same order on every path,
   no fused multiply-add: the kernels are built with -ffp-contract=off, skproj/_kernels/meson.build)
   are exact or identically rounded, so every path gives the same result. */
#ifndef SKPROJ_SIMD_MODEL_H
#define SKPROJ_SIMD_MODEL_H

#include "_simd.h"

/* skproj_sort4_desc: sorts 4 interleaved arrays at once in decreasing order (array l holds
   z[4 i + l], i < q) with a sorting network of nc comparators (ci[c] < cj[c]: the larger of the
   two entries goes to ci[c]); min and max are exact, so every path gives the same result. */
#ifdef SKPROJ_AVX2
SKPROJ_TARGET_AVX2
static void skproj_sort4_desc_avx2(double *z, Py_ssize_t nc, const int *ci, const int *cj) {
    for (Py_ssize_t c = 0; c < nc; c++) {
        __m256d a = _mm256_loadu_pd(z + 4 * ci[c]), b = _mm256_loadu_pd(z + 4 * cj[c]);
        _mm256_storeu_pd(z + 4 * ci[c], _mm256_max_pd(a, b));
        _mm256_storeu_pd(z + 4 * cj[c], _mm256_min_pd(a, b));
    }
}
#endif

static inline void skproj_sort4_desc(double *z, Py_ssize_t nc, const int *ci, const int *cj) {
#ifdef SKPROJ_AVX2
    if (skproj_simd_level() >= 2) {
        skproj_sort4_desc_avx2(z, nc, ci, cj);
        return;
    }
#endif
#ifdef SKPROJ_SSE2
    if (skproj_simd_level() >= 1) {
        for (Py_ssize_t c = 0; c < nc; c++)
            for (int h = 0; h < 4; h += 2) {
                __m128d a = _mm_loadu_pd(z + 4 * ci[c] + h), b = _mm_loadu_pd(z + 4 * cj[c] + h);
                _mm_storeu_pd(z + 4 * ci[c] + h, _mm_max_pd(a, b));
                _mm_storeu_pd(z + 4 * cj[c] + h, _mm_min_pd(a, b));
            }
        return;
    }
#endif
    for (Py_ssize_t c = 0; c < nc; c++)
        for (int l = 0; l < 4; l++) {
            double a = z[4 * ci[c] + l], b = z[4 * cj[c] + l];
            z[4 * ci[c] + l] = a > b ? a : b;
            z[4 * cj[c] + l] = a > b ? b : a;
        }
}


/* skproj_model_eval: one evaluation of the model at theta. Group g (l1[g] > theta; the others
   are skipped) has k_g = #{j < q : tau_j < theta} samples above its level (tau_j = the model's
   mass at its (j + 1)-th largest sample, nondecreasing in j), prefix sum P_k (P[4 (k - 1)] of
   its interleaved block, P_0 = 0), and contributes (amax + w P_k) / (1 + w k) to A and
   1 / (1 + w k) to B (Newton's step is theta = (A - C) / B); kk[g] = k (kk may be NULL). The
   sums are kept per lane (group g in lane g mod 4) and added as (a0 + a1) + (a2 + a3). lv (may be
   NULL) receives every group's model level at theta, max((amax + w P_k - theta) / (1 + w k), 0),
   0 when l1[g] <= theta (as _model_level in _l1inf_model.pxd, with the same operations). With
   bstep > 1 only every bstep-th block of 4 groups is visited (a subsample; kk and lv are then
   written for those groups only). */
#define SKPROJ_MODEL_LANE(l)                                                                   \
    {                                                                                          \
        Py_ssize_t g = g0 + (l), k;                                                            \
        double cnt = 0.0, Pk, den;                                                             \
        if (g < n && l1[g] > theta) {                                                          \
            for (Py_ssize_t j = 0; j < q; j++)                                                 \
                cnt += tb[4 * j + (l)] < theta ? 1.0 : 0.0;                                    \
            k = (Py_ssize_t) cnt;                                                              \
            Pk = k > 0 ? pb[4 * (k - 1) + (l)] : 0.0;                                          \
            den = 1.0 + wg[g] * cnt;                                                           \
            a[l] += (amax[g] + wg[g] * Pk) / den;                                              \
            b[l] += 1.0 / den;                                                                 \
            if (kk)                                                                            \
                kk[g] = k;                                                                     \
            if (lv) {                                                                          \
                double mu_ = (amax[g] + wg[g] * Pk - theta) / den;                             \
                lv[g] = mu_ > 0.0 ? mu_ : 0.0;                                                 \
            }                                                                                  \
        } else if (g < n && lv) {                                                              \
            lv[g] = 0.0;                                                                       \
        }                                                                                      \
    }

#ifdef SKPROJ_AVX2
SKPROJ_TARGET_AVX2
static void skproj_model_eval_avx2(const double *P, const double *tau, const double *amax,
                                   const double *wg, const double *l1, Py_ssize_t n,
                                   Py_ssize_t q, double theta, Py_ssize_t *kk, double *A_out,
                                   double *B_out, double *lv, Py_ssize_t bstep) {
    const __m256d one = _mm256_set1_pd(1.0), vth = _mm256_set1_pd(theta);
    __m256d av = _mm256_setzero_pd(), bv = _mm256_setzero_pd();
    double c[4], pk[4], a[4], b[4], l1p[4], amp[4], wgp[4];
    for (Py_ssize_t g0 = 0; g0 < n; g0 += 4 * bstep) {
        const double *pb = P + g0 * q, *tb = tau + g0 * q;
        __m256d l1v, amv, wgv, cnt = _mm256_setzero_pd(), alive, den, pkv;
        if (g0 + 4 <= n) {
            l1v = _mm256_loadu_pd(l1 + g0);
            amv = _mm256_loadu_pd(amax + g0);
            wgv = _mm256_loadu_pd(wg + g0);
        } else {
            for (int l = 0; l < 4; l++) {
                l1p[l] = g0 + l < n ? l1[g0 + l] : 0.0;
                amp[l] = g0 + l < n ? amax[g0 + l] : 0.0;
                wgp[l] = g0 + l < n ? wg[g0 + l] : 0.0;
            }
            l1v = _mm256_loadu_pd(l1p);
            amv = _mm256_loadu_pd(amp);
            wgv = _mm256_loadu_pd(wgp);
        }
        alive = _mm256_cmp_pd(l1v, vth, _CMP_GT_OQ);
        if (_mm256_movemask_pd(alive) == 0) {
            for (int l = 0; lv && l < 4 && g0 + l < n; l++)
                lv[g0 + l] = 0.0;
            continue;
        }
        for (Py_ssize_t j = 0; j < q; j++)
            cnt = _mm256_add_pd(cnt, _mm256_and_pd(_mm256_cmp_pd(_mm256_loadu_pd(tb + 4 * j), vth, _CMP_LT_OQ), one));
        _mm256_storeu_pd(c, cnt);
        for (int l = 0; l < 4; l++) {
            Py_ssize_t k = (Py_ssize_t) c[l];
            pk[l] = k > 0 ? pb[4 * (k - 1) + l] : 0.0;
            if (kk && g0 + l < n && l1[g0 + l] > theta)
                kk[g0 + l] = k;
        }
        pkv = _mm256_loadu_pd(pk);
        den = _mm256_add_pd(one, _mm256_mul_pd(wgv, cnt));
        av = _mm256_add_pd(av, _mm256_and_pd(alive, _mm256_div_pd(_mm256_add_pd(amv, _mm256_mul_pd(wgv, pkv)), den)));
        bv = _mm256_add_pd(bv, _mm256_and_pd(alive, _mm256_div_pd(one, den)));
        if (lv) {
            /* (amax + w P_k - theta) / den where alive and > 0, else 0 (NaN compares false) */
            __m256d num = _mm256_sub_pd(_mm256_add_pd(amv, _mm256_mul_pd(wgv, pkv)), vth);
            __m256d mu = _mm256_div_pd(num, den);
            mu = _mm256_and_pd(_mm256_and_pd(alive, _mm256_cmp_pd(mu, _mm256_setzero_pd(), _CMP_GT_OQ)),
                               mu);
            _mm256_storeu_pd(c, mu);
            for (int l = 0; l < 4 && g0 + l < n; l++)
                lv[g0 + l] = c[l];
        }
    }
    _mm256_storeu_pd(a, av);
    _mm256_storeu_pd(b, bv);
    *A_out = (a[0] + a[1]) + (a[2] + a[3]);
    *B_out = (b[0] + b[1]) + (b[2] + b[3]);
}
#endif

static void skproj_model_eval(const double *P, const double *tau, const double *amax,
                              const double *wg, const double *l1, Py_ssize_t n, Py_ssize_t q,
                              double theta, Py_ssize_t *kk, double *A_out, double *B_out,
                              double *lv, Py_ssize_t bstep) {
    double a[4] = {0.0, 0.0, 0.0, 0.0}, b[4] = {0.0, 0.0, 0.0, 0.0};
#ifdef SKPROJ_AVX2
    if (skproj_simd_level() >= 2) {
        skproj_model_eval_avx2(P, tau, amax, wg, l1, n, q, theta, kk, A_out, B_out, lv, bstep);
        return;
    }
#endif
    for (Py_ssize_t g0 = 0; g0 < n; g0 += 4 * bstep) {
        const double *pb = P + g0 * q, *tb = tau + g0 * q;
        SKPROJ_MODEL_LANE(0)
        SKPROJ_MODEL_LANE(1)
        SKPROJ_MODEL_LANE(2)
        SKPROJ_MODEL_LANE(3)
    }
    *A_out = (a[0] + a[1]) + (a[2] + a[3]);
    *B_out = (b[0] + b[1]) + (b[2] + b[3]);
}

/* skproj_model_build4: the model of 4 consecutive groups (all < n) from their sorted samples z
   (interleaved, decreasing), as _estimate_theta (_l1inf_model.pxd) builds it group by group, with
   the same operations in the same order per lane: a group with l1 > theta_lb gets the weight
   w = (l1 - amax) / (sample sum) (0 when the sum is 0) and prefix sums in z; every group gets the
   masses tau_k = amax + w P_k - (1 + w k) (z_k - P_k) at its samples (P: the running prefix of z,
   unsummed for a dead group). Returns 0, or -1 with nothing written when a live group's weight
   would overflow (the caller then builds the block itself). AVX2 only: other CPUs run the
   caller's loop. */
#ifdef SKPROJ_AVX2
SKPROJ_TARGET_AVX2
static int skproj_model_build4_avx2(double *z, double *tau, const double *amax, const double *l1,
                                    double *wg, Py_ssize_t q, double theta_lb) {
    const __m256d amv = _mm256_loadu_pd(amax), l1v = _mm256_loadu_pd(l1);
    const __m256d zero = _mm256_setzero_pd(), one = _mm256_set1_pd(1.0);
    __m256d live = _mm256_cmp_pd(l1v, _mm256_set1_pd(theta_lb), _CMP_GT_OQ);
    __m256d tot = zero, pos, rest, w, prev, pk;
    for (Py_ssize_t k = 0; k < q; k++)
        tot = _mm256_add_pd(tot, _mm256_loadu_pd(z + 4 * k));
    pos = _mm256_and_pd(live, _mm256_cmp_pd(tot, zero, _CMP_GT_OQ));
    rest = _mm256_sub_pd(l1v, amv);
    if (_mm256_movemask_pd(_mm256_andnot_pd(
            _mm256_cmp_pd(rest, _mm256_mul_pd(tot, _mm256_set1_pd(1e300)), _CMP_LE_OQ), pos)))
        return -1;
    w = _mm256_and_pd(pos, _mm256_div_pd(rest, tot));
    _mm256_storeu_pd(wg, w);
    prev = _mm256_loadu_pd(z);
    for (Py_ssize_t k = 1; k < q; k++) {
        __m256d v = _mm256_loadu_pd(z + 4 * k);
        prev = _mm256_blendv_pd(v, _mm256_add_pd(v, prev), live);
        _mm256_storeu_pd(z + 4 * k, prev);
    }
    pk = zero;
    for (Py_ssize_t k = 0; k < q; k++) {
        __m256d zk = _mm256_loadu_pd(z + 4 * k);
        __m256d den = _mm256_add_pd(one, _mm256_mul_pd(w, _mm256_set1_pd((double) k)));
        _mm256_storeu_pd(tau + 4 * k, _mm256_sub_pd(_mm256_add_pd(amv, _mm256_mul_pd(w, pk)),
                                                    _mm256_mul_pd(den, _mm256_sub_pd(zk, pk))));
        pk = zk;
    }
    return 0;
}
#endif

static inline int skproj_model_build4(double *z, double *tau, const double *amax,
                                      const double *l1, double *wg, Py_ssize_t q,
                                      double theta_lb) {
#ifdef SKPROJ_AVX2
    if (skproj_simd_level() >= 2)
        return skproj_model_build4_avx2(z, tau, amax, l1, wg, q, theta_lb);
#endif
    return -1;
}

/* skproj_bound_sums: the sums of one Newton step of the lower bound of theta* (_bound_root in
   _l1inf_model.pxd): over the groups with theta < l1[g] < upper, U = sum of max(amax[g] - theta,
   (l1[g] - theta) / m) and W = sum of the matching slopes (1, or 1 / m when the second term is
   larger), branch-free; per lane (group g in lane g mod 4), added as (u0 + u1) + (u2 + u3). */
#define SKPROJ_BOUND_GROUP(g)                                                                  \
    if (l1[g] < upper && l1[g] > theta) {                                                      \
        double a_ = amax[g] - theta, s_ = (l1[g] - theta) / md;                                \
        if (a_ >= s_) {                                                                        \
            u[(g) & 3] += a_;                                                                  \
            w[(g) & 3] += 1.0;                                                                 \
        } else {                                                                               \
            u[(g) & 3] += s_;                                                                  \
            w[(g) & 3] += inv;                                                                 \
        }                                                                                      \
    }

#ifdef SKPROJ_AVX2
SKPROJ_TARGET_AVX2
static void skproj_bound_sums_avx2(const double *amax, const double *l1, Py_ssize_t n, double md,
                                   double inv, double theta, double upper, double *u, double *w) {
    const __m256d vth = _mm256_set1_pd(theta), vup = _mm256_set1_pd(upper);
    const __m256d vm = _mm256_set1_pd(md), vinv = _mm256_set1_pd(inv), one = _mm256_set1_pd(1.0);
    __m256d ua = _mm256_setzero_pd(), wa = _mm256_setzero_pd();
    Py_ssize_t g = 0;
    for (; g + 4 <= n; g += 4) {
        __m256d l = _mm256_loadu_pd(l1 + g);
        __m256d live = _mm256_and_pd(_mm256_cmp_pd(l, vup, _CMP_LT_OQ), _mm256_cmp_pd(l, vth, _CMP_GT_OQ));
        __m256d a = _mm256_sub_pd(_mm256_loadu_pd(amax + g), vth);
        __m256d s = _mm256_div_pd(_mm256_sub_pd(l, vth), vm);
        __m256d ge = _mm256_cmp_pd(a, s, _CMP_GE_OQ);
        ua = _mm256_add_pd(ua, _mm256_and_pd(live, _mm256_blendv_pd(s, a, ge)));
        wa = _mm256_add_pd(wa, _mm256_and_pd(live, _mm256_blendv_pd(vinv, one, ge)));
    }
    _mm256_storeu_pd(u, ua);
    _mm256_storeu_pd(w, wa);
    for (; g < n; g++) {
        SKPROJ_BOUND_GROUP(g)
    }
}
#endif

static void skproj_bound_sums(const double *amax, const double *l1, Py_ssize_t n, Py_ssize_t m,
                              double theta, double upper, double *U_out, double *W_out) {
    double u[4] = {0.0, 0.0, 0.0, 0.0}, w[4] = {0.0, 0.0, 0.0, 0.0};
    double md = (double) m, inv = 1.0 / (double) m;
#ifdef SKPROJ_AVX2
    if (skproj_simd_level() >= 2) {
        skproj_bound_sums_avx2(amax, l1, n, md, inv, theta, upper, u, w);
    } else
#endif
    for (Py_ssize_t g = 0; g < n; g++) {
        SKPROJ_BOUND_GROUP(g)
    }
    *U_out = (u[0] + u[1]) + (u[2] + u[3]);
    *W_out = (w[0] + w[1]) + (w[2] + w[3]);
}

#endif  /* SKPROJ_SIMD_MODEL_H */
