"""Reading and writing single-cell data: AnnData ``.h5ad`` in, gene lists and annotated copies out.

- :func:`read_h5ad`: the matrix (sparse kept sparse), the labels of one ``obs`` column and the
  gene names (plain ``str``) of a ``.h5ad`` file, with one-line errors for the usual mistakes.
- :func:`normalize_counts`: ``log1p`` of counts per 10,000 (the usual single-cell
  normalisation), sparse-preserving.
- :func:`write_gene_list`: the selection as a CSV table (gene, rank, selection frequency,
  importance).
- :func:`write_h5ad_with_selection`: a copy of a ``.h5ad`` file with ``var`` columns added.

Both writers are atomic: they write a temporary file in the destination's folder and move it
into place with :func:`os.replace`, so the destination is either the complete new file or
untouched, never half-written. The file gets the mode of the file it replaces, else that of a
new file (``0o666`` less the umask).

``anndata`` is an optional dependency: ``pip install "skproj[anndata]"``.
"""

import csv
import errno
import numbers
import os
import shutil
import stat
import tempfile
import warnings
from collections import Counter
from contextlib import contextmanager

import numpy as np
from scipy import sparse
from sklearn.preprocessing import normalize
from sklearn.utils import Bunch

from ._validation import canonical_csr

__all__ = ["read_h5ad", "normalize_counts", "write_gene_list", "write_h5ad_with_selection"]

#: A numeric ``obs`` column with more distinct values than this is refused as a class label.
MAX_NUMERIC_LEVELS = 100

_ANNDATA_HINT = 'pip install "skproj[anndata]"'


def _import_anndata(what):
    try:
        import anndata
    except ImportError as exc:
        raise ImportError(
            f"{what} requires the optional dependency anndata; install it with: {_ANNDATA_HINT}"
        ) from exc
    return anndata


def _str_array(values):
    out = np.empty(len(values), dtype=object)
    out[:] = [str(v) for v in values]
    return out


def _preview(names, n=8):
    names = [str(v) for v in names]
    shown = ", ".join(repr(v) for v in names[:n])
    more = f", ... ({len(names)} in all)" if len(names) > n else ""
    return shown + more


def _unique_names(names, where, noun="gene"):
    """``names`` as a list of str made unique as anndata's ``var_names_make_unique`` does.

    A name that repeats an earlier one gets the suffix ``-1``, ``-2``, ... (the first not taken
    by any name); the first occurrence keeps its name. Warns (one line) when a name repeats.
    """
    names = [str(v) for v in names]
    seen, dup = set(), []
    for i, v in enumerate(names):
        if v in seen:
            dup.append(i)
        seen.add(v)
    if not dup:
        return names
    out, counter = list(names), Counter()
    for i in dup:
        v = names[i]
        while True:
            counter[v] += 1
            if (new := f"{v}-{counter[v]}") not in seen:
                seen.add(new)
                out[i] = new
                break
    example = names[dup[0]]
    warnings.warn(
        f"{where}: {len(dup)} {noun} names repeat an earlier one (e.g. {example!r}); they are made "
        f"unique as anndata's var_names_make_unique does ({example!r}, {example + '-1'!r}, ...), "
        f"so every {noun} in the output is named once.",
        UserWarning,
        stacklevel=3,
    )
    return out


#: labels taken as missing, as text (lower case, stripped): NaN, None and pandas' NA print so too
_MISSING = frozenset({"", "na", "<na>", "nan", "n/a", "null", "none", "?", "-"})


def _missing_mask(labels):
    """Which labels are missing (NaN, or a string among ``_MISSING``): bool array."""
    labels = np.asarray(labels)
    if labels.dtype.kind == "f":
        return np.isnan(labels)
    if labels.dtype.kind not in "OUS":
        return np.zeros(labels.shape, dtype=bool)
    return np.array([str(lab).strip().lower() in _MISSING for lab in labels], dtype=bool)


def _missing_labels(col, path, target):
    """ValueError naming the number of missing labels of ``col`` and the first cell, if any."""
    import pandas as pd

    missing = np.asarray(pd.isna(col))
    if missing.any():
        i = int(np.argmax(missing))
        raise ValueError(f"{path}: obs[{target!r}] has {int(missing.sum())} missing labels (NaN), the "
                         f"first at cell {i} ({str(col.index[i])!r}); drop those cells first (skproj select: --drop-missing).")


def _labels(col, path, target):
    """Class labels of an ``obs`` column: plain-str object array, or int / bool array."""
    import pandas as pd

    if isinstance(col.dtype, pd.CategoricalDtype):
        _missing_labels(col, path, target)
        categories = _str_array(col.cat.categories)
        return categories[col.cat.codes.to_numpy()]
    values = col.to_numpy()
    if values.dtype.kind in "iufc":
        if values.dtype.kind in "fc":
            _missing_labels(col, path, target)
        n_levels = len(np.unique(values))
        if n_levels > MAX_NUMERIC_LEVELS:
            raise ValueError(
                f"{path}: obs[{target!r}] is numeric with {n_levels} distinct values, not a class label "
                f"(at most {MAX_NUMERIC_LEVELS}); pick a categorical column such as a cell type."
            )
        if values.dtype.kind == "f" and np.all(values == np.round(values)):
            values = values.astype(np.int64)
        return values
    if values.dtype.kind == "b":
        return values
    _missing_labels(col, path, target)
    return _str_array(values.tolist())


def _check_matrix(X, where, other=""):
    """Refuse NaN / inf and negative values (sparse: looks only at the stored values); ``other``
    names where else to look for non-negative data, e.g. ``" (this file has .raw: layer 'raw')"``."""
    values = X.data if sparse.issparse(X) else X
    if values.size == 0:
        return
    finite = np.isfinite(values)
    if not finite.all():
        n_bad = int(values.size - np.count_nonzero(finite))
        kind = "NaN" if np.isnan(values).any() else "inf"
        raise ValueError(f"{where} contains {n_bad} {kind} values; fix or drop them before selection.")
    vmin = values.min()
    if vmin < 0:
        n_neg = int(np.count_nonzero(values < 0))
        raise ValueError(
            f"{where} has {n_neg} negative values (min {float(vmin):.4g}): expected counts or "
            f"log-normalised counts, not centred/scaled data; pick another layer{other}."
        )


def _as_float(X):
    """float32 / float64 kept; integer counts become float32 (exact up to 2**24), else float64."""
    dtype = X.dtype
    if dtype in (np.float32, np.float64):
        return X
    if dtype.kind in "iub":
        values = X.data if sparse.issparse(X) else X
        big = values.size and np.abs(values).max() > 2**24
        return X.astype(np.float64 if big else np.float32)
    if dtype.kind == "f":
        return X.astype(np.float64)
    raise TypeError(f"the matrix has dtype {dtype}; a real numeric matrix is required.")


def _read_elem():
    try:  # anndata >= 0.11
        from anndata.io import read_elem
    except ImportError:  # anndata 0.10
        from anndata.experimental import read_elem
    return read_elem


def _write_elem():
    try:  # anndata >= 0.11
        from anndata.io import write_elem
    except ImportError:  # anndata 0.10
        from anndata.experimental import write_elem
    return write_elem


def _h5ad_obs(path):
    """The ``obs`` table of a ``.h5ad`` file, read alone (the matrices stay on disk)."""
    import h5py

    with h5py.File(path, "r") as f:
        return _read_elem()(f["obs"])


def _legacy_layout(f):
    """Whether an open ``.h5ad`` file predates anndata 0.7's encoding attributes (``obs`` / ``var``
    stored as compound datasets): anndata's element reader returns them as numpy records."""
    import h5py

    return any(isinstance(f.get(k), h5py.Dataset) or (k in f and "encoding-type" not in f[k].attrs)
               for k in ("obs", "var"))


def _read_h5ad_parts(path, layer):
    """``obs``, ``var``, the layer names, the one matrix asked for (``None`` if absent), its key
    and whether the file has a ``.raw`` matrix.

    Only these elements are read, with anndata's element reader: the other layers, ``raw``,
    ``obsm``, ``uns``... stay on disk, so memory holds one matrix whatever else the file stores.
    ``layer="raw"`` with no layer of that name reads ``raw/X`` and ``raw/var`` (``adata.raw``);
    the key returned is then ``"raw/X"``. A file the element reader cannot read (written before
    anndata 0.7's encoding attributes) is read whole by :func:`anndata.read_h5ad`, as before.
    """
    import anndata
    import h5py

    try:
        read_elem = _read_elem()
        with h5py.File(path, "r") as f:
            if not _legacy_layout(f):  # else read whole, below
                layers = list(f["layers"].keys()) if "layers" in f else []
                raw = layer == "raw" and "raw" not in layers and "raw" in f
                key = "raw/X" if raw else "X" if layer is None else f"layers/{layer}"
                obs, var = read_elem(f["obs"]), read_elem(f["raw/var" if raw else "var"])
                X = read_elem(f[key]) if key in f else None
                return obs, var, layers, X, key, "raw" in f and "X" in f["raw"]
    except MemoryError:
        raise
    except Exception:  # noqa: BLE001 - the whole-file read below reports what is wrong
        pass
    with warnings.catch_warnings():
        # anndata's "Variable names are not unique" hint: read_h5ad warns with the count
        warnings.filterwarnings("ignore", message=".*names are not unique", category=UserWarning)
        adata = anndata.read_h5ad(path)
    layers = list(adata.layers.keys())
    if layer == "raw" and "raw" not in layers and adata.raw is not None:
        return adata.obs, adata.raw.var, layers, adata.raw.X, "raw/X", True
    X = adata.X if layer is None else adata.layers[layer] if layer in layers else None
    key = "X" if layer is None else f"layers/{layer}"
    return adata.obs, adata.var, layers, X, key, adata.raw is not None


def _storage(X):
    """How a matrix is stored, e.g. ``"sparse CSC int32"`` or ``"dense float64"``."""
    if sparse.issparse(X):
        return f"sparse {X.format.upper()} {X.dtype}"
    return f"dense {np.asarray(X).dtype}"


def read_h5ad(path, target, layer=None, gene_names=None, *, drop_missing=False):
    """Read the expression matrix, one ``obs`` column as labels and the gene names of a ``.h5ad`` file.

    Parameters
    ----------
    path : str or os.PathLike
        An AnnData ``.h5ad`` file (cells x genes).
    target : str
        Name of the ``obs`` column holding the class labels (e.g. ``"cell_type"``).
    layer : str or None, default=None
        Read ``adata.layers[layer]`` instead of ``adata.X``. ``"raw"``, when the file has no
        layer of that name, reads ``adata.raw``: its matrix and its genes (``adata.raw.var``,
        often all the genes where ``X`` keeps only the highly variable ones).
    gene_names : str or None, default=None
        A ``var`` column holding the names to use instead of ``var_names``, e.g.
        ``"feature_name"`` or ``"gene_symbols"`` when ``var_names`` are Ensembl ids (a column of
        ``adata.raw.var`` when ``.raw`` is read). A gene whose entry is missing keeps its
        ``var_names`` entry.
    drop_missing : bool, default=False
        Leave out the cells whose label is missing (NaN, or a string such as ``""``, ``"NA"``,
        ``"nan"``, ``"?"``) instead of raising; ``n_dropped`` says how many. The matrix is
        checked (NaN, negative values) on the cells kept.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        X : scipy.sparse.csr_matrix or ndarray of shape (n_cells, n_genes)
            The matrix as stored: sparse stays sparse (CSC is converted to CSR), dense stays
            dense. float32 and float64 are kept; integer counts become float32 (exact up to
            2**24; float64 beyond).
        y : ndarray of shape (n_cells,)
            The labels: an object array of plain ``str`` for categorical or string columns,
            int64 or bool for integer-valued or boolean columns.
        feature_names : ndarray of shape (n_genes,), dtype object
            Gene names (``var_names``, or the ``gene_names`` column) as plain Python ``str``. Repeated names (common in 10x
            data, where several Ensembl ids share a symbol) are made unique the way
            ``AnnData.var_names_make_unique`` does (``"G"``, ``"G-1"``, ...), with a warning;
            the file is not changed.
        var_names : ndarray of shape (n_genes,), dtype object
            ``var_names`` as stored (e.g. Ensembl ids when ``gene_names`` names the symbols).
        cell_ids : ndarray of shape (n_cells,), dtype object
            Cell names (``obs_names``) as plain ``str``.
        n_dropped : int
            Cells left out for a missing label (``drop_missing``; else 0).
        target_name : str
            ``target``.
        layer : str or None
            ``layer``.
        matrix : str
            Where the matrix was read in the file: ``"X"``, ``"layers/NAME"`` or ``"raw/X"``.
        storage : str
            How the file stores it, before the conversions above, e.g. ``"sparse CSC int32"``.

    Warns
    -----
    UserWarning
        If gene names repeat (they are then made unique, see ``feature_names``).

    Raises
    ------
    ImportError
        If anndata is not installed (the message names ``pip install "skproj[anndata]"``).
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        One line each: ``target`` is not an ``obs`` column (a few existing columns are listed);
        the column is numeric with more than ``skproj.io.MAX_NUMERIC_LEVELS`` (100) distinct values
        (a continuous covariate or an id, not a class label); labels are missing (unless
        ``drop_missing``); ``layer`` does
        not exist (``"raw"``: neither a layer nor ``.raw``); ``gene_names`` is not a ``var`` column; the matrix has NaN / inf (sparse:
        among the stored values) or negative values.

    Notes
    -----
    Only ``obs``, ``var`` (``raw/var`` for ``.raw``) and the matrix asked for are read
    (anndata's element reader on the HDF5 groups): the other layers, ``obsm``, ``varm``, ``obsp`` and ``uns`` stay on
    disk, so memory holds one matrix whatever else the file stores. A file that the element
    reader cannot read (written before anndata 0.7) is read whole with
    ``anndata.read_h5ad``.
    """
    _import_anndata("read_h5ad")
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such file.")
    obs, var, layers, X, key, has_raw = _read_h5ad_parts(path, layer)
    var_names = var.index
    table = "raw.var" if key == "raw/X" else "var"
    if gene_names is None:
        names = var_names
    elif gene_names not in var.columns:
        listed = _preview(list(var.columns)) or "none"
        raise ValueError(f"{path}: {table} has no column {gene_names!r} for the gene names; its columns: {listed}.")
    else:
        column = var[gene_names]
        missing = np.asarray(column.isna())
        names = np.where(missing, np.asarray(var_names, dtype=object), np.asarray(column.astype(object)))
        if missing.any():
            warnings.warn(f"{path}: {int(missing.sum())} genes have no name in {table}[{gene_names!r}]; "
                          "they keep their var_names entry.", UserWarning, stacklevel=2)
    feature_names = _unique_names(names, path, "gene")
    if target not in obs.columns:
        cols = list(obs.columns)
        listed = _preview(cols) if cols else "none"
        raise ValueError(f"{path}: obs has no column {target!r}; its columns: {listed}.")
    if key == "raw/X":
        where = f"{path}: raw/X (adata.raw)"
    elif layer is None:
        where = f"{path}: X"
    else:
        if layer not in layers:
            listed = _preview(layers) or "none"
            raw = " and no .raw" if layer == "raw" else ""
            raise ValueError(f"{path}: no layer {layer!r}{raw}; its layers: {listed}.")
        where = f"{path}: layer {layer!r}"
    if X is None:
        raise ValueError(f"{where} is empty (no matrix stored).")
    if X.ndim != 2 or X.shape != (len(obs), len(var_names)):
        # the element reader does not check what building an AnnData object would
        raise ValueError(f"{where} has shape {X.shape}, but obs has {len(obs)} cells and var "
                         f"{len(var_names)} genes: the file is inconsistent.")
    storage = _storage(X)
    if sparse.issparse(X):
        X = sparse.csr_matrix(X)
    else:
        X = np.asarray(X)
    n_dropped = 0
    if drop_missing:
        keep = ~_missing_mask(obs[target].astype(object).to_numpy())
        n_dropped = int(keep.size - keep.sum())
        if n_dropped == keep.size and keep.size:
            raise ValueError(f"{path}: every label of obs[{target!r}] is missing: no cell is left.")
        if n_dropped:
            X, obs = X[keep], obs[keep]
    X = _as_float(X)
    _check_matrix(X, where, "" if key == "raw/X" or not has_raw else " (this file has .raw: layer 'raw')")
    y = _labels(obs[target], path, target)
    return Bunch(
        X=X,
        y=y,
        feature_names=_str_array(feature_names),
        var_names=_str_array(var_names),
        cell_ids=_str_array(obs.index),
        n_dropped=n_dropped,
        target_name=str(target),
        layer=layer,
        matrix=key,
        storage=storage,
    )


def normalize_counts(X, *, target_sum=1e4):
    """Log-normalise counts: ``log1p(target_sum * X_ij / sum_j X_ij)`` per cell (row).

    The usual single-cell preprocessing ("log1p of counts per 10k", as
    ``scanpy.pp.normalize_total(target_sum=1e4)`` followed by ``scanpy.pp.log1p``): each row is
    divided by its total (:func:`sklearn.preprocessing.normalize` with ``norm="l1"``),
    multiplied by ``target_sum``, then ``log1p`` is applied to the stored values, so zeros stay
    zeros and a sparse matrix stays sparse with the same pattern. Rows of zeros stay zero. It
    is the same for every cell (no statistics shared across cells), so it can be applied before
    cross-validation without leakage. Scikit-learn and scipy have the pieces but no one call
    that is sparse-preserving and dtype-preserving for both sparse and dense input; this is that
    call.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_cells, n_genes)
        Non-negative counts. Not modified.
    target_sum : float > 0, default=1e4
        Total of every row after normalisation, before ``log1p``.

    Returns
    -------
    X_norm : ndarray or scipy.sparse.csr_matrix of shape (n_cells, n_genes)
        float32 if ``X`` is float32, float64 otherwise; CSR if ``X`` is sparse.

    Raises
    ------
    ValueError
        If ``X`` has negative, NaN or inf values, or ``target_sum`` is not a finite number > 0.
    """
    if (
        isinstance(target_sum, bool)
        or not isinstance(target_sum, numbers.Real)
        or not np.isfinite(target_sum)
        or target_sum <= 0
    ):
        raise ValueError(f"target_sum must be a finite number > 0, got {target_sum!r}.")
    if sparse.issparse(X):
        X = canonical_csr(sparse.csr_matrix(X))  # duplicate entries: log1p of their sum
    else:
        X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (cells x genes), got {X.ndim}-D.")
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    _check_matrix(X, "X")
    out = normalize(X, norm="l1", axis=1, copy=True)  # never modifies X
    values = out.data if sparse.issparse(out) else out
    values *= values.dtype.type(target_sum)
    np.log1p(values, out=values)
    return out


def _umask():
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def _atomic_path(dst, suffix):
    """Yield a temporary path in ``dst``'s folder; on success move it onto ``dst``, else delete it.

    The file moved into place has the mode of the file it replaces, or else that of a new file
    (``0o666`` less the umask), not the ``0o600`` of :func:`tempfile.mkstemp`. A symbolic link
    is written through (its target is replaced, the link kept), as a shell redirection does.
    """
    dst = os.path.realpath(os.fspath(dst))
    folder = os.path.dirname(dst)
    if not os.path.isdir(folder):
        if os.path.exists(folder):
            raise NotADirectoryError(errno.ENOTDIR, "not a folder, cannot write a file in it", folder)
        raise FileNotFoundError(errno.ENOENT, "no such folder to write the file in", folder)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(dst) + ".", suffix=suffix)
    os.close(fd)
    try:
        yield tmp
        try:
            mode = stat.S_IMODE(os.stat(dst).st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, dst)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_gene_list(path, genes, rank, frequency=None, importance=None, *, columns=None):
    """Write the selected genes as a CSV table, atomically.

    Columns: ``gene, rank, selection_frequency, importance``, then those of ``columns`` (a
    header line, then one row per gene in the order given); a ``None`` column is written as
    empty cells.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file; its folder must exist. Replaced atomically (temporary file in the
        same folder, then :func:`os.replace`): never half-written.
    genes : sequence of str of length n
        Gene names.
    rank : sequence of int of length n
        Rank of each gene (1 = best).
    frequency : sequence of float of length n or None, default=None
        Selection frequency (fraction of fits, e.g. folds, that selected the gene).
    importance : sequence of float of length n or None, default=None
        Importance score of each gene.
    columns : mapping of str to sequence of length n, default=None
        More columns, e.g. ``{"selected": mask, "var_name": ids}``: booleans are written as
        ``True`` / ``False``, integers and floats as numbers, anything else as text.

    Raises
    ------
    ValueError
        If the columns do not have the same length (nothing is written).
    """
    genes = [str(g) for g in genes]
    extra = dict(columns or {})
    columns = {"rank": rank, "selection_frequency": frequency, "importance": importance, **extra}
    for name, col in columns.items():
        if col is not None and len(col) != len(genes):
            raise ValueError(f"{name} has {len(col)} entries but genes has {len(genes)}.")

    def cell(col, i):
        if col is None:
            return ""
        v = col[i]
        if isinstance(v, (bool, np.bool_)):
            return str(bool(v))
        if isinstance(v, (numbers.Integral, np.integer)):
            return str(int(v))
        if isinstance(v, (numbers.Real, np.floating)):
            return repr(float(v))
        return str(v)

    with _atomic_path(path, ".csv.tmp") as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["gene", *columns])
            for i, g in enumerate(genes):
                w.writerow([g, *(cell(col, i) for col in columns.values())])
            fh.flush()
            os.fsync(fh.fileno())


def write_h5ad_with_selection(src, dst, var_columns, *, raw=False, uns=None):
    """Copy a ``.h5ad`` file, adding columns to its ``var`` table (e.g. the selection), atomically.

    Parameters
    ----------
    src : str or os.PathLike
        The source ``.h5ad`` file (not modified).
    dst : str or os.PathLike
        The destination; may equal ``src``. The source is copied to a temporary file in the
        same folder, whose ``var`` table (and ``uns`` entries) are rewritten with anndata's
        element writer, then moved into place with :func:`os.replace`: never half-written.
        Every other element is kept byte for byte, compression included, and memory holds
        only ``var``. (A file written before anndata 0.7, which the element reader cannot
        read, is read whole and written again by anndata, compressed as its ``X`` is.)
    var_columns : mapping of str to sequence of length n_genes
        Columns to add (or replace) in ``var``, in the order of ``var_names``, e.g.
        ``{"skproj_selected": mask, "skproj_rank": ranks}``.
    raw : bool, default=False
        Add the columns to ``adata.raw.var`` instead (one value per gene of ``.raw``): for a
        selection made on ``.raw`` (``read_h5ad(..., layer="raw")``).
    uns : mapping of str to object, default=None
        Entries to add (or replace) in ``uns``, e.g. ``{"skproj": {...}}``, the parameters of
        the run, as scanpy keeps ``uns["rank_genes_groups"]["params"]``: values anndata can
        write (strings, numbers, arrays, nested mappings of them).

    Raises
    ------
    ImportError
        If anndata is not installed (the message names ``pip install "skproj[anndata]"``).
    ValueError
        If a column does not have one value per gene, or ``raw`` is true and the file has no
        ``.raw`` (nothing is written).
    """
    _import_anndata("write_h5ad_with_selection")
    import h5py

    src = os.fspath(src)
    key = "raw/var" if raw else "var"
    try:
        with h5py.File(src, "r") as f:
            legacy = _legacy_layout(f)
            if not legacy:
                if raw and "raw/var" not in f:
                    raise ValueError(f"{src}: has no .raw to add var columns to.")
                var = _read_elem()(f[key])
    except ValueError:
        raise
    except Exception:  # noqa: BLE001 - a file the element reader cannot read
        legacy = True
    if legacy:  # written before anndata 0.7: through anndata, whole
        return _rewrite_h5ad_with_selection(src, dst, var_columns, raw, uns)
    _add_columns(var, var_columns, raw)
    write_elem = _write_elem()
    with _atomic_path(dst, ".h5ad.tmp") as tmp:
        shutil.copyfile(src, tmp)  # every other element byte for byte, compression included
        with h5py.File(tmp, "r+") as f:
            group = f["raw"] if raw else f
            del group["var"]
            write_elem(group, "var", var)
            parent = f.require_group("uns")
            for name, value in dict(uns or {}).items():
                if name in parent:
                    del parent[name]
                write_elem(parent, name, value)


def _add_columns(var, var_columns, raw):
    """Add ``var_columns`` to the table ``var`` in place, each checked to have one value per gene."""
    n_vars = var.shape[0]
    cols = {}
    for name, values in dict(var_columns).items():
        values = np.asarray(values)
        if values.ndim != 1 or values.shape[0] != n_vars:
            raise ValueError(f"{'raw.' if raw else ''}var column {name!r} must have one value per gene "
                             f"({n_vars}), got shape {values.shape}.")
        cols[str(name)] = values
    for name, values in cols.items():
        var[name] = values


def _rewrite_h5ad_with_selection(src, dst, var_columns, raw, uns):
    """:func:`write_h5ad_with_selection` for files the element reader cannot read: the whole
    file through anndata (read into memory, written again, compressed as its ``X``)."""
    import anndata

    with warnings.catch_warnings():
        # anndata's "Variable names are not unique" hint (read_h5ad has warned about them)
        warnings.filterwarnings("ignore", message=".*names are not unique", category=UserWarning)
        adata = anndata.read_h5ad(src)
    if raw and adata.raw is None:
        raise ValueError(f"{src}: has no .raw to add var columns to.")
    _add_columns(adata.raw.var if raw else adata.var, var_columns, raw)
    adata.uns.update(dict(uns or {}))
    compression, opts = _matrix_compression(src)
    with _atomic_path(dst, ".h5ad.tmp") as tmp, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*names are not unique", category=UserWarning)
        adata.write_h5ad(tmp, compression=compression, compression_opts=opts)


def _matrix_compression(path):
    """(compression, compression_opts) of the ``X`` of a ``.h5ad`` file (its data array when
    sparse), so that a copy is compressed as the input was; (None, None) if unknown."""
    try:
        import h5py

        with h5py.File(os.fspath(path), "r") as f:
            node = f["X"]
            data = node if isinstance(node, h5py.Dataset) else node["data"]
            return data.compression, data.compression_opts
    except Exception:  # no h5py, or an unusual layout: anndata's default (uncompressed)
        return None, None
