"""A small numpy network: forward and backward of the supervised autoencoder, nothing else.

Architecture (Perez, Condat, Barlaud, "Near-linear time projection onto the l1,infty ball;
application to sparse autoencoders", arXiv 2307.09836, Section 5; and the authors' public
description of their supervised autoencoder)::

    encoder:  X (n, d) -> Linear(d, h) -> act -> Linear(h, k) = Z   (k = n_classes, Z = logits)
    decoder:  Z (n, k) -> Linear(k, h) -> act -> Linear(h, d) = Xhat

    loss = mean_i CE(softmax(Z_i), y_i) + reconstruction_weight * R(Xhat, X)

With ``decoder_input="hidden"`` (our variant, not from the paper) the decoder reads the
encoder's hidden activations instead of the logits: ``A1 (n, h) -> Linear(h, h) -> act ->
Linear(h, d) = Xhat``, so ``W3`` has shape ``(h, h)``. The logits are a ``k``-dimensional
bottleneck (``k = 2`` for two classes), through which the reconstruction can only capture a
rank-``k`` structure of ``X``; the hidden layer lets it use the correlations among the
selected features (see ``benchmarks/explore_selection.py``).

With ``input_scale`` (a vector ``g`` of shape ``(d,)``) the input features are scaled,
``X * g``, before the first layer (the differentiable gates of the selector); the
reconstruction target stays ``X``, and the gradient with respect to ``g`` is returned too.

In all cases ``R`` is the mean over all ``n * d`` entries of the smooth L1 loss (Huber with
``beta = 1``: ``0.5 r**2`` if ``|r| < 1`` else ``|r| - 0.5``) or of the squared error ``r**2``.

Parameters are a list of 8 arrays ``[W1, b1, W2, b2, W3, b3, W4, b4]`` with ``W1`` of shape
``(d, h)`` (rows = input features), in the dtype of ``X`` (float32 or float64). The forward
pass and its backward pass are written once, in :func:`loss_and_grad`.

Activations live in a small registry, :data:`ACTIVATIONS`, mapping a name to
``(forward, derivative)`` where ``forward(z)`` returns ``phi(z)`` and ``derivative(z, a)``
returns ``phi'(z)`` given the pre-activation ``z`` and ``a = phi(z)``. Use
:func:`register_activation` to add one. Wherever a name is expected, a ``(forward, derivative)``
pair of such callables is accepted too (the selector passes the clipped activations of
:mod:`skproj.activations` this way, with its fitted threshold and clip).
"""

import numpy as np

from ._kernels import _autoencoder as _ae

__all__ = [
    "ACTIVATIONS",
    "register_activation",
    "init_params",
    "init_edge_of_chaos",
    "forward",
    "loss_and_grad",
    "hidden_zero_fraction",
]


def _relu(z):
    return np.maximum(z, 0)


def _relu_deriv(z, a):
    return (z > 0).astype(z.dtype)


def _silu(z):
    # z * sigmoid(z); scipy.special.expit is stable for large |z| and keeps float32.
    from scipy.special import expit

    return z * expit(z)


def _silu_deriv(z, a):
    from scipy.special import expit

    s = expit(z)
    return s * (1 + z * (1 - s))


def _tanh(z):
    return np.tanh(z)


def _tanh_deriv(z, a):
    return 1 - a * a


#: name -> (forward(z), derivative(z, a)). Extend with :func:`register_activation`.
ACTIVATIONS = {
    "relu": (_relu, _relu_deriv),
    "silu": (_silu, _silu_deriv),
    "tanh": (_tanh, _tanh_deriv),
}

#: The set of registered names (the same object is used by the estimators' parameter
#: validation, so registered names become valid values of ``activation``).
ACTIVATION_NAMES = set(ACTIVATIONS)


def register_activation(name, forward, derivative):
    """Add an activation to the registry.

    Parameters
    ----------
    name : str
        Name used as the ``activation`` parameter of the estimators.
    forward : callable
        ``forward(z) -> a``, elementwise, preserving shape and dtype.
    derivative : callable
        ``derivative(z, a) -> phi'(z)`` given the pre-activation ``z`` and ``a = forward(z)``.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}.")
    if not (callable(forward) and callable(derivative)):
        raise TypeError("forward and derivative must be callables.")
    ACTIVATIONS[name] = (forward, derivative)
    ACTIVATION_NAMES.add(name)


def _resolve(act):
    """``(forward, derivative)`` of ``act``: a registry name, or such a pair passed as is."""
    if isinstance(act, str):
        return ACTIVATIONS[act]
    return act


def init_params(n_features, n_hidden, n_classes, dtype, rng, decoder_input="logits"):
    """Glorot-uniform weights and zero biases (Glorot and Bengio, AISTATS 2010, eq. 16).

    Each weight of a Linear(fan_in, fan_out) layer is drawn from
    ``U(-s, s)`` with ``s = sqrt(6 / (fan_in + fan_out))``. ``W3`` has shape
    ``(n_classes, n_hidden)``, or ``(n_hidden, n_hidden)`` when ``decoder_input="hidden"``.

    Returns
    -------
    list of 8 ndarrays of dtype ``dtype``: ``[W1, b1, W2, b2, W3, b3, W4, b4]``.
    """
    dec_in = n_hidden if decoder_input == "hidden" else n_classes
    shapes = [(n_features, n_hidden), (n_hidden, n_classes), (dec_in, n_hidden), (n_hidden, n_features)]
    params = []
    for fan_in, fan_out in shapes:
        s = np.sqrt(6.0 / (fan_in + fan_out))
        params.append(rng.uniform(-s, s, size=(fan_in, fan_out)).astype(dtype))
        params.append(np.zeros(fan_out, dtype=dtype))
    return params


def init_edge_of_chaos(n_features, n_hidden, n_classes, eoc, q_in, q_star, dtype, rng, decoder_input="logits"):
    """Edge-of-chaos initialisation of the 4 layers (Price et al., ICLR 2024, arXiv 2402.16184).

    Every layer is drawn by :func:`skproj.activations.init_layer` (``W_ij ~ N(0, s2 / fan_in)``,
    ``b_j ~ N(0, sigma_b2)``). Layers fed by activations (hidden -> logits, hidden ->
    reconstruction, and hidden -> hidden when ``decoder_input="hidden"``) use
    ``s2 = eoc.sigma_w2``; layers fed by the data (mean square ``q_in``) or by the logits
    (mean square ``q_star``) use ``s2 = (q_star - sigma_b2) / q_in`` so that the hidden
    pre-activations start with variance ``q_star``.

    Parameters
    ----------
    n_features, n_hidden, n_classes : int
    eoc : result of :func:`skproj.activations.edge_of_chaos`
    q_in : float > 0
        Mean square of the input data.
    q_star : float > 0
        Fixed-point variance of the hidden pre-activations.
    dtype : numpy dtype
    rng : numpy.random.RandomState
    decoder_input : {"logits", "hidden"}, default="logits"

    Returns
    -------
    list of 8 ndarrays ``[W1, b1, W2, b2, W3, b3, W4, b4]``.
    """
    from .activations import init_layer

    kw = dict(random_state=rng, dtype=dtype)
    W1, b1 = init_layer(n_features, n_hidden, (q_star - eoc.sigma_b2) / q_in, eoc.sigma_b2, **kw)
    W2, b2 = eoc.init_layer(n_hidden, n_classes, **kw)
    if decoder_input == "hidden":  # fed by activations, like W2 and W4
        W3, b3 = eoc.init_layer(n_hidden, n_hidden, **kw)
    else:
        W3, b3 = init_layer(n_classes, n_hidden, (q_star - eoc.sigma_b2) / q_star, eoc.sigma_b2, **kw)
    W4, b4 = eoc.init_layer(n_hidden, n_features, **kw)
    return [W1, b1, W2, b2, W3, b3, W4, b4]


def forward(X, params, act):
    """Encoder forward pass only: the class logits, shape ``(n, n_classes)``."""
    W1, b1, W2, b2 = params[:4]
    phi, _ = _resolve(act)
    return phi(X @ W1 + b1) @ W2 + b2


def _log_softmax(Z):
    Zs = Z - Z.max(axis=1, keepdims=True)
    return Zs - np.log(np.exp(Zs).sum(axis=1, keepdims=True))


def loss_and_grad(
    X, Y, params, act, reconstruction_weight, reconstruction_loss, decoder_input="logits", need_grad=True,
    input_scale=None,
):
    """Loss of the supervised autoencoder and its gradient with respect to ``params``.

    Parameters
    ----------
    X : ndarray of shape (n, d), float32 or float64
    Y : ndarray of shape (n, k)
        Class indicators, dtype of ``X``: one-hot rows, or one-hot rows times a weight per
        sample (class weights); the cross-entropy is ``-sum(Y * log softmax(Z)) / n``.
    params : list of 8 ndarrays
    act : str or (callable, callable)
        Key of :data:`ACTIVATIONS`, or a ``(forward, derivative)`` pair.
    reconstruction_weight : float >= 0
    reconstruction_loss : {"smooth_l1", "squared"}
    decoder_input : {"logits", "hidden"}, default="logits"
        What the decoder reads: the logits ``Z`` (``W3`` of shape ``(k, h)``) or the encoder's
        hidden activations (``W3`` of shape ``(h, h)``).
    need_grad : bool, default=True
    input_scale : ndarray of shape (d,) or None, default=None
        Scale ``g`` of the input features: the first layer reads ``X * g`` (computed as
        ``X @ (g[:, None] * W1)``); the reconstruction target stays ``X``.

    Returns
    -------
    loss : float
        ``cross_entropy + reconstruction_weight * reconstruction``.
    grads : list of 8 ndarrays, or None when not ``need_grad``
        Gradients of ``params``; with ``input_scale``, a 9th entry: the gradient with respect
        to ``input_scale``.
    parts : tuple (cross_entropy, reconstruction)
    """
    W1, b1, W2, b2, W3, b3, W4, b4 = params
    phi, dphi = _resolve(act)
    n, d = X.shape
    dtype = X.dtype
    W1_in = W1 if input_scale is None else input_scale[:, None] * W1
    # ---- forward (biases added in place: no extra (n, d) or (n, h) temporaries)
    z1 = X @ W1_in
    z1 += b1
    a1 = phi(z1)
    Z = a1 @ W2
    Z += b2
    hidden = decoder_input == "hidden"
    dec_in = a1 if hidden else Z
    z3 = dec_in @ W3
    z3 += b3
    a3 = phi(z3)
    Xhat = a3 @ W4
    Xhat += b4
    logp = _log_softmax(Z)
    ce = -float(np.sum(logp * Y)) / n
    # One pass over the (n, d) residual (skproj._kernels._autoencoder): the loss, and the scaled
    # gradient with respect to Xhat written over Xhat (clip(R, -1, 1) or 2 R, times
    # reconstruction_weight / (n d), in the dtype of X).
    dXhat = Xhat
    total = _ae.reconstruction_loss_grad(
        dXhat, np.ascontiguousarray(X), reconstruction_loss == "smooth_l1", reconstruction_weight / (n * d)
    )
    rec = total / (n * d)
    loss = ce + reconstruction_weight * rec
    if not need_grad:
        return loss, None, (ce, rec)
    # ---- backward
    gW4 = a3.T @ dXhat
    gb4 = dXhat.sum(axis=0)
    dz3 = dXhat @ W4.T
    dz3 *= dphi(z3, a3)
    gW3 = dec_in.T @ dz3
    gb3 = dz3.sum(axis=0)
    # d/dZ of -sum_c Y_c log softmax(Z)_c is (sum_c Y_c) softmax(Z) - Y (p - Y for one-hot rows)
    dZ = (np.exp(logp) * Y.sum(axis=1, keepdims=True) - Y) / dtype.type(n)
    if hidden:
        da1 = dZ @ W2.T + dz3 @ W3.T
    else:
        dZ = dZ + dz3 @ W3.T
        da1 = dZ @ W2.T
    gW2 = a1.T @ dZ
    gb2 = dZ.sum(axis=0)
    dz1 = da1
    dz1 *= dphi(z1, a1)
    gW1 = X.T @ dz1
    gb1 = dz1.sum(axis=0)
    grads = [gW1, gb1, gW2, gb2, gW3, gb3, gW4, gb4]
    if input_scale is not None:  # chain rule through W1_in = g[:, None] * W1
        grads[0] = input_scale[:, None] * gW1
        grads.append(np.einsum("ij,ij->i", W1, gW1))
    grads = [g.astype(dtype, copy=False) for g in grads]
    return loss, grads, (ce, rec)


def hidden_zero_fraction(X, params, act, decoder_input="logits"):
    """Fraction of exact zeros among the hidden activations (encoder and decoder) on ``X``."""
    phi, _ = _resolve(act)
    W1, b1, W2, b2, W3, b3 = params[:6]
    a1 = phi(X @ W1 + b1)
    dec_in = a1 if decoder_input == "hidden" else a1 @ W2 + b2
    a3 = phi(dec_in @ W3 + b3)
    return (np.count_nonzero(a1 == 0) + np.count_nonzero(a3 == 0)) / (a1.size + a3.size)
