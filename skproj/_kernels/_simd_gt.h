/* The l1,inf-ball projection's level of one group from its row (skproj/_kernels/_l1inf.pyx, for
   rows that fit in the L1 cache): one vectorised pass and the sweeps built on it, on top of
   _simd.h (its SSE2 / AVX2 detection, run-time dispatch and level cap).

   skproj_gtstat_f32 / _f64: y_i = |x_i|, t representable in the input's type (so that every
   comparison is exact). Returns k, the number of y_i > t; *s_out = their sum (in double),
   *kmin_out = the smallest of them (+inf when k = 0), *rmax_out = the largest of the other y_i
   (0 when there is none). One Michelot step of a group's level needs nothing else: the level of
   the set {y > t} at mass theta is mu = (s - theta) / k, and that set is the clipped set at mu
   exactly when kmin > mu >= rmax.

   Blocks of 16 entries, the last one (n mod 16 entries) padded and masked (AVX2: masked loads)
   rather than a plain tail, whose serial sum would lengthen every sweep of a short row by tens
   of cycles: entry i goes to partial sum i mod 16 and both vector paths reduce the partials in
   the same order, so their results are identical; minima, maxima and counts are exact on every
   path. The sweep also has an AVX-512 path (level 3, CPUs with AVX512F: 16 floats or 2 x 8
   doubles a block, mask registers instead of blends), with the same partial sums and order.
   The plain path (no SSE2) is a branch-free loop. */
#ifndef SKPROJ_SIMD_GT_H
#define SKPROJ_SIMD_GT_H

#include <float.h>
#include <string.h>

#include "_simd.h"

static inline int skproj_popc16(unsigned v) {
    v = v - ((v >> 1) & 0x5555u);
    v = (v & 0x3333u) + ((v >> 2) & 0x3333u);
    v = (v + (v >> 4)) & 0x0f0fu;
    return (int) ((v + (v >> 8)) & 0x1fu);
}

#define SKPROJ_GTSTAT_TAIL(ABS)                                                                \
    for (; i < n; i++) {   /* branch-free: s + 0.0 == s */                                     \
        double y = ABS(x[i]);                                                                  \
        int gt_ = y > t;                                                                       \
        double in_ = gt_ ? y : 0.0, out_ = gt_ ? 0.0 : y, lo_ = gt_ ? y : INFINITY;            \
        s += in_;                                                                              \
        k += gt_;                                                                              \
        kmin = lo_ < kmin ? lo_ : kmin;                                                        \
        rmax = out_ > rmax ? out_ : rmax;                                                      \
    }                                                                                          \
    *s_out = s;                                                                                \
    *kmin_out = kmin;                                                                          \
    *rmax_out = rmax;                                                                          \
    return k;

#ifdef SKPROJ_AVX2
/* one block of 16 floats (u, v: |x|; mu, mv: their masks y > t, padding lanes cleared) */
#define SKPROJ_GTSTAT_F32_AVX2_BLOCK(u, v, mu, mv)                                             \
    {                                                                                          \
        __m256 hu_ = _mm256_and_ps(u, mu), hv_ = _mm256_and_ps(v, mv);                         \
        h0 = _mm256_add_pd(h0, _mm256_cvtps_pd(_mm256_castps256_ps128(hu_)));                  \
        h1 = _mm256_add_pd(h1, _mm256_cvtps_pd(_mm256_extractf128_ps(hu_, 1)));                \
        h2 = _mm256_add_pd(h2, _mm256_cvtps_pd(_mm256_castps256_ps128(hv_)));                  \
        h3 = _mm256_add_pd(h3, _mm256_cvtps_pd(_mm256_extractf128_ps(hv_, 1)));                \
        mn = _mm256_min_ps(mn, _mm256_min_ps(_mm256_blendv_ps(vinf, u, mu),                    \
                                             _mm256_blendv_ps(vinf, v, mv)));                  \
        mx = _mm256_max_ps(mx, _mm256_max_ps(_mm256_andnot_ps(mu, u),                         \
                                             _mm256_andnot_ps(mv, v)));                        \
        k += skproj_popc16((unsigned) _mm256_movemask_ps(mu)                                   \
                           | ((unsigned) _mm256_movemask_ps(mv) << 8));                        \
    }

SKPROJ_TARGET_AVX2
static inline Py_ssize_t skproj_gtstat_f32_avx2(const float *x, Py_ssize_t n, float t, double *s_out,
                                         double *kmin_out, double *rmax_out) {
    Py_ssize_t i = 0, k = 0;
    double s, kmin, rmax;
    const __m256 msk = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256 vt = _mm256_set1_ps(t), vinf = _mm256_set1_ps(INFINITY);
    __m256 mn = vinf, mx = _mm256_setzero_ps();
    __m256d h0 = _mm256_setzero_pd(), h1 = h0, h2 = h0, h3 = h0;
    __m128 r4;
    for (; i + 16 <= n; i += 16) {
        __m256 u = _mm256_and_ps(_mm256_loadu_ps(x + i), msk);
        __m256 v = _mm256_and_ps(_mm256_loadu_ps(x + i + 8), msk);
        __m256 mu = _mm256_cmp_ps(u, vt, _CMP_GT_OQ), mv = _mm256_cmp_ps(v, vt, _CMP_GT_OQ);
        SKPROJ_GTSTAT_F32_AVX2_BLOCK(u, v, mu, mv)
    }
    if (i < n) {
        /* the last < 16 entries as one more block, by masked loads (no serial scalar tail:
           the sweeps of a short row wait on this result) */
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const int r = (int) (n - i);
        __m256i va = _mm256_cmpgt_epi32(_mm256_set1_epi32(r), lane);
        __m256i vb = _mm256_cmpgt_epi32(_mm256_set1_epi32(r - 8), lane);
        __m256 u = _mm256_and_ps(_mm256_maskload_ps(x + i, va), msk);
        __m256 v = r > 8 ? _mm256_and_ps(_mm256_maskload_ps(x + i + 8, vb), msk)
                         : _mm256_setzero_ps();
        __m256 mu = _mm256_and_ps(_mm256_cmp_ps(u, vt, _CMP_GT_OQ), _mm256_castsi256_ps(va));
        __m256 mv = _mm256_and_ps(_mm256_cmp_ps(v, vt, _CMP_GT_OQ), _mm256_castsi256_ps(vb));
        SKPROJ_GTSTAT_F32_AVX2_BLOCK(u, v, mu, mv)
        i = n;
    }
    SKPROJ_REDUCE16_AVX2(s)
    r4 = _mm_min_ps(_mm256_castps256_ps128(mn), _mm256_extractf128_ps(mn, 1));
    r4 = _mm_min_ps(r4, _mm_movehl_ps(r4, r4));
    kmin = (double) _mm_cvtss_f32(_mm_min_ss(r4, _mm_shuffle_ps(r4, r4, 1)));
    r4 = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
    r4 = _mm_max_ps(r4, _mm_movehl_ps(r4, r4));
    rmax = (double) _mm_cvtss_f32(_mm_max_ss(r4, _mm_shuffle_ps(r4, r4, 1)));
    SKPROJ_GTSTAT_TAIL(fabsf)
}

/* the last r < 16 entries of a block of 16 doubles by masked loads: y[q] = |x[4q: 4q + 4]| (0
   beyond r), my[q] = their masks y > t with the padding lanes cleared */
SKPROJ_TARGET_AVX2
static inline void skproj_last_block_f64(const double *x, Py_ssize_t r, __m256d vt, __m256d *y,
                                         __m256d *my) {
    const __m256d msk = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffLL));
    const __m256i lane = _mm256_setr_epi64x(0, 1, 2, 3);
    for (int q = 0; q < 4; q++) {
        __m256i vq = _mm256_cmpgt_epi64(_mm256_set1_epi64x((long long) r - 4 * q), lane);
        y[q] = r > 4 * q ? _mm256_and_pd(_mm256_maskload_pd(x + 4 * q, vq), msk)
                         : _mm256_setzero_pd();
        my[q] = _mm256_and_pd(_mm256_cmp_pd(y[q], vt, _CMP_GT_OQ), _mm256_castsi256_pd(vq));
    }
}

/* one block of 16 doubles (4 vectors; masks y > t, padding lanes cleared) */
#define SKPROJ_GTSTAT_F64_AVX2_BLOCK(u, v, w, z, mu, mv, mw, mz)                               \
    {                                                                                          \
        h0 = _mm256_add_pd(h0, _mm256_and_pd(u, mu));                                          \
        h1 = _mm256_add_pd(h1, _mm256_and_pd(v, mv));                                          \
        h2 = _mm256_add_pd(h2, _mm256_and_pd(w, mw));                                          \
        h3 = _mm256_add_pd(h3, _mm256_and_pd(z, mz));                                          \
        mn = _mm256_min_pd(mn, _mm256_min_pd(_mm256_min_pd(_mm256_blendv_pd(vinf, u, mu),      \
                                                           _mm256_blendv_pd(vinf, v, mv)),     \
                                             _mm256_min_pd(_mm256_blendv_pd(vinf, w, mw),      \
                                                           _mm256_blendv_pd(vinf, z, mz))));   \
        mx = _mm256_max_pd(mx, _mm256_max_pd(_mm256_max_pd(_mm256_andnot_pd(mu, u),            \
                                                           _mm256_andnot_pd(mv, v)),           \
                                             _mm256_max_pd(_mm256_andnot_pd(mw, w),            \
                                                           _mm256_andnot_pd(mz, z))));         \
        k += skproj_popc16((unsigned) _mm256_movemask_pd(mu)                                   \
                           | ((unsigned) _mm256_movemask_pd(mv) << 4)                          \
                           | ((unsigned) _mm256_movemask_pd(mw) << 8)                          \
                           | ((unsigned) _mm256_movemask_pd(mz) << 12));                       \
    }

SKPROJ_TARGET_AVX2
static inline Py_ssize_t skproj_gtstat_f64_avx2(const double *x, Py_ssize_t n, double t, double *s_out,
                                         double *kmin_out, double *rmax_out) {
    Py_ssize_t i = 0, k = 0;
    double s, kmin, rmax;
    const __m256d msk = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffLL));
    const __m256d vt = _mm256_set1_pd(t), vinf = _mm256_set1_pd(INFINITY);
    __m256d mn = vinf, mx = _mm256_setzero_pd();
    __m256d h0 = _mm256_setzero_pd(), h1 = h0, h2 = h0, h3 = h0;
    __m128d r2;
    for (; i + 16 <= n; i += 16) {
        __m256d u = _mm256_and_pd(_mm256_loadu_pd(x + i), msk);
        __m256d v = _mm256_and_pd(_mm256_loadu_pd(x + i + 4), msk);
        __m256d w = _mm256_and_pd(_mm256_loadu_pd(x + i + 8), msk);
        __m256d z = _mm256_and_pd(_mm256_loadu_pd(x + i + 12), msk);
        __m256d mu = _mm256_cmp_pd(u, vt, _CMP_GT_OQ), mv = _mm256_cmp_pd(v, vt, _CMP_GT_OQ);
        __m256d mw = _mm256_cmp_pd(w, vt, _CMP_GT_OQ), mz = _mm256_cmp_pd(z, vt, _CMP_GT_OQ);
        SKPROJ_GTSTAT_F64_AVX2_BLOCK(u, v, w, z, mu, mv, mw, mz)
    }
    if (i < n) {
        /* the last < 16 entries as one more block, by masked loads (see the float32 loop) */
        __m256d y[4], my[4];
        skproj_last_block_f64(x + i, n - i, vt, y, my);
        SKPROJ_GTSTAT_F64_AVX2_BLOCK(y[0], y[1], y[2], y[3], my[0], my[1], my[2], my[3])
        i = n;
    }
    SKPROJ_REDUCE16_AVX2(s)
    r2 = _mm_min_pd(_mm256_castpd256_pd128(mn), _mm256_extractf128_pd(mn, 1));
    kmin = _mm_cvtsd_f64(_mm_min_sd(r2, _mm_unpackhi_pd(r2, r2)));
    r2 = _mm_max_pd(_mm256_castpd256_pd128(mx), _mm256_extractf128_pd(mx, 1));
    rmax = _mm_cvtsd_f64(_mm_max_sd(r2, _mm_unpackhi_pd(r2, r2)));
    SKPROJ_GTSTAT_TAIL(fabs)
}
/* AVX-512 (AVX512F): a block of 16 entries is 16 floats or 2 x 8 doubles, with mask registers
   (the last block masked); the partial sums are the same 16 as on the other vector paths (entry
   i to partial i mod 16, h0 holding partials 0-7 and h1 8-15), reduced in the same order as
   SKPROJ_REDUCE16_AVX2, so the results are identical. */
#define SKPROJ_REDUCE16_AVX512(OUT)                                                            \
    {                                                                                          \
        __m256d t_ = _mm256_add_pd(_mm256_add_pd(_mm512_castpd512_pd256(h0),                   \
                                                 _mm512_extractf64x4_pd(h0, 1)),               \
                                   _mm256_add_pd(_mm512_castpd512_pd256(h1),                   \
                                                 _mm512_extractf64x4_pd(h1, 1)));              \
        __m128d r_ = _mm_add_pd(_mm256_castpd256_pd128(t_), _mm256_extractf128_pd(t_, 1));     \
        OUT = _mm_cvtsd_f64(r_) + _mm_cvtsd_f64(_mm_unpackhi_pd(r_, r_));                      \
    }

SKPROJ_TARGET_AVX512
static inline Py_ssize_t skproj_gtstat_f32_avx512(const float *x, Py_ssize_t n, float t,
                                                  double *s_out, double *kmin_out,
                                                  double *rmax_out) {
    Py_ssize_t i = 0, k = 0;
    const __m512 vt = _mm512_set1_ps(t), vinf = _mm512_set1_ps(INFINITY);
    __m512 mn = vinf, mx = _mm512_setzero_ps();
    __m512d h0 = _mm512_setzero_pd(), h1 = h0;
    double s;
    for (; i < n; i += 16) {
        __mmask16 ok = n - i >= 16 ? (__mmask16) 0xffff : (__mmask16) ((1u << (n - i)) - 1u);
        __m512 u = _mm512_abs_ps(_mm512_maskz_loadu_ps(ok, x + i));
        __mmask16 gt = _mm512_mask_cmp_ps_mask(ok, u, vt, _CMP_GT_OQ);
        __m256 lo = _mm512_castps512_ps256(u);
        __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(u), 1));
        h0 = _mm512_mask_add_pd(h0, (__mmask8) gt, h0, _mm512_cvtps_pd(lo));
        h1 = _mm512_mask_add_pd(h1, (__mmask8) (gt >> 8), h1, _mm512_cvtps_pd(hi));
        mn = _mm512_mask_min_ps(mn, gt, mn, u);
        mx = _mm512_mask_max_ps(mx, _mm512_kandn(gt, ok), mx, u);
        k += skproj_popc16((unsigned) gt);
    }
    SKPROJ_REDUCE16_AVX512(s)
    *s_out = s;
    *kmin_out = (double) _mm512_reduce_min_ps(mn);
    *rmax_out = (double) _mm512_reduce_max_ps(mx);
    return k;
}

SKPROJ_TARGET_AVX512
static inline Py_ssize_t skproj_gtstat_f64_avx512(const double *x, Py_ssize_t n, double t,
                                                  double *s_out, double *kmin_out,
                                                  double *rmax_out) {
    Py_ssize_t i = 0, k = 0;
    const __m512d vt = _mm512_set1_pd(t), vinf = _mm512_set1_pd(INFINITY);
    __m512d mn = vinf, mx = _mm512_setzero_pd(), h0 = mx, h1 = mx;
    double s;
    for (; i < n; i += 16) {
        unsigned ok = n - i >= 16 ? 0xffffu : (1u << (n - i)) - 1u;
        __m512d u = _mm512_abs_pd(_mm512_maskz_loadu_pd((__mmask8) ok, x + i));
        /* an empty mask loads nothing; the address stays inside the row all the same */
        const double *p8 = x + i + ((ok >> 8) ? 8 : 0);
        __m512d v = _mm512_abs_pd(_mm512_maskz_loadu_pd((__mmask8) (ok >> 8), p8));
        __mmask8 gu = _mm512_mask_cmp_pd_mask((__mmask8) ok, u, vt, _CMP_GT_OQ);
        __mmask8 gv = _mm512_mask_cmp_pd_mask((__mmask8) (ok >> 8), v, vt, _CMP_GT_OQ);
        h0 = _mm512_mask_add_pd(h0, gu, h0, u);
        h1 = _mm512_mask_add_pd(h1, gv, h1, v);
        mn = _mm512_mask_min_pd(mn, gu, mn, u);
        mn = _mm512_mask_min_pd(mn, gv, mn, v);
        mx = _mm512_mask_max_pd(mx, (__mmask8) (~gu & ok), mx, u);
        mx = _mm512_mask_max_pd(mx, (__mmask8) (~gv & (ok >> 8)), mx, v);
        k += skproj_popc16((unsigned) gu | ((unsigned) gv << 8));
    }
    SKPROJ_REDUCE16_AVX512(s)
    *s_out = s;
    *kmin_out = _mm512_reduce_min_pd(mn);
    *rmax_out = _mm512_reduce_max_pd(mx);
    return k;
}
#endif  /* SKPROJ_AVX2 */

static inline Py_ssize_t skproj_gtstat_f32(const float *x, Py_ssize_t n, float t, double *s_out,
                                    double *kmin_out, double *rmax_out) {
    Py_ssize_t i = 0, k = 0;
    double s = 0.0, kmin = INFINITY, rmax = 0.0;
#ifdef SKPROJ_SSE2
    int level = skproj_simd_level();
#ifdef SKPROJ_AVX2
    if (level >= 3)
        return skproj_gtstat_f32_avx512(x, n, t, s_out, kmin_out, rmax_out);
    if (level >= 2)
        return skproj_gtstat_f32_avx2(x, n, t, s_out, kmin_out, rmax_out);
#endif
    if (level >= 1) {
        const __m128 msk = _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff));
        const __m128 vt = _mm_set1_ps(t), vinf = _mm_set1_ps(INFINITY);
        __m128 mn = vinf, mx = _mm_setzero_ps();
        __m128d h[8];
        for (int q = 0; q < 8; q++)
            h[q] = _mm_setzero_pd();
        for (; i < n; i += 16) {
            /* the last < 16 entries as one more block, zero-padded, the padding masked out (the
               same partial sums as the AVX2 path) */
            float buf[16];
            const float *p = x + i;
            __m128 nv = _mm_set1_ps(16.0f);
            unsigned bits = 0;
            if (i + 16 > n) {
                memset(buf, 0, sizeof(buf));
                memcpy(buf, x + i, (size_t) (n - i) * sizeof(float));
                p = buf;
                nv = _mm_set1_ps((float) (n - i));
            }
            for (int b = 0; b < 16; b += 4) {
                __m128 u = _mm_and_ps(_mm_loadu_ps(p + b), msk);
                __m128 ok = _mm_cmplt_ps(_mm_setr_ps((float) b, (float) b + 1.0f, (float) b + 2.0f,
                                                     (float) b + 3.0f), nv);
                __m128 mu = _mm_and_ps(_mm_cmpgt_ps(u, vt), ok), hu = _mm_and_ps(u, mu);
                h[b >> 1] = _mm_add_pd(h[b >> 1], _mm_cvtps_pd(hu));
                h[(b >> 1) + 1] = _mm_add_pd(h[(b >> 1) + 1], _mm_cvtps_pd(_mm_movehl_ps(hu, hu)));
                mn = _mm_min_ps(mn, _mm_or_ps(hu, _mm_andnot_ps(mu, vinf)));
                mx = _mm_max_ps(mx, _mm_andnot_ps(mu, u));
                bits |= (unsigned) _mm_movemask_ps(mu) << b;
            }
            k += skproj_popc16(bits);
        }
        i = n;
        SKPROJ_REDUCE16_SSE2(s)
        mn = _mm_min_ps(mn, _mm_movehl_ps(mn, mn));
        kmin = (double) _mm_cvtss_f32(_mm_min_ss(mn, _mm_shuffle_ps(mn, mn, 1)));
        mx = _mm_max_ps(mx, _mm_movehl_ps(mx, mx));
        rmax = (double) _mm_cvtss_f32(_mm_max_ss(mx, _mm_shuffle_ps(mx, mx, 1)));
    }
#endif
    SKPROJ_GTSTAT_TAIL(fabsf)
}

static inline Py_ssize_t skproj_gtstat_f64(const double *x, Py_ssize_t n, double t, double *s_out,
                                    double *kmin_out, double *rmax_out) {
    Py_ssize_t i = 0, k = 0;
    double s = 0.0, kmin = INFINITY, rmax = 0.0;
#ifdef SKPROJ_SSE2
    int level = skproj_simd_level();
#ifdef SKPROJ_AVX2
    if (level >= 3)
        return skproj_gtstat_f64_avx512(x, n, t, s_out, kmin_out, rmax_out);
    if (level >= 2)
        return skproj_gtstat_f64_avx2(x, n, t, s_out, kmin_out, rmax_out);
#endif
    if (level >= 1) {
        const __m128d msk = _mm_castsi128_pd(_mm_set1_epi64x(0x7fffffffffffffffLL));
        const __m128d vt = _mm_set1_pd(t), vinf = _mm_set1_pd(INFINITY);
        __m128d mn = vinf, mx = _mm_setzero_pd(), h[8];
        for (int q = 0; q < 8; q++)
            h[q] = _mm_setzero_pd();
        for (; i < n; i += 16) {
            /* the last < 16 entries as one more block (see the float32 loop) */
            double buf[16];
            const double *p = x + i;
            __m128d nv = _mm_set1_pd(16.0);
            unsigned bits = 0;
            if (i + 16 > n) {
                memset(buf, 0, sizeof(buf));
                memcpy(buf, x + i, (size_t) (n - i) * sizeof(double));
                p = buf;
                nv = _mm_set1_pd((double) (n - i));
            }
            for (int q = 0; q < 8; q++) {
                __m128d u = _mm_and_pd(_mm_loadu_pd(p + 2 * q), msk);
                __m128d ok = _mm_cmplt_pd(_mm_setr_pd(2.0 * q, 2.0 * q + 1.0), nv);
                __m128d mu = _mm_and_pd(_mm_cmpgt_pd(u, vt), ok), hu = _mm_and_pd(u, mu);
                h[q] = _mm_add_pd(h[q], hu);
                mn = _mm_min_pd(mn, _mm_or_pd(hu, _mm_andnot_pd(mu, vinf)));
                mx = _mm_max_pd(mx, _mm_andnot_pd(mu, u));
                bits |= (unsigned) _mm_movemask_pd(mu) << (2 * q);
            }
            k += skproj_popc16(bits);
        }
        i = n;
        SKPROJ_REDUCE16_SSE2(s)
        kmin = _mm_cvtsd_f64(_mm_min_sd(mn, _mm_unpackhi_pd(mn, mn)));
        rmax = _mm_cvtsd_f64(_mm_max_sd(mx, _mm_unpackhi_pd(mx, mx)));
    }
#endif
    SKPROJ_GTSTAT_TAIL(fabs)
}

/* The largest value of the input's type <= d (FLT_MAX above; the comparisons y > t and
   y > skproj_down_f32(t) agree for every float y). */
static inline float skproj_down_f32(double d) {
    float f;
    uint32_t u;
    if (d > 0.0 && d < FLT_MAX) {
        /* the usual case, branch-free (the rounding direction is unpredictable): the float
           below a positive float is its bit pattern minus one (0.0 when d rounds to 0) */
        f = (float) d;
        memcpy(&u, &f, sizeof(u));
        u -= (uint32_t) ((double) f > d);
        memcpy(&f, &u, sizeof(f));
        return f;
    }
    if (d >= FLT_MAX)
        return FLT_MAX;
    f = (float) d;
    if (!((double) f > d))
        return f;
    if (f > 0.0f) {   /* the float below a positive float: its bit pattern minus one */
        memcpy(&u, &f, sizeof(u));
        u -= 1;
        memcpy(&f, &u, sizeof(f));
        return f;
    }
    return nextafterf(f, -INFINITY);
}

static inline double skproj_down_f64(double d) {
    return d;
}

/* the end of skproj_partition_f64, one entry at a time: seg[i:n] moved in order, those > t to
   seg[k:] and the others after tmp[0:d] (the others met so far), then tmp after the kept
   entries; returns the number kept */
static inline Py_ssize_t skproj_move_rest_f64(double *seg, Py_ssize_t i, Py_ssize_t n, double t,
                                              double *tmp, Py_ssize_t k, Py_ssize_t d) {
    for (; i < n; i++) {
        double y = seg[i];
        if (y > t)
            seg[k++] = y;
        else
            tmp[d++] = y;
    }
    if (d > 0)
        memcpy(seg + k, tmp, (size_t) d * sizeof(double));
    return k;
}

/* skproj_partition_f64: seg[0:n] holds entries >= 0. Moves those > t to the front and the others
   after them, both in their order (the others through the scratch tmp[0:n]); returns the number
   kept, *s_out = their sum (in double: as skproj_gtstat_f64, entry i to partial sum i mod 16 on
   the vector paths, the last n mod 16 entries included), *rmax_io = max(*rmax_io, the largest
   entry not kept). The AVX2 path moves 4 entries at a time by a permutation: byte p of
   skproj_pack4[b] is the float lane of the p-th set bit of the 4-bit mask b, as pairs (2j, 2j + 1). */
#ifdef SKPROJ_AVX2
static const uint64_t skproj_pack4[16] = {
    0x0000000000000000ULL, 0x0000000000000100ULL, 0x0000000000000302ULL, 0x0000000003020100ULL,
    0x0000000000000504ULL, 0x0000000005040100ULL, 0x0000000005040302ULL, 0x0000050403020100ULL,
    0x0000000000000706ULL, 0x0000000007060100ULL, 0x0000000007060302ULL, 0x0000070603020100ULL,
    0x0000000007060504ULL, 0x0000070605040100ULL, 0x0000070605040302ULL, 0x0706050403020100ULL,
};

SKPROJ_TARGET_AVX2
static inline __m256d skproj_pack_pd(__m256d v, unsigned b) {
    __m256i ix = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *) &skproj_pack4[b]));
    return _mm256_castps_pd(_mm256_permutevar8x32_ps(_mm256_castpd_ps(v), ix));
}

SKPROJ_TARGET_AVX2
static inline Py_ssize_t skproj_partition_f64_avx2(double *seg, Py_ssize_t n, double t, double *tmp,
                                                   double *s_out, double *rmax_io) {
    Py_ssize_t i = 0, k = 0, d = 0;
    double s, rmax;
    const __m256d vt = _mm256_set1_pd(t);
    __m256d mx = _mm256_setzero_pd(), h0 = mx, h1 = mx, h2 = mx, h3 = mx;
    __m128d r2;
    for (; i + 16 <= n; i += 16) {
        __m256d v[4], m[4];
        for (int b = 0; b < 4; b++) {
            v[b] = _mm256_loadu_pd(seg + i + 4 * b);
            m[b] = _mm256_cmp_pd(v[b], vt, _CMP_GT_OQ);
        }
        h0 = _mm256_add_pd(h0, _mm256_and_pd(v[0], m[0]));
        h1 = _mm256_add_pd(h1, _mm256_and_pd(v[1], m[1]));
        h2 = _mm256_add_pd(h2, _mm256_and_pd(v[2], m[2]));
        h3 = _mm256_add_pd(h3, _mm256_and_pd(v[3], m[3]));
        mx = _mm256_max_pd(mx, _mm256_max_pd(_mm256_max_pd(_mm256_andnot_pd(m[0], v[0]), _mm256_andnot_pd(m[1], v[1])),
                                             _mm256_max_pd(_mm256_andnot_pd(m[2], v[2]), _mm256_andnot_pd(m[3], v[3]))));
        /* kept entries go to seg + k <= seg + i: the block is loaded, so nothing unread is hit */
        for (int b = 0; b < 4; b++) {
            unsigned bb = (unsigned) _mm256_movemask_pd(m[b]);
            _mm256_storeu_pd(seg + k, skproj_pack_pd(v[b], bb));
            _mm256_storeu_pd(tmp + d, skproj_pack_pd(v[b], bb ^ 15u));
            k += skproj_popc16(bb);
            d += 4 - skproj_popc16(bb);
        }
    }
    if (i < n) {
        /* the sum and maximum of the last < 16 entries as in skproj_gtstat_f64 (one more block,
           so that the SSE2 path, which takes its sum from there, gives the same), the moves
           below */
        __m256d y[4], my[4];
        skproj_last_block_f64(seg + i, n - i, vt, y, my);
        h0 = _mm256_add_pd(h0, _mm256_and_pd(y[0], my[0]));
        h1 = _mm256_add_pd(h1, _mm256_and_pd(y[1], my[1]));
        h2 = _mm256_add_pd(h2, _mm256_and_pd(y[2], my[2]));
        h3 = _mm256_add_pd(h3, _mm256_and_pd(y[3], my[3]));
        mx = _mm256_max_pd(mx, _mm256_max_pd(_mm256_max_pd(_mm256_andnot_pd(my[0], y[0]),
                                                           _mm256_andnot_pd(my[1], y[1])),
                                             _mm256_max_pd(_mm256_andnot_pd(my[2], y[2]),
                                                           _mm256_andnot_pd(my[3], y[3]))));
    }
    SKPROJ_REDUCE16_AVX2(s)
    r2 = _mm_max_pd(_mm256_castpd256_pd128(mx), _mm256_extractf128_pd(mx, 1));
    rmax = _mm_cvtsd_f64(_mm_max_sd(r2, _mm_unpackhi_pd(r2, r2)));
    k = skproj_move_rest_f64(seg, i, n, t, tmp, k, d);
    *s_out = s;
    *rmax_io = rmax > *rmax_io ? rmax : *rmax_io;
    return k;
}
#endif  /* SKPROJ_AVX2 */

static inline Py_ssize_t skproj_partition_f64(double *seg, Py_ssize_t n, double t, double *tmp,
                                              double *s_out, double *rmax_io) {
    double kmin, rmax;
#ifdef SKPROJ_AVX2
    if (skproj_simd_level() >= 2)
        return skproj_partition_f64_avx2(seg, n, t, tmp, s_out, rmax_io);
#endif
    /* the other paths: the sum and maximum of skproj_gtstat_f64 (the same on the vector paths),
       then the entries moved one by one */
    skproj_gtstat_f64(seg, n, t, s_out, &kmin, &rmax);
    *rmax_io = rmax > *rmax_io ? rmax : *rmax_io;
    return skproj_move_rest_f64(seg, 0, n, t, tmp, 0, 0);
}

/* skproj_row_level_f32 / _f64: the exact level mu at mass theta (0 < theta < ||x||_1) of one
   group of m entries x (largest |x_j| = amax), by Michelot sweeps over the row: a pass at t
   gives the set {|x| > t}, its count k, sum s, smallest entry kmin and the largest entry rmax
   outside it; mu = (s - theta) / k. The set is the clipped set at mu (and mu the level) when
   kmin > mu >= rmax. Any set gives mu <= the level (Condat 2016); when t is a lower bound of
   the level so is mu, mu >= t, and the next set is smaller: a few passes. t_safe <= t is a lower
   bound; t > t_safe is a guess that may lie above the level: then the set is too small, mu < t,
   and the sweeps go on from mu. Rounding: stops when the set no longer shrinks. On return
   (s, k, kmin, rmax) describe the last set (rmax = +inf when unknown); after max_sweeps passes
   without a stop (never with max_sweeps >= 2 m + 2: every pass but the last shrinks the set) k
   is 0 and the result meaningless. */
#define SKPROJ_ROW_LEVEL_DEF(NAME, T, GTSTAT, DOWN, NEXT_BELOW)                                \
    static inline double NAME(const T *x, Py_ssize_t m, double theta, double amax, double t,   \
                              double t_safe, double *s_out, Py_ssize_t *k_out,                 \
                              double *kmin_out, double *rmax_out, Py_ssize_t max_sweeps) {     \
        Py_ssize_t k = 0, k_prev = m + 1, it;                                                  \
        int guess = t > t_safe;                                                                \
        double s = 0.0, kmin = INFINITY, rmax = INFINITY, mu = 0.0;                            \
        for (it = 0; it < max_sweeps; it++) {                                                  \
            k = GTSTAT(x, m, DOWN(t), &s, &kmin, &rmax);                                       \
            if (k == 0 && guess) {                                                             \
                guess = 0;                                                                     \
                t = t_safe;                                                                    \
                continue;                                                                      \
            }                                                                                  \
            if (k == 0) {                                                                      \
                /* t rounded up to the maximum: the clipped set is the set of maxima */        \
                k = GTSTAT(x, m, NEXT_BELOW(amax), &s, &kmin, &rmax);                          \
                rmax = INFINITY;                                                               \
            }                                                                                  \
            mu = (s - theta) / (double) k;                                                     \
            if (kmin > mu && rmax <= mu)                                                       \
                break;                                                                         \
            if (guess) {                                                                       \
                guess = 0;                                                                     \
                if (!(mu > t)) {                                                               \
                    /* the guess was above the level: both mu and t_safe are below it */       \
                    t = mu > t_safe ? mu : t_safe;                                             \
                    continue;                                                                  \
                }                                                                              \
            }                                                                                  \
            if (k >= k_prev || !(mu > t))                                                      \
                break;                                                                         \
            k_prev = k;                                                                        \
            t = mu;                                                                            \
        }                                                                                      \
        if (it == max_sweeps)                                                                  \
            k = 0;                                                                             \
        *s_out = s;                                                                            \
        *k_out = k;                                                                            \
        *kmin_out = kmin;                                                                      \
        *rmax_out = rmax;                                                                      \
        return mu;                                                                             \
    }

#define SKPROJ_BELOW_F32(a) nextafterf((float) (a), 0.0f)
#define SKPROJ_BELOW_F64(a) nextafter((a), 0.0)
SKPROJ_ROW_LEVEL_DEF(skproj_row_level_f32, float, skproj_gtstat_f32, skproj_down_f32, SKPROJ_BELOW_F32)
SKPROJ_ROW_LEVEL_DEF(skproj_row_level_f64, double, skproj_gtstat_f64, skproj_down_f64, SKPROJ_BELOW_F64)

#endif  /* SKPROJ_SIMD_GT_H */
