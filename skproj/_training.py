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

import scipy.sparse as sp

from ._kernels import _autoencoder as _ae
from ._network import loss_and_grad
from ._optim import Adam

__all__ = [
    "BallStep", "TargetBallStep", "GateStep", "Trainer", "gradient_row_norms", "uncentred",
    "auto_batch_size", "blas_threads", "column_means", "dense_rows", "mean_variance", "validation_split",
    "row_blocks", "EPOCH_SAMPLES",
]

#: An epoch is a pass over the training data when it has at most this many samples, and a pass
#: over this many samples (the next ones of a running random permutation) otherwise: the
#: epoch-based parameters (``max_epochs``, ``radius_decay_epochs``, ``n_iter_no_change``) then
#: count steps, not passes, and the cost of ``fit`` stops growing with ``n`` beyond this size.
EPOCH_SAMPLES = 5000

# BLAS threads only for minibatch products of at least this many multiply-adds
# (batch x n_features x hidden) and batches of at least _BLAS_THREADS_MIN_BATCH rows.
_BLAS_THREADS_MIN_WORK = 2**24
_BLAS_THREADS_MIN_BATCH = 128


# Entries of a dense block of rows in prediction / evaluation on sparse X (16 MiB in float32).
_BLOCK_ENTRIES = 2**22



def column_ptp(X):
    """Range (max - min) of each column of a dense or sparse ``X`` (implicit zeros count).

    A CSR ``X`` is reduced in blocks of rows of about ``_BLOCK_ENTRIES`` stored entries:
    scipy's ``max(axis=0)`` on a CSR matrix converts it to CSC, a copy, which stays the size
    of one block here.
    """
    if not sp.issparse(X):
        return np.ptp(X, axis=0)
    if X.shape[0] == 0:
        return np.zeros(X.shape[1], dtype=X.dtype)
    if X.format != "csr":
        return (X.max(axis=0).toarray() - X.min(axis=0).toarray()).ravel()
    hi = lo = None
    start, n = 0, X.shape[0]
    while start < n:
        # the rows from start whose entries fit in one block (at least one row)
        stop = max(start + 1, int(np.searchsorted(X.indptr, X.indptr[start] + _BLOCK_ENTRIES, "right")) - 1)
        B = X[start:stop]
        bh, bl = B.max(axis=0).toarray().ravel(), B.min(axis=0).toarray().ravel()
        hi = bh if hi is None else np.maximum(hi, bh)
        lo = bl if lo is None else np.minimum(lo, bl)
        start = stop
    return hi - lo


def auto_batch_size(n_samples):
    """``batch_size="auto"``: ``min(max(32, n_samples // 200), 1024)``.

    32 up to 6,399 samples (so small data sets train exactly as with ``batch_size=32``), then
    about 200 minibatches per pass, at most 1024 samples per minibatch.
    """
    return int(min(max(32, n_samples // 200), 1024))


def blas_threads(batch_size, n_features, n_hidden):
    """BLAS thread limit for training: 1 for small or skinny minibatch products, None (BLAS's
    own thread count) for large ones.

    Threads are used when ``batch_size >= 128`` and ``batch_size * n_features * n_hidden >=
    2**24`` (e.g. the automatic batch of 250 at 50,000 samples and 20,000 features). Measured
    with OpenBLAS on a busy 2-core machine: at 32 x 1000 x 64 one thread is fastest; at
    32 x 20000 x 64 the products with a long inner dimension (``X @ W1``, ``dXhat @ W4.T``:
    32 x 20000 by 20000 x 64) took 3 ms on one thread and up to 1 s on two when the cores were
    oversubscribed, so batches of 32 rows stay on one thread whatever ``n_features``.
    """
    if batch_size < _BLAS_THREADS_MIN_BATCH or batch_size * n_features * n_hidden < _BLAS_THREADS_MIN_WORK:
        return 1
    return None


def _kernel_csr(X):
    """``X`` (CSR) with ``indices`` and ``indptr`` of one integer dtype (int32 or int64) and
    contiguous arrays, as :func:`skproj._kernels._autoencoder.csr_rows_to_dense` needs; the
    index arrays are copied only when they differ."""
    idx_dtype = np.int32 if X.indices.dtype == np.int32 and X.indptr.dtype == np.int32 else np.int64
    if X.indices.dtype == idx_dtype and X.indptr.dtype == idx_dtype and X.data.flags.c_contiguous:
        return X
    return sp.csr_matrix(
        (np.ascontiguousarray(X.data), X.indices.astype(idx_dtype), X.indptr.astype(idx_dtype)), shape=X.shape
    )


def column_means(X, dtype):
    """Column means of a dense or CSR ``X`` (implicit zeros count), summed in float64 in row
    order for both, so that a sparse ``X`` and its dense copy give the same means; cast to
    ``dtype``."""
    n = max(X.shape[0], 1)
    if sp.issparse(X):
        sums = np.bincount(X.indices, weights=X.data, minlength=X.shape[1])
    else:
        sums = X.sum(axis=0, dtype=np.float64)
    return (sums / n).astype(dtype)


def mean_variance(X, center):
    """Mean over the features of the variance of each column of a dense or CSR ``X`` whose
    column means are ``center`` (implicit zeros count), as sums of squared deviations (no
    cancellation), in float64, a block of rows at a time for dense ``X``."""
    n, d = X.shape
    c = np.asarray(center, dtype=np.float64)
    if sp.issparse(X):
        dev = X.data.astype(np.float64) - c[X.indices]
        zeros = n - np.bincount(X.indices, minlength=d)  # implicit zeros, each c_j away
        total = float(np.dot(dev, dev)) + float(np.dot(zeros, c * c))
    else:
        total, rows = 0.0, max(1, _BLOCK_ENTRIES // max(d, 1))
        for start in range(0, n, rows):
            B = X[start : start + rows].astype(np.float64) - c
            total += float(np.einsum("ij,ij->", B, B))
    return total / max(n, 1) / max(d, 1)


def validation_split(X, Y, y_idx, fraction, seed):
    """``(X_train, X_val, Y_train, Y_val)``: a ``fraction`` of the samples held out, stratified
    by the class codes ``y_idx`` when every class can be (else at random)."""
    from sklearn.model_selection import train_test_split

    counts = np.bincount(y_idx)
    n_val = int(np.ceil(fraction * len(y_idx)))
    feasible = counts.min() >= 2 and min(n_val, len(y_idx) - n_val) >= len(counts)
    return train_test_split(X, Y, test_size=fraction, stratify=y_idx if feasible else None, random_state=seed)


def dense_rows(X, rows, out=None):
    """Rows ``rows`` (a slice or an index array) of ``X`` as a dense C-contiguous array.

    ``X`` dense: ``X[rows]``. ``X`` CSR: the rows are written into ``out`` (shape
    ``(len(rows), n_features)``, dtype of ``X``; allocated when None) by one Cython pass over
    their non-zeros; only these rows are ever densified.
    """
    if not sp.issparse(X):
        return X[rows]
    if isinstance(rows, slice):
        rows = np.arange(*rows.indices(X.shape[0]), dtype=np.intp)
    rows = np.ascontiguousarray(rows, dtype=np.intp)
    if out is None:
        out = np.empty((len(rows), X.shape[1]), dtype=X.dtype)
    Xk = _kernel_csr(X)
    _ae.csr_rows_to_dense(Xk.data, Xk.indices, Xk.indptr, rows, out)
    return out


def row_blocks(X, block_rows=None):
    """Yield ``(slice, dense block)`` over the rows of ``X``.

    A dense ``X`` is one block (the whole array, as is) unless ``block_rows`` is given; a
    sparse one (CSR) comes in blocks of ``block_rows`` rows (default: about 2**22 entries per
    block, at least 256 rows), so at most one block is dense at a time.
    """
    n, d = X.shape
    if block_rows is None:
        if not sp.issparse(X):
            yield slice(0, n), X
            return
        block_rows = max(256, _BLOCK_ENTRIES // max(d, 1))
    for start in range(0, n, block_rows):
        sl = slice(start, min(start + block_rows, n))
        yield sl, dense_rows(X, sl)


class DivergedError(ValueError):
    """The training diverged: the loss or the first layer's weights are no longer finite (a
    learning rate far too large); a ValueError, as scikit-learn's networks raise."""


def _diverged(what):
    return DivergedError(
        f"the training diverged: {what} is not finite; lower learning_rate (or scale the "
        "features)."
    )


def _project_finite(constraint, W1):
    """``constraint.project(W1, out=W1)``; non-finite weights (a diverged step) raise
    :class:`DivergedError` instead of the projection's message about its argument."""
    try:
        constraint.project(W1, out=W1)
    except ValueError:
        if not np.isfinite(W1).all():
            raise _diverged("the first layer's weights") from None
        raise


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
        _project_finite(self.constraint, W1)
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
        _project_finite(self.constraint, W1)
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
    X, Y : ndarrays (``X`` dense or CSR)
        Training data and one-hot targets. A CSR ``X`` is densified one minibatch at a time
        into a buffer of ``batch_size x n_features`` (:func:`dense_rows`).
    Xv, Yv : ndarrays or None
        Validation data (early stopping) or None; a CSR ``Xv`` is evaluated in row blocks.
    rng : numpy.random.RandomState
        Minibatch order.
    batch_size, n_iter_no_change, tol, verbose :
        As in the selector.
    center : ndarray of shape (n_features,) or None, default=None
        Column means subtracted from every minibatch (the network is trained on centred data
        without a centred copy of ``X``, which a sparse ``X`` could not hold); the validation
        loss is computed on ``Xv`` as it is, with the equivalent biases (:func:`uncentred`).

    Notes
    -----
    An epoch is a pass over ``min(n_samples, EPOCH_SAMPLES)`` samples: the whole training set
    (in a new random order every epoch) up to :data:`EPOCH_SAMPLES` samples, else the next
    ``EPOCH_SAMPLES`` samples of a running random permutation of the training set (drawn anew
    when used up). ``loss_curve`` holds the mean training loss over the samples of each epoch.

    Attributes
    ----------
    loss_curve : list of float
    validation_scores : list of float or None
    """

    def __init__(self, net_args, X, Y, Xv, Yv, rng, batch_size, n_iter_no_change, tol, verbose,
                 center=None):
        self.net_args = net_args
        self.center = center
        if sp.issparse(X):
            X = _kernel_csr(X)
        self.X, self.Y, self.Xv, self.Yv = X, Y, Xv, Yv
        self.rng = rng
        self.batch_size = min(batch_size, X.shape[0])
        self.epoch_samples = min(X.shape[0], EPOCH_SAMPLES)
        self._stream = np.empty(0, dtype=np.intp)  # unused part of the running permutation
        # Buffer of the densified minibatch (sparse X only): O(batch_size * n_features).
        self._buffer = np.empty((self.batch_size, X.shape[1]), dtype=X.dtype) if sp.issparse(X) else None
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.verbose = verbose
        self.loss_curve = []
        self.validation_scores = None if Xv is None else []

    @property
    def steps_per_epoch(self):
        return -(-self.epoch_samples // self.batch_size)

    def _epoch_order(self):
        """Indices of the samples of the next epoch, in minibatch order (see Notes)."""
        n = self.X.shape[0]
        if self.epoch_samples == n:
            return self.rng.permutation(n)
        while len(self._stream) < self.epoch_samples:
            self._stream = np.concatenate([self._stream, self.rng.permutation(n)])
        order, self._stream = self._stream[: self.epoch_samples], self._stream[self.epoch_samples :]
        return order

    def _batch(self, idx):
        """The dense minibatch of rows ``idx`` (the buffer's leading rows for a sparse X)."""
        B = self.X[idx] if self._buffer is None else dense_rows(self.X, idx, out=self._buffer[: len(idx)])
        if self.center is not None:
            B -= self.center  # X[idx] is a copy, the buffer ours
        return B

    def _eval_loss(self, X, Y, params, gates):
        """Loss (with the gates' penalty) on all of ``X``, in row blocks for a sparse ``X``."""
        scale = None if gates is None else gates.scale(X.dtype)
        if self.center is not None:
            params = uncentred(params, self.center, scale)
        losses, sizes = [], []
        for sl, Xb in row_blocks(X):
            losses.append(loss_and_grad(Xb, Y[sl], params, *self.net_args, need_grad=False, input_scale=scale)[0])
            sizes.append(sl.stop - sl.start)
        loss = losses[0] if len(losses) == 1 else float(np.dot(losses, sizes)) / X.shape[0]
        return loss if gates is None else loss + gates.penalty()[0]

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
        n, bs = self.epoch_samples, self.batch_size
        frozen = None if row_mask is None else ~row_mask
        best, no_improve, best_params, epochs = np.inf, 0, None, 0
        for epoch in range(n_epochs):
            armed = True if sparsity is None else sparsity.start_epoch(epoch)
            perm = self._epoch_order()
            total = 0.0
            for start in range(0, n, bs):
                idx = perm[start : start + bs]
                loss, grads = self._loss(self._batch(idx), Y[idx], params, gates, True)
                if not np.isfinite(loss):
                    raise _diverged("the loss")
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
                monitored = self._eval_loss(Xv, Yv, params, gates)
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


def uncentred(params, center, input_scale=None):
    """The parameters that give on ``X`` what ``params`` give on ``X - center``.

    The first layer reads ``(X - c) * g @ W1 + b1 = X * g @ W1 + (b1 - (c * g) @ W1)`` (``g``:
    ``input_scale``, or 1) and the decoder's output ``Xhat`` reconstructs ``X - c``, so
    ``Xhat + c`` reconstructs ``X``: ``b1`` and ``b4`` change, nothing else (new arrays; the
    list is a new list).
    """
    if center is None:
        return list(params)
    W1 = params[0]
    c = center if input_scale is None else center * input_scale
    out = list(params)
    out[1] = (params[1] - c @ W1).astype(W1.dtype, copy=False)
    out[7] = (params[7] + center).astype(W1.dtype, copy=False)
    return out


def gradient_row_norms(X, Y, params, net_args, batch_size=256, center=None):
    """l2 norms of the rows of the gradient of the (mean) loss with respect to ``W1``.

    Accumulated over minibatches of ``batch_size`` samples (the memory of one forward pass
    stays ``batch_size * n_features``), on ``X - center`` when ``center`` is given. A feature
    whose column of ``X`` is constant gets 0 (with its mean as ``center``).
    """
    n = X.shape[0]
    G = np.zeros_like(params[0])
    for start in range(0, n, batch_size):
        sl = slice(start, start + batch_size)
        B = dense_rows(X, sl)
        if center is not None:
            B = B - center
        _, grads, _ = loss_and_grad(B, Y[sl], params, *net_args)
        G += grads[0] * (min(batch_size, n - start) / n)
    return np.sqrt(np.einsum("ij,ij->i", G, G))
