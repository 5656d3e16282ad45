"""Tests of skproj.datasets: the embedded PBMC data and make_sparse_classification."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.feature_selection import f_classif
from sklearn.utils import Bunch

from skproj.datasets import load_pbmc68k, make_single_cell_counts, make_sparse_classification


@pytest.fixture(scope="module")
def pbmc():
    return load_pbmc68k()


def test_pbmc_bunch_shapes_dtypes(pbmc):
    assert isinstance(pbmc, Bunch)
    for key in ("data", "target", "target_names", "feature_names", "cell_ids", "DESCR",
                "highly_variable", "louvain"):
        assert key in pbmc
    assert "frame" not in pbmc
    assert pbmc.data.shape == (700, 765)
    assert pbmc.data.dtype == np.float32
    assert pbmc.data.flags.c_contiguous
    assert pbmc.target.shape == (700,) and pbmc.target.dtype == np.int64
    assert pbmc.target_names.shape == (10,)
    assert pbmc.feature_names.shape == (765,)
    assert pbmc.cell_ids.shape == (700,)
    # Plain Python str everywhere (issue 15: numpy.str_ broke feature_names_in_).
    for names in (pbmc.target_names, pbmc.feature_names, pbmc.cell_ids):
        assert names.dtype == object
        assert all(type(v) is str for v in names)
        assert all(type(v) is str for v in names.tolist())
    assert len(set(pbmc.feature_names)) == 765
    assert len(set(pbmc.cell_ids)) == 700
    assert pbmc.highly_variable.dtype == bool and pbmc.highly_variable.sum() == 309
    assert set(np.unique(pbmc.louvain)) == set(range(11))
    assert isinstance(pbmc.DESCR, str) and "10x Genomics" in pbmc.DESCR


def test_pbmc_labels(pbmc):
    codes, counts = np.unique(pbmc.target, return_counts=True)
    assert codes.tolist() == list(range(10))
    by_name = dict(zip(pbmc.target_names[codes], counts))
    # The class sizes stated in the docstring/DESCR.
    assert by_name["CD14+ Monocyte"] == 129
    assert by_name["CD19+ B"] == 95
    assert by_name["Dendritic"] == 240
    assert by_name["CD4+/CD45RA+/CD25- Naive T"] == 8
    assert counts.sum() == 700
    for name, count in by_name.items():
        assert f"{name} {count}" in " ".join(pbmc.DESCR.split())


def test_pbmc_values_are_log1p_cp10k(pbmc):
    """Documented preprocessing: x = log1p(1e4 * count / total): expm1(x) of a cell are
    integer multiples of one per-cell unit (1e4 / total)."""
    X = pbmc.data.astype(np.float64)
    assert X.min() == 0.0
    assert 0.6 < np.mean(X == 0) < 0.75
    E = np.expm1(X)
    for i in range(700):
        row = E[i][E[i] > 0]
        multiples = row / row.min()  # every cell has a gene with a count of 1
        nearest = np.round(multiples)
        # measured in the file: relative deviation of the counts ~1e-3 (rounding at storage);
        # a random non-count value would deviate by up to 0.5 / count
        assert np.all(np.abs(multiples - nearest) <= 2.5e-3 * nearest), i
        assert nearest.max() > 5  # not a trivial match


def test_pbmc_marker_genes(pbmc):
    """Biological sanity: known markers peak in the expected cell types."""
    names = list(pbmc.feature_names)

    def top_class(gene):
        j = names.index(gene)
        means = [pbmc.data[pbmc.target == c, j].mean() for c in range(10)]
        return pbmc.target_names[int(np.argmax(means))]

    assert top_class("CD79A") == "CD19+ B"
    assert top_class("MS4A1") == "CD19+ B"
    assert top_class("NKG7") == "CD56+ NK"
    assert top_class("GNLY") == "CD56+ NK"


def test_pbmc_return_X_y(pbmc):
    X, y = load_pbmc68k(return_X_y=True)
    np.testing.assert_array_equal(X, pbmc.data)
    np.testing.assert_array_equal(y, pbmc.target)


def test_pbmc_fresh_arrays():
    X1, _ = load_pbmc68k(return_X_y=True)
    X1[:] = -1.0
    X2, _ = load_pbmc68k(return_X_y=True)
    assert X2.min() == 0.0


def test_pbmc_as_frame(pbmc):
    pd = pytest.importorskip("pandas")
    b = load_pbmc68k(as_frame=True)
    assert isinstance(b.data, pd.DataFrame) and b.data.shape == (700, 765)
    assert list(b.data.columns) == list(pbmc.feature_names)
    assert list(b.data.index) == list(pbmc.cell_ids)
    assert (b.data.dtypes == np.float32).all()
    np.testing.assert_array_equal(b.data.to_numpy(), pbmc.data)
    assert isinstance(b.target, pd.Series) and b.target.name == "cell_type"
    assert isinstance(b.target.dtype, pd.CategoricalDtype)
    np.testing.assert_array_equal(b.target.to_numpy().astype(str), pbmc.target_names[pbmc.target])
    assert b.frame.shape == (700, 766)
    assert b.frame.columns[-1] == "cell_type"
    X, y = load_pbmc68k(as_frame=True, return_X_y=True)
    assert isinstance(X, pd.DataFrame) and isinstance(y, pd.Series)


def test_pbmc_as_frame_feature_names_reach_sklearn(pbmc):
    """Issue 15: the frame's columns are plain str, so scikit-learn records them and a
    Pipeline reports gene symbols (not x457)."""
    pytest.importorskip("pandas")
    from sklearn.feature_selection import SelectKBest
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_pbmc68k(as_frame=True, return_X_y=True)
    assert all(type(c) is str for c in X.columns)
    assert all(type(c) is str for c in y.cat.categories)
    assert all(type(c) is str for c in X.index)
    pipe = make_pipeline(StandardScaler(), SelectKBest(k=5)).fit(X, y)
    np.testing.assert_array_equal(pipe[0].feature_names_in_, np.asarray(pbmc.feature_names))
    out = pipe.get_feature_names_out()
    assert len(out) == 5 and set(out) <= set(pbmc.feature_names)
    mask = pipe[-1].get_support()
    np.testing.assert_array_equal(out, pbmc.feature_names[mask])
    assert all(type(v) is str for v in out)


def test_pbmc_keyword_only():
    with pytest.raises(TypeError):
        load_pbmc68k(True)


# ----------------------------------------------------------------------------------------
# make_sparse_classification
# ----------------------------------------------------------------------------------------


def _same_rows_up_to_order(A, B):
    ia = np.lexsort(A.T[::-1])
    ib = np.lexsort(B.T[::-1])
    return np.array_equal(A[ia], B[ib])


@pytest.mark.parametrize("n_classes", [2, 3])
def test_make_sparse_classification_matches_sklearn(n_classes):
    kw = dict(n_samples=150, n_features=40, n_informative=6, n_redundant=0, n_classes=n_classes)
    X, y, support = make_sparse_classification(**kw, random_state=0)
    Xr, yr = make_classification(**kw, n_repeated=0, shuffle=False, random_state=0)
    assert X.shape == (150, 40) and y.shape == (150,) and support.shape == (40,)
    assert X.dtype == np.float64 and support.dtype == bool and y.dtype == np.int64
    assert support.sum() == 6 and support[:6].all()
    # Same samples (and labels) as scikit-learn's generator, rows shuffled.
    assert _same_rows_up_to_order(np.column_stack([X, y]), np.column_stack([Xr, yr]))
    assert not np.array_equal(y, yr)  # the rows were shuffled
    assert np.bincount(y).tolist() == np.bincount(yr).tolist()


def test_make_sparse_classification_shuffled_columns():
    kw = dict(n_samples=120, n_features=30, n_informative=5)
    X, y, support = make_sparse_classification(**kw, shuffle_features=True, random_state=3)
    Xr, _, sr = make_sparse_classification(**kw, shuffle_features=False, random_state=3)
    assert support.sum() == 5 and not support[:5].all()
    # Match columns by their sorted values (invariant under row permutation).
    fp = {tuple(np.sort(Xr[:, j])): bool(sr[j]) for j in range(30)}
    for j in range(30):
        assert fp[tuple(np.sort(X[:, j]))] == bool(support[j])


def test_make_sparse_classification_support_is_informative():
    X, y, support = make_sparse_classification(400, 60, 8, random_state=1, shuffle_features=True)
    F, _ = f_classif(X, y)
    assert np.median(F[support]) > 5 * np.median(F[~support])


def test_make_sparse_classification_redundant_not_in_support():
    X, y, support = make_sparse_classification(200, 30, 4, n_redundant=3, random_state=0)
    assert support.sum() == 4 and support[:4].all() and not support[4:].any()
    # The redundant columns are linear combinations of the informative ones.
    assert np.linalg.matrix_rank(X[:, :7]) == 4
    assert np.linalg.matrix_rank(X[:, :4]) == 4


def test_make_sparse_classification_random_state():
    a = make_sparse_classification(50, 10, 3, random_state=7, shuffle_features=True)
    b = make_sparse_classification(50, 10, 3, random_state=7, shuffle_features=True)
    c = make_sparse_classification(50, 10, 3, random_state=8, shuffle_features=True)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], c[0])


def test_make_sparse_classification_errors():
    with pytest.raises(ValueError):
        make_sparse_classification(50, 5, 6)


# ----------------------------------------------------------------------------------------
# make_single_cell_counts
# ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def counts():
    return make_single_cell_counts(
        3000, 1500, n_cell_types=4, density=0.05, n_markers_per_type=8, random_state=0
    )


def test_single_cell_counts_shapes_dtypes(counts):
    from scipy import sparse

    X, y, markers = counts
    assert sparse.issparse(X) and X.format == "csr"
    assert X.shape == (3000, 1500) and X.dtype == np.float32
    assert X.has_sorted_indices
    assert y.shape == (3000,) and y.dtype == np.int64
    # balanced types, all present
    assert np.bincount(y).tolist() == [750] * 4
    assert markers.shape == (4, 8) and markers.dtype == np.int64
    assert len(np.unique(markers)) == 32 and markers.min() >= 0 and markers.max() < 1500
    assert np.all(np.diff(markers, axis=1) > 0)


def test_single_cell_counts_are_counts(counts):
    X = counts[0]
    assert X.data.min() >= 1  # stored entries are positive: no negative counts, no explicit 0
    np.testing.assert_array_equal(X.data, np.round(X.data))
    X.check_format(full_check=True)


@pytest.mark.parametrize("density", [0.02, 0.05, 0.2])
def test_single_cell_counts_density(density):
    X, _, _ = make_single_cell_counts(2000, 1000, n_cell_types=3, density=density, random_state=1)
    # expected nnz = 2e6 * density; the realised fraction varies with the sampled size factors
    # (a few % of the density at 2000 cells); 8% leaves room for that, 0.8x/1.2x would not.
    assert X.nnz / (2000 * 1000) == pytest.approx(density, rel=0.08)


def test_single_cell_counts_random_state():
    a = make_single_cell_counts(300, 200, n_cell_types=3, random_state=5)
    b = make_single_cell_counts(300, 200, n_cell_types=3, random_state=5)
    c = make_single_cell_counts(300, 200, n_cell_types=3, random_state=6)
    assert (a[0] != b[0]).nnz == 0
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_array_equal(a[2], b[2])
    assert (a[0] != c[0]).nnz > 0


def test_single_cell_counts_buffer_growth_changes_nothing(monkeypatch):
    """The output buffers grow when the expected nnz is exceeded; the data are the same."""
    from skproj.datasets import _single_cell

    ref = make_single_cell_counts(400, 300, n_cell_types=3, density=0.1, random_state=4)
    monkeypatch.setattr(_single_cell, "_NNZ_HEADROOM", 1e-3)
    small = make_single_cell_counts(400, 300, n_cell_types=3, density=0.1, random_state=4)
    assert (ref[0] != small[0]).nnz == 0 and ref[0].nnz > 1000
    np.testing.assert_array_equal(ref[1], small[1])


@pytest.mark.filterwarnings("ignore:Features .* are constant:UserWarning")
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_single_cell_counts_markers_up_in_their_type(counts):
    X, y, markers = counts
    # normalise by library size so that depth differences do not mask the effect
    lib = np.asarray(X.sum(axis=1)).ravel()
    Xn = (X.multiply(1.0 / lib[:, None])).tocsc()
    for t in range(markers.shape[0]):
        cols = Xn[:, markers[t]].toarray()
        inside = cols[y == t].mean(axis=0)
        outside = cols[y != t].mean(axis=0)
        # fold change 4 in the means; sampling noise on low-mean markers leaves it >= 2
        assert np.all(inside > outside), t
        assert np.median(inside / outside) > 2.5, t
    # a non-marker gene shows no such effect
    others = np.setdiff1d(np.arange(X.shape[1]), markers.ravel())[:200]
    cols = Xn[:, others].toarray()
    ratio = cols[y == 0].mean(axis=0).sum() / cols[y != 0].mean(axis=0).sum()
    assert 0.8 < ratio < 1.25
    # the markers are what an F-test ranks first
    F, _ = f_classif(X.toarray(), y)
    F = np.nan_to_num(F, nan=0.0)  # genes never detected are constant
    top = np.argsort(F)[::-1][:32]
    assert len(np.intersect1d(top, markers.ravel())) >= 24


def test_single_cell_counts_library_sizes_vary():
    X, _, _ = make_single_cell_counts(2000, 800, n_cell_types=2, library_size_sigma=0.5, random_state=0)
    lib = np.asarray(X.sum(axis=1)).ravel()
    assert np.std(np.log(lib)) > 0.3
    X0, _, _ = make_single_cell_counts(2000, 800, n_cell_types=2, library_size_sigma=0.0, random_state=0)
    lib0 = np.asarray(X0.sum(axis=1)).ravel()
    assert np.std(np.log(lib0)) < np.std(np.log(lib))


def test_single_cell_counts_overdispersed():
    """Negative-binomial counts: variance mu + phi mu^2 exceeds the Poisson variance."""
    X, y, _ = make_single_cell_counts(
        4000, 300, n_cell_types=2, library_size_sigma=0.0, dispersion=0.5, density=0.3, random_state=2
    )
    D = X[y == 0].toarray().astype(np.float64)
    mean, var = D.mean(axis=0), D.var(axis=0)
    high = mean > 1.0
    assert high.sum() > 10
    np.testing.assert_allclose(var[high], mean[high] + 0.5 * mean[high] ** 2, rtol=0.35)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(n_cells=0), "n_cells"),
        (dict(n_genes=2.5), "n_genes"),
        (dict(n_cell_types=1), "n_cell_types"),
        (dict(density=0.0), "density"),
        (dict(density=1.0), "density"),
        (dict(density=float("nan")), "density"),
        (dict(n_markers_per_type=0), "n_markers_per_type"),
        (dict(marker_fold_change=0.5), "marker_fold_change"),
        (dict(dispersion=0.0), "dispersion"),
        (dict(library_size_sigma=-1.0), "library_size_sigma"),
        (dict(gene_mean_sigma="a"), "gene_mean_sigma"),
        (dict(n_cells=3, n_cell_types=4), "n_cell_types"),
        (dict(n_genes=10, n_cell_types=3, n_markers_per_type=4), "n_markers_per_type"),
    ],
)
def test_single_cell_counts_errors(kwargs, name):
    with pytest.raises(ValueError, match=name):
        make_single_cell_counts(**{"n_cells": 100, "n_genes": 100, **kwargs})
