"""Benchmark of the exact projections against sort-based methods and a one-pass floor.

Usage::

    python benchmarks/bench_projections.py            # issue 17's table, one thread (a few minutes)
    python benchmarks/bench_projections.py --threads  # ... plus 1 vs 2 threads on 1000x10000
    python benchmarks/bench_projections.py --only l1inf   # one table (l1inf, l1, prox, threads)
    python benchmarks/bench_projections.py --quick    # smaller run
    python benchmarks/bench_projections.py --sort     # the older table against sort-based methods
    python benchmarks/bench_projections.py --cpu-time # CPU time of the thread (loaded machine)
    python benchmarks/bench_projections.py --cpu-time --ab-l1inf OTHER/_l1inf.cpython-311-x86_64-linux-gnu.so
                                                      # A/B: another build's l1,inf kernel vs this one
    python benchmarks/bench_projections.py --ab-l1 OTHER/_l1.cpython-311-x86_64-linux-gnu.so
    python benchmarks/bench_projections.py --ab-prox OTHER/_prox.cpython-311-x86_64-linux-gnu.so
                                                      # the same for the l1-ball/simplex and prox kernels
    python benchmarks/bench_projections.py --simd 1 --only l1   # the SSE2 loops only (a CPU without AVX2)
    python benchmarks/bench_projections.py --simd 2 --only l1inf  # AVX2 sweeps on an AVX-512 CPU

l1,inf ball: X of shape 1000x1000, 1000x10000 and 10000x100 with uniform and |Gaussian|
entries, radius = frac * ||X||_{1,inf}. Columns: median time per call of
``skproj.project_l1inf_ball`` (rows are the groups), fraction of zeroed groups, ratio to the
floor ``np.abs(X).max(axis=1)`` timed in the same run, time of the sort-based method below
and the largest difference between the two results relative to max |X| (exactness).

l1 ball: ``skproj.project_l1_ball`` on vectors of 1e4..1e7 N(0, 1) entries against the
sort-based method of Duchi et al. (ICML 2008) and the floor ``np.abs(x).sum()``.

The sort-based methods live here, not in the package: they are the straightforward
references (O(N log N)) that the package's kernels replace.

Measured 2026-11-30 (branch kern3; 2-core machine, the other core busy all along; one thread pinned
with ``OMP_NUM_THREADS=1 taskset -c 1``; best of 7; ratios to the floor of the same run):

* ``--only l1`` (public functions, AVX2): l1 ball and simplex, N(0,1), frac 1e-4..0.5:
  1e6 float32 1.7-2.2x, 1e6 float64 2.6-3.1x (the fresh 8 MB output's page faults), 1e7 float32
  1.5-1.9x, 1e7 float64 1.4-1.7x; Cauchy 1e6, frac 1e-6..0.5: 1.9-4.4x (frac 0.5 takes 2-3 passes).
  Before (main, same machine, session start): 1e6 float32 l1 ball 4.4-8.0x, simplex 5.9-6.2x;
  1e6 float64 3.7-8.3x and 4.9-5.3x; 1e7 float32 2.7-6.4x and 3.2-4.0x.
  ``--simd 1`` (SSE2 only): N(0,1) 1e6 2.8-3.4x, 1e7 1.7-2.6x; Cauchy 3.0-6.3x.
* ``--ab-l1 main's _l1`` (kernels alone, 1e6): this / main 0.22-0.42 in float32, 0.39-0.93 in
  float64, N(0,1) and Cauchy, every fraction; e.g. l1 ball float32 frac 0.5: 7.44x -> 1.65x the floor.
* ``--only prox`` (1000x64): weighted_prox_group_l2 float32 lambda 0.1: 7.7x (11.4x before),
  MCP float32 2.3-5.2x, float64 1.5-4.8x; ``--ab-prox``: this / main 0.60-0.79.

issue 17 item 1, branch l1simd (window, max-and-sum and output passes of the l1,inf kernel
vectorised in _simd.h): ``--only l1inf``, one thread, pinned, busy machine, time / floor at
1e-4 .. 0.5 before (kern3) -> after: 1000x1000 float32 2.5-12.1 -> 1.4-7.8, float64 1.4-6.7 ->
1.1-4.4; 1000x10000 float32 2.1-7.5 -> 1.7-5.5, float64 1.5-3.9 -> 1.3-3.3; 10000x100 float32
1.8-12.1 -> 1.4-9.9, float64 1.4-8.7 -> 1.4-7.6; 20000x64 1.0-6.4 -> 0.8-5.8 (the per-cell table
is in this file's history, commit 0e59e90).

issue 17 item 1, branch l1inf2 (the l1,inf kernel where few rows are zeroed): the model's column
samples gathered by the first pass (row in cache) and sorted branch-free only for live groups;
_window_level keeps the largest unclipped candidate, so a group whose clipped set cannot change
costs O(1) (the confirming evaluation is almost free); the first exact evaluation at theta_est
itself (a lower bound starts Newton from the left at once: one evaluation of all groups fewer,
the chord step gone); groups modelled by 32 samples get windows sized by the model's sampling
noise (narrower where the level is small); at most 6 Newton steps for the first lower bound;
a group whose level falls below its window keeps the entries above it clipped when re-split.
Kernels alone (``--cpu-time --ab-l1inf MAIN/_l1inf...so``, main = 5716a15, core 1): this / main
0.53-1.02 over the 40 cells (0.53-0.77 at 1e-2..0.5); ``--only l1inf`` after it: 0.8-7.0x the
floor (the per-cell table is in this file's history, commit a3e46e2).

Still above 4x the floor: 10000x100 N(0,1) at radius >= 1e-2 of the norm (float32 3.6-6.6x,
float64 4.1-4.4x at >= 0.1, kernel alone), 1000x1000 U(0,1) float32 at 0.5 (5.0x) and, through
the public function's fresh output, 1000x1000 float32 0.1 and 1000x10000 float32 0.5. What is
left per call there (10000x100 float32, 0.5): the first evaluation (split pass with ~90% of the
groups re-split, since 12 samples place the level coarsely, and the first partition sweeps) about
3.5 floors, the model (sort and Newton) about 1, output 0.6, first pass 0.4. Tried and dropped
(slower): more samples for short rows (q = m // 4), fewer (m // 16, slower at 0.5), wider or
per-group windows for short rows, a stable two-buffer partition, four partial sums in the
partition, a rank sort of the samples.

main after the kernel branches (kern3, l1simd, l1inf2, l1inf3), quiet machine (nothing else
running), ``OMP_NUM_THREADS=1 python benchmarks/bench_projections.py --only l1inf`` three times,
time / floor at fractions 1e-4 / 1e-3 / 1e-2 / 0.1 / 0.5 (range over the runs)::

    1000x1000   U(0,1) float32  1.5      1.8-1.9  3.3      4.3-5.8  5.4-5.7
                       float64  1.3      1.5-1.6  2.5-2.6  3.1-3.2  3.8-4.3
    1000x10000  U(0,1) float32  1.6      1.7-2.0  2.4-2.6  2.6-2.8  4.0-4.5
                       float64  1.2-1.3  1.5-1.7  1.9-2.0  2.1-2.2  2.7-2.9
    10000x100   N(0,1) float32  1.3-1.5  1.7-1.8  4.0      5.9-6.0  6.5-6.7
                       float64  1.2-1.3  1.5-1.6  3.1-3.3  4.4-5.0  4.9-6.7
    20000x64    N(0,1) float32  0.7-0.8  0.9-1.0  2.0-2.1  2.9-3.3  3.2-3.6
                       float64  1.0-1.1  1.1-1.3  2.3-2.5  3.2-3.5  3.6-3.8

l1 ball / simplex N(0,1) 1e6: 1.6-2.2x (float32), 1.6-1.9x (float64); Cauchy 1e6: 1.6-4.3x.
Weighted prox 1000x64: l2 4.4-7.4x (float32), 2.9-4.6x (float64); MCP 1.3-5.0x.

Issue 17 item 1, short rows (branch l1inf3). Where a call goes on main (10000x100 N(0,1)
float32, time / floor per phase, rdtsc/clock instrumentation, one thread; first pass, lower
bound, model, first evaluation, later evaluations, refine, output): 1e-2 0.36 0.25 0.83 1.45
0.68 0.12 0.41; 0.1 0.33 0.15 0.99 3.24 0.77 0.05 0.45; 0.5 0.34 0.08 1.02 3.59 1.14 0.05 0.49.
Groups re-split at the first evaluation: 3.5% at 0.1, 86% at 0.5 (both directions alike: model
noise, theta_est / theta* = 1.009 and 1.055), so at 0.1 the first evaluation is costly without
re-splits: per group (cycles) about 300 for the split pass of 100 floats with the row in cache
(the max/sum pass: 50), 270 for the first level (partition sweeps, bound by the latency of
the masked sum), 160 for the model's window levels. Changed: the window loop's last vector
block of a short row is one block of 16/32/48 (one mask and store loop, not up to three; the
same partial sums, so SSE2/AVX2 results are unchanged), and _down_f rounds down without a libm
call. Kernel A/B against main (c5e3b1b), ``OMP_NUM_THREADS=1 taskset -c 1 python
benchmarks/bench_projections.py --cpu-time --ab-l1inf MAIN/_l1inf...so``, load average 1.0,
two runs, main -> this (time / floor, first run), this/main (both runs)::

    frac                1e-2                     0.1                      0.5
    10000x100 float32   3.62 -> 3.55 (0.96-0.98)  5.47 -> 5.39 (0.98)       6.46 -> 6.00 (0.93-0.94)
    10000x100 float64   2.31 -> 2.33 (0.98-1.01)  3.67 -> 3.54 (0.97-1.00)  4.30 -> 4.15 (0.97-0.98)
    20000x64  float32   2.09 -> 2.03 (0.97-0.98)  3.17 -> 2.98 (0.94-0.97)  3.39 -> 3.21 (0.93-0.95)
    20000x64  float64   0.98-1.03; 1000x1000 and 1000x10000, both dtypes: 0.94-1.03 (noise)

(l1 ball / simplex, ``--ab-l1`` against main's _l1, Cauchy float64 rows: 0.96-1.06, noise.)
Tried and dropped: the exact level of every short group at the first evaluation by Newton
sweeps over its row (sum and count above mu through the window loop with an empty window,
about 3.7 sweeps a group), the window centred on it: re-splits fall to ~0 but 1.13-1.27x
slower on 10000x100 and 20000x64 float32 (one sweep costs about one split); prefetching the
next row in the first evaluation,
mode-1 sweeps that skip the entries already clipped, one division instead of two per group in
the model's Newton and the evaluation sums, a branch-free scalar tail of the window loop: no
change; two partial sums in _partition_gt: 0.91-0.96 on 1000x1000 / 1000x10000 at 0.5 but
1.01-1.03 on 10000x100 float32 (as the four partial sums tried before).

Issue 17 item 1, short rows (branch l1inf4). rdtsc per group on main, 10000x100 N(0,1) float32 (TSC
cycles, one thread; floor ~230): 0.1: first pass 67, model 240, first evaluation 630 (the model's
window levels ~140, split ~280, level), later evaluations 170, output 100; 0.5: first evaluation
680, later 240. The split pass of a row of 100 floats costs ~95 cycles in L1 (a microbenchmark),
~145 from L2: in the kernel most of it is the row coming back from L3/L2. Candidates per group at
the first level are few (0.1: kh 66 above the window, ln 26 inside, 0.5: 12 and 12; 1000x1000 0.5:
420 and 130). Tried on branch l1inf4 (not merged): a group with more than 64 candidates gets its
first level by masked-sum sweeps over all of them (four independent partials, about 2.3 sweeps) and
one move of the clipped ones to the front (_l1inf_level.h), not by the partition sweeps. Kernel A/B
against main (433e559), ``OMP_NUM_THREADS=1 taskset -c 1 python benchmarks/bench_projections.py
--cpu-time --ab-l1inf MAIN/_l1inf...so``, load average 1.8-2.7 (the other core busy), two runs,
this/main: 1000x1000 float32 0.5 0.94-0.95, float64 0.5 0.92-1.01, 0.1 0.98-1.02; 1000x10000 0.1
0.95-0.97, 0.5 0.94-0.96; 10000x100 and 20000x64 (rows of <= 64 candidates run main's code):
0.98-1.07, as at 1e-4 where no level is computed (noise of the alternation). Still above 4x (kernel
alone, time / floor, this run): 10000x100 float32 0.1 5.3, 0.5 6.1-6.2; float64 0.5 4.1; 1000x1000
float32 0.5 4.3-4.6. Tried and dropped: the sweeps for every group (ln of 10-30: 1.00-1.08 on
10000x100 / 20000x64, the partition's latency there is not the cost); their final move through a
stack buffer (two output indices, no swaps): no change; an AVX2 compress-store in the window pass (a
table of 256 lane permutations, packed as nibbles, vpermps, popcount; SSE2 kept the scalar store):
the pass in L1 ~115 -> ~90 cycles per row of 100 and 0.95-0.97 on 10000x100, but for every vector it
costs the l1 ball (long vectors, windows mostly empty) 1.15-1.43x; compress only for blocks with
more than 6 window entries (popcount of the block mask, reloading from L1): 0.98-1.03 on l1,inf,
1.00-1.04 on the l1 ball. The sweeps' gain (0.92-0.97 on long rows at 0.1-0.5, none on short rows,
no case brought under 4x) did not pay for a second way of computing the first level, so main keeps
the partition.

Session 6 (2026-11-30), profile of main (``perf record`` of 1,000-3,000 kernel calls, float32,
1000x1000 and 10000x100 at 0.1 and 0.5, one thread; shares of all samples, Python's start-up
included): the window split (skproj_window_*) 12-18%, _window_level 10-21%, the output
pass 7-14%, the subsample model (_estimate_theta) 9-12%, the first pass 4-7%; no single phase
to remove. Tried and dropped, kernel A/B against main (``--cpu-time --ab-l1inf``, core 1, the
other core idle), outputs bitwise identical to main's on 1,134 cases (11 shapes, 6 kinds of
entries, both dtypes, 9 radius fractions, AVX2 / SSE2 / plain paths): the model's Newton with
each group's terms cached (recomputed only when its clipped sample count moves): 0.96-1.06,
noise; with also the samples sorted by vectorised insertion sweeps (AVX2 / SSE2) instead of the
scalar clamp network: 1.04-1.20 (slower) on 10000x100 and 20000x64 at fractions >= 1e-3,
0.99-1.10 on 1000x1000, 1.00-1.02 on 1000x10000.

Session 7 (2026-11-30 evening). Rows of at most 32 KB are now solved on the row itself: Michelot
sweeps, each one vectorised pass (``_simd_gt.h``: count, sum and smallest of the entries above t,
largest of the others), the first from the model's level at 1.1 theta, later ones from the last
clipped set, O(1) while that set stays the clipped set at its new level; no windows, no store.
(The session-5 attempt above used the window loop with an empty window and still built the
windows; here the pass's smallest / largest entries confirm a set in the same pass.) Longer rows
keep the windows (in float64 and for N(0, 1) rows of 10,000 float32 entries at 0.5 they were
faster). Also: no confirming evaluation when every set stays the same up to the Newton step; the
model's Newton stops at a step below 1e-2 theta; NaN / inf are found by the kernel's first pass
instead of a separate ``np.isfinite`` pass in the public function (also for the l1,2 ball).
Kernel alone against the session's start (4daf47f, installed with ``pip install --no-deps --target
MAIN <checkout of 4daf47f>``): ``OMP_NUM_THREADS=1 taskset -c 1 python benchmarks/bench_projections.py
--cpu-time --ab-l1inf MAIN/skproj/_kernels/_l1inf...so``, load average 1.4, this / main at fractions
1e-2 / 0.1 / 0.5: 10000x100 float32 0.68 / 0.73 / 0.76 (time / floor at 0.5: 6.11 -> 4.66), float64
0.72 / 0.73 / 0.74; 20000x64 float32 0.75 / 0.70 / 0.76, float64 0.78 / 0.75 / 0.75; 1000x1000
float32 0.80 / 0.88 / 0.89 (5.11 -> 4.52), float64 0.83 / 0.99 / 0.97; 1000x10000 (windows)
0.98-1.01; at 1e-4 / 1e-3 0.85-1.02.
``OMP_NUM_THREADS=1 taskset -c 1 python benchmarks/bench_projections.py --only l1inf``, quiet
machine, three runs, time / floor at 1e-4 / 1e-3 / 1e-2 / 0.1 / 0.5 (session start, one run ->
now, range of three runs)::

    1000x1000   U(0,1) float32  1.5 1.8 3.4 4.3 5.6 -> 0.9-1.0 1.2-1.3 2.3-2.4 3.3-3.6 4.2-4.4
                       float64  1.2 1.5 2.5 3.1 3.7 -> 0.7-0.8 1.0     1.7-1.8 2.3-2.5 2.9-3.1
    1000x10000  U(0,1) float32  1.6 2.0 2.6 2.8 4.1 -> 1.1     1.5-1.6 1.8-2.2 2.0-2.4 3.2-3.8
                       float64  1.4 1.7 2.1 2.1 2.8 -> 0.8-0.9 1.2     1.6-1.7 1.7-1.8 2.4-2.6
    10000x100   N(0,1) float32  1.4 1.8 4.0 6.2 6.7 -> 1.0-1.1 1.3     2.5-2.6 3.9-4.1 4.8-5.0
                       float64  1.4 1.7 3.6 5.1 5.6 -> 0.9-1.0 1.0-1.1 1.9-2.1 2.8-3.3 3.1-4.1
    20000x64    N(0,1) float32  0.8 1.0 2.1 3.2 3.5 -> 0.6-0.7 0.7-0.8 1.4-1.5 2.2-2.3 2.5-2.7
                       float64  1.0 1.2 2.4 3.2 3.5 -> 0.8     0.9-1.0 1.6-1.7 2.3     2.5-2.8

Threads (``--only threads``, three runs), 2 threads vs 1 on 1000x10000 float64: l1,inf
1.51-1.89 / 1.86-1.94 / 1.87-1.90 / 1.77-1.90 / 2.09-2.15 at 1e-4..0.5 (the serial finiteness
pass is gone), l1,2 1.82 / 1.86 (one run), weighted prox l2 1.73, prox l1,inf 1.72.
What a call of 10000x100 float32 at 0.5 still costs (``perf record``): the sweeps about 2.9
passes a row (2.4 of them at the first evaluation, whose start is the noisy 12-sample model's
level, theta_est being 5.5% above theta*), the model (sort and Newton) 17%, the per-group
bookkeeping of the evaluations 17%, output and first pass 11%. Tried and dropped this session:
the model's search for the guess started at its last sample count (0.94-1.18, noise); starting
the sweeps at the model's level at theta (1.0) or 1.3 theta (1.1 is as fast or faster on
10000x100, 1000x1000, 1000x2000, 1000x10000); m // 16 samples for short rows (faster at 0.1,
an estimate 17% off and two more evaluations at 0.5 on 10000x100). The model's Newton stopping
at a step below 1e-2 theta instead of 1e-3 (its estimates are not more accurate than about 1e-2):
``--cpu-time --ab-l1inf`` against the build before, this / that: 10000x100 and 20000x64 0.93-0.94
at 1e-2, 0.97-1.04 elsewhere; 1000x1000 0.97-1.08; 1000x10000 0.98-1.01 (mostly noise); adopted
for the small gain on short rows.

Session 8 (tried and dropped, ``--cpu-time --ab-l1inf`` against main = 278ad59, core 1): (1) the
tail of a row's sweep (< 16 entries, plain loop with a branch per entry) as one more vector
block read by masked loads: 0.92-1.07, noise (the tail was not where the time goes). (2) The
sweeps of short rows (<= 256 entries) run 8 rows at a time, one row per vector lane, over a
transposed copy of the 8 rows (8x8 transposes), so that the reductions, tests and divisions of
a sweep are shared by 8 rows: slower, 10000x100 1.04-1.18 and 20000x64 1.05-1.16 at 1e-2..0.5
(float64 worst), 1.06-1.19 with the first start at the model's level at 1.3 theta. A group of 8
sweeps until its slowest row is done (4-5 sweeps against 2.9 a row), and the sums in double
(two conversions and two additions per 8 float32 entries) cost the same per entry as in the row
sweep, so the shared part saved less than the extra sweeps cost.
Adopted: the model's samples (q = 32 for rows of >= 256 entries) are sorted by Batcher's
odd-even merge network on 4 groups at a time (191 vector comparators for q = 32) instead of a
branch-free insertion (496 clamps a group); blocks of 4 groups dead at the first lower bound are
skipped. ``--cpu-time --ab-l1inf`` against main: 1000x1000 0.93-0.98 at 1e-2..0.5 (both
dtypes), 0.99-1.02 at 1e-4 / 1e-3; short rows (q = 12 or 8) and 1000x10000 0.89-1.05 (noise).
Adopted next: the model's level search without branches. Each group's tau_j (the model's mass at
its (j + 1)-th largest sample) is computed once; a level at theta then has k = #{tau_j < theta}
samples above it, counted for 4 interleaved groups at once (``_simd_model.h``), instead of a
pointer loop whose exit was mispredicted once per group and Newton step. Against the build before
(the network), this / that, two runs: 10000x100 and 20000x64 0.91-0.96 at 0.1, 0.95-1.03 at
0.5, 0.95-1.07 at 1e-4 / 1e-3, 1.01-1.07 at 1e-2; 1000x1000 and 1000x10000 0.96-1.04. The
first version also wrote the models of the groups dead at the first lower bound (1.05-1.19 at
1e-4 / 1e-3); now they are skipped. Then the lower bound's Newton sums (``_bound_root``, also
run to convergence after the first evaluation) branch-free, 4 groups at a time: against the build
before, two runs, 10000x100 and 20000x64 0.82-0.97 at 1e-4..0.1 and 0.96-1.02 at 0.5;
1000x1000 0.90-1.08 and 1000x10000 0.95-1.01 (noise).

Session 9 (2026-12-01). Adopted: on rows longer than 32 KB (the candidate windows) the candidates
are admitted by a vectorised stable partition (AVX2: 4 doubles moved by one permutation from a
16-entry table, the others through a scratch, ``skproj_partition_f64``) and the Newton pruning
sweeps are read-only vector passes (``skproj_gtstat_f64``), the entries moved once at the end;
before, a scalar swap partition per sweep (its store-to-load chain about 5-10 cycles an entry).
``--cpu-time --ab-l1inf`` against 3ff66c7, this / that: 1000x10000 0.93-0.94 at 0.1 / 0.5 in
float32, 0.91-0.95 in float64, 0.97-1.00 below; 3000x5000 N(0,1) float64 0.91-0.93 at 0.1-0.5 (float32 0.99-1.03);
the row path (1000x1000, 10000x100, 20000x64) unchanged (0.95-1.05, noise). Tried and dropped:
(1) the row sweeps packing the entries above their start into a scratch so that the later sweeps
read only those (1000x1000 at 0.5: 2.1 full sweeps a row and 1.3 over 54% of the row, against
3.4 full ones): 1.00-1.23 slower, float64 worst (the packing costs as much as it saves); (2)
a row whose clipped set grew since the last evaluation updated from the entries between the
new lower bound and the largest entry outside the set only (one collecting pass, then sweeps
over those): 0.92-1.12 against the build before, no gain; (3) wider or narrower windows (the cap 1.25 on the window
factor as 1.1, 1.15, 1.6, 2.0): at 0.5, 1.6 cuts the re-collected groups of 1000x10000 from 1.47
to 1.04 a group, yet 1.6 / 2.0 are 1.06-1.34 slower on 1000x10000 at 0.3 / 0.5 (more stored
candidates; faster only on 3000x5000 N(0,1) float64 at 0.5, 0.93-0.96); 1.1 / 1.15 1.11-1.41 slower
at 0.5; all within 0.95-1.05 at <= 0.1.
(4) Short rows (q < 32 samples): the model's estimate is biased up, theta_est / theta* = 1.001 /
1.001 / 1.009 / 1.06 at 1e-3 / 1e-2 / 0.1 / 0.5 on 10000x100 (1.001-1.06 on 20000x64), so the
first evaluation lies above theta*, the second at the tangent's root (0.9985 theta*) and a third
confirms the final piece. A fixed lower start (theta_est x 0.94 / 0.97) was 0.88-0.92 of the time
at 0.5 but 1.04-1.15 at 0.1; an estimate corrected by 1/16 of the groups solved exactly (mean of
exact minus model level) was off by up to 4% at 0.5 and 0.8-1.0 as fast (slower) everywhere:
the per-group difference has a mean of -0.024 but a standard deviation of 0.32 (10000x100 at 0.5,
recomputed in numpy), too noisy to measure on 625 groups; and three evaluations stay, because with
10,000 groups some clipped set changes between any two Newton iterates. Both dropped.
Another CPU (the device machine lent to this session: 16-core Intel Xeon with AVX-512, at
0e59e90, before the partition change; one run each). ``--only l1inf`` (one thread, pinned), time
/ floor at 1e-4 .. 0.5: 1000x1000 float32 0.9 1.2 2.1 3.0 3.8, float64 0.8 1.0 1.6 2.2 2.9;
1000x10000 float32 1.4 1.7 2.4 2.8 4.7, float64 0.9 1.1 1.6 1.7 2.4; 10000x100 float32 0.8 1.0
2.0 3.3 4.3, float64 0.7 0.9 1.6 2.5 3.0; 20000x64 float32 0.4 0.5 1.1 1.7 2.5, float64 0.5 0.6
1.2 1.8 2.5. ``--only l1``: 1.4-3.0 (N(0,1), 1e6 and 1e7), Cauchy 1.8-4.2. ``--only prox``: 1.1-7.7.
``bench_threads.py --counts 1,2,4,8,16`` on 1000x10000, speed-up over one thread: l1,inf float64
1.87-2.39 (2 threads), 3.43-4.76 (4), 5.62-8.18 (8), 8.41-13.39 (16); float32 2.10-2.71, 3.46-5.57,
5.69-8.71, 8.67-13.47; l1,2 1.79-2.19 (2), 10.8-14.4 (16); weighted prox l2 1.85-1.87 (2), 5.5-6.0
(16); prox l1,inf 1.66-1.71 (2), 4.5-5.7 (16); the copy (memory-bound) 2.4 (2), 8.9-11.3 (16).

Session 10 (2026-12-01). Short rows: a call of 10000x100 float32 at 0.5 (rdtsc per phase,
thousands of TSC cycles, after (1) below -> after (4)): first pass 665 -> 674, lower bound 166 ->
170, model 1,494 -> 964, first evaluation 4,554 -> 4,242, later ones 1,220 -> 1,236, output 766
-> 735 (floor about 2,150). Adopted, (1)-(4) bitwise against the build before (outputs identical
on 56 cases; theta_est identical at every vector level on 36): (1) the sweep's last partial
block (n mod 16 entries) as one more masked vector block, not a serial scalar tail (alone within
the noise, as in session 8; 140 -> 107 cycles a sweep of 100 floats in a C micro-benchmark), and
the float32 round-down of its threshold branch-free; (2) the first sweeps' starting levels (the
model's at GUESS theta_est) computed for all groups in one vector pass (skproj_model_eval's
optional output); (3) the model's weights, prefix sums and masses built 4 groups at a time
(skproj_model_build4, AVX2, the scalar loop's operations); (4) from 1024 groups on, the model's
Newton started at the root of the model of every 8th block of 4 groups (at 0.5: 1-2 full steps,
not 4); (5) an AVX-512 path of the sweep (107 -> 67 cycles in the micro-benchmark; the same
partial sums and order, results identical). ``--cpu-time --ab-l1inf`` against the session start
(45c6760), this / that at 1e-2 / 0.1 / 0.5, float32 then float64: 10000x100 0.89 0.82 0.79,
0.92 0.86 0.83; 20000x64 0.95 0.91 0.79, 0.95 0.92 0.85; 1000x1000 0.88 0.81 0.75, 0.94 0.86
0.85; 1000x10000 0.96-1.02; 0.96-1.03 at 1e-4 / 1e-3 (after (1)-(4) only: 10000x100 float32
0.96 0.91 0.82, 1000x1000 0.95 0.96 0.88). ``OMP_NUM_THREADS=1 taskset -c 1 python
benchmarks/bench_projections.py --only l1inf``, six runs at 20c82aa, time / floor at 1e-4 / 1e-3
/ 1e-2 / 0.1 / 0.5 (range)::

    1000x1000   U(0,1) float32  0.9      1.1-1.2  1.8-1.9  2.4-2.5  2.8-3.1
                       float64  0.7-0.8  1.0      1.5-1.6  1.9-2.0  2.2-2.3
    1000x10000  U(0,1) float32  1.1-1.2  1.4-1.6  1.9-2.0  1.9-2.2  2.8-3.4
                       float64  0.8-0.9  1.1-1.2  1.5-1.7  1.6-1.8  2.0-2.3
    10000x100   N(0,1) float32  0.8      0.9-1.1  1.7-1.9  2.5-2.8  3.1-3.5
                       float64  0.7-0.8  0.9-1.0  1.6-1.7  2.2-2.4  2.7-2.9
    20000x64    N(0,1) float32  0.4-0.5  0.5-0.6  0.9-1.0  1.5-1.6  1.7-1.8
                       float64  0.5-0.6  0.6-0.7  1.2      1.7-1.8  2.0-2.1

(After (1)-(4), six runs at 318a135: at most 3.7x; a seventh, disturbed run: 5.2x.) Dropped: m // 4 samples for short rows (1.19-1.31 slower), m // 16
(0.85-0.90 at 1e-2 / 0.1, 1.03-1.25 at 0.5), sweeps started at the model's level at 1.05 or 1.15
theta (no change); Michelot steps raised by the set without its smallest entry (or, after a
guess above the level, with the largest entry left out added): 2.83 -> 2.73 sweeps a row at 0.5,
no faster; rows of up to 64 KB on the row path (1000x10000 float32 U(0,1) 0.76 at 0.5 but 1.09
at 0.1, N(0,1) 1.10 at 0.5, 2000x5000 float64 1.19 at 0.1 / 0.5: no single byte limit wins).

Session 11 (2026-12-01), another CPU: AMD EPYC (family 25 model 1, Zen 3), AVX2 without AVX-512,
2 cores of a shared VM (wall-clock runs vary by up to 1.6x; ``--cpu-time`` is steadier).
``OMP_NUM_THREADS=1 taskset -c 1 python benchmarks/bench_projections.py --only l1inf --cpu-time``,
three runs at a3e46e2, time / floor at 1e-4 / 1e-3 / 1e-2 / 0.1 / 0.5::

    1000x1000   U(0,1) float32  1.1-1.2  1.5      2.4-2.5  3.3-3.6  4.2-4.4
                       float64  0.9-1.3  1.3-1.5  2.0-2.3  2.6-3.1  3.2-3.9
    1000x10000  U(0,1) float32  0.8-1.0  1.3-1.4  1.6-1.8  1.9-2.0  2.5-3.4
                       float64  0.8-0.9  1.1-1.2  1.4-1.5  1.5-1.6  1.9-2.2
    10000x100   N(0,1) float32  0.8-0.9  1.1-1.2  2.1-2.3  3.3-3.6  4.2-4.9
                       float64  0.8-1.1  1.2-1.3  1.9-2.4  2.7-3.1  3.8-4.0
    20000x64    N(0,1) float32  0.7      0.9-1.0  1.8-1.9  2.7-2.9  3.3-3.5
                       float64  0.8-0.9  1.1-1.3  1.6-1.8  2.6-2.7  3.0-3.5

Four wall-clock runs: 0.8-7.2x (1000x1000 float32 0.5 3.9-7.2, 10000x100 float32 0.5 4.4-6.3).
Profile (``perf record``, 10000x100 float32 0.5): the sweeps 29%, the row-level loop around them
23% (a division on the path between two sweeps), model 6%, first pass 5%, output 5%. Tried and
dropped: counting the entries above t by subtracting the masks lane by lane (2 vector operations
a block instead of movemask and a scalar bit count): this / before 0.82-1.05, no gain (the
sweeps of a short row are not bound by their instruction count). ``--only l1``: 1e6 float64
3.9-8.4x (the same call alone in a fresh process: 3.0x; the benchmark's heap state decides how
many fresh pages the output touches), Cauchy frac 0.5 3.3-6.3x, the rest 1.3-3.1x; ``--only
prox``: 2.0-4.9x; ``--only threads`` (3 runs): l1,inf 1.51-2.55, l1,2 1.65-1.93, wprox l2
1.50-1.58, prox l1,inf 1.54-1.87, and the memory-bound copy itself 1.50-1.83. Also dropped:
two short rows' sweeps issued in turn (a C harness: one dependent chain of sweeps of 100 floats
117-153 cycles a sweep, two interleaved 81-137; same levels bitwise on 756 cases): four A/B runs
0.89-0.99 at 0.1 / 0.5 on 10000x100 and 20000x64 but 1.03-1.16 at 1e-2 (one 0.90), 1000x1000 same.
Adopted (c9d5bf5): the l1 ball / simplex threshold works in the float64 output (``--only l1``
N(0,1) 1e6 float64 3.9-8.4x -> 1.6-2.9x; 1e6 float64 took 433 page faults a call).

Session 14 (2026-12-01, the same Zen 3 machine), tried and dropped: search sweeps that count and
sum only (no smallest / largest entry; float32 sums accumulated in float32 over 32 partials),
moving the start of the exact sweeps towards the level. In L1 (a C harness, TSC cycles a sweep)
they cost 195 against 550 for a row of 1,000 floats and 37-52 against 84 for 100 floats. Sweeps
per call of the row search (counted in the kernel, float32, fraction 0.5): 1000x1000 2.20 exact
-> 0.53 search + 1.31 exact; 10000x100 2.09 -> 0.72 + 1.57; with search sweeps at every call, and
not only from a guess, the exact ones fall to 1.0 but the search adds 2-2.8 (the later
evaluations need one sweep anyway). ``--cpu-time --ab-l1inf`` against main (b9b3aec), this /
main: 0.93-1.07 (1000x1000 float32 0.5 1.02, 0.1 0.93) and 1.1-1.8 in the every-call version: the
gain expected from the counts (about 9% of a call at 0.5 on 1000x1000, nothing on rows of 100)
is below the noise of this machine, and no cell would fall under 4x. A profile of 10000x100
float32 at 0.5 (``perf record``): the sweeps 30%, the row loop around them 23% (most of it
waiting on the division of the Michelot step and the tests on its result, then a mispredicted
exit), the model 12%, the first pass 6%, the output 5%.

Session 17 (2026-12-01, the same machine), the l1,inf prox: each row's l1-ball threshold is now
the l1,inf projection's row level (Michelot sweeps on the row from max(max - c, (l1 - c) / m),
the clamp of the projection's output pass; Condat's algorithm after 32 sweeps, 9 at most seen),
instead of Condat's algorithm on two fresh heap buffers. ``--cpu-time --ab-prox`` against main
(daed34f), one thread, core 1, time / floor (``np.abs(X).max(axis=1)``) at threshold frac 1e-4 /
1e-2 / 0.1 / 0.5 of the median row l1 norm, before -> after (``bench_prox.py``):
1000x1000 float32 11.2 / 26.6 / 46.5 / 62.9 -> 5.4 / 4.7 / 4.1 / 4.1, float64 3.4 / 11.2 / 15.1 /
14.4 -> 2.4 / 3.5 / 2.5 / 2.0; 1000x10000 float32 4.5 / 13.6 / 22.8 / 22.4 -> 2.3 / 1.7 / 1.4 /
1.0, float64 2.1 / 6.0 / 8.0 / 8.0 -> 1.8 / 1.5 / 1.2 / 1.0; 10000x100 float32 4.5 / 7.9 / 25.6 /
35.4 -> 1.1 / 2.2 / 2.9 / 2.1, float64 2.0 / 3.5 / 14.1 / 14.0 -> 0.8 / 1.4 / 2.1 / 1.5; 20000x64
float32 3.8 / 5.5 / 15.4 / 18.0 -> 0.9 / 1.4 / 2.4 / 1.5, float64 2.9 / 3.4 / 8.6 / 9.7 -> 0.9 /
1.1 / 1.8 / 1.1 (this / main 0.045-0.85). ``--only threads`` (one wall-clock run, load 0.8):
prox l1,inf 1.44 (the copy itself 1.57, l1,inf 1.40-2.35, l1,2 1.70-1.74, wprox l2 1.44).
Same session, the l1 ball / simplex after a window that misses below tau: the next window comes
from a second model (the entries above the window exact, the sample's entries below it for the
rest) instead of all of (tangent root, lo]. Heavy tails made that interval most of x: 1e6
Cauchy float32 (``np.random.default_rng(2)``), simplex at radius 0.5 ||x||_1, 20.6x -> 3.7x the
floor. The same for a window that misses above tau (a second model: the entries above the
window in sum, the sample's entries above it for those passed on the way): seeds 0 / 1, 6.1 /
6.7x -> 4.3 / 4.3x. Six seeds, fracs 1e-6 .. 0.7, simplex and l1 ball, float32: 2.0-4.6x, one
cell 6.9x in one run and 4.2-4.4x in three reruns. ``--cpu-time --ab-l1`` against main (daed34f)
after the first change: this / main 0.90-1.06 in every cell (N(0,1) and Cauchy, 1e6, both
dtypes; noise); against that build after the second: 0.87-1.14 (noise). A review then found
float32 heavy-tailed vectors stalling until the last resort (Pareto(0.5) 1e6, l1 ball at 0.3 /
0.7: 1.3-1.7 ms before, 9.6-19.8 ms after the second model): a window's lower end rounded to
the nearest float could land just above tau when it was an exact tangent root, and every later
pass missed the same way. The float32 window's ends are now rounded outwards (lo down, hi up):
those cases 2.0-2.2 ms (``perf_counter``, best of 7); ``--ab-l1`` against the build before that
fix: 0.85-1.13 (noise). ``--only l1`` (before the change, this session): N(0,1) 1e6
float32 1.8-2.6x, float64 1.4-2.4x; 1e7 1.3-2.0x: issue 17 item 2's <= 5x holds.
"""

import argparse
import time
import sys

import numpy as np

from skproj import (
    l1inf_norm,
    l12_norm,
    project_l1_ball,
    project_l12_ball,
    project_l1inf_ball,
    project_simplex,
)


def l1inf_sort(X, radius):
    """Projection onto the l1,inf ball (rows = groups) by sorting all breakpoints.

    Quattoni, Carreras, Collins, Darrell, ICML 2009: with every group sorted, F(theta) =
    sum_g mu_g(theta) is linear between the nm breakpoints theta_gk = S_g(k) - k y_g(k+1)
    (where group g starts clipping its (k+1)-th entry) and S_g(m) (where it is zeroed). Sort
    the breakpoints, sweep them while updating F = A - theta B, and solve on the right piece.
    """
    Y = np.abs(X)
    n, m = Y.shape
    if Y.max(axis=1).sum() <= radius:
        return X.copy()
    srt = -np.sort(-Y, axis=1)
    cs = np.cumsum(srt, axis=1)
    k = np.arange(1, m + 1, dtype=float)
    # events: k -> k+1 for k = 1..m-1, then death at theta = S_g(m)
    theta_ev = np.empty((n, m))
    theta_ev[:, : m - 1] = cs[:, : m - 1] - k[: m - 1] * srt[:, 1:]
    theta_ev[:, m - 1] = cs[:, m - 1]
    a = cs / k  # A contribution S_g(k) / k on piece k
    dA = np.empty((n, m))
    dA[:, : m - 1] = a[:, 1:] - a[:, : m - 1]
    dA[:, m - 1] = -a[:, m - 1]
    dB = np.empty(m)
    dB[: m - 1] = 1.0 / k[1:] - 1.0 / k[: m - 1]
    dB[m - 1] = -1.0 / m
    order = np.argsort(theta_ev, axis=None, kind="stable")
    th = theta_ev.ravel()[order]
    A = a[:, 0].sum() + np.cumsum(dA.ravel()[order])
    B = n + np.cumsum(np.broadcast_to(dB, (n, m)).ravel()[order])
    e = np.argmax(A - th * B <= radius)
    A_prev = a[:, 0].sum() if e == 0 else A[e - 1]
    B_prev = float(n) if e == 0 else B[e - 1]
    theta = (A_prev - radius) / B_prev
    cand = (cs - theta) / k
    nxt = np.concatenate([srt[:, 1:], np.full((n, 1), -np.inf)], axis=1)
    kk = np.argmax(nxt <= cand, axis=1)
    # finish exactly: theta from the clipped sums and counts of the identified piece
    alive = cs[:, -1] > theta
    cnt = kk[alive] + 1.0
    theta = ((cs[alive, kk[alive]] / cnt).sum() - radius) / (1.0 / cnt).sum()
    cand = (cs - theta) / k
    kk = np.argmax(nxt <= cand, axis=1)
    mu = np.maximum(cand[np.arange(n), kk], 0.0)
    mu[cs[:, -1] <= theta] = 0.0
    return np.sign(X) * np.minimum(Y, mu[:, None])


def l1_sort(x, radius):
    """Projection onto the l1 ball by a full sort (Duchi, Shalev-Shwartz, Singer, Chandra 2008)."""
    y = np.abs(x)
    if y.sum() <= radius:
        return x.copy()
    u = np.sort(y)[::-1]
    css = np.cumsum(u) - radius
    rho = np.nonzero(u - css / np.arange(1, len(u) + 1) > 0)[0][-1]
    tau = css[rho] / (rho + 1)
    return np.sign(x) * np.maximum(y - tau, 0)


CLOCK = time.perf_counter


def median_time(fn, repeats, min_time=0.0):
    times = []
    t_start = time.perf_counter()
    while len(times) < repeats or (time.perf_counter() - t_start < min_time and len(times) < 50):
        t0 = CLOCK()
        fn()
        times.append(CLOCK() - t0)
    return float(np.median(times))


def bench_l1inf(shapes, fracs, repeats, sort_max):
    rng = np.random.default_rng(0)
    print("l1,inf ball, rows are the groups; times in ms (median); ratio = time / floor;")
    print("exact = max |ours - sort| / max |X|")
    head = f"{'shape':>11} {'dist':>7} {'frac':>7} {'ms':>9} {'zeroed':>7} {'floor':>7} {'ratio':>7} {'sort ms':>9} {'exact':>9}"
    print(head)
    print("-" * len(head))
    for shape in shapes:
        for dist in ("uniform", "gauss"):
            X = rng.uniform(0, 1, shape) if dist == "uniform" else np.abs(rng.standard_normal(shape))
            X *= rng.choice([-1.0, 1.0], shape)
            norm = l1inf_norm(X)
            for frac in fracs:
                radius = frac * norm
                P = project_l1inf_ball(X, radius)
                t = median_time(lambda: project_l1inf_ball(X, radius), repeats, 0.3)
                floor = median_time(lambda: np.abs(X).max(axis=1), repeats, 0.3)
                zeroed = float(np.mean(np.abs(P).max(axis=1) == 0))
                if X.size <= sort_max:
                    ref = l1inf_sort(X, radius)
                    t_sort = median_time(lambda: l1inf_sort(X, radius), 1)
                    err = np.abs(P - ref).max() / np.abs(X).max()
                    sort_s, err_s = f"{1e3 * t_sort:9.1f}", f"{err:9.1e}"
                else:
                    sort_s = err_s = f"{'-':>9}"
                print(f"{shape[0]:>5}x{shape[1]:<5} {dist:>7} {frac:7.0e} {1e3 * t:9.2f} {zeroed:7.3f} "
                      f"{1e3 * floor:7.2f} {t / floor:7.1f} {sort_s} {err_s}", flush=True)


def bench_l1(sizes, fracs, repeats):
    rng = np.random.default_rng(1)
    print()
    print("l1 ball, N(0,1) entries; times in ms (median); ratio = time / floor np.abs(x).sum()")
    head = f"{'n':>9} {'frac':>7} {'ms':>9} {'floor':>7} {'ratio':>7} {'sort ms':>9} {'exact':>9}"
    print(head)
    print("-" * len(head))
    for n in sizes:
        x = rng.standard_normal(n)
        norm = np.abs(x).sum()
        for frac in fracs:
            radius = frac * norm
            p = project_l1_ball(x, radius)
            t = median_time(lambda: project_l1_ball(x, radius), repeats, 0.3)
            floor = median_time(lambda: np.abs(x).sum(), repeats, 0.3)
            ref = l1_sort(x, radius)
            t_sort = median_time(lambda: l1_sort(x, radius), 1)
            err = np.abs(p - ref).max() / np.abs(x).max()
            print(f"{n:9.0e} {frac:7.0e} {1e3 * t:9.2f} {1e3 * floor:7.2f} {t / floor:7.1f} "
                  f"{1e3 * t_sort:9.1f} {err:9.1e}", flush=True)


def best_time(fn, repeats=7):
    """Best of ``repeats`` wall-clock timings of fn() (after one warm-up call)."""
    fn()
    best = np.inf
    for _ in range(repeats):
        t0 = CLOCK()
        fn()
        best = min(best, CLOCK() - t0)
    return best


FRACS = (1e-4, 1e-3, 1e-2, 0.1, 0.5)
L1INF_CASES = (((1000, 1000), "U(0,1)"), ((1000, 10000), "U(0,1)"),
               ((10000, 100), "N(0,1)"), ((20000, 64), "N(0,1)"))


def _matrix(rng, shape, dist, dtype):
    X = rng.uniform(0, 1, shape) if dist == "U(0,1)" else np.abs(rng.standard_normal(shape))
    X *= rng.choice([-1.0, 1.0], shape)
    return X.astype(dtype)


def table_l1inf(cases, dtypes, fracs, repeats):
    """Issue 17's table: time / floor with floor = np.abs(X).max(axis=1) in the same dtype."""
    rng = np.random.default_rng(0)
    print("l1,inf ball (rows are the groups), best of", repeats, "; ratio = time / floor, "
          "floor = np.abs(X).max(axis=1) in the same dtype")
    head = (f"{'shape':>11} {'dist':>7} {'dtype':>7} {'frac':>7} {'zeroed':>7} {'ms':>9} "
            f"{'floor ms':>9} {'ratio':>7}")
    print(head)
    print("-" * len(head))
    for shape, dist in cases:
        X64 = _matrix(rng, shape, dist, np.float64)
        for dtype in dtypes:
            X = X64.astype(dtype)
            norm = l1inf_norm(X)
            floor = best_time(lambda: np.abs(X).max(axis=1), repeats)
            for frac in fracs:
                radius = frac * norm
                P = project_l1inf_ball(X, radius)
                t = best_time(lambda: project_l1inf_ball(X, radius), repeats)
                zeroed = float(np.mean(np.abs(P).max(axis=1) == 0))
                print(f"{shape[0]:>5}x{shape[1]:<5} {dist:>7} {np.dtype(dtype).name:>7} {frac:7.0e} "
                      f"{zeroed:7.1%} {1e3 * t:9.2f} {1e3 * floor:9.2f} {t / floor:7.1f}", flush=True)


def _load_other(path, name):
    """Another build's kernel extension (path to its .so, e.g. main's), imported beside this one."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"_ab_other.{name}", path)
    other = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(other)
    return other


def _ab_best(fns, repeats):
    """Best time of each of fns (a dict of callables), the calls alternating in every repeat and
    in reversed order every other repeat, so that no function always runs after another."""
    best = dict.fromkeys(fns, np.inf)
    for fn in fns.values():
        fn()
    for rep in range(repeats):
        for k in (list(fns) if rep % 2 == 0 else list(fns)[::-1]):
            t0 = CLOCK()
            fns[k]()
            best[k] = min(best[k], CLOCK() - t0)
    return best


def _ab_table(title, cases, repeats):
    """Print one A/B table; cases yield (label, {"floor": f, "other": f, "this": f})."""
    import os

    print(f"{title}; best of {repeats}, alternating; load average {os.getloadavg()[0]:.1f}")
    head = f"{'case':>32} {'floor ms':>9} {'other':>7} {'this':>7} {'this/other':>10}"
    print(head)
    print("-" * len(head))
    for label, fns in cases:
        best = _ab_best(fns, repeats)
        fl = best["floor"]
        print(f"{label:>32} {1e3 * fl:9.3f} {best['other'] / fl:7.2f} {best['this'] / fl:7.2f} "
              f"{best['this'] / best['other']:10.3f}", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


def table_ab_l1inf(path, repeats, quick=False):
    """A/B of the l1,inf kernel: another build's ``_l1inf`` extension (path to its .so, e.g. main's)
    against this checkout's, in one process, the two calls (and the floor) alternating in every
    repeat (in reversed order every other repeat), best of ``repeats``. Prints time / floor for
    both and the ratio this / other: issue 17's shapes, both dtypes, every radius fraction
    (``quick``: 1000x1000 and two 10000x100 float32 cases)."""
    from skproj._kernels import _l1inf as this

    other = _load_other(path, "_l1inf")
    rng = np.random.default_rng(0)
    if quick:
        cases = [((1000, 1000), "U(0,1)", dt, f) for dt in (np.float32, np.float64) for f in FRACS]
        cases += [((10000, 100), "N(0,1)", np.float32, f) for f in (1e-3, 0.5)]
    else:
        cases = [(shape, dist, dt, f) for shape, dist in L1INF_CASES
                 for dt in (np.float32, np.float64) for f in FRACS]

    def rows():
        for shape, dist, dtype, frac in cases:
            X = _matrix(rng, shape, dist, dtype)
            radius = frac * l1inf_norm(X)
            out = np.empty_like(X)
            yield (f"{shape[0]}x{shape[1]} {dist} {np.dtype(dtype).name} {frac:.0e}",
                   {"floor": lambda: np.abs(X).max(axis=1), "other": lambda: other.l1inf_ball(X, out, radius),
                    "this": lambda: this.l1inf_ball(X, out, radius)})

    _ab_table(f"A/B l1,inf kernel: other = {path}", rows(), repeats)


def table_ab_l1(path, repeats):
    """A/B of the l1-ball and simplex kernels (``_l1`` extension at path against this checkout's),
    as :func:`table_ab_l1inf`: 1e6 N(0,1) and Cauchy entries, both dtypes, floor np.abs(x).sum()."""
    from skproj._kernels import _l1 as this

    other = _load_other(path, "_l1")
    rng = np.random.default_rng(1)

    def rows():
        for dist in ("N(0,1)", "Cauchy"):
            x64 = rng.standard_normal(10**6) if dist == "N(0,1)" else rng.standard_cauchy(10**6)
            for dtype in (np.float32, np.float64):
                x = x64.astype(dtype)
                out = np.empty_like(x)
                norm = float(np.abs(x64).sum())
                for op in ("l1_ball", "simplex"):
                    fo, ft = getattr(other, op), getattr(this, op)
                    for frac in (1e-6,) + FRACS:
                        r = frac * norm
                        yield (f"{op} 1e6 {dist} {np.dtype(dtype).name} {frac:.0e}",
                               {"floor": lambda: np.abs(x).sum(), "other": lambda: fo(x, out, r),
                                "this": lambda: ft(x, out, r)})

    _ab_table(f"A/B l1-ball / simplex kernels: other = {path}", rows(), repeats)


def table_l1(sizes, dtypes, fracs, repeats, dist="N(0,1)"):
    """l1 ball and simplex on N(0,1) (or Cauchy) vectors: time / floor with floor = np.abs(x).sum()."""
    rng = np.random.default_rng(1)
    print()
    print(f"l1 ball and simplex, {dist} entries, best of", repeats,
          "; radius = frac * ||x||_1; ratio = time / floor, floor = np.abs(x).sum() in the same dtype")
    head = f"{'op':>8} {'n':>7} {'dtype':>7} {'frac':>7} {'ms':>9} {'floor ms':>9} {'ratio':>7}"
    print(head)
    print("-" * len(head))
    for n in sizes:
        x64 = rng.standard_normal(n) if dist == "N(0,1)" else rng.standard_cauchy(n)
        for dtype in dtypes:
            x = x64.astype(dtype)
            norm = float(np.abs(x).sum(dtype=np.float64))
            floor = best_time(lambda: np.abs(x).sum(), repeats)
            for name, fn in (("l1 ball", project_l1_ball), ("simplex", project_simplex)):
                for frac in fracs:
                    radius = frac * norm
                    t = best_time(lambda: fn(x, radius), repeats)
                    print(f"{name:>8} {n:7.0e} {np.dtype(dtype).name:>7} {frac:7.0e} {1e3 * t:9.2f} "
                          f"{1e3 * floor:9.2f} {t / floor:7.1f}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer shapes and repeats")
    parser.add_argument("--sort", action="store_true",
                        help="the older table: median times and exactness against the sort-based methods")
    parser.add_argument("--threads", action="store_true", help="also the 1 vs 2 threads table")
    parser.add_argument("--only", choices=["l1inf", "l1", "prox", "threads"], default=None,
                        help="print one table only")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time with time.thread_time (CPU time of this thread; every timed call "
                             "runs single-threaded in it) instead of wall-clock time, which is "
                             "steadier on a loaded machine")
    parser.add_argument("--simd", type=int, choices=[0, 1, 2, 3], default=None,
                        help="cap the vector instructions of this checkout's kernels (0 plain C, "
                             "1 SSE2, 2 AVX2, 3 AVX-512 for the l1,inf row sweeps)")
    parser.add_argument("--ab-l1", metavar="SO_PATH", default=None,
                        help="only the A/B table of the l1-ball / simplex kernels against the _l1 "
                             "extension at SO_PATH, one thread")
    parser.add_argument("--ab-prox", metavar="SO_PATH", default=None,
                        help="only the A/B table of the weighted group prox kernel against the _prox "
                             "extension at SO_PATH, one thread")
    parser.add_argument("--ab-l1inf", metavar="SO_PATH", default=None,
                        help="only the A/B table of the l1,inf kernel: this checkout's against the "
                             "_l1inf extension at SO_PATH (another build, e.g. main's), one thread")
    args = parser.parse_args()
    # bench_threads and bench_prox import this module by name: let them see this run's clock
    sys.modules.setdefault("bench_projections", sys.modules[__name__])
    from skproj._kernels import _l1, _l1inf, _prox

    cap = -1 if args.simd is None else args.simd
    _l1._set_simd_level(cap)
    _prox._set_simd_level(cap)
    names = ['plain C', 'SSE2', 'AVX2', 'AVX2']
    print(f"vector instructions of the l1-ball / simplex / weighted prox loops: "
          f"{names[_l1.simd_level()]}; of the l1,inf row sweeps: "
          f"{(names[:3] + ['AVX-512'])[_l1inf._set_simd_level(cap)]}")
    if args.cpu_time:
        global CLOCK
        CLOCK = time.thread_time
        print("clock: time.thread_time (CPU time of the calling thread)")
    else:
        print("clock: time.perf_counter (wall clock)")
    fracs = [1e-4, 1e-3, 1e-2, 0.1, 0.5]
    if args.sort:
        if args.quick:
            bench_l1inf([(1000, 1000), (10000, 100)], fracs, repeats=3, sort_max=10**6)
            bench_l1([10**4, 10**6], [1e-2, 0.1, 0.5], repeats=3)
        else:
            bench_l1inf([(1000, 1000), (1000, 10000), (10000, 100)], fracs, repeats=7, sort_max=10**6)
            bench_l1([10**4, 10**5, 10**6, 10**7], [1e-2, 0.1, 0.5], repeats=7)
        return
    from threadpoolctl import threadpool_limits

    dtypes = (np.float32, np.float64)
    repeats = 3 if args.quick else 7
    only = args.only
    if args.ab_l1inf or args.ab_l1 or args.ab_prox:
        with threadpool_limits(1):
            if args.ab_l1inf:
                table_ab_l1inf(args.ab_l1inf, repeats, args.quick)
            if args.ab_l1:
                table_ab_l1(args.ab_l1, repeats)
            if args.ab_prox:
                from bench_prox import table_ab_prox

                table_ab_prox(args.ab_prox, repeats)
        return
    with threadpool_limits(1):
        print("one thread (threadpoolctl limits = 1)")
        if only in (None, "l1inf"):
            table_l1inf(L1INF_CASES[:1] + L1INF_CASES[2:3] if args.quick else L1INF_CASES, dtypes,
                        FRACS, repeats)
        if only in (None, "l1"):
            table_l1([10**6] if args.quick else [10**6, 10**7], dtypes, FRACS, repeats)
            table_l1([10**6], dtypes, (1e-6,) + FRACS, repeats, dist="Cauchy")
        if only in (None, "prox"):
            from bench_prox import table_prox_l1inf, table_weighted_prox

            table_weighted_prox((1000, 64), dtypes, repeats)
            table_prox_l1inf(L1INF_CASES, dtypes, repeats)
    if args.threads or only == "threads":
        from bench_threads import table_threads   # more thread counts: bench_threads.py

        table_threads((1000, 10000), FRACS, repeats)


if __name__ == "__main__":
    main()
