"""The l1,inf prox's per-group threshold (Michelot sweeps from a lower bound, Condat's algorithm
after a cap on the sweeps) against a bisection reference, on both dtypes, every vector level
of the kernels and with the cap forced low, so that the fallback runs."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skproj import prox_l1inf
from skproj._kernels import _prox


def l1inf_prox_bisection(X, c):
    """Row g: X_g clipped to [-tau_g, tau_g], tau_g the root of sum_j max(|X_gj| - t, 0) = c
    found by bisection, then recomputed from its clipped set, (sum - c) / count; zero rows
    where ||X_g||_1 <= c. Independent of the kernels and of the sort-based references."""
    out = np.zeros_like(X)
    for g, x in enumerate(np.abs(X)):
        if x.sum() <= c:
            continue
        lo, hi = 0.0, float(x.max())
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if mid in (lo, hi):
                break
            lo, hi = (mid, hi) if np.maximum(x - mid, 0.0).sum() > c else (lo, mid)
        active = x > lo
        tau = (x[active].sum() - c) / active.sum()
        out[g] = np.clip(X[g], -tau, tau)
    return out


def check_prox(X, c, P):
    """P against the bisection reference (on X's values in float64) and the optimality
    conditions of the prox: per group ||X_g - P_g||_1 <= c, with equality and
    <X_g - P_g, P_g> = c max|P_g| when P_g != 0."""
    X64 = X.astype(np.float64)
    eps = np.finfo(X.dtype).eps
    scale = max(np.abs(X64).max(), 1e-300)
    ref = l1inf_prox_bisection(X64, c)
    # the kernel's threshold is exact to double rounding; the output is rounded to X's dtype
    # (relative eps, or half its smallest subnormal: a level of 7e-46 is 0 in float32)
    tiny = np.finfo(X.dtype).smallest_subnormal
    np.testing.assert_allclose(P, ref, rtol=2 * eps, atol=1e-12 * scale + tiny)
    # a clipped entry keeps its sign, zeros included (+0.0 for a positive entry; a row zeroed
    # as a whole, ||X_g||_1 <= c, is +0.0)
    assert not np.any(np.signbit(P) & (X > 0))
    P64 = P.astype(np.float64)
    U = X64 - P64
    l1 = np.abs(U).sum(axis=1)
    # X - P: each entry carries one rounding of P (relative eps of the clip level); the kernel's
    # and this check's sums of m terms each add up to m eps64 of the sum (the standard bound)
    m = X.shape[1]
    # (and each entry's rounding to X's dtype, at least half its smallest subnormal)
    slack = 2 * eps * np.abs(P64).sum(axis=1) + 1e-12 * scale + m * tiny
    slack += 2 * m * np.finfo(np.float64).eps * np.abs(X64).sum(axis=1)
    assert np.all(l1 <= c + slack)
    alive = np.abs(P64).max(axis=1) > 0
    np.testing.assert_array_less(np.abs(l1[alive] - c), slack[alive] + 1e-12 * c)
    for g in np.flatnonzero(alive):
        pmax = np.abs(P64[g]).max()
        # the rounding of P (eps relative, in U = X - P too) and of a dot product of m terms
        tol = 2 * eps * (pmax * np.abs(P64[g]).sum() + c * pmax)
        tol += (m + 2) * np.finfo(np.float64).eps * (np.abs(U[g]) @ np.abs(P64[g]))
        assert abs(U[g] @ P64[g] - c * pmax) <= tol


def _run(fn, *, sweeps=None, level=None):
    try:
        if sweeps is not None:
            _prox._set_prox_sweeps(sweeps)
        if level is not None:
            _prox._set_simd_level(level)
        return fn()
    finally:
        _prox._set_prox_sweeps(32)
        _prox._set_simd_level(-1)


values = st.one_of(
    st.floats(-1e3, 1e3, allow_nan=False, width=32),
    st.sampled_from([0.0, 1.0, -1.0, 0.5, 1e-3]),   # ties and repeated values
)


@settings(max_examples=150, deadline=None)
@given(
    X=arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 300)), elements=values),
    dtype=st.sampled_from([np.float32, np.float64]),
    frac=st.one_of(st.floats(1e-7, 1.2), st.sampled_from([1e-12, 0.5, 1.0])),
    sweeps=st.sampled_from([1, 2, 32]),
)
# a level of half the smallest float32 subnormal rounds to 0: +0.0 (it came out -0.0)
@example(X=np.array([[1e-45]]), dtype=np.float32, frac=0.5, sweeps=32)
def test_prox_l1inf_threshold_matches_bisection_reference(X, dtype, frac, sweeps):
    """Hypothesis: uneven rows, ties, radii from 1e-12 to beyond the largest l1 norm; with the
    sweep cap at 1 or 2 most rows go to Condat's algorithm, at 32 (the default) none do."""
    X = X.astype(dtype)
    c = frac * float(np.abs(X.astype(np.float64)).sum(axis=1).max())
    if c == 0:
        return
    P = _run(lambda: prox_l1inf(X, c), sweeps=sweeps)
    assert P.dtype == dtype
    check_prox(X, c, P)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("dist", ["uniform", "gauss", "cauchy", "geometric", "integers"])
@pytest.mark.parametrize("frac", [1e-6, 1e-2, 0.3, 0.9])
def test_prox_l1inf_long_rows_every_vector_level(dtype, dist, frac):
    """Rows of 5,000 entries (past the vector loops' unrolling, heavy tails, geometric decay where
    the sweeps shrink the set slowly, integer ties): every vector level and the Condat fallback
    give the reference's result to rounding."""
    rng = np.random.default_rng(7)
    shape = (6, 5000)
    X = {
        "uniform": lambda: rng.random(shape),
        "gauss": lambda: rng.standard_normal(shape),
        "cauchy": lambda: rng.standard_cauchy(shape),
        "geometric": lambda: np.tile(0.99 ** np.arange(shape[1]), (shape[0], 1)) * rng.choice([-1, 1], shape),
        "integers": lambda: rng.integers(-3, 4, shape).astype(float),
    }[dist]().astype(dtype)
    l1 = np.abs(X.astype(np.float64)).sum(axis=1)
    c = frac * float(np.median(l1))
    results = [_run(lambda: prox_l1inf(X, c), level=level) for level in range(_prox.simd_level() + 1)]
    results.append(_run(lambda: prox_l1inf(X, c), sweeps=1))
    for P in results:
        check_prox(X, c, P)
    # the vector levels and the fallback solve the same equation, their sums in other orders:
    # equal up to that rounding (about sqrt(k) eps of the k clipped entries' sum, divided by k)
    for P in results[1:]:
        np.testing.assert_allclose(P, results[0], rtol=2 * np.finfo(dtype).eps,
                                   atol=1e-13 * float(np.abs(X).max()))

