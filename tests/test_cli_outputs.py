"""What ``skproj select`` records for reuse and reproduction: the k selected genes in the gene
list and the report, the command, versions and input file in the report, the report in the
``.h5ad`` copy's ``uns``; and the messages of the options that build the autoencoder."""

import csv
import json
import os

import numpy as np
import pytest

from skproj.cli import main
from skproj.datasets import make_single_cell_counts

FAST = ["--cv", "2", "--epochs", "3", "--quiet", "--baselines", "anova,wilcoxon"]


@pytest.fixture(scope="module")
def symbols_h5ad(tmp_path_factory):
    anndata = pytest.importorskip("anndata")
    pd = pytest.importorskip("pandas")
    X, y, _ = make_single_cell_counts(90, 40, n_cell_types=3, density=0.3, n_markers_per_type=3,
                                      random_state=0)
    obs = pd.DataFrame({"cell_type": pd.Categorical(np.array(["A", "B", "C"])[y])},
                       index=[f"c{i}" for i in range(90)])
    var = pd.DataFrame({"symbol": [f"SYM{j}" for j in range(40)]}, index=[f"ENSG{j:05d}" for j in range(40)])
    path = tmp_path_factory.mktemp("out") / "cells.h5ad"
    anndata.AnnData(X, obs=obs, var=var).write_h5ad(path)
    return path


def test_outputs_name_the_k_selected_genes_and_how_they_were_made(symbols_h5ad, tmp_path, capsys):
    anndata = pytest.importorskip("anndata")
    report, genes, copy = tmp_path / "r.json", tmp_path / "g.csv", tmp_path / "sel.h5ad"
    argv = ["select", str(symbols_h5ad), "--target", "cell_type", "--gene-names", "symbol", *FAST,
            "--n-features", "5", "-o", str(report), "--genes", str(genes), "--write-h5ad", str(copy)]
    assert main(argv) == 0, capsys.readouterr().err
    r = json.loads(report.read_text())
    # the gene list: a selected column (the first k of the ranking) and the var_names
    with open(genes, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["gene", "rank", "selection_frequency", "importance", "selected", "var_name"]
    selected = [row["gene"] for row in rows if row["selected"] == "True"]
    assert selected == [row["gene"] for row in rows[:5]] and len(selected) == 5
    assert all(row["selected"] == "False" for row in rows[5:])
    assert all(row["var_name"] == f"ENSG{int(row['gene'][3:]):05d}" for row in rows)
    # the report: every selector's k features; the command, versions and input file
    assert r["selected_features"]["autoencoder"] == selected
    assert set(r["selected_features"]) == {"autoencoder", "anova", "wilcoxon"}
    assert all(len(v) == 5 for v in r["selected_features"].values())
    assert r["command"] == ["skproj", *argv]
    assert {"python", "skproj", "numpy", "scipy", "scikit-learn", "anndata"} <= set(r["versions"])
    d = r["data"]
    assert d["path"] == os.path.abspath(symbols_h5ad) and d["size_bytes"] == os.path.getsize(symbols_h5ad)
    assert d["layer"] is None and d["normalized"] is False and d["gene_names"] == "symbol"
    assert r["created"].endswith("+00:00")
    # the copy: the same report in uns, and the selected genes
    uns = anndata.read_h5ad(copy).uns["skproj"]
    assert json.loads(uns["report"])["selected_features"] == r["selected_features"]
    assert list(uns["selected"]) == selected


def test_activation_error_names_the_option(capsys):
    # it named the estimator's parameter, with the choices in a varying order
    assert main(["select", "--activation", "bogus", "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --activation: ") and "'relu', 'silu', 'tanh'" in err
