"""Time per epoch of the selector's training loop against the same network in PyTorch (CPU).

Both sides train the supervised autoencoder of :class:`skproj.SparseAutoencoderSelector`
(encoder ``Linear(d, h) -> ReLU -> Linear(h, k)``, decoder ``Linear(k, h) -> ReLU ->
Linear(h, d)``, loss = cross-entropy + smooth L1 reconstruction, ``h = 64``) on the same
float32 data with the same minibatches (batch 32, one random order per epoch), Adam
(lr 1e-3) and, after every step, the same Euclidean projection of the first-layer weight
``W1`` (``d x h``, rows = features) onto the l1,inf ball of radius 0.1 by
:func:`skproj.project_l1inf_ball` in place (in PyTorch on the tensor's memory, shared with
numpy). skproj runs its own training loop (:class:`skproj._training.Trainer`, the one ``fit``
uses: numpy network, fused Cython Adam with the scalar second moment of ``W1``, the
projection). PyTorch's weights are kept as ``d x h`` tensors so that the projection sees the
same layout; its Adam is ``torch.optim.Adam`` (``foreach``), its backward is autograd.

Each side runs ``--epochs`` epochs (default 3) after one warm-up epoch; the table gives the
median time per epoch, the ratio skproj / PyTorch and the share of skproj's time spent in the
projection. BLAS / PyTorch threads are set per case (``threadpoolctl`` for numpy's BLAS,
``torch.set_num_threads``): (n, d) = (1000, 1000) on 1 thread and (5000, 20000) on 2
threads, the targets of issue 15 (skproj <= PyTorch), and (1000, 10000) on 1 thread. skproj
uses the BLAS thread count that ``fit`` would choose (:func:`skproj._training.blas_threads`),
at most the case's: one thread for batches of 32 rows; PyTorch gets the case's threads.

PyTorch is optional: without it the skproj column is printed alone, with a message.

Measured 2026-11-30, 09:50, on the 2-core machine with nothing else running (load average 0.6
at the start, 0.9 at the end), ``python benchmarks/bench_autoencoder_speed.py``, s/epoch skproj /
PyTorch 2.13 CPU (skproj's share in the projection): (1000, 1000, 1 thread) 0.025 / 0.051
(0.48x; 24%); (1000, 10000, 1 thread) 0.210 / 0.306 (0.69x; 24%); (5000, 20000, 2 threads:
skproj's ``blas_threads`` picks 1 for batches of 32, PyTorch uses 2) 2.51 / 2.62 (0.96x; 20%).
Both targets of issue 15 (skproj <= PyTorch) are met. (On the busy machine, load 14-18, the
2-thread PyTorch case collapsed to 123 s/epoch, so only a quiet run can check it.)

Usage::

    python benchmarks/bench_autoencoder_speed.py            # the three cases
    python benchmarks/bench_autoencoder_speed.py --quick    # (1000, 1000) only
    python benchmarks/bench_autoencoder_speed.py --case 5000 20000 1   # one case, 1 thread
"""

import argparse
import os
import time

import numpy as np
from threadpoolctl import threadpool_limits

from skproj import project_l1inf_ball
from skproj._network import init_params
from skproj._optim import Adam
from skproj._training import BallStep, Trainer, blas_threads
from skproj.sparsity import L1InfBall

H, K, BATCH, LR, RADIUS = 64, 2, 32, 1e-3, 0.1


def make_data(n, d, seed=0):
    rng = np.random.RandomState(seed)
    y = rng.randint(0, K, n)
    X = np.random.default_rng(seed).standard_normal((n, d), dtype=np.float32)
    X[:, :10] += 1.5 * y[:, None].astype(np.float32)  # a few informative features
    return X, y


def time_skproj(X, y, epochs):
    n, d = X.shape
    Y = np.eye(K, dtype=np.float32)[y]
    params = init_params(d, H, K, np.float32, np.random.RandomState(1))
    trainer = Trainer(("relu", 1.0, "smooth_l1", "logits"), X, Y, None, None, np.random.RandomState(2),
                      BATCH, 10**9, 0.0, 0)
    opt = Adam(lr=LR, scalar_second_moment=(0,))
    ball = BallStep(L1InfBall(radius=RADIUS, axis=1))
    times, proj = [], []
    for e in range(epochs + 1):
        p0 = ball.time
        t0 = time.perf_counter()
        trainer.run(params, opt, 1, ball)
        if e:  # the first epoch is a warm-up
            times.append(time.perf_counter() - t0)
            proj.append(ball.time - p0)
    return float(np.median(times)), float(np.median(proj))


def time_torch(X, y, epochs):
    import torch

    n, d = X.shape
    init = init_params(d, H, K, np.float32, np.random.RandomState(1))
    ps = [torch.tensor(p, requires_grad=True) for p in init]
    W1, b1, W2, b2, W3, b3, W4, b4 = ps
    W1_np = W1.detach().numpy()  # shares W1's memory: the projection writes into the tensor
    opt = torch.optim.Adam(ps, lr=LR)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))
    rng = np.random.RandomState(2)
    ce, sl1 = torch.nn.CrossEntropyLoss(), torch.nn.SmoothL1Loss()
    times, proj = [], []
    for e in range(epochs + 1):
        perm = torch.from_numpy(rng.permutation(n))
        tp = 0.0
        t0 = time.perf_counter()
        for start in range(0, n, BATCH):
            idx = perm[start : start + BATCH]
            xb, yb = Xt[idx], yt[idx]
            opt.zero_grad(set_to_none=True)
            z = torch.addmm(b2, torch.relu(torch.addmm(b1, xb, W1)), W2)
            xhat = torch.addmm(b4, torch.relu(torch.addmm(b3, z, W3)), W4)
            loss = ce(z, yb) + sl1(xhat, xb)
            loss.backward()
            opt.step()
            t1 = time.perf_counter()
            with torch.no_grad():
                project_l1inf_ball(W1_np, RADIUS, axis=1, out=W1_np)
            tp += time.perf_counter() - t1
        if e:
            times.append(time.perf_counter() - t0)
            proj.append(tp)
    return float(np.median(times)), float(np.median(proj))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only (1000, 1000) on 1 thread")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per case (after one warm-up)")
    parser.add_argument("--case", type=int, nargs=3, metavar=("N", "D", "THREADS"), help="run this case only")
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        torch = None
        print("PyTorch is not installed (pip install torch --index-url https://download.pytorch.org/whl/cpu): "
              "timing skproj alone.")
    cases = [(1000, 1000, 1)] if args.quick else [(1000, 1000, 1), (1000, 10000, 1), (5000, 20000, 2)]
    if args.case:
        cases = [tuple(args.case)]
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; batch {BATCH}, h {H}, "
          f"median of {args.epochs} epochs")
    print("thr = BLAS threads of skproj (chosen as in fit, at most the case's) / threads of PyTorch")
    print(f"{'n':>6} {'d':>6} {'thr':>5}| {'skproj s/epoch':>14} {'proj share':>10} | {'torch s/epoch':>13} "
          f"{'proj share':>10} | {'skproj/torch':>12}")
    for n, d, threads in cases:
        X, y = make_data(n, d)
        # skproj: the thread count fit() would choose (skproj._training.blas_threads), at most `threads`
        sk_threads = threads if blas_threads(BATCH, d, H) is None else 1
        with threadpool_limits(limits=sk_threads, user_api="blas"):
            ts, ps = time_skproj(X, y, args.epochs)
        if torch is not None:
            torch.set_num_threads(threads)
            with threadpool_limits(limits=threads, user_api="blas"):
                tt, pt = time_torch(X, y, args.epochs)
        row = f"{n:>6} {d:>6} {sk_threads:>2}/{threads:<2}| {ts:>14.3f} {ps / ts:>10.0%} | "
        if torch is not None:
            row += f"{tt:>13.3f} {pt / tt:>10.0%} | {ts / tt:>12.2f}"
        else:
            row += f"{'-':>13} {'-':>10} | {'-':>12}"
        print(row, flush=True)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
