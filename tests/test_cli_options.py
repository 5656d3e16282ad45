"""Tests of the ``skproj select`` options that build the autoencoder (skproj.cli._make_selector)
and of option spellings, without a whole run (those are in test_cli.py)."""

import numpy as np


def test_baseline_max_samples_none_means_whole_folds():
    from skproj.cli import DEFAULT_BASELINE_MAX_SAMPLES, build_parser

    parse = build_parser().parse_args
    assert parse(["select", "--baseline-max-samples", "none"]).baseline_max_samples == 0
    assert parse(["select"]).baseline_max_samples == DEFAULT_BASELINE_MAX_SAMPLES == 2_000


def test_constraint_option_spellings():
    from skproj.cli import _make_selector, build_parser

    def selector(*opts):
        return _make_selector(build_parser().parse_args(["select", *opts]), 10)

    none = selector("--constraint", "none")
    assert none.constraint is None and none.radius == float("inf")  # no ball at all
    # asked for k by max_features: n_features_to_select would bring the searched ball back
    assert none.n_features_to_select is None and none.max_features == 10
    assert selector("--constraint", "l11").constraint == "l1"  # old spelling, one norm
    assert selector("--constraint", "l12").constraint == "l12"
    assert selector().n_features_to_select == 10


def test_constraint_none_trains_without_a_ball():
    """``--constraint none`` fits the autoencoder with no ball (no radius_) and keeps k features,
    unlike the default, whose radius is searched (it once ran the default under another name)."""
    from sklearn.datasets import make_classification

    from skproj.cli import _make_selector, build_parser

    X, y = make_classification(120, 30, n_informative=4, random_state=0)
    parse = build_parser().parse_args
    none = _make_selector(parse(["select", "--epochs", "5", "--constraint", "none"]), 5).fit(X, y)
    ball = _make_selector(parse(["select", "--epochs", "5"]), 5).fit(X, y)
    assert none.radius_ is None and np.isfinite(ball.radius_)
    assert none.get_support().sum() == ball.get_support().sum() == 5



def test_help_shows_the_estimator_defaults(capsys):
    import inspect

    from skproj import SparseAutoencoderSelector
    from skproj.cli import main

    assert main(["select", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    defaults = inspect.signature(SparseAutoencoderSelector).parameters
    assert f"(default: the estimator's, {defaults['max_epochs'].default};" in out
    assert f"(default: the estimator's, {defaults['hidden_layer_size'].default})" in out
    assert f"(default: the estimator's, {defaults['learning_rate'].default:g})" in out


def test_plot_format_follows_the_extension(capsys, tmp_path):
    """``--plot fig.pdf`` writes a PDF (it once wrote PNG bytes under any name); an extension
    matplotlib cannot write is refused before the run."""
    import pytest

    pytest.importorskip("matplotlib")
    from skproj.cli import main

    rng = np.random.default_rng(0)
    y = np.repeat(["a", "b"], 20)
    X = rng.standard_normal((40, 6)) + 2.0 * (y == "a")[:, None] * (np.arange(6) < 2)
    data = tmp_path / "data.csv"
    rows = ["g0,g1,g2,g3,g4,g5,label"] + [",".join(map(repr, r)) + f",{c}" for r, c in zip(X.tolist(), y)]
    data.write_text("\n".join(rows) + "\n")
    fast = ["--target", "label", "--cv", "2", "--epochs", "2", "--quiet", "--n-features", "2",
            "--baselines", "anova"]
    for name, magic in (("fig.pdf", b"%PDF"), ("fig.svg", b"<?xml"), ("fig", b"\x89PNG")):
        assert main(["select", str(data), *fast, "--plot", str(tmp_path / name)]) == 0
        assert (tmp_path / name).read_bytes()[:len(magic)] == magic, name
    capsys.readouterr()
    for bad in ("fig.docx", "fig.pgf"):  # pgf needs LaTeX when saving: refused before the run too
        assert main(["select", str(data), *fast, "--plot", str(tmp_path / bad)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: --plot") and bad[3:] in err and ".pdf" in err
        assert not (tmp_path / bad).exists()


def test_gene_names_option_reports_a_var_column(capsys, tmp_path):
    """``--gene-names feature_name``: the printed table, the gene list and the JSON report use
    the symbols of that var column instead of the Ensembl ids of var_names."""
    import json

    import pytest

    anndata = pytest.importorskip("anndata")
    pd = pytest.importorskip("pandas")
    from skproj.cli import main
    from skproj.datasets import make_single_cell_counts

    X, y, _ = make_single_cell_counts(80, 30, n_cell_types=2, n_markers_per_type=3, random_state=0)
    var = pd.DataFrame({"feature_name": [f"SYM{j}" for j in range(30)]},
                       index=[f"ENSG{j:011d}" for j in range(30)])
    obs = pd.DataFrame({"cell_type": pd.Categorical(np.array(["T", "B"])[y])}, index=[f"c{i}" for i in range(80)])
    path = tmp_path / "cells.h5ad"
    anndata.AnnData(X, obs=obs, var=var).write_h5ad(path)
    genes, report = tmp_path / "genes.csv", tmp_path / "r.json"
    argv = ["select", str(path), "--target", "cell_type", "--cv", "2", "--epochs", "2", "--n-features", "3",
            "--baselines", "anova", "--genes", str(genes), "-o", str(report)]
    assert main(argv + ["--gene-names", "feature_name"]) == 0
    out = capsys.readouterr().out
    listed = [line.split(",")[0] for line in genes.read_text().splitlines()[1:]]
    assert listed and all(g.startswith("SYM") for g in listed)
    assert "SYM" in out and "ENSG" not in out
    assert json.loads(report.read_text())["data"]["gene_names"] == "feature_name"
    assert main(argv + ["--gene-names", "symbol"]) == 2
    assert "var has no column 'symbol'" in capsys.readouterr().err
    assert main(["select", "--gene-names", "feature_name"]) == 2  # the embedded data: no var
    assert "--gene-names" in capsys.readouterr().err


def test_a_note_says_when_a_selector_keeps_fewer_than_asked(capsys, tmp_path):
    """All-zero features are never selected: asked for every feature, the autoencoder keeps the
    informative ones, and stderr says why the table shows fewer than k."""
    from skproj.cli import main

    rng = np.random.default_rng(0)
    y = np.repeat(["a", "b"], 20)
    X = np.zeros((40, 6))
    X[:, :3] = rng.standard_normal((40, 3)) + 2.0 * (y == "a")[:, None]
    data = tmp_path / "data.csv"
    rows = ["g0,g1,g2,z3,z4,z5,label"] + [",".join(map(repr, r)) + f",{c}" for r, c in zip(X.tolist(), y)]
    data.write_text("\n".join(rows) + "\n")
    assert main(["select", str(data), "--target", "label", "--cv", "2", "--epochs", "2", "--quiet",
                 "--n-features", "6", "--baselines", "anova"]) == 0
    err = capsys.readouterr().err
    assert "note: autoencoder kept fewer features than the 6 asked for in 2 of 2 folds (as few as 3)" in err
    assert "anova kept" not in err  # SelectKBest keeps k whatever the features hold
