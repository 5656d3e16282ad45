"""Tests of SpredRegressor / SpredClassifier against scikit-learn and independent references."""

import warnings

import numpy as np
import pytest
from scipy.special import log_softmax, softmax
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, LogisticRegression
from sklearn.preprocessing import PolynomialFeatures, StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from skproj import SpredClassifier, SpredRegressor


def lasso_objective(X, y, coef, intercept, alpha, sw=None):
    sw = np.ones(len(y)) if sw is None else sw
    r = y - X @ coef - intercept
    return 0.5 * np.sum(sw * r * r) / sw.sum() + alpha * np.abs(coef).sum()


def lasso_kkt(X, y, coef, intercept, alpha):
    r = y - X @ coef - intercept
    g = -X.T @ r / len(y)
    viol = np.where(coef != 0, np.abs(g + alpha * np.sign(coef)), np.maximum(np.abs(g) - alpha, 0))
    return viol.max() / alpha


def check_against_lasso(X, y, alpha, sw=None):
    ref = Lasso(alpha=alpha, tol=1e-10, max_iter=200_000).fit(X, y, sample_weight=sw)
    est = SpredRegressor(alpha=alpha, tol=1e-8, random_state=0, max_iter=5000).fit(X, y, sample_weight=sw)
    f_ref = lasso_objective(X, y, ref.coef_, ref.intercept_, alpha, sw)
    f_est = lasso_objective(X, y, est.coef_, est.intercept_, alpha, sw)
    assert f_est <= f_ref * (1 + 1e-6)
    assert abs(f_est - f_ref) <= 1e-6 * f_ref
    np.testing.assert_array_equal(est.coef_ != 0, ref.coef_ != 0)
    np.testing.assert_array_equal(est.get_support(), ref.coef_ != 0)
    return est


def synthetic(n, d, k, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w = np.zeros(d)
    w[rng.choice(d, k, replace=False)] = rng.standard_normal(k)
    return X, X @ w + 0.1 * rng.standard_normal(n)


@pytest.mark.parametrize("alpha", [1e-3, 0.1, 1.0])
def test_diabetes_matches_lasso(alpha):
    X, y = load_diabetes(return_X_y=True)
    est = check_against_lasso(X, y, alpha)
    assert lasso_kkt(X, y, est.coef_, est.intercept_, alpha) <= 1e-6


def test_synthetic_high_dimensional_matches_lasso():
    X, y = synthetic(200, 2000, 20)
    check_against_lasso(X, y, 0.05)


def test_real_high_dimensional_matches_lasso():
    # breast cancer, standardised, all degree-2 monomials: 569 samples x 495 features
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(PolynomialFeatures(2, include_bias=False).fit_transform(
        StandardScaler().fit_transform(X)))
    est = check_against_lasso(X, y.astype(float), 0.02)
    assert 0 < np.count_nonzero(est.coef_) < X.shape[1] // 2


def test_multi_output_is_lasso_per_column():
    X, y1 = synthetic(80, 40, 5, seed=1)
    _, y2 = synthetic(80, 40, 5, seed=2)
    Y = np.column_stack([y1, 3 * y2])
    ref = Lasso(alpha=0.05, tol=1e-10, max_iter=100_000).fit(X, Y)
    est = SpredRegressor(alpha=0.05, tol=1e-8, random_state=0).fit(X, Y)
    assert est.coef_.shape == (2, 40) and est.intercept_.shape == (2,)
    for k in range(2):
        f_ref = lasso_objective(X, Y[:, k], ref.coef_[k], ref.intercept_[k], 0.05)
        f_est = lasso_objective(X, Y[:, k], est.coef_[k], est.intercept_[k], 0.05)
        assert abs(f_est - f_ref) <= 1e-6 * f_ref
    np.testing.assert_array_equal(est.coef_ != 0, ref.coef_ != 0)


def test_sample_weight_matches_lasso_and_repetition():
    X, y = synthetic(60, 30, 5, seed=3)
    sw = np.random.default_rng(0).integers(0, 4, size=60).astype(float)
    est = check_against_lasso(X, y, 0.05, sw=sw)
    rep = np.repeat(np.arange(60), sw.astype(int))
    est_rep = SpredRegressor(alpha=0.05, tol=1e-8, random_state=0).fit(X[rep], y[rep])
    np.testing.assert_allclose(est.coef_, est_rep.coef_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(est.intercept_, est_rep.intercept_, rtol=1e-7, atol=1e-9)


def test_no_intercept_and_sparse_input():
    import scipy.sparse as sp

    X, y = synthetic(60, 30, 5, seed=4)
    ref = Lasso(alpha=0.05, tol=1e-10, fit_intercept=False).fit(X, y)
    est = SpredRegressor(alpha=0.05, tol=1e-8, fit_intercept=False, random_state=0).fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-6)
    assert est.intercept_ == 0.0
    est_sp = SpredRegressor(alpha=0.05, tol=1e-8, random_state=0).fit(sp.csr_matrix(X), y)
    est_d = SpredRegressor(alpha=0.05, tol=1e-8, random_state=0).fit(X, y)
    np.testing.assert_allclose(est_sp.coef_, est_d.coef_, atol=1e-8)


def test_sgd_solver_reaches_lasso_optimum():
    # polish=False: the feature-sign polish reaches the optimum from any start, so with it this
    # would not test the minibatch Adam solver at all. Without it the result is Adam's (2
    # minibatches per epoch, 500 epochs, constant step) followed by one proximal step, so it
    # is close to the optimum, not at it: on this small well-conditioned problem the relative
    # objective gap is 1.5e-7 and the KKT residual 2.2e-3 (other seeds / random states:
    # up to 1.6e-5 and 3.3e-2); the bounds below leave a margin of ~60x and ~9x. Returning
    # Adam's start (then the proximal step) gives a relative gap of 6e-3, 10 epochs 3e-4.
    X, y = synthetic(200, 10, 3, seed=1)
    alpha = 0.1
    ref = Lasso(alpha=alpha, tol=1e-12, max_iter=100_000).fit(X, y)
    with warnings.catch_warnings():
        # the KKT test at tol=1e-10 fails (as documented for polish=False) and says so
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = SpredRegressor(alpha=alpha, solver="sgd", polish=False, batch_size=100, learning_rate=0.01,
                             max_iter=500, tol=1e-10, random_state=0).fit(X, y)
    f_ref = lasso_objective(X, y, ref.coef_, ref.intercept_, alpha)
    f_est = lasso_objective(X, y, est.coef_, est.intercept_, alpha)
    assert abs(f_est - f_ref) <= 1e-5 * f_ref
    assert lasso_kkt(X, y, est.coef_, est.intercept_, alpha) <= 0.02
    np.testing.assert_array_equal(est.coef_ != 0, ref.coef_ != 0)


# ---------------------------------------------------------------- group lasso -------------


def group_prox(z, t, groups):
    """prox of t * sum_g sqrt|g| ||z_g||_2, written here independently of skproj."""
    out = np.zeros_like(z)
    for g in groups:
        nrm = np.linalg.norm(z[g])
        thr = t * np.sqrt(len(g))
        if nrm > thr:
            out[g] = (1 - thr / nrm) * z[g]
    return out


def group_lasso_reference(X, y, alpha, groups, n_iter=20000):
    """Plain proximal gradient (ISTA) on centered data, step 1 / ||X||_2^2 * n."""
    n = len(y)
    Xc, yc = X - X.mean(0), y - y.mean()
    step = n / np.linalg.norm(Xc, 2) ** 2
    w = np.zeros(X.shape[1])
    for _ in range(n_iter):
        w = group_prox(w + step * Xc.T @ (yc - Xc @ w) / n, step * alpha, groups)
    return w, y.mean() - X.mean(0) @ w


def group_objective(X, y, w, b, alpha, groups):
    r = y - X @ w - b
    return 0.5 * r @ r / len(y) + alpha * sum(np.sqrt(len(g)) * np.linalg.norm(w[g]) for g in groups)


def test_groups_match_proximal_gradient_reference():
    rng = np.random.default_rng(5)
    n, d = 100, 30
    X = rng.standard_normal((n, d))
    groups = [np.arange(i, i + 5) for i in range(0, d, 5)]
    w_true = np.zeros(d)
    w_true[:5] = rng.standard_normal(5)
    w_true[10:15] = rng.standard_normal(5)
    y = X @ w_true + 0.1 * rng.standard_normal(n)
    alpha = 0.05
    w_ref, b_ref = group_lasso_reference(X, y, alpha, groups)
    est = SpredRegressor(alpha=alpha, groups=groups, tol=1e-8, random_state=0).fit(X, y)
    f_ref = group_objective(X, y, w_ref, b_ref, alpha, groups)
    f_est = group_objective(X, y, est.coef_, est.intercept_, alpha, groups)
    assert abs(f_est - f_ref) <= 1e-6 * f_ref
    np.testing.assert_allclose(est.coef_, w_ref, atol=1e-5)
    active_ref = [np.linalg.norm(w_ref[g]) > 0 for g in groups]
    active_est = [np.linalg.norm(est.coef_[g]) > 0 for g in groups]
    assert active_ref == active_est
    # the same groups given as one id per feature
    ids = np.repeat(np.arange(6), 5)
    est2 = SpredRegressor(alpha=alpha, groups=ids, tol=1e-8, random_state=0).fit(X, y)
    np.testing.assert_allclose(est2.coef_, est.coef_, atol=1e-7)


def test_groups_of_size_one_is_lasso():
    X, y = synthetic(60, 20, 4, seed=6)
    est = SpredRegressor(alpha=0.05, groups=np.arange(20), tol=1e-8, random_state=0).fit(X, y)
    ref = Lasso(alpha=0.05, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-5)


def test_bad_groups_raise():
    X, y = synthetic(20, 6, 2)
    with pytest.raises(ValueError, match="overlap"):
        SpredRegressor(groups=[[0, 1, 2], [2, 3, 4, 5]]).fit(X, y)
    with pytest.raises(ValueError, match="cover"):
        SpredRegressor(groups=[[0, 1, 2], [3, 4]]).fit(X, y)
    with pytest.raises(ValueError, match="one group id per feature"):
        SpredRegressor(groups=np.zeros(5)).fit(X, y)


# ---------------------------------------------------------------- classifier --------------


def logistic_objective(clf, X, y, C):
    """C * sum_i loss_i + ||W||_1 (scikit-learn's LogisticRegression objective)."""
    Z = X @ clf.coef_.T + clf.intercept_
    yi = np.searchsorted(clf.classes_, y)
    if Z.shape[1] == 1:
        z = Z[:, 0]
        loss = np.sum(np.logaddexp(0, z) - yi * z)
    else:
        loss = -np.sum(log_softmax(Z, axis=1)[np.arange(len(y)), yi])
    return C * loss + np.abs(clf.coef_).sum()


@pytest.mark.parametrize("dataset, C", [("breast_cancer", 0.05), ("iris", 0.5)])
def test_classifier_matches_logistic_regression(dataset, C):
    X, y = (load_breast_cancer if dataset == "breast_cancer" else load_iris)(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    ref = LogisticRegression(C=C, l1_ratio=1, solver="saga", tol=1e-12, max_iter=100_000).fit(X, y)
    est = SpredClassifier(C=C, tol=1e-9, random_state=0, max_iter=5000).fit(X, y)
    f_ref, f_est = logistic_objective(ref, X, y, C), logistic_objective(est, X, y, C)
    assert est.coef_.shape == ref.coef_.shape
    assert f_est <= f_ref * (1 + 1e-6)
    assert abs(f_est - f_ref) <= 1e-6 * f_ref
    np.testing.assert_array_equal(est.coef_ != 0, ref.coef_ != 0)
    np.testing.assert_array_equal(est.classes_, ref.classes_)
    np.testing.assert_allclose(est.predict_proba(X), ref.predict_proba(X), atol=1e-4)
    # with several classes the intercepts are defined up to a common constant: both sum to 0
    # (they differed from scikit-learn's by 3 on raw iris, and between float32 and float64 X)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, atol=1e-3)


@pytest.mark.parametrize("dataset, C", [("iris", 1.0), ("wine", 0.1), ("breast_cancer_standardised", 1.0)])
def test_classifier_converges_on_unscaled_features(dataset, C):
    """Raw features (wine's range from 0.1 to 1680): the polishing's FISTA is preconditioned by
    the column scales (and centred), so the default ``max_iter`` reaches ``tol``. Before, the
    single step ``1 / L`` was set by the largest column and 1000 iterations stopped at KKT
    residuals of 0.19 (iris) and 1.2 (wine) with a ConvergenceWarning (wine: 17 non-zeros
    instead of 9). Standardised breast cancer (correlated columns) stopped at 0.0018 after
    1116 iterations; with the quasi-Newton solves on the support it reaches tol."""
    X, y = {"iris": load_iris, "wine": load_wine}.get(dataset, load_breast_cancer)(return_X_y=True)
    if dataset.endswith("standardised"):
        X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = SpredClassifier(C=C).fit(X, y)
    # the KKT conditions of C sum_i loss_i + ||W||_1, computed here with numpy (tol = 1e-4,
    # in units of the penalty's slope 1)
    Y = (y[:, None] == est.classes_).astype(float)
    Z = X @ est.coef_.T + est.intercept_
    if Z.shape[1] == 1:  # binary: P(class 1) = sigmoid(z)
        R = 1.0 / (1.0 + np.exp(-Z)) - Y[:, 1:]
    else:
        R = softmax(Z, axis=1) - Y
    G, gb = C * (R.T @ X), C * R.sum(axis=0)
    W = est.coef_
    viol = np.where(W != 0, np.abs(G + np.sign(W)), np.maximum(np.abs(G) - 1, 0))
    assert viol.max() <= 1e-4 + 1e-9 and np.abs(gb).max() <= 1e-4 + 1e-9
    if dataset == "iris":  # saga reaches the optimum here (on wine it stops 14% above it)
        ref = LogisticRegression(C=C, l1_ratio=1, solver="saga", tol=1e-10, max_iter=200_000).fit(X, y)
        f_ref, f_est = logistic_objective(ref, X, y, C), logistic_objective(est, X, y, C)
        assert abs(f_est - f_ref) <= 1e-6 * f_ref
        np.testing.assert_array_equal(est.coef_ != 0, ref.coef_ != 0)


@pytest.mark.parametrize("max_iter", [30, 100, 300])
def test_support_solves_of_the_polishing_stay_within_their_budget(max_iter, monkeypatch):
    """The L-BFGS support solves of the polishing (correlated features, weak penalty) evaluate
    the loss at most 2 max_iter times in all and their iterations count in n_iter_ (one solve
    made 2438 evaluations at max_iter=20 before; there are none while 2 max_iter <= 40)."""
    import scipy.optimize

    from skproj._solvers import _spred

    evaluations, iterations, minimize = [], [], scipy.optimize.minimize

    def spy(*args, **kwargs):
        res = minimize(*args, **kwargs)
        if kwargs["options"].get("ftol") == 0.0:  # a support solve (the first stage's has ftol > 0)
            evaluations.append(res.nfev)
            iterations.append(res.nit)
        return res

    monkeypatch.setattr(_spred.scipy.optimize, "minimize", spy)
    rng = np.random.RandomState(5)
    X = rng.randn(200, 5) @ rng.randn(5, 60) + 0.05 * rng.randn(200, 60)
    y = (X[:, :3].sum(1) + rng.randn(200) > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = SpredClassifier(C=100.0, max_iter=max_iter, random_state=0).fit(X, y)
    assert evaluations and sum(evaluations) <= 2 * max_iter
    assert est.n_iter_[0] >= sum(iterations)


def test_features_of_extreme_scale_do_not_break_the_polishing():
    """A column of scale 1e150 overflows the first stage's Lipschitz estimate; the polishing
    starts from zero when that is lower instead of failing (a ValueError on the prox's metric
    before) and warns that the fit did not converge."""
    rng = np.random.RandomState(3)
    X = rng.randn(100, 5)
    y = (X[:, 0] + 0.7 * X[:, 1] - 0.5 * X[:, 2] + 0.5 * rng.randn(100) > 0).astype(int)
    X[:, 0] *= 1e150
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's overflow in the first stage
        with pytest.warns(ConvergenceWarning):
            est = SpredClassifier(random_state=0).fit(X, y)
    assert np.all(np.isfinite(est.coef_)) and np.all(np.isfinite(est.intercept_))


def test_classifier_sample_weight_is_repetition():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    sw = np.random.default_rng(0).integers(0, 3, size=len(y)).astype(float)
    rep = np.repeat(np.arange(len(y)), sw.astype(int))
    a = SpredClassifier(C=0.5, tol=1e-9, random_state=0).fit(X, y, sample_weight=sw)
    b = SpredClassifier(C=0.5, tol=1e-9, random_state=0).fit(X[rep], y[rep])
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-5)


# ---------------------------------------------------------------- API ---------------------


def test_warm_start_and_convergence_warning():
    X, y = load_diabetes(return_X_y=True)
    est = SpredRegressor(alpha=0.1, tol=1e-8, warm_start=True, random_state=0).fit(X, y)
    coef = est.coef_.copy()
    est.fit(X, y)
    np.testing.assert_allclose(est.coef_, coef, rtol=1e-8, atol=1e-8)
    with pytest.warns(ConvergenceWarning):
        SpredRegressor(alpha=1e-3, tol=1e-12, max_iter=2, random_state=0).fit(*synthetic(50, 80, 10))


def test_selector_transform():
    X, y = load_diabetes(return_X_y=True)
    est = SpredRegressor(alpha=1.0, random_state=0).fit(X, y)
    Xt = est.transform(X)
    np.testing.assert_array_equal(Xt, X[:, est.coef_ != 0])


@parametrize_with_checks([SpredRegressor(), SpredClassifier()])
def test_sklearn_compatible(estimator, check):
    check(estimator)


# --- the feature-sign polishing step near rank(A) ------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_exact_line_search_is_the_minimum_on_the_segment(seed):
    from skproj._solvers._polish import exact_line_search

    rng = np.random.default_rng(seed)
    n, k = 30, 12
    A = rng.standard_normal((n, k))
    y = rng.standard_normal(n)
    w = rng.standard_normal(k) * (rng.random(k) < 0.7)
    dw = rng.standard_normal(k)
    alpha = 0.3
    r = y - A @ w
    Adw = A @ dw
    t, Ft = exact_line_search(r @ r, r @ Adw, Adw @ Adw, n, alpha, w, dw)
    grid = np.linspace(0.0, 1.0, 20001)
    F = np.array([0.5 * np.sum((y - A @ (w + s * dw)) ** 2) / n + alpha * np.abs(w + s * dw).sum()
                  for s in grid])
    assert 0.0 <= t <= 1.0
    assert Ft == pytest.approx(0.5 * np.sum((y - A @ (w + t * dw)) ** 2) / n
                               + alpha * np.abs(w + t * dw).sum(), rel=1e-12)
    assert Ft <= F.min() + 1e-12


def test_null_direction_step_keeps_the_fit_and_drops_one_coordinate():
    from skproj._solvers._polish import drop_along_null_direction

    rng = np.random.default_rng(0)
    n, k = 20, 21  # k > n: A has a null direction
    A = rng.standard_normal((n, k))
    w = rng.standard_normal(k)
    out = drop_along_null_direction(A.T @ A / n, w)
    np.testing.assert_allclose(A @ out, A @ w, atol=1e-10)
    assert np.abs(out).sum() <= np.abs(w).sum() + 1e-12
    assert np.count_nonzero(out) == k - 1


@pytest.mark.parametrize("seed", range(3))
def test_polishing_from_a_support_larger_than_the_rank(seed):
    # alpha small enough that the lasso support is close to n - 1, and a start with far more
    # non-zeros than that: the regime where activating several coordinates at once loses the
    # descent guarantee of feature-sign (the safe mode must still converge to the optimum)
    from skproj._solvers._polish import feature_sign
    from skproj._solvers._spred import squared_loss

    X, y = synthetic(60, 600, 60, seed=seed)
    alpha = 1e-3
    rng = np.random.default_rng(seed)
    W0 = rng.standard_normal((600, 1)) * 0.05 * (rng.random((600, 1)) < 0.3)
    loss = squared_loss(X, y[:, None], None, True)
    W, _, ok = feature_sign(loss, alpha, W0, 1e-8, 5000)
    assert ok
    coef = W[:, 0]
    intercept = float(loss.intercept(W)[0])
    assert lasso_kkt(X, y, coef, intercept, alpha) <= 1e-6
    ref = Lasso(alpha=alpha, tol=1e-12, max_iter=1_000_000).fit(X, y)
    f_ref = lasso_objective(X, y, ref.coef_, ref.intercept_, alpha)
    assert lasso_objective(X, y, coef, intercept, alpha) <= f_ref * (1 + 1e-8)


def test_polished_solution_satisfies_every_kkt_condition():
    # the benchmark's d = 1e3, alpha = 1e-3 case: ~600 non-zeros out of n = 1000; a newly
    # activated coordinate can come out of the sign-fixed solve with the wrong sign, which must
    # trigger another solve (it once ended with an active coordinate whose KKT residual was 2 alpha)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1000, 1000))
    w = np.zeros(1000)
    w[rng.choice(1000, 100, replace=False)] = rng.standard_normal(100)
    y = X @ w + 0.1 * rng.standard_normal(1000)
    for tol in (1e-4, 1e-8):
        est = SpredRegressor(alpha=1e-3, tol=tol, max_iter=20000, random_state=0).fit(X, y)
        assert lasso_kkt(X, y, est.coef_, est.intercept_, 1e-3) <= 1e-6


@pytest.mark.parametrize("alpha", [1e-3, 3e-2])
def test_polishing_from_zero_brings_columns_in_through_the_full_kkt_check(alpha, monkeypatch):
    # from w = 0 the working set of the feature-sign search is empty: every column enters
    # through a KKT check on all d columns, here in batches of 5, so many such checks are needed;
    # the result must still be Lasso's optimum
    import skproj._solvers._polish as polish
    from skproj._solvers._spred import squared_loss

    monkeypatch.setattr(polish, "_WORKING_SET_BATCH", 5)
    X, y = synthetic(80, 2000, 40, seed=3)
    loss = squared_loss(X, y[:, None], None, True)
    full_checks = []
    rmatvec = loss.rmatvec
    monkeypatch.setattr(loss, "rmatvec", lambda R: full_checks.append(1) or rmatvec(R))
    W, _, ok = polish.feature_sign(loss, alpha, np.zeros((2000, 1)), 1e-10, 20000)
    assert ok
    coef, intercept = W[:, 0], float(loss.intercept(W)[0])
    assert lasso_kkt(X, y, coef, intercept, alpha) <= 1e-8
    ref = Lasso(alpha=alpha, tol=1e-12, max_iter=1_000_000).fit(X, y)
    f_ref = lasso_objective(X, y, ref.coef_, ref.intercept_, alpha)
    assert lasso_objective(X, y, coef, intercept, alpha) <= f_ref * (1 + 1e-9)
    assert len(full_checks) >= np.count_nonzero(coef) // 5


def test_gram_cache_matches_dense_products():
    from skproj._solvers._polish import GramCache
    from skproj._solvers._spred import squared_loss

    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 500))
    loss = squared_loss(X, rng.standard_normal((30, 1)), rng.random(30) + 0.5, True)
    A = loss.design.columns(np.arange(500))
    gram = GramCache(loss.design, 500)
    for batch in (np.array([7, 3, 3]), np.arange(0, 200, 3), np.arange(100, 300)):  # growth
        gram.add(batch)
    assert gram.m == np.unique(np.concatenate([[7, 3], np.arange(0, 200, 3), np.arange(100, 300)])).size
    idx = gram.idx
    assert np.array_equal(gram.pos[idx], np.arange(idx.size))
    np.testing.assert_allclose(gram.G, A[:, idx].T @ A[:, idx] / 30, atol=1e-12)
    w = np.zeros(500)
    w[[3, 150, 499]] = [1.0, -2.0, 0.5]  # 499 is not cached yet: product() adds it
    np.testing.assert_allclose(gram.product(w), A @ w, atol=1e-12)
    r = rng.standard_normal(30)
    g = gram.rproduct(r)
    np.testing.assert_allclose(g[gram.idx], A[:, gram.idx].T @ r / 30, atol=1e-12)
    assert not np.any(np.delete(g, gram.idx))


# --- the intercept when every coefficient is zero ------------------------------------------


def _small_C_data(n=300, seed=0):
    rng = np.random.RandomState(seed)
    y = (rng.rand(n) < 0.6).astype(int)
    return rng.randn(n, 3) + 2.0 * y[:, None], y


@pytest.mark.parametrize("polish", [True, False])
@pytest.mark.parametrize("C", [1e-4, 1e-5, 1e-6])
def test_binary_intercept_is_the_logit_when_coef_is_zero(C, polish):
    # with coef_ == 0 the optimum's intercept is the logit of the (weighted) positive frequency;
    # the intercept's stop test once scaled with alpha = 1 / (C S), i.e. like 1 / C
    X, y = _small_C_data()
    sw = np.random.RandomState(1).rand(len(y)) + 0.5
    for weights in (None, sw):
        clf = SpredClassifier(C=C, polish=polish, random_state=0).fit(X, y, sample_weight=weights)
        assert not clf.coef_.any()
        s = np.ones(len(y)) if weights is None else weights
        p = s @ y / s.sum()
        np.testing.assert_allclose(clf.intercept_, [np.log(p / (1 - p))], rtol=0, atol=1e-8)
        np.testing.assert_allclose(clf.predict_proba(X)[:, 1], p, rtol=1e-8)


@pytest.mark.parametrize("C", [1e-4, 1e-6])
def test_multinomial_intercept_is_the_log_frequency_when_coef_is_zero(C):
    rng = np.random.RandomState(0)
    y = rng.randint(0, 3, 300)
    X = rng.randn(300, 3) + y[:, None]
    clf = SpredClassifier(C=C, random_state=0).fit(X, y)
    assert not clf.coef_.any()
    logq = np.log(np.bincount(y) / len(y))
    # softmax is unchanged by a common shift: the cold start keeps the intercepts centred
    np.testing.assert_allclose(clf.intercept_, logq - logq.mean(), rtol=0, atol=1e-8)
    np.testing.assert_allclose(clf.predict_proba(X[:5]), np.tile(np.exp(logq), (5, 1)), rtol=1e-8)


def test_intercept_gradient_tolerance_does_not_grow_with_alpha():
    # alpha = 1 / (C n) = 11 > 1 with some coefficients non-zero: the polishing's stop test on the
    # unpenalised intercept must be |dL/db| <= tol, not tol * alpha
    X, y = _small_C_data(seed=1)
    X = 30 * X
    C = 3e-4
    clf = SpredClassifier(C=C, tol=1e-4, random_state=0).fit(X, y)
    assert clf.coef_.any()
    z = X @ clf.coef_[0] + clf.intercept_[0]
    assert abs(np.mean(1 / (1 + np.exp(-z)) - y)) <= 1e-4


@pytest.mark.parametrize("sw", [None, "random"])
def test_regressor_intercept_is_the_weighted_mean_when_coef_is_zero(sw):
    X, y = synthetic(50, 10, 3, seed=7)
    s = None if sw is None else np.random.RandomState(0).rand(50)
    alpha = 10 * np.abs(X.T @ (y - y.mean())).max() / 50
    for polish in (True, False):
        est = SpredRegressor(alpha=alpha, polish=polish, random_state=0).fit(X, y, sample_weight=s)
        assert not est.coef_.any()
        assert est.intercept_ == pytest.approx(np.average(y, weights=s), rel=1e-12)


# --- polish=False: converged means optimal to tol ------------------------------------------


def _fit_recording(est, X, y):
    import warnings

    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always", ConvergenceWarning)
        est.fit(X, y)
    return [str(w.message) for w in rec if issubclass(w.category, ConvergenceWarning)]


@pytest.mark.parametrize("case", ["sgd_diabetes", "lbfgs_high_dimensional"])
def test_unpolished_fit_warns_unless_kkt_holds(case):
    # polish=False used to report a fit as converged when the smooth solver's own stop test
    # held (a small change of the objective over an epoch; a stable sign pattern), far from
    # the optimum: max |coef - Lasso| = 119 (sgd); KKT violation 0.13 alpha (lbfgs)
    if case == "sgd_diabetes":
        X, y = load_diabetes(return_X_y=True)
        alpha, kw = 0.1, dict(solver="sgd")
    else:
        X, y = synthetic(60, 400, 8)
        alpha, kw = 0.005, {}
    est = SpredRegressor(alpha=alpha, polish=False, random_state=0, **kw)
    messages = _fit_recording(est, X, y)
    kkt = lasso_kkt(X, y, est.coef_, est.intercept_, alpha)
    if kkt > est.tol * (1 + 1e-6):
        assert len(messages) == 1
        assert "optimality residual" in messages[0] and f"tol={est.tol}" in messages[0]
        assert "polish=True" in messages[0]
        assert f"{kkt:.3g}" in messages[0]
    else:
        assert messages == []


def test_unpolished_fit_is_quiet_when_optimal():
    # a small, well-conditioned problem that L-BFGS solves to tol by itself: no warning, and the
    # KKT conditions hold
    X, y = load_diabetes(return_X_y=True)
    est = SpredRegressor(alpha=1.0, polish=False, tol=1e-3, max_iter=5000, random_state=0)
    assert _fit_recording(est, X, y) == []
    assert lasso_kkt(X, y, est.coef_, est.intercept_, 1.0) <= 1e-3
    clf = SpredClassifier(C=1e-5, polish=False, random_state=0)
    assert _fit_recording(clf, *_small_C_data()) == []


@pytest.mark.parametrize("groups, message", [
    ([[0, 1.5], [2, 3, 4, 5]], r"groups\[0\] must hold integer feature indices"),
    ([[0, 1], [2, 3], np.array([4.0, 5.0])], r"groups\[2\] must hold integer feature indices"),
    ([[0, 1, 2], [], [3, 4, 5]], r"groups\[1\] is empty"),
    ([[0, 1, 2], [3, 4, 5], []], r"groups\[2\] is empty"),
    ([np.arange(6) < 3, np.arange(6) >= 3], r"groups\[0\] is a boolean mask"),
    ([[0, 1, 2], [[3, 4], [5, 5]]], r"groups\[1\] must be a 1-D array"),
    ([[0, 1, 2], 3, 4, 5], r"groups\[1\] is a scalar"),
])
def test_bad_index_groups_name_the_group(groups, message):
    X, y = synthetic(20, 6, 2)
    with pytest.raises(ValueError, match=message):
        SpredRegressor(groups=groups).fit(X, y)


def test_overlapping_groups_name_both():
    X, y = synthetic(20, 6, 2)
    with pytest.raises(ValueError, match=r"groups\[1\] and groups\[0\] share feature 2"):
        SpredRegressor(groups=[[0, 1, 2], [2, 3, 4, 5]]).fit(X, y)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_single_target_column_has_lasso_shapes(fit_intercept):
    # scikit-learn's Lasso with y of shape (n, 1): coef_ (d,), intercept_ of shape (1,) (0.0
    # without intercept), predict (n,)
    X, y = synthetic(40, 6, 3, seed=8)
    Y = y[:, None]
    ref = Lasso(alpha=0.05, fit_intercept=fit_intercept, tol=1e-10).fit(X, Y)
    est = SpredRegressor(alpha=0.05, fit_intercept=fit_intercept, tol=1e-8, random_state=0).fit(X, Y)
    assert est.coef_.shape == ref.coef_.shape == (6,)
    assert np.shape(est.intercept_) == np.shape(ref.intercept_)
    assert type(est.intercept_) is type(ref.intercept_)
    assert est.predict(X).shape == ref.predict(X).shape == (40,)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, atol=1e-6)
    one = SpredRegressor(alpha=0.05, fit_intercept=fit_intercept, tol=1e-8, random_state=0).fit(X, y)
    np.testing.assert_array_equal(est.coef_, one.coef_)


def test_multiclass_intercepts_sum_to_zero():
    """The softmax ignores a constant added to every intercept (they are not penalised): the
    ones returned sum to zero, as scikit-learn's do, so they no longer depend on the dtype of X
    or on the solver's path (raw iris: sums 9.47 and 7.14 for float64 and float32 X before)."""
    X, y = load_iris(return_X_y=True)
    fits = [SpredClassifier().fit(X.astype(dtype), y) for dtype in (np.float64, np.float32)]
    for est in fits:
        assert abs(est.intercept_.sum()) <= 1e-10
    np.testing.assert_allclose(fits[0].intercept_, fits[1].intercept_, atol=1e-2)
    np.testing.assert_allclose(fits[0].predict_proba(X), fits[1].predict_proba(X), atol=1e-3)
