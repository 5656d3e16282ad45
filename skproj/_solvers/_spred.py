"""The spred problem and its solvers: L-BFGS rounds or minibatch Adam, exact zeros, polishing.

spred (Ziyin & Wang, "spred: Solving L1 Penalty with SGD", ICML 2023, arXiv 2210.01212) writes
every weight as a product ``w = u * v`` and replaces the L1 penalty by weight decay,

    min_{u, v}  L(u * v) + (alpha / 2) (||u||^2 + ||v||^2),                      (paper, eq. 2)

which is smooth and has the same minimisers as ``min_w L(w) + alpha ||w||_1`` because
``min_{u * v = w} (|u|^2 + |v|^2) / 2 = |w|`` (attained at ``|u| = |v| = sqrt|w|``; paper, Thm. 1).
With a gate shared by a group of weights, ``w_j = m_{g(j)} * v_j`` and decay
``(alpha / 2) (sum_g omega_g^2 m_g^2 + ||v||^2)``, the same argument gives
``min_{m v_g = w_g} (omega_g^2 m^2 + ||v_g||^2) / 2 = omega_g ||w_g||_2`` (minimise
``(omega^2 m^2 + ||w_g||^2 / m^2) / 2`` over ``m``: ``m^2 = ||w_g|| / omega``), i.e. the group
lasso ``alpha sum_g omega_g ||w_g||_2`` (:class:`skproj.sparsity.GroupLasso` with the feature
groups as blocks, ``axis=0`` on ``W`` of shape (n_features, n_outputs)).

:func:`solve` minimises the smooth problem (full-batch L-BFGS in rounds on a shrinking working
set, :func:`lbfgs_rounds`, or minibatch Adam with coupled weight decay as in the paper,
:func:`minibatch_adam`), then

1. *exact zeros*: one proximal-gradient step of the original (non-smooth) problem,
   ``w <- prox_{pen / L}(w - grad L(w) / L)`` with ``L`` the Lipschitz constant of ``grad L``.
   A point is an L1 (group-L1) minimiser iff it is a fixed point of this map, so the threshold
   ``|w_j - g_j / L| <= alpha / L`` (``||w_g - g_g / L|| <= alpha omega_g / L``) is the one the
   optimality conditions give; there is no free constant.
2. *polishing*: for the squared loss with the L1 penalty the feature-sign search of
   :mod:`skproj._solvers._polish`; otherwise FISTA (:func:`skproj._solvers._fista.fista`, function
   restart) warm-started at the spred solution, until the KKT violation
   (:func:`optimality_residual`: :meth:`skproj.sparsity.Penalty.residual` and the gradient of
   the unpenalised intercept) is below ``tol``.

When every coefficient is zero the intercept is set to the optimum of the intercept-only
problem, in closed form (:meth:`LinearLoss.null_intercept`).

The losses are those of :mod:`skproj._losses` through the design operator of
:mod:`skproj._design` (:class:`LinearLoss`); coefficients are ``W`` of shape
(n_features, n_outputs) here (the transpose of scikit-learn's ``coef_``).
"""

import numpy as np
import scipy.optimize
from threadpoolctl import ThreadpoolController

from .._design import ColumnScaled, Design, weighted_column_means
from ._fista import fista
from .._losses import BinaryLogisticLoss, MultinomialLoss, SquaredLoss
from .._optim import Adam
from ..sparsity import L1, GroupLasso
from ._polish import feature_sign

__all__ = ["LinearLoss", "SpredProblem", "logistic_loss", "optimality_residual", "solve", "spred_penalty",
           "squared_loss"]

_PATIENCE = 5  # iterations with an unchanged support that end L-BFGS when polishing follows
_ROUND_ITER = 50  # most L-BFGS iterations per working-set round when polishing follows
_ROUND_PATIENCE = 5  # rounds without a smaller working set that end the L-BFGS rounds (polishing on)
_BLAS_THREADS = None  # BLAS threads for the matrix products inside L-BFGS (None: the default)


# --------------------------------------------------------------------------------------------
# loss of the linear predictor, in spred's orientation
# --------------------------------------------------------------------------------------------


class LinearLoss:
    """``(W, b) -> loss(A W + b)`` for a loss of :mod:`skproj._losses` and a design ``A``.

    ``W`` has shape (n_features, n_outputs) and ``b`` shape (n_outputs,) when the design has an
    intercept, (0,) otherwise (the squared loss eliminates it by centring: :meth:`intercept`).

    Parameters
    ----------
    loss : SquaredLoss, BinaryLogisticLoss or MultinomialLoss
    design : skproj._design.Design
    x_mean, y_mean : ndarray, default=None
        Centring offsets of ``X`` and ``Y`` (squared loss with an intercept).
    """

    def __init__(self, loss, design, x_mean=None, y_mean=None):
        self.loss, self.design = loss, design
        self.x_mean, self.y_mean = x_mean, y_mean
        self.n = design.n_samples
        self.has_intercept = design.intercept
        self.centred = design.offset is not None

    @property
    def Y(self):
        """Targets of the squared loss (centred and row-scaled), shape (n_samples, n_outputs)."""
        return self.loss.Y

    def value_grad(self, W, b, rows=None):
        """``(f, dF/dW of shape (d, K), dF/db of the shape of b)`` (on ``rows`` when given)."""
        Z = self.design.matvec(W.T, b if self.has_intercept else None, rows)
        f, dZ = self.loss.value_grad(Z, rows)
        GW, gb = self.design.rmatvec(dZ, rows)
        return f, GW.T, (b[:0] if gb is None else gb)

    def rmatvec(self, R):
        """``A^T R``, shape (n_features, n_outputs)."""
        return self.design.rmatvec(R)[0].T

    def lipschitz(self, rng):
        """Lipschitz constant of the gradient in ``(W, b)`` (power iteration, 5% margin)."""
        return self.loss.lipschitz(self.design, rng=rng)

    def restrict(self, S):
        """The same loss on the features ``S`` (array of int)."""
        x_mean = None if self.x_mean is None else self.x_mean[S]
        return LinearLoss(self.loss, self.design.restrict(S), x_mean, self.y_mean)

    def intercept(self, W):
        """Intercepts eliminated by centring: ``y_mean - x_mean W`` (zeros without centring)."""
        if self.x_mean is None:
            return np.zeros(W.shape[1])
        return self.y_mean - self.x_mean @ W

    def null_intercept(self, b):
        """The minimiser over ``b`` of ``loss(0, b)`` in closed form, or None.

        Binary logistic: ``logit(p)`` with ``p`` the weighted frequency of the positive class.
        Multinomial: ``log q_k`` with ``q`` the weighted class frequencies (softmax is unchanged by
        a common shift; the mean of the current ``b`` is kept). None when the minimum is not
        attained (a class of zero weight) or there is no free intercept (the squared loss
        eliminates it by centring: :meth:`intercept`).
        """
        base = self.loss
        if not self.has_intercept:
            return None
        if isinstance(base, BinaryLogisticLoss):
            p = float(base.w[base.y > 0].sum())
            return np.array([np.log(p) - np.log1p(-p)]) if 0.0 < p < 1.0 else None
        if isinstance(base, MultinomialLoss):
            q = (base.w.T @ base.onehot)[0]
            if not np.all(q > 0):
                return None
            logq = np.log(q)
            return logq - logq.mean() + float(np.mean(b))
        return None


def squared_loss(X, Y, sample_weight, fit_intercept):
    """``(1 / (2 S)) sum_i s_i ||y_i - x_i W - b||^2`` with the intercept eliminated by centring.

    The sample weights, rescaled to sum to ``n`` as scikit-learn's ``Lasso`` does, are folded
    into the design (rows scaled by ``sqrt(s)``) so that the loss has unit weights and the
    columns of the design are those of the Gram matrix ``A_S^T A_S / n`` of the polishing.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs), float64
    sample_weight : ndarray of shape (n_samples,) or None
    fit_intercept : bool

    Returns
    -------
    LinearLoss
    """
    n = X.shape[0]
    sqrt_s = None if sample_weight is None else np.sqrt(sample_weight * (n / sample_weight.sum()))
    x_mean = y_mean = None
    if fit_intercept:
        sw = np.ones(n) if sample_weight is None else sample_weight
        x_mean = weighted_column_means(X, sw)
        y_mean = sw @ Y / sw.sum()
        Y = Y - y_mean
    if sqrt_s is not None:
        Y = Y * sqrt_s[:, None]
    design = Design(X, offset=x_mean, row_scale=sqrt_s)
    return LinearLoss(SquaredLoss(np.ascontiguousarray(Y, dtype=np.float64)), design, x_mean, y_mean)


def logistic_loss(X, y_enc, n_classes, sample_weight, fit_intercept):
    """``(1 / S) sum_i s_i l(y_i, x_i W + b)``: binary (one output) or multinomial.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    y_enc : ndarray of int of shape (n_samples,)
        Class indices ``0 .. n_classes - 1``.
    n_classes : int >= 2
    sample_weight : ndarray of shape (n_samples,) or None
    fit_intercept : bool

    Returns
    -------
    LinearLoss
    """
    if n_classes == 2:
        loss = BinaryLogisticLoss(y_enc, sample_weight)
    else:
        loss = MultinomialLoss(y_enc, n_classes, sample_weight)
    return LinearLoss(loss, Design(X, intercept=fit_intercept))


def spred_penalty(alpha, gid=None):
    """``L1(alpha)``, or the group lasso with weights ``sqrt(|g|)`` on the feature groups ``gid``.

    Parameters
    ----------
    alpha : float >= 0
    gid : ndarray of int of shape (n_features,), default=None
        Group of every feature, labels ``0 .. n_groups - 1`` all used.

    Returns
    -------
    skproj.sparsity.L1 or skproj.sparsity.GroupLasso
        The group lasso acts on ``W`` of shape (n_features, n_outputs) (``axis=0``): its groups
        are the pairs (feature group, output).
    """
    if gid is None:
        return L1(alpha=alpha)
    omega = np.sqrt(np.bincount(gid).astype(np.float64))
    return GroupLasso(alpha=alpha, axis=0, groups=gid, weights=omega)


# --------------------------------------------------------------------------------------------
# the spred problem
# --------------------------------------------------------------------------------------------


class SpredProblem:
    """Smooth objective in ``x = [u, v, b]`` (``u`` the gates ``m`` with groups) and its gradient.

    Parameters
    ----------
    loss : LinearLoss
    pen : skproj.sparsity.L1 or skproj.sparsity.GroupLasso (from :func:`spred_penalty`)
        Its ``alpha`` is the decay; a group lasso's ``groups`` and ``weights`` (``omega``) give
        the gates.
    d, K : int
        Shape of ``W``.
    """

    def __init__(self, loss, pen, d, K):
        self.loss, self.pen, self.alpha, self.d, self.K = loss, pen, float(pen.alpha), d, K
        self.gid = None
        if isinstance(pen, GroupLasso):
            self.gid = np.asarray(pen.groups, dtype=np.intp)
            self.omega = np.asarray(pen.weights, dtype=np.float64)
        self.nu = d * K if self.gid is None else self.omega.size * K
        self.nb = K if loss.has_intercept else 0

    def split(self, x):
        d, K, nu = self.d, self.K, self.nu
        u = x[:nu].reshape(-1, K)
        v = x[nu : nu + d * K].reshape(d, K)
        b = x[nu + d * K :] if self.nb else x[:0]
        return u, v, b

    def weights(self, u, v):
        return u * v if self.gid is None else u[self.gid] * v

    def pack(self, W, b):
        """Balanced factorisation of W: |u| = |v| = sqrt|W| (or m_g^2 = ||W_g|| / omega_g)."""
        if self.gid is None:
            u = np.sign(W) * np.sqrt(np.abs(W))
            v = np.sqrt(np.abs(W))
        else:
            m = np.sqrt(self.pen.group_norms(W) / self.omega[:, None])
            with np.errstate(divide="ignore", invalid="ignore"):
                v = np.where(m[self.gid] > 0, W / m[self.gid], 0.0)
            u = m
        parts = [u.ravel(), v.ravel()]
        if self.nb:
            parts.append(np.asarray(b, dtype=np.float64).ravel())
        return np.concatenate(parts)

    def fun(self, x, rows=None, cache=None):
        """Value and gradient (flat, like ``x``); ``cache`` receives ``W`` and ``dL/dW``."""
        u, v, b = self.split(x)
        W = self.weights(u, v)
        f, G, gb = self.loss.value_grad(W, b, rows)
        if cache is not None:
            cache["W"], cache["G"] = W, G
        a = self.alpha
        if self.gid is None:
            f += 0.5 * a * (np.vdot(u, u) + np.vdot(v, v))
            gu = G * v + a * u
            gv = G * u + a * v
        else:
            om2 = (self.omega**2)[:, None]
            f += 0.5 * a * (np.sum(om2 * u * u) + np.vdot(v, v))
            gu = np.zeros_like(u)
            np.add.at(gu, self.gid, G * v)
            gu += a * om2 * u
            gv = G * u[self.gid] + a * v
        parts = [gu.ravel(), gv.ravel()]
        if self.nb:
            parts.append(gb)
        return f, np.concatenate(parts)


def _objective(loss, pen, W, b):
    f, G, gb = loss.value_grad(W, b)
    return f + pen.value(W), G, gb


def _prox_step(loss, pen, W, b, L):
    """One proximal-gradient step of the L1 (group-L1) problem: the exact zeros."""
    _, G, gb = loss.value_grad(W, b)
    return pen.prox(W - G / L, 1.0 / L), b - gb / L


def _settle_intercept(loss, W, b):
    """``b``, replaced by the intercept-only optimum (:meth:`LinearLoss.null_intercept`) when
    every coefficient is zero and that optimum has a closed form."""
    if loss.has_intercept and not np.any(W):
        b0 = loss.null_intercept(b)
        if b0 is not None:
            return b0
    return b


def optimality_residual(loss, pen, W, b, G=None, gb=None):
    """KKT residual of ``min loss(W, b) + pen(W)`` at ``(W, b)``; 0 exactly at the minimisers.

    ``max(pen.residual(W, dL/dW), max |dL/db| / min(alpha, 1))``: the penalty's violation of
    its optimality conditions (relative to ``alpha``, :meth:`skproj.sparsity.Penalty.residual`)
    and the gradient of the unpenalised intercept, relative to ``alpha`` only while
    ``alpha <= 1`` (absolute beyond, so that its tolerance does not grow with the penalty; with
    ``alpha = 0``, absolute like the penalty's residual). The polishing stops and every fit is
    reported as converged when this is ``<= tol``.

    Parameters
    ----------
    loss : LinearLoss
    pen : skproj.sparsity.L1 or skproj.sparsity.GroupLasso
    W : ndarray of shape (d, K)
    b : ndarray of shape (K,) or (0,)
    G, gb : ndarray, default=None
        ``dL/dW`` and ``dL/db`` at ``(W, b)`` when already computed.

    Returns
    -------
    float
    """
    if G is None:
        _, G, gb = loss.value_grad(W, b)
    res = pen.residual(W, G)
    if gb is not None and gb.size:
        alpha = float(pen.alpha)
        scale = min(alpha, 1.0) if alpha > 0 else 1.0
        res = max(res, float(np.max(np.abs(gb))) / scale)
    return res


def _initial_weights(loss, L, coef_init, b_init, rng):
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
# driver
# --------------------------------------------------------------------------------------------


def solve(loss, pen, K, *, solver, max_iter, tol, polish, batch_size, learning_rate, coef_init, b_init, rng,
          verbose):
    """Minimise ``loss(W, b) + pen(W)`` through spred, then polish.

    Parameters
    ----------
    loss : LinearLoss
    pen : skproj.sparsity.L1 or skproj.sparsity.GroupLasso (from :func:`spred_penalty`)
    K : int
        Number of outputs (columns of ``W``).
    solver : {"lbfgs", "sgd"}
    max_iter : int
        L-BFGS iterations or Adam epochs; also the polishing's iterations.
    tol : float
        KKT tolerance of the polishing (relative to ``alpha``); the smooth solvers' stop tests
        derive from it.
    polish : bool
    batch_size : int
    learning_rate : float
    coef_init : ndarray of shape (d, K)
        Warm start (zeros for none).
    b_init : ndarray of shape (K,) or (0,)
    rng : numpy.random.RandomState
        Power iteration, signs of the start's zero entries, minibatch order.
    verbose : int

    Returns
    -------
    W : ndarray of shape (d, K)
    b : ndarray of shape (K,) or (0,)
    n_iter : int
        Smooth solver's iterations plus the polishing's.
    converged : bool
        ``residual <= tol``, or with ``polish`` the polishing's own verdict (its KKT test at
        ``tol``).
    residual : float
        :func:`optimality_residual` at the returned ``(W, b)``.
    """
    d = coef_init.shape[0]
    alpha = float(pen.alpha)
    L = loss.lipschitz(rng)
    W0 = _initial_weights(loss, L, coef_init, b_init, rng)
    if solver == "lbfgs":
        W, b, n_iter, stage1_ok = lbfgs_rounds(loss, pen, K, L, W0, b_init, max_iter, tol, polish, verbose)
    else:
        prob = SpredProblem(loss, pen, d, K)
        x, n_iter, stage1_ok = minibatch_adam(prob, prob.pack(W0, b_init), loss.n, max_iter, tol, batch_size,
                                              learning_rate, rng)
        u, v, b = prob.split(x)
        W = prob.weights(u, v)
        if verbose:
            F, _, _ = _objective(loss, pen, W, b)
            print(f"[spred] sgd: {n_iter} epochs, objective {F:.10g}")
        W, b = _prox_step(loss, pen, W, b, L)
    converged = stage1_ok
    b = _settle_intercept(loss, W, b)
    if polish:
        if isinstance(loss.loss, SquaredLoss) and isinstance(pen, L1) and alpha > 0:
            # single-threaded BLAS: the k x k factorisations are small, and a threaded BLAS
            # is many times slower on them when the machine is loaded
            with ThreadpoolController().limit(limits=1, user_api="blas"):
                W, it, converged = feature_sign(loss, alpha, W, tol, max_iter)
        else:
            W, b, it, converged = fista_polish(loss, pen, W, b, tol, max_iter)
        n_iter += it
        if verbose:
            F, _, _ = _objective(loss, pen, W, b)
            print(f"[spred] polish: {it} iterations, objective {F:.10g}")
    b = _settle_intercept(loss, W, b)
    residual = optimality_residual(loss, pen, W, b)
    if polish:
        converged = converged or residual <= tol
    else:
        # the smooth solvers' own stop tests (a stable sign pattern, a small change of the
        # objective over an epoch) say nothing about the distance to the optimum
        converged = residual <= tol
    return W, b, n_iter, converged, residual


_SUPPORT_MAXITER = 200  # L-BFGS iterations of one support solve in the FISTA polishing
_MAXLS = 20  # line-search evaluations per L-BFGS iteration of a support solve (scipy's default)


def fista_polish(loss, pen, W, b, tol, max_iter):
    """FISTA (function restart) on ``loss + pen`` from ``(W, b)`` until the KKT test holds.

    With an intercept and uncentred columns (the logistic losses), FISTA runs on the centred
    design ``X - 1 c^T`` (``c`` the weighted column means; never densified) and the intercept
    ``b + c W``, the same problem. FISTA runs on the rescaled coefficients ``W' = diag(s) W``,
    ``s_j`` the norm of column ``j`` of the (centred) design in the loss's weights (Jacobi preconditioning: every column of the rescaled
    design has the intercept column's norm, so features of very different scales converge at
    the same rate; with raw features FISTA's single step ``1 / L`` is set by the largest
    column and the small ones barely move). The problem is unchanged: the smooth part is
    ``loss(A diag(1/s) W')`` and the prox of ``pen(diag(1/s) W')`` is the penalty's prox in the
    diagonal metric ``s^2`` (:meth:`skproj.sparsity.Penalty.prox`'s ``metric``), rescaled. The
    variable of :func:`skproj._solvers._fista.fista` is ``x = [W'.ravel(), b]``; the prox acts on
    ``W'`` (``b`` is unpenalised). The stop test, on the original coefficients:
    :func:`optimality_residual` ``<= tol``. Returns ``(W, b, n_iter, converged)``; the rescaled
    problem's Lipschitz constant is estimated by power iteration.
    """
    d, K = W.shape
    nw = d * K
    base, design = loss.loss, loss.design
    c = None
    if loss.has_intercept and design.offset is None and design.row_scale is None:
        # x . w + b = (x - c) . w + (b + c . w): centred columns are not nearly parallel to
        # the intercept's (features with large means), the same problem in (W, b + c W)
        c = weighted_column_means(design.X, base.w.ravel().astype(np.float64))
        design = Design(design.X, offset=c, intercept=True)
        b = b + c @ W
    s = design.column_norms(base.w)
    # a zero column: its coefficient is 0; the clip keeps s^2 (the prox metric) and its products
    # with the coefficients finite
    s = np.clip(np.where(s > 0, s, 1.0), 1e-100, 1e100)
    design = ColumnScaled(design, s)
    metric = np.broadcast_to((s * s)[:, None], (d, K))

    def split(x):
        return x[:nw].reshape(d, K), x[nw:]

    def unscaled(x):
        return split(x)[0] / s[:, None]

    def matvec(x):
        Wx, bx = split(x)
        return design.matvec(Wx.T, bx if loss.has_intercept else None)

    def gradients(dZ):
        GW, gb = design.rmatvec(dZ)
        return GW.T, (b[:0] if gb is None else gb)

    def rmatvec(dZ):
        GW, gb = gradients(dZ)
        return np.concatenate([GW.ravel(), gb])

    def prox(v, step):
        out = v.copy()
        out[:nw] = (pen.prox(unscaled(v), step, metric=metric) * s[:, None]).ravel()
        return out

    def support_solve(x):
        """Candidate for FISTA's ``polish``: with the L1 penalty, ``loss + alpha sign . W`` is
        smooth on the current support and signs; minimise it there (L-BFGS, quasi-Newton, so
        correlated columns cost little), stopping at the first sign change, where that entry
        becomes zero (the line search of the feature-sign method), or with the entries that
        changed sign zeroed if that is lower than ``x``. FISTA keeps the candidate
        only if the objective does not increase; the stop test is unchanged. The support
        solves together evaluate the loss at most ``2 max_iter`` times; their iterations are
        counted in the returned ``n_iter``."""
        Wx, bx = split(x)
        mask = Wx != 0
        nS = int(mask.sum())
        if nS == 0 or budget[0] <= 2 * _MAXLS:
            return None
        sig = np.sign(Wx[mask])
        lin = alpha * sig / np.broadcast_to(s[:, None], (d, K))[mask]

        def embed(v):
            out = np.zeros_like(x)
            out[:nw].reshape(d, K)[mask] = v[:nS]
            out[nw:] = v[nS:]
            return out

        def fun(v):
            f, dz = base.value_grad(matvec(embed(v)))
            g = rmatvec(dz)
            return float(f) + float(lin @ v[:nS]), np.concatenate([g[:nw].reshape(d, K)[mask] + lin, g[nw:]])

        # single-threaded BLAS, as in the other L-BFGS-B calls: its many small products are
        # several times slower threaded
        with ThreadpoolController().limit(limits=1, user_api="blas"):
            res = scipy.optimize.minimize(
                fun, np.concatenate([Wx[mask], bx]), jac=True, method="L-BFGS-B",
                # L-BFGS-B checks maxfun between iterations: a line search may add _MAXLS more
                options={"maxiter": _SUPPORT_MAXITER, "maxfun": budget[0] - _MAXLS, "maxls": _MAXLS,
                         "gtol": gtol, "ftol": 0.0},
            )
        budget[0] -= res.nfev
        used[0] += res.nit
        v0 = res.x.copy()
        v0[:] = np.concatenate([Wx[mask], bx])
        step = res.x - v0
        cross = np.flatnonzero(np.sign(res.x[:nS]) != sig)
        if cross.size == 0:
            return embed(res.x)
        # the objective equals the smooth restricted one on the segment [v0, res.x] up to the
        # first sign change, and that is convex with its minimum at res.x: stopping there, the
        # entry that reaches zero set to zero, decreases it (the feature-sign line search)
        ratio = v0[cross] / (v0[cross] - res.x[cross])
        first = cross[np.argmin(ratio)]
        v = v0 + float(ratio.min()) * step
        v[first] = 0.0
        v[:nS][np.sign(v[:nS]) != sig] = 0.0  # rounding at the crossing
        # the restricted minimiser with the changed signs zeroed goes further when it is lower
        # than x (often: the entries that change sign belong to no minimiser's support)
        w = res.x.copy()
        w[cross] = 0.0
        def objective(c):
            return base.value(matvec(c)) + pen.value(unscaled(c))

        zeroed = embed(w)
        return zeroed if objective(zeroed) <= objective(x) else embed(v)

    budget = [2 * max_iter]  # evaluations left to the support solves (FISTA: 1-2 per iteration)
    used = [0]  # their L-BFGS iterations, counted in n_iter
    alpha = float(pen.alpha)
    # KKT on the support, |G + alpha sign| <= tol alpha (intercept: tol min(alpha, 1)), in W'
    # (in W' = diag(s) W this asks |G' + alpha sign / s| <= tol alpha / s: the support solve
    # aims at the unit-scale columns' accuracy, FISTA's steps from it do the rest)
    gtol = 0.1 * tol * (min(alpha, 1.0) if alpha > 0 else 1.0)

    def stop(x, z):  # on the original coefficients and design (z: the same predictions)
        GW, gb = loss.design.rmatvec(base.value_grad(z)[1])
        return optimality_residual(loss, pen, unscaled(x), None, GW.T, gb) <= tol

    x0 = np.concatenate([(W * s[:, None]).ravel(), b])
    if np.any(W):
        # start from 0 (with the intercept-only optimum) when that is lower: a first stage that
        # went astray (features of scale 1e100 overflow its Lipschitz estimate) would otherwise
        # leave FISTA, whose steps are O(1) in W', astronomically far from the minimiser
        z0 = np.zeros_like(x0)
        b0 = loss.null_intercept(b) if loss.has_intercept else None
        z0[nw:] = (b if c is None else b - c @ W) if b0 is None else b0  # at W = 0, b' = b
        F = [base.value(matvec(v)) + pen.value(unscaled(v)) for v in (x0, z0)]
        if not np.isfinite(F[0]) or F[1] < F[0]:
            x0 = z0
    res = fista(
        x0, loss=base.value, loss_grad=base.value_grad,
        lipschitz=base.lipschitz(design), matvec=matvec, rmatvec=rmatvec, prox=prox,
        penalty=lambda x: pen.value(unscaled(x)), bregman=base.bregman, restart="function", stop=stop,
        max_iter=max_iter, polish=support_solve if isinstance(pen, L1) else None,
    )
    Wx, bx = unscaled(res.x), split(res.x)[1]
    return Wx.copy(), (bx if c is None else bx - c @ Wx).copy(), res.n_iter + used[0], res.converged


def lbfgs_rounds(loss, pen, K, L, W, b, max_iter, tol, polish, verbose, max_rounds=50):
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
    features; the feature-sign polishing is faster from there). Within a round, with polishing
    on, L-BFGS stops once the proximal-step support has not changed for ``_PATIENCE``
    iterations (otherwise on the relative decrease ``1e-3 * tol`` of the objective).
    Returns ``(W, b, n_iter, converged)``.
    """
    ctl = ThreadpoolController()
    n_threads = max([p["num_threads"] for p in ctl.select(user_api="blas").info()] or [1])
    n_threads = _BLAS_THREADS or n_threads
    grouped = isinstance(pen, GroupLasso)
    n_iter = 0
    sig_prev = None
    ok = False
    best_size, since_best = np.inf, 0
    for rnd in range(max_rounds):
        S = np.arange(W.shape[0]) if grouped else np.flatnonzero(np.any(W != 0, axis=1))
        sub = loss.restrict(S) if S.size < W.shape[0] else loss
        prob = SpredProblem(sub, pen, S.size, K)
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
            sig = np.sign(pen.prox(cache["W"] - cache["G"] / L, 1.0 / L))
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
                options=dict(maxiter=budget, maxcor=10, gtol=0.0, ftol=tol * 1e-3, maxfun=2 * budget + 20),
            )
        n_iter += int(res.nit)
        u, v, b = prob.split(res.x)
        W = np.zeros_like(W)
        W[S] = prob.weights(u, v)
        W, b = _prox_step(loss, pen, W, b, L)
        if not np.any(W):
            # every coefficient is zero: give the intercept its optimum for W = 0 (its gradient
            # need not be small yet), then one more proximal step tells whether W = 0 is optimal
            W, b = _prox_step(loss, pen, W, _settle_intercept(loss, W, b), L)
        sig = np.sign(W)
        if verbose:
            F, _, _ = _objective(loss, pen, W, b)
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


def minibatch_adam(prob, x0, n, max_epochs, tol, batch_size, lr, rng):
    """Minibatch Adam (:class:`skproj._optim.Adam`) on the spred objective.

    The weight decay is coupled (it is part of the gradient fed to Adam, as in the paper), not
    decoupled as in AdamW. Stops when the epoch objective changes by less than ``tol``
    relative over an epoch. Returns ``(x, n_epochs, converged)``.
    """
    x = x0.copy()
    opt = Adam(lr=lr)
    bs = min(batch_size, n)
    f_prev = prob.fun(x)[0]
    for epoch in range(1, max_epochs + 1):
        perm = rng.permutation(n)
        for start in range(0, n, bs):
            rows = perm[start : start + bs]
            _, g = prob.fun(x, rows if len(rows) < n else None)
            opt.step([x], [g])
        f = prob.fun(x)[0]
        if abs(f_prev - f) <= tol * max(abs(f), 1e-300):
            return x, epoch, True
        f_prev = f
    return x, max_epochs, False
