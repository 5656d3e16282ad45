"""Tests of ProxAdam (skproj.optim) and of the penalised SparseAutoencoderSelector.

References written here: Adam's update from its definition, brute-force minimisation of the
weighted proximal subproblem (scipy.optimize), and an exact group-lasso solver (proximal
gradient with the plain group soft thresholding, run to a fixed point and checked by KKT).
"""

import copy

import numpy as np
import pytest
from scipy.optimize import minimize
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import skproj._selector as selector_module
from skproj import SparseAutoencoderSelector, prox_group_l2
from skproj.optim import Adam, GroupPenalty, ProxAdam
from skproj.sparsity import L1, GroupLasso, GroupMCP, L1Inf


def _pen(kind, alpha, gamma=3.0, axis=1):
    """The penalty object of ``kind`` (what the former GroupPenalty built)."""
    if kind == "group_lasso":
        return GroupLasso(alpha=alpha, axis=axis)
    return GroupMCP(alpha=alpha, gamma=gamma, axis=axis)

# --------------------------------------------------------------------------- references


def adam_reference(p, g, m, v, t, lr, betas, eps):
    """One Adam step from its definition: returns (z, m, v, d) with d = sqrt(v_hat) + eps."""
    b1, b2 = betas
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    m_hat = m / (1 - b1**t)
    v_hat = v / (1 - b2**t)
    d = np.sqrt(v_hat) + eps
    return p - lr * m_hat / d, m, v, d


def mcp(t, lam, gamma):
    return np.where(t <= gamma * lam, lam * t - t * t / (2 * gamma), 0.5 * gamma * lam * lam)


def subproblem(x, z, d, c, gamma=None):
    """0.5 sum d (x - z)^2 + c ||x||_2 (group lasso) or + MCP_{c, gamma}(||x||_2)."""
    r = np.linalg.norm(x)
    pen = c * r if gamma is None else float(mcp(r, c, gamma))
    return 0.5 * np.sum(d * (x - z) ** 2) + pen


def brute_force_group(z, d, c, gamma=None):
    """Minimise the subproblem of one group by L-BFGS-B from several starts, and 0."""
    best_x, best_f = np.zeros_like(z), subproblem(np.zeros_like(z), z, d, c, gamma)
    rng = np.random.default_rng(0)
    for x0 in [z, d * z / d.max(), 0.5 * z, rng.normal(size=z.shape) * np.abs(z).max()]:
        res = minimize(subproblem, x0, args=(z, d, c, gamma), method="L-BFGS-B",
                       options={"gtol": 1e-14, "ftol": 1e-16, "maxiter": 10000})
        if res.fun < best_f:
            best_x, best_f = res.x, res.fun
    return best_x, best_f


def run_steps(opt, P, rng, n_steps):
    for _ in range(n_steps):
        opt.step([P], [rng.normal(size=P.shape) * rng.uniform(0.1, 3, size=(P.shape[0], 1))])


# --------------------------------------------------------------------------- one step


@pytest.mark.parametrize("kind", ["group_lasso", "group_mcp"])
@pytest.mark.parametrize("n_before", [0, 7])
def test_prox_step_equals_brute_force(kind, n_before):
    rng = np.random.default_rng(1)
    P = rng.normal(size=(6, 4))
    lr, alpha, gamma0 = 0.05, 0.6, 50.0
    pen = _pen(kind, alpha, gamma=gamma0)
    opt = ProxAdam(lr=lr, penalties={0: pen})
    run_steps(opt, P, rng, n_before)
    # state before the checked step, and the step from Adam's definition
    p0, m0 = P.copy(), (opt.m[0].copy() if opt.m is not None else np.zeros_like(P))
    v0 = opt.v[0].copy() if opt.v is not None else np.zeros_like(P)
    g = rng.normal(size=P.shape) * np.array([[0.01], [0.1], [1], [3], [0.3], [1]])
    z, _, _, d = adam_reference(p0, g, m0, v0, n_before + 1, lr, opt.betas, opt.eps)
    # penalty level between the smallest and largest ||d z_g||: some rows zeroed, some not
    lam = np.median(np.linalg.norm(d * z, axis=1)) / lr
    alpha = lam / np.sqrt(P.shape[1])
    opt.penalties[0] = _pen(kind, alpha, gamma=gamma0)
    opt.step([P], [g])
    assert opt.n_floored == 0
    n_zero = 0
    for i in range(P.shape[0]):
        gamma = None if kind == "group_lasso" else gamma0 / lr
        x_bf, f_bf = brute_force_group(z[i], d[i], lr * lam, gamma)
        f_ours = subproblem(P[i], z[i], d[i], lr * lam, gamma)
        assert f_ours <= f_bf + 1e-12 * max(1.0, abs(f_bf))
        np.testing.assert_allclose(P[i], x_bf, atol=1e-6 * max(1.0, np.abs(z[i]).max()))
        n_zero += not P[i].any()
    # the problem is set so that some rows are zeroed and some are not
    assert 0 < n_zero < P.shape[0]


def test_mcp_floor_of_the_metric_is_one_consistent_model():
    # A row with zero gradient history has d = eps < lr / gamma0: its metric is floored for
    # the step and the prox alike. Check against brute force in the floored metric.
    rng = np.random.default_rng(2)
    P = rng.normal(size=(3, 4))
    lr, alpha, gamma0 = 0.01, 0.02, 5.0
    opt = ProxAdam(lr=lr, penalties={0: _pen("group_mcp", alpha, gamma=gamma0)})
    g = rng.normal(size=P.shape)
    g[0] = 0.0
    g[1, :2] = 1e-9
    p0 = P.copy()
    opt.step([P], [g])
    assert opt.n_floored == 4 + 2
    # the count is over all the parameters (it was the last parameter's)
    opt2 = ProxAdam(lr=lr, penalties={0: _pen("group_mcp", alpha, gamma=gamma0),
                                      1: _pen("group_mcp", alpha, gamma=gamma0)})
    g2 = np.ones((2, 4))
    g2[0, :3] = 0.0
    opt2.step([p0.copy(), rng.normal(size=(2, 4))], [g, g2])
    assert opt2.n_floored == 6 + 3
    z, _, _, d = adam_reference(p0, g, 0 * g, 0 * g, 1, lr, opt.betas, opt.eps)
    d_floor = np.maximum(d, (1 + 1e-6) * lr / gamma0)
    z_floor = p0 - (p0 - z) * d / d_floor  # the Adam step in the floored metric
    lam = alpha * 2.0
    for i in range(3):
        x_bf, f_bf = brute_force_group(z_floor[i], d_floor[i], lr * lam, gamma0 / lr)
        f_ours = subproblem(P[i], z_floor[i], d_floor[i], lr * lam, gamma0 / lr)
        assert f_ours <= f_bf + 1e-12 * max(1.0, abs(f_bf))
        np.testing.assert_allclose(P[i], x_bf, atol=1e-6)


def test_unweighted_option_is_plain_group_soft_thresholding_after_adam():
    rng = np.random.default_rng(3)
    P = rng.normal(size=(5, 3))
    lr, alpha = 0.1, 0.5
    opt = ProxAdam(lr=lr, penalties={0: _pen("group_lasso", alpha)}, weighted=False)
    g = rng.normal(size=P.shape)
    z, _, _, _ = adam_reference(P.copy(), g, 0 * g, 0 * g, 1, lr, opt.betas, opt.eps)
    opt.step([P], [g])
    np.testing.assert_allclose(P, prox_group_l2(z, lr * alpha * np.sqrt(3)), rtol=1e-14, atol=1e-15)


def test_unpenalised_parameters_follow_adam_and_float32_is_kept():
    rng = np.random.default_rng(4)
    params = [rng.normal(size=(4, 3)).astype(np.float32), rng.normal(size=3).astype(np.float32)]
    ref = [p.copy() for p in params]
    lr, alpha = 0.01, 0.1
    pen = _pen("group_lasso", alpha)
    calls = []
    prox = pen.prox

    def counting_prox(*args, **kwargs):
        calls.append(1)
        return prox(*args, **kwargs)

    pen.prox = counting_prox  # a spy on this instance
    opt = ProxAdam(lr=lr, penalties={0: pen})
    plain = Adam(lr=lr)
    lam = alpha * np.sqrt(params[0].shape[1])  # group weight sqrt(|g|)
    n_shrunk = 0
    for t in range(1, 4):
        grads = [rng.normal(size=p.shape).astype(np.float32) for p in params]
        # the penalised parameter: Adam's step from its definition (state before the step),
        # then the weighted prox of lr * lam ||.||_2 in the metric d, by brute force per row
        p0 = params[0].astype(np.float64)
        m0 = np.zeros_like(p0) if opt.m is None else opt.m[0].astype(np.float64)
        v0 = np.zeros_like(p0) if opt.v is None else opt.v[0].astype(np.float64)
        z, _, _, d = adam_reference(p0, grads[0].astype(np.float64), m0, v0, t, lr, opt.betas, opt.eps)
        opt.step(params, grads)
        plain.step(ref, grads)
        for i in range(z.shape[0]):
            x_bf, _ = brute_force_group(z[i], d[i], lr * lam)
            # float32 parameters: the step and the prox are rounded to ~1e-7 relative
            np.testing.assert_allclose(params[0][i], x_bf, rtol=1e-5, atol=1e-6)
            n_shrunk += np.abs(x_bf - z[i]).max() > 1e-4  # the prox moved it beyond the tolerance
    assert n_shrunk > 0  # the check distinguishes the prox from Adam's step alone
    assert all(p.dtype == np.float32 for p in params)
    np.testing.assert_array_equal(params[1], ref[1])
    assert len(calls) == 3  # one prox per step
    assert opt.prox_time >= 0  # a timer: a step may take less than the clock's resolution


# --------------------------------------------------------------------------- convergence


def group_lasso_exact(X, y, lam, G, k):
    """Proximal gradient (step 1/L, prox_group_l2) run to a fixed point; checked by KKT."""
    n = X.shape[0]
    L = np.linalg.norm(X, 2) ** 2 / n
    W = np.zeros((G, k))
    for _ in range(200000):
        grad = (X.T @ (X @ W.ravel() - y) / n).reshape(G, k)
        Wn = prox_group_l2(W - grad / L, lam / L)
        if np.abs(Wn - W).max() < 1e-15:
            break
        W = Wn
    grad = (X.T @ (X @ W.ravel() - y) / n).reshape(G, k)
    for i in range(G):
        r = np.linalg.norm(W[i])
        if r > 0:
            assert np.linalg.norm(grad[i] + lam * W[i] / r) <= 1e-10
        else:
            assert np.linalg.norm(grad[i]) <= lam
    return W


def test_proxadam_with_decreasing_step_reaches_the_group_lasso_solution():
    rng = np.random.default_rng(0)
    n, G, k = 80, 5, 3
    X = rng.normal(size=(n, G * k))
    w_true = np.zeros((G, k))
    w_true[:2] = rng.normal(size=(2, k))
    y = X @ w_true.ravel() + 0.5 * rng.normal(size=n)
    alpha = 0.08
    W_star = group_lasso_exact(X, y, alpha * np.sqrt(k), G, k)
    zero = np.linalg.norm(W_star, axis=1) == 0
    assert zero.sum() == 3  # a problem with both active and inactive groups

    def grad(W):
        return (X.T @ (X @ W.ravel() - y) / n).reshape(G, k)

    results = {}
    for weighted in (True, False):
        P = np.zeros((G, k))
        opt = ProxAdam(lr=0.1, penalties={0: _pen("group_lasso", alpha)}, weighted=weighted)
        for t in range(1, 4001):
            opt.lr = 0.1 / np.sqrt(t)  # decreasing step
            opt.step([P], [grad(P)])
        results[weighted] = P
    # Weighted: reaches the exact solution (observed error ~2e-14 after 3000 steps; asserted
    # at 1e-10) with exactly the same zero groups.
    np.testing.assert_allclose(results[True], W_star, atol=1e-10, rtol=0)
    np.testing.assert_array_equal(np.linalg.norm(results[True], axis=1) == 0, zero)
    # The unweighted prox after an Adam step is not a proximal-gradient step in Adam's metric:
    # its limit is not the group-lasso solution (observed error ~0.2 and no zero group).
    assert np.abs(results[False] - W_star).max() > 1e-2


# --------------------------------------------------------------------------- selector


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=300, n_features=60, n_informative=6, n_redundant=0,
                               shuffle=False, random_state=0)
    return StandardScaler().fit_transform(X), y


def test_selector_group_lasso_zeros_appear_during_training(data, monkeypatch):
    X, y = data
    zero_rows = []

    class Recording(ProxAdam):
        def post_step(self, params):
            super().post_step(params)
            zero_rows.append(int((~params[0].any(axis=1)).sum()))

    monkeypatch.setattr(selector_module, "ProxAdam", Recording)
    prox_calls = []
    prox = GroupLasso.prox

    def counting_prox(self, *args, **kwargs):
        prox_calls.append(1)
        return prox(self, *args, **kwargs)

    monkeypatch.setattr(GroupLasso, "prox", counting_prox)
    sel = SparseAutoencoderSelector(constraint=None, penalty="group_lasso", alpha=2e-2, max_epochs=20,
                                    retrain=True, retrain_epochs=3, random_state=0).fit(X, y)
    zero_rows = np.array(zero_rows)
    # rows are exactly zero already during the first phase, not only at its end
    assert zero_rows[: len(zero_rows) // 2].max() > 0
    W1 = sel.coefs_[0]
    assert 0 < sel.support_.sum() < X.shape[1]
    np.testing.assert_array_equal(sel.support_, W1.any(axis=1))
    assert zero_rows[-1] == X.shape[1] - sel.support_.sum()  # support = rows non-zero after phase 1
    assert sel.support_[:6].sum() >= 4  # informative features first (shuffle=False)
    # one prox per first-phase step; the time is a timer (>= 0: clock resolution)
    assert len(prox_calls) == len(zero_rows) > 0
    assert sel.projection_time_ >= 0
    assert sel.score(X, y) > 0.75


def test_selector_group_mcp_runs_and_zeros_groups(data):
    X, y = data
    sel = SparseAutoencoderSelector(constraint=None, penalty="group_mcp", alpha=2e-2, max_epochs=20,
                                    retrain=False, random_state=0).fit(X, y)
    assert 0 < sel.support_.sum() < X.shape[1]
    np.testing.assert_array_equal(sel.support_, sel.coefs_[0].any(axis=1))


def test_selector_float32_penalty(data):
    X, y = data
    sel = SparseAutoencoderSelector(constraint=None, penalty="group_lasso", alpha=2e-2, max_epochs=5,
                                    retrain=False, random_state=0).fit(X.astype(np.float32), y)
    assert sel.coefs_[0].dtype == np.float32


# --------------------------------------------------------------------------- errors


def test_bad_combinations_raise(data):
    X, y = data
    with pytest.raises(ValueError, match="needs constraint=None"):
        SparseAutoencoderSelector(constraint="l1inf", penalty="group_lasso").fit(X, y)
    with pytest.raises(ValueError, match="penalty"):
        SparseAutoencoderSelector(constraint=None, penalty="lasso").fit(X, y)
    with pytest.raises(ValueError, match="alpha"):
        SparseAutoencoderSelector(constraint=None, penalty="group_lasso", alpha=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="mcp_gamma"):
        SparseAutoencoderSelector(constraint=None, penalty="group_mcp", mcp_gamma=0.0).fit(X, y)
    with pytest.raises(ValueError, match="weighted=False"):
        ProxAdam(penalties={0: _pen("group_mcp", 1.0)}, weighted=False)
    with pytest.raises(TypeError, match="GroupPenalty"):
        ProxAdam(penalties={0: ("group_lasso", 1.0)})
    opt = ProxAdam(penalties={0: _pen("group_lasso", 1.0)})
    with pytest.raises(ValueError, match="2-D"):
        opt.step([np.ones(3)], [np.ones(3)])


def test_group_penalty_shim_warns_validates_and_builds_the_sparsity_object():
    with pytest.warns(FutureWarning, match="GroupPenalty is deprecated"):
        pen = GroupPenalty("group_mcp", 0.5, gamma=4.0, axis=0)
    assert isinstance(pen, GroupMCP) and (pen.alpha, pen.gamma, pen.axis) == (0.5, 4.0, 0)
    with pytest.warns(FutureWarning):
        assert isinstance(GroupPenalty("group_lasso", 0.5), GroupLasso)
    for args, kw, match in [
        (("l1", 1.0), {}, "kind"),
        (("group_lasso", -1.0), {}, "alpha"),
        (("group_mcp", 1.0), {"gamma": 0.0}, "gamma"),
        (("group_lasso", 1.0), {"axis": 2}, "axis"),
    ]:
        with pytest.warns(FutureWarning), pytest.raises(ValueError, match=match):
            GroupPenalty(*args, **kw)
    # the deprecated object and the new one give the same steps
    rng = np.random.default_rng(7)
    P, g = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    Q = P.copy()
    with pytest.warns(FutureWarning):
        old = ProxAdam(lr=0.1, penalties={0: GroupPenalty("group_lasso", 0.3)})
    ProxAdam(lr=0.1, penalties={0: GroupLasso(alpha=0.3)}).step([Q], [g])
    old.step([P], [g])
    np.testing.assert_array_equal(P, Q)


@pytest.mark.parametrize("pen", [L1(alpha=0.2), L1Inf(alpha=3.0)])
def test_prox_step_with_l1_and_l1inf_penalties(pen):
    # L1: per-entry metric (weighted soft thresholding). L1Inf: scalar second moment, so the
    # step is the plain prox at step lr / d with d the scalar metric.
    rng = np.random.default_rng(8)
    P = 0.05 * rng.normal(size=(6, 4))
    g = rng.normal(size=P.shape)
    lr = 0.1
    scalar = isinstance(pen, L1Inf)
    opt = ProxAdam(lr=lr, penalties={0: pen}, scalar_second_moment=(0,) if scalar else ())
    p0 = P.copy()
    opt.step([P], [g])
    b1, b2 = opt.betas
    m_hat = g  # first step: m_hat = g, v_hat = g**2 (or its mean)
    v_hat = np.mean(g * g) if scalar else g * g
    d = np.sqrt(v_hat) + opt.eps
    z = p0 - lr * m_hat / d
    if scalar:
        ref = pen.prox(z, step=lr / d)
    else:
        ref = np.sign(z) * np.maximum(np.abs(z) - lr * pen.alpha / d, 0)  # soft thresholding at lr*alpha/d_i
    np.testing.assert_allclose(P, ref, rtol=1e-12, atol=1e-14)
    assert (P == 0).any() and P.any()
    if scalar:
        assert (~P.any(axis=1)).any()  # whole rows zeroed
    # refused at construction, before any parameter or state could change
    with pytest.raises(ValueError, match="scalar_second_moment"):
        ProxAdam(lr=lr, penalties={0: L1Inf(alpha=0.2)})


def test_axis0_penalty_is_the_transpose():
    rng = np.random.default_rng(5)
    P = rng.normal(size=(4, 6))
    g = rng.normal(size=P.shape)
    Pt = P.T.copy()
    a = ProxAdam(lr=0.1, penalties={0: _pen("group_lasso", 0.5, axis=0)})
    b = ProxAdam(lr=0.1, penalties={0: _pen("group_lasso", 0.5, axis=1)})
    a.step([P], [g])
    b.step([Pt], [g.T.copy()])
    np.testing.assert_allclose(P, Pt.T, rtol=1e-13, atol=1e-15)
    assert copy.deepcopy(a).penalties[0].axis == 0


@parametrize_with_checks(
    [
        SparseAutoencoderSelector(constraint=None, penalty="group_lasso",
                                  random_state=0),
        SparseAutoencoderSelector(constraint=None, penalty="group_mcp",
                                  random_state=0),
    ]
)
def test_sklearn_compatible_penalised(estimator, check):
    check(estimator)


def test_proxadam_groups_of_one_reach_sklearn_lasso():
    # Groups of size 1: the group lasso is the Lasso, (1 / 2n) ||y - Xw||^2 + alpha ||w||_1.
    from sklearn.linear_model import Lasso

    rng = np.random.default_rng(6)
    n, p = 60, 10
    X = rng.normal(size=(n, p))
    y = X[:, :3] @ np.array([1.5, -2.0, 1.0]) + 0.3 * rng.normal(size=n)
    alpha = 0.1
    ref = Lasso(alpha=alpha, fit_intercept=False, tol=1e-14, max_iter=100000).fit(X, y).coef_
    assert 0 < np.count_nonzero(ref) < p
    W = np.zeros((p, 1))
    opt = ProxAdam(lr=0.1, penalties={0: _pen("group_lasso", alpha)})
    for t in range(1, 4001):
        opt.lr = 0.1 / np.sqrt(t)
        opt.step([W], [(X.T @ (X @ W[:, 0] - y) / n)[:, None]])
    np.testing.assert_allclose(W[:, 0], ref, atol=1e-8, rtol=0)
    np.testing.assert_array_equal(W[:, 0] == 0, ref == 0)


def test_frozen_parameter_is_neither_stepped_nor_proxed():
    # a None gradient freezes the parameter: its prox is skipped too (with no second moment
    # yet, the metric would be eps and the prox would zero the whole array)
    W, b = np.ones((3, 2)), np.ones(2)
    opt = ProxAdam(lr=1e-3, penalties={0: GroupLasso(alpha=1e-3)})
    opt.step([W, b], [None, np.ones(2)])
    np.testing.assert_array_equal(W, np.ones((3, 2)))
    assert opt.frozen == {0}
    opt.step([W, b], [np.ones((3, 2)), np.ones(2)])
    assert opt.frozen == frozenset() and not np.array_equal(W, np.ones((3, 2)))
    W1 = W.copy()
    for _ in range(3):
        opt.step([W, b], [None, np.ones(2)])
    np.testing.assert_array_equal(W, W1)


@pytest.mark.parametrize(
    "penalties, params, match",
    [
        ({2: GroupLasso(alpha=1e-3)}, [np.ones((3, 2))], "key 2"),
        ({0: GroupLasso(alpha=1e-3)}, [np.ones(3)], "2-D"),
        # groups and weights that do not fit the parameter (found only by the prox before)
        ({0: GroupLasso(alpha=0.1, axis=0, groups=[0, 0, 1])}, [np.ones((4, 5))], "groups must be"),
        ({0: GroupLasso(alpha=0.1, weights=np.ones(3))}, [np.ones((4, 5))], "weights must have shape"),
        ({0: GroupMCP(alpha=0.1, weights=np.ones(3))}, [np.ones((4, 5))], "weights must have shape"),
        ({0: GroupLasso(alpha=-1.0)}, [np.ones((4, 5))], "alpha"),
    ],
)
def test_bad_penalised_parameter_raises_before_any_change(penalties, params, match):
    opt = ProxAdam(lr=0.1, penalties=penalties)
    before = [p.copy() for p in params]
    with pytest.raises(ValueError, match=match):
        opt.step(params, [np.ones_like(p) for p in params])
    assert opt.t == 0 and opt.m is None
    for p, q in zip(params, before):
        np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("key", [-1, 1.0, True, "0"])
def test_penalty_keys_must_be_parameter_indices(key):
    with pytest.raises(ValueError, match="parameter indices"):
        ProxAdam(penalties={key: GroupLasso(alpha=1e-3)})


def test_adam_hyperparameters_are_validated_naming_them():
    # an infinite learning rate was accepted and turned the parameters into -inf
    for kwargs, exc, match in [({"lr": np.inf}, ValueError, "^lr must be finite"),
                               ({"lr": 0.0}, ValueError, "^lr must be > 0"),
                               ({"lr": True}, TypeError, "^lr must be a real number"),
                               ({"eps": np.inf}, ValueError, "^eps must be finite"),
                               ({"betas": (0.9, 0.99, 0.5)}, ValueError, "^betas must be a pair"),
                               ({"betas": 0.9}, ValueError, "^betas must be a pair"),
                               ({"betas": (0.9, 1.0)}, ValueError, r"^betas must lie in \[0, 1\)"),
                               ({"betas": (-0.1, 0.9)}, ValueError, "^betas must be >= 0")]:
        for cls in (Adam, ProxAdam):
            with pytest.raises(exc, match=match):
                cls(**kwargs)
    opt = Adam(lr=np.float32(0.1), betas=[0.5, 0.5], eps=1e-6)
    assert type(opt.lr) is float and opt.betas == (0.5, 0.5)


@pytest.mark.parametrize("frozen_steps", [1, 10, 100])
def test_bias_correction_counts_each_parameter_s_own_updates(frozen_steps):
    """A parameter frozen (gradient None) for some steps: its first update is Adam's first
    step, lr * sign(g), whatever the other parameters did meanwhile (the shared step count
    made it 0.74, 0.48 or 0.98 times lr)."""
    opt = Adam(lr=1e-3)
    a, b = np.zeros(1), np.zeros(1)
    for _ in range(frozen_steps):
        opt.step([a, b], [None, np.ones(1)])
    opt.step([a, b], [np.ones(1), np.ones(1)])
    np.testing.assert_allclose(-a, 1e-3 / (1 + 1e-8), rtol=1e-12)
    assert opt.steps == [1, frozen_steps + 1] and opt.t == frozen_steps + 1


def test_prox_adam_rechecks_a_penalty_changed_between_steps():
    """A penalty made invalid by set_params after the first step: the error comes before
    anything changes (it came from inside the prox, after the Adam update)."""
    pen = GroupLasso(0.1)
    opt = ProxAdam(lr=0.1, penalties={0: pen})
    p, g = np.ones((3, 2)), np.ones((3, 2))
    opt.step([p], [g])
    p0, m0, t0 = p.copy(), opt.m[0].copy(), opt.t
    for change in ({"weights": np.ones(5)}, {"alpha": -1.0}):
        pen.set_params(**change)
        with pytest.raises(ValueError):
            opt.step([p], [g])
        np.testing.assert_array_equal(p, p0)
        np.testing.assert_array_equal(opt.m[0], m0)
        assert opt.t == t0
        pen.set_params(weights=None, alpha=0.1)


@pytest.mark.parametrize("indices, error", [([-1], ValueError), ([1.5], ValueError), ("12", TypeError),
                                            (3, TypeError), ([True], ValueError)])
def test_scalar_second_moment_indices_are_checked(indices, error):
    with pytest.raises(error, match="scalar_second_moment"):
        Adam(scalar_second_moment=indices)


def test_scalar_second_moment_index_out_of_range_and_params_not_arrays():
    with pytest.raises(ValueError, match="scalar_second_moment has index 5, but only 1 parameters"):
        Adam(scalar_second_moment=[5]).step([np.ones(2)], [np.ones(2)])
    with pytest.raises(TypeError, match=r"params\[0\] must be a numpy array"):
        Adam().step([[1.0, 2.0]], [[0.1, 0.2]])
