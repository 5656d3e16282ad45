"""
==========================================================
The selector in a Pipeline, tuned by GridSearchCV
==========================================================

:class:`~skproj.SparseAutoencoderSelector` is a scikit-learn transformer: it goes inside a
``Pipeline`` (here between a ``StandardScaler`` and the ``LogisticRegression`` that uses the
selected genes) and its ``radius`` is tuned like any other hyper-parameter. A callable scorer
records how many genes each setting keeps, next to the accuracy, so that the trade-off is
visible. The radius bounds the l1,inf norm of the first layer: a smaller ball keeps fewer genes.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skproj import SparseAutoencoderSelector
from skproj.datasets import load_pbmc68k

X, y = load_pbmc68k(return_X_y=True)

pipe = Pipeline([
    ("scale", StandardScaler()),
    ("select", SparseAutoencoderSelector(max_epochs=15, random_state=0)),
    ("classify", LogisticRegression(max_iter=2000)),
])


def n_genes(estimator, X, y):
    """A 'score' that is the number of genes the fitted selector kept."""
    return int(estimator.named_steps["select"].get_support().sum())


radii = [0.1, 0.3, 0.8]
search = GridSearchCV(
    pipe,
    {"select__radius": radii},
    scoring={"accuracy": "accuracy", "n_genes": n_genes},
    refit="accuracy",
    cv=StratifiedKFold(3, shuffle=True, random_state=0),
)
search.fit(X, y)
print("best radius:", search.best_params_["select__radius"])
print("genes kept by the refitted pipeline:", search.best_estimator_.named_steps["select"].get_support().sum())
for r, acc, sd, k in zip(radii, search.cv_results_["mean_test_accuracy"], search.cv_results_["std_test_accuracy"],
                         search.cv_results_["mean_test_n_genes"]):
    print(f"radius {r:4.2f}: accuracy {acc:.3f} +/- {sd:.3f} with {k:5.1f} genes")

# %%
# Accuracy and number of genes along the grid
# -------------------------------------------

res = search.cv_results_
fig, ax = plt.subplots(figsize=(7, 4.5))
ax.errorbar(res["mean_test_n_genes"], res["mean_test_accuracy"], yerr=res["std_test_accuracy"],
            fmt="o-", capsize=4)
for r, k, acc in zip(radii, res["mean_test_n_genes"], res["mean_test_accuracy"]):
    ax.annotate(f"radius {r:g}", (k, acc), textcoords="offset points", xytext=(8, 6), fontsize=9)
ax.set(xlabel="genes kept (mean over folds)", ylabel="3-fold CV accuracy",
       title="SparseAutoencoderSelector in a Pipeline + GridSearchCV")
ax.grid(alpha=0.3)
fig.tight_layout()
plt.show()
