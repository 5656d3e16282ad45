"""Tests of ProjectedLinearModel, ProjectedLinearClassifier and projected_path.

Correctness is checked against scikit-learn where the problems coincide (Lasso, MultiTaskLasso,
LogisticRegression with an l1 penalty: the constrained problem with radius = the norm of the
penalised solution has the same solution), by the projected-gradient fixed-point condition
computed here with numpy, and by invariances (sample weights vs repeated rows, sparse vs dense,
float32 vs float64).
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_breast_cancer, load_diabetes, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, LogisticRegression, MultiTaskLasso, lasso_path
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import skproj
from skproj import ProjectedLinearClassifier, ProjectedLinearModel, ProjectedLinearModelCV, projected_path
from skproj.projections import project_l1_ball, project_l12_ball

HAS_L1INF = hasattr(skproj.projections, "project_l1inf_ball")
needs_l1inf = pytest.mark.skipif(not HAS_L1INF, reason="skproj.projections.project_l1inf_ball not available yet")
CONSTRAINTS = ["l1", "l12", pytest.param("l1inf", marks=needs_l1inf)]


def rel_err(a, b):
    return np.abs(np.asarray(a) - np.asarray(b)).max() / np.abs(np.asarray(b)).max()


def project_ref(W, radius, constraint):
    """The constraint's projection on coef_ of shape (k, d): groups are features (axis=0)."""
    if constraint == "l1":
        return project_l1_ball(W, radius)
    if constraint == "l12":
        return project_l12_ball(W, radius, axis=0)
    return skproj.projections.project_l1inf_ball(W, radius, axis=0)


def norm_ref(W, constraint):
    W = np.atleast_2d(W)
    if constraint == "l1":
        return np.abs(W).sum()
    if constraint == "l12":
        return np.sqrt((W**2).sum(axis=0)).sum()
    return np.abs(W).max(axis=0).sum()


def synthetic_regression(n_targets=1, n=120, d=60, seed=0):
    X, Y = make_regression(
        n_samples=n, n_features=d, n_informative=8, n_targets=n_targets, noise=5.0, bias=3.0, random_state=seed
    )
    return X, Y


# ------------------------------------------------------------------------------------------------
# Agreement with scikit-learn where the problems coincide
# ------------------------------------------------------------------------------------------------


def _diabetes():
    return load_diabetes(return_X_y=True)


def _synthetic():
    return synthetic_regression()


def _synthetic_wide():
    X, y = make_regression(n_samples=80, n_features=300, n_informative=6, noise=1.0, random_state=3)
    return StandardScaler().fit_transform(X), y


def _sparse_powerlaw():
    rng = np.random.RandomState(0)
    X = sp.random(200, 1000, density=0.01, format="csc", random_state=rng, data_rvs=rng.standard_normal)
    X = (X @ sp.diags((np.arange(1000) + 1.0) ** -0.5)).tocsc()
    w = np.zeros(1000)
    w[rng.choice(100, 15, replace=False)] = 10 * rng.standard_normal(15)
    return X, X @ w + 0.1 * rng.standard_normal(200)


@pytest.mark.parametrize(
    "data, alpha, fit_intercept",
    [
        (_sparse_powerlaw, 1e-4, True),
        (_diabetes, 0.1, True),
        (_diabetes, 1.0, False),
        (_synthetic, 2.0, True),
        (_synthetic_wide, 1.0, True),
    ],
)
def test_l1_equals_lasso(data, alpha, fit_intercept):
    X, y = data()
    lasso = Lasso(alpha=alpha, fit_intercept=fit_intercept, tol=1e-14, max_iter=200_000).fit(X, y)
    radius = np.abs(lasso.coef_).sum()
    model = ProjectedLinearModel(radius=radius, fit_intercept=fit_intercept, tol=1e-11, max_iter=100_000).fit(X, y)
    assert model.coef_.shape == lasso.coef_.shape
    assert rel_err(model.coef_, lasso.coef_) <= 1e-6
    np.testing.assert_array_equal(model.coef_ != 0, lasso.coef_ != 0)
    assert abs(model.intercept_ - lasso.intercept_) <= 1e-6 * max(1.0, abs(lasso.intercept_))
    assert np.abs(model.coef_).sum() <= radius * (1 + 1e-12)


def test_l12_equals_multitask_lasso():
    X, Y = synthetic_regression(n_targets=3)
    mtl = MultiTaskLasso(alpha=5.0, tol=1e-14, max_iter=200_000).fit(X, Y)
    assert 0 < np.any(mtl.coef_ != 0, axis=0).sum() < X.shape[1]
    radius = np.sqrt((mtl.coef_**2).sum(axis=0)).sum()
    model = ProjectedLinearModel(radius=radius, constraint="l12", tol=1e-11, max_iter=100_000).fit(X, Y)
    assert model.coef_.shape == mtl.coef_.shape == (3, X.shape[1])
    assert rel_err(model.coef_, mtl.coef_) <= 1e-6
    np.testing.assert_allclose(model.intercept_, mtl.intercept_, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(model.get_support(), np.any(mtl.coef_ != 0, axis=0))


def test_path_reproduces_lasso_path():
    X, y = _diabetes()
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    alphas, coefs, _ = lasso_path(Xc, yc, alphas=[2.0, 0.5, 0.1, 0.02], tol=1e-14, max_iter=200_000)
    radii = np.abs(coefs).sum(axis=0)
    r, pcoefs, intercepts, n_iters = projected_path(X, y, radii, tol=1e-11, max_iter=100_000)
    order = np.argsort(radii)
    np.testing.assert_allclose(r, radii[order])
    assert pcoefs.shape == (X.shape[1], len(radii))
    for i, j in enumerate(order):
        assert rel_err(pcoefs[:, i], coefs[:, j]) <= 1e-6
        np.testing.assert_allclose(intercepts[i], y.mean() - X.mean(axis=0) @ pcoefs[:, i], rtol=1e-10)
    assert n_iters.shape == (len(radii),) and np.all(n_iters >= 1)


def test_path_matches_independent_fits_multioutput():
    X, Y = synthetic_regression(n_targets=2)
    radii = [50.0, 10.0, 200.0]
    r, coefs, intercepts, _ = projected_path(X, Y, radii, constraint="l12", tol=1e-10, max_iter=50_000)
    assert coefs.shape == (2, X.shape[1], 3) and intercepts.shape == (2, 3)
    for i, radius in enumerate(r):
        m = ProjectedLinearModel(radius=radius, constraint="l12", tol=1e-10, max_iter=50_000).fit(X, Y)
        assert rel_err(coefs[:, :, i], m.coef_) <= 1e-6
        np.testing.assert_allclose(intercepts[:, i], m.intercept_, rtol=1e-6)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_binary_classifier_equals_l1_logistic_regression(fit_intercept):
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)[:, :12]
    # LogisticRegression(l1): min ||w||_1 + C sum_i log-loss_i, intercept not penalised (saga).
    lr = LogisticRegression(
        l1_ratio=1.0, C=0.05, solver="saga", fit_intercept=fit_intercept, tol=1e-12, max_iter=100_000
    ).fit(X, y)
    radius = np.abs(lr.coef_).sum()
    clf = ProjectedLinearClassifier(radius=radius, fit_intercept=fit_intercept, tol=1e-11, max_iter=100_000)
    clf.fit(X, y)
    assert clf.coef_.shape == lr.coef_.shape == (1, X.shape[1])
    # saga's own accuracy limits this comparison (checked: it moves with saga's tol)
    assert rel_err(clf.coef_, lr.coef_) <= 1e-5
    np.testing.assert_allclose(clf.intercept_, lr.intercept_, atol=1e-5)
    np.testing.assert_array_equal(clf.coef_ != 0, lr.coef_ != 0)
    assert clf.score(X, y) == lr.score(X, y)
    np.testing.assert_allclose(clf.predict_proba(X), lr.predict_proba(X), atol=1e-5)


def test_multinomial_classifier_equals_l1_logistic_regression():
    X, y = make_classification(300, 20, n_informative=5, n_classes=3, random_state=0)
    lr = LogisticRegression(l1_ratio=1.0, C=0.05, solver="saga", tol=1e-12, max_iter=100_000).fit(X, y)
    radius = np.abs(lr.coef_).sum()
    clf = ProjectedLinearClassifier(radius=radius, tol=1e-11, max_iter=100_000).fit(X, y)
    assert clf.coef_.shape == (3, 20) and clf.intercept_.shape == (3,)
    assert rel_err(clf.coef_, lr.coef_) <= 1e-6
    np.testing.assert_allclose(clf.intercept_, lr.intercept_, atol=1e-6)
    assert clf.score(X, y) == lr.score(X, y)
    np.testing.assert_allclose(clf.predict_proba(X), lr.predict_proba(X), atol=1e-6)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), clf.predict_proba(X), rtol=1e-12)


# ------------------------------------------------------------------------------------------------
# Optimality: the documented certificate (Frank-Wolfe gap), gradients written here with numpy
# ------------------------------------------------------------------------------------------------


def squared_gradient(X, Y, W, b, sw):
    R = X @ W.T + b - Y
    return (sw[:, None] * R).T @ X / sw.sum()


def logistic_gradient(X, y, classes, W, b, sw):
    Z = X @ W.T + b
    if W.shape[0] == 1:
        t = (y == classes[1]).astype(float)[:, None]
        P = 1 / (1 + np.exp(-Z))
    else:
        t = (y[:, None] == classes[None, :]).astype(float)
        P = np.exp(Z - Z.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
    D = sw[:, None] * (P - t) / sw.sum()
    return D.T @ X, D.sum(axis=0)


def dual_norm_ref(G, constraint):
    """Dual norm of the constraint's norm on coef_ (k, d) grouped by feature: l_inf, l_inf,2, l_inf,1."""
    G = np.atleast_2d(G)
    if constraint == "l1":
        return np.abs(G).max()
    if constraint == "l12":
        return np.sqrt((G**2).sum(axis=0)).max()
    return np.abs(G).sum(axis=0).max()


def regressor_gap(X, Y, W, b, sw, radius, constraint):
    """The documented certificate of ProjectedLinearModel, relative: Frank-Wolfe gap / loss at W = 0."""
    Y = Y.reshape(len(X), -1)
    W = np.atleast_2d(W)
    G = squared_gradient(X, Y, W, b, sw)
    gap = radius * dual_norm_ref(G, constraint) + np.sum(G * W)
    Yc = Y - sw @ Y / sw.sum()
    f0 = 0.5 * np.sum(sw[:, None] * Yc**2) / sw.sum()
    return gap / f0


def classifier_gap(X, y, clf, sw, radius, constraint):
    """The documented certificate of ProjectedLinearClassifier, relative to the loss at zero:
    the gradient in W is that of the centred problem (intercept b + W x_mean held fixed)."""
    GW, gb = logistic_gradient(X, y, clf.classes_, clf.coef_, clf.intercept_, sw)
    GW = GW - np.outer(gb, sw @ X / sw.sum())
    k = clf.coef_.shape[0]
    curvature = 0.25 if k == 1 else 0.5
    gap = radius * dual_norm_ref(GW, constraint) + np.sum(GW * clf.coef_) + gb @ gb / (2 * curvature)
    return gap / (np.log(2) if k == 1 else np.log(k))


@pytest.mark.parametrize("constraint", CONSTRAINTS)
@pytest.mark.parametrize("n_targets", [1, 3])
def test_regressor_fixed_point(constraint, n_targets):
    X, Y = synthetic_regression(n_targets=n_targets, seed=1)
    Y = Y.reshape(len(X), -1)
    sw = np.random.RandomState(0).uniform(0.2, 2.0, len(X))
    tol = 1e-8
    model = ProjectedLinearModel(radius=40.0, constraint=constraint, tol=tol, max_iter=50_000)
    model.fit(X, Y, sample_weight=sw)
    W = model.coef_
    assert norm_ref(W, constraint) <= 40.0 * (1 + 1e-9)
    xm = sw @ X / sw.sum()
    L = np.linalg.norm(np.sqrt(sw / sw.sum())[:, None] * (X - xm), 2) ** 2
    G = squared_gradient(X, Y, W, model.intercept_, sw)
    step = project_ref(W - G / L, 40.0, constraint) - W
    assert np.linalg.norm(step) <= 1e-6 * np.linalg.norm(W)
    # documented criterion: Frank-Wolfe gap <= tol * (loss at W = 0)
    assert 0 <= regressor_gap(X, Y, W, model.intercept_, sw, 40.0, constraint) <= tol
    # the intercept is optimal (unconstrained): the weighted residual sums to zero
    R = Y - X @ W.T - model.intercept_
    np.testing.assert_allclose(sw @ R, 0, atol=1e-8 * np.abs(sw @ np.abs(R)).max())


@pytest.mark.parametrize("constraint", CONSTRAINTS)
@pytest.mark.parametrize("n_classes", [2, 4])
def test_classifier_fixed_point(constraint, n_classes):
    X, y = make_classification(200, 15, n_informative=6, n_classes=n_classes, random_state=2)
    sw = np.random.RandomState(1).uniform(0.5, 1.5, len(X))
    tol = 1e-8
    radius = 3.0
    clf = ProjectedLinearClassifier(radius=radius, constraint=constraint, tol=tol, max_iter=50_000)
    clf.fit(X, y, sample_weight=sw)
    W, b = clf.coef_, clf.intercept_
    assert norm_ref(W, constraint) <= radius * (1 + 1e-9)
    GW, gb = logistic_gradient(X, y, clf.classes_, W, b, sw)
    X1 = np.column_stack([X, np.ones(len(X))])
    L = np.linalg.norm(np.sqrt(sw / sw.sum())[:, None] * X1, 2) ** 2 * (0.25 if n_classes == 2 else 0.5)
    step_W = project_ref(W - GW / L, radius, constraint) - W
    step_b = -gb / L
    x_norm = np.sqrt(np.sum(W**2) + np.sum(b**2))
    assert np.sqrt(np.sum(step_W**2) + np.sum(step_b**2)) <= 1e-6 * x_norm
    # documented criterion: Frank-Wolfe gap + ||g_b||^2 / (2 L_b) <= tol * (loss at 0)
    assert 0 <= classifier_gap(X, y, clf, sw, radius, constraint) <= tol


@pytest.mark.parametrize("constraint", ["l12", pytest.param("l1inf", marks=needs_l1inf)])
def test_grouped_constraints_drop_whole_features(constraint):
    X, Y = synthetic_regression(n_targets=4, seed=5)
    model = ProjectedLinearModel(radius=30.0, constraint=constraint, tol=1e-8, max_iter=20_000).fit(X, Y)
    W = model.coef_
    support = model.get_support()
    assert 0 < support.sum() < X.shape[1]
    # grouped: a feature is either in for every target or out for all
    assert np.all(np.all(W[:, support] != 0, axis=0))
    assert np.all(W[:, ~support] == 0)
    np.testing.assert_array_equal(model.transform(X), X[:, support])


@pytest.mark.parametrize("constraint", [pytest.param("l12"), pytest.param("l1inf", marks=needs_l1inf)])
def test_single_target_constraints_coincide(constraint):
    X, y = synthetic_regression(seed=4)
    a = ProjectedLinearModel(radius=25.0, tol=1e-10, max_iter=50_000).fit(X, y)
    b = ProjectedLinearModel(radius=25.0, constraint=constraint, tol=1e-10, max_iter=50_000).fit(X, y)
    assert rel_err(b.coef_, a.coef_) <= 1e-7


# ------------------------------------------------------------------------------------------------
# Invariances: sample weights, sparse input, float32
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sparse_format", [None, "csr"])
def test_regressor_sample_weight_equals_repeated_rows(sparse_format):
    X, Y = synthetic_regression(n_targets=2, n=60, d=30, seed=6)
    rng = np.random.RandomState(0)
    sw = rng.randint(0, 4, len(X))
    Xr, Yr = np.repeat(X, sw, axis=0), np.repeat(Y, sw, axis=0)
    if sparse_format:
        X, Xr = sp.csr_matrix(X), sp.csr_matrix(Xr)
    kw = dict(radius=60.0, constraint="l12", tol=1e-11, max_iter=50_000)
    a = ProjectedLinearModel(**kw).fit(X, Y, sample_weight=sw)
    b = ProjectedLinearModel(**kw).fit(Xr, Yr)
    assert rel_err(a.coef_, b.coef_) <= 1e-7
    np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=1e-7)
    # weights are relative: scaling them changes nothing
    c = ProjectedLinearModel(**kw).fit(X, Y, sample_weight=7.5 * sw)
    assert rel_err(c.coef_, a.coef_) <= 1e-7


def test_classifier_sample_weight_equals_repeated_rows():
    X, y = make_classification(120, 10, n_informative=4, n_classes=3, random_state=1)
    sw = np.random.RandomState(2).randint(0, 3, len(X))
    kw = dict(radius=2.0, tol=1e-11, max_iter=50_000)
    a = ProjectedLinearClassifier(**kw).fit(X, y, sample_weight=sw)
    b = ProjectedLinearClassifier(**kw).fit(np.repeat(X, sw, axis=0), np.repeat(y, sw))
    assert rel_err(a.coef_, b.coef_) <= 1e-7
    np.testing.assert_allclose(a.intercept_, b.intercept_, atol=1e-7)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("n_targets", [1, 2])
def test_regressor_sparse_equals_dense(fmt, n_targets):
    rng = np.random.RandomState(0)
    X = sp.random(150, 400, density=0.05, format=fmt, random_state=rng) * 3
    w = np.zeros((400, n_targets))
    w[:10] = rng.standard_normal((10, n_targets))
    Y = (X @ w).squeeze() + 0.1 * rng.standard_normal((150, n_targets)).squeeze() + 2.0
    sw = rng.uniform(0.5, 2, 150)
    kw = dict(radius=5.0, constraint="l12", tol=1e-10, max_iter=50_000)
    a = ProjectedLinearModel(**kw).fit(X, Y, sample_weight=sw)
    b = ProjectedLinearModel(**kw).fit(X.toarray(), Y, sample_weight=sw)
    assert sp.issparse(X) and X.format == fmt
    assert rel_err(a.coef_, b.coef_) <= 1e-7
    np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=1e-7)
    np.testing.assert_allclose(a.predict(X), b.predict(X.toarray()), rtol=1e-7)


def test_classifier_sparse_equals_dense():
    rng = np.random.RandomState(1)
    X = sp.random(200, 300, density=0.05, format="csr", random_state=rng)
    y = (X @ rng.standard_normal(300) > 0).astype(int) + (np.asarray(X.sum(axis=1)).ravel() > 7.5)
    a = ProjectedLinearClassifier(radius=4.0, tol=1e-10, max_iter=50_000).fit(X, y)
    b = ProjectedLinearClassifier(radius=4.0, tol=1e-10, max_iter=50_000).fit(X.toarray(), y)
    assert rel_err(a.coef_, b.coef_) <= 1e-7
    np.testing.assert_allclose(a.intercept_, b.intercept_, atol=1e-7)


@pytest.mark.parametrize("sparse_input", [False, True])
def test_float32_stays_float32(sparse_input):
    X, y = synthetic_regression(seed=7)
    X = StandardScaler().fit_transform(X)
    X32 = X.astype(np.float32)
    if sparse_input:
        X32 = sp.csr_matrix(X32)
    m32 = ProjectedLinearModel(radius=20.0, tol=1e-5).fit(X32, y.astype(np.float32))
    m64 = ProjectedLinearModel(radius=20.0, tol=1e-10, max_iter=50_000).fit(X, y)
    assert m32.coef_.dtype == np.float32
    assert m32.predict(X32).dtype == np.float32
    assert rel_err(m32.coef_, m64.coef_) <= 1e-3
    c32 = ProjectedLinearClassifier(radius=2.0).fit(X32, y > np.median(y))
    assert c32.coef_.dtype == np.float32 and c32.intercept_.dtype == np.float32


# ------------------------------------------------------------------------------------------------
# API: shapes, selection, warm start, convergence, edge cases
# ------------------------------------------------------------------------------------------------


def test_shapes_and_selector_api():
    X, y = synthetic_regression()
    m = ProjectedLinearModel(radius=30.0).fit(X, y)
    assert m.coef_.shape == (X.shape[1],) and isinstance(m.intercept_, float)
    assert m.n_features_in_ == X.shape[1] and m.n_iter_ >= 1
    m2 = ProjectedLinearModel(radius=30.0).fit(X, y[:, None])
    assert m2.coef_.shape == (1, X.shape[1]) and m2.intercept_.shape == (1,)
    support = m.get_support()
    np.testing.assert_array_equal(support, m.coef_ != 0)
    np.testing.assert_array_equal(m.transform(X), X[:, support])
    Xc, yc = make_classification(100, 8, n_informative=3, random_state=0)
    clf = ProjectedLinearClassifier(radius=1.0).fit(Xc, np.where(yc == 1, "b", "a"))
    assert clf.coef_.shape == (1, 8) and clf.intercept_.shape == (1,)
    assert list(clf.classes_) == ["a", "b"]
    assert set(clf.predict(Xc)) <= {"a", "b"}


def test_radius_zero_gives_mean_predictor():
    X, y = synthetic_regression()
    sw = np.linspace(0.5, 1.5, len(X))
    m = ProjectedLinearModel(radius=0.0).fit(X, y, sample_weight=sw)
    assert np.all(m.coef_ == 0) and m.get_support().sum() == 0
    np.testing.assert_allclose(m.intercept_, np.average(y, weights=sw))


def test_warm_start_and_convergence_warning():
    X, y = synthetic_regression(seed=8)
    m = ProjectedLinearModel(radius=40.0, tol=1e-10, max_iter=50_000).fit(X, y)
    cold_iter = m.n_iter_
    m.set_params(warm_start=True)
    m.fit(X, y)
    assert m.n_iter_ < cold_iter
    with pytest.warns(ConvergenceWarning):
        ProjectedLinearModel(radius=40.0, tol=1e-12, max_iter=2).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ProjectedLinearModel(radius=40.0, tol=1e-6, max_iter=5000).fit(X, y)


def test_verbose_prints(capsys):
    X, y = synthetic_regression()
    ProjectedLinearModel(radius=30.0, verbose=2).fit(X, y)
    assert "ProjectedLinearModel" in capsys.readouterr().out


@pytest.mark.parametrize("verbose", [0, 1, 2])
def test_verbose_levels_print_what_the_docstring_says(verbose, capsys):
    """0: nothing; 1: the working-set lines and every 100th FISTA iteration; 2: every iteration."""
    import re

    X, y = load_diabetes(return_X_y=True, scaled=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ProjectedLinearModel(radius=50.0, constraint="l12", tol=0.0, max_iter=250, verbose=verbose).fit(X, y)
    out = capsys.readouterr().out
    iters = [int(i) for i in re.findall(r"\] iter +(\d+) ", out)]
    if verbose == 0:
        assert out == ""
        return
    assert "[ProjectedLinearModel] working set" in out
    if verbose == 1:
        assert iters and all(i % 100 == 0 for i in iters)
    else:
        assert iters[:3] == [1, 2, 3]


def test_classifier_rejects_single_class():
    with pytest.raises(ValueError, match=r"at least 2 classes.*only one class: 0\.0\.$"):
        ProjectedLinearClassifier().fit(np.ones((5, 2)), np.zeros(5))


def test_path_rejects_bad_radii():
    X, y = synthetic_regression()
    with pytest.raises(ValueError, match="radii"):
        projected_path(X, y, [-1.0, 2.0])
    with pytest.raises(ValueError, match="constraint"):
        projected_path(X, y, [1.0], constraint="l2")


def test_cv_matches_manual_cross_validation():
    from sklearn.model_selection import KFold

    X, y = synthetic_regression(n=90, d=40, seed=9)
    sw = np.random.RandomState(3).uniform(0.5, 2.0, len(X))
    radii = np.geomspace(5, 500, 6)
    cv = KFold(3)
    model = ProjectedLinearModelCV(radii=radii, cv=cv, tol=1e-10, max_iter=50_000).fit(X, y, sample_weight=sw)
    assert model.mse_path_.shape == (6, 3)
    manual = np.zeros((6, 3))
    for f, (tr, te) in enumerate(cv.split(X)):
        for i, r in enumerate(radii):
            m = ProjectedLinearModel(radius=r, tol=1e-10, max_iter=50_000).fit(X[tr], y[tr], sample_weight=sw[tr])
            manual[i, f] = np.average((m.predict(X[te]) - y[te]) ** 2, weights=sw[te])
    np.testing.assert_allclose(model.mse_path_, manual, rtol=1e-6)
    assert model.radius_ == radii[np.argmin(manual.mean(axis=1))]
    ref = ProjectedLinearModel(radius=model.radius_, tol=1e-10, max_iter=50_000).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(model.coef_, ref.coef_)


def test_cv_default_grid_multioutput_sparse():
    X, Y = synthetic_regression(n_targets=2, n=80, d=50, seed=10)
    model = ProjectedLinearModelCV(constraint="l12", n_radii=8, cv=3).fit(sp.csr_matrix(X), Y)
    assert model.radii_.shape == (8,) and np.all(np.diff(model.radii_) > 0)
    assert model.coef_.shape == (2, 50) and model.radius_ in model.radii_
    assert norm_ref(model.coef_, "l12") <= model.radius_ * (1 + 1e-9)


def _expected_failed_checks(estimator):
    if isinstance(estimator, ProjectedLinearModelCV):
        # Checked: with radii=[0.01, 0.1, 1.0, 1.9] both checks pass. The default grid ends at the
        # norm of the least-squares fit; on these data (fewer rows than features) CV picks that
        # largest radius, where several interpolating solutions lie inside the ball (the problem
        # is not strictly convex), and which one FISTA returns depends on rounding (so these
        # checks may also pass: the marks are not strict).
        reason = (
            "the default grid's largest radius admits several interpolating solutions when "
            "n_samples < n_features; the returned one depends on rounding"
        )
        return {
            "check_sample_weight_equivalence_on_dense_data": reason,
            "check_sample_weight_equivalence_on_sparse_data": reason,
        }
    return {}


@parametrize_with_checks(
    [ProjectedLinearModel(), ProjectedLinearClassifier(), ProjectedLinearModelCV(n_radii=5, cv=3)],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("restart", ["gradient", "function", None])
def test_fista_solver_on_nonnegative_least_squares(restart):
    """The solver alone, on a problem with an independent reference (scipy's NNLS)."""
    from scipy.optimize import nnls

    from skproj._solvers._fista import estimate_lipschitz, fista

    rng = np.random.RandomState(0)
    A = rng.standard_normal((40, 15))
    b = rng.standard_normal(40)
    ref, _ = nnls(A, b)

    def loss_grad(z):
        r = z - b
        return 0.5 * r @ r, r

    kw = dict(
        matvec=lambda x: A @ x,
        rmatvec=lambda dz: A.T @ dz,
        loss=lambda z: 0.5 * (z - b) @ (z - b),
        loss_grad=loss_grad,
        project=lambda v: np.maximum(v, 0.0),  # orthant: a test-local reference projection
    )
    L = estimate_lipschitz(kw["matvec"], kw["rmatvec"], lambda v: v, np.zeros(15))
    np.testing.assert_allclose(L, np.linalg.norm(A, 2) ** 2, rtol=1e-3)
    # start from a deliberately small constant: backtracking must fix it
    res = fista(np.zeros(15), lipschitz=L / 50, tol=1e-12, max_iter=20_000, restart=restart, **kw)
    assert res.converged and res.lipschitz >= L / 50
    np.testing.assert_allclose(res.x, ref, atol=1e-9)
    # documented bound: fixed-point step with the true constant <= (L_acc + L) / L * last step
    g = A.T @ (A @ res.x - b)
    step = np.linalg.norm(np.maximum(res.x - g / L, 0) - res.x)
    assert step <= (res.lipschitz + L) / L * res.residual * (1 + 1e-6) + 1e-15
    with pytest.raises(ValueError, match="restart"):
        fista(np.zeros(15), lipschitz=L, restart="bad", **kw)


# ------------------------------------------------------------------------------------------------
# Sparsity objects as constraints, the deprecated spelling, parallel cross-validation
# ------------------------------------------------------------------------------------------------


def test_constraint_objects_equal_names():
    from skproj.sparsity import L1Ball, L12Ball, L1InfBall

    X, Y = synthetic_regression(n_targets=3, seed=11)
    kw = dict(tol=1e-10, max_iter=50_000)
    for name, obj in [("l1", L1Ball(40.0)), ("l12", L12Ball(40.0, axis=0)), ("l1inf", L1InfBall(40.0, axis=0))]:
        a = ProjectedLinearModel(radius=40.0, constraint=name, **kw).fit(X, Y)
        b = ProjectedLinearModel(radius=1.0, constraint=obj, **kw).fit(X, Y)  # the object's radius is used
        np.testing.assert_array_equal(a.coef_, b.coef_)
        assert obj.value(b.coef_) <= 40.0 * (1 + 1e-9)
        assert obj.radius == 40.0  # not modified by fit


@pytest.mark.parametrize("ball", ["L12Ball", "L1InfBall"])
def test_constraint_object_grouping_targets(ball):
    """axis=1 on coef_ (n_targets, n_features): the groups are the targets; the fixed point of
    that ball's projection holds."""
    from skproj import sparsity

    X, Y = synthetic_regression(n_targets=3, seed=12)
    obj = getattr(sparsity, ball)(radius=30.0, axis=1)
    tol = 1e-9
    model = ProjectedLinearModel(constraint=obj, tol=tol, max_iter=50_000).fit(X, Y)
    W = model.coef_
    assert obj.value(W) <= 30.0 * (1 + 1e-9)
    sw = np.ones(len(X))
    xm = X.mean(axis=0)
    L = np.linalg.norm((X - xm) / np.sqrt(len(X)), 2) ** 2
    G = squared_gradient(X, Y, W, model.intercept_, sw)
    step = obj.project(W - G / L) - W
    assert np.linalg.norm(step) <= 1e-6 * np.linalg.norm(W)
    # documented criterion: the object's Frank-Wolfe gap (its residual) <= tol * (loss at W = 0)
    f0 = 0.5 * np.mean((Y - Y.mean(axis=0)) ** 2) * Y.shape[1]
    assert 0 <= obj.residual(W, G) <= tol * f0


def test_classifier_constraint_object_and_grid_search():
    from sklearn.model_selection import GridSearchCV

    from skproj.sparsity import L1InfBall

    X, y = make_classification(150, 12, n_informative=4, n_classes=3, random_state=3)
    a = ProjectedLinearClassifier(radius=2.0, constraint="l1inf", tol=1e-9, max_iter=20_000).fit(X, y)
    b = ProjectedLinearClassifier(constraint=L1InfBall(2.0, axis=0), tol=1e-9, max_iter=20_000).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    gs = GridSearchCV(ProjectedLinearClassifier(constraint=L1InfBall(axis=0)), {"constraint__radius": [0.5, 2.0]},
                      cv=3).fit(X, y)
    assert gs.best_params_["constraint__radius"] in (0.5, 2.0)
    assert L1InfBall(axis=0).set_params(radius=gs.best_params_["constraint__radius"]).value(
        gs.best_estimator_.coef_) <= gs.best_params_["constraint__radius"] * (1 + 1e-9)


def test_l11_is_deprecated_spelling_of_l1():
    X, y = synthetic_regression(seed=13)
    a = ProjectedLinearModel(radius=20.0, tol=1e-9, max_iter=20_000).fit(X, y)
    with pytest.warns(FutureWarning, match="l1"):
        b = ProjectedLinearModel(radius=20.0, constraint="l11", tol=1e-9, max_iter=20_000).fit(X, y)
    np.testing.assert_allclose(b.coef_, a.coef_, rtol=1e-12, atol=1e-12)
    with pytest.warns(FutureWarning):
        projected_path(X, y, [5.0], constraint="l11")


def test_path_accepts_object_and_keeps_it():
    from skproj.sparsity import L12Ball

    X, Y = synthetic_regression(n_targets=2)
    obj = L12Ball(radius=123.0, axis=0)
    r, coefs, _, _ = projected_path(X, Y, [10.0, 50.0], constraint=obj, tol=1e-10, max_iter=50_000)
    _, ref, _, _ = projected_path(X, Y, [10.0, 50.0], constraint="l12", tol=1e-10, max_iter=50_000)
    np.testing.assert_array_equal(coefs, ref)
    assert obj.radius == 123.0
    with pytest.raises(TypeError, match="constraint"):
        projected_path(X, Y, [1.0], constraint=3)


@pytest.mark.parametrize("constraint", ["l1", "l1inf"])
def test_cv_parallel_equals_sequential(constraint):
    X, Y = synthetic_regression(n_targets=2, n=90, d=40, seed=14)
    sw = np.random.RandomState(4).uniform(0.5, 2.0, len(X))
    kw = dict(constraint=constraint, n_radii=12, cv=3, tol=1e-6)
    seq = ProjectedLinearModelCV(n_jobs=1, **kw).fit(X, Y, sample_weight=sw)
    par = ProjectedLinearModelCV(n_jobs=2, **kw).fit(X, Y, sample_weight=sw)
    np.testing.assert_array_equal(par.mse_path_, seq.mse_path_)
    assert par.radius_ == seq.radius_
    np.testing.assert_array_equal(par.coef_, seq.coef_)
    # every (fold, radius) error is that of the warm-started path on its block of radii
    assert np.all(np.isfinite(seq.mse_path_)) and seq.mse_path_.shape == (12, 3)


def test_cv_rejects_a_training_fold_without_weight():
    """A training fold whose sample weights sum to zero has no loss to fit: a clear error
    naming sample_weight and the fold (it crashed with "x contains NaN" in the projection)."""
    X, y = make_regression(60, 10, n_informative=3, noise=1, random_state=0)
    sw = np.zeros(60)
    sw[:20] = 1
    with pytest.raises(ValueError, match=r"sample_weight sums to 0 on the training samples of fold 0\b"):
        ProjectedLinearModelCV(n_radii=5, cv=3).fit(X, y, sample_weight=sw)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("sparse_input", [False, True])
def test_classifier_invariant_to_feature_offsets(n_classes, sparse_input):
    """The intercept is unconstrained, so adding a constant to a feature changes only intercept_
    (by -coef_ @ offset). Without centring, X + 10 made the problem ill-conditioned: FISTA
    stopped at other coefficients (binary, default settings: [-0.14 0 0.20 0.66 0] vs
    [-0.22 -0.01 0.03 0.51 -0.23])."""
    X, y = make_classification(500, 5, n_informative=3, n_redundant=0, n_classes=n_classes, flip_y=0.2,
                               random_state=0)
    sw = np.random.RandomState(0).uniform(0.5, 2.0, len(X))
    offsets = [np.zeros(5), np.full(5, 10.0), np.array([1000.0, -50.0, 3.0, 0.0, 200.0])]
    fits = []
    for off in offsets:
        Xo = X + off
        # sparse: the shifted matrix stored as CSR (the centring must not densify it)
        Xo = sp.csr_matrix(Xo) if sparse_input else Xo
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            fits.append(ProjectedLinearClassifier(radius=1.0).fit(Xo, y, sample_weight=sw))
    ref = fits[0]
    for off, clf in zip(offsets[1:], fits[1:]):
        assert rel_err(clf.coef_, ref.coef_) <= 1e-8
        expected = ref.intercept_ - ref.coef_ @ off
        if n_classes > 2:
            expected -= expected.mean()  # softmax intercepts: the zero-sum representative
        np.testing.assert_allclose(clf.intercept_, expected, rtol=1e-8,
                                   atol=1e-8 * (1 + np.abs(ref.coef_ @ off).max()))
        np.testing.assert_array_equal(clf.coef_ != 0, ref.coef_ != 0)
    # warm start maps the previous intercept into the centred problem: it starts at the solution
    clf = fits[-1]
    cold = (clf.coef_.copy(), clf.intercept_.copy(), clf.n_iter_)
    Xo = X + offsets[-1]
    clf.set_params(warm_start=True).fit(sp.csr_matrix(Xo) if sparse_input else Xo, y, sample_weight=sw)
    assert clf.n_iter_ < cold[2]
    assert rel_err(clf.coef_, cold[0]) <= 1e-3
    np.testing.assert_allclose(clf.intercept_, cold[1], atol=1e-3 * np.abs(cold[1]).max())


# ------------------------------------------------------------------------------------------------
# The stopping rule does not depend on the scale of the features
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("constraint", CONSTRAINTS)
def test_default_fit_equals_lasso_on_unscaled_features(constraint):
    """Diabetes in its original units (feature scales 0.05 to 50): for one target the three
    balls are the l1 ball, and the default fit is Lasso's solution. The projected-step test
    stopped l12 and l1inf after 395 iterations at s5 = 13.3 instead of 34.2 (R2 0.5036 against
    0.5107), without a warning."""
    X, y = load_diabetes(return_X_y=True, scaled=False)
    lasso = Lasso(alpha=1.0, tol=1e-12, max_iter=1_000_000).fit(X, y)
    radius = np.abs(lasso.coef_).sum()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = ProjectedLinearModel(radius=radius, constraint=constraint).fit(X, y)
    assert rel_err(model.coef_, lasso.coef_) <= 1e-3
    assert abs(model.score(X, y) - lasso.score(X, y)) <= 1e-6
    assert regressor_gap(X, y, model.coef_, model.intercept_, np.ones(len(X)), radius, constraint) <= 1e-4


def _badly_scaled(n_targets):
    rng = np.random.RandomState(0)
    X = rng.standard_normal((200, 5)) * [100, 1, 1, 1, 1]
    B = np.array([[0.01, 1, 1, 1, 1], [0.02, -1, 0.5, 1, 0]])[:n_targets]
    return X, (X @ B.T + 0.1 * rng.standard_normal((200, n_targets))).squeeze()


@pytest.mark.parametrize("constraint", CONSTRAINTS)
def test_default_fit_equals_least_squares_when_the_ball_does_not_bind(constraint):
    """One feature 100 times larger than the others, radius 10 above the least-squares norm
    (about 4): the solution is LinearRegression's. l12 stopped at [0.01 0.69 0.72 0.84 0.78]
    (R2 0.95 against 0.998)."""
    from sklearn.linear_model import LinearRegression

    X, y = _badly_scaled(1)
    ref = LinearRegression().fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = ProjectedLinearModel(radius=10.0, constraint=constraint).fit(X, y)
    assert rel_err(model.coef_, ref.coef_) <= 1e-4
    assert abs(model.intercept_ - ref.intercept_) <= 1e-4


def test_badly_scaled_fits_warn_or_meet_the_certificate():
    """Without the active-set step (two targets; logistic loss) FISTA is slow on badly scaled
    features: at max_iter=1000 the fit must say so (it stopped after 300 and 404 iterations, far
    from the optimum, silently); with enough iterations it reaches the certificate (an upper
    bound on the suboptimality) and the least-squares solution."""
    from sklearn.linear_model import LinearRegression

    X, Y = _badly_scaled(2)
    with pytest.warns(ConvergenceWarning, match=r"relative optimality gap .* > tol=0\.0001"):
        ProjectedLinearModel(radius=20.0, constraint="l12").fit(X, Y)
    model = ProjectedLinearModel(radius=20.0, constraint="l12", tol=1e-8, max_iter=100_000).fit(X, Y)
    assert regressor_gap(X, Y, model.coef_, model.intercept_, np.ones(len(X)), 20.0, "l12") <= 1e-8
    assert rel_err(model.coef_, LinearRegression().fit(X, Y).coef_) <= 1e-5

    Xc, yc = make_classification(500, 5, n_informative=3, n_redundant=0, flip_y=0.2, random_state=0)
    Xc = Xc * [100, 1, 1, 1, 1]
    with pytest.warns(ConvergenceWarning, match="relative optimality gap"):
        ProjectedLinearClassifier(radius=1.2).fit(Xc, yc)
    clf = ProjectedLinearClassifier(radius=1.2, tol=1e-10, max_iter=100_000).fit(Xc, yc)
    assert 0 <= classifier_gap(Xc, yc, clf, np.ones(len(Xc)), 1.2, "l1") <= 1e-10


@pytest.mark.parametrize("sparse_input", [False, True])
def test_float32_large_radius_needs_no_more_than_rounding(sparse_input):
    """In float32 the gap of a radius far above the solution's norm (here 1e6 against ~100)
    cannot be resolved below ``eps * radius * ...``: the rounding allowance keeps such fits from
    running to max_iter with a spurious warning. The allowance uses the design's weighted
    column norms (checked here against numpy, dense and sparse, centred)."""
    from skproj._design import Design

    X, y = make_regression(300, 50, n_informative=10, noise=10, random_state=0)
    X = StandardScaler().fit_transform(X) + 3.0
    sw = np.random.RandomState(0).uniform(0.5, 2.0, len(X))
    xm = sw @ X / sw.sum()
    ref = np.sqrt(sw @ (X - xm) ** 2)
    Xin = sp.csr_matrix(X) if sparse_input else X
    np.testing.assert_allclose(Design(Xin, offset=xm).column_norms(sw), ref, rtol=1e-10)
    X32 = Xin.astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        m32 = ProjectedLinearModel(radius=1e6, constraint="l12").fit(X32, np.column_stack([y, -y]).astype(np.float32))
    m64 = ProjectedLinearModel(radius=1e6, constraint="l12", tol=1e-10).fit(X, np.column_stack([y, -y]))
    assert m32.n_iter_ < 100
    assert rel_err(m32.coef_, m64.coef_) <= 1e-4


def test_float32_unresolvable_certificate_warns():
    # float32, feature offsets of 1e3 and column scales over 2 decades: the gap's rounding
    # allowance (about 1.2-7.9 f0 here) accepted fits 14% of f0 from optimal without a word;
    # a fit accepted only within the allowance with a gap above max(tol, 0.01) now warns
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((400, 20))
    X = (Z * np.logspace(0, -2, 20) + 1e3).astype(np.float32)
    Y = np.column_stack([Z @ rng.standard_normal(20), Z @ rng.standard_normal(20)]).astype(np.float32)
    with pytest.warns(ConvergenceWarning, match="rounding error"):
        ProjectedLinearModel(radius=300, constraint="l12", max_iter=5000).fit(X, Y)
    # the same data centred in float64 is certified without a warning
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ProjectedLinearModel(radius=300, constraint="l12", max_iter=5000).fit(X.astype(np.float64), Y)
