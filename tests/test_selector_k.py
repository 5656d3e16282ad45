"""SparseAutoencoderSelector(n_features_to_select=k): exactly k features, the radius found by the estimator."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from skproj import SparseAutoencoderSelector
from skproj.datasets import load_pbmc68k


@pytest.fixture(scope="module")
def synthetic():
    X, y = make_classification(n_samples=200, n_features=60, n_informative=6, n_redundant=0, n_classes=3,
                               n_clusters_per_class=1, shuffle=False, random_state=0)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def pbmc():
    b = load_pbmc68k()
    rng = np.random.RandomState(0)
    rows = rng.choice(b.data.shape[0], 300, replace=False)  # a subsample keeps the test short
    return StandardScaler().fit_transform(b.data[rows]), b.target[rows]


def _fit(X, y, **kw):
    kw = {"max_epochs": 15, "radius_decay_epochs": 8, "random_state": 0, **kw}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "fewer features" warning expected here
        return SparseAutoencoderSelector(**kw).fit(X, y)


def _check_exact(sel, X, k):
    assert sel.support_.sum() == k
    assert sel.transform(X).shape == (X.shape[0], k)
    # after retraining, the selected rows are the non-zero rows of W1
    np.testing.assert_array_equal(sel.coefs_[0].any(axis=1), sel.support_)
    np.testing.assert_array_equal(sel.feature_importances_ > 0, sel.support_)


@pytest.mark.parametrize("k", [1, 3, 6, 20])
def test_exactly_k_on_synthetic(synthetic, k):
    X, y = synthetic
    sel = _fit(X, y, n_features_to_select=k)
    _check_exact(sel, X, k)
    assert sel.radius_ > 0
    if k == 6:  # the informative features are columns 0..5 (shuffle=False)
        assert sel.support_[:6].sum() >= 4


@pytest.mark.parametrize("k", [5, 20, 50])
def test_exactly_k_on_pbmc(pbmc, k):
    X, y = pbmc
    _check_exact(_fit(X, y, n_features_to_select=k), X, k)


def test_larger_pool_needs_a_larger_radius():
    # The radius is steered to a pool of m = min(max(2k, 100), max(k, n_features // 2)) rows:
    # with 400 features, m = 100, 150, 200 for k = 5, 75, 150. More rows kept, larger radius.
    X, y = make_classification(n_samples=200, n_features=400, n_informative=6, n_redundant=0, n_classes=3,
                               n_clusters_per_class=1, shuffle=False, random_state=0)
    X = StandardScaler().fit_transform(X)
    radii = [_fit(X, y, n_features_to_select=k, retrain=False).radius_ for k in (5, 75, 150)]
    assert radii[0] < radii[1] < radii[2]


@pytest.mark.parametrize("constraint", ["l12", "l1"])
def test_exactly_k_with_other_balls(synthetic, constraint):
    X, y = synthetic
    _check_exact(_fit(X, y, constraint=constraint, n_features_to_select=7), X, 7)


@pytest.mark.parametrize("penalty", ["group_lasso", "differentiable"])
def test_exactly_k_with_a_penalty(synthetic, penalty):
    X, y = synthetic
    sel = _fit(X, y, penalty=penalty, n_features_to_select=4)
    assert sel.support_.sum() == 4 and sel.radius_ is None


def test_fraction_and_all_features(synthetic):
    X, y = synthetic
    sel = _fit(X, y, n_features_to_select=0.1, max_epochs=5)
    assert sel.support_.sum() == 6  # 0.1 * 60
    # a fraction is rounded down, as RFE does (0.19 * 60 = 11.4 -> 11; rounding gave 11 too,
    # 0.199 * 60 = 11.94 -> 11, rounding gave 12)
    from sklearn.feature_selection import RFE
    from sklearn.linear_model import LogisticRegression

    rfe = RFE(LogisticRegression(), n_features_to_select=0.199, step=20).fit(X, y)
    sel = _fit(X, y, n_features_to_select=0.199, max_epochs=5)
    assert sel.support_.sum() == rfe.support_.sum() == 11
    sel = _fit(X, y, n_features_to_select=X.shape[1], max_epochs=3)
    assert sel.support_.all()
    sel = _fit(X, y, n_features_to_select=1.0, max_epochs=3)
    assert sel.support_.all()


def test_without_retraining_k_are_selected(synthetic):
    X, y = synthetic
    sel = _fit(X, y, n_features_to_select=5, retrain=False)
    assert sel.support_.sum() == 5
    assert not sel.coefs_[0][~sel.support_].any()


def test_constant_features_are_never_selected(synthetic):
    X, y = synthetic
    X = X[:, :12].copy()
    X[:, [2, 7]] = 0.0
    X[:, 9] = 3.0
    with pytest.warns(UserWarning, match="only 9 features carry any weight"):
        sel = SparseAutoencoderSelector(n_features_to_select=12, max_epochs=5, random_state=0).fit(X, y)
    assert sel.support_.sum() == 9
    assert not sel.support_[[2, 7, 9]].any()
    assert np.all(sel.feature_importances_[[2, 7, 9]] == 0)
    # with the radius alone (no k) constant features are not selected either
    sel = SparseAutoencoderSelector(radius=10.0, max_epochs=5, random_state=0).fit(X, y)
    assert not sel.support_[[2, 7, 9]].any()


def test_all_zero_data_selects_nothing():
    X = np.zeros((40, 8))
    y = np.repeat([0, 1], 20)
    with pytest.warns(UserWarning, match="only 0 features"):
        sel = SparseAutoencoderSelector(n_features_to_select=3, max_epochs=3, random_state=0).fit(X, y)
    assert sel.support_.sum() == 0
    sel = SparseAutoencoderSelector(max_epochs=3, random_state=0).fit(X, y)
    assert sel.support_.sum() == 0


@pytest.mark.parametrize(
    "value, match",
    [(61, "exceeds n_features=60"), (0, "n_features_to_select"), (-3, "n_features_to_select"),
     (0.0, "n_features_to_select"), (1.5, "n_features_to_select"), (-0.2, "n_features_to_select"),
     ("5", "n_features_to_select")],
)
def test_bad_n_features_to_select_raises(synthetic, value, match):
    X, y = synthetic
    with pytest.raises(ValueError, match=match):
        SparseAutoencoderSelector(n_features_to_select=value, max_epochs=1).fit(X, y)


def test_max_features_is_a_different_knob(synthetic):
    X, y = synthetic
    with pytest.raises(ValueError, match="cannot both be set"):
        SparseAutoencoderSelector(n_features_to_select=3, max_features=3, max_epochs=1).fit(X, y)
    # max_features only cuts what the radius keeps: a small ball keeps fewer than asked
    sel = SparseAutoencoderSelector(radius=0.01, max_features=20, max_epochs=10, random_state=0).fit(X, y)
    assert sel.support_.sum() < 20
    assert _fit(X, y, n_features_to_select=20, max_epochs=10).support_.sum() == 20


@parametrize_with_checks([SparseAutoencoderSelector(n_features_to_select=2)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_infinite_radius_is_ignored_with_k(synthetic):
    # with n_features_to_select the radius is found, whatever radius says (inf switched the
    # ball off and fell back to the top k rows of an unconstrained W1)
    X, y = synthetic
    for constraint in (None, "l12"):
        a = _fit(X, y, n_features_to_select=5, constraint=constraint)
        b = _fit(X, y, n_features_to_select=5, constraint=constraint, radius=np.inf)
        assert b.radius_ is not None and np.isfinite(b.radius_)
        np.testing.assert_array_equal(a.support_, b.support_)
        np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])


def test_without_retraining_only_rows_the_network_uses_are_selected():
    """retrain=False: a zero row of W1 stays zero, so the network would never use that feature;
    fewer than k non-zero rows give fewer features with the warning (zero rows ranked by their
    gradient filled the support: importance 0 on it, a constant classifier)."""
    X, y = make_classification(200, 30, n_informative=4, n_redundant=0, shuffle=False, random_state=0)
    X = (X - X.mean(0)) / X.std(0)
    params = dict(penalty="group_lasso", alpha=0.5, n_features_to_select=3, max_epochs=5, random_state=0)
    with pytest.warns(UserWarning, match="only 0 features carry any weight"):
        sel = SparseAutoencoderSelector(retrain=False, **params).fit(X, y)
    assert not sel.support_.any()
    for retrain in (False, True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            sel = SparseAutoencoderSelector(**{**params, "alpha": 0.05}, retrain=retrain).fit(X, y)
        assert np.abs(sel.coefs_[0][sel.support_]).max(axis=1).min() > 0
        assert (sel.feature_importances_[sel.support_] > 0).all()
    # retrained, the zero rows with the largest gradient fill the support and are trained
    sel = SparseAutoencoderSelector(retrain=True, **params).fit(X, y)
    assert sel.support_.sum() == 3 and (sel.feature_importances_[sel.support_] > 0).all()
