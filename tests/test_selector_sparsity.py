"""SparseAutoencoderSelector composed with the skproj.sparsity objects (constraints and penalties)."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler

from skproj import SparseAutoencoderSelector
from skproj.sparsity import L1, GroupLasso, GroupMCP, L1Ball, L1Inf, L1InfBall, L12Ball


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=150, n_features=30, n_informative=4, n_redundant=0,
                               shuffle=False, random_state=0)
    return StandardScaler().fit_transform(X), y


def _fit(X, y, **kw):
    kw = {"max_epochs": 8, "random_state": 0, **kw}
    return SparseAutoencoderSelector(**kw).fit(X, y)


def _same_fit(a, b):
    for wa, wb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_array_equal(wa, wb)
    np.testing.assert_array_equal(a.support_, b.support_)
    np.testing.assert_array_equal(a.feature_importances_, b.feature_importances_)


def test_default_is_the_l1inf_ball(data):
    X, y = data
    _same_fit(_fit(X, y), _fit(X, y, constraint="l1inf"))
    _same_fit(_fit(X, y), _fit(X, y, constraint=L1InfBall(radius=0.1)))


@pytest.mark.parametrize(
    "name, obj",
    [
        ("l12", L12Ball(radius=0.5)),
        ("l1", L1Ball(radius=0.5, axis=1)),
        ("l1", L1Ball(radius=0.5)),  # entrywise (axis=None): the same ball, rows ranked by l1 norm
        ("l1inf", L1InfBall(radius=0.05)),
    ],
)
def test_constraint_object_equals_its_name(data, name, obj):
    X, y = data
    a = _fit(X, y, constraint=name, radius=obj.radius)
    b = _fit(X, y, constraint=obj, radius=123.0)  # the object's own radius is used
    _same_fit(a, b)
    assert 0 < a.support_.sum() < X.shape[1]
    assert obj.radius in (0.5, 0.05)  # the user's object is not modified (the estimator works on a clone)


def test_l11_spelling_warns_and_equals_l1(data):
    X, y = data
    with pytest.warns(FutureWarning, match='"l1"'):
        a = _fit(X, y, constraint="l11", radius=0.5)
    _same_fit(a, _fit(X, y, constraint="l1", radius=0.5))


@pytest.mark.parametrize(
    "name, obj",
    [
        ("group_lasso", GroupLasso(alpha=2e-2)),
        ("group_mcp", GroupMCP(alpha=2e-2, gamma=20.0)),
        ("l1inf", L1Inf(alpha=2e-2)),
        ("l1", L1(alpha=2e-2, axis=1)),
        ("l1", L1(alpha=2e-2)),  # entrywise (axis=None)
    ],
)
def test_penalty_alone_works_and_object_equals_name(data, name, obj):
    # A user who names a penalty means that penalty: no constraint=None needed.
    X, y = data
    a = _fit(X, y, penalty=name, alpha=2e-2, retrain=False)
    b = _fit(X, y, penalty=obj, alpha=99.0, retrain=False)  # the object's own alpha is used
    _same_fit(a, b)
    np.testing.assert_array_equal(a.support_, a.coefs_[0].any(axis=1))
    assert a.radius_ is None


@pytest.mark.parametrize("penalty, alpha", [("l1inf", 1.5), ("group_lasso", 3e-2)])
def test_row_penalties_zero_whole_features(data, penalty, alpha):
    X, y = data
    sel = _fit(X, y, penalty=penalty, alpha=alpha, max_epochs=20)
    assert 0 < sel.support_.sum() < X.shape[1]
    assert np.all(sel.coefs_[0][~sel.support_] == 0)


def test_objects_grouped_otherwise_raise(data):
    X, y = data
    with pytest.raises(ValueError, match="rows of the first layer"):
        _fit(X, y, constraint=L12Ball(radius=0.5, axis=0))
    with pytest.raises(ValueError, match="rows of the first layer"):
        _fit(X, y, penalty=GroupLasso(alpha=0.1, axis=0))
    with pytest.raises(ValueError, match="constraint"):
        _fit(X, y, constraint="l2")
    with pytest.raises(ValueError, match="needs constraint=None"):
        _fit(X, y, constraint=L12Ball(), penalty=GroupLasso())


def test_infinite_radius_is_no_ball(data):
    X, y = data
    sel = _fit(X, y, radius=np.inf, retrain=False)
    assert sel.support_.all() and sel.radius_ is None and sel.projection_time_ == 0


@pytest.mark.parametrize("kind", ["constraint", "penalty"])
def test_entrywise_l1_object_ranks_rows_by_their_l1_norm(data, kind):
    # L1Ball() / L1() default to axis=None; the rows were ranked by their l2 norm then, so
    # n_features_to_select / max_features picked other features than constraint="l1"
    X, y = data
    if kind == "constraint":
        a = _fit(X, y, constraint="l1", n_features_to_select=5)
        b = _fit(X, y, constraint=L1Ball(), n_features_to_select=5)
    else:
        a = _fit(X, y, penalty="l1", alpha=1e-2, max_features=5)
        b = _fit(X, y, penalty=L1(alpha=1e-2), max_features=5)
    _same_fit(a, b)
    np.testing.assert_allclose(b.feature_importances_, np.abs(b.coefs_[0]).sum(axis=1), rtol=1e-6)
