"""What ``skproj select`` records for reuse and reproduction: the k selected genes in the gene
list and the report, the command, versions and input file in the report, the report in the
``.h5ad`` copy's ``uns``; and the messages of the options that build the autoencoder."""

import csv
import json
import os
import subprocess
import sys

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


def test_drop_missing_and_min_class_size(tmp_path, capsys):
    """Cells without a label and classes smaller than the folds stopped the run: the user had
    to edit the file first."""
    anndata = pytest.importorskip("anndata")
    pd = pytest.importorskip("pandas")
    X, y, _ = make_single_cell_counts(60, 20, n_cell_types=2, density=0.3, random_state=0)
    labels = np.array(["T", "B"], dtype=object)[y]
    labels[[3, 7]] = None  # missing
    labels[[10, 11]] = "Rare"  # a class of 2
    obs = pd.DataFrame({"cell_type": pd.Categorical(labels)}, index=[f"c{i}" for i in range(60)])
    path = tmp_path / "messy.h5ad"
    anndata.AnnData(X, obs=obs).write_h5ad(path)
    base = ["select", str(path), "--target", "cell_type", *FAST, "--n-features", "3",
            "--genes", str(tmp_path / "g.csv")]
    assert main(base) == 2
    assert "--drop-missing" in capsys.readouterr().err
    assert main([*base, "--drop-missing", "--cv", "3"]) == 2
    assert "class 'Rare' has 2 cell(s), fewer than --cv 3;" in capsys.readouterr().err
    report = tmp_path / "r.json"
    assert main([*base, "--drop-missing", "--cv", "3", "--min-class-size", "3", "-o", str(report)]) == 0
    err = capsys.readouterr().err
    assert "note: 2 cells with a missing label left out (--drop-missing)." in err
    assert "note: 1 classes with fewer than 3 cells left out (--min-class-size): 'Rare' (2)." in err
    d = json.loads(report.read_text())["data"]
    assert d["n_samples"] == 56 and sorted(d["classes"]) == ["B", "T"] and len(d["notes"]) == 2


@pytest.mark.parametrize("suffix", [".csv", ".npz"])
def test_drop_missing_in_tables_and_arrays(tmp_path, suffix):
    from skproj._tables import InputError, load_data

    rng = np.random.default_rng(0)
    X = rng.random((8, 3))
    y = np.array(["a", "b", "NA", "a", "b", "", "a", "b"])
    path = tmp_path / f"d{suffix}"
    if suffix == ".csv":
        path.write_text("f0,f1,f2,label\n" + "".join(f"{r[0]},{r[1]},{r[2]},{lab}\n" for r, lab in zip(X, y)))
    else:
        np.savez(path, X=X, y=y)
    with pytest.raises(InputError, match="drop-missing"):
        load_data(str(path), target="label" if suffix == ".csv" else None)
    d = load_data(str(path), target="label" if suffix == ".csv" else None, drop_missing=True)
    keep = ~np.isin(y, ["NA", ""])
    np.testing.assert_allclose(d.X, X[keep])
    assert list(d.y) == list(y[keep]) and d.notes[-1] == "2 samples with a missing label left out (--drop-missing)."


def test_no_reference_leaves_out_the_all_features_fit(tmp_path, capsys):
    report = tmp_path / "r.json"
    assert main(["select", "--epochs", "2", "--cv", "2", "--baselines", "anova", "--no-reference",
                 "-q", "-o", str(report)]) == 0
    out = capsys.readouterr().out
    assert "all features" not in out and "F-test" in out
    methods = json.loads(report.read_text())["methods"]
    assert set(methods) == {"autoencoder+logreg", "autoencoder", "anova+logreg"}


def test_drop_missing_messages_when_nothing_is_left(tmp_path):
    from skproj._tables import InputError, load_data

    path = tmp_path / "d.npz"
    np.savez(path, X=np.ones((3, 2)), y=np.array([np.nan, 1.0, 2.0]))
    with pytest.raises(InputError, match=r"contains NaN or inf \(--drop-missing leaves NaN labels out\)"):
        load_data(str(path))
    assert load_data(str(path), drop_missing=True).y.tolist() == ["1.0", "2.0"]
    np.savez(path, X=np.ones((2, 2)), y=np.array(["NA", ""]))
    with pytest.raises(InputError, match="every label in 'y' is missing"):
        load_data(str(path), drop_missing=True)
    csv_path = tmp_path / "d.csv"
    csv_path.write_text("a,label\n1,NA\n2,\n")
    with pytest.raises(InputError, match="every label in column 'label' is missing"):
        load_data(str(csv_path), target="label", drop_missing=True)


def test_a_comparison_without_the_newer_fields_still_reports(tmp_path):
    """A SelectionComparison made by an earlier version (or by hand) has no selection times or
    balanced scores: to_dict and to_frame give NaN for them (they raised KeyError)."""
    import dataclasses

    from sklearn.feature_selection import SelectKBest

    from skproj.model_selection import compare_selectors

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 6)), np.repeat([0, 1], 20)
    res = compare_selectors(X, y, {"kbest": SelectKBest(k=2)}, cv=2, random_state=0)
    old = dataclasses.replace(res, selection_times={}, balanced_scores={}, own_balanced_scores={})
    d = old.to_dict()["kbest"]
    assert np.isnan(d["balanced_accuracy"]["mean"]) and np.isnan(d["selection_time_s"]["mean"])
    assert d["accuracy"] == res.to_dict()["kbest"]["accuracy"]
    pytest.importorskip("pandas")
    assert old.to_frame()["balanced_accuracy"].isna().all()


def test_default_gene_list_goes_beside_the_report(symbols_h5ad, tmp_path, monkeypatch, capsys):
    """With -o in another folder, the default gene list of a .h5ad input is written there (the
    run's outputs together), not in the current folder; without -o, in the current folder."""
    here, results = tmp_path / "here", tmp_path / "results"
    here.mkdir()
    results.mkdir()
    monkeypatch.chdir(here)
    argv = ["select", str(symbols_h5ad), "--target", "cell_type", *FAST, "--n-features", "4"]
    assert main([*argv, "-o", str(results / "r.json")]) == 0, capsys.readouterr().err
    assert sorted(p.name for p in results.iterdir()) == ["cells_skproj_genes.csv", "r.json"]
    assert list(here.iterdir()) == []
    with open(results / "cells_skproj_genes.csv", newline="") as fh:
        assert sum(row["selected"] == "True" for row in csv.DictReader(fh)) == 4
    assert main(argv) == 0, capsys.readouterr().err
    assert [p.name for p in here.iterdir()] == ["cells_skproj_genes.csv"]


def test_verbose_lines_of_parallel_fits_go_to_stderr(tmp_path):
    """With --n-jobs 2 the fits run in joblib worker processes: their --verbose epoch lines go to
    stderr like the rest of the progress, and stdout holds the results only (they went to stdout)."""
    proc = subprocess.run(
        [sys.executable, "-m", "skproj", "select", "--cv", "2", "--epochs", "2", "--n-features", "10",
         "--baselines", "anova", "--verbose", "--n-jobs", "2"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "epoch" not in proc.stdout and "Top features" in proc.stdout
    epoch = [ln for ln in proc.stderr.splitlines() if "epoch" in ln]
    # each line says which fit it comes from (the two workers' lines interleave)
    assert all(ln.startswith(("[fold 1/2 autoencoder] [", "[fold 2/2 autoencoder] [")) for ln in epoch)
    for fold in ("[fold 1/2 autoencoder] ", "[fold 2/2 autoencoder] "):
        assert any(ln.startswith(fold) and "epoch 1:" in ln for ln in epoch)


def test_stdout_to_stderr_covers_child_processes_and_restores(capfd):
    """During the run, descriptor 1 itself points at stderr (a child process inherits it, even
    when sys.stdout is another file, as under pytest's capture), and it is restored after."""
    from skproj.cli import _stdout_to_stderr

    print("before", flush=True)
    with _stdout_to_stderr():
        print("inside")
        subprocess.run([sys.executable, "-c", "print('child')"], check=True)
    print("after", flush=True)
    subprocess.run([sys.executable, "-c", "print('child after')"], check=True)
    out, err = capfd.readouterr()
    assert out == "before\nafter\nchild after\n"
    assert "inside" in err and "child" in err


def test_stdout_closed_early_still_writes_every_output(tmp_path):
    """``skproj select ... | head -1``: the pipe closes after the first line; the rest of the
    results is dropped but the files asked for are written, and the exit code is 0 (the command
    stopped at the first line it could not print, and some or all files were missing)."""
    X, y, _ = make_single_cell_counts(60, 30, n_cell_types=2, density=0.3, n_markers_per_type=3,
                                      random_state=0)
    data = tmp_path / "cells.npz"
    np.savez(data, X=X.toarray(), y=y)
    proc = subprocess.Popen(
        [sys.executable, "-m", "skproj", "select", str(data), *FAST, "--n-features", "5",
         "--output", "r.json", "--genes", "g.csv"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
    )
    proc.stdout.close()   # as `| true` does: nothing is ever read
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=600) == 0, err
    assert "Traceback" not in err
    assert json.loads((tmp_path / "r.json").read_text())["n_features_to_select"] == 5
    with open(tmp_path / "g.csv", newline="") as fh:
        assert sum(row["selected"] == "True" for row in csv.DictReader(fh)) == 5
