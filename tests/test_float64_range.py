"""Projections and prox operators on float64 data whose norms overflow double.

The kernels add |x| (or group l2 norms) in double; with entries near the top of float64's range
those sums overflow. The operators are positively homogeneous, so on such data they must give
2^k times their result on the data divided by 2^k (earlier they returned zeros or NaN). Also the
inputs at the edges of what becomes a float array: longdouble beyond float64, ragged sequences.
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skproj import (
    l1inf_norm,
    l12_norm,
    project_l1_ball,
    project_l11_ball,
    project_l12_ball,
    project_l1inf_ball,
    project_simplex,
    prox_group_l2,
    prox_l1inf,
)

# (operator, the norm that sets the radius / threshold scale); axis-taking ones get an axis
OPERATORS = {
    "l1_ball": (lambda X, r, axis, **kw: project_l1_ball(X, r, **kw), lambda X, axis: np.abs(X).sum()),
    "simplex": (lambda X, r, axis, **kw: project_simplex(X, r, **kw), lambda X, axis: np.abs(X).sum()),
    "l11_ball": (lambda X, r, axis, **kw: project_l11_ball(X, r, **kw), lambda X, axis: np.abs(X).sum()),
    "l12_ball": (lambda X, r, axis, **kw: project_l12_ball(X, r, axis=axis, **kw),
                 lambda X, axis: l12_norm(X, axis=axis)),
    "l1inf_ball": (lambda X, r, axis, **kw: project_l1inf_ball(X, r, axis=axis, **kw),
                   lambda X, axis: l1inf_norm(X, axis=axis)),
    "prox_group_l2": (lambda X, c, axis, **kw: prox_group_l2(X, c, axis=axis, **kw), lambda X, axis: np.abs(X).max()),
    "prox_l1inf": (lambda X, c, axis, **kw: prox_l1inf(X, c, axis=axis, **kw), lambda X, axis: np.abs(X).max()),
}



def _group_norms(Y, axis, ord):
    return np.linalg.norm(Y if axis == 1 else Y.T, ord=ord, axis=1)


# the norm whose double sum the kernel makes (the norm of the ball; for the prox operators the
# largest group norm the kernel computes: l2 for the group lasso, l1 (the dual norm) for l1,inf)
OVERFLOW_NORMS = {
    "l1_ball": lambda Y, axis: np.abs(Y).sum(),
    "simplex": lambda Y, axis: np.abs(Y).sum(),
    "l11_ball": lambda Y, axis: np.abs(Y).sum(),
    "l12_ball": lambda Y, axis: l12_norm(Y, axis=axis),
    "l1inf_ball": lambda Y, axis: l1inf_norm(Y, axis=axis),
    "prox_group_l2": lambda Y, axis: _group_norms(Y, axis, 2).max(),
    "prox_l1inf": lambda Y, axis: _group_norms(Y, axis, 1).max(),
}

unit = st.floats(-1.0, 1.0, allow_nan=False, width=64)
# groups of at least 4 entries along both axes, so that a group norm can overflow while the
# entries stay finite
small_matrices = st.tuples(st.integers(4, 8), st.integers(4, 40)).flatmap(lambda s: arrays(np.float64, s, elements=unit))


@pytest.mark.parametrize("name", sorted(OPERATORS))
@settings(max_examples=40, deadline=None)
@given(Y=small_matrices, frac=st.floats(1e-3, 1.5), axis=st.sampled_from([0, 1]), data=st.data())
def test_homogeneous_at_the_top_of_float64(name, Y, frac, axis, data):
    op, norm = OPERATORS[name]
    assume(np.abs(Y).max() > 0.25)
    # X = 2^k Y is finite for k <= 1024 - e_max and its norm overflows for k >= 1025 - e_norm
    # (frexp exponents: a = m 2^e with 0.5 <= m < 1): k is drawn between the two
    e_max = np.frexp(np.abs(Y).max())[1]
    e_norm = np.frexp(OVERFLOW_NORMS[name](Y, axis))[1]
    assume(1025 - e_norm <= 1024 - e_max)
    k = data.draw(st.integers(1025 - e_norm, 1024 - e_max), label="k")
    with np.errstate(over="ignore"):
        assert np.isinf(np.ldexp(OVERFLOW_NORMS[name](Y, axis), k))  # the norm of X overflows
    X = np.ldexp(Y, k)  # exact
    assert np.isfinite(X).all()
    # the radius / threshold is frac times the norm (scale), capped so that 2^k times it is finite
    cap = np.nextafter(np.ldexp(1.0, 1024 - k), 0)
    radius = frac * min(norm(Y, axis), cap / 2)
    assume(radius > 0)
    P = op(X, float(np.ldexp(radius, k)), axis)
    expected = np.ldexp(op(Y, radius, axis), k)
    scale = np.ldexp(np.abs(Y).max(), k)
    assert np.isfinite(P).all()
    np.testing.assert_allclose(P, expected, rtol=1e-12, atol=1e-12 * scale)


@pytest.mark.parametrize("name", sorted(OPERATORS))
def test_sums_that_overflow_double(name):
    # 3 x 1000 entries up to 2^1020 (about 1e307): every row's l1 norm overflows double, and
    # the l1 norm of all of X; the radius (at most 8 * 2^1020) stays finite
    op, norm = OPERATORS[name]
    Y = np.random.default_rng(0).uniform(-1.0, 1.0, (3, 1000))
    X = np.ldexp(Y, 1020)
    radius = min(0.3 * norm(Y, 1), 8.0)
    P = op(X, float(np.ldexp(radius, 1020)), 1)
    assert np.isfinite(P).all() and np.abs(P).max() > 0
    np.testing.assert_allclose(P, np.ldexp(op(Y, radius, 1), 1020), rtol=1e-12, atol=1e-12 * np.abs(X).max())
    # in place (out=X) gives the same result
    Xc = X.copy()
    op(Xc, float(np.ldexp(radius, 1020)), 1, out=Xc)
    np.testing.assert_array_equal(Xc, P)


@pytest.mark.parametrize("gamma", [None, 4.0, 40.0])
def test_weighted_group_prox_where_the_norm_of_z_overflows(gamma):
    # ||z||_2 overflows double, ||d z||_2 (d = 0.5) does not: positively homogeneous, so 2^600
    # times the result on z / 2^600 (group MCP returned z, its "||z|| >= gamma c" case, here)
    from skproj import weighted_prox_group_l2, weighted_prox_group_mcp

    rng = np.random.default_rng(0)
    Z = np.ldexp(rng.uniform(0.5, 1.0, (5, 6)) * rng.choice([-1.0, 1.0], (5, 6)), 1023)
    D = np.full_like(Z, 0.5)
    with np.errstate(over="ignore"):
        assert np.isinf(np.linalg.norm(Z, axis=1)).all()
    Y = np.ldexp(Z, -600)
    c = np.linalg.norm(D * Y, axis=1) * np.array([0.05, 0.2, 0.5, 0.9, 1.1])

    def prox(Z, c):
        if gamma is None:
            return weighted_prox_group_l2(Z, D, c)
        return weighted_prox_group_mcp(Z, D, c, gamma)

    expected = np.ldexp(prox(Y, c), 600)
    np.testing.assert_allclose(prox(Z, np.ldexp(c, 600)), expected, rtol=1e-12)
    assert not np.array_equal(expected[:4], Z[:4])  # the groups are shrunk, not returned as z


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(30, 50), (3, 9000)])  # l1,inf: rows solved on the row / by windows
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("name", ["l1inf_ball", "l12_ball"])
def test_nan_and_inf_are_refused_by_the_kernels_first_pass(name, dtype, shape, bad):
    # these projections leave the finiteness check to the kernel's first pass (NaN / inf make a
    # group's norm, then their sum, NaN / inf: flagged like an overflow, nothing written): every
    # position, radius zero, inside or outside, both axes; out untouched, the input unchanged
    op = OPERATORS[name][0]
    rng = np.random.default_rng(5)
    X = rng.standard_normal(shape).astype(dtype)
    X[1, :] = 0.0  # a row of zeros but the bad entry: its norm must not come out as 0
    word = "NaN" if np.isnan(bad) else "inf"
    for pos in [(0, 0), (shape[0] - 1, shape[1] - 1), (1, 7)]:
        Y = X.copy()
        Y[pos] = bad
        for radius in (0.0, 1e-3, 1e30):
            for axis in (0, 1):
                out = np.full(shape, 7, dtype=dtype)
                with pytest.raises(ValueError, match=f"X contains {word}"):
                    op(Y, radius, axis, out=out)
                assert (out == 7).all()
        assert np.isnan(Y[pos]) if np.isnan(bad) else Y[pos] == bad


@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("mcp", [False, True])
@pytest.mark.parametrize("alias", ["Z", "weights"])
def test_weighted_group_prox_overflow_leaves_an_aliased_input_unchanged(alias, mcp, axis):
    # ||weights * z||_2 overflows double in the second group: a ValueError, and with out=Z or
    # out=weights that input keeps its values (the first group's result was written into it)
    from skproj import weighted_prox_group_l2, weighted_prox_group_mcp

    M = np.finfo(np.float64).max
    Z = np.array([[1.0, 2.0], [M, M]])
    Z = Z if axis == 1 else Z.T.copy()
    W = np.ones_like(Z)
    Z0, W0 = Z.copy(), W.copy()
    out = Z if alias == "Z" else W
    with pytest.raises(ValueError, match="overflows double"):
        if mcp:
            weighted_prox_group_mcp(Z, W, 0.5, 3.0, axis=axis, out=out)
        else:
            weighted_prox_group_l2(Z, W, 0.5, axis=axis, out=out)
    np.testing.assert_array_equal(Z, Z0)
    np.testing.assert_array_equal(W, W0)


def test_longdouble_beyond_float64_is_named_as_such():
    # a longdouble x beyond float64's range is no "inf" (it has none), and numpy's cast warning
    # does not leak; one inside the range is converted
    x = np.array(["1e400", "1"], dtype=np.longdouble)
    if np.finfo(np.longdouble).max <= np.finfo(np.float64).max:
        pytest.skip("longdouble is float64 on this platform")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="x has values beyond the float64 range"):
            project_l1_ball(x, 1.0)
    np.testing.assert_array_equal(project_l1_ball(np.array([3.0, 1.0], dtype=np.longdouble), 1.0),
                                  [1.0, 0.0])


@pytest.mark.parametrize("call, name", [
    (lambda: project_l12_ball([[1.0, 2.0], [3.0]], 1.0), "X"),
    (lambda: project_l1inf_ball([[1.0], [2.0, 3.0]], 1.0), "X"),
    (lambda: project_l1_ball([[1.0], [2.0, 3.0]], 1.0), "x"),
    (lambda: prox_group_l2([[1.0, 2.0], [3.0]], 1.0), "X"),
])
def test_ragged_input_names_the_argument(call, name):
    with pytest.raises(ValueError, match=f"^{name} must be a rectangular array"):
        call()


def test_ragged_weights_and_threshold_name_the_argument():
    from skproj import weighted_prox_group_l2

    Z = np.ones((2, 2))
    with pytest.raises(ValueError, match="^weights must be a rectangular array"):
        weighted_prox_group_l2(Z, [[1.0, 1.0], [1.0]], 0.5)
    with pytest.raises(ValueError, match="^threshold must be a rectangular array"):
        weighted_prox_group_l2(Z, np.ones((2, 2)), [[0.5], [0.5, 0.5]])
