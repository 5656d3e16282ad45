"""The four feature selectors people use for marker genes, as scikit-learn selectors asked for k features.

- :class:`WilcoxonMarkerSelector`: marker genes as scanpy picks them
  (``rank_genes_groups(method="wilcoxon")``): a Wilcoxon rank-sum test of each class against the
  rest, then the top gene of each class in turn until ``k`` distinct genes. Written here with
  numpy / scipy (no scanpy dependency).
- :func:`make_l1_logistic_selector`, :func:`make_anova_selector`,
  :func:`make_random_forest_selector`: the other three baselines, with the settings of the
  selection-quality protocol below (L1-logistic ``SelectFromModel``, ``SelectKBest(f_classif)``,
  random-forest importances).
- :func:`make_baseline_selector`: one of the four by name (:data:`BASELINE_SELECTORS`).

These are the references of the selection-quality protocol: ``Pipeline(StandardScaler(),
selector, LogisticRegression(max_iter=3000))``, 5-fold ``StratifiedKFold(shuffle=True,
random_state=0)``, every selector asked for exactly k features (``benchmarks/bench_selection_k.py``).
The Wilcoxon test is the strongest simple method in the largest benchmark of marker-gene
selection (Pullin and McCarthy, Genome Biology 25:56, 2024).
"""

from numbers import Integral

import numpy as np
from scipy import sparse, stats
from sklearn.base import BaseEstimator, _fit_context
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_selection import SelectFromModel, SelectKBest, SelectorMixin, f_classif
from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import Interval, RealNotInt
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from .._validation import n_from_fraction

__all__ = [
    "BASELINE_SELECTORS",
    "WilcoxonMarkerSelector",
    "make_anova_selector",
    "make_baseline_selector",
    "make_l1_logistic_selector",
    "make_random_forest_selector",
    "make_wilcoxon_selector",
    "wilcoxon_scores",
]

# Columns handled at once when a CSR matrix is scanned column by column (each block is
# converted to CSC: O(nnz of the block) extra memory).
_COLUMN_BLOCK = 512


def _column_rank_sums(values, codes, n_implicit_zeros, implicit_zeros_per_class, n_classes):
    """Rank sums per class and the tie term of one column.

    ``values`` are the stored entries of the column (all of them for a dense column), ``codes``
    their class codes; ``n_implicit_zeros`` more zeros exist (sparse storage), of which
    ``implicit_zeros_per_class[c]`` in class ``c``. Ranks are the mid-ranks of all
    ``n_samples`` values (ties get the average of the ranks they span), the tie term is
    ``sum_t (t^3 - t)`` over the groups of tied values. Cost O(m log m), m = len(values).
    """
    uniq, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    counts = counts.astype(np.float64)
    if n_implicit_zeros:
        pos = np.searchsorted(uniq, 0.0)
        if pos < uniq.size and uniq[pos] == 0:
            counts[pos] += n_implicit_zeros
            zero_pos = pos
        else:  # insert a value 0 with the implicit multiplicity
            counts = np.insert(counts, pos, n_implicit_zeros)
            inverse = np.where(inverse >= pos, inverse + 1, inverse)
            zero_pos = pos
    before = np.cumsum(counts) - counts
    mid_rank = before + (counts + 1.0) / 2.0
    sums = np.bincount(codes, weights=mid_rank[inverse], minlength=n_classes)
    if n_implicit_zeros:
        sums = sums + implicit_zeros_per_class * mid_rank[zero_pos]
    ties = float(np.sum(counts**3 - counts))
    return sums, ties


def _block_rank_sums(B, onehot):
    """Rank sums per class and tie terms of the columns of a dense block ``B`` (n, b).

    Mid-ranks by :func:`scipy.stats.rankdata` (vectorised over the columns); the tie term
    ``sum_t (t^3 - t)`` of each column from the runs of equal values of its sorted copy.
    Extra memory O(n x b).
    """
    n, b = B.shape
    ranks = stats.rankdata(B, axis=0)
    S = np.sort(B, axis=0)
    starts = np.ones((n, b), dtype=bool)
    starts[1:] = S[1:] != S[:-1]
    run_id = np.cumsum(starts.T.ravel()) - 1  # runs never cross columns: each starts one
    t = np.bincount(run_id).astype(np.float64)
    col_of_run = np.repeat(np.arange(b), starts.sum(axis=0))
    ties = np.bincount(col_of_run, weights=t**3 - t, minlength=b)
    return onehot @ ranks, ties


def wilcoxon_scores(X, y, *, tie_correct=True):
    """Wilcoxon rank-sum z-scores of every feature, for each class against all the others.

    For class ``c`` with ``n_c`` samples among ``n`` and feature ``j``, ``T_cj`` is the sum of
    the mid-ranks of the class's values among all ``n`` values of the feature, and

        z_cj = (T_cj - n_c (n + 1) / 2) / sqrt(f_j n_c (n - n_c) (n + 1) / 12),

    the normal approximation of the rank-sum (Mann-Whitney) test, without continuity
    correction, where ``f_j = 1 - sum_t (t^3 - t) / (n^3 - n)`` corrects for the groups of ``t``
    tied values (``f_j = 1`` if ``tie_correct`` is False). This is the score of scanpy's
    ``rank_genes_groups(method="wilcoxon", reference="rest")`` (its ``tie_correct`` defaults to
    False there). A feature with no spread (``f_j n_c (n - n_c) = 0``) gets ``z = 0``.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Data. Sparse input is processed one column at a time (CSC) or one block of 512
        columns at a time (CSR, converted per block): extra memory O(n_samples + nnz of a
        block), never a dense copy. The implicit zeros of a sparse column form one tied group.
        Dense input is ranked by blocks of 512 columns (extra memory O(n_samples x 512)).
    y : array-like of shape (n_samples,)
        Class labels (at least 2 classes).
    tie_correct : bool, default=True
        Apply the tie correction ``f_j``.

    Returns
    -------
    scores : ndarray of shape (n_classes, n_features), dtype float64
        ``z_cj``, classes in the order of ``np.unique(y)``; positive when the class's values
        are larger than the others'.
    classes : ndarray of shape (n_classes,)
        ``np.unique(y)``.

    Raises
    ------
    ValueError
        If ``X`` is not 2-D or holds NaN or inf, or ``y`` has fewer than 2 classes or not one
        label per row of ``X``.
    """
    X = check_array(X, accept_sparse=("csr", "csc"), dtype=(np.float64, np.float32), input_name="X")
    return _wilcoxon_scores(X, y, tie_correct)


def _wilcoxon_scores(X, y, tie_correct):
    """:func:`wilcoxon_scores` on an ``X`` already validated (dense, CSR or CSC, finite)."""
    classes, codes = np.unique(np.asarray(y), return_inverse=True)
    n, d = X.shape
    if codes.shape[0] != n:
        raise ValueError(f"y has {codes.shape[0]} labels but X has {n} rows.")
    n_classes = classes.size
    if n_classes < 2:
        raise ValueError(f"the Wilcoxon test needs at least 2 classes in y; got {n_classes} class.")
    n_c = np.bincount(codes, minlength=n_classes).astype(np.float64)
    rank_sums = np.empty((n_classes, d))
    ties = np.zeros(d)

    if sparse.issparse(X):
        csc = X.format == "csc"
        for j0 in range(0, d, _COLUMN_BLOCK):
            j1 = min(j0 + _COLUMN_BLOCK, d)
            B = X[:, j0:j1] if csc else sparse.csc_matrix(X[:, j0:j1])
            if csc:
                B = sparse.csc_matrix(B)
            B.sum_duplicates()
            for jj in range(j1 - j0):
                lo, hi = B.indptr[jj], B.indptr[jj + 1]
                rows = B.indices[lo:hi]
                c_rows = codes[rows]
                stored_per_class = np.bincount(c_rows, minlength=n_classes)
                rank_sums[:, j0 + jj], ties[j0 + jj] = _column_rank_sums(
                    B.data[lo:hi], c_rows, n - (hi - lo), n_c - stored_per_class, n_classes
                )
    else:
        X = np.asarray(X)
        onehot = np.zeros((n_classes, n))
        onehot[codes, np.arange(n)] = 1.0
        for j0 in range(0, d, _COLUMN_BLOCK):
            j1 = min(j0 + _COLUMN_BLOCK, d)
            rank_sums[:, j0:j1], ties[j0:j1] = _block_rank_sums(X[:, j0:j1], onehot)

    n_f = float(n)
    expected = n_c[:, None] * (n_f + 1.0) / 2.0
    factor = 1.0 - ties / (n_f**3 - n_f) if (tie_correct and n > 1) else np.ones(d)
    var = factor[None, :] * (n_c * (n_f - n_c))[:, None] * (n_f + 1.0) / 12.0
    scores = np.zeros((n_classes, d))
    ok = var > 1e-12 * (n_f**3)
    scores[ok] = (rank_sums - expected)[ok] / np.sqrt(var[ok])
    return scores, classes


def _resolve_k(n_features_to_select, n_features):
    """Number of features asked for: None -> half (rounded down, at least 1); float -> fraction."""
    k = n_features_to_select
    if k is None:
        return max(1, n_features // 2)
    if isinstance(k, Integral):
        if k > n_features:
            raise ValueError(
                f"n_features_to_select={k} is larger than the number of features ({n_features})."
            )
        return int(k)
    return n_from_fraction(k, n_features)


class WilcoxonMarkerSelector(SelectorMixin, BaseEstimator):
    """Marker genes as scanpy picks them: Wilcoxon rank-sum per class against the rest, round-robin.

    For each class, every feature gets the z-score of a Wilcoxon rank-sum (Mann-Whitney) test of
    the class's values against those of all other samples (:func:`wilcoxon_scores`: the score of
    scanpy's ``rank_genes_groups(method="wilcoxon")``, re-implemented with numpy). The features
    of each class are ranked by decreasing score (up-regulated first). Then the top feature of
    each class is taken in turn (classes in sorted order), then the second of each, and so on,
    skipping features already taken, until ``k`` distinct features: the "top genes of each cell
    type" list of single-cell practice, made exactly ``k`` long.

    Wilcoxon rank-sum: F. Wilcoxon, Biometrics Bulletin 1(6):80-83, 1945; H. B. Mann and
    D. R. Whitney, Ann. Math. Statist. 18(1):50-60, 1947 (normal approximation with tie
    correction). scanpy: F. A. Wolf, P. Angerer and F. J. Theis, Genome Biology 19:15, 2018.

    Parameters
    ----------
    n_features_to_select : int >= 1, float in (0, 1] or None, default=None
        Number of features to select (``k``); a float is a fraction of the features
        (``int(fraction * n_features)``, at least 1); None selects half of them (as
        :class:`~sklearn.feature_selection.RFE`). An int larger than the number of features
        raises ValueError at ``fit``.
    tie_correct : bool, default=True
        Correct the variance of the rank sum for ties (important for sparse count data, where
        most values are tied at zero). scanpy's default is False.

    Attributes
    ----------
    scores_ : ndarray of shape (n_classes, n_features_in_)
        Wilcoxon z-score of each feature for each class (one class against the rest).
    classes_ : ndarray of shape (n_classes,)
        Class labels, in the order of the rows of ``scores_``.
    selection_order_ : ndarray of shape (n_features_to_select_,), dtype int64
        Indices of the selected features in the order the round-robin took them.
    n_features_to_select_ : int
        The number of features selected.
    support_ : ndarray of shape (n_features_in_,), dtype bool
        Mask of the selected features.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen during ``fit`` (only when ``X`` has string column names).

    Notes
    -----
    Cost: O(nnz_j log nnz_j) per feature ``j`` (a sort of its stored values; the implicit zeros
    of a sparse column are one tied group and are never materialised), plus O(n_classes x
    n_features log n_features) for the rankings. Sparse CSC/CSR input is accepted.

    Examples
    --------
    >>> import numpy as np
    >>> from skproj.model_selection import WilcoxonMarkerSelector
    >>> rng = np.random.RandomState(0)
    >>> y = np.repeat([0, 1, 2], 20)
    >>> X = rng.rand(60, 6)
    >>> X[y == 0, 4] += 1.0  # marker of class 0
    >>> X[y == 1, 2] += 1.0  # marker of class 1
    >>> X[y == 2, 1] += 1.0  # marker of class 2
    >>> sel = WilcoxonMarkerSelector(n_features_to_select=3).fit(X, y)
    >>> sel.selection_order_.tolist()  # the top gene of class 0, then of 1, then of 2
    [4, 2, 1]
    >>> sel.get_support(indices=True).tolist()
    [1, 2, 4]
    """

    _parameter_constraints = {
        "n_features_to_select": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="right"),
            None,
        ],
        "tie_correct": ["boolean"],
    }

    def __init__(self, n_features_to_select=None, *, tie_correct=True):
        self.n_features_to_select = n_features_to_select
        self.tie_correct = tie_correct

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.required = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Score every feature for every class and select ``k`` by round-robin over the classes.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data (CSR or CSC kept sparse, never densified).
        y : array-like of shape (n_samples,)
            Class labels (at least 2 classes).

        Returns
        -------
        self : WilcoxonMarkerSelector

        Raises
        ------
        ValueError
            If ``X`` has NaN or inf, ``y`` has a single class or continuous values, or
            ``n_features_to_select`` is larger than the number of features.
        """
        X, y = validate_data(
            self, X, y, accept_sparse=["csc", "csr"], dtype=[np.float64, np.float32]
        )
        check_classification_targets(y)
        n_features = X.shape[1]
        k = _resolve_k(self.n_features_to_select, n_features)
        self.scores_, self.classes_ = _wilcoxon_scores(X, y, self.tie_correct)  # X validated above
        # per class: features by decreasing score (stable: ties by feature index)
        order = np.argsort(-self.scores_, axis=1, kind="stable")
        taken = np.zeros(n_features, dtype=bool)
        picked = []
        # round-robin: position r of every class in turn
        for r in range(n_features):
            for c in range(order.shape[0]):
                j = order[c, r]
                if not taken[j]:
                    taken[j] = True
                    picked.append(j)
                    if len(picked) == k:
                        break
            if len(picked) == k:
                break
        self.selection_order_ = np.asarray(picked, dtype=np.int64)
        self.support_ = taken
        self.n_features_to_select_ = k
        return self

    def _get_support_mask(self):
        check_is_fitted(self)
        return self.support_


def make_wilcoxon_selector(n_features_to_select):
    """``WilcoxonMarkerSelector(n_features_to_select=k)``: scanpy's Wilcoxon marker genes."""
    return WilcoxonMarkerSelector(n_features_to_select=n_features_to_select)


def make_l1_logistic_selector(n_features_to_select, *, random_state=None):
    """L1-logistic selection: the k features with the largest absolute coefficients of an l1 logistic regression.

    ``SelectFromModel(LogisticRegression(C=0.5, l1_ratio=1, solver="saga", max_iter=2000,
    tol=1e-3, random_state=random_state), threshold=-inf, max_features=k)``: with the threshold
    at -inf exactly ``k`` features are kept, ranked by the l1 norm of their coefficients over the
    classes (features with zero coefficients fill the list if fewer than ``k`` are non-zero).
    ``random_state`` seeds saga's sampling (the issue leaves it unset; pass an int for
    reproducible runs).

    Parameters
    ----------
    n_features_to_select : int >= 1
        ``k``.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    selector : sklearn.feature_selection.SelectFromModel
    """
    model = LogisticRegression(
        C=0.5, l1_ratio=1, solver="saga", max_iter=2000, tol=1e-3, random_state=random_state
    )
    return SelectFromModel(model, threshold=-np.inf, max_features=n_features_to_select)


def make_anova_selector(n_features_to_select):
    """``SelectKBest(f_classif, k=k)``: the k largest ANOVA F statistics."""
    return SelectKBest(f_classif, k=n_features_to_select)


def make_random_forest_selector(n_features_to_select, *, random_state=None, n_jobs=None):
    """Random-forest importances: ``SelectFromModel(RandomForestClassifier(n_estimators=300,
    random_state=random_state, n_jobs=n_jobs), threshold=-inf, max_features=k)``.

    The k features of largest impurity-based (Gini) importance (L. Breiman, Machine Learning
    45:5-32, 2001).
    """
    model = RandomForestClassifier(n_estimators=300, random_state=random_state, n_jobs=n_jobs)
    return SelectFromModel(model, threshold=-np.inf, max_features=n_features_to_select)


#: name -> factory, for :func:`make_baseline_selector`.
BASELINE_SELECTORS = {
    "l1_logistic": make_l1_logistic_selector,
    "anova": make_anova_selector,
    "random_forest": make_random_forest_selector,
    "wilcoxon": make_wilcoxon_selector,
}


def make_baseline_selector(name, n_features_to_select, *, random_state=None):
    """Build one of the four baselines by name.

    Parameters
    ----------
    name : {"l1_logistic", "anova", "random_forest", "wilcoxon"}
    n_features_to_select : int >= 1
        ``k``.
    random_state : int, RandomState instance or None, default=None
        Passed to the baselines that are random (L1-logistic's saga, the random forest).

    Returns
    -------
    selector : scikit-learn selector (unfitted)

    Raises
    ------
    ValueError
        If ``name`` is not one of the four.
    """
    if name not in BASELINE_SELECTORS:
        raise ValueError(f"name must be one of {sorted(BASELINE_SELECTORS)}, got {name!r}.")
    if name in ("l1_logistic", "random_forest"):
        return BASELINE_SELECTORS[name](n_features_to_select, random_state=random_state)
    return BASELINE_SELECTORS[name](n_features_to_select)
