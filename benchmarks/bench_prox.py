"""Benchmark of the proximal-operator kernels against their one-pass floors (issue 17, item 4).

Run through ``bench_projections.py`` (its clock, ``--cpu-time`` included)::

    python benchmarks/bench_projections.py --only prox     # weighted group prox and l1,inf prox
    python benchmarks/bench_projections.py --ab-prox OTHER/_prox.cpython-311-x86_64-linux-gnu.so
                                                           # A/B against another build's kernels

* ``table_weighted_prox``: ``weighted_prox_group_l2`` / ``_mcp`` on 1000x64 against
  ``np.linalg.norm(Z * D, axis=1)``.
* ``table_prox_l1inf``: ``prox_l1inf`` (rows are the groups) on the l1,inf benchmark's shapes
  against ``np.abs(X).max(axis=1)``, the floor of the l1,inf ball, with threshold = frac * the
  median l1 norm of the rows (a row is zeroed only when its l1 norm is below the threshold: none
  here, the rows' l1 norms being close to their median; frac 1e-4: tau near each row's maximum,
  frac 0.5: a row's entries clipped at about its median magnitude).
* ``table_ab_prox``: both, this checkout's ``_prox`` kernels against another build's.

Measured figures are in ``bench_projections.py``'s docstring.
"""
import numpy as np

import bench_projections as bp
from skproj.prox import prox_l1inf, weighted_prox_group_l2, weighted_prox_group_mcp

PROX_FRACS = (1e-4, 1e-2, 0.1, 0.5)


def table_ab_prox(path, repeats):
    """A/B of the prox kernels (``_prox`` extension at path against this checkout's), as
    ``bench_projections.table_ab_l1inf``: the weighted group prox on 1000x64 (floor
    np.linalg.norm(Z * D, axis=1)), then the l1,inf prox on the l1,inf shapes (floor
    np.abs(X).max(axis=1))."""
    from skproj._kernels import _prox as this

    other = bp._load_other(path, "_prox")
    rng = np.random.default_rng(2)

    def rows():
        for dtype in (np.float32, np.float64):
            Z = rng.standard_normal((1000, 64)).astype(dtype)
            D = rng.uniform(0.5, 2.0, Z.shape).astype(dtype)
            out = np.empty_like(Z)
            med = float(np.median(np.linalg.norm(D.astype(float) * Z, axis=1)))
            tol = 1e-6 if dtype == np.float32 else 1e-12
            for frac in (0.1, 1.0):
                c = np.full(Z.shape[0], frac * med)
                for name, ig in (("l2", 0.0), ("mcp", 1.0 / 3.0)):
                    yield (f"{name} 1000x64 {np.dtype(dtype).name} {frac}",
                           {"floor": lambda: np.linalg.norm(Z * D, axis=1),
                            "other": lambda: other.weighted_group_prox(Z, D, c, ig, out, tol, 100),
                            "this": lambda: this.weighted_group_prox(Z, D, c, ig, out, tol, 100)})

        for (shape, dist) in bp.L1INF_CASES:
            for dtype in (np.float32, np.float64):
                X = bp._matrix(rng, shape, dist, dtype)
                out = np.empty_like(X)
                med = float(np.median(np.abs(X.astype(float)).sum(axis=1)))
                for frac in PROX_FRACS:
                    c = frac * med
                    yield (f"l1inf {shape[0]}x{shape[1]} {np.dtype(dtype).name} {frac:.0e}",
                           {"floor": lambda: np.abs(X).max(axis=1),
                            "other": lambda: other.l1inf_prox(X, out, c),
                            "this": lambda: this.l1inf_prox(X, out, c)})

    bp._ab_table(f"A/B prox kernels: other = {path}", rows(), repeats)


def table_weighted_prox(shape, dtypes, repeats):
    """Weighted group prox kernels vs the floor np.linalg.norm(Z * D, axis=1).

    That floor is one pass over both inputs computing the weighted group norms ||d * z||_2 that
    decide which groups are zeroed (as np.abs(X).max(axis=1) is for the l1,inf ball); the
    cheaper np.multiply(Z, D) (no reduction) is shown too.
    """
    rng = np.random.default_rng(2)
    print()
    print(f"weighted group prox, {shape[0]}x{shape[1]}, Z ~ N(0,1), weights U(0.5, 2), best of {repeats};"
          " ratio = time / floor, floor = np.linalg.norm(Z * weights, axis=1) in the same dtype;"
          " lambda = frac * median ||weights * Z_g||")
    head = (f"{'op':>6} {'dtype':>7} {'frac':>7} {'zeroed':>7} {'ms':>9} {'floor ms':>9} {'ratio':>7} "
            f"{'mul ms':>8} {'/ mul':>7}")
    print(head)
    print("-" * len(head))
    for dtype in dtypes:
        Z = rng.standard_normal(shape).astype(dtype)
        D = rng.uniform(0.5, 2.0, shape).astype(dtype)
        floor = bp.best_time(lambda: np.linalg.norm(Z * D, axis=1), repeats)
        mul = bp.best_time(lambda: np.multiply(Z, D), repeats)
        med = float(np.median(np.linalg.norm(D.astype(float) * Z, axis=1)))
        for lam_frac in (0.1, 1.0):
            lam = lam_frac * med
            for name, fn in (("l2", lambda: weighted_prox_group_l2(Z, D, lam)),
                             ("mcp", lambda: weighted_prox_group_mcp(Z, D, lam, gamma=3.0))):
                P = fn()
                zeroed = float(np.mean(np.abs(P).max(axis=1) == 0))
                t = bp.best_time(fn, repeats)
                print(f"{name:>6} {np.dtype(dtype).name:>7} {lam_frac:7.1f} {zeroed:7.1%} {1e3 * t:9.3f} "
                      f"{1e3 * floor:9.3f} {t / floor:7.1f} {1e3 * mul:8.3f} {t / mul:7.1f}", flush=True)


def table_prox_l1inf(cases, dtypes, repeats):
    """prox_l1inf vs the floor np.abs(X).max(axis=1) (rows are the groups)."""
    rng = np.random.default_rng(3)
    print()
    print(f"l1,inf prox, best of {repeats}; ratio = time / floor, floor = np.abs(X).max(axis=1) in the "
          "same dtype; threshold = frac * median l1 norm of the rows")
    head = f"{'shape':>11} {'dist':>7} {'dtype':>7} {'frac':>7} {'zeroed':>7} {'ms':>9} {'floor ms':>9} {'ratio':>7}"
    print(head)
    print("-" * len(head))
    for shape, dist in cases:
        for dtype in dtypes:
            X = bp._matrix(rng, shape, dist, dtype)
            floor = bp.best_time(lambda: np.abs(X).max(axis=1), repeats)
            med = float(np.median(np.abs(X.astype(float)).sum(axis=1)))
            for frac in PROX_FRACS:
                c = frac * med
                P = prox_l1inf(X, c)
                zeroed = float(np.mean(np.abs(P).max(axis=1) == 0))
                t = bp.best_time(lambda: prox_l1inf(X, c), repeats)
                print(f"{shape[0]:>5}x{shape[1]:<5} {dist:>7} {np.dtype(dtype).name:>7} {frac:7.0e} "
                      f"{zeroed:7.1%} {1e3 * t:9.3f} {1e3 * floor:9.3f} {t / floor:7.1f}", flush=True)
