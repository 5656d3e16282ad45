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
    ``Xhat <- scale * dloss/dR`` (``clip(R, -1, 1)`` or ``2 R``) in the arrays' precision."""
    cdef Py_ssize_t i, j
    cdef floating r, a, fscale = <floating>scale
    cdef double total = 0.0
    with nogil:
        for i in range(Xhat.shape[0]):
            for j in range(Xhat.shape[1]):
                r = Xhat[i, j] - X[i, j]
                if smooth_l1:
                    a = r if r >= 0 else -r
                    if a < 1:
                        total += 0.5 * <double>r * r
                        Xhat[i, j] = r * fscale
                    else:
                        total += <double>a - 0.5
                        Xhat[i, j] = (1 if r > 0 else -1) * fscale
                else:
                    total += <double>r * r
                    Xhat[i, j] = (2 * r) * fscale
    return total
