"""Sparsity-inducing activations, their magnitude-clipped versions, and edge-of-chaos initialisation.

Source: I. Price, N. Daultry Ball, S. C. H. Lam, A. C. Jones, J. Tanner, "Deep Neural Network
Initialization with Sparsity Inducing Activations", ICLR 2024, arXiv:2402.16184 (the abstract calls it
"stable and sparse activations"). Four activations, with threshold ``tau >= 0`` and clip level
``clip = m > 0``:

* shifted ReLU         ``ReLU_tau(x)    = max(x - tau, 0)``
* soft threshold       ``ST_tau(x)      = sign(x) max(|x| - tau, 0)``
* clipped ReLU         ``CReLU_tau,m(x) = min(max(x - tau, 0), m)``
* clipped soft thresh. ``CST_tau,m(x)   = sign(x) min(max(|x| - tau, 0), m)``

Each has a function ``f(x, tau[, clip])`` and a derivative ``f_derivative(x, tau[, clip])``
(elementwise, numpy speed, float32 stays float32, the input is never modified). The derivative is
1 on the open linear pieces and 0 elsewhere, including at the kinks (the convention ReLU'(0) = 0).
:func:`get_activation` returns, for each name, a forward and a derivative with the uniform signature
``f(x, tau, clip=np.inf)``.

Gaussian-process maps. In the wide-network limit the pre-activations of a layer ``h = W z + b``
with ``W_ij ~ N(0, sigma_w2 / n_in)`` and ``b_j ~ N(0, sigma_b2)`` are N(0, q) and (Poole et al.
2016; Schoenholz et al. 2017; Price et al. 2024, Section 2)

* variance map  ``V(q) = sigma_w2 E[phi(sqrt(q) Z)^2] + sigma_b2``, Z ~ N(0, 1);
* its slope     ``V'(q) = sigma_w2 d/dq E[phi(sqrt(q) Z)^2]``;
* ``chi_1 = sigma_w2 E[phi'(sqrt(q) Z)^2]``, the slope at 1 of the correlation map;
* the expected fraction of exact zeros, ``P(phi(sqrt(q) Z) = 0)``.

All four are evaluated in closed form with the normal cdf and pdf (derivation in the notes of
:func:`variance_map`). :func:`edge_of_chaos` returns the threshold and the variances that give a
target fraction of zeros at a variance fixed point ``q*`` with ``chi_1 = 1``. For the unclipped
activations ``V'(q*) = chi_1 = 1`` there: the fixed point is only semi-stable and deep networks drift
away from it (Price et al. 2024, Section 3). Clipping subtracts ``sigma_w2 m phi_N(b) / sqrt(q)``
(times 2 for CST) from the slope, which makes the fixed point stable (Section 4);
:func:`max_stable_clip` gives the largest clip for which ``q*`` attracts every variance.
"""

import numbers
from typing import Callable, NamedTuple

import numpy as np
from scipy.special import ndtr, ndtri
from sklearn.utils import check_random_state

from ._validation import as_float_array, check_scalar, fill_doc

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "EdgeOfChaos",
    "chi1",
    "clipped_relu",
    "clipped_relu_derivative",
    "clipped_soft_threshold",
    "clipped_soft_threshold_derivative",
    "edge_of_chaos",
    "get_activation",
    "init_layer",
    "max_stable_clip",
    "shifted_relu",
    "shifted_relu_derivative",
    "soft_threshold",
    "soft_threshold_derivative",
    "variance_map",
    "variance_map_slope",
    "zero_fraction",
]

ACTIVATIONS = ("shifted_relu", "soft_threshold", "clipped_relu", "clipped_soft_threshold")

_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


# --------------------------------------------------------------------------------------------
# validation


def _check_clip(clip, name="clip"):
    """Validate a clip level: a real number > 0, ``np.inf`` allowed (no clipping); None means inf."""
    if clip is None:
        return np.inf
    if isinstance(clip, (bool, np.bool_)) or not isinstance(clip, numbers.Real):
        if not (isinstance(clip, np.ndarray) and clip.ndim == 0 and clip.dtype.kind in "iuf"):
            raise TypeError(f"{name} must be a real number or None, got {clip!r} of type {type(clip).__name__}.")
    clip = float(clip)
    if np.isnan(clip):
        raise ValueError(f"{name} must be > 0 (np.inf for no clipping), got nan.")
    if clip <= 0:
        raise ValueError(f"{name} must be > 0 (np.inf for no clipping), got {clip}.")
    return clip


def _family(activation, clip):
    """Return ``("relu" | "st", clip as float)`` for an activation name and clip level."""
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}.")
    clip = _check_clip(clip)
    if not activation.startswith("clipped_") and np.isfinite(clip):
        raise ValueError(
            f"activation {activation!r} is not clipped, so clip must be None or np.inf, got {clip}; "
            f"use 'clipped_{activation.replace('shifted_', '')}' for a finite clip."
        )
    family = "relu" if activation.endswith("relu") else "st"
    return family, clip


# --------------------------------------------------------------------------------------------
# the activations


_PARAMS = """
Parameters
----------
x : array_like of any shape
    Pre-activations. float32 stays float32, other numeric dtypes become float64.
tau : float >= 0
    Threshold (units of ``x``).
"""

_RETURNS = """
Returns
-------
ndarray of the shape of ``x``
"""

_RAISES = """
Raises
------
TypeError
    If ``x`` is not real numeric or ``tau`` not a real number.
ValueError
    If ``x`` contains NaN or inf, or ``tau`` is negative or not finite.
"""

_RAISES_CLIPPED = """
Raises
------
TypeError
    If ``x`` is not real numeric, or ``tau`` or ``clip`` not a real number.
ValueError
    If ``x`` contains NaN or inf, ``tau`` is negative or not finite, or ``clip <= 0``.
"""

_sections = fill_doc(params=_PARAMS, returns=_RETURNS, raises=_RAISES, raises_clipped=_RAISES_CLIPPED)


def _checked(x, tau, clip):
    """Validated ``x`` (a float array, at least 1-D: numpy ufuncs give scalars on 0-d arrays),
    ``tau`` (in the dtype of ``x``), ``clip`` (float) and the shape of the result."""
    x = as_float_array(x, "x")
    tau = check_scalar(tau, "tau")
    with np.errstate(over="ignore"):  # beyond float32's range: inf, and the results stay exact
        tau = x.dtype.type(tau)
    return np.atleast_1d(x), tau, _check_clip(clip), x.shape


def _ramp(shifted, clip):
    """``min(max(shifted, 0), clip)`` in the dtype of ``shifted``: the clipped ReLU of a shifted input."""
    y = np.maximum(shifted, 0, dtype=shifted.dtype)
    if np.isfinite(clip):
        with np.errstate(over="ignore"):  # a clip beyond float32's range: inf, no clipping
            np.minimum(y, shifted.dtype.type(clip), out=y)
    return y


def _ramp_slope(shifted, clip):
    """Derivative of :func:`_ramp`: 1 where ``0 < shifted < clip``, else 0 (dtype of ``shifted``)."""
    # same float arithmetic as the forward pass: the output is linear exactly where 0 < shifted < clip
    mask = shifted > 0
    if np.isfinite(clip):
        with np.errstate(over="ignore"):  # a clip beyond float32's range: inf, as in _ramp
            mask &= shifted < shifted.dtype.type(clip)
    return mask.astype(shifted.dtype)


@_sections
def shifted_relu(x, tau):
    """Shifted ReLU ``ReLU_tau(x) = max(x - tau, 0)`` (Price et al. 2024, Eq. 5), elementwise.

    ``tau=0`` is the ReLU.

    {params}

    {returns}
        The activations, all ``>= 0``; exactly 0 where ``x <= tau``.

    {raises}
    """
    return clipped_relu(x, tau, np.inf)


def shifted_relu_derivative(x, tau):
    """Derivative of :func:`shifted_relu`: 1 where ``x > tau``, else 0 (same dtype as the result).

    Parameters and errors as in :func:`shifted_relu`. The value at the kink ``x = tau`` is 0.
    """
    return clipped_relu_derivative(x, tau, np.inf)


@_sections
def soft_threshold(x, tau):
    """Soft thresholding ``ST_tau(x) = sign(x) max(|x| - tau, 0)`` (Price et al. 2024, Eq. 6).

    ``tau=0`` is the identity.

    {params}

    {returns}
        The activations (an odd function of ``x``); exactly 0 where ``|x| <= tau``.

    {raises}
    """
    return clipped_soft_threshold(x, tau, np.inf)


def soft_threshold_derivative(x, tau):
    """Derivative of :func:`soft_threshold`: 1 where ``|x| > tau``, else 0 (0 at the kinks).

    Parameters and errors as in :func:`soft_threshold`.
    """
    return clipped_soft_threshold_derivative(x, tau, np.inf)


@_sections
def clipped_relu(x, tau, clip):
    """Clipped shifted ReLU ``CReLU_tau,m(x) = min(max(x - tau, 0), m)`` (Price et al. 2024, Sec. 4).

    {params}
    clip : float > 0 or None
        Clip level ``m``, the largest output (units of ``x``). ``np.inf`` or None: no clipping
        (then this is :func:`shifted_relu`).

    {returns}
        The activations, in ``[0, clip]``; exactly 0 where ``x <= tau``.

    {raises_clipped}
    """
    x, tau, clip, shape = _checked(x, tau, clip)
    return _ramp(x - tau, clip).reshape(shape)


def clipped_relu_derivative(x, tau, clip):
    """Derivative of :func:`clipped_relu`: 1 where ``tau < x < tau + clip``, else 0.

    Parameters and errors as in :func:`clipped_relu`. Returns an array of the dtype of the
    activations (0 at the kinks ``x = tau`` and ``x = tau + clip``).
    """
    x, tau, clip, shape = _checked(x, tau, clip)
    return _ramp_slope(x - tau, clip).reshape(shape)


@_sections
def clipped_soft_threshold(x, tau, clip):
    """Clipped soft threshold ``CST_tau,m(x) = sign(x) min(max(|x| - tau, 0), m)`` (Price et al. 2024, Sec. 4).

    {params}
    clip : float > 0 or None
        Clip level ``m``: outputs lie in ``[-clip, clip]``. ``np.inf`` or None: no clipping
        (then this is :func:`soft_threshold`).

    {returns}
        The activations (an odd function of ``x``); exactly 0 where ``|x| <= tau``.

    {raises_clipped}
    """
    x, tau, clip, shape = _checked(x, tau, clip)
    mag = _ramp(np.abs(x) - tau, clip)
    # copysign restores the sign exactly (odd symmetry holds bit for bit in every dtype)
    return np.copysign(mag, x, out=mag).reshape(shape)


def clipped_soft_threshold_derivative(x, tau, clip):
    """Derivative of :func:`clipped_soft_threshold`: 1 where ``tau < |x| < tau + clip``, else 0.

    Parameters and errors as in :func:`clipped_soft_threshold` (0 at the kinks).
    """
    x, tau, clip, shape = _checked(x, tau, clip)
    return _ramp_slope(np.abs(x) - tau, clip).reshape(shape)


class Activation(NamedTuple):
    """An activation and its derivative with the uniform signature ``f(x, tau, clip=np.inf)``.

    Attributes
    ----------
    name : str
        One of :data:`ACTIVATIONS`.
    forward : callable
        ``forward(x, tau, clip=np.inf) -> ndarray``.
    derivative : callable
        ``derivative(x, tau, clip=np.inf) -> ndarray`` (1 on the linear pieces, else 0).
    odd : bool
        True for the soft thresholds (odd functions), False for the ReLUs.
    clipped : bool
        True for the clipped activations; the unclipped ones accept only ``clip`` None or inf.
    """

    name: str
    forward: Callable
    derivative: Callable
    odd: bool
    clipped: bool


def _uniform(activation, func, kind):
    def wrapped(x, tau, clip=np.inf):
        _, clip = _family(activation, clip)
        return func(x, tau, clip)

    wrapped.__name__ = f"{activation}_{kind}"
    wrapped.__qualname__ = wrapped.__name__
    wrapped.__doc__ = f"``{func.__name__}`` with the signature ``f(x, tau, clip=np.inf)`` (see :func:`get_activation`)."
    return wrapped


_REGISTRY = {
    name: Activation(
        name,
        _uniform(name, clipped_relu if name.endswith("relu") else clipped_soft_threshold, "forward"),
        _uniform(
            name, clipped_relu_derivative if name.endswith("relu") else clipped_soft_threshold_derivative, "derivative"
        ),
        not name.endswith("relu"),
        name.startswith("clipped_"),
    )
    for name in ACTIVATIONS
}


def get_activation(name):
    """Return the :class:`Activation` (forward, derivative) registered under ``name``.

    Parameters
    ----------
    name : {"shifted_relu", "soft_threshold", "clipped_relu", "clipped_soft_threshold"}
        Activation name.

    Returns
    -------
    Activation
        Named tuple ``(name, forward, derivative, odd, clipped)``; ``forward`` and ``derivative``
        take ``(x, tau, clip=np.inf)`` and validate like :func:`clipped_relu`. The unclipped names
        raise ValueError for a finite ``clip``.

    Raises
    ------
    ValueError
        If ``name`` is not one of :data:`ACTIVATIONS`.

    Examples
    --------
    >>> import numpy as np
    >>> from skproj.activations import get_activation
    >>> act = get_activation("clipped_relu")
    >>> act.forward(np.array([-1.0, 0.5, 1.5, 4.0]), 1.0, 2.0)
    array([0. , 0. , 0.5, 2. ])
    >>> act.derivative(np.array([-1.0, 0.5, 1.5, 4.0]), 1.0, 2.0)
    array([0., 0., 1., 0.])
    """
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {name!r}.")
    return _REGISTRY[name]


# --------------------------------------------------------------------------------------------
# Gaussian-process maps in closed form


def _check_q(q, name="q"):
    q = np.asarray(q)
    if q.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be real numeric, got dtype {q.dtype}.")
    q = q.astype(np.float64)
    if q.size and not (np.all(np.isfinite(q)) and np.all(q > 0)):
        shown = q if q.ndim == 0 else "an array with entries <= 0, NaN or inf"
        raise ValueError(f"{name} must be finite and > 0 (a variance), got {shown}.")
    return q


def _gaussian_moments(family, q, tau, clip):
    """Closed-form moments of ``phi(h)``, ``h ~ N(0, q)``, for the ReLU or soft-threshold family.

    Returns ``(E[phi(h)^2], E[phi'(h)^2], d/dq E[phi(h)^2], P(phi(h) = 0))``.

    With ``s = sqrt(q)``, ``a = tau / s``, ``b = (tau + m) / s``, Phi and phi_N the standard normal
    cdf and pdf, and the identity ``E[(Z - a)^2 1{Z > c}] = (1 + a^2) Phi(-c) + (c - 2a) phi_N(c)``:

    * ``E[CReLU^2]  = q [(1 + a^2) P - a phi_N(a) - (b - 2a) phi_N(b)] + m^2 Phi(-b)``,
      ``P = Phi(-a) - Phi(-b) = E[CReLU'^2]``;
    * ``d/dq E[CReLU^2] = P - m phi_N(b) / s`` (Gaussian integration by parts,
      ``d/dq E[f(sqrt(q) Z)] = E[f''(sqrt(q) Z)] / 2`` with ``f = phi^2``: the kink at ``tau + m``
      contributes ``-m phi_N(b) / s``, the kink at ``tau`` nothing since ``phi(tau) = 0``);
    * zeros: ``Phi(a)``.

    The soft thresholds are the odd extensions: both tails contribute, so the three moments double
    and the fraction of zeros is ``2 Phi(a) - 1``. ``m = inf`` drops the terms in ``b``.
    """
    with np.errstate(over="ignore", invalid="ignore"):  # a clip near the float maximum: b^2 = inf
        return _gaussian_moments_unchecked(family, q, tau, clip)


def _gaussian_moments_unchecked(family, q, tau, clip):
    s = np.sqrt(q)
    a = tau / s
    pdf_a = _INV_SQRT_2PI * np.exp(-0.5 * a * a)
    tail_a = ndtr(-a)  # accurate upper tail
    if np.isfinite(clip):
        b = (tau + clip) / s
        pdf_b = _INV_SQRT_2PI * np.exp(-0.5 * b * b)
        tail_b = ndtr(-b)
        p = tail_a - tail_b
        # clip^2 Phi(-b), written so that a clip beyond sqrt(float max) gives 0 (Phi(-b) = 0), not inf * 0
        clipped_mass = np.where(tail_b > 0, clip * clip * tail_b, 0.0)
        e2 = q * ((1.0 + a * a) * p - a * pdf_a - (b - 2.0 * a) * pdf_b) + clipped_mass
        de2 = p - clip * pdf_b / s
    else:
        p = tail_a
        e2 = q * ((1.0 + a * a) * tail_a - a * pdf_a)
        de2 = p
    if family == "relu":
        return e2, p, de2, ndtr(a)
    return 2.0 * e2, 2.0 * p, 2.0 * de2, 1.0 - 2.0 * tail_a


def _as_output(value, q):
    return float(value) if np.ndim(q) == 0 else value


def _prepare_map(activation, q, tau, clip):
    family, clip = _family(activation, clip)
    tau = check_scalar(tau, "tau")
    q = _check_q(q)
    return family, q, tau, clip


def _scaled_moment(activation, q, tau, clip, sigma_w2, which):
    """``sigma_w2`` times moment ``which`` of :func:`_gaussian_moments`, arguments validated."""
    family, q, tau, clip = _prepare_map(activation, q, tau, clip)
    sigma_w2 = check_scalar(sigma_w2, "sigma_w2")
    return _as_output(sigma_w2 * _gaussian_moments(family, q, tau, clip)[which], q)


def variance_map(activation, q, tau, clip=None, sigma_w2=1.0, sigma_b2=0.0):
    """Variance map ``V(q) = sigma_w2 E[phi(sqrt(q) Z)^2] + sigma_b2`` of a wide random layer, closed form.

    The pre-activations of layer ``l`` of a wide network initialised with ``W_ij ~ N(0, sigma_w2 /
    n_in)`` and ``b_j ~ N(0, sigma_b2)`` are N(0, q_l) with ``q_l = V(q_{l-1})`` (Price et al.
    2024, Eq. 2; Poole et al. 2016).

    Parameters
    ----------
    activation : {"shifted_relu", "soft_threshold", "clipped_relu", "clipped_soft_threshold"}
        The activation ``phi``.
    q : float or array_like of floats > 0
        Variance(s) of the incoming pre-activations.
    tau : float >= 0
        Threshold of the activation.
    clip : float > 0 or None, default None
        Clip level ``m`` of the clipped activations; None or ``np.inf``: no clipping (the only
        value accepted by the unclipped activations).
    sigma_w2 : float >= 0, default 1.0
        Weight variance times fan-in.
    sigma_b2 : float >= 0, default 0.0
        Bias variance.

    Returns
    -------
    float or ndarray of the shape of ``q`` (float64)
        ``V(q)``.

    Raises
    ------
    TypeError
        If an argument is not numeric.
    ValueError
        If ``activation`` is unknown, ``q <= 0`` or not finite, ``tau``, ``sigma_w2`` or
        ``sigma_b2`` negative or not finite, ``clip <= 0``, or a finite ``clip`` is given to an
        unclipped activation.

    Notes
    -----
    With ``s = sqrt(q)``, ``a = tau / s``, ``b = (tau + m) / s``, Phi and phi_N the standard
    normal cdf and pdf, and ``P = Phi(-a) - Phi(-b)``:
    ``E[CReLU_tau,m(h)^2] = q [(1 + a^2) P - a phi_N(a) - (b - 2a) phi_N(b)] + m^2 Phi(-b)``;
    the soft thresholds give twice the value of the corresponding ReLU, and ``m = inf`` drops the
    terms in ``b``.
    """
    family, q, tau, clip = _prepare_map(activation, q, tau, clip)
    sigma_w2 = check_scalar(sigma_w2, "sigma_w2")
    sigma_b2 = check_scalar(sigma_b2, "sigma_b2")
    e2 = _gaussian_moments(family, q, tau, clip)[0]
    return _as_output(sigma_w2 * e2 + sigma_b2, q)


def variance_map_slope(activation, q, tau, clip=None, sigma_w2=1.0):
    """Slope ``dV/dq`` of the :func:`variance_map`, closed form.

    Parameters
    ----------
    activation, q, tau, clip, sigma_w2
        As in :func:`variance_map` (the slope does not depend on ``sigma_b2``).

    Returns
    -------
    float or ndarray of the shape of ``q`` (float64)
        ``V'(q) = sigma_w2 [E[phi'(h)^2] - c m phi_N((tau + m) / sqrt(q)) / sqrt(q)]`` with
        ``c = 1`` (ReLUs) or 2 (soft thresholds); without clipping ``V'(q) = chi_1(q)``, so at an
        edge-of-chaos fixed point the slope is exactly 1 (semi-stable, Price et al. 2024, Sec. 3),
        while a finite clip makes it < 1 (stable, Sec. 4).

    Raises
    ------
    TypeError, ValueError
        As in :func:`variance_map`.
    """
    return _scaled_moment(activation, q, tau, clip, sigma_w2, 2)  # sigma_w2 d/dq E[phi(h)^2]


def chi1(activation, q, tau, clip=None, sigma_w2=1.0):
    """``chi_1 = sigma_w2 E[phi'(sqrt(q) Z)^2]``, the slope at correlation 1 of the correlation map.

    ``chi_1 = 1`` is the edge of chaos (Schoenholz et al. 2017; Price et al. 2024, Eq. 4): gradients
    neither explode nor vanish and nearby inputs neither merge nor separate exponentially.

    Parameters
    ----------
    activation, q, tau, clip, sigma_w2
        As in :func:`variance_map`.

    Returns
    -------
    float or ndarray of the shape of ``q`` (float64)
        ``sigma_w2 P(phi'(h) = 1)``: ``sigma_w2 (Phi(-a) - Phi(-b))`` for the ReLUs and twice that
        for the soft thresholds (``a = tau / sqrt(q)``, ``b = (tau + m) / sqrt(q)``).

    Raises
    ------
    TypeError, ValueError
        As in :func:`variance_map`.
    """
    return _scaled_moment(activation, q, tau, clip, sigma_w2, 1)  # sigma_w2 E[phi'(h)^2]


def zero_fraction(activation, q, tau, clip=None):
    """Expected fraction of exact zeros of ``phi(h)`` for pre-activations ``h ~ N(0, q)``.

    Parameters
    ----------
    activation, q, tau, clip
        As in :func:`variance_map` (the clip does not change the zeros).

    Returns
    -------
    float or ndarray of the shape of ``q`` (float64)
        ``Phi(tau / sqrt(q))`` for the ReLUs, ``2 Phi(tau / sqrt(q)) - 1`` for the soft thresholds.

    Raises
    ------
    TypeError, ValueError
        As in :func:`variance_map`.
    """
    family, q, tau, clip = _prepare_map(activation, q, tau, clip)
    return _as_output(_gaussian_moments(family, q, tau, clip)[3], q)


# --------------------------------------------------------------------------------------------
# edge-of-chaos initialisation


def init_layer(n_inputs, n_outputs, sigma_w2, sigma_b2, *, random_state=None, dtype=np.float64):
    """Draw a dense layer ``h = z @ W + b`` with ``W_ij ~ N(0, sigma_w2 / n_inputs)``, ``b_j ~ N(0, sigma_b2)``.

    Parameters
    ----------
    n_inputs, n_outputs : int >= 1
        Fan-in and fan-out.
    sigma_w2 : float >= 0
        Weight variance times fan-in (e.g. from :func:`edge_of_chaos`).
    sigma_b2 : float >= 0
        Bias variance.
    random_state : int, RandomState instance or None, default None
        Seed or generator (see :func:`sklearn.utils.check_random_state`).
    dtype : {np.float64, np.float32}, default np.float64
        dtype of the returned arrays.

    Returns
    -------
    W : ndarray of shape (n_inputs, n_outputs)
    b : ndarray of shape (n_outputs,)

    Raises
    ------
    TypeError
        If a size is not an integer or a variance not a real number.
    ValueError
        If a size is < 1, a variance negative or not finite, or ``dtype`` not float32/float64.
    """
    for name, n in (("n_inputs", n_inputs), ("n_outputs", n_outputs)):
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral):
            raise TypeError(f"{name} must be an integer, got {n!r}.")
        if n < 1:
            raise ValueError(f"{name} must be >= 1, got {n}.")
    sigma_w2 = check_scalar(sigma_w2, "sigma_w2")
    sigma_b2 = check_scalar(sigma_b2, "sigma_b2")
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}.")
    rng = check_random_state(random_state)
    W = rng.standard_normal((int(n_inputs), int(n_outputs)))
    W *= np.sqrt(sigma_w2 / n_inputs)
    b = rng.standard_normal(int(n_outputs)) * np.sqrt(sigma_b2)
    return W.astype(dtype, copy=False), b.astype(dtype, copy=False)


class EdgeOfChaos(NamedTuple):
    """Edge-of-chaos initialisation returned by :func:`edge_of_chaos`.

    Attributes
    ----------
    tau : float
        Activation threshold giving the target fraction of zeros at the fixed point.
    sigma_w2 : float
        Weight variance times fan-in (``chi_1 = 1``).
    sigma_b2 : float
        Bias variance (``V(q*) = q*``), >= 0.
    """

    tau: float
    sigma_w2: float
    sigma_b2: float

    def init_layer(self, n_inputs, n_outputs, *, random_state=None, dtype=np.float64):
        """Draw ``(W, b)`` of one layer with these variances; see :func:`init_layer`."""
        return init_layer(n_inputs, n_outputs, self.sigma_w2, self.sigma_b2, random_state=random_state, dtype=dtype)


def edge_of_chaos(activation, sparsity, clip=None, q_star=1.0):
    """Threshold and initialisation variances for a target activation sparsity at the edge of chaos.

    Solves, for pre-activations ``h ~ N(0, q*)`` (Price et al. 2024, Sections 2-4):

    * ``P(phi(h) = 0) = sparsity``: ``tau = sqrt(q*) Phi^{-1}(sparsity)`` (ReLUs) or
      ``tau = sqrt(q*) Phi^{-1}((1 + sparsity) / 2)`` (soft thresholds);
    * ``chi_1 = sigma_w2 E[phi'(h)^2] = 1``;
    * ``V(q*) = q*``: ``sigma_b2 = q* - sigma_w2 E[phi(h)^2]``.

    Parameters
    ----------
    activation : {"shifted_relu", "soft_threshold", "clipped_relu", "clipped_soft_threshold"}
        The activation.
    sparsity : float in [0, 1)
        Target expected fraction of exact zeros of the activations. The ReLUs need
        ``sparsity >= 0.5`` (``tau >= 0``).
    clip : float > 0 or None, default None
        Clip level ``m`` (units of the pre-activations); None or ``np.inf``: no clipping.
    q_star : float > 0, default 1.0
        Pre-activation variance at the fixed point.

    Returns
    -------
    EdgeOfChaos
        Named tuple ``(tau, sigma_w2, sigma_b2)``; ``.init_layer(n_in, n_out, random_state=...)``
        draws a layer with these variances.

    Raises
    ------
    ValueError
        If an argument is out of range, the ReLU sparsity is below 0.5, or no valid
        initialisation exists because ``sigma_b2 = q* - sigma_w2 E[phi(h)^2] < 0`` (for the ReLUs:
        sparsity below 0.5 would need ``tau < 0``). With ``tau >= 0`` and ``clip > 0`` the closed
        forms give ``sigma_b2 >= 0`` (checked on a dense grid), so the last check is a safeguard.

    See Also
    --------
    max_stable_clip : the largest clip for which ``q*`` attracts every variance (a larger finite
        clip still gives ``V'(q*) < 1`` but leaves a second, unstable fixed point above ``q*``).
    """
    family, clip = _family(activation, clip)
    sparsity = check_scalar(sparsity, "sparsity")
    if sparsity >= 1:
        raise ValueError(f"sparsity must be in [0, 1), got {sparsity}.")
    q_star = check_scalar(q_star, "q_star", allow_zero=False)
    if family == "relu":
        if sparsity < 0.5:
            raise ValueError(
                f"{activation} zeroes at least half of N(0, q*) pre-activations when tau >= 0, so "
                f"sparsity must be >= 0.5, got {sparsity}; use a soft threshold for lower sparsity."
            )
        a = ndtri(sparsity)
    else:
        a = ndtri(0.5 * (1.0 + sparsity))
    tau = float(max(a, 0.0) * np.sqrt(q_star))
    e2, p, _, _ = (float(v) for v in _gaussian_moments(family, np.float64(q_star), tau, clip))
    if not p > 0:
        raise ValueError(
            f"no edge-of-chaos initialisation for {activation} with sparsity={sparsity}, clip={clip}: "
            "E[phi'(h)^2] underflows to 0 (sparsity too close to 1 or clip too small)."
        )
    sigma_w2 = 1.0 / p
    sigma_b2 = q_star - sigma_w2 * e2
    if sigma_b2 < -1e-12 * q_star:
        raise ValueError(
            f"no valid edge-of-chaos initialisation for {activation} with sparsity={sparsity}, "
            f"clip={clip}, q_star={q_star}: chi_1 = 1 needs sigma_w2 = {sigma_w2:.6g}, and then "
            f"V(q*) = q* needs sigma_b2 = q* - sigma_w2 E[phi(h)^2] = {sigma_b2:.6g} < 0. "
            "Raise the sparsity or lower the clip."
        )
    return EdgeOfChaos(tau, sigma_w2, max(sigma_b2, 0.0))


def _globally_stable(family, q_star, tau, clip, sigma_w2, sigma_b2, n_grid=2000):
    """True when ``V(q) > q`` for all sampled ``0 < q < q*`` and ``V(q) < q`` for all ``q > q*``.

    A clipped activation has ``E[phi^2] <= clip^2``, so ``V(q) <= V_max = sigma_w2 clip^2 +
    sigma_b2`` and ``V(q) < q`` holds automatically for ``q > V_max``: the grid covers
    ``(q*, max(V_max, q*)]`` (geometric spacing from q*) and ``[1e-8 q*, q*)``.
    """
    v_max = sigma_w2 * clip * clip + sigma_b2
    q_hi = max(v_max, q_star) * 1.01
    steps = np.geomspace(1e-8, 1.0, n_grid)
    above = q_star + (q_hi - q_star) * steps
    below = q_star * (1.0 - steps[:-1])
    e2_above = _gaussian_moments(family, above, tau, clip)[0]
    e2_below = _gaussian_moments(family, below, tau, clip)[0]
    return bool(np.all(sigma_w2 * e2_above + sigma_b2 < above) and np.all(sigma_w2 * e2_below + sigma_b2 > below))


def max_stable_clip(activation, sparsity, q_star=1.0, rtol=1e-6):
    """Largest clip level for which the edge-of-chaos fixed point ``q*`` attracts every variance.

    For a clipped activation initialised by :func:`edge_of_chaos`, the slope of the variance map at
    ``q*`` is < 1 for every finite clip, but a large clip (relative to ``sqrt(q*)``) leaves a bump of
    ``V(q)`` above the diagonal at some ``q > q*``: an unstable second fixed point, beyond which the
    variance still drifts away as for the unclipped activation. The clip must therefore be small
    enough, "at a level prescribed by the shape of the variance map" (Price et al. 2024, Sec. 4).
    This function returns the supremum ``m_max`` of the clips with ``V(q) > q`` for ``q < q*`` and
    ``V(q) < q`` for ``q > q*``.

    Parameters
    ----------
    activation : {"clipped_relu", "clipped_soft_threshold"}
        A clipped activation.
    sparsity : float in [0, 1)
        Target fraction of zeros, as in :func:`edge_of_chaos`.
    q_star : float > 0, default 1.0
        Fixed-point variance.
    rtol : float > 0, default 1e-6
        Relative precision of the bisection on the clip.

    Returns
    -------
    float
        ``m_max`` (units of the pre-activations). The clipped ReLU at 50% sparsity (``tau = 0``) is
        a limit case: its unclipped map is the identity, so the stability margin ``q - V(q)`` of a
        large clip falls below float64 resolution and the value returned (about ``6.4 sqrt(q*)``)
        is where it does; ``np.inf`` if even ``1e3 sqrt(q*)`` passes the check.

    Raises
    ------
    ValueError
        If ``activation`` is not a clipped activation, or as in :func:`edge_of_chaos`; also if not
        even a clip of ``1e-3 sqrt(q*)`` gives a stable map.

    Notes
    -----
    Bisection on the clip in ``[1e-3, 1e3] sqrt(q*)``; each trial solves :func:`edge_of_chaos`
    and samples ``V(q) - q`` on a geometric grid of 2000 points on each side of ``q*``. It assumes,
    as observed numerically, that the stable clips form an interval ``(0, m_max]``.
    """
    if activation not in ("clipped_relu", "clipped_soft_threshold"):
        raise ValueError(f"activation must be 'clipped_relu' or 'clipped_soft_threshold', got {activation!r}.")
    rtol = check_scalar(rtol, "rtol", allow_zero=False)
    q_star = check_scalar(q_star, "q_star", allow_zero=False)
    family = "relu" if activation == "clipped_relu" else "st"
    scale = np.sqrt(q_star)

    def stable(clip):
        tau, sw2, sb2 = edge_of_chaos(activation, sparsity, clip, q_star)
        return _globally_stable(family, q_star, tau, clip, sw2, sb2)

    lo, hi = 1e-3 * scale, 1e3 * scale
    if stable(hi):
        return np.inf
    if not stable(lo):
        raise ValueError(
            f"no clip in [{lo:.3g}, {hi:.3g}] makes the variance map of {activation} globally stable at "
            f"sparsity={sparsity}, q_star={q_star}."
        )
    while hi - lo > rtol * lo:
        mid = np.sqrt(lo * hi) if hi > 4 * lo else 0.5 * (lo + hi)
        if stable(mid):
            lo = mid
        else:
            hi = mid
    return float(lo)
