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
import datetime
import json
import math
import os
import signal
import sys
import threading
import warnings
from pathlib import Path

import numpy as np
from scipy import sparse

from ._tables import InputError, _preview, load_data
from ._training import DivergedError
from ._validation import n_from_fraction
from .io import _atomic_path, write_gene_list, write_h5ad_with_selection

__all__ = ["main"]

EXIT_OK, EXIT_USAGE = 0, 2
# Radius used while the selector cannot be asked for k features itself (no n_features_to_select):
DEFAULT_N_FEATURES = 0.1  # 10% of the features (76 PBMC genes)
BASELINES = ["l1_logistic", "anova", "random_forest", "wilcoxon"]  # model_selection.BASELINE_SELECTORS
SLOW_BASELINES = ["l1_logistic", "random_forest"]  # cost grows too fast with n: --baseline-max-samples
DEFAULT_BASELINE_MAX_SAMPLES = 2_000
LABELS = {  # selector name -> description (the downstream classifier after the arrow)
    "autoencoder": "SparseAutoencoderSelector -> LogisticRegression",
    "l1_logistic": "L1-LogisticRegression SelectFromModel -> LogisticRegression",
    "anova": "ANOVA F-test SelectKBest -> LogisticRegression",
    "random_forest": "random-forest importances -> LogisticRegression",
    "wilcoxon": "Wilcoxon rank-sum markers -> LogisticRegression",
    "all_features": "all features -> LogisticRegression",
}
SHORT = {"autoencoder": "autoenc.", "l1_logistic": "L1-log.", "anova": "F-test",
         "random_forest": "forest", "wilcoxon": "Wilcoxon", "all_features": "all"}


class CLIError(InputError):
    """An error in the user's input: reported as one line on stderr, exit code 2."""


def _check_classes(y, cv, unit="samples"):
    classes, counts = np.unique(y, return_counts=True)
    if classes.size < 2:
        raise CLIError(f"the labels have {classes.size} class ({_preview(classes)}); at least 2 are needed.")
    if counts.min() < cv:
        raise CLIError(f"class {str(classes[counts.argmin()])!r} has {counts.min()} {unit[:-1]}(s), fewer "
                       f"than --cv {cv}; lower --cv or leave such classes out (--min-class-size {cv}).")
    return classes, counts


def _resolve_k(value, n_features):
    k = n_from_fraction(value, n_features) if isinstance(value, float) else value
    if k > n_features:
        raise CLIError(f"--n-features {k} exceeds the {n_features} features.")
    return k


# Map of command-line options to SparseAutoencoderSelector parameters.
_ESTIMATOR_OPTIONS = {
    "constraint": "constraint", "radius": "radius", "epochs": "max_epochs",
    "hidden": "hidden_layer_size", "batch_size": "batch_size",
    "learning_rate": "learning_rate", "activation": "activation",
}


def _keeps_its_own_k(args):
    """True when the autoencoder is asked for k features by ``max_features`` (a ``--radius``
    given, or ``--constraint none``), not by ``n_features_to_select``, which would bring back
    the ball whose radius the estimator searches."""
    return args.radius is not None or args.constraint == "none"


def _make_selector(args, k):
    """The SparseAutoencoderSelector of the options, asked for ``k`` features."""
    from . import SparseAutoencoderSelector
    from .model_selection._compare import _set_n_features

    est = SparseAutoencoderSelector()
    params = {name: getattr(args, opt) for opt, name in _ESTIMATOR_OPTIONS.items()
              if getattr(args, opt) is not None}
    if params.get("constraint") == "none":  # no ball: the l1,inf ball of infinite radius
        if args.radius is not None:
            raise CLIError("--radius: --constraint none has no ball; give one of the two.")
        params.update(constraint=None, radius=float("inf"))
    elif params.get("constraint") == "l11":  # the old spelling of the entrywise l1 ball
        params["constraint"] = "l1"
    params.update(random_state=args.random_state, verbose=int(args.verbose))
    try:
        if not _keeps_its_own_k(args):  # the estimator searches the radius that keeps k features
            est = _set_n_features(est.set_params(**params), k)
        else:  # the ball of the radius given, or no ball: at most k features kept
            est.set_params(**params, max_features=int(k))
        est._validate_params()
    except ValueError as exc:  # sklearn's InvalidParameterError is a ValueError
        raise CLIError(_option_error(str(exc))) from None
    return est


def _option_error(message):
    """scikit-learn's "The 'activation' parameter of SparseAutoencoderSelector must be ..." as
    "--activation: must be ..." (its sets of strings sorted: their order varies between runs)."""
    import re

    options = {name: opt for opt, name in _ESTIMATOR_OPTIONS.items()}
    options.update(random_state="random_state", verbose="verbose")
    m = re.match(r"The '(\w+)' parameter of \w+ (must be .*)", message, re.S)
    if not m:
        return f"invalid option: {message}"
    name, rest = m.groups()
    rest = re.sub(r"\{([^{}]*)\}", lambda g: "{" + ", ".join(sorted(g.group(1).split(", "))) + "}", rest)
    return f"--{options.get(name, name).replace('_', '-')}: {rest}"


def _selection_note(args, k):
    """How the autoencoder is asked for ``k`` features: one sentence for stderr and the report."""
    if args.radius is not None:
        return (f"radius {args.radius:g} given: the autoencoder keeps at most {k} features "
                f"(max_features={k}), its radius is not searched")
    if args.constraint == "none":
        return f"no ball (--constraint none): the autoencoder keeps the {k} features of largest weight"
    return (f"n_features_to_select={k}: the autoencoder searches the radius of its ball for {k} "
            "features during training (estimator.params.radius is not used)")


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
        if self._rich is not None:
            self._rich.console.print(message)
        elif not self.quiet:
            print(f"[skproj] {message}", file=sys.stderr, flush=True)

    def advance(self, description=""):
        if self._rich is not None:
            self._rich.update(self._task, advance=1, description=description)

    def close(self):
        if self._rich is not None:
            self._rich.stop()


def run_selection(dataset, args, progress):
    """Run :func:`~skproj.model_selection.compare_selectors` as the options say; return the
    JSON-able report and the SelectionComparison."""
    from sklearn.preprocessing import StandardScaler

    from . import __version__
    from .model_selection import compare_selectors, make_baseline_selector
    from .model_selection._compare import _accepts_sparse

    X, y = dataset.X, dataset.y
    n_samples, n_features = X.shape
    classes, counts = _check_classes(y, args.cv, dataset.unit)
    k = _resolve_k(args.n_features, n_features)
    cap, slow = args.baseline_max_samples, [n for n in SLOW_BASELINES if n in args.baselines]
    if cap and slow and cap < classes.size:
        raise CLIError(f"--baseline-max-samples {cap} is below the {classes.size} classes: the "
                       f"subsample of {', '.join(slow)} keeps every class; give at least {classes.size}.")
    selectors = {"autoencoder": _make_selector(args, k)}
    for name in args.baselines:
        selectors[name] = make_baseline_selector(name, k, random_state=args.random_state)
    is_sparse = sparse.issparse(X)
    dense = [n for n, s in selectors.items() if is_sparse and not _accepts_sparse(s)]
    dataset.preprocessing += f"; densified for {', '.join(dense)} (dense input only)" if dense else ""
    progress.log(f"{dataset.source}: {n_samples} {dataset.unit} x {n_features} features, "
                 f"{classes.size} classes; {args.cv}-fold stratified CV, k = {k} features")
    if _keeps_its_own_k(args):
        progress.log(_selection_note(args, k))
    if cap and slow and n_samples * (args.cv - 1) / args.cv > cap:
        progress.log(f"{', '.join(slow)}: fitted on a stratified subsample of {cap} {dataset.unit} of "
                     "each training fold larger than that (--baseline-max-samples)")

    def on_fit(e):
        tag = SHORT[e["selector"]]
        progress.advance(f"fold {e['fold']}: {tag}")
        own = "" if math.isnan(e["own_score"]) else f", own predictions {e['own_score']:.3f}"
        on = f" (fitted on {e['n_fit']} {dataset.unit})" if e["selector"] in slow else ""
        progress.log(f"fold {e['fold']}/{args.cv}: {tag}{on} kept {e['n_selected']} features in "
                     f"{e['select_time']:.1f} s ({e['fit_time']:.1f} s with scaling and the downstream "
                     f"fit); accuracy {e['score']:.3f}{own}")

    scaler = StandardScaler(with_mean=not is_sparse)  # as stated in dataset.preprocessing
    # with --radius or --constraint none the autoencoder has max_features=k, which
    # n_features_to_select=k would replace: then every selector keeps its own setting (the
    # baselines were made for k)
    result = compare_selectors(
        X, y, selectors, n_features_to_select=None if _keeps_its_own_k(args) else k, cv=args.cv,
        random_state=args.random_state, scaler=scaler, all_features=not getattr(args, "no_reference", False),
        feature_names=dataset.feature_names, progress=on_fit, max_samples=cap or None, subsample=slow,
        n_jobs=-1 if args.scheduler and args.n_jobs is None else args.n_jobs,
    )
    stats = result.to_dict()
    methods = {}
    for name in result.selector_names:
        s = stats[name]
        kept = ("accuracy", "balanced_accuracy", "n_selected", "fit_time_s", "selection_time_s")
        methods[f"{name}+logreg"] = {"description": LABELS[name], **{m: s[m] for m in kept},
                        "fitted_on": f"a stratified subsample of {s['subsample']} {dataset.unit} of each "
                        "training fold" if s["subsample"] else "whole training folds"}
        if name == "autoencoder":
            methods["autoencoder"] = {"description": "SparseAutoencoderSelector (own predictions)",
                                      "accuracy": s["own_accuracy"], "balanced_accuracy": s["own_balanced_accuracy"],
                                      "n_selected": s["n_selected"],
                                      "fit_time_s": s["fit_time_s"], "selection_time_s": s["selection_time_s"]}
    compared = [n for n in result.selector_names if n != "all_features"]
    freq = {n: result.selection_frequency(n) for n in compared}
    mean_imp, ranked = result.importances["autoencoder"].mean(axis=0), result.ranking("autoencoder")
    return {
        "skproj_version": __version__,
        "command": getattr(args, "argv", None),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "versions": _versions(),
        "data": {"source": dataset.source, **_file_facts(args.data), "layer": getattr(args, "layer", None),
                 "normalized": bool(getattr(args, "normalized", False)), "notes": list(dataset.notes),
                 "description": dataset.description,
                 "n_samples": int(n_samples), "n_features": int(n_features),
                 "classes": [str(c) for c in classes], "class_counts": [int(c) for c in counts],
                 "preprocessing": dataset.preprocessing,
                 "gene_names": getattr(args, "gene_names", None)},  # a var column, None: var_names
        "cv": {"n_splits": args.cv, "shuffle": True, "random_state": args.random_state},
        "n_features_to_select": int(k),
        "autoencoder_selection": _selection_note(args, k),
        "radius": args.radius,
        "estimator": {"class": "SparseAutoencoderSelector",
                      "params": selectors["autoencoder"].get_params()},
        "downstream": f"{scaler!r} (fitted on the training fold) + LogisticRegression(max_iter=3000) "
        "fitted on the selected features of each whole training fold",
        "baseline_max_samples": cap or None,
        "baselines": {n: repr(selectors[n]) for n in args.baselines},
        "methods": methods,
        "selection_frequency": {n: stats[n]["selection_frequency"] for n in compared},
        "final_selection": "the k features ranked first by the autoencoder's selection frequency "
        "across the folds (ties: mean importance)",
        "selected_features": {n: [str(result.feature_names[j]) for j in result.ranking(n)[:k]] for n in compared},
        "top_features": [{"name": str(result.feature_names[j]), "frequency": {n: float(freq[n][j]) for n in compared},
                          "autoencoder_mean_importance": float(mean_imp[j])} for j in ranked[: args.top]],
        "total_time_s": result.total_time,
    }, result


def _versions():
    """Versions of Python and of the libraries the results depend on (those installed)."""
    from importlib import metadata
    import platform

    out = {"python": platform.python_version()}
    for dist in ("skproj", "numpy", "scipy", "scikit-learn", "joblib", "anndata", "h5py"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return out


def _file_facts(path):
    """The absolute path, size and modification time (UTC) of the input file ({} without one)."""
    if path is None:
        return {}
    st = os.stat(path)
    mtime = datetime.datetime.fromtimestamp(st.st_mtime, datetime.timezone.utc)
    return {"path": os.path.abspath(path), "size_bytes": st.st_size,
            "modified": mtime.isoformat(timespec="seconds")}


def format_report(report, result, top, unit="samples"):
    """The human-readable summary printed on stdout (the tables: SelectionComparison.summary)."""
    d, n = report["data"], report["cv"]["n_splits"]
    lines = [
        f"skproj select: {d['source']}",
        f"  {d['n_samples']} {unit} x {d['n_features']} features, {len(d['classes'])} classes, "
        f"{n}-fold stratified CV (random_state={report['cv']['random_state']}), "
        f"every selector asked for k = {report['n_features_to_select']} features"
        + ("" if report["radius"] is None else
           f" (the autoencoder for at most k, radius {report['radius']:g})"),
        f"  preprocessing: {d['preprocessing']}", "",
        result.summary(labels=LABELS, reference="autoencoder", top=top, short=SHORT, unit=unit),
        "", f"total time {report['total_time_s']:.1f} s",
    ]
    return "\n".join(lines)


def _json_safe(obj):
    """``obj`` with numpy scalars as Python numbers and non-finite floats as None (JSON null)."""
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    return obj


@contextlib.contextmanager
def _writing(option, path):
    """An OSError while writing ``path`` becomes a one-line error naming ``option``."""
    try:
        yield
    except OSError as exc:
        raise CLIError(f"{option} {path}: {exc.strerror or exc}.") from None


def _write_outputs(report, result, args, dataset):
    """Write the requested files, each atomically, printing a line on stdout for each."""
    if args.output:
        with _writing("--output", args.output), _atomic_path(args.output, ".tmp") as tmp, \
                open(tmp, "w", encoding="utf-8") as fh:
            json.dump(_json_safe(report), fh, indent=2, default=repr, allow_nan=False)
        _say(f"written report: {args.output}")
    if args.genes or args.write_h5ad:
        ranked, k = result.ranking("autoencoder"), report["n_features_to_select"]
        freq = result.selection_frequency("autoencoder")
        imp = result.importances["autoencoder"].mean(axis=0)
        if args.genes:
            if args.default_genes and os.path.exists(args.genes):
                print(f"warning: {args.genes}: an existing file, replaced by the ranked features (the "
                      "default name for a .h5ad input; --genes PATH writes elsewhere).", file=sys.stderr)
            extra = {"selected": np.arange(ranked.size) < k}
            if dataset.feature_ids is not None:  # --gene-names: the var_names too
                extra["var_name"] = dataset.feature_ids[ranked]
            with _writing("--genes", args.genes):
                write_gene_list(args.genes, result.feature_names[ranked], np.arange(1, ranked.size + 1),
                                freq[ranked], imp[ranked], columns=extra)
            _say(f"written ranked features ({ranked.size}, the first {min(k, ranked.size)} "
                 f"selected): {args.genes}")
        if args.write_h5ad:
            raw = dataset.matrix == "raw/X"  # the genes of .raw: annotate raw.var
            # rank: NaN for the genes never selected (they sort last); skproj_gene: the unique
            # name the gene list and the report use (repeated var_names made unique)
            rank = np.full(freq.size, np.nan)
            rank[ranked] = np.arange(1, ranked.size + 1)
            with _writing("--write-h5ad", args.write_h5ad):
                write_h5ad_with_selection(args.data, args.write_h5ad, {
                    "skproj_selected": rank <= k, "skproj_rank": rank,
                    "skproj_selection_frequency": freq, "skproj_importance": imp,
                    "skproj_gene": np.asarray(result.feature_names, dtype=str)},
                    raw=raw, uns={"skproj": {"report": json.dumps(_json_safe(report), default=repr),
                                             "selected": np.asarray(report["selected_features"]["autoencoder"],
                                                                    dtype=str)}})
            _say(f"written copy with {'raw.' if raw else ''}var columns skproj_*: {args.write_h5ad}")
    if args.plot:  # last: the result files are written whatever matplotlib does
        from .model_selection import plot_comparison

        fig = plot_comparison(result, selector="autoencoder", top=args.top,
                              title=report["data"]["source"])
        with _writing("--plot", args.plot), _atomic_path(args.plot, ".tmp") as tmp:
            try:
                fig.savefig(tmp, dpi=120, format=_figure_format(args.plot))
            except (RuntimeError, ValueError) as exc:  # a backend's own failure (e.g. a missing tool)
                raise CLIError(f"--plot {args.plot}: matplotlib could not write it "
                               f"({str(exc).splitlines()[0]}).") from None
        _say(f"written figure: {args.plot}")


# --------------------------------------------------------------------------------------
# argument parsing and entry point
# --------------------------------------------------------------------------------------


def _number(kind, ok, cast):
    """argparse type: ``cast(text)`` that satisfies ``ok``, else an error saying ``kind``."""
    def parse(text):
        try:
            value = cast(text)
        except ValueError:
            value = None
        if value is None or not ok(value):
            raise argparse.ArgumentTypeError(f"expected {kind}, got {text!r}")
        return value
    return parse


_positive_int = _number("an integer >= 1", lambda v: v >= 1, int)
_positive_float = _number("a finite number > 0", lambda v: math.isfinite(v) and v > 0, float)
_max_samples = _number("an integer >= 2 or 'none'", lambda v: v == 0 or v >= 2,  # 0: none
                       lambda t: 0 if t.strip().lower() == "none" else int(t))
_n_features = _number(  # an int K, or a float fraction of the features
    "an integer >= 1 or a fraction in (0, 1]",
    lambda v: v >= 1 if isinstance(v, int) else 0 < v <= 1,
    lambda t: int(t) if t.strip().isdigit() else float(t))


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


def _estimator_defaults():
    """The defaults of SparseAutoencoderSelector's parameters, for the help text."""
    import inspect

    from . import SparseAutoencoderSelector
    from ._network import ACTIVATION_NAMES
    from ._selector import _SPARSE_ACTIVATIONS

    defaults = {name: p.default for name, p in inspect.signature(SparseAutoencoderSelector).parameters.items()}
    return {**defaults, "activations": [*sorted(ACTIVATION_NAMES), *_SPARSE_ACTIVATIONS]}


def _figure_format(path):
    """The figure format of ``path``'s extension (``png`` without one); CLIError if matplotlib
    cannot write it."""
    from matplotlib.backend_bases import FigureCanvasBase

    ext = Path(path).suffix.lower().lstrip(".")
    if not ext:
        return "png"
    # pgf needs a LaTeX installation at save time: refused, not a failure after the run
    formats = {f: d for f, d in FigureCanvasBase.get_supported_filetypes().items() if f != "pgf"}
    if ext not in formats:
        raise CLIError(f"--plot {path}: matplotlib cannot write .{ext} figures; give one of "
                       f"{', '.join('.' + f for f in sorted(formats))}.")
    return ext


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
        "columns and a label column named by --target (an unnamed first column is taken as row "
        "names and ignored); .npz with arrays X (samples x features), "
        "y (labels; another key with --target) and optionally feature_names; .h5ad (AnnData, "
        "needs pip install 'skproj[anndata]') with the labels in the obs column --target. "
        "Exit codes: 0 success, 2 invalid input or options.",
    )
    a = p.add_argument
    a("data", nargs="?", metavar="DATA", help=".csv, .tsv, .npz or .h5ad file (default: the embedded PBMC data)")
    a("--target", metavar="COL", help="label column of a .csv/.tsv or obs column of a .h5ad (required "
      "there); label array key of a .npz (default y)")
    a("--drop", type=_names(None), default=[], metavar="COL[,COL...]", help="columns of a .csv/.tsv to ignore (sample ids...)")
    a("--layer", metavar="NAME", help="layer of a .h5ad file to use instead of X; raw: adata.raw "
      "(its matrix and genes) when no layer has that name")
    a("--gene-names", metavar="COLUMN", help="var column of a .h5ad file with the gene names to report "
      "(e.g. feature_name or gene_symbols when var_names are Ensembl ids; default: var_names)")
    a("--drop-missing", action="store_true", help="leave out the samples whose label is missing "
      "(NaN, empty, NA...; default: an error naming the first)")
    a("--min-class-size", type=_positive_int, metavar="N", help="leave out the classes with fewer "
      "than N samples (e.g. N = --cv; a note names them; default: keep all, and an error if one "
      "has fewer than --cv)")
    a("--normalized", action="store_true", help="the .h5ad counts are already normalised: no log1p per 10k")
    a("--cv", type=_positive_int, default=5, help="number of stratified folds (default 5)")
    a("--n-features", "--max-features", dest="n_features", type=_n_features, default=DEFAULT_N_FEATURES,
      metavar="K", help="number of features every selector is asked for: an integer, or a fraction "
      f"of the features (default {DEFAULT_N_FEATURES}: 10%%); --max-features is an old spelling")
    a("--baselines", type=_names(list(BASELINES)), default=list(BASELINES), metavar="NAME[,NAME...]",
      help=f"baselines to compare with (default: {','.join(BASELINES)}; 'none' for none)")
    a("--no-reference", action="store_true", help="leave out the reference of the downstream "
      "classifier on all the features (on large data its fit is often the slowest of all)")
    a("--baseline-max-samples", type=_max_samples, default=DEFAULT_BASELINE_MAX_SAMPLES, metavar="N",
      help=f"fit {' and '.join(SLOW_BASELINES)} on a stratified subsample of N samples (at least the "
      "number of classes) of each training fold when it is larger (they scale badly with n; "
      f"'none': whole folds; default {DEFAULT_BASELINE_MAX_SAMPLES})")
    a("--constraint", choices=["l1inf", "l1", "l12", "l11", "none"],
      help="ball on the first layer (default: the estimator's, l1inf; l11 is an old spelling of l1; "
      "none: no ball, the autoencoder keeps its K features of largest weight, max_features=K)")
    a("--radius", type=_positive_float, metavar="R", help="radius of the ball on the standardised "
      "features; given, the autoencoder keeps at most K (--n-features) features of that ball "
      "(max_features=K) and its radius is not searched (default: the estimator searches the "
      "radius for exactly K features)")
    est = _estimator_defaults()
    a("--epochs", type=_positive_int, help="training epochs per phase (default: the estimator's, "
      f"{est['max_epochs']}; fewer epochs give worse features)")
    a("--hidden", type=_positive_int, help=f"hidden layer size (default: the estimator's, {est['hidden_layer_size']})")
    a("--batch-size", type=_positive_int, help="minibatch size (default: the estimator's, "
      f"{est['batch_size']!r}: set from the number of samples)")
    a("--learning-rate", type=_positive_float, help=f"Adam learning rate (default: the estimator's, {est['learning_rate']:g})")
    a("--activation", help=f"activation of the hidden layers: {', '.join(est['activations'])} (default: "
      f"the estimator's, {est['activation']!r})")
    a("--random-state", type=int, default=0, help="seed of the folds, the network and the random baselines (default 0)")
    a("--n-jobs", type=int, default=None, metavar="N", help="fits (folds x selectors) run in parallel by joblib; -1: all cores (default 1)")
    a("--scheduler", metavar="ADDRESS", help="run the fits on a Dask cluster (tcp://HOST:PORT) "
      "through joblib's dask backend; needs pip install 'skproj[dask]'")
    a("--top", type=_positive_int, default=15, help="number of top features to print and plot (default 15)")
    a("--output", "-o", metavar="REPORT.json", help="write the full report as JSON (an infinite or "
      "undefined number is null)")
    a("--plot", metavar="FIG.png", help="write a figure, in the format of its extension (.png, .pdf, "
      ".svg, ...; needs matplotlib)")
    a("--genes", metavar="GENES.csv", help="write the ranked features (gene, rank, selection_frequency, "
      "importance, selected: True for the K selected; var_name with --gene-names); default for a "
      ".h5ad input: DATA_STEM_skproj_genes.csv in the folder of --output, else in the current folder")
    a("--write-h5ad", metavar="OUT.h5ad", help="write a copy of the .h5ad input with var columns "
      "skproj_selected, skproj_rank (NaN: never selected), skproj_selection_frequency, skproj_importance "
      "and skproj_gene (the name used in the gene list: repeated names made unique); raw.var's "
      "columns when the genes of .raw were selected (--layer raw); and the report as JSON text in "
      "uns['skproj']['report']")
    a("--quiet", "-q", action="store_true", help="no progress messages on stderr")
    a("--verbose", "-v", action="count", default=0, help="pass verbose to the estimator (per-epoch "
      "loss, on stderr; the cross-validation's lines behind their fold and selector)")
    return parser


def _check_writable(path, option):
    if Path(path).is_dir():
        raise CLIError(f"{option} {path}: is a directory; give a file name.")
    if str(path).endswith(("/", os.sep)):   # Path() drops the slash: "newdir/" named a file
        raise CLIError(f"{option} {path}: names a directory, which does not exist; give a file name.")
    parent = Path(path).resolve().parent
    if not parent.is_dir():
        raise CLIError(f"{option} {path}: the directory {parent} does not exist.")
    if not os.access(parent, os.W_OK):
        raise CLIError(f"{option} {path}: the directory {parent} is not writable.")


def _same_file(a, b):
    """Whether paths ``a`` and ``b`` name the same file (existing or not)."""
    if os.path.exists(a) and os.path.exists(b):
        return os.path.samefile(a, b)
    return os.path.realpath(a) == os.path.realpath(b)


def _check_outputs(args):
    """Each output option names a writable file of its own, never the DATA file."""
    named = {}
    for option in ("output", "plot", "genes", "write_h5ad"):
        path = getattr(args, option)
        if not path:
            continue
        flag = f"--{option.replace('_', '-')}"
        if option == "genes" and getattr(args, "default_genes", False):
            flag = "the default gene list (--genes)"
        _check_writable(path, flag)
        if args.data is not None and _same_file(path, args.data):
            what = "writes a copy, never" if option == "write_h5ad" else "would overwrite"
            raise CLIError(f"{flag} {path}: {what} the DATA file {args.data}; give another path.")
        for other, other_path in named.items():
            if _same_file(path, other_path):
                raise CLIError(f"{other} {other_path} and {flag} {path} name the same file; "
                               "give each its own path.")
        named[flag] = path


def _say(text):
    """Print ``text`` on stdout (the results). When stdout was closed early (``skproj select |
    head``), the rest of what goes there is dropped and the run goes on: the files it was asked
    for are still written (it stopped at the first line it could not print)."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        try:   # descriptor 1 too, so that the interpreter's own flush at exit does not fail
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass
        sys.stdout = open(os.devnull, "w")


def _flush(*streams):
    """Flush each stream that is open (None and closed ones are skipped)."""
    for stream in streams:
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass


@contextlib.contextmanager
def _stdout_to_stderr():
    """Send what is printed to stdout to stderr: Python's ``sys.stdout`` and the process's file
    descriptor 1 (pointed at descriptor 2 when both are open), which the joblib worker processes
    started meanwhile inherit: the estimators' ``verbose`` lines of a parallel run (``--n-jobs``)
    went to stdout, among the results."""
    saved = None
    _flush(sys.stdout, sys.__stdout__)
    try:
        saved = os.dup(1)
        os.dup2(2, 1)
    except OSError:   # descriptor 1 or 2 closed: Python's stdout only
        if saved is not None:
            os.close(saved)
        saved = None
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        if saved is not None:
            _flush(sys.__stdout__)   # written during the run: it belongs to stderr
            os.dup2(saved, 1)
            os.close(saved)


@contextlib.contextmanager
def _parallel_backend(address):
    """:func:`skproj.model_selection.dask_backend` at ``address``; nothing when None."""
    with contextlib.ExitStack() as stack:
        if address is not None:
            from .model_selection import dask_backend

            try:
                stack.enter_context(dask_backend(address))
            except (ImportError, ValueError, ConnectionError) as exc:
                raise CLIError(f"--scheduler: {exc}") from None
        yield


def _select(args):
    if args.cv < 2:
        raise CLIError("--cv must be at least 2.")
    if args.n_jobs == 0:
        raise CLIError("--n-jobs must be a positive number of jobs or -1 (all cores), not 0.")
    is_h5ad = args.data is not None and Path(args.data).suffix.lower() == ".h5ad"
    if args.write_h5ad and not is_h5ad:
        raise CLIError("--write-h5ad needs a .h5ad DATA file.")
    args.default_genes = is_h5ad and args.genes is None
    if args.default_genes:
        # beside the report when there is one (the outputs of a run stay together), else here
        folder = Path(args.output).parent if args.output else Path()
        args.genes = str(folder / f"{Path(args.data).stem}_skproj_genes.csv")
    _check_outputs(args)
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise CLIError("--plot needs matplotlib, which is not installed (pip install "
                           "matplotlib, or pip install 'skproj[plot]').") from None
        _figure_format(args.plot)  # an unknown extension fails now, not after the run
    dataset = load_data(args.data, args.target, args.drop, args.layer, args.normalized, args.gene_names,
                        args.drop_missing)
    if args.min_class_size:
        dataset.drop_small_classes(args.min_class_size)
    for note in dataset.notes:
        print(f"note: {note}", file=sys.stderr)
    # stdout is for the results: what the estimators print (--verbose) goes to stderr, in the
    # worker processes too
    with _stdout_to_stderr(), _parallel_backend(args.scheduler):
        progress = _Progress(total=args.cv * (len(args.baselines) + 2 - args.no_reference), quiet=args.quiet)
        try:
            report, result = run_selection(dataset, args, progress)
        except DivergedError as exc:
            lr = "" if args.learning_rate is None else f" {args.learning_rate:g}"
            raise CLIError(f"--learning-rate{lr}: "
                           + str(exc).replace("learning_rate", "--learning-rate")) from None
        finally:
            progress.close()
    # the results first, so that a file that cannot be written loses nothing
    _say(format_report(report, result, args.top, dataset.unit))
    for note in _fewer_than_asked(result):
        print(f"note: {note}", file=sys.stderr)
    _write_outputs(report, result, args, dataset)
    return EXIT_OK


def _fewer_than_asked(result):
    """A line for each selector that kept fewer features than it was asked for in some fold."""
    notes = []
    for name in result.selector_names:
        asked, kept = result.n_features_requested[name], result.supports[name].sum(axis=1)
        short = (asked >= 0) & (kept < asked)
        if name != "all_features" and short.any():
            notes.append(f"{name} kept fewer features than the {int(asked.max())} asked for in "
                         f"{int(short.sum())} of {short.size} folds (as few as {int(kept[short].min())}): "
                         "only these carry any information in the training fold (a constant or "
                         "all-zero feature is never selected).")
    return notes


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
    received = []
    try:
        with warnings.catch_warnings(), _sigterm_exits(received):
            warnings.showwarning = _show_warning
            code = _main(parser, argv)
    except KeyboardInterrupt:
        print("error: interrupted (no output file was left half-written)", file=sys.stderr)
        return 130
    except SystemExit:
        if not received:
            raise
    if received:
        # also a SIGTERM whose SystemExit was swallowed (raised inside a callback of a library,
        # e.g. h5py's weakref callbacks while a copy was written): the command was terminated
        print("error: terminated (SIGTERM; no output file was left half-written)", file=sys.stderr)
        return 128 + received[0]
    return code


@contextlib.contextmanager
def _sigterm_exits(received):
    """SIGTERM (sent by SLURM at time-out) raises SystemExit(143), so that the cleanup of a
    half-written temporary file runs, and is recorded in ``received``; the previous handler is
    restored on exit."""
    if threading.current_thread() is not threading.main_thread():  # handlers: main thread only
        yield
        return

    def handler(signum, frame):
        received.append(signum)
        raise SystemExit(128 + signum)

    def unraisable(info):  # the SystemExit of the handler, raised inside a callback: reported once
        if not (received and issubclass(info.exc_type, SystemExit)):
            hook(info)

    previous, hook = signal.signal(signal.SIGTERM, handler), sys.unraisablehook
    sys.unraisablehook = unraisable
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
        sys.unraisablehook = hook


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Print a warning as one ``warning: ...`` line on stderr (no source file and line)."""
    print(f"warning: {message}", file=sys.stderr if file is None else file)


def _main(parser, argv):
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help, or an error inside argparse itself
            return int(exc.code or 0)
        args.argv = ["skproj", *(sys.argv[1:] if argv is None else argv)]
        if args.command is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        if args.command == "select":
            return _select(args)
        raise CLIError(f"unknown command {args.command!r}")  # pragma: no cover
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # stdout closed early (skproj select | head): not an error
        sys.stdout = open(os.devnull, "w")
        return EXIT_OK
