"""GroupLasso with feature blocks of uneven sizes (``groups=``), and the validation of a scalar
metric and of the L1 prox's threshold."""

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skproj.sparsity import L1, GroupLasso, GroupMCP


def _weighted_group_reference(z, d, c):
    """argmin_x 0.5 sum_i d_i (x_i - z_i)^2 + c ||x||_2, by bisection on r = ||x||: x = d z /
    (d + c / r) (the stationarity condition), r the root of ||x(r)|| = r."""
    if np.linalg.norm(d * z) <= c:
        return np.zeros_like(z)
    lo, hi = 0.0, np.linalg.norm(z)
    for _ in range(200):
        r = 0.5 * (lo + hi)
        if np.linalg.norm(d * z / (d + c / r)) > r:
            lo = r
        else:
            hi = r
    return d * z / (d + c / (0.5 * (lo + hi)))


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_inner=st.integers(1, 14), n_other=st.integers(1, 3),
       axis=st.sampled_from([0, 1]), weights=st.sampled_from(["sqrt", "custom"]),
       metric=st.sampled_from(["none", "scalar", "array"]))
def test_blocks_of_uneven_sizes_match_the_reference(seed, n_inner, n_other, axis, weights, metric):
    rng = np.random.default_rng(seed)
    n_blocks = int(rng.integers(1, n_inner + 1))
    gid = np.concatenate([np.arange(n_blocks), rng.integers(0, n_blocks, n_inner - n_blocks)])
    rng.shuffle(gid)
    shape = (n_inner, n_other) if axis == 0 else (n_other, n_inner)
    W = rng.standard_normal(shape) * rng.uniform(0.1, 3.0)
    w = np.sqrt(np.bincount(gid)) if weights == "sqrt" else rng.uniform(0.3, 2.0, n_blocks)
    d = {"none": None, "scalar": 1.7, "array": rng.uniform(0.2, 3.0, shape)}[metric]
    pen = GroupLasso(alpha=0.8, axis=axis, groups=gid, weights="sqrt" if weights == "sqrt" else w)
    W0 = W.copy()
    P = pen.prox(W, step=0.9, metric=d)
    np.testing.assert_array_equal(W, W0)
    Wi, Pi = (W, P) if axis == 0 else (W.T, P.T)
    Di = np.ones_like(Wi) if d is None else np.broadcast_to(d, shape) if axis == 0 else np.broadcast_to(d, shape).T
    for b in range(n_blocks):
        rows = gid == b
        for k in range(n_other):
            ref = _weighted_group_reference(Wi[rows, k], Di[rows, k], 0.9 * 0.8 * w[b])
            np.testing.assert_allclose(Pi[rows, k], ref, rtol=1e-10, atol=1e-12)
    norms = np.array([[np.linalg.norm(Wi[gid == b, k]) for k in range(n_other)] for b in range(n_blocks)])
    np.testing.assert_allclose(pen.group_norms(W), norms, rtol=1e-14)


def test_blocks_are_not_padded_to_the_largest():
    """One block of 1,000 features and 1,000 single features: every block was padded to 1,000
    entries (a 2000 x 10 problem took 160 MB in prox, 80 MB in group_norms)."""
    W = np.random.default_rng(0).standard_normal((2000, 10))
    pen = GroupLasso(alpha=0.1, axis=0, groups=np.r_[np.zeros(1000, int), np.arange(1, 1001)])
    for call in (lambda: pen.prox(W), lambda: pen.prox(W, metric=np.ones_like(W)),
                 lambda: pen.group_norms(W), lambda: pen.value(W)):
        tracemalloc.start()
        try:
            call()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 8 * W.nbytes


@pytest.mark.parametrize("pen", [L1(0.5), GroupLasso(0.5), GroupMCP(0.5), GroupLasso(0.5, groups=[0, 0, 1])],
                         ids=repr)
def test_a_scalar_metric_must_be_a_real_number(pen):
    W = np.ones((2, 3))
    for bad in ("2", b"2", True, np.bool_(True), np.complex128(2 + 5j), np.array(2 + 5j)):
        with pytest.raises(TypeError, match=r"^metric must be a real number"):
            pen.prox(W, metric=bad)
    for bad, msg in [(0.0, "> 0"), (-1.0, "> 0"), (np.inf, "finite"), (np.nan, "finite")]:
        with pytest.raises(ValueError, match=rf"^metric must be {msg}"):
            pen.prox(W, metric=bad)
    np.testing.assert_array_equal(pen.prox(W, metric=np.float32(2.0)), pen.prox(W, metric=2))


def test_l1_prox_names_an_overflowing_step_with_an_array_metric():
    # it said "threshold must be finite", an argument L1.prox does not have
    with pytest.raises(ValueError, match=r"^step \* alpha is not finite"):
        L1(10.0).prox(np.ones((2, 2)), step=1e308, metric=np.ones((2, 2)))
