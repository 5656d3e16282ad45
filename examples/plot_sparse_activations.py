"""
==================================================================
Clipped sparse activations keep a depth-100 network stable
==================================================================

Deep random networks with sparsifying activations: the shifted ReLU drifts, the clipped ReLU
stays put. This reproduces the phenomenon of Price et al., "Deep Neural Network Initialization
with Sparsity Inducing Activations" (ICLR 2024, arXiv:2402.16184).

Random inputs go through a random network of depth 100 and width 1000 initialised at the edge
of chaos (:func:`~skproj.activations.edge_of_chaos`) for 85% zeros at the fixed point
:math:`q^* = 1`, with

(a) the shifted ReLU :math:`\\max(x - \\tau, 0)`: the variance map has slope exactly 1 at
    :math:`q^*` (semi-stable), so the finite-width fluctuations push the variance away and it
    never comes back;
(b) the clipped ReLU :math:`\\min(\\max(x - \\tau, 0), m)` with :math:`m = 1`: slope < 1
    (stable), the variance stays near :math:`q^*` and the activations keep about 85% zeros at
    every layer.

Run as a script, ``python examples/plot_sparse_activations.py [FIGURE.png]`` also saves the
figure (the user guide's copy is ``doc/user_guide/images/sparse_activations.png``).
"""

import sys

import matplotlib.pyplot as plt
import numpy as np

from skproj.activations import (
    edge_of_chaos,
    get_activation,
    max_stable_clip,
    variance_map,
    variance_map_slope,
)

DEPTH, WIDTH, N_SAMPLES = 100, 1000, 100
SPARSITY, Q_STAR, CLIP = 0.85, 1.0, 1.0
CASES = [("shifted_relu", None, "(a) shifted ReLU"), ("clipped_relu", CLIP, f"(b) clipped ReLU, m = {CLIP:g}")]


def propagate(name, clip, seed):
    """Per-layer pre-activation variance and fraction of zero activations of one random network."""
    eoc = edge_of_chaos(name, SPARSITY, clip, q_star=Q_STAR)
    forward = get_activation(name).forward
    rng = np.random.RandomState(seed)
    h = np.sqrt(Q_STAR) * rng.standard_normal((N_SAMPLES, WIDTH))  # first pre-activations ~ N(0, q*)
    variances, zeros = [], []
    for _ in range(DEPTH):
        z = forward(h, eoc.tau, np.inf if clip is None else clip)
        zeros.append(np.mean(z == 0))
        W, b = eoc.init_layer(WIDTH, WIDTH, random_state=rng)
        h = z @ W + b
        variances.append(np.mean(h * h))
    return eoc, np.array(variances), np.array(zeros)


# %%
# Propagate through both networks
# -------------------------------
# For each activation we draw a fresh random layer at every depth, with the variances
# returned by :func:`~skproj.activations.edge_of_chaos`, and record the mean squared
# pre-activation and the fraction of exact zeros.

results = {}
for name, clip, label in CASES:
    eoc, variances, zeros = propagate(name, clip, seed=0)
    slope = variance_map_slope(name, Q_STAR, eoc.tau, clip, eoc.sigma_w2)
    results[name] = (eoc, variances, zeros, slope)
    print(
        f"{label}: tau={eoc.tau:.4f} sigma_w2={eoc.sigma_w2:.4f} sigma_b2={eoc.sigma_b2:.4f} "
        f"V'(q*)={slope:.4f}; layer {DEPTH}: variance {variances[-1]:.3g}, zeros {zeros[-1]:.3f}"
    )
print(f"max_stable_clip(clipped_relu, {SPARSITY}) = {max_stable_clip('clipped_relu', SPARSITY, Q_STAR):.3f}")

# %%
# Plot: variance, sparsity and the variance maps
# ----------------------------------------------
# Left: the shifted ReLU's variance leaves :math:`q^*` after about a dozen layers and grows
# geometrically; the clipped ReLU's stays near 1. Middle: the fraction of zeros follows.
# Right: the infinite-width variance maps :math:`V(q) - q`; the shifted ReLU's touches zero at
# :math:`q^*` and is positive on both sides (semi-stable), the clipped one crosses it with a
# slope below 1 (stable).

fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
layers = np.arange(1, DEPTH + 1)
q = np.linspace(0.05, 3.0, 300)
for (name, clip, label), color in zip(CASES, ["tab:red", "tab:blue"]):
    eoc, variances, zeros, slope = results[name]
    axes[0].semilogy(layers, variances, color=color, label=label)
    axes[1].plot(layers, zeros, color=color, label=label)
    axes[2].plot(q, variance_map(name, q, eoc.tau, clip, eoc.sigma_w2, eoc.sigma_b2) - q, color=color,
                 label=f"{label}, V'(q*) = {slope:.2f}")
axes[0].axhline(Q_STAR, color="k", lw=0.8, ls="--", label="q* = 1")
axes[0].set(xlabel="layer", ylabel="pre-activation variance (mean of h^2)",
            title=f"variance, depth {DEPTH}, width {WIDTH}")
axes[1].axhline(SPARSITY, color="k", lw=0.8, ls="--", label=f"target {SPARSITY:.0%}")
axes[1].set(xlabel="layer", ylabel="fraction of zero activations", title="activation sparsity", ylim=(0.4, 1.0))
axes[2].axhline(0, color="k", lw=0.8)
axes[2].axvline(Q_STAR, color="k", lw=0.8, ls="--")
axes[2].set(xlabel="q", ylabel="V(q) - q", title="variance map at the edge of chaos (width -> inf)",
            ylim=(-0.6, 0.6))
for ax in axes:
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
fig.tight_layout()

if len(sys.argv) > 1 and sys.argv[1].endswith(".png"):  # python examples/plot_sparse_activations.py out.png
    fig.savefig(sys.argv[1], dpi=110)
    print(f"saved {sys.argv[1]}")
plt.show()
