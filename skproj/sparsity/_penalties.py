"""Penalties: :class:`L1`, :class:`GroupLasso`, :class:`GroupMCP`, :class:`L1Inf`.

Each prox is one call of a public function of :mod:`skproj.prox`; a diagonal ``metric`` gives
the weighted prox that an adaptive optimiser needs (Deleu & Bengio, arXiv 2102.03869).
"""

import math
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, Options, StrOptions

from .. import prox as _prox
from .._validation import check_scalar, fill_doc, prepare_out, store_init_args
from ._base import Penalty, _as_array, _caller_names, _inner_norms, _l2_norms

#: the shared parts of the Parameters and Returns sections of the matrix penalties' ``prox``
_prox_sections = fill_doc(
    w_param="""
    Parameters
    ----------
    W : array-like of shape (n_rows, n_cols)
    """,
    out_and_returns="""
    out : ndarray, optional

    Returns
    -------
    ndarray of shape (n_rows, n_cols)
    """
)

__all__ = ["L1", "GroupLasso", "GroupMCP", "L1Inf"]

_ALPHA = [Interval(Real, 0, None, closed="left")]
_AXIS = [Options(Integral, {0, 1})]


def _metric(metric, W, name="metric"):
    """``None``, a positive float, or an array of ``W``'s shape (in ``W``'s dtype).

    A scalar is checked here; an array's entries (finite, > 0) are checked by the weighted prox
    it is passed to, and named ``metric`` by :func:`skproj.sparsity._base._caller_names`.
    """
    if metric is None:
        return None
    if np.ndim(metric) == 0:
        return check_scalar(metric, name, allow_zero=False)
    d = _as_array(metric, name)
    if d.shape != W.shape:
        raise ValueError(f"{name} must be a scalar or an array of W's shape {W.shape}, got shape {d.shape}.")
    return np.ascontiguousarray(d, dtype=W.dtype)


def _step(step, positive=False):
    """``step`` as a float: a real number, finite and >= 0 (> 0 when ``positive``)."""
    if type(step) is float or type(step) is int:  # the solvers' case, kept cheap
        s = float(step)
    else:
        bad = (isinstance(step, (str, bytes, bool, np.bool_)) or np.ndim(step) != 0
               or np.iscomplexobj(step))
        try:
            s = float(step) if not bad else None
        except (TypeError, ValueError):
            bad = True
        if bad:
            raise TypeError(f"step must be a real number, got {step!r}.")
    if not (math.isfinite(s) and (s > 0 if positive else s >= 0)):
        raise ValueError(f"step must be {'> 0' if positive else '>= 0'} and finite, got {step!r}.")
    return s


def _not_finite(d):
    if d is None:
        return ValueError("step * alpha is not finite: give a smaller step.")
    return ValueError(f"step * alpha / metric is not finite (metric={d!r}): give a larger metric "
                      "or a smaller step.")


def _over_metric(c, d):
    """The threshold ``c / d`` (floats; ``d`` a scalar metric or None), checked finite: a tiny
    metric or a huge step would otherwise surface as the operator's "threshold must be finite"."""
    t = float(c) if d is None else float(c) / d
    if not math.isfinite(t):
        raise _not_finite(d)
    return t


def _group_thresholds(step, strengths, d):
    """``(c, t)``: ``c = step * strengths`` and ``t = c / d`` (``t = c`` unless ``d`` is a scalar),
    checked finite through their largest entry (strengths >= 0), with no numpy overflow warning."""
    d = d if isinstance(d, float) else None  # _metric: None, a float or an array
    top = step * float(strengths.max(initial=0.0))
    if not math.isfinite(top):
        raise _not_finite(None)
    _over_metric(top, d)
    c = step * strengths
    return c, (c if d is None else c / d)


def _group_sizes_weights(weights, sizes, name="weights"):
    """Group weights: ``sqrt(size)`` for ``"sqrt"``, else the given array (validated)."""
    if isinstance(weights, str):
        return np.sqrt(sizes.astype(np.float64))
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != sizes.shape:
        raise ValueError(f"{name} must have shape {sizes.shape} (one per group), got {w.shape}.")
    if w.size and not (np.isfinite(w).all() and (w > 0).all()):
        raise ValueError(f"{name} must be finite and > 0.")
    return w


class L1(Penalty):
    """The l1 penalty ``alpha * sum_ij |W_ij|`` (lasso), on an array of any shape.

    Parameters
    ----------
    alpha : float >= 0, default=1.0
        Penalty strength (units of the loss per unit of ``|W|``).
    axis : {0, 1} or None, default=None
        Only for ``group_norms`` and ``support`` (see :class:`L1Ball`).

    See Also
    --------
    skproj.prox_l1 : soft thresholding (Donoho 1995).

    Examples
    --------
    >>> import numpy as np
    >>> from skproj.sparsity import L1
    >>> L1(alpha=1.0).prox(np.array([3.0, -0.5]))
    array([2., 0.])
    """

    _parameter_constraints = {"alpha": _ALPHA, "axis": [Options(Integral, {0, 1}), None]}
    _inner = "l1"

    def __init__(self, alpha=1.0, axis=None):
        store_init_args(self, locals())

    def value(self, W):
        """``alpha * sum |W|`` (float)."""
        W = self._checked(W)
        return float(self.alpha * np.abs(W).sum(dtype=np.float64))

    def prox(self, W, step=1.0, *, metric=None, out=None):
        """Soft thresholding at ``step * alpha / metric``.

        Parameters
        ----------
        W : array-like of any shape
        step : float >= 0, default=1.0
            Step size multiplying the penalty.
        metric : float > 0 or ndarray of W's shape, optional
            Diagonal metric ``d``: the result is ``argmin_X 0.5 sum_i d_i (X_i - W_i)^2 +
            step * alpha * ||X||_1``, i.e. soft thresholding at ``step * alpha / d_i`` (through
            :func:`skproj.weighted_prox_group_l2` on groups of one entry when ``d`` is an array).
        out : ndarray, optional

        Returns
        -------
        ndarray of the shape of ``W``

        Raises
        ------
        ValueError
            If ``W`` or ``metric`` holds NaN or inf, ``metric`` is not > 0 everywhere or has
            another shape than ``W``, ``step`` is negative or not finite, ``step * alpha``
            overflows, or ``step * alpha / metric`` does for a scalar ``metric`` (an array
            ``metric`` goes to the weighted prox, which does not divide by it), or ``alpha`` is
            invalid.
        TypeError
            If ``step`` is not a real number, or ``out`` is not an ndarray.
        """
        W = self._checked(W, finite=False)
        d = _metric(metric, W)
        c = _over_metric(_step(step) * self.alpha, None)  # "step * alpha is not finite"
        with _caller_names(W, d):
            if d is None or np.ndim(d) == 0:
                return _prox.prox_l1(W, _over_metric(c, d), out=out)
            res = _prox.weighted_prox_group_l2(W.reshape(-1, 1), d.reshape(-1, 1), c, axis=1)
        return _finish(res.reshape(W.shape), out)

    def residual(self, W, G):
        """Largest violation of ``0 in G + alpha * sign(W)`` (subgradient), divided by ``alpha``.

        ``|G_ij + alpha sign(W_ij)|`` where ``W_ij != 0``, ``max(|G_ij| - alpha, 0)`` where
        ``W_ij = 0``; the maximum over entries, divided by ``alpha`` (``max |G|`` when
        ``alpha = 0``). 0 exactly at the minimisers of ``f + alpha ||.||_1``, ``G = grad f(W)``.

        Returns
        -------
        float

        Raises
        ------
        ValueError
            If ``W`` or ``G`` holds NaN or inf, or their shapes differ.
        """
        return self._stationarity_residual(W, G, self._violation)

    def _violation(self, W, G):
        a = self.alpha
        v = np.where(W != 0, np.abs(G + a * np.sign(W)), np.maximum(np.abs(G) - a, 0))
        return float(np.max(v, initial=0.0)) / a


def _finish(res, out):
    """``res``, or ``res`` copied into ``out`` (checked as the operators check it: an ndarray of
    ``res``'s shape and dtype, writable)."""
    if out is None:
        return res
    target, _ = prepare_out(out, res.shape, res.dtype)
    target[...] = res
    return target


class _GroupPenalty(Penalty):
    """Shared by the group lasso and group MCP: groups, group weights and strengths."""

    _inner = "l2"

    def _layout(self, shape):
        """``(n_groups, group sizes)`` for an array of ``shape`` (no blocks)."""
        n_groups, size = (shape[0], shape[1]) if self.axis == 1 else (shape[1], shape[0])
        return n_groups, np.full(n_groups, size)

    def group_strengths(self, shape):
        """``lambda_g = alpha * weight_g`` (one per group; ``weight_g = sqrt(|g|)`` by default).

        Parameters
        ----------
        shape : tuple of two ints
            Shape of the penalised array.

        Returns
        -------
        ndarray of shape (n_groups,), float64
        """
        self._validate_params()
        _, sizes = self._layout(tuple(shape))
        return self.alpha * _group_sizes_weights(self.weights, sizes)


    groups = None  # blocks of the inner axis (GroupLasso's parameter)

    def _lam(self, W):
        """Group strengths broadcastable against ``group_norms``."""
        lam = self.group_strengths(W.shape)
        return lam if self.groups is None else lam[:, None]

    def residual(self, W, G):
        """Largest violation of first-order stationarity, per group, over ``lambda_g``.

        With ``phi'`` the derivative of the penalty in the group norm (``lambda_g`` for the
        group lasso, ``max(lambda_g - t / gamma, 0)`` for the MCP): ``||G_g + phi'(||W_g||)
        W_g / ||W_g|| ||`` for a non-zero group, ``max(||G_g|| - lambda_g, 0)`` for a zero
        group (the subdifferential there is the ball of radius ``lambda_g``); the maximum of
        these divided by ``lambda_g`` (``max |G|`` when ``alpha = 0``). 0 exactly at the
        stationary points of ``f + penalty``, ``G = grad f(W)``.

        Returns
        -------
        float

        Raises
        ------
        ValueError
            If ``W`` or ``G`` holds NaN or inf, or their shapes differ.
        """
        return self._stationarity_residual(W, G, self._violation)

    def _violation(self, W, G):
        lam = self._lam(W)
        nW = self.group_norms(W).astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(nW > 0, self._slope(lam, nW) / np.where(nW > 0, nW, 1.0), 0.0)
        D = G + self._expand(scale, W) * W
        v = np.where(nW > 0, self.group_norms(D), np.maximum(self.group_norms(G) - lam, 0.0)) / lam
        return float(np.max(v, initial=0.0))

    def _expand(self, per_group, W):
        """A per-group array broadcast to ``W``'s entries."""
        if self.groups is None:
            return per_group[:, None] if self.axis == 1 else per_group[None, :]
        gid = self._blocks(W.shape[self.axis])[0]  # GroupLasso only
        e = per_group[gid]  # (n_inner, n_other)
        return e if self.axis == 0 else e.T


class GroupLasso(_GroupPenalty):
    r"""The group lasso ``alpha * sum_g w_g ||W_g||_2`` (Yuan & Lin, JRSS-B 68, 2006).

    Parameters
    ----------
    alpha : float >= 0, default=1.0
        Penalty strength.
    axis : {0, 1}, default=1
        Axis along which the group l2 norm is taken: ``1``: the rows are the groups.
    groups : array-like of int of shape (W.shape[axis],), optional
        Labels ``0..n_blocks-1`` that split the inner axis into blocks: the groups are then
        the pairs (block, index along the other axis), and ``group_norms`` has shape
        ``(n_blocks, n_other)``. E.g. a coefficient matrix of shape (n_features, n_targets)
        with feature groups: ``GroupLasso(axis=0, groups=labels)`` penalises
        ``sum_k sum_b w_b ||W[labels == b, k]||_2``.
    weights : "sqrt" or array-like of shape (n_groups,) (or (n_blocks,)), default="sqrt"
        Group weights ``w_g``; ``"sqrt"``: the square root of the group size (the usual
        convention).

    See Also
    --------
    skproj.prox_group_l2, skproj.weighted_prox_group_l2

    Examples
    --------
    >>> import numpy as np
    >>> from skproj.sparsity import GroupLasso
    >>> pen = GroupLasso(alpha=1.0, weights=np.ones(2))
    >>> pen.prox(np.array([[3.0, 4.0], [0.3, 0.4]]))
    array([[2.4, 3.2],
           [0. , 0. ]])
    """

    _parameter_constraints = {
        "alpha": _ALPHA,
        "axis": _AXIS,
        "groups": ["array-like", None],
        "weights": [StrOptions({"sqrt"}), "array-like"],
    }

    def __init__(self, alpha=1.0, axis=1, groups=None, weights="sqrt"):
        store_init_args(self, locals())

    # ---------------------------------------------------------------- blocks
    def _blocks(self, n_inner):
        """``(labels, n_blocks, sizes)`` of the blocks of the inner axis."""
        gid = np.asarray(self.groups)
        if gid.shape != (n_inner,) or gid.dtype.kind not in "iu":
            raise ValueError(
                f"groups must be an integer array of shape ({n_inner},) (one label per index along "
                f"axis {self.axis}), got dtype {gid.dtype} and shape {gid.shape}."
            )
        if gid.size and gid.min() < 0:
            raise ValueError("groups must be labels >= 0.")
        gid = gid.astype(np.intp)
        sizes = np.bincount(gid, minlength=0 if gid.size == 0 else gid.max() + 1)
        if (sizes == 0).any():
            raise ValueError("groups must use every label 0..n_blocks-1 (some label has no member).")
        return gid, sizes.size, sizes

    @staticmethod
    def _same_size_blocks(gid, sizes):
        """For each distinct block size ``m``: ``(blocks, members)``, the labels of the blocks of
        that size and their indices as an ``(n, m)`` array. The operators then run on one
        ``(n * n_other, m)`` array per size: no padding to the largest block."""
        order = np.argsort(gid, kind="stable")
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.intp)
        for m in np.unique(sizes):
            blocks = np.flatnonzero(sizes == m)
            yield blocks, order[starts[blocks][:, None] + np.arange(m)]

    def _layout(self, shape):
        if self.groups is None:
            return super()._layout(shape)
        _, n_blocks, sizes = self._blocks(shape[self.axis])
        return n_blocks, sizes

    def _inner_first(self, W):
        """``W`` with the inner axis first: shape (n_inner, n_other)."""
        return W if self.axis == 0 else W.T

    def group_norms(self, W):
        """l2 norm of every group.

        Returns
        -------
        ndarray of shape (n_groups,), or (n_blocks, n_other) with ``groups``
        """
        W = self._checked(W)
        if self.groups is None:
            return _inner_norms(np.abs(W), "l2", self.axis)
        gid, n_blocks, sizes = self._blocks(W.shape[self.axis])
        Wi = np.abs(self._inner_first(W))
        K = Wi.shape[1]
        norms = np.empty((n_blocks, K), dtype=np.float64)
        # one row per (block, other index) for each block size: the rows' norms are those of
        # _inner_norms (no overflow or underflow of the squares)
        for blocks, members in self._same_size_blocks(gid, sizes):
            rows = Wi[members].transpose(0, 2, 1).reshape(-1, members.shape[1])
            norms[blocks] = _l2_norms(rows).reshape(blocks.size, K)
        return norms.astype(W.dtype, copy=False)

    def value(self, W):
        """``alpha * sum_g w_g ||W_g||_2`` (float)."""
        W = self._checked(W)
        return float(np.sum(self._lam(W) * self.group_norms(W)))

    @_prox_sections
    def prox(self, W, step=1.0, *, metric=None, out=None):
        """Group soft thresholding at ``step * lambda_g`` (weighted when ``metric`` is given).

        {w_param}
        step : float >= 0, default=1.0
        metric : float > 0 or ndarray of W's shape, optional
            Diagonal metric ``d``: ``argmin_X 0.5 sum_i d_i (X_i - W_i)^2 + step * alpha *
            sum_g w_g ||X_g||_2`` by :func:`skproj.weighted_prox_group_l2` (Newton on one scalar
            per group; Deleu & Bengio, arXiv 2102.03869, Sec. 4).
        {out_and_returns}

        Raises
        ------
        ValueError
            If ``W`` or ``metric`` holds NaN or inf, ``metric`` is not > 0 everywhere or has
            another shape than ``W``, ``step`` is negative or not finite, ``step * alpha``
            overflows, or ``step * alpha / metric`` does for a scalar ``metric`` (an array
            ``metric`` goes to the weighted prox, which does not divide by it), or a parameter
            is invalid.
        TypeError
            If ``step`` is not a real number, or ``out`` is not an ndarray.
        """
        W = self._checked(W, finite=False)
        d = _metric(metric, W)
        c, t = _group_thresholds(_step(step), self.group_strengths(W.shape), d)
        with _caller_names(W, d):
            if self.groups is not None:
                return _finish(self._prox_blocks(W, c, t, d), out)
            if np.ndim(d) == 0 and np.all(c == c[:1]):
                return _prox.prox_group_l2(W, t[0] if c.size else 0.0, axis=self.axis, out=out)
            dd = np.ones_like(W) if d is None else np.broadcast_to(d, W.shape)
            return _prox.weighted_prox_group_l2(W, dd, c, axis=self.axis, out=out)

    def _slope(self, lam, norms):
        """The derivative of ``lambda_g t`` at the group norms: ``lambda_g``."""
        return np.broadcast_to(lam, norms.shape)

    def _prox_blocks(self, W, c, t, d):
        """Prox with block groups, one operator call per block size (on one row per (block,
        other index)): the plain group prox where those blocks share one threshold (e.g. the
        default weights) and the metric is a scalar, else the weighted one. ``c``, ``t``: the
        thresholds of :func:`_group_thresholds`."""
        gid, n_blocks, sizes = self._blocks(W.shape[self.axis])
        Wi = self._inner_first(W)
        K = Wi.shape[1]
        di = None
        res = np.empty(Wi.shape, dtype=W.dtype)
        for blocks, members in self._same_size_blocks(gid, sizes):
            m = members.shape[1]

            def rows(A):  # A[members]: (n, m, K) -> one row per (block, other index)
                return A[members].transpose(0, 2, 1).reshape(-1, m)

            tb = t[blocks]
            if np.ndim(d) == 0 and np.all(tb == tb[0]):
                out = _prox.prox_group_l2(rows(Wi), tb[0], axis=1)
            else:
                if di is None:
                    di = np.ones_like(Wi) if d is None else self._inner_first(np.broadcast_to(d, W.shape))
                out = _prox.weighted_prox_group_l2(rows(Wi), rows(di), np.repeat(c[blocks], K), axis=1)
            res[members] = out.reshape(blocks.size, K, m).transpose(0, 2, 1)
        return res if self.axis == 0 else np.ascontiguousarray(res.T)

class GroupMCP(_GroupPenalty):
    r"""Group minimax concave penalty ``sum_g rho_{lambda_g, gamma}(||W_g||_2)``.

    :math:`\rho_{\lambda,\gamma}(t) = \lambda t - t^2 / (2\gamma)` for :math:`t \le \gamma\lambda`,
    :math:`\gamma\lambda^2/2` beyond (Zhang, Ann. Statist. 38, 2010; group version: Huang,
    Breheny & Ma, Statist. Sci. 27, 2012), with ``lambda_g = alpha * w_g``.

    Parameters
    ----------
    alpha : float >= 0, default=1.0
    gamma : float > 0, default=3.0
        Concavity: the penalty is flat for group norms ``>= gamma * lambda_g``.
    axis : {0, 1}, default=1
        Axis of the group l2 norm (``1``: rows are the groups).
    weights : "sqrt" or array-like of shape (n_groups,), default="sqrt"

    See Also
    --------
    skproj.weighted_prox_group_mcp
    """

    _parameter_constraints = {
        "alpha": _ALPHA,
        "gamma": [Interval(Real, 0, None, closed="neither")],
        "axis": _AXIS,
        "weights": [StrOptions({"sqrt"}), "array-like"],
    }

    def __init__(self, alpha=1.0, gamma=3.0, axis=1, weights="sqrt"):
        store_init_args(self, locals())

    def value(self, W):
        """``sum_g rho_{lambda_g, gamma}(||W_g||_2)`` (float)."""
        t = self.group_norms(W).astype(np.float64)
        lam = self.group_strengths(np.shape(W))
        flat = t >= self.gamma * lam
        pen = np.where(flat, 0.5 * self.gamma * lam**2, lam * t - t**2 / (2 * self.gamma))
        return float(pen.sum())

    @_prox_sections
    def prox(self, W, step=1.0, *, metric=None, out=None):
        """Weighted prox of ``step`` times the penalty (:func:`skproj.weighted_prox_group_mcp`).

        Threshold ``step * lambda_g``, concavity ``gamma / step``; the subproblem is convex only
        where ``gamma * d_i > step``.

        {w_param}
        step : float > 0, default=1.0
        metric : float > 0 or ndarray of W's shape, optional (``None``: 1)
        {out_and_returns}

        Raises
        ------
        ValueError
            If ``gamma * metric <= step`` for some entry (non-convex subproblem), ``W`` or
            ``metric`` holds NaN or inf, ``metric`` is not > 0 everywhere or has another shape
            than ``W``, ``step`` is not > 0 and finite, or a parameter is invalid.
        TypeError
            If ``step`` is not a real number.
        """
        W = self._checked(W, finite=False)
        step = _step(step, positive=True)
        d = _metric(metric, W)
        d = np.ones_like(W) if d is None else np.broadcast_to(np.asarray(d, dtype=W.dtype), W.shape)
        c, _ = _group_thresholds(step, self.group_strengths(W.shape), None)

        def convex():
            dmin = float(d.min()) if d.size else math.inf
            if not self.gamma * dmin > step:
                raise ValueError(
                    "GroupMCP.prox needs gamma * metric > step for every entry (otherwise the subproblem "
                    f"is not convex); got gamma={self.gamma!r}, step={step!r} and min(metric)={dmin!r}."
                )

        with _caller_names(W, d, convex):
            return _prox.weighted_prox_group_mcp(W, d, c, self.gamma / step, axis=self.axis, out=out)

    def _slope(self, lam, norms):
        """``rho'(||W_g||)``: ``max(lambda_g - ||W_g|| / gamma, 0)``."""
        return np.maximum(lam - norms / self.gamma, 0.0)


class L1Inf(Penalty):
    """The l1,inf penalty ``alpha * sum_g max_j |W_gj|`` (groups = rows for ``axis=1``).

    Parameters
    ----------
    alpha : float >= 0, default=1.0
    axis : {0, 1}, default=1
        Axis of the inner l_inf norm.

    See Also
    --------
    skproj.prox_l1inf : its prox by Moreau's decomposition (one l1-ball projection per group).
    """

    _parameter_constraints = {"alpha": _ALPHA, "axis": _AXIS}
    _inner = "inf"

    def __init__(self, alpha=1.0, axis=1):
        store_init_args(self, locals())

    def value(self, W):
        """``alpha * sum_g max_j |W_gj|`` (float)."""
        return float(self.alpha * self.group_norms(W).sum(dtype=np.float64))

    @_prox_sections
    def prox(self, W, step=1.0, *, metric=None, out=None):
        """Prox of ``step * alpha * ||.||_{1,inf}`` (:func:`skproj.prox_l1inf`).

        {w_param}
        step : float >= 0, default=1.0
        metric : float > 0, optional
            A scalar metric ``d`` divides the threshold. An array metric has no closed-form
            weighted prox here and raises ValueError.
        {out_and_returns}

        Raises
        ------
        ValueError
            If ``W`` holds NaN or inf, ``metric`` is an array or not > 0, ``step`` is negative
            or not finite, ``step * alpha / metric`` overflows, or a parameter is invalid.
        TypeError
            If ``step`` is not a real number.
        """
        W = self._checked(W, finite=False)
        d = _metric(metric, W)
        if d is not None and np.ndim(d) != 0:
            raise ValueError(
                "L1Inf.prox supports a scalar metric only (no weighted prox of the l1,inf norm); "
                "use a scalar second moment for this parameter."
            )
        c = _over_metric(_step(step) * self.alpha, d)
        with _caller_names(W):
            return _prox.prox_l1inf(W, c, axis=self.axis, out=out)

    def residual(self, W, G):
        """Fixed-point residual ``max |W - prox(W - G)|`` over ``alpha`` (``max |G|`` if ``alpha = 0``).

        Zero exactly at the minimisers of ``f + alpha ||.||_{1,inf}`` (``G = grad f(W)``): a
        point is optimal iff it is a fixed point of the proximal-gradient map with step 1.

        Returns
        -------
        float

        Raises
        ------
        ValueError
            If ``W`` or ``G`` holds NaN or inf, or their shapes differ.
        """
        return self._stationarity_residual(W, G, self._violation)

    def _violation(self, W, G):
        R = W - self.prox(W - G)
        return float(np.max(np.abs(R), initial=0.0)) / self.alpha
