r"""Proximal Adam: Adam's step on the smooth loss, then a weighted prox of a group penalty.

Implements the adaptive proximal method of T. Deleu and Y. Bengio, "Structured sparsity
inducing adaptive optimizers for deep learning", arXiv:2102.03869, 2021 (their proximal
Adam, Section 3 and Algorithm 1): for a loss ``f(theta) + sum_g Omega_g(theta_g)`` with ``f``
smooth, every step is the exact minimiser of Adam's quadratic model of ``f`` plus the
penalty,

.. math:: \theta_{t} = \arg\min_x\ \langle \hat m_t, x - \theta_{t-1}\rangle
    + \frac{1}{2\,\mathrm{lr}} \sum_i d_i (x_i - \theta_{t-1,i})^2 + \Omega(x),
    \qquad d = \sqrt{\hat v_t} + \epsilon,

that is, the Adam step ``z = theta - lr * m_hat / d`` followed by the *weighted* proximal
operator ``argmin_x 0.5 sum_i d_i (x_i - z_i)^2 + lr * Omega(x)``, computed per group by
:func:`skproj.prox.weighted_prox_group_l2` (group lasso) or
:func:`skproj.prox.weighted_prox_group_mcp` (group MCP). Groups whose weighted norm falls below
the threshold become exactly zero during training: no thresholding step is involved.

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
from numbers import Integral, Real

import numpy as np

from . import prox as _prox
from ._optim import Adam

__all__ = ["GroupPenalty", "ProxAdam"]

_KINDS = ("group_lasso", "group_mcp")


class GroupPenalty:
    r"""A group penalty on one 2-D parameter array, for :class:`ProxAdam`.

    ``kind="group_lasso"``: :math:`\Omega(W) = \sum_g \lambda_g \|W_g\|_2`;
    ``kind="group_mcp"``: :math:`\Omega(W) = \sum_g \rho_{\lambda_g,\gamma}(\|W_g\|_2)` with the
    minimax concave penalty :math:`\rho_{\lambda,\gamma}(t) = \lambda t - t^2/(2\gamma)` for
    :math:`t \le \gamma\lambda`, :math:`\gamma\lambda^2/2` beyond. The group weights follow the
    usual convention :math:`\lambda_g = \alpha\sqrt{|g|}` (Yuan & Lin 2006), ``|g|`` the group size.

    Parameters
    ----------
    kind : {"group_lasso", "group_mcp"}
    alpha : float >= 0
        Penalty strength ``alpha`` (in units of the loss per unit of group norm, divided by
        ``sqrt(group size)``).
    gamma : float > 0, default=3.0
        MCP concavity (ignored for the group lasso): the penalty is flat for group norms
        ``>= gamma * lambda_g``. In :class:`ProxAdam` the subproblem is convex only where
        ``gamma * d_i > lr``; see :class:`ProxAdam`.
    axis : {0, 1}, default=1
        Axis along which the group norm is taken (``axis=1``: rows are the groups, the
        convention of :mod:`skproj.prox`).

    Raises
    ------
    ValueError
        If ``kind`` is unknown, ``alpha < 0``, ``gamma <= 0`` or ``axis`` not in {0, 1}.
    """

    def __init__(self, kind, alpha, gamma=3.0, axis=1):
        if kind not in _KINDS:
            raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}.")
        if not isinstance(alpha, Real) or not np.isfinite(alpha) or alpha < 0:
            raise ValueError(f"alpha must be a finite float >= 0, got {alpha!r}.")
        if not isinstance(gamma, Real) or not np.isfinite(gamma) or gamma <= 0:
            raise ValueError(f"gamma must be a finite float > 0, got {gamma!r}.")
        if isinstance(axis, bool) or not isinstance(axis, Integral) or axis not in (0, 1):
            raise ValueError(f"axis must be 0 or 1, got {axis!r}.")
        self.kind = kind
        self.alpha = float(alpha)
        self.gamma = float(gamma)
        self.axis = int(axis)

    def group_strengths(self, shape):
        """``lambda_g = alpha * sqrt(group size)`` for an array of ``shape`` (one per group)."""
        n_groups, size = (shape[0], shape[1]) if self.axis == 1 else (shape[1], shape[0])
        return np.full(n_groups, self.alpha * np.sqrt(size))

    def value(self, W):
        """The penalty ``Omega(W)`` (float)."""
        norms = np.linalg.norm(W, axis=self.axis)
        lam = self.group_strengths(W.shape)
        if self.kind == "group_lasso":
            return float(lam @ norms)
        flat = norms >= self.gamma * lam
        pen = np.where(flat, 0.5 * self.gamma * lam**2, lam * norms - norms**2 / (2 * self.gamma))
        return float(pen.sum())

    def __repr__(self):
        extra = f", gamma={self.gamma!r}" if self.kind == "group_mcp" else ""
        return f"GroupPenalty({self.kind!r}, alpha={self.alpha!r}{extra}, axis={self.axis})"


class ProxAdam(Adam):
    r"""Proximal Adam with weighted group-lasso / group-MCP proximal steps.

    Each call of :meth:`~skproj.optim.Adam.step` takes Adam's bias-corrected step on the smooth loss (the
    gradients passed in) and then, for each penalised parameter array, replaces the result
    ``Z`` by the weighted proximal operator

    .. math:: \arg\min_X\ \tfrac12 \sum_i d_i (X_i - Z_i)^2 + \mathrm{lr}\cdot\Omega(X),
        \qquad d = \sqrt{\hat v} + \epsilon,

    through :func:`skproj.prox.weighted_prox_group_l2` (threshold ``c_g = lr * lambda_g``) or
    :func:`skproj.prox.weighted_prox_group_mcp` (``c_g = lr * lambda_g``,
    ``gamma = gamma_0 / lr``). ``d`` is the same bias-corrected preconditioner the step used
    (see the module docstring for why this is the one consistent rule).

    Parameters
    ----------
    lr : float > 0, default=1e-3
        Step size; may be changed between steps (``opt.lr = ...``) for a decreasing schedule.
    betas : tuple of two floats in [0, 1), default=(0.9, 0.999)
    eps : float > 0, default=1e-8
    penalties : dict {int: GroupPenalty}, default=None
        Penalty of each penalised parameter, keyed by its index in the ``params`` list.
        Penalised parameters must be 2-D.
    weighted : bool, default=True
        ``False`` applies the plain (unweighted) prox ``prox_group_l2(Z, lr * lambda_g)`` after
        the Adam step instead, for comparison (this is *not* a proximal-gradient step in Adam's
        metric; its fixed points are not the stationary points of the penalised loss). Only
        for the group lasso.
    **adam_kwargs
        Further keyword arguments of :class:`skproj.optim.Adam`. A parameter with a scalar
        second moment gets the scalar metric ``d`` (then the weighted prox is the plain one
        at threshold ``c / d``).

    Attributes
    ----------
    prox_time : float
        Seconds spent in the proximal operators.
    n_floored : int
        For group MCP: number of entries whose metric was raised to ``lr / gamma_0 * (1 +
        1e-6)`` at the last step (see Notes).

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
            if not isinstance(pen, GroupPenalty):
                raise TypeError(f"penalties[{key!r}] must be a GroupPenalty, got {type(pen).__name__}.")
            if not weighted and pen.kind != "group_lasso":
                raise ValueError("weighted=False is only available for kind='group_lasso'.")
        self.penalties = penalties
        self.weighted = bool(weighted)
        self.prox_time = 0.0
        self.n_floored = 0

    def _metric(self, i, p):
        """``sqrt(v_hat) + eps`` of parameter ``i`` with ``p``'s shape and dtype (float64 math)."""
        c2 = 1.0 - self.betas[1] ** self.t
        v = np.asarray(self.v[i], dtype=np.float64)
        d = np.sqrt(v / c2) + self.eps
        return np.broadcast_to(d, p.shape)

    def post_step(self, params):
        """Apply the (weighted) prox of each penalty to its parameter, in place."""
        t0 = time.perf_counter()
        self.n_floored = 0
        for i, pen in self.penalties.items():
            p = params[i]
            if p.ndim != 2:
                raise ValueError(f"penalised parameter {i} must be 2-D, got shape {p.shape}.")
            c = self.lr * pen.group_strengths(p.shape)
            if not self.weighted:
                _prox.prox_group_l2(p, c[0], axis=pen.axis, out=p)
                continue
            d = self._metric(i, p)
            if pen.kind == "group_lasso":
                _prox.weighted_prox_group_l2(p, d, c, axis=pen.axis, out=p)
                continue
            gamma = pen.gamma / self.lr
            # smallest metric with gamma * d > 1 (and d - 1/gamma > 0 after rounding)
            d_min = (1.0 + 1e-6) / gamma
            low = d < d_min
            if low.any():
                self.n_floored = int(low.sum())
                # redo the step of the floored entries in the floored metric:
                # z' = theta + (z - theta) * d / d' with z - theta = -lr * m_hat / d.
                m_hat = np.asarray(self.m[i], dtype=np.float64) / (1.0 - self.betas[0] ** self.t)
                corr = self.lr * m_hat * (1.0 / d - 1.0 / d_min)
                p[low] = (p + corr)[low].astype(p.dtype, copy=False)
                d = np.maximum(d, d_min)
            _prox.weighted_prox_group_mcp(p, d, c, gamma, axis=pen.axis, out=p)
        self.prox_time += time.perf_counter() - t0
