"""The ``skproj`` command (also ``python -m skproj``): cross-validated feature selection.

``skproj select [DATA]`` compares, under one protocol, the ``SparseAutoencoderSelector`` with the
four selectors people use for marker genes (L1-logistic ``SelectFromModel``, ANOVA F-test,
random-forest importances, Wilcoxon markers), every one asked for the same number of features
``--n-features K`` and scored by the same downstream logistic regression in stratified k-fold
cross-validation (:func:`skproj.model_selection.compare_selectors`). The autoencoder's own
predictions and a logistic regression on all features are shown for reference. Without ``DATA``
it runs on the embedded PBMC single-cell data (:func:`skproj.datasets.load_pbmc68k`).

This module only parses, calls the library and prints: errors in the user's input (unreadable
or malformed files, missing columns, invalid options, an unreachable scheduler) print one line on
stderr and return exit code 2, never a traceback, and no output file is left half-written.
"""

import argparse
import contextlib
import json
import math
import os
import sys
from pathlib import Path

import numpy as np

from ._tables import InputError, _preview, load_data

__all__ = ["main"]

EXIT_OK = 0
EXIT_USAGE = 2
# Radius used while the selector cannot be asked for k features itself (no n_features_to_select):
# 0.3 on standardised features keeps about 80 of the 765 PBMC genes (the estimator's 0.1 keeps
# about 13, whatever max_features says). Chosen on the PBMC data itself: mild selection bias.
DEFAULT_RADIUS = 0.3
DEFAULT_N_FEATURES = 0.1  # 10% of the features (76 PBMC genes)
BASELINES = {  # name in skproj.model_selection.BASELINE_SELECTORS -> description
    "l1_logistic": "L1-LogisticRegression SelectFromModel -> LogisticRegression",
    "anova": "ANOVA F-test SelectKBest -> LogisticRegression",
    "random_forest": "random-forest importances -> LogisticRegression",
    "wilcoxon": "Wilcoxon rank-sum markers -> LogisticRegression",
}
SHORT = {"autoencoder": "autoenc.", "l1_logistic": "L1-log.", "anova": "F-test",
         "random_forest": "forest", "wilcoxon": "Wilcoxon", "all_features": "all"}


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


def _resolve_k(value, n_features):
    k = max(1, int(value * n_features)) if isinstance(value, float) else value
    if k > n_features:
        raise CLIError(f"--n-features {k} exceeds the {n_features} features.")
    return k


# Map of command-line options to SparseAutoencoderSelector parameters.
_ESTIMATOR_OPTIONS = {
    "constraint": "constraint", "radius": "radius", "epochs": "max_epochs",
    "hidden": "hidden_layer_size", "batch_size": "batch_size",
    "learning_rate": "learning_rate", "activation": "activation",
}


def _make_selector(args, k):
    """The SparseAutoencoderSelector of the options, asked for ``k`` features."""
    from . import SparseAutoencoderSelector
    from .model_selection._compare import _set_n_features

    est = SparseAutoencoderSelector()
    valid = est.get_params()
    params = {name: getattr(args, opt) for opt, name in _ESTIMATOR_OPTIONS.items()
              if getattr(args, opt) is not None}
    if params.get("constraint") == "none":
        params["constraint"] = None
    if "n_features_to_select" not in valid:  # the radius decides how many survive: a default
        params.setdefault("radius", DEFAULT_RADIUS)
    params["random_state"] = args.random_state
    params["verbose"] = int(args.verbose)
    try:
        est = _set_n_features(est.set_params(**params), k)
        est._validate_params()
    except ValueError as exc:  # sklearn's InvalidParameterError is a ValueError
        raise CLIError(f"invalid option: {exc}") from None
    return est


class _Progress:
    """Progress on stderr: a rich progress bar over the fits when rich is installed and stderr
    is a terminal, else one plain line per fit."""

    def __init__(self, total, quiet):
        self.quiet, self._rich = quiet, None
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
        if self._rich is not None:
            self._rich.update(self._task, advance=1, description=description)

    def close(self):
        if self._rich is not None:
            self._rich.stop()


def run_selection(dataset, args, progress):
    """Run :func:`~skproj.model_selection.compare_selectors` as the options say; return the
    JSON-able report."""
    from . import __version__
    from .model_selection import compare_selectors, make_baseline_selector

    X, y = dataset.X, dataset.y
    n_samples, n_features = X.shape
    classes, counts = _check_classes(y, args.cv)
    k = _resolve_k(args.n_features, n_features)
    selectors = {"autoencoder": _make_selector(args, k)}
    for name in args.baselines:
        selectors[name] = make_baseline_selector(name, k, random_state=args.random_state)
    progress.log(f"{dataset.source}: {n_samples} samples x {n_features} features, "
                 f"{classes.size} classes; {args.cv}-fold stratified CV, k = {k} features")

    def on_fit(e):
        tag = SHORT[e["selector"]]
        progress.advance(f"fold {e['fold']}: {tag}")
        own = "" if math.isnan(e["own_score"]) else f", own predictions {e['own_score']:.3f}"
        progress.log(f"fold {e['fold']}/{args.cv}: {tag} kept {e['n_selected']} features in "
                     f"{e['fit_time']:.1f} s; accuracy {e['score']:.3f}{own}")

    result = compare_selectors(
        X, y, selectors, n_features_to_select=k, cv=args.cv, random_state=args.random_state,
        feature_names=dataset.feature_names, progress=on_fit,
        n_jobs=-1 if args.scheduler and args.n_jobs is None else args.n_jobs,
    )
    stats = result.to_dict()
    methods = {}
    for name in result.selector_names:
        s = stats[name]
        key = f"{name}+logreg"
        desc = BASELINES.get(name, {"autoencoder": "SparseAutoencoderSelector -> LogisticRegression",
                                    "all_features": "all features -> LogisticRegression"}.get(name))
        methods[key] = {"description": desc, **{m: s[m] for m in ("accuracy", "n_selected", "fit_time_s")}}
        if name == "autoencoder":
            methods["autoencoder"] = {"description": "SparseAutoencoderSelector (own predictions)",
                                      "accuracy": s["own_accuracy"], "n_selected": s["n_selected"],
                                      "fit_time_s": s["fit_time_s"]}
    compared = [n for n in result.selector_names if n != "all_features"]
    freq = {n: result.selection_frequency(n) for n in compared}
    mean_imp = result.importances["autoencoder"].mean(axis=0)
    ranked = result.ranking("autoencoder")
    return {
        "skproj_version": __version__,
        "data": {"source": dataset.source, "description": dataset.description,
                 "n_samples": int(n_samples), "n_features": int(n_features),
                 "classes": [str(c) for c in classes], "class_counts": [int(c) for c in counts],
                 "preprocessing": dataset.preprocessing},
        "cv": {"n_splits": args.cv, "shuffle": True, "random_state": args.random_state},
        "n_features_to_select": int(k),
        "estimator": {"class": "SparseAutoencoderSelector",
                      "params": {p: _jsonable(v) for p, v in selectors["autoencoder"].get_params().items()}},
        "downstream": "StandardScaler (fitted on the training fold) + LogisticRegression(max_iter=3000) "
        "fitted on the selected features of each training fold",
        "baselines": {n: repr(selectors[n]) for n in args.baselines},
        "methods": methods,
        "selection_frequency": {n: stats[n]["selection_frequency"] for n in compared},
        "top_features": [
            {"name": str(result.feature_names[j]),
             "frequency": {n: float(freq[n][j]) for n in compared},
             "autoencoder_mean_importance": float(mean_imp[j])}
            for j in ranked[: args.top]
        ],
        "total_time_s": result.total_time,
        "_result": result,
    }


def _jsonable(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)
        return value
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    return repr(value)


def format_report(report, top):
    """The human-readable summary printed on stdout."""
    d, n = report["data"], report["cv"]["n_splits"]
    lines = [
        f"skproj select: {d['source']}",
        f"  {d['n_samples']} samples x {d['n_features']} features, {len(d['classes'])} classes, "
        f"{n}-fold stratified CV (random_state={report['cv']['random_state']}), "
        f"every selector asked for k = {report['n_features_to_select']} features",
    ]
    if d["preprocessing"]:
        lines.append(f"  preprocessing: {d['preprocessing']}")
    header = f"{'method':<62} {'accuracy':>17} {'features':>16} {'fit time (s)':>13}"
    lines += ["", header, "-" * len(header)]
    for m in report["methods"].values():
        acc, nsel, ft = m["accuracy"], m["n_selected"], m["fit_time_s"]
        lines.append(f"{m['description']:<62} {acc['mean']:>7.3f} +/- {acc['std']:.3f} "
                     f"{nsel['mean']:>7.1f} +/- {nsel['std']:<4.1f} {ft['mean']:>13.2f}")
    base = [(k, m) for k, m in report["methods"].items()
            if k.split("+")[0] in BASELINES]
    if base:
        best_key, best = max(base, key=lambda km: km[1]["accuracy"]["mean"])
        ae = report["methods"]["autoencoder+logreg"]["accuracy"]["mean"]
        lines.append(f"at k = {report['n_features_to_select']}: autoencoder {ae:.3f}, best baseline "
                     f"{SHORT[best_key.split('+')[0]]} {best['accuracy']['mean']:.3f} "
                     f"(difference {ae - best['accuracy']['mean']:+.3f})")
    lines.append("")
    tops = report["top_features"][:top]
    if tops:
        names = list(tops[0]["frequency"])
        lines.append(f"Top features by selection frequency across the {n} folds (autoencoder), "
                     "and how often each other selector picked them:")
        lines.append(f"  {'rank':>4}  {'feature':<20} " + " ".join(f"{SHORT[s]:>9}" for s in names)
                     + f" {'importance':>10}")
        for r, t in enumerate(tops, start=1):
            cells = " ".join(f"{round(t['frequency'][s] * n):>5d}/{n:<3d}" for s in names)
            lines.append(f"  {r:>4}  {t['name']:<20} {cells} {t['autoencoder_mean_importance']:>10.3f}")
    else:
        lines.append("The autoencoder selected no feature in any fold.")
    lines += ["", f"total time {report['total_time_s']:.1f} s"]
    return "\n".join(lines)


@contextlib.contextmanager
def _atomic(path):
    """Yield a temporary path beside ``path``; moved onto it on success, removed on failure."""
    from .io import _atomic_path

    with _atomic_path(path, ".tmp" + Path(path).suffix) as tmp:
        yield tmp


def _write_outputs(report, args, progress):
    result = report.pop("_result")
    if args.output:
        with _atomic(args.output) as tmp, open(tmp, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=2)
        progress.log(f"report written to {args.output}")
    if args.plot:
        from .model_selection import plot_comparison

        fig = plot_comparison(result, selector="autoencoder", top=args.top,
                              title=report["data"]["source"])
        with _atomic(args.plot) as tmp:
            fig.savefig(tmp, dpi=120, format="png")
        progress.log(f"figure written to {args.plot}")


# --------------------------------------------------------------------------------------
# argument parsing and entry point
# --------------------------------------------------------------------------------------


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def _n_features(text):
    try:
        return _positive_int(text)
    except argparse.ArgumentTypeError:
        pass
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(
            f"expected an integer >= 1 or a fraction in (0, 1], got {text!r}")
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return value


def _names(choices):
    def parse(text):
        names = [c.strip() for c in text.split(",") if c.strip()]
        if choices is not None and names == ["none"]:
            return []
        bad = [n for n in names if choices is not None and n not in choices]
        if bad:
            raise argparse.ArgumentTypeError(f"unknown {bad[0]!r}; choose from {', '.join(choices)} or none")
        return names
    return parse


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr (no usage dump) and exit code 2."""

    def error(self, message):
        raise CLIError(f"{self.prog}: {message} (see {self.prog} --help)")


def build_parser():
    """The argument parser of the ``skproj`` command."""
    parser = _Parser(prog="skproj", description="skproj: exact projections for structured "
                     "sparsity, and feature selection with scikit-learn estimators.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    p = sub.add_parser(
        "select",
        help="cross-validated feature selection: the sparse autoencoder against four baselines",
        description="Stratified k-fold CV of SparseAutoencoderSelector and of four baselines "
        "(L1-logistic, ANOVA F-test, random forest, Wilcoxon markers), each asked for the same "
        "number of features and scored by the same logistic regression. Without DATA: the "
        "embedded PBMC data (700 cells x 765 genes, 10 cell types).",
        epilog="DATA formats: .csv/.tsv with a header row, one sample per row, numeric feature "
        "columns and a label column named by --target; .npz with arrays X (samples x features), "
        "y (labels; another key with --target) and optionally feature_names. "
        "Exit codes: 0 success, 2 invalid input or options.",
    )
    a = p.add_argument
    a("data", nargs="?", metavar="DATA", help=".csv, .tsv or .npz file (default: the embedded PBMC data)")
    a("--target", metavar="COL", help="label column of a .csv/.tsv (required there); label array key of a .npz (default y)")
    a("--drop", type=_names(None), default=[], metavar="COL[,COL...]", help="columns of a .csv/.tsv to ignore (sample ids...)")
    a("--cv", type=_positive_int, default=5, help="number of stratified folds (default 5)")
    a("--n-features", "--max-features", dest="n_features", type=_n_features, default=DEFAULT_N_FEATURES,
      metavar="K", help="number of features every selector is asked for: an integer, or a fraction "
      f"of the features (default {DEFAULT_N_FEATURES}: 10%%); --max-features is an old spelling")
    a("--baselines", type=_names(list(BASELINES)), default=list(BASELINES), metavar="NAME[,NAME...]",
      help=f"baselines to compare with (default: {','.join(BASELINES)}; 'none' for none)")
    a("--constraint", choices=["l1inf", "l11", "l12", "none"], help="ball constraint on the first layer (default: the estimator's)")
    a("--radius", type=_positive_float, help="radius of the ball on the standardised features "
      f"(default: chosen by the estimator for k features, or {DEFAULT_RADIUS} for an estimator that cannot)")
    a("--epochs", type=_positive_int, help="training epochs per phase (default: the estimator's)")
    a("--hidden", type=_positive_int, help="hidden layer size (default: the estimator's)")
    a("--batch-size", type=_positive_int, help="minibatch size (default: the estimator's)")
    a("--learning-rate", type=_positive_float, help="Adam learning rate (default: the estimator's)")
    a("--activation", help="activation of the hidden layers (default: the estimator's)")
    a("--random-state", type=int, default=0, help="seed of the folds, the network and the random baselines (default 0)")
    a("--n-jobs", type=int, default=None, metavar="N", help="fits (folds x selectors) run in parallel by joblib; -1: all cores (default 1)")
    a("--scheduler", metavar="ADDRESS", help="run the fits on a Dask cluster (tcp://HOST:PORT) "
      "through joblib's dask backend; needs pip install 'skproj[dask]'")
    a("--top", type=_positive_int, default=15, help="number of top features to print and plot (default 15)")
    a("--output", "-o", metavar="REPORT.json", help="write the full report as JSON")
    a("--plot", metavar="FIG.png", help="write a PNG figure (needs matplotlib)")
    a("--quiet", "-q", action="store_true", help="no progress messages on stderr")
    a("--verbose", "-v", action="count", default=0, help="pass verbose to the estimator (per-epoch loss)")
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
    if args.n_jobs == 0:
        raise CLIError("--n-jobs must be a positive number of jobs or -1 (all cores), not 0.")
    for option in ("output", "plot"):
        if getattr(args, option):
            _check_writable(getattr(args, option), f"--{option}")
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise CLIError("--plot needs matplotlib, which is not installed (pip install "
                           "matplotlib, or pip install 'skproj[plot]').") from None
    dataset = load_data(args.data, args.target, args.drop)
    with _parallel_backend(args.scheduler):
        progress = _Progress(total=args.cv * (len(args.baselines) + 2), quiet=args.quiet)
        try:
            report = run_selection(dataset, args, progress)
        finally:
            progress.close()
    _write_outputs(report, args, progress)
    print(format_report(report, args.top))
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
