"""Tests of skproj.model_selection's baselines: the Wilcoxon marker selector and the factories."""

import numpy as np
import pytest
from scipy import sparse, stats
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_selection import SelectFromModel, SelectKBest, f_classif
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from skproj.datasets import load_pbmc68k, make_single_cell_counts
from skproj.model_selection import (
    BASELINE_SELECTORS,
    WilcoxonMarkerSelector,
    make_anova_selector,
    make_baseline_selector,
    make_l1_logistic_selector,
    make_random_forest_selector,
    wilcoxon_scores,
)


@pytest.mark.parametrize("tied", [False, True])
def test_wilcoxon_scores_match_mannwhitneyu(tied):
    rng = np.random.RandomState(0)
    n, d = 47, 9
    y = rng.randint(0, 3, n)
    X = rng.randn(n, d)
    if tied:
        X = np.round(X * 2) / 2  # many ties
        X[:, 0] = 0.0  # constant column
        X[:, 1] = np.where(rng.rand(n) < 0.7, 0.0, rng.poisson(2, n))  # zero-inflated counts
    X[y == 1, 3] += 1.0
    scores, classes = wilcoxon_scores(X, y)
    assert scores.shape == (3, d)
    np.testing.assert_array_equal(classes, [0, 1, 2])
    for c in range(3):
        a, b = X[y == c], X[y != c]
        for j in range(d):
            if np.all(X[:, j] == X[0, j]):
                assert scores[c, j] == 0.0  # no spread: z = 0 (scipy gives NaN)
                continue
            res = stats.mannwhitneyu(
                a[:, j], b[:, j], alternative="two-sided", use_continuity=False, method="asymptotic"
            )
            # the two-sided p-value of our z is scipy's; the sign follows U - n1 n2 / 2
            p = 2 * stats.norm.sf(abs(scores[c, j]))
            np.testing.assert_allclose(p, res.pvalue, rtol=1e-10, atol=1e-300)
            u_centred = res.statistic - a.shape[0] * b.shape[0] / 2.0
            assert np.sign(scores[c, j]) == np.sign(u_centred)


def test_wilcoxon_scores_formula_by_hand():
    """The score is (T - n_c (n + 1)/2) / sqrt(f n_c n_r (n + 1) / 12), ranks by rankdata."""
    rng = np.random.RandomState(1)
    X = rng.poisson(1.0, size=(30, 4)).astype(float)
    y = np.array([0] * 10 + [1] * 20)
    scores, _ = wilcoxon_scores(X, y)
    n = 30
    for j in range(4):
        r = stats.rankdata(X[:, j])
        _, t = np.unique(X[:, j], return_counts=True)
        f = 1 - np.sum(t**3 - t) / (n**3 - n)
        for c, n_c in ((0, 10), (1, 20)):
            T = r[y == c].sum()
            z = (T - n_c * (n + 1) / 2) / np.sqrt(f * n_c * (n - n_c) * (n + 1) / 12)
            np.testing.assert_allclose(scores[c, j], z, rtol=1e-12)
    uncorrected, _ = wilcoxon_scores(X, y, tie_correct=False)
    assert np.all(np.abs(uncorrected) <= np.abs(scores) + 1e-12)  # f <= 1 inflates |z|


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_wilcoxon_scores_sparse_equals_dense(fmt):
    X, y, _ = make_single_cell_counts(200, 700, n_cell_types=3, n_markers_per_type=4, random_state=0)
    X = X.asformat(fmt)
    # negative values and explicit zeros must be handled too
    Xs = X.copy().astype(np.float64)
    Xs.data[::7] *= -1.0
    Xs.data[::11] = 0.0
    dense = Xs.toarray()
    s_sparse, _ = wilcoxon_scores(Xs, y)
    s_dense, _ = wilcoxon_scores(dense, y)
    np.testing.assert_allclose(s_sparse, s_dense, rtol=1e-12, atol=1e-12)


def test_wilcoxon_scores_errors():
    with pytest.raises(ValueError, match="at least 2 classes"):
        wilcoxon_scores(np.ones((4, 2)), np.zeros(4))
    # NaN or inf are refused alike for dense and sparse input (the sparse path used to rank a
    # NaN as the largest value while the dense one returned NaN scores)
    X = np.array([[1, 0], [2, 0], [np.nan, 1], [4, 1], [5, 0], [6, 2]], dtype=float)
    y = [0, 0, 0, 1, 1, 1]
    for bad in (X, sparse.csr_matrix(X), sparse.csc_matrix(np.where(np.isnan(X), np.inf, X))):
        with pytest.raises(ValueError, match="X"):
            wilcoxon_scores(bad, y)
    with pytest.raises(ValueError, match="2D"):
        wilcoxon_scores(np.ones(6), y)


def test_round_robin_semantics():
    """Top gene of each class in turn (classes sorted), skipping genes already taken."""
    rng = np.random.RandomState(0)
    y = np.repeat([0, 1, 2], 30)
    X = rng.rand(90, 10)
    # class 0: gene 7 >> gene 2; class 1: gene 7 (shared, also high) then gene 5; class 2: 0, 9
    X[y == 0, 7] += 3.0
    X[y == 0, 2] += 1.0
    X[y == 1, 7] += 2.0
    X[y == 1, 5] += 1.0
    X[y == 2, 0] += 3.0
    X[y == 2, 9] += 1.0
    sel = WilcoxonMarkerSelector(n_features_to_select=5).fit(X, y)
    order = np.argsort(-sel.scores_, axis=1, kind="stable")
    # an independent statement of the rule
    expected = []
    for r in range(10):
        for c in range(3):
            if order[c, r] not in expected and len(expected) < 5:
                expected.append(order[c, r])
    assert sel.selection_order_.tolist() == expected
    assert sel.selection_order_[0] == order[0, 0]
    # the classes' top genes come first
    assert set(sel.selection_order_[:3].tolist()) >= {order[0, 0], order[2, 0]}
    assert sel.get_support().sum() == 5
    assert set(sel.get_support(indices=True)) == set(expected)
    # k = n_features selects all; a fraction is a fraction
    assert WilcoxonMarkerSelector(n_features_to_select=10).fit(X, y).get_support().all()
    assert WilcoxonMarkerSelector(n_features_to_select=0.3).fit(X, y).get_support().sum() == 3
    assert WilcoxonMarkerSelector().fit(X, y).get_support().sum() == 5


def test_wilcoxon_selector_recovers_markers_on_sparse_counts():
    X, y, markers = make_single_cell_counts(
        600, 2000, n_cell_types=4, n_markers_per_type=5, density=0.05, random_state=3
    )
    sel = WilcoxonMarkerSelector(n_features_to_select=20).fit(X, y)
    picked = sel.get_support(indices=True)
    assert len(np.intersect1d(picked, markers.ravel())) >= 16
    # every class contributes its top gene, which is one of its own markers
    for t in range(4):
        assert np.argmax(sel.scores_[t]) in markers[t]
    Xt = sel.transform(X)
    assert sparse.issparse(Xt) and Xt.shape == (600, 20)


def test_wilcoxon_selector_feature_names_and_pipeline():
    pd = pytest.importorskip("pandas")
    X, y = load_pbmc68k(as_frame=True, return_X_y=True)
    pipe = make_pipeline(StandardScaler(), WilcoxonMarkerSelector(n_features_to_select=10)).fit(X, y)
    names = pipe.get_feature_names_out()
    assert len(names) == 10 and set(names) <= set(X.columns)
    sel = pipe[-1]
    # B cell markers top the B cell class
    b = list(sel.classes_).index("CD19+ B")
    top_b = X.columns[np.argsort(-sel.scores_[b])[:5]].tolist()
    assert {"CD79A", "MS4A1", "CD79B"} & set(top_b)


@pytest.mark.parametrize("bad", [0, -1, 1.5, 0.0, "5"])
def test_wilcoxon_selector_bad_k(bad):
    X = np.random.RandomState(0).rand(20, 4)
    y = np.repeat([0, 1], 10)
    with pytest.raises(ValueError, match="n_features_to_select"):
        WilcoxonMarkerSelector(n_features_to_select=bad).fit(X, y)


def test_wilcoxon_selector_k_too_large():
    X = np.random.RandomState(0).rand(20, 4)
    y = np.repeat([0, 1], 10)
    with pytest.raises(ValueError, match="n_features_to_select=5 is larger"):
        WilcoxonMarkerSelector(n_features_to_select=5).fit(X, y)


@parametrize_with_checks([WilcoxonMarkerSelector(), WilcoxonMarkerSelector(n_features_to_select=1)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


# ----------------------------------------------------------------------------------------
# factories
# ----------------------------------------------------------------------------------------


def test_factories_build_exactly_the_issue_baselines():
    sel = make_l1_logistic_selector(7, random_state=0)
    assert isinstance(sel, SelectFromModel) and sel.threshold == -np.inf and sel.max_features == 7
    lr = sel.estimator
    assert isinstance(lr, LogisticRegression)
    params = lr.get_params()
    assert (params["C"], params["l1_ratio"], params["solver"], params["max_iter"], params["tol"]) == (
        0.5, 1, "saga", 2000, 1e-3
    )
    sel = make_anova_selector(7)
    assert isinstance(sel, SelectKBest) and sel.k == 7 and sel.score_func is f_classif
    sel = make_random_forest_selector(7, random_state=3)
    assert isinstance(sel, SelectFromModel) and sel.threshold == -np.inf and sel.max_features == 7
    assert isinstance(sel.estimator, RandomForestClassifier)
    assert sel.estimator.n_estimators == 300 and sel.estimator.random_state == 3


@pytest.mark.filterwarnings("ignore:Features .* are constant:UserWarning")  # genes unseen in 300 cells
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("name", sorted(BASELINE_SELECTORS))
def test_every_baseline_selects_exactly_k(name):
    X, y = load_pbmc68k(return_X_y=True)
    X = StandardScaler().fit_transform(X[:300])
    sel = make_baseline_selector(name, 12, random_state=0).fit(X, y[:300])
    assert sel.get_support().sum() == 12


def test_make_baseline_selector_bad_name():
    with pytest.raises(ValueError, match="name must be one of"):
        make_baseline_selector("lasso", 5)
