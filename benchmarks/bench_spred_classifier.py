"""Benchmark: SpredClassifier against scikit-learn's L1-penalised LogisticRegression.

Problem: scikit-learn's objective ``C sum_i loss_i + ||W||_1`` (binary: one coefficient row;
several classes: the multinomial loss with one row per class, as ``LogisticRegression`` with
``l1_ratio=1``), on raw and standardised features of iris, wine and breast cancer and on a
synthetic 500 x 2,000 three-class problem (``make_classification``, 20 informative), C in
{0.1, 1}.

Solvers: SpredClassifier with its defaults (``tol=1e-4`` on the KKT residual, ``max_iter=1000``);
LogisticRegression(solver="saga", l1_ratio=1) at its default tolerance and at ``tol=1e-8`` with
``max_iter=100000`` (the reference optimum, with the lowest objective of all runs). Reported
per fit: CPU seconds (one thread), whether it ended without a ConvergenceWarning, the objective's
relative gap to the lowest objective any run found, and the number of non-zero coefficients.

    OMP_NUM_THREADS=1 python benchmarks/bench_spred_classifier.py
    OMP_NUM_THREADS=1 python benchmarks/bench_spred_classifier.py --quick   # C = 0.1 only
"""

import argparse
import time
import warnings

import numpy as np
from scipy.special import log_softmax
from sklearn.datasets import load_breast_cancer, load_iris, load_wine, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skproj import SpredClassifier


def objective(clf, X, y, C):
    """``C sum_i loss_i + ||W||_1`` of a fitted classifier."""
    Z = X @ clf.coef_.T + clf.intercept_
    yi = np.searchsorted(clf.classes_, y)
    if Z.shape[1] == 1:
        z = Z[:, 0]
        loss = np.sum(np.logaddexp(0, z) - yi * z)
    else:
        loss = -np.sum(log_softmax(Z, axis=1)[np.arange(len(y)), yi])
    return C * loss + np.abs(clf.coef_).sum()


def datasets():
    for name, loader in [("iris", load_iris), ("wine", load_wine), ("breast cancer", load_breast_cancer)]:
        X, y = loader(return_X_y=True)
        yield f"{name} raw", X, y
        yield f"{name} std", StandardScaler().fit_transform(X), y
    X, y = make_classification(500, 2000, n_informative=20, n_classes=3, random_state=0)
    yield "synthetic 500x2000", X, y


def solvers(C):
    yield "SpredClassifier", SpredClassifier(C=C, random_state=0)
    yield "saga (default tol)", LogisticRegression(C=C, l1_ratio=1, solver="saga", max_iter=1000)
    yield "saga tol=1e-8", LogisticRegression(C=C, l1_ratio=1, solver="saga", tol=1e-8, max_iter=100_000)


def fit(est, X, y):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        t = time.process_time()
        est.fit(X, y)
        t = time.process_time() - t
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return t, converged


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="C = 0.1 only")
    args = ap.parse_args()
    Cs = [0.1] if args.quick else [0.1, 1.0]
    print(f"{'data':20s} {'C':>4s}  {'solver':20s} {'CPU s':>7s}  {'converged':9s} {'rel. gap':>9s} {'nnz':>5s}")
    with threadpool_limits(1):
        for name, X, y in datasets():
            for C in Cs:
                rows = []
                for label, est in solvers(C):
                    t, ok = fit(est, X, y)
                    rows.append((label, t, ok, objective(est, X, y, C), int(np.count_nonzero(est.coef_))))
                best = min(r[3] for r in rows)
                for label, t, ok, f, nnz in rows:
                    gap = (f - best) / abs(best)
                    print(f"{name:20s} {C:4g}  {label:20s} {t:7.2f}  {'yes' if ok else 'NO':9s} {gap:9.1e} {nnz:5d}",
                          flush=True)


if __name__ == "__main__":
    main()
