"""Tests of the ``skproj`` command (skproj.cli.main and ``python -m skproj``)."""

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest

from skproj.cli import main
from skproj.datasets import load_pbmc68k, make_sparse_classification

# Few epochs, 2 folds: the end-to-end runs test the plumbing, not the accuracy.
FAST = ["--cv", "2", "--epochs", "2", "--quiet"]


def run(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def assert_usage_error(capsys, argv, *fragments):
    code, out, err = run(capsys, argv)
    assert code == 2, (code, out, err)
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    for frag in fragments:
        assert frag in lines[0], (frag, lines[0])
    return lines[0]


BASELINES = ["l1_logistic", "anova", "random_forest", "wilcoxon"]


def check_report(report, n_samples, n_features, n_splits, feature_names, k, baselines=BASELINES):
    assert report["data"]["n_samples"] == n_samples
    assert report["data"]["n_features"] == n_features
    assert report["cv"]["n_splits"] == n_splits
    assert report["n_features_to_select"] == k
    assert sum(report["data"]["class_counts"]) == n_samples
    methods = report["methods"]
    assert list(methods) == ["autoencoder+logreg", "autoencoder",
                             *[f"{b}+logreg" for b in baselines], "all_features+logreg"]
    for m in methods.values():
        for key in ("accuracy", "n_selected", "fit_time_s"):
            folds = m[key]["folds"]
            assert len(folds) == n_splits
            assert m[key]["mean"] == pytest.approx(np.mean(folds))
            assert m[key]["std"] == pytest.approx(np.std(folds))
        assert all(0.0 <= a <= 1.0 for a in m["accuracy"]["folds"])
        assert all(t >= 0.0 for t in m["fit_time_s"]["folds"])
    ae = methods["autoencoder+logreg"]["n_selected"]["folds"]
    # every baseline is asked for exactly k features, fold by fold; the autoencoder for at most k
    for b in baselines:
        assert methods[f"{b}+logreg"]["n_selected"]["folds"] == [k] * n_splits
    assert methods["autoencoder"]["n_selected"]["folds"] == ae
    assert methods["all_features+logreg"]["n_selected"]["folds"] == [n_features] * n_splits
    assert all(0 <= n <= k for n in ae)
    # frequencies are multiples of 1 / n_splits; their sum is the mean number selected
    for name in ["autoencoder", *baselines]:
        freq = report["selection_frequency"][name]
        assert set(freq) <= set(feature_names)
        for f in freq.values():
            assert 0 < f <= 1 and abs(f * n_splits - round(f * n_splits)) < 1e-9
        n_sel = methods[f"{name}+logreg"]["n_selected"]["mean"]
        assert sum(freq.values()) == pytest.approx(n_sel)
    freq = report["selection_frequency"]["autoencoder"]
    top = report["top_features"]
    fs = [t["frequency"]["autoencoder"] for t in top]
    assert fs == sorted(fs, reverse=True)
    for t in top:
        for name in ["autoencoder", *baselines]:
            assert report["selection_frequency"][name].get(t["name"], 0.0) == t["frequency"][name]
    params = report["estimator"]["params"]
    assert params["random_state"] == report["cv"]["random_state"]
    # the autoencoder is asked for k features (n_features_to_select, else the max_features cap)
    assert params.get("n_features_to_select", params["max_features"]) == k


# ----------------------------------------------------------------------------------------
# end to end
# ----------------------------------------------------------------------------------------


def test_select_embedded_data(capsys, tmp_path):
    out_json = tmp_path / "report.json"
    code, out, err = run(
        capsys, ["select", *FAST, "--n-features", "30", "--top", "5", "--output", str(out_json)]
    )
    assert code == 0, err
    assert err == ""  # --quiet
    pbmc = load_pbmc68k()
    report = json.loads(out_json.read_text())
    check_report(report, 700, 765, 2, pbmc.feature_names, k=30)
    params = report["estimator"]["params"]
    assert params["max_epochs"] == 2
    assert params["n_features_to_select"] == 30  # the estimator finds the radius for k
    assert report["radius"] is None and "searches the radius" in report["autoencoder_selection"]
    assert report["data"]["classes"] == sorted(pbmc.target_names.tolist())
    # the printed summary
    assert "SparseAutoencoderSelector -> LogisticRegression" in out
    for label in ("L1-LogisticRegression SelectFromModel", "ANOVA F-test", "random-forest",
                  "Wilcoxon"):
        assert label in out
    assert "+/-" in out and "k = 30" in out and "best other selector" in out
    for t in report["top_features"][:5]:
        assert t["name"] in out
    assert len(report["top_features"]) <= 5


def test_select_progress_on_stderr(capsys):
    code, out, err = run(capsys, ["select", "--cv", "2", "--epochs", "1", "--n-features", "10",
                                  "--baselines", "anova"])
    assert code == 0
    assert "fold 1/2" in err and "fold 2/2" in err
    assert "fold 1/2" not in out


def test_python_m_skproj(tmp_path):
    out_json = tmp_path / "r.json"
    proc = subprocess.run(
        [sys.executable, "-m", "skproj", "select", *FAST, "--n-features", "10",
         "--baselines", "wilcoxon", "--output", str(out_json)],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Top features" in proc.stdout
    assert json.loads(out_json.read_text())["data"]["n_samples"] == 700


def _write_table(path, X, y, names, sep=",", id_column=True):
    header = (["sample"] if id_column else []) + list(names) + ["label"]
    lines = [sep.join(header)]
    for i, (row, label) in enumerate(zip(X, y)):
        cells = ([f"s{i}"] if id_column else []) + [repr(float(v)) for v in row] + [label]
        lines.append(sep.join(cells))
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def small_problem():
    X, y, support = make_sparse_classification(
        n_samples=80, n_features=12, n_informative=3, n_classes=2, class_sep=2.0, random_state=0
    )
    labels = np.where(y == 1, "tumour", "normal")
    names = [f"gene_{j}" for j in range(12)]
    return X, labels, names, support


@pytest.mark.parametrize("sep,suffix", [(",", ".csv"), ("\t", ".tsv")])
def test_select_table(capsys, tmp_path, small_problem, sep, suffix):
    X, labels, names, _ = small_problem
    path = tmp_path / f"data{suffix}"
    _write_table(path, X, labels, names, sep=sep)
    out_json = tmp_path / "report.json"
    code, out, err = run(
        capsys,
        ["select", str(path), "--target", "label", "--drop", "sample", *FAST,
         "--n-features", "4", "--output", str(out_json)],
    )
    assert code == 0, err
    report = json.loads(out_json.read_text())
    check_report(report, 80, 12, 2, names, k=4)
    assert report["data"]["classes"] == ["normal", "tumour"]
    assert report["data"]["class_counts"] == [int((labels == "normal").sum()),
                                              int((labels == "tumour").sum())]
    assert report["data"]["source"] == str(path)


def test_select_npz(capsys, tmp_path, small_problem):
    X, labels, names, _ = small_problem
    path = tmp_path / "data.npz"
    np.savez(path, X=X, cls=labels, feature_names=np.array(names))
    out_json = tmp_path / "report.json"
    code, out, err = run(
        capsys, ["select", str(path), "--target", "cls", *FAST, "--n-features", "4",
                 "--output", str(out_json)],
    )
    assert code == 0, err
    check_report(json.loads(out_json.read_text()), 80, 12, 2, names, k=4)
    # without feature names: x0, x1, ...
    np.savez(path, X=X, y=(labels == "tumour").astype(int))
    code, out, err = run(capsys, ["select", str(path), *FAST, "--n-features", "3",
                                  "--baselines", "anova,wilcoxon", "--output", str(out_json)])
    assert code == 0, err
    report = json.loads(out_json.read_text())
    check_report(report, 80, 12, 2, [f"x{j}" for j in range(12)], k=3,
                 baselines=["anova", "wilcoxon"])
    assert report["data"]["classes"] == ["0", "1"]


def test_select_plot(capsys, tmp_path, small_problem):
    pytest.importorskip("matplotlib")
    X, labels, names, _ = small_problem
    path = tmp_path / "data.csv"
    _write_table(path, X, labels, names, id_column=False)
    fig = tmp_path / "fig.png"
    code, out, err = run(capsys, ["select", str(path), "--target", "label", *FAST,
                                  "--n-features", "4", "--plot", str(fig)])
    assert code == 0, err
    assert fig.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    assert_usage_error(capsys, ["select", *FAST, "--plot", str(tmp_path / "f.png")],
                       "matplotlib", "not installed")
    assert not (tmp_path / "f.png").exists()


def test_help(capsys):
    code, out, err = run(capsys, ["select", "--help"])
    assert code == 0
    assert "--n-features" in out and "--target" in out and "--baselines" in out
    assert "radius is not searched" in " ".join(out.split())  # what --radius does
    code, out, err = run(capsys, [])
    assert code == 2 and "select" in err


# ----------------------------------------------------------------------------------------
# bad input: exit code 2, one line on stderr, no traceback
# ----------------------------------------------------------------------------------------


def _csv(tmp_path, text, name="bad.csv"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


GOOD_ROWS = "a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n9,1,x\n2,3,y\n"


def test_bad_missing_file(capsys, tmp_path):
    assert_usage_error(capsys, ["select", str(tmp_path / "nope.csv"), "--target", "y"],
                       "no such file")


def test_bad_directory(capsys, tmp_path):
    assert_usage_error(capsys, ["select", str(tmp_path)], "directory")


def test_bad_extension(capsys, tmp_path):
    assert_usage_error(capsys, ["select", _csv(tmp_path, GOOD_ROWS, "d.xlsx")],
                       "unsupported file type")


def test_bad_empty_file(capsys, tmp_path):
    assert_usage_error(capsys, ["select", _csv(tmp_path, ""), "--target", "label"], "empty")


def test_bad_header_only(capsys, tmp_path):
    assert_usage_error(capsys, ["select", _csv(tmp_path, "a,b,label\n"), "--target", "label"],
                       "no data rows")


def test_bad_ragged_row(capsys, tmp_path):
    assert_usage_error(capsys, ["select", _csv(tmp_path, "a,b,label\n1,2,x\n3,y\n"),
                                "--target", "label"], "line 3")


def test_bad_no_target_option(capsys, tmp_path):
    assert_usage_error(capsys, ["select", _csv(tmp_path, GOOD_ROWS)], "--target")


def test_bad_missing_target_column(capsys, tmp_path):
    assert_usage_error(capsys, ["select", _csv(tmp_path, GOOD_ROWS), "--target", "cell_type"],
                       "'cell_type'", "columns: a, b, label")


def test_bad_drop_column(capsys, tmp_path):
    assert_usage_error(capsys, ["select", _csv(tmp_path, GOOD_ROWS), "--target", "label",
                                "--drop", "zzz"], "'zzz'")


def test_bad_non_numeric_feature(capsys, tmp_path):
    text = GOOD_ROWS.replace("3,4,y", "3,high,y")
    assert_usage_error(capsys, ["select", _csv(tmp_path, text), "--target", "label"],
                       "non-numeric value 'high' in feature column 'b'", "line 3")  # not np.str_(...)


@pytest.mark.parametrize("cell", ["", "NA"])
def test_bad_missing_value(capsys, tmp_path, cell):
    text = GOOD_ROWS.replace("5,6,x", f"5,{cell},x")
    assert_usage_error(capsys, ["select", _csv(tmp_path, text), "--target", "label"],
                       "missing value", "'b'", "line 4")


@pytest.mark.parametrize("cell,kind", [("nan", "NaN"), ("inf", "inf")])
def test_bad_nan_inf(capsys, tmp_path, cell, kind):
    text = GOOD_ROWS.replace("7,8,y", f"{cell},8,y")
    assert_usage_error(capsys, ["select", _csv(tmp_path, text), "--target", "label"],
                       kind, "'a'")


def test_bad_missing_label(capsys, tmp_path):
    text = GOOD_ROWS.replace("3,4,y", "3,4,")
    assert_usage_error(capsys, ["select", _csv(tmp_path, text), "--target", "label"],
                       "missing label", "line 3")


@pytest.mark.parametrize("text,fragments", [
    ("a,b,label\n1,2,x\n\n\n3,4,y\n5,oops,x\n", ["'oops'", "line 6"]),   # blank lines skipped
    ("a,b,label\n1,2,x\n\n3,4\n", ["line 4 has 2 fields"]),
    ('a,b,label\n1,2,"x\ny"\n3,4,\n', ["missing label", "line 4"]),    # a quoted field on 2 lines
])
def test_bad_cell_lines_are_the_file_lines(capsys, tmp_path, text, fragments):
    assert_usage_error(capsys, ["select", _csv(tmp_path, text), "--target", "label"], *fragments)


@pytest.mark.parametrize("header,row", [(",a,b,label", "r{i},"), ('"",a,b,label', '"{i}",')])
def test_csv_unnamed_first_column_is_row_names(capsys, tmp_path, header, row):
    from skproj._tables import load_data  # pandas' to_csv() and R's write.csv write row names so

    rows = GOOD_ROWS.splitlines()[1:]
    path = _csv(tmp_path, header + "\n" + "".join(row.format(i=i) + r + "\n" for i, r in enumerate(rows)))
    code, out, err = run(capsys, ["select", path, "--target", "label", "--cv", "4"])
    assert code == 2 and err.splitlines() == [
        "note: the unnamed first column is taken as row names and ignored",
        "error: class 'x' has 3 sample(s), fewer than --cv 4; lower --cv or leave such classes out "
        "(--min-class-size 4)."]
    assert load_data(path, "label").feature_names.tolist() == ["a", "b"]
    assert_usage_error(capsys, ["select", _csv(tmp_path, "a,,label\n1,2,x\n", "u.csv"), "--target",
                                "label"], "column 2 has no name in the header")


def test_bad_one_class(capsys, tmp_path):
    text = GOOD_ROWS.replace(",y\n", ",x\n")
    assert_usage_error(capsys, ["select", _csv(tmp_path, text), "--target", "label"],
                       "1 class", "at least 2")


def test_bad_class_smaller_than_cv(capsys, tmp_path):
    text = GOOD_ROWS + "4,4,z\n"
    assert_usage_error(capsys, ["select", _csv(tmp_path, text), "--target", "label", "--cv", "2"],
                       "class 'z' has 1 sample(s)", "--cv 2")


def test_bad_class_smaller_than_cv_plain_str_labels(capsys):
    # the embedded labels are plain str (as those of a .h5ad): the message, no AttributeError
    assert_usage_error(capsys, ["select", "--cv", "9", "--epochs", "1", "--baselines", "none", "-q"],
                       "class 'CD4+/CD45RA+/CD25- Naive T' has 8 cell(s), fewer than --cv 9")


def test_bad_binary_csv(capsys, tmp_path):
    path = tmp_path / "bin.csv"
    path.write_bytes(b"\xff\xfe\x00\x81\x9f" * 20)
    assert_usage_error(capsys, ["select", str(path), "--target", "label"], "UTF-8")


def test_bad_npz_corrupt(capsys, tmp_path):
    assert_usage_error(capsys, ["select", _csv(tmp_path, GOOD_ROWS, "d.npz")],
                       "not a readable .npz")


def test_bad_npz_missing_keys(capsys, tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, data=np.zeros((4, 2)))
    assert_usage_error(capsys, ["select", str(path)], "'X'", "'y'")


def test_bad_npz_object_array(capsys, tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.zeros((4, 2)), y=np.array([1, "a", None, 2.0], dtype=object))
    assert_usage_error(capsys, ["select", str(path)], "Python objects")


def test_bad_npz_shapes(capsys, tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.zeros(4), y=np.arange(4))
    assert_usage_error(capsys, ["select", str(path)], "2-D")
    np.savez(path, X=np.zeros((4, 2)), y=np.arange(3))
    assert_usage_error(capsys, ["select", str(path)], "one label per row")
    np.savez(path, X=np.zeros((4, 2)), y=np.arange(4), feature_names=np.array(["a"]))
    assert_usage_error(capsys, ["select", str(path)], "feature_names")
    np.savez(path, X=np.array([["a", "b"]] * 4), y=np.arange(4))
    assert_usage_error(capsys, ["select", str(path)], "numeric")
    X = np.ones((4, 2))
    X[2, 1] = np.nan
    np.savez(path, X=X, y=np.arange(4) % 2)
    assert_usage_error(capsys, ["select", str(path)], "NaN", "'x1'")
    np.savez(path, X=X, y=np.arange(4) % 2, feature_names=np.array(["g0", "g1"]))
    assert_usage_error(capsys, ["select", str(path)], "NaN in feature 'g1' (sample 3)")


@pytest.mark.parametrize(
    "argv,fragment",
    [
        (["select", "--cv", "1"], "--cv"),
        (["select", "--cv", "two"], "--cv"),
        (["select", "--radius", "-1"], "--radius"),
        (["select", "--radius", "nan"], "--radius"),
        (["select", "--radius", "1", "--constraint", "none"], "--radius: --constraint none has no ball"),
        (["select", "--epochs", "0"], "--epochs"),
        (["select", "--constraint", "l2"], "--constraint"),
        (["select", "--n-features", "1000"], "--n-features 1000 exceeds the 765 features"),
        (["select", "--n-features", "0"], "--n-features"),
        (["select", "--n-features", "1.5"], "--n-features"),
        (["select", "--n-features", "-0.1"], "--n-features"),
        (["select", "--n-features", "many"], "--n-features"),
        (["select", "--n-features", "none"], "--n-features"),
        (["select", "--max-features", "0"], "--n-features"),
        (["select", "--baselines", "svm"], "--baselines"),
        (["select", "--baseline-max-samples", "1"], "--baseline-max-samples"),
        (["select", "--baseline-max-samples", "lots"], "--baseline-max-samples"),
        (["select", "--baseline-max-samples", "9"], "--baseline-max-samples 9 is below the 10 classes"),
        (["select", "--normalized"], "--normalized applies to .h5ad files only"),
        *[(["select", opt, "."], f"{opt} .: is a directory") for opt in ("--output", "--plot", "--genes")],
        (["select", "--target", "label"], "DATA"),
        (["select", "--bogus"], "--bogus"),
        (["frobnicate"], "frobnicate"),
    ],
)
def test_bad_options(capsys, argv, fragment):
    assert_usage_error(capsys, argv, fragment)


@pytest.mark.parametrize("value,expected", [(None, 76), ("0.05", 38), ("20", 20), ("1.0", 765)])
def test_n_features_default_fraction_and_alias(capsys, tmp_path, value, expected):
    # default: 10% of the features (int(0.1 * 765) = 76 PBMC genes); a fraction is a share of
    # the features (1.0: all of them); every baseline gets exactly that many
    out_json = tmp_path / "report.json"
    extra = [] if value is None else ["--n-features", value]
    code, _, err = run(capsys, ["select", "--cv", "2", "--epochs", "1", "--quiet", *extra,
                                "--baselines", "anova", "--output", str(out_json)])
    assert code == 0, err
    report = json.loads(out_json.read_text())
    assert report["n_features_to_select"] == expected
    assert report["methods"]["anova+logreg"]["n_selected"]["folds"] == [expected] * 2
    assert max(report["methods"]["autoencoder+logreg"]["n_selected"]["folds"]) <= expected


def test_radius_is_used_with_at_most_k_features(capsys, tmp_path, small_problem):
    X, labels, names, _ = small_problem
    np.savez(tmp_path / "d.npz", X=X, y=labels)
    for radius, n_kept in [("1e6", [6, 6]), ("1e-3", [2, 2])]:  # the ball keeps all / few
        code, out, err = run(capsys, ["select", str(tmp_path / "d.npz"), "--cv", "2", "--epochs", "2",
                                      "--radius", radius, "--n-features", "6", "--baselines", "anova",
                                      "-o", str(tmp_path / "r.json")])
        assert code == 0, err
        report = json.loads((tmp_path / "r.json").read_text())
        note = f"radius {float(radius):g} given: the autoencoder keeps at most 6 features"
        assert note in err and note in report["autoencoder_selection"] and "at most k" in out
        params = report["estimator"]["params"]
        assert (params["radius"], params["max_features"]) == (float(radius), 6)
        assert params["n_features_to_select"] is None
        assert report["methods"]["autoencoder+logreg"]["n_selected"]["folds"] == n_kept
        assert report["methods"]["anova+logreg"]["n_selected"]["folds"] == [6, 6]


def test_verbose_goes_to_stderr_and_the_report_is_strict_json(capsys, tmp_path, small_problem):
    X, labels, _, _ = small_problem
    np.savez(tmp_path / "d.npz", X=X, y=labels)
    code, out, err = run(capsys, ["select", str(tmp_path / "d.npz"), *FAST, "-v", "--baselines", "none",
                                  "--constraint", "none", "-o", str(tmp_path / "r.json")])
    assert code == 0, err
    assert "[select] epoch 1: loss" in err and "loss" not in out  # stdout: the results alone

    def strict(constant):
        raise ValueError(f"not JSON: {constant}")

    report = json.loads((tmp_path / "r.json").read_text(), parse_constant=strict)  # no Infinity
    assert report["estimator"]["params"]["radius"] is None  # the infinite radius of no ball


def test_max_features_is_an_alias_of_n_features(capsys, tmp_path, small_problem):
    X, labels, names, _ = small_problem
    path = tmp_path / "d.npz"
    np.savez(path, X=X, y=labels)
    out_json = tmp_path / "r.json"
    code, _, err = run(capsys, ["select", str(path), *FAST, "--max-features", "5",
                                "--baselines", "none", "--output", str(out_json)])
    assert code == 0, err
    report = json.loads(out_json.read_text())
    assert report["n_features_to_select"] == 5
    assert list(report["methods"]) == ["autoencoder+logreg", "autoencoder", "all_features+logreg"]


def test_bad_output_directory(capsys, tmp_path):
    assert_usage_error(capsys, ["select", *FAST, "--output", str(tmp_path / "no" / "r.json")],
                       "does not exist")


def test_outputs_never_overwrite_the_data_or_each_other(capsys, tmp_path):
    data = _csv(tmp_path, GOOD_ROWS, "in.csv")
    (tmp_path / "link.csv").symlink_to(data)
    base = ["select", data, "--target", "label", *FAST]
    for option, path in [("--genes", data), ("--output", data), ("--plot", str(tmp_path / "link.csv"))]:
        assert_usage_error(capsys, [*base, option, path], f"{option} {path}", "DATA")
    out = str(tmp_path / "out.txt")
    assert_usage_error(capsys, [*base, "-o", out, "--genes", out], "--output", "--genes", "same file")
    assert open(data).read() == GOOD_ROWS and not (tmp_path / "out.txt").exists()


def test_write_error_after_the_results_are_printed(capsys, tmp_path, small_problem, monkeypatch):
    def fail(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("skproj.cli.write_gene_list", fail)
    X, labels, names, _ = small_problem
    np.savez(tmp_path / "d.npz", X=X, y=labels)
    code, out, err = run(capsys, ["select", str(tmp_path / "d.npz"), *FAST, "--baselines", "none",
                                  "-o", str(tmp_path / "r.json"), "--genes", str(tmp_path / "g.csv")])
    assert code == 2 and err == f"error: --genes {tmp_path / 'g.csv'}: Permission denied.\n"
    assert "Top features" in out and f"written report: {tmp_path / 'r.json'}" in out  # not lost


def test_bad_estimator_parameter(capsys):
    assert_usage_error(capsys, ["select", *FAST, "--activation", "bogus"], "activation")


# ----------------------------------------------------------------------------------------
# parallel and distributed folds
# ----------------------------------------------------------------------------------------


def _comparable(report):
    """The parts of a report that do not depend on timing."""
    return ({k: (m["accuracy"]["folds"], m["n_selected"]["folds"])
             for k, m in report["methods"].items()},
            report["selection_frequency"], report["top_features"])


def _run_csv(capsys, tmp_path, small_problem, *extra):
    X, labels, names, _ = small_problem
    path = tmp_path / "data.csv"
    _write_table(path, X, labels, names, id_column=False)
    out_json = tmp_path / f"report{len(extra)}.json"
    code, out, err = run(capsys, ["select", str(path), "--target", "label", *FAST,
                                  "--n-features", "4", "--output", str(out_json), *extra])
    assert code == 0, err
    return json.loads(out_json.read_text())


def test_n_jobs_gives_the_results_of_one_job(capsys, tmp_path, small_problem):
    one = _run_csv(capsys, tmp_path, small_problem, "--n-jobs", "1")
    two = _run_csv(capsys, tmp_path, small_problem, "--n-jobs", "2", "--random-state", "0")
    assert _comparable(one) == _comparable(two)


def test_scheduler_local_cluster(capsys, tmp_path, small_problem):
    distributed = pytest.importorskip("distributed")
    one = _run_csv(capsys, tmp_path, small_problem)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        dist = _run_csv(capsys, tmp_path, small_problem, "--scheduler", cluster.scheduler_address)
    assert _comparable(one) == _comparable(dist)


def test_scheduler_unreachable(capsys, tmp_path):
    import socket

    with socket.socket() as s:  # a loopback port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out_json = tmp_path / "r.json"
    assert_usage_error(capsys, ["select", *FAST, "--scheduler", f"tcp://127.0.0.1:{port}",
                                "--output", str(out_json)], "--scheduler", "cannot reach")
    assert not out_json.exists()
    assert_usage_error(capsys, ["select", *FAST, "--scheduler", "nonsense"], "tcp://HOST:PORT")


def test_scheduler_without_dask(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    assert_usage_error(capsys, ["select", *FAST, "--scheduler", "tcp://127.0.0.1:8786"],
                       "skproj[dask]")


def test_bad_n_jobs(capsys):
    assert_usage_error(capsys, ["select", *FAST, "--n-jobs", "0"], "--n-jobs")
    assert_usage_error(capsys, ["select", *FAST, "--n-jobs", "two"], "--n-jobs")


# ----------------------------------------------------------------------------------------
# AnnData .h5ad input (issue 15)
# ----------------------------------------------------------------------------------------

H5 = [*FAST, "--baselines", "anova,wilcoxon"]


def _write_h5ad(path, X, labels, layers=None, obs_extra=None):
    anndata = pytest.importorskip("anndata")
    pd = pytest.importorskip("pandas")
    obs = pd.DataFrame({"cell_type": pd.Categorical(labels), **(obs_extra or {})},
                       index=[f"cell{i}" for i in range(X.shape[0])])
    var = pd.DataFrame(index=[f"G{j}" for j in range(X.shape[1])])
    anndata.AnnData(X=X, obs=obs, var=var, layers=layers or {}).write_h5ad(path)
    return path


@pytest.fixture(scope="module")
def counts_h5ad(tmp_path_factory):
    from skproj.datasets import make_single_cell_counts

    pytest.importorskip("anndata")
    X, y, markers = make_single_cell_counts(120, 60, n_cell_types=3, density=0.2,
                                            n_markers_per_type=3, random_state=0)
    path = tmp_path_factory.mktemp("h5ad") / "cells.h5ad"
    labels = np.array([f"type{t}" for t in y])
    _write_h5ad(path, X, labels, layers={"counts": X.copy()})
    return path, X, labels


def test_select_h5ad(capsys, tmp_path, monkeypatch, counts_h5ad):
    import anndata
    from scipy import sparse

    path, X, labels = counts_h5ad
    monkeypatch.chdir(tmp_path)  # the gene list goes to the current folder by default
    out_json, copy = tmp_path / "r.json", tmp_path / "sel.h5ad"
    code, out, err = run(capsys, ["select", str(path), "--target", "cell_type", *H5,
                                  "--n-features", "6", "--output", str(out_json),
                                  "--write-h5ad", str(copy)])
    assert code == 0, err
    report = json.loads(out_json.read_text())
    check_report(report, 120, 60, 2, [f"G{j}" for j in range(60)], k=6,
                 baselines=["anova", "wilcoxon"])
    pre = report["data"]["preprocessing"]
    assert "sparse CSR" in pre and "log1p(counts per 10,000)" in pre and "without centring" in pre
    assert "preprocessing: " in out and "cells_skproj_genes.csv" in out
    # the gene list: the autoencoder's ranking with frequencies and importances
    rows = (tmp_path / "cells_skproj_genes.csv").read_text().splitlines()
    assert rows[0] == "gene,rank,selection_frequency,importance,selected"
    genes = [r.split(",") for r in rows[1:]]
    freq = report["selection_frequency"]["autoencoder"]
    assert [g[0] for g in genes] == list(freq)  # same order: most frequent first
    assert [int(g[1]) for g in genes] == list(range(1, len(genes) + 1))
    assert [float(g[2]) for g in genes] == pytest.approx(list(freq.values()))
    # the copy: var columns for the selection, everything else as in the input
    src, dst = anndata.read_h5ad(path), anndata.read_h5ad(copy)
    assert (dst.X != src.X).nnz == 0 and sparse.issparse(dst.X)
    assert list(dst.obs["cell_type"]) == list(labels)
    ranked = dst.var.index[dst.var["skproj_rank"] > 0][np.argsort(
        dst.var["skproj_rank"][dst.var["skproj_rank"] > 0])]
    assert list(ranked) == [g[0] for g in genes]
    assert dst.var["skproj_selected"].sum() == min(6, len(genes))
    assert set(dst.var.index[dst.var["skproj_selected"]]) == {g[0] for g in genes[:6]}
    assert "skproj_rank" not in src.var  # the input is untouched
    # never-selected genes have no rank (NaN: they sort last); skproj_gene: the gene list's names
    unranked = ~dst.var.index.isin([g[0] for g in genes])
    assert dst.var["skproj_rank"][unranked].isna().all() and dst.var["skproj_rank"][~unranked].notna().all()
    assert list(dst.var["skproj_gene"]) == list(dst.var.index)


def test_select_h5ad_repeated_gene_names(capsys, tmp_path, counts_h5ad):
    anndata = pytest.importorskip("anndata")
    _, X, labels = counts_h5ad
    path = _write_h5ad(tmp_path / "dup.h5ad", X, labels)
    with warnings.catch_warnings():  # anndata's hint about the repeated names
        warnings.simplefilter("ignore", UserWarning)
        adata = anndata.read_h5ad(path)
        adata.var_names = ["G0"] * 30 + [f"G{j}" for j in range(30, 60)]
        adata.write_h5ad(path)
    genes = tmp_path / "g.csv"
    code, out, err = run(capsys, ["select", str(path), "--target", "cell_type", *H5,
                                  "--n-features", "6", "--genes", str(genes)])
    assert code == 0, err
    # one plain line, as the errors are
    assert f"warning: {path}: 29 gene names repeat an earlier one (e.g. 'G0'); they are made unique" in err
    assert "UserWarning" not in err and "read_h5ad(" not in err
    names = [r.split(",")[0] for r in genes.read_text().splitlines()[1:]]
    assert len(names) == len(set(names)) >= 6  # each gene named once
    assert set(names) <= {"G0"} | {f"G0-{i}" for i in range(1, 30)} | {f"G{j}" for j in range(30, 60)}


def test_select_h5ad_layer_and_normalised_data(capsys, tmp_path, counts_h5ad):
    _, X, labels = counts_h5ad
    from skproj.io import normalize_counts

    path = _write_h5ad(tmp_path / "norm.h5ad", normalize_counts(X), labels,
                       layers={"counts": X.copy()})
    out_json = tmp_path / "r.json"
    args = ["select", str(path), "--target", "cell_type", *H5, "--n-features", "5",
            "--genes", str(tmp_path / "g.csv"), "--output", str(out_json)]
    assert run(capsys, args)[0] == 0
    assert "taken as already normalised" in json.loads(out_json.read_text())["data"]["preprocessing"]
    assert run(capsys, [*args, "--layer", "counts"])[0] == 0
    pre = json.loads(out_json.read_text())["data"]["preprocessing"]
    assert "layer 'counts'" in pre and "log1p" in pre
    assert run(capsys, [*args, "--layer", "counts", "--normalized"])[0] == 0
    assert "used as stored (--normalized)" in json.loads(out_json.read_text())["data"]["preprocessing"]


@pytest.mark.parametrize("case,fragments", [
    ("no_target", ["--target"]),
    ("bad_target", ["obs has no column", "'tissue'"]),
    ("numeric_target", ["cell_id"]),
    ("negative", ["negative"]),
    ("nan", ["NaN"]),
    ("bad_layer", ["no layer 'spliced'"]),
    ("corrupt", ["not a readable .h5ad"]),
])
def test_bad_h5ad(capsys, tmp_path, monkeypatch, counts_h5ad, case, fragments):
    from scipy import sparse

    path, X, labels = counts_h5ad
    monkeypatch.chdir(tmp_path)
    argv = ["select", str(path), "--target", "cell_type"]
    if case == "no_target":
        argv = ["select", str(path)]
    elif case == "bad_target":
        argv[-1] = "tissue"
    elif case == "numeric_target":
        p = _write_h5ad(tmp_path / "n.h5ad", X, labels,
                        obs_extra={"cell_id": np.arange(X.shape[0], dtype=float) + 0.5})
        argv = ["select", str(p), "--target", "cell_id"]
    elif case in ("negative", "nan"):
        bad = sparse.csr_matrix(X, dtype=np.float32, copy=True)
        bad.data[3] = -1.0 if case == "negative" else np.nan
        argv[1] = str(_write_h5ad(tmp_path / "b.h5ad", bad, labels))
    elif case == "bad_layer":
        argv += ["--layer", "spliced"]
    else:
        argv[1] = _csv(tmp_path, GOOD_ROWS, "c.h5ad")
    out_json = tmp_path / "r.json"
    assert_usage_error(capsys, [*argv, *H5, "--output", str(out_json),
                                "--write-h5ad", str(tmp_path / "o.h5ad")], *fragments)
    # nothing written, not even a temporary file
    assert not out_json.exists() and not (tmp_path / "o.h5ad").exists()
    assert not [p for p in tmp_path.iterdir() if "skproj" in p.name or p.name.startswith(".")]


def test_h5ad_output_paths(capsys, tmp_path, monkeypatch, counts_h5ad):
    path = counts_h5ad[0]
    monkeypatch.chdir(tmp_path)
    argv = ["select", str(path), "--target", "cell_type", *H5, "--n-features", "5"]
    # --write-h5ad writes a copy, never the input itself; a directory is refused up front
    assert_usage_error(capsys, [*argv, "--write-h5ad", str(path)], "--write-h5ad", "DATA")
    (tmp_path / "d.h5ad").mkdir()
    assert_usage_error(capsys, [*argv, "--write-h5ad", "d.h5ad"], "--write-h5ad d.h5ad", "is a directory")
    (tmp_path / "cells_skproj_genes.csv").mkdir()  # the default gene list
    assert_usage_error(capsys, argv, "default gene list (--genes) cells_skproj_genes.csv", "is a directory")
    (tmp_path / "cells_skproj_genes.csv").rmdir()
    assert_usage_error(capsys, [*argv, "-o", "cells_skproj_genes.csv"],  # not a --genes of the user's
                       "--output cells_skproj_genes.csv and the default gene list (--genes)")
    (tmp_path / "cells_skproj_genes.csv").write_text("old\n")
    code, out, err = run(capsys, argv)
    assert code == 0, err
    assert err.startswith("warning: cells_skproj_genes.csv: an existing file, replaced")
    assert (tmp_path / "cells_skproj_genes.csv").read_text().startswith("gene,rank,")


def test_h5ad_without_anndata(capsys, tmp_path, monkeypatch, counts_h5ad):
    path, _, _ = counts_h5ad
    monkeypatch.setitem(sys.modules, "anndata", None)
    monkeypatch.chdir(tmp_path)
    assert_usage_error(capsys, ["select", str(path), "--target", "cell_type", *FAST],
                       "anndata", "skproj[anndata]")
    assert list(tmp_path.iterdir()) == []


def test_h5ad_options_need_h5ad(capsys, tmp_path):
    csv_path = _csv(tmp_path, GOOD_ROWS)
    assert_usage_error(capsys, ["select", csv_path, "--target", "label", "--layer", "x"],
                       "--layer")
    assert_usage_error(capsys, ["select", csv_path, "--target", "label", "--write-h5ad",
                                str(tmp_path / "o.h5ad")], "--write-h5ad")
    assert_usage_error(capsys, ["select", csv_path, "--target", "label", "--normalized"], "--normalized")


def test_h5ad_slow_baselines_on_a_stated_subsample(capsys, tmp_path, counts_h5ad):
    path, X, labels = counts_h5ad  # 120 cells, 2 folds: training folds of 60 cells
    out_json = tmp_path / "r.json"
    code, out, err = run(capsys, ["select", str(path), "--target", "cell_type", "--cv", "2",
                                  "--epochs", "2", "--baselines", "anova,l1_logistic",
                                  "--baseline-max-samples", "30", "--n-features", "5",
                                  "--genes", str(tmp_path / "g.csv"), "--output", str(out_json)])
    assert code == 0, err
    report = json.loads(out_json.read_text())
    check_report(report, 120, 60, 2, [f"G{j}" for j in range(60)], k=5,
                 baselines=["anova", "l1_logistic"])
    methods = report["methods"]
    assert methods["l1_logistic+logreg"]["fitted_on"] == "a stratified subsample of 30 cells of each training fold"
    for name in ("autoencoder", "anova", "all_features"):
        assert methods[f"{name}+logreg"]["fitted_on"] == "whole training folds"
    assert report["baseline_max_samples"] == 30
    # never silent: on stderr before the fits, per fit, and under the table on stdout
    assert "l1_logistic: fitted on a stratified subsample of 30 cells" in err
    assert "L1-log. (fitted on 30 cells)" in err and "F-test kept 5 features" in err
    assert "* L1-log.: selector fitted on a stratified subsample of 30 cells" in out
    # sparse all the way: the counts are scaled without centring and never densified
    pre = report["data"]["preprocessing"]
    assert "with_mean=False" in pre and "densified for" not in pre
    assert "with_mean=False" in report["downstream"]
