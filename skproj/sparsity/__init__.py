"""Sparsity objects: norm balls and penalties on a weight array, with one small interface.

A *constraint* (:class:`L1Ball`, :class:`L11Ball`, :class:`L12Ball`, :class:`L1InfBall`) is a
norm ball ``{W : ||W|| <= radius}``; a *penalty* (:class:`L1`, :class:`GroupLasso`,
:class:`GroupMCP`, :class:`L1Inf`) is ``alpha * Omega(W)``. Every object offers

* ``value(W)``: the norm (constraint) or the penalty including ``alpha`` (penalty);
* ``project(W, out=None)`` (constraint) or ``prox(W, step=1.0, metric=None, out=None)``
  (penalty), each one call of a public function of :mod:`skproj.projections` or
  :mod:`skproj.prox` (``metric``: the diagonal metric of an adaptive optimiser, for the weighted
  prox of Deleu & Bengio, arXiv 2102.03869);
* ``group_norms(W)`` and ``support(W)``: the inner norm of each group and which groups are
  non-zero (the selected features when the groups are features);
* ``residual(W, G)``: an optimality residual at ``W`` given the gradient ``G`` of the smooth
  part (0 exactly at a solution).

``axis`` has :func:`numpy.linalg.norm`'s meaning: the inner norm is taken along ``axis`` and
``axis=1`` (the default) makes the rows the groups. The objects are scikit-learn estimators
in the parameter sense (``get_params`` / ``set_params`` / ``clone``), so an estimator
parameter ``constraint=L1InfBall(0.5)`` can be tuned as ``constraint__radius`` in a grid search.

The solvers and estimators of skproj take these objects; their string options
(``constraint="l1inf"``) are shortcuts built by :func:`make_constraint` and :func:`make_penalty`.
"""

import warnings

from sklearn.base import clone

from ._base import Constraint, Penalty
from ._constraints import L1Ball, L11Ball, L12Ball, L1InfBall
from ._penalties import L1, GroupLasso, GroupMCP, L1Inf

__all__ = [
    "Constraint",
    "Penalty",
    "L1Ball",
    "L11Ball",
    "L12Ball",
    "L1InfBall",
    "L1",
    "GroupLasso",
    "GroupMCP",
    "L1Inf",
    "make_constraint",
    "make_penalty",
    "CONSTRAINT_NAMES",
    "PENALTY_NAMES",
]

#: Accepted constraint strings (``"l11"`` is also accepted, deprecated: it means ``"l1"``).
CONSTRAINT_NAMES = ("l1", "l12", "l1inf")
#: Accepted penalty strings.
PENALTY_NAMES = ("l1", "group_lasso", "group_mcp", "l1inf")

_CONSTRAINTS = {"l1": L1Ball, "l12": L12Ball, "l1inf": L1InfBall}
_PENALTIES = {"l1": L1, "group_lasso": GroupLasso, "group_mcp": GroupMCP, "l1inf": L1Inf}


def _build(what, spec, base, table, **params):
    """A clone of ``spec`` if it is a ``base`` object, else ``table[spec](**params)`` for a name."""
    if isinstance(spec, base):
        return clone(spec)
    names = tuple(table)
    if isinstance(spec, str):
        if spec in table:
            return table[spec](**params)
        raise ValueError(f"{what} must be one of {names} or a {base.__name__} object, got {spec!r}.")
    raise TypeError(f"{what} must be a string {names} or a skproj.sparsity.{base.__name__}, got {type(spec).__name__}.")


def make_constraint(spec, radius=1.0, axis=1):
    """Build the :class:`Constraint` named by ``spec``, or return a copy of a given one.

    Parameters
    ----------
    spec : Constraint or {"l1", "l12", "l1inf"}
        A constraint object (cloned; its own ``radius`` and ``axis`` are kept) or a name.
        ``"l11"`` is accepted with a FutureWarning and builds :class:`L11Ball` (the l1,1 norm
        of a matrix is its entrywise l1 norm: ``"l1"`` is the one spelling).
    radius : float >= 0, default=1.0
        Radius for a named constraint.
    axis : {0, 1}, default=1
        Axis of the inner norm (the groups) for a named constraint.

    Returns
    -------
    Constraint

    Raises
    ------
    ValueError
        If ``spec`` is an unknown name; TypeError if it is neither a string nor a Constraint.
    """
    if isinstance(spec, str) and spec == "l11":
        warnings.warn(
            'constraint="l11" is deprecated: the l1,1 norm of a matrix is its entrywise l1 norm, '
            'spelled "l1".',
            FutureWarning,
            stacklevel=2,
        )
        return L11Ball(radius=radius, axis=axis)
    return _build("constraint", spec, Constraint, _CONSTRAINTS, radius=radius, axis=axis)


def make_penalty(spec, alpha=1.0, axis=1, **kwargs):
    """Build the :class:`Penalty` named by ``spec``, or return a copy of a given one.

    Parameters
    ----------
    spec : Penalty or {"l1", "group_lasso", "group_mcp", "l1inf"}
        A penalty object (cloned; its own parameters are kept) or a name.
    alpha : float >= 0, default=1.0
        Strength of a named penalty.
    axis : {0, 1}, default=1
        Axis of the inner norm of a named group penalty (ignored by ``"l1"``).
    **kwargs
        Further parameters of the named penalty (``gamma`` for ``"group_mcp"``, ``groups`` /
        ``weights`` for ``"group_lasso"``).

    Returns
    -------
    Penalty

    Raises
    ------
    ValueError
        If ``spec`` is an unknown name; TypeError if it is neither a string nor a Penalty.
    """
    if isinstance(spec, str) and spec != "l1":  # the l1 penalty is entrywise: no axis
        kwargs["axis"] = axis
    return _build("penalty", spec, Penalty, _PENALTIES, alpha=alpha, **kwargs)
