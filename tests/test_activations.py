"""Tests of the sparsity-inducing activations, their Gaussian-process maps and edge-of-chaos initialisation.

References used here are independent of the closed forms in skproj.activations: Monte Carlo
averages of the activation functions themselves, finite differences, and scalar Python definitions.
"""

import math
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.special import ndtri

import skproj
from skproj.activations import (
    ACTIVATIONS,
    EdgeOfChaos,
    chi1,
    clipped_relu,
    clipped_relu_derivative,
    clipped_soft_threshold,
    clipped_soft_threshold_derivative,
    edge_of_chaos,
    get_activation,
    init_layer,
    max_stable_clip,
    shifted_relu,
    shifted_relu_derivative,
    soft_threshold,
    soft_threshold_derivative,
    variance_map,
    variance_map_slope,
    zero_fraction,
)

N_MC = 1_000_000

FUNCS = {
    "shifted_relu": (lambda x, t, m: shifted_relu(x, t), lambda x, t, m: shifted_relu_derivative(x, t)),
    "soft_threshold": (lambda x, t, m: soft_threshold(x, t), lambda x, t, m: soft_threshold_derivative(x, t)),
    "clipped_relu": (clipped_relu, clipped_relu_derivative),
    "clipped_soft_threshold": (clipped_soft_threshold, clipped_soft_threshold_derivative),
}


def scalar_reference(name, x, tau, m):
    """The definitions of Price et al. (2024), one Python float at a time."""
    if name.endswith("relu"):
        return min(max(x - tau, 0.0), m)
    return math.copysign(min(max(abs(x) - tau, 0.0), m), x) if abs(x) > tau else 0.0


def clip_for(name, clip):
    return clip if name.startswith("clipped_") else None


# (activation, tau, clip, sigma_w2, sigma_b2): clipped and unclipped, sparse and dense, small and large clip
MAP_CASES = [
    ("shifted_relu", 0.0, None, 2.0, 0.0),
    ("shifted_relu", 1.0364, None, 6.7, 0.5),
    ("soft_threshold", 0.3, None, 1.3, 0.1),
    ("soft_threshold", 1.44, None, 6.7, 0.6),
    ("clipped_relu", 1.0364, 1.0, 7.7, 0.6),
    ("clipped_relu", 0.2, 3.0, 2.5, 0.2),
    ("clipped_soft_threshold", 1.44, 0.5, 10.2, 0.8),
    ("clipped_soft_threshold", 0.0, 2.0, 1.0, 0.0),
]


@pytest.fixture(scope="module")
def stratified_normal():
    """1e6 stratified N(0, 1) samples: one uniform draw in each of N equal-probability strata.

    Stratified sampling is plain Monte Carlo with a variance reduction (one random point per
    stratum); its error on these piecewise-smooth integrands is far below the 1e-3 asked for, while
    i.i.d. sampling has a standard error of a few 1e-4 relative at 85% sparsity.
    """
    rng = np.random.default_rng(20240225)
    u = (np.arange(N_MC) + rng.random(N_MC)) / N_MC
    return ndtri(u)


@pytest.mark.parametrize("name, tau, clip, sw2, sb2", MAP_CASES)
@pytest.mark.parametrize("q", [0.3, 1.0, 2.7])
def test_closed_forms_match_monte_carlo_to_3_digits(stratified_normal, name, tau, clip, sw2, sb2, q):
    forward, derivative = FUNCS[name]
    m = np.inf if clip is None else clip
    h = math.sqrt(q) * stratified_normal
    y, dy = forward(h, tau, m), derivative(h, tau, m)
    mc = {
        "V": sw2 * np.mean(y * y) + sb2,
        "chi1": sw2 * np.mean(dy * dy),
        "zeros": np.mean(y == 0),
    }
    # slope of the variance map: central difference of the Monte Carlo map with common samples
    dq = 1e-3 * q
    e_plus = np.mean(forward(math.sqrt(q + dq) * stratified_normal, tau, m) ** 2)
    e_minus = np.mean(forward(math.sqrt(q - dq) * stratified_normal, tau, m) ** 2)
    mc["slope"] = sw2 * (e_plus - e_minus) / (2 * dq)
    closed = {
        "V": variance_map(name, q, tau, clip, sw2, sb2),
        "chi1": chi1(name, q, tau, clip, sw2),
        "zeros": zero_fraction(name, q, tau, clip),
        "slope": variance_map_slope(name, q, tau, clip, sw2),
    }
    for key in closed:
        assert isinstance(closed[key], float)
        # 3 significant digits
        assert abs(closed[key] - mc[key]) <= 5e-4 * abs(closed[key]), (key, closed[key], mc[key])


@pytest.mark.parametrize("name, tau, clip, sw2, sb2", MAP_CASES)
def test_closed_forms_within_iid_monte_carlo_error(name, tau, clip, sw2, sb2):
    """Plain i.i.d. Monte Carlo (1e6 samples): every closed form lies within 5 standard errors."""
    forward, derivative = FUNCS[name]
    m = np.inf if clip is None else clip
    q = 1.3
    h = math.sqrt(q) * np.random.default_rng(7).standard_normal(N_MC)
    y, dy = forward(h, tau, m), derivative(h, tau, m)
    pairs = [
        (sw2 * y * y + sb2, variance_map(name, q, tau, clip, sw2, sb2)),
        (sw2 * dy * dy, chi1(name, q, tau, clip, sw2)),
        ((y == 0).astype(float), zero_fraction(name, q, tau, clip)),
    ]
    for samples, closed in pairs:
        se = samples.std() / math.sqrt(N_MC)
        assert abs(samples.mean() - closed) <= 5 * se + 1e-12


@pytest.mark.parametrize("name, tau, clip, sw2, sb2", MAP_CASES)
def test_slope_is_derivative_of_variance_map(name, tau, clip, sw2, sb2):
    q = np.array([0.05, 0.4, 1.0, 3.0, 20.0])
    dq = 1e-6 * q
    fd = (variance_map(name, q + dq, tau, clip, sw2, sb2) - variance_map(name, q - dq, tau, clip, sw2, sb2)) / (2 * dq)
    np.testing.assert_allclose(variance_map_slope(name, q, tau, clip, sw2), fd, rtol=1e-6, atol=1e-9)


def test_huge_clip_is_unclipped():
    args = (np.array([0.01, 1.0, 50.0]), 0.5)
    for f in (variance_map, variance_map_slope, chi1, zero_fraction):
        huge = f("clipped_soft_threshold", *args, 1e300)
        assert np.all(np.isfinite(huge))
        np.testing.assert_allclose(huge, f("soft_threshold", *args), rtol=1e-14)


def test_maps_vectorise_over_q():
    q = np.linspace(0.1, 3, 7).reshape(7, 1)
    for f in (variance_map, variance_map_slope, chi1, zero_fraction):
        out = f("clipped_relu", q, 0.5, 1.0)
        assert out.shape == q.shape and out.dtype == np.float64
        np.testing.assert_allclose(out[3, 0], f("clipped_relu", float(q[3, 0]), 0.5, 1.0), rtol=1e-15)


# --------------------------------------------------------------------------------------------
# edge of chaos


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("sparsity", [0.5, 0.7, 0.85, 0.95])
@pytest.mark.parametrize("q_star", [0.25, 1.0, 4.0])
def test_edge_of_chaos_conditions(name, sparsity, q_star):
    clip = clip_for(name, 1.0 * math.sqrt(q_star))
    eoc = edge_of_chaos(name, sparsity, clip, q_star=q_star)
    assert isinstance(eoc, EdgeOfChaos)
    tau, sw2, sb2 = eoc
    assert tau >= 0 and sw2 > 0 and sb2 >= 0
    assert zero_fraction(name, q_star, tau, clip) == pytest.approx(sparsity, rel=1e-12)
    assert chi1(name, q_star, tau, clip, sw2) == pytest.approx(1.0, rel=1e-12)
    assert variance_map(name, q_star, tau, clip, sw2, sb2) == pytest.approx(q_star, rel=1e-12)
    slope = variance_map_slope(name, q_star, tau, clip, sw2)
    below, above = q_star * np.array([0.95, 0.99, 0.999]), q_star * np.array([1.001, 1.01, 1.05])
    if clip is None:
        # semi-stable: slope exactly 1 and the map lies above the diagonal on both sides
        assert slope == pytest.approx(1.0, abs=1e-12)
        if tau == 0:  # the plain ReLU with He init: V(q) = q, every q is a (neutral) fixed point
            np.testing.assert_allclose(variance_map(name, above, tau, clip, sw2, sb2), above, rtol=1e-14)
        else:
            assert np.all(variance_map(name, below, tau, clip, sw2, sb2) > below)
            assert np.all(variance_map(name, above, tau, clip, sw2, sb2) > above)
    else:
        # stable: slope < 1, q near q* is pulled back towards q* from both sides
        assert 0 < slope < 1
        assert np.all(variance_map(name, below, tau, clip, sw2, sb2) > below)
        assert np.all(variance_map(name, above, tau, clip, sw2, sb2) < above)


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from(["clipped_relu", "clipped_soft_threshold"]),
    sparsity=st.floats(0.5, 0.99),
    clip_rel=st.floats(0.05, 4.0),
    q_star=st.floats(0.1, 10.0),
)
def test_edge_of_chaos_clipped_is_stable(name, sparsity, clip_rel, q_star):
    clip = clip_rel * math.sqrt(q_star)  # beyond ~6 sqrt(q*) the slope deficit is below float64 resolution
    tau, sw2, sb2 = edge_of_chaos(name, sparsity, clip, q_star)
    assert sb2 >= 0
    assert chi1(name, q_star, tau, clip, sw2) == pytest.approx(1.0, rel=1e-10)
    assert variance_map(name, q_star, tau, clip, sw2, sb2) == pytest.approx(q_star, rel=1e-10)
    assert zero_fraction(name, q_star, tau, clip) == pytest.approx(sparsity, rel=1e-10)
    assert variance_map_slope(name, q_star, tau, clip, sw2) < 1


def test_edge_of_chaos_known_cases():
    # ReLU (tau = 0) at 50% zeros is He initialisation: sigma_w2 = 2, sigma_b2 = 0
    tau, sw2, sb2 = edge_of_chaos("shifted_relu", 0.5)
    assert tau == 0 and sw2 == pytest.approx(2.0, rel=1e-15) and sb2 == pytest.approx(0.0, abs=1e-15)
    # the identity (soft threshold at tau = 0): sigma_w2 = 1, sigma_b2 = 0
    tau, sw2, sb2 = edge_of_chaos("soft_threshold", 0.0)
    assert tau == 0 and sw2 == pytest.approx(1.0, rel=1e-15) and sb2 == pytest.approx(0.0, abs=1e-15)
    # unclipped maps scale with q*: tau ~ sqrt(q*), sigma_b2 ~ q*, sigma_w2 unchanged
    base = edge_of_chaos("soft_threshold", 0.8, q_star=1.0)
    scaled = edge_of_chaos("soft_threshold", 0.8, q_star=9.0)
    np.testing.assert_allclose(scaled, (3 * base.tau, base.sigma_w2, 9 * base.sigma_b2), rtol=1e-12)
    # clip = inf is the unclipped activation
    np.testing.assert_allclose(edge_of_chaos("clipped_relu", 0.8, np.inf), edge_of_chaos("shifted_relu", 0.8))


def test_edge_of_chaos_without_valid_initialisation():
    # A ReLU below 50% zeros needs tau < 0; the unclipped one would then need sigma_b2 < 0.
    with pytest.raises(ValueError, match="sparsity must be >= 0.5"):
        edge_of_chaos("shifted_relu", 0.3)
    with pytest.raises(ValueError, match="sparsity must be >= 0.5"):
        edge_of_chaos("clipped_relu", 0.49, clip=1.0)
    with pytest.raises(ValueError, match="sparsity must be in"):
        edge_of_chaos("soft_threshold", 1.0)
    with pytest.raises(ValueError, match="underflows"):
        edge_of_chaos("clipped_relu", 1 - 1e-16 * 5, clip=1e-300)
    with pytest.raises(ValueError, match="q_star"):
        edge_of_chaos("clipped_relu", 0.8, clip=1.0, q_star=0.0)
    with pytest.raises(ValueError, match="sparsity"):
        edge_of_chaos("soft_threshold", -0.1)
    with pytest.raises(ValueError, match="not clipped"):
        edge_of_chaos("shifted_relu", 0.8, clip=1.0)


def propagate(name, sparsity, clip, width, n_layers, n_samples, seed, q_star=1.0):
    """Run random inputs through a random network initialised by edge_of_chaos; per-layer stats."""
    eoc = edge_of_chaos(name, sparsity, clip, q_star)
    forward = get_activation(name).forward
    rng = np.random.RandomState(seed)
    h = math.sqrt(q_star) * rng.standard_normal((n_samples, width))
    zeros, variances = [], []
    for _ in range(n_layers):
        z = forward(h, eoc.tau, np.inf if clip is None else clip)
        zeros.append(np.mean(z == 0))
        W, b = eoc.init_layer(width, width, random_state=rng)
        h = z @ W + b
        variances.append(np.mean(h * h))
    return np.array(zeros), np.array(variances)


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("sparsity", [0.7, 0.85])
def test_wide_random_layer_has_target_sparsity(name, sparsity):
    """One random layer of width 1000 fed N(0, q*) pre-activations, 8 independent draws.

    At width 1000 the fraction of zeros of one draw fluctuates with sd ~0.008 (the realised biases
    are shared by all samples); the mean of 8 draws has sd ~0.003 and must be within 0.01.
    """
    width, n_draws, q_star = 1000, 8, 1.0
    zeros, variances = [], []
    for seed in range(n_draws):
        z, v = propagate(name, sparsity, clip_for(name, 1.0), width, n_layers=2, n_samples=100, seed=seed)
        zeros.append(z[1])  # layer 0 is fed exact N(0, q*) inputs; layer 1 is the random layer's output
        variances.append(v[0])
    zeros, variances = np.array(zeros), np.array(variances)
    assert abs(zeros.mean() - sparsity) <= 0.01, zeros
    assert np.all(np.abs(zeros - sparsity) <= 4 * math.sqrt(sparsity * (1 - sparsity) / width)), zeros
    assert abs(variances.mean() - q_star) <= 0.05 * q_star, variances


def test_clipped_network_keeps_sparsity_through_depth():
    """30 layers of width 1000: the clipped ReLU keeps its variance and 85% zeros at every layer."""
    zeros, variances = propagate("clipped_relu", 0.85, 1.0, 1000, n_layers=30, n_samples=50, seed=0)
    assert np.all(np.abs(zeros - 0.85) <= 0.05), zeros
    assert np.all((variances > 0.7) & (variances < 1.4)), variances


@pytest.mark.parametrize("name", ["clipped_relu", "clipped_soft_threshold"])
@pytest.mark.parametrize("sparsity", [0.6, 0.85, 0.95])
@pytest.mark.parametrize("q_star", [0.5, 2.0])
def test_max_stable_clip(name, sparsity, q_star):
    m_max = max_stable_clip(name, sparsity, q_star)
    assert 0 < m_max < 10 * math.sqrt(q_star)
    q_above = q_star * np.geomspace(1 + 1e-5, 1e4, 20000)
    q_below = q_star * np.geomspace(1e-6, 1 - 1e-5, 20000)
    for clip in (0.99 * m_max, 0.5 * m_max):
        tau, sw2, sb2 = edge_of_chaos(name, sparsity, clip, q_star)
        assert np.all(variance_map(name, q_above, tau, clip, sw2, sb2) < q_above)
        assert np.all(variance_map(name, q_below, tau, clip, sw2, sb2) > q_below)
    # slightly above m_max a bump of V(q) crosses the diagonal: a second fixed point above q*
    clip = 1.05 * m_max
    tau, sw2, sb2 = edge_of_chaos(name, sparsity, clip, q_star)
    assert variance_map_slope(name, q_star, tau, clip, sw2) < 1
    assert np.any(variance_map(name, q_above, tau, clip, sw2, sb2) > q_above)
    with pytest.raises(ValueError, match="clipped"):
        max_stable_clip("shifted_relu", sparsity)


# --------------------------------------------------------------------------------------------
# the activations themselves

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
vectors = arrays(np.float64, st.integers(1, 40), elements=st.one_of(finite, st.sampled_from([0.0, 1.0, -1.0, 2.0])))
taus = st.one_of(st.floats(0, 10), st.just(0.0), st.just(1.0))
clips = st.one_of(st.floats(1e-3, 10), st.just(1.0))


@settings(max_examples=200, deadline=None)
@given(x=vectors, tau=taus, clip=clips, name=st.sampled_from(ACTIVATIONS))
def test_activation_matches_scalar_definition(x, tau, clip, name):
    m = clip if name.startswith("clipped_") else np.inf
    y = FUNCS[name][0](x, tau, m)
    ref = np.array([scalar_reference(name, float(v), tau, m) for v in x])
    np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-12 * (1 + np.abs(x).max()))
    assert np.all((y == 0) == (np.abs(x) <= tau if not name.endswith("relu") else x <= tau))


@settings(max_examples=200, deadline=None)
@given(x=vectors, tau=taus, clip=clips)
def test_ranges_symmetry_and_monotonicity(x, tau, clip):
    cr = clipped_relu(x, tau, clip)
    assert np.all((cr >= 0) & (cr <= clip))
    cst = clipped_soft_threshold(x, tau, clip)
    assert np.all(np.abs(cst) <= clip)
    # odd symmetry, exact
    assert np.array_equal(clipped_soft_threshold(-x, tau, clip), -cst)
    assert np.array_equal(soft_threshold(-x, tau), -soft_threshold(x, tau))
    # the soft thresholds are the odd extensions of the ReLUs
    assert np.array_equal(np.abs(cst), clipped_relu(np.abs(x), tau, clip))
    # monotone non-decreasing, and clipping only lowers magnitudes
    order = np.argsort(x, kind="stable")
    for f in (shifted_relu(x, tau), cr, soft_threshold(x, tau), cst):
        assert np.all(np.diff(f[order]) >= 0)
    assert np.all(cr <= shifted_relu(x, tau))
    assert np.array_equal(clipped_relu(x, tau, np.inf), shifted_relu(x, tau))
    assert np.array_equal(clipped_soft_threshold(x, tau, None), soft_threshold(x, tau))


@settings(max_examples=200, deadline=None)
@given(x=vectors, tau=taus, clip=clips, name=st.sampled_from(ACTIVATIONS))
def test_derivative_matches_finite_differences(x, tau, clip, name):
    m = clip if name.startswith("clipped_") else np.inf
    forward, derivative = FUNCS[name]
    eps = 1e-6
    # away from the kinks (|x| = tau, |x| = tau + m) the central difference is exact up to rounding
    kinks = np.array([tau, tau + m, -tau, -tau - m])
    keep = np.min(np.abs(x[:, None] - kinks[None, :]), axis=1) > 10 * eps * (1 + np.abs(x))
    assume(keep.any())
    x = x[keep]
    h = eps * (1 + np.abs(x))
    fd = (forward(x + h, tau, m) - forward(x - h, tau, m)) / (2 * h)
    d = derivative(x, tau, m)
    np.testing.assert_allclose(d, fd, atol=1e-6)
    assert set(np.unique(d)) <= {0.0, 1.0}


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_derivative_at_kinks_is_zero(name):
    m = 2.0 if name.startswith("clipped_") else np.inf
    kinks = np.array([1.0, -1.0, 3.0, -3.0]) if np.isfinite(m) else np.array([1.0, -1.0])
    assert np.all(FUNCS[name][1](kinks, 1.0, m) == 0)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_dtypes_and_input_untouched(name):
    m = 0.7 if name.startswith("clipped_") else np.inf
    forward, derivative = FUNCS[name]
    x64 = np.linspace(-3, 3, 60).reshape(3, 20)
    x32 = x64.astype(np.float32)
    keep = x32.copy()
    for f in (forward, derivative):
        out32 = f(x32, 0.5, m)
        assert out32.dtype == np.float32 and out32.shape == x32.shape
        np.testing.assert_allclose(out32, f(x64, 0.5, m), atol=1e-6)
        assert f(np.arange(-3, 4), 0.5, m).dtype == np.float64
        assert f(x64[:, ::2], 0.5, m).shape == (3, 10)  # non-contiguous input
    assert np.array_equal(x32, keep)
    ro = x64.copy()
    ro.flags.writeable = False
    forward(ro, 0.5, m)  # read-only input is fine
    assert forward(np.empty((0, 3)), 0.5, m).shape == (0, 3)
    assert isinstance(forward(1.5, 0.5, m), np.ndarray)


def test_registry_uniform_signature():
    x = np.linspace(-4, 4, 33)
    for name in ACTIVATIONS:
        act = get_activation(name)
        assert act.name == name and act.odd == (not name.endswith("relu"))
        assert act.clipped == name.startswith("clipped_")
        m = 1.5 if act.clipped else np.inf
        assert np.array_equal(act.forward(x, 0.5, m), FUNCS[name][0](x, 0.5, m))
        assert np.array_equal(act.derivative(x, 0.5, m), FUNCS[name][1](x, 0.5, m))
        assert np.array_equal(act.forward(x, 0.5), FUNCS[name][0](x, 0.5, np.inf))
    with pytest.raises(ValueError, match="not clipped"):
        get_activation("shifted_relu").forward(x, 0.5, 1.0)
    with pytest.raises(ValueError, match="activation must be one of"):
        get_activation("relu")
    # re-exported at package level
    for public in ("clipped_relu", "edge_of_chaos", "variance_map", "chi1", "zero_fraction", "init_layer"):
        assert getattr(skproj, public) is getattr(skproj.activations, public)


# --------------------------------------------------------------------------------------------
# initialisation helper


def test_init_layer_variances_and_reproducibility():
    eoc = edge_of_chaos("clipped_relu", 0.85, 1.0)
    W, b = eoc.init_layer(400, 3000, random_state=0)
    assert W.shape == (400, 3000) and b.shape == (3000,) and W.dtype == np.float64
    # sample variances within 5 standard errors (var of a sample variance: 2 sigma^4 / n)
    for sample, var in ((W.ravel() * math.sqrt(400), eoc.sigma_w2), (b, eoc.sigma_b2)):
        assert abs(sample.var() - var) <= 5 * var * math.sqrt(2 / sample.size)
    W2, b2 = init_layer(400, 3000, eoc.sigma_w2, eoc.sigma_b2, random_state=0)
    assert np.array_equal(W, W2) and np.array_equal(b, b2)
    W32, b32 = init_layer(5, 4, 2.0, 0.0, random_state=np.random.RandomState(1), dtype=np.float32)
    assert W32.dtype == np.float32 and b32.dtype == np.float32 and np.all(b32 == 0)


# --------------------------------------------------------------------------------------------
# bad inputs


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: shifted_relu([1.0], -0.1), ValueError, "tau must be >= 0"),
        (lambda: shifted_relu([1.0], np.nan), ValueError, "tau must be finite"),
        (lambda: soft_threshold([1.0], np.inf), ValueError, "tau must be finite"),
        (lambda: soft_threshold([1.0], "1"), TypeError, "tau must be a real number"),
        (lambda: clipped_relu([1.0], 0.5, 0.0), ValueError, "clip must be > 0"),
        (lambda: clipped_relu([1.0], 0.5, -1.0), ValueError, "clip must be > 0"),
        (lambda: clipped_soft_threshold([1.0], 0.5, np.nan), ValueError, "clip must be > 0"),
        (lambda: clipped_soft_threshold([1.0], 0.5, "a"), TypeError, "clip must be a real number"),
        (lambda: clipped_relu_derivative([1.0], 0.5, True), TypeError, "clip must be a real number"),
        (lambda: shifted_relu([1.0, np.nan], 0.5), ValueError, "x contains NaN"),
        (lambda: soft_threshold_derivative([np.inf], 0.5), ValueError, "x contains inf"),
        (lambda: clipped_relu(["a"], 0.5, 1.0), TypeError, "x must be a real numeric array"),
        (lambda: clipped_relu([1j], 0.5, 1.0), TypeError, "x must be a real numeric array"),
        (lambda: variance_map("relu", 1.0, 0.5), ValueError, "activation must be one of"),
        (lambda: variance_map("shifted_relu", 0.0, 0.5), ValueError, "q must be finite and > 0"),
        (lambda: variance_map("shifted_relu", [1.0, -1.0], 0.5), ValueError, "q must be finite and > 0"),
        (lambda: variance_map("shifted_relu", np.nan, 0.5), ValueError, "q must be finite and > 0"),
        (lambda: variance_map("shifted_relu", "1", 0.5), TypeError, "q must be real numeric"),
        (lambda: variance_map("shifted_relu", 1.0, 0.5, 2.0), ValueError, "not clipped"),
        (lambda: variance_map("clipped_relu", 1.0, 0.5, 2.0, sigma_w2=-1.0), ValueError, "sigma_w2"),
        (lambda: variance_map("clipped_relu", 1.0, 0.5, 2.0, sigma_b2=np.inf), ValueError, "sigma_b2"),
        (lambda: chi1("soft_threshold", 1.0, -1.0), ValueError, "tau"),
        (lambda: zero_fraction("clipped_soft_threshold", 1.0, 0.5, 0.0), ValueError, "clip"),
        (lambda: variance_map_slope(3, 1.0, 0.5), ValueError, "activation must be one of"),
        (lambda: init_layer(0, 3, 1.0, 0.0), ValueError, "n_inputs must be >= 1"),
        (lambda: init_layer(3, 2.5, 1.0, 0.0), TypeError, "n_outputs must be an integer"),
        (lambda: init_layer(3, 3, -1.0, 0.0), ValueError, "sigma_w2"),
        (lambda: init_layer(3, 3, 1.0, 0.0, dtype=np.int64), ValueError, "dtype"),
    ],
)
def test_bad_inputs(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("name", sorted(skproj.activations.ACTIVATIONS))
@pytest.mark.parametrize("x", [3.0, np.float32(-2.5), np.array(1.5), np.ones((2, 1, 3)), np.zeros((0, 2))])
def test_output_has_the_shape_of_x(name, x):
    # a scalar or 0-d input gives a 0-d result (it gave shape (1,)), as numpy's ufuncs do
    act = skproj.activations.get_activation(name)
    clip = 2.0 if act.clipped else np.inf
    for f in (act.forward, act.derivative):
        r = f(x, 1.0, clip)
        assert isinstance(r, np.ndarray) and r.shape == np.shape(x)
        flat = f(np.reshape(x, -1), 1.0, clip)
        np.testing.assert_array_equal(r.reshape(-1), flat)


def test_float32_input_with_a_threshold_beyond_its_range_gives_no_warning():
    x = np.array([1.0, -2.0, 5.0], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # it warned "overflow encountered in cast"
        np.testing.assert_array_equal(clipped_relu(x, tau=1e39, clip=1e40), np.zeros(3, np.float32))
        np.testing.assert_array_equal(soft_threshold(x, tau=1e39), np.zeros(3, np.float32))
        np.testing.assert_array_equal(clipped_relu(x, 0.5, clip=1e40), [0.5, 0.0, 4.5])


def test_derivative_with_a_clip_beyond_float32_is_quiet():
    # a clip beyond float32's range is inf in float32 (no clipping), as in the forward pass,
    # without numpy's cast warning
    x = np.array([3e38, 1.0, -1.0], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = clipped_relu_derivative(x, 0.0, 1e39)
    np.testing.assert_array_equal(d, [1.0, 1.0, 0.0])
