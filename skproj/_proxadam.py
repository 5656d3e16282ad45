r"""Proximal Adam: Adam's step on the smooth loss, then the (weighted) prox of a sparsity penalty.

Implements the adaptive proximal method of T. Deleu and Y. Bengio, "Structured sparsity
inducing adaptive optimizers for deep learning", arXiv:2102.03869, 2021 (their proximal
Adam, Section 3 and Algorithm 1): for a loss ``f(theta) + sum_g Omega_g(theta_g)`` with ``f``
smooth, every step is the exact minimiser of Adam's quadratic model of ``f`` plus the
penalty,

.. math:: \theta_{t} = \arg\min_x\ \langle \hat m_t, x - \theta_{t-1}\rangle
    + \frac{1}{2\,\mathrm{lr}} \sum_i d_i (x_i - \theta_{t-1,i})^2 + \Omega(x),
    \qquad d = \sqrt{\hat v_t} + \epsilon,

that is, the Adam step ``z = theta - lr * m_hat / d`` followed by the *weighted* proximal
operator ``argmin_x 0.5 sum_i d_i (x_i - z_i)^2 + lr * Omega(x)``, computed by the penalty
object's :meth:`~skproj.sparsity.Penalty.prox` with ``metric=d`` (a
:class:`~skproj.sparsity.GroupLasso`, :class:`~skproj.sparsity.GroupMCP` or
:class:`~skproj.sparsity.L1`: Newton on one scalar per group; a penalty without a weighted
prox, :class:`~skproj.sparsity.L1Inf`, needs a scalar second moment, whose metric is one
number). Groups whose weighted norm falls below the threshold become exactly zero during
training: no thresholding step is involved.

Bias correction (the one rule used here, for the step and the prox alike): the metric is
``d = sqrt(v / (1 - beta2**t)) + eps``, the bias-corrected ``sqrt(v_hat) + eps`` that Adam's
step divides by. The display above is then one quadratic model, so the step is a genuine
proximal-gradient step in the metric ``diag(d) / lr`` and its fixed points are exactly the
stationary points of ``f + Omega``. Deleu and Bengio's public code bias-corrects the step but
not the prox weights; with uncorrected weights the metric of the prox is smaller than the
step's by ``sqrt(1 - beta2**t)`` (about 0.03 at ``t = 1``, 0.3 at ``t = 100`` with
``beta2 = 0.999``), which multiplies the effective threshold by up to ~30 in the first steps
and zeroes groups that the model would keep.
"""

import time
import warnings
from numbers import Integral, Real

import numpy as np

from .sparsity import GroupLasso, GroupMCP, L1Inf, Penalty
from ._optim import Adam

__all__ = ["GroupPenalty", "ProxAdam"]

_KINDS = ("group_lasso", "group_mcp")


class GroupPenalty:
    r"""Deprecated: build :class:`skproj.sparsity.GroupLasso` / :class:`skproj.sparsity.GroupMCP`.

    ``GroupPenalty("group_lasso", alpha, axis=axis)`` returns
    ``GroupLasso(alpha=alpha, axis=axis)`` and ``GroupPenalty("group_mcp", alpha, gamma, axis)``
    returns ``GroupMCP(alpha=alpha, gamma=gamma, axis=axis)`` (group weights
    ``lambda_g = alpha * sqrt(|g|)`` in both), with a FutureWarning.

    Parameters
    ----------
    kind : {"group_lasso", "group_mcp"}
    alpha : float >= 0
    gamma : float > 0, default=3.0
        MCP concavity (ignored for the group lasso).
    axis : {0, 1}, default=1

    Returns
    -------
    GroupLasso or GroupMCP

    Raises
    ------
    ValueError
        If ``kind`` is unknown, ``alpha < 0``, ``gamma <= 0`` or ``axis`` not in {0, 1}.
    """

    def __new__(cls, kind, alpha, gamma=3.0, axis=1):
        warnings.warn(
            "GroupPenalty is deprecated: pass skproj.sparsity.GroupLasso(alpha, axis=axis) or "
            "skproj.sparsity.GroupMCP(alpha, gamma, axis=axis) to ProxAdam.",
            FutureWarning,
            stacklevel=2,
        )
        if kind not in _KINDS:
            raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}.")
        if not isinstance(alpha, Real) or not np.isfinite(alpha) or alpha < 0:
            raise ValueError(f"alpha must be a finite float >= 0, got {alpha!r}.")
        if not isinstance(gamma, Real) or not np.isfinite(gamma) or gamma <= 0:
            raise ValueError(f"gamma must be a finite float > 0, got {gamma!r}.")
        if isinstance(axis, bool) or not isinstance(axis, Integral) or axis not in (0, 1):
            raise ValueError(f"axis must be 0 or 1, got {axis!r}.")
        if kind == "group_lasso":
            return GroupLasso(alpha=float(alpha), axis=int(axis))
        return GroupMCP(alpha=float(alpha), gamma=float(gamma), axis=int(axis))


class ProxAdam(Adam):
    r"""Proximal Adam: Adam's step, then the weighted prox of a penalty in Adam's metric.

    Each call of :meth:`~skproj.optim.Adam.step` takes Adam's bias-corrected step on the smooth loss (the
    gradients passed in) and then, for each penalised parameter array, replaces the result
    ``Z`` by the weighted proximal operator

    .. math:: \arg\min_X\ \tfrac12 \sum_i d_i (X_i - Z_i)^2 + \mathrm{lr}\cdot\Omega(X),
        \qquad d = \sqrt{\hat v} + \epsilon,

    by one call of ``penalty.prox(Z, step=lr, metric=d, out=Z)`` (for the group lasso:
    :func:`skproj.prox.weighted_prox_group_l2` with threshold ``lr * lambda_g``; group MCP:
    :func:`skproj.prox.weighted_prox_group_mcp` with concavity ``gamma_0 / lr``). ``d`` is the
    same bias-corrected preconditioner the step used (see the module docstring for why this is
    the one consistent rule). A parameter with a scalar second moment
    (``scalar_second_moment``) has a scalar ``d``.

    Parameters
    ----------
    lr : float > 0, default=1e-3
        Step size; may be changed between steps (``opt.lr = ...``) for a decreasing schedule.
    betas : tuple of two floats in [0, 1), default=(0.9, 0.999)
    eps : float > 0, default=1e-8
    penalties : dict {int: skproj.sparsity.Penalty}, default=None
        Penalty of each penalised parameter, keyed by its index in the ``params`` list
        (e.g. ``{0: GroupLasso(alpha=1e-2)}``). A penalty without a weighted prox
        (:class:`~skproj.sparsity.L1Inf`) needs its parameter in ``scalar_second_moment``.
    weighted : bool, default=True
        ``False`` applies the plain (unweighted) prox ``penalty.prox(Z, step=lr)`` after the
        Adam step instead, for comparison (this is *not* a proximal-gradient step in Adam's
        metric; its fixed points are not the stationary points of the penalised loss). Not
        for group MCP.
    **adam_kwargs
        Further keyword arguments of :class:`skproj.optim.Adam` (``scalar_second_moment``).

    Attributes
    ----------
    prox_time : float
        Seconds spent in the proximal operators.
    n_floored : int
        For group MCP: number of entries (over all the parameters) whose metric was raised to
        ``lr / gamma_0 * (1 + 1e-6)`` at the last step (see Notes).

    Raises
    ------
    TypeError
        If a penalty is not a :class:`skproj.sparsity.Penalty`.
    ValueError
        If a key of ``penalties`` is not an int >= 0; if ``weighted=False`` with a group MCP
        penalty; if an :class:`~skproj.sparsity.L1Inf` penalty's parameter is not in
        ``scalar_second_moment`` (with ``weighted=True``); at ``step``, before anything
        changes, if a penalised index is out of range or its parameter does not have the
        shape its penalty needs.

    Notes on frozen parameters: a parameter whose gradient is ``None`` at a step is neither
    updated nor passed through its prox at that step.

    Notes
    -----
    Group MCP needs ``gamma_0 * d_i > lr`` for the subproblem to be convex. An entry whose
    ``d_i`` is smaller (a coordinate with a vanishing gradient history) gets the metric
    ``d_i' = (1 + 1e-6) lr / gamma_0`` instead, for the step and the prox alike: its Adam step
    is rescaled by ``d_i / d_i'`` before the prox, so the update is still the exact minimiser
    of one quadratic model plus the penalty, in a metric that is at least Adam's.

    Reference: T. Deleu and Y. Bengio, "Structured sparsity inducing adaptive optimizers for
    deep learning", arXiv:2102.03869, 2021 (proximal Adam, Algorithm 1; weighted proximal
    operators of the group lasso and group MCP, Section 4).
    """

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, *, penalties=None, weighted=True, **adam_kwargs):
        super().__init__(lr=lr, betas=betas, eps=eps, **adam_kwargs)
        penalties = {} if penalties is None else dict(penalties)
        for key, pen in penalties.items():
            if isinstance(key, bool) or not isinstance(key, Integral) or key < 0:
                raise ValueError(
                    f"penalties must be keyed by parameter indices (int >= 0), got key {key!r}."
                )
            if not isinstance(pen, Penalty):
                raise TypeError(
                    f"penalties[{key!r}] must be a skproj.sparsity.Penalty (e.g. GroupLasso; the former "
                    f"GroupPenalty builds one), got {type(pen).__name__}."
                )
            if not weighted and isinstance(pen, GroupMCP):
                raise ValueError("weighted=False is not available for a group MCP penalty.")
            if weighted and isinstance(pen, L1Inf) and key not in self.scalar_second_moment:
                raise ValueError(
                    f"penalties[{key!r}] is L1Inf, which has no weighted prox: put {key} in "
                    "scalar_second_moment (a scalar metric) or pass weighted=False."
                )
        self.penalties = penalties
        self.weighted = bool(weighted)
        self.prox_time = 0.0
        self.n_floored = 0

    def _metric(self, i):
        """``sqrt(v_hat) + eps`` of parameter ``i``: an array, or a float for a scalar moment."""
        c2 = 1.0 - self.betas[1] ** self.steps[i]
        v = np.asarray(self.v[i], dtype=np.float64)
        d = np.sqrt(v / c2) + self.eps
        return float(d) if d.ndim == 0 else d

    def _check_params(self, params):
        """Every penalised index exists and has the shape its penalty needs (before any change)."""
        for i, pen in self.penalties.items():
            if i >= len(params):
                raise ValueError(
                    f"penalties has key {i}, but only {len(params)} parameters were passed."
                )
            if np.ndim(params[i]) != 2 and getattr(pen, "axis", None) is not None:
                raise ValueError(
                    f"penalised parameter {i} must be 2-D, got shape {np.shape(params[i])}."
                )
            # a penalty's parameters, groups and weights, at every step: they may have been
            # changed (set_params) since the last one
            pen._validate_params()
            if hasattr(pen, "group_strengths"):
                pen.group_strengths(np.shape(params[i]))

    def post_step(self, params):
        """Apply the (weighted) prox of each penalty to its parameter, in place (frozen
        parameters, whose gradient was ``None``, are left alone)."""
        t0 = time.perf_counter()
        self.n_floored = 0
        for i, pen in self.penalties.items():
            if i in self.frozen:
                continue
            p = params[i]
            if not self.weighted:
                pen.prox(p, step=self.lr, out=p)
                continue
            d = self._metric(i)
            if isinstance(pen, GroupMCP):
                d = self._floor_mcp_metric(i, p, d, pen.gamma / self.lr)
            pen.prox(p, step=self.lr, metric=d, out=p)
        self.prox_time += time.perf_counter() - t0

    def _floor_mcp_metric(self, i, p, d, gamma):
        """Raise the metric to ``(1 + 1e-6) / gamma`` where it is smaller, redoing those steps."""
        d_min = (1.0 + 1e-6) / gamma  # smallest metric with gamma * d > 1 (after rounding too)
        d = np.broadcast_to(d, p.shape)
        low = d < d_min
        if low.any():
            self.n_floored += int(low.sum())
            # redo the step of the floored entries in the floored metric:
            # z' = theta + (z - theta) * d / d' with z - theta = -lr * m_hat / d.
            m_hat = np.asarray(self.m[i], dtype=np.float64) / (1.0 - self.betas[0] ** self.steps[i])
            corr = self.lr * m_hat * (1.0 / d - 1.0 / d_min)
            p[low] = (p + corr)[low].astype(p.dtype, copy=False)
            d = np.maximum(d, d_min)
        return d
