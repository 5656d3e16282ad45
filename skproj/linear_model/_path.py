"""Solutions along a grid of radii (:func:`projected_path`) and the radius chosen by
cross-validation (:class:`ProjectedLinearModelCV`)."""

import numbers
import warnings

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import MultiOutputMixin, clone, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model._base import LinearModel
from sklearn.model_selection import check_cv
from sklearn.utils import check_array, check_consistent_length
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import _check_sample_weight, validate_data

from .._design import ColumnScaled, Design, constant_columns
from .._solvers._working_set import solve_working_set
from .._validation import store_init_args
from ._base import CONSTRAINT_PARAM, LinearSelectorMixin, build_constraint
from ._projected import ProjectedLinearModel, SquaredProblem

__all__ = ["projected_path", "ProjectedLinearModelCV"]

_RADII_PER_TASK = 5  # consecutive radii of one fold solved by one warm-started path (one joblib task)


def _check_radii(radii, *, non_empty=False):
    radii = np.asarray(radii, dtype=np.float64)
    if radii.ndim > 1:
        raise ValueError(f"radii must be a 1-D array of shape (n_radii,), got shape {radii.shape}.")
    radii = np.sort(radii.ravel())
    if (non_empty and radii.size == 0) or (radii.size and (not np.all(np.isfinite(radii)) or radii[0] < 0)):
        raise ValueError(f"radii must be a{' non-empty array of' if non_empty else ''} finite values >= 0.")
    return radii


def _path(X, Y, sw, radii, constraint, fit_intercept, tol, max_iter, verbose, name):
    """Warm-started solutions for the increasing ``radii``: (coefs (k, d, r), intercepts (k, r),
    n_iters (r,), radii not converged)."""
    sq = SquaredProblem(X, Y, sw, fit_intercept)
    constraint = clone(constraint)  # its radius changes along the path
    k, d = Y.shape[1], X.shape[1]
    x = np.zeros(k * d, dtype=X.dtype)
    coefs = np.empty((k, d, radii.size), dtype=X.dtype)
    intercepts = np.empty((k, radii.size), dtype=X.dtype)
    n_iters = np.empty(radii.size, dtype=np.int64)
    failed = []
    for i, r in enumerate(radii):
        ball = constraint.set_params(radius=float(r))
        res = solve_working_set(sq.prob, sq.loss, ball, x, tol, max_iter, verbose, name)
        if not res.converged:
            failed.append((r, res.gap))
        x = res.x
        W = x.reshape(k, d)
        coefs[:, :, i] = W
        intercepts[:, i] = sq.intercept(W)
        n_iters[i] = res.n_iter
    return coefs, intercepts, n_iters, failed


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
    constraint : {"l1", "l12", "l1inf"} or skproj.sparsity.Constraint, default="l1"
        As in :class:`ProjectedLinearModel`; an object's own radius is replaced by each of
        ``radii`` (its ``axis`` is kept).
    fit_intercept : bool, default=True
    sample_weight : array-like of shape (n_samples,), default=None
    tol : float, default=1e-4
        As in :class:`ProjectedLinearModel` (relative Frank-Wolfe gap), at each radius.
    max_iter : int, default=1000
        Per radius.
    verbose : int, default=0
        As in :class:`ProjectedLinearModel`, for each radius in turn.

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
    X = check_array(X, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32])
    y = check_array(y, ensure_2d=False, dtype=X.dtype)
    check_consistent_length(X, y)
    radii = _check_radii(radii)
    ball = build_constraint(constraint, 1.0)
    sw = _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)
    single = y.ndim == 1
    Y = y[:, None] if single else y
    coefs, intercepts, n_iters, failed = _path(X, Y, sw, radii, ball, fit_intercept, tol, max_iter, verbose,
                                               "projected_path")
    for r, gap in failed:
        warnings.warn(
            f"projected_path did not converge at radius {r:g} in max_iter={max_iter} iterations "
            f"(relative optimality gap {gap:.3e} > tol={tol}).",
            ConvergenceWarning,
            stacklevel=2,
        )
    if single:
        return radii, coefs[0], intercepts[0], n_iters
    return radii, coefs, intercepts, n_iters


def _default_radii(X, Y, sw, constraint, fit_intercept, n_radii, eps):
    """Geometric grid from ``eps * r_max`` to ``r_max``, ``r_max`` = norm of the least-squares fit.

    The least-squares fit is computed by LSQR (:func:`scipy.sparse.linalg.lsqr`, Paige &
    Saunders 1982) on the weighted, centred problem with its columns scaled to unit norm (Jacobi
    preconditioning: features of very different scales would otherwise stop LSQR at its
    iteration limit far from the fit; the minimum-norm solution of the scaled problem when
    underdetermined), so sparse ``X`` is never densified; beyond its norm the constraint no
    longer binds. Constant columns (with an intercept; :func:`skproj._design.constant_columns`,
    as in the fit) and all-zero ones are left out (coefficient 0).
    """
    from scipy.sparse.linalg import LinearOperator, lsqr

    sq = SquaredProblem(X, Y, sw, fit_intercept)
    sqrt_w = np.sqrt(sq.loss.w[:, 0].astype(np.float64))
    d = X.shape[1]
    design = Design(X, offset=sq.x_offset, row_scale=sqrt_w)
    scale = design.column_norms(np.ones(X.shape[0]))
    if fit_intercept:  # a constant column is zero once centred: left out, as the fit leaves it
        scale[constant_columns(X, sq.loss.w[:, 0])] = np.inf
    scale[~(scale > 0)] = np.inf  # an all-zero column
    scaled = ColumnScaled(design, scale)

    def mv(v):
        return scaled.matvec(np.asarray(v, dtype=np.float64).reshape(1, -1))[:, 0]

    def rmv(u):
        return scaled.rmatvec(np.asarray(u, dtype=np.float64).reshape(-1, 1))[0][0]

    A = LinearOperator((X.shape[0], d), matvec=mv, rmatvec=rmv, dtype=np.float64)
    W = np.vstack([lsqr(A, sqrt_w * sq.loss.Y[:, t], atol=1e-12, btol=1e-12, iter_lim=min(10 * d, 2000))[0]
                   for t in range(Y.shape[1])]) / scale
    r_max = constraint.value(W)
    if not np.isfinite(r_max) or r_max <= 0:
        r_max = 1.0
    return np.geomspace(eps * r_max, r_max, n_radii)


def _fold_errors(X, Y, sw, train, test, radii, constraint, fit_intercept, tol, max_iter):
    """Validation errors of the warm-started path of one training fold on the block ``radii``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        coefs, intercepts, _, _ = _path(X[train], Y[train], sw[train], radii, constraint, fit_intercept, tol,
                                        max_iter, 0, "ProjectedLinearModelCV")
    Xt, Yt, wt = X[test], Y[test], sw[test].astype(np.float64)
    wsum = wt.sum() if wt.sum() > 0 else 1.0
    mse = np.empty(radii.size)
    for i in range(radii.size):
        pred = np.asarray(Xt @ coefs[:, :, i].T) + intercepts[:, i]
        mse[i] = float(wt @ ((pred - Yt) ** 2).mean(axis=1)) / wsum
    return mse


class ProjectedLinearModelCV(MultiOutputMixin, LinearSelectorMixin, RegressorMixin, LinearModel):
    """:class:`ProjectedLinearModel` with the radius chosen by cross-validation.

    For every training fold the solutions on a grid of radii are computed as by
    :func:`projected_path` (warm-started along increasing radii, in blocks of 5 consecutive
    radii: one block of one fold is one task, so that ``n_jobs`` tasks run at once); the radius
    with the smallest mean (sample-weighted) squared error over the validation folds is kept and
    the model is refitted on all the data, as :class:`sklearn.linear_model.LassoCV` does for
    ``alpha``. The blocks do not depend on ``n_jobs``, so neither do the results.

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
    constraint : {"l1", "l12", "l1inf"} or skproj.sparsity.Constraint, default="l1"
        As in :class:`ProjectedLinearModel`; an object's radius is replaced by the grid's.
    fit_intercept : bool, default=True
    tol : float >= 0, default=1e-4
        As in :class:`ProjectedLinearModel` (relative Frank-Wolfe gap), for every fit.
    max_iter : int >= 1, default=1000
    cv : int, cross-validation generator or iterable, default=None
        As in :func:`sklearn.model_selection.check_cv` (None: 5-fold).
    n_jobs : int, default=None
        Number of (fold, block of radii) fits run in parallel by :class:`joblib.Parallel`
        (None: 1 unless in a :func:`joblib.parallel_backend` context; -1: all processors).
    verbose : int, default=0
        The final fit on all the data prints as :class:`ProjectedLinearModel` does; from 2,
        :class:`joblib.Parallel` also reports the cross-validation tasks (its verbosity
        ``verbose - 1``). The fits of the folds print nothing.

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
        "constraint": CONSTRAINT_PARAM,
        "fit_intercept": ["boolean"],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "cv": ["cv_object"],
        "n_jobs": [numbers.Integral, None],
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
        n_jobs=None,
        verbose=0,
    ):
        store_init_args(self, locals())

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

        Raises
        ------
        ValueError
            If ``radii`` is empty or holds a negative or non-finite value, or if the sample
            weights of the training samples of a fold sum to zero.
        """
        X, y = validate_data(
            self, X, y, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32], multi_output=True,
            y_numeric=True,
        )
        ball = build_constraint(self.constraint, 1.0)
        sw = _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)
        y = np.asarray(y, dtype=X.dtype)
        Y = y[:, None] if y.ndim == 1 else y
        if self.radii is None:
            radii = _default_radii(X, Y, sw, ball, self.fit_intercept, self.n_radii, self.eps)
        else:
            radii = _check_radii(self.radii, non_empty=True)
        folds = list(check_cv(self.cv).split(X, y))
        for f, (train, _) in enumerate(folds):
            if not sw[train].sum() > 0:
                raise ValueError(
                    f"sample_weight sums to 0 on the training samples of fold {f} (of {len(folds)}): "
                    "that fold has nothing to fit. Give some weight to every training fold, or use "
                    "folds that separate the zero-weight samples differently."
                )
        blocks = [slice(i, i + _RADII_PER_TASK) for i in range(0, radii.size, _RADII_PER_TASK)]
        tasks = [(f, blk) for f in range(len(folds)) for blk in blocks]
        errors = Parallel(n_jobs=self.n_jobs, verbose=max(0, self.verbose - 1))(
            delayed(_fold_errors)(X, Y, sw, folds[f][0], folds[f][1], radii[blk], ball, self.fit_intercept,
                                  self.tol, self.max_iter)
            for f, blk in tasks
        )
        mse = np.empty((radii.size, len(folds)))
        for (f, blk), err in zip(tasks, errors):
            mse[blk, f] = err
        best = int(np.argmin(mse.mean(axis=1)))
        self.radii_ = radii
        self.mse_path_ = mse
        self.radius_ = float(radii[best])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            model = ProjectedLinearModel(
                radius=self.radius_, constraint=ball.set_params(radius=self.radius_), fit_intercept=self.fit_intercept,
                tol=self.tol, max_iter=self.max_iter, verbose=self.verbose,
            ).fit(X, y, sample_weight=sw)
        for w in caught:  # the refit's warnings, from this estimator and at the caller's line
            message = str(w.message).replace("ProjectedLinearModel ", f"{type(self).__name__}'s refit ", 1)
            warnings.warn(message, w.category, stacklevel=3)  # fit, sklearn's fit wrapper, the caller
        self.coef_ = model.coef_
        self.intercept_ = model.intercept_
        self.n_iter_ = model.n_iter_
        return self
