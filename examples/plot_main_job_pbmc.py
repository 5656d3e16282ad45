"""
=====================================================
The main job: gene selection on the PBMC data
=====================================================

``skproj select`` cross-validates ``Pipeline(StandardScaler(), SparseAutoencoderSelector())``
on the embedded PBMC single-cell data (700 cells x 765 genes, 10 cell types) and compares its
genes with the usual baseline: an L1-penalised logistic regression (``SelectFromModel``)
keeping as many genes in the same fold. Both gene sets are scored by the same downstream
``LogisticRegression``.

This example runs the command's own protocol from Python
(``skproj.cli.run_selection``, the function behind ``skproj select``), with 3 folds and 30
epochs instead of 5 folds and 60 epochs so that it runs in well under a minute. The command
line equivalent is ``skproj select --cv 3 --epochs 30``.
"""

import matplotlib.pyplot as plt
import numpy as np

from skproj.cli import build_parser, format_report, load_data, run_selection


class QuietProgress:
    """The progress reporter run_selection expects, silent."""

    def log(self, message):
        pass

    def advance(self, description=""):
        pass


args = build_parser().parse_args(["select", "--cv", "3", "--epochs", "30"])
dataset = load_data(None)  # None: the embedded PBMC data, skproj.datasets.load_pbmc68k
report = run_selection(dataset, args, QuietProgress())

# %%
# The report, as the command prints it
# ------------------------------------
# Accuracy is the mean +/- std over the folds of the downstream logistic regression's test
# accuracy; "features" the number of genes kept.

print(format_report(report, top=10))

# %%
# Genes and accuracy against the baseline
# ---------------------------------------
# Left: test accuracy (each fold a dot, mean and std as the error bar) against the number of
# genes each method used. Right: how often each of the top genes of the autoencoder was kept
# across the folds, by the autoencoder and by the L1-logistic baseline.

labels = {
    "autoencoder+logreg": "autoencoder genes -> logreg",
    "autoencoder": "autoencoder (own predictions)",
    "l1_logreg+logreg": "L1-logistic genes -> logreg",
    "all_features+logreg": "all genes -> logreg",
}
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.8), width_ratios=[1, 1.1])
for i, (key, m) in enumerate(report["methods"].items()):
    k, acc = m["n_selected"]["mean"], m["accuracy"]
    ax1.errorbar(k, acc["mean"], yerr=acc["std"], fmt="o", capsize=4, color=f"C{i}", label=labels[key])
    ax1.scatter(np.full(len(acc["folds"]), k), acc["folds"], s=12, color=f"C{i}", alpha=0.5)
ax1.set_xscale("log")
ax1.set(xlabel="number of genes (log scale)", ylabel="test accuracy",
        title=f"{args.cv}-fold CV on PBMC (700 cells x 765 genes)")
ax1.legend(fontsize=8, loc="lower right")
ax1.grid(alpha=0.3)

top = report["top_features"][:15]
pos = np.arange(len(top))
ax2.barh(pos - 0.2, [t["autoencoder_frequency"] for t in top], height=0.4, label="SparseAutoencoderSelector")
ax2.barh(pos + 0.2, [t["l1_logreg_frequency"] for t in top], height=0.4, label="L1-logistic (same k)")
ax2.set_yticks(pos, [t["name"] for t in top])
ax2.invert_yaxis()
ax2.set(xlim=(0, 1.05), xlabel=f"selection frequency across {args.cv} folds", title="Top genes (stability)")
ax2.legend(fontsize=8, loc="lower right")
fig.tight_layout()
plt.show()
