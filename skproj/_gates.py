"""Differentiable gates that reach exact zero under plain gradient descent.

Method: Yognjin Lee, "Differentiable Sparsification for Deep Neural Networks",
arXiv 1910.03201. One gate ``a_j`` per component (here: per input feature, ``j = 1..n``) is
computed from free parameters ``gamma`` (shape ``(n,)``) and a scalar ``s``::

    q_j = exp(gamma_j) / sum_k exp(gamma_k)          normalised scores (softmax)
    t   = sigmoid(s) / n                             threshold, always in (0, 1/n)
    r_j = max(q_j - t, 0)                            ReLU of the score minus the threshold
    a_j = r_j / sum_k r_k                            renormalised gates (sum to 1)

and the regulariser, of strength ``alpha``, is the p-"norm" (``0 < p < 1``) of the gates::

    R(a) = alpha * ||a||_p = alpha * (sum_j a_j**p) ** (1/p).

Properties used by the tests and the estimators:

* ``a_j == 0.0`` exactly whenever ``q_j <= t``, an open set of ``(gamma, s)`` (for ``q_j < t``):
  zeros appear during training by plain SGD or Adam, with no thresholding, prox or mask.
* ``max_j q_j >= 1/n > t``, so at least one gate is positive and the renormalisation never
  divides by zero. In floating point ``sigmoid(s)`` rounds to 1 for large ``s`` (about 37 in
  float64, 17 in float32) and ``q`` carries rounding errors, so the computed ``t`` is taken as
  at most the largest float below ``max_j q_j``: the largest scores stay active (with uniform
  scores every gate is ``1/n``, the limit of the exact gates as ``t -> 1/n``).
* A zeroed gate ``j`` still moves: its ``gamma_j`` receives the gradient
  ``-q_j * sum_k q_k dL/dq_k`` through the softmax, and ``s`` receives a gradient through every
  active gate, so ``q_j`` can rise above ``t`` again ("revival"). That gradient does not depend
  on feature ``j`` (the ReLU blocks ``dL/dq_j``): all zeroed gates move together, when the
  active ones lose weight, and the data choose among them only once they are active again.
  (With exactly one active gate, ``a`` is the one-hot vector whatever the parameters, and all
  these gradients vanish.)
* On the simplex ``||a||_1 = 1`` is constant, which is why the regulariser is a p-norm with
  ``p < 1``: it is smallest at the vertices (one-hot ``a``) and largest at the uniform vector
  (``n ** (1/p - 1)``).

What was and was not confirmed about the paper: the text of arXiv 1910.03201 could not be
retrieved while writing this module (only its abstract, which states that parameters are
zeroed by optimising a regularised objective with plain SGD). The parametrisation above (the
softmax-normalised architecture parameters, the threshold ``sigmoid(s) / n``, the ReLU and
the renormalisation, and the p-norm regulariser with ``0 < p < 1`` motivated by the constant
l1 norm) follows the method as summarised in secondary sources; equation numbers of
the paper are therefore not cited, and the default ``p = 0.5`` is our choice. Any difference
from the paper (e.g. whether the gates are renormalised after the ReLU) should be checked
against its text.

Functions work on float32 or float64 numpy arrays and keep the dtype of ``gamma``.
"""

import numpy as np
from scipy.special import expit

__all__ = [
    "gates_forward",
    "gates_backward",
    "pnorm_penalty",
    "DifferentiableGates",
]


def _as_float(a, name):
    a = np.asarray(a)
    if a.dtype not in (np.float32, np.float64):
        a = a.astype(np.float64)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must contain only finite values.")
    return a


def gates_forward(gamma, s):
    """Gates ``a`` from the free parameters ``(gamma, s)`` (see the module docstring).

    Parameters
    ----------
    gamma : ndarray of shape (n,), float32 or float64
        Free scores, one per component (``n >= 1``).
    s : float or ndarray of shape (1,)
        Free threshold parameter; the threshold is ``sigmoid(s) / n``.

    Returns
    -------
    a : ndarray of shape (n,), dtype of ``gamma``
        Gates, ``a >= 0``, ``sum(a) == 1`` (up to rounding), exact zeros where ``q <= t``.
    cache : tuple
        ``(q, t, sig, S, active)`` needed by :func:`gates_backward`: the softmax ``q``, the
        threshold ``t``, ``sig = sigmoid(s)``, ``S = sum(max(q - t, 0))`` and the boolean
        mask ``q > t``.

    Raises
    ------
    ValueError
        If ``gamma`` is not 1-D and non-empty or contains NaN/inf, or ``s`` is not finite.
    """
    gamma = _as_float(gamma, "gamma")
    if gamma.ndim != 1 or gamma.shape[0] == 0:
        raise ValueError(f"gamma must be a non-empty 1-D array, got shape {gamma.shape}.")
    s_val = float(np.asarray(s, dtype=np.float64).reshape(-1)[0])
    if not np.isfinite(s_val):
        raise ValueError("s must be finite.")
    dtype = gamma.dtype
    n = gamma.shape[0]
    e = np.exp(gamma - gamma.max())
    q = e / e.sum()
    sig = float(expit(s_val))
    # at most the float just below max(q): the exact t < 1/n <= max(q) may round up to it
    t = min(dtype.type(sig / n), np.nextafter(q.max(), dtype.type(0)))
    r = q - t
    active = r > 0
    r[~active] = 0
    S = r.sum()
    a = r / S
    return a.astype(dtype, copy=False), (q, t, sig, S, active)


def gates_backward(grad_a, cache):
    """Gradients of a scalar loss with respect to ``gamma`` and ``s`` given ``dL/da``.

    With ``g = dL/da``, ``S = sum_k r_k`` and ``A`` the active set ``{q > t}``::

        dL/dr_j     = (g_j - <g, a>) / S                        (renormalisation)
        dL/dq_j     = dL/dr_j  if j in A  else 0                 (ReLU; 0 at the kink)
        dL/dt       = - sum_{j in A} dL/dr_j
        dL/ds       = dL/dt * sigmoid(s) * (1 - sigmoid(s)) / n
        dL/dgamma_j = q_j * (dL/dq_j - sum_k q_k dL/dq_k)      (softmax)

    Parameters
    ----------
    grad_a : ndarray of shape (n,)
        ``dL/da``.
    cache : tuple
        Second output of :func:`gates_forward`.

    Returns
    -------
    grad_gamma : ndarray of shape (n,), dtype of the gates
    grad_s : ndarray of shape (1,), same dtype
    """
    q, t, sig, S, active = cache
    dtype = q.dtype
    n = q.shape[0]
    g = np.asarray(grad_a, dtype=dtype)
    a = np.where(active, (q - t) / S, 0).astype(dtype, copy=False)
    dr = (g - np.dot(g, a)) / S
    dq = np.where(active, dr, 0).astype(dtype, copy=False)
    dt = -dq.sum()
    ds = dt * sig * (1.0 - sig) / n
    dgamma = q * (dq - np.dot(q, dq))
    return dgamma.astype(dtype, copy=False), np.array([ds], dtype=dtype)


def pnorm_penalty(a, alpha, p=0.5):
    """Regulariser ``alpha * ||a||_p = alpha * (sum_j a_j**p) ** (1/p)`` and its gradient.

    Parameters
    ----------
    a : ndarray of shape (n,)
        Non-negative gates (output of :func:`gates_forward`).
    alpha : float >= 0
        Strength.
    p : float in (0, 1), default=0.5
        Exponent.

    Returns
    -------
    value : float
    grad : ndarray of shape (n,), dtype of ``a``
        ``alpha * (sum_k a_k**p) ** (1/p - 1) * a_j ** (p - 1)`` where ``a_j > 0`` and 0 where
        ``a_j == 0`` (those entries are multiplied by a zero ReLU derivative in
        :func:`gates_backward` anyway, so the choice does not change ``dL/dgamma``).

    Raises
    ------
    ValueError
        If ``alpha < 0``, ``p`` is not in (0, 1) or ``a`` has negative entries.
    """
    if not alpha >= 0:
        raise ValueError(f"alpha must be >= 0, got {alpha}.")
    if not 0 < p < 1:
        raise ValueError(f"p must lie in (0, 1), got {p}.")
    a = np.asarray(a)
    if np.any(a < 0):
        raise ValueError("a must be non-negative.")
    pos = a > 0
    ap = np.zeros_like(a)
    ap[pos] = a[pos] ** p
    total = ap.sum()
    value = float(alpha * total ** (1.0 / p)) if total > 0 else 0.0
    grad = np.zeros_like(a)
    if total > 0:
        grad[pos] = alpha * total ** (1.0 / p - 1.0) * ap[pos] / a[pos]
    return value, grad


class DifferentiableGates:
    """A layer of ``n`` gates with their free parameters, forward/backward and regulariser.

    Holds ``gamma`` (shape ``(n,)``) and ``s`` (shape ``(1,)``) as numpy arrays, suitable for
    :class:`skproj._optim.Adam` (pass ``gates.params`` and the gradients returned by
    :meth:`backward`). Gating an input ``X`` of shape ``(m, n)`` means ``X * (scale * a)``.

    Parameters
    ----------
    n : int >= 1
        Number of gates.
    alpha : float >= 0, default=0.0
        Strength of the p-norm regulariser.
    p : float in (0, 1), default=0.5
        Exponent of the regulariser.
    s_init : float, default=0.0
        Initial threshold parameter (``t = sigmoid(s_init) / n``; 0 gives ``t = 1 / (2 n)``).
    gamma_init : float or ndarray, default=0.0
        Initial scores; a constant gives uniform gates ``a = 1 / n``, all positive.
    dtype : {numpy.float32, numpy.float64}, default=numpy.float64

    Attributes
    ----------
    gamma : ndarray of shape (n,)
    s : ndarray of shape (1,)
    params : list ``[gamma, s]`` (the same array objects, updated in place by an optimiser)
    """

    def __init__(self, n, alpha=0.0, p=0.5, s_init=0.0, gamma_init=0.0, dtype=np.float64):
        n = int(n)
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}.")
        if not alpha >= 0:
            raise ValueError(f"alpha must be >= 0, got {alpha}.")
        if not 0 < p < 1:
            raise ValueError(f"p must lie in (0, 1), got {p}.")
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {dtype}.")
        self.n = n
        self.alpha = float(alpha)
        self.p = float(p)
        self.gamma = np.empty(n, dtype=dtype)
        self.gamma[...] = gamma_init
        self.s = np.array([s_init], dtype=dtype)
        self.params = [self.gamma, self.s]
        self._cache = None

    def forward(self):
        """Compute (and cache for :meth:`backward`) the gates; returns ``a`` of shape (n,)."""
        a, self._cache = gates_forward(self.gamma, self.s)
        return a

    def penalty(self, a):
        """``(value, dR/da)`` of the regulariser at the gates ``a``."""
        return pnorm_penalty(a, self.alpha, self.p)

    def backward(self, grad_a):
        """Gradients ``[dL/dgamma, dL/ds]`` from ``dL/da`` (include the penalty's gradient)."""
        if self._cache is None:
            raise RuntimeError("call forward() before backward().")
        return list(gates_backward(grad_a, self._cache))
