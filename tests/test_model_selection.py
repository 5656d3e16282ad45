"""Tests of skproj.model_selection.compare_selectors (the protocol behind ``skproj select``)."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, clone
from sklearn.feature_selection import SelectKBest, SelectorMixin, f_classif
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skproj.datasets import make_sparse_classification
from skproj.model_selection import (
    SelectionComparison,
    WilcoxonMarkerSelector,
    compare_selectors,
    make_l1_logistic_selector,
    plot_comparison,
)
from skproj.model_selection._compare import _stratified_subsample


@pytest.fixture(scope="module")
def problem():
    X, y, support = make_sparse_classification(
        n_samples=90, n_features=20, n_informative=4, n_classes=3, class_sep=2.0, random_state=0
    )
    return X, y, support


def test_agrees_with_sklearn_cross_validate(problem):
    # an independent reference: scikit-learn's own cross_validate of the same pipeline
    X, y, _ = problem
    cv = StratifiedKFold(4, shuffle=True, random_state=3)
    res = compare_selectors(X, y, {"f_test": SelectKBest(f_classif)}, n_features_to_select=5,
                            cv=4, random_state=3)
    assert isinstance(res, SelectionComparison)
    assert res.selector_names == ["f_test", "all_features"]
    ref = cross_validate(
        make_pipeline(StandardScaler(), SelectKBest(f_classif, k=5), LogisticRegression(max_iter=3000)),
        X, y, cv=cv, return_estimator=True,
    )
    np.testing.assert_allclose(res.scores["f_test"], ref["test_score"], rtol=0, atol=1e-12)
    expected = np.array([p[1].get_support() for p in ref["estimator"]])
    np.testing.assert_array_equal(res.supports["f_test"], expected)
    np.testing.assert_array_equal(res.n_selected("f_test"), [5] * 4)
    np.testing.assert_array_equal(res.n_features_requested["f_test"], [5] * 4)
    # the all-features reference is the downstream classifier on every column
    ref_all = cross_validate(make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000)),
                             X, y, cv=cv)
    np.testing.assert_allclose(res.scores["all_features"], ref_all["test_score"], atol=1e-12)
    ref_bal = cross_validate(make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000)),
                             X, y, cv=cv, scoring="balanced_accuracy")
    np.testing.assert_allclose(res.balanced_scores["all_features"], ref_bal["test_score"], atol=1e-12)
    assert res.supports["all_features"].all()
    # no own predictions for a transformer-only selector
    assert np.isnan(res.own_scores["f_test"]).all()
    assert (res.fit_times["f_test"] >= 0).all()
    # the selection alone is part of the fit time; the reference selects nothing
    assert (0 <= res.selection_times["f_test"]).all() and (res.selection_times["f_test"] <= res.fit_times["f_test"]).all()
    assert (res.selection_times["all_features"] == 0).all()


def test_stability_ranking_and_frames(problem):
    X, y, _ = problem
    names = [f"g{j}" for j in range(X.shape[1])]
    res = compare_selectors(X, y, {"f": SelectKBest(f_classif)}, n_features_to_select=3, cv=3,
                            random_state=0, all_features=False, feature_names=names)
    freq = res.selection_frequency("f")
    assert freq.sum() == pytest.approx(3.0)  # mean number selected
    assert np.allclose(freq * 3, np.round(freq * 3))
    order = res.ranking("f")
    assert set(order) == set(np.flatnonzero(freq > 0))
    assert np.all(np.diff(freq[order]) <= 0)
    # importances of SelectKBest are its F scores, scaled per fold to a maximum of 1
    assert res.importances["f"].max(axis=1) == pytest.approx(np.ones(3))
    text = res.summary()
    assert "f " in text and "+/-" in text
    pd = pytest.importorskip("pandas")
    frame = res.to_frame()
    assert list(frame.columns) == ["selector", "fold", "accuracy", "own_accuracy", "balanced_accuracy",
                                   "own_balanced_accuracy", "n_selected", "n_requested", "fit_time_s",
                                   "selection_time_s", "n_fit_samples"]
    assert len(frame) == 3 and (frame["n_selected"] == 3).all()
    feats = res.features_frame("f")
    assert list(feats.index) == [names[j] for j in order]
    assert isinstance(feats, pd.DataFrame)


def test_fraction_of_the_features(problem):
    X, y, _ = problem  # 20 features: 0.25 -> 5, 1.0 -> all 20
    for frac, k in ((0.25, 5), (1.0, 20)):
        res = compare_selectors(X, y, {"f": SelectKBest(f_classif)}, n_features_to_select=frac,
                                cv=2, random_state=0, all_features=False)
        np.testing.assert_array_equal(res.n_selected("f"), [k, k])


def test_reference_sets_k_fold_by_fold(problem):
    X, y, _ = problem
    ref = SelectKBest(f_classif, k=4)
    res = compare_selectors(X, y, {"ref": ref, "l1": make_l1_logistic_selector(10, random_state=0)},
                            reference="ref", cv=3, random_state=0)
    np.testing.assert_array_equal(res.n_selected("l1"), res.n_selected("ref"))
    np.testing.assert_array_equal(res.n_features_requested["l1"], [4, 4, 4])
    assert (res.n_selected("ref") == 4).all()
    np.testing.assert_array_equal(res.n_features_requested["ref"], [-1, -1, -1])


def test_own_predictions_of_a_predicting_selector(problem):
    from skproj import SparseAutoencoderSelector

    X, y, _ = problem
    # 40 epochs: the network predicts well above chance (own accuracy 0.84 and 0.93)
    sae = SparseAutoencoderSelector(max_epochs=40, random_state=0)
    res = compare_selectors(X, y, {"sae": sae}, n_features_to_select=5, cv=2, random_state=0,
                            all_features=False)
    assert (res.n_selected("sae") <= 5).all()
    # refit here on the same folds (StratifiedKFold(2, shuffle=True, random_state=0), scaler
    # fitted on the training fold): own_scores is the fitted selector's accuracy on the test fold
    cv = StratifiedKFold(2, shuffle=True, random_state=0)
    expected, balanced, supports = [], [], []
    for train, test in cv.split(X, y):
        scale = StandardScaler().fit(X[train])
        sel = clone(sae).set_params(n_features_to_select=5).fit(scale.transform(X[train]), y[train])
        expected.append(sel.score(scale.transform(X[test]), y[test]))
        balanced.append(balanced_accuracy_score(y[test], sel.predict(scale.transform(X[test]))))
        supports.append(sel.get_support())
    np.testing.assert_array_equal(res.supports["sae"], supports)
    np.testing.assert_allclose(res.own_scores["sae"], expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.own_balanced_scores["sae"], balanced, rtol=0, atol=1e-12)
    # not the downstream classifier's score in disguise (the two differ on this problem)
    assert not np.allclose(res.own_scores["sae"], res.scores["sae"])


def test_results_do_not_depend_on_n_jobs(problem):
    X, y, _ = problem
    sels = {"f": SelectKBest(f_classif), "l1": make_l1_logistic_selector(10, random_state=0)}
    a = compare_selectors(X, y, sels, n_features_to_select=4, cv=3, random_state=1, n_jobs=1)
    b = compare_selectors(X, y, sels, n_features_to_select=4, cv=3, random_state=1, n_jobs=2)
    for name in a.selector_names:
        np.testing.assert_array_equal(a.supports[name], b.supports[name])
        np.testing.assert_array_equal(a.scores[name], b.scores[name])


def test_progress_callback(problem):
    X, y, _ = problem
    events = []
    compare_selectors(X, y, {"f": SelectKBest(f_classif)}, n_features_to_select=2, cv=2,
                      random_state=0, progress=events.append)
    assert [e["done"] for e in events] == [1, 2, 3, 4]
    assert all(e["total"] == 4 for e in events)
    assert {(e["fold"], e["selector"]) for e in events} == {
        (1, "f"), (2, "f"), (1, "all_features"), (2, "all_features")}


def test_sparse_input_matches_dense_without_centring(problem):
    sp = pytest.importorskip("scipy.sparse")
    X, y, _ = problem
    X = np.abs(X)
    sels = {"f": SelectKBest(f_classif)}
    a = compare_selectors(sp.csr_matrix(X), y, sels, n_features_to_select=3, cv=2, random_state=0)
    b = compare_selectors(X, y, sels, n_features_to_select=3, cv=2, random_state=0,
                          scaler=StandardScaler(with_mean=False))
    np.testing.assert_array_equal(a.supports["f"], b.supports["f"])
    np.testing.assert_allclose(a.scores["f"], b.scores["f"])


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"selectors": {}}, "at least one"),
        ({"reference": "nope"}, "reference"),
        ({"reference": "f", "n_features_to_select": 2}, "either"),
        ({"n_features_to_select": 0}, "n_features_to_select"),
        ({"n_features_to_select": 21}, "n_features_to_select"),
        ({"n_features_to_select": 1.5}, "n_features_to_select"),
        ({"n_features_to_select": 0.0}, "n_features_to_select"),
        ({"n_features_to_select": True}, "n_features_to_select"),
        ({"selectors": {"all_features": SelectKBest()}}, "reserved"),
        ({"selectors": {"lr": LogisticRegression()}, "n_features_to_select": 2}, "LogisticRegression"),
        ({"feature_names": ["a"]}, "feature_names"),
    ],
)
def test_bad_arguments(problem, kwargs, match):
    X, y, _ = problem
    args = {"selectors": {"f": SelectKBest(f_classif)}, "cv": 2}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        compare_selectors(X, y, **args)


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        yield cluster


def test_dask_cluster_gives_the_results_of_n_jobs_1(problem, dask_cluster):
    import joblib
    from distributed import Client, get_task_stream

    X, y, _ = problem
    sels = {"f": SelectKBest(f_classif), "l1": make_l1_logistic_selector(10, random_state=0)}
    a = compare_selectors(X, y, sels, n_features_to_select=4, cv=3, random_state=1, n_jobs=1)
    with Client(dask_cluster) as client, joblib.parallel_config(backend="dask"):
        with get_task_stream(client) as stream:
            b = compare_selectors(X, y, sels, n_features_to_select=4, cv=3, random_state=1,
                                  n_jobs=-1)
        assert len(client.run(lambda: 1)) == 2  # two worker processes
    # the fits ran on the cluster's workers
    assert {t["worker"] for t in stream.data} <= set(dask_cluster.scheduler_info["workers"])
    assert len(stream.data) > 0
    for name in a.selector_names:
        np.testing.assert_array_equal(a.supports[name], b.supports[name])
        np.testing.assert_array_equal(a.scores[name], b.scores[name])
        np.testing.assert_array_equal(a.importances[name], b.importances[name])


def test_to_dict_is_json_and_consistent(problem):
    import json

    X, y, _ = problem
    res = compare_selectors(X, y, {"w": WilcoxonMarkerSelector(n_features_to_select=3)},
                            n_features_to_select=4, cv=3, random_state=0)
    d = json.loads(json.dumps(res.to_dict()))
    assert list(d) == ["w", "all_features"]
    assert d["w"]["n_requested"] == [4, 4, 4]  # asked through n_features_to_select
    assert d["w"]["n_selected"]["folds"] == [4, 4, 4]
    assert d["w"]["accuracy"]["folds"] == res.scores["w"].tolist()
    assert sum(d["w"]["selection_frequency"].values()) == pytest.approx(4.0)
    assert "own_accuracy" not in d["w"]


def test_plot_comparison(problem):
    pytest.importorskip("matplotlib")
    X, y, _ = problem
    res = compare_selectors(X, y, {"w": WilcoxonMarkerSelector(n_features_to_select=3),
                                   "f": SelectKBest(f_classif)},
                            n_features_to_select=3, cv=2, random_state=0)
    fig = plot_comparison(res, top=5, title="t")
    ax1, ax2 = fig.axes[:2]
    assert len(ax1.get_yticklabels()) == len(res.ranking("w")[:5])
    assert len(ax2.get_xticklabels()) == 3


def test_dask_backend_helper(problem, dask_cluster):
    from skproj.model_selection import dask_backend

    X, y, _ = problem
    sels = {"f": SelectKBest(f_classif)}
    a = compare_selectors(X, y, sels, n_features_to_select=3, cv=3, random_state=0)
    with dask_backend(dask_cluster.scheduler_address) as client:
        b = compare_selectors(X, y, sels, n_features_to_select=3, cv=3, random_state=0, n_jobs=-1)
        assert len(client.scheduler_info()["workers"]) == 2
    np.testing.assert_array_equal(a.supports["f"], b.supports["f"])
    np.testing.assert_array_equal(a.scores["f"], b.scores["f"])


def test_dask_backend_bad_address():
    pytest.importorskip("distributed")
    import socket

    from skproj.model_selection import dask_backend

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ConnectionError, match="cannot reach"):
        with dask_backend(f"tcp://127.0.0.1:{port}"):
            pass
    with pytest.raises(ValueError, match="tcp://HOST:PORT"):
        with dask_backend("127.0.0.1"):
            pass


# ----------------------------------------------------------------------------------------
# scale: the max_samples rule, sparse input end to end (issue 15)
# ----------------------------------------------------------------------------------------


def test_max_samples_fits_the_named_selectors_on_one_stratified_subsample(problem):
    X, y, _ = problem  # 90 samples, 3 classes; 3 folds: training folds of 60
    sels = {"a": SelectKBest(f_classif), "b": SelectKBest(f_classif), "full": SelectKBest(f_classif)}
    res = compare_selectors(X, y, sels, n_features_to_select=4, cv=3, random_state=2,
                            max_samples=25, subsample=["a", "b"])
    splits = list(StratifiedKFold(3, shuffle=True, random_state=2).split(X, y))
    for f, (train, test) in enumerate(splits):
        sub = res.subsamples[f]
        assert sub.size == 25 and np.all(np.diff(sub) > 0) and np.isin(sub, train).all()
        # stratified: each class within one sample of its share of the training fold
        for c in np.unique(y):
            share = 25 * np.mean(y[train] == c)
            assert np.floor(share) <= np.sum(y[sub] == c) <= np.ceil(share)
        # an independent reference: scaler on the whole training fold, selector on the
        # subsample, downstream classifier on the whole training fold
        scale = StandardScaler().fit(X[train])
        ref = SelectKBest(f_classif, k=4).fit(scale.transform(X[sub]), y[sub])
        for name in ("a", "b"):  # the same subsample for both
            np.testing.assert_array_equal(res.supports[name][f], ref.get_support())
        cols = ref.get_support()
        clf = LogisticRegression(max_iter=3000).fit(scale.transform(X[train])[:, cols], y[train])
        assert res.scores["a"][f] == pytest.approx(clf.score(scale.transform(X[test])[:, cols], y[test]))
        full = SelectKBest(f_classif, k=4).fit(scale.transform(X[train]), y[train])
        np.testing.assert_array_equal(res.supports["full"][f], full.get_support())
    np.testing.assert_array_equal(res.n_fit_samples["a"], [25] * 3)
    np.testing.assert_array_equal(res.n_fit_samples["full"], [60] * 3)
    assert (res.subsampled("a"), res.subsampled("b"), res.subsampled("full")) == (25, 25, None)
    assert res.to_dict()["a"]["subsample"] == 25 and res.to_dict()["full"]["subsample"] is None
    text = res.summary(unit="cells")
    assert "* a, b: selector fitted on a stratified subsample of 25 cells" in text
    assert "full *" not in text


def test_subsample_names_one_selector_as_a_string_and_never_the_reference(problem):
    X, y, _ = problem
    sels = {"a": SelectKBest(f_classif), "b": SelectKBest(f_classif)}
    one = compare_selectors(X, y, sels, n_features_to_select=4, cv=3, random_state=2,
                            max_samples=25, subsample="a")
    as_list = compare_selectors(X, y, sels, n_features_to_select=4, cv=3, random_state=2,
                                max_samples=25, subsample=["a"])
    assert one.info["subsampled"] == ["a"] == as_list.info["subsampled"]
    np.testing.assert_array_equal(one.n_fit_samples["a"], [25] * 3)
    np.testing.assert_array_equal(one.n_fit_samples["b"], [60] * 3)
    for name in sels:
        np.testing.assert_array_equal(one.supports[name], as_list.supports[name])
    # the all-features reference fits nothing: naming it is an error, not a false report
    with pytest.raises(ValueError, match="subsample names 'all_features'.*fits no selector"):
        compare_selectors(X, y, sels, cv=3, max_samples=25, subsample=["all_features"])
    with pytest.raises(ValueError, match="subsample names 'ab'"):
        compare_selectors(X, y, sels, cv=3, max_samples=25, subsample="ab")
    with pytest.raises(TypeError, match="selectors must be a dict"):
        compare_selectors(X, y, [("a", SelectKBest(f_classif))], cv=3)


def test_max_samples_larger_than_the_folds_changes_nothing(problem):
    X, y, _ = problem
    sels = {"f": SelectKBest(f_classif), "l1": make_l1_logistic_selector(4, random_state=0)}
    a = compare_selectors(X, y, sels, n_features_to_select=4, cv=3, random_state=0)
    b = compare_selectors(X, y, sels, n_features_to_select=4, cv=3, random_state=0, max_samples=60)
    assert b.subsamples == [None] * 3 and b.subsampled("f") is None
    for name in a.selector_names:
        np.testing.assert_array_equal(a.supports[name], b.supports[name])
        np.testing.assert_array_equal(a.scores[name], b.scores[name])
    assert "stratified subsample" not in b.summary()


@given(counts=st.lists(st.integers(1, 40), min_size=2, max_size=6),
       frac=st.floats(0.05, 1.0), seed=st.integers(0, 2**16))
@settings(max_examples=60, deadline=None)
def test_stratified_subsample_properties(counts, frac, seed):
    y = np.repeat(np.arange(len(counts)), counts)
    np.random.RandomState(seed).shuffle(y)
    size = max(1, int(frac * y.size))
    pos = _stratified_subsample(y, size, np.random.RandomState(seed))
    assert pos.size == size and np.all(np.diff(pos) > 0) and pos.min() >= 0 and pos.max() < y.size
    got = np.bincount(y[pos], minlength=len(counts))
    assert np.all(got <= counts)
    if size >= len(counts):
        assert np.all(got >= 1)  # every class kept
    share = size * np.asarray(counts) / y.size
    if np.all(share >= 1):  # no class raised to one: proportions kept within one sample
        assert np.all(np.abs(got - share) < 1)


class _Recorder(SelectorMixin, BaseEstimator):
    """Keeps the first k columns; records the type and dtype of what it was fitted on."""

    seen = []

    def __init__(self, k=2, sparse_ok=True):
        self.k, self.sparse_ok = k, sparse_ok

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = self.sparse_ok
        return tags

    def fit(self, X, y):
        type(self).seen.append((self.sparse_ok, sp.issparse(X), X.dtype, X.shape))
        self.n_features_in_ = X.shape[1]
        return self

    def _get_support_mask(self):
        mask = np.zeros(self.n_features_in_, dtype=bool)
        mask[: self.k] = True
        return mask


class _DownstreamRecorder(LogisticRegression):
    seen = []

    def fit(self, X, y, sample_weight=None):
        type(self).seen.append((sp.issparse(X), X.shape))
        return super().fit(X, y, sample_weight)


def test_sparse_input_reaches_sparse_selectors_sparse(problem):
    X, y, _ = problem
    Xs = sp.csr_matrix(np.abs(X).astype(np.float32))
    _Recorder.seen.clear()
    _DownstreamRecorder.seen.clear()
    sels = {"s": _Recorder(sparse_ok=True), "d": _Recorder(sparse_ok=False)}
    res = compare_selectors(Xs, y, sels, n_features_to_select=3, cv=3, random_state=0,
                            downstream=_DownstreamRecorder(max_iter=3000))
    seen = {(ok, is_sp, str(dt), shape) for ok, is_sp, dt, shape in _Recorder.seen}
    # sparse to the selector that takes it, densified for the one that does not; float32 kept
    assert seen == {(True, True, "float32", (60, 20)), (False, False, "float32", (60, 20))}
    # the downstream classifier: the 3 selected columns densified, all 20 features left sparse
    # (under the size limit both would be dense: only the selected block is densified)
    assert sorted(set(_DownstreamRecorder.seen)) == [(False, (60, 3)), (False, (60, 20))]
    # scaling without centring, as for the dense matrix
    dense = compare_selectors(np.abs(X).astype(np.float32), y, sels, n_features_to_select=3, cv=3,
                              random_state=0, scaler=StandardScaler(with_mean=False))
    np.testing.assert_allclose(res.scores["s"], dense.scores["s"])


def test_downstream_of_a_large_sparse_block_stays_sparse(problem, monkeypatch):
    from skproj.model_selection import _compare

    X, y, _ = problem
    monkeypatch.setattr(_compare, "_DENSE_DOWNSTREAM_MAX", 60 * 3)  # 60 x 3 dense, 60 x 20 not
    _DownstreamRecorder.seen.clear()
    compare_selectors(sp.csr_matrix(np.abs(X)), y, {"s": _Recorder()}, n_features_to_select=3,
                      cv=3, random_state=0, downstream=_DownstreamRecorder(max_iter=3000))
    assert sorted(set(_DownstreamRecorder.seen)) == [(False, (60, 3)), (True, (60, 20))]


@pytest.mark.parametrize("kwargs,match", [
    ({"max_samples": 1}, "max_samples"), ({"max_samples": 2.5}, "max_samples"),
    ({"max_samples": True}, "max_samples"), ({"max_samples": 10, "subsample": ["nope"]}, "subsample"),
    ({"max_samples": 2}, r"max_samples=2 is below the number of classes \(3\)"),  # every class kept
])
def test_bad_max_samples(problem, kwargs, match):
    X, y, _ = problem
    with pytest.raises(ValueError, match=match):
        compare_selectors(X, y, {"f": SelectKBest(f_classif)}, cv=2, **kwargs)


def test_max_samples_below_the_classes_is_fine_when_nothing_is_subsampled(problem):
    # the every-class rule concerns subsampled selectors only (the CLI's
    # --baselines anova --baseline-max-samples 5 gave a traceback)
    X, y, _ = problem
    res = compare_selectors(X, y, {"f": SelectKBest(f_classif, k=3)}, cv=2, max_samples=2, subsample=[],
                            random_state=0)
    direct = compare_selectors(X, y, {"f": SelectKBest(f_classif, k=3)}, cv=2, random_state=0)
    np.testing.assert_array_equal(res.scores["f"], direct.scores["f"])


def test_importances_of_2d_scores_are_the_best_class_score(problem):
    # the Wilcoxon markers' scores_ is (classes x features): the best class's z-score, not 0/1
    from skproj.model_selection import make_baseline_selector

    X, y, _ = problem
    res = compare_selectors(X, y, {"w": make_baseline_selector("wilcoxon", 5)}, cv=2, random_state=0)
    train = next(StratifiedKFold(2, shuffle=True, random_state=0).split(X, y))[0]
    w = make_baseline_selector("wilcoxon", 5).fit(StandardScaler().fit_transform(X[train]), y[train])
    best = w.scores_.max(axis=0)
    np.testing.assert_allclose(res.importances["w"][0], best / best.max(), rtol=1e-12)
    assert np.unique(res.importances["w"][0]).size > 2


def test_verbose_lines_are_tagged_with_fold_and_selector(problem, capsys):
    """A verbose selector's epoch lines say which fold and selector they come from (interleaved
    fits are otherwise indistinguishable); nothing else printed is touched."""
    from skproj import SparseAutoencoderSelector

    X, y, _ = problem
    sae = SparseAutoencoderSelector(max_epochs=2, verbose=1, random_state=0)
    print("before")
    compare_selectors(X, y, {"sae": sae, "f_test": SelectKBest(f_classif)}, n_features_to_select=3,
                      cv=2, random_state=0)
    print("after")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "before" and lines[-1] == "after"
    assert all(ln.startswith(("[fold 1/2 sae] ", "[fold 2/2 sae] ")) for ln in lines[1:-1])
    # behind the tag, the lines the same fit prints on its own (first fold, same scaling)
    train, _ = next(StratifiedKFold(2, shuffle=True, random_state=0).split(X, y))
    clone(sae).set_params(n_features_to_select=3).fit(
        StandardScaler().fit_transform(X[train]), y[train])
    alone = capsys.readouterr().out.splitlines()
    assert alone and any("epoch 2:" in ln for ln in alone)
    assert [ln[len("[fold 1/2 sae] "):] for ln in lines if ln.startswith("[fold 1/2")] == alone
    assert sum(ln.startswith("[fold 2/2 sae] ") for ln in lines) == len(alone)


def test_fits_in_threads_print_untagged_and_leave_stdout_alone(problem, capsys):
    """sys.stdout is shared by a process's threads: fits in threads never redirect it (a
    redirect per thread could leave another thread's stream installed)."""
    import sys

    from joblib import parallel_config

    from skproj import SparseAutoencoderSelector

    X, y, _ = problem
    stdout = sys.stdout
    sae = SparseAutoencoderSelector(max_epochs=2, verbose=1, random_state=0)
    with parallel_config(backend="threading", n_jobs=2):
        compare_selectors(X, y, {"sae": sae}, n_features_to_select=3, cv=2, random_state=0,
                          all_features=False)
    assert sys.stdout is stdout
    epoch = [ln for ln in capsys.readouterr().out.splitlines() if "epoch" in ln]
    assert len(epoch) >= 2 and not any("[fold" in ln for ln in epoch)


def test_line_prefixer_joins_partial_writes():
    import io

    from skproj.model_selection._compare import _LinePrefixer

    sink = io.StringIO()
    out = _LinePrefixer(sink, "> ")
    out.write("ab")
    out.write("c\nd\n\ne")
    assert sink.getvalue() == "> abc\n> d\n> \n"
    out.flush()
    assert sink.getvalue() == "> abc\n> d\n> \n> e"
