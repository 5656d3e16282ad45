"""First-order optimisers working in place on lists of numpy arrays.

The estimators of skproj train small numpy models; their parameters are a list of arrays
and their gradients a list of arrays of the same shapes and dtypes. An optimiser updates
the parameters in place. Subclasses add a proximal or projection step by overriding
:meth:`Adam.post_step`, which runs after every update (e.g. a proximal Adam that applies a
weighted prox to some parameters).
"""

import numbers

import numpy as np

from ._kernels import _adam
from ._validation import check_scalar

__all__ = ["Adam"]


def _fusable(p, g, m, v):
    """Whether the fused Cython update applies: C-contiguous float32/float64 arrays of one dtype."""
    dt = p.dtype
    return (
        dt in (np.float32, np.float64)
        and g.dtype == dt and m.dtype == dt and v.dtype == dt
        and g.shape == p.shape
        and p.flags.c_contiguous and g.flags.c_contiguous and m.flags.c_contiguous and v.flags.c_contiguous
    )


class Adam:
    """Adam with bias correction (Kingma and Ba, ICLR 2015, Algorithm 1).

    For each parameter ``p`` with gradient ``g`` at its ``t``-th update (starting at 1; a
    parameter whose gradient is ``None`` at a step is not updated and its ``t`` does not
    advance, as in ``torch.optim.Adam``)::

        m <- beta1 * m + (1 - beta1) * g
        v <- beta2 * v + (1 - beta2) * g**2
        p <- p - lr * (m / (1 - beta1**t)) / (sqrt(v / (1 - beta2**t)) + eps)

    then :meth:`post_step` is called with the updated parameters.

    C-contiguous float32 / float64 parameters are updated by one fused Cython pass
    (:mod:`skproj._kernels._adam`: no temporaries, float32 stays float32, every constant rounded
    to the parameter's dtype); other arrays by the same operations in numpy, with the same
    results (bit for bit with a per-entry second moment; the scalar one sums ``g**2`` in
    double in the kernel).

    Parameters
    ----------
    lr : float > 0, default=1e-3
        Step size.
    betas : tuple of two floats in [0, 1), default=(0.9, 0.999)
        Decay rates of the first and second moment estimates.
    eps : float > 0, default=1e-8
        Added to the denominator for numerical stability.
    scalar_second_moment : collection of int, default=()
        Indices of the parameters whose second moment ``v`` is one scalar, the running mean
        of ``mean(g**2)`` over the array, instead of one value per entry. Their update is
        then a momentum gradient step scaled by one number, so it keeps the direction of
        the (averaged) gradient. This is what a Euclidean projection or prox applied after
        the step needs: with a per-entry ``v`` the fixed points of "step then project" are
        not the stationary points of the constrained problem, and every coordinate moves by
        about ``lr`` whatever the size of its gradient.

    Attributes
    ----------
    t : int
        Number of steps taken.
    steps : list of int or None
        Number of updates of each parameter (``t`` less the steps where it was frozen), the
        ``t`` of its bias correction.
    m, v : list of ndarray or None
        First and second moment estimates, one per parameter (allocated on the first step,
        with the parameters' shapes and dtypes).
    frozen : frozenset of int
        Indices of the parameters whose gradient was ``None`` at the last step (not updated;
        :meth:`post_step` leaves them alone too).
    """

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, scalar_second_moment=()):
        lr = check_scalar(lr, "lr", allow_zero=False)
        if np.ndim(betas) != 1 or len(betas) != 2:
            raise ValueError(f"betas must be a pair of floats in [0, 1), got {betas!r}.")
        b1, b2 = (check_scalar(b, "betas") for b in betas)
        if not (b1 < 1 and b2 < 1):
            raise ValueError(f"betas must lie in [0, 1), got {betas}.")
        self.lr = lr
        self.betas = (b1, b2)
        self.eps = check_scalar(eps, "eps", allow_zero=False)
        if isinstance(scalar_second_moment, (str, bytes)) or not np.iterable(scalar_second_moment):
            raise TypeError(
                f"scalar_second_moment must be a collection of parameter indices, got {scalar_second_moment!r}."
            )
        bad = [i for i in scalar_second_moment
               if isinstance(i, (bool, np.bool_)) or not isinstance(i, numbers.Integral) or i < 0]
        if bad:
            raise ValueError(f"scalar_second_moment holds parameter indices (int >= 0), got {bad[0]!r}.")
        self.scalar_second_moment = frozenset(int(i) for i in scalar_second_moment)
        self.reset()

    def reset(self):
        """Forget the moment estimates and the step count."""
        self.t = 0
        self.steps = None
        self.m = None
        self.v = None
        self.frozen = frozenset()

    def _init_state(self, params):
        self.steps = [0] * len(params)
        self.m = [np.zeros_like(p) for p in params]
        self.v = [
            np.zeros((), dtype=p.dtype) if i in self.scalar_second_moment else np.zeros_like(p)
            for i, p in enumerate(params)
        ]

    def _check_params(self, params):
        """Raise before anything changes if ``params`` do not suit this optimiser (a hook)."""

    def _check_state(self, params):
        """Raise if ``params`` are not the arrays the moment estimates were allocated for."""
        if len(params) != len(self.m):
            raise ValueError(
                f"got {len(params)} parameters, but the optimiser holds moment estimates for "
                f"{len(self.m)}; call reset() before stepping on other parameters."
            )
        for i, (p, m) in enumerate(zip(params, self.m)):
            if np.shape(p) != m.shape:
                raise ValueError(
                    f"params[{i}] has shape {np.shape(p)}, but the optimiser's moment estimates "
                    f"have shape {m.shape}; call reset() before stepping on other parameters."
                )

    def step(self, params, grads):
        """Update ``params`` in place from ``grads``, then call :meth:`post_step`.

        Parameters
        ----------
        params : list of ndarray
            Parameters, modified in place.
        grads : list of ndarray
            Gradients, same shapes as ``params``. ``None`` entries are skipped (frozen
            parameters: neither updated nor passed through :meth:`post_step`'s prox).

        Raises
        ------
        ValueError
            If ``grads`` and ``params`` differ in length or in the shape of an entry, or if
            ``params`` are not the arrays (same number, same shapes) the moment estimates were
            allocated for at the first step (call :meth:`reset` first); nothing is changed then.
        """
        if len(grads) != len(params):
            raise ValueError(f"got {len(grads)} gradients for {len(params)} parameters.")
        for i, p in enumerate(params):
            if not isinstance(p, np.ndarray):
                raise TypeError(f"params[{i}] must be a numpy array (updated in place), got {type(p).__name__}.")
        if self.scalar_second_moment and max(self.scalar_second_moment) >= len(params):
            raise ValueError(
                f"scalar_second_moment has index {max(self.scalar_second_moment)}, but only "
                f"{len(params)} parameters were passed."
            )
        for i, (p, g) in enumerate(zip(params, grads)):
            if g is not None and np.shape(g) != np.shape(p):
                raise ValueError(
                    f"grads[{i}] has shape {np.shape(g)}, but params[{i}] has shape {np.shape(p)}."
                )
        self._check_params(params)
        if self.m is None:
            self._init_state(params)
        self._check_state(params)
        self.frozen = frozenset(i for i, g in enumerate(grads) if g is None)
        self.t += 1
        b1, b2 = self.betas
        for i, (p, g, m, v) in enumerate(zip(params, grads, self.m, self.v)):
            if g is None:
                continue
            self.steps[i] += 1
            step = self.lr / (1.0 - b1 ** self.steps[i])
            # a Python float: numpy rounds it to p's dtype, as the kernel does
            sqrt_c2 = float(np.sqrt(1.0 - b2 ** self.steps[i]))
            if _fusable(p, g, m, v):
                # One pass in Cython, in p's precision (same operations as below).
                pf, gf, mf = p.reshape(-1), g.reshape(-1), m.reshape(-1)
                if v.ndim == 0 and g.ndim:
                    typ = p.dtype.type
                    ms = typ(_adam.sum_squares(gf) / max(gf.size, 1))
                    v[...] = v * typ(b2) + typ(1.0 - b2) * ms
                    _adam.adam_update_scalar_v(pf, gf, mf, float(v), b1, step, sqrt_c2, self.eps)
                else:
                    _adam.adam_update(pf, gf, mf, v.reshape(-1), b1, b2, step, sqrt_c2, self.eps)
                continue
            m *= b1
            m += (1.0 - b1) * g
            v *= b2
            if v.ndim == 0 and g.ndim:
                v += (1.0 - b2) * np.mean(g * g)
            else:
                v += (1.0 - b2) * (g * g)
            # p -= lr * m_hat / (sqrt(v_hat) + eps), written with the corrections folded in.
            denom = np.sqrt(v)
            denom /= sqrt_c2
            denom += self.eps
            p -= (step * m / denom).astype(p.dtype, copy=False)
        self.post_step(params)

    def post_step(self, params):
        """Hook called after every update with the updated parameters (does nothing here).

        Subclasses override it to apply a projection or a proximal operator in place, to
        every parameter but the frozen ones (indices in ``self.frozen``).
        """
