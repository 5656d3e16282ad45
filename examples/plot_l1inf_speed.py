"""
=====================================================================
Speed of the exact l1,inf projection against a sort-based method
=====================================================================

:func:`~skproj.projections.project_l1inf_ball` computes the exact Euclidean projection onto
the l1,inf ball :math:`\\{X : \\sum_g \\max_j |X_{gj}| \\le C\\}` (rows are the groups). The
textbook method (Quattoni, Carreras, Collins and Darrell, ICML 2009) sorts every group, sorts
all the :math:`nm` breakpoints of the piecewise-linear function
:math:`F(\\theta) = \\sum_g \\mu_g(\\theta)` and sweeps them: :math:`O(nm \\log nm)`. It is
written below in a few lines of numpy, checked against skproj, and both are timed on square
matrices of growing size, with the radius a tenth of the input's norm. The one-pass floor
``np.abs(X).max(axis=1)`` (what computing the norm alone costs) is timed too.

Times are the best of 3 calls on whatever machine builds this page (the documentation build
machine may be busy), so read the ratios, not the absolute numbers.
"""

import time

import matplotlib.pyplot as plt
import numpy as np

from skproj import l1inf_norm, project_l1inf_ball


def project_l1inf_sort(X, radius):
    """Projection onto the l1,inf ball (rows are groups) by sorting all breakpoints.

    With Y = |X| sorted decreasingly in each row and S_g(k) the sum of the k largest entries,
    row g is clipped at mu_g(theta) = (S_g(k) - theta) / k on the piece where k entries are
    clipped. Between consecutive breakpoints F(theta) = sum_g mu_g(theta) = A - theta * B is
    linear; sweeping the sorted breakpoints updates A and B, and F(theta) = radius is solved
    on the piece where F crosses the radius.
    """
    Y = np.abs(X)
    n, m = Y.shape
    if Y.max(axis=1).sum() <= radius:
        return X.copy()
    Ys = -np.sort(-Y, axis=1)
    S = np.cumsum(Ys, axis=1)
    k = np.arange(1, m + 1)
    # breakpoint where row g goes from k to k + 1 clipped entries, and where it is zeroed
    br = np.empty((n, m))
    br[:, :-1] = S[:, :-1] - k[:-1] * Ys[:, 1:]
    br[:, -1] = S[:, -1]
    # on the piece with k clipped entries, row g contributes S_g(k) / k - theta / k
    a = S / k
    dA = np.concatenate([a[:, 1:] - a[:, :-1], -a[:, -1:]], axis=1)
    dB = np.concatenate([1.0 / k[1:] - 1.0 / k[:-1], [-1.0 / m]])
    order = np.argsort(br, axis=None)
    theta_b = br.ravel()[order]
    A = a[:, 0].sum() + np.cumsum(dA.ravel()[order])  # F = A - theta * B just after each breakpoint
    B = n + np.cumsum(np.broadcast_to(dB, (n, m)).ravel()[order])
    # F(theta) decreases; the first breakpoint where F <= radius ends the piece holding theta
    e = int(np.argmax(A - theta_b * B <= radius))
    A0, B0 = (a[:, 0].sum(), n) if e == 0 else (A[e - 1], B[e - 1])
    theta = (A0 - radius) / B0
    # the cumulative sums carry rounding errors: recompute theta from the clipped sets of the
    # piece found (k_g entries clipped in each surviving row), then the clip levels
    kk = np.maximum(1, (Ys > (S - theta) / k).sum(axis=1))
    Sk = S[np.arange(n), kk - 1]
    alive = S[:, -1] > theta
    theta = ((Sk / kk)[alive].sum() - radius) / (1.0 / kk[alive]).sum()
    level = np.maximum(0.0, (Sk - theta) / kk)
    return np.sign(X) * np.minimum(Y, level[:, None])


def best_time(f, repeat=3):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


rng = np.random.default_rng(0)
sizes = [100, 200, 400, 800, 1600]
rows = []
for n in sizes:
    X = rng.uniform(size=(n, n))
    radius = 0.1 * l1inf_norm(X)
    P = project_l1inf_ball(X, radius)
    err = np.abs(P - project_l1inf_sort(X, radius)).max() / np.abs(X).max()
    t_skproj = best_time(lambda: project_l1inf_ball(X, radius))
    t_sort = best_time(lambda: project_l1inf_sort(X, radius))
    t_floor = best_time(lambda: np.abs(X).max(axis=1))
    rows.append((n, t_skproj, t_sort, t_floor, err))
    print(f"{n:5d} x {n:<5d} skproj {1e3 * t_skproj:8.2f} ms   sort-based {1e3 * t_sort:8.2f} ms   "
          f"floor {1e3 * t_floor:7.2f} ms   sort / skproj {t_sort / t_skproj:5.1f}x   "
          f"max |difference| / max|X| {err:.1e}")

# %%
# Time against size
# -----------------

rows = np.array(rows)
entries = rows[:, 0] ** 2
fig, ax = plt.subplots(figsize=(7, 4.5))
ax.loglog(entries, 1e3 * rows[:, 2], "s-", label="sort-based (numpy, O(nm log nm))")
ax.loglog(entries, 1e3 * rows[:, 1], "o-", label="skproj.project_l1inf_ball")
ax.loglog(entries, 1e3 * rows[:, 3], "k:", label="floor: np.abs(X).max(axis=1)")
ax.set(xlabel="number of entries nm (n x n, uniform entries)", ylabel="time (ms, best of 3)",
       title="l1,inf ball projection, radius = 0.1 x norm")
ax.legend()
ax.grid(alpha=0.3, which="both")
fig.tight_layout()
plt.show()
