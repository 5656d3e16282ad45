"""Tests of skproj.datasets: the embedded PBMC data and make_sparse_classification."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.feature_selection import f_classif
from sklearn.utils import Bunch

from skproj.datasets import load_pbmc68k, make_sparse_classification


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
