/* Vectorised loops of the kernels: the two passes over x of the l1-ball and simplex
   projections (skproj/_kernels/_l1.pyx), the dispatch used by the weighted group prox's loops
   (skproj/_kernels/_simd_prox.h, for _prox.pyx) and the per-group passes of the l1,inf-ball projection
   (skproj/_kernels/_l1inf.pyx: the window below, skproj_maxsum_* and skproj_clip_* at the end).

   skproj_window_f32 / _f64: y_i = |x_i| (use_abs) or x_i, lo <= hi representable in the
   input's type (so that every comparison is exact). Returns nw, the number of y_i in the
   window (lo, hi], stored in order and as doubles in dst[0:nw] (dst has room for n entries);
   *sh_out = sum of the y_i > hi (in double), *kh_out = their count.

   skproj_shrink_f32 / _f64: o_i = sign(x_i) max(|x_i| - tau, 0) (use_abs: the l1 ball) or
   max(x_i - tau, 0) (the simplex), in double and rounded once to the output's type,
   branch-free (+0.0 for a clipped entry, with x_i's sign when use_abs).

   On x86-64 the loops are vectorised with SSE2 (part of the base instruction set) or, when the
   CPU has it (checked once at run time; GCC and Clang), AVX2. Blocks of 64 entries (then one of 16,
   32 or 48 and a plain tail of < 16, for short rows such as the l1,inf ball's groups): the sums
   and counts of the y_i > hi are vector operations, the window entries of a block form a 64-bit
   mask whose set bits are then stored (the store loop costs nothing when the window is empty).
   Both vector paths add the same partial sums (entry i goes to partial i mod 16) in the same
   order, so their results are identical; other CPUs run the plain loops (same values up to the
   rounding of the sum). skproj_simd_level() says which path runs: 0 plain, 1 SSE2, 2 AVX2, 3
   AVX-512 (AVX512F; only the l1,inf row sweeps of _simd_gt.h have such a path, every other loop
   runs its AVX2 path at level 3); skproj_set_simd_level(l) caps it (tests compare the paths; -1
   restores the default); the cap is per extension module (each one that includes this header
   has its own). */
#ifndef SKPROJ_SIMD_H
#define SKPROJ_SIMD_H

#include <math.h>
#include <stdint.h>
#include <Python.h>

#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#define SKPROJ_SSE2 1
#endif
#if defined(SKPROJ_SSE2) && (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#include <immintrin.h>
#define SKPROJ_AVX2 1
#define SKPROJ_TARGET_AVX2 __attribute__((target("avx2")))
#define SKPROJ_TARGET_AVX512 __attribute__((target("avx512f")))
#endif

static int skproj_simd_cap = 3;

static inline int skproj_simd_level(void) {
#if defined(SKPROJ_AVX2)
    static int cpu = -1;   /* a benign race: every thread stores the same value */
    if (cpu < 0) {
        __builtin_cpu_init();
        cpu = __builtin_cpu_supports("avx512f") ? 3 : __builtin_cpu_supports("avx2") ? 2 : 1;
    }
    return cpu < skproj_simd_cap ? cpu : skproj_simd_cap;
#elif defined(SKPROJ_SSE2)
    return 1 < skproj_simd_cap ? 1 : skproj_simd_cap;
#else
    return 0;
#endif
}

static inline void skproj_set_simd_level(int level) {
    skproj_simd_cap = level < 0 ? 3 : level;
}

static inline int skproj_ctz64(uint64_t m) {
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_ctzll(m);
#else
    int j = 0;
    while (!(m & 1)) {
        m >>= 1;
        j++;
    }
    return j;
#endif
}

/* store the y of the entries x[i + j] whose bit j is set in `mask` */
#define SKPROJ_STORE_MASK(ABS)                                                                 \
    while (mask) {                                                                             \
        int j_ = skproj_ctz64(mask);                                                           \
        dst[nw++] = use_abs ? ABS(x[i + j_]) : (double) x[i + j_];                             \
        mask &= mask - 1;                                                                      \
    }

/* the plain loop (the tail after the last block, and the whole pass without SIMD) */
#define SKPROJ_WINDOW_TAIL(ABS)                                                                \
    for (; i < n; i++) {                                                                       \
        double y = use_abs ? ABS(x[i]) : (double) x[i];                                        \
        if (y > hi) {                                                                          \
            sh += y;                                                                           \
            kh++;                                                                              \
        } else if (y > lo) {                                                                   \
            dst[nw++] = y;                                                                     \
        }                                                                                      \
    }                                                                                          \
    *sh_out = sh;                                                                              \
    *kh_out = kh;                                                                              \
    return nw;

/* the next block: 64 entries, or the 16, 32 or 48 of a tail of 16 to 63 (one mask, one store
   loop), the rest in the plain loop */
#define SKPROJ_BLOCK(left) ((left) >= 64 ? 64 : (left) & ~(Py_ssize_t) 15)

/* int32 lane counts of the float paths are flushed every 2^20 blocks (2^24 per lane at most) */
#define SKPROJ_CHUNK ((Py_ssize_t) 1 << 26)

#ifdef SKPROJ_AVX2
SKPROJ_TARGET_AVX2
static inline Py_ssize_t skproj_window_f32_avx2(const float *x, Py_ssize_t n, int use_abs, float lo,
                                         float hi, double *dst, double *sh_out,
                                         Py_ssize_t *kh_out) {
    Py_ssize_t i = 0, nw = 0, kh = 0;
    double sh;
    const __m256 msk = _mm256_castsi256_ps(_mm256_set1_epi32(use_abs ? 0x7fffffff : -1));
    const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    __m256d h0 = _mm256_setzero_pd(), h1 = h0, h2 = h0, h3 = h0;
    __m128d r;
    while (i + 16 <= n) {
        Py_ssize_t end = i + ((n - i < SKPROJ_CHUNK ? n - i : SKPROJ_CHUNK) & ~(Py_ssize_t) 15), blk;
        __m256i kc = _mm256_setzero_si256();
        __m128i k4;
        int c[4];
        for (; i < end; i += blk) {
            uint64_t mask = 0;
            blk = SKPROJ_BLOCK(end - i);
            for (int s = 0; s < blk; s += 16) {
                __m256 a = _mm256_and_ps(_mm256_loadu_ps(x + i + s), msk);
                __m256 b = _mm256_and_ps(_mm256_loadu_ps(x + i + s + 8), msk);
                __m256 ma = _mm256_cmp_ps(a, vhi, _CMP_GT_OQ), mb = _mm256_cmp_ps(b, vhi, _CMP_GT_OQ);
                __m256 ha = _mm256_and_ps(a, ma), hb = _mm256_and_ps(b, mb);
                h0 = _mm256_add_pd(h0, _mm256_cvtps_pd(_mm256_castps256_ps128(ha)));
                h1 = _mm256_add_pd(h1, _mm256_cvtps_pd(_mm256_extractf128_ps(ha, 1)));
                h2 = _mm256_add_pd(h2, _mm256_cvtps_pd(_mm256_castps256_ps128(hb)));
                h3 = _mm256_add_pd(h3, _mm256_cvtps_pd(_mm256_extractf128_ps(hb, 1)));
                kc = _mm256_sub_epi32(kc, _mm256_castps_si256(ma));
                kc = _mm256_sub_epi32(kc, _mm256_castps_si256(mb));
                mask |= (uint64_t) (unsigned) (
                            _mm256_movemask_ps(_mm256_andnot_ps(ma, _mm256_cmp_ps(a, vlo, _CMP_GT_OQ)))
                            | (_mm256_movemask_ps(_mm256_andnot_ps(mb, _mm256_cmp_ps(b, vlo, _CMP_GT_OQ))) << 8))
                        << s;
            }
            SKPROJ_STORE_MASK(fabsf)
        }
        k4 = _mm_add_epi32(_mm256_castsi256_si128(kc), _mm256_extracti128_si256(kc, 1));
        _mm_storeu_si128((__m128i *) c, k4);
        kh += (Py_ssize_t) c[0] + c[1] + c[2] + c[3];
    }
    /* partial p_j (entry i = j mod 16): h0 = p0..3, h1 = p4..7, h2 = p8..11, h3 = p12..15 */
    h0 = _mm256_add_pd(_mm256_add_pd(h0, h1), _mm256_add_pd(h2, h3));
    r = _mm_add_pd(_mm256_castpd256_pd128(h0), _mm256_extractf128_pd(h0, 1));
    sh = _mm_cvtsd_f64(r) + _mm_cvtsd_f64(_mm_unpackhi_pd(r, r));
    SKPROJ_WINDOW_TAIL(fabsf)
}

SKPROJ_TARGET_AVX2
static inline Py_ssize_t skproj_window_f64_avx2(const double *x, Py_ssize_t n, int use_abs, double lo,
                                         double hi, double *dst, double *sh_out,
                                         Py_ssize_t *kh_out) {
    Py_ssize_t i = 0, nw = 0, kh = 0;
    double sh;
    const __m256d msk = _mm256_castsi256_pd(_mm256_set1_epi64x(use_abs ? 0x7fffffffffffffffLL : -1LL));
    const __m256d vlo = _mm256_set1_pd(lo), vhi = _mm256_set1_pd(hi);
    __m256d h0 = _mm256_setzero_pd(), h1 = h0, h2 = h0, h3 = h0;
    __m256i kc = _mm256_setzero_si256();
    __m128i k2;
    __m128d r;
    long long c[2];
    for (Py_ssize_t blk; i + 16 <= n; i += blk) {
        uint64_t mask = 0;
        blk = SKPROJ_BLOCK(n - i);
        for (int s = 0; s < blk; s += 16) {
            __m256d a = _mm256_and_pd(_mm256_loadu_pd(x + i + s), msk);
            __m256d b = _mm256_and_pd(_mm256_loadu_pd(x + i + s + 4), msk);
            __m256d d = _mm256_and_pd(_mm256_loadu_pd(x + i + s + 8), msk);
            __m256d e = _mm256_and_pd(_mm256_loadu_pd(x + i + s + 12), msk);
            __m256d ma = _mm256_cmp_pd(a, vhi, _CMP_GT_OQ), mb = _mm256_cmp_pd(b, vhi, _CMP_GT_OQ);
            __m256d md = _mm256_cmp_pd(d, vhi, _CMP_GT_OQ), me = _mm256_cmp_pd(e, vhi, _CMP_GT_OQ);
            h0 = _mm256_add_pd(h0, _mm256_and_pd(a, ma));
            h1 = _mm256_add_pd(h1, _mm256_and_pd(b, mb));
            h2 = _mm256_add_pd(h2, _mm256_and_pd(d, md));
            h3 = _mm256_add_pd(h3, _mm256_and_pd(e, me));
            kc = _mm256_sub_epi64(_mm256_sub_epi64(kc, _mm256_castpd_si256(ma)), _mm256_castpd_si256(mb));
            kc = _mm256_sub_epi64(_mm256_sub_epi64(kc, _mm256_castpd_si256(md)), _mm256_castpd_si256(me));
            mask |= (uint64_t) (unsigned) (
                        _mm256_movemask_pd(_mm256_andnot_pd(ma, _mm256_cmp_pd(a, vlo, _CMP_GT_OQ)))
                        | (_mm256_movemask_pd(_mm256_andnot_pd(mb, _mm256_cmp_pd(b, vlo, _CMP_GT_OQ))) << 4)
                        | (_mm256_movemask_pd(_mm256_andnot_pd(md, _mm256_cmp_pd(d, vlo, _CMP_GT_OQ))) << 8)
                        | (_mm256_movemask_pd(_mm256_andnot_pd(me, _mm256_cmp_pd(e, vlo, _CMP_GT_OQ))) << 12))
                    << s;
        }
        SKPROJ_STORE_MASK(fabs)
    }
    k2 = _mm_add_epi64(_mm256_castsi256_si128(kc), _mm256_extracti128_si256(kc, 1));
    _mm_storeu_si128((__m128i *) c, k2);
    kh = (Py_ssize_t) (c[0] + c[1]);
    h0 = _mm256_add_pd(_mm256_add_pd(h0, h1), _mm256_add_pd(h2, h3));
    r = _mm_add_pd(_mm256_castpd256_pd128(h0), _mm256_extractf128_pd(h0, 1));
    sh = _mm_cvtsd_f64(r) + _mm_cvtsd_f64(_mm_unpackhi_pd(r, r));
    SKPROJ_WINDOW_TAIL(fabs)
}

SKPROJ_TARGET_AVX2
static inline void skproj_shrink_f32_avx2(const float *x, float *o, Py_ssize_t n, int use_abs, double tau) {
    Py_ssize_t i = 0;
    const __m256 msk = _mm256_castsi256_ps(_mm256_set1_epi32(use_abs ? 0x7fffffff : -1));
    const __m256 sgn = _mm256_castsi256_ps(_mm256_set1_epi32(use_abs ? (int) 0x80000000u : 0));
    const __m256d vt = _mm256_set1_pd(tau), zero = _mm256_setzero_pd();
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i), a = _mm256_and_ps(v, msk);
        __m256d r0 = _mm256_max_pd(_mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(a)), vt), zero);
        __m256d r1 = _mm256_max_pd(_mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(a, 1)), vt), zero);
        __m256 r = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm256_cvtpd_ps(r0)), _mm256_cvtpd_ps(r1), 1);
        _mm256_storeu_ps(o + i, _mm256_or_ps(r, _mm256_and_ps(v, sgn)));
    }
    for (; i < n; i++) {
        double d = (use_abs ? fabsf(x[i]) : (double) x[i]) - tau;
        float f = (float) (d > 0.0 ? d : 0.0);
        o[i] = use_abs ? copysignf(f, x[i]) : f;
    }
}

SKPROJ_TARGET_AVX2
static inline void skproj_shrink_f64_avx2(const double *x, double *o, Py_ssize_t n, int use_abs, double tau) {
    Py_ssize_t i = 0;
    const __m256d msk = _mm256_castsi256_pd(_mm256_set1_epi64x(use_abs ? 0x7fffffffffffffffLL : -1LL));
    const __m256d sgn = _mm256_castsi256_pd(_mm256_set1_epi64x(use_abs ? (long long) 0x8000000000000000ULL : 0LL));
    const __m256d vt = _mm256_set1_pd(tau), zero = _mm256_setzero_pd();
    for (; i + 4 <= n; i += 4) {
        __m256d v = _mm256_loadu_pd(x + i);
        __m256d r = _mm256_max_pd(_mm256_sub_pd(_mm256_and_pd(v, msk), vt), zero);
        _mm256_storeu_pd(o + i, _mm256_or_pd(r, _mm256_and_pd(v, sgn)));
    }
    for (; i < n; i++) {
        double d = (use_abs ? fabs(x[i]) : x[i]) - tau;
        d = d > 0.0 ? d : 0.0;
        o[i] = use_abs ? copysign(d, x[i]) : d;
    }
}
#endif  /* SKPROJ_AVX2 */

static inline Py_ssize_t skproj_window_f32(const float *x, Py_ssize_t n, int use_abs, float lo, float hi,
                                    double *dst, double *sh_out, Py_ssize_t *kh_out) {
    Py_ssize_t i = 0, nw = 0, kh = 0;
    double sh = 0.0;
#ifdef SKPROJ_SSE2
    int level = skproj_simd_level();
#ifdef SKPROJ_AVX2
    if (level >= 2)
        return skproj_window_f32_avx2(x, n, use_abs, lo, hi, dst, sh_out, kh_out);
#endif
    if (level >= 1) {
        const __m128 msk = _mm_castsi128_ps(_mm_set1_epi32(use_abs ? 0x7fffffff : -1));
        const __m128 vlo = _mm_set1_ps(lo), vhi = _mm_set1_ps(hi);
        __m128d h[8], r01, r23;
        for (int q = 0; q < 8; q++)
            h[q] = _mm_setzero_pd();
        while (i + 16 <= n) {
            Py_ssize_t end = i + ((n - i < SKPROJ_CHUNK ? n - i : SKPROJ_CHUNK) & ~(Py_ssize_t) 15), blk;
            __m128i kc = _mm_setzero_si128();
            int c[4];
            for (; i < end; i += blk) {
                uint64_t mask = 0;
                blk = SKPROJ_BLOCK(end - i);
                for (int s = 0; s < blk; s += 4) {
                    /* entries s..s+3: partials p_(s mod 16) .. p_(s mod 16 + 3) */
                    int q = (s & 15) >> 1;
                    __m128 a = _mm_and_ps(_mm_loadu_ps(x + i + s), msk);
                    __m128 ma = _mm_cmpgt_ps(a, vhi);
                    __m128 ha = _mm_and_ps(a, ma);
                    h[q] = _mm_add_pd(h[q], _mm_cvtps_pd(ha));
                    h[q + 1] = _mm_add_pd(h[q + 1], _mm_cvtps_pd(_mm_movehl_ps(ha, ha)));
                    kc = _mm_sub_epi32(kc, _mm_castps_si128(ma));
                    mask |= (uint64_t) (unsigned) _mm_movemask_ps(_mm_andnot_ps(ma, _mm_cmpgt_ps(a, vlo)))
                            << s;
                }
                SKPROJ_STORE_MASK(fabsf)
            }
            _mm_storeu_si128((__m128i *) c, kc);
            kh += (Py_ssize_t) c[0] + c[1] + c[2] + c[3];
        }
        /* the AVX2 path's order: lanes (j, j+1) of ((p_j + p_j+4) + (p_j+8 + p_j+12)) */
        r01 = _mm_add_pd(_mm_add_pd(h[0], h[2]), _mm_add_pd(h[4], h[6]));
        r23 = _mm_add_pd(_mm_add_pd(h[1], h[3]), _mm_add_pd(h[5], h[7]));
        r01 = _mm_add_pd(r01, r23);
        sh = _mm_cvtsd_f64(r01) + _mm_cvtsd_f64(_mm_unpackhi_pd(r01, r01));
    }
#endif
    SKPROJ_WINDOW_TAIL(fabsf)
}

static inline Py_ssize_t skproj_window_f64(const double *x, Py_ssize_t n, int use_abs, double lo,
                                    double hi, double *dst, double *sh_out, Py_ssize_t *kh_out) {
    Py_ssize_t i = 0, nw = 0, kh = 0;
    double sh = 0.0;
#ifdef SKPROJ_SSE2
    int level = skproj_simd_level();
#ifdef SKPROJ_AVX2
    if (level >= 2)
        return skproj_window_f64_avx2(x, n, use_abs, lo, hi, dst, sh_out, kh_out);
#endif
    if (level >= 1) {
        const __m128d msk = _mm_castsi128_pd(_mm_set1_epi64x(use_abs ? 0x7fffffffffffffffLL : -1LL));
        const __m128d vlo = _mm_set1_pd(lo), vhi = _mm_set1_pd(hi);
        __m128d h[8], r01, r23;
        __m128i kc = _mm_setzero_si128();
        long long c[2];
        for (int q = 0; q < 8; q++)
            h[q] = _mm_setzero_pd();
        for (Py_ssize_t blk; i + 16 <= n; i += blk) {
            uint64_t mask = 0;
            blk = SKPROJ_BLOCK(n - i);
            for (int s = 0; s < blk; s += 2) {
                int q = (s & 15) >> 1;
                __m128d a = _mm_and_pd(_mm_loadu_pd(x + i + s), msk);
                __m128d ma = _mm_cmpgt_pd(a, vhi);
                h[q] = _mm_add_pd(h[q], _mm_and_pd(a, ma));
                kc = _mm_sub_epi64(kc, _mm_castpd_si128(ma));
                mask |= (uint64_t) (unsigned) _mm_movemask_pd(_mm_andnot_pd(ma, _mm_cmpgt_pd(a, vlo))) << s;
            }
            SKPROJ_STORE_MASK(fabs)
        }
        _mm_storeu_si128((__m128i *) c, kc);
        kh = (Py_ssize_t) (c[0] + c[1]);
        r01 = _mm_add_pd(_mm_add_pd(h[0], h[2]), _mm_add_pd(h[4], h[6]));
        r23 = _mm_add_pd(_mm_add_pd(h[1], h[3]), _mm_add_pd(h[5], h[7]));
        r01 = _mm_add_pd(r01, r23);
        sh = _mm_cvtsd_f64(r01) + _mm_cvtsd_f64(_mm_unpackhi_pd(r01, r01));
    }
#endif
    SKPROJ_WINDOW_TAIL(fabs)
}

static inline void skproj_shrink_f32(const float *x, float *o, Py_ssize_t n, int use_abs, double tau) {
    Py_ssize_t i = 0;
#ifdef SKPROJ_SSE2
    int level = skproj_simd_level();
#ifdef SKPROJ_AVX2
    if (level >= 2) {
        skproj_shrink_f32_avx2(x, o, n, use_abs, tau);
        return;
    }
#endif
    if (level >= 1) {
        const __m128 msk = _mm_castsi128_ps(_mm_set1_epi32(use_abs ? 0x7fffffff : -1));
        const __m128 sgn = _mm_castsi128_ps(_mm_set1_epi32(use_abs ? (int) 0x80000000u : 0));
        const __m128d vt = _mm_set1_pd(tau), zero = _mm_setzero_pd();
        for (; i + 4 <= n; i += 4) {
            __m128 v = _mm_loadu_ps(x + i), a = _mm_and_ps(v, msk);
            __m128d r0 = _mm_max_pd(_mm_sub_pd(_mm_cvtps_pd(a), vt), zero);
            __m128d r1 = _mm_max_pd(_mm_sub_pd(_mm_cvtps_pd(_mm_movehl_ps(a, a)), vt), zero);
            __m128 r = _mm_movelh_ps(_mm_cvtpd_ps(r0), _mm_cvtpd_ps(r1));
            _mm_storeu_ps(o + i, _mm_or_ps(r, _mm_and_ps(v, sgn)));
        }
    }
#endif
    for (; i < n; i++) {
        double d = (use_abs ? fabsf(x[i]) : (double) x[i]) - tau;
        float f = (float) (d > 0.0 ? d : 0.0);
        o[i] = use_abs ? copysignf(f, x[i]) : f;
    }
}

static inline void skproj_shrink_f64(const double *x, double *o, Py_ssize_t n, int use_abs, double tau) {
    Py_ssize_t i = 0;
#ifdef SKPROJ_SSE2
    int level = skproj_simd_level();
#ifdef SKPROJ_AVX2
    if (level >= 2) {
        skproj_shrink_f64_avx2(x, o, n, use_abs, tau);
        return;
    }
#endif
    if (level >= 1) {
        const __m128d msk = _mm_castsi128_pd(_mm_set1_epi64x(use_abs ? 0x7fffffffffffffffLL : -1LL));
        const __m128d sgn = _mm_castsi128_pd(_mm_set1_epi64x(use_abs ? (long long) 0x8000000000000000ULL : 0LL));
        const __m128d vt = _mm_set1_pd(tau), zero = _mm_setzero_pd();
        for (; i + 2 <= n; i += 2) {
            __m128d v = _mm_loadu_pd(x + i);
            __m128d r = _mm_max_pd(_mm_sub_pd(_mm_and_pd(v, msk), vt), zero);
            _mm_storeu_pd(o + i, _mm_or_pd(r, _mm_and_pd(v, sgn)));
        }
    }
#endif
    for (; i < n; i++) {
        double d = (use_abs ? fabs(x[i]) : x[i]) - tau;
        d = d > 0.0 ? d : 0.0;
        o[i] = use_abs ? copysign(d, x[i]) : d;
    }
}

/* The per-group passes of the l1,inf-ball projection (_l1inf.pyx), one group x[0:n]:
   skproj_maxsum_*: *amax = max_i |x_i| (exact), *l1 = sum_i |x_i| in double; the vector paths
   add entry i to partial i mod 16 over the blocks of 16 entries, reduce the partials as the
   window does (so SSE2 and AVX2 agree exactly), then add the tail in order; the plain loop
   adds in order (the same value up to rounding).
   skproj_clip_*: o_i = max(min(x_i, l), -l), l = mu rounded to the output's type (mu > 0),
   o = +0.0 when mu <= 0, a zero of x_i's sign when mu > 0 rounds to 0 in float32: the min/max
   instructions on every x86-64 path (the same values). */
#define SKPROJ_MAXSUM_TAIL(ABS)                                                                \
    for (; i < n; i++) {                                                                       \
        double y = ABS(x[i]);                                                                  \
        s += y;                                                                                \
        a = y > a ? y : a;                                                                     \
    }                                                                                          \
    *amax = a;                                                                                 \
    *l1 = s;

#if defined(SKPROJ_SSE2)
#define SKPROJ_CLAMP_F(v, l) _mm_cvtss_f32(_mm_max_ss(_mm_min_ss(_mm_set_ss(v), _mm_set_ss(l)), _mm_set_ss(-(l))))
#define SKPROJ_CLAMP_D(v, l) _mm_cvtsd_f64(_mm_max_sd(_mm_min_sd(_mm_set_sd(v), _mm_set_sd(l)), _mm_set_sd(-(l))))
#else
#define SKPROJ_CLAMP_F(v, l) ((v) < (l) ? ((v) > -(l) ? (v) : -(l)) : (l))
#define SKPROJ_CLAMP_D(v, l) ((v) < (l) ? ((v) > -(l) ? (v) : -(l)) : (l))
#endif

#ifdef SKPROJ_AVX2
/* (h0 + h1) + (h2 + h3) then the two halves, then the two lanes: the SSE2 paths' order */
#define SKPROJ_REDUCE16_AVX2(OUT)                                                              \
    {                                                                                          \
        __m256d t_ = _mm256_add_pd(_mm256_add_pd(h0, h1), _mm256_add_pd(h2, h3));              \
        __m128d r_ = _mm_add_pd(_mm256_castpd256_pd128(t_), _mm256_extractf128_pd(t_, 1));     \
        OUT = _mm_cvtsd_f64(r_) + _mm_cvtsd_f64(_mm_unpackhi_pd(r_, r_));                      \
    }

SKPROJ_TARGET_AVX2
static inline void skproj_maxsum_f32_avx2(const float *x, Py_ssize_t n, double *amax, double *l1) {
    Py_ssize_t i = 0;
    const __m256 msk = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 mx = _mm256_setzero_ps();
    __m256d h0 = _mm256_setzero_pd(), h1 = h0, h2 = h0, h3 = h0;
    __m128 m4;
    double s, a;
    for (; i + 16 <= n; i += 16) {
        __m256 u = _mm256_and_ps(_mm256_loadu_ps(x + i), msk);
        __m256 v = _mm256_and_ps(_mm256_loadu_ps(x + i + 8), msk);
        mx = _mm256_max_ps(mx, _mm256_max_ps(u, v));
        h0 = _mm256_add_pd(h0, _mm256_cvtps_pd(_mm256_castps256_ps128(u)));
        h1 = _mm256_add_pd(h1, _mm256_cvtps_pd(_mm256_extractf128_ps(u, 1)));
        h2 = _mm256_add_pd(h2, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
        h3 = _mm256_add_pd(h3, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
    }
    SKPROJ_REDUCE16_AVX2(s)
    m4 = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_shuffle_ps(m4, m4, 1));
    a = (double) _mm_cvtss_f32(m4);
    SKPROJ_MAXSUM_TAIL(fabsf)
}

SKPROJ_TARGET_AVX2
static inline void skproj_maxsum_f64_avx2(const double *x, Py_ssize_t n, double *amax, double *l1) {
    Py_ssize_t i = 0;
    const __m256d msk = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffLL));
    __m256d mx = _mm256_setzero_pd(), h0 = mx, h1 = mx, h2 = mx, h3 = mx;
    __m128d m2;
    double s, a;
    for (; i + 16 <= n; i += 16) {
        __m256d u = _mm256_and_pd(_mm256_loadu_pd(x + i), msk);
        __m256d v = _mm256_and_pd(_mm256_loadu_pd(x + i + 4), msk);
        __m256d w = _mm256_and_pd(_mm256_loadu_pd(x + i + 8), msk);
        __m256d z = _mm256_and_pd(_mm256_loadu_pd(x + i + 12), msk);
        mx = _mm256_max_pd(mx, _mm256_max_pd(_mm256_max_pd(u, v), _mm256_max_pd(w, z)));
        h0 = _mm256_add_pd(h0, u);
        h1 = _mm256_add_pd(h1, v);
        h2 = _mm256_add_pd(h2, w);
        h3 = _mm256_add_pd(h3, z);
    }
    SKPROJ_REDUCE16_AVX2(s)
    m2 = _mm_max_pd(_mm256_castpd256_pd128(mx), _mm256_extractf128_pd(mx, 1));
    a = _mm_cvtsd_f64(_mm_max_sd(m2, _mm_unpackhi_pd(m2, m2)));
    SKPROJ_MAXSUM_TAIL(fabs)
}

SKPROJ_TARGET_AVX2
static inline void skproj_clip_f32_avx2(const float *x, float *o, Py_ssize_t n, float l) {
    Py_ssize_t i = 0;
    const __m256 vl = _mm256_set1_ps(l), vn = _mm256_set1_ps(-l);
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(o + i, _mm256_max_ps(_mm256_min_ps(_mm256_loadu_ps(x + i), vl), vn));
    for (; i < n; i++)
        o[i] = SKPROJ_CLAMP_F(x[i], l);
}

SKPROJ_TARGET_AVX2
static inline void skproj_clip_f64_avx2(const double *x, double *o, Py_ssize_t n, double l) {
    Py_ssize_t i = 0;
    const __m256d vl = _mm256_set1_pd(l), vn = _mm256_set1_pd(-l);
    for (; i + 4 <= n; i += 4)
        _mm256_storeu_pd(o + i, _mm256_max_pd(_mm256_min_pd(_mm256_loadu_pd(x + i), vl), vn));
    for (; i < n; i++)
        o[i] = SKPROJ_CLAMP_D(x[i], l);
}
#endif  /* SKPROJ_AVX2 */

#ifdef SKPROJ_SSE2
/* the eight SSE2 partials h[q] (lanes p_2q, p_2q+1) in the AVX2 paths' order */
#define SKPROJ_REDUCE16_SSE2(OUT)                                                              \
    {                                                                                          \
        __m128d r01_ = _mm_add_pd(_mm_add_pd(h[0], h[2]), _mm_add_pd(h[4], h[6]));             \
        __m128d r23_ = _mm_add_pd(_mm_add_pd(h[1], h[3]), _mm_add_pd(h[5], h[7]));             \
        r01_ = _mm_add_pd(r01_, r23_);                                                         \
        OUT = _mm_cvtsd_f64(r01_) + _mm_cvtsd_f64(_mm_unpackhi_pd(r01_, r01_));                \
    }
#endif

static inline void skproj_maxsum_f32(const float *x, Py_ssize_t n, double *amax, double *l1) {
    Py_ssize_t i = 0;
    double s = 0.0, a = 0.0;
#ifdef SKPROJ_SSE2
    int level = skproj_simd_level();
#ifdef SKPROJ_AVX2
    if (level >= 2) {
        skproj_maxsum_f32_avx2(x, n, amax, l1);
        return;
    }
#endif
    if (level >= 1) {
        const __m128 msk = _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff));
        __m128 mx = _mm_setzero_ps();
        __m128d h[8];
        for (int q = 0; q < 8; q++)
            h[q] = _mm_setzero_pd();
        for (; i + 16 <= n; i += 16) {
            for (int t = 0; t < 16; t += 4) {
                __m128 u = _mm_and_ps(_mm_loadu_ps(x + i + t), msk);
                mx = _mm_max_ps(mx, u);
                h[t >> 1] = _mm_add_pd(h[t >> 1], _mm_cvtps_pd(u));
                h[(t >> 1) + 1] = _mm_add_pd(h[(t >> 1) + 1], _mm_cvtps_pd(_mm_movehl_ps(u, u)));
            }
        }
        SKPROJ_REDUCE16_SSE2(s)
        mx = _mm_max_ps(mx, _mm_movehl_ps(mx, mx));
        mx = _mm_max_ss(mx, _mm_shuffle_ps(mx, mx, 1));
        a = (double) _mm_cvtss_f32(mx);
    }
#endif
    SKPROJ_MAXSUM_TAIL(fabsf)
}

static inline void skproj_maxsum_f64(const double *x, Py_ssize_t n, double *amax, double *l1) {
    Py_ssize_t i = 0;
    double s = 0.0, a = 0.0;
#ifdef SKPROJ_SSE2
    int level = skproj_simd_level();
#ifdef SKPROJ_AVX2
    if (level >= 2) {
        skproj_maxsum_f64_avx2(x, n, amax, l1);
        return;
    }
#endif
    if (level >= 1) {
        const __m128d msk = _mm_castsi128_pd(_mm_set1_epi64x(0x7fffffffffffffffLL));
        __m128d mx = _mm_setzero_pd(), h[8];
        for (int q = 0; q < 8; q++)
            h[q] = _mm_setzero_pd();
        for (; i + 16 <= n; i += 16) {
            for (int q = 0; q < 8; q++) {
                __m128d u = _mm_and_pd(_mm_loadu_pd(x + i + 2 * q), msk);
                mx = _mm_max_pd(mx, u);
                h[q] = _mm_add_pd(h[q], u);
            }
        }
        SKPROJ_REDUCE16_SSE2(s)
        a = _mm_cvtsd_f64(_mm_max_sd(mx, _mm_unpackhi_pd(mx, mx)));
    }
#endif
    SKPROJ_MAXSUM_TAIL(fabs)
}

static inline void skproj_clip_f32(const float *x, float *o, Py_ssize_t n, double mu) {
    Py_ssize_t i = 0;
    float l = (float) mu;
    if (!(mu > 0.0)) {
        for (; i < n; i++)
            o[i] = 0.0f;
        return;
    }
    if (!(l > 0.0f)) {
        /* 0 < mu below half the smallest float: sign(x) min(|x|, mu) rounds to a zero of x's
           sign (max(min(x, +0), -0) would give -0.0 for every x) */
        for (; i < n; i++)
            o[i] = copysignf(0.0f, x[i]);
        return;
    }
#ifdef SKPROJ_SSE2
    {
        int level = skproj_simd_level();
#ifdef SKPROJ_AVX2
        if (level >= 2) {
            skproj_clip_f32_avx2(x, o, n, l);
            return;
        }
#endif
        if (level >= 1) {
            const __m128 vl = _mm_set1_ps(l), vn = _mm_set1_ps(-l);
            for (; i + 4 <= n; i += 4)
                _mm_storeu_ps(o + i, _mm_max_ps(_mm_min_ps(_mm_loadu_ps(x + i), vl), vn));
        }
    }
#endif
    for (; i < n; i++)
        o[i] = SKPROJ_CLAMP_F(x[i], l);
}

static inline void skproj_clip_f64(const double *x, double *o, Py_ssize_t n, double mu) {
    Py_ssize_t i = 0;
    if (!(mu > 0.0)) {
        for (; i < n; i++)
            o[i] = 0.0;
        return;
    }
#ifdef SKPROJ_SSE2
    {
        int level = skproj_simd_level();
#ifdef SKPROJ_AVX2
        if (level >= 2) {
            skproj_clip_f64_avx2(x, o, n, mu);
            return;
        }
#endif
        if (level >= 1) {
            const __m128d vl = _mm_set1_pd(mu), vn = _mm_set1_pd(-mu);
            for (; i + 2 <= n; i += 2)
                _mm_storeu_pd(o + i, _mm_max_pd(_mm_min_pd(_mm_loadu_pd(x + i), vl), vn));
        }
    }
#endif
    for (; i < n; i++)
        o[i] = SKPROJ_CLAMP_D(x[i], mu);
}

#endif  /* SKPROJ_SIMD_H */
