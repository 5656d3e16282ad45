# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Kernels of the supervised autoencoder's minibatch step (:mod:`skproj._network`, :mod:`skproj._training`).

* :func:`csr_rows_to_dense`: the rows ``rows`` of a CSR matrix written densely into a
  preallocated buffer, so a sparse ``X`` is densified one minibatch at a time;
* :func:`reconstruction_loss_grad`: the residual ``R = Xhat - X``, the sum of the smooth L1
  (Huber, ``beta = 1``) or squared loss of ``R``, and the scaled gradient with respect to
  ``Xhat``, written over ``Xhat``, in one pass (no ``n x d`` temporaries).

No validation happens here: callers pass matching shapes, one floating dtype, CSR index
arrays of one integer dtype and in-range row indices.
"""
from cython cimport floating

ctypedef fused index_t:
    int
    long long


def csr_rows_to_dense(const floating[::1] data, const index_t[::1] indices, const index_t[::1] indptr,
                      const Py_ssize_t[::1] rows, floating[:, ::1] out):
    """``out[k] = X[rows[k]]`` densely (``out`` is zero-filled first; duplicates are summed)."""
    cdef Py_ssize_t k, j, r, ncols = out.shape[1]
    with nogil:
        for k in range(rows.shape[0]):
            for j in range(ncols):
                out[k, j] = 0
            r = rows[k]
            for j in range(indptr[r], indptr[r + 1]):
                out[k, indices[j]] += data[j]


def reconstruction_loss_grad(floating[:, ::1] Xhat, const floating[:, ::1] X, bint smooth_l1, double scale):
    """Loss sum of ``R = Xhat - X`` (smooth L1 or squared, accumulated in double), and
    ``Xhat <- scale * dloss/dR`` (``clip(R, -1, 1)`` or ``2 R``) in the arrays' precision.

    Branch-free: with ``c = clip(r, -1, 1)`` the smooth L1 loss is ``c (r - c / 2)`` (``r^2 / 2``
    inside, ``|r| - 1/2`` outside) and its derivative ``c``; four partial sums per row keep the
    double accumulation from serialising the loop.
    """
    cdef Py_ssize_t i, j, d = Xhat.shape[1], d4 = Xhat.shape[1] - Xhat.shape[1] % 4
    cdef floating r0, r1, r2, r3, c0, c1, c2, c3, fscale = <floating>scale
    cdef double s0, s1, s2, s3, total = 0.0
    cdef floating* xh
    cdef const floating* x
    with nogil:
        for i in range(Xhat.shape[0]):
            xh = &Xhat[i, 0]
            x = &X[i, 0]
            s0 = s1 = s2 = s3 = 0.0
            if smooth_l1:
                for j in range(0, d4, 4):
                    r0 = xh[j] - x[j]
                    r1 = xh[j + 1] - x[j + 1]
                    r2 = xh[j + 2] - x[j + 2]
                    r3 = xh[j + 3] - x[j + 3]
                    c0 = _clip1(r0)
                    c1 = _clip1(r1)
                    c2 = _clip1(r2)
                    c3 = _clip1(r3)
                    s0 += <double>c0 * (<double>r0 - 0.5 * c0)
                    s1 += <double>c1 * (<double>r1 - 0.5 * c1)
                    s2 += <double>c2 * (<double>r2 - 0.5 * c2)
                    s3 += <double>c3 * (<double>r3 - 0.5 * c3)
                    xh[j] = c0 * fscale
                    xh[j + 1] = c1 * fscale
                    xh[j + 2] = c2 * fscale
                    xh[j + 3] = c3 * fscale
                for j in range(d4, d):
                    r0 = xh[j] - x[j]
                    c0 = _clip1(r0)
                    s0 += <double>c0 * (<double>r0 - 0.5 * c0)
                    xh[j] = c0 * fscale
            else:
                for j in range(0, d4, 4):
                    r0 = xh[j] - x[j]
                    r1 = xh[j + 1] - x[j + 1]
                    r2 = xh[j + 2] - x[j + 2]
                    r3 = xh[j + 3] - x[j + 3]
                    s0 += <double>r0 * r0
                    s1 += <double>r1 * r1
                    s2 += <double>r2 * r2
                    s3 += <double>r3 * r3
                    xh[j] = (2 * r0) * fscale
                    xh[j + 1] = (2 * r1) * fscale
                    xh[j + 2] = (2 * r2) * fscale
                    xh[j + 3] = (2 * r3) * fscale
                for j in range(d4, d):
                    r0 = xh[j] - x[j]
                    s0 += <double>r0 * r0
                    xh[j] = (2 * r0) * fscale
            total += (s0 + s1) + (s2 + s3)
    return total


cdef extern from *:
    """
    /* clip(r, -1, 1) without branches: SSE min / max (minss(a, b) is exactly a < b ? a : b);
       elsewhere the plain conditional, which compilers may turn into branches. */
    #if defined(__SSE2__)
    #include <emmintrin.h>
    static inline float skproj_clip1f(float r) {
        return _mm_cvtss_f32(_mm_max_ss(_mm_min_ss(_mm_set_ss(r), _mm_set_ss(1.0f)), _mm_set_ss(-1.0f)));
    }
    static inline double skproj_clip1d(double r) {
        return _mm_cvtsd_f64(_mm_max_sd(_mm_min_sd(_mm_set_sd(r), _mm_set_sd(1.0)), _mm_set_sd(-1.0)));
    }
    #else
    static inline float skproj_clip1f(float r) { r = r < 1.0f ? r : 1.0f; return r > -1.0f ? r : -1.0f; }
    static inline double skproj_clip1d(double r) { r = r < 1.0 ? r : 1.0; return r > -1.0 ? r : -1.0; }
    #endif
    """
    float skproj_clip1f(float r) noexcept nogil
    double skproj_clip1d(double r) noexcept nogil


cdef inline floating _clip1(floating r) noexcept nogil:
    """``clip(r, -1, 1)``, exact, branch-free."""
    if floating is float:
        return skproj_clip1f(r)
    else:
        return skproj_clip1d(r)
