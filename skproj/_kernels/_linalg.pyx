# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Updates and solves with a Cholesky factor kept in a larger buffer (for active-set solvers).

``R`` is a C-contiguous square buffer whose leading ``k x k`` block holds an upper-triangular
factor ``H = R^T R`` of a symmetric positive-definite matrix over an ordered set of ``k``
coordinates. The active-set solver (the feature-sign polishing of ``skproj.spred``) adds and
removes coordinates one at a time; each change costs ``O(k^2)`` here instead of the ``O(k^3)``
of a new factorisation, and no copy of the leading block is needed (LAPACK wrappers would
copy it, since its leading dimension is the buffer's). No validation happens here: callers pass
``0 <= j < k <= R.shape[0]``, a factor with a positive diagonal and vectors of length ``>= k``.
Arithmetic is done in double; results are written in the buffer's precision.
"""
from cython cimport floating
from libc.math cimport sqrt


def cholesky_delete(floating[:, ::1] R, Py_ssize_t k, Py_ssize_t j):
    """Remove coordinate ``j`` from the factor of size ``k``, in place; the new factor (of
    ``H`` without row and column ``j``) is the leading ``(k - 1) x (k - 1)`` block.

    Deleting column ``j`` of ``R`` leaves an upper-Hessenberg block in columns ``j..k-2``; Givens
    rotations of rows ``c, c + 1`` (``c = j..k-2``) restore the triangle (Golub & Van Loan,
    Matrix Computations, 4th ed., sec. 6.5.2). ``R^T R`` is unchanged by the rotations.
    """
    cdef Py_ssize_t i, c, l
    cdef double a, b, r, cs, sn, x, z
    with nogil:
        for i in range(k):  # shift columns j+1..k-1 one to the left
            for l in range(j, k - 1):
                R[i, l] = R[i, l + 1]
            R[i, k - 1] = 0.0
        for c in range(j, k - 1):
            a = R[c, c]
            b = R[c + 1, c]
            if b == 0.0:
                if a < 0.0:  # keep the diagonal positive
                    for l in range(c, k - 1):
                        R[c, l] = -R[c, l]
                continue
            r = sqrt(a * a + b * b)
            cs = a / r
            sn = b / r
            for l in range(c, k - 1):
                x = R[c, l]
                z = R[c + 1, l]
                R[c, l] = <floating> (cs * x + sn * z)
                R[c + 1, l] = <floating> (cs * z - sn * x)
            R[c + 1, c] = 0.0
        for l in range(k):
            R[k - 1, l] = 0.0


def cholesky_append(floating[:, ::1] R, Py_ssize_t k, const double[::1] h, double h_new,
                    double[::1] work):
    """Append one coordinate to the factor of size ``k``, in place, given its column ``h``
    (length ``k``) of ``H`` and its diagonal entry ``h_new``; ``work`` is scratch of length
    ``>= k``.

    Solves ``R^T x = h`` (forward substitution, row-oriented so that rows of ``R`` are read
    contiguously) and sets column ``k`` to ``x`` and the new diagonal to ``sqrt(h_new - x.x)``.
    Returns ``h_new - x.x``; when it is not positive the new coordinate is (numerically) a
    combination of the others, and the buffer's row and column ``k`` are not usable.
    """
    cdef Py_ssize_t i, l
    cdef double xi, s = 0.0
    with nogil:
        for i in range(k):
            work[i] = h[i]
        for i in range(k):
            xi = work[i] / R[i, i]
            R[i, k] = <floating> xi
            s += xi * xi
            for l in range(i + 1, k):
                work[l] -= xi * R[i, l]
        s = h_new - s
        for l in range(k):
            R[k, l] = 0.0
        R[k, k] = <floating> (sqrt(s) if s > 0.0 else 0.0)
    return s


def cholesky_solve(const floating[:, ::1] R, Py_ssize_t k, double[::1] b):
    """Solve ``R^T R x = b`` in place (``b`` of length ``>= k``; its first ``k`` entries)."""
    cdef Py_ssize_t i, l
    cdef double xi, s
    with nogil:
        for i in range(k):  # R^T z = b, row-oriented
            xi = b[i] / R[i, i]
            b[i] = xi
            for l in range(i + 1, k):
                b[l] -= xi * R[i, l]
        for i in range(k - 1, -1, -1):  # R x = z
            s = b[i]
            for l in range(i + 1, k):
                s -= R[i, l] * b[l]
            b[i] = s / R[i, i]
