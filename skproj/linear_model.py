"""Linear models under a norm-ball constraint on the coefficients.

:class:`ProjectedLinearModel` (squared loss) and :class:`ProjectedLinearClassifier` (logistic /
multinomial loss) solve

    min_{W, b}  (1 / S) sum_i s_i loss(y_i, x_i W^T + b)   subject to  ||W|| <= radius

with ``S = sum_i s_i`` (the sample weights; the squared loss is ``0.5 ||.||^2``), by FISTA with
backtracking and adaptive restart (:mod:`skproj._fista`), one call to the public projection of
:mod:`skproj.projections` per step. The norm is chosen by ``constraint``: "l1" (on all entries
of ``W``), "l12" or "l1inf" (groups = the coefficients of one feature across targets/classes,
``axis=0`` on ``coef_`` of shape (n_targets, n_features)), so that whole features leave the
model together. Both estimators are feature selectors: the support is the set of features with
a non-zero coefficient.

:func:`projected_path` computes the solutions along increasing radii with warm starts, and
:class:`ProjectedLinearModelCV` picks the radius by cross-validation.
"""

import numbers
import warnings

import numpy as np
from scipy import sparse
from scipy.special import expit, log_expit, logsumexp, softmax
from sklearn.base import BaseEstimator, MultiOutputMixin, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import SelectorMixin
from sklearn.linear_model._base import LinearClassifierMixin, LinearModel
from sklearn.model_selection import check_cv
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from . import projections as _projections
from ._fista import estimate_lipschitz, fista

__all__ = ["ProjectedLinearModel", "ProjectedLinearClassifier", "ProjectedLinearModelCV", "projected_path"]

_CONSTRAINTS = ("l1", "l12", "l1inf")


# --------------------------------------------------------------------------------------------
# Problem pieces: the linear operator x -> X W^T (+ b), the losses and the projection.
# The variable is one flat vector x = [W.ravel(), b] (b present only when it is optimised).
# --------------------------------------------------------------------------------------------


class _LinearOperator:
    """``x = [W.ravel(), b] -> Z = (X - 1 offset^T) W^T + 1 b^T`` and its adjoint.

    ``offset`` implements centring without modifying (or densifying) ``X``; ``b`` is part of the
    variable only when ``with_b`` (losses that cannot be centred out, i.e. the logistic ones).
    """

    def __init__(self, X, n_out, offset=None, with_b=False):
        self.X = X
        self.XT = X.T  # built once: a sparse transpose is a new object on every access
        self.n_out = n_out
        self.n_features = X.shape[1]
        self.offset = offset
        self.with_b = with_b
        self.size_w = n_out * self.n_features
        self.size = self.size_w + (n_out if with_b else 0)

    def restrict(self, mask):
        """The operator on the features of ``mask`` (a copy of those columns of ``X``).

        A sparse block is made dense when it is small (at most ``2**21`` entries, 16 MiB in
        float64): products with a small dense block are faster than sparse ones.
        """
        cols = np.flatnonzero(mask)
        Xs = self.X[:, cols]
        if sparse.issparse(Xs):
            if Xs.shape[0] * Xs.shape[1] <= 2**21:
                Xs = Xs.toarray()
            else:
                Xs = Xs.asformat(self.X.format)
        offset = None if self.offset is None else self.offset[cols]
        return _LinearOperator(Xs, self.n_out, offset=offset, with_b=self.with_b)

    def gather(self, x, mask, full):
        """Sub-variable (restricted to ``mask``) of the full variable ``x`` of ``full``."""
        W, b = full.split(x)
        xs = np.empty(self.size, dtype=x.dtype)
        xs[: self.size_w] = W[:, mask].reshape(-1)
        if b is not None:
            xs[self.size_w :] = b
        return xs

    def scatter(self, xs, mask, full):
        """Full variable of ``full`` from the sub-variable ``xs`` (zeros outside ``mask``)."""
        x = np.zeros(full.size, dtype=xs.dtype)
        W, b = full.split(x)
        Ws, bs = self.split(xs)
        W[:, mask] = Ws
        if b is not None:
            b[...] = bs
        return x

    def split(self, x):
        W = x[: self.size_w].reshape(self.n_out, self.n_features)
        b = x[self.size_w :] if self.with_b else None
        return W, b

    def matvec(self, x):
        W, b = self.split(x)
        Z = self.X @ W.T
        Z = np.asarray(Z)
        if self.offset is not None:
            Z -= self.offset @ W.T
        if b is not None:
            Z += b
        return Z

    def rmatvec(self, dZ):
        G = np.empty(self.size, dtype=dZ.dtype)
        GW = G[: self.size_w].reshape(self.n_out, self.n_features)
        GW[...] = np.asarray(self.XT @ dZ).T
        if self.offset is not None or self.with_b:
            colsum = dZ.sum(axis=0)
            if self.offset is not None:
                GW -= np.outer(colsum, self.offset)
            if self.with_b:
                G[self.size_w :] = colsum
        return G


class _SquaredLoss:
    """``(1 / (2 S)) sum_i s_i ||Z_i - Y_i||^2`` with Hessian ``diag(s) / S``."""

    def __init__(self, Y, sw):
        self.Y = Y
        self.w = (sw / sw.sum()).astype(Y.dtype)[:, None]

    def loss(self, Z):
        R = Z - self.Y
        return 0.5 * float(np.vdot(self.w * R, R))

    def loss_grad(self, Z):
        R = Z - self.Y
        wR = self.w * R
        return 0.5 * float(np.vdot(wR, R)), wR

    def bregman(self, Z_old, Z_new, dZ_old):
        D = Z_new - Z_old
        return 0.5 * float(np.vdot(self.w * D, D))

    def hessp(self, V):
        return self.w * V


class _BinaryLogisticLoss:
    """``(1 / S) sum_i s_i log(1 + exp(-y_i z_i))``, ``y_i`` in {-1, +1}; Hessian <= diag(s) / (4 S)."""

    def __init__(self, y_pm, sw):
        self.y = y_pm[:, None]
        self.w = (sw / sw.sum()).astype(y_pm.dtype)[:, None]

    def loss(self, Z):
        return -float(np.vdot(self.w, log_expit(self.y * Z)))

    def loss_grad(self, Z):
        m = self.y * Z
        f = -float(np.vdot(self.w, log_expit(m)))
        return f, -self.w * self.y * expit(-m)

    bregman = None

    def hessp(self, V):
        return 0.25 * self.w * V


class _MultinomialLoss:
    """``(1 / S) sum_i s_i (logsumexp(Z_i) - Z_{i, y_i})``; Hessian <= diag(s) / (2 S) (per class)."""

    def __init__(self, y_idx, n_classes, sw, dtype):
        self.onehot = np.zeros((y_idx.shape[0], n_classes), dtype=dtype)
        self.onehot[np.arange(y_idx.shape[0]), y_idx] = 1
        self.w = (sw / sw.sum()).astype(dtype)[:, None]

    def loss(self, Z):
        lse = logsumexp(Z, axis=1, keepdims=True)
        return float(np.vdot(self.w, lse - (Z * self.onehot).sum(axis=1, keepdims=True)))

    def loss_grad(self, Z):
        lse = logsumexp(Z, axis=1, keepdims=True)
        f = float(np.vdot(self.w, lse - (Z * self.onehot).sum(axis=1, keepdims=True)))
        P = np.exp(Z - lse)
        return f, self.w * (P - self.onehot)

    bregman = None

    def hessp(self, V):
        return 0.5 * self.w * V


def _projector(constraint, radius, op):
    """Return ``x -> [P(W), b]`` using the public projection of :mod:`skproj.projections`."""
    if constraint == "l1":

        def proj_w(W):
            return _projections.project_l1_ball(W, radius)

    elif constraint == "l12":

        def proj_w(W):
            return _projections.project_l12_ball(W, radius, axis=0)

    else:
        func = getattr(_projections, "project_l1inf_ball", None)
        if func is None:  # pragma: no cover - depends on the build
            raise NotImplementedError("constraint='l1inf' needs skproj.projections.project_l1inf_ball.")

        def proj_w(W):
            return func(W, radius, axis=0)

    def project(x):
        W, b = op.split(x)
        out = np.empty_like(x)
        out[: op.size_w] = proj_w(W).reshape(-1)
        if b is not None:
            out[op.size_w :] = b
        return out

    return project


def _weighted_mean(X, sw):
    """Column means of ``X`` (dense or sparse) weighted by ``sw``."""
    return np.asarray(X.T @ sw).ravel() / sw.sum()


def _l1_polisher(op, loss, radius, max_drops=50):
    """Active-set step from the current support and signs (squared loss, l1, one target).

    On the support ``S`` with signs ``s`` of the current iterate ``x``, the solution (if ``S``
    and ``s`` are the optimal ones) solves the equality-constrained least-squares problem
    ``min 0.5 ||X_S w - y||^2_D  s.t.  s^T w = radius`` when the ball constraint is active
    (KKT system ``[[Q, s], [s^T, 0]] [w; lam] = [c; radius]`` with ``Q = X_S^T D X_S`` on
    centred columns and ``c = X_S^T D y``), the unconstrained one otherwise. The candidate is
    the point of the segment from ``x`` to that solution ``w*`` that is furthest along it while
    keeping the signs ``s`` (and ``||.||_1 <= radius``): the whole step when ``w*`` has the
    signs ``s``, otherwise the first coordinate to reach zero is dropped and the step is
    repeated on the smaller support (the inner loop of Lawson & Hanson's active-set method for
    non-negative least squares, "Solving Least Squares Problems", 1974, Ch. 23), at most
    ``max_drops`` times per call (each drop costs a dense solve of the support's size). On each face
    ``||.||_1`` is linear, so the candidate is feasible, and the objective, convex along each
    segment and minimal at its end ``w*``, does not increase.
    """
    sqrt_w = np.sqrt(loss.w.astype(np.float64))
    wy = sqrt_w[:, 0] * loss.Y[:, 0]

    def polish(x):
        S = np.flatnonzero(x)
        if S.size == 0 or S.size >= op.X.shape[0]:
            return None
        cols = op.X[:, S]
        cols = cols.toarray() if sparse.issparse(cols) else np.asarray(cols, dtype=np.float64)
        if op.offset is not None:
            cols = cols - op.offset[S]
        B = sqrt_w * cols
        Q = B.T @ B
        c = B.T @ wy
        xS = x[S].astype(np.float64)
        sgn = np.sign(xS)
        active = np.abs(xS).sum() >= radius * (1 - 1e-7)
        cur = xS.copy()
        idx = np.arange(S.size)
        moved = False
        for _ in range(min(S.size + 2, max_drops)):
            Qi, ci, si = Q[np.ix_(idx, idx)], c[idx], sgn[idx]
            try:
                if active:
                    m = idx.size
                    K = np.zeros((m + 1, m + 1))
                    K[:m, :m] = Qi
                    K[:m, m] = si
                    K[m, :m] = si
                    w_opt = np.linalg.solve(K, np.append(ci, radius))[:m]
                else:
                    w_opt = np.linalg.solve(Qi, ci)
            except np.linalg.LinAlgError:
                break
            if not np.all(np.isfinite(w_opt)):
                break
            step = w_opt - cur[idx]
            theta, hit = 1.0, -1
            cross = np.flatnonzero(np.sign(w_opt) != si)
            if cross.size:
                ratios = cur[idx][cross] / (cur[idx][cross] - w_opt[cross])  # where a coordinate hits 0
                i = int(np.argmin(ratios))
                theta, hit = float(ratios[i]), int(idx[cross[i]])
            bound = False
            if not active:
                slope = float(si @ step)
                room = radius - float(np.abs(cur).sum())
                if slope > 0 and room < theta * slope:
                    theta, hit, bound = room / slope, -1, True
            theta = min(max(theta, 0.0), 1.0)
            cur[idx] += theta * step
            moved = moved or theta > 0
            if hit >= 0:
                cur[hit] = 0.0
            cur[idx[np.sign(cur[idx]) != si]] = 0.0
            if bound:
                active = True  # on the sphere now: continue on the face s^T w = radius
            elif hit < 0:
                break
            idx = idx[cur[idx] != 0]
            if idx.size == 0:
                break
        if not moved:
            return None
        newS = cur
        total = np.abs(newS).sum()
        if total > radius:
            newS *= radius / total
        out = np.zeros_like(x)
        out[S] = newS
        return out

    return polish


def _feature_scores(G, constraint):
    """Per-feature size of the gradient ``G`` (k, d) in the dual inner norm of the constraint."""
    if G.shape[0] == 1:
        return np.abs(G[0])
    if constraint == "l1":
        return np.abs(G).max(axis=0)
    if constraint == "l12":
        return np.sqrt(np.einsum("kj,kj->j", G, G))
    return np.abs(G).sum(axis=0)


def _solve(op, loss, constraint, radius, x0, tol, max_iter, verbose, name, L0=None, min_ws=32):
    """Working-set FISTA for ``min loss(op x)`` s.t. ``||W|| <= radius``.

    Outer loop (in the spirit of the working-set solvers Blitz, Johnson & Guestrin, ICML 2015,
    and Celer, Massias et al., ICML 2018): restrict the problem to a set of features (the
    current support plus the outside features with the largest gradient in the dual inner norm:
    up to twice the support, and at least the violators of the full fixed point, up to doubling
    the working set), solve it by :func:`skproj._fista.fista` from the current point, then check
    the full problem's fixed point ``||x - P(x - grad f(x) / L)|| <= tol * ||x||`` with one
    full gradient (``L`` the constant accepted by backtracking on the restricted problem; at
    most twice the full problem's constant when its estimate is a lower bound, so with the
    full constant the step is at most ``2 * tol * ||x||``). Features are never removed
    from the working set, so it terminates; when it would hold half of the features the full
    problem is solved instead (and the same final check is made).
    """
    d = op.n_features
    k = op.n_out
    x = _projector(constraint, radius, op)(x0)
    ws = np.zeros(d, dtype=bool)
    n_iter = 0
    L = None
    inner_tol = 0.3 * tol
    res = None
    converged = False
    while True:
        W, _ = op.split(x)
        support = np.any(W != 0, axis=0)
        Z = op.matvec(x)
        _, dZ = loss.loss_grad(Z)
        g = op.rmatvec(dZ)
        violators = None
        if L is not None:
            x_pg = _projector(constraint, radius, op)(x - g * x.dtype.type(1.0 / L))
            resid = float(np.linalg.norm(x_pg - x))
            if verbose:
                print(f"[{name}] working set {int(ws.sum())} features, full fixed-point step {resid:.3e}")
            if resid <= tol * max(float(np.linalg.norm(x)), float(np.finfo(x.dtype).tiny)):
                converged = True
                break
            if n_iter >= max_iter:
                break
            violators = np.any(op.split(x_pg)[0] != 0, axis=0) & ~ws
        GW, _ = op.split(g)
        scores = _feature_scores(GW, constraint)
        n_before = int(ws.sum())
        ws |= support
        n_viol = int(violators.sum()) if violators is not None else 0
        # Grow to twice the support; with violators of the full fixed point, add at least the
        # best of them (they are the non-working-set features of largest gradient), up to
        # doubling the working set.
        target = max(min_ws, 2 * int(support.sum()))
        n_new = max(target - int(ws.sum()), min(n_viol, max(min_ws, int(ws.sum()))))
        if n_new > 0:
            cand = np.flatnonzero(~ws)
            if cand.size:
                top = cand[np.argsort(-scores[cand], kind="stable")[:n_new]]
                ws[top] = True
        if int(ws.sum()) == n_before and L is not None:
            inner_tol *= 0.1  # nothing to add: the restricted solve was not accurate enough
        if 2 * int(ws.sum()) >= d:
            ws[:] = True
        sub = op if ws.all() else op.restrict(ws)
        xs0 = sub.gather(x, ws, op)
        Ls = L0 if (sub is op and L0 is not None) else estimate_lipschitz(sub.matvec, sub.rmatvec, loss.hessp, xs0)
        res = fista(
            xs0,
            matvec=sub.matvec,
            rmatvec=sub.rmatvec,
            loss=loss.loss,
            loss_grad=loss.loss_grad,
            bregman=loss.bregman,
            project=_projector(constraint, radius, sub),
            lipschitz=Ls,
            tol=inner_tol,
            max_iter=max(1, max_iter - n_iter),
            verbose=max(0, verbose - 1),
            callback_name=name,
            polish=_l1_polisher(sub, loss, radius)
            if (constraint == "l1" and k == 1 and isinstance(loss, _SquaredLoss))
            else None,
        )
        n_iter += res.n_iter
        L = res.lipschitz
        x = res.x if sub is op else sub.scatter(res.x, ws, op)
        if n_iter >= max_iter and not res.converged:
            break
    return _Result(x=x, n_iter=n_iter, converged=converged, lipschitz=L if L is not None else 0.0,
                   residual=res.residual if res is not None else 0.0)


class _Result:
    """What :func:`_solve` returns (the fields of :class:`skproj._fista.FistaResult` it needs)."""

    def __init__(self, x, n_iter, converged, lipschitz, residual):
        self.x, self.n_iter, self.converged, self.lipschitz, self.residual = x, n_iter, converged, lipschitz, residual


class _SquaredProblem:
    """Centred squared-loss problem for a (possibly multi-output) Y of shape (n, k)."""

    def __init__(self, X, Y, sw, fit_intercept):
        dtype = X.dtype
        if fit_intercept:
            self.x_offset = _weighted_mean(X, sw).astype(dtype)
            self.y_offset = (sw @ Y / sw.sum()).astype(dtype)
            Yc = Y - self.y_offset
        else:
            self.x_offset = None
            self.y_offset = np.zeros(Y.shape[1], dtype=dtype)
            Yc = Y
        self.op = _LinearOperator(X, Y.shape[1], offset=self.x_offset)
        self.loss = _SquaredLoss(np.ascontiguousarray(Yc, dtype=dtype), sw)

    def intercept(self, W):
        if self.x_offset is None:
            return np.zeros(W.shape[0], dtype=W.dtype)
        return self.y_offset - W @ self.x_offset


_common_constraints = {
    "radius": [Interval(numbers.Real, 0, None, closed="left")],
    "constraint": [StrOptions(set(_CONSTRAINTS))],
    "fit_intercept": ["boolean"],
    "tol": [Interval(numbers.Real, 0, None, closed="left")],
    "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
    "warm_start": ["boolean"],
    "verbose": ["verbose"],
}


class _SupportMixin(SelectorMixin):
    """Support = features with a non-zero coefficient (for any target / class)."""

    def _get_support_mask(self):
        check_is_fitted(self, "coef_")
        coef = np.asarray(self.coef_)
        if coef.ndim == 1:
            return coef != 0
        return np.any(coef != 0, axis=0)


def _warn_not_converged(est, res):
    if not res.converged:
        warnings.warn(
            f"{type(est).__name__} did not converge in max_iter={est.max_iter} iterations "
            f"(last FISTA step {res.residual:.3e}, tol={est.tol}). Increase max_iter or tol.",
            ConvergenceWarning,
            stacklevel=3,
        )


class ProjectedLinearModel(MultiOutputMixin, _SupportMixin, RegressorMixin, LinearModel):
    """Least squares with the coefficients constrained to a norm ball.

    Solves, for ``y`` of shape (n_samples,) or (n_samples, n_targets),

        min_{W, b}  1 / (2 S) sum_i s_i ||y_i - W x_i - b||_2^2   s.t.  ||W|| <= radius

    where ``s`` are the sample weights, ``S = sum_i s_i``, and ``||W||`` is chosen by
    ``constraint``. The intercept ``b`` is not constrained: the problem is solved on data centred
    by the weighted means (implicitly, so sparse ``X`` stays sparse), then
    ``b = y_mean - W x_mean``. With ``constraint="l1"`` and ``radius = ||w_lasso||_1`` the
    solution is that of :class:`sklearn.linear_model.Lasso` (the Lagrangian form), and with
    ``"l12"`` that of :class:`sklearn.linear_model.MultiTaskLasso`.

    Parameters
    ----------
    radius : float >= 0, default=1.0
        Radius of the constraint ball, in the units of the coefficients. 0 gives ``coef_ = 0``.
    constraint : {"l1", "l12", "l1inf"}, default="l1"
        "l1": ``sum_jk |W_kj| <= radius``. "l12": ``sum_j ||W_:,j||_2 <= radius``. "l1inf":
        ``sum_j max_k |W_kj| <= radius``. For one target the three coincide. The projections are
        :func:`skproj.project_l1_ball`, :func:`skproj.project_l12_ball` and
        ``skproj.project_l1inf_ball`` (both with ``axis=0``).
    fit_intercept : bool, default=True
        Whether to fit an (unconstrained) intercept.
    tol : float >= 0, default=1e-4
        Stopping tolerance on the projected-gradient fixed point at the returned coefficients:
        ``||W - P(W - grad f(W) / L)||_F <= tol * ||W||_F``, with ``L`` the step constant
        reached by backtracking (with the exact Lipschitz constant of ``grad f`` the step is
        then at most ``2 * tol * ||W||``). The restricted FISTA solves stop on the relative
        step ``||W_{k+1} - Y_k|| <= 0.3 * tol * ||W_{k+1}||`` (see :func:`skproj._fista.fista`).
    max_iter : int >= 1, default=1000
        Maximum number of FISTA iterations.
    warm_start : bool, default=False
        Start from the previous ``coef_`` when it has the right shape.
    verbose : int, default=0
        Print FISTA progress (1: every 100 iterations, 2: every iteration).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        (n_features,) when ``y`` is 1-D, as in :class:`sklearn.linear_model.LinearRegression`.
    intercept_ : float or ndarray of shape (n_targets,)
    n_iter_ : int
        Number of FISTA iterations run.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when ``X`` has string feature names.

    Notes
    -----
    Algorithm: FISTA with backtracking on the Lipschitz constant (Beck & Teboulle, SIAM J.
    Imaging Sci. 2009, Section 4) and gradient-based adaptive restart (O'Donoghue & Candes,
    Found. Comput. Math. 2015, Section 3.2); the initial Lipschitz constant is estimated by power
    iteration. Each iteration costs one product with ``X`` and one with ``X^T`` plus one
    projection. Dense and CSR/CSC sparse ``X`` are supported without densifying; float32 data is
    solved in float32.

    As a feature selector (``transform``, ``get_support``) the support is the set of features
    with a non-zero coefficient.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from skproj import ProjectedLinearModel
    >>> X, y = make_regression(n_samples=50, n_features=20, n_informative=3, random_state=0)
    >>> model = ProjectedLinearModel(radius=100.0).fit(X, y)
    >>> bool(abs(model.coef_).sum() <= 100.0 * (1 + 1e-9))
    True
    """

    _parameter_constraints = dict(_common_constraints)

    def __init__(
        self, radius=1.0, *, constraint="l1", fit_intercept=True, tol=1e-4, max_iter=1000, warm_start=False, verbose=0
    ):
        self.radius = radius
        self.constraint = constraint
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; CSR and CSC matrices are used as they are. float32 stays float32.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; the loss is their weighted mean (integer weights are
            equivalent to repeating rows).

        Returns
        -------
        self : ProjectedLinearModel
        """
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            dtype=[np.float64, np.float32],
            multi_output=True,
            y_numeric=True,
        )
        sw = _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)
        y = np.asarray(y, dtype=X.dtype)
        single = y.ndim == 1
        Y = y[:, None] if single else y
        prob = _SquaredProblem(X, Y, sw, self.fit_intercept)
        k, d = Y.shape[1], X.shape[1]
        x0 = np.zeros(k * d, dtype=X.dtype)
        if self.warm_start and hasattr(self, "coef_"):
            prev = np.asarray(self.coef_, dtype=X.dtype).reshape(-1)
            if prev.size == x0.size:
                x0[...] = prev
        res = _solve(prob.op, prob.loss, self.constraint, self.radius, x0, self.tol, self.max_iter, self.verbose,
                     type(self).__name__)
        _warn_not_converged(self, res)
        W = res.x.reshape(k, d)
        b = prob.intercept(W)
        self.n_iter_ = res.n_iter
        if single:
            self.coef_ = W[0].copy()
            self.intercept_ = float(b[0]) if self.fit_intercept else 0.0
        else:
            self.coef_ = W.copy()
            self.intercept_ = b if self.fit_intercept else np.zeros(k, dtype=X.dtype)
        return self


class ProjectedLinearClassifier(_SupportMixin, LinearClassifierMixin, BaseEstimator):
    """Logistic regression (binary or multinomial) with the coefficients in a norm ball.

    Solves

        min_{W, b}  (1 / S) sum_i s_i l(y_i, W x_i + b)   s.t.  ||W|| <= radius

    with ``l`` the logistic loss (two classes, ``W`` of shape (1, n_features)) or the
    multinomial cross-entropy (``W`` of shape (n_classes, n_features)). The intercept is an
    unconstrained part of the variable. With ``constraint="l1"`` and ``radius`` equal to the l1
    norm of the solution of ``LogisticRegression(l1_ratio=1, C=C)`` (which penalises the sum of
    the losses and not the intercept) the two problems have the same solution.

    Parameters
    ----------
    radius : float >= 0, default=1.0
        Radius of the constraint ball on ``coef_``.
    constraint : {"l1", "l12", "l1inf"}, default="l1"
        As in :class:`ProjectedLinearModel`; with several classes "l12" and "l1inf" group each
        feature's coefficients across classes (``axis=0``).
    fit_intercept : bool, default=True
    tol : float >= 0, default=1e-4
        Fixed-point tolerance as in :class:`ProjectedLinearModel`; the intercept is part of the
        vector whose step and norm are taken.
    max_iter : int >= 1, default=1000
    warm_start : bool, default=False
    verbose : int, default=0

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    classes_ : ndarray of shape (n_classes,)
    n_iter_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    Notes
    -----
    Solver: FISTA with backtracking and adaptive restart (Beck & Teboulle 2009; O'Donoghue &
    Candes 2015); the initial Lipschitz constant is a power-iteration estimate of
    ``||[X, 1]||^2 / 4`` (binary) or ``/ 2`` (multinomial), weighted.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skproj import ProjectedLinearClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = ProjectedLinearClassifier(radius=5.0, constraint="l12").fit(X, y)
    >>> clf.coef_.shape
    (3, 4)
    """

    _parameter_constraints = dict(_common_constraints)

    def __init__(
        self, radius=1.0, *, constraint="l1", fit_intercept=True, tol=1e-4, max_iter=1000, warm_start=False, verbose=0
    ):
        self.radius = radius
        self.constraint = constraint
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the classifier.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels (at least two classes).
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : ProjectedLinearClassifier

        Raises
        ------
        ValueError
            If ``y`` has fewer than two classes.
        """
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32])
        check_classification_targets(y)
        le = LabelEncoder()
        y_idx = le.fit_transform(y)
        self.classes_ = le.classes_
        n_classes = len(self.classes_)
        if n_classes < 2:
            raise ValueError(
                f"ProjectedLinearClassifier needs samples of at least 2 classes in the data, but the "
                f"data contains only one class: {self.classes_[0]!r}."
            )
        sw = _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)
        dtype = X.dtype
        if n_classes == 2:
            k = 1
            loss = _BinaryLogisticLoss(np.where(y_idx == 1, 1.0, -1.0).astype(dtype), sw)
        else:
            k = n_classes
            loss = _MultinomialLoss(y_idx, n_classes, sw, dtype)
        op = _LinearOperator(X, k, with_b=self.fit_intercept)
        x0 = np.zeros(op.size, dtype=dtype)
        if self.warm_start and hasattr(self, "coef_") and np.shape(self.coef_) == (k, X.shape[1]):
            x0[: op.size_w] = np.asarray(self.coef_, dtype=dtype).reshape(-1)
            if self.fit_intercept:
                x0[op.size_w :] = self.intercept_
        res = _solve(op, loss, self.constraint, self.radius, x0, self.tol, self.max_iter, self.verbose,
                     type(self).__name__)
        _warn_not_converged(self, res)
        W, b = op.split(res.x)
        self.coef_ = W.copy()
        self.intercept_ = b.copy() if b is not None else np.zeros(k, dtype=dtype)
        self.n_iter_ = res.n_iter
        return self

    def predict_proba(self, X):
        """Class probabilities (logistic / softmax of the decision function).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            p1 = expit(scores)
            return np.column_stack([1 - p1, p1])
        return softmax(scores, axis=1)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba` (computed stably).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return np.column_stack([log_expit(-scores), log_expit(scores)])
        return scores - logsumexp(scores, axis=1, keepdims=True)


def projected_path(
    X,
    y,
    radii,
    *,
    constraint="l1",
    fit_intercept=True,
    sample_weight=None,
    tol=1e-4,
    max_iter=1000,
    verbose=0,
):
    """Solutions of :class:`ProjectedLinearModel` along increasing radii, warm-started.

    Like :func:`sklearn.linear_model.lasso_path`: each solution starts from the previous one
    (feasible for the next, larger radius), which is much cheaper than independent fits.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        CSR/CSC matrices are not densified; float32 stays float32.
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
    radii : array-like of shape (n_radii,)
        Radii >= 0 (sorted increasingly by the function).
    constraint : {"l1", "l12", "l1inf"}, default="l1"
    fit_intercept : bool, default=True
    sample_weight : array-like of shape (n_samples,), default=None
    tol : float, default=1e-4
    max_iter : int, default=1000
        Per radius.
    verbose : int, default=0

    Returns
    -------
    radii : ndarray of shape (n_radii,)
        The radii, sorted increasingly.
    coefs : ndarray of shape (n_features, n_radii) or (n_targets, n_features, n_radii)
    intercepts : ndarray of shape (n_radii,) or (n_targets, n_radii)
    n_iters : ndarray of shape (n_radii,)
        FISTA iterations per radius.

    Raises
    ------
    ValueError
        If a radius is negative or not finite, or ``constraint`` is unknown.
    """
    from sklearn.utils import check_array, check_consistent_length

    X = check_array(X, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32])
    y = check_array(y, ensure_2d=False, dtype=X.dtype)
    check_consistent_length(X, y)
    radii = np.sort(np.asarray(radii, dtype=np.float64).ravel())
    if radii.size and (not np.all(np.isfinite(radii)) or radii[0] < 0):
        raise ValueError("radii must be finite and >= 0.")
    if constraint not in _CONSTRAINTS:
        raise ValueError(f"constraint must be one of {_CONSTRAINTS}, got {constraint!r}.")
    sw = _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)
    single = y.ndim == 1
    Y = y[:, None] if single else y
    prob = _SquaredProblem(X, Y, sw, fit_intercept)
    k, d = Y.shape[1], X.shape[1]
    x = np.zeros(k * d, dtype=X.dtype)
    coefs = np.empty((k, d, radii.size), dtype=X.dtype)
    intercepts = np.empty((k, radii.size), dtype=X.dtype)
    n_iters = np.empty(radii.size, dtype=np.int64)
    for i, r in enumerate(radii):
        res = _solve(prob.op, prob.loss, constraint, r, x, tol, max_iter, verbose, "projected_path")
        if not res.converged:
            warnings.warn(
                f"projected_path did not converge at radius {r:g} in max_iter={max_iter} iterations "
                f"(last FISTA step {res.residual:.3e}, tol={tol}).",
                ConvergenceWarning,
                stacklevel=2,
            )
        x = res.x
        W = x.reshape(k, d)
        coefs[:, :, i] = W
        intercepts[:, i] = prob.intercept(W)
        n_iters[i] = res.n_iter
    if single:
        return radii, coefs[0], intercepts[0], n_iters
    return radii, coefs, intercepts, n_iters


def _constraint_norm(W, constraint):
    """The constraint's norm of ``W`` of shape (k, d) (groups = features, axis=0)."""
    W = np.atleast_2d(W)
    if constraint == "l1":
        return float(np.abs(W).sum())
    if constraint == "l12":
        return float(np.sqrt((W.astype(np.float64) ** 2).sum(axis=0)).sum())
    return float(np.abs(W).max(axis=0).sum())


def _default_radii(X, Y, sw, constraint, fit_intercept, n_radii, eps):
    """Geometric grid from ``eps * r_max`` to ``r_max``, ``r_max`` = norm of the least-squares fit.

    The least-squares fit (minimum l2 norm when underdetermined) is computed by LSQR
    (:func:`scipy.sparse.linalg.lsqr`, Paige & Saunders 1982) on the weighted, centred problem,
    so sparse ``X`` is never densified; beyond its norm the constraint no longer binds.
    """
    from scipy.sparse.linalg import LinearOperator, lsqr

    prob = _SquaredProblem(X, Y, sw, fit_intercept)
    sqrt_w = np.sqrt(prob.loss.w[:, 0].astype(np.float64))
    d = X.shape[1]
    offset = prob.x_offset

    def mv(v):
        z = np.asarray(X @ v).ravel()
        if offset is not None:
            z = z - offset @ v
        return sqrt_w * z

    def rmv(u):
        u = sqrt_w * np.asarray(u).ravel()
        g = np.asarray(X.T @ u).ravel()
        if offset is not None:
            g = g - offset * u.sum()
        return g

    A = LinearOperator((X.shape[0], d), matvec=mv, rmatvec=rmv, dtype=np.float64)
    W = np.vstack([lsqr(A, sqrt_w * prob.loss.Y[:, t], atol=1e-12, btol=1e-12, iter_lim=min(10 * d, 2000))[0]
                   for t in range(Y.shape[1])])
    r_max = _constraint_norm(W, constraint)
    if not np.isfinite(r_max) or r_max <= 0:
        r_max = 1.0
    return np.geomspace(eps * r_max, r_max, n_radii)


class ProjectedLinearModelCV(MultiOutputMixin, _SupportMixin, RegressorMixin, LinearModel):
    """:class:`ProjectedLinearModel` with the radius chosen by cross-validation.

    For every training fold :func:`projected_path` computes the solutions on a grid of radii
    (warm-started, increasing); the radius with the smallest mean (sample-weighted) squared
    error over the validation folds is kept and the model is refitted on all the data, as
    :class:`sklearn.linear_model.LassoCV` does for ``alpha``.

    Parameters
    ----------
    radii : array-like of float >= 0, default=None
        Grid of radii. When None, ``n_radii`` radii spaced geometrically from ``eps * r_max`` to
        ``r_max``, where ``r_max`` is the constraint's norm of the least-squares solution (by
        LSQR on the whole data; above it the constraint no longer binds). With fewer samples
        than features the largest radii may not bind either (several interpolating solutions
        inside the ball): the solution is then not unique.
    n_radii : int >= 1, default=20
    eps : float in (0, 1], default=1e-3
    constraint : {"l1", "l12", "l1inf"}, default="l1"
    fit_intercept : bool, default=True
    tol : float >= 0, default=1e-4
    max_iter : int >= 1, default=1000
    cv : int, cross-validation generator or iterable, default=None
        As in :func:`sklearn.model_selection.check_cv` (None: 5-fold).
    verbose : int, default=0

    Attributes
    ----------
    radius_ : float
        The selected radius.
    radii_ : ndarray of shape (n_radii,)
        The grid used (increasing).
    mse_path_ : ndarray of shape (n_radii, n_folds)
        Validation mean squared error (weighted, averaged over targets) per radius and fold.
    coef_, intercept_, n_iter_ : as in :class:`ProjectedLinearModel` (refit at ``radius_``).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from skproj import ProjectedLinearModelCV
    >>> X, y = make_regression(n_samples=80, n_features=30, n_informative=4, noise=1.0, random_state=0)
    >>> model = ProjectedLinearModelCV(cv=3).fit(X, y)
    >>> bool(model.radius_ > 0)
    True
    """

    _parameter_constraints = {
        "radii": ["array-like", None],
        "n_radii": [Interval(numbers.Integral, 1, None, closed="left")],
        "eps": [Interval(numbers.Real, 0, 1, closed="right")],
        "constraint": [StrOptions(set(_CONSTRAINTS))],
        "fit_intercept": ["boolean"],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "cv": ["cv_object"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        radii=None,
        n_radii=20,
        eps=1e-3,
        constraint="l1",
        fit_intercept=True,
        tol=1e-4,
        max_iter=1000,
        cv=None,
        verbose=0,
    ):
        self.radii = radii
        self.n_radii = n_radii
        self.eps = eps
        self.constraint = constraint
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.cv = cv
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Choose the radius by cross-validation, then fit on all the data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), default=None
            Used in the fits and in the validation errors.

        Returns
        -------
        self : ProjectedLinearModelCV
        """
        X, y = validate_data(
            self, X, y, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32], multi_output=True,
            y_numeric=True,
        )
        sw = _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)
        y = np.asarray(y, dtype=X.dtype)
        Y = y[:, None] if y.ndim == 1 else y
        if self.radii is None:
            radii = _default_radii(X, Y, sw, self.constraint, self.fit_intercept, self.n_radii, self.eps)
        else:
            radii = np.sort(np.asarray(self.radii, dtype=np.float64).ravel())
            if radii.size == 0 or not np.all(np.isfinite(radii)) or radii[0] < 0:
                raise ValueError("radii must be a non-empty array of finite values >= 0.")
        cv = check_cv(self.cv)
        folds = list(cv.split(X, y))
        mse = np.empty((radii.size, len(folds)))
        for f, (train, test) in enumerate(folds):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                _, coefs, intercepts, _ = projected_path(
                    X[train], Y[train], radii, constraint=self.constraint, fit_intercept=self.fit_intercept,
                    sample_weight=sw[train], tol=self.tol, max_iter=self.max_iter,
                )
            Xt, Yt, wt = X[test], Y[test], sw[test].astype(np.float64)
            wsum = wt.sum() if wt.sum() > 0 else 1.0
            for i in range(radii.size):
                pred = np.asarray(Xt @ coefs[:, :, i].T) + intercepts[:, i]
                mse[i, f] = float(wt @ ((pred - Yt) ** 2).mean(axis=1)) / wsum
        best = int(np.argmin(mse.mean(axis=1)))
        self.radii_ = radii
        self.mse_path_ = mse
        self.radius_ = float(radii[best])
        model = ProjectedLinearModel(
            radius=self.radius_, constraint=self.constraint, fit_intercept=self.fit_intercept, tol=self.tol,
            max_iter=self.max_iter, verbose=self.verbose,
        ).fit(X, y, sample_weight=sw)
        self.coef_ = model.coef_
        self.intercept_ = model.intercept_
        self.n_iter_ = model.n_iter_
        return self
