"""Convert scanpy's ``10x_pbmc68k_reduced.h5ad`` into ``skproj/datasets/data/pbmc68k_reduced.npz``.

Run once, by a maintainer, when the embedded data set is (re)built; it is not part of the
package and needs ``h5py`` (not a dependency of skproj)::

    unzip -j scanpy-1.11.5-py3-none-any.whl scanpy/datasets/10x_pbmc68k_reduced.h5ad -d /tmp
    python tools/convert_pbmc68k.py /tmp/10x_pbmc68k_reduced.h5ad

The argument may also be the scanpy wheel itself (the .h5ad is read from inside the zip).

What is kept (everything else in the .h5ad is dropped):

- ``raw.X`` (CSR, 700 cells x 765 genes, float32): log1p of the counts normalised to 10,000
  per cell, ``log(1 + 1e4 * counts / n_counts)``, where ``n_counts`` is the cell's total count
  over all genes of the original 68k matrix (checked below). This is the expression matrix
  the loader returns. The file's ``X`` layer is the same genes after ``scanpy.pp.scale``
  (centred and scaled with statistics of all 700 cells, so it leaks across CV folds and
  loses sparsity); it is NOT kept.
- ``raw.var`` index: gene symbols (the same 765 genes, same order, as ``var``).
- ``var['highly_variable']``: the 309 genes scanpy flagged as highly variable.
- ``obs`` index: cell barcodes; ``obs['bulk_labels']``: cell types (10 classes, the
  FACS-sorted reference populations of Zheng et al. 2017 assigned to each cell);
  ``obs['louvain']``: the Louvain clusters (11) computed by scanpy; ``obs['n_counts']``.
"""

import io
import sys
import zipfile
from pathlib import Path

import numpy as np

MEMBER = "scanpy/datasets/10x_pbmc68k_reduced.h5ad"
OUT = Path(__file__).resolve().parents[1] / "skproj" / "datasets" / "data" / "pbmc68k_reduced.npz"


def _open_h5(path):
    import h5py

    path = Path(path)
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as zf:
            return h5py.File(io.BytesIO(zf.read(MEMBER)), "r")
    return h5py.File(path, "r")


def _decode(a):
    return np.array([s.decode("utf-8") for s in a], dtype=str)


def convert(src, out=OUT):
    f = _open_h5(src)
    raw = f["raw.X"]
    if raw.attrs["h5sparse_format"] not in ("csr", b"csr"):
        raise ValueError("expected raw.X stored as CSR")
    shape = tuple(int(s) for s in raw.attrs["h5sparse_shape"])
    data = raw["data"][()].astype(np.float32)
    indices = raw["indices"][()].astype(np.int32)
    indptr = raw["indptr"][()].astype(np.int32)

    obs = f["obs"][()]
    var = f["var"][()]
    genes = _decode(f["raw.var"][()]["index"])
    if not np.array_equal(genes, _decode(var["index"])):
        raise ValueError("raw.var and var list different genes")
    bulk_names = _decode(f["uns/bulk_labels_categories"][()])
    louvain_names = _decode(f["uns/louvain_categories"][()])

    # Check the documented preprocessing: expm1(raw) * n_counts / 1e4 are integer counts
    # (up to float32 rounding of the stored log values).
    import scipy.sparse as sp

    dense = sp.csr_matrix((data, indices, indptr), shape=shape).toarray().astype(np.float64)
    counts = np.expm1(dense) * obs["n_counts"].astype(np.float64)[:, None] / 1e4
    err = np.abs(counts - np.round(counts))
    rel = err / np.maximum(np.round(counts), 1.0)
    if rel.max() > 1e-3:
        raise ValueError(f"raw.X is not log1p(CP10k): relative deviation {rel.max():.3g}")

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out,
        data=data,
        indices=indices,
        indptr=indptr,
        shape=np.array(shape, dtype=np.int64),
        feature_names=genes,
        highly_variable=var["highly_variable"].astype(bool),
        cell_ids=_decode(obs["index"]),
        target=obs["bulk_labels"].astype(np.int64),
        target_names=bulk_names,
        louvain=obs["louvain"].astype(np.int64),
        louvain_names=louvain_names,
        n_counts=obs["n_counts"].astype(np.float32),
    )
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB): {shape[0]} cells x {shape[1]} genes, "
          f"{len(bulk_names)} cell types; max relative count rounding error {rel.max():.2g}")


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    convert(*sys.argv[1:])
