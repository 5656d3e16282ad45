"""Tests of the Cholesky update kernels (skproj._kernels._linalg) against dense factorisations,
and of the active-set factor built on them in the feature-sign polishing of spred."""

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from skproj._kernels._linalg import cholesky_append, cholesky_delete, cholesky_solve


def spd(k, seed, extra=5):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((k + extra, k)) * rng.uniform(0.1, 10.0, size=k)  # unequal scales
    return A.T @ A / (k + extra)


def in_buffer(R, cap, dtype=np.float64):
    buf = np.full((cap, cap), np.nan, dtype=dtype)  # NaN outside the factor: must not be read
    buf[: R.shape[0], : R.shape[0]] = R
    return buf


@settings(max_examples=60, deadline=None)
@given(k=st.integers(2, 40), seed=st.integers(0, 2**32 - 1), data=st.data())
def test_delete_gives_the_factor_of_the_reduced_matrix(k, seed, data):
    H = spd(k, seed)
    j = data.draw(st.integers(0, k - 1))
    buf = in_buffer(scipy.linalg.cholesky(H), k + 3)
    cholesky_delete(buf, k, j)
    R = buf[: k - 1, : k - 1]
    keep = np.delete(np.arange(k), j)
    assert np.all(np.tril(R, -1) == 0.0)
    assert np.all(np.diag(R) > 0)
    np.testing.assert_allclose(R.T @ R, H[np.ix_(keep, keep)], rtol=1e-10, atol=1e-10 * np.abs(H).max())
    assert np.all(buf[k - 1, :k] == 0.0) and np.all(buf[:k, k - 1] == 0.0)


@settings(max_examples=60, deadline=None)
@given(k=st.integers(1, 40), seed=st.integers(0, 2**32 - 1))
def test_append_gives_the_factor_of_the_extended_matrix(k, seed):
    H = spd(k + 1, seed)
    buf = in_buffer(scipy.linalg.cholesky(H[:k, :k]), k + 2)
    work = np.empty(k + 2)
    s = cholesky_append(buf, k, H[:k, k].copy(), H[k, k], work)
    R = buf[: k + 1, : k + 1]
    np.testing.assert_allclose(R, scipy.linalg.cholesky(H), rtol=1e-8, atol=1e-10 * np.abs(H).max())
    # s is the Schur complement H_kk - h^T H_B^{-1} h
    np.testing.assert_allclose(s, H[k, k] - H[:k, k] @ np.linalg.solve(H[:k, :k], H[:k, k]), rtol=1e-8)


def test_append_reports_a_dependent_column():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((20, 6))
    A = np.column_stack([A, A @ rng.standard_normal(6)])  # column 6 is a combination
    H = A.T @ A
    buf = in_buffer(scipy.linalg.cholesky(H[:6, :6]), 8)
    s = cholesky_append(buf, 6, H[:6, 6].copy(), H[6, 6], np.empty(8))
    assert s <= 1e-10 * H[6, 6]


@settings(max_examples=60, deadline=None)
@given(k=st.integers(1, 40), seed=st.integers(0, 2**32 - 1))
def test_solve_matches_dense_solve(k, seed):
    H = spd(k, seed)
    b = np.random.default_rng(seed).standard_normal(k)
    x = np.concatenate([b, [np.nan, np.nan]])  # entries past k must be left alone
    cholesky_solve(in_buffer(scipy.linalg.cholesky(H), k + 2), k, x)
    np.testing.assert_allclose(x[:k], np.linalg.solve(H, b), rtol=1e-7, atol=1e-9)
    assert np.all(np.isnan(x[k:]))


def test_float32_buffer():
    H = spd(12, 1)
    buf = in_buffer(scipy.linalg.cholesky(H), 14, np.float32)
    cholesky_delete(buf, 12, 4)
    keep = np.delete(np.arange(12), 4)
    R = buf[:11, :11].astype(np.float64)
    np.testing.assert_allclose(R.T @ R, H[np.ix_(keep, keep)], rtol=1e-4, atol=1e-4 * np.abs(H).max())


@pytest.mark.parametrize("seed", range(3))
def test_active_factor_follows_a_sequence_of_sets(seed):
    # the factor used by the feature-sign search, through a random walk of adds and removals
    # (and a refactorisation when too many change at once): it must always solve G_SS x = b
    from skproj._solvers._polish import ActiveCholesky, GramCache
    from skproj._solvers._spred import squared_loss

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((60, 200))
    loss = squared_loss(X, rng.standard_normal((60, 1)), None, True)
    gram = GramCache(loss.design, 200)
    gram.add(np.arange(200))
    fac = ActiveCholesky(gram)
    S = rng.choice(200, 20, replace=False)
    assert fac.factorise(S)
    for _ in range(40):
        out = rng.choice(S, rng.integers(0, 4), replace=False)
        new = rng.choice(np.setdiff1d(np.arange(200), S), rng.integers(0, 4), replace=False)
        S = np.union1d(np.setdiff1d(S, out), new)
        if not fac.update(S):
            assert fac.factorise(S)
        assert np.array_equal(np.sort(fac.order), S)
        p = gram.pos[fac.order]
        b = rng.standard_normal(S.size)
        np.testing.assert_allclose(gram.G[np.ix_(p, p)] @ fac.solve(b), b, atol=1e-9)
