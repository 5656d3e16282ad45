"""SparseAutoencoderSelector with the clipped sparsity-inducing activations of skproj.activations.

Price et al., ICLR 2024 (arXiv 2402.16184): the hidden layers are initialised at the edge of
chaos for a target fraction of zeros; the fitted selector reports the measured fraction.
"""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from skproj import SparseAutoencoderSelector
from skproj._network import init_params, loss_and_grad
from skproj.activations import edge_of_chaos, get_activation, max_stable_clip

SPARSE = ["clipped_relu", "clipped_soft_threshold"]


def _data(n=300, d=200, n_classes=4, seed=0, dtype=np.float64):
    X, y = make_classification(
        n_samples=n,
        n_features=d,
        n_informative=min(10, d),
        n_redundant=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        random_state=seed,
    )
    return StandardScaler().fit_transform(X).astype(dtype), y


def _hidden(sel, X):
    """Hidden activations (encoder, decoder) of a fitted selector, recomputed here with the
    public activation functions and the fitted threshold and clip."""
    act = get_activation(sel.activation)
    tau, clip = sel.activation_threshold_, sel.activation_clip_
    W1, W2, W3, _ = sel.coefs_
    b1, b2, b3, _ = sel.intercepts_
    a1 = act.forward(X @ W1 + b1, tau, clip)
    Z = a1 @ W2 + b2
    a3 = act.forward(Z @ W3 + b3, tau, clip)
    return a1, Z, a3


def _at_init(activation, sparsity, seed, **kw):
    # One Adam step of size 1e-12 (no projection, no retraining): the fitted network is the
    # initial one up to ~1e-12 per weight.
    params = dict(
        radius=np.inf,
        activation=activation,
        activation_sparsity=sparsity,
        hidden_layer_size=1000,
        learning_rate=1e-12,
        max_epochs=1,
        retrain=False,
        random_state=seed,
    )
    params.update(kw)
    return SparseAutoencoderSelector(**params)


_CHECKED = [
    SparseAutoencoderSelector(activation="clipped_relu"),
    SparseAutoencoderSelector(
        constraint="l12",
        activation="clipped_soft_threshold",
        activation_sparsity=0.5,
        activation_clip=2.0,
        early_stopping=True,
    ),
]


@parametrize_with_checks(_CHECKED)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# --------------------------------------------------------------------------- initialisation
@pytest.mark.parametrize(
    "activation, sparsity",
    [("clipped_relu", 0.7), ("clipped_relu", 0.85), ("clipped_soft_threshold", 0.3), ("clipped_soft_threshold", 0.85)],
)
def test_initial_sparsity_matches_target(activation, sparsity):
    X, y = _data()
    enc, dec = [], []
    for seed in range(8):
        sel = _at_init(activation, sparsity, seed).fit(X, y)
        a1, _, a3 = _hidden(sel, X)
        enc.append(np.mean(a1 == 0))
        dec.append(np.mean(a3 == 0))
    # Encoder: 1000 hidden units fed by 200 standardised features; the fraction of zeros over
    # the units of one draw has a standard deviation of about 0.01 (measured over 20 seeds), so
    # every draw is within 0.04 of the target.
    np.testing.assert_allclose(enc, sparsity, atol=0.04)
    # Decoder: its pre-activations are fed by only 4 logits, so one draw fluctuates more
    # (standard deviation about 0.035); the mean of 8 draws is within 0.04.
    assert abs(np.mean(dec) - sparsity) < 0.04


def test_initial_sparsity_does_not_depend_on_feature_scale():
    # The first layer is scaled by the mean square of X, so the target is met without scaling.
    X, y = _data()
    X_scaled = 10.0 * X + 3.0
    a1, _, _ = _hidden(_at_init("clipped_relu", 0.85, 0).fit(X_scaled, y), X_scaled)
    assert abs(np.mean(a1 == 0) - 0.85) < 0.04


def test_initial_variances_are_edge_of_chaos():
    X, y = _data()
    sel = _at_init("clipped_relu", 0.85, 0).fit(X, y)
    clip = min(1.0, max_stable_clip("clipped_relu", 0.85))
    tau, sigma_w2, sigma_b2 = edge_of_chaos("clipped_relu", 0.85, clip)
    assert sel.activation_threshold_ == pytest.approx(tau)
    assert sel.activation_clip_ == pytest.approx(clip)
    W1, W2, W3, W4 = sel.coefs_
    b1, b2, b3, b4 = sel.intercepts_
    h, d = 1000, X.shape[1]
    # layers fed by the activations: W ~ N(0, sigma_w2 / h) (chi_1 = 1)
    assert np.var(W2) * h == pytest.approx(sigma_w2, rel=0.1)
    assert np.var(W4) * h == pytest.approx(sigma_w2, rel=0.1)
    # layers feeding them: pre-activation variance q* = 1 on standardised data
    assert np.var(W1) * d == pytest.approx(1 - sigma_b2, rel=0.1)
    assert np.var(np.concatenate([b1, b3, b4])) == pytest.approx(sigma_b2, rel=0.1)
    assert np.var(X @ W1 + b1) == pytest.approx(1.0, rel=0.1)


@pytest.mark.parametrize(
    "activation, sparsity",
    [("clipped_relu", 0.85), ("clipped_relu", 0.95), ("clipped_soft_threshold", 0.95)],
)
def test_default_clip(activation, sparsity):
    X, y = _data(n=60, d=10)
    sel = _at_init(activation, sparsity, 0, hidden_layer_size=8).fit(X, y)
    expected = min(1.0, max_stable_clip(activation, sparsity))
    assert sel.activation_clip_ == pytest.approx(expected)
    assert sel.activation_clip_ <= max_stable_clip(activation, sparsity)


# --------------------------------------------------------------------------- training
@pytest.mark.parametrize("activation", SPARSE)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fit_reports_measured_sparsity(activation, dtype):
    X, y = _data(n=200, d=30, n_classes=3, dtype=dtype)
    sel = SparseAutoencoderSelector(
        radius=0.3, activation=activation, activation_sparsity=0.7, max_epochs=30, random_state=0
    ).fit(X, y)
    for W, b in zip(sel.coefs_, sel.intercepts_):
        assert W.dtype == dtype and b.dtype == dtype
    assert sel.transform(X).dtype == dtype
    assert sel.predict_proba(X).dtype == dtype
    a1, _, a3 = _hidden(sel, X)
    assert a1.dtype == dtype
    measured = (np.count_nonzero(a1 == 0) + np.count_nonzero(a3 == 0)) / (a1.size + a3.size)
    assert sel.activation_sparsity_ == measured
    # the same with the activation written out here (exact zeros where |z| <= tau or z <= tau)
    W1, b1 = sel.coefs_[0], sel.intercepts_[0]
    z1 = X @ W1 + b1
    tau, clip = sel.activation_threshold_, sel.activation_clip_
    zero = (z1 <= tau) if activation == "clipped_relu" else (np.abs(z1) <= tau)
    np.testing.assert_array_equal(a1 == 0, zero)
    # outputs bounded by the clip
    assert np.abs(a1).max() <= clip and np.abs(a3).max() <= clip
    # the network learned something: training accuracy well above chance (1/3)
    assert sel.score(X, y) > 0.8
    assert 0 < sel.support_.sum() < X.shape[1]


def test_relu_reports_sparsity_too():
    X, y = _data(n=120, d=20, n_classes=2)
    sel = SparseAutoencoderSelector(radius=0.3, max_epochs=5, random_state=0).fit(X, y)
    assert sel.activation_threshold_ is None and sel.activation_clip_ is None
    W1, W2, W3, _ = sel.coefs_
    b1, b2, b3, _ = sel.intercepts_
    a1 = np.maximum(X @ W1 + b1, 0)
    a3 = np.maximum((a1 @ W2 + b2) @ W3 + b3, 0)
    expected = (np.count_nonzero(a1 == 0) + np.count_nonzero(a3 == 0)) / (a1.size + a3.size)
    assert sel.activation_sparsity_ == pytest.approx(expected, abs=1e-12)


def test_infinite_clip_is_the_shifted_relu():
    X, y = _data(n=120, d=20, n_classes=2)
    sel = _at_init("clipped_relu", 0.8, 0, activation_clip=np.inf, hidden_layer_size=50).fit(X, y)
    assert sel.activation_clip_ == np.inf
    a1, _, _ = _hidden(sel, X)
    z1 = X @ sel.coefs_[0] + sel.intercepts_[0]
    np.testing.assert_array_equal(a1, np.maximum(z1 - sel.activation_threshold_, 0))


@pytest.mark.parametrize("activation", SPARSE)
def test_gradient_of_clipped_network_matches_finite_differences(activation):
    # The selector hands loss_and_grad a (forward, derivative) pair of the public functions.
    act = get_activation(activation)
    tau, clip = 0.3, 0.8
    pair = (lambda z: act.forward(z, tau, clip), lambda z, a: act.derivative(z, tau, clip))
    rng = np.random.RandomState(0)
    n, d, h, k = 7, 5, 6, 3
    X = rng.randn(n, d) * 1.5
    Y = np.eye(k)[rng.randint(0, k, n)]
    params = init_params(d, h, k, np.float64, rng)
    for p in params:
        p += 0.5 * rng.randn(*p.shape)
    _, grads, _ = loss_and_grad(X, Y, params, pair, 0.7, "smooth_l1")
    eps = 1e-6
    for p, g in zip(params, grads):
        num = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + eps
            lp = loss_and_grad(X, Y, params, pair, 0.7, "smooth_l1", need_grad=False)[0]
            p[idx] = old - eps
            lm = loss_and_grad(X, Y, params, pair, 0.7, "smooth_l1", need_grad=False)[0]
            p[idx] = old
            num[idx] = (lp - lm) / (2 * eps)
        np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-7)


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "params, match",
    [
        (dict(activation="clipped_relu", activation_sparsity=1.0), "activation_sparsity"),
        (dict(activation="clipped_relu", activation_sparsity=-0.1), "activation_sparsity"),
        (dict(activation="clipped_relu", activation_sparsity="high"), "activation_sparsity"),
        (dict(activation="clipped_relu", activation_clip=0.0), "activation_clip"),
        (dict(activation="clipped_relu", activation_clip=-1.0), "activation_clip"),
        (dict(activation="clipped_relu", activation_clip="1"), "activation_clip"),
        (dict(activation="shifted_relu"), "activation"),
        # the clipped ReLU zeroes at least half of N(0, 1) pre-activations (tau >= 0)
        (dict(activation="clipped_relu", activation_sparsity=0.3), "activation_sparsity=0.3"),
    ],
)
def test_bad_params_raise(params, match):
    X, y = _data(n=40, d=5, n_classes=2)
    with pytest.raises(ValueError, match=match):
        SparseAutoencoderSelector(max_epochs=1, **params).fit(X, y)


def test_soft_threshold_accepts_low_sparsity():
    X, y = _data(n=60, d=10, n_classes=2)
    sel = _at_init("clipped_soft_threshold", 0.0, 0, hidden_layer_size=20).fit(X, y)
    assert sel.activation_threshold_ == 0.0


def test_clipped_activation_with_differentiable_gates():
    # The gates start at 1 (uniform), so the edge-of-chaos start is unchanged; the fitted W1
    # has the gates folded in, and the reported sparsity is that of the fitted network.
    X, y = _data(n=150, d=30, n_classes=3)
    sel = SparseAutoencoderSelector(
        constraint=None,
        penalty="differentiable",
        activation="clipped_relu",
        activation_sparsity=0.7,
        max_epochs=10,
        random_state=0,
    ).fit(X, y)
    a1, Z, a3 = _hidden(sel, X)
    assert sel.activation_sparsity_ == (np.count_nonzero(a1 == 0) + np.count_nonzero(a3 == 0)) / (a1.size + a3.size)
    # predictions come from the same network (logits Z)
    np.testing.assert_array_equal(sel.predict(X), sel.classes_[np.argmax(Z, axis=1)])
