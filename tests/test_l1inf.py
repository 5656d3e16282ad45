"""Tests of the exact l1,inf-ball projection against an independent slow reference.

The reference below bisects on theta (the l1 mass every surviving group loses) with a full
sort of every group; the projection is also checked through the optimality conditions of a
norm-ball projection: ||P||_{1,inf} <= C (1 + 1e-12) and <X - P, P> = C ||X - P||_{inf,1}.
"""

import concurrent.futures
import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skproj import l1inf_norm, project_l1inf_ball
from skproj._kernels import _l1inf


def group_levels(Y, theta):
    """mu_g(theta) for every row of Y >= 0: sum_j max(Y_gj - mu_g, 0) = theta, or 0."""
    n, m = Y.shape
    srt = -np.sort(-Y, axis=1)
    cs = np.cumsum(srt, axis=1)
    cand = (cs - theta) / np.arange(1, m + 1)
    nxt = np.concatenate([srt[:, 1:], np.full((n, 1), -np.inf)], axis=1)
    k = np.argmax(nxt <= cand, axis=1)  # first k where the next entry is not clipped
    mu = cand[np.arange(n), k]
    mu[cs[:, -1] <= theta] = 0.0
    return np.maximum(mu, 0.0)


def l1inf_reference(X, radius):
    """Euclidean projection onto the l1,inf ball (rows = groups), by bisection on theta."""
    X = np.asarray(X, dtype=np.float64)
    Y = np.abs(X)
    if Y.size == 0 or radius == 0:
        return np.zeros_like(X)
    if Y.max(axis=1).sum() <= radius:
        return X.copy()
    lo, hi = 0.0, Y.sum(axis=1).max()
    for _ in range(2000):
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            break
        if group_levels(Y, mid).sum() > radius:
            lo = mid
        else:
            hi = mid
    mu = group_levels(Y, 0.5 * (lo + hi))
    return np.sign(X) * np.minimum(Y, mu[:, None])


def check_optimality(X, P, radius, rtol=1e-9):
    """Optimality conditions of the projection onto {||Z||_{1,inf} <= radius} (rows = groups)."""
    X = np.asarray(X, dtype=np.float64)
    P = np.asarray(P, dtype=np.float64)
    scale = max(np.abs(X).max(initial=0.0), 1e-300)
    norm_p = np.abs(P).max(axis=1, initial=0.0).sum()
    # among subnormals rounding is absolute: half a spacing per row at most
    subnormal = float(np.finfo(np.float64).smallest_subnormal)
    assert norm_p <= radius * (1 + 1e-12) + 1e-14 * scale + P.shape[0] * subnormal
    assert np.all(P * X >= 0) and np.all(np.abs(P) <= np.abs(X))
    if np.abs(X).max(axis=1).sum() > radius:
        # the condition is homogeneous: check it on X / scale so that products cannot underflow
        Xs, Ps, rs = X / scale, P / scale, radius / scale
        R = Xs - Ps
        lhs = float(np.sum(R * Ps))
        rhs = rs * np.abs(R).sum(axis=1).max()
        assert abs(lhs - rhs) <= rtol * max(rhs, X.size * 1e-6)


def assert_matches_reference(X, P, radius, rtol=1e-10):
    ref = l1inf_reference(X, radius)
    scale = max(np.abs(X).max(initial=0.0), 1e-300)
    np.testing.assert_allclose(P, ref, rtol=rtol, atol=rtol * scale)


special = st.sampled_from([0.0, 1.0, -1.0, 0.5, 2.0, 1e-12])
elements = st.one_of(st.floats(-1e3, 1e3, allow_nan=False, width=64), special)
matrices = arrays(np.float64, st.tuples(st.integers(1, 9), st.integers(1, 9)), elements=elements)
fracs = st.one_of(st.floats(1e-9, 1.2), st.sampled_from([1e-12, 1e-6, 0.5, 1.0, 1.0 - 1e-12, 3.0]))


@settings(max_examples=400, deadline=None)
@given(X=matrices, frac=fracs, exponent=st.sampled_from([0, -150, -30, 30, 150]), axis=st.sampled_from([0, 1]))
def test_matches_reference_and_optimality(X, frac, exponent, axis):
    X = X * 10.0**exponent
    norm = l1inf_norm(X, axis=axis)
    radius = frac * norm if norm > 0 else frac
    P = project_l1inf_ball(X, radius, axis=axis)
    Xg, Pg = (X, P) if axis == 1 else (X.T, P.T)
    assert_matches_reference(Xg, Pg, radius)
    check_optimality(Xg, Pg, radius)


@settings(max_examples=150, deadline=None)
@given(X=arrays(np.float32, st.tuples(st.integers(1, 8), st.integers(1, 8)),
                elements=st.floats(-100, 100, width=32)), frac=st.floats(1e-6, 1.2))
def test_float32(X, frac):
    norm = l1inf_norm(X)
    radius = frac * norm if norm > 0 else frac
    P = project_l1inf_ball(X, radius)
    assert P.dtype == np.float32
    ref = l1inf_reference(X.astype(np.float64), radius)
    np.testing.assert_allclose(P, ref, rtol=1e-5, atol=1e-5 * max(np.abs(X).max(), 1e-30))
    assert l1inf_norm(P) <= radius * (1 + 1e-5) + 1e-30


# rows of at most 32 KB are solved on the row itself, longer ones (here (8, 5000)) through the
# candidate windows of the subsample model: both paths; from 1024 groups on ((2000, 20), (1027, 33))
# the model's Newton starts from the root of a subsample of its groups (1027: a partial last block)
@pytest.mark.parametrize(
    "shape", [(200, 300), (2000, 20), (1027, 33), (20, 2000), (1, 500), (500, 1), (8, 5000)]
)
@pytest.mark.parametrize("frac", [1e-4, 1e-2, 0.1, 0.5, 0.999])
@pytest.mark.parametrize("dist", ["uniform", "gauss", "ties"])
def test_larger_random(shape, frac, dist):
    rng = np.random.default_rng(hash((shape, frac, dist)) % 2**32)
    if dist == "uniform":
        X = rng.uniform(-1, 1, shape)
    elif dist == "gauss":
        X = rng.standard_normal(shape) * rng.uniform(0.1, 3, (shape[0], 1))
    else:
        X = rng.integers(-3, 4, shape).astype(float)
    radius = frac * l1inf_norm(X)
    P = project_l1inf_ball(X, radius)
    assert_matches_reference(X, P, radius, rtol=1e-12)
    check_optimality(X, P, radius, rtol=1e-10)
    np.testing.assert_allclose(l1inf_norm(P), radius, rtol=1e-12)
    # the reference kernel (Newton from 0 with full passes) agrees too
    Q = np.empty_like(X)
    _l1inf.l1inf_ball(np.ascontiguousarray(X), Q, radius, reference=True)
    np.testing.assert_allclose(P, Q, rtol=1e-12, atol=1e-12 * np.abs(X).max())


def test_example_and_zeroed_groups():
    X = np.array([[3.0, -1.0], [0.5, 0.2]])
    np.testing.assert_allclose(project_l1inf_ball(X, 2.0), [[2.0, -1.0], [0.0, 0.0]])
    # columns as groups: column maxima 3 and 1
    P = project_l1inf_ball(X, 2.0, axis=0)
    np.testing.assert_allclose(np.abs(P).max(axis=0).sum(), 2.0)
    assert_matches_reference(X.T, P.T, 2.0)


@settings(max_examples=100, deadline=None)
@given(X=matrices, frac=st.floats(1e-6, 1.2), seed=st.integers(0, 2**32 - 1), scale=st.floats(1e-3, 1e3))
def test_invariances(X, frac, seed, scale):
    rng = np.random.default_rng(seed)
    norm = l1inf_norm(X)
    radius = frac * norm if norm > 0 else frac
    P = project_l1inf_ball(X, radius)
    tol = dict(rtol=1e-10, atol=1e-10 * max(np.abs(X).max(), 1e-300))
    signs = rng.choice([-1.0, 1.0], X.shape)
    np.testing.assert_array_equal(project_l1inf_ball(signs * X, radius), signs * P)
    rows, cols = rng.permutation(X.shape[0]), rng.permutation(X.shape[1])
    np.testing.assert_allclose(project_l1inf_ball(X[rows][:, cols], radius), P[rows][:, cols], **tol)
    np.testing.assert_allclose(project_l1inf_ball(scale * X, scale * radius), scale * P,
                               rtol=1e-10, atol=1e-10 * scale * max(np.abs(X).max(), 1e-300))
    np.testing.assert_allclose(project_l1inf_ball(X.T, radius, axis=0), P.T, **tol)


def test_inside_ball_returns_copy():
    X = np.array([[0.1, -0.2], [0.3, 0.0]])
    P = project_l1inf_ball(X, 1.0)
    np.testing.assert_array_equal(P, X)
    assert not np.shares_memory(P, X)
    np.testing.assert_array_equal(project_l1inf_ball(X, l1inf_norm(X)), X)


def test_radius_zero_and_empty():
    X = np.ones((3, 4))
    np.testing.assert_array_equal(project_l1inf_ball(X, 0.0), np.zeros((3, 4)))
    for shape in [(0, 3), (3, 0), (0, 0)]:
        P = project_l1inf_ball(np.zeros(shape), 1.0)
        assert P.shape == shape
        assert l1inf_norm(np.zeros(shape)) == 0.0


def test_tiny_radius_keeps_largest_group():
    X = np.array([[1.0, 1.0, 1.0], [2.0, 0.0, 0.0], [0.1, 0.1, 0.1]])
    P = project_l1inf_ball(X, 1e-9)
    # theta is just below the largest l1 norm (3): only row 0 survives, flattened at 1e-9
    np.testing.assert_allclose(P[0], 1e-9, rtol=1e-6)
    assert np.all(P[1:] == 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layouts_readonly_no_mutation_and_out(dtype):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 30)).astype(dtype)
    radius = 0.2 * l1inf_norm(X)
    expected = project_l1inf_ball(X, radius)
    assert expected.dtype == dtype
    X_copy = X.copy()
    F = np.asfortranarray(X)
    np.testing.assert_array_equal(project_l1inf_ball(F, radius), expected)
    ro = X.copy()
    ro.flags.writeable = False
    np.testing.assert_array_equal(project_l1inf_ball(ro, radius), expected)
    big = np.zeros((80, 60), dtype=dtype)
    big[::2, ::2] = X
    np.testing.assert_array_equal(project_l1inf_ball(big[::2, ::2], radius), expected)
    np.testing.assert_array_equal(X, X_copy)
    out = np.empty_like(X)
    assert project_l1inf_ball(X, radius, out=out) is out
    np.testing.assert_array_equal(out, expected)
    outF = np.empty_like(X, order="F")
    assert project_l1inf_ball(X, radius, out=outF) is outF
    np.testing.assert_array_equal(outF, expected)
    inplace = X.copy()
    project_l1inf_ball(inplace, radius, out=inplace)
    np.testing.assert_array_equal(inplace, expected)
    # axis=0 on the transposed view
    np.testing.assert_array_equal(project_l1inf_ball(X.T, radius, axis=0), expected.T)
    np.testing.assert_array_equal(project_l1inf_ball(X.T, radius, axis=-2), expected.T)


def test_int_input_becomes_float64():
    P = project_l1inf_ball(np.array([[3, -1], [1, 1]]), 2)
    assert P.dtype == np.float64
    assert_matches_reference(np.array([[3.0, -1.0], [1.0, 1.0]]), P, 2.0)


def test_errors():
    X = np.ones((2, 2))
    with pytest.raises(ValueError, match="radius must be >= 0"):
        project_l1inf_ball(X, -1.0)
    with pytest.raises(ValueError, match="radius must be finite"):
        project_l1inf_ball(X, np.inf)
    with pytest.raises(TypeError, match="radius must be a real number"):
        project_l1inf_ball(X, "1")
    with pytest.raises(ValueError, match="X must be a 2-D array"):
        project_l1inf_ball(np.ones(3), 1.0)
    with pytest.raises(ValueError, match="X contains NaN"):
        project_l1inf_ball(np.array([[np.nan, 1.0]]), 1.0)
    with pytest.raises(ValueError, match="X contains inf"):
        project_l1inf_ball(np.array([[np.inf, 1.0]]), 1.0)
    with pytest.raises(TypeError, match="X must be a real numeric array"):
        project_l1inf_ball(np.array([["a"]]), 1.0)
    with pytest.raises(ValueError, match="axis must be in"):
        project_l1inf_ball(X, 1.0, axis=2)
    with pytest.raises(TypeError, match="axis must be an integer"):
        project_l1inf_ball(X, 1.0, axis=1.0)
    with pytest.raises(ValueError, match="out must have shape"):
        project_l1inf_ball(X, 1.0, out=np.empty((3, 2)))
    with pytest.raises(ValueError, match="out must have dtype"):
        project_l1inf_ball(X, 1.0, out=np.empty((2, 2), dtype=np.float32))
    with pytest.raises(ValueError, match="axis must be in"):
        l1inf_norm(X, axis=-3)


def test_norm_matches_numpy():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((7, 5)).astype(np.float32)
    np.testing.assert_allclose(l1inf_norm(X), np.abs(X.astype(float)).max(axis=1).sum(), rtol=1e-12)
    np.testing.assert_allclose(l1inf_norm(X, axis=0), np.abs(X.astype(float)).max(axis=0).sum(), rtol=1e-12)


def test_thread_safety():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((1500, 400))
    radii = [f * l1inf_norm(X) for f in (1e-3, 0.05, 0.3, 0.7)]
    serial = [project_l1inf_ball(X, r) for r in radii]
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda r: project_l1inf_ball(X, r), radii * 2))
    for i, res in enumerate(results):
        np.testing.assert_array_equal(res, serial[i % 4])


def assert_fast_matches_newton_from_zero(X, tol):
    """The fast kernel against the plain Newton iteration from theta = 0 (the reference kernel),
    in X's dtype, at several radius fractions; the result is in the ball to tol."""
    for frac in (1e-4, 1e-2, 0.3, 0.9, 0.999):
        radius = frac * l1inf_norm(X)
        if radius == 0:
            continue
        P, Q = np.empty_like(X), np.empty_like(X)
        _l1inf.l1inf_ball(X, P, radius)
        _l1inf.l1inf_ball(X, Q, radius, reference=True)
        np.testing.assert_allclose(P, Q, rtol=tol, atol=tol * np.abs(X).max())
        assert l1inf_norm(P) <= radius * (1 + tol)


def test_fast_kernel_agrees_with_newton_from_zero_on_many_shapes():
    # Exercises every path of the fast kernel (estimate too low or too high, windows that
    # must be recollected, groups reviving below the first upper bound) against the plain
    # Newton iteration from theta = 0, which has none of them.
    rng = np.random.default_rng(7)
    for t in range(150):
        n, m = rng.integers(1, 200), rng.integers(1, 60)
        if t % 3 == 0:
            X = rng.standard_normal((n, m)) * rng.uniform(0.1, 3, (n, 1))
        else:
            X = rng.uniform(-1, 1, (n, m))
        if t % 5 == 0:
            X = np.round(3 * X)
        assert_fast_matches_newton_from_zero(X, tol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fast_kernel_agrees_with_newton_from_zero_on_long_rows(dtype):
    # rows longer than 32 KB (the candidate windows of the subsample model), against the plain
    # Newton iteration from theta = 0; float32 in both kernels (the same rounding of the output)
    rng = np.random.default_rng(8)
    for t in range(12):
        n, m = rng.integers(1, 12), rng.integers(8193, 11000)
        X = rng.standard_normal((n, m)) * rng.uniform(0.1, 3, (n, 1))
        if t % 3 == 0:
            X = np.round(3 * X)
        assert_fast_matches_newton_from_zero(X.astype(dtype), tol=1e-5 if dtype == np.float32 else 1e-12)


@given(
    pattern=arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(1, 48)),
                   elements=st.sampled_from([0.0, 0.25, 1.0, 1.5, 2.0, 7.0]) | st.floats(-50, 50)),
    frac=st.floats(1e-5, 0.999),
    seed=st.integers(0, 2**16),
    dtype=st.sampled_from([np.float32, np.float64]),
    noise=st.sampled_from([0.0, 1e-3, 1.0]),
)
@settings(max_examples=60, deadline=None)
def test_long_rows_ties_all_vector_levels(pattern, frac, seed, dtype, noise):
    """Rows longer than 32 KB (candidate windows, their vectorised partition and sweeps): rows
    built from a few values, shuffled and scaled, tied or with noise added; at every vector level
    the result is the reference kernel's (Newton from theta = 0) and satisfies the optimality
    conditions, and SSE2, AVX2 and AVX-512 (where the CPU has them) agree exactly."""
    m = 8193 if dtype == np.float32 else 4097
    rng = np.random.default_rng(seed)
    reps = -(-m // pattern.shape[1])
    X = np.tile(pattern, (1, reps))[:, :m]
    X = rng.permuted(X, axis=1) * rng.uniform(0.5, 2.0, (X.shape[0], 1))
    X = (X + noise * rng.standard_normal(X.shape)).astype(dtype)
    radius = frac * l1inf_norm(X)
    if not radius > 0:
        return
    Q = np.empty_like(X)
    _l1inf.l1inf_ball(X, Q, radius, reference=True)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    res = []
    try:
        for level in range(_l1inf._set_simd_level(-1) + 1):
            assert _l1inf._set_simd_level(level) == level
            P = np.empty_like(X)
            _l1inf.l1inf_ball(X, P, radius)
            np.testing.assert_allclose(P, Q, rtol=tol, atol=tol * np.abs(X).max())
            # in the ball and optimal up to the rounding of the levels (an absolute eps max|x|
            # per group: e.g. 4097 entries of 9 at radius 9e-5 give a norm 5e-12 above it, as
            # the reference does)
            check_optimality_rounded(X.astype(np.float64), P, radius, dtype)
            res.append(P)
    finally:
        _l1inf._set_simd_level(-1)
    for v in res[2:]:   # SSE2, AVX2 and AVX-512 (where the CPU has them): identical
        np.testing.assert_array_equal(v, res[1])


# --- subnormal entries -------------------------------------------------------------------
# The fast kernel models every group by its maximum plus a strided subsample weighted by
# (l1 - max) / (sample sum); with subnormal (or relatively negligible) sampled entries that
# weight overflowed to inf, the model's levels became NaN and the result was wrong, even
# outside the ball. These tests check the optimality conditions on such inputs.


def check_optimality_rounded(X, P, radius, dtype):
    """Optimality conditions, allowing for the rounding of the output to dtype.

    Every output entry is the exact clipped value rounded to dtype: an error of at most
    d = eps |X| + smallest_subnormal per entry (an absolute spacing, not a relative one, among
    subnormals). The norm then exceeds the radius by at most sum_g d_g, and <X - P, P> and
    radius ||X - P||_{inf,1} move by at most sum (|X| + |R|) d and radius max_g sum_j d.
    """
    info = np.finfo(dtype)
    rtol = 1e-9 if dtype == np.float64 else 1e-5
    X = np.asarray(X, dtype=np.float64)
    P = np.asarray(P, dtype=np.float64)
    d = float(info.eps) * np.abs(X) + float(info.smallest_subnormal)
    scale = max(np.abs(X).max(initial=0.0), 1e-300)
    norm_tol = d.max(axis=1, initial=0.0).sum()
    assert np.abs(P).max(axis=1, initial=0.0).sum() <= radius * (1 + rtol) + norm_tol
    assert np.all(P * X >= 0) and np.all(np.abs(P) <= np.abs(X))
    if np.abs(X).max(axis=1).sum() > radius:
        Xs, Ps, rs, ds = X / scale, P / scale, radius / scale, d / scale
        R = Xs - Ps
        lhs = float(np.sum(R * Ps))
        rhs = rs * np.abs(R).sum(axis=1).max()
        tol = rtol * max(rhs, X.size * 1e-6) + 2 * (np.sum((np.abs(Xs) + np.abs(R)) * ds)
                                                    + rs * ds.sum(axis=1).max())
        assert abs(lhs - rhs) <= tol


def _check_case(X, radius, axis, dtype):
    X = np.asarray(X, dtype=dtype)
    Xa = X if axis == 1 else np.ascontiguousarray(X.T)
    P = project_l1inf_ball(Xa, radius, axis=axis)
    assert P.dtype == dtype
    Pg = P if axis == 1 else P.T
    check_optimality_rounded(X, Pg, radius, dtype)
    ref = l1inf_reference(X.astype(np.float64), radius)
    rtol = 1e-10 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(Pg, ref, rtol=rtol,
                               atol=rtol * np.abs(X).max() + 2 * np.finfo(dtype).smallest_subnormal)
    return Pg


@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("dtype, tiny", [(np.float64, 1e-309), (np.float64, 2.2250738e-309),
                                         (np.float64, 5e-324), (np.float32, 1e-40),
                                         (np.float32, 1e-45)])
def test_subnormal_entries_regression(axis, dtype, tiny):
    # theta* = 0.625 for both rows: levels 1.375 and 2.375 (was 1.25 and 2.5)
    P = _check_case([[tiny, 1.0, 2.0], [3.0, 0.0, 0.0]], 3.75, axis, dtype)
    np.testing.assert_allclose(P[0, 1:], [1.0, 1.375], rtol=1e-6)
    np.testing.assert_allclose(P[1], [2.375, 0.0, 0.0], rtol=1e-6)
    # was infeasible (norm 5.625 > 5.25); theta* = 7 / 6
    P = _check_case([[6.0, 0.0, 0.0], [tiny, 1.0, 1.0]], 5.25, axis, dtype)
    np.testing.assert_allclose(P[0, 0], 6.0 - 7.0 / 6.0, rtol=1e-6)
    np.testing.assert_allclose(P[1, 1:], [2.5 / 6.0, 2.5 / 6.0], rtol=1e-6)


@pytest.mark.parametrize("dtype, tiny", [(np.float64, 3e-310), (np.float64, 1e-300),
                                         (np.float32, 1e-40)])
@pytest.mark.parametrize("frac", [1e-4, 1e-2, 0.3, 0.9])
def test_subnormal_sampled_columns(dtype, tiny, frac):
    # every row of the first half has negligible entries at the kernel's sampled columns
    # (q = min(32, m // 8) strided columns), so that its model is the fallback one
    rng = np.random.default_rng(11)
    n, m = 200, 300
    q = min(32, m // 8)
    cols = (np.arange(q) * m) // q
    X = rng.uniform(-1, 1, (n, m)) * (1e10 if tiny == 1e-300 else 1.0)
    X[: n // 2, cols] = tiny * rng.choice([-1.0, 1.0], (n // 2, q))
    X = X.astype(dtype)
    radius = frac * l1inf_norm(X)
    for axis in (0, 1):
        _check_case(X, radius, axis, dtype)


def _with_subnormals(width):
    info = np.finfo(np.float32 if width == 32 else np.float64)
    tiny, smallest = float(info.smallest_normal), float(info.smallest_subnormal)
    sub = st.floats(smallest, tiny, width=width, allow_subnormal=True, exclude_max=True)
    signed_sub = st.builds(lambda s, v: s * v, st.sampled_from([-1.0, 1.0]), sub)
    return st.one_of(st.floats(-1e3, 1e3, allow_nan=False, width=width), signed_sub,
                     st.sampled_from([0.0, 1.0, -2.0]))


@settings(max_examples=300, deadline=None)
@given(X=arrays(np.float64, st.tuples(st.integers(1, 9), st.integers(1, 40)),
                elements=_with_subnormals(64)),
       frac=fracs, axis=st.sampled_from([0, 1]))
def test_subnormal_mix_float64(X, frac, axis):
    norm = l1inf_norm(X)
    radius = frac * norm if norm > 0 else frac
    if radius <= 0 or not np.isfinite(radius):
        return
    _check_case(X, radius, axis, np.float64)
    Q = np.empty_like(X)
    _l1inf.l1inf_ball(X, Q, radius, reference=True)
    P = project_l1inf_ball(X, radius)
    np.testing.assert_allclose(P, Q, rtol=1e-10, atol=1e-12 * np.abs(X).max())


@settings(max_examples=200, deadline=None)
@given(X=arrays(np.float32, st.tuples(st.integers(1, 9), st.integers(1, 40)),
                elements=_with_subnormals(32)),
       frac=st.floats(1e-6, 1.2), axis=st.sampled_from([0, 1]))
def test_subnormal_mix_float32(X, frac, axis):
    norm = l1inf_norm(X)
    radius = frac * norm if norm > 0 else frac
    if radius <= 0:
        return
    _check_case(X, radius, axis, np.float32)


@given(
    arrays(np.float64, st.tuples(st.integers(1, 11), st.integers(1, 32)),
           elements=st.sampled_from([0.0, 0.5, 1.0, 2.0, 1e-300, 3e300]) | st.floats(0, 1e300))
)
@settings(max_examples=200, deadline=None)
def test_model_sorting_network(Z):
    """The subsample model sorts its samples by a sorting network on 4 interleaved groups at a
    time: every row comes out as np.sort's decreasing order, for every sample count (1 to 32),
    any number of rows (the last block of 4 padded), ties included, at every vector level."""
    expected = -np.sort(-Z, axis=1)
    try:
        for level in range(_l1inf._set_simd_level(-1) + 1):
            assert _l1inf._set_simd_level(level) == level
            out = np.full_like(Z, np.nan)
            _l1inf._network_sort(Z, out)
            np.testing.assert_array_equal(out, expected)
    finally:
        _l1inf._set_simd_level(-1)


@settings(max_examples=200, deadline=None)
@given(
    seg=arrays(
        np.float64,
        st.integers(1, 80),
        elements=st.sampled_from([0.0, 2.0**-53, 2.0**-30, 0.25, 0.5, 1.0, 3.0, 1e10]),
    ),
    t=st.sampled_from([0.0, 2.0**-40, 0.3, 1.0]),
)
@example(seg=np.array([2.0**-53, 1.0] + [0.0] * 14 + [2.0**-53]), t=0.0)
def test_partition_sum_same_on_vector_paths(seg, t):
    """The candidates' partition (long rows) sums the kept entries as the sweeps do, entry i to
    partial sum i mod 16, the last n mod 16 entries included, on both vector paths: SSE2 takes
    its sum from the sweep, AVX2 computes its own; the two must be identical (a serial tail on
    one path only gave 1.0 against 1.0000000000000002 for [2**-53, 1, 0 * 14, 2**-53])."""
    levels = list(range(1, _l1inf._set_simd_level(-1) + 1))
    try:
        res = []
        for level in levels:
            _l1inf._set_simd_level(level)
            work = seg.copy()
            k, s, rmax = _l1inf._partition(work, t)
            res.append((k, s, rmax, work))
            keep = seg[seg > t]
            assert k == keep.size
            np.testing.assert_array_equal(work, np.concatenate([keep, seg[seg <= t]]))
            np.testing.assert_allclose(s, keep.sum(), rtol=1e-15)
            assert rmax == (seg[seg <= t].max() if k < seg.size else 0.0)
        for k, s, rmax, work in res[1:]:
            assert (k, s, rmax) == res[0][:3]
    finally:
        _l1inf._set_simd_level(-1)


_GT_VALUES = [0.0, -0.0, 1e-45, 5e-324, 2.0**-30, 0.25, -0.25, 0.5, 1.0, -1.0, 3.0, 1e10, np.inf]


@settings(max_examples=300, deadline=None)
@given(
    dtype=st.sampled_from([np.float32, np.float64]),
    values=st.lists(st.sampled_from(_GT_VALUES), min_size=0, max_size=80),
    t=st.sampled_from([-1.0, 0.0, 1e-45, 5e-324, 0.25, 1.0, 3.0, np.inf]),
)
def test_row_sweep_every_vector_level(dtype, values, t):
    """One row sweep (count, sum, smallest of the entries above t, largest of the others) against
    numpy at every vector level, every row length 0-80 (the last partial block of 16, and of 2 x 8
    doubles), with ties at t, signed zeros, denormals and infinities; the vector levels (SSE2,
    AVX2, AVX-512) give identical results."""
    x = np.array(values, dtype=dtype)
    a = np.abs(x).astype(np.float64)
    tt = float(np.float32(t)) if dtype == np.float32 else t
    above = a[a > tt]
    try:
        res = []
        for level in range(_l1inf._set_simd_level(-1) + 1):
            assert _l1inf._set_simd_level(level) == level
            k, s, kmin, rmax = _l1inf._gtstat(x, t)
            assert k == above.size
            assert kmin == (above.min() if above.size else np.inf)
            assert rmax == (a[a <= tt].max() if above.size < a.size else 0.0)
            expected = math.fsum(above)
            assert s == expected or abs(s - expected) <= 1e-14 * expected
            res.append((k, s, kmin, rmax))
        for r in res[2:]:   # every vector level: identical
            assert r == res[1]
    finally:
        _l1inf._set_simd_level(-1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(300, 1000), (2000, 64), (500, 77), (20, 9000)])
def test_vector_paths_agree(dtype, shape):
    """The per-group passes (_simd.h, _simd_gt.h) at every vector level the CPU has: SSE2, AVX2
    and AVX-512 (the row sweeps) add the same partial sums in the same order (identical results),
    the plain C loops agree to rounding, and every level satisfies the optimality conditions
    (m = 77: a partial last block of 16)."""
    rng = np.random.default_rng(11)
    X = (rng.standard_normal(shape) * rng.uniform(0.1, 3, (shape[0], 1))).astype(dtype)
    X64 = X.astype(np.float64)
    levels = list(range(_l1inf._set_simd_level(-1) + 1))
    tol = 1e-6 if dtype == np.float32 else 1e-12
    try:
        for frac in (1e-4, 1e-2, 0.3, 0.9):
            radius = frac * l1inf_norm(X64)
            res = []
            for level in levels:
                assert _l1inf._set_simd_level(level) == level
                res.append(project_l1inf_ball(X, radius))
                check_optimality_rounded(X64, res[-1], radius, dtype)
            for r in res[2:]:   # every vector level: identical
                np.testing.assert_array_equal(r, res[1])
            for r in res[1:]:
                np.testing.assert_allclose(r, res[0], rtol=0, atol=tol * np.abs(X64).max())
    finally:
        _l1inf._set_simd_level(-1)


@settings(max_examples=300, deadline=None)
@given(
    X=arrays(np.float64, st.tuples(st.integers(1, 12), st.integers(1, 12)), elements=st.floats(-10, 10)),
    log_frac=st.floats(-15, -3),
    reference=st.booleans(),
)
def test_tiny_radius_stays_in_the_ball(X, log_frac, reference):
    # radius << norm: theta is close to the clipped sums and (S - theta) / k keeps only the
    # bits of theta's spacing (levels 1e-8 too large at radius / norm = 1e-9, reviewer's case
    # [[0.02, 0.9, -0.71], [0.9, -0.38, -0.15]] at 1e-9); the levels are scaled into the ball
    norm = l1inf_norm(X)
    if norm == 0:
        return
    radius = 10.0**log_frac * norm
    if reference:
        P = np.empty_like(X)
        _l1inf.l1inf_ball(X, P, radius, True)
    else:
        P = project_l1inf_ball(X, radius)
    # among subnormals rounding is absolute: half a spacing per row at most
    slack = X.shape[0] * float(np.finfo(np.float64).smallest_subnormal)
    assert l1inf_norm(P) <= radius * (1 + 1e-12) + slack
    # and on the boundary: the levels were only scaled down, so that they fell short of the
    # radius by up to 2e-5 at radius / norm = 1e-12 ([[1, 1]]: 9.99978e-13 at 1e-12); they are
    # scaled up by at most 1e-3 (further below, the rounding of the clipped sums decides)
    if log_frac >= -12:
        assert l1inf_norm(P) >= radius * (1 - 1e-12) - slack
    check_optimality(X, P, radius)


@pytest.mark.parametrize("radius", [1e-9, 1e-12, 1e-15])
def test_tiny_radius_one_group_is_the_clip(radius):
    X = np.array([[1.0, -1.0, 0.5, 3.0]])
    np.testing.assert_allclose(project_l1inf_ball(X, radius), np.clip(X, -radius, radius), rtol=1e-15)


def test_radius_below_the_rounding_of_the_norms_is_within_the_radius():
    # documented: theta may then equal the group's norm, and the result be 0
    X = np.array([[1.0, -1.0, 0.5, 3.0]])
    for radius in (1e-17, 1e-300):
        assert np.abs(project_l1inf_ball(X, radius) - np.clip(X, -radius, radius)).max() <= radius


@settings(max_examples=300, deadline=None)
@given(X=arrays(np.float64, st.tuples(st.integers(1, 200), st.integers(1, 5)), elements=st.floats(-10, 10)))
def test_radius_equal_to_the_norm_returns_x(X):
    # l1inf_norm adds the row maxima in the order of the projection's first pass, so a matrix
    # at its own norm is found inside the ball (45 of 600 random cases moved by 1 ulp before)
    np.testing.assert_array_equal(project_l1inf_ball(X, l1inf_norm(X)), X)


def test_level_below_float32_resolution_gives_zeros_of_the_entries_sign():
    """A positive level that rounds to 0 in float32 (here 7e-46, half the smallest subnormal)
    clips every entry to a zero of its own sign: sign(x) min(|x|, mu) rounded (the clamp's
    max(min(x, 0), -0) gave -0.0 for positive entries)."""
    X = np.full((2, 4), 1e-45, dtype=np.float32)
    X[:, 1::2] *= -1
    P = project_l1inf_ball(X, 1.4e-45)
    assert np.all(P == 0)
    np.testing.assert_array_equal(np.signbit(P), np.signbit(X))
