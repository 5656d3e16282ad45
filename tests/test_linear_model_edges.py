"""Projected linear models on constant features, badly scaled features (the default radius
grid) and warm starts across shapes; where their warnings point."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_iris, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

from skproj import ProjectedLinearClassifier, ProjectedLinearModel, ProjectedLinearModelCV, SpredRegressor
from skproj.linear_model._path import _default_radii
from skproj.sparsity import L1Ball


@pytest.mark.parametrize("fmt", [np.asarray, sp.csr_matrix, sp.csc_matrix])
def test_constant_features_get_no_coefficient(fmt):
    """With an intercept a constant column carries nothing; a non-binding radius let the
    polisher's solve put an arbitrary value on it (-2.46 here) and rounding left 1e-16 elsewhere,
    so get_support() reported it, unlike Lasso."""
    X, y = make_regression(n_samples=100, n_features=10, n_informative=3, noise=1, random_state=0)
    Xk = np.column_stack([X[:, :4], np.full(100, 7.3), X[:, 4:], np.full(100, -0.1)])
    const = np.array([4, 11])
    reference = ProjectedLinearModel(radius=1000).fit(X, y)
    model = ProjectedLinearModel(radius=1000).fit(fmt(Xk), y)
    assert np.all(model.coef_[const] == 0) and not model.get_support()[const].any()
    np.testing.assert_allclose(np.delete(model.coef_, const), reference.coef_, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(model.predict(fmt(Xk)), reference.predict(X), rtol=1e-10)
    Xi, yi = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # radius 100 barely binds on iris
        clf = ProjectedLinearClassifier(radius=100, max_iter=50).fit(fmt(np.c_[Xi, np.ones(150)]), yi)
    assert np.all(clf.coef_[:, -1] == 0)
    # constant on the samples that count: a zero weight on the only other value
    Xw = Xk.copy()
    Xw[0, 0] = 5.0
    Xw[1:, 0] = 1.0
    sw = np.ones(100)
    sw[0] = 0.0
    assert ProjectedLinearModel(radius=1000).fit(fmt(Xw), y, sample_weight=sw).coef_[0] == 0
    # without an intercept a constant column is a feature like any other
    assert ProjectedLinearModel(radius=1000, fit_intercept=False).fit(fmt(Xk), y).coef_[4] != 0


def test_default_grid_reaches_the_least_squares_norm_on_badly_scaled_features():
    """Columns scaled from 1e-3 to 1e3: LSQR stopped at its iteration limit with a norm 300
    times too small, so every radius of the grid bound hard."""
    rng = np.random.RandomState(0)
    n, d = 1000, 300
    scales = np.logspace(-3, 3, d)
    X = rng.randn(n, d) * scales
    coef = np.zeros(d)
    coef[:20] = rng.randn(20) / scales[:20]
    y = X @ coef + 0.1 * rng.randn(n)
    Xc = np.c_[np.ones(n), X - X.mean(axis=0)]
    ols = np.linalg.lstsq(Xc, y, rcond=None)[0][1:]
    for XX in (X, sp.csr_matrix(X)):
        radii = _default_radii(XX, y[:, None], np.ones(n), L1Ball(1.0), True, 3, 1e-3)
        assert radii[-1] == pytest.approx(np.abs(ols).sum(), rel=1e-6)
    # a constant column does not disturb it
    Xk = np.c_[X, np.full(n, 3.0)]
    radii = _default_radii(Xk, y[:, None], np.ones(n), L1Ball(1.0), True, 3, 1e-3)
    assert radii[-1] == pytest.approx(np.abs(ols).sum(), rel=1e-6)


def test_warm_start_across_shapes_starts_cold():
    """coef_ of shape (3, 4) and a new problem of shape (1, 12) have the same size: it was
    reshaped, and the 3 intercepts written into 1 slot crashed the fit."""
    Xi, yi = load_iris(return_X_y=True)
    X2, y2 = make_classification(n_samples=50, n_features=12, random_state=0)
    warm = ProjectedLinearClassifier(radius=2.0, warm_start=True).fit(Xi, yi)
    warm.fit(X2, y2)
    cold = ProjectedLinearClassifier(radius=2.0).fit(X2, y2)
    np.testing.assert_array_equal(warm.coef_, cold.coef_)
    X, y = make_regression(n_samples=60, n_features=6, random_state=0)
    Y = np.c_[y, -y, 2 * y]
    X3 = np.tile(X, 3)  # 18 features: (1, 18) has the size of (3, 6)
    reg = ProjectedLinearModel(radius=5.0, warm_start=True).fit(X, Y)
    reg.fit(X3, y)
    np.testing.assert_array_equal(reg.coef_, ProjectedLinearModel(radius=5.0).fit(X3, y).coef_)
    # the same shape still warm-starts: a refit from the solution takes no more iterations
    again = ProjectedLinearModel(radius=5.0, warm_start=True).fit(X, Y)
    n_first = again.n_iter_
    assert again.fit(X, Y).n_iter_ <= n_first


def test_convergence_warnings_point_at_the_caller():
    X, y = make_regression(n_samples=80, n_features=30, noise=5.0, random_state=0)
    for est in (ProjectedLinearModel(radius=50.0, max_iter=1, tol=1e-12),
                SpredRegressor(alpha=0.01, max_iter=1, tol=1e-12),
                ProjectedLinearModelCV(cv=2, n_radii=3, max_iter=1, tol=1e-12)):
        with pytest.warns(ConvergenceWarning) as record:
            est.fit(X, y)
        assert {w.filename for w in record if w.category is ConvergenceWarning} == {__file__}
        # the CV model's refit is named as such (it named ProjectedLinearModel, from skproj's code)
        assert all(type(est).__name__ in str(w.message) for w in record)


@pytest.mark.parametrize("n_classes, constraint", [(2, "l1"), (3, "l12")])
def test_classifier_iterations_and_solution_do_not_depend_on_the_features_scale(n_classes, constraint):
    """X times s with the radius divided by s is the same problem (coef_ divided by s, same
    intercept_): the intercept's column scales with the features, so FISTA takes the same steps.
    With a plain ones column, s = 1e3 and 1e-3 took 500-1000 times the iterations of s = 1."""
    X, y = make_classification(150, 6, n_informative=4, n_classes=n_classes, random_state=0)
    X = X + 3.0   # not centred: the centring is part of the problem
    fits = {s: ProjectedLinearClassifier(radius=2.0 / s, constraint=constraint, tol=1e-8,
                                         max_iter=100000).fit(X * s, y)
            for s in (1.0, 1e3, 1e-3)}
    ref = fits[1.0]
    for s, m in fits.items():
        assert m.n_iter_ <= 1.2 * ref.n_iter_ + 5, (s, m.n_iter_, ref.n_iter_)
        np.testing.assert_allclose(m.coef_ * s, ref.coef_, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(m.intercept_, ref.intercept_, rtol=1e-5, atol=1e-7)


def test_classifier_small_features_reach_the_unconstrained_logistic_fit():
    """Features of size 0.01 and a radius far above the solution: the fit converges (it stopped
    at max_iter 17% away from it with a ConvergenceWarning) to LogisticRegression without penalty."""
    from sklearn.linear_model import LogisticRegression

    X, y = make_classification(300, 10, random_state=0)
    X = X * 0.01
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        m = ProjectedLinearClassifier(radius=1e8, tol=1e-10, max_iter=5000).fit(X, y)
    ref = LogisticRegression(C=np.inf, tol=1e-12, max_iter=100000).fit(X, y)
    np.testing.assert_allclose(m.coef_, ref.coef_, rtol=1e-5)
    np.testing.assert_allclose(m.intercept_, ref.intercept_, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("Est", [ProjectedLinearModel, ProjectedLinearClassifier])
def test_float32_radius_beyond_the_float32_range(Est):
    """A radius above the largest float32 (a user's "no constraint") with float32 X: the
    certificate is computed in double, as with radius 1e30 (it overflowed to inf: a RuntimeWarning
    per iteration and max_iter iterations); the fit is the one of radius 1e30."""
    X, y = (make_regression(100, 10, noise=1.0, random_state=0) if Est is ProjectedLinearModel
            else make_classification(100, 10, random_state=0))
    X = X.astype(np.float32)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        big = Est(radius=1e100).fit(X, y)
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(caught) <= 1 and big.n_iter_ < 200
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = Est(radius=1e30).fit(X, y)
    np.testing.assert_array_equal(big.coef_, ref.coef_)


def test_projected_path_refuses_2d_radii():
    from skproj import projected_path

    X, y = make_regression(40, 5, random_state=0)
    with pytest.raises(ValueError, match=r"radii must be a 1-D array of shape \(n_radii,\), got shape \(2, 2\)"):
        projected_path(X, y, [[0.5, 1.0], [0.2, 2.0]])
