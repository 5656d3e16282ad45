"""Tests of the l1-ball, simplex, l1,1 and l1,2 projections against independent references."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skproj import l12_norm, project_l1_ball, project_l11_ball, project_l12_ball, project_simplex


def simplex_sort_reference(y, radius):
    """Sort-based simplex projection (Held, Wolfe, Crowder 1974; Duchi et al. 2008)."""
    if radius == 0:  # e.g. half of the smallest subnormal rounds to 0
        return np.zeros_like(y)
    u = np.sort(y)[::-1]
    css = np.cumsum(u) - radius
    k = np.arange(1, len(u) + 1)
    rho = np.nonzero(u - css / k > 0)[0][-1]
    tau = css[rho] / (rho + 1)
    return np.maximum(y - tau, 0)


def l1_reference(x, radius):
    if np.abs(x).sum() <= radius:
        return x.copy()
    flat = x.ravel()
    return (np.sign(flat) * simplex_sort_reference(np.abs(flat), radius)).reshape(x.shape)


finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=64)
SUBNORMAL = float(np.finfo(np.float64).smallest_subnormal)
vectors = arrays(np.float64, st.integers(1, 60), elements=st.one_of(finite, st.sampled_from([0.0, 1.0, -1.0, 1e-12])))


@settings(max_examples=300, deadline=None)
@given(x=vectors, frac=st.one_of(st.floats(1e-9, 1.5), st.sampled_from([1e-12, 0.5, 1.0, 2.0]),
                                 st.floats(-15, -3).map(lambda e: 10.0**e)))
def test_l1_ball_matches_sort_reference_and_optimality(x, frac):
    norm = np.abs(x).sum()
    radius = frac * norm if norm > 0 else frac
    p = project_l1_ball(x, radius)
    ref = l1_reference(x, radius)
    scale = max(np.abs(x).max(), 1e-300)
    np.testing.assert_allclose(p, ref, rtol=1e-9, atol=1e-9 * scale)
    # in the ball to rounding, whatever the radius (no slack relative to the entries: at radius /
    # norm = 1e-6 short vectors came out 1e-10 too large, at 1e-15 by 9%, before the outputs were
    # rescaled). Among subnormals rounding is absolute: radius / 2 need not be representable, so
    # each entry may carry half a spacing (smallest_subnormal)
    assert np.abs(p).sum() <= radius * (1 + 1e-12) + p.size * SUBNORMAL
    if norm > radius:
        # <x - p, p> = radius * ||x - p||_inf (dual norm of l1)
        r, pn = (x - p) / scale, p / scale
        lhs, rhs = r @ pn, radius / scale * np.abs(r).max()
        assert abs(lhs - rhs) <= 1e-9 * max(abs(rhs), 1e-3)
    # signs are preserved, magnitudes never grow
    assert np.all(p * x >= 0)
    assert np.all(np.abs(p) <= np.abs(x) + 1e-12 * scale)


@settings(max_examples=200, deadline=None)
@given(x=vectors, radius=st.floats(1e-6, 1e3))
def test_simplex_matches_sort_reference(x, radius):
    p = project_simplex(x, radius)
    np.testing.assert_allclose(p, simplex_sort_reference(x, radius), rtol=1e-9, atol=1e-9 * max(1, np.abs(x).max()))
    assert np.all(p >= 0)
    np.testing.assert_allclose(p.sum(), radius, rtol=1e-9, atol=1e-9 * max(1, np.abs(x).max()))


def test_inside_ball_is_unchanged_copy():
    x = np.array([0.1, -0.2, 0.3])
    p = project_l1_ball(x, 1.0)
    np.testing.assert_array_equal(p, x)
    assert p is not x and not np.shares_memory(p, x)


def test_simplex_moves_points_inside_l1_ball():
    p = project_simplex(np.array([0.1, 0.2]), 1.0)
    np.testing.assert_allclose(p, [0.45, 0.55])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_kept_and_large_vector(dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(200_001).astype(dtype)
    radius = 0.01 * np.abs(x.astype(np.float64)).sum()
    p = project_l1_ball(x, radius)
    assert p.dtype == dtype
    ref = l1_reference(x.astype(np.float64), radius)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(p, ref, rtol=tol, atol=tol * np.abs(x).max())


def test_int_and_bool_become_float64_and_any_shape():
    p = project_l1_ball(np.array([[3, -1], [0, 2]]), 2)
    assert p.dtype == np.float64 and p.shape == (2, 2)
    np.testing.assert_allclose(p, [[1.5, 0.0], [0.0, 0.5]])


@pytest.mark.parametrize("dtype", [">f4", ">f8", "<f4", "<f8"])
def test_float_dtype_kept_in_either_byte_order(dtype):
    x = np.array([3.0, -1.0, 0.5], dtype=dtype)
    p = project_l1_ball(x, 2.0)
    assert p.dtype == np.dtype(dtype).newbyteorder("=")
    np.testing.assert_array_equal(p, project_l1_ball(x.astype(p.dtype), 2.0))
    np.testing.assert_allclose(p, [2.0, 0.0, 0.0])


def test_radius_zero_and_empty():
    np.testing.assert_array_equal(project_l1_ball(np.ones(4), 0.0), np.zeros(4))
    assert project_l1_ball(np.array([]), 1.0).shape == (0,)
    assert project_l12_ball(np.zeros((0, 3)), 1.0).shape == (0, 3)


@pytest.mark.parametrize("bad,match", [(np.nan, "NaN"), (np.inf, "inf")])
def test_non_finite_input_rejected(bad, match):
    with pytest.raises(ValueError, match=match):
        project_l1_ball(np.array([1.0, bad]), 1.0)


@pytest.mark.parametrize("radius,exc", [(-1.0, ValueError), (np.nan, ValueError), (np.inf, ValueError), ("a", TypeError)])
def test_bad_radius_rejected(radius, exc):
    with pytest.raises(exc, match="radius"):
        project_l1_ball(np.ones(3), radius)


def test_non_numeric_rejected():
    with pytest.raises(TypeError, match="x must be a real numeric"):
        project_l1_ball(np.array(["a", "b"]), 1.0)
    with pytest.raises(TypeError, match="x must be a real numeric"):
        project_l1_ball(np.array([1 + 1j]), 1.0)


def test_out_argument_and_in_place():
    x = np.array([3.0, -1.0, 0.5])
    out = np.empty(3)
    res = project_l1_ball(x, 2.0, out=out)
    assert res is out
    np.testing.assert_allclose(out, [2.0, 0.0, 0.0])
    y = x.copy()
    project_l1_ball(y, 2.0, out=y)
    np.testing.assert_allclose(y, [2.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="out must have shape"):
        project_l1_ball(x, 2.0, out=np.empty(4))
    with pytest.raises(ValueError, match="out must have dtype"):
        project_l1_ball(x, 2.0, out=np.empty(3, dtype=np.float32))


@pytest.mark.parametrize("op", [project_l1_ball, project_simplex])
@pytest.mark.parametrize("frac", [1e-4, 0.1, 0.5, 0.999])
def test_large_float64_out_variants_identical(op, frac):
    """Long float64 vectors work in their output buffer (the threshold's sample and window
    entries are stored there before the output is written): a given output holding NaN, the
    input itself (out=x) and a strided output give the same bits as a fresh output."""
    rng = np.random.default_rng(3)
    x = rng.standard_cauchy(20000)
    radius = frac * np.abs(x).sum()
    expected = op(x, radius)
    out = np.full_like(x, np.nan)
    assert op(x, radius, out=out) is out
    np.testing.assert_array_equal(out, expected)
    y = x.copy()
    op(y, radius, out=y)
    np.testing.assert_array_equal(y, expected)
    strided = np.full(2 * x.size, np.nan)[::2]
    op(x, radius, out=strided)
    np.testing.assert_array_equal(strided, expected)
    np.testing.assert_allclose(np.abs(expected).sum() if op is project_l1_ball
                               else expected.sum(), radius, rtol=1e-12)


def test_read_only_and_non_contiguous_not_mutated():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((20, 30))
    X.flags.writeable = False
    Xf = np.asfortranarray(X)
    Xs = X[:, ::2]
    for A in (X, Xf, Xs):
        before = A.copy()
        p = project_l11_ball(A, 3.0)
        np.testing.assert_array_equal(A, before)
        np.testing.assert_allclose(p, l1_reference(np.asarray(A), 3.0))


def safe_row_norms(X):
    """Row l2 norms computed on rows scaled by their max magnitude (no underflow/overflow)."""
    amax = np.abs(X).max(axis=1)
    safe = np.where(amax > 0, amax, 1.0)
    return amax * np.linalg.norm(X / safe[:, None], axis=1)


def l12_reference(X, radius):
    norms = safe_row_norms(X)
    if norms.sum() <= radius:
        return X.copy()
    new = simplex_sort_reference(norms, radius)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(norms > 0, new / norms, 0.0)
    return X * scale[:, None]


matrices = arrays(np.float64, st.tuples(st.integers(1, 12), st.integers(1, 12)), elements=finite)


@settings(max_examples=200, deadline=None)
@given(X=matrices, frac=st.floats(1e-6, 1.5), axis=st.sampled_from([0, 1, -1]))
def test_l12_matches_reference_and_optimality(X, frac, axis):
    norm = l12_norm(X, axis=axis)
    radius = frac * norm if norm > 0 else frac
    P = project_l12_ball(X, radius, axis=axis)
    Xg = X if axis in (1, -1) else X.T
    Pg = P if axis in (1, -1) else P.T
    scale = max(np.abs(X).max(), 1e-300)
    np.testing.assert_allclose(Pg, l12_reference(Xg, radius), rtol=1e-9, atol=1e-9 * scale)
    assert l12_norm(P, axis=axis) <= radius * (1 + 1e-12) + 1e-12 * scale + P.size * SUBNORMAL
    if norm > radius:
        # checked on the problem scaled by 1/scale (projections commute with positive
        # scaling), so that products of tiny or huge entries do not under/overflow
        R, Pn = (Xg - Pg) / scale, Pg / scale
        lhs = np.sum(R * Pn)
        rhs = radius / scale * safe_row_norms(R).max()  # dual of l1,2 is l_inf,2
        assert abs(lhs - rhs) <= 1e-8 * max(rhs, 1e-3)


def test_l12_invariances():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((15, 7))
    P = project_l12_ball(X, 2.0)
    signs = rng.choice([-1.0, 1.0], size=X.shape)
    np.testing.assert_allclose(project_l12_ball(X * signs, 2.0), P * signs, atol=1e-12)
    perm_r, perm_c = rng.permutation(15), rng.permutation(7)
    np.testing.assert_allclose(project_l12_ball(X[perm_r][:, perm_c], 2.0), P[perm_r][:, perm_c], atol=1e-12)
    np.testing.assert_allclose(project_l12_ball(3.5 * X, 7.0), 3.5 * P, atol=1e-12)


@pytest.mark.parametrize("magnitude", [1e-200, 1e200])
def test_l12_extreme_magnitudes(magnitude):
    X = magnitude * np.array([[3.0, 4.0], [0.0, 1.0]])
    assert l12_norm(X) == pytest.approx(6.0 * magnitude, rel=1e-14)
    P = project_l12_ball(X, 3.0 * magnitude)
    np.testing.assert_allclose(P / magnitude, [[3.0 * 0.6, 3.0 * 0.8], [0.0, 0.0]], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("frac", [2.220446049250313e-16, 1e-17, 1e-300])
def test_l12_radius_below_the_rounding_of_the_norms(dtype, frac):
    # A radius below the rounding of the group norms (found by Hypothesis: 3x3 of 2.5, axis=0,
    # frac = eps came out with twice the radius). What the l1,2 kernel documents for it
    # (skproj/_kernels/_l1.pyx, l12_ball): the result is in the ball, exact when the kept rows
    # have equal norms, and within about the radius of the projection (the threshold may equal
    # every norm and the result be 0: it is, at frac 1e-17 and 1e-300).
    X = np.full((3, 3), 2.5, dtype=dtype)
    radius = frac * l12_norm(X)
    P = project_l12_ball(X, radius)
    assert l12_norm(P) <= radius * (1 + 1e-12)
    # the exact projection: each of the three equal groups shrunk to norm radius / 3
    X64 = X.astype(np.float64)
    P_exact = X64 * (radius / 3) / np.linalg.norm(X64, axis=1, keepdims=True)
    assert np.linalg.norm(P.astype(np.float64) - P_exact) <= radius
    # the rows are equal: either none is kept (P = 0) or all are, each exactly at radius / 3
    group_norms = np.linalg.norm(P.astype(np.float64), axis=1)
    if P.any():
        np.testing.assert_allclose(group_norms, radius / 3, rtol=1e-6 if dtype == np.float32 else 1e-12)


def _large_vectors():
    rng = np.random.default_rng(7)
    n = 100_003
    spikes = np.zeros(n)
    # large entries away from any regular stride, so that a strided sample misses them
    spikes[rng.choice(n, 37, replace=False) | 1] = rng.uniform(10, 20, 37)
    ties = np.full(n, -2.5)
    ties[::3] = 2.5
    return {
        "gauss": rng.standard_normal(n),
        "uniform": rng.uniform(-1, 1, 4096),
        "heavy_tail": rng.standard_cauchy(n),
        "spikes": spikes + 1e-3 * rng.standard_normal(n),
        "ties": ties,
        "increasing": np.linspace(0, 1, n),
    }


@pytest.mark.parametrize("kind", list(_large_vectors()))
@pytest.mark.parametrize("frac", [1e-7, 1e-4, 1e-2, 0.1, 0.5, 0.999, 1.0, 1.5])
def test_l1_ball_large_vectors_exact(kind, frac):
    """Vectors long enough for the sampled lower bound (>= 4096 entries), easy and adversarial."""
    x = _large_vectors()[kind]
    radius = frac * np.abs(x).sum()
    p = project_l1_ball(x, radius)
    ref = l1_reference(x, radius)
    np.testing.assert_allclose(p, ref, rtol=1e-12, atol=1e-12 * np.abs(x).max())
    # each surviving entry |x_i| - tau carries a rounding error of a few ulps of max|x|; when
    # radius << ||x||_1 that cancellation, not the method, bounds how well the sum can match
    slack = 4 * np.finfo(np.float64).eps * np.abs(x).max() * max(np.count_nonzero(p), 1)
    assert np.abs(p).sum() <= radius * (1 + 1e-12) + slack
    if frac < 1:
        np.testing.assert_allclose(np.abs(p).sum(), radius, rtol=1e-12, atol=slack)


@pytest.mark.parametrize("kind", list(_large_vectors()))
@pytest.mark.parametrize("frac", [1e-7, 1e-4, 1e-2, 0.1, 0.5, 0.999, 1.0, 1.5])
def test_simplex_large_vectors_exact(kind, frac):
    """The windowed threshold on signed values (tau may be negative), against the sort reference,
    with the simplex optimality conditions: p >= 0, sum p = radius, p_i = max(x_i - tau, 0)."""
    x = _large_vectors()[kind]
    radius = frac * np.abs(x).sum()
    p = project_simplex(x, radius)
    ref = simplex_sort_reference(x, radius)
    scale = np.abs(x).max()
    np.testing.assert_allclose(p, ref, rtol=1e-12, atol=1e-12 * scale)
    assert np.all(p >= 0)
    slack = 4 * np.finfo(np.float64).eps * scale * max(np.count_nonzero(p), 1)
    np.testing.assert_allclose(p.sum(), radius, rtol=1e-12, atol=slack)
    alive = p > 0
    tau = x[alive] - p[alive]
    np.testing.assert_allclose(tau, tau.mean(), rtol=0, atol=1e-12 * max(scale, abs(tau.mean())))
    assert np.all(x[~alive] <= tau.mean() + 1e-12 * scale)


@pytest.mark.parametrize("op", ["l1", "simplex"])
@pytest.mark.parametrize("frac", [1e-4, 1e-2, 0.1, 0.5])
def test_large_float32_matches_float64(op, frac):
    """float32 input: the threshold is computed in double on the float32 values, so the result is
    the float64 projection of those values rounded to float32."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal(200_000).astype(np.float32)
    fn = project_l1_ball if op == "l1" else project_simplex
    radius = frac * float(np.abs(x.astype(np.float64)).sum())
    p32 = fn(x, radius)
    p64 = fn(x.astype(np.float64), radius)
    assert p32.dtype == np.float32
    np.testing.assert_allclose(p32, p64.astype(np.float32), rtol=1e-6, atol=1e-6 * np.abs(x).max())


def _sample_step(n):
    """The stride of the kernels' sample (``_sample_estimate`` in skproj/_kernels/_l1.pyx)."""
    k = min(max(int(4.0 * np.sqrt(n)), 1024), 16384)
    return n // k


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(4096, 12000),
    pattern=st.sampled_from(["on_stride", "off_stride", "cauchy", "ties", "gauss"]),
    frac=st.one_of(st.floats(1e-9, 1.5), st.sampled_from([1e-6, 0.5, 0.999, 1.0])),
    seed=st.integers(0, 2**16),
    float32=st.booleans(),
)
def test_windowed_threshold_misses_are_exact(n, pattern, frac, seed, float32):
    """Long vectors built so that the sampled window misses tau: large entries exactly at the
    sampled positions (the estimate is far too high: tau lies below the window), spikes between
    them (far too low: above the window), heavy tails and ties. The result must still match the
    sort-based reference (l1 ball and simplex) and satisfy the l1-ball optimality conditions."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    step = _sample_step(n)
    if pattern == "on_stride":
        x[: step * (n // step) : step] = rng.uniform(50, 100, n // step) * rng.choice([-1, 1], n // step)
    elif pattern == "off_stride":
        idx = rng.choice(n // step - 1, 20, replace=False) * step + 1 + rng.integers(0, max(step - 1, 1), 20)
        x[idx] = rng.uniform(1e3, 1e4, 20)
    elif pattern == "cauchy":
        x = rng.standard_cauchy(n)
    elif pattern == "ties":
        x = np.where(rng.random(n) < 0.5, -1.5, 1.5)
    if float32:
        x = x.astype(np.float32)
    x64 = x.astype(np.float64)
    scale = np.abs(x64).max()
    norm = np.abs(x64).sum()
    radius = frac * norm
    p = project_l1_ball(x, radius)
    assert p.dtype == x.dtype
    ref = l1_reference(x64, radius)
    rtol = 1e-6 if float32 else 1e-12
    np.testing.assert_allclose(p, ref, rtol=rtol, atol=rtol * scale)
    slack = 4 * np.finfo(np.float64).eps * scale * max(np.count_nonzero(p), 1)
    if not float32:
        assert np.abs(p).sum() <= radius * (1 + 1e-12) + slack
        if frac < 1:
            np.testing.assert_allclose(np.abs(p).sum(), radius, rtol=1e-12, atol=slack)
    assert np.all(p.astype(np.float64) * x64 >= 0)
    s = project_simplex(x, radius)
    np.testing.assert_allclose(s, simplex_sort_reference(x64, radius), rtol=rtol, atol=rtol * scale)
    assert np.all(s >= 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["gauss", "heavy_tail", "spikes"])
def test_vector_paths_agree(dtype, kind):
    """The SSE2 and AVX2 passes (AVX2 also at level 3, AVX-512) add the same partial sums in the
    same order: identical results; the plain C loops agree to rounding."""
    from skproj._kernels import _l1

    x = _large_vectors()[kind].astype(dtype)
    levels = list(range(_l1.simd_level() + 1))
    try:
        for frac in (1e-6, 1e-2, 0.5, 1.0):
            radius = frac * float(np.abs(x.astype(np.float64)).sum())
            for fn in (project_l1_ball, project_simplex):
                res = []
                for level in levels:
                    _l1._set_simd_level(level)
                    res.append(fn(x, radius))
                for r in res[1:]:
                    for v in res[2:]:   # every vector level: identical
                        np.testing.assert_array_equal(v, res[1])
                    np.testing.assert_allclose(r, res[0], rtol=0, atol=1e-6 * np.abs(x).max()
                                               if dtype == np.float32 else 1e-12 * np.abs(x).max())
    finally:
        _l1._set_simd_level(-1)


@pytest.mark.parametrize("func", [project_l1_ball, project_simplex])
@pytest.mark.parametrize("x", [3.0, np.float32(-3.0), np.array(0.25)])
def test_scalar_input_gives_0d_output(func, x):
    # the projection of a one-entry vector, in the input's shape (it came back as shape (1,))
    r = func(x, 1.0)
    assert r.shape == () and r.dtype == np.asarray(x).dtype
    np.testing.assert_array_equal(r.reshape(1), func(np.reshape(x, 1), 1.0))


@settings(max_examples=300, deadline=None)
@given(
    dtype=st.sampled_from([np.float32, np.float64]),
    n=st.integers(1, 5000),
    seed=st.integers(0, 2**16),
    log_frac=st.floats(-20, -1),
    simplex=st.booleans(),
)
def test_small_radius_sums_to_the_radius(dtype, n, seed, log_frac, simplex):
    # radius small next to the entries: the threshold is close to them and x - tau cancels;
    # the projection still sums to the radius (simplex) or stays in the ball on its boundary
    x = (np.random.default_rng(seed).standard_normal(n) * 10.0 ** (seed % 5)).astype(dtype)
    radius = 10.0**log_frac * float(np.abs(x.astype(np.float64)).sum())
    if radius == 0:
        return
    p = (project_simplex if simplex else project_l1_ball)(x, radius)
    total = float(np.abs(p.astype(np.float64)).sum())
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    assert abs(total - radius) <= rtol * radius
    assert np.all(p >= 0) if simplex else np.all(p * x >= 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m", [3, 7, 1000])
@pytest.mark.parametrize("frac", [1e-15, 1.3e-15, 1e-13, 1e-11, 1e-9, 1e-6])
def test_l12_small_radius_is_accurate(dtype, m, frac):
    # three equal rows: each keeps radius / 3 (the shrunk norms summed to less than the radius
    # by up to 5% at 1e-15 and were only ever scaled down)
    X = np.full((3, m), 2.5, dtype=dtype)
    radius = frac * l12_norm(X)
    P = project_l12_ball(X, radius)
    np.testing.assert_allclose(np.linalg.norm(P.astype(np.float64), axis=1), radius / 3, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("frac", [0.3, 0.5, 0.7])
def test_heavy_tails_model_again_after_a_miss_below(dtype, seed, frac):
    """Cauchy vectors at large radii: the sample misses the few largest entries' share of the
    sum, tau lies below or above the first window, and the next window comes from a second
    model (the entries above the window exact, the sample's entries for the rest); these cases
    reach both sides of that path (56 times in all, counted in an instrumented build). The
    results match the sort-based references."""
    rng = np.random.default_rng(seed)
    x = rng.standard_cauchy(100_000).astype(dtype)
    x64 = x.astype(np.float64)
    radius = frac * float(np.abs(x64).sum())
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    scale = float(np.abs(x64).max())
    np.testing.assert_allclose(project_simplex(x, radius), simplex_sort_reference(x64, radius),
                               rtol=rtol, atol=rtol * scale)
    np.testing.assert_allclose(project_l1_ball(x, radius), l1_reference(x64, radius),
                               rtol=rtol, atol=rtol * scale)


def exact_projection(x, radius, simplex):
    """The projection in exact rational arithmetic (sort, then the threshold as a Fraction),
    rounded once at the end."""
    from fractions import Fraction

    y = [Fraction(float(v)) if simplex else abs(Fraction(float(v))) for v in x]
    r = Fraction(radius)
    if not simplex and sum(y) <= r:
        return np.asarray(x, dtype=np.float64).copy()
    top, acc = sorted(y, reverse=True), Fraction(0)
    for k in range(1, len(top) + 1):
        acc += top[k - 1]
        tau = (acc - r) / k
        if k == len(top) or top[k] <= tau:
            break
    out = np.array([float(max(v - tau, 0)) for v in y])
    return out if simplex else np.copysign(out, x)


@pytest.mark.parametrize("x, radius, simplex, expected", [
    ([1e16, 1e16], 1.0, True, [0.5, 0.5]),
    ([-1e16, -1e16], 1.0, True, [0.5, 0.5]),
    ([1.0, 1.0], 1e-17, False, [5e-18, 5e-18]),
    ([1e16, 1e16 - 2], 1.0, False, [1.0, 0.0]),
    ([1e16, -1e16 + 2], 1.0, False, [1.0, -0.0]),
    ([np.finfo(np.float64).max] * 2, 1.0, True, [0.5, 0.5]),
])
def test_radius_below_the_spacing_of_the_entries(x, radius, simplex, expected):
    """A radius below the spacing of the entries (1e16 has a spacing of 2): the threshold
    cannot be represented closer than that spacing, and every output came out 0 (a point off
    the simplex). The outputs are now solved around the threshold, exactly."""
    p = (project_simplex if simplex else project_l1_ball)(np.array(x), radius)
    np.testing.assert_array_equal(p, expected)
    np.testing.assert_array_equal(np.signbit(p), np.signbit(expected))


@settings(max_examples=200, deadline=None)
@given(
    steps=arrays(np.int64, st.integers(1, 40), elements=st.integers(-30, 30)),
    signs=st.integers(0, 2**40),
    base=st.sampled_from([1.0, 1e8, 1e16, 3e300]),
    log_frac=st.floats(-22, -2),
    simplex=st.booleans(),
)
def test_small_radius_matches_exact_arithmetic(steps, signs, base, log_frac, simplex):
    """Entries a few spacings apart near a large value and radii down to 1e-22 of the norm:
    every output within 1e-12 of the radius of the exact projection (they carried up to
    k ulp(tau) / radius before, 100% below the spacing)."""
    x = base + steps * np.spacing(base)
    x = np.where([(signs >> i) & 1 for i in range(x.size)], -x, x)
    radius = 10.0**log_frac * float(np.abs(x).sum())
    p = (project_simplex if simplex else project_l1_ball)(x, radius)
    np.testing.assert_allclose(p, exact_projection(x, radius, simplex), rtol=0, atol=1e-12 * radius)


@pytest.mark.parametrize("n", [4096, 6000])
@pytest.mark.parametrize("top, frac", [(1e300, 1e-25), (1.0002e-71, 4.2e-26), (1.0, 1e-18), (3.0, 1e-12)])
@pytest.mark.parametrize("simplex", [False, True])
def test_small_radius_equal_entries_on_the_windowed_path(n, top, frac, simplex):
    """n >= 4096 (the sampled-window threshold): equal entries, a radius far below them; each
    output is radius / n (the threshold landed some spacings off the entries and the re-solve
    relative to it cancelled: 1.85e-6 short at 1e300, 2.2e-5 at 1e-71)."""
    x = np.full(n, top)
    radius = n * top * frac
    p = (project_simplex if simplex else project_l1_ball)(x, radius)
    np.testing.assert_allclose(p, radius / n, rtol=1e-14)
