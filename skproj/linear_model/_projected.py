"""The projected linear models: least squares and logistic regression in a norm ball."""

import numpy as np
from sklearn.base import BaseEstimator, MultiOutputMixin, RegressorMixin, _fit_context
from sklearn.linear_model._base import LinearClassifierMixin, LinearModel
from sklearn.utils.validation import _check_sample_weight, validate_data

from .._design import Design, weighted_column_means
from .._losses import BinaryLogisticLoss, MultinomialLoss, SquaredLoss
from .._solvers._working_set import FlatProblem, solve_working_set
from ._base import ProbabilityMixin, ProjectedLinearBase, encode_classes

__all__ = ["ProjectedLinearModel", "ProjectedLinearClassifier"]


class SquaredProblem:
    """Centred squared-loss problem for ``Y`` of shape (n, k): the intercept is eliminated.

    ``X`` is centred implicitly by its weighted column means (the design's offset) and ``Y``
    explicitly; the intercept of coefficients ``W`` is then ``y_mean - W x_mean``.
    """

    def __init__(self, X, Y, sw, fit_intercept):
        dtype = X.dtype
        if fit_intercept:
            self.x_offset = weighted_column_means(X, sw).astype(dtype)
            self.y_offset = (sw @ Y / sw.sum()).astype(dtype)
            Yc = Y - self.y_offset
        else:
            self.x_offset = None
            self.y_offset = np.zeros(Y.shape[1], dtype=dtype)
            Yc = Y
        self.prob = FlatProblem(Design(X, offset=self.x_offset), Y.shape[1])
        self.loss = SquaredLoss(np.ascontiguousarray(Yc, dtype=dtype), sw)

    def intercept(self, W):
        if self.x_offset is None:
            return np.zeros(W.shape[0], dtype=W.dtype)
        return self.y_offset - W @ self.x_offset


class ProjectedLinearModel(MultiOutputMixin, ProjectedLinearBase, RegressorMixin, LinearModel):
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
    constraint : {"l1", "l12", "l1inf"} or skproj.sparsity.Constraint, default="l1"
        "l1": ``sum_jk |W_kj| <= radius``. "l12": ``sum_j ||W_:,j||_2 <= radius``. "l1inf":
        ``sum_j max_k |W_kj| <= radius``. For one target the three coincide. A name builds
        :class:`~skproj.sparsity.L1Ball`, :class:`~skproj.sparsity.L12Ball` or
        :class:`~skproj.sparsity.L1InfBall` with ``radius`` and ``axis=0`` (the groups are the
        features of ``coef_`` of shape (n_targets, n_features)); a Constraint object is used
        as given, with its own ``radius`` and ``axis`` (``radius`` is then not used), e.g.
        ``L12Ball(radius=5.0, axis=1)`` groups the coefficients of each target. ``"l11"`` is
        accepted with a FutureWarning and means ``"l1"``.
    fit_intercept : bool, default=True
        Whether to fit an (unconstrained) intercept.
    tol : float >= 0, default=1e-4
        Stopping tolerance on an optimality certificate that, unlike the length of a step,
        does not become small before the features of small scale are fitted: the fit stops when the Frank-Wolfe (duality) gap of the returned
        coefficients, ``radius * ||G||_* + <G, W>``, is at most ``tol * f0``. Here ``f`` is
        the objective above on the centred data, ``G`` its gradient in ``W``, ``||.||_*`` the
        dual norm of the constraint (``max_kj |G_kj|`` for "l1", ``max_j ||G_:,j||_2`` for
        "l12", ``max_j sum_k |G_kj|`` for "l1inf"; a Constraint object's ``dual_norm``: the gap
        is its ``residual(W, G)``), and ``f0 = f(0)``, half the weighted variance of ``y``
        (summed over targets). The gap bounds ``f(W) - min f``, as the duality gap that
        :class:`sklearn.linear_model.Lasso` tests against ``tol * 2 f0`` does. An allowance
        for the gap's own rounding error is added (about ``2 eps radius max_j ||x_j||`` times
        the targets' scale, with the uncentred columns ``x_j``; in float32 it matters with a
        radius far above the solution's norm or with uncentred or badly scaled features). If
        ``max_iter`` is reached first, a ConvergenceWarning gives the gap; a fit accepted only
        within that allowance with a gap above ``max(tol, 0.01)`` also gets one (the fit may be
        that far from optimal: centre and scale the features or fit float64 data).
    max_iter : int >= 1, default=1000
        Maximum number of FISTA iterations. Badly scaled features (column norms spread over
        orders of magnitude) can need many more: standardising ``X`` helps, or see the
        ConvergenceWarning.
    warm_start : bool, default=False
        Start from the previous ``coef_`` when it has the right shape.
    verbose : int, default=0
        Print the solver's progress. 0: nothing. 1: one line per working-set round (the number
        of features in it and the optimality test of the full problem), FISTA's objective every
        100 iterations and one line at the end of each FISTA solve. 2 (or more): also every
        FISTA iteration and each attempt of the active-set step.

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
    Found. Comput. Math. 2015, Section 3.2), on working sets of features, stopped by the
    Frank-Wolfe gap (Jaggi, ICML 2013, Section 2); the initial Lipschitz constant is estimated
    by power iteration. For one target and the l1 ball (which "l12" and "l1inf" then are) FISTA
    also tries an active-set step on the current support and signs. Each iteration costs one product with ``X`` and one with ``X^T`` plus one
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
            self, X, y, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32], multi_output=True,
            y_numeric=True,
        )
        constraint = self._constraint()
        sw = _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)
        y = np.asarray(y, dtype=X.dtype)
        single = y.ndim == 1
        Y = y[:, None] if single else y
        sq = SquaredProblem(X, Y, sw, self.fit_intercept)
        k, d = Y.shape[1], X.shape[1]
        x0 = np.zeros(k * d, dtype=X.dtype)
        prev = self._warm_coef((k, d), X.dtype)
        if prev is not None:
            x0[...] = prev.reshape(-1)
        res = solve_working_set(sq.prob, sq.loss, constraint, x0, self.tol, self.max_iter, self.verbose,
                                type(self).__name__)
        self._warn_not_converged(res)
        W = self._without_constant_features(res.x.reshape(k, d), X, sw)
        b = sq.intercept(W)
        self.n_iter_ = res.n_iter
        if single:
            self.coef_ = W[0].copy()
            self.intercept_ = float(b[0]) if self.fit_intercept else 0.0
        else:
            self.coef_ = W.copy()
            self.intercept_ = b if self.fit_intercept else np.zeros(k, dtype=X.dtype)
        return self


class ProjectedLinearClassifier(ProbabilityMixin, ProjectedLinearBase, LinearClassifierMixin, BaseEstimator):
    """Logistic regression (binary or multinomial) with the coefficients in a norm ball.

    Solves

        min_{W, b}  (1 / S) sum_i s_i l(y_i, W x_i + b)   s.t.  ||W|| <= radius

    with ``l`` the logistic loss (two classes, ``W`` of shape (1, n_features)) or the
    multinomial cross-entropy (``W`` of shape (n_classes, n_features)). The intercept ``b`` is
    not constrained: the problem is solved on features centred by their weighted means
    ``x_mean`` (implicitly, so sparse ``X`` stays sparse) with the intercept
    ``b_c = b + W x_mean``, then ``intercept_ = b_c - W x_mean`` (an exact change of variables:
    adding a constant to a feature changes only ``intercept_``). With ``constraint="l1"`` and ``radius`` equal to the l1
    norm of the solution of ``LogisticRegression(l1_ratio=1, C=C)`` (which penalises the sum of
    the losses and not the intercept) the two problems have the same solution.

    Parameters
    ----------
    radius : float >= 0, default=1.0
        Radius of the constraint ball on ``coef_``.
    constraint : {"l1", "l12", "l1inf"} or skproj.sparsity.Constraint, default="l1"
        As in :class:`ProjectedLinearModel`; with several classes "l12" and "l1inf" group each
        feature's coefficients across classes (``axis=0``).
    fit_intercept : bool, default=True
    tol : float >= 0, default=1e-4
        Stopping tolerance on the optimality certificate of :class:`ProjectedLinearModel`,
        with the logistic loss: the Frank-Wolfe gap ``radius * ||G||_* + <G, W>`` (``G`` the
        gradient in ``W`` of the centred problem, at fixed ``b_c``) plus
        ``||g_b||^2 / (2 L_b)`` (``g_b`` the intercept's gradient, ``L_b`` = 1/4 binary, 1/2
        multinomial: the decrease one gradient step on the intercept guarantees) must be at
        most ``tol * f0``, ``f0 = log 2`` (binary) or ``log(n_classes)``, the loss at zero
        coefficients and intercept. Otherwise a ConvergenceWarning at ``max_iter``.
    max_iter : int >= 1, default=1000
    warm_start : bool, default=False
    verbose : int, default=0
        As in :class:`ProjectedLinearModel` (0: nothing, 1: one line per working-set round and
        every 100 FISTA iterations, 2: every FISTA iteration).

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
        With more than two classes the softmax does not change when a constant is added to
        every intercept: the one returned sums to zero (as that of
        :class:`sklearn.linear_model.LogisticRegression`).
    classes_ : ndarray of shape (n_classes,)
    n_iter_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    Notes
    -----
    Solver: FISTA with backtracking and adaptive restart (Beck & Teboulle 2009; O'Donoghue &
    Candes 2015); the initial Lipschitz constant is a power-iteration estimate of
    ``||[X - 1 x_mean^T, a 1]||^2 / 4`` (binary) or ``/ 2`` (multinomial), weighted. The
    intercept's variable is ``b_c / a``, ``a`` the largest weighted standard deviation of the
    features (1 when they are all constant): the intercept's column is then as large as the
    largest feature's, so one step size suits both and the iterations do not depend on the
    features' overall scale (``X`` times ``s`` with the radius divided by ``s`` takes the same
    steps).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skproj import ProjectedLinearClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = ProjectedLinearClassifier(radius=5.0, constraint="l12").fit(X, y)
    >>> clf.coef_.shape
    (3, 4)
    """


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
        constraint = self._constraint()
        y_idx, n_classes = encode_classes(self, y)
        sw = _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)
        dtype = X.dtype
        if n_classes == 2:
            k = 1
            loss = BinaryLogisticLoss(y_idx, sw, dtype=dtype)
        else:
            k = n_classes
            loss = MultinomialLoss(y_idx, n_classes, sw, dtype=dtype)
        # Centred features (implicitly: sparse X stays sparse): the intercept of the centred
        # problem is b_c = b + W x_mean, an exact change of variables that makes the problem
        # invariant to constant shifts of the features (and its intercept column orthogonal to
        # the others in the weighted inner product, which conditions it).
        x_mean = weighted_column_means(X, sw).astype(dtype) if self.fit_intercept else None
        design = Design(X, offset=x_mean, intercept=self.fit_intercept)
        if self.fit_intercept:
            # the intercept's column as large as the largest centred feature column (its
            # weighted standard deviation): one FISTA step size then suits both, whatever the
            # features' overall scale (with the plain ones column, features of size 1e3 or
            # 1e-3 took 500-1000 times the iterations)
            std = float(np.max(design.column_norms(loss.w[:, 0]), initial=0.0))
            design.intercept_scale = std if 0.0 < std < np.inf else 1.0
        prob = FlatProblem(design, k)
        x0 = np.zeros(prob.size, dtype=dtype)
        prev = self._warm_coef((k, X.shape[1]), dtype)
        if prev is not None:
            x0[: prob.size_w] = prev.reshape(-1)
            if self.fit_intercept:
                x0[prob.size_w :] = (np.asarray(self.intercept_, dtype=dtype) + prev @ x_mean) / design.intercept_scale
        res = solve_working_set(prob, loss, constraint, x0, self.tol, self.max_iter, self.verbose,
                                type(self).__name__)
        self._warn_not_converged(res)
        W, b = prob.split(res.x)
        if b is not None:
            b = b * design.intercept_scale
        W = self._without_constant_features(W.copy(), X, sw)
        self.coef_ = W
        if b is None:
            self.intercept_ = np.zeros(k, dtype=dtype)
        else:
            b = b - W @ x_mean
            if k > 1:  # softmax: the intercepts are defined up to a common constant
                b -= b.mean()
            self.intercept_ = b.astype(dtype)
        self.n_iter_ = res.n_iter
        return self
