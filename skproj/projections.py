"""Exact Euclidean projections onto norm balls and the simplex.

Every function validates its input, then calls one Cython kernel (float32 and float64
kernels, GIL released). Conventions (see the package documentation):

* ``axis`` has the meaning it has in :func:`numpy.linalg.norm`: the inner norm (l2 or l_inf)
  is taken along ``axis`` and the outer l1 sums over the other axis. With ``axis=1`` (the
  default) the rows are the groups. scikit-learn's ``coef_`` of shape
  ``(n_targets, n_features)`` needs ``axis=0`` to group by feature.
* float32 in gives float32 out; other numeric dtypes become float64.
* The input is never modified; ``out=`` (an array of the result's shape and dtype, possibly
  the input itself) receives the result when given.
* A radius of 0 returns zeros; an input already inside the ball is returned unchanged (as a copy).
* float64 data whose norms overflow double (entries near the top of its range) are projected
  after dividing them and the radius by a power of two, the result multiplied back (exact: the
  projections are positively homogeneous).
"""

import math

import numpy as np

from ._kernels import _l1, _l1inf
from ._validation import as_float_array, check_axis, check_finite, check_scalar, fill_doc
from ._validation import finish_out, prepare_out, run_grouped, run_homogeneous, separate_input

__all__ = [
    "project_l1_ball",
    "project_simplex",
    "project_l11_ball",
    "project_l12_ball",
    "l12_norm",
    "project_l1inf_ball",
    "l1inf_norm",
]


def _overflowed(threshold):
    """The kernels' threshold is inf or NaN when the norms of float64 data overflow double."""
    return not math.isfinite(threshold)


def _flat_kernel(kernel, x, radius, out, name):
    x = as_float_array(x, name)
    target, buf = prepare_out(out, x.shape, x.dtype)
    x = separate_input(x, buf)
    flat_x = x.reshape(-1)
    flat_buf = buf.reshape(-1)
    if flat_x.size == 0:
        return finish_out(target, buf)
    if radius == 0.0:
        flat_buf[...] = 0
        return finish_out(target, buf)
    run_homogeneous(kernel, flat_x, flat_buf, radius, _overflowed)
    return finish_out(target, buf)


def project_l1_ball(x, radius, *, out=None):
    """Euclidean projection onto the l1 ball ``{z : sum_i |z_i| <= radius}``.

    Parameters
    ----------
    x : array_like of any shape
        Real numbers; treated as one flat vector. float32 stays float32, other numeric
        dtypes are converted to float64.
    radius : float >= 0
        Radius of the ball (same units as ``x``). ``radius=0`` returns zeros.
    out : ndarray, optional
        Array of the shape and dtype of the result that receives it (may be ``x`` itself).

    Returns
    -------
    ndarray of the shape of ``x``
        ``argmin_z ||z - x||_2`` subject to ``||z||_1 <= radius``: ``x`` itself (a copy) when
        ``||x||_1 <= radius``, otherwise ``sign(x) * max(|x| - tau, 0)`` with the unique
        ``tau > 0`` such that the result has l1 norm ``radius``. ``||x||_1`` is summed in
        double: an ``x`` whose exact norm is within the sum's rounding below ``radius`` may
        be moved by about an ulp.

    Raises
    ------
    TypeError
        If ``x`` is not real numeric or ``radius`` is not a real number.
    ValueError
        If ``x`` contains NaN or inf, ``radius`` is negative or not finite, or ``out`` has the
        wrong shape or dtype.

    Notes
    -----
    Exact, expected linear time: usually one pass over ``x`` plus the output pass. For vectors
    of 4096 entries or more, a strided sample of about ``4 sqrt(n)`` entries gives an estimate
    of the threshold and a window ``(lo, hi]`` around it; one vectorised pass sums and counts
    the ``|x_i| > hi`` and stores only the entries inside the window, which gives
    ``f(t) = sum_i (|x_i| - t)_+ - radius`` at ``lo`` and ``hi``. When ``f(lo) >= 0 >= f(hi)``,
    Newton sweeps on the window's entries from ``lo`` (Michelot's iteration; Michelot,
    J. Optim. Theory Appl. 50, 1986) reach ``tau``; when the window misses, ``f`` being convex
    and decreasing gives a window that surely holds ``tau`` for one more pass (the Newton step
    from ``hi``, or the root of the tangent at ``lo``). Shorter vectors use Condat's algorithm
    (L. Condat, "Fast projection onto the simplex and the l1 ball", Math. Program. 158, 2016,
    Algorithm 1). The threshold is computed from the active set in double precision. Duchi et
    al. (ICML 2008) give the sort-based O(n log n) method that this replaces.

    Examples
    --------
    >>> import numpy as np
    >>> from skproj import project_l1_ball
    >>> project_l1_ball(np.array([3.0, -1.0, 0.5]), 2.0)  # signs are restored: -0.0
    array([ 2., -0.,  0.])
    """
    radius = check_scalar(radius, "radius")
    return _flat_kernel(_l1.l1_ball, x, radius, out, "x")


def project_simplex(x, radius=1.0, *, out=None):
    """Euclidean projection onto the simplex ``{z : z_i >= 0, sum_i z_i = radius}``.

    Parameters
    ----------
    x : array_like of any shape
        Real numbers (of any sign); treated as one flat vector.
    radius : float >= 0, default=1.0
        Sum of the result's entries. ``radius=0`` returns zeros.
    out : ndarray, optional
        Array of the shape and dtype of the result that receives it (may be ``x`` itself).

    Returns
    -------
    ndarray of the shape of ``x``
        ``max(x - tau, 0)`` with the unique ``tau`` (of any sign) making the entries sum to
        ``radius``. Unlike :func:`project_l1_ball`, a point inside the l1 ball is moved too.

    Raises
    ------
    TypeError, ValueError
        As :func:`project_l1_ball`.

    Notes
    -----
    The threshold is found as in :func:`project_l1_ball` (a sampled window, one vectorised
    pass, Michelot's Newton sweeps on the window's entries) on ``x`` itself; Condat's
    algorithm (Math. Program. 158, 2016, Algorithm 1) for vectors under 4096 entries.
    Expected linear time.
    """
    radius = check_scalar(radius, "radius")
    return _flat_kernel(_l1.simplex, x, radius, out, "x")


def project_l11_ball(X, radius, *, out=None):
    """Euclidean projection onto the l1,1 ball ``{Z : sum_ij |Z_ij| <= radius}``.

    The l1,1 norm of a matrix is the l1 norm of its entries, so this is
    :func:`project_l1_ball` on the flattened 2-D array; it exists so that the norm balls of
    structured sparsity share one naming scheme.

    Parameters
    ----------
    X : array_like of shape (n_rows, n_cols)
    radius : float >= 0
    out : ndarray of shape (n_rows, n_cols), optional

    Returns
    -------
    ndarray of shape (n_rows, n_cols)

    Raises
    ------
    ValueError
        If ``X`` is not 2-D, plus every error of :func:`project_l1_ball`.
    """
    X = as_float_array(X, "X", ndim=2)
    return project_l1_ball(X, radius, out=out)


def _grouped(kernel, X, radius, axis, out):
    """Run a rows-are-groups ball kernel for either axis (axis=0 works on the transpose).

    The kernels (l1,2 and l1,inf balls) flag NaN and inf in ``X`` like an overflow, without
    writing their output, so the separate finiteness pass runs only then (or for radius 0).
    """
    radius = check_scalar(radius, "radius")
    X = as_float_array(X, "X", ndim=2, finite=False)
    axis = check_axis(axis)
    if radius == 0.0:
        check_finite(X, "X")
        target, buf = prepare_out(out, X.shape, X.dtype)
        buf[...] = 0
        return finish_out(target, buf)
    return run_grouped(kernel, X, axis, out, radius, _overflowed, "X")


_norm_sections = fill_doc(
    norm_sections="""
    Parameters
    ----------
    X : array_like of shape (n_rows, n_cols)
    axis : {0, 1, -1, -2}, default=1
        With ``axis=1`` (the default) the rows are the groups.

    Returns
    -------
    float
        Computed in double precision; 0.0 for an empty array.

    Raises
    ------
    TypeError, ValueError
        If ``X`` is not a finite real 2-D array or ``axis`` is invalid.
    """
)


def _grouped_norm(kernel, X, axis):
    """Run a rows-are-groups norm kernel for either axis (axis=0 works on the transpose)."""
    X = as_float_array(X, "X", ndim=2)
    axis = check_axis(axis)
    if X.size == 0:
        return 0.0
    return kernel(X if axis == 1 else np.ascontiguousarray(X.T))


def project_l12_ball(X, radius, axis=1, *, out=None):
    """Euclidean projection onto the l1,2 ball (group lasso ball).

    With ``axis=1`` the ball is ``{Z : sum_i ||Z_i,:||_2 <= radius}`` (rows are the groups);
    with ``axis=0`` the columns are the groups.

    Parameters
    ----------
    X : array_like of shape (n_rows, n_cols)
    radius : float >= 0
    axis : {0, 1, -1, -2}, default=1
        Axis along which the inner l2 norm is taken.
    out : ndarray of shape (n_rows, n_cols), optional

    Returns
    -------
    ndarray of shape (n_rows, n_cols)
        ``X`` (a copy) when inside the ball; otherwise each group ``g`` is scaled by
        ``max(0, 1 - tau / ||X_g||_2)`` where ``tau`` is the threshold of the l1-ball
        projection of the vector of group norms.

    Raises
    ------
    TypeError, ValueError
        As :func:`project_l1_ball`; also ``X`` not 2-D and a bad ``axis``.

    Notes
    -----
    Exact: the projection onto the l1,2 ball reduces to the l1-ball projection of the group
    norms (see e.g. Barlaud, Perez, Marmorat, "Linear time bi-level l1,inf projection;
    application to feature selection and sparsification of auto-encoder neural networks",
    arXiv 2407.16293, and Condat 2016 for the inner l1 projection).
    """
    return _grouped(_l1.l12_ball, X, radius, axis, out)


@_norm_sections
def l12_norm(X, axis=1):
    """The l1,2 norm ``sum_g ||X_g||_2`` with the inner l2 norm taken along ``axis``.

    {norm_sections}
    """
    return _grouped_norm(_l1.l12_norm, X, axis)


def project_l1inf_ball(X, radius, axis=1, *, out=None):
    """Exact Euclidean projection onto the l1,inf ball.

    With ``axis=1`` the ball is ``{Z : sum_i max_j |Z_ij| <= radius}`` (rows are the groups);
    with ``axis=0`` the columns are the groups. The projection zeroes whole groups, which is
    what makes this ball useful for feature selection.

    Parameters
    ----------
    X : array_like of shape (n_rows, n_cols)
        Real numbers of any sign. float32 stays float32, other numeric dtypes become float64.
    radius : float >= 0
        Radius of the ball (same units as ``X``). ``radius=0`` returns zeros.
    axis : {0, 1, -1, -2}, default=1
        Axis along which the inner l_inf norm is taken (as in :func:`numpy.linalg.norm`).
    out : ndarray of shape (n_rows, n_cols), optional
        Array of the result's dtype that receives it (may be ``X`` itself).

    Returns
    -------
    ndarray of shape (n_rows, n_cols)
        ``argmin_Z ||Z - X||_F`` subject to ``||Z||_{1,inf} <= radius``: ``X`` (a copy) when
        ``||X||_{1,inf} <= radius``; otherwise ``sign(X) * min(|X|, mu_g)`` where, for the
        unique ``theta > 0``, each group's level ``mu_g`` removes exactly ``theta`` of l1 mass
        from the group (``sum_j max(|X_gj| - mu_g, 0) = theta``; ``mu_g = 0``, the group is
        zeroed, when its l1 norm is ``<= theta``) and ``sum_g mu_g = radius``.

    Raises
    ------
    TypeError
        If ``X`` is not real numeric, ``radius`` not a real number or ``axis`` not an integer.
    ValueError
        If ``X`` is not 2-D or contains NaN or inf, ``radius`` is negative or not finite,
        ``axis`` is out of range, or ``out`` has the wrong shape or dtype.
    MemoryError
        If the kernel's work buffers cannot be allocated.

    Notes
    -----
    The optimality conditions are those of Quattoni, Carreras, Collins, Darrell, "An efficient
    projection for l1,inf regularization", ICML 2009 (Section 4), who find ``theta`` by sorting
    all breakpoints (O(nm log nm)); Perez, Condat, Barlaud, "Near-linear time projection onto
    the l1,inf ball; application to sparse neural networks", arXiv 2307.09836, give the exact
    near-linear algorithm (groups visited in decreasing l1 norm). This
    implementation shares its principles (groups that cannot survive are never visited
    beyond one pass; only the entries near each group's final level are ever stored) but
    finds ``theta`` differently: ``F(theta) = sum_g mu_g(theta)`` is convex, decreasing and
    piecewise linear, and the semismooth Newton iteration of Chu, Yu, Wang, Zhang, Zhao,
    "Semismooth Newton algorithm for efficient projections onto l1,inf-norm ball", ICML 2020,
    ends exactly on its last linear piece. ``theta`` is first estimated from a column
    subsample (gathered in the first pass) and evaluated exactly there: below ``theta*`` the
    estimate is a lower bound, above it the root of the tangent is one, and Newton runs
    from that lower bound. A group of at most 32 KB (it stays in the L1 cache) gets its level
    by Michelot's sweeps over its row (Michelot, J. Optim. Theory Appl. 50, 1986; any subset's
    ``(sum - theta) / size`` is a lower bound of the level, Condat 2016), each one vectorised
    pass that also confirms the set, the first starting from the estimate's level; later
    steps start from the last clipped set and cost nothing while it stays the clipped set. A
    longer group is split once into entries surely clipped, candidates (kept) and entries
    surely kept (dropped), and every later step only touches the candidates; a group whose
    level leaves its candidate window is split again with a window that is always valid, so
    the result is exact whatever the quality of the estimate. ``theta`` and the levels are
    recomputed from the final clipped sets in double precision, and scaled to sum to the
    radius when ``theta`` cannot carry them (a radius far below the norm: ``(S_g - theta) /
    k_g`` keeps only the bits of ``theta``'s spacing). Below the rounding of the groups' l1
    norms (radius / norm under about 1e-16 in float64) the levels carry no reliable digit:
    the result may be 0, or its norm off the radius by a few percent, within about the
    radius of the projection, as for :func:`project_l12_ball`. All work buffers are heap-allocated (O(n + stored candidates)
    memory). NaN and inf in ``X`` are found by the
    kernel's first pass (the separate check would cost a pass). The straightforward
    sort-based method is kept in ``benchmarks/`` for comparison.

    Examples
    --------
    >>> import numpy as np
    >>> from skproj import project_l1inf_ball
    >>> X = np.array([[3.0, -1.0], [0.5, 0.2]])
    >>> project_l1inf_ball(X, 2.0)
    array([[ 2., -1.],
           [ 0.,  0.]])
    """
    return _grouped(_l1inf.l1inf_ball, X, radius, axis, out)


@_norm_sections
def l1inf_norm(X, axis=1):
    """The l1,inf norm ``sum_g max_j |X_gj|`` with the inner l_inf norm taken along ``axis``.

    {norm_sections}
    """
    return _grouped_norm(_l1inf.l1inf_norm, X, axis)
