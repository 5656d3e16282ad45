"""Issue 15's end-to-end target: ``skproj select`` on a 50,000 x 20,000 sparse ``.h5ad``, ``--cv 3``.

Data: ``skproj.datasets.make_single_cell_counts(50_000, 20_000, n_cell_types=10, density=0.05,
random_state=0)`` (CSR float32 counts, 10 marker genes per type), written as an AnnData
``.h5ad`` (labels in ``obs["cell_type"]``, gene names ``G0 ... G19999``) in the temp folder and
reused by later runs (``--regenerate`` to rewrite it). Needs ``anndata``.

Run: ``python -m skproj select DATA.h5ad --target cell_type --cv 3 --output REPORT.json --genes
GENES.csv`` in a subprocess (plus any options after ``--``), under ``/usr/bin/time -v`` when it
exists. Measured: wall time (target <= 20 min on 2 cores); peak memory (target <= 4 GB): the
peak of the summed RSS and PSS of the command and its worker processes, sampled every second
from ``/proc`` (with ``--n-jobs`` the fits run in joblib workers; PSS counts the pages they share
once), beside the largest single process (``ru_maxrss`` of ``RUSAGE_CHILDREN`` and
``/usr/bin/time``'s "Maximum resident set size"); CPU time of the command (user + system); the
load average before and after. Printed: the command's own report (the comparison table), then
the time per selector (sum over the folds of the fit times compare_selectors records: scaling,
selection and downstream classifier of each fold), and the marker genes among each selector's k
most frequent picks (for the autoencoder: its final selection).

Measured 2026-11-30 on the 2-core machine with nothing else running, ``python
benchmarks/bench_select_h5ad.py -- --n-jobs 2`` (defaults otherwise: k = 2,000 genes = 10%,
``--baseline-max-samples 2000``):

- 11:02-11:18, with the selector's pool rule (``n_features_to_select`` steers the ball to
  ``max(2k, 100)`` rows; load average 1.5 before and after): wall 918 s = 15.3 min (target 20
  min: met), CPU 28.2 min; peak memory of the command and its two workers together 3.54 GiB RSS /
  3.02 GiB PSS (sampled every second by this script; target 3.73 GiB: met), largest single
  process 1.60 GiB. Fit time per fold (scaling + selection + downstream fit, two fits running at a
  time): autoencoder 263 / 260 / 211 s, L1-logistic (2,000-cell subsample) 191 / 137 / 153 s,
  random forest (same subsample) 113 / 128 / 131 s, Wilcoxon 25 / 35 / 35 s, F-test 14 / 19 /
  19 s, all genes 10 / 12 / 9 s. Accuracy: autoencoder genes 0.688 (own predictions 0.715),
  forest 0.704, L1 0.687, Wilcoxon 0.677, F-test 0.674, all genes 0.686; every selector's 2,000
  picks hold all 100 marker genes.
- 09:52-10:07, steering to exactly k (load average 1.0 before, 1.3 after): wall 897 s = 14.9 min,
  CPU 28.1 min, peak 3.26 GiB RSS / 2.77 GiB PSS (sampled every 2 s by a shell loop), largest
  process 1.65 GiB; autoencoder genes 0.690.

- 2026-12-01 17:45-18:05, after the selector centred its inputs (main 27e7dbf; load average 1.3
  before, 1.6 after; the machine ran ``perf`` for a minute during the run): wall 1176 s = 19.6 min
  (target 20 min: met, with less margin), CPU 37.1 min; peak 3.41 GiB RSS / 2.88 GiB PSS, largest
  process 1.58 GiB. Per fold: autoencoder 314 / 325 / 307 s, L1-logistic 255 / 242 / 250 s,
  random forest 111 / 110 / 124 s, Wilcoxon 34-38 s, F-test 16-19 s, all genes 23-30 s. The
  baselines' fits, whose code did not change, took 1.3 times as long as at 11:02 (L1-logistic 746
  against 481 s in all), so the machine was slower; the autoencoder over L1-logistic went from
  1.53 to 1.27. Accuracy: autoencoder genes 0.689 (own predictions 0.748), forest 0.705, L1 0.687,
  Wilcoxon 0.676, F-test 0.674, all genes 0.686; every selector's 2,000 picks hold all 100
  marker genes.

With the default ``--n-jobs 1`` the run is sequential: 28 min of CPU is about 25-28 min of wall
time on a quiet machine (an earlier run on the busy machine took 48.4 min, peak 1.71 GiB).

Four times the cells, 2026-12-01 12:15-13:29 (main 475c722, before the selector centred its
inputs), ``python benchmarks/bench_select_h5ad.py --cells 200000`` (200,000 x 20,000, 2.0e8
non-zeros, a 1.5 GiB ``.h5ad``; ``--n-jobs 1``, the other core busy with other work most of the
time): wall 68.1 min, CPU 73.0 min, peak memory 5.79 GiB (one process). Per fold (scaling,
selection and downstream fit): autoencoder 494 / 350 / 537 s, random forest (2,000-cell
subsample) 285 / 267 / 300 s, L1-logistic (same) 265 / 263 / 296 s, Wilcoxon 71-89 s, F-test
54-82 s, all genes 169-190 s: the downstream logistic regression on 133,000 training cells is
now a large share of every row (F-test's selection itself takes seconds). Accuracy: autoencoder
genes 0.820, L1 0.821, forest 0.820, Wilcoxon 0.817, F-test 0.814, all genes 0.750; every
selector's 2,000 picks hold all 100 marker genes. The wall time grows about linearly with the
cells (48 min sequential on the busy machine at 50,000) and the memory with the matrix.

Usage::

    python benchmarks/bench_select_h5ad.py                              # the issue's size
    python benchmarks/bench_select_h5ad.py --cells 5000 --genes 2000    # a quick run
    python benchmarks/bench_select_h5ad.py -- --n-features 50 --baselines anova,wilcoxon
"""

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np


_SAMPLE_S = 1.0


def _descendants(pid):
    """``pid`` and every process below it (Linux ``/proc``)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def _memory_kib(pid):
    """(RSS, PSS) of one process in KiB, (0, 0) when it is gone."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


def sample_tree_memory(child):
    """Wait for ``child``; return the peaks (bytes) of the summed RSS and PSS of its process tree.

    With ``--n-jobs`` the fits run in joblib worker processes, whose memory
    ``getrusage(RUSAGE_CHILDREN)`` does not add up (it gives the largest single process).
    ``(None, None)`` where ``/proc/PID/smaps_rollup`` does not exist (not Linux).
    """
    if not os.path.exists(f"/proc/{os.getpid()}/smaps_rollup"):
        child.wait()
        return None, None
    peak_rss = peak_pss = 0
    while child.poll() is None:
        mem = [_memory_kib(p) for p in _descendants(child.pid)]
        peak_rss = max(peak_rss, sum(m[0] for m in mem))
        peak_pss = max(peak_pss, sum(m[1] for m in mem))
        time.sleep(_SAMPLE_S)
    return peak_rss * 1024, peak_pss * 1024


def generate(path, args):
    """Write the synthetic counts as .h5ad and the marker indices next to it (``.markers.npy``)."""
    import anndata
    import pandas as pd

    from skproj.datasets import make_single_cell_counts

    t0 = time.perf_counter()
    X, y, markers = make_single_cell_counts(args.cells, args.genes, n_cell_types=args.types,
                                            density=args.density, random_state=args.seed)
    obs = pd.DataFrame({"cell_type": pd.Categorical([f"type{t}" for t in y])},
                       index=[f"cell{i}" for i in range(X.shape[0])])
    var = pd.DataFrame(index=[f"G{j}" for j in range(X.shape[1])])
    tmp = path + ".tmp.h5ad"
    anndata.AnnData(X=X, obs=obs, var=var).write_h5ad(tmp)
    np.save(path + ".markers.npy", np.asarray(markers).ravel())
    os.replace(tmp, path)
    print(f"generated {X.shape[0]} x {X.shape[1]} counts, {X.nnz} non-zeros ({X.dtype}), "
          f"{os.path.getsize(path) / 2**20:.0f} MiB .h5ad in {time.perf_counter() - t0:.0f} s -> {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=50_000)
    parser.add_argument("--genes", type=int, default=20_000)
    parser.add_argument("--types", type=int, default=10)
    parser.add_argument("--density", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cv", type=int, default=3)
    parser.add_argument("--regenerate", action="store_true", help="rewrite the cached .h5ad")
    parser.add_argument("select_args", nargs="*", help="more skproj select options (after --)")
    args = parser.parse_args()

    tmpdir = tempfile.gettempdir()
    data = os.path.join(tmpdir, f"skproj_select_{args.cells}x{args.genes}_{args.types}_{args.density}_{args.seed}.h5ad")
    if args.regenerate or not (os.path.exists(data) and os.path.exists(data + ".markers.npy")):
        generate(data, args)
    markers = set(np.load(data + ".markers.npy").tolist())
    out_dir = tempfile.mkdtemp(prefix="skproj_bench_select_")
    report_path, genes_path = os.path.join(out_dir, "report.json"), os.path.join(out_dir, "genes.csv")
    cmd = [sys.executable, "-m", "skproj", "select", data, "--target", "cell_type", "--cv", str(args.cv),
           "--output", report_path, "--genes", genes_path, *args.select_args]
    full = (["/usr/bin/time", "-v"] if os.path.exists("/usr/bin/time") else []) + cmd
    print("command:", " ".join(cmd), flush=True)
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(full, stdout=out, stderr=err, text=True)
        tree_rss, tree_pss = sample_tree_memory(child)
        out.seek(0), err.seek(0)
        proc = subprocess.CompletedProcess(full, child.returncode, out.read(), err.read())
    wall = time.perf_counter() - t0
    load1 = os.getloadavg()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"skproj select failed with exit code {proc.returncode}")
    print(proc.stdout)
    stderr_lines = proc.stderr.splitlines()
    maxrss_time = next((int(m.group(1)) for line in stderr_lines
                        if (m := re.search(r"Maximum resident set size \(kbytes\): (\d+)", line))), None)
    report = json.loads(open(report_path).read())
    k = report["n_features_to_select"]

    print(f"== {report['data']['n_samples']} cells x {report['data']['n_features']} genes, "
          f"--cv {args.cv}, k = {k}, {os.cpu_count()} CPUs")
    print(f"load average (1, 5, 15 min) before {load0[0]:.1f} {load0[1]:.1f} {load0[2]:.1f}, "
          f"after {load1[0]:.1f} {load1[1]:.1f} {load1[2]:.1f}")
    cpu = usage.ru_utime + usage.ru_stime
    print(f"wall time {wall:.0f} s = {wall / 60:.1f} min (target <= 20 min); CPU time (user + system) "
          f"{cpu:.0f} s = {cpu / 60:.1f} min")
    rss = usage.ru_maxrss / 2**20  # KiB -> GiB
    extra = f"; /usr/bin/time: {maxrss_time / 2**20:.2f} GiB" if maxrss_time else ""
    print(f"peak resident memory of one process {rss:.2f} GiB{extra}")
    if tree_rss is not None:
        print(f"peak memory of the command and its worker processes together (sampled every "
              f"{_SAMPLE_S:g} s): RSS {tree_rss / 2**30:.2f} GiB, PSS {tree_pss / 2**30:.2f} GiB "
              "(target <= 4 GB = 3.73 GiB; PSS counts shared pages once)")
    print("time per selector (sum over the folds of scaling + selection + downstream fit), "
          "and marker genes among the picks:")
    for key, m in report["methods"].items():
        if not key.endswith("+logreg"):
            continue
        name = key[: -len("+logreg")]
        folds = m["fit_time_s"]["folds"]
        freq = report["selection_frequency"].get(name)
        share = ""
        if freq and name != "all_features":
            top = list(freq)[:k]  # most frequent first
            genes = [int(g[1:]) for g in top]
            hits = sum(g in markers for g in genes)
            share = (f"; marker genes among its {len(top)} most frequent picks: {hits} "
                     f"({hits / len(top):.0%}; {hits} of the {len(markers)} markers)")
        print(f"  {name:<14} {sum(folds):8.1f} s ({', '.join(f'{t:.0f}' for t in folds)} per fold); "
              f"fitted on {m.get('fitted_on', 'whole training folds')}{share}")
    print(f"compare_selectors total {report['total_time_s']:.0f} s; the rest of the wall time is "
          "import, reading, normalising and writing")
    shutil.rmtree(out_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
