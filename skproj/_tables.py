"""Reading the small tables of ``skproj select``: .csv/.tsv (standard library), .npz, embedded data.

Every problem with the user's file raises :class:`InputError` with a one-line message naming the
file, the column and the line, so that the command can print it without a traceback.
"""

import csv
from pathlib import Path

import numpy as np

from .io import _MISSING, _missing_mask


def _first_missing(labels):
    """Index of the first string label that is a missing-value token (``_MISSING``), or None."""
    missing = _missing_mask(labels)
    return int(np.argmax(missing)) if missing.any() else None


def _dropped_note(n, unit):
    return f"{n} {unit} with a missing label left out (--drop-missing)."


class InputError(ValueError):
    """A problem with the user's data or options, described in one line."""


class Dataset:
    """Features, labels and names of the data set the command runs on."""

    def __init__(self, X, y, feature_names, source, description="", preprocessing="", unit="samples",
                 notes=(), matrix=None, feature_ids=None):
        self.notes = list(notes)  # one-line notes on how the file was read, for stderr
        self.feature_ids = feature_ids  # a .h5ad's var_names when the names come from a var column
        self.matrix = matrix  # where a .h5ad file's matrix was read: "X", "layers/NAME", "raw/X"
        self.preprocessing = preprocessing
        self.unit = unit  # what a sample is called in the messages ("cells" for single-cell data)
        self.X = X
        self.y = y
        self.feature_names = np.asarray([str(f) for f in feature_names], dtype=object)
        self.source = source
        self.description = description

    def drop_small_classes(self, min_size):
        """Leave out the samples of the classes with fewer than ``min_size`` of them (a note)."""
        classes, counts = np.unique(self.y, return_counts=True)
        small = counts < min_size
        if small.any():
            keep = ~np.isin(self.y, classes[small])
            self.X, self.y = self.X[keep], self.y[keep]
            listed = ", ".join(f"{str(c)!r} ({n})" for c, n in zip(classes[small], counts[small]))
            self.notes.append(f"{int(small.sum())} classes with fewer than {min_size} {self.unit} left "
                              f"out (--min-class-size): {listed}.")


def _embedded_dataset():
    from .datasets import load_pbmc68k

    pbmc = load_pbmc68k()
    y = pbmc.target_names[pbmc.target]
    return Dataset(
        pbmc.data.astype(np.float64),
        y,
        pbmc.feature_names,
        source="embedded PBMC 68k (reduced) data set, skproj.datasets.load_pbmc68k",
        description="700 cells x 765 genes, log-normalised expression, 10 cell types",
        preprocessing="log1p(counts per 10,000) as shipped; " + SCALING, unit="cells",
    )


def _read_table(path, target, drop, drop_missing=False):
    """Read a .csv/.tsv table (header row, samples x columns) with the standard library."""
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            first = fh.readline()
            other = next((d for d in (";", "\t", ",") if d != delimiter and d in first), None)
            if delimiter not in first and other is not None:
                # a European spreadsheet's ';' (or a tab-separated file named .csv): its header
                # would be one column, or one field beyond the csv module's size limit
                seps = {";": "';'", "\t": "tab", ",": "','"}
                if other == ";":
                    fix = "save the table comma-separated, or tab-separated as .tsv"
                elif other == "\t":
                    fix = "name the file .tsv, or save it comma-separated"
                else:
                    fix = "name the file .csv, or save it tab-separated"
                raise InputError(f"{path}: the header line has {seps[other]} separators and no "
                                 f"{seps[delimiter]}: {fix}.")
            fh.seek(0)
            # blank lines are skipped; every kept row remembers the line it starts on (a quoted
            # field may span lines), for the messages
            rows, starts, end = [], [], 0
            reader = csv.reader(fh, delimiter=delimiter)
            for row in reader:
                if row:
                    rows.append(row)
                    starts.append(end + 1)
                end = reader.line_num
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text file (could not decode it as UTF-8).") from None
    except csv.Error as exc:
        raise InputError(f"{path}: malformed {path.suffix[1:].upper()} ({exc}).") from None
    if not rows:
        raise InputError(f"{path}: the file is empty.")
    header = [h.strip() for h in rows[0]]
    body, lines = rows[1:], starts[1:]
    if not body:
        raise InputError(f"{path}: the table has a header but no data rows.")
    width = len(header)
    for i, row in zip(lines, body):
        if len(row) != width:
            raise InputError(
                f"{path}: line {i} has {len(row)} fields, the header has {width}."
            )
    notes, first = [], 0
    if width > 1 and header[0] == "":  # the row names of pandas' to_csv() or R's write.csv
        header, body, first = header[1:], [row[1:] for row in body], 1
        notes.append("the unnamed first column is taken as row names and ignored")
    if "" in header:
        raise InputError(f"{path}: column {header.index('') + 1 + first} has no name in the header; "
                         "name it, or remove it.")
    if target is None:
        raise InputError(
            f"{path}: name the label column with --target COLUMN "
            f"(columns: {_preview(header)})."
        )
    if header.count(target) != 1:
        if target not in header:
            raise InputError(
                f"{path}: no column named {target!r} for --target (columns: {_preview(header)})."
            )
        raise InputError(f"{path}: several columns are named {target!r}.")
    for name in drop:
        if name not in header:
            raise InputError(f"{path}: no column named {name!r} for --drop.")
    if target in drop:
        raise InputError(f"--drop lists the --target column {target!r}.")
    t_idx = header.index(target)
    f_idx = [j for j, h in enumerate(header) if j != t_idx and h not in drop]
    if not f_idx:
        raise InputError(f"{path}: no feature columns besides the label column {target!r}.")
    names = [header[j] for j in f_idx]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise InputError(f"{path}: duplicate column names: {_preview(sorted(dup))}.")

    cells = np.array(body, dtype=str)
    y = np.char.strip(cells[:, t_idx])
    if drop_missing and (gone := _missing_mask(y)).any():
        if gone.all():
            raise InputError(f"{path}: every label in column {target!r} is missing: no sample is left.")
        cells, y, lines = cells[~gone], y[~gone], [ln for ln, g in zip(lines, gone) if not g]
        notes.append(_dropped_note(int(gone.sum()), "samples"))
    if (i := _first_missing(y)) is not None:
        raise InputError(f"{path}: missing label in column {target!r} on line {lines[i]} (--drop-missing "
                         "leaves such rows out).")
    raw = np.char.strip(cells[:, f_idx])
    try:
        X = raw.astype(np.float64)
    except ValueError:
        _raise_first_bad_cell(path, raw, names, lines)
    return X, y, names, notes


def _raise_first_bad_cell(path, raw, names, lines):
    for j, name in enumerate(names):
        for i, value in enumerate(raw[:, j]):
            try:
                float(value)
            except ValueError:
                line = lines[i]
                if value.lower() in _MISSING:
                    raise InputError(
                        f"{path}: missing value in column {name!r} on line {line}; "
                        "impute or remove it first."
                    ) from None
                raise InputError(
                    f"{path}: non-numeric value {str(value)!r} in feature column {name!r} on line {line} "
                    f"(use --drop {name} to ignore a non-feature column)."
                ) from None
    raise InputError(f"{path}: could not convert the feature columns to numbers.")  # pragma: no cover


def _read_npz(path, target, drop_missing=False):
    import zipfile

    key_y = target or "y"
    if not zipfile.is_zipfile(path):
        raise InputError(f"{path}: not a readable .npz file (not a zip archive).")
    try:
        with np.load(path, allow_pickle=False) as z:
            keys = set(z.files)
            if "X" not in keys or key_y not in keys:
                missing = [k for k in ("X", key_y) if k not in keys]
                raise InputError(
                    f"{path}: missing array(s) {', '.join(map(repr, missing))} "
                    f"(the file holds: {_preview(sorted(keys)) or 'nothing'})."
                )
            X = z["X"]
            y = z[key_y]
            names = z["feature_names"] if "feature_names" in keys else None
    except InputError:
        raise
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise InputError(f"{path}: holds Python objects; save plain numeric/string arrays.") from None
        raise InputError(f"{path}: not a readable .npz file ({exc}).") from None
    except Exception as exc:  # zipfile.BadZipFile, OSError, EOFError...
        raise InputError(f"{path}: not a readable .npz file ({type(exc).__name__}).") from None
    if X.ndim != 2:
        raise InputError(f"{path}: X must be 2-D (samples x features), got shape {X.shape}.")
    if X.dtype.kind not in "biuf":
        raise InputError(f"{path}: X must be numeric, got dtype {X.dtype}.")
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise InputError(
            f"{path}: {key_y} must be 1-D with one label per row of X "
            f"({X.shape[0]}), got shape {y.shape}."
        )
    notes = []
    if drop_missing and (gone := _missing_mask(y)).any():  # NaN of a float y, or a missing string
        if gone.all():
            raise InputError(f"{path}: every label in {key_y!r} is missing: no sample is left.")
        X, y = X[~gone], y[~gone]
        notes.append(_dropped_note(int(gone.sum()), "samples"))
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise InputError(f"{path}: {key_y} contains NaN or inf (--drop-missing leaves NaN labels out).")
    if y.dtype.kind not in "biufUS":
        raise InputError(f"{path}: {key_y} must hold numbers or strings, got dtype {y.dtype}.")
    y = y.astype(str)
    if (i := _first_missing(y)) is not None:
        raise InputError(f"{path}: missing label {str(y[i])!r} in {key_y!r} at index {i}; "
                         "remove those samples first (or --drop-missing).")
    if names is None:
        names = [f"x{j}" for j in range(X.shape[1])]
    else:
        from .io import _unique_names

        names = np.asarray(names).astype(str)
        if names.shape != (X.shape[1],):
            raise InputError(
                f"{path}: feature_names must have one name per column of X ({X.shape[1]}), "
                f"got shape {names.shape}."
            )
        names = _unique_names(names, path, "feature")
    return X.astype(np.float64), y, list(names), notes


SCALING = "StandardScaler fitted on each training fold"


def _obs_columns(path):
    """'; its obs columns: ...' (only ``obs`` is read), or ''."""
    from .io import _h5ad_obs

    try:
        cols = list(_h5ad_obs(path).columns)
    except Exception:  # the full read that follows reports what is wrong with the file
        return ""
    return f"; its obs columns: {_preview(cols)}" if cols else "; obs has no columns"


def _read_h5ad(path, target, layer, normalized, gene_names=None, drop_missing=False):
    """An AnnData file through :func:`skproj.io.read_h5ad`; counts are log-normalised."""
    from scipy import sparse

    from .io import normalize_counts, read_h5ad

    if target is None:
        raise InputError(f"{path}: name the obs column of the labels with --target COLUMN"
                         f"{_obs_columns(path)}.")
    try:
        data = read_h5ad(path, target, layer=layer, gene_names=gene_names, drop_missing=drop_missing)
    except ImportError:
        raise InputError(f"{path}: reading .h5ad files needs anndata, which is not installed "
                         "(pip install 'skproj[anndata]').") from None
    except (ValueError, TypeError, FileNotFoundError) as exc:
        raise InputError(str(exc).splitlines()[0]) from None
    except Exception as exc:  # h5py / anndata errors on a damaged or foreign file
        if "lock" in str(exc).lower():   # HDF5's file locking: another process has it open
            raise InputError(
                f"{path}: the file is locked by another process (an AnnData object opened "
                "with mode 'r+'?); close it there, or set HDF5_USE_FILE_LOCKING=FALSE."
            ) from None
        raise InputError(f"{path}: not a readable .h5ad file ({type(exc).__name__}).") from None
    X, y, n_gone = data.X, data.y, data.n_dropped
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise InputError(f"{path}: no cells or no genes ({data.matrix} has shape {X.shape}).")
    if (i := _first_missing(y)) is not None:
        raise InputError(f"{path}: missing label {str(y[i])!r} in obs[{target!r}] at cell {i} "
                         f"({str(data.cell_ids[i])!r}); drop those cells first (--drop-missing).")
    is_sparse = sparse.issparse(X)
    values = X.data if is_sparse else X
    counts = values.size > 0 and bool(np.all(values == np.round(values)))
    where = {"X": "X", "raw/X": ".raw (raw/X)"}.get(data.matrix, f"layer {layer!r}")
    read_as = f"sparse CSR {X.dtype}" if is_sparse else f"dense {X.dtype}"
    stored = data.storage + ("" if data.storage == read_as else f" (read as {read_as})")
    if is_sparse:
        fmt = f"{stored} {where}, {X.nnz / max(1, X.shape[0] * X.shape[1]):.1%} non-zeros; "
    else:
        fmt = f"{stored} {where}; "
    if counts and not normalized:
        X = normalize_counts(X)
        step = "integer counts -> log1p(counts per 10,000) (skproj.io.normalize_counts)"
    elif counts:
        step = "integer counts used as stored (--normalized)"
    else:
        step = "non-integer values used as stored (taken as already normalised)"
    scaling = SCALING + (" without centring (StandardScaler(with_mean=False): the matrix stays sparse; "
                         "never densified as a whole)" if is_sparse else "")
    return Dataset(X, y, data.feature_names, source=str(path),
                   notes=[_dropped_note(n_gone, "cells")] if n_gone else [],
                   preprocessing=f"{fmt}{step}; {scaling}", unit="cells", matrix=data.matrix,
                   feature_ids=None if gene_names is None else data.var_names)


def load_data(data, target=None, drop=(), layer=None, normalized=False, gene_names=None, drop_missing=False):
    """Load the data set the command runs on (embedded PBMC data when ``data`` is None)."""
    if data is None:
        if target is not None or drop or layer is not None or gene_names is not None:
            raise InputError("--target, --drop, --layer and --gene-names need a DATA file.")
        if normalized:
            raise InputError("--normalized applies to .h5ad files only.")
        return _embedded_dataset()
    path = Path(data)
    try:
        if path.is_dir():
            raise InputError(f"{path}: is a directory, expected a .csv, .tsv, .npz or .h5ad file.")
        with open(path, "rb"):   # the reason it cannot be read, said the same way for every type
            pass
    except FileNotFoundError:
        raise InputError(f"{path}: no such file.") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or type(exc).__name__}).") from None
    suffix = path.suffix.lower()
    if layer is not None and suffix != ".h5ad":
        raise InputError("--layer applies to .h5ad files only.")
    if gene_names is not None and suffix != ".h5ad":
        raise InputError("--gene-names applies to .h5ad files only (a table's header names its columns).")
    if normalized and suffix != ".h5ad":
        raise InputError("--normalized applies to .h5ad files only.")
    if drop and suffix not in (".csv", ".tsv"):
        raise InputError("--drop applies to .csv/.tsv files only.")
    if suffix == ".h5ad":
        return _read_h5ad(path, target, layer, normalized, gene_names, drop_missing)
    if suffix in (".csv", ".tsv"):
        X, y, names, notes = _read_table(path, target, drop, drop_missing)
    elif suffix == ".npz":
        X, y, names, notes = _read_npz(path, target, drop_missing)
    else:
        raise InputError(f"{path}: unsupported file type {path.suffix!r}; use .csv, .tsv, .npz "
                         "or .h5ad.")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise InputError(f"{path}: no samples or no features (shape {X.shape}).")
    if not np.isfinite(X).all():
        i, j = np.argwhere(~np.isfinite(X))[0]
        kind = "NaN" if np.isnan(X[i, j]) else "inf"
        raise InputError(
            f"{path}: {kind} in feature {str(names[j])!r} (sample {i + 1}); impute or remove it first."
        )
    return Dataset(X, y, names, source=str(path), preprocessing=SCALING, notes=notes)


def _preview(items, n=8, width=40):
    """The first ``n`` items, each cut to ``width`` characters, and how many there are."""
    items = list(items)
    text = ", ".join(t if len(t) <= width else t[: width - 3] + "..." for t in map(str, items[:n]))
    return text + (f", ... ({len(items)} in all)" if len(items) > n else "")
