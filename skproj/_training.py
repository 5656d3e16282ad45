"""The training loop of :class:`skproj.SparseAutoencoderSelector`: network, sparsity, optimiser.

One minibatch step has three parts with one job each:

1. the network (:mod:`skproj._network`): loss and gradients of the supervised autoencoder;
2. the optimiser (:class:`skproj._optim.Adam`, or :class:`skproj._proxadam.ProxAdam` whose
   step ends with the weighted prox of a :mod:`skproj.sparsity` penalty);
3. the sparsity part, which acts on the first-layer weight ``W1`` after the optimiser's step:
   :class:`BallStep` (the Euclidean projection of a :mod:`skproj.sparsity` constraint, with a
   radius schedule), :class:`TargetBallStep` (the same with a radius steered to a number of
   features), :class:`GateStep` (differentiable gates that scale the input features), or
   nothing (the penalty's prox is part of ProxAdam's step).

The parameters are one list of arrays updated in place; every array is touched once per
step by each part.
"""

import time

import numpy as np

from ._network import loss_and_grad
from ._optim import Adam

__all__ = ["BallStep", "TargetBallStep", "GateStep", "Trainer", "gradient_row_norms"]


class BallStep:
    """Project ``W1`` onto a constraint after every step; the radius follows a schedule.

    Parameters
    ----------
    constraint : skproj.sparsity.Constraint
        The ball (groups = rows of ``W1``); its ``radius`` is set by the schedule.
    radii : ndarray of shape (n_decay,) or None
        ``radii[e]`` is the radius during epoch ``e``; the last one holds afterwards. ``None``:
        the constraint's own radius from the start.
    """

    def __init__(self, constraint, radii=None):
        self.constraint = constraint
        self.radii = radii
        self.final_radius = constraint.radius if radii is None else float(radii[-1])
        self.time = 0.0

    def start_epoch(self, epoch):
        """Set the radius of ``epoch``; returns True once the final radius is reached."""
        if self.radii is None:
            return True
        self.constraint.radius = float(self.radii[min(epoch, len(self.radii) - 1)])
        return epoch >= len(self.radii) - 1

    def after_step(self, W1):
        t0 = time.perf_counter()
        self.constraint.project(W1, out=W1)
        self.time += time.perf_counter() - t0


class TargetBallStep(BallStep):
    """A ball whose radius is steered, step by step, so that ``k`` rows of ``W1`` stay non-zero.

    After every projection the number ``c`` of non-zero rows is counted and the radius is
    multiplied by ``exp(-rate / steps_per_epoch)`` with
    ``rate = clip(log(c / k), -max_rate, max_rate)`` (``c`` floored at 0.5): while many more
    than ``k`` rows survive the radius shrinks geometrically at ``max_rate`` per epoch, near
    ``k`` it settles, and below ``k`` it grows again. ``max_rate = log(n_features / k) /
    decay_epochs``: if the number of surviving rows were proportional to the radius, the
    radius would reach ``k`` rows in ``decay_epochs`` epochs. The stopping rules are armed
    once at most ``k`` rows have survived a step. Cost: one count of the non-zero rows per
    step (one pass over ``W1``, less than the projection itself).

    Parameters
    ----------
    constraint : skproj.sparsity.Constraint
        Its radius is the starting radius (the norm of ``W1`` at initialisation).
    k : int >= 1
    n_features : int
    decay_epochs : int >= 1
    steps_per_epoch : int >= 1
    """

    def __init__(self, constraint, k, n_features, decay_epochs, steps_per_epoch):
        super().__init__(constraint)
        self.k = int(k)
        self.max_rate = max(np.log(max(n_features, 1) / self.k), np.log(2.0)) / max(decay_epochs, 1)
        self.steps_per_epoch = int(steps_per_epoch)
        self.reached = False

    def start_epoch(self, epoch):
        return self.reached

    def after_step(self, W1):
        t0 = time.perf_counter()
        self.constraint.project(W1, out=W1)
        c = np.count_nonzero(W1.any(axis=1))
        self.reached = self.reached or c <= self.k
        rate = float(np.clip(np.log(max(c, 0.5) / self.k), -self.max_rate, self.max_rate))
        self.constraint.radius *= float(np.exp(-rate / self.steps_per_epoch))
        self.final_radius = self.constraint.radius
        self.time += time.perf_counter() - t0


class GateStep:
    """Differentiable gates on the input features, trained by their own plain Adam.

    The network reads ``X * (n_features * a)`` with ``a`` the gates of ``gates``
    (:class:`skproj._gates.DifferentiableGates`); :meth:`scale` computes the scale before the
    forward pass, :meth:`step` takes the gradient of the loss with respect to it, adds the
    regulariser's and updates the gate parameters.
    """

    def __init__(self, gates, lr):
        self.gates = gates
        self.opt = Adam(lr=lr)
        self.time = 0.0

    def start_epoch(self, epoch):
        return True

    def scale(self, dtype):
        a = self.gates.forward()
        self._a = a
        return (self.gates.n * a).astype(dtype, copy=False)

    def penalty(self):
        return self.gates.penalty(self._a)

    def step(self, grad_scale, pen_grad):
        grad_a = self.gates.n * grad_scale + pen_grad
        self.opt.step(self.gates.params, self.gates.backward(grad_a))


class Trainer:
    """Minibatch training of the network's parameters, with a sparsity part after each step.

    Parameters
    ----------
    net_args : tuple
        ``(act, reconstruction_weight, reconstruction_loss, decoder_input)`` for
        :func:`skproj._network.loss_and_grad`.
    X, Y : ndarrays
        Training data and one-hot targets.
    Xv, Yv : ndarrays or None
        Validation data (early stopping) or None.
    rng : numpy.random.RandomState
        Minibatch order.
    batch_size, n_iter_no_change, tol, verbose :
        As in the selector.

    Attributes
    ----------
    loss_curve : list of float
    validation_scores : list of float or None
    """

    def __init__(self, net_args, X, Y, Xv, Yv, rng, batch_size, n_iter_no_change, tol, verbose):
        self.net_args = net_args
        self.X, self.Y, self.Xv, self.Yv = X, Y, Xv, Yv
        self.rng = rng
        self.batch_size = min(batch_size, X.shape[0])
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.verbose = verbose
        self.loss_curve = []
        self.validation_scores = None if Xv is None else []

    @property
    def steps_per_epoch(self):
        return -(-self.X.shape[0] // self.batch_size)

    def _loss(self, X, Y, params, gates, need_grad):
        """Loss (with the gates' penalty) and gradients; the gates are updated when training."""
        if gates is None:
            loss, grads, _ = loss_and_grad(X, Y, params, *self.net_args, need_grad=need_grad)
            return loss, grads
        scale = gates.scale(X.dtype)
        loss, grads, _ = loss_and_grad(X, Y, params, *self.net_args, need_grad=need_grad, input_scale=scale)
        pen, pen_grad = gates.penalty()
        if need_grad:
            gates.step(grads.pop(), pen_grad)
        return loss + pen, grads

    def run(self, params, opt, n_epochs, sparsity=None, row_mask=None, phase="select"):
        """Run at most ``n_epochs`` epochs; returns the number run.

        Parameters
        ----------
        params : list of 8 ndarrays, updated in place
        opt : Adam or ProxAdam
        n_epochs : int
        sparsity : BallStep, TargetBallStep, GateStep or None
            Projection after each step (a ball), or gates on the inputs.
        row_mask : ndarray of bool of shape (n_features,) or None
            Rows of ``W1`` that are trained; the others get no gradient.
        phase : str
            Name printed when ``verbose``.
        """
        gates = sparsity if isinstance(sparsity, GateStep) else None
        ball = sparsity if isinstance(sparsity, BallStep) else None
        all_params = params if gates is None else list(params) + gates.gates.params
        X, Y, Xv, Yv = self.X, self.Y, self.Xv, self.Yv
        n, bs = X.shape[0], self.batch_size
        frozen = None if row_mask is None else ~row_mask
        best, no_improve, best_params, epochs = np.inf, 0, None, 0
        for epoch in range(n_epochs):
            armed = True if sparsity is None else sparsity.start_epoch(epoch)
            perm = self.rng.permutation(n)
            total = 0.0
            for start in range(0, n, bs):
                idx = perm[start : start + bs]
                loss, grads = self._loss(X[idx], Y[idx], params, gates, True)
                total += loss * len(idx)
                if frozen is not None:
                    grads[0][frozen] = 0
                opt.step(params, grads)
                if ball is not None:
                    ball.after_step(params[0])
            epochs += 1
            train_loss = total / n
            self.loss_curve.append(train_loss)
            monitored = train_loss
            if Xv is not None:
                monitored = self._loss(Xv, Yv, params, gates, False)[0]
                self.validation_scores.append(monitored)
            if self.verbose:
                msg = f"[{phase}] epoch {epoch + 1}: loss = {train_loss:.6f}"
                print(msg + (f", validation loss = {monitored:.6f}" if Xv is not None else ""))
            if not armed:
                continue
            no_improve = 0 if monitored < best - self.tol else no_improve + 1
            if monitored < best:
                best = monitored
                if Xv is not None:
                    best_params = [p.copy() for p in all_params]
            if no_improve >= self.n_iter_no_change:
                if self.verbose:
                    print(f"[{phase}] stopping: no improvement for {self.n_iter_no_change} epochs.")
                break
        if best_params is not None:
            for p, b in zip(all_params, best_params):
                p[...] = b
        return epochs


def gradient_row_norms(X, Y, params, net_args, batch_size=256):
    """l2 norms of the rows of the gradient of the (mean) loss with respect to ``W1``.

    Accumulated over minibatches of ``batch_size`` samples (the memory of one forward pass
    stays ``batch_size * n_features``). A feature whose column of ``X`` is zero gets 0.
    """
    n = X.shape[0]
    G = np.zeros_like(params[0])
    for start in range(0, n, batch_size):
        sl = slice(start, start + batch_size)
        _, grads, _ = loss_and_grad(X[sl], Y[sl], params, *net_args)
        G += grads[0] * (min(batch_size, n - start) / n)
    return np.sqrt(np.einsum("ij,ij->i", G, G))
