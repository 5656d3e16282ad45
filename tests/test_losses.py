"""Tests of the loss module, the design operator and the power iteration.

Gradients are checked against central finite differences of the values, Hessian-vector
products against finite differences of the gradients, the Hessian majorant and the Lipschitz
bound against the eigenvalues of explicitly assembled Hessians, and the design operator against
the explicit dense matrix (and its adjoint identity).
"""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from skproj._design import Design, power_iteration, weighted_column_means
from skproj._losses import BinaryLogisticLoss, MultinomialLoss, SquaredLoss

N, K = 23, 3


def make_loss(kind, rng, weighted):
    sw = rng.uniform(0.2, 3.0, N) if weighted else None
    if kind == "squared":
        return SquaredLoss(rng.standard_normal((N, K)), sw), K
    if kind == "binary":
        return BinaryLogisticLoss(rng.randint(0, 2, N), sw), 1
    return MultinomialLoss(rng.randint(0, K, N), K, sw), K


KINDS = ["squared", "binary", "multinomial"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("rows", [None, np.array([0, 3, 4, 10, 17])])
def test_gradient_matches_finite_differences(kind, weighted, rows):
    rng = np.random.RandomState(0)
    loss, k = make_loss(kind, rng, weighted)
    m = N if rows is None else rows.size
    Z = rng.standard_normal((m, k))
    f, G = loss.value_grad(Z, rows)
    assert f == pytest.approx(loss.value(Z, rows), rel=1e-14)
    np.testing.assert_array_equal(G, loss.gradient(Z, rows))
    h = 1e-6
    G_fd = np.empty_like(Z)
    for idx in np.ndindex(Z.shape):
        E = np.zeros_like(Z)
        E[idx] = h
        G_fd[idx] = (loss.value(Z + E, rows) - loss.value(Z - E, rows)) / (2 * h)
    np.testing.assert_allclose(G, G_fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("rows", [None, np.array([1, 2, 8, 20])])
def test_hessp_matches_finite_differences_of_gradient(kind, rows):
    rng = np.random.RandomState(1)
    loss, k = make_loss(kind, rng, weighted=True)
    m = N if rows is None else rows.size
    Z = rng.standard_normal((m, k))
    V = rng.standard_normal((m, k))
    h = 1e-6
    fd = (loss.gradient(Z + h * V, rows) - loss.gradient(Z - h * V, rows)) / (2 * h)
    np.testing.assert_allclose(loss.hessp(Z, V, rows), fd, rtol=1e-6, atol=1e-10)


def dense_hessian(loss, Z, rows=None):
    """The Hessian in Z-space, assembled column by column from hessp."""
    size = Z.size
    H = np.empty((size, size))
    for j in range(size):
        E = np.zeros(size)
        E[j] = 1.0
        H[:, j] = loss.hessp(Z, E.reshape(Z.shape), rows).ravel()
    return H


@pytest.mark.parametrize("kind", KINDS)
def test_hessian_majorant(kind):
    """curvature * diag(w) - H(Z) is positive semi-definite at random (also large) Z."""
    rng = np.random.RandomState(2)
    loss, k = make_loss(kind, rng, weighted=True)
    for scale in (0.1, 1.0, 5.0):
        Z = scale * rng.standard_normal((N, k))
        H = dense_hessian(loss, Z)
        B = np.diag(np.repeat(loss.curvature * loss.w[:, 0], k))
        assert np.linalg.eigvalsh(B - H).min() >= -1e-12


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("intercept", [False, True])
@pytest.mark.parametrize("centre", [False, True])
def test_lipschitz_bound_exceeds_largest_hessian_eigenvalue(kind, intercept, centre):
    """Lipschitz bound of x -> f(A x) >= the largest eigenvalue of A^T H(Z) A at random Z."""
    rng = np.random.RandomState(3)
    loss, k = make_loss(kind, rng, weighted=True)
    d = 6
    X = rng.standard_normal((N, d)) + 2.0  # off-centre columns: the intercept direction matters
    offset = X.mean(axis=0) if centre else None
    design = Design(X, offset=offset, intercept=intercept)
    L = loss.lipschitz(design, rng=np.random.RandomState(0), n_iter=200)
    # explicit A (rows: samples, columns: features + intercept)
    A = X - (offset if centre else 0.0)
    if intercept:
        A = np.column_stack([A, np.ones(N)])
    for scale in (0.0, 0.5, 3.0):
        Z = scale * rng.standard_normal((N, k))
        Hz = dense_hessian(loss, Z)  # (N k) x (N k), index (i, c) -> i * k + c
        Ak = np.kron(A, np.eye(k))  # x (feature, class) -> z (sample, class)
        lam = np.linalg.eigvalsh(Ak.T @ Hz @ Ak).max()
        assert L >= lam * (1 - 1e-10)
    # and it is not loose by more than the margin and the intercept bound
    wA = loss.curvature * (A.T * loss.w[:, 0]) @ A
    assert L <= 1.05 * np.linalg.eigvalsh(wA).max() + loss.curvature * (1.0 if intercept else 0.0) + 1e-12


def test_minibatch_values_average_to_full_value():
    rng = np.random.RandomState(4)
    for kind in KINDS:
        loss, k = make_loss(kind, rng, weighted=True)
        Z = rng.standard_normal((N + 1, k))[:N]
        perm = rng.permutation(N)
        # unequal-size batches: the weighted mean (by batch size) equals the full value
        batches = [perm[:10], perm[10:]]
        avg = sum(b.size * loss.value(Z[b], b) for b in batches) / N
        assert avg == pytest.approx(loss.value(Z), rel=1e-12)


def test_squared_loss_bregman_and_scaling():
    """Unit weights give (1/(2n)) ||Z - Y||^2 (scikit-learn's Lasso scaling); weights s give the
    same as weights s * c for any c > 0; bregman equals the exact difference."""
    rng = np.random.RandomState(5)
    Y = rng.standard_normal((N, 2))
    Z = rng.standard_normal((N, 2))
    assert SquaredLoss(Y).value(Z) == pytest.approx(((Z - Y) ** 2).sum() / (2 * N), rel=1e-14)
    s = rng.uniform(0.5, 2, N)
    assert SquaredLoss(Y, s).value(Z) == pytest.approx(SquaredLoss(Y, 7.0 * s).value(Z), rel=1e-14)
    loss = SquaredLoss(Y, s)
    Z2 = rng.standard_normal((N, 2))
    exact = loss.value(Z2) - loss.value(Z) - np.vdot(loss.gradient(Z), Z2 - Z)
    assert loss.bregman(Z, Z2, loss.gradient(Z)) == pytest.approx(exact, rel=1e-10)


def test_logistic_losses_agree():
    """Binary loss with z equals the multinomial loss with logits (0, z)."""
    rng = np.random.RandomState(6)
    y = rng.randint(0, 2, N)
    s = rng.uniform(0.5, 2, N)
    z = rng.standard_normal((N, 1))
    b = BinaryLogisticLoss(y, s).value(z)
    m = MultinomialLoss(y, 2, s).value(np.column_stack([np.zeros(N), z[:, 0]]))
    assert b == pytest.approx(m, rel=1e-12)
    assert BinaryLogisticLoss(np.where(y == 1, 1, -1), s).value(z) == b  # {-1, 1} labels too


def test_float32_losses_stay_float32():
    rng = np.random.RandomState(7)
    Y = rng.standard_normal((N, 1)).astype(np.float32)
    _, G = SquaredLoss(Y).value_grad(np.zeros_like(Y))
    assert G.dtype == np.float32
    _, G = BinaryLogisticLoss(rng.randint(0, 2, N), dtype=np.float32).value_grad(np.zeros((N, 1), np.float32))
    assert G.dtype == np.float32


# ------------------------------------------------------------------------------------------------
# Design operator
# ------------------------------------------------------------------------------------------------


def explicit(X, offset, r):
    A = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    if offset is not None:
        A = A - offset
    if r is not None:
        A = A * r[:, None]
    return A


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 12),
    d=st.integers(1, 9),
    k=st.integers(1, 3),
    fmt=st.sampled_from(["dense", "csr", "csc"]),
    centre=st.booleans(),
    scale=st.booleans(),
    intercept=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_design_matches_explicit_matrix(n, d, k, fmt, centre, scale, intercept, seed):
    rng = np.random.RandomState(seed)
    Xd = rng.standard_normal((n, d)) * (rng.uniform(size=(n, d)) < 0.6)
    X = Xd if fmt == "dense" else sp.csr_matrix(Xd).asformat(fmt)
    X_before = Xd.copy()
    offset = rng.standard_normal(d) if centre else None
    r = rng.uniform(0.1, 2, n) if scale else None
    op = Design(X, offset=offset, row_scale=r, intercept=intercept)
    A = explicit(X, offset, r)
    W = rng.standard_normal((k, d))
    b = rng.standard_normal(k) if intercept else None
    Z = op.matvec(W, b)
    np.testing.assert_allclose(Z, A @ W.T + (0 if b is None else b), atol=1e-12)
    dZ = rng.standard_normal((n, k))
    GW, gb = op.rmatvec(dZ)
    np.testing.assert_allclose(GW, (A.T @ dZ).T, atol=1e-12)
    if intercept:
        np.testing.assert_allclose(gb, dZ.sum(axis=0), atol=1e-12)
        # adjoint identity including the intercept
        lhs = np.vdot(Z, dZ)
        assert lhs == pytest.approx(np.vdot(W, GW) + b @ gb, rel=1e-10, abs=1e-10)
    else:
        assert gb is None
    out = np.empty((k, d))
    GW2, _ = op.rmatvec(dZ, out=out)
    assert GW2 is out
    np.testing.assert_allclose(out, GW, atol=1e-12)
    rows = rng.choice(n, max(1, n // 2), replace=False)
    np.testing.assert_allclose(op.matvec(W, b, rows=rows), Z[rows], atol=1e-12)
    np.testing.assert_allclose(op.rmatvec(dZ[rows], rows=rows)[0], (A[rows].T @ dZ[rows]).T, atol=1e-12)
    mask = rng.uniform(size=d) < 0.5
    sub = op.restrict(mask)
    np.testing.assert_allclose(sub.matvec(W[:, mask], b), A[:, mask] @ W[:, mask].T + (0 if b is None else b),
                               atol=1e-12)
    idx = np.flatnonzero(mask)
    np.testing.assert_allclose(op.columns(idx), A[:, idx], atol=1e-12)
    np.testing.assert_array_equal(Xd, X_before)  # inputs never modified
    if fmt != "dense":
        assert sp.issparse(op.X)


def test_weighted_column_means_sparse_and_dense():
    rng = np.random.RandomState(8)
    X = sp.random(30, 7, density=0.3, format="csr", random_state=rng)
    s = rng.uniform(0.1, 2, 30)
    np.testing.assert_allclose(weighted_column_means(X, s), np.average(X.toarray(), axis=0, weights=s))


def test_power_iteration_matches_eigvalsh():
    rng = np.random.RandomState(9)
    A = rng.standard_normal((20, 8))
    M = A.T @ A
    top = np.linalg.eigvalsh(M).max()
    x0 = rng.standard_normal(8)
    lam_r = power_iteration(lambda v: M @ v, x0, n_iter=500)
    lam_n = power_iteration(lambda v: M @ v, x0, n_iter=500, rayleigh=False, margin=1.05)
    assert lam_r == pytest.approx(top, rel=1e-8)
    assert lam_n == pytest.approx(1.05 * top, rel=1e-8)
    # a few iterations: lower bounds (Rayleigh quotient <= ||M v|| <= top)
    lo_r = power_iteration(lambda v: M @ v, x0, n_iter=3)
    lo_n = power_iteration(lambda v: M @ v, x0, n_iter=3, rayleigh=False)
    assert lo_r <= lo_n * (1 + 1e-12) and lo_n <= top * (1 + 1e-12)
    assert power_iteration(lambda v: 0 * v, x0, zero=1e-12) == 1e-12
    assert power_iteration(lambda v: v, np.zeros(3)) == 0.0
