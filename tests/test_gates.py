"""Tests of the differentiable gates (Lee, arXiv 1910.03201) and of their use in the selector."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.special import expit
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from skproj._gates import DifferentiableGates, gates_backward, gates_forward, pnorm_penalty
from skproj._optim import Adam
from skproj._selector import SparseAutoencoderSelector


# ---------------------------------------------------------------- independent reference
def _ref_gates(gamma, s):
    """Slow float64 reference of the gate map, written from the definitions."""
    gamma = np.asarray(gamma, dtype=np.float64)
    n = len(gamma)
    q = np.exp(gamma) / np.sum(np.exp(gamma))
    t = 1.0 / (1.0 + np.exp(-s)) / n
    r = np.array([max(qi - t, 0.0) for qi in q])
    return r / r.sum()


def _ref_pnorm(a, p):
    return sum(x**p for x in a if x > 0) ** (1.0 / p)


def _random_point(rng, n):
    # Scores spread enough that some gates are zero and some are not, away from the kinks.
    while True:
        gamma = rng.normal(scale=1.5, size=n)
        s = rng.normal()
        q = np.exp(gamma) / np.exp(gamma).sum()
        t = expit(s) / n
        if np.min(np.abs(q - t)) > 1e-3 / n and np.sum(q > t) >= 2 and np.sum(q <= t) >= 1:
            return gamma, s


# ---------------------------------------------------------------- forward
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_reference_and_properties(dtype):
    rng = np.random.default_rng(0)
    for _ in range(20):
        n = int(rng.integers(1, 30))
        gamma = rng.normal(scale=2.0, size=n).astype(dtype)
        s = float(rng.normal(scale=2.0))
        a, _ = gates_forward(gamma, s)
        assert a.dtype == dtype
        rtol = 1e-5 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(a, _ref_gates(gamma.astype(np.float64), s), rtol=rtol, atol=rtol / n)
        assert np.all(a >= 0)
        assert a.max() > 0  # the largest score always beats the threshold sigmoid(s)/n < 1/n
        np.testing.assert_allclose(a.sum(), 1.0, rtol=10 * rtol)


@settings(max_examples=200, deadline=None)
@given(
    gamma=arrays(np.float64, st.integers(1, 40), elements=st.floats(-30, 30)),
    s=st.floats(-30, 30),
)
def test_forward_properties_hypothesis(gamma, s):
    a, (q, t, _sig, _S, active) = gates_forward(gamma, s)
    assert np.all(a >= 0) and a.max() > 0
    np.testing.assert_allclose(a.sum(), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(a > 0, q > t)  # zero exactly where the score is below t


@settings(max_examples=200, deadline=None)
@given(
    dtype=st.sampled_from([np.float32, np.float64]),
    n=st.integers(1, 40),
    ties=st.booleans(),
    seed=st.integers(0, 2**16),
    s=st.floats(15, 800),
)
def test_forward_saturated_threshold_hypothesis(dtype, n, ties, seed, s):
    # sigmoid(s) rounds to 1 (t = 1/n): the largest scores must stay active (it gave 0/0 = NaN
    # with uniform scores); with uniform scores the gates are uniform, the exact limit
    gamma = np.zeros(n) if ties else np.random.default_rng(seed).normal(size=n)
    gamma = gamma.astype(dtype)
    a, (q, t, _sig, _S, active) = gates_forward(gamma, s)
    assert a.dtype == dtype and np.all(np.isfinite(a)) and np.all(a >= 0)
    assert active[np.argmax(q)] and t < q.max()
    np.testing.assert_array_equal(a > 0, q > t)
    np.testing.assert_allclose(a.sum(), 1.0, rtol=1e-5 if dtype == np.float32 else 1e-12)
    if ties:
        np.testing.assert_allclose(a, np.full(n, 1.0 / n), rtol=1e-6)
        g_gamma, g_s = gates_backward(np.arange(n, dtype=dtype), (q, t, _sig, _S, active))
        assert np.all(np.isfinite(g_gamma)) and np.all(np.isfinite(g_s))


@settings(max_examples=200, deadline=None)
@given(
    gamma=arrays(np.float64, st.integers(1, 40),
                 elements=st.integers(-30 * 2**20, 30 * 2**20).map(lambda v: v / 2**20)),
    s=st.floats(-30, 30),
    c=st.integers(-8, 8),
)
def test_forward_shift_invariance_hypothesis(gamma, s, c):
    """Adding a constant to every score changes nothing (softmax). The scores lie on a grid of
    2^-20 so that the shift is exact: a rounded shift moves the scores' differences, which the
    gates amplify by 1 / sum(max(q - t, 0)) when the threshold is close to the scores (Hypothesis
    found gamma = [2.2e-16, 0], s = 16: + 3.0 doubles the difference, the gates move by 7e-10)."""
    a, _ = gates_forward(gamma, s)
    a2, _ = gates_forward(gamma + c, s)
    np.testing.assert_allclose(a2, a, rtol=1e-9, atol=1e-15)


def test_forward_exact_zero_on_open_set():
    # A gate below the threshold is exactly 0.0 and stays 0.0 under small perturbations of
    # all free parameters (an open set).
    rng = np.random.default_rng(1)
    gamma = np.array([2.0, 1.0, -3.0, 0.5])
    s = 0.0
    a, (q, t, *_rest) = gates_forward(gamma, s)
    assert q[2] < t and a[2] == 0.0
    for _ in range(50):
        a2, _ = gates_forward(gamma + 1e-3 * rng.normal(size=4), s + 1e-3 * rng.normal())
        assert a2[2] == 0.0 and np.all(a2[[0, 1, 3]] > 0)


def test_forward_inputs_not_modified_and_errors():
    gamma = np.array([0.1, 0.2, 0.3])
    g0 = gamma.copy()
    gates_forward(gamma, 0.5)
    np.testing.assert_array_equal(gamma, g0)
    with pytest.raises(ValueError, match="gamma"):
        gates_forward(np.array([0.0, np.nan]), 0.0)
    with pytest.raises(ValueError, match="gamma"):
        gates_forward(np.zeros((2, 2)), 0.0)
    with pytest.raises(ValueError, match="s must"):
        gates_forward(np.zeros(3), np.inf)
    with pytest.raises(ValueError, match="alpha"):
        pnorm_penalty(np.ones(3) / 3, -1.0)
    with pytest.raises(ValueError, match="p must"):
        pnorm_penalty(np.ones(3) / 3, 1.0, p=1.0)


# ---------------------------------------------------------------- gradients vs finite differences
def _fd_grad(f, x, h=1e-6):
    g = np.zeros_like(x)
    for i in range(x.size):
        xp, xm = x.copy(), x.copy()
        xp.flat[i] += h
        xm.flat[i] -= h
        g.flat[i] = (f(xp) - f(xm)) / (2 * h)
    return g


@pytest.mark.parametrize("seed", range(5))
def test_gate_gradients_match_finite_differences(seed):
    rng = np.random.default_rng(seed)
    n = 7
    gamma, s = _random_point(rng, n)
    c = rng.normal(size=n)  # loss L(a) = <c, a> + 0.5 ||a||^2
    a, cache = gates_forward(gamma, s)
    gg, gs = gates_backward(c + a, cache)

    def L(gam, ss):
        b = _ref_gates(gam, ss)
        return c @ b + 0.5 * b @ b

    np.testing.assert_allclose(gg, _fd_grad(lambda x: L(x, s), gamma), rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(gs, _fd_grad(lambda x: L(gamma, x[0]), np.array([s])), rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_penalty_gradient_matches_finite_differences(seed):
    rng = np.random.default_rng(10 + seed)
    n, p, alpha = 6, 0.5, 0.3
    gamma, s = _random_point(rng, n)
    a = _ref_gates(gamma, s)
    value, grad = pnorm_penalty(a, alpha, p)
    np.testing.assert_allclose(value, alpha * _ref_pnorm(a, p), rtol=1e-12)
    # gradient w.r.t. a on the positive entries
    pos = a > 0

    def Ra(x):
        b = a.copy()
        b[pos] = x
        return alpha * _ref_pnorm(b, p)

    np.testing.assert_allclose(grad[pos], _fd_grad(Ra, a[pos], h=1e-7), rtol=1e-5)
    # and through the gate map, w.r.t. the free parameters
    _, cache = gates_forward(gamma, s)
    gg, gs = gates_backward(grad, cache)
    Rfree = lambda gam, ss: alpha * _ref_pnorm(_ref_gates(gam, ss), p)  # noqa: E731
    np.testing.assert_allclose(gg, _fd_grad(lambda x: Rfree(x, s), gamma), rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(gs, _fd_grad(lambda x: Rfree(gamma, x[0]), np.array([s])), rtol=1e-5, atol=1e-9)


def test_penalty_range_on_simplex():
    # ||a||_p on the simplex: 1 at a vertex, n ** (1/p - 1) at the uniform vector.
    n, p = 9, 0.5
    assert pnorm_penalty(np.eye(n)[3], 1.0, p)[0] == pytest.approx(1.0)
    assert pnorm_penalty(np.full(n, 1.0 / n), 1.0, p)[0] == pytest.approx(n ** (1 / p - 1))


def test_zeroed_gate_receives_gradient_through_normalisation():
    rng = np.random.default_rng(3)
    gamma, s = _random_point(rng, 8)
    a, cache = gates_forward(gamma, s)
    j = int(np.flatnonzero(a == 0)[0])
    c = rng.normal(size=8)
    gg, gs = gates_backward(c, cache)
    fd = _fd_grad(lambda x: c @ _ref_gates(x, s), gamma)
    assert abs(gg[j]) > 1e-8  # non-zero, through the softmax normalisation
    np.testing.assert_allclose(gg[j], fd[j], rtol=1e-5)
    assert abs(gs[0]) > 1e-8


# ---------------------------------------------------------------- gated logistic regression
def _gated_logreg_grads(X, y, w, b, gates, lam=0.0):
    """Loss and gradients of mean logistic loss of ``X * (d * a) @ w + b`` plus the penalty."""
    n, d = X.shape
    a = gates.forward()
    g = d * a
    z = X @ (g * w) + b[0]
    pr = expit(z)
    loss = np.mean(np.logaddexp(0, z) - y * z)
    r = (pr - y) / n
    gw_eff = X.T @ r
    pen, pen_grad = gates.penalty(a)
    gg, gs = gates.backward(d * w * gw_eff + pen_grad)
    return loss + pen, a, [g * gw_eff + lam * w, np.array([r.sum()]), gg, gs]


def _logreg_data(rng, n, d, coef):
    X = rng.standard_normal((n, d))
    beta = np.zeros(d)
    beta[: len(coef)] = coef
    y = (X @ beta + 0.3 * rng.standard_normal(n) > 0).astype(float)
    return X, y


def test_gated_logistic_regression_reaches_exact_zeros_with_plain_adam():
    rng = np.random.default_rng(0)
    d = 20
    X, y = _logreg_data(rng, 400, d, [2.0, -2.0, 1.5])
    gates = DifferentiableGates(d, alpha=1e-2)
    w = 0.1 * rng.standard_normal(d)
    b = np.zeros(1)
    params = [w, b] + gates.params
    opt = Adam(lr=1e-2)
    first_zero_step = None
    for step in range(600):
        _, a, grads = _gated_logreg_grads(X, y, w, b, gates)
        if first_zero_step is None and np.any(a == 0.0):
            first_zero_step = step
        opt.step(params, grads)  # plain Adam: no threshold, prox or mask anywhere
    a = gates.forward()
    assert first_zero_step is not None
    # exact 0.0 for (at least most of) the noise features, the three informative ones kept
    assert np.all(a[:3] > 0)
    assert np.sum(a[3:] == 0.0) >= 15
    # the gated model still fits the data
    z = X @ (d * a * w) + b[0]
    assert np.mean((z > 0) == y) > 0.9


def test_zeroed_gate_revives_when_the_data_favour_it():
    # Phase 1: y depends on features 0, 1, 2; the gates of the others become exactly 0.
    # Phase 2: the data change so that y depends on 0, 1, 2 and strongly on feature 5 (gate 0).
    # The gate parameters keep receiving gradient through the normalisation (softmax) and the
    # threshold, and with plain SGD gate 5 becomes non-zero again and ends up the largest.
    rng = np.random.default_rng(0)
    d, n, lr = 10, 400, 1.0
    X = rng.standard_normal((n, d))
    gates = DifferentiableGates(d, alpha=1e-2)
    w = np.ones(d)
    b = np.zeros(1)
    params = [w, b] + gates.params

    def sgd(y, steps):
        for _ in range(steps):
            _, _, grads = _gated_logreg_grads(X, y, w, b, gates)
            for p, g in zip(params, grads):
                p -= lr * g

    y1 = (X[:, :3] @ np.array([3.0, 2.0, 1.0]) > 0).astype(float)
    sgd(y1, 3000)
    a = gates.forward()
    assert a[5] == 0.0 and np.all(a[:3] > 0)
    _, _, grads = _gated_logreg_grads(X, (X[:, [0, 1, 2, 5]] @ np.array([1.0, 1, 1, 3]) > 0).astype(float), w, b, gates)
    assert grads[2][5] != 0.0  # gradient reaches gamma_5 although a_5 == 0
    y2 = (X[:, [0, 1, 2, 5]] @ np.array([1.0, 1.0, 1.0, 3.0]) > 0).astype(float)
    sgd(y2, 3000)
    a = gates.forward()
    assert a[5] > 0
    assert np.argmax(a) == 5


# ---------------------------------------------------------------- selector
def _selector_data():
    X, y = make_classification(
        n_samples=300, n_features=40, n_informative=4, n_redundant=0, shuffle=False, random_state=0
    )
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_selector_differentiable_gives_exact_zero_gates(dtype):
    X, y = _selector_data()
    X = X.astype(dtype)
    sel = SparseAutoencoderSelector(
        penalty="differentiable", alpha=0.05, max_epochs=40, random_state=0
    ).fit(X, y)
    assert sel.gates_.dtype == dtype
    assert np.all(sel.gates_ >= 0)
    assert np.any(sel.gates_ == 0.0)
    np.testing.assert_array_equal(sel.support_, sel.gates_ > 0)
    assert 0 < sel.support_.sum() < X.shape[1]
    # discarded features have exactly zero first-layer rows after double descent
    assert np.all(sel.coefs_[0][~sel.support_] == 0.0)
    assert sel.transform(X).shape[1] == sel.support_.sum()
    assert sel.transform(X).dtype == dtype
    assert sel.score(X, y) > 0.8


def test_selector_differentiable_max_features_and_no_retrain(monkeypatch):
    from skproj._training import Trainer

    # spy: the first-layer weights at the end of the gated phase, before the gates are folded in
    raw = {}
    run = Trainer.run

    def spy(self, params, *args, **kwargs):
        n = run(self, params, *args, **kwargs)
        if kwargs.get("phase", "select") == "select":
            raw["W1"] = params[0].copy()
        return n

    monkeypatch.setattr(Trainer, "run", spy)
    X, y = _selector_data()
    sel = SparseAutoencoderSelector(
        penalty="differentiable", alpha=0.01, max_features=5, retrain=False,
        max_epochs=20, random_state=0,
    ).fit(X, y)
    assert sel.support_.sum() <= 5
    kept = np.flatnonzero(sel.support_)
    assert np.all(sel.gates_[kept] >= np.max(sel.gates_[~sel.support_]))
    # predictions use the folded gates: the logits of the gated network (it reads
    # X * (n_features * gates), here on the kept features only) with the weights of the gated
    # phase (retrain=False: nothing trained after it) equal decision_function
    scale = X.shape[1] * sel.gates_ * sel.support_
    b1, b2 = sel.intercepts_[:2]
    Z = np.maximum((X * scale) @ raw["W1"] + b1, 0.0) @ sel.coefs_[1] + b2
    assert not np.allclose(Z[:, 1] - Z[:, 0], 0.0)
    np.testing.assert_allclose(sel.decision_function(X), Z[:, 1] - Z[:, 0], rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(sel.predict(X), sel.classes_[np.argmax(Z, axis=1)])


def test_selector_penalty_needs_constraint_none():
    X, y = _selector_data()
    with pytest.raises(ValueError, match="constraint=None"):
        SparseAutoencoderSelector(constraint="l1inf", penalty="differentiable").fit(X, y)


@parametrize_with_checks(
    [SparseAutoencoderSelector(penalty="differentiable")]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
