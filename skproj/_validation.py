"""Input validation shared by the public operator functions (and their rescaling of float64 data
whose norms overflow double), and the estimators' ``__init__`` body.

Every public projection / prox function goes through these helpers before calling a kernel,
so that kernels can assume C-contiguous float32/float64 buffers and valid scalars.
"""

import numbers
import textwrap

import numpy as np

__all__ = ["as_array", "as_float_array", "check_finite", "check_scalar", "check_axis", "n_from_fraction", "prepare_out", "run_grouped", "run_homogeneous",
           "store_init_args"]


def as_float_array(x, name, ndim=None, finite=True):
    """Return ``x`` as a C-contiguous float32 or float64 array (never the caller's buffer mutated).

    float32 and float64 keep their dtype (in either byte order; the result is in the machine's);
    every other real numeric dtype (ints, bools, float16, longdouble) becomes float64.
    ``finite=False`` leaves the check for NaN and inf to the caller (:func:`check_finite`), for a
    kernel whose own first pass detects them (see :func:`run_homogeneous`).

    Raises
    ------
    TypeError
        If ``x`` is not numeric (object, string, complex...).
    ValueError
        If ``x`` is ragged (nested sequences of different lengths), does not have ``ndim``
        dimensions, has values beyond the float64 range (a longdouble input), or
        (``finite=True``) contains NaN or inf.
    """
    arr = as_array(x, name)
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must be a real numeric array, got an array of dtype {arr.dtype}."
        )
    if arr.dtype.kind == "f" and arr.dtype.itemsize in (4, 8):
        arr = arr.astype(arr.dtype.newbyteorder("="), copy=False)  # big-endian float32 stays float32
    if arr.dtype not in (np.float32, np.float64):
        wide = arr
        with np.errstate(over="ignore"):
            arr = arr.astype(np.float64)
        if wide.dtype.kind == "f" and np.isfinite(wide).all() and not np.isfinite(arr).all():
            raise ValueError(
                f"{name} has values beyond the float64 range (largest magnitude "
                f"{np.abs(wide).max()}); the operators work in float32 or float64."
            )
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(
            f"{name} must be a {ndim}-D array, got an array of shape {arr.shape} ({arr.ndim}-D)."
        )
    if finite:
        check_finite(arr, name)
    # a 0-d array stays 0-d (np.ascontiguousarray would make it 1-D): elementwise functions
    # return the shape of their input
    return arr if arr.ndim == 0 else np.ascontiguousarray(arr)


def as_array(x, name):
    """``np.asarray(x)``, a ragged sequence (rows of different lengths) raising a ValueError
    that names ``name`` instead of numpy's own message."""
    try:
        return np.asarray(x)
    except ValueError as exc:  # numpy: "setting an array element with a sequence ..."
        raise ValueError(
            f"{name} must be a rectangular array: its nested sequences have different lengths."
        ) from exc


def check_finite(arr, name):
    """Raise ValueError naming ``name`` if the float array ``arr`` contains NaN or inf."""
    if arr.size and not np.isfinite(arr).all():
        bad = "NaN" if np.isnan(arr).any() else "inf"
        raise ValueError(f"{name} contains {bad}; only finite values are accepted.")


def check_scalar(value, name, *, allow_zero=True):
    """Validate a finite real scalar >= 0 (> 0 if ``allow_zero`` is False); return it as float."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        if not (isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf"):
            raise TypeError(f"{name} must be a real number, got {value!r} of type {type(value).__name__}.")
    try:
        value = float(value)
    except OverflowError:  # an int beyond the float range
        raise ValueError(f"{name} must be finite, got an integer too large for a float.") from None
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}.")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}, got {value}.")
    return value


def n_from_fraction(fraction, n_features):
    """The number of features a fraction in (0, 1] asks for: rounded down, at least 1, as
    scikit-learn's RFE and SequentialFeatureSelector count ``n_features_to_select``."""
    return max(1, int(fraction * n_features))


def canonical_csr(X):
    """A CSR ``X`` in canonical form (sorted indices, no duplicate entries, which count as
    their sum): ``X`` itself when it already is, else a canonical copy (``X`` is not modified)."""
    if X.has_canonical_format:
        return X
    X = X.copy()
    X.sum_duplicates()
    return X


def check_axis(axis, ndim=2):
    """Validate ``axis`` for a ``ndim``-D array (negative values allowed); return it in [0, ndim)."""
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"axis must be an integer, got {axis!r}.")
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis must be in [{-ndim}, {ndim - 1}] for a {ndim}-D array, got {axis}.")
    return int(axis) % ndim


def prepare_out(out, shape, dtype, name="out"):
    """Validate a user ``out`` array (or allocate one).

    Returns ``(target, buffer)``: ``buffer`` is a C-contiguous array the kernel may write,
    ``target`` the array to return. When ``out`` is not C-contiguous the kernel writes to a
    fresh buffer that the caller copies into ``out`` with :func:`finish_out`.
    """
    if out is None:
        buf = np.empty(shape, dtype=dtype)
        return buf, buf
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(out).__name__}.")
    if out.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {out.shape}.")
    if out.dtype != dtype:
        raise ValueError(f"{name} must have dtype {np.dtype(dtype)}, got {out.dtype}.")
    if not out.flags.writeable:
        raise ValueError(f"{name} is read-only.")
    if out.flags.c_contiguous:
        return out, out
    return out, np.empty(shape, dtype=dtype)


def finish_out(target, buf):
    """Copy the kernel's buffer into the user's ``out`` when they differ; return ``target``."""
    if target is not buf:
        target[...] = buf
    return target


def run_homogeneous(kernel, x, buf, param, overflowed, finite_name=None):
    """``kernel(x, buf, param)`` for a positively homogeneous operator, kept right when the
    norms of ``x`` overflow double.

    The kernels add ``|x|`` (or group norms) in double. For float64 entries near the top of its
    range those sums overflow; ``overflowed(kernel's return value)`` says so (the returned
    threshold is inf or NaN, or the kernel's count of overflowing groups is positive). The
    projections and the prox operators of norms are positively homogeneous,
    ``T_param(x) = s T_{param / s}(x / s)`` for ``s > 0``, so the kernel then runs again on ``x``
    and ``param`` divided by ``2^e``, the power of two of ``max |x|``, and ``buf`` is multiplied
    back by ``2^e``. Both scalings are exact, except that entries below ``2^-1022 max |x|`` lose
    bits (to an absolute error of at most ``2^-1074 max |x|``). ``x`` must not share memory with
    ``buf``.

    ``finite_name``: ``x`` was not checked for NaN and inf, because the kernel flags them as an
    overflow (its sums are then NaN or inf) without writing ``buf``; they raise ValueError naming
    ``finite_name`` (see :func:`check_finite`) before any rescaling.
    """
    if not overflowed(kernel(x, buf, param)):
        return
    if finite_name is not None:
        check_finite(x, finite_name)
    e = int(np.frexp(np.abs(x).max())[1])
    # a positive param below 2^e times the smallest subnormal takes that value (within the
    # error above)
    small = max(float(np.ldexp(param, -e)), 5e-324) if param > 0 else 0.0
    kernel(np.ldexp(x, -e).astype(x.dtype, copy=False), buf, small)
    np.ldexp(buf, e, out=buf)


def run_grouped(kernel, X, axis, out, param, overflowed, finite_name=None):
    """:func:`run_homogeneous` of a rows-are-groups kernel for either axis; returns the result.

    ``axis=1``: the rows of ``X`` are the groups (``X`` is copied first if it shares memory
    with the output); ``axis=0``: the kernel works on a contiguous copy of the transpose.
    ``out`` as in :func:`prepare_out`; an empty ``X`` gives an empty result.
    """
    target, buf = prepare_out(out, X.shape, X.dtype)
    if X.size == 0:
        return finish_out(target, buf)
    if axis == 1:
        run_homogeneous(kernel, separate_input(X, buf), buf, param, overflowed, finite_name)
        return finish_out(target, buf)
    Xt = np.ascontiguousarray(X.T)
    res = np.empty_like(Xt)
    run_homogeneous(kernel, Xt, res, param, overflowed, finite_name)
    buf[...] = res.T
    return finish_out(target, buf)


def separate_input(x, buf):
    """Return ``x`` or a copy of it when it shares memory with the output buffer.

    Kernels read their input while writing their output; a caller asking for an in-place
    result (``out=x``) gets the same answer as without ``out``.
    """
    if np.shares_memory(x, buf):
        return x.copy()
    return x


# --------------------------------------------------------------------------------------------
# docstring fragments shared by several public docstrings


def fill_doc(**fragments):
    """Decorator: replace each placeholder line ``{name}`` of ``obj.__doc__`` by ``fragments[name]``.

    The fragment is dedented, then indented like its placeholder, so that the rendered docstring
    (numpydoc's Parameters / Returns sections included) is complete. Under ``python -OO`` the
    docstring is None and left alone.
    """

    def decorate(obj):
        if obj.__doc__ is None:
            return obj
        lines = []
        for line in obj.__doc__.split("\n"):
            key = line.strip()
            if key.startswith("{") and key.endswith("}") and key[1:-1] in fragments:
                indent = line[: len(line) - len(line.lstrip())]
                text = textwrap.dedent(fragments[key[1:-1]]).strip("\n")
                lines.extend(indent + part if part else part for part in text.split("\n"))
            else:
                lines.append(line)
        obj.__doc__ = "\n".join(lines)
        return obj

    return decorate


def store_init_args(estimator, init_locals):
    """Store every argument of an ``__init__`` (its ``locals()``) unchanged, as an attribute of the same name.

    scikit-learn's ``get_params`` reads the explicit ``__init__`` signature, and its convention is
    that ``__init__`` stores the arguments and does nothing else: this is that body, written once.
    Call it first thing, as ``store_init_args(self, locals())``.
    """
    for name, value in init_locals.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)
