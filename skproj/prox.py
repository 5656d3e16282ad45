r"""Proximal operators of sparsity-inducing penalties, plain and weighted.

The proximal operator of a function :math:`h` at :math:`z` is
:math:`\operatorname{prox}_h(z) = \arg\min_x \tfrac12\|x - z\|_2^2 + h(x)`; its *weighted*
version (the one an adaptive optimiser such as Adam needs, with :math:`d` the diagonal
preconditioner) is :math:`\arg\min_x \tfrac12\sum_i d_i (x_i - z_i)^2 + h(x)`.

Every function validates its input, then calls one Cython kernel (float32 and float64 kernels,
GIL released, arithmetic in double). Conventions, shared with :mod:`skproj.projections`:

* ``axis`` has the meaning it has in :func:`numpy.linalg.norm`: the inner norm (l2 or l_inf)
  is taken along ``axis``. With ``axis=1`` (the default) the rows are the groups; scikit-learn's
  ``coef_`` of shape ``(n_targets, n_features)`` needs ``axis=0`` to group by feature.
* float32 in gives float32 out; other numeric dtypes become float64.
* The input is never modified; ``out=`` (an array of the result's shape and dtype, possibly the
  input itself) receives the result when given.
* A threshold of 0 returns the input (as a copy); empty arrays are returned empty.
* float64 data whose group norms overflow double (entries near the top of its range) go
  through :func:`prox_l1inf` and :func:`prox_group_l2` divided, with the threshold, by a power
  of two, the result multiplied back (exact: these operators are positively homogeneous); the
  weighted operators raise a ``ValueError`` instead.
"""

import numbers
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._kernels import _prox
from ._validation import as_array, as_float_array, check_axis, check_scalar, fill_doc
from ._validation import finish_out, prepare_out, run_grouped, separate_input

__all__ = [
    "prox_l1",
    "prox_group_l2",
    "prox_l1inf",
    "weighted_prox_group_l2",
    "weighted_prox_group_mcp",
]


def prox_l1(x, threshold, *, out=None):
    r"""Soft thresholding: the proximal operator of ``threshold * ||x||_1``.

    .. math:: \operatorname{prox}(x)_i = \operatorname{sign}(x_i)\,\max(|x_i| - c, 0),
        \qquad c = \text{threshold}.

    Parameters
    ----------
    x : array_like of any shape
        Real numbers. float32 stays float32, other numeric dtypes become float64.
    threshold : float >= 0
        The penalty strength ``c`` (same units as ``x``). ``0`` returns ``x`` (a copy).
    out : ndarray, optional
        Array of the shape and dtype of the result that receives it (may be ``x`` itself).

    Returns
    -------
    ndarray of the shape of ``x``
        ``argmin_z 0.5 ||z - x||_2^2 + threshold ||z||_1``.

    Raises
    ------
    TypeError
        If ``x`` is not real numeric or ``threshold`` is not a real number.
    ValueError
        If ``x`` contains NaN or inf, ``threshold`` is negative or not finite, or ``out`` has
        the wrong shape or dtype.

    Notes
    -----
    Donoho, "De-noising by soft-thresholding", IEEE Trans. Inf. Theory 41(3), 1995; see also
    Parikh & Boyd, "Proximal algorithms", Found. Trends Optim. 1(3), 2014, Sec. 6.5.2.

    Examples
    --------
    >>> import numpy as np
    >>> from skproj import prox_l1
    >>> prox_l1(np.array([3.0, -1.0, 0.5]), 1.0)
    array([2., 0., 0.])
    """
    threshold = check_scalar(threshold, "threshold")
    x = as_float_array(x, "x")
    target, buf = prepare_out(out, x.shape, x.dtype)
    x = separate_input(x, buf)
    if x.size:
        _prox.soft_threshold(x.reshape(-1), buf.reshape(-1), threshold)
    return finish_out(target, buf)


#: the first parameters shared by the docstrings of the two group proximal operators
_group_prox_sections = fill_doc(
    x_threshold="""
    Parameters
    ----------
    X : array_like of shape (n_rows, n_cols)
    threshold : float >= 0
        The penalty strength ``c``. ``0`` returns ``X`` (a copy).
    """
)


@_group_prox_sections
def prox_group_l2(X, threshold, axis=1, *, out=None):
    r"""Group soft thresholding: the proximal operator of ``threshold * sum_g ||X_g||_2``.

    With ``axis=1`` the groups ``X_g`` are the rows (the l2 norm is taken along axis 1):

    .. math:: \operatorname{prox}(X)_g = \max\Bigl(0,\ 1 - \frac{c}{\|X_g\|_2}\Bigr)\, X_g,
        \qquad c = \text{threshold}.

    {x_threshold}
    axis : {0, 1, -1, -2}, default=1
        Axis along which the inner l2 norm is taken (``axis=0``: the columns are the groups).
    out : ndarray of shape (n_rows, n_cols), optional

    Returns
    -------
    ndarray of shape (n_rows, n_cols)
        ``argmin_Z 0.5 ||Z - X||_F^2 + threshold * sum_g ||Z_g||_2``. A group is exactly zero
        when ``||X_g||_2 <= threshold``.

    Raises
    ------
    TypeError
        If ``X`` is not real numeric or ``threshold`` / ``axis`` have the wrong type.
    ValueError
        If ``X`` is not 2-D or contains NaN or inf, ``threshold`` is negative or not finite,
        ``axis`` is out of range, or ``out`` has the wrong shape or dtype.

    Notes
    -----
    Yuan & Lin, "Model selection and estimation in regression with grouped variables",
    J. R. Stat. Soc. B 68(1), 2006; the formula follows from Moreau's decomposition
    ``prox_{c||.||_2}(x) = x - P_{c B_2}(x)`` (Parikh & Boyd 2014, Sec. 6.5.1). The group norms
    are computed without overflow or underflow.
    """
    threshold = check_scalar(threshold, "threshold")
    X = as_float_array(X, "X", ndim=2)
    axis = check_axis(axis)
    # the kernel returns its number of groups whose l2 norm overflows double
    return run_grouped(_prox.group_soft_threshold, X, axis, out, threshold, bool)


@_group_prox_sections
def prox_l1inf(X, threshold, axis=1, *, out=None):
    r"""Proximal operator of ``threshold * ||X||_{1,inf}`` (``sum_g max_j |X_gj|``).

    By Moreau's decomposition, since the conjugate of ``c ||.||_{1,inf}`` is the indicator of
    the dual-norm ball ``{max_g ||U_g||_1 <= c}`` (a product of l1 balls):

    .. math:: \operatorname{prox}(X)_g = X_g - P_{\{\|u\|_1 \le c\}}(X_g)
        = \begin{cases} 0 & \text{if } \|X_g\|_1 \le c,\\
          \operatorname{sign}(X_g)\min(|X_g|, \tau_g) & \text{otherwise,}\end{cases}

    where :math:`\tau_g > 0` solves :math:`\sum_j \max(|X_{gj}| - \tau_g, 0) = c`.

    {x_threshold}
    axis : {0, 1, -1, -2}, default=1
        Axis along which the inner l_inf norm is taken: with ``axis=1`` the rows are the groups
        (``||X||_{1,inf} = sum_i max_j |X_ij|``) and a group with ``||X_g||_1 <= c`` is zeroed.
    out : ndarray of shape (n_rows, n_cols), optional

    Returns
    -------
    ndarray of shape (n_rows, n_cols)
        ``argmin_Z 0.5 ||Z - X||_F^2 + threshold * ||Z||_{1,inf}``.

    Raises
    ------
    TypeError, ValueError
        As :func:`prox_group_l2`.

    Notes
    -----
    Moreau's decomposition ``prox_f(x) + prox_{f*}(x) = x`` (Moreau 1965; Parikh & Boyd 2014,
    Sec. 2.5) with one l1-ball threshold per group. It is found by Michelot's algorithm
    (C. Michelot, "A finite algorithm for finding the projection of a point onto the canonical
    simplex of R^n", J. Optim. Theory Appl. 50, 1986), started from the lower bound
    :math:`\max(\max_j |X_{gj}| - c, (\|X_g\|_1 - c) / m)`: each sweep is one vectorised pass
    over the group (``m`` entries), and the clipped set only shrinks. A group that needs more
    than 32 sweeps goes to Condat's algorithm (L. Condat, "Fast projection onto the simplex and
    the l1 ball", Math. Program. 158, 2016, Algorithm 1; expected linear time), so the whole prox
    costs expected O(n_rows * n_cols). One pass computes every group's maximum and l1 norm, and
    one writes the output.
    """
    threshold = check_scalar(threshold, "threshold")
    X = as_float_array(X, "X", ndim=2)
    axis = check_axis(axis)
    if threshold == 0.0:
        target, buf = prepare_out(out, X.shape, X.dtype)
        buf[...] = X
        return finish_out(target, buf)
    # the kernel returns its number of groups whose l1 norm overflows double
    return run_grouped(_prox.l1inf_prox, X, axis, out, threshold, bool)


# --------------------------------------------------------------------------------------------
# Weighted proximal operators (Deleu & Bengio 2021)


def _check_weights(weights, Z):
    w = as_float_array(weights, "weights")
    if w.shape != Z.shape:
        raise ValueError(f"weights must have the shape of Z {Z.shape}, got {w.shape}.")
    if w.dtype != Z.dtype:
        with np.errstate(over="ignore"):
            w = w.astype(Z.dtype)
        if not np.isfinite(w).all():
            raise ValueError(f"weights has values that overflow Z's dtype {Z.dtype} (largest {w.dtype} is "
                             f"{np.finfo(Z.dtype).max:.3e}).")
    if w.size and not (w > 0).all():
        raise ValueError(
            f"weights must be > 0 everywhere (in Z's dtype {Z.dtype}); the smallest is {w.min()!r}."
        )
    return np.ascontiguousarray(w)


def _check_group_threshold(threshold, n_groups):
    """A scalar >= 0 or an array of shape (n_groups,) of finite values >= 0 -> float64 array."""
    c = as_array(threshold, "threshold")
    if c.ndim == 0:
        return np.full(n_groups, check_scalar(threshold, "threshold"), dtype=np.float64)
    if c.dtype.kind not in "iuf":  # bools are refused, as for a scalar threshold
        raise TypeError(f"threshold must be a real number or a real array, got dtype {c.dtype}.")
    if c.shape != (n_groups,):
        raise ValueError(
            f"threshold must be a scalar or an array of shape (n_groups,) = ({n_groups},), got shape {c.shape}."
        )
    c = np.ascontiguousarray(c, dtype=np.float64)
    if c.size and not np.isfinite(c).all():
        raise ValueError("threshold must be finite, it contains NaN or inf.")
    if c.size and c.min() < 0:
        raise ValueError(f"threshold must be >= 0, got a minimum of {c.min()}.")
    return c


def _check_solver_params(tol, max_iter, dtype):
    if tol is None:
        tol = 1e-12 if dtype == np.float64 else 1e-6
    tol = check_scalar(tol, "tol")
    if isinstance(max_iter, (bool, np.bool_)) or not isinstance(max_iter, numbers.Integral):
        raise TypeError(f"max_iter must be an integer, got {max_iter!r}.")
    if max_iter < 1:
        raise ValueError(f"max_iter must be >= 1, got {max_iter}.")
    return tol, int(min(max_iter, 2**31 - 1))


def _weighted(Z, weights, threshold, inv_gamma, axis, out, tol, max_iter, name):
    n_groups = Z.shape[0] if axis == 1 else Z.shape[1]
    c = _check_group_threshold(threshold, n_groups)
    target, buf = prepare_out(out, Z.shape, Z.dtype)
    if Z.size == 0:
        return finish_out(target, buf)
    if axis == 1:
        Zk, Dk = separate_input(Z, buf), separate_input(weights, buf)
        res = buf
    else:
        Zk, Dk = np.ascontiguousarray(Z.T), np.ascontiguousarray(weights.T)
        res = np.empty_like(Zk)
    ret = _prox.weighted_group_prox(Zk, Dk, c, inv_gamma, res, tol, max_iter)
    if ret < 0:
        # the groups before the overflowing one were written: an input that is also the output
        # (out=Z or out=weights, copied into Zk / Dk before) gets its values back
        for src, orig in ((Zk, Z), (Dk, weights)) if res is buf else ():
            if orig is buf and src is not orig:
                buf[...] = src
        raise ValueError(f"{name}: ||weights * Z||_2 overflows double precision for some group; rescale Z.")
    if ret > 0:
        warnings.warn(
            f"{name}: Newton's method reached max_iter={max_iter} before the relative change of "
            f"||x||_2 fell below tol={tol:g} in {ret} group(s); increase max_iter.",
            ConvergenceWarning,
            stacklevel=3,
        )
    if res is not buf:
        buf[...] = res.T
    return finish_out(target, buf)


#: sections shared by the docstrings of the two weighted (Newton) proximal operators
_newton_sections = fill_doc(
    returns="""
    Returns
    -------
    ndarray of shape (n_rows, n_cols), dtype of ``Z``
    """,
    warns="""
    Warns
    -----
    ConvergenceWarning
        When some group's Newton iteration reaches ``max_iter``.
    """,
)


@_newton_sections
def weighted_prox_group_l2(Z, weights, threshold, axis=1, *, out=None, tol=None, max_iter=100):
    r"""Weighted proximal operator of the group lasso penalty (Deleu & Bengio 2021).

    For every group ``g`` (a row when ``axis=1``) with entries ``z = Z_g``, weights
    ``d = weights_g`` and threshold ``c = c_g``, returns

    .. math:: x^\star = \arg\min_x\ \tfrac12 \sum_i d_i (x_i - z_i)^2 + c\,\|x\|_2 .

    Solution: :math:`x^\star = 0` if and only if :math:`\|d \odot z\|_2 \le c`; otherwise

    .. math:: x^\star_i = \frac{d_i\, t\, z_i}{d_i t + c},

    where :math:`t = \|x^\star\|_2 > 0` is the unique root of

    .. math:: \sum_i \frac{z_i^2}{(t + c/d_i)^2} = 1 .

    With all ``d_i`` equal to ``d`` this is group soft thresholding of ``z`` at ``c / d``
    (:func:`prox_group_l2`).

    Parameters
    ----------
    Z : array_like of shape (n_rows, n_cols)
        The point ``z`` (in an adaptive proximal method: the parameters after the gradient step).
    weights : array_like of shape (n_rows, n_cols)
        The diagonal metric ``d``, > 0 everywhere (in Adam: ``sqrt(v_hat) + eps``). Converted to
        ``Z``'s dtype; a weight that becomes 0 in that dtype is rejected.
    threshold : float >= 0 or array_like of shape (n_groups,)
        The penalty ``c`` of each group (in an optimiser: learning rate times the group's
        regularisation strength). ``n_groups = n_rows`` for ``axis=1``, ``n_cols`` for ``axis=0``.
        A group with ``c = 0`` is returned unchanged.
    axis : {0, 1, -1, -2}, default=1
        Axis along which the inner l2 norm is taken (``axis=1``: the rows are the groups).
    out : ndarray of shape (n_rows, n_cols), optional
        Receives the result (may be ``Z`` itself).
    tol : float >= 0, optional
        Stopping rule of the per-group Newton iteration: stop when the relative change of
        ``t`` is ``<= tol``, i.e. ``t_{k+1} - t_k <= tol * t_{k+1}``. Since the iteration
        converges quadratically, the remaining error is then about ``tol**2`` relative.
        Default ``1e-12`` for float64 and ``1e-6`` for float32 input (arithmetic is in double).
        The iteration also stops when rounding stops ``t`` from increasing.
    max_iter : int >= 1, default=100
        Maximum Newton steps per group; reaching it issues a
        :class:`~sklearn.exceptions.ConvergenceWarning`. A few steps are typical; when the
        weights of the group are all equal the first step is exact (with ``tol=0`` one more
        step confirms it).

    {returns}

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If ``Z`` is not 2-D or contains NaN or inf; ``weights`` has another shape, is not
        finite or not > 0 (in ``Z``'s dtype: float64 weights that overflow or round to 0 in
        float32 are refused); ``threshold`` is negative, not finite or of the wrong shape; ``axis``
        is out of range; ``tol < 0``; ``max_iter < 1``; ``out`` has the wrong shape or dtype; or
        ``||weights_g * Z_g||_2`` overflows double precision.

    {warns}

    Notes
    -----
    This is the weighted proximal operator of the l1/l2 (group lasso) penalty of T. Deleu and
    Y. Bengio, "Structured sparsity inducing adaptive optimizers for deep learning",
    arXiv:2102.03869, 2021, which reduces the problem to the scalar equation above and solves
    it by Newton's method. Derivation: for :math:`x \ne 0` the optimality condition
    :math:`d_i (x_i - z_i) + c\,x_i/\|x\|_2 = 0` gives the formula for :math:`x_i`; taking
    its norm gives the equation for :math:`t`; :math:`x = 0` is optimal iff
    :math:`\|d \odot z\|_2 \le c` (``-d*z`` lies in the subdifferential ``c B_2`` at 0).

    Solver used here: Newton's method on :math:`g(t) = S(t)^{-1/2} = 1` with
    :math:`S(t) = \sum_i (d_i z_i / (d_i t + c))^2`. The function ``g`` is a power mean of
    exponent -2 of the affine functions :math:`d_i t + c`, hence concave and increasing, so
    Newton's iterates started at :math:`t_0 = (\|d \odot z\|_2 - c) / \max_i d_i` (a lower
    bound of the root, because :math:`S(t_0) \ge 1`) increase monotonically to the root; the
    first step is exact when the weights are equal. Norms are computed without overflow;
    ``S`` could overflow only for weight ratios within a group beyond about 1e150.
    """
    Z = as_float_array(Z, "Z", ndim=2)
    axis = check_axis(axis)
    weights = _check_weights(weights, Z)
    tol, max_iter = _check_solver_params(tol, max_iter, Z.dtype)
    return _weighted(Z, weights, threshold, 0.0, axis, out, tol, max_iter, "weighted_prox_group_l2")


@_newton_sections
def weighted_prox_group_mcp(Z, weights, threshold, gamma, axis=1, *, out=None, tol=None, max_iter=100):
    r"""Weighted proximal operator of the group MCP penalty.

    For every group ``g`` (a row when ``axis=1``) with entries ``z``, weights ``d`` and
    threshold ``c = c_g``, returns

    .. math:: x^\star = \arg\min_x\ \tfrac12 \sum_i d_i (x_i - z_i)^2
        + \rho_{c,\gamma}(\|x\|_2),

    with the minimax concave penalty (MCP) applied to the group norm,

    .. math:: \rho_{c,\gamma}(t) = \begin{cases} c\,t - \dfrac{t^2}{2\gamma} & t \le \gamma c,\\[4pt]
        \dfrac{\gamma c^2}{2} & t \ge \gamma c. \end{cases}

    **Convexity.** The objective is strictly convex (so the prox is single valued and the
    formulas below are the exact minimiser) if and only if ``gamma * d_i > 1`` for every entry
    ``i`` of the group; this is checked for all entries and a ValueError is raised otherwise.
    In an adaptive optimiser with learning rate ``lr``, penalty ``lr * MCP(lambda, gamma_0)``
    and preconditioner ``d`` this normalisation is ``c = lr * lambda`` and
    ``gamma = gamma_0 / lr``, and the condition reads ``gamma_0 * d_i > lr``.

    Solution (``a_i = d_i - 1/gamma > 0``):

    * :math:`x^\star = 0` iff :math:`\|d \odot z\|_2 \le c`;
    * :math:`x^\star = z` if :math:`\|z\|_2 \ge \gamma c` (or ``c = 0``);
    * otherwise :math:`x^\star_i = d_i t z_i / (a_i t + c)` where :math:`t = \|x^\star\|_2
      \in (0, \gamma c)` is the unique root of :math:`\sum_i d_i^2 z_i^2 / (a_i t + c)^2 = 1`.

    With all weights equal to 1 this is the group firm thresholding
    :math:`x^\star = \frac{\gamma}{\gamma - 1}\max(0, 1 - c/\|z\|_2)\,z` for
    :math:`\|z\|_2 < \gamma c`; as ``gamma -> inf`` it tends to :func:`weighted_prox_group_l2`.

    Parameters
    ----------
    Z : array_like of shape (n_rows, n_cols)
    weights : array_like of shape (n_rows, n_cols)
        The diagonal metric ``d``, > 0 everywhere, with ``gamma * weights > 1``.
    threshold : float >= 0 or array_like of shape (n_groups,)
        The MCP level ``c`` of each group (the penalty's slope at 0).
    gamma : float > 0
        The MCP concavity parameter (the penalty is flat beyond ``||x||_2 = gamma * c``).
    axis : {0, 1, -1, -2}, default=1
    out : ndarray of shape (n_rows, n_cols), optional
    tol : float >= 0, optional
        As in :func:`weighted_prox_group_l2` (default 1e-12 for float64, 1e-6 for float32).
    max_iter : int >= 1, default=100

    {returns}

    Raises
    ------
    TypeError, ValueError
        As :func:`weighted_prox_group_l2`; also ``gamma`` not > 0 or not finite, and
        ``gamma * min(weights) <= 1`` (non-convex subproblem).

    {warns}

    Notes
    -----
    The group MCP is the MCP of C.-H. Zhang ("Nearly unbiased variable selection under minimax
    concave penalty", Ann. Stat. 38(2), 2010) applied to group norms (Huang, Breheny & Ma,
    "A selective review of group selection in high-dimensional models", Stat. Sci. 27(4), 2012).
    Its weighted proximal operator in an adaptive proximal method is derived in T. Deleu and
    Y. Bengio, "Structured sparsity inducing adaptive optimizers for deep learning",
    arXiv:2102.03869, 2021; the derivation is restated here. Writing
    :math:`\rho(t) = h(t) - t^2/(2\gamma)` with :math:`h` convex nondecreasing, the objective
    is :math:`\tfrac12\sum_i a_i x_i^2 - \sum_i d_i z_i x_i + h(\|x\|_2) + \text{const}`,
    strictly convex iff all :math:`a_i > 0`. Its optimality conditions give the three cases
    above; in the middle region :math:`(a_i + c/t) x_i = d_i z_i`. The scalar equation is
    solved by the same monotone Newton iteration as :func:`weighted_prox_group_l2` (on
    :math:`S(t)^{-1/2} = 1`, concave increasing) from the lower bound
    :math:`t_0 = (\|d \odot z\|_2 - c)/\max_i a_i`.
    """
    Z = as_float_array(Z, "Z", ndim=2)
    axis = check_axis(axis)
    weights = _check_weights(weights, Z)
    gamma = check_scalar(gamma, "gamma", allow_zero=False)
    tol, max_iter = _check_solver_params(tol, max_iter, Z.dtype)
    if weights.size:
        wmin = float(weights.min())
        if not (gamma * wmin > 1.0 and wmin - 1.0 / gamma > 0.0):
            raise ValueError(
                "weighted_prox_group_mcp needs gamma * weights > 1 for every entry (otherwise the "
                f"subproblem is not convex); got gamma={gamma!r} and min(weights)={wmin!r}, "
                f"gamma * min(weights)={gamma * wmin!r}."
            )
    return _weighted(Z, weights, threshold, 1.0 / gamma, axis, out, tol, max_iter, "weighted_prox_group_mcp")
