"""L1 and group-L1 regularised linear models solved by the spred reparametrisation.

spred (Ziyin & Wang, "spred: Solving L1 Penalty with SGD", ICML 2023, arXiv 2210.01212) writes
every weight as a product ``w = u * v`` and replaces the L1 penalty by weight decay,

    min_{u, v}  L(u * v) + (alpha / 2) (||u||^2 + ||v||^2),                      (paper, eq. 2)

which is smooth and has the same minimisers as ``min_w L(w) + alpha ||w||_1`` because
``min_{u * v = w} (|u|^2 + |v|^2) / 2 = |w|`` (attained at ``|u| = |v| = sqrt|w|``; paper, Thm. 1).
With a gate shared by a group of weights, ``w_j = m_{g(j)} * v_j`` and decay
``(alpha / 2) (sum_g omega_g^2 m_g^2 + ||v||^2)``, the same argument gives
``min_{m v_g = w_g} (omega_g^2 m^2 + ||v_g||^2) / 2 = omega_g ||w_g||_2`` (minimise
``(omega^2 m^2 + ||w_g||^2 / m^2) / 2`` over ``m``: ``m^2 = ||w_g|| / omega``), i.e. the group
lasso ``alpha sum_g omega_g ||w_g||_2``; we use ``omega_g = sqrt(|g|)``.

The estimators here solve the smooth problem (full-batch L-BFGS, or minibatch Adam with
coupled weight decay as in the paper), then

1. *exact zeros*: one proximal-gradient step of the original (non-smooth) problem,
   ``w <- prox_{(alpha / L) pen}(w - grad L(w) / L)`` with ``L`` the Lipschitz constant of
   ``grad L``. A point is an L1 (group-L1) minimiser iff it is a fixed point of this map, so the
   threshold ``|w_j - g_j / L| <= alpha / L`` (``||w_g - g_g / L|| <= alpha omega_g / L``) is
   the one the optimality conditions give; there is no free constant.
2. *polishing* (``polish=True``): an active-set method on the support found above that makes
   the KKT conditions of the L1 problem hold to ``tol``. For the squared loss with the L1
   penalty this is the feature-sign search of Lee, Battle, Raina & Ng ("Efficient sparse coding
   algorithms", NIPS 2006, Alg. 1): exact linear solves on the support with fixed signs, a line
   search over the sign-change points, and re-activation of every coordinate that violates
   ``|X_j^T r| / n <= alpha``. Activating many violators at once (for speed) loses the
   method's strict-descent guarantee, which holds for one at a time; near ``|S| = rank(X)`` the
   search could then cycle. After a few KKT checks without a lower objective it turns safe:
   one activation at a time, an exact line search on the convex piecewise-quadratic segment, a
   step along a null direction of ``X_S`` when ``|S| > rank`` (the loss is unchanged and a
   coordinate reaches zero; Tibshirani, "The lasso problem and uniqueness", 2013, Lemma 14),
   or else one exact coordinate-descent step, so the objective then decreases monotonically.
   The linear solves use a Cholesky factor of ``X_S^T X_S / n`` that is updated when a
   coordinate enters (forward substitution) or leaves (Givens rotations; Golub & Van Loan,
   Matrix Computations, sec. 6.5) instead of being recomputed, and the KKT conditions are
   checked on a working set (the columns used so far) before all ``d`` columns are.
   For other losses / group penalties it is FISTA with adaptive
   restart (Beck & Teboulle 2009; O'Donoghue & Candes 2015) warm-started at the spred solution,
   run until the KKT violation is below ``tol``.
"""

import copy
import numbers
import warnings

import numpy as np
import scipy.linalg
import scipy.optimize
import scipy.sparse as sp
from scipy.special import expit, log_softmax, logsumexp, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import SelectorMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from threadpoolctl import ThreadpoolController
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._kernels import _linalg
from .prox import prox_group_l2, prox_l1

__all__ = ["SpredRegressor", "SpredClassifier"]

_PATIENCE = 5  # iterations with an unchanged support that end L-BFGS when polishing follows
_ROUND_ITER = 50  # most L-BFGS iterations per working-set round when polishing follows
_ROUND_PATIENCE = 5  # rounds without a smaller working set that end the L-BFGS rounds (polishing on)
_STALL_CHECKS = 3  # KKT checks without a lower objective before the feature-sign search turns safe
_MAX_FACTOR_CHANGES = 16  # more coordinates changing at once: a new Cholesky factorisation
_MAX_FACTOR_UPDATES = 200  # updates of the Cholesky factor before a new factorisation
_WORKING_SET_BATCH = 100  # columns added to the feature-sign search's cache per full KKT check
_BLAS_THREADS = None  # BLAS threads for the matrix products inside L-BFGS (None: the default)


# --------------------------------------------------------------------------------------------
# losses: value and gradient with respect to W (n_features, K) and the intercepts b (K,)
# --------------------------------------------------------------------------------------------


class _SquaredLoss:
    """(1 / (2 n)) sum_i s_i ||y_i - x_i W - b||^2 with the intercept eliminated by centering.

    ``s`` are the sample weights rescaled to sum to ``n`` (as scikit-learn's Lasso does). The
    weighted centering is implicit (``X`` is never copied), so sparse ``X`` works too:
    ``A w = sqrt(s) * (X w - x_mean . w)``, ``A^T r = X^T (sqrt(s) r) - x_mean (sqrt(s) . r)``.
    """

    has_intercept = False

    def __init__(self, X, Y, sample_weight, fit_intercept):
        n = X.shape[0]
        self.X, self.n = X, n
        s = None if sample_weight is None else sample_weight * (n / sample_weight.sum())
        self.sqrt_s = None if s is None else np.sqrt(s)
        if fit_intercept:
            w_ = np.full(n, 1.0 / n) if s is None else s / n
            self.x_mean = np.asarray(X.T @ w_).ravel()
            self.y_mean = w_ @ Y
        else:
            self.x_mean = np.zeros(X.shape[1])
            self.y_mean = np.zeros(Y.shape[1])
        yc = Y - self.y_mean
        self.Y = yc if self.sqrt_s is None else yc * self.sqrt_s[:, None]
        self.fit_intercept = fit_intercept

    def matvec(self, W, rows=None):
        X = self.X if rows is None else self.X[rows]
        out = np.asarray(X @ W) - self.x_mean @ W
        if self.sqrt_s is not None:
            out *= (self.sqrt_s if rows is None else self.sqrt_s[rows])[:, None]
        return out

    def rmatvec(self, R, rows=None):
        X = self.X if rows is None else self.X[rows]
        if self.sqrt_s is not None:
            R = R * (self.sqrt_s if rows is None else self.sqrt_s[rows])[:, None]
        return np.asarray(X.T @ R) - np.outer(self.x_mean, R.sum(axis=0))

    def columns(self, idx):
        """Dense weighted, centered columns ``A[:, idx]``."""
        Xs = self.X[:, idx]
        Xs = Xs.toarray() if sp.issparse(Xs) else np.asarray(Xs, dtype=np.float64)
        Xs = Xs - self.x_mean[idx]
        if self.sqrt_s is not None:
            Xs *= self.sqrt_s[:, None]
        return Xs

    def value_grad(self, W, b, rows=None):
        Yr = self.Y if rows is None else self.Y[rows]
        m = self.n if rows is None else len(rows)
        R = Yr - self.matvec(W, rows)
        return 0.5 * np.vdot(R, R) / m, -self.rmatvec(R, rows) / m, b[:0]

    def lipschitz(self, rng):
        return _power_iteration(self.matvec, self.rmatvec, self.X.shape[1], rng) / self.n

    def intercept(self, W):
        return self.y_mean - self.x_mean @ W


class _LogisticLoss:
    """(1 / S) sum_i s_i l(y_i, x_i W + b), ``S = sum_i s_i``; binary (K = 1) or multinomial."""

    has_intercept = True

    def __init__(self, X, y_enc, n_classes, sample_weight, fit_intercept):
        self.X, self.n = X, X.shape[0]
        s = np.ones(self.n) if sample_weight is None else sample_weight
        self.s = s / s.sum()
        self.binary = n_classes == 2
        self.y = y_enc.astype(np.float64)
        if not self.binary:
            self.Yoh = np.zeros((self.n, n_classes))
            self.Yoh[np.arange(self.n), y_enc] = 1.0
        self.fit_intercept = fit_intercept

    def value_grad(self, W, b, rows=None):
        X = self.X if rows is None else self.X[rows]
        s = self.s if rows is None else self.s[rows] * (self.n / len(rows))
        Z = np.asarray(X @ W) + b
        if self.binary:
            y = self.y if rows is None else self.y[rows]
            z = Z[:, 0]
            val = s @ (np.logaddexp(0.0, z) - y * z)
            dZ = (s * (expit(z) - y))[:, None]
        else:
            Yoh = self.Yoh if rows is None else self.Yoh[rows]
            val = -np.sum(s[:, None] * Yoh * log_softmax(Z, axis=1))
            dZ = s[:, None] * (softmax(Z, axis=1) - Yoh)
        GW = np.asarray(X.T @ dZ)
        gb = dZ.sum(axis=0) if self.fit_intercept else np.zeros(Z.shape[1])
        return val, GW, gb

    def lipschitz(self, rng):
        d = self.X.shape[1]
        sq = np.sqrt(self.s)
        X = self.X

        def mv(w):
            return sq[:, None] * np.asarray(X @ w)

        def rmv(r):
            return np.asarray(X.T @ (sq[:, None] * r))

        lam = _power_iteration(mv, rmv, d, rng)
        if self.fit_intercept:
            lam += 1.0  # the intercept column has weighted squared norm sum(s) = 1
        return (0.25 if self.binary else 0.5) * lam


def _power_iteration(mv, rmv, d, rng, n_iter=30):
    """Largest eigenvalue of A^T A by power iteration (with a 5% safety margin)."""
    x = rng.standard_normal((d, 1))
    x /= np.linalg.norm(x)
    lam = 0.0
    for _ in range(n_iter):
        y = rmv(mv(x))
        lam = float(np.linalg.norm(y))
        if lam == 0.0:
            return 1e-12
        x = y / lam
    return 1.05 * lam


# --------------------------------------------------------------------------------------------
# penalties: value, prox, KKT violation
# --------------------------------------------------------------------------------------------


class _Penalty:
    """``sum |W|`` (groups is None) or ``sum_k sum_g omega_g ||W[g, k]||_2``."""

    def __init__(self, gid, n_groups):
        self.gid = gid
        self.n_groups = n_groups
        if gid is not None:
            sizes = np.bincount(gid, minlength=n_groups)
            self.omega = np.sqrt(sizes.astype(np.float64))
            # position of each feature inside its group: groups become the rows of a
            # zero-padded (n_groups, max size) array for the public group prox
            order = np.argsort(gid, kind="stable")
            starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
            self.pos = np.empty_like(gid)
            self.pos[order] = np.arange(gid.size) - starts[gid[order]]
            self.max_size = int(sizes.max(initial=1))

    def group_norms(self, W):
        sq = np.zeros((self.n_groups, W.shape[1]))
        np.add.at(sq, self.gid, W * W)
        return np.sqrt(sq)

    def value(self, W):
        if self.gid is None:
            return np.abs(W).sum()
        return float(self.omega @ self.group_norms(W).sum(axis=1))

    def prox(self, Z, t):
        """prox of ``t * pen`` (soft / group soft threshold)."""
        if self.gid is None:
            return prox_l1(Z, t)
        # prox of t * omega_g ||.||_2 at z is omega_g * prox_{t ||.||_2}(z / omega_g): one call
        # of the public group soft thresholding on the zero-padded groups (rows (g, k))
        K = Z.shape[1]
        padded = np.zeros((self.n_groups, K, self.max_size))
        padded[self.gid, :, self.pos] = Z / self.omega[self.gid][:, None]
        out = prox_group_l2(padded.reshape(self.n_groups * K, self.max_size), t, axis=1)
        out = out.reshape(self.n_groups, K, self.max_size)
        return out[self.gid, :, self.pos] * self.omega[self.gid][:, None]

    def kkt(self, W, G, alpha):
        """Largest violation of the optimality conditions, relative to ``alpha`` (x omega_g)."""
        if alpha == 0:
            return float(np.max(np.abs(G), initial=0.0))
        if self.gid is None:
            v = np.where(W != 0, np.abs(G + alpha * np.sign(W)), np.maximum(np.abs(G) - alpha, 0))
            return float(np.max(v, initial=0.0)) / alpha
        nW = self.group_norms(W)
        with np.errstate(divide="ignore", invalid="ignore"):
            U = W / np.where(nW > 0, nW, 1.0)[self.gid]
        D = G + alpha * self.omega[self.gid][:, None] * U
        nD = self.group_norms(D)
        nG = self.group_norms(G)
        a = alpha * self.omega[:, None]
        v = np.where(nW > 0, nD, np.maximum(nG - a, 0.0)) / a
        return float(np.max(v, initial=0.0))


# --------------------------------------------------------------------------------------------
# the spred problem
# --------------------------------------------------------------------------------------------


class _SpredProblem:
    """Smooth objective in (u, v, b) [or (m, v, b) with groups] and its gradient."""

    def __init__(self, loss, pen, alpha, d, K):
        self.loss, self.pen, self.alpha, self.d, self.K = loss, pen, alpha, d, K
        self.nu = d * K if pen.gid is None else pen.n_groups * K
        self.nb = K if loss.has_intercept and loss.fit_intercept else 0

    def split(self, x):
        d, K, nu = self.d, self.K, self.nu
        u = x[:nu].reshape(-1, K)
        v = x[nu : nu + d * K].reshape(d, K)
        b = x[nu + d * K :] if self.nb else np.zeros(K if self.loss.has_intercept else 0)
        return u, v, b

    def weights(self, u, v):
        return u * v if self.pen.gid is None else u[self.pen.gid] * v

    def pack(self, W, b):
        """Balanced factorisation of W: |u| = |v| = sqrt|W| (or m_g^2 = ||W_g|| / omega_g)."""
        if self.pen.gid is None:
            u = np.sign(W) * np.sqrt(np.abs(W))
            v = np.sqrt(np.abs(W))
        else:
            m = np.sqrt(self.pen.group_norms(W) / self.pen.omega[:, None])
            with np.errstate(divide="ignore", invalid="ignore"):
                v = np.where(m[self.pen.gid] > 0, W / m[self.pen.gid], 0.0)
            u = m
        parts = [u.ravel(), v.ravel()]
        if self.nb:
            parts.append(np.asarray(b, dtype=np.float64).ravel())
        return np.concatenate(parts)

    def fun(self, x, rows=None, cache=None):
        u, v, b = self.split(x)
        W = self.weights(u, v)
        f, G, gb = self.loss.value_grad(W, b, rows)
        if cache is not None:
            cache["W"], cache["G"] = W, G
        a = self.alpha
        if self.pen.gid is None:
            f += 0.5 * a * (np.vdot(u, u) + np.vdot(v, v))
            gu = G * v + a * u
            gv = G * u + a * v
        else:
            om2 = (self.pen.omega**2)[:, None]
            f += 0.5 * a * (np.sum(om2 * u * u) + np.vdot(v, v))
            gu = np.zeros_like(u)
            np.add.at(gu, self.pen.gid, G * v)
            gu += a * om2 * u
            gv = G * u[self.pen.gid] + a * v
        parts = [gu.ravel(), gv.ravel()]
        if self.nb:
            parts.append(gb)
        return f, np.concatenate(parts)


def _objective(loss, pen, alpha, W, b):
    f, G, gb = loss.value_grad(W, b)
    return f + alpha * pen.value(W), G, gb


def _initial_weights(loss, pen, alpha, K, L, coef_init, b_init, rng):
    """Starting point with no zero entry (u = v = 0 is a stationary point of the spred problem).

    From ``W0`` (the warm-start coefficients, or zero), take the gradient step
    ``W0 - grad L(W0) / L`` and fill the entries that are still zero with +-1e-3 times the
    largest magnitude, with random signs.
    """
    W0 = coef_init
    _, G, _ = loss.value_grad(W0, b_init)
    W = W0 - G / L
    scale = np.max(np.abs(W), initial=0.0)
    if scale == 0:
        scale = 1.0
    zero = W == 0
    W[zero] = 1e-3 * scale * rng.choice([-1.0, 1.0], size=int(zero.sum()))
    # keep the warm-start entries themselves where they are non-zero
    keep = W0 != 0
    W[keep] = W0[keep]
    return W


# --------------------------------------------------------------------------------------------
# polishing
# --------------------------------------------------------------------------------------------


class _GramCache:
    """Dense columns of ``A_U`` and their Gram matrix ``A_U^T A_U / n`` for a growing set ``U``.

    The active sets of the feature-sign search change by a few coordinates per iteration, so
    the Gram matrix restricted to ``S`` is gathered from this cache (``O(|S|^2)``) instead of
    being recomputed (``O(n |S|^2)``); new columns cost ``O(n |U| m)`` for ``m`` new ones. The
    columns are stored as the rows of ``At`` (so gathering the columns of ``S`` copies contiguous
    rows), in buffers that grow geometrically; ``idx`` lists the cached columns in cache order
    and ``pos`` maps a column to its place (-1 when not cached).
    """

    def __init__(self, loss, d):
        self.loss = loss
        self.pos = np.full(d, -1, dtype=np.intp)
        self.m = 0
        self._idx = np.empty(0, dtype=np.intp)
        self._At = np.empty((0, loss.n))
        self._G = np.empty((0, 0))

    @property
    def idx(self):
        return self._idx[: self.m]

    @property
    def At(self):
        return self._At[: self.m]

    @property
    def G(self):
        return self._G[: self.m, : self.m]

    def add(self, idx):
        new = np.unique(idx[self.pos[idx] < 0])
        if not new.size:
            return
        n, m0 = self.loss.n, self.m
        m = m0 + new.size
        if m > self._At.shape[0]:  # grow the buffers by half at least
            cap = max(m, (3 * self._At.shape[0]) // 2, 64)
            At, G, ix = np.empty((cap, n)), np.empty((cap, cap)), np.empty(cap, dtype=np.intp)
            At[:m0], G[:m0, :m0], ix[:m0] = self._At[:m0], self._G[:m0, :m0], self._idx[:m0]
            self._At, self._G, self._idx = At, G, ix
        self._At[m0:m] = self.loss.columns(new).T
        cross = self._At[:m] @ self._At[m0:m].T / n  # (m, m - m0): old and new against new
        self._G[:m, m0:m] = cross
        self._G[m0:m, :m0] = cross[:m0].T
        self._idx[m0:m] = new
        self.pos[new] = np.arange(m0, m)
        self.m = m

    def product(self, w):
        """``A w`` for a coefficient vector ``w`` of length ``d`` (its non-zeros get cached)."""
        idx = np.flatnonzero(w)
        self.add(idx)
        return w[idx] @ self._At[self.pos[idx]]

    def rproduct(self, r):
        """``A^T r / n`` on the cached columns, as a vector of length ``d`` (zero elsewhere)."""
        g = np.zeros(self.pos.size)
        g[self.idx] = self.At @ r / self.loss.n
        return g

    def diag(self, j):
        """``||A_j||^2 / n`` of a cached column ``j``."""
        return float(self._G[self.pos[j], self.pos[j]])


def _exact_line_search(qa, qb, qc, n, alpha, w, dw):
    """Minimise ``F(t) = (qa - 2 t qb + t^2 qc) / (2 n) + alpha ||w + t dw||_1`` over ``[0, 1]``.

    ``F`` is a convex piecewise quadratic (``qa = ||r||^2``, ``qb = r^T A dw``, ``qc =
    ||A dw||^2`` for the residual ``r`` at ``w``); its derivative is increasing and piecewise
    linear, with kinks at ``t_j = -w_j / dw_j``, so the minimiser is found exactly by walking
    the sorted kinks. Returns ``(t, F(t))``; ``t = 0`` when ``dw`` is not a descent direction.
    """
    absw = np.abs(w)
    F = lambda t: 0.5 * (qa - 2.0 * t * qb + t * t * qc) / n + alpha * np.abs(w + t * dw).sum()  # noqa: E731
    # slope of the l1 term just after t = 0: coordinates at zero move away from it
    sgn = np.where(w != 0, np.sign(w), np.sign(dw))
    slope = float(sgn @ dw)
    towards = (w * dw < 0)  # these reach zero at t_j = |w_j / dw_j| and then move away
    tk = absw[towards] / np.abs(dw[towards])
    jump = 2.0 * np.abs(dw[towards])
    order = np.argsort(tk)
    tk, jump = tk[order], jump[order]
    lo = 0.0
    for i in range(tk.size + 1):
        hi = tk[i] if i < tk.size else 1.0
        hi = min(hi, 1.0)
        # F'(t) = (t qc - qb) / n + alpha * slope on (lo, hi)
        if qc > 0:
            t0 = (qb - n * alpha * slope) / qc
        else:
            t0 = np.inf if qb - n * alpha * slope > 0 else -np.inf
        if t0 <= lo:
            t = lo
            break
        if t0 < hi or hi >= 1.0:
            t = min(t0, hi)
            break
        slope += jump[i]
        lo = hi
    return t, F(t)


def _coordinate_step(w, g, alpha, tol, gram):
    """One exact coordinate-descent step, in place, on the coordinate of ``w`` that violates its
    lasso optimality condition most (``g`` is the gradient of the smooth part at ``w``); returns
    False, changing nothing, when no condition is violated by more than ``alpha * tol``."""
    viol = np.where(w != 0, np.abs(g + alpha * np.sign(w)), np.maximum(np.abs(g) - alpha, 0.0))
    j = int(np.argmax(viol))
    if not viol[j] > alpha * tol:
        return False
    gram.add(np.array([j]))
    h = gram.diag(j)
    if not h > 0:  # a zero column: its coefficient is best at zero
        w[j] = 0.0
        return True
    z = w[j] - g[j] / h
    w[j] = np.sign(z) * max(abs(z) - alpha / h, 0.0)
    return True


def _drop_along_null_direction(H, w):
    """Move ``w`` (all non-zero) along ``eta``, the eigenvector of the smallest eigenvalue of
    ``H = A_S^T A_S / n`` (a null direction of ``A_S`` when ``H`` is singular, so the residual
    does not change), in the sense that does not increase ``||w||_1`` (``sign(w) . eta <= 0``),
    until the first coordinate reaches zero; that coordinate is set to exactly zero. Returns
    None when no coordinate moves towards zero along that direction."""
    _, vecs = scipy.linalg.eigh(H, subset_by_index=[0, 0], check_finite=False)
    eta = vecs[:, 0]
    if np.sign(w) @ eta > 0:
        eta = -eta
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(w * eta < 0, -w / eta, np.inf)
    j = int(np.argmin(t))
    if not np.isfinite(t[j]):
        return None
    out = w + t[j] * eta
    out[j] = 0.0
    return out


class _ActiveCholesky:
    """Cholesky factor ``G_SS = R^T R`` of the cached Gram matrix on an ordered active set ``S``
    (``order``), updated one coordinate at a time.

    A removed coordinate costs a column deletion and Givens rotations, an added one a forward
    substitution (kernels in ``skproj._kernels._linalg``, ``O(|S|^2)`` each), instead of the
    gather and ``O(|S|^3)`` factorisation of a new ``G_SS``. More than ``_MAX_FACTOR_CHANGES``
    changes at once, or a new coordinate that is numerically a combination of the others, make
    :meth:`update` return False (the caller refactorises, or falls back to least squares).
    """

    def __init__(self, gram):
        self.gram = gram
        self.order = np.empty(0, dtype=np.intp)
        self.R = np.zeros((0, 0))
        self.work = np.empty(0)
        self.valid = False
        self.n_updates = 0

    def _reserve(self, k):
        if k > self.R.shape[0]:
            cap = max(k, (3 * self.R.shape[0]) // 2, 64)
            R = np.zeros((cap, cap))
            m = self.order.size
            R[:m, :m] = self.R[:m, :m]
            self.R, self.work = R, np.empty(cap)

    def factorise(self, S):
        p = self.gram.pos[S]
        try:
            R = scipy.linalg.cholesky(self.gram.G[np.ix_(p, p)], lower=False, check_finite=False)
        except np.linalg.LinAlgError:
            self.valid = False
            return False
        self.order = np.empty(0, dtype=np.intp)
        self._reserve(S.size)
        self.order = np.array(S, dtype=np.intp)
        self.R[: S.size, : S.size] = R
        self.n_updates = 0
        self.valid = True
        return True

    def update(self, S):
        if not self.valid:
            return False
        keep = np.isin(self.order, S, assume_unique=True)
        drop = np.flatnonzero(~keep)
        new = S[~np.isin(S, self.order, assume_unique=True)]
        if drop.size + new.size > _MAX_FACTOR_CHANGES or self.n_updates >= _MAX_FACTOR_UPDATES:
            return False
        self.n_updates += 1
        k = self.order.size
        for j in drop[::-1]:
            _linalg.cholesky_delete(self.R, k, j)
            k -= 1
        self.order = self.order[keep]
        if new.size:
            self._reserve(k + new.size)
            G, pos = self.gram.G, self.gram.pos
            for j in new:
                pj = pos[j]
                h = G[pj, pos[self.order]]  # G is symmetric: a row gather
                s = _linalg.cholesky_append(self.R, k, h, G[pj, pj], self.work)
                if not s > 1e-10 * G[pj, pj]:
                    self.valid = False
                    return False
                self.order = np.append(self.order, j)
                k += 1
        return True

    def solve(self, rhs):
        """``G_SS^{-1} rhs`` for ``rhs`` in the order of ``order``."""
        x = np.array(rhs, dtype=np.float64)
        _linalg.cholesky_solve(self.R, x.size, x)
        return x


def _feature_sign(loss, alpha, W, tol, max_iter):
    """Feature-sign search (Lee et al. 2006, Alg. 1) per output column, for the squared loss.

    Minimises (1 / (2n)) ||y - A w||^2 + alpha ||w||_1 starting from ``W``: on the active set
    with fixed signs theta the problem is the quadratic ``(A_S^T A_S / n) w_S = A_S^T y / n -
    alpha theta_S``; a discrete line search over the points where coefficients change sign keeps
    every step a strict descent step; then every inactive j with ``|A_j^T r| / n > alpha (1 +
    tol)`` is activated with sign ``-sign(g_j)``. ``A_S^T A_S`` is gathered from a cache of the
    Gram matrix of every column used so far (:class:`_GramCache`). The active set is kept at
    most ``rank(A) <= n - 1`` (``n`` without intercept) coordinates when possible, since a
    lasso problem has a solution with at most that many non-zeros (Tibshirani 2013, Lemma 14)
    and the quadratic is singular beyond it. Returns (W, n_iter, converged).
    """
    n = loss.n
    d = W.shape[0]
    rank = n - 1 if loss.fit_intercept else n
    W = W.copy()
    total_iter = 0
    converged = True
    gram = _GramCache(loss, d)
    for k in range(W.shape[1]):
        y = loss.Y[:, k]
        w = W[:, k]
        nz = np.flatnonzero(w)
        nz = nz[np.argsort(-np.abs(w[nz]), kind="stable")]  # the largest first
        # keep the ``rank`` largest; the violated KKT conditions bring back any that is needed
        w[nz[rank:]] = 0.0
        theta = np.sign(w)
        # the first working set: the starting support before truncation (its largest entries)
        gram.add(nz[: 3 * rank])
        c = gram.At @ y / n  # A_U^T y / n, extended when U grows
        ok = False
        fac, fresh = _ActiveCholesky(gram), True
        F_best, stalled, safe = np.inf, 0, False
        for it in range(max_iter):
            total_iter += 1
            S = np.flatnonzero(theta)
            if S.size:
                gram.add(S)
                if c.size < gram.m:
                    c = np.concatenate([c, gram.At[c.size:] @ y / n])
                if fresh or not fac.update(S):
                    fac.factorise(S)
                if fac.valid:
                    S = fac.order  # the factor's order
                    p = gram.pos[S]
                    w_new = fac.solve(c[p] - alpha * theta[S])
                else:  # singular on S
                    p = gram.pos[S]
                    w_new = scipy.linalg.lstsq(gram.G[np.ix_(p, p)], c[p] - alpha * theta[S],
                                               check_finite=False)[0]
                fresh = False
                w_cur = w[S]
                dw = w_new - w_cur
                # residuals along the segment: r(t) = r_cur - t A_S dw; the squared loss is a
                # quadratic in t, evaluated at every candidate step at once
                AS = gram.At[p]  # the columns of S, as rows
                r_cur = y - w_cur @ AS
                Adw = dw @ AS
                qa, qb, qc = r_cur @ r_cur, r_cur @ Adw, Adw @ Adw

                F0 = 0.5 * qa / n + alpha * np.abs(w_cur).sum()
                # discrete line search (Lee et al. 2006): the full step and the points where a
                # coordinate changes sign; the last ones become exact zeros
                with np.errstate(divide="ignore", invalid="ignore"):
                    t_zero = np.where((w_cur != 0) & (w_cur * w_new <= 0), w_cur / (w_cur - w_new), np.inf)
                ts = np.concatenate([[1.0], np.unique(t_zero[(t_zero > 0) & (t_zero < 1)])])
                vals = 0.5 * (qa - 2.0 * ts * qb + ts * ts * qc) / n + alpha * np.abs(
                    w_cur + ts[:, None] * dw).sum(axis=1)
                i_best = int(np.argmin(vals))
                t, Ft = float(ts[i_best]), float(vals[i_best])
                # Several coordinates activated at once lose the strict-descent guarantee of
                # feature-sign (it holds for one at a time, at an exact optimum on the previous
                # set); the best candidate is still taken, which is much faster in practice.
                # After _STALL_CHECKS KKT checks without a lower objective the search turns
                # safe: one activation at a time, an exact line search and, if rounding still
                # prevents descent (|S| near rank(A)), an exact coordinate step instead.
                if not Ft < F0 and safe:
                    t, Ft = _exact_line_search(qa, qb, qc, n, alpha, w_cur, dw)
                    if not Ft < F0:
                        nz = np.flatnonzero(w)
                        moved = None
                        if nz.size > rank:
                            # singular quadratic on the non-zeros: move along a null direction
                            # of A_nz (the loss is unchanged), the way that does not increase
                            # the l1 norm, until a coordinate reaches zero; this shrinks the
                            # support (Tibshirani 2013, Lemma 14). Kept only if F does not rise.
                            gram.add(nz)
                            pn = gram.pos[nz]
                            moved = _drop_along_null_direction(gram.G[np.ix_(pn, pn)], w[nz])
                            if moved is not None:
                                trial = w.copy()
                                trial[nz] = moved
                                r_t = y - gram.product(trial)
                                F_t = 0.5 * (r_t @ r_t) / n + alpha * np.abs(trial).sum()
                                moved = trial if F_t <= F0 else None  # F0 = F(w)
                        if moved is not None:
                            w[:] = moved
                        else:
                            # one exact coordinate-descent step on the coordinate violating its
                            # optimality condition most: a strict descent
                            r = y - gram.product(w)
                            if not _coordinate_step(w, -gram.rproduct(r), alpha, tol, gram):
                                g = -loss.rmatvec(r[:, None])[:, 0] / n  # all d columns
                                if not _coordinate_step(w, g, alpha, tol, gram):
                                    ok = True  # every KKT condition holds to tol
                                    break
                        theta = np.sign(w)
                        fresh = True
                        continue
                elif not Ft < F0:
                    stalled += 1  # an accepted step that does not descend
                    safe = stalled >= _STALL_CHECKS
                ws = w_cur + t * dw
                ws[t_zero == t] = 0.0  # the coordinates changing sign at t become exact zeros
                cross = np.isfinite(t_zero)  # coordinates whose sign the full step changes
                if cross.any() and t < 1.0:
                    # also try the orthant projection of the full step (as in OWL-QN, Andrew &
                    # Gao 2007), which can drop many coordinates at once; keep it only if better
                    wp = np.where(cross, 0.0, w_new)
                    rp = y - wp @ AS
                    Fp = 0.5 * (rp @ rp) / n + alpha * np.abs(wp).sum()
                    if Fp < Ft:
                        ws, t = wp, 0.5
                theta_S = theta[S]
                w[:] = 0.0
                w[S] = ws
                theta = np.sign(w)
                if t < 1.0 or np.any(theta[S] != theta_S):
                    # signs changed (a coordinate reached zero, or a new one came out with the
                    # sign opposite to the one assumed): re-solve before checking optimality
                    continue
            # optimal on the active set with consistent signs: check the KKT conditions, first
            # on the cached columns U only (O(n |U|)); on all d columns (O(n d)) once they hold
            # on U. Violators outside U join U in batches, so that the next checks see them.
            r = y - gram.product(w)
            g = -gram.rproduct(r)
            if S.size and fac.valid and fac.n_updates:
                act = theta != 0
                if np.max(np.abs(g[act] + alpha * theta[act])) > alpha * tol:
                    fresh = True  # an updated factor not accurate enough: refactorise and re-solve
                    continue
            viol = (theta == 0) & (np.abs(g) > alpha * (1.0 + tol))
            if not viol.any():
                # the active coordinates too (a singular solve can leave them off)
                if _coordinate_step(w, g, alpha, tol, gram):
                    theta = np.sign(w)
                    fresh = True
                    continue
                g = -loss.rmatvec(r[:, None])[:, 0] / n
                viol = (theta == 0) & (np.abs(g) > alpha * (1.0 + tol))
                if not viol.any():
                    ok = True  # every KKT condition holds to tol (the active ones hold on U)
                    break
                out = np.flatnonzero(viol)
                gram.add(out[np.argsort(-np.abs(g[out]))[:_WORKING_SET_BATCH]])
            F_now = 0.5 * (r @ r) / n + alpha * np.abs(w).sum()
            if F_now < F_best * (1.0 - 1e-15):
                F_best, stalled = F_now, 0
            else:
                stalled += 1
                safe = stalled >= _STALL_CHECKS
            cand = np.flatnonzero(viol)
            n_act = np.count_nonzero(theta)
            n_add = 1 if safe else max(10, n_act)
            if n_act + n_add > rank:  # stay within the rank when possible (at least one)
                n_add = max(1, rank - n_act)
            cand = cand[np.argsort(-np.abs(g[cand]))[:n_add]]  # the most violating first
            theta[cand] = -np.sign(g[cand])
        W[:, k] = w
        converged &= ok
    return W, total_iter, converged


def _fista(loss, pen, alpha, W, b, L, tol, max_iter):
    """FISTA with backtracking and adaptive restart on loss + alpha * pen (b unpenalised)."""
    F_cur, G, gb = _objective(loss, pen, alpha, W, b)
    Y, yb = W.copy(), b.copy()
    t, restarted = 1.0, False
    for it in range(1, max_iter + 1):
        f_y, G_y, gb_y = loss.value_grad(Y, yb)
        while True:
            W_new = pen.prox(Y - G_y / L, alpha / L)
            b_new = yb - gb_y / L
            f_new, G_new, gb_new = loss.value_grad(W_new, b_new)
            D, db = W_new - Y, b_new - yb
            if f_new <= f_y + np.vdot(G_y, D) + gb_y @ db + 0.5 * L * (np.vdot(D, D) + db @ db) + 1e-15 * abs(f_y):
                break
            L *= 2.0
        F_new = f_new + alpha * pen.value(W_new)
        t_new = 0.5 * (1 + np.sqrt(1 + 4 * t * t))
        if F_new > F_cur and not restarted:  # adaptive restart (function scheme)
            Y, yb = W.copy(), b.copy()
            t, restarted = 1.0, True
            continue
        # after a restart Y = W and the step is a plain proximal-gradient step, which descends
        # up to rounding: accept it so that rounding near the optimum cannot stall the loop
        restarted = False
        beta = (t - 1) / t_new
        Y, yb = W_new + beta * (W_new - W), b_new + beta * (b_new - b)
        W, b, F_cur, t = W_new, b_new, F_new, t_new
        kkt = pen.kkt(W, G_new, alpha)
        gmax = float(np.max(np.abs(gb_new), initial=0.0)) / max(alpha, 1e-300)
        if max(kkt, gmax) <= tol:
            return W, b, it, True
    return W, b, max_iter, False


# --------------------------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------------------------


def _solve(loss, pen, alpha, d, K, *, solver, max_iter, tol, polish, batch_size, learning_rate,
           coef_init, b_init, rng, verbose):
    """Solve min loss(W, b) + alpha * pen(W); returns W (d, K), b (K or 0), n_iter, converged."""
    L = loss.lipschitz(rng)
    prob = _SpredProblem(loss, pen, alpha, d, K)
    W0 = _initial_weights(loss, pen, alpha, K, L, coef_init, b_init, rng)
    x0 = prob.pack(W0, b_init)
    if solver == "lbfgs":
        W, b, n_iter, stage1_ok = _lbfgs_rounds(loss, pen, alpha, K, L, W0, b_init, max_iter, tol,
                                                polish, verbose)
    else:
        x, n_iter, stage1_ok = _adam(prob, x0, loss.n, max_iter, tol, batch_size, learning_rate, rng)
        u, v, b = prob.split(x)
        W = prob.weights(u, v)
        if verbose:
            F, _, _ = _objective(loss, pen, alpha, W, b)
            print(f"[spred] sgd: {n_iter} epochs, objective {F:.10g}")
        # exact zeros: one proximal-gradient step (fixed-point map of the L1 problem)
        _, G, gb = loss.value_grad(W, b)
        W = pen.prox(W - G / L, alpha / L)
        if loss.has_intercept and loss.fit_intercept:
            b = b - gb / L
    converged = stage1_ok
    if polish:
        if isinstance(loss, _SquaredLoss) and pen.gid is None and alpha > 0:
            # single-threaded BLAS: the k x k factorisations are small, and a threaded BLAS
            # is many times slower on them when the machine is loaded
            with ThreadpoolController().limit(limits=1, user_api="blas"):
                W, it, converged = _feature_sign(loss, alpha, W, tol, max_iter)
        else:
            W, b, it, converged = _fista(loss, pen, alpha, W, b, L, tol, max_iter)
        n_iter += it
        if verbose:
            F, _, _ = _objective(loss, pen, alpha, W, b)
            print(f"[spred] polish: {it} iterations, objective {F:.10g}")
    return W, b, n_iter, converged


def _sub_loss(loss, S):
    """The same loss on the feature subset ``S`` (a shallow copy with ``X[:, S]``)."""
    sub = copy.copy(loss)
    sub.X = loss.X[:, S]
    if isinstance(loss, _SquaredLoss):
        sub.x_mean = loss.x_mean[S]
    return sub


def _lbfgs_rounds(loss, pen, alpha, K, L, W, b, max_iter, tol, polish, verbose, max_rounds=50):
    """spred with L-BFGS-B, in rounds on a shrinking working set.

    A round runs L-BFGS-B on the spred problem restricted to the features whose coefficients
    are non-zero (with the l1 penalty; all features with groups), then takes the proximal step
    of the full problem, which zeroes the inactive coordinates exactly and gives the violating
    ones (``|g_j| > alpha``) a non-zero value. Repacking this point as a balanced (u, v) starts
    the next round: it moves the coordinates that are stuck near the saddle ``u_j = v_j = 0``
    out of it, which plain L-BFGS on the spred problem does only very slowly. Rounds stop when
    the support and signs are unchanged by a round or, with polishing on, when
    ``_ROUND_PATIENCE`` rounds in a row have not made the working set smaller than it has been
    (it then oscillates, as when the solution has about ``n`` non-zeros out of ``d >> n``
    features; the feature-sign polishing is faster from there). Within a round, with polishing on, L-BFGS
    stops once the proximal-step support has not changed for ``_PATIENCE`` iterations
    (otherwise on the relative decrease ``1e-3 * tol`` of the objective).
    """
    ctl = ThreadpoolController()
    n_threads = max([p["num_threads"] for p in ctl.select(user_api="blas").info()] or [1])
    n_threads = _BLAS_THREADS or n_threads
    n_iter = 0
    sig_prev = None
    ok = False
    best_size, since_best = np.inf, 0
    for rnd in range(max_rounds):
        S = np.flatnonzero(np.any(W != 0, axis=1)) if pen.gid is None else np.arange(W.shape[0])
        sub = _sub_loss(loss, S) if S.size < W.shape[0] else loss
        prob = _SpredProblem(sub, pen, alpha, S.size, K)
        cache = {}
        state = {"sig": None, "same": 0}

        def fun(x):
            # BLAS threads only inside the objective: scipy's L-BFGS-B makes many tiny BLAS
            # calls that are much slower with a threaded BLAS on a loaded machine.
            with ctl.limit(limits=n_threads, user_api="blas"):
                return prob.fun(x, cache=cache)

        def callback(intermediate_result):
            if not polish or "W" not in cache:
                return
            sig = np.sign(pen.prox(cache["W"] - cache["G"] / L, alpha / L))
            if state["sig"] is not None and np.array_equal(sig, state["sig"]):
                state["same"] += 1
                if state["same"] >= _PATIENCE:
                    raise StopIteration
            else:
                state["same"] = 0
            state["sig"] = sig

        budget = min(max_iter - n_iter, _ROUND_ITER) if polish else max_iter - n_iter
        if budget <= 0:
            break
        with ctl.limit(limits=1, user_api="blas"):
            res = scipy.optimize.minimize(
                fun, prob.pack(W[S], b), jac=True, method="L-BFGS-B", callback=callback,
                options=dict(maxiter=budget, maxcor=10, gtol=0.0, ftol=tol * 1e-3,
                             maxfun=2 * budget + 20),
            )
        n_iter += int(res.nit)
        u, v, b = prob.split(res.x)
        W = np.zeros_like(W)
        W[S] = prob.weights(u, v)
        # exact zeros: one proximal-gradient step (fixed-point map of the L1 problem)
        _, G, gb = loss.value_grad(W, b)
        W = pen.prox(W - G / L, alpha / L)
        if loss.has_intercept and loss.fit_intercept:
            b = b - gb / L
        sig = np.sign(W)
        if verbose:
            F, _, _ = _objective(loss, pen, alpha, W, b)
            print(f"[spred] round {rnd}: {res.nit} L-BFGS iterations on {S.size} features, "
                  f"support {int(np.count_nonzero(sig))}, objective {F:.10g}")
        if sig_prev is not None and np.array_equal(sig, sig_prev):
            ok = True
            break
        sig_prev = sig
        if not np.any(W):
            ok = True
            break
        size = np.count_nonzero(np.any(W != 0, axis=1))
        if size < best_size:
            best_size, since_best = size, 0
        else:
            since_best += 1
            if polish and since_best >= _ROUND_PATIENCE:
                break  # the working set no longer shrinks: leave the rest to the polishing
    return W, b, n_iter, ok


def _adam(prob, x0, n, max_epochs, tol, batch_size, lr, rng):
    """Minibatch Adam on the spred objective; the weight decay is coupled (it is part of the
    gradient fed to Adam, as in the paper), not decoupled as in AdamW. Stops when the epoch
    objective changes by less than ``tol`` relative over an epoch."""
    x = x0.copy()
    m = np.zeros_like(x)
    s = np.zeros_like(x)
    b1, b2, eps = 0.9, 0.999, 1e-8
    bs = min(batch_size, n)
    step = 0
    f_prev = prob.fun(x)[0]
    for epoch in range(1, max_epochs + 1):
        perm = rng.permutation(n)
        for start in range(0, n, bs):
            rows = perm[start : start + bs]
            _, g = prob.fun(x, rows if len(rows) < n else None)
            step += 1
            m = b1 * m + (1 - b1) * g
            s = b2 * s + (1 - b2) * g * g
            x -= lr * (m / (1 - b1**step)) / (np.sqrt(s / (1 - b2**step)) + eps)
        f = prob.fun(x)[0]
        if abs(f_prev - f) <= tol * max(abs(f), 1e-300):
            return x, epoch, True
        f_prev = f
    return x, max_epochs, False


def _parse_groups(groups, n_features):
    """Group ids (n_features,) -> (gid in 0..G-1, G); a list of index arrays must partition."""
    if groups is None:
        return None, 0
    if isinstance(groups, (list, tuple)) and len(groups) and not np.isscalar(groups[0]):
        gid = np.full(n_features, -1, dtype=np.intp)
        for g, idx in enumerate(groups):
            idx = np.asarray(idx, dtype=np.intp)
            if idx.size and (idx.min() < -n_features or idx.max() >= n_features):
                raise ValueError(f"groups[{g}] has an index out of range for {n_features} features.")
            if np.any(gid[idx] >= 0):
                raise ValueError("groups must not overlap: a feature appears in two groups.")
            gid[idx] = g
        if np.any(gid < 0):
            raise ValueError("groups must cover every feature (each feature in exactly one group).")
        return gid, len(groups)
    labels = np.asarray(groups)
    if labels.ndim != 1 or labels.shape[0] != n_features:
        raise ValueError(
            f"groups must have one group id per feature ({n_features}), got shape {labels.shape}."
        )
    _, gid = np.unique(labels, return_inverse=True)
    return gid.astype(np.intp), int(gid.max()) + 1


_COMMON_DOC = """
    groups : array-like of shape (n_features,) or list of index arrays, default=None
        Group id of every feature, or a list of index arrays partitioning the features. When
        given, ``w_j = m_{g(j)} * v_j`` with decay ``(alpha / 2)(sum_g |g| m_g^2 + ||v||^2)``,
        whose minimum over the factorisations of ``w`` is the group-lasso penalty
        ``alpha * sum_g sqrt(|g|) ||w_g||_2`` (see the module docstring); with several outputs
        / classes every output column has its own gates, so the penalty is summed over columns.
    fit_intercept : bool, default=True
        Fit an unpenalised intercept.
    solver : {"lbfgs", "sgd"}, default="lbfgs"
        ``"lbfgs"``: scipy's L-BFGS-B on the smooth spred problem, full batch. ``"sgd"``:
        minibatch Adam with coupled weight decay (the paper's recipe), for large ``n``.
    max_iter : int, default=1000
        Most L-BFGS iterations (``"lbfgs"``) or epochs (``"sgd"``); also the most iterations of
        the polishing step.
    tol : float, default=1e-4
        Tolerance. The fit has converged when the largest violation of the KKT conditions of
        the L1 (group-L1) problem, divided by the penalty level, is ``<= tol`` (after polishing;
        without polishing, when the smooth solver has converged). L-BFGS stops when the relative
        decrease of the spred objective falls below ``1e-3 * tol``.
    polish : bool, default=True
        Run the active-set / FISTA polishing step after the threshold (module docstring).
    batch_size : int, default=256
        Minibatch size of ``solver="sgd"``.
    learning_rate : float, default=1e-2
        Adam step size of ``solver="sgd"``.
    warm_start : bool, default=False
        Start from the previous ``coef_`` / ``intercept_`` (zero entries are re-seeded, since
        ``u = v = 0`` is a stationary point of the spred problem).
    random_state : int, RandomState instance or None, default=None
        Seeds the power iteration that estimates the Lipschitz constant, the signs given to
        entries that start at zero, and the minibatch order of ``solver="sgd"``.
    verbose : int, default=0
        Print the objective after each stage.
"""


class _SpredBase(SelectorMixin, BaseEstimator):
    _parameter_constraints = {
        "groups": ["array-like", list, None],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions({"lbfgs", "sgd"})],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "polish": ["boolean"],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def _get_support_mask(self):
        check_is_fitted(self)
        coef = np.atleast_2d(self.coef_)
        return np.any(coef != 0, axis=0)

    def _warm(self, d, K, nb):
        if self.warm_start and hasattr(self, "coef_"):
            coef = np.atleast_2d(self.coef_)
            if coef.shape == (K, d):
                b = np.broadcast_to(np.asarray(self.intercept_, dtype=np.float64), (K,))
                return coef.T.astype(np.float64).copy(), (b.copy() if nb else np.zeros(0))
        return np.zeros((d, K)), np.zeros(K if nb else 0)

    def _run(self, loss, alpha, d, K):
        gid, n_groups = _parse_groups(self.groups, d)
        pen = _Penalty(gid, n_groups)
        rng = check_random_state(self.random_state)
        W0, b0 = self._warm(d, K, loss.has_intercept)
        W, b, n_iter, converged = _solve(
            loss, pen, alpha, d, K, solver=self.solver, max_iter=self.max_iter, tol=self.tol,
            polish=self.polish, batch_size=self.batch_size, learning_rate=self.learning_rate,
            coef_init=W0, b_init=b0, rng=rng, verbose=self.verbose,
        )
        if not converged:
            warnings.warn(
                f"{type(self).__name__} did not converge in max_iter={self.max_iter} iterations "
                f"to tol={self.tol}; increase max_iter.",
                ConvergenceWarning,
            )
        return W, b, n_iter


class SpredRegressor(RegressorMixin, _SpredBase):
    __doc__ = """Lasso (or group lasso) solved through the spred reparametrisation ``w = u * v``.

    Minimises scikit-learn's :class:`~sklearn.linear_model.Lasso` objective

        (1 / (2 S)) sum_i s_i (y_i - x_i . w - b)^2 + alpha ||w||_1,    S = sum_i s_i,

    (unit weights give ``(1 / (2 n)) ||y - X w - b||^2``; this is exactly how ``Lasso.fit``
    uses ``sample_weight``: it rescales them to sum to ``n``) through the smooth problem
    ``(1/(2S)) sum_i s_i (y_i - x_i (u * v) - b)^2 + (alpha / 2)(||u||^2 + ||v||^2)`` of Ziyin &
    Wang, ICML 2023, arXiv 2210.01212 (eq. 2, Thm. 1). The intercept is eliminated by weighted
    centering. With a 2-D ``y`` of ``K`` columns every output has its own ``u``, ``v``, so the
    penalty is ``alpha sum_{j,k} |W_jk|`` (``Lasso`` on each column, as scikit-learn's ``Lasso``
    does with a 2-D ``y``). ``u = v = 0`` is a saddle point, so the start is balanced but never
    zero: ``|u| = |v| = sqrt|w0|`` with ``w0 = X^T y / (n L)`` (one gradient step from zero) and
    ``u`` carrying the sign. Exact zeros and the polishing step are described in
    :mod:`skproj.spred`. Computations are in float64.

    Parameters
    ----------
    alpha : float, default=1.0
        Penalty level (>= 0), as in ``Lasso``.
    """ + _COMMON_DOC + """
    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients; exact zeros outside the support.
    intercept_ : float or ndarray of shape (n_targets,)
        Intercept (0.0 when ``fit_intercept=False``).
    n_iter_ : int
        Iterations of the smooth solver plus those of the polishing step.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from skproj import SpredRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = SpredRegressor(alpha=0.1).fit(X, y)
    >>> int((reg.coef_ != 0).sum())
    7
    """

    _parameter_constraints = {
        **_SpredBase._parameter_constraints,
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
    }

    def __init__(self, alpha=1.0, *, groups=None, fit_intercept=True, solver="lbfgs", max_iter=1000,
                 tol=1e-4, polish=True, batch_size=256, learning_rate=1e-2, warm_start=False,
                 random_state=None, verbose=0):
        self.alpha = alpha
        self.groups = groups
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.polish = polish
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights (see the objective above).

        Returns
        -------
        self : SpredRegressor
        """
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], dtype=np.float64,
                             multi_output=True, y_numeric=True)
        sw = None
        if sample_weight is not None:
            sw = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
            if sw.sum() <= 0:
                raise ValueError("sample_weight must have a positive sum.")
        Y = y[:, None] if y.ndim == 1 else y
        K = Y.shape[1]
        loss = _SquaredLoss(X, Y.astype(np.float64), sw, self.fit_intercept)
        W, _, n_iter = self._run(loss, float(self.alpha), X.shape[1], K)
        b = loss.intercept(W)
        if y.ndim == 1:
            self.coef_ = W[:, 0].copy()
            self.intercept_ = float(b[0]) if self.fit_intercept else 0.0
        else:
            self.coef_ = np.ascontiguousarray(W.T)
            self.intercept_ = b if self.fit_intercept else np.zeros(K)
        self.n_iter_ = n_iter
        return self

    def predict(self, X):
        """Predict ``X @ coef_.T + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc"], dtype=np.float64, reset=False)
        return np.asarray(X @ np.asarray(self.coef_).T) + self.intercept_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.input_tags.sparse = True
        return tags


class SpredClassifier(ClassifierMixin, _SpredBase):
    __doc__ = """L1 (or group-L1) logistic regression solved through the spred reparametrisation.

    Minimises scikit-learn 1.9's :class:`~sklearn.linear_model.LogisticRegression` objective
    with ``l1_ratio=1``:

        C sum_i s_i l(y_i, x_i W + b) + ||W||_1

    where ``l`` is the binary logistic loss (one coefficient vector, ``coef_`` of shape
    ``(1, n_features)``) or, with three or more classes, the multinomial (softmax) loss with one
    coefficient vector per class (``coef_`` of shape ``(n_classes, n_features)``; the penalty is
    on all entries); the intercepts are unpenalised. scikit-learn sums (does not average) the
    loss over samples, multiplied by ``C``; in 1.9 the ``lbfgs`` / ``newton`` solvers divide the
    penalty by ``C * sum(s)`` and the ``saga`` solver by ``C * n``, which have the same
    minimisers. Internally we minimise the equivalent ``(1 / S) sum_i s_i l_i + alpha ||W||_1``
    with ``S = sum_i s_i``, ``alpha = 1 / (C S)``, via ``W = U * V`` and decay
    ``(alpha / 2)(||U||^2 + ||V||^2)`` (Ziyin & Wang, ICML 2023, arXiv 2210.01212, eq. 2).
    Start, exact zeros and polishing are as in :class:`SpredRegressor`. Computations in float64.

    Parameters
    ----------
    C : float, default=1.0
        Inverse penalty strength (> 0), as in ``LogisticRegression``.
    """ + _COMMON_DOC + """
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Coefficients; exact zeros outside the support.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts (zeros when ``fit_intercept=False``).
    n_iter_ : ndarray of shape (1,)
        Iterations of the smooth solver plus those of the polishing step.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import scale
    >>> from skproj import SpredClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = SpredClassifier(C=0.05).fit(scale(X), y)
    >>> clf.coef_.shape
    (1, 30)
    """

    _parameter_constraints = {
        **_SpredBase._parameter_constraints,
        "C": [Interval(numbers.Real, 0, None, closed="neither")],
    }

    def __init__(self, C=1.0, *, groups=None, fit_intercept=True, solver="lbfgs", max_iter=1000,
                 tol=1e-4, polish=True, batch_size=256, learning_rate=1e-2, warm_start=False,
                 random_state=None, verbose=0):
        self.C = C
        self.groups = groups
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.polish = polish
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels (at least two classes).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights (see the objective above).

        Returns
        -------
        self : SpredClassifier
        """
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], dtype=np.float64)
        check_classification_targets(y)
        le = LabelEncoder()
        y_enc = le.fit_transform(y)
        self.classes_ = le.classes_
        n_classes = len(self.classes_)
        if n_classes < 2:
            raise ValueError(
                "This solver needs samples of at least 2 classes in the data, but the data "
                f"contains only one class: {self.classes_[0]!r}."
            )
        sw = None
        if sample_weight is not None:
            sw = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
            if sw.sum() <= 0:
                raise ValueError("sample_weight must have a positive sum.")
        S = float(X.shape[0] if sw is None else sw.sum())
        K = 1 if n_classes == 2 else n_classes
        loss = _LogisticLoss(X, y_enc, n_classes, sw, self.fit_intercept)
        alpha = 1.0 / (float(self.C) * S)
        W, b, n_iter = self._run(loss, alpha, X.shape[1], K)
        self.coef_ = np.ascontiguousarray(W.T)
        self.intercept_ = np.asarray(b, dtype=np.float64).copy() if self.fit_intercept else np.zeros(K)
        self.n_iter_ = np.array([n_iter])
        return self

    def decision_function(self, X):
        """Decision values ``X @ coef_.T + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) (binary) or (n_samples, n_classes)
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc"], dtype=np.float64, reset=False)
        Z = np.asarray(X @ self.coef_.T) + self.intercept_
        return Z[:, 0] if Z.shape[1] == 1 else Z

    def predict(self, X):
        """Predicted class labels, shape (n_samples,)."""
        Z = self.decision_function(X)
        idx = (Z > 0).astype(int) if Z.ndim == 1 else Z.argmax(axis=1)
        return self.classes_[idx]

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes)."""
        Z = self.decision_function(X)
        if Z.ndim == 1:
            p = expit(Z)
            return np.column_stack([1 - p, p])
        return softmax(Z, axis=1)

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`, shape (n_samples, n_classes)."""
        Z = self.decision_function(X)
        if Z.ndim == 1:
            return np.column_stack([-np.logaddexp(0, Z), -np.logaddexp(0, -Z)])
        return log_softmax(Z, axis=1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
