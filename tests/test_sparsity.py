"""skproj.sparsity: the objects agree with the operators and their optimality conditions hold."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import minimize
from sklearn.base import clone

from skproj import (
    l1inf_norm,
    l12_norm,
    project_l1_ball,
    project_l11_ball,
    project_l12_ball,
    project_l1inf_ball,
    prox_group_l2,
    prox_l1,
    prox_l1inf,
)
from skproj.sparsity import (
    CONSTRAINT_NAMES,
    PENALTY_NAMES,
    GroupLasso,
    GroupMCP,
    L1,
    L1Ball,
    L11Ball,
    L12Ball,
    L1Inf,
    L1InfBall,
    make_constraint,
    make_penalty,
)

finite = st.floats(-10, 10, allow_nan=False, allow_infinity=False)
matrices = st.tuples(st.integers(1, 6), st.integers(1, 6)).flatmap(
    lambda s: arrays(np.float64, s, elements=finite)
)
axes = st.sampled_from([0, 1])


@settings(max_examples=60, deadline=None)
@given(W=matrices, frac=st.floats(0.0, 1.5), axis=axes)
def test_constraints_call_the_operators_and_satisfy_optimality(W, frac, axis):
    cases = [
        (L1Ball(axis=axis), lambda X, r: project_l1_ball(X, r), np.abs(W).sum()),
        (L11Ball(axis=axis), lambda X, r: project_l11_ball(X, r), np.abs(W).sum()),
        (L12Ball(axis=axis), lambda X, r: project_l12_ball(X, r, axis=axis), l12_norm(W, axis=axis)),
        (L1InfBall(axis=axis), lambda X, r: project_l1inf_ball(X, r, axis=axis), l1inf_norm(W, axis=axis)),
    ]
    for ball, op, norm in cases:
        assert ball.value(W) == pytest.approx(norm, rel=1e-12, abs=1e-12)
        ball.set_params(radius=frac * norm)
        P = ball.project(W)
        np.testing.assert_array_equal(P, op(W, frac * norm))
        assert ball.value(P) <= frac * norm * (1 + 1e-12) + 1e-12
        # P minimises 0.5 ||V - W||^2 over the ball: its gradient P - W has a zero Frank-Wolfe gap
        scale = 1.0 + np.abs(W).sum()
        assert ball.residual(P, P - W) <= 1e-9 * scale**2
        # a feasible point that is not the projection has a positive gap
        if ball.value(P) > 0 and np.abs(P - W).max() > 1e-6:
            assert ball.residual(0.5 * P, 0.5 * P - W) > 0
        np.testing.assert_array_equal(ball.support(P), ball.group_norms(P) > 0)


def test_group_norms_and_support_follow_axis():
    W = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 0.0]])
    np.testing.assert_allclose(L1InfBall(axis=1).group_norms(W), [0.0, 2.0])
    np.testing.assert_allclose(L1InfBall(axis=0).group_norms(W), [1.0, 2.0, 0.0])
    np.testing.assert_allclose(L12Ball(axis=1).group_norms(W), [0.0, np.sqrt(5.0)])
    np.testing.assert_allclose(L11Ball(axis=0).group_norms(W), [1.0, 2.0, 0.0])
    np.testing.assert_array_equal(L1Ball().support(W), (W != 0).ravel())
    np.testing.assert_array_equal(GroupLasso(axis=1).support(W), [False, True])


def _penalty_cases(axis, alpha):
    return [
        (L1(alpha), lambda X: prox_l1(X, alpha)),
        (GroupLasso(alpha, axis=axis), None),
        (GroupMCP(alpha, gamma=3.0, axis=axis), None),
        (L1Inf(alpha, axis=axis), lambda X: prox_l1inf(X, alpha, axis=axis)),
    ]


def _assert_l1inf_subgradient(W, P, c, axis):
    """P = prox of c ||.||_{1,inf}(W): U = W - P lies in c * subdiff ||.||_{1,inf}(P).

    Per group (rows of the (n_groups, size) view): ||U_g||_1 <= c, with equality and
    <U_g, P_g> = c max|P_g| when P_g != 0 (l1 / l_inf dual pair). Checked directly, not
    through L1Inf.residual (which calls the prox under test).
    """
    Wg, Pg = (W, P) if axis == 1 else (W.T, P.T)
    scale = max(np.abs(W).max(initial=0.0), 1e-300)
    if c == 0:
        np.testing.assert_array_equal(P, W)
        return
    U = Wg - Pg
    l1 = np.abs(U).sum(axis=1)
    assert np.all(l1 <= c * (1 + 1e-12) + 1e-10 * scale)
    tiny = (Pg.shape[1] + 1) * np.finfo(np.float64).smallest_subnormal
    for g in range(Pg.shape[0]):
        pmax = np.abs(Pg[g]).max(initial=0.0)
        if pmax > 0:
            assert abs(l1[g] - c) <= 1e-9 * max(c, scale)
            tol = 1e-9 * c * pmax + 1e-12 * scale * np.abs(Pg[g]).sum() + tiny
            assert abs(U[g] @ Pg[g] - c * pmax) <= tol


def _l1inf_prox_reference(X, c, axis):
    """prox of c ||.||_{1,inf} by Moreau: X_g minus its projection onto the l1 ball of radius c (sort)."""
    Xg = X if axis == 1 else X.T
    out = np.empty_like(Xg)
    for g, x in enumerate(Xg):
        y = np.abs(x)
        if y.sum() <= c:
            out[g] = 0.0
            continue
        u = np.sort(y)[::-1]
        css = np.cumsum(u) - c
        k = np.arange(1, len(u) + 1)
        rho = np.nonzero(u - css / k > 0)[0][-1]
        tau = css[rho] / (rho + 1)
        out[g] = x - np.sign(x) * np.maximum(y - tau, 0.0)
    return out if axis == 1 else out.T


@settings(max_examples=60, deadline=None)
@given(W=matrices, alpha=st.just(0.0) | st.floats(1e-3, 5.0), axis=axes)
def test_prox_satisfies_the_optimality_conditions(W, alpha, axis):
    # the residuals are relative to alpha, so alpha is kept away from the denormal range
    for pen, op in _penalty_cases(axis, alpha):
        P = pen.prox(W)
        if op is not None:
            np.testing.assert_array_equal(P, op(W))
        if isinstance(pen, L1Inf):
            # L1Inf.residual(P, P - W) is P - prox(W), zero by construction: check the
            # subdifferential conditions of the prox directly instead
            _assert_l1inf_subgradient(W, P, alpha, axis)
        else:
            # the residual is a subdifferential violation computed from (P, G) alone: with
            # G = P - W it is 0 at the minimiser P of 0.5 ||V - W||^2 + pen(V)
            assert pen.residual(P, P - W) <= 1e-8 * (1 + np.abs(W).max())
        np.testing.assert_array_equal(pen.support(P), pen.group_norms(P) > 0)


@settings(max_examples=40, deadline=None)
@given(W=matrices, G=matrices, alpha=st.floats(1e-3, 5.0), axis=axes)
def test_l1inf_residual_at_a_non_optimal_point(W, G, alpha, axis):
    # residual(W, G) = max |W - prox_{alpha ||.||_{1,inf}}(W - G)| / alpha, with the prox
    # computed here by Moreau's decomposition and a sort-based l1-ball projection
    G = np.resize(G, W.shape)
    pen = L1Inf(alpha, axis=axis)
    expected = np.abs(W - _l1inf_prox_reference(W - G, alpha, axis)).max() / alpha
    scale = 1.0 + np.abs(W).max() + np.abs(G).max()
    assert pen.residual(W, G) == pytest.approx(expected, rel=1e-9, abs=1e-12 * scale / alpha)
    # a point that is not a fixed point: W = 0 with a gradient beyond the threshold in one group
    Z = np.zeros((3, 4))
    G0 = np.zeros((3, 4))
    G0[1] = [2.0 * alpha, -alpha, 0.5 * alpha, 0.0]  # ||G0_1||_1 = 3.5 alpha > alpha
    Z, G0 = (Z, G0) if axis == 1 else (Z.T, G0.T)
    # prox(-G0) on that group: -G0_1 = (-2a, a, -0.5a, 0) minus its projection onto the l1
    # ball of radius a (threshold tau = a: (-a, 0, 0, 0)) is (-a, a, -0.5a, 0); max |.| / a = 1
    assert pen.residual(Z, G0) == pytest.approx(1.0, rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(W=matrices, alpha=st.floats(0.01, 3.0), axis=axes)
def test_group_lasso_prox_matches_prox_group_l2(W, alpha, axis):
    size = W.shape[axis]
    np.testing.assert_allclose(
        GroupLasso(alpha, axis=axis).prox(W), prox_group_l2(W, alpha * np.sqrt(size), axis=axis), atol=1e-12
    )


def _weighted_objective_min(pen, Z, d, step):
    """Independent slow reference: minimise 0.5 sum d (x - z)^2 + step * pen(x) numerically."""

    def f(x):
        X = x.reshape(Z.shape)
        return 0.5 * np.sum(d * (X - Z) ** 2) + step * pen.value(X)

    best = None
    for x0 in (Z.ravel(), np.zeros(Z.size), pen.prox(Z, step, metric=d).ravel()):
        res = minimize(f, x0, method="Powell", options={"xtol": 1e-10, "ftol": 1e-13, "maxiter": 20000})
        if best is None or res.fun < best.fun:
            best = res
    return best.fun, f


@pytest.mark.parametrize("pen", [L1(0.7), GroupLasso(0.5), GroupMCP(0.5, gamma=4.0)])
def test_weighted_prox_is_the_minimiser_in_the_metric(pen):
    rng = np.random.default_rng(0)
    for _ in range(5):
        Z = rng.standard_normal((3, 2))
        d = rng.uniform(0.5, 2.0, size=Z.shape)
        P = pen.prox(Z, 0.8, metric=d)
        ref, f = _weighted_objective_min(pen, Z, d, 0.8)
        assert f(P.ravel()) <= ref + 1e-8


def test_scalar_metric_divides_the_threshold():
    W = np.random.default_rng(1).standard_normal((5, 4))
    for pen in (L1(0.3), GroupLasso(0.3), L1Inf(0.3)):
        np.testing.assert_allclose(pen.prox(W, 2.0, metric=4.0), pen.prox(W, 0.5), atol=1e-12)
    with pytest.raises(ValueError, match="scalar metric"):
        L1Inf(0.3).prox(W, metric=np.ones_like(W))
    with pytest.raises(ValueError, match="metric"):
        L1(0.3).prox(W, metric=np.ones(3))


def _block_reference(W, gid, alpha, step):
    """Group lasso with feature blocks, one column at a time, by the closed form."""
    out = np.zeros_like(W)
    for k in range(W.shape[1]):
        for g in np.unique(gid):
            idx = gid == g
            z = W[idx, k]
            c = step * alpha * np.sqrt(idx.sum())
            nz = np.linalg.norm(z)
            out[idx, k] = 0.0 if nz <= c else (1 - c / nz) * z
    return out


def test_group_lasso_with_blocks():
    rng = np.random.default_rng(2)
    W = rng.standard_normal((7, 3))
    gid = np.array([0, 1, 0, 2, 1, 1, 2])
    pen = GroupLasso(0.6, axis=0, groups=gid)
    P = pen.prox(W, 0.9)
    np.testing.assert_allclose(P, _block_reference(W, gid, 0.6, 0.9), atol=1e-12)
    # the same groups with axis=1 on the transpose
    np.testing.assert_allclose(GroupLasso(0.6, axis=1, groups=gid).prox(W.T, 0.9), P.T, atol=1e-12)
    norms = pen.group_norms(W)
    assert norms.shape == (3, 3)
    assert pen.value(W) == pytest.approx(0.6 * np.sum(np.sqrt(np.bincount(gid))[:, None] * norms))
    assert pen.residual(P, (P - W) / 0.9) <= 1e-10
    # weighted with an all-ones metric = plain
    np.testing.assert_allclose(pen.prox(W, 0.9, metric=np.ones_like(W)), P, atol=1e-9)
    with pytest.raises(ValueError, match="groups"):
        GroupLasso(axis=0, groups=np.array([0, 1])).prox(W)
    with pytest.raises(ValueError, match="every label"):
        GroupLasso(axis=0, groups=np.array([0, 0, 0, 2, 2, 2, 2])).prox(W)


def test_custom_group_weights():
    W = np.array([[3.0, 4.0], [3.0, 4.0]])
    P = GroupLasso(1.0, weights=np.array([1.0, 6.0])).prox(W)
    np.testing.assert_allclose(P, [[2.4, 3.2], [0.0, 0.0]])
    assert GroupLasso(1.0, weights=[1.0, 2.0]).value(W) == pytest.approx(15.0)


def test_float32_is_kept():
    W = np.random.default_rng(3).standard_normal((4, 5)).astype(np.float32)
    for obj in (L1Ball(1.0), L12Ball(1.0), L1InfBall(1.0)):
        assert obj.project(W).dtype == np.float32
    for obj in (L1(0.1), GroupLasso(0.1), GroupMCP(0.1), L1Inf(0.1)):
        assert obj.prox(W).dtype == np.float32
        assert obj.prox(W, metric=np.ones_like(W) if not isinstance(obj, L1Inf) else 1.0).dtype == np.float32


def test_out_receives_the_result_and_input_is_unchanged():
    W = np.random.default_rng(4).standard_normal((4, 5))
    W0 = W.copy()
    out = np.empty_like(W)
    for obj in (L1Ball(1.0), L1InfBall(1.0)):
        res = obj.project(W, out=out)
        assert res is out
    for obj in (L1(0.5), GroupLasso(0.5), GroupMCP(0.5), L1Inf(0.5)):
        res = obj.prox(W, out=out)
        assert res is out
        np.testing.assert_array_equal(out, obj.prox(W))
    np.testing.assert_array_equal(W, W0)


def test_mcp_value_and_nonconvex_metric():
    pen = GroupMCP(1.0, gamma=2.0, weights=np.ones(2))
    W = np.array([[0.5, 0.0], [3.0, 0.0]])
    # rho(0.5) = 0.5 - 0.25 / 4; rho(3) = gamma lam^2 / 2 = 1
    assert pen.value(W) == pytest.approx(0.5 - 0.0625 + 1.0)
    with pytest.raises(ValueError):
        pen.prox(W, 1.0, metric=np.full_like(W, 0.4))  # gamma * d = 0.8 <= step = 1


def test_parameters_are_validated_naming_them():
    W = np.ones((2, 2))
    with pytest.raises(ValueError, match="radius"):
        L1InfBall(radius=-1.0).project(W)
    with pytest.raises(ValueError, match="alpha"):
        GroupLasso(alpha=-1.0).prox(W)
    with pytest.raises(ValueError, match="axis"):
        L12Ball(axis=2).project(W)
    with pytest.raises(ValueError, match="gamma"):
        GroupMCP(gamma=0.0).prox(W)
    with pytest.raises(ValueError, match="2-D"):
        L1InfBall().project(np.ones(3))


def test_builders_strings_objects_and_deprecation():
    assert set(CONSTRAINT_NAMES) == {"l1", "l12", "l1inf"}
    assert set(PENALTY_NAMES) == {"l1", "group_lasso", "group_mcp", "l1inf"}
    c = make_constraint("l1inf", radius=0.5, axis=0)
    assert isinstance(c, L1InfBall) and c.radius == 0.5 and c.axis == 0
    assert isinstance(make_constraint("l12", 1.0), L12Ball)
    assert isinstance(make_constraint("l1", 1.0), L1Ball)
    with pytest.warns(FutureWarning, match='"l1"'):
        assert isinstance(make_constraint("l11", 1.0), L11Ball)
    given_ = L12Ball(radius=2.0, axis=0)
    built = make_constraint(given_, radius=9.0)
    assert built is not given_ and built.radius == 2.0 and built.axis == 0
    p = make_penalty("group_mcp", alpha=0.1, axis=1, gamma=5.0)
    assert isinstance(p, GroupMCP) and p.gamma == 5.0
    assert isinstance(make_penalty("l1", 0.1), L1)
    assert isinstance(make_penalty("l1inf", 0.1), L1Inf)
    assert isinstance(make_penalty("group_lasso", 0.1), GroupLasso)
    with pytest.raises(ValueError, match="l1inf"):
        make_constraint("linf", 1.0)
    with pytest.raises(ValueError, match="group_lasso"):
        make_penalty("lasso", 1.0)
    with pytest.raises(TypeError):
        make_constraint(3, 1.0)


def test_objects_clone_and_nest_like_estimators():
    ball = L1InfBall(radius=0.3, axis=0)
    assert clone(ball).get_params() == {"radius": 0.3, "axis": 0}
    assert repr(ball) == "L1InfBall(axis=0, radius=0.3)"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        GroupLasso(0.1).set_params(alpha=0.2)


def test_validation_reruns_when_a_parameter_changes():
    W = np.ones((2, 2))
    ball = L1InfBall(radius=1.0)
    ball.project(W)
    ball.radius = -1.0
    with pytest.raises(ValueError, match="radius"):
        ball.project(W)
    ball.set_params(radius=0.5)
    assert ball.value(ball.project(W)) == pytest.approx(0.5)
    pen = GroupLasso(alpha=0.1)
    pen.prox(W)
    pen.set_params(weights=[1.0])
    with pytest.raises(ValueError, match="weights"):
        pen.prox(W)


ALL_OBJECTS = [L1Ball(1.0), L11Ball(1.0), L12Ball(1.0), L1InfBall(1.0), L1(0.5), GroupLasso(0.5), GroupMCP(0.5),
               L1Inf(0.5)]


@pytest.mark.parametrize("obj", ALL_OBJECTS, ids=lambda o: type(o).__name__)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input_raises_naming_the_argument(obj, bad):
    """NaN or inf in W or G: a ValueError naming the object's own argument (value, group_norms,
    dual_norm and residual returned nan; project and prox named the public function's x, X or Z)."""
    W = np.arange(1.0, 7.0).reshape(2, 3)
    B = W.copy()
    B[1, 2] = bad
    what = "NaN" if np.isnan(bad) else "inf"
    for call in [obj.value, obj.group_norms, obj.support]:
        with pytest.raises(ValueError, match=rf"^W contains {what}"):
            call(B)
    with pytest.raises(ValueError, match=rf"^W contains {what}"):
        obj.residual(B, W)
    with pytest.raises(ValueError, match=rf"^G contains {what}"):
        obj.residual(W, B)
    if hasattr(obj, "project"):
        with pytest.raises(ValueError, match=rf"^G contains {what}"):
            obj.dual_norm(B)
        with pytest.raises(ValueError, match=rf"^W contains {what}"):
            obj.project(B)
        with pytest.raises(ValueError, match=rf"^W contains {what}"):
            obj.project(B, out=np.empty_like(B))
    else:
        for metric in [None, 2.0] + ([np.full(W.shape, 2.0)] if not isinstance(obj, L1Inf) else []):
            with pytest.raises(ValueError, match=rf"^W contains {what}"):
                obj.prox(B, 0.5, metric=metric)


@pytest.mark.parametrize("pen", [L1(0.5), GroupLasso(0.5), GroupMCP(0.5), GroupLasso(0.5, axis=0, groups=[0, 1, 0])],
                         ids=lambda o: repr(o))
def test_bad_metric_raises_naming_metric(pen):
    """A zero, negative, NaN or inf entry of an array metric: a ValueError naming ``metric`` (the
    weighted prox named its own argument, "weights must be > 0 everywhere (in Z's dtype ...)")."""
    W = np.arange(1.0, 7.0).reshape(3, 2)
    for bad, msg in [(0.0, r"metric must be > 0 everywhere"), (-1.0, r"metric must be > 0 everywhere"),
                     (np.nan, r"metric contains NaN"), (np.inf, r"metric contains inf")]:
        d = np.full(W.shape, 2.0)
        d[2, 1] = bad
        with pytest.raises(ValueError, match=rf"^{msg}") as info:
            pen.prox(W, 0.5, metric=d)
        assert "weights" not in str(info.value) and "Z" not in str(info.value)
    with pytest.raises(ValueError, match=r"^metric must be > 0 everywhere"):
        GroupLasso(0.5).prox(W, metric=np.zeros(W.shape))
    # a positive float64 entry that is 0 in float32 is caught too
    d = np.full(W.shape, 2.0)
    d[0, 0] = 1e-60
    with pytest.raises(ValueError, match=r"^metric must be > 0 everywhere \(in W's dtype float32\)"):
        pen.prox(W.astype(np.float32), 0.5, metric=d)


def test_group_mcp_nonconvex_metric_names_gamma_metric_and_step():
    pen = GroupMCP(1.0, gamma=2.0)
    W = np.ones((2, 2))
    with pytest.raises(ValueError, match=r"^GroupMCP\.prox needs gamma \* metric > step .*gamma=2\.0.*step=1\.0"):
        pen.prox(W, 1.0, metric=np.full_like(W, 0.4))
    with pytest.raises(ValueError, match=r"^GroupMCP\.prox needs gamma \* metric > step"):
        pen.prox(W, 3.0)  # metric 1: gamma * 1 = 2 <= step = 3


@pytest.mark.parametrize("ball", [L11Ball(1.0), L12Ball(1.0), L1InfBall(1.0, axis=0)], ids=lambda o: type(o).__name__)
def test_grouped_ball_needs_2d_w(ball):
    with pytest.raises(ValueError, match=r"needs a 2-D array W, got shape \(3,\)"):
        ball.project(np.ones(3))
    with pytest.raises(ValueError, match=r"needs a 2-D array W"):
        ball.value(np.ones(3))


def test_out_is_checked_on_every_prox_path():
    """The paths that compute the result first and copy it (L1 with an array metric, GroupLasso
    with groups) check ``out`` as the operators do: a wrong dtype or shape was silently cast or
    broadcast, a list failed with a TypeError about ellipsis indices."""
    W = np.random.default_rng(0).standard_normal((4, 3))
    M = np.full(W.shape, 2.0)
    for pen, kw in [(L1(0.5), {"metric": M}), (GroupLasso(0.5, axis=0, groups=[0, 0, 1, 1]), {})]:
        with pytest.raises(ValueError, match=r"^out must have dtype float64, got float32"):
            pen.prox(W, **kw, out=np.empty(W.shape, np.float32))
        with pytest.raises(ValueError, match=r"^out must have shape \(4, 3\), got \(2, 4, 3\)"):
            pen.prox(W, **kw, out=np.empty((2, 4, 3)))
        with pytest.raises(TypeError, match=r"^out must be a numpy.ndarray"):
            pen.prox(W, **kw, out=[0.0] * 12)
        out = np.empty_like(W, order="F")  # not C-contiguous: accepted, filled
        assert pen.prox(W, **kw, out=out) is out
        np.testing.assert_array_equal(out, pen.prox(W, **kw))


@pytest.mark.parametrize("dtype,tiny,huge", [(np.float32, 1e-23, 3e19), (np.float64, 1e-170, 1e160)])
def test_group_norms_do_not_overflow_or_underflow(dtype, tiny, huge):
    """Squares of entries below about 1e-19 (float32) / 1e-154 (float64) underflow and above
    1.8e19 / 1.3e154 overflow; the group norms, support and value stay exact (they gave 0, a
    group taken as zero, and inf)."""
    from skproj.sparsity._base import _l2_norms

    W = np.array([[tiny, 0.0, tiny], [huge, huge, 0.0], [0.0, 0.0, 0.0]], dtype=dtype)
    exact = np.array([np.sqrt(2.0) * tiny, np.sqrt(2.0) * huge, 0.0])
    for obj in (L12Ball(), GroupLasso(), GroupMCP(), GroupLasso(groups=[0, 0, 1])):
        norms = obj.group_norms(W)
        assert norms.dtype == dtype
        if getattr(obj, "groups", None) is None:
            np.testing.assert_allclose(norms, exact.astype(dtype), rtol=1e-6)
            np.testing.assert_array_equal(obj.support(W), [True, True, False])
        else:  # blocks of columns {0, 1} and {2}: one norm per (block, row)
            blocks = np.array([[tiny, np.sqrt(2.0) * huge, 0.0], [tiny, 0.0, 0.0]])
            np.testing.assert_allclose(norms, blocks.astype(dtype), rtol=1e-6)
    assert L12Ball().value(W) == pytest.approx(l12_norm(W), rel=1e-6)
    # internal callers that skip the finiteness check (working-set scores): inf stays inf
    np.testing.assert_array_equal(_l2_norms(np.array([[np.inf, 1.0], [3.0, 4.0]])), [np.inf, 5.0])
    big = np.array([[3e38, 3e38]], dtype=np.float32)  # the sum overflows float32, not double
    assert L1Ball().value(big) == pytest.approx(6e38, rel=1e-6) == L1(1.0).value(big)


def test_step_and_metric_are_validated_naming_them():
    W = np.ones((2, 3))
    for pen in (L1(0.5), GroupLasso(0.5), GroupLasso(0.5, weights=[1.0, 2.0]), L1Inf(0.5), GroupMCP(0.5)):
        for bad in (-1.0, np.nan, np.inf):
            with pytest.raises(ValueError, match=r"^step must be (>= 0|> 0) and finite"):
                pen.prox(W, step=bad)
        for bad in ("1", True, None, [1.0], 1j, np.complex128(2 + 5j)):
            with pytest.raises(TypeError, match=r"^step must be a real number"):
                pen.prox(W, step=bad)
    with pytest.raises(ValueError, match=r"^step must be > 0 and finite, got 0.0"):
        GroupMCP(0.5).prox(W, step=0.0)
    for pen in (L1(0.5), GroupLasso(0.5), L1Inf(0.5), GroupLasso(0.5, groups=[0, 0, 1]),
                GroupLasso(0.5, weights=[1.0, 2.0])):  # step * alpha / metric overflows
        with pytest.raises(ValueError, match=r"^step \* alpha / metric is not finite \(metric=1e-320\)"):
            pen.prox(W, metric=1e-320)
    with pytest.raises(ValueError, match=r"^step \* alpha is not finite"):
        GroupLasso(1e300).prox(W, step=1e300)
    np.testing.assert_array_equal(L1(0.5).prox(W, step=np.array(2.0)), L1(0.5).prox(W, step=2))


@pytest.mark.parametrize("pen", [L1(0.5), GroupLasso(0.5), GroupMCP(0.5), L1Inf(0.5)], ids=repr)
@pytest.mark.parametrize("shape", [(3,), (1, 3), (3, 3)])
def test_penalty_residual_needs_g_of_the_shape_of_w(pen, shape):
    # shapes that broadcast gave a number (3.0 for G of shape (3,)), others numpy's message
    # (a group penalty says first that it needs a 2-D G)
    with pytest.raises(ValueError, match=r"G must have the shape of W \(4, 3\)|needs a 2-D array G"):
        pen.residual(np.ones((4, 3)), np.ones(shape))


@pytest.mark.parametrize("pen", [GroupLasso(0.5), GroupMCP(0.5), L1Inf(0.5), L1(0.5)], ids=repr)
def test_penalty_residual_of_empty_groups_is_zero(pen):
    # GroupLasso's default weights sqrt(0) = 0 made it 0 / 0 = NaN with a RuntimeWarning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert pen.residual(np.zeros((3, 0)), np.zeros((3, 0))) == 0.0
