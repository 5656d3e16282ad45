"""Base classes of the sparsity objects: a norm ball (:class:`Constraint`) or a penalty (:class:`Penalty`)."""

from contextlib import contextmanager

import numpy as np
from sklearn.base import BaseEstimator

from .._validation import check_finite

__all__ = ["Constraint", "Penalty"]


def _inner_norms(A, inner, axis):
    """Inner norm (``"inf"``, ``"l2"`` or ``"l1"``) of the absolute values ``A`` along ``axis``.

    ``axis=None``: every entry is its own group (the result is ``A`` flattened).
    """
    if axis is None:
        return A.reshape(-1)
    if A.shape[axis] == 0:
        shape = list(A.shape)
        del shape[axis]
        return np.zeros(shape, dtype=A.dtype)
    if inner == "inf":
        return A.max(axis=axis)
    if inner == "l1":
        return A.sum(axis=axis)
    return _l2_norms(A if axis == 1 else A.T)


def _l2_norms(B):
    """Euclidean norms of the rows of ``B`` (entries >= 0), in ``B``'s dtype.

    The squares are summed in that dtype; a row whose norm comes out infinite or small enough for
    its squares to have underflowed (below 1e-15 in float32, 1e-140 in float64) is recomputed in
    double, scaled by its largest entry (as the kernels' norms are), so that neither happens.
    """
    out = np.sqrt(np.einsum("ij,ij->i", B, B))
    small = 1e-15 if B.dtype == np.float32 else 1e-140
    redo = np.flatnonzero(~(out >= small) | ~np.isfinite(out))
    if redo.size:
        R = B[redo].astype(np.float64)
        M = R.max(axis=1)
        ok = (M > 0) & np.isfinite(M)  # all-zero rows stay 0, NaN stays NaN, inf stays inf
        R = R[ok] / M[ok, None]
        with np.errstate(over="ignore"):  # a float32 norm above the float32 range is inf
            out[redo[ok]] = M[ok] * np.sqrt(np.einsum("ij,ij->i", R, R))
    return out


def _as_array(W, name="W"):
    W = np.asarray(W)
    if W.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real numeric array, got dtype {W.dtype}.")
    if W.dtype not in (np.float32, np.float64):
        W = W.astype(np.float64)
    return W


def _check_metric_entries(d):
    """Raise a ValueError naming ``metric`` unless the array ``d`` (in W's dtype) is finite and > 0."""
    check_finite(d, "metric")
    if d.size and not (d > 0).all():
        raise ValueError(
            f"metric must be > 0 everywhere (in W's dtype {d.dtype}); its smallest entry is {float(d.min())!r}."
        )


@contextmanager
def _caller_names(W, metric=None, more=None):
    """Errors of the public operator called inside, in the words of the object's caller.

    The public projections and prox operators reject NaN and inf (the projections in their
    kernel's first pass) and non-positive weights, naming their own arguments (``x``, ``X``,
    ``Z``, ``weights``). Checking ``W`` and ``metric`` here before the call would cost one more
    pass over them at every step of a solver, so they are checked only when the call raises a
    ValueError: a non-finite ``W`` (first), a non-finite or non-positive array ``metric``, then
    ``more()`` (an object-specific check) raise a ValueError naming the caller's argument; when
    all pass, the operator's own error propagates.

    Parameters
    ----------
    W : ndarray
        The object's input (validated by :func:`_as_array`).
    metric : ndarray or float or None, default=None
        Only an array is checked (a scalar is validated before the call).
    more : callable, default=None
        ``() -> None``, raising a ValueError.
    """
    try:
        yield
    except ValueError as exc:
        try:
            check_finite(W, "W")
            if isinstance(metric, np.ndarray):
                _check_metric_entries(metric)
            if more is not None:
                more()
        except ValueError as named:
            raise named from exc
        raise


class _Sparsity(BaseEstimator):
    """What constraints and penalties share: the groups and their inner norms.

    Subclasses set ``_inner`` (the inner norm: ``"inf"``, ``"l2"`` or ``"l1"``) and have an
    ``axis`` parameter (the axis along which the inner norm is taken, as in
    :func:`numpy.linalg.norm`; ``None`` where every entry is a group).
    """

    _inner = "l1"

    def _validate_params(self):
        """Validate the parameters against ``_parameter_constraints`` when they changed.

        The objects are called at every step of a solver with the same parameters, and
        scikit-learn's validation costs tens of microseconds (as much as a projection of a few
        thousand entries): the values last validated are kept (by reference, so that they stay
        alive and an ``is`` test is exact) and validation runs again only when one of them is
        replaced (``set_params`` or attribute assignment).
        """
        values = tuple(self.__dict__.get(name) for name in self._parameter_constraints)
        last = self.__dict__.get("_validated_values")
        if last is not None and len(last) == len(values) and all(a is b for a, b in zip(last, values)):
            return
        super()._validate_params()
        self.__dict__["_validated_values"] = values

    def _checked(self, W, name="W", *, finite=True):
        """Validate the parameters (``_parameter_constraints``) and ``W``; return ``W`` as an array.

        ``W`` must be real, 2-D when ``axis`` is not None, and (``finite=True``) free of NaN and
        inf; ``finite=False`` is for a call of a public operator that checks it (see
        :func:`_caller_names`).

        Raises
        ------
        TypeError
            If ``W`` is not a real numeric array.
        ValueError
            If a parameter is invalid, or ``W`` is not 2-D (with ``axis``) or not finite; the
            message names ``name``.
        """
        self._validate_params()
        W = _as_array(W, name)
        if self.axis is not None and W.ndim != 2:
            raise ValueError(
                f"{type(self).__name__}(axis={self.axis}) needs a 2-D array {name}, got shape {W.shape}."
            )
        if finite:
            check_finite(W, name)
        return W

    def group_norms(self, W):
        """Inner norm of every group of ``W``.

        Parameters
        ----------
        W : array-like of shape (n_rows, n_cols) (any shape where ``axis=None``)

        Returns
        -------
        ndarray of shape (n_groups,)
            With ``axis=1`` one value per row, with ``axis=0`` one per column, with
            ``axis=None`` one per entry (``|W|`` flattened). Same dtype as ``W`` (float32 or
            float64).

        Raises
        ------
        ValueError
            If ``W`` holds NaN or inf, or is not 2-D where ``axis`` is 0 or 1 (the same for
            ``value``, ``support``, ``dual_norm`` (naming ``G``) and ``residual``).
        """
        W = self._checked(W)
        return _inner_norms(np.abs(W), self._inner, self.axis)

    def support(self, W):
        """Boolean mask of the groups of ``W`` that are not exactly zero.

        Parameters
        ----------
        W : array-like

        Returns
        -------
        ndarray of bool, shape of ``group_norms``
        """
        return self.group_norms(W) > 0


class Constraint(_Sparsity):
    """A norm ball ``{W : ||W|| <= radius}`` (base class; see :class:`L1InfBall` and siblings).

    Subclasses implement ``value``, ``project`` and :meth:`dual_norm`.
    """

    _parameter_constraints: dict = {}

    def value(self, W):  # pragma: no cover - abstract
        """The norm ``||W||`` (float)."""
        raise NotImplementedError

    def project(self, W, *, out=None):  # pragma: no cover - abstract
        """Euclidean projection of ``W`` onto the ball."""
        raise NotImplementedError

    def dual_norm(self, G):  # pragma: no cover - abstract
        """The dual norm of ``G`` (float)."""
        raise NotImplementedError

    def residual(self, W, G):
        """Frank-Wolfe gap of ``min f(W) s.t. ||W|| <= radius`` at ``W`` with gradient ``G``.

        ``radius * dual_norm(G) + <G, W>``: the largest decrease of the linearised objective
        over the ball, ``max_{||V|| <= radius} <G, W - V>``. It is ``>= 0`` for a feasible
        ``W``, and ``0`` exactly at the minimisers when ``f`` is convex (Jaggi, "Revisiting
        Frank-Wolfe", ICML 2013, Sec. 2). Units: those of ``f``.

        Parameters
        ----------
        W, G : array-like of the same shape
            The point (inside the ball) and the gradient of the smooth objective there.

        Returns
        -------
        float

        Raises
        ------
        ValueError
            If ``W`` or ``G`` holds NaN or inf (the message names it), or their shapes differ.
        """
        W = self._checked(W)
        G = self._checked(G, "G")
        if G.shape != W.shape:
            raise ValueError(f"G must have the shape of W {W.shape}, got {G.shape}.")
        # in double: a float32 dual norm times a radius beyond the float32 range is no overflow
        return float(self.radius) * float(self.dual_norm(G)) + float(np.vdot(G, W))


class Penalty(_Sparsity):
    """A penalty ``alpha * Omega(W)`` (base class; see :class:`GroupLasso` and siblings).

    Subclasses implement ``value``, ``prox`` and ``residual``.
    """

    _parameter_constraints: dict = {}

    def value(self, W):  # pragma: no cover - abstract
        """The penalty ``alpha * Omega(W)`` (float)."""
        raise NotImplementedError

    def prox(self, W, step=1.0, *, metric=None, out=None):  # pragma: no cover - abstract
        """Proximal operator of ``step * alpha * Omega`` (in the metric ``diag(metric)``)."""
        raise NotImplementedError

    def _stationarity_residual(self, W, G, violation):
        """``violation(W, G)`` on validated inputs; ``max |G|`` when ``alpha = 0``.

        Every ``residual`` is a violation of stationarity divided by ``alpha``; without a
        penalty, stationarity is ``G = 0``.
        """
        W, G = self._checked(W), self._checked(G, "G")
        if G.shape != W.shape:
            raise ValueError(f"G must have the shape of W {W.shape}, got {G.shape}.")
        if self.alpha == 0:
            return float(np.max(np.abs(G), initial=0.0))
        if W.size == 0:   # no entry, nothing violated (empty groups have lambda_g = 0)
            return 0.0
        return violation(W, G)
