"""
====================================================================
ProxAdam with group lasso and group MCP: support recovery
====================================================================

:class:`~skproj.optim.ProxAdam` takes Adam's step on a smooth loss and then applies the
proximal operator of a group penalty in Adam's own metric
(:func:`~skproj.prox.weighted_prox_group_l2` for the group lasso,
:func:`~skproj.prox.weighted_prox_group_mcp` for the group MCP), as in Deleu & Bengio,
arXiv:2102.03869. Groups become exactly zero during training, with no thresholding step.

The problem: least squares :math:`\\frac{1}{2n}\\|y - XW\\|^2` with a weight :math:`W` of 60
groups (rows) of 5 coefficients, of which only 6 groups are non-zero. Both penalties are run
with the same strength and a decreasing step size; we record how many groups are non-zero
along the iterations and compare the final support with the true one. MCP is nearly unbiased
on large groups: its estimates are closer to the truth than the group lasso's, which shrinks
every surviving group.

The MCP concavity matters: with ``gamma=10`` (used here) or 20 the group MCP finds exactly the
6 true groups; with ``gamma=3`` or 1 (more concave) it kept 52-54 noise groups on this problem
in our runs, so check the support when you lower it.
"""

import matplotlib.pyplot as plt
import numpy as np

from skproj.optim import ProxAdam
from skproj.sparsity import GroupLasso, GroupMCP

rng = np.random.default_rng(0)
n, n_groups, size, n_true = 200, 60, 5, 6
X = rng.standard_normal((n, n_groups * size))
W_true = np.zeros((n_groups, size))
true_groups = rng.choice(n_groups, n_true, replace=False)
W_true[true_groups] = rng.uniform(0.5, 1.5, (n_true, size)) * rng.choice([-1, 1], (n_true, size))
y = X @ W_true.ravel() + 0.1 * rng.standard_normal(n)


def grad(W):
    """Gradient of (1 / 2n) ||y - X vec(W)||^2."""
    return (X.T @ (X @ W.ravel() - y) / n).reshape(W.shape)


def train(kind, alpha=0.05, gamma=10.0, n_steps=3000):
    W = np.zeros((n_groups, size))
    penalty = GroupLasso(alpha=alpha) if kind == "group_lasso" else GroupMCP(alpha=alpha, gamma=gamma)
    opt = ProxAdam(lr=0.05, penalties={0: penalty})
    n_nonzero = []
    for t in range(1, n_steps + 1):
        opt.lr = 0.05 / np.sqrt(t)
        opt.step([W], [grad(W)])  # in place: Adam step, then the weighted prox of each group
        n_nonzero.append(int(np.count_nonzero(np.abs(W).max(axis=1))))
    return W, np.array(n_nonzero)


results = {kind: train(kind) for kind in ("group_lasso", "group_mcp")}
support_true = np.zeros(n_groups, bool)
support_true[true_groups] = True
for kind, (W, nz) in results.items():
    support = np.abs(W).max(axis=1) > 0
    err = np.linalg.norm(W - W_true) / np.linalg.norm(W_true)
    print(f"{kind:12s} non-zero groups {support.sum():2d} (true {n_true}), true groups found "
          f"{(support & support_true).sum()}/{n_true}, false positives {(support & ~support_true).sum()}, "
          f"relative error of W {err:.3f}")

# %%
# Non-zero groups during training, and the final group norms
# ----------------------------------------------------------

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
for kind, (W, nz) in results.items():
    ax1.plot(np.arange(1, nz.size + 1), nz, label=kind)
ax1.axhline(n_true, color="k", ls="--", lw=0.8, label="true number of groups")
ax1.set_xscale("log")
ax1.set(xlabel="ProxAdam step", ylabel="non-zero groups", title="exact zeros appear during training")
ax1.legend()
ax1.grid(alpha=0.3)

g = np.arange(n_groups)
ax2.bar(g - 0.3, np.linalg.norm(W_true, axis=1), width=0.3, color="k", label="true")
for off, (kind, (W, _)) in zip((0.0, 0.3), results.items()):
    ax2.bar(g + off, np.linalg.norm(W, axis=1), width=0.3, label=kind)
ax2.set(xlabel="group", ylabel="group l2 norm", title="final group norms")
ax2.legend()
fig.tight_layout()
plt.show()
