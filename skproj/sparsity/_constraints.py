"""Norm balls: :class:`L1Ball`, :class:`L11Ball`, :class:`L12Ball`, :class:`L1InfBall`.

Each projects with one call of the public function of :mod:`skproj.projections`.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, Options

from .. import projections as _proj
from .._validation import fill_doc, store_init_args
from ._base import Constraint, _as_array, _caller_names, _inner_norms

__all__ = ["L1Ball", "L11Ball", "L12Ball", "L1InfBall"]

_RADIUS = [Interval(Real, 0, None, closed="left")]
_AXIS = [Options(Integral, {0, 1})]

#: the parameters of the grouped balls (l1,1, l1,2, l1,inf); each class explains its axis after it
_group_ball_doc = fill_doc(
    group_ball_params="""
    Parameters
    ----------
    radius : float >= 0, default=1.0
    axis : {0, 1}, default=1
    """
)


class L1Ball(Constraint):
    """The l1 ball ``{W : sum_ij |W_ij| <= radius}`` of an array of any shape.

    Parameters
    ----------
    radius : float >= 0, default=1.0
        Radius of the ball, in the units of ``W``.
    axis : {0, 1} or None, default=None
        Only for ``group_norms`` and ``support``: ``None`` makes every entry its own
        group, ``1`` the rows of a 2-D ``W`` (l1 norm of each row), ``0`` its columns. The
        ball itself does not depend on it.

    See Also
    --------
    skproj.project_l1_ball : the projection (Condat, Math. Program. 158, 2016).
    L11Ball : the same norm for 2-D arrays, grouped by rows by default.

    Examples
    --------
    >>> import numpy as np
    >>> from skproj.sparsity import L1Ball
    >>> ball = L1Ball(radius=2.0)
    >>> ball.project(np.array([3.0, 1.0]))
    array([2., 0.])
    """

    _parameter_constraints = {"radius": _RADIUS, "axis": [Options(Integral, {0, 1}), None]}
    _inner = "l1"

    def __init__(self, radius=1.0, axis=None):
        store_init_args(self, locals())

    def value(self, W):
        """``sum_ij |W_ij|`` (float, summed in double)."""
        W = self._checked(W)
        return float(np.abs(W).sum(dtype=np.float64))

    def project(self, W, *, out=None):
        """Euclidean projection onto the ball (:func:`skproj.project_l1_ball`).

        Parameters
        ----------
        W : array-like of any shape
        out : ndarray, optional
            Receives the result (may be ``W`` itself).

        Returns
        -------
        ndarray of the shape of ``W`` (float32 stays float32, else float64)

        Raises
        ------
        ValueError
            If ``W`` holds NaN or inf, or ``radius`` is invalid.
        """
        self._validate_params()
        W = _as_array(W)  # any shape: the ball does not depend on axis
        with _caller_names(W):
            return _proj.project_l1_ball(W, self.radius, out=out)

    def dual_norm(self, G):
        """``max_ij |G_ij|`` (float)."""
        G = self._checked(G, "G")
        return float(np.max(np.abs(G), initial=0.0))


@_group_ball_doc
class L11Ball(L1Ball):
    """The l1,1 ball ``{W : sum_ij |W_ij| <= radius}`` of a 2-D array, grouped by rows.

    The l1,1 norm of a matrix is its entrywise l1 norm: this is :class:`L1Ball` for 2-D arrays,
    with the rows as groups (``axis=1``) for ``group_norms`` and ``support``.

    {group_ball_params}
        Axis of the inner (l1) norm of the groups: ``1`` rows, ``0`` columns.

    See Also
    --------
    skproj.project_l11_ball
    """

    _parameter_constraints = {"radius": _RADIUS, "axis": _AXIS}

    def __init__(self, radius=1.0, axis=1):
        super().__init__(radius=radius, axis=axis)

    def project(self, W, *, out=None):
        """Euclidean projection onto the ball (:func:`skproj.project_l11_ball`).

        Parameters
        ----------
        W : array-like of shape (n_rows, n_cols)
        out : ndarray, optional

        Returns
        -------
        ndarray of shape (n_rows, n_cols)

        Raises
        ------
        ValueError
            If ``W`` is not 2-D or holds NaN or inf, or a parameter is invalid.
        """
        W = self._checked(W, finite=False)
        with _caller_names(W):
            return _proj.project_l11_ball(W, self.radius, out=out)


class _GroupBall(Constraint):
    """A ball of a mixed norm ``sum_g ||W_g||_inner``: the shared code of l1,2 and l1,inf.

    Subclasses set ``_inner`` (the inner norm), ``_dual_inner`` (its dual norm) and
    ``_projection`` (the name of the public projection of :mod:`skproj.projections`).
    """

    _parameter_constraints = {"radius": _RADIUS, "axis": _AXIS}

    def __init__(self, radius=1.0, axis=1):
        store_init_args(self, locals())

    def value(self, W):
        """``sum_g ||W_g||`` with the inner norm of the ball (float)."""
        return float(self.group_norms(W).sum(dtype=np.float64))

    def project(self, W, *, out=None):
        """Euclidean projection onto the ball (one call of the public projection).

        Parameters
        ----------
        W : array-like of shape (n_rows, n_cols)
        out : ndarray, optional
            Receives the result (may be ``W`` itself).

        Returns
        -------
        ndarray of shape (n_rows, n_cols) (float32 stays float32, else float64)

        Raises
        ------
        ValueError
            If ``W`` is not 2-D or holds NaN or inf, or a parameter is invalid.
        """
        W = self._checked(W, finite=False)
        with _caller_names(W):
            return getattr(_proj, self._projection)(W, self.radius, axis=self.axis, out=out)

    def dual_norm(self, G):
        """``max_g ||G_g||_*``, the dual inner norm's largest group value (float)."""
        G = self._checked(G, "G")
        return float(np.max(_inner_norms(np.abs(G), self._dual_inner, self.axis), initial=0.0))


@_group_ball_doc
class L12Ball(_GroupBall):
    """The l1,2 ball ``{W : sum_g ||W_g||_2 <= radius}``, groups = rows (``axis=1``) or columns.

    The dual norm (for ``residual``) is the l_inf,2 norm ``max_g ||G_g||_2``.

    {group_ball_params}
        Axis along which the inner l2 norm is taken (:func:`numpy.linalg.norm`'s meaning):
        ``1``: the groups are the rows.

    See Also
    --------
    skproj.project_l12_ball : the exact projection (group norms projected onto the l1 ball,
        then each group scaled).

    Examples
    --------
    >>> import numpy as np
    >>> from skproj.sparsity import L12Ball
    >>> ball = L12Ball(radius=1.0)
    >>> ball.project(np.array([[3.0, 4.0], [0.3, 0.4]])).round(3)
    array([[0.6, 0.8],
           [0. , 0. ]])
    """

    _inner = "l2"
    _dual_inner = "l2"
    _projection = "project_l12_ball"


@_group_ball_doc
class L1InfBall(_GroupBall):
    """The l1,inf ball ``{W : sum_g max_j |W_gj| <= radius}``, groups = rows (``axis=1``) or columns.

    The dual norm (for ``residual``) is the l_inf,1 norm ``max_g ||G_g||_1``.

    {group_ball_params}
        Axis along which the inner l_inf norm is taken: ``1``: the groups are the rows (a
        first-layer weight of shape (n_features, n_hidden) loses whole features);
        scikit-learn's ``coef_`` of shape (n_targets, n_features) needs ``0``.

    See Also
    --------
    skproj.project_l1inf_ball : the exact projection (Perez, Condat & Barlaud, arXiv
        2307.09836).

    Examples
    --------
    >>> import numpy as np
    >>> from skproj.sparsity import L1InfBall
    >>> ball = L1InfBall(radius=1.0)
    >>> W = np.array([[2.0, -1.0], [0.5, 0.25]])
    >>> ball.value(W), ball.support(ball.project(W))
    (2.5, array([ True, False]))
    """

    _inner = "inf"
    _dual_inner = "l1"
    _projection = "project_l1inf_ball"
