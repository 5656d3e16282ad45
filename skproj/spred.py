"""L1 and group-L1 regularised linear models solved by the spred reparametrisation.

spred (Ziyin & Wang, "spred: Solving L1 Penalty with SGD", ICML 2023, arXiv 2210.01212) writes
every weight as a product ``w = u * v`` and replaces the L1 penalty by weight decay,

    min_{u, v}  L(u * v) + (alpha / 2) (||u||^2 + ||v||^2),                      (paper, eq. 2)

which is smooth and has the same minimisers as ``min_w L(w) + alpha ||w||_1`` (paper, Thm. 1);
a gate shared by a group of weights gives the group lasso. The estimators here solve the smooth
problem (full-batch L-BFGS, or minibatch Adam with coupled weight decay as in the paper), then

1. *exact zeros*: one proximal-gradient step of the original (non-smooth) problem,
   ``w <- prox_{(alpha / L) pen}(w - grad L(w) / L)`` with ``L`` the Lipschitz constant of
   ``grad L``: a point is an L1 (group-L1) minimiser iff it is a fixed point of this map, so
   the threshold is the one the optimality conditions give; there is no free constant.
2. *polishing* (``polish=True``): for the squared loss with the L1 penalty, the feature-sign
   search of Lee, Battle, Raina & Ng ("Efficient sparse coding algorithms", NIPS 2006, Alg. 1)
   with Cholesky updates of the active set and a working set of columns
   (:mod:`skproj._solvers._polish`); for other losses / group penalties FISTA with adaptive
   restart (Beck & Teboulle 2009; O'Donoghue & Candes 2015) warm-started at the spred
   solution, on centred columns rescaled to unit norm (diagonal preconditioning: the same
   problem, with the prox taken in the matching diagonal metric); both run until the KKT
   violation is below ``tol``. Strongly correlated features with a weak penalty (large ``C``)
   still need many FISTA iterations: raise ``max_iter`` if a ConvergenceWarning says so.

The problem, its solvers and the proofs are in :mod:`skproj._solvers._spred`; the losses are
those of :mod:`skproj._losses` and the penalties :class:`skproj.sparsity.L1` and
:class:`skproj.sparsity.GroupLasso`.
"""

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model._base import LinearClassifierMixin, LinearModel
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, validate_data

from ._solvers._spred import logistic_loss, solve, spred_penalty, squared_loss
from ._validation import store_init_args
from .linear_model._base import LinearSelectorMixin, ProbabilityMixin, encode_classes

__all__ = ["SpredRegressor", "SpredClassifier"]


def _is_scalar(g):
    return np.isscalar(g) or (isinstance(g, np.ndarray) and g.ndim == 0)


def _group_indices(g, idx, n_features):
    """``groups[g]`` as an array of non-negative feature indices, or a ValueError naming it."""
    if _is_scalar(idx):
        raise ValueError(
            f"groups[{g}] is a scalar ({idx!r}): give either one group id per feature or a list "
            "of index arrays, not a mix."
        )
    try:
        arr = np.asarray(idx)
    except ValueError:  # ragged nested lists
        arr = None
    if arr is None or arr.ndim != 1:
        raise ValueError(f"groups[{g}] must be a 1-D array of feature indices.")
    if arr.size == 0:
        raise ValueError(f"groups[{g}] is empty: every group needs at least one feature.")
    if arr.dtype == bool:
        raise ValueError(
            f"groups[{g}] is a boolean mask: give the indices of its features "
            "(np.flatnonzero(mask)) or one group id per feature."
        )
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"groups[{g}] must hold integer feature indices, got dtype {arr.dtype}.")
    if arr.min() < -n_features or arr.max() >= n_features:
        raise ValueError(f"groups[{g}] has an index out of range for {n_features} features.")
    return np.where(arr < 0, arr + n_features, arr).astype(np.intp)


def _parse_groups(groups, n_features):
    """Group ids (n_features,) -> (gid in 0..G-1, G); a list of index arrays must partition."""
    if groups is None:
        return None, 0
    if isinstance(groups, (list, tuple)) and not all(_is_scalar(g) for g in groups):
        gid = np.full(n_features, -1, dtype=np.intp)
        for g, idx in enumerate(groups):
            idx = _group_indices(g, idx, n_features)
            taken = idx[gid[idx] >= 0]
            if taken.size:
                raise ValueError(
                    f"groups must not overlap: groups[{g}] and groups[{gid[taken[0]]}] share "
                    f"feature {taken[0]}."
                )
            gid[idx] = g
        if np.any(gid < 0):
            raise ValueError(
                "groups must cover every feature (each feature in exactly one group); "
                f"feature {np.flatnonzero(gid < 0)[0]} is in none."
            )
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
        Group id of every feature, or a list of index arrays partitioning the features: each a
        non-empty 1-D array of integer indices (negative ones count from the end); a boolean
        mask, a float array, an empty group, a feature in two groups or in none raise a
        ``ValueError`` naming the group (``groups[i]``). When
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
        the L1 (group-L1) problem, divided by the penalty level, is ``<= tol``, and so is the
        gradient of the intercept (divided by ``min(alpha, 1)``, so that its tolerance does
        not grow with the penalty); this is checked on the returned coefficients, with or
        without polishing. L-BFGS stops when the relative decrease of the spred objective
        falls below ``1e-3 * tol``.
    polish : bool, default=True
        Run the active-set / FISTA polishing step after the threshold (module docstring),
        until the KKT conditions hold to ``tol``. With ``polish=False`` the result is the
        smooth solver's (stopped by its own test: a stable sign pattern for L-BFGS, a small
        change of the objective over an epoch for SGD) after one proximal step: it has exact
        zeros, but it is guaranteed optimal only to the extent the KKT test says; that test is
        still made, and a ``ConvergenceWarning`` giving the residual is raised when it fails
        (usual: spred alone approaches the coefficients that should be zero slowly).
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


class _SpredBase(LinearSelectorMixin, BaseEstimator):
    """Parameters, validation, warm start and the call of the solver shared by the estimators."""

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

    def __init__(self, *, groups=None, fit_intercept=True, solver="lbfgs", max_iter=1000, tol=1e-4, polish=True,
                 batch_size=256, learning_rate=1e-2, warm_start=False, random_state=None, verbose=0):
        store_init_args(self, locals())

    def _warm(self, d, K, nb):
        if self.warm_start and hasattr(self, "coef_"):
            coef = np.atleast_2d(self.coef_)
            if coef.shape == (K, d):
                b = np.broadcast_to(np.asarray(self.intercept_, dtype=np.float64), (K,))
                return coef.T.astype(np.float64).copy(), (b.copy() if nb else np.zeros(0))
        return np.zeros((d, K)), np.zeros(K if nb else 0)

    #: extra checks of ``y`` in ``validate_data`` (the regressor's targets are numeric, maybe 2-D)
    _y_checks = {}

    def _problem(self, X, y, sw):  # pragma: no cover - implemented by the estimators
        """``(loss, alpha, n_outputs)``: the :class:`skproj._solvers._spred.LinearLoss` and the
        penalty level of the L1 problem for the validated data (and weights ``sw`` or None)."""
        raise NotImplementedError

    def _set_solution(self, W, b, n_iter, loss, y):  # pragma: no cover - implemented by the estimators
        """Store ``coef_``, ``intercept_`` and ``n_iter_`` from ``W`` (n_features, n_outputs) and ``b``."""
        raise NotImplementedError

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets (:class:`SpredRegressor`; 2-D for several outputs) or class labels, at
            least two classes (:class:`SpredClassifier`).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights with a positive sum (see the objective in the class
            docstring).

        Returns
        -------
        self : object
            The fitted estimator.

        Raises
        ------
        ValueError
            If ``sample_weight`` sums to 0, ``groups`` do not partition the features (or one of
            its index arrays is empty, a boolean mask, not integer or out of range), or
            (classifier) ``y`` has a single class.

        Warns
        -----
        ConvergenceWarning
            If the KKT residual of the returned coefficients (see ``tol``) is above ``tol``.
        """
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], dtype=np.float64, **self._y_checks)
        sw = None
        if sample_weight is not None:
            sw = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
            if sw.sum() <= 0:
                raise ValueError("sample_weight must have a positive sum.")
        loss, alpha, K = self._problem(X, y, sw)
        d = X.shape[1]
        gid, _ = _parse_groups(self.groups, d)
        W0, b0 = self._warm(d, K, loss.has_intercept)
        W, b, n_iter, converged, residual = solve(
            loss, spred_penalty(alpha, gid), K, solver=self.solver, max_iter=self.max_iter, tol=self.tol,
            polish=self.polish, batch_size=self.batch_size, learning_rate=self.learning_rate,
            coef_init=W0, b_init=b0, rng=check_random_state(self.random_state), verbose=self.verbose,
        )
        if not converged:
            if self.polish:
                advice = "increase max_iter"
            else:  # the smooth solver's own stop test, or max_iter, ended it short of the optimum
                advice = "set polish=True" + (" or increase max_iter" if n_iter >= self.max_iter else "")
            warnings.warn(
                f"{type(self).__name__} did not converge: the optimality residual (the largest "
                f"violation of the KKT conditions, relative to alpha) is {residual:.3g} > "
                f"tol={self.tol} after {n_iter} iterations (max_iter={self.max_iter}); {advice}.",
                ConvergenceWarning,
                stacklevel=3,  # fit, sklearn's fit wrapper, the caller
            )
        self._set_solution(W, b, n_iter, loss, y)
        return self


_FEATURES_IN_DOC = """n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.
"""


class SpredRegressor(RegressorMixin, _SpredBase, LinearModel):
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
        Coefficients; exact zeros outside the support. Of shape (n_features,) also for ``y`` of
        shape (n_samples, 1), as with ``Lasso`` (``predict`` then returns shape (n_samples,)).
    intercept_ : float or ndarray of shape (n_targets,)
        Intercept (0.0 when ``fit_intercept=False`` and ``y`` is 1-D or has one column).
    n_iter_ : int
        Iterations of the smooth solver plus those of the polishing step.
    """ + _FEATURES_IN_DOC + """
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
        store_init_args(self, locals())

    _y_checks = {"multi_output": True, "y_numeric": True}

    def _problem(self, X, y, sw):
        Y = (y[:, None] if y.ndim == 1 else y).astype(np.float64)
        return squared_loss(X, Y, sw, self.fit_intercept), float(self.alpha), Y.shape[1]

    def _set_solution(self, W, b, n_iter, loss, y):
        b = loss.intercept(W)
        if y.ndim == 1:
            self.coef_ = W[:, 0].copy()
            self.intercept_ = float(b[0]) if self.fit_intercept else 0.0
        elif W.shape[1] == 1:  # one target column: Lasso's shapes (coef_ (d,), intercept_ (1,))
            self.coef_ = W[:, 0].copy()
            self.intercept_ = b.copy() if self.fit_intercept else 0.0
        else:
            self.coef_ = np.ascontiguousarray(W.T)
            self.intercept_ = b if self.fit_intercept else np.zeros(W.shape[1])
        self.n_iter_ = n_iter

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class SpredClassifier(ProbabilityMixin, LinearClassifierMixin, _SpredBase):
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
        Intercepts (zeros when ``fit_intercept=False``). With more than two classes the softmax
        does not change when a constant is added to every intercept (they are not penalised):
        the ones returned sum to zero, as those of
        :class:`sklearn.linear_model.LogisticRegression`.
    n_iter_ : ndarray of shape (1,)
        Iterations of the smooth solver plus those of the polishing step.
    """ + _FEATURES_IN_DOC + """
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
        store_init_args(self, locals())

    def _problem(self, X, y, sw):
        y_enc, n_classes = encode_classes(self, y)
        S = float(X.shape[0] if sw is None else sw.sum())
        alpha = 1.0 / (float(self.C) * S)
        return logistic_loss(X, y_enc, n_classes, sw, self.fit_intercept), alpha, 1 if n_classes == 2 else n_classes

    def _set_solution(self, W, b, n_iter, loss, y):
        self.coef_ = np.ascontiguousarray(W.T)
        if not self.fit_intercept:
            self.intercept_ = np.zeros(W.shape[1])
        else:
            b = np.asarray(b, dtype=np.float64).copy()
            if b.size > 1:  # softmax: the intercepts are defined up to a common constant
                b -= b.mean()
            self.intercept_ = b
        self.n_iter_ = np.array([n_iter])
