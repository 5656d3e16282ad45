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
# Left: test accuracy of each method (mean and std over the folds as the error bar, each fold
# a dot), with the number of genes it used. Right: how often each of the top genes of the autoencoder was kept
# across the folds, by the autoencoder and by the L1-logistic baseline.

labels = {
    "autoencoder+logreg": "autoencoder genes\n-> logreg",
    "autoencoder": "autoencoder\n(own predictions)",
    "l1_logreg+logreg": "L1-logistic genes\n-> logreg",
    "all_features+logreg": "all genes\n-> logreg",
}
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5.2), width_ratios=[1, 1.1])
for i, (key, m) in enumerate(report["methods"].items()):
    k, acc = m["n_selected"]["mean"], m["accuracy"]
    ax1.errorbar(i, acc["mean"], yerr=acc["std"], fmt="o", ms=8, capsize=5, color=f"C{i}")
    ax1.scatter(np.full(len(acc["folds"]), i + 0.15), acc["folds"], s=14, color=f"C{i}", alpha=0.6)
    ax1.annotate(f"{acc['mean']:.3f}\n{k:.0f} genes", (i, acc["mean"]), textcoords="offset points",
                 xytext=(-48, -6), fontsize=9)
ax1.set_xticks(range(len(labels)), list(labels.values()), fontsize=9)
ax1.set_xlim(-0.7, len(labels) - 0.4)
ax1.set(ylabel="test accuracy (mean, std; dots: folds)", title=f"{args.cv}-fold CV on PBMC (700 cells x 765 genes)")
ax1.grid(alpha=0.3, axis="y")

top = report["top_features"][:15]
pos = np.arange(len(top))
ax2.barh(pos - 0.2, [t["autoencoder_frequency"] for t in top], height=0.4, label="SparseAutoencoderSelector")
ax2.barh(pos + 0.2, [t["l1_logreg_frequency"] for t in top], height=0.4, label="L1-logistic (same k)")
ax2.set_yticks(pos, [t["name"] for t in top])
ax2.invert_yaxis()
ax2.set(xlim=(0, 1.05), xlabel=f"selection frequency across {args.cv} folds", title="Top genes (stability)")
ax2.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2)
fig.tight_layout()
plt.show()
