"""Smooth losses of a linear predictor: squared, binary logistic, multinomial.

Every loss is a weighted mean over samples of a per-sample loss of the predictions ``Z`` of shape
(n_samples, n_outputs):

    f(Z) = sum_i w_i l(y_i, Z_i),    w_i = s_i / sum_j s_j

with ``s`` the sample weights (unit weights: ``w_i = 1 / n``). The squared loss is
``l = 0.5 ||Z_i - Y_i||^2`` (scikit-learn's ``Lasso`` scaling ``(1 / (2 n)) ||y - X w||^2``, with
weights rescaled to sum to ``n`` as ``Lasso.fit`` does); the binary logistic loss
``l = log(1 + exp(-y_i z_i))`` with ``y_i`` in {-1, +1}; the multinomial loss
``l = logsumexp(Z_i) - Z_{i, y_i}``. On a subset of rows (a minibatch of ``m`` rows) the weights
are multiplied by ``n / m``, which makes the minibatch value an unbiased estimate of the full one.

Each loss gives the value, the gradient in ``Z``, the exact Hessian-vector product, the constant
majorant of the Hessian ``curvature * diag(w)`` (``curvature`` = 1, 1/4 and 1/2: the per-sample
Hessians are ``I``, ``p (1 - p) <= 1/4`` and ``diag(p) - p p^T <= (I - 1 1^T / K) / 2``; Bohning,
"Multinomial logistic regression algorithm", Ann. Inst. Statist. Math. 44, 1992), and through a
:class:`skproj._design.Design` ``A`` the Lipschitz constant of the gradient of ``x -> f(A x)``:
``curvature * lambda_max(A^T diag(w) A)`` (+ ``curvature * sum(w)`` for the intercept column).

Sample weights can also be folded into the design: ``SquaredLoss(sqrt(s) * Yc)`` (unit weights)
with ``Design(X, offset=x_mean, row_scale=sqrt(s))`` is the same function as
``SquaredLoss(Yc, s)`` with ``Design(X, offset=x_mean)``; the first form gives the weighted,
centred columns ``A[:, idx]`` (``Design.columns``) that an active-set method on the Gram matrix
``A_S^T A_S / n`` needs.
"""

import numpy as np
from scipy.special import expit, log_expit, logsumexp

from ._design import power_iteration

__all__ = ["SquaredLoss", "BinaryLogisticLoss", "MultinomialLoss"]


class _Loss:
    """Shared weighting, Hessian majorant and Lipschitz estimate (see the module docstring)."""

    curvature = 1.0
    bregman = None

    def _init_weights(self, n, sample_weight, dtype):
        self.n = n
        self.dtype = np.dtype(dtype)
        sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight)
        self.w = (sw / sw.sum()).astype(self.dtype)[:, None]

    def _weights(self, rows):
        if rows is None:
            return self.w
        return self.w[rows] * self.dtype.type(self.n / len(rows))

    def value(self, Z, rows=None):
        """Loss value at predictions ``Z`` (of the rows ``rows`` when given)."""
        return self.value_grad(Z, rows)[0]

    def gradient(self, Z, rows=None):
        """Gradient with respect to ``Z``, shape of ``Z``."""
        return self.value_grad(Z, rows)[1]

    def hessp_bound(self, V, rows=None):
        """``curvature * diag(w) V``: a majorant of the Hessian at every ``Z``, applied to ``V``."""
        return self.dtype.type(self.curvature) * self._weights(rows) * V

    def lipschitz(self, design, *, rng=None, n_iter=30, margin=1.05):
        """Lipschitz constant of the gradient of ``W -> f(A W^T (+ b))`` by power iteration.

        ``curvature * (margin * lambda_max(A^T diag(w) A) + a^2 sum(w) [intercept])``: the
        intercept column (``a`` times the ones, ``a = design.intercept_scale``) adds at most its
        weighted squared norm ``a^2 sum(w) = a^2`` to the largest eigenvalue.

        Parameters
        ----------
        design : skproj._design.Design
        rng : numpy.random.RandomState or None, default=None
            Draws the start vector (None: ``RandomState(0)``).
        n_iter : int, default=30
        margin : float, default=1.05
            Safety factor on the power-iteration estimate (a lower bound of the eigenvalue).

        Returns
        -------
        float
        """
        rng = np.random.RandomState(0) if rng is None else rng
        x0 = rng.standard_normal((design.n_features, 1)).T  # (1, n_features)
        w = self.w.astype(np.float64)

        def apply(v):
            return design.rmatvec(w * design.matvec(v))[0]

        lam = power_iteration(apply, x0, n_iter=n_iter, rayleigh=False, margin=margin, zero=1e-12)
        if design.intercept:
            lam += design.intercept_scale**2 * float(w.sum())
        return self.curvature * lam


class SquaredLoss(_Loss):
    """``f(Z) = 0.5 sum_i w_i ||Z_i - Y_i||^2``.

    Parameters
    ----------
    Y : ndarray of shape (n_samples, n_outputs)
        Targets (already centred when the intercept is eliminated by centring).
    sample_weight : ndarray of shape (n_samples,), default=None
        Non-negative, positive sum; normalised to ``w = s / sum(s)``.
    dtype : dtype, default=None
        Of the weights and gradients (default: ``Y.dtype``).
    """

    curvature = 1.0

    def __init__(self, Y, sample_weight=None, dtype=None):
        self.Y = Y
        self._init_weights(Y.shape[0], sample_weight, Y.dtype if dtype is None else dtype)

    def value(self, Z, rows=None):
        R = Z - (self.Y if rows is None else self.Y[rows])
        return 0.5 * float(np.vdot(self._weights(rows) * R, R))

    def value_grad(self, Z, rows=None):
        """``(f(Z), grad f(Z))``; ``Z`` holds the predictions of ``rows`` when given."""
        w = self._weights(rows)
        R = Z - (self.Y if rows is None else self.Y[rows])
        wR = w * R
        return 0.5 * float(np.vdot(wR, R)), wR

    def hessp(self, Z, V, rows=None):
        """Hessian-vector product (the Hessian ``diag(w)`` does not depend on ``Z``)."""
        return self._weights(rows) * V

    def bregman(self, Z_old, Z_new, dZ_old):
        """``f(Z_new) - f(Z_old) - <grad f(Z_old), Z_new - Z_old>`` without cancellation."""
        D = Z_new - Z_old
        return 0.5 * float(np.vdot(self.w * D, D))


class BinaryLogisticLoss(_Loss):
    """``f(z) = sum_i w_i log(1 + exp(-y_i z_i))``, ``y_i`` in {-1, +1}; predictions (n, 1).

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Encoded labels: 1 is the positive class, anything else (0 or -1) the negative one.
    sample_weight : ndarray of shape (n_samples,), default=None
    dtype : dtype, default=np.float64
    """

    curvature = 0.25

    def __init__(self, y, sample_weight=None, dtype=np.float64):
        self._init_weights(y.shape[0], sample_weight, dtype)
        self.y = np.where(np.asarray(y) == 1, 1.0, -1.0).astype(self.dtype)[:, None]

    def value(self, Z, rows=None):
        y = self.y if rows is None else self.y[rows]
        return -float(np.vdot(self._weights(rows), log_expit(y * Z)))

    def value_grad(self, Z, rows=None):
        w = self._weights(rows)
        y = self.y if rows is None else self.y[rows]
        m = y * Z
        return -float(np.vdot(w, log_expit(m))), -w * y * expit(-m)

    def hessp(self, Z, V, rows=None):
        p = expit(Z)
        return self._weights(rows) * p * (1 - p) * V


class MultinomialLoss(_Loss):
    """``f(Z) = sum_i w_i (logsumexp(Z_i) - Z_{i, y_i})`` (softmax cross-entropy).

    Parameters
    ----------
    y : ndarray of int, shape (n_samples,)
        Class indices in ``0 .. n_classes - 1``.
    n_classes : int
    sample_weight : ndarray of shape (n_samples,), default=None
    dtype : dtype, default=np.float64
    """

    curvature = 0.5

    def __init__(self, y, n_classes, sample_weight=None, dtype=np.float64):
        n = y.shape[0]
        self._init_weights(n, sample_weight, dtype)
        self.onehot = np.zeros((n, n_classes), dtype=self.dtype)
        self.onehot[np.arange(n), y] = 1

    @staticmethod
    def _shifted(Z):
        """``(Z - max_k Z, log sum_k exp(Z - max_k Z))`` row-wise.

        The per-sample loss is then ``lse_s - (Z_y - max)``: a well-classified sample's small
        loss keeps its relative precision (``logsumexp(Z) - Z_y`` would round it to
        ``eps * |Z|``, which makes function-value tests such as FISTA's restart noisy).
        """
        S = Z - Z.max(axis=1, keepdims=True)
        return S, np.log(np.exp(S).sum(axis=1, keepdims=True))

    def value(self, Z, rows=None):
        onehot = self.onehot if rows is None else self.onehot[rows]
        S, lse = self._shifted(Z)
        return float(np.vdot(self._weights(rows), lse - (S * onehot).sum(axis=1, keepdims=True)))

    def value_grad(self, Z, rows=None):
        w = self._weights(rows)
        onehot = self.onehot if rows is None else self.onehot[rows]
        S, lse = self._shifted(Z)
        f = float(np.vdot(w, lse - (S * onehot).sum(axis=1, keepdims=True)))
        return f, w * (np.exp(S - lse) - onehot)

    def hessp(self, Z, V, rows=None):
        P = np.exp(Z - logsumexp(Z, axis=1, keepdims=True))
        PV = P * V
        return self._weights(rows) * (PV - P * PV.sum(axis=1, keepdims=True))
