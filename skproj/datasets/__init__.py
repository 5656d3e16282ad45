"""Data sets shipped with skproj, and generators of synthetic selection problems.

- :func:`load_pbmc68k`: a real single-cell RNA-seq data set (700 blood cells x 765 genes,
  10 cell types), embedded in the package (about 0.3 MB).
- :func:`make_sparse_classification`: a classification problem whose informative features are
  known, to measure how many of them a selector recovers.
- :func:`make_single_cell_counts`: a sparse (CSR) single-cell count matrix whose cell types are
  driven by known marker genes, at any scale.
"""

from importlib import resources

import numpy as np
from sklearn.datasets import make_classification
from sklearn.utils import Bunch, check_random_state

from ._single_cell import make_single_cell_counts

__all__ = ["load_pbmc68k", "make_single_cell_counts", "make_sparse_classification"]

_PBMC_FILE = "pbmc68k_reduced.npz"

_PBMC_DESCR = """\
PBMC 68k (reduced): single-cell RNA-seq of human peripheral blood mononuclear cells
----------------------------------------------------------------------------------

:Number of samples (cells): 700
:Number of features (genes): 765
:Number of classes (cell types): 10
:Feature values: log(1 + 1e4 * counts / total counts of the cell), float32, about 67% zeros
:Source: 10x Genomics "Fresh 68k PBMCs (Donor A)", Zheng et al., Nat. Commun. 8, 14049 (2017),
         as subsampled and processed by scanpy (``scanpy.datasets.pbmc68k_reduced``)

Class sizes: CD14+ Monocyte 129, CD19+ B 95, CD34+ 13, CD4+/CD25 T Reg 68,
CD4+/CD45RA+/CD25- Naive T 8, CD4+/CD45RO+ Memory 19, CD56+ NK 31, CD8+ Cytotoxic T 54,
CD8+/CD45RA+ Naive Cytotoxic 43, Dendritic 240.
"""


def _load_pbmc_arrays():
    ref = resources.files(__name__).joinpath("data", _PBMC_FILE)
    with resources.as_file(ref) as path, np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _str_array(values):
    """1-D object ndarray of plain Python ``str`` (never ``numpy.str_``)."""
    out = np.empty(len(values), dtype=object)
    out[:] = [str(v) for v in np.asarray(values).tolist()]
    return out


def load_pbmc68k(*, return_X_y=False, as_frame=False):
    """Load the reduced PBMC 68k single-cell data set (700 cells, 765 genes, 10 cell types).

    ============== ============================================
    Samples        700 cells
    Features       765 genes (log-normalised expression)
    Classes        10 cell types (``bulk_labels``)
    Dtype          float32, dense
    ============== ============================================

    Parameters
    ----------
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=False
        If True, ``data`` is a pandas DataFrame whose columns are the gene symbols and whose
        index is the cell barcodes, ``target`` a pandas Series of the cell-type names
        (categorical), and the Bunch has a ``frame`` holding both (the label column is
        ``cell_type``). Requires pandas (optional dependency; ``ImportError`` otherwise).
        The column labels are plain ``str``, so scikit-learn estimators fitted on the frame
        record ``feature_names_in_`` and a Pipeline's ``get_feature_names_out()`` returns
        gene symbols.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes:

        data : ndarray of shape (700, 765), dtype float32, or DataFrame
            Expression values ``log(1 + 1e4 * c_ij / n_i)`` where ``c_ij`` is the UMI count of
            gene ``j`` in cell ``i`` and ``n_i`` the total count of cell ``i`` over all genes
            of the original matrix (counts per 10,000, natural log). Not centred or scaled:
            put a :class:`~sklearn.preprocessing.StandardScaler` in the pipeline so that the
            scaling is learned on training folds only.
        target : ndarray of shape (700,), dtype int64, or Series
            Cell-type codes in ``0..9`` (``target_names[target]`` gives the names); with
            ``as_frame=True``, the names themselves as a categorical Series.
        target_names : ndarray of shape (10,), dtype object
            Cell-type names (plain Python ``str``), in the order of the codes.
        feature_names : ndarray of shape (765,), dtype object
            Gene symbols (HGNC), plain Python ``str`` (the same convention as
            scikit-learn's ``feature_names_in_``), so that ``feature_names.tolist()`` and
            the DataFrame's columns hold ``str``, never ``numpy.str_``.
        cell_ids : ndarray of shape (700,), dtype object
            10x cell barcodes (plain ``str``).
        highly_variable : ndarray of shape (765,), dtype bool
            The 309 genes scanpy flagged as highly variable.
        louvain : ndarray of shape (700,), dtype int64
            The 11 Louvain clusters computed by scanpy (unsupervised; an alternative target).
        frame : DataFrame of shape (700, 766)
            Only when ``as_frame=True``: ``data`` with a ``cell_type`` column appended.
        DESCR : str
            Description of the data set.

    (data, target) : tuple
        If ``return_X_y`` is True.

    Notes
    -----
    Provenance. The cells come from the 10x Genomics data set "Fresh 68k PBMCs (Donor A)"
    (https://www.10xgenomics.com/datasets/fresh-68-k-pbm-cs-donor-a-1-standard-1-1-0),
    published in G. X. Y. Zheng et al., "Massively parallel digital transcriptional profiling
    of single cells", Nature Communications 8, 14049 (2017). The scanpy developers subsampled
    and processed it into ``scanpy/datasets/10x_pbmc68k_reduced.h5ad``, which ships in the
    scanpy wheel on PyPI (scanpy 1.11.5, BSD-3-Clause licence). skproj stores a converted copy
    (``skproj/datasets/data/pbmc68k_reduced.npz``, made by ``tools/convert_pbmc68k.py`` in the
    source repository); scanpy is not a dependency. The 10x Genomics data are distributed by
    10x Genomics under the Creative Commons Attribution licence; cite Zheng et al. (2017) and
    scanpy (Wolf, Angerer and Theis, Genome Biology 19, 15, 2018) when you use them.

    Preprocessing. The matrix returned is the ``raw`` layer of the .h5ad: counts normalised
    to 10,000 per cell then ``log1p`` (the converter checks that ``expm1(x) * n_i / 1e4`` are
    integers). The file's main ``X`` layer (the same genes after ``scanpy.pp.scale``, with
    statistics of all 700 cells) is not shipped: it leaks information across
    cross-validation folds and is dense. The labels are scanpy's ``bulk_labels``: the cell
    type assigned to each cell by comparison with the reference profiles of purified
    populations in Zheng et al. (2017).

    Examples
    --------
    >>> from skproj.datasets import load_pbmc68k
    >>> pbmc = load_pbmc68k()
    >>> pbmc.data.shape, str(pbmc.target_names[pbmc.target[0]])
    ((700, 765), 'CD14+ Monocyte')
    """
    from scipy import sparse

    z = _load_pbmc_arrays()
    shape = tuple(int(s) for s in z["shape"])
    X = sparse.csr_matrix((z["data"], z["indices"], z["indptr"]), shape=shape).toarray()
    X = np.ascontiguousarray(X, dtype=np.float32)
    target = z["target"].astype(np.int64)
    # Names as object arrays of plain Python ``str``: iterating a numpy unicode array yields
    # ``numpy.str_``, which scikit-learn does not accept as feature names.
    target_names = _str_array(z["target_names"])
    feature_names = _str_array(z["feature_names"])
    cell_ids = _str_array(z["cell_ids"])

    frame = None
    data, y = X, target
    if as_frame:
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - pandas is installed in the test env
            raise ImportError("load_pbmc68k(as_frame=True) requires pandas.") from exc
        index = pd.Index(cell_ids.tolist(), dtype=object, name="cell_id")
        columns = pd.Index(feature_names.tolist(), dtype=object)
        data = pd.DataFrame(X, columns=columns, index=index)
        y = pd.Series(
            pd.Categorical.from_codes(target, categories=target_names.tolist()),
            index=index,
            name="cell_type",
        )
        frame = data.assign(cell_type=y)

    if return_X_y:
        return data, y
    bunch = Bunch(
        data=data,
        target=y,
        target_names=target_names,
        feature_names=feature_names,
        cell_ids=cell_ids,
        highly_variable=z["highly_variable"].astype(bool),
        louvain=z["louvain"].astype(np.int64),
        DESCR=_PBMC_DESCR,
    )
    if as_frame:
        bunch.frame = frame
    return bunch


def make_sparse_classification(n_samples=1000, n_features=1000, n_informative=64, n_redundant=0, n_classes=2,
                               n_clusters_per_class=2, *, class_sep=1.0, flip_y=0.01, shuffle_features=False,
                               random_state=None):
    """Generate a classification problem whose informative features are known.

    A thin wrapper of :func:`sklearn.datasets.make_classification` (the hypercube
    construction of Guyon, 2003), called with ``shuffle=False`` so that the informative
    columns are the first ``n_informative`` and the redundant ones the next ``n_redundant``
    (linear combinations of the informative ones); all other columns are standard normal
    noise. The rows are shuffled; the columns are permuted only if ``shuffle_features``,
    and the returned mask ``support`` follows the same permutation.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of samples.
    n_features : int, default=1000
        Total number of features; must be >= ``n_informative + n_redundant``.
    n_informative : int, default=64
        Number of informative features.
    n_redundant : int, default=0
        Number of redundant features (random linear combinations of the informative ones).
        They carry information about ``y`` but are not counted in ``support``.
    n_classes : int, default=2
        Number of classes; ``n_classes * n_clusters_per_class <= 2 ** n_informative``.
    n_clusters_per_class : int, default=2
        Number of Gaussian clusters per class.
    class_sep : float, default=1.0
        Half the side of the hypercube on whose vertices the clusters are centred.
    flip_y : float, default=0.01
        Fraction of labels assigned at random.
    shuffle_features : bool, default=False
        If True, apply one random permutation to the columns of ``X`` and to ``support``;
        otherwise the informative features are the first columns, as in
        the benchmark of the issue and of Perez, Condat and Barlaud (arXiv 2307.09836).
    random_state : int, RandomState instance or None, default=None
        Seed of the generator (the same one draws the data and the column permutation).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), dtype float64
        The samples.
    y : ndarray of shape (n_samples,), dtype int64
        Class labels in ``0..n_classes-1``.
    support : ndarray of shape (n_features,), dtype bool
        True exactly for the informative features.

    Raises
    ------
    ValueError
        From :func:`~sklearn.datasets.make_classification` when the sizes are inconsistent.

    Examples
    --------
    >>> from skproj.datasets import make_sparse_classification
    >>> X, y, support = make_sparse_classification(200, 50, 5, random_state=0)
    >>> X.shape, int(support.sum()), bool(support[:5].all())
    ((200, 50), 5, True)
    """
    rng = check_random_state(random_state)
    X, y = make_classification(n_samples=n_samples, n_features=n_features, n_informative=n_informative,
                               n_redundant=n_redundant, n_repeated=0, n_classes=n_classes,
                               n_clusters_per_class=n_clusters_per_class, class_sep=class_sep, flip_y=flip_y,
                               shuffle=False, random_state=rng)
    # make_classification(shuffle=False) groups the rows by class: shuffle them (rows only,
    # which changes no feature's meaning).
    rows = rng.permutation(n_samples)
    X, y = X[rows], y[rows].astype(np.int64)
    support = np.zeros(n_features, dtype=bool)
    support[:n_informative] = True
    if shuffle_features:
        cols = rng.permutation(n_features)
        X = X[:, cols]
        support = support[cols]
    return np.ascontiguousarray(X), y, support
