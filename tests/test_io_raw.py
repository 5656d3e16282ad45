"""Reading ``adata.raw`` (``read_h5ad(..., layer="raw")``, ``skproj select --layer raw``) and
writing the selection into ``raw.var``; the preprocessing line names the matrix as stored."""

import json

import numpy as np
import pytest
from scipy import sparse

from skproj.datasets import make_single_cell_counts
from skproj.io import read_h5ad, write_h5ad_with_selection

N_CELLS, N_RAW, N_HVG = 90, 30, 10


@pytest.fixture(scope="module")
def raw_h5ad(tmp_path_factory):
    """The scanpy layout: ``.raw`` holds all the genes, ``X`` a subset (stored dense here)."""
    anndata = pytest.importorskip("anndata")
    pd = pytest.importorskip("pandas")
    counts, y, _ = make_single_cell_counts(N_CELLS, N_RAW, n_cell_types=3, density=0.3,
                                           n_markers_per_type=3, random_state=0)
    lognorm = counts.astype(np.float32).log1p().tocsr()
    obs = pd.DataFrame({"cell_type": pd.Categorical(np.array(["A", "B", "C"])[y])},
                       index=[f"cell{i}" for i in range(N_CELLS)])
    var = pd.DataFrame({"symbol": [f"SYM{j}" for j in range(N_RAW)]},
                       index=[f"ENSG{j:05d}" for j in range(N_RAW)])
    full = anndata.AnnData(lognorm, obs=obs, var=var)
    adata = full[:, ::3].copy()  # every third gene "highly variable"
    adata.raw = full
    adata.X = adata.X.toarray()
    path = tmp_path_factory.mktemp("raw") / "hvg.h5ad"
    adata.write_h5ad(path)
    return path, lognorm, obs["cell_type"].astype(str).to_numpy()


def test_read_h5ad_raw_reads_the_matrix_and_genes_of_raw(raw_h5ad):
    path, lognorm, labels = raw_h5ad
    r = read_h5ad(path, "cell_type", layer="raw")
    assert r.matrix == "raw/X" and r.layer == "raw" and r.storage == "sparse CSR float32"
    assert r.X.shape == (N_CELLS, N_RAW) and (r.X != lognorm).nnz == 0
    assert r.feature_names.tolist() == [f"ENSG{j:05d}" for j in range(N_RAW)]
    np.testing.assert_array_equal(r.y, labels)
    # gene names from a column of raw.var, and an error naming raw.var for a missing one
    assert read_h5ad(path, "cell_type", layer="raw", gene_names="symbol").feature_names[4] == "SYM4"
    with pytest.raises(ValueError, match=r"raw\.var has no column 'nope'.*'symbol'"):
        read_h5ad(path, "cell_type", layer="raw", gene_names="nope")
    x = read_h5ad(path, "cell_type")  # X: the subset, dense
    assert x.matrix == "X" and x.storage == "dense float32" and x.X.shape == (N_CELLS, N_HVG)
    assert x.feature_names.tolist() == [f"ENSG{j:05d}" for j in range(0, N_RAW, 3)]


def test_read_h5ad_raw_through_the_whole_file_reader(raw_h5ad, monkeypatch):
    """Files the element reader cannot read are read whole: .raw gives the same there."""
    import skproj.io as io

    path = raw_h5ad[0]
    direct = read_h5ad(path, "cell_type", layer="raw")

    def unreadable():
        raise KeyError("encoding-type")

    monkeypatch.setattr(io, "_read_elem", unreadable)
    whole = read_h5ad(path, "cell_type", layer="raw")
    assert whole.matrix == "raw/X" and (whole.X != direct.X).nnz == 0
    np.testing.assert_array_equal(whole.feature_names, direct.feature_names)


def test_scaled_x_points_to_raw(tmp_path, raw_h5ad):
    """scanpy's scale() leaves X centred: the error for its negative values names .raw."""
    anndata = pytest.importorskip("anndata")
    adata = anndata.read_h5ad(raw_h5ad[0])
    adata.X = adata.X - adata.X.mean(axis=0)
    path = tmp_path / "scaled.h5ad"
    adata.write_h5ad(path)
    with pytest.raises(ValueError, match=r"X has \d+ negative .*pick another layer \(this file has \.raw: layer 'raw'\)"):
        read_h5ad(path, "cell_type")
    del adata.raw
    adata.write_h5ad(path)
    with pytest.raises(ValueError, match=r"pick another layer\.$"):
        read_h5ad(path, "cell_type")


def test_a_layer_named_raw_wins_over_raw(tmp_path, raw_h5ad):
    anndata = pytest.importorskip("anndata")
    adata = anndata.read_h5ad(raw_h5ad[0])
    adata.layers["raw"] = np.full(adata.shape, 2.0, dtype=np.float32)
    path = tmp_path / "layer_raw.h5ad"
    adata.write_h5ad(path)
    r = read_h5ad(path, "cell_type", layer="raw")
    assert r.matrix == "layers/raw" and r.X.shape == (N_CELLS, N_HVG) and np.all(r.X == 2.0)


def test_write_h5ad_with_selection_into_raw_var(raw_h5ad, tmp_path):
    anndata = pytest.importorskip("anndata")
    src = raw_h5ad[0]
    dst = tmp_path / "out.h5ad"
    rank = np.arange(N_RAW, dtype=float)
    write_h5ad_with_selection(src, dst, {"skproj_rank": rank}, raw=True)
    out = anndata.read_h5ad(dst)
    np.testing.assert_array_equal(out.raw.var["skproj_rank"].to_numpy(), rank)
    assert "skproj_rank" not in out.var.columns and out.shape == (N_CELLS, N_HVG)
    assert (sparse.csr_matrix(out.raw.X) != raw_h5ad[1]).nnz == 0
    with pytest.raises(ValueError, match=r"raw\.var column 'skproj_rank' must have one value per gene \(30\)"):
        write_h5ad_with_selection(src, tmp_path / "bad.h5ad", {"skproj_rank": rank[:N_HVG]}, raw=True)
    plain = tmp_path / "plain.h5ad"
    anndata.AnnData(np.ones((4, 3), dtype=np.float32)).write_h5ad(plain)
    with pytest.raises(ValueError, match="has no .raw"):
        write_h5ad_with_selection(plain, tmp_path / "bad.h5ad", {"x": np.ones(3)}, raw=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.h5ad", "plain.h5ad"]


def test_select_layer_raw_annotates_raw_var(raw_h5ad, tmp_path, capsys):
    anndata = pytest.importorskip("anndata")
    from skproj.cli import main

    path = raw_h5ad[0]
    report, copy, genes = tmp_path / "r.json", tmp_path / "sel.h5ad", tmp_path / "g.csv"
    code = main(["select", str(path), "--target", "cell_type", "--layer", "raw", "--cv", "2",
                 "--epochs", "3", "--baselines", "anova", "--n-features", "4", "--quiet",
                 "--output", str(report), "--genes", str(genes), "--write-h5ad", str(copy)])
    out, err = capsys.readouterr()
    assert code == 0, err
    pre = json.loads(report.read_text())["data"]["preprocessing"]
    assert "sparse CSR float32 .raw (raw/X)" in pre and "non-integer values used as stored" in pre
    assert "raw.var columns skproj_*" in out
    dst = anndata.read_h5ad(copy)
    assert dst.raw.var["skproj_selected"].sum() == 4 and "skproj_selected" not in dst.var.columns
    listed = [row.split(",")[0] for row in genes.read_text().splitlines()[1:5]]
    assert set(dst.raw.var.index[dst.raw.var["skproj_selected"]]) == set(listed)


def test_preprocessing_names_the_matrix_as_stored(tmp_path, capsys):
    """CSC int32 counts were described as "sparse CSR float32", the converted matrix."""
    anndata = pytest.importorskip("anndata")
    pd = pytest.importorskip("pandas")
    from skproj.cli import main

    counts, y, _ = make_single_cell_counts(60, 20, n_cell_types=2, density=0.3, random_state=0)
    obs = pd.DataFrame({"t": pd.Categorical(np.array(["a", "b"])[y])}, index=[f"c{i}" for i in range(60)])
    path = tmp_path / "csc.h5ad"
    anndata.AnnData(sparse.csc_matrix(counts.astype(np.int32)), obs=obs).write_h5ad(path)
    report = tmp_path / "r.json"
    assert main(["select", str(path), "--target", "t", "--cv", "2", "--epochs", "2", "--baselines",
                 "none", "--n-features", "3", "--quiet", "--output", str(report),
                 "--genes", str(tmp_path / "g.csv")]) == 0, capsys.readouterr().err
    pre = json.loads(report.read_text())["data"]["preprocessing"]
    assert pre.startswith("sparse CSC int32 (read as sparse CSR float32) X,")


def test_files_from_before_anndata_0_7_are_read_and_annotated_whole(tmp_path):
    """obs / var as compound datasets (no encoding attributes): anndata's element reader returns
    numpy records for them, which broke reading and --write-h5ad (the whole-file path was taken
    only when the reader raised)."""
    anndata = pytest.importorskip("anndata")
    h5py = pytest.importorskip("h5py")

    def records(names, **cols):
        dt = [("index", "S10")] + [(k, v.dtype) for k, v in cols.items()]
        r = np.zeros(len(names), dtype=dt)
        r["index"] = names
        for k, v in cols.items():
            r[k] = v
        return r

    rng = np.random.default_rng(0)
    path = tmp_path / "legacy.h5ad"
    with h5py.File(path, "w") as f:
        f["X"] = rng.poisson(1, (20, 6)).astype(np.float32)
        f["obs"] = records([f"c{i}".encode() for i in range(20)], ct=np.array([0, 1] * 10, dtype=np.int8))
        f["var"] = records([f"G{j}".encode() for j in range(6)])
        f["raw.X"] = rng.poisson(1, (20, 8)).astype(np.float32)
        f["raw.var"] = records([f"R{j}".encode() for j in range(8)])
        f.create_group("uns")
        f["uns"]["ct_categories"] = np.array([b"a", b"b"])
    adata = anndata.read_h5ad(path)
    r = read_h5ad(path, "ct")
    assert r.X.shape == (20, 6) and r.feature_names.tolist() == [f"G{j}" for j in range(6)]
    np.testing.assert_array_equal(r.X, adata.X)
    raw = read_h5ad(path, "ct", layer="raw")
    assert raw.matrix == "raw/X" and raw.X.shape == (20, 8) and raw.feature_names[0] == "R0"
    for is_raw, n in [(False, 6), (True, 8)]:
        dst = tmp_path / f"out{is_raw}.h5ad"
        write_h5ad_with_selection(path, dst, {"x": np.arange(n)}, raw=is_raw, uns={"skproj": {"report": "{}"}})
        out = anndata.read_h5ad(dst)
        np.testing.assert_array_equal((out.raw.var if is_raw else out.var)["x"], np.arange(n))
        assert out.uns["skproj"]["report"] == "{}"


def test_drop_missing_takes_the_same_labels_as_missing_everywhere(tmp_path):
    """read_h5ad(drop_missing=True) dropped only NaN, skproj select also "NA", "", "?"; and a NaN
    in the matrix row of a dropped cell stopped the read."""
    anndata = pytest.importorskip("anndata")
    pd = pytest.importorskip("pandas")
    X = np.ones((8, 3), dtype=np.float32)
    X[2, 1] = np.nan  # in a cell whose label is missing
    labels = ["A", "B", "NA", "A", "", "B", None, "?"]
    obs = pd.DataFrame({"s": pd.Categorical(labels)}, index=[f"c{i}" for i in range(8)])
    path = tmp_path / "t.h5ad"
    anndata.AnnData(X, obs=obs).write_h5ad(path)
    r = read_h5ad(path, "s", drop_missing=True)
    assert r.n_dropped == 4 and r.y.tolist() == ["A", "B", "A", "B"] and r.X.shape == (4, 3)
    assert r.cell_ids.tolist() == ["c0", "c1", "c3", "c5"]
    obs["s"] = pd.Categorical([None] * 8, categories=["A"])
    anndata.AnnData(X, obs=obs).write_h5ad(path)
    with pytest.raises(ValueError, match=r"every label of obs\['s'\] is missing"):
        read_h5ad(path, "s", drop_missing=True)
