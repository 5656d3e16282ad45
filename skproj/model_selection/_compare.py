"""Cross-validated comparison of feature selectors (the protocol behind ``skproj select``).

Each selector is fitted on the standardised training fold, asked for a number of features, and
judged by the test accuracy of one downstream classifier fitted on the features it selected
(``Pipeline(StandardScaler(), selector, LogisticRegression())``, the protocol of the
selection-quality tables). Every (fold, selector) fit is independent, so they run in parallel
with joblib (``n_jobs``), locally or, inside ``joblib.parallel_config(backend="dask")``, on a
``dask.distributed`` cluster.
"""

import contextlib
import io
import sys
import threading
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .._validation import n_from_fraction

__all__ = ["SelectionComparison", "compare_selectors"]

PASSTHROUGH = "passthrough"


def _set_n_features(estimator, k):
    """Ask ``estimator`` for ``k`` features through the parameter it has for that.

    Tried in order: ``n_features_to_select`` (RFE, SequentialFeatureSelector, skproj's
    selectors), ``k`` (SelectKBest), ``max_features`` (SelectFromModel; a cap for the
    autoencoder before it had ``n_features_to_select``). Raises ValueError if none exists.
    """
    params = estimator.get_params(deep=False)
    for name in ("n_features_to_select", "k", "max_features"):
        if name in params:
            return estimator.set_params(**{name: int(k)})
    raise ValueError(
        f"{type(estimator).__name__} has no n_features_to_select, k or max_features parameter; "
        "it cannot be asked for a number of features."
    )


def _importance(selector, support):
    """Per-feature importance of a fitted selector, scaled to max 1 (the support if it has none)."""
    imp = getattr(selector, "feature_importances_", None)
    if imp is None:
        imp = getattr(selector, "scores_", None)
        if imp is not None and np.ndim(imp) == 2:  # per class (Wilcoxon markers): the best class
            imp = np.max(imp, axis=0)
    if imp is None:
        inner = getattr(selector, "estimator_", None)
        coef = getattr(inner, "coef_", None)
        imp = getattr(inner, "feature_importances_", None) if coef is None else np.abs(
            np.atleast_2d(coef)).sum(axis=0)
    imp = support.astype(float) if imp is None else np.nan_to_num(np.asarray(imp, dtype=float))
    if imp.shape != support.shape:
        imp = support.astype(float)
    top = imp.max() if imp.size else 0.0
    return imp / top if top > 0 else imp


class _LinePrefixer(io.TextIOBase):
    """A text stream that writes each line to ``stream`` behind ``prefix`` (a line is written
    once it is complete; ``flush`` writes an unfinished one)."""

    def __init__(self, stream, prefix):
        self._stream = stream
        self._prefix = prefix
        self._pending = ""

    def writable(self):
        return True

    def write(self, text):
        lines = (self._pending + text).split("\n")
        self._pending = lines.pop()
        for line in lines:
            self._stream.write(f"{self._prefix}{line}\n")
        return len(text)

    def flush(self):
        if self._pending:
            self._stream.write(self._prefix + self._pending)
            self._pending = ""
        self._stream.flush()


@contextlib.contextmanager
def _tagged_stdout(tag):
    """Prefix what is printed meanwhile (a verbose selector's epoch lines) with ``[tag] ``.

    Only in a process's main thread (sequential runs, joblib's process workers): ``sys.stdout``
    is shared by every thread of a process, so fits running in threads (joblib's threading or
    dask backend) print untagged rather than race on it.
    """
    if tag is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    out = _LinePrefixer(sys.stdout, f"[{tag}] ")
    try:
        with contextlib.redirect_stdout(out):
            yield
    finally:
        out.flush()


# Largest selected block (rows x columns) of a sparse fold handed densified to the downstream
# classifier: 2**25 entries (256 MB in float64), the all-features reference included; larger
# blocks stay sparse.
_DENSE_DOWNSTREAM_MAX = 2**25


def _stratified_subsample(y, size, rng):
    """Positions of a stratified sample of ``size`` of the entries of ``y``, sorted.

    Each class gets ``floor(size * n_c / n)`` samples, the remaining ones going to the classes
    with the largest remainders (ties: class order), so the class proportions are kept to
    within one sample; every class keeps at least one sample when ``size`` allows it (taken
    from the largest class). The samples of a class are drawn without replacement by ``rng``.
    """
    classes, codes, counts = np.unique(y, return_inverse=True, return_counts=True)
    n = codes.size
    quota = size * counts / n
    take = np.floor(quota).astype(np.int64)
    extra = size - take.sum()
    order = np.lexsort((np.arange(classes.size), -(quota - take)))
    take[order[:extra]] += 1
    if size >= classes.size:  # keep every class: one sample taken from the largest
        for c in np.flatnonzero(take == 0):
            take[take.argmax()] -= 1
            take[c] = 1
    picked = [rng.choice(np.flatnonzero(codes == c), take[c], replace=False)
              for c in range(classes.size) if take[c] > 0]
    return np.sort(np.concatenate(picked))


def _accepts_sparse(selector):
    """Whether a selector says (``input_tags.sparse``) that it takes scipy.sparse input."""
    from sklearn.utils import get_tags

    try:
        return bool(get_tags(selector).input_tags.sparse)
    except Exception:  # a selector without scikit-learn tags: assume dense only
        return False


def _accuracies(y_true, y_pred):
    """Accuracy and balanced accuracy (the mean of the per-class recalls) of ``y_pred``."""
    from sklearn.metrics import balanced_accuracy_score

    with warnings.catch_warnings():  # a predicted class absent from this test fold
        warnings.simplefilter("ignore", category=UserWarning)
        balanced = balanced_accuracy_score(y_true, y_pred)
    return float(np.mean(np.asarray(y_pred) == np.asarray(y_true))), float(balanced)


def _fit_and_score(X, y, train, test, selector, k, scaler, downstream, fit_rows=None, tag=None):
    """Fit scaler + selector + downstream classifier on one training fold; score on its test fold.

    ``fit_rows`` (positions in ``train``), if given, is the subsample the selector is fitted on;
    the scaler and the downstream classifier always see the whole training fold. A sparse fold
    reaches the selector sparse if it accepts sparse input (its ``input_tags.sparse``), else
    densified; the downstream classifier gets the selected columns, densified when small.
    ``tag`` (e.g. ``"fold 2/5 autoencoder"``) prefixes what the selector prints while it is
    fitted (``_tagged_stdout``).
    """
    from scipy import sparse
    from sklearn.base import clone
    from sklearn.dummy import DummyClassifier

    t0 = time.perf_counter()
    scale = clone(scaler).fit(X[train])
    Z_train, Z_test = scale.transform(X[train]), scale.transform(X[test])
    y_train, y_test = y[train], y[test]
    n_features = X.shape[1]
    own = own_bal = float("nan")
    fitted = None
    select_time = 0.0
    if isinstance(selector, str):  # PASSTHROUGH: all features
        support = np.ones(n_features, dtype=bool)
    elif k == 0:  # asked for nothing (the reference selector kept nothing in this fold)
        support = np.zeros(n_features, dtype=bool)
    else:
        fitted = clone(selector)
        if k is not None:
            _set_n_features(fitted, k)
        Z_fit, y_fit = (Z_train, y_train) if fit_rows is None else (Z_train[fit_rows], y_train[fit_rows])
        if sparse.issparse(Z_fit) and not _accepts_sparse(fitted):
            Z_fit = Z_fit.toarray()
        with warnings.catch_warnings():  # ConvergenceWarning (a UserWarning), and the NaN F
            warnings.simplefilter("ignore", category=UserWarning)  # of a feature constant in a
            warnings.simplefilter("ignore", category=RuntimeWarning)  # fold (ranked last)
            t1 = time.perf_counter()
            with _tagged_stdout(tag):
                fitted.fit(Z_fit, y_fit)
            select_time = time.perf_counter() - t1
        del Z_fit
        support = np.asarray(fitted.get_support(), dtype=bool)
    if support.any():
        A_train, A_test = Z_train[:, support], Z_test[:, support]
        if sparse.issparse(A_train) and A_train.shape[0] * A_train.shape[1] <= _DENSE_DOWNSTREAM_MAX:
            A_train, A_test = A_train.toarray(), A_test.toarray()
        clf = clone(downstream)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=UserWarning)
            clf.fit(A_train, y_train)
        score, balanced = _accuracies(y_test, clf.predict(A_test))
    else:  # nothing selected: the majority-class rule
        clf = DummyClassifier(strategy="most_frequent").fit(np.zeros((len(train), 1)), y_train)
        score, balanced = _accuracies(y_test, clf.predict(np.zeros((len(test), 1))))
    fit_time = time.perf_counter() - t0
    if fitted is not None and hasattr(fitted, "predict") and hasattr(fitted, "score"):
        Z_own = Z_test
        if sparse.issparse(Z_own) and not _accepts_sparse(fitted):
            Z_own = Z_own.toarray()
        own, own_bal = _accuracies(y_test, fitted.predict(Z_own))
    importance = _importance(fitted, support) if fitted is not None else support.astype(float)
    return {"score": score, "own_score": own, "balanced": balanced, "own_balanced": own_bal,
            "support": support, "importance": importance,
            "fit_time": fit_time, "select_time": select_time,
            "n_fit": len(train) if fit_rows is None else len(fit_rows)}


@dataclass
class SelectionComparison:
    """Result of :func:`compare_selectors`: per-fold scores, selections and fit times.

    Attributes
    ----------
    selector_names : list of str
        The compared selectors, in the order given (``"all_features"`` last when included).
    feature_names : ndarray of str, shape (n_features,)
        Names of the columns of ``X``.
    n_splits : int
        Number of cross-validation folds.
    scores : dict of str to ndarray of shape (n_splits,)
        Test accuracy of the downstream classifier fitted on each selector's features, per fold.
    own_scores : dict of str to ndarray of shape (n_splits,)
        Test accuracy of the selector's own predictions (NaN for selectors that do not predict).
    balanced_scores, own_balanced_scores : dict of str to ndarray of shape (n_splits,)
        The same as balanced accuracy (:func:`sklearn.metrics.balanced_accuracy_score`: the
        mean recall over the classes, which a rare class weighs as much as a common one).
    supports : dict of str to ndarray of bool, shape (n_splits, n_features)
        Selected features per fold.
    importances : dict of str to ndarray of shape (n_splits, n_features)
        Feature importances per fold, each fold's scaled to a maximum of 1 (``feature_importances_``,
        else ``scores_``, else the inner model's ``|coef_|`` or importances, else the support). A
        2-D ``scores_`` (classes x features, as the Wilcoxon markers' z-scores) gives each feature
        its maximum over the classes, its best class's score (negative for a feature below the rest
        in every class).
    fit_times : dict of str to ndarray of shape (n_splits,)
        Seconds to fit scaler, selector and downstream classifier, per fold.
    selection_times : dict of str to ndarray of shape (n_splits,)
        Seconds of these spent fitting the selector alone, per fold (0 for ``"all_features"``).
    n_features_requested : dict of str to ndarray of int, shape (n_splits,)
        Number of features each selector was asked for per fold (-1: not asked).
    n_fit_samples : dict of str to ndarray of int, shape (n_splits,)
        Number of training samples each selector was fitted on per fold: the training fold, or
        the stratified subsample of ``max_samples`` (see :func:`compare_selectors`).
    subsamples : list of ndarray of int or None
        Per fold, the indices (rows of ``X``) of the stratified subsample of the training fold
        that the subsampled selectors were fitted on; None for a fold that was not subsampled.
    total_time : float
        Seconds for the whole comparison.
    info : dict
        Settings of the run (sizes, splitter, scaler, downstream classifier, reference,
        ``max_samples``, subsampled selectors).
    """

    selector_names: list
    feature_names: np.ndarray
    n_splits: int
    scores: dict
    own_scores: dict
    supports: dict
    importances: dict
    fit_times: dict
    n_features_requested: dict
    n_fit_samples: dict = field(default_factory=dict)
    subsamples: list = field(default_factory=list)
    total_time: float = 0.0
    info: dict = field(default_factory=dict)
    selection_times: dict = field(default_factory=dict)
    balanced_scores: dict = field(default_factory=dict)
    own_balanced_scores: dict = field(default_factory=dict)

    def subsampled(self, name):
        """Size of the stratified subsample ``name`` was fitted on (the largest over the folds),
        or None if it was fitted on whole training folds."""
        if name not in self.info.get("subsampled", ()):
            return None
        return int(self.n_fit_samples[name].max())

    def n_selected(self, name):
        """Number of features ``name`` selected in each fold, ndarray of int, shape (n_splits,)."""
        return self.supports[name].sum(axis=1)

    def selection_frequency(self, name):
        """Fraction of the folds in which each feature was selected: ndarray, shape (n_features,)."""
        return self.supports[name].mean(axis=0)

    def ranking(self, name):
        """Indices of the features ``name`` selected at least once: most frequent first, ties by
        mean importance (then by index). ndarray of int."""
        freq = self.selection_frequency(name)
        imp = self.importances[name].mean(axis=0)
        order = np.lexsort((-imp, -freq))
        return order[freq[order] > 0]

    def summary(self, *, labels=None, reference=None, top=0, short=None, unit="samples"):
        """Plain-text report: accuracy, features selected and fit time per selector, and the
        stability of the top features.

        Parameters
        ----------
        labels : dict of str to str or None, default=None
            Row label of each selector (default its name). A selector that predicts gets a
            second row, ``"<label> (own predictions)"``.
        reference : str or None, default=None
            Selector compared with the most accurate of the others (``"all_features"``
            excluded) in one line, and whose top features are listed; default the first.
        top : int, default=0
            Number of top features of ``reference`` (its :meth:`ranking`) listed, with how
            often every other selector picked them and ``reference``'s mean importance.
        short : dict of str to str or None, default=None
            Column heading of each selector in the feature table (default its name).
        unit : str, default="samples"
            What a sample is called in the note under the table on the selectors fitted on a
            stratified subsample (``"cells"`` for single-cell data).

        Returns
        -------
        text : str
        """
        labels, short = labels or {}, short or {}
        reference = self.selector_names[0] if reference is None else reference
        rows = []  # (label, scores, balanced scores, name)
        for name in self.selector_names:
            mark = " *" if self.subsampled(name) else ""
            rows.append((labels.get(name, name) + mark, self.scores[name], self.balanced_scores.get(name), name))
            if np.isfinite(self.own_scores[name]).all():
                rows.append((f"{labels.get(name, name).split(' -> ')[0]} (own predictions)",
                             self.own_scores[name], self.own_balanced_scores.get(name), name))
        width = max(24, *(len(r[0]) + 2 for r in rows))
        head = (f"{'method':<{width}} {'accuracy':>17} {'balanced':>8} {'features':>16} {'fit time (s)':>13} "
                f"{'selection (s)':>13}")
        lines = [head, "-" * len(head)]
        for lab, s, b, name in rows:
            k, t = self.n_selected(name), self.fit_times[name].mean()
            sel = f"{self.selection_times[name].mean():>13.2f}" if self.selection_times else ""
            bal = f"{b.mean():>8.3f}" if b is not None else " " * 8
            lines.append(f"{lab:<{width}} {s.mean():>7.3f} +/- {s.std():.3f} {bal} "
                         f"{k.mean():>7.1f} +/- {k.std():<4.1f} {t:>13.2f} {sel}".rstrip())
        sub = {n: self.subsampled(n) for n in self.selector_names if self.subsampled(n)}
        for size in sorted(set(sub.values())):
            names = ", ".join(short.get(n, n) for n in sub if sub[n] == size)
            lines.append(f"* {names}: selector fitted on a stratified subsample of {size} {unit} "
                         "of each training fold (the downstream classifier on the whole fold)")
        others = [n for n in self.selector_names if n not in (reference, "all_features")]
        if others:
            best = max(others, key=lambda n: self.scores[n].mean())
            a, b = self.scores[reference].mean(), self.scores[best].mean()
            lines.append(f"{reference} {a:.3f}, best other selector {short.get(best, best)} "
                         f"{b:.3f} (difference {a - b:+.3f})")
        idx, n = self.ranking(reference)[:top], self.n_splits
        if top and idx.size:
            cols = [reference] + others
            lines += ["", f"Top features by selection frequency across the {n} folds "
                      f"({reference}), and how often the other selectors picked them:",
                      f"  {'rank':>4}  {'feature':<20} "
                      + " ".join(f"{short.get(c, c)[:9]:>9}" for c in cols) + f" {'importance':>10}"]
            imp = self.importances[reference].mean(axis=0)
            for r, j in enumerate(idx, start=1):
                cells = " ".join(f"{int(self.supports[c][:, j].sum()):>5d}/{n:<3d}" for c in cols)
                lines.append(f"  {r:>4}  {self.feature_names[j]:<20} {cells} {imp[j]:>10.3f}")
        elif top:
            lines += ["", f"{reference} selected no feature in any fold."]
        return "\n".join(lines)

    def _per_fold(self, table, name):
        """``table[name]``, or NaN per fold for a result made without it (an older version)."""
        return table.get(name, np.full(self.n_splits, np.nan))

    def to_dict(self):
        """JSON-able summary: per selector, mean / std / per-fold values of the downstream
        accuracy, own accuracy (selectors that predict), number selected, number requested and
        fit time, training samples the selector was fitted on per fold and the size of its
        stratified subsample (None: whole folds), and the selection frequency of every feature selected at least once (most
        frequent first)."""
        def stats(values):
            a = np.asarray(values, dtype=float)
            return {"mean": float(a.mean()), "std": float(a.std()), "folds": a.tolist()}

        out = {}
        for name in self.selector_names:
            freq = self.selection_frequency(name)
            entry = {"accuracy": stats(self.scores[name]),
                     "balanced_accuracy": stats(self._per_fold(self.balanced_scores, name)),
                     "n_selected": stats(self.n_selected(name)),
                     "n_requested": self.n_features_requested[name].tolist(),
                     "fit_time_s": stats(self.fit_times[name]),
                     "selection_time_s": stats(self._per_fold(self.selection_times, name)),
                     "n_fit_samples": self.n_fit_samples[name].tolist() if self.n_fit_samples else None,
                     "subsample": self.subsampled(name),
                     "selection_frequency": {str(self.feature_names[j]): float(freq[j])
                                             for j in self.ranking(name)}}
            if np.isfinite(self.own_scores[name]).all():
                entry["own_accuracy"] = stats(self.own_scores[name])
                entry["own_balanced_accuracy"] = stats(self._per_fold(self.own_balanced_scores, name))
            out[name] = entry
        return out

    def to_frame(self):
        """One row per (selector, fold): a pandas DataFrame (needs pandas).

        Columns: selector, fold, accuracy, own_accuracy, balanced_accuracy, own_balanced_accuracy,
        n_selected, n_requested, fit_time_s,
        selection_time_s, n_fit_samples.
        """
        import pandas as pd

        rows = [
            {"selector": name, "fold": f, "accuracy": self.scores[name][f],
             "own_accuracy": self.own_scores[name][f], "balanced_accuracy": self._per_fold(self.balanced_scores, name)[f],
             "own_balanced_accuracy": self._per_fold(self.own_balanced_scores, name)[f],
             "n_selected": int(self.n_selected(name)[f]),
             "n_requested": int(self.n_features_requested[name][f]),
             "fit_time_s": self.fit_times[name][f],
             "selection_time_s": self._per_fold(self.selection_times, name)[f],
             "n_fit_samples": int(self.n_fit_samples[name][f]) if self.n_fit_samples else -1}
            for name in self.selector_names for f in range(self.n_splits)
        ]
        return pd.DataFrame(rows)

    def features_frame(self, name):
        """Selection frequency and mean importance of every feature ``name`` selected at least
        once, most stable first: a pandas DataFrame indexed by feature name (needs pandas)."""
        import pandas as pd

        idx = self.ranking(name)
        return pd.DataFrame(
            {"rank": np.arange(1, idx.size + 1),
             "frequency": self.selection_frequency(name)[idx],
             "importance": self.importances[name].mean(axis=0)[idx]},
            index=pd.Index(self.feature_names[idx], name="feature"),
        )


def compare_selectors(X, y, selectors, *, n_features_to_select=None, reference=None, cv=5,
                      random_state=None, scaler=None, downstream=None, all_features=True,
                      feature_names=None, n_jobs=None, progress=None, max_samples=None,
                      subsample=None):
    """Cross-validate feature selectors under one protocol and return every fold's result.

    For each fold of ``cv`` and each selector: a scaler is fitted on the training fold, the
    selector on the scaled training fold, and the ``downstream`` classifier on the selected
    columns; the downstream test accuracy measures the selection. Selectors that predict
    (``SparseAutoencoderSelector``) also get the accuracy of their own predictions. The
    frequency with which a feature is selected across the folds measures stability.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Features (dense or scipy.sparse; give ``scaler=StandardScaler(with_mean=False)`` for
        sparse input).
    y : array-like of shape (n_samples,)
        Class labels.
    selectors : dict of str to estimator
        Unfitted scikit-learn selectors (``fit`` and ``get_support``), keyed by a display name.
        They are cloned for every fold.
    n_features_to_select : int, float or None, default=None
        If an int in [1, n_features], or a float in (0, 1] (that fraction of the features,
        ``max(1, int(fraction * n_features))``), every selector is asked for this many features (through its
        ``n_features_to_select``, ``k`` or ``max_features`` parameter). If None, selectors keep
        their own settings (except with ``reference``).
    reference : str or None, default=None
        Name of a selector whose number of selected features, fold by fold, the other selectors
        are asked for (the comparison "at the k the reference chose"). The reference is fitted
        first. Cannot be combined with ``n_features_to_select``.
    cv : int or cross-validation splitter, default=5
        An int is the number of folds of ``StratifiedKFold(shuffle=True,
        random_state=random_state)``.
    random_state : int, RandomState or None, default=None
        Shuffling of the folds when ``cv`` is an int. Selectors keep their own ``random_state``.
    scaler : transformer or None, default=None
        Fitted on each training fold before the selector; None means ``StandardScaler()``
        (``with_mean=False`` for sparse ``X``).
    downstream : classifier or None, default=None
        Fitted on the selected features of each training fold; None means
        ``LogisticRegression(max_iter=3000)``. With no feature selected, the majority class.
    all_features : bool, default=True
        Add a reference ``"all_features"``: the downstream classifier on every feature.
    feature_names : array-like of str of shape (n_features,) or None, default=None
        Names for the report; default the columns of a DataFrame ``X``, else ``x0, x1, ...``.
    n_jobs : int or None, default=None
        Number of (fold, selector) fits run in parallel by joblib (-1: all cores). Inside
        ``joblib.parallel_config(backend="dask")`` they run on a ``dask.distributed`` cluster.
        The results do not depend on ``n_jobs``.
    progress : callable or None, default=None
        Called in this process as ``progress(event)`` after each fit, with a dict holding
        ``fold`` (1-based), ``selector``, ``score``, ``own_score``, ``n_selected``, ``fit_time``
        (scaling, selection and downstream fit), ``select_time`` (the selection alone), ``n_fit``
        (training samples the selector saw), ``done`` and ``total``.
    max_samples : int >= 2 (and >= the number of classes when a selector is subsampled) or None, default=None
        The rule for selectors whose cost grows too fast with the number of samples (saga's
        l1-logistic regression, random forests): in a fold whose training set has more than
        ``max_samples`` samples, the selectors named in ``subsample`` are fitted on a
        stratified subsample of ``max_samples`` samples of the training fold (class proportions
        kept to within one sample, every class kept; drawn with ``random_state``, one per
        fold, the same for all of them). The scaler and the downstream classifier still see
        the whole training fold, so only the selection step sees fewer samples. The result
        says so: ``SelectionComparison.n_fit_samples``, :meth:`SelectionComparison.subsampled`,
        a note under :meth:`SelectionComparison.summary`. None: every selector sees whole folds.
    subsample : str, list of str or None, default=None
        Names of the selectors the ``max_samples`` rule applies to (a str: one name); None:
        all of them. ``"all_features"`` and ``"passthrough"`` entries fit nothing and cannot
        be named.

    Returns
    -------
    result : SelectionComparison
        Per-fold scores, own scores, supports, importances and fit times of every selector.

    Raises
    ------
    ValueError
        If ``selectors`` is empty, a name is unknown or reserved, ``reference`` is combined with
        ``n_features_to_select``, ``n_features_to_select`` is out of range, ``max_samples`` is
        not an int >= 2 or is below the number of classes while ``subsample`` names a
        selector, ``subsample`` names an unknown selector or one that fits nothing
        (``"all_features"``), or ``X`` and ``y`` have inconsistent lengths.
    TypeError
        If ``selectors`` is not a dict.

    Notes
    -----
    Sparse ``X`` (CSR or CSC, float32 or float64) is never densified as a whole: each training
    fold is scaled as it is (give a scaler that keeps sparsity, ``StandardScaler(with_mean=False)``
    or ``MaxAbsScaler()``; the default for sparse ``X`` is the former) and reaches every
    selector whose tags say it accepts sparse input (``input_tags.sparse``) sparse; a selector
    that does not gets its training fold (or subsample) densified. The downstream classifier
    gets the selected columns only (every column for the all-features reference), densified
    when they hold at most 2**25 entries, sparse otherwise. The dtype of ``X`` (float32 or
    float64) is kept.

    What a selector prints while it is fitted (a verbose autoencoder's epoch lines) is prefixed
    with its fold and name (``[fold 2/5 autoencoder]``) when the fits run sequentially or in
    joblib's worker processes (the default); fits run in threads (joblib's threading or dask
    backend) print without it.
    """
    from joblib import Parallel, delayed
    from scipy import sparse
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, check_cv
    from sklearn.preprocessing import StandardScaler
    from sklearn.utils import check_random_state, check_X_y

    names_in = getattr(X, "columns", None)
    X, y = check_X_y(X, y, accept_sparse=("csr", "csc"), dtype=(np.float64, np.float32))
    if sparse.issparse(X):
        X = X.tocsr()
    n_samples, n_features = X.shape
    if feature_names is None:
        feature_names = names_in if names_in is not None else [f"x{j}" for j in range(n_features)]
    feature_names = np.asarray([str(f) for f in feature_names], dtype=object)
    if feature_names.shape != (n_features,):
        raise ValueError(f"feature_names must have {n_features} entries, got {feature_names.shape}.")
    if not isinstance(selectors, Mapping):
        raise TypeError("selectors must be a dict mapping names to selectors (or to "
                        f"'passthrough'), got {type(selectors).__name__}.")
    selectors = dict(selectors)
    if not selectors:
        raise ValueError("selectors must name at least one selector.")
    if all_features:
        if "all_features" in selectors:
            raise ValueError("'all_features' is reserved for the all-features reference.")
        selectors["all_features"] = PASSTHROUGH
    if n_features_to_select is not None or reference is not None:
        for nm, sel in selectors.items():  # fails here, not in a worker, if one cannot be asked
            if nm != reference and not isinstance(sel, str):
                _set_n_features(clone(sel), 1)
    if reference is not None:
        if reference not in selectors:
            raise ValueError(f"reference={reference!r} is not one of the selectors {list(selectors)}.")
        if n_features_to_select is not None:
            raise ValueError("give either n_features_to_select or reference, not both.")
    k_fixed = n_features_to_select
    if isinstance(k_fixed, (float, np.floating)) and 0.0 < k_fixed <= 1.0:
        k_fixed = n_from_fraction(k_fixed, n_features)
    if k_fixed is not None and (isinstance(k_fixed, (bool, float, np.floating))
                                or not 1 <= int(k_fixed) <= n_features):
        raise ValueError(f"n_features_to_select must be an int in [1, {n_features}] or a float "
                         f"in (0, 1], got {n_features_to_select!r}.")
    if isinstance(cv, (int, np.integer)):
        cv = StratifiedKFold(n_splits=int(cv), shuffle=True, random_state=random_state)
    cv = check_cv(cv, y, classifier=True)
    splits = list(cv.split(X, y))
    if scaler is None:
        scaler = StandardScaler(with_mean=not sparse.issparse(X))
    if downstream is None:
        downstream = LogisticRegression(max_iter=3000)

    n_splits = len(splits)
    names = list(selectors)
    if max_samples is not None and (isinstance(max_samples, (bool, float, np.floating))
                                    or not isinstance(max_samples, (int, np.integer)) or max_samples < 2):
        raise ValueError(f"max_samples must be an int >= 2 or None, got {max_samples!r}.")
    if subsample is None:
        sub_names = [nm for nm in names if not isinstance(selectors[nm], str)]
    else:
        sub_names = [subsample] if isinstance(subsample, str) else list(subsample)
    unknown = [nm for nm in sub_names if nm not in selectors]
    if unknown:
        raise ValueError(f"subsample names {unknown[0]!r}, which is not one of the selectors {list(selectors)}.")
    unfitted = [nm for nm in sub_names if isinstance(selectors[nm], str)]
    if unfitted:
        raise ValueError(f"subsample names {unfitted[0]!r}, which fits no selector (it keeps every "
                         "feature): only fitted selectors can be subsampled.")
    if max_samples is not None and sub_names and max_samples < (n_classes := np.unique(y).size):
        raise ValueError(f"max_samples={max_samples} is below the number of classes ({n_classes}): "
                         "the stratified subsample keeps every class.")
    # one stratified subsample of each training fold that is too large (max_samples rule)
    rng = check_random_state(random_state)
    subsamples = [None if max_samples is None or len(tr) <= max_samples else
                  _stratified_subsample(y[tr], int(max_samples), np.random.RandomState(rng.randint(2**31 - 1)))
                  for tr, _ in splits]
    out = {}
    total = n_splits * len(names)
    t_start = time.perf_counter()

    def run(tasks):
        jobs = (delayed(_fit_and_score)(X, y, tr, te, selectors[nm], k, scaler, downstream,
                                        subsamples[f] if nm in sub_names else None,
                                        f"fold {f + 1}/{n_splits} {nm}")
                for (f, nm, k), (tr, te) in ((t, splits[t[0]]) for t in tasks))
        results = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
        for (f, nm, k), r in zip(tasks, results):
            out[f, nm] = dict(r, requested=-1 if k is None else int(k))
            if progress is not None:
                progress({"fold": f + 1, "selector": nm, "score": r["score"],
                          "own_score": r["own_score"], "n_selected": int(r["support"].sum()),
                          "fit_time": r["fit_time"], "select_time": r["select_time"],
                          "n_fit": r["n_fit"], "done": len(out),
                          "total": total})

    k_fixed = None if k_fixed is None else int(k_fixed)
    if reference is None:
        run([(f, nm, None if isinstance(selectors[nm], str) else k_fixed)
             for f in range(n_splits) for nm in names])
    else:
        run([(f, reference, None) for f in range(n_splits)])
        run([(f, nm, None if isinstance(selectors[nm], str)
              else int(out[f, reference]["support"].sum()))
             for f in range(n_splits) for nm in names if nm != reference])

    def stack(key, dtype=float):
        return {nm: np.array([out[f, nm][key] for f in range(n_splits)], dtype=dtype)
                for nm in names}

    return SelectionComparison(
        selector_names=names, feature_names=feature_names, n_splits=n_splits,
        scores=stack("score"), own_scores=stack("own_score"), supports=stack("support", bool),
        balanced_scores=stack("balanced"), own_balanced_scores=stack("own_balanced"),
        importances=stack("importance"), fit_times=stack("fit_time"), selection_times=stack("select_time"),
        n_features_requested=stack("requested", int), n_fit_samples=stack("n_fit", int),
        subsamples=[None if sub is None else np.asarray(tr)[sub] for sub, (tr, _) in zip(subsamples, splits)],
        total_time=time.perf_counter() - t_start,
        info={"n_samples": n_samples, "n_features": n_features, "cv": repr(cv),
              "scaler": repr(scaler), "downstream": repr(downstream), "reference": reference,
              "max_samples": max_samples,
              "subsampled": [nm for nm in sub_names if any(sub is not None for sub in subsamples)]},
    )

