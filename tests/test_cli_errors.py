"""``skproj select`` on inputs it cannot use: one ``error:`` line on stderr naming the file or
the option and the reason, exit code 2, no traceback and no file written."""

import subprocess
import sys

import numpy as np
import pytest

from skproj.cli import main

FAST = ["--cv", "2", "--epochs", "2", "--quiet", "--baselines", "anova", "--n-features", "5"]


def _error(capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def _write_counts_h5ad(path, n_cells=200, n_genes=300):
    anndata = pytest.importorskip("anndata")
    pd = pytest.importorskip("pandas")
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    y = np.repeat(np.array(list("ABCD")), n_cells // 4)
    X = rng.poisson(1.0, size=(n_cells, n_genes)).astype(np.float32)
    for c, name in enumerate("ABCD"):
        X[y == name, 5 * c:5 * c + 5] += rng.poisson(6, size=((y == name).sum(), 5))
    obs = pd.DataFrame({"cell_type": pd.Categorical(y)}, index=[f"c{i}" for i in range(n_cells)])
    var = pd.DataFrame(index=[f"G{j}" for j in range(n_genes)])
    anndata.AnnData(sp.csr_matrix(X), obs=obs, var=var).write_h5ad(path)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".npz", ".h5ad"])
def test_unreadable_file_says_why(tmp_path, capsys, monkeypatch, suffix):
    """A file the user may not read (a traceback from open() or Path.exists() before; .npz
    said "not a zip archive"): the operating system's reason, for every file type."""
    import skproj._tables as tables

    path = tmp_path / f"cells{suffix}"
    path.write_bytes(b"x")

    def deny(file, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(file))

    monkeypatch.setattr(tables, "open", deny, raising=False)
    line = _error(capsys, ["select", str(path), "--target", "label"])
    assert line == f"error: {path}: cannot be read (Permission denied)."


def test_h5ad_locked_by_another_process(tmp_path, capsys):
    """HDF5's file lock (an AnnData object opened with mode 'r+' in a notebook): said so, with
    the way out (it was "not a readable .h5ad file (BlockingIOError)")."""
    h5py = pytest.importorskip("h5py")
    path = _write_counts_h5ad(tmp_path / "cells.h5ad", 40, 20)
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import h5py, sys, time; f = h5py.File({str(path)!r}, 'r+'); "
                               "print('open', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        try:
            with h5py.File(path, "r"):
                locked = False
        except OSError:
            locked = True
        if not locked:
            pytest.skip("HDF5 file locking is off here (HDF5_USE_FILE_LOCKING)")
        line = _error(capsys, ["select", str(path), "--target", "cell_type"])
        assert "locked by another process" in line and "HDF5_USE_FILE_LOCKING=FALSE" in line
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)


def test_diverged_training_is_a_one_line_error(tmp_path, capsys):
    """--learning-rate 1e12 on counts: the training diverges; it was a ValueError traceback
    ("W contains NaN") from inside the cross-validation."""
    path = _write_counts_h5ad(tmp_path / "cells.h5ad")
    line = _error(capsys, ["select", str(path), "--target", "cell_type", *FAST, "--learning-rate", "1e12",
                           "--output", str(tmp_path / "r.json")])
    assert line.startswith("error: --learning-rate 1e+12: the training diverged")
    assert "lower --learning-rate" in line
    assert not (tmp_path / "r.json").exists()


def test_output_named_as_a_missing_directory(tmp_path, capsys, monkeypatch):
    """``-o newdir/`` (the folder does not exist) wrote a file named newdir."""
    monkeypatch.chdir(tmp_path)
    line = _error(capsys, ["select", *FAST, "--output", "newdir/"])
    assert line == "error: --output newdir/: names a directory, which does not exist; give a file name."
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name, header, message", [
    ("semi.csv", "id;label;G0;G1", "has ';' separators and no ',': save the table comma-separated, "
                                    "or tab-separated as .tsv."),
    ("tabs.csv", "id\tlabel\tG0\tG1", "has tab separators and no ',': name the file .tsv, or save "
                                      "it comma-separated."),
    ("commas.tsv", "id,label,G0,G1", "has ',' separators and no tab: name the file .csv, or save it "
                                     "tab-separated."),
])
def test_table_with_another_separator(tmp_path, capsys, name, header, message):
    """A European spreadsheet's ';'-separated export saved as .csv gave "no column named
    'label' (columns: id;label;G0;...)" with the whole header (80 KB at 5,000 genes), or
    "field larger than field limit" at 20,000 genes."""
    sep = header[2]
    body = "\n".join(sep.join([f"s{i}", "ab"[i % 2], str(i), str(2 * i)]) for i in range(6))
    path = tmp_path / name
    path.write_text(header + "\n" + body + "\n")
    assert _error(capsys, ["select", str(path), "--target", "label"]) == f"error: {path}: the header line {message}"


def test_long_column_names_are_cut_in_messages(tmp_path, capsys):
    path = tmp_path / "t.csv"
    long = "x" * 500
    path.write_text(f"id,{long},G0\na,1,2\nb,2,3\n")
    line = _error(capsys, ["select", str(path), "--target", "label"])
    assert "no column named 'label'" in line and long not in line and "x" * 37 + "..." in line


@pytest.mark.parametrize("shape, extra", [((10, 0), []), ((0, 5), []), ((0, 5), ["--drop-missing"])])
def test_h5ad_without_cells_or_genes(tmp_path, capsys, shape, extra):
    """It said "--n-features 1 exceeds the 0 features" (an option never given) or "every label
    is missing" (none was: there were no cells)."""
    anndata = pytest.importorskip("anndata")
    pd = pytest.importorskip("pandas")
    import scipy.sparse as sp

    obs = pd.DataFrame({"ct": pd.Categorical((["a", "b"] * 5)[: shape[0]])},
                       index=[f"c{i}" for i in range(shape[0])])
    var = pd.DataFrame(index=[f"g{j}" for j in range(shape[1])])
    path = tmp_path / "empty.h5ad"
    anndata.AnnData(sp.csr_matrix(np.zeros(shape, np.float32)), obs=obs, var=var).write_h5ad(path)
    line = _error(capsys, ["select", str(path), "--target", "ct", *extra])
    assert line == f"error: {path}: no cells or no genes (X has shape {shape})."
