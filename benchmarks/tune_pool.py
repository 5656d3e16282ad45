"""How large a pool should ``n_features_to_select=k`` steer the l1,inf ball to, and other method variants
of the selector (issue 14, tuning data only)

``SparseAutoencoderSelector(n_features_to_select=k)`` steers the radius during the first phase
until about ``m`` rows of ``W1`` survive, then keeps the ``k`` largest of them. This script
compares rules for ``m`` with the protocol of ``bench_selection_k.py``
(``Pipeline(StandardScaler(), selector, LogisticRegression(max_iter=3000))``, 5-fold
``StratifiedKFold(shuffle=True, random_state=0)``, mean test accuracy, k in {5, 10, 20, 50}) on
the tuning data of that script only (``pbmc``, ``synthetic``, ``sc_synthetic``; the held-out
microarray tasks are never used here). Every candidate runs with ``retrain=False``: the
retraining phase never changes which features a pipeline keeps.

Candidates (subclasses written here, not in the package):

- ``steerF``: ``m = F k`` (``steer1`` is the rule before this change: exactly ``k``);
- ``poolPfF``: ``m = max(F k, P)`` (``pool100f2`` is the package's rule, before its
  ``max(k, n_features // 2)`` cap, which none of these data sets reaches);
- ``r0.3``: the fixed radius 0.3 and ``max_features=k`` (the former CLI default, for reference);
- ``anova``, ``wilcoxon``, ``random_forest``: baselines of ``skproj.model_selection``.

Measured 2026-11-30, 10:15-10:45, 2-core machine (one other job running), ``--n-jobs 2``; mean
test accuracy, k = 5 / 10 / 20 / 50 (mean over k in the last column)::

    synthetic (200 x 2000)   steer1    0.680 0.755 0.880 0.790  0.776
                             steer4    0.645 0.795 0.870 0.790  0.775
                             steer8    0.650 0.765 0.900 0.790  0.776
                             steer16   0.595 0.770 0.875 0.790  0.758
                             pool100f2 0.635 0.765 0.870 0.785  0.764
                             pool50f2  0.645 0.785 0.880 0.785  0.774
                             pool200f2 0.640 0.760 0.870 0.790  0.765
                             r0.3      0.635 0.780 0.875 0.875  (20 features at k = 50)
                             best of anova / wilcoxon / forest  0.650 0.795 0.910 0.825
    pbmc (700 x 765)         steer1    0.700 0.679 0.770 0.781  0.733
                             steer4    0.729 0.769 0.783 0.753  0.759
                             steer8    0.741 0.789 0.776 0.760  0.767
                             steer16   0.741 0.786 0.766 0.767  0.765
                             pool100f2 0.741 0.793 0.786 0.793  0.778
                             pool50f2  0.753 0.774 0.791 0.793  0.778
                             pool200f2 0.737 0.786 0.790 0.753  0.767
                             r0.3      0.747 0.779 0.791 0.794  0.778
                             best of anova / wilcoxon / forest  0.699 0.734 0.779 0.787
    sc_synthetic (1000 x 3000) steer1  0.376 0.463 0.562 0.744  0.536
                             steer4    0.386 0.500 0.607 0.774  0.567
                             steer8    0.414 0.499 0.606 0.770  0.572
                             steer16   0.423 0.498 0.611 0.761  0.573
                             pool100f2 0.424 0.517 0.609 0.775  0.581
                             pool50f2  0.417 0.506 0.589 0.775  0.572
                             pool200f2 0.419 0.510 0.610 0.774  0.578
                             r0.3      0.432 0.507 0.629 0.778  0.587
                             best of anova / wilcoxon / forest  0.452 0.538 0.652 0.763

Mean over the three data sets: steer1 0.682, pool100f2 0.708, pool50f2 0.708, pool200f2 0.703,
steer8 0.705. ``pool100f2`` (``m = max(2k, 100)``) was adopted: tied best on average, best on the
single-cell-like data. The fixed radius 0.3 does as well or better here but needs a radius
(it kept 18 / 89 / 117 rows on these three data sets: the number depends on the data, which is
what issue 14 removes).

Also tried with the pool rule (scratch wrappers of this script's ``pool_selector``, same protocol,
same three data sets, 11:25-11:40), not adopted: ranking the pool by the l2 or l1 norm of the rows
instead of the l_inf norm (means 0.778 / 0.577 / 0.761 and 0.777 / 0.577 / 0.765 on pbmc /
sc_synthetic / synthetic, against 0.778 / 0.581 / 0.764); two restarts of the first phase (seeds
0 and 1) ranked by the mean of each fit's normalised row norms (``restart2`` below: 0.776 / 0.583 /
0.775, +0.004 on average, within the fold noise, for twice the first-phase time).

Other changes of method (``VARIANTS``, session of 2026-11-30 afternoon, 12:05-12:45, one core,
a helper's benchmarks on the other), same protocol, on the tuning data plus two small microarray
sets added as tuning data (``khan`` 63 x 2,308, 4 classes; ``golub`` 38 x 3,051, 2 classes; see
``bench_selection_k.py``). Mean test accuracy over k = 5 / 10 / 20 / 50::

    variant                                     khan   golub  synthetic  pbmc
    cur      (the package's defaults)           0.988  0.960  0.764      0.778
    seed1 / seed2  (other random_state)         0.980  0.954  0.774      -
                                                0.988  0.960  0.770      -
    tanh / silu   activation                    0.980  0.934  0.769      -
                                                0.980  0.967  0.756      -
    h16 / h256    hidden_layer_size             0.972  0.954  0.770      -
                                                0.988  0.960  0.764      -
    rr       round robin over the classes       0.984  0.947  0.767      0.779
    rrabs    same, |score|                      0.976  0.960  0.780      0.776
    jacnorm  l2 norm of the mean Jacobian row   0.984  0.960  0.768      0.778
    e150     max_epochs 150, decay 50 epochs    0.980  0.966  0.765      -
    lr3      learning_rate 3e-3                 0.984  0.954  0.770      -
    b16 / b8 batch_size 16 / 8                  0.980  0.972  0.770      -
                                                0.972  0.947  0.778      -
    rw0      reconstruction_weight 0            0.988  0.966  0.762      -
    init0.1 / init0.01  W1 initialised smaller  0.984  0.954  0.768      -
                                                0.984  0.959  0.772      -
    clip3 / clip2  first phase on X clipped     0.988  0.960  0.766      -
                   at +-3 / +-2 std             0.985  0.954  0.760      -
    qnorm    first phase on quantile-normal X   0.968  0.965  0.776      -
    restart4 / restart8  4 / 8 first phases,    0.988  0.966  0.761      -
                   ranked by their summed       0.988  0.967  0.767      -
                   normalised row norms (4-8x the first-phase time)
    best baseline per k, averaged               0.992  1.000  0.795      0.787 (per-k best differs)

The rank rules (``rr``, ``rrabs``, ``jacnorm``) rank the pool by the encoder's mean Jacobian
``W1 diag(mean phi') W2`` (centred over the classes) instead of the row norms. No variant moves
the mean by more than the spread between random seeds of the package's own defaults (0.008 on
khan, 0.006 on golub, 0.010 on synthetic; single cells move by up to 0.053: golub k = 5, 0.893
with seed 0, 0.946 with seed 1), so none was adopted. Averaging 4 or 8 restarts (which removes
most of the seed variance) does not move the mean either. On 38-126 samples the fold and seed noise is
as large as the gaps of issue 14.

Two more variants by name, measured with ``tune_small_n.py`` (results in its docstring): ``l12``
and ``l1ball``, the selector with ``constraint="l12"`` / ``constraint="l1"`` steered to the same
pool; ``cwb``, the selector with ``class_weight="balanced"``; ``stabB`` / ``stabnB``, B first
phases on stratified halves of the samples, aggregated by selection frequency / by summed
normalised row norms (:class:`Subsamples`).

Usage::

    python benchmarks/tune_pool.py synthetic,pbmc,sc_synthetic steer1,pool100f2,anova 2 out.json
    RDA_ROOT=<folder of the Debian R packages> python benchmarks/tune_pool.py khan,golub cur,seed1,rr 1
"""
import json
import os
import sys

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator
from sklearn.feature_selection import SelectorMixin
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import QuantileTransformer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_selection_k as b  # noqa: E402

from skproj import SparseAutoencoderSelector  # noqa: E402
from skproj._network import _resolve  # noqa: E402
from skproj.model_selection import make_baseline_selector  # noqa: E402

KS = (5, 10, 20, 50)


def pool_selector(pool_min, factor):
    """The selector with the pool rule ``m = min(n_features, max(factor k, pool_min))``."""

    class Pool(SparseAutoencoderSelector):
        @staticmethod
        def _pool_size(k, n_features):
            return min(n_features, max(int(round(factor * k)), pool_min))

    return Pool


class _Variant(SparseAutoencoderSelector):
    """The selector with one change of method (class attributes set by :func:`variant`)."""

    rank = None  # None: the k largest rows of the pool; "rr", "rrabs", "jacnorm": see VARIANTS
    init_scale = 1.0
    phase1_input = None  # None, ("clip", c) or "qnorm": what the first phase sees

    def fit(self, X, y):
        if self.phase1_input == "qnorm":
            X = QuantileTransformer(n_quantiles=min(1000, X.shape[0]),
                                    output_distribution="normal").fit_transform(X)
        elif self.phase1_input is not None:
            X = np.clip(X, -self.phase1_input[1], self.phase1_input[1])
        return super().fit(X, y)

    def _train(self, trainer, params, sparsity, k, trainable):
        params[0] *= self.init_scale
        return super()._train(trainer, params, sparsity, k, trainable)

    def _top_k(self, trainer, params, norms, k, trainable):
        alive = norms > 0
        if self.rank is None or alive.sum() <= k:
            return super()._top_k(trainer, params, norms, k, trainable)
        # effective linear map of the encoder, averaged over the training samples:
        # d logits / d x = W1 diag(mean_s phi'(h_s)) W2, centred over the classes
        W1, b1, W2 = params[0], params[1], params[2]
        phi, dphi = _resolve(self._activation_fns())
        H = trainer.X @ W1 + b1
        A = W1 @ (dphi(H, phi(H)).mean(axis=0)[:, None] * W2)
        A -= A.mean(axis=1, keepdims=True)
        if self.rank == "jacnorm":
            order = np.argsort(-np.where(alive, np.sqrt((A * A).sum(1)), -np.inf), kind="stable")[:k]
        else:  # round robin over the classes, each taking its best remaining feature
            S = np.where(alive[:, None], np.abs(A) if self.rank == "rrabs" else A, -np.inf)
            ranks = np.argsort(-S, axis=0, kind="stable")
            order, seen = [], set()
            for i in ranks.ravel():  # row r: the r-th best feature of every class in turn
                if alive[i] and i not in seen and len(order) < k:
                    seen.add(i)
                    order.append(i)
        support = np.zeros(len(norms), dtype=bool)
        support[np.asarray(order)] = True
        return support


class Restarts(SelectorMixin, BaseEstimator):
    """R first phases (random_state 0..R-1), each steered to the package's pool; the k features
    with the largest sum over the fits of the normalised row norms."""

    def __init__(self, k=10, R=2):
        self.k, self.R = k, R

    def fit(self, X, y):
        m = SparseAutoencoderSelector._pool_size(self.k, X.shape[1])
        score = np.zeros(X.shape[1])
        for r in range(self.R):
            s = pool_selector(m, 0.0)(n_features_to_select=m, random_state=r, retrain=False).fit(X, y)
            score += s.feature_importances_ / s.feature_importances_.sum()
        self.mask_ = np.zeros(X.shape[1], dtype=bool)
        self.mask_[np.argsort(-score, kind="stable")[: self.k]] = True
        return self

    def _get_support_mask(self):
        return self.mask_


class Subsamples(SelectorMixin, BaseEstimator):
    """Stability-selection style aggregation: B first phases, each on a stratified half of the
    samples (seed b) and steered to the package's pool; the k features most often among a fit's
    k largest rows (``how="freq"``; ties: the summed normalised row norms) or with the largest
    summed normalised row norms (``how="norm"``)."""

    def __init__(self, k=10, B=4, how="freq"):
        self.k, self.B, self.how = k, B, how

    def fit(self, X, y):
        from sklearn.model_selection import train_test_split

        m = SparseAutoencoderSelector._pool_size(self.k, X.shape[1])
        freq, norm = np.zeros(X.shape[1]), np.zeros(X.shape[1])
        for r in range(self.B):
            try:
                idx, _ = train_test_split(np.arange(len(y)), train_size=0.5, stratify=y, random_state=r)
            except ValueError:
                idx, _ = train_test_split(np.arange(len(y)), train_size=0.5, random_state=r)
            s = pool_selector(m, 0.0)(n_features_to_select=m, random_state=r, retrain=False).fit(X[idx], y[idx])
            imp = s.feature_importances_
            norm += imp / imp.sum()
            freq[np.argsort(-imp, kind="stable")[: self.k]] += 1
        score = norm if self.how == "norm" else freq + norm / (norm.max() + 1e-300) * 0.5
        self.mask_ = np.zeros(X.shape[1], dtype=bool)
        self.mask_[np.argsort(-score, kind="stable")[: self.k]] = True
        return self

    def _get_support_mask(self):
        return self.mask_


# name -> (parameters of the selector, attributes of _Variant)
VARIANTS = {
    "cur": ({}, {}),
    "e150": ({"max_epochs": 150, "radius_decay_epochs": 50}, {}),
    "lr3": ({"learning_rate": 3e-3}, {}),
    "b16": ({"batch_size": 16}, {}),
    "b8": ({"batch_size": 8}, {}),
    "rw0": ({"reconstruction_weight": 0.0}, {}),
    "rw0.3": ({"reconstruction_weight": 0.3}, {}),
    "rw3": ({"reconstruction_weight": 3.0}, {}),
    "lr3e-4": ({"learning_rate": 3e-4}, {}),
    "rd10": ({"radius_decay_epochs": 10}, {}),
    "rd40": ({"radius_decay_epochs": 40}, {}),
    "e30": ({"max_epochs": 30, "radius_decay_epochs": 10}, {}),
    "e100": ({"max_epochs": 100, "radius_decay_epochs": 33}, {}),
    "init0.1": ({}, {"init_scale": 0.1}),
    "init0.01": ({}, {"init_scale": 0.01}),
    "clip3": ({}, {"phase1_input": ("clip", 3.0)}),
    "clip2": ({}, {"phase1_input": ("clip", 2.0)}),
    "qnorm": ({}, {"phase1_input": "qnorm"}),
    "tanh": ({"activation": "tanh"}, {}),
    "silu": ({"activation": "silu"}, {}),
    "h16": ({"hidden_layer_size": 16}, {}),
    "h256": ({"hidden_layer_size": 256}, {}),
    "rr": ({}, {"rank": "rr"}),
    "rrabs": ({}, {"rank": "rrabs"}),
    "jacnorm": ({}, {"rank": "jacnorm"}),
    "l12": ({"constraint": "l12"}, {}),
    "l1ball": ({"constraint": "l1"}, {}),
    "cwb": ({"class_weight": "balanced"}, {}),
}


def make(name, k):
    if name in VARIANTS:
        params, attrs = VARIANTS[name]
        cls = type(f"Variant_{name}", (_Variant,), attrs)
        return cls(n_features_to_select=k, random_state=0, retrain=False, **params)
    if name.startswith("stabn"):
        return Subsamples(k, int(name[5:]), "norm")
    if name.startswith("stab"):
        return Subsamples(k, int(name[4:]), "freq")
    if name.startswith("restart"):
        return Restarts(k, int(name[7:]))
    if name.startswith("seed"):
        return SparseAutoencoderSelector(n_features_to_select=k, random_state=int(name[4:]), retrain=False)
    if name.startswith("pool"):
        P, _, f = name[4:].partition("f")
        return pool_selector(int(P), float(f or 1))(n_features_to_select=k, random_state=0, retrain=False)
    if name.startswith("steer"):
        return pool_selector(0, float(name[5:]))(n_features_to_select=k, random_state=0, retrain=False)
    if name == "r0.3":
        return SparseAutoencoderSelector(radius=0.3, max_features=k, random_state=0, retrain=False)
    return make_baseline_selector(name, k, random_state=0)


def fit_score(X, y, tr, te, name, k):
    return (name, k) + b.protocol_fit(X, y, tr, te, make(name, k))


def main():
    datasets, names = sys.argv[1].split(","), sys.argv[2].split(",")
    n_jobs = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    allres = {}
    for d in datasets:
        X, y, _ = b.DATASETS[d](os.environ.get("RDA_ROOT", "/usr/lib/R/site-library"))
        X = np.asarray(X, dtype=np.float64)
        folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))
        out = Parallel(n_jobs=n_jobs)(delayed(fit_score)(X, y, tr, te, n, k) for n in names for k in KS
                                      for tr, te in folds)
        res = {}
        for n, k, acc, t, n_sel in out:
            r = res.setdefault(n, {}).setdefault(k, [[], [], []])
            r[0].append(acc), r[1].append(t), r[2].append(n_sel)
        print(f"[{d}] {X.shape}")
        for n in names:
            accs = [np.mean(res[n][k][0]) for k in KS]
            print(f"  {n:<14}" + "".join(f"{a:8.3f}" for a in accs) + f"  mean {np.mean(accs):.3f}  fit "
                  f"{np.mean([np.mean(res[n][k][1]) for k in KS]):6.1f} s  n_selected "
                  + " ".join(f"{np.mean(res[n][k][2]):.0f}" for k in KS), flush=True)
        allres[d] = {n: {k: float(np.mean(res[n][k][0])) for k in KS} for n in names}
    if len(sys.argv) > 4:
        with open(sys.argv[4], "w") as f:
            json.dump(allres, f, indent=1)


if __name__ == "__main__":
    main()
