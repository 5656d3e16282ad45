"""Speed-up of the threaded kernels with the number of threads (issue 17, item 3).

Run::

    python benchmarks/bench_threads.py                       # 1 vs 2 threads, 1000x10000 float64
    python benchmarks/bench_threads.py --counts 1,2,4,8,16   # more cores
    python benchmarks/bench_threads.py --dtype float32 --shape 1000x10000

Each kernel runs under ``threadpoolctl.threadpool_limits(k)`` for each thread count k (the kernels
use ``omp_get_max_threads()`` threads on inputs of 200,000 entries or more); best of ``--repeats``
wall-clock timings after one warm-up call (``bench_projections.best_time``). ``bench_projections.py
--only threads`` prints the default table. The figures measured so far are in the docstring of
``bench_projections.py``.

Cases: ``copy`` is X inside the l1,inf ball (the kernel's first pass, then a parallel copy into
the fresh output: one read and one write of X, the memory-bound limit of the regimes where most
rows are zeroed); ``l1,inf`` at the radius fractions of the norm; ``l1,2`` at 1e-2 and 0.5;
``wprox l2`` the weighted group prox on 20,000 x 64; ``prox l1inf`` the l1,inf prox at threshold 1.
"""
import argparse

import numpy as np
from threadpoolctl import threadpool_limits

from bench_projections import FRACS, _matrix, best_time
from skproj import l12_norm, l1inf_norm, project_l12_ball, project_l1inf_ball
from skproj.prox import prox_l1inf, weighted_prox_group_l2


def table_threads(shape=(1000, 10000), fracs=FRACS, repeats=7, counts=(1, 2), dtype=np.float64):
    """Print the time with ``counts[0]`` threads and the speed-up t(counts[0]) / t(k) for each k."""
    rng = np.random.default_rng(3)
    X = _matrix(rng, shape, "U(0,1)", dtype)
    name = np.dtype(dtype).name
    print()
    print(f"threads: {shape[0]}x{shape[1]} U(0,1) {name}, best of {repeats}; "
          f"speed-up = t({counts[0]}) / t(k)")
    head = f"{'op':>10} {'frac':>7} {f'{counts[0]} thr ms':>9}" + "".join(
        f" {f'x{k} thr':>8}" for k in counts[1:])
    print(head)
    print("-" * len(head))
    cases = [("copy", 2.0, (lambda r: lambda: project_l1inf_ball(X, r))(2.0 * l1inf_norm(X)))]
    cases += [("l1,inf", frac, (lambda r: lambda: project_l1inf_ball(X, r))(frac * l1inf_norm(X)))
              for frac in fracs]
    cases += [("l1,2", frac, (lambda r: lambda: project_l12_ball(X, r))(frac * l12_norm(X)))
              for frac in (1e-2, 0.5)]
    Z = X[:, :64].copy()
    D = rng.uniform(0.5, 2.0, Z.shape).astype(dtype)
    Zb = np.tile(Z, (20, 1))
    Db = np.tile(D, (20, 1))
    lam = 0.5 * float(np.median(np.linalg.norm(Db * Zb, axis=1)))
    cases.append(("wprox l2", lam, lambda: weighted_prox_group_l2(Zb, Db, lam)))
    cases.append(("prox l1inf", 1.0, lambda: prox_l1inf(X, 1.0)))
    for op, frac, fn in cases:
        times = []
        for k in counts:
            with threadpool_limits(k):
                times.append(best_time(fn, repeats))
        print(f"{op:>10} {frac:7.0e} {1e3 * times[0]:9.2f}"
              + "".join(f" {times[0] / t:8.2f}" for t in times[1:]), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="1,2", help="thread counts, comma-separated (1,2)")
    parser.add_argument("--shape", default="1000x10000", help="rows x columns (1000x10000)")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float64")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    from skproj._kernels._l1inf import openmp_info

    built, threads = openmp_info()
    print(f"built with OpenMP: {built}; threads available now: {threads}")
    table_threads(tuple(int(v) for v in args.shape.split("x")), FRACS, args.repeats,
                  tuple(int(v) for v in args.counts.split(",")), np.dtype(args.dtype).type)


if __name__ == "__main__":
    main()
