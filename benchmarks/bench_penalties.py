"""Benchmark: feature selection by the group-lasso / group-MCP prox (ProxAdam) vs the l1,inf ball.

Compares three ways of sparsifying the first layer of :class:`skproj.SparseAutoencoderSelector`:

* ``l1inf``: projection onto the l1,inf ball after every Adam step (Perez, Condat, Barlaud,
  arXiv 2307.09836);
* ``group_lasso`` and ``group_mcp``: Adam step followed by the weighted prox of the penalty
  in Adam's metric (:class:`skproj.optim.ProxAdam`; Deleu & Bengio, arXiv 2102.03869);

at a matched number ``K`` of selected features: each method keeps at most ``K`` features
(``max_features=K``, largest rows of ``W1`` among the non-zero ones) and its strength (radius
or ``alpha``) is the sparsest one of a grid whose support still has ``>= K`` rows, chosen on
the training part of the first fold only. Then double descent on the ``K`` features, and stratified K-fold CV.

Data:
* synthetic: ``make_classification(n_samples=1000, n_features=1000, n_informative=64,
  n_redundant=0, shuffle=False, random_state=0)``, the first 64 columns informative, K = 64:
  recovery = share of the 64 informative features among the selected ones;
* PBMC (``skproj.datasets.load_pbmc68k``, 700 cells x 765 genes, 10 cell types), K = 50:
  no ground truth, so CV accuracy, and the overlap of the selections of the methods.

Reported per method: mean selected count, recovery (synthetic), CV accuracy of the selector
itself (mean +- std over folds), mean fit time per fold. Features are standardised in a
Pipeline (fitted on the training folds).

Run::

    python benchmarks/bench_penalties.py            # full (about 5 minutes on 2 shared cores)
    python benchmarks/bench_penalties.py --quick    # 2 folds, 10 epochs (about a minute)

Measured (full mode, after merging main at ac1fa1a; 2 cores shared with other jobs, so the
times are noisy; accuracies and selections were identical in a run before that merge):

=========  ======================  ===========  ========  ===============  =====
data       method (strength)       selected     recovery  CV accuracy      fit s
=========  ======================  ===========  ========  ===============  =====
synthetic  l1inf (radius=0.1)      64           0.430     0.751 +- 0.021   4.2
synthetic  group_lasso (a=0.012)   64           0.465     0.785 +- 0.019   2.8
synthetic  group_mcp (a=0.012)     64           0.465     0.780 +- 0.027   2.3
PBMC       l1inf (radius=0.4)      50           -         0.793 +- 0.032   2.2
PBMC       group_lasso (a=0.02)    50           -         0.781 +- 0.017   1.5
PBMC       group_mcp (a=0.02)      49.5         -         0.771 +- 0.026   1.3
=========  ======================  ===========  ========  ===============  =====

Selections overlap (Jaccard) 0.41 (synthetic) / 0.48 (PBMC) between l1inf and group lasso,
0.98 / 0.92 between group lasso and group MCP (with ``mcp_gamma=20`` few rows reach the flat
part of the MCP, so it behaves almost like the group lasso).
"""

import argparse
import time

import numpy as np
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skproj import SparseAutoencoderSelector

ALPHAS = [3e-2, 2e-2, 1.5e-2, 1.2e-2, 1e-2, 7e-3, 5e-3, 2e-3]
# method -> (parameters, name of the strength parameter, grid from sparse to dense)
METHODS = {
    "l1inf": ({"constraint": "l1inf"}, "radius", [0.03, 0.05, 0.07, 0.1, 0.2, 0.4]),
    "group_lasso": ({"penalty": "group_lasso"}, "alpha", ALPHAS),
    "group_mcp": ({"penalty": "group_mcp"}, "alpha", ALPHAS),
}


def calibrate(base, name, grid, X, y, K):
    """Sparsest strength of ``grid`` whose first-phase support has >= K features (training data)."""
    Xs = StandardScaler().fit_transform(X)
    for value in grid:
        sel = clone(base).set_params(**{name: value, "retrain": False, "max_features": None}).fit(Xs, y)
        n = int(sel.support_.sum())
        print(f"    calibrate {name}={value:g}: {n} features")
        if n >= K:
            return value
    return grid[-1]


def run_dataset(label, X, y, K, informative, args):
    cv = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=0)
    splits = list(cv.split(X, y))
    rows, supports = [], {}
    for method, (params, name, grid) in METHODS.items():
        base = SparseAutoencoderSelector(max_epochs=args.epochs, random_state=0, **params)
        tr = splits[0][0]
        value = calibrate(base, name, grid, X[tr], y[tr], K)
        est = clone(base).set_params(**{name: value, "max_features": K})
        accs, times, counts, recs, sups = [], [], [], [], []
        for tr, te in splits:
            pipe = make_pipeline(StandardScaler(), clone(est))
            t0 = time.perf_counter()
            pipe.fit(X[tr], y[tr])
            times.append(time.perf_counter() - t0)
            sel = pipe[-1]
            accs.append(pipe.score(X[te], y[te]))
            counts.append(int(sel.support_.sum()))
            sups.append(sel.support_)
            if informative is not None:
                recs.append(sel.support_[informative].sum() / len(informative))
        supports[method] = sups
        rows.append((method, f"{name}={value:g}", np.mean(counts), np.mean(recs) if recs else np.nan,
                     np.mean(accs), np.std(accs), np.mean(times)))
        print(f"  {method}: done ({name}={value:g})")
    print(f"\n{label} (K = {K}, {args.folds}-fold CV, max_epochs={args.epochs})")
    print(f"{'method':<12} {'strength':<14} {'selected':>8} {'recovery':>8} {'accuracy':>15} {'fit s':>7}")
    for method, strength, n, rec, acc, sd, t in rows:
        rec_s = "-" if np.isnan(rec) else f"{rec:.3f}"
        print(f"{method:<12} {strength:<14} {n:>8.1f} {rec_s:>8} {acc:>8.3f} +-{sd:.3f} {t:>7.1f}")
    names = list(supports)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            jac = [np.sum(sa & sb) / max(1, np.sum(sa | sb)) for sa, sb in zip(supports[a], supports[b])]
            print(f"  overlap (Jaccard, mean over folds) {a} vs {b}: {np.mean(jac):.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 folds, 10 epochs")
    parser.add_argument("--skip-pbmc", action="store_true")
    parser.add_argument("--skip-synthetic", action="store_true")
    parser.add_argument("--folds", type=int, default=None, help="CV folds (default 4; 2 with --quick)")
    parser.add_argument("--epochs", type=int, default=None, help="max_epochs (default 40; 10 with --quick)")
    args = parser.parse_args()
    if args.folds is None:
        args.folds = 2 if args.quick else 4
    if args.epochs is None:
        args.epochs = 10 if args.quick else 40

    if not args.skip_synthetic:
        X, y = make_classification(n_samples=1000, n_features=1000, n_informative=64, n_redundant=0,
                                   shuffle=False, random_state=0)
        run_dataset("synthetic 1000 x 1000, 64 informative", X, y, 64, np.arange(64), args)
    if not args.skip_pbmc:
        try:
            from skproj.datasets import load_pbmc68k
        except ImportError:
            print("\nPBMC: skproj.datasets.load_pbmc68k is not available in this build; skipped.")
            return
        X, y = load_pbmc68k(return_X_y=True)
        X = np.asarray(X, dtype=np.float64)
        run_dataset(f"PBMC {X.shape[0]} x {X.shape[1]}, {len(np.unique(y))} classes", X, y, 50, None, args)


if __name__ == "__main__":
    main()
