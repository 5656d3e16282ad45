"""Tests of skproj.io: .h5ad reading, count normalisation, atomic writers."""

import csv
import os
import sys
import warnings

import numpy as np
import pytest
from scipy import sparse

from skproj.datasets import make_single_cell_counts
from skproj.io import normalize_counts, read_h5ad, write_gene_list, write_h5ad_with_selection


def _folder_files(folder):
    return sorted(os.listdir(folder))


# ----------------------------------------------------------------------------------------
# missing extra (runs without anndata too)
# ----------------------------------------------------------------------------------------


def test_missing_anndata_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "anndata", None)  # makes `import anndata` raise ImportError
    with pytest.raises(ImportError, match=r'pip install "skproj\[anndata\]"') as exc:
        read_h5ad(tmp_path / "x.h5ad", target="cell_type")
    assert "\n" not in str(exc.value)
    with pytest.raises(ImportError, match=r'pip install "skproj\[anndata\]"'):
        write_h5ad_with_selection(tmp_path / "x.h5ad", tmp_path / "y.h5ad", {})
    assert _folder_files(tmp_path) == []


# ----------------------------------------------------------------------------------------
# read_h5ad
# ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def h5ad(tmp_path_factory):
    anndata = pytest.importorskip("anndata")
    pd = pytest.importorskip("pandas")
    X, y, markers = make_single_cell_counts(120, 40, n_cell_types=3, n_markers_per_type=3, random_state=0)
    names = np.array(["CT_A", "CT_B", "CT_C"])
    rng = np.random.default_rng(0)
    obs = pd.DataFrame(
        {
            "cell_type": pd.Categorical(names[y]),
            "n_counts": np.asarray(X.sum(axis=1)).ravel() + rng.random(120),  # continuous
            "batch": rng.integers(0, 3, 120),
            "donor": np.array(["d1", "d2"] * 60, dtype=object),
        },
        index=[f"cell{i}" for i in range(120)],
    )
    var = pd.DataFrame(index=[f"GENE{j}" for j in range(40)])
    dense_scaled = (X.toarray() - X.toarray().mean(axis=0)).astype(np.float32)
    adata = anndata.AnnData(
        X=X.copy(),
        obs=obs,
        var=var,
        layers={"counts_int": X.astype(np.int32), "scaled": dense_scaled, "csc": X.tocsc()},
    )
    folder = tmp_path_factory.mktemp("h5ad")
    path = folder / "cells.h5ad"
    adata.write_h5ad(path)
    return path, X, names[y], adata


def test_read_h5ad_sparse(h5ad):
    path, X, labels, _ = h5ad
    r = read_h5ad(path, target="cell_type")
    assert sparse.isspmatrix_csr(r.X) and r.X.dtype == np.float32
    assert (r.X != X).nnz == 0
    np.testing.assert_array_equal(r.y, labels)
    assert r.y.dtype == object and all(type(v) is str for v in r.y)
    assert r.feature_names.tolist() == [f"GENE{j}" for j in range(40)]
    assert all(type(v) is str for v in r.feature_names)
    assert all(type(v) is str for v in r.cell_ids) and r.cell_ids[3] == "cell3"
    assert r.target_name == "cell_type" and r.layer is None


def test_read_h5ad_layers(h5ad):
    path, X, _, _ = h5ad
    r = read_h5ad(path, target="cell_type", layer="counts_int")
    assert sparse.isspmatrix_csr(r.X) and r.X.dtype == np.float32  # integer counts -> float32
    assert (r.X != X).nnz == 0
    r = read_h5ad(path, target="cell_type", layer="csc")
    assert sparse.isspmatrix_csr(r.X)  # CSC -> CSR
    assert (r.X != X).nnz == 0
    with pytest.raises(ValueError, match=r"no layer 'nope'.*'counts_int'"):
        read_h5ad(path, target="cell_type", layer="nope")
    # "raw" reads .raw, which this file does not have either
    with pytest.raises(ValueError, match=r"no layer 'raw' and no \.raw; its layers: 'counts_int'"):
        read_h5ad(path, target="cell_type", layer="raw")


def test_read_h5ad_gene_names_from_a_var_column(tmp_path):
    anndata = pytest.importorskip("anndata")
    pd = pytest.importorskip("pandas")
    X = sparse.random(6, 4, density=0.5, format="csr", random_state=0, dtype=np.float32)
    var = pd.DataFrame({"feature_name": ["CD3E", "MS4A1", None, "CD3E"]},
                       index=[f"ENSG{j:011d}" for j in range(4)])
    obs = pd.DataFrame({"cell_type": pd.Categorical(list("ababab"))}, index=[f"c{i}" for i in range(6)])
    path = tmp_path / "ids.h5ad"
    anndata.AnnData(X, obs=obs, var=var).write_h5ad(path)
    assert read_h5ad(path, "cell_type").feature_names.tolist() == list(var.index)
    with pytest.warns(UserWarning) as record:
        names = read_h5ad(path, "cell_type", gene_names="feature_name").feature_names.tolist()
    # the missing symbol keeps its id; the repeated one is made unique as anndata does
    assert names == ["CD3E", "MS4A1", "ENSG00000000002", "CD3E-1"]
    messages = " ".join(str(w.message) for w in record)
    assert "no name in var['feature_name']" in messages and "repeat" in messages
    with pytest.raises(ValueError, match=r"var has no column 'symbol'.*'feature_name'"):
        read_h5ad(path, "cell_type", gene_names="symbol")


def test_read_h5ad_reads_only_the_matrix_asked_for(h5ad, monkeypatch):
    """The other layers stay on disk (anndata's element reader), and the whole-file read that
    files it cannot read fall back on gives the same result."""
    anndata = pytest.importorskip("anndata")
    import skproj.io as io

    path = h5ad[0]
    read_elem, read = io._read_elem(), []

    def spy(elem):
        read.append(elem.name)
        return read_elem(elem)

    monkeypatch.setattr(io, "_read_elem", lambda: spy)
    monkeypatch.setattr(anndata, "read_h5ad", lambda *a, **k: pytest.fail("whole file read"))
    results = {layer: read_h5ad(path, target="cell_type", layer=layer) for layer in (None, "counts_int")}
    assert read == ["/obs", "/var", "/X", "/obs", "/var", "/layers/counts_int"]
    monkeypatch.undo()

    def unreadable():  # e.g. a file written before anndata 0.7's encoding attributes
        raise KeyError("encoding-type")

    monkeypatch.setattr(io, "_read_elem", unreadable)
    for layer, r in results.items():
        whole = read_h5ad(path, target="cell_type", layer=layer)
        assert type(whole.X) is type(r.X) and whole.X.dtype == r.X.dtype
        assert np.array_equal(whole.X.toarray() if sparse.issparse(r.X) else whole.X,
                              r.X.toarray() if sparse.issparse(r.X) else r.X)
        for key in ("y", "feature_names", "cell_ids"):
            np.testing.assert_array_equal(whole[key], r[key])
    with pytest.raises(ValueError, match=r"no layer 'nope'.*'counts_int'"):
        read_h5ad(path, target="cell_type", layer="nope")
    # "raw" reads .raw, which this file does not have either
    with pytest.raises(ValueError, match=r"no layer 'raw' and no \.raw; its layers: 'counts_int'"):
        read_h5ad(path, target="cell_type", layer="raw")


@pytest.mark.parametrize("key, shape", [("X", (121, 40)), ("X", (120, 41)), ("layers/scaled", (119, 40))])
def test_read_h5ad_matrix_of_another_shape_than_obs_and_var(h5ad, tmp_path, key, shape):
    """A damaged or hand-edited file: the matrix must match obs and var (anndata's own check
    when it builds the object; the element reader does not make it)."""
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "bad.h5ad"
    path.write_bytes(h5ad[0].read_bytes())
    with h5py.File(path, "r+") as f:
        del f[key]
        f.create_dataset(key, data=np.ones(shape, np.float32))
        f[key].attrs.update({"encoding-type": "array", "encoding-version": "0.2.0"})
    layer = None if key == "X" else key.split("/")[1]
    with pytest.raises(ValueError, match=rf"has shape \({shape[0]}, {shape[1]}\), but obs has 120 cells and var 40"):
        read_h5ad(path, target="cell_type", layer=layer)


def test_read_h5ad_dense_as_stored(h5ad, tmp_path):
    anndata = pytest.importorskip("anndata")
    _, X, labels, adata = h5ad
    dense = anndata.AnnData(X=X.toarray().astype(np.float64), obs=adata.obs, var=adata.var)
    path = tmp_path / "dense.h5ad"
    dense.write_h5ad(path)
    r = read_h5ad(path, target="cell_type")
    assert isinstance(r.X, np.ndarray) and r.X.dtype == np.float64
    np.testing.assert_array_equal(r.X, X.toarray())


def test_read_h5ad_repeated_gene_names(h5ad, tmp_path):
    anndata = pytest.importorskip("anndata")
    pd = pytest.importorskip("pandas")
    _, X, labels, adata = h5ad
    names = [f"GENE{j}" for j in range(40)]
    names[7] = names[9] = names[3]  # three columns named GENE3, as 10x symbols often repeat
    path = tmp_path / "dup.h5ad"
    with warnings.catch_warnings():  # anndata's own hint about the repeated names
        warnings.simplefilter("ignore", UserWarning)
        anndata.AnnData(X=X.copy(), obs=adata.obs, var=pd.DataFrame(index=names)).write_h5ad(path)
        stored = anndata.read_h5ad(path).var_names.tolist()
    with pytest.warns(UserWarning, match=r"2 gene names repeat an earlier one \(e\.g\. 'GENE3'\)") as rec:
        r = read_h5ad(path, target="cell_type")
    assert len(rec) == 1  # ours only, not anndata's hint as well
    got = r.feature_names.tolist()
    assert len(set(got)) == 40 and got[3] == "GENE3" and {got[7], got[9]} == {"GENE3-1", "GENE3-2"}
    assert [g for j, g in enumerate(got) if j not in (7, 9)] == [n for j, n in enumerate(names) if j not in (7, 9)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert stored == names and anndata.read_h5ad(path).var_names.tolist() == names  # untouched
    assert (r.X != X).nnz == 0


def test_read_h5ad_other_targets(h5ad):
    path = h5ad[0]
    r = read_h5ad(path, target="batch")
    assert r.y.dtype.kind == "i" and set(r.y.tolist()) <= {0, 1, 2}
    r = read_h5ad(path, target="donor")
    assert r.y.dtype == object and set(r.y.tolist()) == {"d1", "d2"} and type(r.y[0]) is str


def _one_line(exc):
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


def test_read_h5ad_missing_target_lists_columns(h5ad):
    path = h5ad[0]
    with pytest.raises(ValueError) as exc:
        read_h5ad(path, target="celltype")
    msg = _one_line(exc)
    assert "'celltype'" in msg and "'cell_type'" in msg and "'batch'" in msg


def test_read_h5ad_numeric_target_with_many_levels(h5ad):
    path = h5ad[0]
    with pytest.raises(ValueError) as exc:
        read_h5ad(path, target="n_counts")
    msg = _one_line(exc)
    assert "n_counts" in msg and "120 distinct values" in msg


def test_read_h5ad_negative_values(h5ad):
    path = h5ad[0]
    with pytest.raises(ValueError) as exc:
        read_h5ad(path, target="cell_type", layer="scaled")
    msg = _one_line(exc)
    assert "negative" in msg and "'scaled'" in msg


def test_read_h5ad_nan_in_sparse(h5ad, tmp_path):
    anndata = pytest.importorskip("anndata")
    _, X, _, adata = h5ad
    Xn = X.copy()
    Xn.data[[3, 10]] = np.nan
    bad = anndata.AnnData(X=Xn, obs=adata.obs, var=adata.var)
    path = tmp_path / "nan.h5ad"
    bad.write_h5ad(path)
    with pytest.raises(ValueError) as exc:
        read_h5ad(path, target="cell_type")
    msg = _one_line(exc)
    assert "2 NaN" in msg


def _labelled_h5ad(h5ad, tmp_path, labels):
    anndata = pytest.importorskip("anndata")
    _, X, _, adata = h5ad
    obs = adata.obs.copy()
    obs["cell_type"] = labels
    path = tmp_path / "labels.h5ad"
    anndata.AnnData(X=X.copy(), obs=obs, var=adata.var).write_h5ad(path)
    return str(path)


@pytest.mark.parametrize("kind", ["categorical", "object"])
def test_read_h5ad_nan_label_names_the_first_cell(h5ad, tmp_path, kind):
    pd = pytest.importorskip("pandas")
    labels = np.array(["CT_A", "CT_B", "CT_C"] * 40, dtype=object)
    labels[[5, 9]] = np.nan
    path = _labelled_h5ad(h5ad, tmp_path, pd.Categorical(labels) if kind == "categorical" else labels)
    with pytest.raises(ValueError) as exc:
        read_h5ad(path, target="cell_type")
    assert "obs['cell_type'] has 2 missing labels (NaN), the first at cell 5 ('cell5')" in _one_line(exc)


@pytest.mark.parametrize("bad", ["nan", "", "NA"])
def test_load_data_missing_string_labels(h5ad, tmp_path, bad):
    # the rule of the .csv reader (skproj._tables._MISSING) for .h5ad and .npz string labels
    from skproj._tables import InputError, load_data

    labels = np.array(["CT_A", "CT_B", "CT_C"] * 40, dtype=object)
    labels[[7, 11]] = bad
    path = _labelled_h5ad(h5ad, tmp_path, labels)
    with pytest.raises(InputError) as exc:
        load_data(path, "cell_type")
    assert f"missing label {bad!r} in obs['cell_type'] at cell 7 ('cell7')" in _one_line(exc)
    np.savez(tmp_path / "d.npz", X=np.ones((120, 2)), cls=labels.astype(str))
    with pytest.raises(InputError) as exc:
        load_data(str(tmp_path / "d.npz"), "cls")
    assert f"missing label {bad!r} in 'cls' at index 7" in _one_line(exc)


def test_load_data_npz_repeated_feature_names(tmp_path):
    # made unique as read_h5ad does (anndata's var_names_make_unique rule), with its warning
    from skproj._tables import load_data

    names = ["G", "G", "G-1", "H", "H", "G"]
    np.savez(tmp_path / "d.npz", X=np.ones((4, 6)), y=np.array([0, 1, 0, 1]), feature_names=names)
    with pytest.warns(UserWarning, match=r"d\.npz: 3 feature names repeat an earlier one \(e\.g\. 'G'\); "
                      r"they are made unique as anndata's var_names_make_unique does"):
        got = load_data(str(tmp_path / "d.npz")).feature_names.tolist()
    assert got == ["G", "G-2", "G-1", "H", "H-1", "G-3"]
    anndata = pytest.importorskip("anndata")
    pd = pytest.importorskip("pandas")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert got == anndata.utils.make_index_unique(pd.Index(names)).tolist()


def test_read_h5ad_missing_file(tmp_path):
    pytest.importorskip("anndata")
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_h5ad(tmp_path / "absent.h5ad", target="cell_type")


# ----------------------------------------------------------------------------------------
# normalize_counts
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_normalize_counts_sparse_and_dense(dtype):
    X, _, _ = make_single_cell_counts(50, 30, n_cell_types=2, n_markers_per_type=2, density=0.3, random_state=1)
    X = X.astype(dtype)
    X.data[X.indptr[0]:X.indptr[1]] = 0  # an empty cell stays zero
    X.eliminate_zeros()
    assert X[0].nnz == 0 and X.nnz > 0
    before = X.copy()
    dense = X.toarray()
    totals = dense.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = np.log1p(np.where(totals > 0, 1e4 * dense / totals, 0.0))
    out = normalize_counts(X)
    assert sparse.isspmatrix_csr(out) and out.dtype == dtype
    assert (X != before).nnz == 0  # input not modified
    np.testing.assert_array_equal(out.indices, X.indices)  # same pattern
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out.toarray(), expected, rtol=rtol)
    assert out[0].nnz == 0
    # row totals of expm1 are target_sum
    np.testing.assert_allclose(np.expm1(out.toarray()).sum(axis=1)[1:], 1e4, rtol=1e-5)
    d = dense.copy()
    out_dense = normalize_counts(d, target_sum=100.0)
    assert isinstance(out_dense, np.ndarray) and out_dense.dtype == dtype
    np.testing.assert_array_equal(d, dense)
    with np.errstate(invalid="ignore", divide="ignore"):
        exp100 = np.log1p(np.where(totals > 0, 100 * dense / totals, 0.0))
    np.testing.assert_allclose(out_dense, exp100, rtol=rtol)


def test_normalize_counts_sums_duplicate_entries():
    # a CSR matrix may store one entry twice (scipy keeps duplicates until asked): the counts
    # are their sum, so log1p must be taken of the normalised sum, as for the dense matrix
    X = sparse.csr_matrix((np.array([1.0, 1.0, 2.0, 3.0]), np.array([0, 0, 1, 1]),
                           np.array([0, 3, 4])), shape=(2, 2))
    assert not X.has_canonical_format
    data = X.data.copy()
    out = normalize_counts(X)
    np.testing.assert_allclose(out.toarray(), normalize_counts(X.toarray()), rtol=1e-12)
    np.testing.assert_allclose(out.toarray(), np.log1p([[5e3, 5e3], [0.0, 1e4]]), rtol=1e-12)
    np.testing.assert_array_equal(X.data, data)  # input not modified
    assert X.nnz == 4


def test_normalize_counts_errors():
    with pytest.raises(ValueError, match="negative"):
        normalize_counts(np.array([[1.0, -1.0]]))
    with pytest.raises(ValueError, match="NaN"):
        normalize_counts(sparse.csr_matrix(np.array([[1.0, np.nan]])))
    with pytest.raises(ValueError, match="target_sum"):
        normalize_counts(np.ones((2, 2)), target_sum=0)


# ----------------------------------------------------------------------------------------
# atomic writers
# ----------------------------------------------------------------------------------------


def test_write_gene_list_round_trip(tmp_path):
    path = tmp_path / "genes.csv"
    write_gene_list(path, np.array(["CD79A", "MS4A1", "NKG7"]), [1, 2, 3], [1.0, 0.8, 0.4],
                    np.array([0.5, 0.25, 0.125], dtype=np.float32))
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["gene", "rank", "selection_frequency", "importance"]
    assert rows[1] == ["CD79A", "1", "1.0", "0.5"]
    assert [r[0] for r in rows[1:]] == ["CD79A", "MS4A1", "NKG7"]
    assert float(rows[3][2]) == 0.4 and float(rows[3][3]) == 0.125
    write_gene_list(path, ["A"], [1])  # replace; no frequency / importance
    with open(path, newline="") as fh:
        assert list(csv.reader(fh)) == [["gene", "rank", "selection_frequency", "importance"], ["A", "1", "", ""]]
    assert _folder_files(tmp_path) == ["genes.csv"]


def test_write_gene_list_is_atomic(tmp_path):
    path = tmp_path / "genes.csv"
    write_gene_list(path, ["OLD"], [1])
    old = path.read_bytes()

    class Boom:
        def __len__(self):
            return 3

        def __getitem__(self, i):
            if i == 2:
                raise RuntimeError("disk on fire")
            return 0.5

    with pytest.raises(RuntimeError, match="disk on fire"):
        write_gene_list(path, ["A", "B", "C"], [1, 2, 3], Boom())
    assert path.read_bytes() == old  # untouched, not half-written
    assert _folder_files(tmp_path) == ["genes.csv"]  # no temporary file left
    with pytest.raises(ValueError, match="rank has 2 entries"):
        write_gene_list(tmp_path / "new.csv", ["A", "B", "C"], [1, 2])
    assert _folder_files(tmp_path) == ["genes.csv"]


def test_write_gene_list_into_a_missing_folder_names_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        write_gene_list(tmp_path / "nope" / "g.csv", ["A"], [1])
    assert info.value.filename == str(tmp_path / "nope")  # not a temporary file's name
    assert ".tmp" not in str(info.value)
    assert _folder_files(tmp_path) == []
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="not a folder"):
        write_gene_list(tmp_path / "file" / "g.csv", ["A"], [1])


def test_write_gene_list_writes_through_a_symlink(tmp_path):
    # as a shell redirection: the link's target is replaced, the link stays a link
    (tmp_path / "shared").mkdir()
    target, link = tmp_path / "shared" / "genes.csv", tmp_path / "link.csv"
    target.write_text("old\n")
    link.symlink_to(target)
    write_gene_list(link, ["A"], [1])
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert target.read_text().splitlines()[1] == "A,1,,"
    assert _folder_files(tmp_path / "shared") == ["genes.csv"]  # no temporary file left


def test_written_files_get_the_usual_mode(h5ad, tmp_path):
    # a new file: 0o666 less the umask (not mkstemp's 0o600); a replaced file keeps its mode
    import stat

    def mode(p):
        return stat.S_IMODE(os.stat(p).st_mode)

    old_umask = os.umask(0o022)
    try:
        genes, copy = tmp_path / "g.csv", tmp_path / "c.h5ad"
        write_gene_list(genes, ["A"], [1])
        write_h5ad_with_selection(h5ad[0], copy, {})
        assert mode(genes) == mode(copy) == 0o644
        os.chmod(genes, 0o640)
        os.chmod(copy, 0o664)
        write_gene_list(genes, ["B"], [1])
        write_h5ad_with_selection(h5ad[0], copy, {})
        assert (mode(genes), mode(copy)) == (0o640, 0o664)
        os.umask(0o077)
        write_gene_list(tmp_path / "private.csv", ["A"], [1])
        assert mode(tmp_path / "private.csv") == 0o600
    finally:
        os.umask(old_umask)


def test_sigterm_during_a_write_exits_143_and_leaves_no_temporary_file(tmp_path, monkeypatch, capsys):
    # skproj select turns SIGTERM (SLURM's time-out) into SystemExit(143), so the cleanup runs,
    # then ends with one line on stderr and exit code 143
    import signal
    import time

    from skproj.cli import main
    from skproj.io import _atomic_path

    def select(args):
        with _atomic_path(tmp_path / "r.json", ".tmp"):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)  # the handler raises here

    monkeypatch.setattr("skproj.cli._select", select)
    caller = signal.signal(signal.SIGTERM, ours := lambda *a: None)  # restored after the run
    try:
        assert main(["select"]) == 143 and _folder_files(tmp_path) == []  # cleaned up
        assert capsys.readouterr().err == "error: terminated (SIGTERM; no output file was left half-written)\n"
        assert signal.getsignal(signal.SIGTERM) is ours
    finally:
        signal.signal(signal.SIGTERM, caller)


def test_sigterm_swallowed_by_a_library_callback_still_exits_143(monkeypatch, capsys):
    # h5py raises nothing from its weakref callbacks: a SystemExit raised there is discarded
    # and the run finishes; the command must still end as terminated (it returned 0), with
    # one line on stderr (Python printed "Exception ignored in: ..." and a traceback)
    import signal
    import time
    import weakref

    from skproj.cli import main

    class Node:
        pass

    def callback(ref):  # a weakref callback: Python discards what it raises
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1)

    def select(args):
        node = Node()
        ref = weakref.ref(node, callback)  # noqa: F841 - kept alive until node dies
        del node
        return 0

    monkeypatch.setattr("skproj.cli._select", select)
    caller = signal.signal(signal.SIGTERM, lambda *a: None)
    try:
        assert main(["select"]) == 143
    finally:
        signal.signal(signal.SIGTERM, caller)
    err = capsys.readouterr().err
    assert err == "error: terminated (SIGTERM; no output file was left half-written)\n", err


def test_ctrl_c_is_one_line_and_exit_130(monkeypatch, capsys):
    from skproj.cli import main

    def select(args):
        raise KeyboardInterrupt

    monkeypatch.setattr("skproj.cli._select", select)
    assert main(["select"]) == 130
    err = capsys.readouterr().err
    assert err.strip() == "error: interrupted (no output file was left half-written)"


def test_write_h5ad_with_selection(h5ad, tmp_path):
    anndata = pytest.importorskip("anndata")
    src, X, labels, _ = h5ad
    mtime = os.path.getmtime(src)
    mask = np.zeros(40, dtype=bool)
    mask[[2, 5]] = True
    rank = np.where(mask, 0, -1)
    rank[[2, 5]] = [2, 1]
    dst = tmp_path / "out.h5ad"
    write_h5ad_with_selection(src, dst, {"skproj_selected": mask, "skproj_rank": rank})
    out = anndata.read_h5ad(dst)
    np.testing.assert_array_equal(out.var["skproj_selected"].to_numpy(), mask)
    np.testing.assert_array_equal(out.var["skproj_rank"].to_numpy(), rank)
    assert (sparse.csr_matrix(out.X) != X).nnz == 0
    np.testing.assert_array_equal(out.obs["cell_type"].astype(str).to_numpy(), labels)
    assert set(out.layers.keys()) == {"counts_int", "scaled", "csc"}
    assert os.path.getmtime(src) == mtime
    assert "skproj_selected" not in anndata.read_h5ad(src).var.columns
    assert _folder_files(tmp_path) == ["out.h5ad"]


def test_write_h5ad_with_selection_is_atomic(h5ad, tmp_path, monkeypatch):
    anndata = pytest.importorskip("anndata")
    import skproj.io as io

    src = h5ad[0]
    dst = tmp_path / "out.h5ad"
    with pytest.raises(ValueError, match="one value per gene"):
        write_h5ad_with_selection(src, dst, {"sel": np.ones(3, dtype=bool)})
    assert _folder_files(tmp_path) == []

    def half_write(group, name, value):  # the new var table half written, then the disk is full
        group.create_dataset(name, data=np.zeros(3))
        raise OSError("no space left on device")

    def half_write_h5ad(self, filename, *args, **kwargs):
        with open(filename, "wb") as fh:
            fh.write(b"\x89HDF partial")
        raise OSError("no space left on device")

    write_h5ad_with_selection(src, dst, {"sel": np.ones(40, dtype=bool)})
    good = dst.read_bytes()
    monkeypatch.setattr(io, "_write_elem", lambda: half_write)
    with pytest.raises(OSError, match="no space"):
        write_h5ad_with_selection(src, dst, {"sel": np.zeros(40, dtype=bool)})
    assert dst.read_bytes() == good
    assert _folder_files(tmp_path) == ["out.h5ad"]
    # the same through the whole-file rewrite of files the element reader cannot read
    monkeypatch.setattr(io, "_read_elem", lambda: (_ for _ in ()).throw(KeyError("encoding-type")))
    monkeypatch.setattr(anndata.AnnData, "write_h5ad", half_write_h5ad)
    with pytest.raises(OSError, match="no space"):
        write_h5ad_with_selection(src, dst, {"sel": np.zeros(40, dtype=bool)})
    assert dst.read_bytes() == good
    assert _folder_files(tmp_path) == ["out.h5ad"]


def test_write_h5ad_with_selection_copies_the_rest_byte_for_byte(h5ad, tmp_path, monkeypatch):
    """Only var (and uns entries) are rewritten: the matrices are never read (the whole file
    was read into memory and written again, every element with X's compression)."""
    anndata = pytest.importorskip("anndata")
    h5py = pytest.importorskip("h5py")
    import skproj.io as io

    src = tmp_path / "in.h5ad"
    adata = anndata.read_h5ad(h5ad[0])
    adata.write_h5ad(src, compression="gzip")
    with h5py.File(src, "a") as f:  # a layer compressed differently from X
        del f["layers/scaled"]
        f.create_dataset("layers/scaled", data=adata.layers["scaled"], compression="lzf")
        f["layers/scaled"].attrs.update({"encoding-type": "array", "encoding-version": "0.2.0"})
    monkeypatch.setattr(anndata, "read_h5ad", lambda *a, **k: pytest.fail("whole file read"))
    read_elem, read = io._read_elem(), []

    def spy(elem):
        read.append(elem.name)
        return read_elem(elem)

    monkeypatch.setattr(io, "_read_elem", lambda: spy)
    dst = tmp_path / "out.h5ad"
    write_h5ad_with_selection(src, dst, {"sel": np.arange(40) < 3}, uns={"skproj": {"report": "{}"}})
    assert read == ["/var"]
    monkeypatch.undo()
    with h5py.File(src, "r") as a, h5py.File(dst, "r") as b:
        assert b["layers/scaled"].compression == "lzf" and b["X/data"].compression == "gzip"
        for key in ("X/data", "X/indices", "layers/scaled", "layers/counts_int/data", "obs/cell_type/codes"):
            np.testing.assert_array_equal(a[key][()], b[key][()])
    out = anndata.read_h5ad(dst)
    assert out.var["sel"].sum() == 3 and out.uns["skproj"]["report"] == "{}"
    assert list(out.obs["cell_type"]) == list(adata.obs["cell_type"])


def test_cli_without_target_lists_the_obs_columns(h5ad, capsys):
    # a biologist who forgets --target is shown the obs columns to choose from
    from skproj.cli import main

    path = h5ad if not isinstance(h5ad, tuple) else h5ad[0]
    assert main(["select", str(path)]) == 2
    err = capsys.readouterr().err
    assert "--target COLUMN" in err and "its obs columns:" in err
    assert all(name in err for name in ("cell_type", "batch", "donor"))


@pytest.mark.parametrize("compression", [None, "gzip"])
def test_write_h5ad_with_selection_keeps_the_compression(h5ad, tmp_path, compression):
    # a gzip-compressed input gave an uncompressed copy (3.2 times larger)
    anndata = pytest.importorskip("anndata")
    h5py = pytest.importorskip("h5py")
    src = tmp_path / "in.h5ad"
    anndata.read_h5ad(h5ad[0]).write_h5ad(src, compression=compression)
    dst = tmp_path / "out.h5ad"
    write_h5ad_with_selection(src, dst, {"sel": np.ones(40, dtype=bool)})
    with h5py.File(dst, "r") as f:
        assert f["X"]["data"].compression == compression
    assert (sparse.csr_matrix(anndata.read_h5ad(dst).X) != h5ad[1]).nnz == 0
