"""Tests of the proximal operators against independent slow references, brute-force
minimisation of their objectives (scipy.optimize) and their optimality conditions."""

import threading
import warnings
from functools import partial

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import minimize, minimize_scalar
from sklearn.exceptions import ConvergenceWarning

from skproj import (
    prox_group_l2,
    prox_l1,
    prox_l1inf,
    weighted_prox_group_l2,
    weighted_prox_group_mcp,
)

# ----------------------------------------------------------------------------------------------
# Independent references


def soft_reference(x, c):
    return np.sign(x) * np.maximum(np.abs(x) - c, 0.0)


def safe_row_norms(X):
    amax = np.abs(X).max(axis=1) if X.shape[1] else np.zeros(X.shape[0])
    safe = np.where(amax > 0, amax, 1.0)
    return amax * np.linalg.norm(X / safe[:, None], axis=1)


def l1_projection_sort(x, radius):
    """Sort-based Euclidean projection onto {||u||_1 <= radius} (Duchi et al. 2008)."""
    if np.abs(x).sum() <= radius:
        return x.copy()
    if radius == 0:
        return np.zeros_like(x)
    y = np.abs(x)
    u = np.sort(y)[::-1]
    css = np.cumsum(u) - radius
    k = np.arange(1, len(u) + 1)
    rho = np.nonzero(u - css / k > 0)[0][-1]
    tau = css[rho] / (rho + 1)
    return np.sign(x) * np.maximum(y - tau, 0.0)


def l1inf_prox_moreau(X, c):
    """prox of c ||.||_{1,inf} (rows are groups) = X - row-wise projection onto the l1 ball of radius c."""
    return np.array([row - l1_projection_sort(row, c) for row in X]).reshape(X.shape)


def safe_norm(v):
    return safe_row_norms(np.atleast_2d(v))[0]


def weighted_reference(z, d, c, gamma=np.inf):
    """Weighted group lasso (gamma = inf) / group MCP prox of one group, by bisection on t."""
    if c == 0 or safe_norm(d * z) <= c:
        return np.zeros_like(z) if c > 0 else z.copy()
    inv_gamma = 0.0 if np.isinf(gamma) else 1.0 / gamma
    if inv_gamma > 0 and safe_norm(z) >= gamma * c:
        return z.copy()
    a = d - inv_gamma

    def excess(t):
        return np.sum((d * z / (a * t + c)) ** 2) - 1.0

    lo, hi = 0.0, safe_norm(z) if inv_gamma == 0 else gamma * c
    for _ in range(300):
        mid = 0.5 * (lo + hi)
        if excess(mid) > 0:
            lo = mid
        else:
            hi = mid
    t = 0.5 * (lo + hi)
    return t * (d * z / (a * t + c))


def mcp(t, c, gamma):
    return np.where(t <= gamma * c, c * t - t**2 / (2 * gamma), gamma * c**2 / 2)


def weighted_objective(x, z, d, c, gamma=np.inf):
    t = np.linalg.norm(x)
    pen = c * t if np.isinf(gamma) else float(mcp(t, c, gamma))
    return 0.5 * np.sum(d * (x - z) ** 2) + pen


def brute_force(fun, grad, n, starts):
    """Best of L-BFGS runs from several starts, and the candidate 0."""
    best_x, best_f = np.zeros(n), fun(np.zeros(n))
    for x0 in starts:
        res = minimize(fun, x0, jac=grad, method="L-BFGS-B", options={"gtol": 1e-13, "ftol": 1e-15, "maxiter": 5000})
        if res.fun < best_f:
            best_x, best_f = res.x, res.fun
    return best_x, best_f


def weighted_brute(z, d, c, gamma=np.inf, seed=0):
    def fun(x):
        return weighted_objective(x, z, d, c, gamma)

    def grad(x):
        t = np.linalg.norm(x)
        g = d * (x - z)
        if t > 0:
            slope = c if np.isinf(gamma) else max(c - t / gamma, 0.0)
            g = g + slope * x / t
        return g

    rng = np.random.default_rng(seed)
    starts = [z, 0.5 * z, z + rng.standard_normal(z.shape), rng.standard_normal(z.shape)]
    return brute_force(fun, grad, z.size, starts)


# ----------------------------------------------------------------------------------------------
# Strategies

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, width=64)
entries = st.one_of(finite, st.sampled_from([0.0, 1.0, -1.0, 1e-12]))
small_mats = arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 4)), elements=entries)
mats = arrays(np.float64, st.tuples(st.integers(1, 10), st.integers(1, 10)), elements=entries)
axes = st.sampled_from([0, 1, -1, -2])


def as_rows(X, axis):
    return X if axis % 2 == 1 else X.T


@st.composite
def weighted_problems(draw, max_side=4, wlo=1e-2, whi=1e2, zabs=1e3):
    shape = draw(st.tuples(st.integers(1, max_side), st.integers(1, max_side)))
    Z = draw(arrays(np.float64, shape, elements=st.one_of(st.floats(-zabs, zabs), st.sampled_from([0.0, 1.0, -1.0]))))
    D = draw(arrays(np.float64, shape, elements=st.one_of(st.floats(wlo, whi), st.sampled_from([1.0, 2.0]))))
    axis = draw(axes)
    n_groups = shape[0] if axis % 2 == 1 else shape[1]
    frac = draw(arrays(np.float64, n_groups, elements=st.one_of(st.floats(0.0, 1.5), st.sampled_from([0.0, 1.0]))))
    Zg, Dg = as_rows(Z, axis), as_rows(D, axis)
    c = frac * np.linalg.norm(Zg * Dg, axis=1)
    c = np.where(c > 0, c, frac)
    return Z, D, c, axis


# ----------------------------------------------------------------------------------------------
# prox_l1


@settings(max_examples=200, deadline=None)
@given(x=arrays(np.float64, st.tuples(st.integers(0, 5), st.integers(1, 5)), elements=entries), c=st.floats(0, 2e3))
def test_prox_l1_reference_and_optimality(x, c):
    p = prox_l1(x, c)
    np.testing.assert_array_equal(p, soft_reference(x, c))
    # optimality: x - p in c * subdifferential of ||.||_1 at p
    r = x - p
    scale = max(np.abs(x).max(initial=0), 1.0)
    assert np.all(np.abs(r) <= c * (1 + 1e-12) + 1e-12 * scale)
    nz = p != 0
    np.testing.assert_allclose(r[nz], c * np.sign(p[nz]), rtol=1e-12, atol=1e-12 * scale)


def test_prox_l1_threshold_zero_is_a_copy():
    # as documented (and as the other prox operators do): -0.0 stays -0.0
    x = np.array([-0.0, 0.0, -1.0, 2.5], dtype=np.float32)
    p = prox_l1(x, 0.0)
    assert p is not x and p.dtype == x.dtype
    np.testing.assert_array_equal(np.signbit(p), np.signbit(x))
    np.testing.assert_array_equal(p, x)


@settings(max_examples=40, deadline=None)
@given(x=arrays(np.float64, st.integers(1, 6), elements=st.floats(-10, 10)), c=st.floats(0, 10))
def test_prox_l1_brute_force(x, c):
    p = prox_l1(x, c)
    for i, xi in enumerate(x):
        res = minimize_scalar(lambda u: 0.5 * (u - xi) ** 2 + c * abs(u), bounds=(-11, 11), method="bounded",
                              options={"xatol": 1e-12})
        assert 0.5 * (p[i] - xi) ** 2 + c * abs(p[i]) <= res.fun + 1e-12
        assert abs(p[i] - res.x) <= 1e-5


# ----------------------------------------------------------------------------------------------
# prox_group_l2


@settings(max_examples=200, deadline=None)
@given(X=mats, frac=st.floats(0, 1.5), axis=axes)
def test_prox_group_l2_reference_and_optimality(X, frac, axis):
    Xg = as_rows(X, axis)
    norms = safe_row_norms(Xg)
    c = frac * norms.max()
    P = prox_group_l2(X, c, axis=axis)
    Pg = as_rows(P, axis)
    scale = max(np.abs(X).max(), 1e-300)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ref = np.where((norms > c)[:, None], (1 - c / norms)[:, None] * Xg, 0.0)
    np.testing.assert_allclose(Pg, ref, rtol=1e-12, atol=1e-12 * scale)
    # optimality: R_g = X_g - P_g with ||R_g|| <= c, and R_g = c P_g / ||P_g|| when P_g != 0
    R = Xg - Pg
    assert np.all(safe_row_norms(R) <= c * (1 + 1e-12) + 1e-12 * scale)
    pn = safe_row_norms(Pg)
    for g in np.nonzero(pn > 0)[0]:
        np.testing.assert_allclose(R[g], c * (Pg[g] / pn[g]), rtol=1e-9, atol=1e-9 * scale)  # no underflow of c * P


@settings(max_examples=20, deadline=None)
@given(X=arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(1, 4)), elements=st.floats(-10, 10)),
       c=st.floats(0, 10))
def test_prox_group_l2_brute_force(X, c):
    P = prox_group_l2(X, c)
    for g in range(X.shape[0]):
        x, f = weighted_brute(X[g], np.ones(X.shape[1]), c)
        assert weighted_objective(P[g], X[g], np.ones(X.shape[1]), c) <= f + 1e-10
        np.testing.assert_allclose(P[g], x, atol=1e-5)


# ----------------------------------------------------------------------------------------------
# prox_l1inf


@settings(max_examples=200, deadline=None)
@given(X=mats, frac=st.one_of(st.floats(1e-9, 1.5), st.sampled_from([0.0, 1.0])), axis=axes)
def test_prox_l1inf_moreau_reference_and_optimality(X, frac, axis):
    Xg = as_rows(X, axis)
    c = frac * np.abs(Xg).sum(axis=1).max()
    P = prox_l1inf(X, c, axis=axis)
    Pg = as_rows(P, axis)
    scale = max(np.abs(X).max(), 1e-300)
    np.testing.assert_allclose(Pg, l1inf_prox_moreau(Xg, c), rtol=1e-10, atol=1e-10 * scale)
    # optimality: U = X - P in c * subdiff ||.||_{1,inf}(P): per group ||U_g||_1 <= c, with
    # equality and <U_g, P_g> = c max|P_g| when P_g != 0 (dual pair l1 / l_inf)
    U = Xg - Pg
    l1 = np.abs(U).sum(axis=1)
    assert np.all(l1 <= c * (1 + 1e-12) + 1e-10 * scale)
    for g in range(Pg.shape[0]):
        pmax = np.abs(Pg[g]).max()
        if pmax > 0:
            # U = X - P is computed with an absolute rounding error of about eps * scale per entry;
            # products in the subnormal range (entries near 1e-160) round to an absolute error of
            # the smallest subnormal, one per term of the dot product and one for c * pmax
            tol = 1e-9 * c * pmax + 1e-12 * scale * np.abs(Pg[g]).sum()
            tol += (Pg.shape[1] + 1) * np.finfo(np.float64).smallest_subnormal
            assert abs(U[g] @ Pg[g] - c * pmax) <= tol
            assert abs(l1[g] - c) <= 1e-9 * max(c, scale)


@settings(max_examples=25, deadline=None)
@given(X=arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(1, 3)), elements=st.floats(-10, 10)),
       c=st.floats(0, 10))
def test_prox_l1inf_brute_force(X, c):
    """Solve min 0.5||Y - X||^2 + c sum_g s_g  s.t. |Y_gj| <= s_g as a smooth QP with SLSQP."""
    n, m = X.shape
    P = prox_l1inf(X, c)

    def obj(v):
        Y, s = v[: n * m].reshape(n, m), v[n * m:]
        return 0.5 * np.sum((Y - X) ** 2) + c * s.sum()

    def cons(v):
        Y, s = v[: n * m].reshape(n, m), v[n * m:]
        return np.concatenate([(s[:, None] - Y).ravel(), (s[:, None] + Y).ravel()])

    def prox_objective(Y):
        return 0.5 * np.sum((Y - X) ** 2) + c * np.abs(Y).max(axis=1).sum()

    # SLSQP may stop slightly outside |Y_gj| <= s_g (then res.fun is below the optimum): each
    # reference is scored by the prox objective of its Y, which is >= the optimum for any Y
    best, best_val = None, np.inf
    for Y0 in (X, 0.5 * X, np.zeros_like(X)):
        v0 = np.concatenate([Y0.ravel(), np.abs(Y0).max(axis=1)])
        res = minimize(obj, v0, method="SLSQP", constraints=[{"type": "ineq", "fun": cons}],
                       options={"ftol": 1e-14, "maxiter": 1000})
        val = prox_objective(res.x[: n * m].reshape(n, m))
        if val < best_val:
            best, best_val = res, val
    ours = prox_objective(P)
    assert ours <= best_val + 1e-8
    np.testing.assert_allclose(P, best.x[: n * m].reshape(n, m), atol=1e-4)


# ----------------------------------------------------------------------------------------------
# weighted_prox_group_l2


def check_weighted_optimality(Z, D, c, X, axis, gamma=np.inf, rtol=1e-9):
    Zg, Dg, Xg = as_rows(Z, axis), as_rows(D, axis), as_rows(X, axis)
    for g in range(Zg.shape[0]):
        z, d, x, cg = Zg[g], Dg[g], Xg[g], c[g]
        scale = max(np.abs(d * z).max(), 1e-300)
        # safe_norm, not np.linalg.norm: squares of entries below ~1e-154 are subnormal or
        # underflow to 0, and the plain norm of such a group is off by far more than rtol
        t = safe_norm(x)
        if t == 0:
            assert safe_norm(d * z) <= cg * (1 + 1e-9) + 1e-12 * scale
            continue
        slope = cg if np.isinf(gamma) else max(cg - t / gamma, 0.0)
        # slope * (x / t), not slope * x / t: the product of two tiny numbers underflows
        resid = d * (x - z) + slope * (x / t)
        assert np.abs(resid).max() <= rtol * max(scale, cg)


@settings(max_examples=150, deadline=None)
@given(prob=weighted_problems(max_side=8))
def test_weighted_l2_bisection_reference_and_optimality(prob):
    Z, D, c, axis = prob
    X = weighted_prox_group_l2(Z, D, c, axis=axis)
    Zg, Dg, Xg = as_rows(Z, axis), as_rows(D, axis), as_rows(X, axis)
    for g in range(Zg.shape[0]):
        ref = weighted_reference(Zg[g], Dg[g], c[g])
        scale = max(np.abs(Zg[g]).max(), 1e-300)
        np.testing.assert_allclose(Xg[g], ref, rtol=1e-9, atol=1e-9 * scale)
    check_weighted_optimality(Z, D, c, X, axis)


@settings(max_examples=25, deadline=None)
@given(prob=weighted_problems(max_side=3, wlo=0.1, whi=10.0, zabs=10.0))
def test_weighted_l2_brute_force(prob):
    Z, D, c, axis = prob
    X = weighted_prox_group_l2(Z, D, c, axis=axis)
    Zg, Dg, Xg = as_rows(Z, axis), as_rows(D, axis), as_rows(X, axis)
    for g in range(Zg.shape[0]):
        x, f = weighted_brute(Zg[g], Dg[g], c[g], seed=g)
        assert weighted_objective(Xg[g], Zg[g], Dg[g], c[g]) <= f + 1e-9 * max(1.0, abs(f))
        np.testing.assert_allclose(Xg[g], x, atol=1e-4 * max(1.0, np.abs(Zg[g]).max()))


@settings(max_examples=100, deadline=None)
@given(X=mats, d=st.floats(1e-3, 1e3), frac=st.floats(0, 1.5), axis=axes)
def test_weighted_l2_equal_weights_is_group_soft_thresholding(X, d, frac, axis):
    c = frac * d * max(safe_row_norms(as_rows(X, axis)).max(), 1e-300)
    W = weighted_prox_group_l2(X, np.full(X.shape, d), c, axis=axis)
    P = prox_group_l2(X, c / d, axis=axis)
    np.testing.assert_allclose(W, P, rtol=1e-12, atol=1e-12 * max(np.abs(X).max(), 1e-300))


def test_weighted_l2_invariances():
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((12, 7))
    D = rng.uniform(0.1, 5.0, Z.shape)
    c = rng.uniform(0.1, 3.0, 12)
    X = weighted_prox_group_l2(Z, D, c)
    # sign flips
    S = rng.choice([-1.0, 1.0], size=Z.shape)
    np.testing.assert_allclose(weighted_prox_group_l2(Z * S, D, c), X * S, atol=1e-13)
    # permutation within groups (columns) and of groups (rows, with their thresholds)
    pr, pc = rng.permutation(12), rng.permutation(7)
    np.testing.assert_allclose(weighted_prox_group_l2(Z[pr][:, pc], D[pr][:, pc], c[pr]), X[pr][:, pc], atol=1e-13)
    # axis=0 on the transpose
    np.testing.assert_allclose(weighted_prox_group_l2(Z.T, D.T, c, axis=0), X.T, atol=0)
    # scaling: (k z, k c) -> k x ; (k d, k c) -> x
    np.testing.assert_allclose(weighted_prox_group_l2(3.5 * Z, D, 3.5 * c), 3.5 * X, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(weighted_prox_group_l2(Z, 0.25 * D, 0.25 * c), X, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("k", [1e-200, 1e-150, 1e150, 1e200])
def test_weighted_l2_extreme_magnitudes(k):
    rng = np.random.default_rng(1)
    Z = rng.standard_normal((5, 6))
    D = rng.uniform(0.5, 2.0, Z.shape)
    c = np.full(5, 1.0)
    X = weighted_prox_group_l2(Z, D, c)
    np.testing.assert_allclose(weighted_prox_group_l2(k * Z, D, k * c) / k, X, rtol=1e-12, atol=1e-13)
    M = weighted_prox_group_mcp(Z, D, c, 3.0)
    np.testing.assert_allclose(weighted_prox_group_mcp(k * Z, D, k * c, 3.0) / k, M, rtol=1e-12, atol=1e-13)
    # not vacuous: some groups survive (1e-200 and 1e200 square to underflow / overflow)
    assert np.count_nonzero(np.linalg.norm(X, axis=1)) >= 2 and np.count_nonzero(np.linalg.norm(M, axis=1)) >= 2


@settings(max_examples=150, deadline=None)
@given(prob=weighted_problems(max_side=6, wlo=0.1, whi=10.0, zabs=10.0), k=st.integers(480, 1074),
       mcp_=st.booleans())
def test_weighted_prox_tiny_magnitudes_match_the_scaled_reference(prob, k, mcp_):
    # Z and c scaled by 2^-k (down to the subnormal range, where squares and 1 / c overflow
    # or vanish). The prox is homogeneous, so 2^k x must be the reference prox of the exactly
    # scaled-up input 2^k Z (np.ldexp is exact there), up to the bisection's accuracy and the
    # rounding of x itself to the subnormal spacing 2^-1074 (2^(k - 1074) once scaled up).
    Z, D, c, axis = prob
    Zt, ct = np.ldexp(Z, -k), np.ldexp(c, -k)
    gamma = 2.0 / D.min() if mcp_ else np.inf
    if mcp_:
        X = weighted_prox_group_mcp(Zt, D, ct, gamma, axis=axis)
    else:
        X = weighted_prox_group_l2(Zt, D, ct, axis=axis)
    Zu, cu, Xu = np.ldexp(Zt, k), np.ldexp(ct, k), np.ldexp(X, k)
    Zg, Dg, Xg = as_rows(Zu, axis), as_rows(D, axis), as_rows(Xu, axis)
    for g in range(Zg.shape[0]):
        ref = weighted_reference(Zg[g], Dg[g], cu[g], gamma)
        scale = max(np.abs(Zg[g]).max(), 1e-300)
        np.testing.assert_allclose(Xg[g], ref, rtol=1e-9, atol=1e-9 * scale + 2.0 ** (k - 1074))


def test_weighted_l2_secular_equation_residual_and_stiff_weights():
    """Weights spread over 12 orders of magnitude: the root still solves its equation to ~1e-14."""
    rng = np.random.default_rng(2)
    Z = rng.standard_normal((50, 20))
    D = 10.0 ** rng.uniform(-6, 6, Z.shape)
    c = 0.3 * np.linalg.norm(D * Z, axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        X = weighted_prox_group_l2(Z, D, c)
    t = np.linalg.norm(X, axis=1)
    assert np.all(t > 0)
    S = np.sum(Z**2 / (t[:, None] + c[:, None] / D) ** 2, axis=1)
    np.testing.assert_allclose(S, 1.0, rtol=1e-13)
    check_weighted_optimality(Z, D, c, X, 1, rtol=1e-10)


def test_weighted_l2_max_iter_warns():
    rng = np.random.default_rng(3)
    Z = rng.standard_normal((4, 6))
    D = 10.0 ** rng.uniform(-3, 3, Z.shape)
    c = 0.5 * np.linalg.norm(D * Z, axis=1)
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        weighted_prox_group_l2(Z, D, c, max_iter=1)


# ----------------------------------------------------------------------------------------------
# weighted_prox_group_mcp


@st.composite
def mcp_problems(draw, max_side=4, **kw):
    Z, D, c, axis = draw(weighted_problems(max_side=max_side, **kw))
    margin = draw(st.floats(1e-3, 10.0))
    gamma = (1.0 + margin) / D.min()
    return Z, D, c, gamma, axis


@settings(max_examples=150, deadline=None)
@given(prob=mcp_problems(max_side=8))
def test_weighted_mcp_bisection_reference_and_optimality(prob):
    Z, D, c, gamma, axis = prob
    X = weighted_prox_group_mcp(Z, D, c, gamma, axis=axis)
    Zg, Dg, Xg = as_rows(Z, axis), as_rows(D, axis), as_rows(X, axis)
    for g in range(Zg.shape[0]):
        ref = weighted_reference(Zg[g], Dg[g], c[g], gamma)
        scale = max(np.abs(Zg[g]).max(), 1e-300)
        np.testing.assert_allclose(Xg[g], ref, rtol=1e-8, atol=1e-8 * scale)
    check_weighted_optimality(Z, D, c, X, axis, gamma=gamma, rtol=1e-8)


@settings(max_examples=25, deadline=None)
@given(prob=mcp_problems(max_side=3, wlo=0.1, whi=10.0, zabs=10.0))
def test_weighted_mcp_brute_force(prob):
    Z, D, c, gamma, axis = prob
    X = weighted_prox_group_mcp(Z, D, c, gamma, axis=axis)
    Zg, Dg, Xg = as_rows(Z, axis), as_rows(D, axis), as_rows(X, axis)
    for g in range(Zg.shape[0]):
        x, f = weighted_brute(Zg[g], Dg[g], c[g], gamma, seed=g)
        assert weighted_objective(Xg[g], Zg[g], Dg[g], c[g], gamma) <= f + 1e-9 * max(1.0, abs(f))
        # strong convexity with modulus min(d - 1/gamma) bounds the distance to the minimiser
        mu = (Dg[g] - 1.0 / gamma).min()
        gap = max(f - weighted_objective(Xg[g], Zg[g], Dg[g], c[g], gamma), 0.0)
        assert np.linalg.norm(Xg[g] - x) <= np.sqrt(2 * (gap + 1e-12 * max(1.0, abs(f))) / mu) + 1e-6


@settings(max_examples=100, deadline=None)
@given(X=mats, gamma=st.floats(1.001, 100.0), frac=st.floats(0, 1.5), axis=axes)
def test_weighted_mcp_unit_weights_is_firm_group_thresholding(X, gamma, frac, axis):
    Xg = as_rows(X, axis)
    norms = safe_row_norms(Xg)
    c = frac * max(norms.max(), 1e-300)
    M = as_rows(weighted_prox_group_mcp(X, np.ones(X.shape), c, gamma, axis=axis), axis)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        shrink = gamma / (gamma - 1) * np.maximum(0.0, 1 - c / norms)
    ref = np.where((norms >= gamma * c)[:, None], Xg, np.nan_to_num(shrink)[:, None] * Xg)
    np.testing.assert_allclose(M, ref, rtol=1e-10, atol=1e-10 * max(np.abs(X).max(), 1e-300))


def test_weighted_mcp_tends_to_group_lasso_and_invariances():
    rng = np.random.default_rng(4)
    Z = rng.standard_normal((10, 5))
    D = rng.uniform(0.2, 3.0, Z.shape)
    c = rng.uniform(0.1, 2.0, 10)
    L = weighted_prox_group_l2(Z, D, c)
    M = weighted_prox_group_mcp(Z, D, c, 1e12)
    np.testing.assert_allclose(M, L, rtol=1e-9, atol=1e-10)
    M = weighted_prox_group_mcp(Z, D, c, 2.0 / D.min())
    # MCP shrinks less than the group lasso, never more than to zero
    assert np.all(np.linalg.norm(M, axis=1) >= np.linalg.norm(L, axis=1) - 1e-12)
    np.testing.assert_array_equal(np.linalg.norm(M, axis=1) == 0, np.linalg.norm(L, axis=1) == 0)
    S = rng.choice([-1.0, 1.0], size=Z.shape)
    g = 2.0 / D.min()
    np.testing.assert_allclose(weighted_prox_group_mcp(Z * S, D, c, g), M * S, atol=1e-13)
    pr, pc = rng.permutation(10), rng.permutation(5)
    np.testing.assert_allclose(weighted_prox_group_mcp(Z[pr][:, pc], D[pr][:, pc], c[pr], g), M[pr][:, pc], atol=1e-13)
    np.testing.assert_allclose(weighted_prox_group_mcp(Z.T, D.T, c, g, axis=0), M.T, atol=0)


@pytest.mark.parametrize("gamma_times_dmin", [1.0, 0.5, 1e-3])
def test_weighted_mcp_non_convex_raises(gamma_times_dmin):
    D = np.array([[0.5, 2.0], [1.0, 4.0]])
    gamma = gamma_times_dmin / 0.5
    with pytest.raises(ValueError, match=r"gamma \* weights > 1"):
        weighted_prox_group_mcp(np.ones((2, 2)), D, 1.0, gamma)


@pytest.mark.parametrize("gamma,exc", [(0.0, ValueError), (-1.0, ValueError), (np.inf, ValueError),
                                       (np.nan, ValueError), ("a", TypeError)])
def test_weighted_mcp_bad_gamma(gamma, exc):
    with pytest.raises(exc, match="gamma"):
        weighted_prox_group_mcp(np.ones((2, 2)), np.ones((2, 2)), 1.0, gamma)


# ----------------------------------------------------------------------------------------------
# Common behaviour of all operators

D22 = np.array([[1.0, 2.0, 0.5], [3.0, 1.0, 1.0]])
OPS = {
    "prox_l1": lambda X, c, **kw: prox_l1(X, c, **kw),
    "prox_group_l2": lambda X, c, **kw: prox_group_l2(X, c, **kw),
    "prox_l1inf": lambda X, c, **kw: prox_l1inf(X, c, **kw),
    "weighted_prox_group_l2": lambda X, c, **kw: weighted_prox_group_l2(X, np.ones(X.shape), c, **kw),
    "weighted_prox_group_mcp": lambda X, c, **kw: weighted_prox_group_mcp(X, 2 * np.ones(X.shape), c, 3.0, **kw),
}


@pytest.mark.parametrize("name", OPS)
def test_threshold_zero_returns_copy(name):
    X = np.random.default_rng(5).standard_normal((4, 3))
    P = OPS[name](X, 0.0)
    np.testing.assert_array_equal(P, X)
    assert not np.shares_memory(P, X)


@pytest.mark.parametrize("name", OPS)
@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (0, 0)])
def test_empty(name, shape):
    P = OPS[name](np.zeros(shape), 1.0)
    assert P.shape == shape and P.dtype == np.float64


@pytest.mark.parametrize("name", OPS)
def test_float32_kept_and_accurate(name):
    rng = np.random.default_rng(6)
    X = rng.standard_normal((30, 8))
    P64 = OPS[name](X.astype(np.float32).astype(np.float64), 1.0)
    P32 = OPS[name](X.astype(np.float32), 1.0)
    assert P32.dtype == np.float32
    np.testing.assert_allclose(P32, P64, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", OPS)
def test_int_input_becomes_float64(name):
    P = OPS[name](np.array([[3, -1], [0, 2]]), 1)
    assert P.dtype == np.float64


@pytest.mark.parametrize("name", OPS)
def test_read_only_non_contiguous_not_mutated(name):
    rng = np.random.default_rng(7)
    X = rng.standard_normal((20, 30))
    X.flags.writeable = False
    ref = OPS[name](X, 0.7)
    for A in (np.asfortranarray(X), X[:, ::2], X[::-1]):
        before = A.copy()
        P = OPS[name](A, 0.7)
        np.testing.assert_array_equal(A, before)
        np.testing.assert_allclose(P, OPS[name](np.ascontiguousarray(A), 0.7), rtol=0, atol=0)
    np.testing.assert_array_equal(ref, OPS[name](X.copy(), 0.7))


@pytest.mark.parametrize("name", OPS)
def test_out_and_in_place(name):
    rng = np.random.default_rng(8)
    X = rng.standard_normal((6, 5))
    expected = OPS[name](X, 0.5)
    out = np.empty_like(X)
    assert OPS[name](X, 0.5, out=out) is out
    np.testing.assert_array_equal(out, expected)
    Y = X.copy()
    OPS[name](Y, 0.5, out=Y)
    np.testing.assert_array_equal(Y, expected)
    F = np.empty_like(X, order="F")
    OPS[name](X, 0.5, out=F)
    np.testing.assert_array_equal(F, expected)
    with pytest.raises(ValueError, match="out must have shape"):
        OPS[name](X, 0.5, out=np.empty((5, 6)))
    with pytest.raises(ValueError, match="out must have dtype"):
        OPS[name](X, 0.5, out=np.empty(X.shape, dtype=np.float32))


@pytest.mark.parametrize("name", OPS)
@pytest.mark.parametrize("bad,match", [(np.nan, "NaN"), (np.inf, "inf")])
def test_non_finite_input(name, bad, match):
    X = np.ones((2, 2))
    X[1, 0] = bad
    with pytest.raises(ValueError, match=match):
        OPS[name](X, 1.0)


@pytest.mark.parametrize("name", OPS)
@pytest.mark.parametrize("c,exc", [(-1.0, ValueError), (np.nan, ValueError), (np.inf, ValueError), ("a", TypeError)])
def test_bad_threshold(name, c, exc):
    with pytest.raises(exc, match="threshold"):
        OPS[name](np.ones((2, 2)), c)


@pytest.mark.parametrize("name", [n for n in OPS if n != "prox_l1"])
def test_bad_ndim_and_axis(name):
    with pytest.raises(ValueError, match="2-D"):
        OPS[name](np.ones(3), 1.0)
    with pytest.raises(ValueError, match="axis"):
        OPS[name](np.ones((2, 2)), 1.0, axis=2)
    with pytest.raises(TypeError, match="axis"):
        OPS[name](np.ones((2, 2)), 1.0, axis=1.0)


@pytest.mark.parametrize("func", [weighted_prox_group_l2, lambda Z, D, c, **kw: weighted_prox_group_mcp(Z, D, c, 1e3, **kw)])
def test_weighted_argument_errors(func):
    Z = np.ones((2, 3))
    with pytest.raises(ValueError, match="weights must have the shape"):
        func(Z, np.ones((3, 2)), 1.0)
    with pytest.raises(ValueError, match="weights must be > 0"):
        func(Z, np.array([[1.0, 0.0, 1.0], [1.0, 1.0, 1.0]]), 1.0)
    with pytest.raises(ValueError, match="weights must be > 0"):
        func(Z, -np.ones((2, 3)), 1.0)
    with pytest.raises(ValueError, match="weights contains NaN"):
        func(Z, np.full((2, 3), np.nan), 1.0)
    with pytest.raises(ValueError, match="weights must be > 0"):  # underflows to 0 in float32
        func(Z.astype(np.float32), np.full((2, 3), 1e-60), 1.0)
    # per-group thresholds: one per row for axis=1, one per column for axis=0
    func(Z, np.ones((2, 3)), np.array([1.0, 2.0]))
    func(Z, np.ones((2, 3)), np.array([1.0, 2.0, 0.0]), axis=0)
    with pytest.raises(ValueError, match=r"threshold must be a scalar or an array of shape \(n_groups,\) = \(2,\)"):
        func(Z, np.ones((2, 3)), np.array([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="threshold must be >= 0"):
        func(Z, np.ones((2, 3)), np.array([1.0, -2.0]))
    with pytest.raises(ValueError, match="threshold must be finite"):
        func(Z, np.ones((2, 3)), np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="tol"):
        func(Z, np.ones((2, 3)), 1.0, tol=-1.0)
    with pytest.raises(ValueError, match="max_iter"):
        func(Z, np.ones((2, 3)), 1.0, max_iter=0)
    with pytest.raises(TypeError, match="max_iter"):
        func(Z, np.ones((2, 3)), 1.0, max_iter=2.5)


def test_weighted_overflow_is_reported():
    Z = np.full((1, 2), 1e200)
    with pytest.raises(ValueError, match="overflows"):
        weighted_prox_group_l2(Z, np.full((1, 2), 1e200), 1.0)


def test_weighted_float32_weights_with_float64_z_and_vice_versa():
    rng = np.random.default_rng(9)
    Z = rng.standard_normal((5, 4))
    D = rng.uniform(0.5, 2.0, Z.shape).astype(np.float32)
    X = weighted_prox_group_l2(Z, D, 0.5)
    assert X.dtype == np.float64
    np.testing.assert_allclose(X, weighted_prox_group_l2(Z, D.astype(np.float64), 0.5), rtol=0, atol=0)
    X32 = weighted_prox_group_l2(Z.astype(np.float32), D.astype(np.float64), 0.5)
    assert X32.dtype == np.float32


@pytest.mark.parametrize("name", OPS)
def test_thread_safety(name):
    rng = np.random.default_rng(10)
    X = rng.standard_normal((300, 200))
    expected = OPS[name](X, 2.0)
    results = [None] * 4

    def work(k):
        results[k] = OPS[name](X, 2.0)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for r in results:
        np.testing.assert_array_equal(r, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m", [1, 3, 5, 64, 67])
def test_weighted_prox_vector_paths_agree(dtype, m):
    """The SSE2 and AVX2 loops of the weighted prox add the same partial sums in the same order
    (identical results); the plain C loops agree to rounding."""
    from skproj._kernels import _prox

    rng = np.random.default_rng(m)
    Z = rng.standard_normal((300, m)).astype(dtype)
    D = rng.uniform(0.5, 2.0, (300, m)).astype(dtype)
    levels = list(range(_prox.simd_level() + 1))
    try:
        for fn in (lambda: weighted_prox_group_l2(Z, D, 0.3), lambda: weighted_prox_group_mcp(Z, D, 0.3, gamma=3.0)):
            res = []
            for level in levels:
                _prox._set_simd_level(level)
                res.append(fn())
            for r in res[2:]:   # every vector level: identical
                np.testing.assert_array_equal(r, res[1])
            for r in res[1:]:
                np.testing.assert_allclose(r, res[0], rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-12)
    finally:
        _prox._set_simd_level(-1)


def test_weights_overflowing_float32_are_named():
    # float64 weights that overflow float32 Z's dtype: the error names the weights (it said
    # "||weights * Z|| overflows double ...; rescale Z", which would not help)
    Z = np.ones((3, 2), dtype=np.float32)
    with pytest.raises(ValueError, match="weights has values that overflow Z's dtype float32"):
        weighted_prox_group_l2(Z, np.full((3, 2), 1e300), 1.0)


def test_boolean_threshold_array_is_refused():
    # as a boolean scalar threshold is
    Z = np.ones((3, 2))
    with pytest.raises(TypeError, match="threshold"):
        weighted_prox_group_l2(Z, np.ones((3, 2)), np.array([True, False, True]))
    with pytest.raises(TypeError, match="threshold"):
        weighted_prox_group_l2(Z, np.ones((3, 2)), True)


def test_huge_integer_scalar_is_a_value_error():
    with pytest.raises(ValueError, match="threshold must be finite"):
        weighted_prox_group_l2(np.ones((3, 2)), np.ones((3, 2)), 10**400)


@pytest.mark.parametrize("name", ["l2", "mcp"])
def test_weighted_prox_out_overlapping_the_weights(name):
    """``out`` sharing memory with ``weights`` (not with ``Z``): the kernel read weights it had
    already overwritten (an error of 0.4 on this case)."""
    rng = np.random.default_rng(9)
    op = weighted_prox_group_l2 if name == "l2" else partial(weighted_prox_group_mcp, gamma=50.0)
    Z = rng.standard_normal((3, 4))
    big = rng.uniform(0.5, 2.0, 13)
    D, O = big[:12].reshape(3, 4), big[1:].reshape(3, 4)
    expected = op(Z, D.copy(), 0.5)
    op(Z, D, 0.5, out=O)
    np.testing.assert_array_equal(O, expected)
