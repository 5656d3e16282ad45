"""SparseAutoencoderSelector on scipy.sparse X: same results as dense, never densified whole."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification
from sklearn.preprocessing import MaxAbsScaler

import skproj._training as training
from skproj import SparseAutoencoderSelector
from skproj._kernels import _autoencoder
from skproj._training import Trainer, auto_batch_size, blas_threads, dense_rows, row_blocks


def _sparse_data(n=150, d=40, density=0.3, seed=0, dtype=np.float64):
    """Classification data with about ``1 - density`` exact zeros, scaled without centring."""
    X, y = make_classification(
        n_samples=n, n_features=d, n_informative=5, n_redundant=0, shuffle=False, random_state=seed
    )
    rng = np.random.RandomState(seed)
    X[rng.rand(n, d) > density] = 0.0
    X[:, :5] = np.abs(X[:, :5]) + 1.0 * (y[:, None] == 1)  # informative columns stay dense
    return MaxAbsScaler().fit_transform(X).astype(dtype), y


def _assert_same_fit(a, b):
    np.testing.assert_array_equal(a.support_, b.support_)
    for ca, cb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert ca.dtype == cb.dtype
        np.testing.assert_allclose(ca, cb, rtol=1e-6, atol=1e-6)
    assert a.n_iter_ == b.n_iter_


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize(
    "params",
    [
        dict(radius=0.05),
        dict(n_features_to_select=5),
        dict(constraint="l12", radius=0.3, early_stopping=True, max_epochs=15),
        dict(penalty="group_lasso", max_epochs=10),
        dict(penalty="differentiable", max_epochs=10, activation="clipped_relu"),
    ],
)
def test_sparse_fit_equals_dense(dtype, fmt, params):
    X, y = _sparse_data(dtype=dtype)
    Xs = sp.csr_matrix(X) if fmt == "csr" else sp.csc_matrix(X)
    Xs_before = Xs.copy()
    params = {"random_state": 0, "max_epochs": 25, **params}
    dense = SparseAutoencoderSelector(**params).fit(X, y)
    sparse = SparseAutoencoderSelector(**params).fit(Xs, y)
    _assert_same_fit(dense, sparse)
    assert sparse.coefs_[0].dtype == dtype
    # input not modified
    assert (Xs != Xs_before).nnz == 0 and Xs.format == fmt
    # prediction paths on sparse X agree with dense X
    for method in ("decision_function", "predict_proba", "predict"):
        np.testing.assert_allclose(getattr(sparse, method)(Xs), getattr(dense, method)(X), rtol=1e-5, atol=1e-6)
    Xt = sparse.transform(Xs)
    assert sp.issparse(Xt)
    np.testing.assert_array_equal(Xt.toarray(), dense.transform(X))


def test_sparse_never_densified_whole(monkeypatch):
    """Every densification goes through the row kernel, at most max(batch, block) rows at a time."""
    X, y = _sparse_data(n=700, d=30)
    Xs = sp.csr_matrix(X)
    seen = []
    kernel = _autoencoder.csr_rows_to_dense

    def spy(data, indices, indptr, rows, out):
        seen.append(out.shape[0])
        return kernel(data, indices, indptr, rows, out)

    monkeypatch.setattr(_autoencoder, "csr_rows_to_dense", spy)
    monkeypatch.setattr(training, "_BLOCK_ENTRIES", 0)  # blocks of 256 rows even for small d

    def forbidden(*args, **kwargs):
        raise AssertionError("the whole sparse matrix was densified")

    for cls in type(Xs).__mro__:
        for name in ("toarray", "todense", "__array__"):
            if name in vars(cls):
                monkeypatch.setattr(cls, name, forbidden)
    sel = SparseAutoencoderSelector(random_state=0, max_epochs=3, batch_size=32).fit(Xs, y)
    sel.predict_proba(Xs)
    assert seen and max(seen) <= 256 < Xs.shape[0]
    assert 32 in seen


@pytest.mark.parametrize("idx_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dense_rows_matches_toarray(idx_dtype, dtype):
    rng = np.random.RandomState(0)
    A = sp.random(50, 13, density=0.2, format="csr", random_state=rng, dtype=dtype)
    # unsorted indices and a duplicate entry (summed, as scipy does)
    data = np.append(A.data, dtype(2.5))
    indices = np.append(A.indices, 3)
    indptr = A.indptr.copy()
    indptr[-1] += 1
    B = sp.csr_matrix((data, indices.astype(idx_dtype), indptr.astype(idx_dtype)), shape=A.shape)
    rows = rng.permutation(50)[:17]
    out = dense_rows(B, rows)
    assert out.dtype == dtype and out.flags.c_contiguous
    np.testing.assert_array_equal(out, B.toarray()[rows])
    np.testing.assert_array_equal(dense_rows(B, slice(5, 20)), B.toarray()[5:20])
    # mixed index dtypes are handled too
    C = sp.csr_matrix((data, indices.astype(np.int32), indptr.astype(np.int64)), shape=A.shape)
    np.testing.assert_array_equal(dense_rows(C, rows), B.toarray()[rows])
    blocks = list(row_blocks(B, block_rows=7))
    assert [sl.stop - sl.start for sl, _ in blocks] == [7] * 7 + [1]
    np.testing.assert_array_equal(np.vstack([b for _, b in blocks]), B.toarray())


def test_prediction_in_several_blocks(monkeypatch):
    monkeypatch.setattr(training, "_BLOCK_ENTRIES", 0)  # blocks of 256 rows
    X, y = _sparse_data(n=600, d=20)
    sel = SparseAutoencoderSelector(random_state=0, max_epochs=3).fit(X, y)
    assert len(list(row_blocks(sp.csr_matrix(X)))) > 1
    np.testing.assert_allclose(sel.predict_proba(sp.csr_matrix(X)), sel.predict_proba(X), rtol=1e-6)


def test_auto_batch_size_and_threads():
    assert auto_batch_size(1) == 32
    assert auto_batch_size(700) == 32  # small data sets train as with batch_size=32
    assert auto_batch_size(6399) == 32
    assert auto_batch_size(50_000) == 250
    assert auto_batch_size(10**7) == 1024
    assert blas_threads(32, 1000, 64) == 1
    assert blas_threads(32, 20_000, 64) == 1  # skinny products: one thread
    assert blas_threads(250, 20_000, 64) is None
    X, y = _sparse_data(n=120, d=20)
    a = SparseAutoencoderSelector(random_state=0, max_epochs=5).fit(X, y)
    b = SparseAutoencoderSelector(random_state=0, max_epochs=5, batch_size=32).fit(X, y)
    _assert_same_fit(a, b)


def test_epochs_of_at_most_epoch_samples(monkeypatch):
    """Beyond EPOCH_SAMPLES, an epoch is the next chunk of a running permutation."""
    monkeypatch.setattr(training, "EPOCH_SAMPLES", 40)
    n = 100
    X = np.zeros((n, 3))
    Y = np.zeros((n, 2))
    tr = Trainer(None, X, Y, None, None, np.random.RandomState(0), 8, 5, 0.0, 0)
    assert tr.epoch_samples == 40 and tr.steps_per_epoch == 5
    orders = [tr._epoch_order() for _ in range(5)]  # 200 samples: two full permutations
    assert all(len(o) == 40 for o in orders)
    assert all(len(set(orders[i])) == 40 for i in (0, 1, 3))  # within one permutation: no repeat
    allidx = np.concatenate(orders)
    np.testing.assert_array_equal(np.sort(allidx[:100]), np.arange(n))
    np.testing.assert_array_equal(np.sort(allidx[100:]), np.arange(n))
    # at or below EPOCH_SAMPLES an epoch is a full pass, as before
    small = Trainer(None, X[:30], Y[:30], None, None, np.random.RandomState(0), 8, 5, 0.0, 0)
    np.testing.assert_array_equal(small._epoch_order(), np.random.RandomState(0).permutation(30))


def test_sparse_tags():
    assert SparseAutoencoderSelector().__sklearn_tags__().input_tags.sparse


def test_non_canonical_csr_equals_dense():
    # duplicate entries add up: the edge-of-chaos scale q_in (mean of X**2) is computed on the
    # summed entries (it summed the squares of the parts)
    X, y = _sparse_data(n=80, d=20)
    A = sp.csr_matrix(X)
    # every stored entry split into two halves, stored twice in its row (CSR built directly:
    # a COO -> CSR conversion would sum them)
    data, indices, indptr = [], [], [0]
    for i in range(A.shape[0]):
        row = slice(A.indptr[i], A.indptr[i + 1])
        half = A.data[row] / 2
        data += [half, A.data[row] - half]
        indices += [A.indices[row], A.indices[row]]
        indptr.append(indptr[-1] + 2 * (row.stop - row.start))
    Xd = sp.csr_matrix((np.concatenate(data), np.concatenate(indices), np.array(indptr)), shape=X.shape)
    assert Xd.nnz == 2 * A.nnz and not Xd.has_canonical_format
    assert np.array_equal(Xd.toarray(), X)
    before = (Xd.data.copy(), Xd.indices.copy())
    params = dict(activation="clipped_relu", n_features_to_select=5, max_epochs=10, radius_decay_epochs=5,
                  random_state=0)
    dense = SparseAutoencoderSelector(**params).fit(X, y)
    dup = SparseAutoencoderSelector(**params).fit(Xd, y)
    _assert_same_fit(dense, dup)
    np.testing.assert_array_equal(Xd.data, before[0])  # the input keeps its duplicates
    np.testing.assert_array_equal(Xd.indices, before[1])


@pytest.mark.parametrize("block", [0, 7, 2**22])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_column_ptp_in_blocks_of_rows(monkeypatch, block, dtype):
    # CSR reduced in blocks of rows (implicit zeros count in every block), equal to numpy's ptp
    monkeypatch.setattr(training, "_BLOCK_ENTRIES", block)
    rng = np.random.RandomState(3)
    A = (rng.randn(13, 9) * (rng.rand(13, 9) < 0.4)).astype(dtype)
    A[:, 0] = 2.5            # constant, fully stored
    A[:, 1] = 0.0            # empty
    A[:, 2] = np.abs(A[:, 2])  # non-negative with zeros
    A[5] = 0.0               # an empty row
    for M in (sp.csr_matrix(A), sp.csc_matrix(A), A):
        r = training.column_ptp(M)
        assert r.dtype == dtype
        np.testing.assert_array_equal(r, np.ptp(A, axis=0))


# ----------------------------------------------------------------------------------------
# centring: the network reads X minus its column means, so shifts of features change nothing
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("params", [dict(n_features_to_select=5), dict(radius=0.3),
                                    dict(penalty="group_lasso", alpha=0.02),
                                    dict(penalty="differentiable", activation="clipped_relu"),
                                    dict(early_stopping=True)])
def test_a_shift_of_the_features_changes_nothing(params):
    X, y = make_classification(120, 20, n_informative=4, n_redundant=0, random_state=0)
    shift = np.random.RandomState(1).uniform(-8, 8, size=20)  # powers of two apart: exact
    shift = np.round(shift * 4) / 4
    params = {"random_state": 0, "max_epochs": 15, **params}
    a = SparseAutoencoderSelector(**params).fit(X, y)
    b = SparseAutoencoderSelector(**params).fit(X + shift, y)
    np.testing.assert_array_equal(a.support_, b.support_)
    np.testing.assert_allclose(a.coefs_[0], b.coefs_[0], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(a.decision_function(X), b.decision_function(X + shift), rtol=1e-6, atol=1e-8)
    assert a.n_iter_ == b.n_iter_


def test_a_large_uncentred_feature_does_not_swamp_the_network():
    """Sparse data can only be scaled, not centred: a gene expressed at a nearly constant high
    level in every cell (a large share of each cell's counts) becomes a constant of about
    mean / sd ~ 100 after StandardScaler(with_mean=False). The selector once saw that constant
    in every hidden unit and picked that gene first, missing informative ones; it now selects as
    on the centred (dense) data."""
    from sklearn.preprocessing import StandardScaler

    X, y = _sparse_data(n=200, d=40, seed=3)
    rng = np.random.RandomState(0)
    X[:, 39] = 100.0 + rng.standard_normal(200)  # uninformative, mean / sd = 100
    Xs = StandardScaler(with_mean=False).fit_transform(sp.csr_matrix(X))
    Xd = StandardScaler().fit_transform(X)
    params = dict(n_features_to_select=5, random_state=0, max_epochs=30)
    sparse = SparseAutoencoderSelector(**params).fit(Xs, y)
    dense = SparseAutoencoderSelector(**params).fit(Xd, y)
    np.testing.assert_array_equal(sparse.support_, dense.support_)
    assert set(sparse.get_support(indices=True)) == set(range(5))  # the informative columns
    assert sparse.score(Xs, y) == pytest.approx(dense.score(Xd, y), abs=0.02)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mean_variance_has_no_cancellation(dtype):
    """The input variance of the edge-of-chaos initialisation, for columns far from zero."""
    from skproj._training import column_means, mean_variance

    rng = np.random.RandomState(0)
    X = (1e4 + rng.standard_normal((300, 5))).astype(dtype)
    X[:, 4] = 0.0
    X[::3, 4] = 2.0  # a sparse-like column
    expected = X.astype(np.float64).var(axis=0).mean()
    for A in (X, sp.csr_matrix(X)):
        assert mean_variance(A, column_means(A, np.float64)) == pytest.approx(expected, rel=1e-9)
