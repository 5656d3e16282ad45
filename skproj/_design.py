"""The design operator of a linear model: ``W -> diag(r) (X - 1 c^T) W^T + 1 b^T`` and its adjoint.

One operator for every linear predictor in skproj (the projected linear models and spred). It
centres the columns of ``X`` by an offset ``c`` (the weighted column means, when the intercept is
eliminated by centring) without modifying or densifying ``X``, scales the rows by ``r`` (the
square roots of the sample weights, when they are folded into the design), adds an unpenalised
intercept ``b`` when asked, works on a subset of rows (minibatches) and restricts itself to a
subset of columns (working sets). Coefficients are in scikit-learn's orientation: ``W`` of shape
(n_outputs, n_features), predictions ``Z`` of shape (n_samples, n_outputs).
"""

import numpy as np
from scipy import sparse

__all__ = ["ColumnScaled", "Design", "constant_columns", "power_iteration", "weighted_column_means"]

_DENSE_BLOCK = 2**21  # a restricted sparse block with at most this many entries is densified


def weighted_column_means(X, sample_weight):
    """Column means of ``X`` (dense or sparse, never densified) weighted by ``sample_weight``.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    sample_weight : ndarray of shape (n_samples,)
        Non-negative weights with a positive sum.

    Returns
    -------
    ndarray of shape (n_features,)
        ``X^T s / sum(s)``, in the dtype of the product.
    """
    return np.asarray(X.T @ sample_weight).ravel() / sample_weight.sum()


def constant_columns(X, sample_weight):
    """Mask of the columns of ``X`` that hold one value on all the samples of positive weight.

    With an intercept such a column carries nothing (its centred column is zero, up to the
    rounding of the mean): the linear models give it a zero coefficient.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    sample_weight : ndarray of shape (n_samples,)

    Returns
    -------
    ndarray of shape (n_features,), bool
    """
    rows = np.asarray(sample_weight) > 0
    Xr = X if rows.all() else X[rows]
    if Xr.shape[0] == 0:
        return np.ones(X.shape[1], dtype=bool)
    if sparse.issparse(Xr):
        return np.asarray(Xr.max(axis=0).toarray() == Xr.min(axis=0).toarray()).ravel()
    return np.asarray(Xr.max(axis=0) == Xr.min(axis=0))


class Design:
    """``A = diag(r) (X - 1 c^T)``, optionally followed by ``+ 1 b^T``, and its adjoint.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Kept by reference, never modified; CSR/CSC matrices stay sparse.
    offset : ndarray of shape (n_features,), default=None
        Column offset ``c`` subtracted implicitly (centring); None: no centring.
    row_scale : ndarray of shape (n_samples,), default=None
        Row scaling ``r`` (e.g. ``sqrt`` of sample weights); None: no scaling.
    intercept : bool, default=False
        Whether predictions include an intercept ``b`` (not scaled by ``r``, not centred).
    intercept_scale : float > 0, default=1.0
        The intercept's column is ``intercept_scale`` times the ones: predictions add
        ``intercept_scale * b``. A solver's intercept variable is then ``b / intercept_scale``;
        a scale of the size of the columns of ``A`` keeps one step size right for both (the
        columns of ``X`` multiplied by ``s`` and this scale by ``s`` leave a first-order method's
        iterates the same, up to the scaling).

    Notes
    -----
    ``matvec`` costs one product with ``X`` and ``rmatvec`` one with ``X^T`` (the transpose is
    built once: a sparse transpose is a new object on every access); the centring adds rank-one
    corrections ``c . w`` and ``c (1^T dZ)``.
    """

    def __init__(self, X, *, offset=None, row_scale=None, intercept=False, intercept_scale=1.0):
        self.X = X
        self.XT = X.T
        self.offset = offset
        self.row_scale = row_scale
        self.intercept = bool(intercept)
        self.intercept_scale = float(intercept_scale)
        self.n_samples, self.n_features = X.shape

    def _rows(self, rows):
        if rows is None:
            return self.X, self.row_scale
        r = None if self.row_scale is None else self.row_scale[rows]
        return self.X[rows], r

    def matvec(self, W, b=None, rows=None):
        """Predictions ``Z = diag(r) (X - 1 c^T) W^T (+ b)``.

        Parameters
        ----------
        W : ndarray of shape (n_outputs, n_features)
        b : ndarray of shape (n_outputs,), default=None
            Intercepts, added (times ``intercept_scale``) when given.
        rows : array of int, default=None
            Only these rows of ``X`` (a minibatch).

        Returns
        -------
        ndarray of shape (n_samples or len(rows), n_outputs)
        """
        X, r = self._rows(rows)
        Z = np.asarray(X @ W.T)
        if self.offset is not None:
            Z -= self.offset @ W.T
        if r is not None:
            Z *= r[:, None]
        if b is not None:
            Z += b if self.intercept_scale == 1.0 else self.intercept_scale * b
        return Z

    def rmatvec(self, dZ, rows=None, out=None):
        """Adjoint: ``(A^T dZ)^T`` and the intercept part ``intercept_scale 1^T dZ``.

        Parameters
        ----------
        dZ : ndarray of shape (n_samples or len(rows), n_outputs)
        rows : array of int, default=None
        out : ndarray of shape (n_outputs, n_features), default=None
            Written in place when given.

        Returns
        -------
        GW : ndarray of shape (n_outputs, n_features)
        gb : ndarray of shape (n_outputs,) or None
            Column sums of ``dZ`` times ``intercept_scale`` (the gradient of the intercept
            variable) when ``intercept``, else None.
        """
        if rows is None:
            XT, r = self.XT, self.row_scale
        else:
            X, r = self._rows(rows)
            XT = X.T
        colsum = dZ.sum(axis=0) if self.intercept or (self.offset is not None and r is None) else None
        gb = None
        if self.intercept:
            gb = colsum if self.intercept_scale == 1.0 else self.intercept_scale * colsum
        if r is not None:
            dZ = dZ * r[:, None]
        GW = np.asarray(XT @ dZ).T
        if out is not None:
            out[...] = GW
            GW = out
        if self.offset is not None:
            if r is not None:
                colsum = dZ.sum(axis=0)
            if out is None:
                GW = np.ascontiguousarray(GW)
            GW -= np.outer(colsum, self.offset)
        return GW, gb

    def restrict(self, mask):
        """The operator on the features of ``mask`` (a copy of those columns of ``X``).

        A sparse block is made dense when it is small (at most ``2**21`` entries, 16 MiB in
        float64): products with a small dense block are faster than sparse ones.

        Parameters
        ----------
        mask : bool ndarray of shape (n_features,) or array of int

        Returns
        -------
        Design
        """
        cols = np.flatnonzero(mask) if np.asarray(mask).dtype == bool else np.asarray(mask)
        Xs = self.X[:, cols]
        if sparse.issparse(Xs):
            Xs = Xs.toarray() if Xs.shape[0] * Xs.shape[1] <= _DENSE_BLOCK else Xs.asformat(self.X.format)
        offset = None if self.offset is None else self.offset[cols]
        return Design(Xs, offset=offset, row_scale=self.row_scale, intercept=self.intercept,
                      intercept_scale=self.intercept_scale)

    def column_norms(self, weights, centred=True):
        """Weighted l2 norms of the columns of ``A`` (no intercept column), ``X`` not densified.

        ``sqrt(sum_i s_i r_i^2 (X_ij - c_j)^2)``, from ``sum_i s_i r_i^2 X_ij^2``,
        ``sum_i s_i r_i^2 X_ij`` and ``c_j`` (one pass over the entries of ``X``), in float64.

        Parameters
        ----------
        weights : ndarray of shape (n_samples,)
            Non-negative weights ``s``.
        centred : bool, default=True
            False: the norms of the columns of ``diag(r) X`` (the offset ignored), the size of
            the entries the products sum.

        Returns
        -------
        ndarray of shape (n_features,), float64
        """
        w = np.asarray(weights, dtype=np.float64).ravel()
        if self.row_scale is not None:
            w = w * np.asarray(self.row_scale, dtype=np.float64) ** 2
        if sparse.issparse(self.X):
            sq = np.asarray(self.X.multiply(self.X).T @ w).ravel()
        else:
            sq = np.einsum("ij,ij,i->j", self.X, self.X, w, dtype=np.float64)
        if centred and self.offset is not None:
            c = np.asarray(self.offset, dtype=np.float64)
            sq = sq - 2.0 * c * np.asarray(self.XT @ w).ravel() + c * c * w.sum()
        return np.sqrt(np.maximum(sq, 0.0))

    def columns(self, idx):
        """Dense float64 columns ``A[:, idx]`` (centred and row-scaled; no intercept column).

        Parameters
        ----------
        idx : array of int

        Returns
        -------
        ndarray of shape (n_samples, len(idx)), float64
        """
        Xs = self.X[:, idx]
        Xs = Xs.toarray().astype(np.float64, copy=False) if sparse.issparse(Xs) else np.asarray(Xs, dtype=np.float64)
        if self.offset is not None:
            Xs = Xs - self.offset[idx]
        if self.row_scale is not None:
            Xs = Xs * self.row_scale[:, None]
        return Xs


class ColumnScaled:
    """``A diag(1 / s)``: a :class:`Design` with its columns divided by positive scales ``s``.

    The design of the variable ``W' = W diag(s)`` (``A W^T = A diag(1/s) W'^T``): with ``s`` the
    column norms, every column of the scaled operator has unit norm, which is Jacobi (diagonal)
    preconditioning of a first-order method on ``W'``. Only :meth:`matvec` and :meth:`rmatvec`
    (full rows) and the attributes a loss's ``lipschitz`` reads are provided.

    Parameters
    ----------
    design : Design
    scale : ndarray of shape (n_features,)
        Positive, finite column scales ``s``.
    """

    def __init__(self, design, scale):
        self.design, self.scale = design, scale
        self.n_samples, self.n_features = design.n_samples, design.n_features
        self.intercept = design.intercept
        self.intercept_scale = design.intercept_scale

    def matvec(self, W, b=None):
        """``A diag(1/s) W^T (+ b)`` for ``W`` of shape (n_outputs, n_features)."""
        return self.design.matvec(W / self.scale, b)

    def rmatvec(self, dZ):
        """``((A diag(1/s))^T dZ)^T`` and the intercept part, as :meth:`Design.rmatvec`."""
        GW, gb = self.design.rmatvec(dZ)
        return GW / self.scale, gb


def power_iteration(apply, x0, *, n_iter=30, rayleigh=True, margin=1.0, zero=0.0):
    """Largest eigenvalue of a symmetric positive semi-definite operator by power iteration.

    Parameters
    ----------
    apply : callable
        ``v -> M v`` (e.g. ``A^T H A v``), returning an array shaped like ``v``.
    x0 : ndarray
        Start vector (its shape and dtype are kept); need not be normalised.
    n_iter : int, default=30
        Number of products with ``M``.
    rayleigh : bool, default=True
        Return the last Rayleigh quotient ``v^T M v`` (``||v|| = 1``); otherwise the last
        ``||M v||``, which is at least as large. Both are lower bounds of the eigenvalue.
    margin : float, default=1.0
        Factor applied to the estimate (e.g. 1.05 for a safety margin).
    zero : float, default=0.0
        Returned when an iterate vanishes (``M v = 0``).

    Returns
    -------
    float
        ``margin * estimate`` (never negative).

    Notes
    -----
    Golub & Van Loan, "Matrix Computations", 4th ed., sec. 8.2.1 (the power method).
    """
    v = x0
    norm = float(np.linalg.norm(v))
    lam = 0.0
    for _ in range(n_iter):
        if norm == 0.0:
            return zero
        v = v / norm
        w = apply(v)
        norm = float(np.linalg.norm(w))
        lam = float(np.vdot(v, w)) if rayleigh else norm
        v = w
    if norm == 0.0:
        return zero
    return margin * max(lam, 0.0)
