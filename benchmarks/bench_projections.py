"""Benchmark of the exact projections against sort-based methods and a one-pass floor.

Usage::

    python benchmarks/bench_projections.py            # full table (a few minutes)
    python benchmarks/bench_projections.py --quick    # smaller run
    python benchmarks/bench_projections.py --cpu-time # CPU time of the thread (loaded machine)

l1,inf ball: X of shape 1000x1000, 1000x10000 and 10000x100 with uniform and |Gaussian|
entries, radius = frac * ||X||_{1,inf}. Columns: median time per call of
``skproj.project_l1inf_ball`` (rows are the groups), fraction of zeroed groups, ratio to the
floor ``np.abs(X).max(axis=1)`` timed in the same run, time of the sort-based method below
and the largest difference between the two results relative to max |X| (exactness).

l1 ball: ``skproj.project_l1_ball`` on vectors of 1e4..1e7 N(0, 1) entries against the
sort-based method of Duchi et al. (ICML 2008) and the floor ``np.abs(x).sum()``.

The sort-based methods live here, not in the package: they are the straightforward
references (O(N log N)) that the package's kernels replace.
"""

import argparse
import time

import numpy as np

from skproj import l1inf_norm, project_l1_ball, project_l1inf_ball


def l1inf_sort(X, radius):
    """Projection onto the l1,inf ball (rows = groups) by sorting all breakpoints.

    Quattoni, Carreras, Collins, Darrell, ICML 2009: with every group sorted, F(theta) =
    sum_g mu_g(theta) is linear between the nm breakpoints theta_gk = S_g(k) - k y_g(k+1)
    (where group g starts clipping its (k+1)-th entry) and S_g(m) (where it is zeroed). Sort
    the breakpoints, sweep them while updating F = A - theta B, and solve on the right piece.
    """
    Y = np.abs(X)
    n, m = Y.shape
    if Y.max(axis=1).sum() <= radius:
        return X.copy()
    srt = -np.sort(-Y, axis=1)
    cs = np.cumsum(srt, axis=1)
    k = np.arange(1, m + 1, dtype=float)
    # events: k -> k+1 for k = 1..m-1, then death at theta = S_g(m)
    theta_ev = np.empty((n, m))
    theta_ev[:, : m - 1] = cs[:, : m - 1] - k[: m - 1] * srt[:, 1:]
    theta_ev[:, m - 1] = cs[:, m - 1]
    a = cs / k  # A contribution S_g(k) / k on piece k
    dA = np.empty((n, m))
    dA[:, : m - 1] = a[:, 1:] - a[:, : m - 1]
    dA[:, m - 1] = -a[:, m - 1]
    dB = np.empty(m)
    dB[: m - 1] = 1.0 / k[1:] - 1.0 / k[: m - 1]
    dB[m - 1] = -1.0 / m
    order = np.argsort(theta_ev, axis=None, kind="stable")
    th = theta_ev.ravel()[order]
    A = a[:, 0].sum() + np.cumsum(dA.ravel()[order])
    B = n + np.cumsum(np.broadcast_to(dB, (n, m)).ravel()[order])
    e = np.argmax(A - th * B <= radius)
    A_prev = a[:, 0].sum() if e == 0 else A[e - 1]
    B_prev = float(n) if e == 0 else B[e - 1]
    theta = (A_prev - radius) / B_prev
    cand = (cs - theta) / k
    nxt = np.concatenate([srt[:, 1:], np.full((n, 1), -np.inf)], axis=1)
    kk = np.argmax(nxt <= cand, axis=1)
    # finish exactly: theta from the clipped sums and counts of the identified piece
    alive = cs[:, -1] > theta
    cnt = kk[alive] + 1.0
    theta = ((cs[alive, kk[alive]] / cnt).sum() - radius) / (1.0 / cnt).sum()
    cand = (cs - theta) / k
    kk = np.argmax(nxt <= cand, axis=1)
    mu = np.maximum(cand[np.arange(n), kk], 0.0)
    mu[cs[:, -1] <= theta] = 0.0
    return np.sign(X) * np.minimum(Y, mu[:, None])


def l1_sort(x, radius):
    """Projection onto the l1 ball by a full sort (Duchi, Shalev-Shwartz, Singer, Chandra 2008)."""
    y = np.abs(x)
    if y.sum() <= radius:
        return x.copy()
    u = np.sort(y)[::-1]
    css = np.cumsum(u) - radius
    rho = np.nonzero(u - css / np.arange(1, len(u) + 1) > 0)[0][-1]
    tau = css[rho] / (rho + 1)
    return np.sign(x) * np.maximum(y - tau, 0)


CLOCK = time.perf_counter


def median_time(fn, repeats, min_time=0.0):
    times = []
    t_start = time.perf_counter()
    while len(times) < repeats or (time.perf_counter() - t_start < min_time and len(times) < 50):
        t0 = CLOCK()
        fn()
        times.append(CLOCK() - t0)
    return float(np.median(times))


def bench_l1inf(shapes, fracs, repeats, sort_max):
    rng = np.random.default_rng(0)
    print("l1,inf ball, rows are the groups; times in ms (median); ratio = time / floor;")
    print("exact = max |ours - sort| / max |X|")
    head = f"{'shape':>11} {'dist':>7} {'frac':>7} {'ms':>9} {'zeroed':>7} {'floor':>7} {'ratio':>7} {'sort ms':>9} {'exact':>9}"
    print(head)
    print("-" * len(head))
    for shape in shapes:
        for dist in ("uniform", "gauss"):
            X = rng.uniform(0, 1, shape) if dist == "uniform" else np.abs(rng.standard_normal(shape))
            X *= rng.choice([-1.0, 1.0], shape)
            norm = l1inf_norm(X)
            for frac in fracs:
                radius = frac * norm
                P = project_l1inf_ball(X, radius)
                t = median_time(lambda: project_l1inf_ball(X, radius), repeats, 0.3)
                floor = median_time(lambda: np.abs(X).max(axis=1), repeats, 0.3)
                zeroed = float(np.mean(np.abs(P).max(axis=1) == 0))
                if X.size <= sort_max:
                    ref = l1inf_sort(X, radius)
                    t_sort = median_time(lambda: l1inf_sort(X, radius), 1)
                    err = np.abs(P - ref).max() / np.abs(X).max()
                    sort_s, err_s = f"{1e3 * t_sort:9.1f}", f"{err:9.1e}"
                else:
                    sort_s = err_s = f"{'-':>9}"
                print(f"{shape[0]:>5}x{shape[1]:<5} {dist:>7} {frac:7.0e} {1e3 * t:9.2f} {zeroed:7.3f} "
                      f"{1e3 * floor:7.2f} {t / floor:7.1f} {sort_s} {err_s}", flush=True)


def bench_l1(sizes, fracs, repeats):
    rng = np.random.default_rng(1)
    print()
    print("l1 ball, N(0,1) entries; times in ms (median); ratio = time / floor np.abs(x).sum()")
    head = f"{'n':>9} {'frac':>7} {'ms':>9} {'floor':>7} {'ratio':>7} {'sort ms':>9} {'exact':>9}"
    print(head)
    print("-" * len(head))
    for n in sizes:
        x = rng.standard_normal(n)
        norm = np.abs(x).sum()
        for frac in fracs:
            radius = frac * norm
            p = project_l1_ball(x, radius)
            t = median_time(lambda: project_l1_ball(x, radius), repeats, 0.3)
            floor = median_time(lambda: np.abs(x).sum(), repeats, 0.3)
            ref = l1_sort(x, radius)
            t_sort = median_time(lambda: l1_sort(x, radius), 1)
            err = np.abs(p - ref).max() / np.abs(x).max()
            print(f"{n:9.0e} {frac:7.0e} {1e3 * t:9.2f} {1e3 * floor:7.2f} {t / floor:7.1f} "
                  f"{1e3 * t_sort:9.1f} {err:9.1e}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer shapes and repeats")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time with time.thread_time (CPU time of this thread; every timed call "
                             "runs single-threaded in it) instead of wall-clock time, which is "
                             "steadier on a loaded machine")
    args = parser.parse_args()
    if args.cpu_time:
        global CLOCK
        CLOCK = time.thread_time
        print("clock: time.thread_time (CPU time of the calling thread)")
    else:
        print("clock: time.perf_counter (wall clock)")
    fracs = [1e-4, 1e-3, 1e-2, 0.1, 0.5]
    if args.quick:
        bench_l1inf([(1000, 1000), (10000, 100)], fracs, repeats=3, sort_max=10**6)
        bench_l1([10**4, 10**6], [1e-2, 0.1, 0.5], repeats=3)
    else:
        bench_l1inf([(1000, 1000), (1000, 10000), (10000, 100)], fracs, repeats=7, sort_max=10**6)
        bench_l1([10**4, 10**5, 10**6, 10**7], [1e-2, 0.1, 0.5], repeats=7)


if __name__ == "__main__":
    main()
