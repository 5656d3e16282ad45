"""The ``skproj`` command (also ``python -m skproj``): cross-validated feature selection.

``skproj select [DATA]`` runs stratified k-fold cross-validation of
``Pipeline(StandardScaler, SparseAutoencoderSelector)`` and, side by side, of the usual baseline:
L1-penalised logistic regression keeping the same number of features (``SelectFromModel``).
Both selections are scored by the same downstream classifier (a logistic regression fitted on
the selected features of the training fold); the autoencoder's own predictions and a logistic
regression on all features are reported as references. Without ``DATA`` it runs on the
embedded PBMC single-cell data (:func:`skproj.datasets.load_pbmc68k`).

Errors in the user's input (unreadable or malformed files, missing or non-numeric columns,
missing values, fewer than two classes, invalid options) print one line on stderr and return
exit code 2; they never print a traceback.
"""

import argparse
import contextlib
import csv
import json
import math
import os
import sys
from pathlib import Path

import numpy as np

from ._tables import InputError, _preview, load_data

__all__ = ["main"]

EXIT_OK = 0
# The command's defaults: radius 0.3 (the estimator's default, 0.1, keeps about 1.4% of the
# PBMC genes, 10 of 765; 0.3 keeps about 80) and at most 10% of the features (76 PBMC genes).
# Chosen from 5-fold CV runs on the PBMC data itself (radii 0.15-0.4 were tried), so the PBMC
# figures in the README carry that (mild) selection bias.
DEFAULT_RADIUS = 0.3
DEFAULT_MAX_FEATURES = 0.1
EXIT_USAGE = 2

class CLIError(InputError):
    """An error in the user's input: reported as one line on stderr, exit code 2."""


def _check_classes(y, cv):
    classes, counts = np.unique(y, return_counts=True)
    if classes.size < 2:
        raise CLIError(
            f"the labels have {classes.size} class ({_preview(classes)}); at least 2 are needed."
        )
    if counts.min() < cv:
        small = classes[counts.argmin()]
        raise CLIError(
            f"class {small!r} has {counts.min()} sample(s), fewer than --cv {cv}; "
            "lower --cv or remove the class."
        )
    return classes, counts


# --------------------------------------------------------------------------------------
# methods
# --------------------------------------------------------------------------------------


# Map of command-line options to SparseAutoencoderSelector parameters.
_ESTIMATOR_OPTIONS = {
    "constraint": "constraint",
    "radius": "radius",
    "max_features": "max_features",
    "epochs": "max_epochs",
    "hidden": "hidden_layer_size",
    "batch_size": "batch_size",
    "learning_rate": "learning_rate",
    "activation": "activation",
}


def _make_selector(args):
    from . import SparseAutoencoderSelector

    est = SparseAutoencoderSelector()
    valid = est.get_params()
    params = {}
    for opt, name in _ESTIMATOR_OPTIONS.items():
        value = getattr(args, opt)
        if value is None:
            continue
        if name not in valid:  # pragma: no cover - guards against a renamed parameter
            raise CLIError(f"--{opt.replace('_', '-')} is not supported by this SparseAutoencoderSelector.")
        if opt == "constraint" and value == "none":
            value = None
        params[name] = value
    if "random_state" in valid:
        params["random_state"] = args.random_state
    if "verbose" in valid:
        params["verbose"] = int(args.verbose)
    return est.set_params(**params)


class _Progress:
    """Progress lines on stderr (a rich progress bar when rich is installed and stderr is a tty)."""

    def __init__(self, total, quiet):
        self.quiet = quiet
        self.total = total
        self.done = 0
        self._rich = None
        if quiet or not sys.stderr.isatty():
            return
        try:
            from rich.progress import Progress
        except ImportError:
            return
        self._rich = Progress(transient=True)
        self._task = self._rich.add_task("cross-validation", total=total)
        self._rich.start()

    def log(self, message):
        if self.quiet:
            return
        if self._rich is not None:
            self._rich.console.print(message)
        else:
            print(f"[skproj] {message}", file=sys.stderr, flush=True)

    def advance(self, description=""):
        self.done += 1
        if self._rich is not None:
            self._rich.update(self._task, advance=1, description=description)

    def close(self):
        if self._rich is not None:
            self._rich.stop()


# --------------------------------------------------------------------------------------
# cross-validation
# --------------------------------------------------------------------------------------


def _mean_std(values):
    a = np.asarray(values, dtype=float)
    return {
        "mean": float(a.mean()),
        "std": float(a.std()),
        "folds": [float(v) for v in a],
    }


def run_selection(dataset, args, progress):
    """Cross-validate the autoencoder selector and the L1-logistic baseline; return the report.

    The protocol is :func:`skproj.model_selection.compare_selectors`; this builds the selectors
    from the options and turns its result into the JSON-able report.
    """
    from . import __version__
    from .model_selection import compare_selectors
    from .model_selection._compare import _L1LogisticKSelector

    X, y = dataset.X, dataset.y
    n_samples, n_features = X.shape
    classes, counts = _check_classes(y, args.cv)
    if args.max_features == "none":
        args.max_features = None
    elif isinstance(args.max_features, float):  # a share of the features
        args.max_features = max(1, int(args.max_features * n_features))
    elif args.max_features is not None and args.max_features > n_features:
        raise CLIError(f"--max-features {args.max_features} exceeds the {n_features} features.")
    try:
        template = _make_selector(args)
        template._validate_params()
    except ValueError as exc:  # sklearn's InvalidParameterError is a ValueError
        raise CLIError(f"invalid option: {exc}") from None

    progress.log(
        f"{dataset.source}: {n_samples} samples x {n_features} features, {classes.size} classes; "
        f"{args.cv}-fold stratified CV"
    )

    def on_fit(e):
        tag = _LABELS[e["selector"]][1]
        progress.advance(f"fold {e['fold']}: {tag}")
        progress.log(
            f"fold {e['fold']}/{args.cv}: {tag} kept {e['n_selected']} features in "
            f"{e['fit_time']:.1f} s; accuracy {e['score']:.3f}"
            + ("" if math.isnan(e["own_score"]) else f" (logreg), {e['own_score']:.3f} (own)")
        )

    result = compare_selectors(
        X, y, {"autoencoder": template,
               "l1_logreg": _L1LogisticKSelector(random_state=args.random_state)},
        reference="autoencoder", cv=args.cv, random_state=args.random_state,
        feature_names=dataset.feature_names, progress=on_fit,
        n_jobs=-1 if args.scheduler and args.n_jobs is None else args.n_jobs,
    )
    return _report(result, dataset, template, classes, counts, args, __version__)


# report key, progress tag, description (per selector of compare_selectors)
_LABELS = {
    "autoencoder": ("autoencoder+logreg", "autoencoder",
                    "SparseAutoencoderSelector -> LogisticRegression"),
    "l1_logreg": ("l1_logreg+logreg", "L1-logistic", "L1-LogisticRegression SelectFromModel -> LogisticRegression"),
    "all_features": ("all_features+logreg", "all features", "all features -> LogisticRegression"),
}


def _report(result, dataset, template, classes, counts, args, version):
    """The JSON-able report of ``skproj select`` from a SelectionComparison."""
    n_samples, n_features = dataset.X.shape
    names = result.feature_names
    methods = {}
    for sel in result.selector_names:
        key, _, description = _LABELS[sel]
        k = result.n_selected(sel)
        methods[key] = {"description": description, "accuracy": _mean_std(result.scores[sel]),
                        "n_selected": _mean_std(k), "fit_time_s": _mean_std(result.fit_times[sel])}
        if sel == "autoencoder":
            methods["autoencoder"] = {
                "description": "SparseAutoencoderSelector (own predictions)",
                "accuracy": _mean_std(result.own_scores[sel]), "n_selected": _mean_std(k),
                "fit_time_s": _mean_std(result.fit_times[sel])}
    freq = {sel: result.selection_frequency(sel) for sel in ("autoencoder", "l1_logreg")}
    mean_imp = result.importances["autoencoder"].mean(axis=0)
    ranked = result.ranking("autoencoder")
    return {
        "skproj_version": version,
        "data": {
            "source": dataset.source,
            "description": dataset.description,
            "n_samples": int(n_samples),
            "n_features": int(n_features),
            "classes": [str(c) for c in classes],
            "class_counts": [int(c) for c in counts],
        },
        "cv": {"n_splits": args.cv, "shuffle": True, "random_state": args.random_state},
        "estimator": {"class": "SparseAutoencoderSelector",
                      "params": {k: _jsonable(v) for k, v in template.get_params().items()}},
        "downstream": "StandardScaler + LogisticRegression(max_iter=3000) fitted on the selected "
        "features of each training fold",
        "baseline": "StandardScaler + SelectFromModel(OneVsRest(LogisticRegression(l1_ratio=1, "
        "solver='liblinear', C)), max_features=k, threshold=-inf), k = number of features the "
        "autoencoder kept in the same fold, C = smallest of l1_min_c * 2**j giving >= k non-zeros",
        "methods": methods,
        "selection_frequency": {
            "autoencoder": {str(names[j]): float(freq["autoencoder"][j]) for j in ranked},
            "l1_logreg": {
                str(names[j]): float(freq["l1_logreg"][j])
                for j in np.argsort(-freq["l1_logreg"], kind="stable")
                if freq["l1_logreg"][j] > 0
            },
        },
        "top_features": [
            {
                "name": str(names[j]),
                "autoencoder_frequency": float(freq["autoencoder"][j]),
                "l1_logreg_frequency": float(freq["l1_logreg"][j]),
                "autoencoder_mean_importance": float(mean_imp[j]),
            }
            for j in ranked[: args.top]
        ],
        "total_time_s": result.total_time,
    }


def _jsonable(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)
        return value
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    return repr(value)


# --------------------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------------------


def format_report(report, top):
    """The human-readable summary printed on stdout."""
    lines = []
    d = report["data"]
    lines.append(
        f"skproj select: {d['source']}\n"
        f"  {d['n_samples']} samples x {d['n_features']} features, {len(d['classes'])} classes, "
        f"{report['cv']['n_splits']}-fold stratified CV (random_state={report['cv']['random_state']})"
    )
    lines.append("")
    header = f"{'method':<62} {'accuracy':>17} {'features':>16} {'fit time (s)':>13}"
    lines.append(header)
    lines.append("-" * len(header))
    for m in report["methods"].values():
        acc, nsel, ft = m["accuracy"], m["n_selected"], m["fit_time_s"]
        lines.append(
            f"{m['description']:<62} {acc['mean']:>7.3f} +/- {acc['std']:.3f} "
            f"{nsel['mean']:>7.1f} +/- {nsel['std']:<4.1f} {ft['mean']:>13.2f}"
        )
    lines.append("")
    tops = report["top_features"][:top]
    n = report["cv"]["n_splits"]
    if tops:
        lines.append(f"Top features by selection frequency across the {n} folds (autoencoder):")
        lines.append(f"  {'rank':>4}  {'feature':<20} {'autoencoder':>11} {'L1-logistic':>11} {'importance':>10}")
        for r, t in enumerate(tops, start=1):
            lines.append(
                f"  {r:>4}  {t['name']:<20} {round(t['autoencoder_frequency'] * n):>7d}/{n:<3d} "
                f"{round(t['l1_logreg_frequency'] * n):>7d}/{n:<3d} {t['autoencoder_mean_importance']:>10.3f}"
            )
    else:
        lines.append("The autoencoder selected no feature in any fold.")
    lines.append("")
    lines.append(f"total time {report['total_time_s']:.1f} s")
    return "\n".join(lines)


def _check_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise CLIError(
            "--plot needs matplotlib, which is not installed (pip install matplotlib, "
            "or pip install 'skproj[plot]')."
        ) from None


def write_plot(report, path, top):
    """PNG figure: selection frequency of the top features, and accuracy per method."""
    from matplotlib.figure import Figure

    tops = report["top_features"][:top]
    fig = Figure(figsize=(12, max(4.0, 0.28 * len(tops) + 1.5)), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2, width_ratios=[1.1, 1])
    pos = np.arange(len(tops))
    ax1.barh(pos - 0.2, [t["autoencoder_frequency"] for t in tops], height=0.4,
             label="SparseAutoencoderSelector")
    ax1.barh(pos + 0.2, [t["l1_logreg_frequency"] for t in tops], height=0.4,
             label="L1-logistic (same k)")
    ax1.set_yticks(pos, [t["name"] for t in tops])
    ax1.invert_yaxis()
    ax1.set_xlim(0, 1.05)
    ax1.set_xlabel(f"selection frequency across {report['cv']['n_splits']} folds")
    ax1.set_title("Top features (autoencoder stability)")
    ax1.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize="small")

    methods = list(report["methods"].values())
    short = ["autoencoder\n-> logreg", "autoencoder\n(own)", "L1-logistic\n-> logreg", "all features\n-> logreg"]
    for i, m in enumerate(methods):
        folds = m["accuracy"]["folds"]
        ax2.errorbar(i, m["accuracy"]["mean"], yerr=m["accuracy"]["std"], fmt="o", capsize=4,
                     color=f"C{i}")
        ax2.scatter(np.full(len(folds), i) + 0.12, folds, s=10, color=f"C{i}", alpha=0.5)
        ax2.annotate(f"{m['n_selected']['mean']:.0f} feat.", (i, m["accuracy"]["mean"]),
                     textcoords="offset points", xytext=(8, -3), fontsize="small")
    ax2.set_xticks(range(len(methods)), short[: len(methods)], fontsize="small")
    ax2.set_xlim(-0.5, len(methods) - 0.3)
    ax2.set_ylabel("test accuracy (mean +/- std over folds)")
    ax2.set_title("Cross-validated accuracy")
    fig.suptitle(report["data"]["source"], fontsize="medium")
    fig.savefig(path, dpi=120)


# --------------------------------------------------------------------------------------
# argument parsing and entry point
# --------------------------------------------------------------------------------------


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def _max_features(text):
    if text.strip().lower() == "none":
        return "none"
    try:
        value = int(text)
    except ValueError:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, a fraction or 'none', got {text!r}") from None
        if not 0.0 < value < 1.0:
            raise argparse.ArgumentTypeError(f"expected a fraction strictly between 0 and 1, got {value}")
        return value
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def _nonneg_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text}")
    return value


def _positive_float(text):
    value = _nonneg_float(text)
    if value == 0:
        raise argparse.ArgumentTypeError("expected a number > 0, got 0")
    return value


def _columns(text):
    return [c.strip() for c in text.split(",") if c.strip()]


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr (no usage dump) and exit code 2."""

    def error(self, message):
        raise CLIError(f"{self.prog}: {message} (see {self.prog} --help)")


def build_parser():
    """The argument parser of the ``skproj`` command."""
    parser = _Parser(
        prog="skproj",
        description="skproj: exact projections for structured sparsity, and feature selection "
        "with scikit-learn estimators.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    p = sub.add_parser(
        "select",
        help="cross-validated feature selection with the sparse autoencoder and an L1 baseline",
        description="Stratified k-fold CV of Pipeline(StandardScaler, SparseAutoencoderSelector) "
        "next to an L1-logistic SelectFromModel keeping as many features; both selections are "
        "scored by the same logistic regression. Without DATA: the embedded PBMC data "
        "(700 cells x 765 genes, 10 cell types).",
        epilog="DATA formats: .csv/.tsv with a header row, one sample per row, numeric feature "
        "columns and a label column named by --target; .npz with arrays X (samples x features), "
        "y (labels; another key with --target) and optionally feature_names. "
        "Exit codes: 0 success, 2 invalid input or options.",
    )
    p.add_argument("data", nargs="?", metavar="DATA", help=".csv, .tsv or .npz file (default: the embedded PBMC data)")
    p.add_argument("--target", metavar="COL", help="label column of a .csv/.tsv (required there); label array key of a .npz (default y)")
    p.add_argument("--drop", type=_columns, default=[], metavar="COL[,COL...]", help="columns of a .csv/.tsv to ignore (sample ids...)")
    p.add_argument("--cv", type=_positive_int, default=5, help="number of stratified folds (default 5)")
    p.add_argument("--constraint", choices=["l1inf", "l11", "l12", "none"], help="ball constraint on the first layer (default: the estimator's)")
    p.add_argument("--radius", type=_positive_float, default=DEFAULT_RADIUS,
                   help=f"radius of the ball on the standardised features (default {DEFAULT_RADIUS}: "
                   "about 10%% of the PBMC genes; smaller keeps fewer)")
    p.add_argument("--max-features", type=_max_features, default=DEFAULT_MAX_FEATURES,
                   help="keep at most this many features: an integer, a fraction of the features, or "
                   f"'none' for no cap (default {DEFAULT_MAX_FEATURES}: 10%% of the features)")
    p.add_argument("--epochs", type=_positive_int, help="training epochs per phase (default: the estimator's)")
    p.add_argument("--hidden", type=_positive_int, help="hidden layer size (default: the estimator's)")
    p.add_argument("--batch-size", type=_positive_int, help="minibatch size (default: the estimator's)")
    p.add_argument("--learning-rate", type=_positive_float, help="Adam learning rate (default: the estimator's)")
    p.add_argument("--activation", help="activation of the hidden layers (default: the estimator's)")
    p.add_argument("--random-state", type=int, default=0, help="seed of the folds and of the network (default 0)")
    p.add_argument("--top", type=_positive_int, default=15, help="number of top features to print and plot (default 15)")
    p.add_argument("--output", "-o", metavar="REPORT.json", help="write the full report as JSON")
    p.add_argument("--plot", metavar="FIG.png", help="write a PNG figure (needs matplotlib)")
    p.add_argument("--n-jobs", type=int, default=None, metavar="N",
                   help="fits (folds x selectors) run in parallel by joblib; -1: all cores (default 1)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the fits on a Dask cluster (e.g. tcp://host:8786) through joblib's dask "
                   "backend; needs pip install 'skproj[dask]'")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress messages on stderr")
    p.add_argument("--verbose", "-v", action="count", default=0, help="pass verbose to the estimator (per-epoch loss)")
    return parser


def _check_writable(path, option):
    parent = Path(path).resolve().parent
    if not parent.is_dir():
        raise CLIError(f"{option} {path}: the directory {parent} does not exist.")
    if not os.access(parent, os.W_OK):
        raise CLIError(f"{option} {path}: the directory {parent} is not writable.")


def _check_reachable(address, timeout=5.0):
    """A TCP connection to the scheduler at ``[tcp://|tls://]host:port`` opens, or CLIError."""
    import socket

    scheme, _, rest = address.rpartition("://")
    host, _, port = rest.rpartition(":")
    if scheme not in ("", "tcp", "tls") or not host or not port.isdigit():
        raise CLIError(f"--scheduler {address}: expected an address like tcp://HOST:PORT.")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise CLIError(f"--scheduler {address}: cannot reach the Dask scheduler "
                       f"({exc.strerror or type(exc).__name__}).") from None


@contextlib.contextmanager
def _parallel_backend(address):
    """Joblib's dask backend on the cluster at ``address`` (nothing to do when None)."""
    if address is None:
        yield
        return
    try:
        import joblib
        from distributed import Client
    except ImportError:
        raise CLIError("--scheduler needs dask.distributed, which is not installed "
                       "(pip install 'skproj[dask]').") from None
    _check_reachable(address)
    try:
        client = Client(address, timeout="10s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CLIError(f"--scheduler {address}: cannot reach the Dask scheduler ({detail}).") from None
    with client, joblib.parallel_config(backend="dask", client=client, wait_for_workers_timeout=60):
        yield


def _select(args):
    if args.cv < 2:
        raise CLIError("--cv must be at least 2.")
    if args.output:
        _check_writable(args.output, "--output")
    if args.plot:
        _check_matplotlib()
        _check_writable(args.plot, "--plot")
    if args.n_jobs == 0:
        raise CLIError("--n-jobs must be a positive number of jobs or -1 (all cores), not 0.")
    dataset = load_data(args.data, args.target, args.drop)
    with _parallel_backend(args.scheduler):
        progress = _Progress(total=3 * args.cv, quiet=args.quiet)
        try:
            report = run_selection(dataset, args, progress)
        finally:
            progress.close()
    print(format_report(report, args.top))
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=2)
        progress.log(f"report written to {args.output}")
    if args.plot:
        write_plot(report, args.plot, args.top)
        progress.log(f"figure written to {args.plot}")
    return EXIT_OK


def main(argv=None):
    """Run the ``skproj`` command; return the exit code (0 success, 2 invalid input).

    Parameters
    ----------
    argv : list of str or None, default=None
        Command-line arguments without the program name (``sys.argv[1:]`` when None).

    Returns
    -------
    code : int
        0 on success, 2 when the input or the options are invalid (a one-line message is
        printed on stderr).
    """
    parser = build_parser()
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help, or an error inside argparse itself
            return int(exc.code or 0)
        if args.command is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        if args.command == "select":
            return _select(args)
        raise CLIError(f"unknown command {args.command!r}")  # pragma: no cover
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
