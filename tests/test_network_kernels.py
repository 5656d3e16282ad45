"""The Cython kernels of the autoencoder's training step against plain numpy, and float32 throughout."""

import numpy as np
import pytest

from skproj import _optim
from skproj._kernels import _adam, _autoencoder
from skproj._network import init_params, loss_and_grad
from skproj._optim import Adam


def _numpy_adam_only(monkeypatch):
    monkeypatch.setattr(_optim, "_fusable", lambda *a: False)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_adam_equals_numpy(dtype, monkeypatch):
    rng = np.random.RandomState(0)
    params = [rng.randn(30, 7).astype(dtype), rng.randn(7).astype(dtype), rng.randn(7, 3).astype(dtype)]
    grads = [[rng.randn(*p.shape).astype(dtype) for p in params] for _ in range(6)]

    def run():
        ps = [p.copy() for p in params]
        opt = Adam(lr=0.01, scalar_second_moment=(0,))
        for g in grads:
            opt.step(ps, g)
        return ps, opt

    fused, opt_f = run()
    _numpy_adam_only(monkeypatch)
    plain, opt_p = run()
    # per-entry second moment: the same operations in the same precision, bit for bit
    for i in (1, 2):
        np.testing.assert_array_equal(fused[i], plain[i])
        np.testing.assert_array_equal(opt_f.v[i], opt_p.v[i])
    # scalar second moment: the mean of g**2 is summed in double by the kernel
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(fused[0], plain[0], rtol=rtol)
    np.testing.assert_allclose(opt_f.v[0], opt_p.v[0], rtol=rtol)
    for p, m, v in zip(fused, opt_f.m, opt_f.v):
        assert p.dtype == m.dtype == v.dtype == dtype


@pytest.mark.parametrize(
    "params, grads, match",
    [
        # a larger array than the state was allocated for: the fused kernel would write past m, v
        ([np.zeros(6)], [np.ones(6)], "moment estimates have shape"),
        ([np.zeros(2), np.zeros(3)], [np.ones(2), np.ones(3)], "moment estimates for 1"),
        ([np.zeros(2)], [np.ones(3)], r"grads\[0\] has shape"),
        ([np.zeros(2)], [np.ones(2), np.ones(2)], "2 gradients for 1"),
    ],
)
def test_adam_refuses_other_parameters_before_any_change(params, grads, match):
    opt = Adam(lr=0.1)
    opt.step([np.zeros(2)], [np.ones(2)])
    m, v = opt.m[0].copy(), opt.v[0].copy()
    before = [p.copy() for p in params]
    with pytest.raises(ValueError, match=match):
        opt.step(params, grads)
    assert opt.t == 1
    np.testing.assert_array_equal(opt.m[0], m)
    np.testing.assert_array_equal(opt.v[0], v)
    for p, q in zip(params, before):
        np.testing.assert_array_equal(p, q)
    opt.reset()
    if len(params) == len(grads) and all(p.shape == g.shape for p, g in zip(params, grads)):
        opt.step(params, grads)  # after reset() the new parameters are accepted
        assert opt.t == 1


def test_sum_squares():
    g = np.random.RandomState(1).randn(1001).astype(np.float32)
    assert _adam.sum_squares(g) == pytest.approx(float(np.sum(g.astype(np.float64) ** 2)), rel=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("smooth", [True, False])
def test_reconstruction_kernel(dtype, smooth):
    rng = np.random.RandomState(2)
    Xhat = (2 * rng.randn(9, 11)).astype(dtype)
    X = rng.randn(9, 11).astype(dtype)
    Xhat[0, :3] = X[0, :3] + np.array([1, -1, 0.5], dtype=dtype)  # on the kink and inside
    R = (Xhat - X).astype(np.float64)
    if smooth:
        want_loss = np.sum(np.where(np.abs(R) < 1, 0.5 * R * R, np.abs(R) - 0.5))
        want_grad = np.clip(Xhat - X, -1, 1) * dtype(0.3)
    else:
        want_loss = np.sum(R * R)
        want_grad = (2 * (Xhat - X)) * dtype(0.3)
    out = Xhat.copy()
    loss = _autoencoder.reconstruction_loss_grad(out, X, smooth, 0.3)
    assert loss == pytest.approx(want_loss, rel=1e-6 if dtype == np.float32 else 1e-12)
    np.testing.assert_array_equal(out, want_grad)


@pytest.mark.parametrize("dec", ["logits", "hidden"])
def test_float32_throughout(dec):
    """No float64 temporaries leak into the float32 network's gradients or Adam's state."""
    rng = np.random.RandomState(3)
    X = rng.randn(16, 12).astype(np.float32)
    Y = np.eye(3, dtype=np.float32)[rng.randint(0, 3, 16)]
    params = init_params(12, 5, 3, np.float32, rng, decoder_input=dec)
    _, grads, _ = loss_and_grad(X, Y, params, "relu", 1.0, "smooth_l1", dec,
                                input_scale=np.ones(12, dtype=np.float32))
    assert all(g.dtype == np.float32 for g in grads)
    opt = Adam(scalar_second_moment=(0,))
    opt.step(params, grads[:8])
    assert all(a.dtype == np.float32 for a in params + opt.m + opt.v)


@pytest.mark.parametrize("decoder_input", ["logits", "hidden"])
@pytest.mark.parametrize("gated", [False, True])
def test_uncentred_biases_give_on_x_what_the_params_give_on_centred_x(decoder_input, gated):
    """skproj._training.uncentred: training reads X - c; the converted biases give the same
    loss, logits and reconstruction residual on X itself (the reconstruction targets X)."""
    from skproj._network import forward
    from skproj._training import uncentred

    rng = np.random.RandomState(0)
    X = rng.standard_normal((30, 12)) + rng.uniform(-50, 50, 12)
    Y = np.eye(3)[rng.randint(0, 3, 30)]
    c = X.mean(axis=0)
    params = init_params(12, 8, 3, np.float64, rng, decoder_input=decoder_input)
    g = rng.uniform(0.5, 2.0, 12) if gated else None
    args = ("relu", 1.0, "smooth_l1", decoder_input)
    centred = loss_and_grad(X - c, Y, params, *args, need_grad=False, input_scale=g)
    conv = uncentred(params, c, g)
    plain = loss_and_grad(X, Y, conv, *args, need_grad=False, input_scale=g)
    assert plain[0] == pytest.approx(centred[0], rel=1e-12)
    assert plain[2] == pytest.approx(centred[2], rel=1e-12)  # (cross-entropy, reconstruction)
    if not gated:
        np.testing.assert_allclose(forward(X, conv, "relu"), forward(X - c, params, "relu"), rtol=1e-10, atol=1e-10)
    assert all(a is b for a, b in zip(conv[::2], params[::2]))  # weights untouched
    assert uncentred(params, None) == params
