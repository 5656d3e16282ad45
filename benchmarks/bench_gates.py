"""Benchmark: feature selection by differentiable gates vs the l1,inf ball (and group lasso).

All methods are :class:`skproj.SparseAutoencoderSelector` (supervised autoencoder + double
descent) in a Pipeline after a StandardScaler; only the sparsifier differs:

* ``l1inf``: first layer projected onto the l1,inf ball after every Adam step
  (Perez, Condat, Barlaud, arXiv 2307.09836);
* ``differentiable``: input features gated by differentiable gates trained by plain Adam
  (Lee, arXiv 1910.03201; ``penalty="differentiable"``);
* ``group_lasso``: the proximal-Adam group lasso (``penalty="group_lasso"``, default ``alpha``).

The number of selected features is matched with ``max_features=k`` (the k largest rows / gates
among the non-zero ones after the first phase). Hyperparameters are fixed in advance, nothing
is tuned on the test folds. Reported per method: mean stratified-CV test accuracy, recovery
(share of the truly informative features in the selected set; synthetic data only), mean
number of selected features and mean fit time.

Data: ``make_classification(n_samples=1000, n_features=1000, n_informative=64, n_redundant=0,
shuffle=False, random_state=0)`` (the informative features are the first 64) and, when
PBMC (``skproj.datasets.load_pbmc68k``, 700 cells x 765 genes, 10 cell types).

Usage::

    python benchmarks/bench_gates.py            # 4 folds, 60 + 60 epochs
    python benchmarks/bench_gates.py --quick    # 2 folds, 10 + 10 epochs (minutes)
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
from skproj.datasets import load_pbmc68k


def _methods(k, epochs, seed):
    common = dict(max_features=k, max_epochs=epochs, retrain_epochs=epochs, random_state=seed)
    methods = {
        "l1inf": SparseAutoencoderSelector(constraint="l1inf", radius=1.0, **common),
        "differentiable": SparseAutoencoderSelector(penalty="differentiable", alpha=1e-3, **common),
    }
    methods["group_lasso"] = SparseAutoencoderSelector(penalty="group_lasso", **common)
    return methods


def run(name, X, y, informative, k, n_folds, epochs, seed=0):
    print(f"\n== {name}: X {X.shape}, {len(np.unique(y))} classes, k = {k} selected features, "
          f"{n_folds}-fold CV, {epochs}+{epochs} epochs")
    header = f"{'method':<16}{'accuracy':>10}{'recovery':>10}{'selected':>10}{'fit s':>8}"
    print(header)
    cv = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    for mname, est in _methods(k, epochs, seed).items():
        accs, recs, sizes, times = [], [], [], []
        for train, test in cv.split(X, y):
            pipe = make_pipeline(StandardScaler(), clone(est))
            t0 = time.perf_counter()
            pipe.fit(X[train], y[train])
            times.append(time.perf_counter() - t0)
            accs.append(pipe.score(X[test], y[test]))
            support = pipe[-1].support_
            sizes.append(int(support.sum()))
            if informative is not None:
                recs.append(np.isin(np.flatnonzero(support), informative).sum() / len(informative))
        rec = f"{np.mean(recs):>10.3f}" if recs else f"{'-':>10}"
        print(f"{mname:<16}{np.mean(accs):>10.3f}{rec}{np.mean(sizes):>10.1f}{np.mean(times):>8.1f}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 folds, 10 epochs per phase")
    args = parser.parse_args()
    n_folds, epochs = (2, 10) if args.quick else (4, 60)

    X, y = make_classification(
        n_samples=1000, n_features=1000, n_informative=64, n_redundant=0, shuffle=False, random_state=0
    )
    run("synthetic", X, y, np.arange(64), 64, n_folds, epochs)

    Xp, yp = load_pbmc68k(return_X_y=True)
    run("PBMC", Xp, yp, None, 64, n_folds, epochs)


if __name__ == "__main__":
    main()
