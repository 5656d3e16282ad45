"""Benchmark: SpredRegressor against scikit-learn's Lasso (coordinate descent) and LassoLars.

Problem (issue 8): n = 1000 samples, d features (N(0, 1) entries), 10% informative (N(0, 1)
coefficients), noise 0.1; alpha in {1e-3, 1e-2}; scikit-learn's Lasso objective
(1 / (2n)) ||y - Xw - b||^2 + alpha ||w||_1.

Every solver is run at a ladder of tolerances; the reference optimum is the lowest objective
found by any run. Reported per solver: the time of its fastest run whose objective is within
1e-6 (relative) of that optimum ("-" if none; then the best relative gap reached), and whether
its support equals the support of the best solution.

    python benchmarks/bench_spred.py --quick            # d = 1e3 only
    python benchmarks/bench_spred.py --max-d 10000      # d in {1e3, 1e4}
    python benchmarks/bench_spred.py                    # the full table (tens of minutes)
    python benchmarks/bench_spred.py --ds 100000 --time-limit 900

Each fit runs in a forked child process and is stopped after ``--time-limit`` seconds (default
600); a stopped run is reported as "> limit", i.e. the solver did not finish in that time (this
is what happens to coordinate descent at tol=1e-10 for d >= 1e4).
"""

import argparse
import multiprocessing
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, LassoLars

from skproj import SpredRegressor


def make_problem(n, d, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    k = max(1, d // 10)
    w = np.zeros(d)
    w[rng.choice(d, k, replace=False)] = rng.standard_normal(k)
    return X, X @ w + 0.1 * rng.standard_normal(n)


def objective(X, y, coef, intercept, alpha):
    r = y - X @ coef - intercept
    return 0.5 * (r @ r) / len(y) + alpha * np.abs(coef).sum()


def runs(alpha, quick_cd, skip_cd=False, n_samples=1000):
    cd_tols = [] if skip_cd else [1e-4, 1e-6, 1e-8] if quick_cd else [1e-4, 1e-6, 1e-8, 1e-10]
    for tol in cd_tols:
        yield "Lasso (CD)", f"tol={tol:g}", Lasso(alpha=alpha, tol=tol, max_iter=100_000)
    # LARS stores the whole path, (max_iter + 1) x d: at most min(n, d) variables are active at
    # once, so 3 n steps leave room for drops without a (100001 x 1e5) allocation at d = 1e5
    yield "LassoLars", f"max_iter={3 * n_samples}", LassoLars(alpha=alpha, max_iter=3 * n_samples)
    for tol in [1e-4, 1e-8]:
        yield "SpredRegressor", f"tol={tol:g}", SpredRegressor(alpha=alpha, tol=tol, max_iter=20_000,
                                                              random_state=0)


def _fit_child(est, X, y, conn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t0 = time.perf_counter()
        est.fit(X, y)
        t = time.perf_counter() - t0
    conn.send((t, np.ravel(est.coef_), float(np.ravel(est.intercept_)[0])))
    conn.close()


def timed_fit(est, X, y, time_limit):
    """Fit ``est`` in a forked child; returns (seconds, coef, intercept) or None past the limit."""
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_fit_child, args=(est, X, y, child))
    proc.start()
    child.close()
    out = parent.recv() if parent.poll(time_limit) else None
    proc.join(timeout=0 if out is None else None)
    if proc.is_alive():
        proc.kill()
        proc.join()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="only d = 1e3")
    ap.add_argument("--max-d", type=int, default=100_000, help="largest d to run (default 1e5)")
    ap.add_argument("--alphas", type=float, nargs="+", default=[1e-3, 1e-2])
    ap.add_argument("--no-cd-1e-10", action="store_true", help="skip CD at tol=1e-10 (slow)")
    ap.add_argument("--skip-cd", action="store_true", help="do not run Lasso (CD) at all")
    ap.add_argument("--ds", type=int, nargs="+", default=[1_000, 10_000, 100_000], help="values of d")
    ap.add_argument("--time-limit", type=float, default=600.0, help="seconds per fit (default 600)")
    ap.add_argument("--solvers", nargs="+", default=["Lasso (CD)", "LassoLars", "SpredRegressor"],
                    help="which solvers to run")
    args = ap.parse_args()
    ds = [d for d in args.ds if d <= (1_000 if args.quick else args.max_d)]
    n = 1000
    print(f"{'d':>7} {'alpha':>7} {'solver':>15} {'time to 1e-6 (s)':>17} {'rel gap':>9} "
          f"{'support = best':>14} {'nnz':>6} {'objective':>18}")
    for d in ds:
        X, y = make_problem(n, d)
        for alpha in args.alphas:
            results, stopped = [], set()
            for name, setting, est in runs(alpha, args.no_cd_1e_10, args.skip_cd, n_samples=n):
                if name not in args.solvers or name in stopped:
                    continue
                out = timed_fit(est, X, y, args.time_limit)
                if out is None:  # a tighter tolerance of the same solver would take longer still
                    stopped.add(name)
                    print(f"{d:>7} {alpha:>7g} {name:>15} {'> %g (%s)' % (args.time_limit, setting):>17}",
                          flush=True)
                    continue
                t, coef, intercept = out
                results.append((name, setting, t, objective(X, y, coef, intercept, alpha), coef))
            if not results:
                continue
            f_best = min(r[3] for r in results)
            support_best = min(results, key=lambda r: r[3])[4] != 0
            for name in dict.fromkeys(r[0] for r in results):
                mine = [r for r in results if r[0] == name]
                ok = [r for r in mine if r[3] <= f_best * (1 + 1e-6)]
                best_mine = min(ok or mine, key=lambda r: r[2] if ok else r[3])
                gap = (best_mine[3] - f_best) / f_best
                t_str = f"{best_mine[2]:.3f} ({best_mine[1]})" if ok else "-"
                same = bool(np.array_equal(best_mine[4] != 0, support_best))
                print(f"{d:>7} {alpha:>7g} {name:>15} {t_str:>17} {gap:>9.1e} {str(same):>14} "
                      f"{int(np.count_nonzero(best_mine[4])):>6} {best_mine[3]:>18.12g}", flush=True)


if __name__ == "__main__":
    main()
