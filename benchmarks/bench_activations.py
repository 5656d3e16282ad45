"""SparseAutoencoderSelector on PBMC: ReLU versus clipped ReLU at 70% and 85% activation sparsity.

Data: the embedded reduced PBMC 68k set (:func:`skproj.datasets.load_pbmc68k`: 700 cells,
765 genes, 10 cell types).

Protocol: stratified K-fold CV (shuffled, random_state=0) of
Pipeline(StandardScaler, SparseAutoencoderSelector(radius, activation, ...)), the same radius
and seed for every activation. The clipped ReLU is initialised at the edge of chaos for the
target sparsity (Price et al., ICLR 2024, arXiv 2402.16184) with the default clip. Reported,
mean (and standard deviation) over the folds: test accuracy of the selector's own predictions,
number of selected features, measured fraction of zero hidden activations (both hidden layers)
on the training fold (``activation_sparsity_``) and on the test fold (recomputed here from the
fitted network with the public activation functions), and fit time of the pipeline.

Usage::

    python benchmarks/bench_activations.py [--quick] [--radius 0.3,0.6] [--folds 4] [--epochs 60]

At a given radius the activations keep different numbers of features: compare accuracies at
similar feature counts (several radii).

``--quick``: 3 folds and 30 epochs per phase (about a minute on one core).
"""

import argparse
import time

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skproj import SparseAutoencoderSelector
from skproj.activations import get_activation
from skproj.datasets import load_pbmc68k

CONFIGS = [
    ("relu", dict(activation="relu")),
    ("clipped_relu 70%", dict(activation="clipped_relu", activation_sparsity=0.7)),
    ("clipped_relu 85%", dict(activation="clipped_relu", activation_sparsity=0.85)),
]


def hidden_zero_fraction(sel, X):
    """Fraction of exact zeros of both hidden layers of a fitted selector on (scaled) ``X``."""
    if sel.activation == "relu":

        def phi(z):
            return np.maximum(z, 0)

    else:
        act = get_activation(sel.activation)

        def phi(z):
            return act.forward(z, sel.activation_threshold_, sel.activation_clip_)

    W1, W2, W3, _ = sel.coefs_
    b1, b2, b3, _ = sel.intercepts_
    a1 = phi(X @ W1 + b1)
    a3 = phi((a1 @ W2 + b2) @ W3 + b3)
    return (np.count_nonzero(a1 == 0) + np.count_nonzero(a3 == 0)) / (a1.size + a3.size)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3 folds, 30 epochs per phase")
    ap.add_argument("--radius", default="0.3,0.6", help="comma-separated l1,inf radii (standardised data)")
    ap.add_argument("--folds", type=int, default=4)
    ap.add_argument("--epochs", type=int, default=60, help="max_epochs of each phase")
    ap.add_argument("--hidden", type=int, default=64, help="hidden_layer_size")
    args = ap.parse_args()
    if args.quick:
        args.folds, args.epochs = 3, 30
    radii = [float(r) for r in args.radius.split(",")]

    X, y = load_pbmc68k(return_X_y=True)
    print(
        f"PBMC 68k reduced: {X.shape[0]} cells x {X.shape[1]} genes, {len(np.unique(y))} classes, "
        f"dtype {X.dtype}; {args.folds}-fold stratified CV, "
        f"max_epochs={args.epochs} (+ retraining), hidden={args.hidden}"
    )
    cv = StratifiedKFold(args.folds, shuffle=True, random_state=0)
    base = SparseAutoencoderSelector("l1inf", hidden_layer_size=args.hidden, max_epochs=args.epochs, random_state=0)
    header = (
        f"{'radius':>6} {'activation':<18} {'accuracy':>15} {'selected':>13} "
        f"{'sparsity train':>16} {'sparsity test':>15} {'fit s':>7}"
    )
    print(header)
    print("-" * len(header))
    for radius, (label, params) in ((r, c) for r in radii for c in CONFIGS):
        rec = {k: [] for k in ("acc", "sel", "sp_tr", "sp_te", "time")}
        for tr, te in cv.split(X, y):
            pipe = make_pipeline(StandardScaler(), clone(base).set_params(radius=radius, **params))
            t0 = time.perf_counter()
            pipe.fit(X[tr], y[tr])
            rec["time"].append(time.perf_counter() - t0)
            sel = pipe[-1]
            rec["acc"].append(pipe.score(X[te], y[te]))
            rec["sel"].append(sel.support_.sum())
            rec["sp_tr"].append(sel.activation_sparsity_)
            rec["sp_te"].append(hidden_zero_fraction(sel, pipe[0].transform(X[te])))

        def fmt(v, spec):
            return f"{np.mean(v):{spec}} ± {np.std(v):{spec}}"

        print(
            f"{radius:>6g} {label:<18} {fmt(rec['acc'], '.3f'):>15} {fmt(rec['sel'], '.0f'):>13} "
            f"{fmt(rec['sp_tr'], '.3f'):>16} {fmt(rec['sp_te'], '.3f'):>15} {np.mean(rec['time']):>7.1f}"
        )


if __name__ == "__main__":
    main()
