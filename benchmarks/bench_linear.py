"""Time to reach the Lasso solution: ProjectedLinearModel(l1) against scikit-learn's Lasso.

For each data set a reference solution is computed by ``Lasso(alpha, tol=1e-14)``; the
constrained model gets ``radius = ||w_ref||_1`` (the same problem in constrained form). For
each solver the tolerance is decreased (1e-3, 1e-4, ...) until the fitted coefficients have
the reference's support and ``max|w - w_ref| <= 1e-6 * max|w_ref|``; the time of that fit
(best of ``--repeat`` runs) is reported, with the ratio skproj / sklearn.

Data sets:
* dense: n=1000, d=10000, N(0, 1) entries, 20 true non-zeros, noise 1;
* sparse (text-like): CSC, n=2000, d=20000, density 0.002, column j scaled by (j + 1) ** -0.5
  (power-law, like term frequencies), 30 true non-zeros; alpha = 1% and 0.2% of alpha_max.

With ``--cv``, also the time of ``ProjectedLinearModelCV`` (5 folds, 20 radii) on the dense data
with ``n_jobs=1`` and ``n_jobs=--jobs`` (joblib processes), and whether the two give the same
validation errors (they must: the tasks do not depend on ``n_jobs``).

Usage: ``python benchmarks/bench_linear.py [--quick] [--repeat R] [--threads T] [--cv] [--jobs J]``
(``--quick``: a quarter of the sizes, one run; ``--threads``: BLAS threads for both solvers,
useful on a loaded machine where multi-threaded BLAS spins).
"""

import argparse
import time
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso

from skproj import ProjectedLinearModel, ProjectedLinearModelCV

TOLS = [1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-11, 1e-12]


def dense_problem(n, d, k, rng):
    X = rng.standard_normal((n, d))
    w = np.zeros(d)
    w[rng.choice(d, k, replace=False)] = rng.standard_normal(k) * 3
    return X, X @ w + rng.standard_normal(n)


def sparse_problem(n, d, density, k, rng):
    X = sp.random(n, d, density=density, format="csc", random_state=rng, data_rvs=rng.standard_normal)
    X = (X @ sp.diags((np.arange(d) + 1.0) ** -0.5)).tocsc()
    w = np.zeros(d)
    w[rng.choice(min(d, 200), k, replace=False)] = rng.standard_normal(k) * 10
    return X, X @ w + 0.1 * rng.standard_normal(n)


def alpha_max(X, y):
    xm = np.asarray(X.mean(axis=0)).ravel()
    yc = y - y.mean()
    return np.abs(X.T @ yc - xm * yc.sum()).max() / X.shape[0]


def time_to_solution(make, X, y, w_ref, repeat):
    """Smallest-effort tol reaching the reference; returns (tol, seconds, error, n_iter)."""
    scale = np.abs(w_ref).max()
    for tol in TOLS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            best = np.inf
            for _ in range(repeat):
                est = make(tol)
                t0 = time.perf_counter()
                est.fit(X, y)
                best = min(best, time.perf_counter() - t0)
        err = np.abs(est.coef_ - w_ref).max() / scale
        if err <= 1e-6 and np.array_equal(est.coef_ != 0, w_ref != 0):
            return tol, best, err, getattr(est, "n_iter_", None)
    return None, np.inf, err, getattr(est, "n_iter_", None)


def run(name, X, y, alpha, repeat):
    ref = Lasso(alpha=alpha, tol=1e-14, max_iter=1_000_000).fit(X, y)
    w_ref = ref.coef_
    radius = np.abs(w_ref).sum()
    print(f"\n{name}: X {X.shape} {'sparse ' + X.format if sp.issparse(X) else 'dense'}, "
          f"alpha={alpha:.4g}, support {int((w_ref != 0).sum())}, radius {radius:.4g}")
    res = {}
    for label, make in [
        ("sklearn Lasso", lambda tol: Lasso(alpha=alpha, tol=tol, max_iter=1_000_000)),
        ("skproj ProjectedLinearModel", lambda tol: ProjectedLinearModel(radius=radius, tol=tol, max_iter=1_000_000)),
    ]:
        tol, secs, err, n_iter = time_to_solution(make, X, y, w_ref, repeat)
        res[label] = secs
        print(f"  {label:30s} tol {tol!s:7s} time {secs:8.3f} s  rel err {err:.1e}  n_iter {n_iter}")
    ratio = res["skproj ProjectedLinearModel"] / res["sklearn Lasso"]
    print(f"  ratio skproj / sklearn: {ratio:.2f}")
    return ratio


def run_cv(X, y, jobs, repeat):
    """ProjectedLinearModelCV with n_jobs=1 and n_jobs=jobs: times (after one untimed fit that
    starts the worker processes) and equality of the results."""
    print(f"\nProjectedLinearModelCV: X {X.shape}, 5 folds, 20 radii")
    times, models = {}, {}
    for n_jobs in (1, jobs):
        ProjectedLinearModelCV(cv=5, n_jobs=n_jobs).fit(X, y)  # untimed: starts the joblib workers
        best = np.inf
        for _ in range(repeat):
            t0 = time.perf_counter()
            models[n_jobs] = ProjectedLinearModelCV(cv=5, n_jobs=n_jobs).fit(X, y)
            best = min(best, time.perf_counter() - t0)
        times[n_jobs] = best
        print(f"  n_jobs={n_jobs:2d}  time {best:8.3f} s  radius_ {models[n_jobs].radius_:.6g}")
    same = np.array_equal(models[1].mse_path_, models[jobs].mse_path_)
    print(f"  speed-up n_jobs={jobs} / n_jobs=1: {times[1] / times[jobs]:.2f}x; identical mse_path_: {same}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller problems, one run each")
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (best is kept)")
    parser.add_argument("--threads", type=int, default=None, help="BLAS threads (threadpoolctl); default: unchanged")
    parser.add_argument("--cv", action="store_true", help="also time ProjectedLinearModelCV with n_jobs=1 and --jobs")
    parser.add_argument("--jobs", type=int, default=2, help="n_jobs of the parallel CV run (default 2)")
    args = parser.parse_args(argv)
    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
    rng = np.random.RandomState(0)
    f = 4 if args.quick else 1
    repeat = 1 if args.quick else args.repeat
    X, y = dense_problem(1000 // f, 10000 // f, 20, rng)
    run("dense", X, y, 0.1 * alpha_max(X, y), repeat)
    if args.cv:
        run_cv(X, y, args.jobs, repeat)
    X, y = sparse_problem(2000 // f, 20000 // f, 0.002 * f, 30, rng)
    run("sparse text-like", X, y, 0.01 * alpha_max(X, y), repeat)
    run("sparse text-like, smaller alpha", X, y, 0.002 * alpha_max(X, y), repeat)


if __name__ == "__main__":
    main()
