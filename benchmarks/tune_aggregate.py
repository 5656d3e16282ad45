"""Does aggregating the selection over subsamples / restarts help SparseAutoencoderSelector(n_features_to_select=k)?

Issue 14, item 2 ("consider what reduces variance ... if it pays for its cost"), measured on the
tuning data only (``pbmc``, ``synthetic``, ``sc_synthetic`` of ``bench_selection_k.py``; the
held-out data are never used here), with the issue-14 protocol of ``bench_selection_k.py``
(``Pipeline(StandardScaler(), selector, LogisticRegression(max_iter=3000))``, 5-fold
``StratifiedKFold(shuffle=True, random_state=0)``, mean test accuracy).

Candidates (:class:`AggregatedSAE`, a wrapper written here, not in the package):

* ``default``: ``SparseAutoencoderSelector(n_features_to_select=k, random_state=0)``;
* ``sub{R}x{f}``: ``R`` fits of the first phase only (``retrain=False``: the support is fixed at
  the end of the first phase, so the retraining phase never changes which features a pipeline
  keeps) on stratified subsamples of a fraction ``f`` of the training rows, without
  replacement, each with its own seed; the ``k`` features are ranked by selection frequency,
  ties by the mean of the fit's row norm divided by the sum of that fit's row norms (stability
  selection, Meinshausen & Buehlmann, JRSS-B 72:417, 2010, with a fixed k instead of a
  threshold). Cost: about ``R * f`` first phases, against one first phase plus one retraining
  phase today, so ``sub4x0.5`` and ``sub2x1.0`` cost about as much as the default.

Measured 2026-11-30 on the shared 2-core machine under heavy load (load average 11-20; fit
times comparable only within one table), 5 folds, mean test accuracy::

    [synthetic] 200 x 2000
    config           k=5    k=10    k=20    k=50   fit s
    default        0.680   0.755   0.880   0.790   31.02
    sub4x0.5       0.615   0.775   0.875   0.795   29.84

``sub4x0.5`` costs the same as the default (29.8 vs 31.0 s per pipeline fit) but is 0.065 below
it at k = 5 (more than the fold noise, about 0.03 here: 40 test samples per fold) and within
+-0.02 elsewhere; mean over the 4 cells 0.765 vs 0.776. Not adopted (see the report of branch
``quality`` for the other tuning sets, where they finished in time).

Usage::

    python benchmarks/tune_aggregate.py --data pbmc,synthetic,sc_synthetic --k 5,10,20,50 \\
        --configs default,sub4x0.5,sub2x1.0 [--folds 5] [--n-jobs 2] [--json out.json]
"""

import argparse
import json
import os
import sys

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator
from sklearn.feature_selection import SelectorMixin
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.utils import check_random_state

from skproj import SparseAutoencoderSelector

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_selection_k import DATASETS, protocol_fit  # noqa: E402

TUNING = ("pbmc", "synthetic", "sc_synthetic")


class AggregatedSAE(SelectorMixin, BaseEstimator):
    """k features by selection frequency over ``n_fits`` first-phase fits on subsamples."""

    def __init__(self, n_features_to_select=10, n_fits=4, subsample=0.5, random_state=0):
        self.n_features_to_select = n_features_to_select
        self.n_fits = n_fits
        self.subsample = subsample
        self.random_state = random_state

    def fit(self, X, y):
        X, y = np.asarray(X), np.asarray(y)
        rng = check_random_state(self.random_state)
        k = self.n_features_to_select
        freq = np.zeros(X.shape[1])
        share = np.zeros(X.shape[1])
        for _ in range(self.n_fits):
            seed = rng.randint(np.iinfo(np.int32).max)
            if self.subsample < 1:
                idx, _ = train_test_split(np.arange(len(y)), train_size=self.subsample, stratify=y, random_state=seed)
            else:
                idx = np.arange(len(y))
            sel = SparseAutoencoderSelector(n_features_to_select=k, retrain=False, random_state=seed)
            sel.fit(X[idx], y[idx])
            freq += sel.support_
            imp = sel.feature_importances_
            share += imp / max(imp.sum(), np.finfo(float).tiny)
        order = np.lexsort((-share, -freq))
        order = order[(freq[order] > 0)][:k]
        self.support_ = np.zeros(X.shape[1], dtype=bool)
        self.support_[order] = True
        self.selection_frequency_ = freq / self.n_fits
        return self

    def _get_support_mask(self):
        return self.support_


def make(config, k):
    if config == "default":
        return SparseAutoencoderSelector(n_features_to_select=k, random_state=0)
    if config.startswith("sub"):
        r, f = config[3:].split("x")
        return AggregatedSAE(k, n_fits=int(r), subsample=float(f), random_state=0)
    raise ValueError(config)


def fit_score(X, y, tr, te, config, k):
    acc, t, _ = protocol_fit(X, y, tr, te, make(config, k))
    return config, k, acc, t


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=",".join(TUNING))
    ap.add_argument("--k", default="5,10,20,50")
    ap.add_argument("--configs", default="default,sub4x0.5,sub2x1.0")
    ap.add_argument("--folds", type=int, default=5, help="how many of the 5 folds to run")
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    ks = [int(k) for k in args.k.split(",")]
    configs = args.configs.split(",")
    out = {}
    for d in args.data.split(","):
        if d not in TUNING:
            ap.error(f"--data: {d!r} is not tuning data ({', '.join(TUNING)}); held-out data are never used here")
        X, y, descr = DATASETS[d](None)
        folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))[: args.folds]
        res = Parallel(n_jobs=args.n_jobs)(
            delayed(fit_score)(X, y, tr, te, c, k) for c in configs for k in ks for tr, te in folds)
        print(f"\n[{d}] {X.shape[0]} x {X.shape[1]}, {len(folds)} folds")
        print(f"{'config':<12}" + "".join(f"{'k=' + str(k):>8}" for k in ks) + f"{'fit s':>8}")
        for c in configs:
            accs = [np.mean([a for cc, kk, a, _ in res if cc == c and kk == k]) for k in ks]
            t = np.mean([t for cc, _, _, t in res if cc == c])
            print(f"{c:<12}" + "".join(f"{a:>8.3f}" for a in accs) + f"{t:>8.2f}", flush=True)
        out[d] = [list(r) for r in res]
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh)


if __name__ == "__main__":
    main()
