/* Vectorised loops of the weighted group prox (skproj/_kernels/_prox.pyx), on top of _simd.h
   (its SSE2 / AVX2 detection, run-time dispatch and level cap; same conventions: both vector
   paths add the same partial sums in the same order, so their results are identical). */
#ifndef SKPROJ_SIMD_PROX_H
#define SKPROJ_SIMD_PROX_H

#include "_simd.h"

/* The weighted group prox (_prox.pyx), one group of m entries z, weights d, c > 0, scale sc,
   a_j = d_j - inv_gamma > 0, p_j = d_j (z_j sc):
   skproj_secular_*: the sums of one Newton step at t, S = sum_j r_j^2 and
   dS = sum_j r_j^2 a_j u_j with u_j = 1 / (a_j t + c), r_j = p_j u_j;
   skproj_wnorm2_*: sum_j p_j^2;
   skproj_wprox_out_*: o_j = (t (p_j / (a_j t + c))) unsc, rounded to the output's type
   (entrywise: the same values on every path).
   The entries' values are computed in the same order on every path; the vector paths add them
   into 4 partial sums (entry j to partial j mod 4) reduced as (s0 + s2) + (s1 + s3), so SSE2
   and AVX2 agree exactly. */
#define SKPROJ_SECULAR_ENTRY(T)                                                                \
    double a_ = (double) d[j] - ig, u_ = 1.0 / (a_ * t + c);                                   \
    double r_ = (double) d[j] * ((double) z[j] * sc) * u_;                                     \
    r_ = r_ * r_;

#define SKPROJ_SECULAR_DEF(NAME, T)                                                            \
    static inline void NAME##_plain(const T *z, const T *d, Py_ssize_t m, Py_ssize_t j, double sc,    \
                             double ig, double c, double t, double *S, double *dS) {           \
        double s = 0.0, ds = 0.0;                                                              \
        for (; j < m; j++) {                                                                   \
            SKPROJ_SECULAR_ENTRY(T)                                                            \
            s += r_;                                                                           \
            ds += r_ * a_ * u_;                                                                \
        }                                                                                      \
        *S += s;                                                                               \
        *dS += ds;                                                                             \
    }

SKPROJ_SECULAR_DEF(skproj_secular_f32, float)
SKPROJ_SECULAR_DEF(skproj_secular_f64, double)

/* 4 entries from j as two (SSE2) or one (AVX2) vectors of doubles */
#define SKPROJ_LOAD4_SSE2_f32(P, LO, HI)                                                       \
    { __m128 v_ = _mm_loadu_ps(P); LO = _mm_cvtps_pd(v_); HI = _mm_cvtps_pd(_mm_movehl_ps(v_, v_)); }
#define SKPROJ_LOAD4_SSE2_f64(P, LO, HI)                                                       \
    { LO = _mm_loadu_pd(P); HI = _mm_loadu_pd((P) + 2); }
#define SKPROJ_LOAD4_AVX2_f32(P) _mm256_cvtps_pd(_mm_loadu_ps(P))
#define SKPROJ_LOAD4_AVX2_f64(P) _mm256_loadu_pd(P)

#ifdef SKPROJ_AVX2
#define SKPROJ_WPROX_AVX2_DEF(SFX, T)                                                          \
    SKPROJ_TARGET_AVX2                                                                         \
    static inline void skproj_secular_##SFX##_avx2(const T *z, const T *d, Py_ssize_t m, double sc,    \
                                            double ig, double c, double t, double *S_out,      \
                                            double *dS_out) {                                  \
        Py_ssize_t j = 0;                                                                      \
        const __m256d vig = _mm256_set1_pd(ig), vt = _mm256_set1_pd(t), vc = _mm256_set1_pd(c); \
        const __m256d vsc = _mm256_set1_pd(sc), one = _mm256_set1_pd(1.0);                      \
        __m256d s = _mm256_setzero_pd(), ds = s;                                               \
        __m128d r;                                                                             \
        for (; j + 4 <= m; j += 4) {                                                           \
            __m256d dd = SKPROJ_LOAD4_AVX2_##SFX(d + j), zz = SKPROJ_LOAD4_AVX2_##SFX(z + j);  \
            __m256d a = _mm256_sub_pd(dd, vig);                                                \
            __m256d u = _mm256_div_pd(one, _mm256_add_pd(_mm256_mul_pd(a, vt), vc));           \
            __m256d q = _mm256_mul_pd(_mm256_mul_pd(dd, _mm256_mul_pd(zz, vsc)), u);           \
            q = _mm256_mul_pd(q, q);                                                           \
            s = _mm256_add_pd(s, q);                                                           \
            ds = _mm256_add_pd(ds, _mm256_mul_pd(_mm256_mul_pd(q, a), u));                     \
        }                                                                                      \
        r = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));               \
        *S_out = _mm_cvtsd_f64(r) + _mm_cvtsd_f64(_mm_unpackhi_pd(r, r));                      \
        r = _mm_add_pd(_mm256_castpd256_pd128(ds), _mm256_extractf128_pd(ds, 1));              \
        *dS_out = _mm_cvtsd_f64(r) + _mm_cvtsd_f64(_mm_unpackhi_pd(r, r));                     \
        skproj_secular_##SFX##_plain(z, d, m, j, sc, ig, c, t, S_out, dS_out);                 \
    }                                                                                          \
    SKPROJ_TARGET_AVX2                                                                         \
    static inline double skproj_wnorm2_##SFX##_avx2(const T *z, const T *d, Py_ssize_t m, double sc) { \
        Py_ssize_t j = 0;                                                                      \
        const __m256d vsc = _mm256_set1_pd(sc);                                                \
        __m256d s = _mm256_setzero_pd();                                                       \
        __m128d r;                                                                             \
        double out;                                                                            \
        for (; j + 4 <= m; j += 4) {                                                           \
            __m256d p = _mm256_mul_pd(SKPROJ_LOAD4_AVX2_##SFX(d + j),                          \
                                      _mm256_mul_pd(SKPROJ_LOAD4_AVX2_##SFX(z + j), vsc));     \
            s = _mm256_add_pd(s, _mm256_mul_pd(p, p));                                         \
        }                                                                                      \
        r = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));               \
        out = _mm_cvtsd_f64(r) + _mm_cvtsd_f64(_mm_unpackhi_pd(r, r));                         \
        for (; j < m; j++) {                                                                   \
            double p = (double) d[j] * ((double) z[j] * sc);                                   \
            out += p * p;                                                                      \
        }                                                                                      \
        return out;                                                                            \
    }
SKPROJ_WPROX_AVX2_DEF(f32, float)
SKPROJ_WPROX_AVX2_DEF(f64, double)

/* the AVX2 output loops: o_j = (t (p_j / (a_j t + c))) unsc, 4 entries at a time as one vector
   of doubles; entries j < the returned index are written */
#define SKPROJ_STORE4_AVX2_f32(P, R) _mm_storeu_ps(P, _mm256_cvtpd_ps(R))
#define SKPROJ_STORE4_AVX2_f64(P, R) _mm256_storeu_pd(P, R)
#define SKPROJ_WPROX_OUT_AVX2_DEF(SFX, T)                                                      \
    SKPROJ_TARGET_AVX2                                                                         \
    static inline Py_ssize_t skproj_wprox_out_##SFX##_avx2(const T *z, const T *d, T *o, Py_ssize_t m, \
                                                         double sc, double ig, double c, double t, \
                                                         double unsc) {                        \
        Py_ssize_t j = 0;                                                                      \
        const __m256d vig = _mm256_set1_pd(ig), vt = _mm256_set1_pd(t), vc = _mm256_set1_pd(c); \
        const __m256d vsc = _mm256_set1_pd(sc), vun = _mm256_set1_pd(unsc);                    \
        for (; j + 4 <= m; j += 4) {                                                           \
            __m256d dd = SKPROJ_LOAD4_AVX2_##SFX(d + j), a = _mm256_sub_pd(dd, vig);            \
            __m256d p = _mm256_mul_pd(dd, _mm256_mul_pd(SKPROJ_LOAD4_AVX2_##SFX(z + j), vsc));  \
            SKPROJ_STORE4_AVX2_##SFX(o + j, _mm256_mul_pd(_mm256_mul_pd(vt, _mm256_div_pd(      \
                p, _mm256_add_pd(_mm256_mul_pd(a, vt), vc))), vun));                           \
        }                                                                                      \
        return j;                                                                              \
    }
SKPROJ_WPROX_OUT_AVX2_DEF(f32, float)
SKPROJ_WPROX_OUT_AVX2_DEF(f64, double)
#endif

#define SKPROJ_WPROX_DEF(SFX, T)                                                               \
    static inline void skproj_secular_##SFX(const T *z, const T *d, Py_ssize_t m, double sc,           \
                                     double ig, double c, double t, double *S_out,             \
                                     double *dS_out) {                                         \
        Py_ssize_t j = 0;                                                                      \
        int level = skproj_simd_level();                                                       \
        *S_out = 0.0;                                                                          \
        *dS_out = 0.0;                                                                         \
        SKPROJ_IF_AVX2(if (level >= 2) {                                                       \
            skproj_secular_##SFX##_avx2(z, d, m, sc, ig, c, t, S_out, dS_out);                 \
            return;                                                                            \
        })                                                                                     \
        SKPROJ_IF_SSE2(if (level >= 1) {                                                       \
            const __m128d vig = _mm_set1_pd(ig), vt = _mm_set1_pd(t), vc = _mm_set1_pd(c);     \
            const __m128d vsc = _mm_set1_pd(sc), one = _mm_set1_pd(1.0);                       \
            __m128d s0 = _mm_setzero_pd(), s1 = s0, e0 = s0, e1 = s0, dd0, dd1, zz0, zz1;      \
            for (; j + 4 <= m; j += 4) {                                                       \
                __m128d a0, a1, u0, u1, q0, q1;                                                \
                SKPROJ_LOAD4_SSE2_##SFX(d + j, dd0, dd1)                                       \
                SKPROJ_LOAD4_SSE2_##SFX(z + j, zz0, zz1)                                       \
                a0 = _mm_sub_pd(dd0, vig);                                                     \
                a1 = _mm_sub_pd(dd1, vig);                                                     \
                u0 = _mm_div_pd(one, _mm_add_pd(_mm_mul_pd(a0, vt), vc));                      \
                u1 = _mm_div_pd(one, _mm_add_pd(_mm_mul_pd(a1, vt), vc));                      \
                q0 = _mm_mul_pd(_mm_mul_pd(dd0, _mm_mul_pd(zz0, vsc)), u0);                    \
                q1 = _mm_mul_pd(_mm_mul_pd(dd1, _mm_mul_pd(zz1, vsc)), u1);                    \
                q0 = _mm_mul_pd(q0, q0);                                                       \
                q1 = _mm_mul_pd(q1, q1);                                                       \
                s0 = _mm_add_pd(s0, q0);                                                       \
                s1 = _mm_add_pd(s1, q1);                                                       \
                e0 = _mm_add_pd(e0, _mm_mul_pd(_mm_mul_pd(q0, a0), u0));                       \
                e1 = _mm_add_pd(e1, _mm_mul_pd(_mm_mul_pd(q1, a1), u1));                       \
            }                                                                                  \
            s0 = _mm_add_pd(s0, s1);                                                           \
            e0 = _mm_add_pd(e0, e1);                                                           \
            *S_out = _mm_cvtsd_f64(s0) + _mm_cvtsd_f64(_mm_unpackhi_pd(s0, s0));               \
            *dS_out = _mm_cvtsd_f64(e0) + _mm_cvtsd_f64(_mm_unpackhi_pd(e0, e0));              \
        })                                                                                     \
        skproj_secular_##SFX##_plain(z, d, m, j, sc, ig, c, t, S_out, dS_out);                 \
    }                                                                                          \
    static inline double skproj_wnorm2_##SFX(const T *z, const T *d, Py_ssize_t m, double sc) {       \
        Py_ssize_t j = 0;                                                                      \
        double out = 0.0;                                                                      \
        int level = skproj_simd_level();                                                       \
        SKPROJ_IF_AVX2(if (level >= 2) return skproj_wnorm2_##SFX##_avx2(z, d, m, sc);)        \
        SKPROJ_IF_SSE2(if (level >= 1) {                                                       \
            const __m128d vsc = _mm_set1_pd(sc);                                               \
            __m128d s0 = _mm_setzero_pd(), s1 = s0, dd0, dd1, zz0, zz1, p0, p1;                \
            for (; j + 4 <= m; j += 4) {                                                       \
                SKPROJ_LOAD4_SSE2_##SFX(d + j, dd0, dd1)                                       \
                SKPROJ_LOAD4_SSE2_##SFX(z + j, zz0, zz1)                                       \
                p0 = _mm_mul_pd(dd0, _mm_mul_pd(zz0, vsc));                                    \
                p1 = _mm_mul_pd(dd1, _mm_mul_pd(zz1, vsc));                                    \
                s0 = _mm_add_pd(s0, _mm_mul_pd(p0, p0));                                       \
                s1 = _mm_add_pd(s1, _mm_mul_pd(p1, p1));                                       \
            }                                                                                  \
            s0 = _mm_add_pd(s0, s1);                                                           \
            out = _mm_cvtsd_f64(s0) + _mm_cvtsd_f64(_mm_unpackhi_pd(s0, s0));                  \
        })                                                                                     \
        for (; j < m; j++) {                                                                   \
            double p = (double) d[j] * ((double) z[j] * sc);                                   \
            out += p * p;                                                                      \
        }                                                                                      \
        return out;                                                                            \
    }

#ifdef SKPROJ_AVX2
#define SKPROJ_IF_AVX2(...) __VA_ARGS__
#else
#define SKPROJ_IF_AVX2(...)
#endif
#ifdef SKPROJ_SSE2
#define SKPROJ_IF_SSE2(...) __VA_ARGS__
#else
#define SKPROJ_IF_SSE2(...)
#endif

SKPROJ_WPROX_DEF(f32, float)
SKPROJ_WPROX_DEF(f64, double)

#define SKPROJ_WPROX_OUT_ENTRY(T)                                                              \
    double p_ = (double) d[j] * ((double) z[j] * sc);                                          \
    o[j] = (T) ((t * (p_ / (((double) d[j] - ig) * t + c))) * unsc);

#ifdef SKPROJ_SSE2
/* the SSE2 output loops: entries j < the returned index are written */
static inline Py_ssize_t skproj_wprox_out_f32_sse2(const float *z, const float *d, float *o, Py_ssize_t m,
                                                   double sc, double ig, double c, double t, double unsc) {
    Py_ssize_t j = 0;
    const __m128d vig = _mm_set1_pd(ig), vt = _mm_set1_pd(t), vc = _mm_set1_pd(c);
    const __m128d vsc = _mm_set1_pd(sc), vun = _mm_set1_pd(unsc);
    __m128d dd[2], zz[2], r[2];
    for (; j + 4 <= m; j += 4) {
        SKPROJ_LOAD4_SSE2_f32(d + j, dd[0], dd[1])
        SKPROJ_LOAD4_SSE2_f32(z + j, zz[0], zz[1])
        for (int h = 0; h < 2; h++) {
            __m128d a = _mm_sub_pd(dd[h], vig), p = _mm_mul_pd(dd[h], _mm_mul_pd(zz[h], vsc));
            r[h] = _mm_mul_pd(_mm_mul_pd(vt, _mm_div_pd(p, _mm_add_pd(_mm_mul_pd(a, vt), vc))), vun);
        }
        _mm_storeu_ps(o + j, _mm_movelh_ps(_mm_cvtpd_ps(r[0]), _mm_cvtpd_ps(r[1])));
    }
    return j;
}

static inline Py_ssize_t skproj_wprox_out_f64_sse2(const double *z, const double *d, double *o, Py_ssize_t m,
                                                   double sc, double ig, double c, double t, double unsc) {
    Py_ssize_t j = 0;
    const __m128d vig = _mm_set1_pd(ig), vt = _mm_set1_pd(t), vc = _mm_set1_pd(c);
    const __m128d vsc = _mm_set1_pd(sc), vun = _mm_set1_pd(unsc);
    for (; j + 2 <= m; j += 2) {
        __m128d dd = _mm_loadu_pd(d + j), a = _mm_sub_pd(dd, vig);
        __m128d p = _mm_mul_pd(dd, _mm_mul_pd(_mm_loadu_pd(z + j), vsc));
        _mm_storeu_pd(o + j, _mm_mul_pd(_mm_mul_pd(vt, _mm_div_pd(p, _mm_add_pd(_mm_mul_pd(a, vt), vc))), vun));
    }
    return j;
}
#endif

/* skproj_wprox_out_f32 / _f64: the vector loop of the level in use, then the entries left */
#define SKPROJ_WPROX_OUT_DEF(SFX, T)                                                           \
    static inline void skproj_wprox_out_##SFX(const T *z, const T *d, T *o, Py_ssize_t m, double sc,  \
                                              double ig, double c, double t, double unsc) {     \
        Py_ssize_t j = 0;                                                                      \
        SKPROJ_IF_SSE2(int level = skproj_simd_level();                                        \
                       SKPROJ_IF_AVX2(if (level >= 2) j = skproj_wprox_out_##SFX##_avx2(       \
                                          z, d, o, m, sc, ig, c, t, unsc);)                    \
                       if (level == 1) j = skproj_wprox_out_##SFX##_sse2(                      \
                           z, d, o, m, sc, ig, c, t, unsc);)                                   \
        for (; j < m; j++) {                                                                   \
            SKPROJ_WPROX_OUT_ENTRY(T)                                                          \
        }                                                                                      \
    }

SKPROJ_WPROX_OUT_DEF(f32, float)
SKPROJ_WPROX_OUT_DEF(f64, double)

#endif  /* SKPROJ_SIMD_PROX_H */
