"""Active-set polishing of a lasso solution: feature-sign search with Cholesky updates.

Minimises ``(1 / (2n)) ||y - A w||^2 + alpha ||w||_1`` for the centred, row-scaled design
``A`` of a :class:`skproj._design.Design` from a starting point (spred's solution after its
proximal step, :mod:`skproj.spred`) until the KKT conditions hold to a tolerance.

The method is the feature-sign search of Lee, Battle, Raina & Ng ("Efficient sparse coding
algorithms", NIPS 2006, Alg. 1): exact linear solves on the support with fixed signs, a line
search over the sign-change points, and re-activation of every coordinate that violates
``|A_j^T r| / n <= alpha``. Activating many violators at once (for speed) loses the method's
strict-descent guarantee, which holds for one at a time; near ``|S| = rank(A)`` the search could
then cycle. After a few KKT checks without a lower objective it turns safe: one activation at a
time, an exact line search on the convex piecewise-quadratic segment
(:func:`exact_line_search`), a step along a null direction of ``A_S`` when ``|S| > rank`` (the
loss is unchanged and a coordinate reaches zero; Tibshirani, "The lasso problem and
uniqueness", 2013, Lemma 14; :func:`drop_along_null_direction`), or else one exact
coordinate-descent step, so the objective then decreases monotonically.

The linear solves use a Cholesky factor of ``A_S^T A_S / n`` (:class:`ActiveCholesky`) that is
updated when a coordinate enters (forward substitution) or leaves (Givens rotations; Golub & Van
Loan, Matrix Computations, sec. 6.5) instead of being recomputed, with the kernels of
``skproj._kernels._linalg``; the Gram matrix is gathered from a cache of the columns used so
far (:class:`GramCache`), and the KKT conditions are checked on those columns (the working set)
before all ``d`` columns are.

The projected linear models have an active-set step too (:func:`skproj._solvers._working_set.l1_polisher`,
for the l1 *ball*): it solves a different system (the bordered KKT system of the constrained
least-squares problem on a face of the ball) with a different step rule (Lawson & Hanson's
first-hit drop), from FISTA's iterates; the two share the design's weighted, centred columns
(:meth:`skproj._design.Design.columns`).
"""

import numpy as np
import scipy.linalg

from .._kernels import _linalg

__all__ = ["ActiveCholesky", "GramCache", "drop_along_null_direction", "exact_line_search", "feature_sign"]

_STALL_CHECKS = 3  # KKT checks without a lower objective before the feature-sign search turns safe
_MAX_FACTOR_CHANGES = 16  # more coordinates changing at once: a new Cholesky factorisation
_MAX_FACTOR_UPDATES = 200  # updates of the Cholesky factor before a new factorisation
_WORKING_SET_BATCH = 100  # columns added to the feature-sign search's cache per full KKT check


class GramCache:
    """Dense columns of ``A_U`` and their Gram matrix ``A_U^T A_U / n`` for a growing set ``U``.

    The active sets of the feature-sign search change by a few coordinates per iteration, so
    the Gram matrix restricted to ``S`` is gathered from this cache (``O(|S|^2)``) instead of
    being recomputed (``O(n |S|^2)``); new columns cost ``O(n |U| m)`` for ``m`` new ones. The
    columns are stored as the rows of ``At`` (so gathering the columns of ``S`` copies contiguous
    rows), in buffers that grow geometrically; ``idx`` lists the cached columns in cache order
    and ``pos`` maps a column to its place (-1 when not cached).

    Parameters
    ----------
    design : skproj._design.Design
        ``A``: its :meth:`~skproj._design.Design.columns` (centred, row-scaled, float64).
    d : int
        Number of columns of ``A``.
    """

    def __init__(self, design, d):
        self.design = design
        self.n = design.n_samples
        self.pos = np.full(d, -1, dtype=np.intp)
        self.m = 0
        self._idx = np.empty(0, dtype=np.intp)
        self._At = np.empty((0, self.n))
        self._G = np.empty((0, 0))

    @property
    def idx(self):
        return self._idx[: self.m]

    @property
    def At(self):
        return self._At[: self.m]

    @property
    def G(self):
        return self._G[: self.m, : self.m]

    def add(self, idx):
        new = np.unique(idx[self.pos[idx] < 0])
        if not new.size:
            return
        n, m0 = self.n, self.m
        m = m0 + new.size
        if m > self._At.shape[0]:  # grow the buffers by half at least
            cap = max(m, (3 * self._At.shape[0]) // 2, 64)
            At, G, ix = np.empty((cap, n)), np.empty((cap, cap)), np.empty(cap, dtype=np.intp)
            At[:m0], G[:m0, :m0], ix[:m0] = self._At[:m0], self._G[:m0, :m0], self._idx[:m0]
            self._At, self._G, self._idx = At, G, ix
        self._At[m0:m] = self.design.columns(new).T
        cross = self._At[:m] @ self._At[m0:m].T / n  # (m, m - m0): old and new against new
        self._G[:m, m0:m] = cross
        self._G[m0:m, :m0] = cross[:m0].T
        self._idx[m0:m] = new
        self.pos[new] = np.arange(m0, m)
        self.m = m

    def product(self, w):
        """``A w`` for a coefficient vector ``w`` of length ``d`` (its non-zeros get cached)."""
        idx = np.flatnonzero(w)
        self.add(idx)
        return w[idx] @ self._At[self.pos[idx]]

    def rproduct(self, r):
        """``A^T r / n`` on the cached columns, as a vector of length ``d`` (zero elsewhere)."""
        g = np.zeros(self.pos.size)
        g[self.idx] = self.At @ r / self.n
        return g

    def diag(self, j):
        """``||A_j||^2 / n`` of a cached column ``j``."""
        return float(self._G[self.pos[j], self.pos[j]])


def exact_line_search(qa, qb, qc, n, alpha, w, dw):
    """Minimise ``F(t) = (qa - 2 t qb + t^2 qc) / (2 n) + alpha ||w + t dw||_1`` over ``[0, 1]``.

    ``F`` is a convex piecewise quadratic (``qa = ||r||^2``, ``qb = r^T A dw``, ``qc =
    ||A dw||^2`` for the residual ``r`` at ``w``); its derivative is increasing and piecewise
    linear, with kinks at ``t_j = -w_j / dw_j``, so the minimiser is found exactly by walking
    the sorted kinks. Returns ``(t, F(t))``; ``t = 0`` when ``dw`` is not a descent direction.
    """
    absw = np.abs(w)
    F = lambda t: 0.5 * (qa - 2.0 * t * qb + t * t * qc) / n + alpha * np.abs(w + t * dw).sum()  # noqa: E731
    # slope of the l1 term just after t = 0: coordinates at zero move away from it
    sgn = np.where(w != 0, np.sign(w), np.sign(dw))
    slope = float(sgn @ dw)
    towards = (w * dw < 0)  # these reach zero at t_j = |w_j / dw_j| and then move away
    tk = absw[towards] / np.abs(dw[towards])
    jump = 2.0 * np.abs(dw[towards])
    order = np.argsort(tk)
    tk, jump = tk[order], jump[order]
    lo = 0.0
    for i in range(tk.size + 1):
        hi = tk[i] if i < tk.size else 1.0
        hi = min(hi, 1.0)
        # F'(t) = (t qc - qb) / n + alpha * slope on (lo, hi)
        if qc > 0:
            t0 = (qb - n * alpha * slope) / qc
        else:
            t0 = np.inf if qb - n * alpha * slope > 0 else -np.inf
        if t0 <= lo:
            t = lo
            break
        if t0 < hi or hi >= 1.0:
            t = min(t0, hi)
            break
        slope += jump[i]
        lo = hi
    return t, F(t)


def coordinate_step(w, g, alpha, tol, gram):
    """One exact coordinate-descent step, in place, on the coordinate of ``w`` that violates its
    lasso optimality condition most (``g`` is the gradient of the smooth part at ``w``); returns
    False, changing nothing, when no condition is violated by more than ``alpha * tol``."""
    viol = np.where(w != 0, np.abs(g + alpha * np.sign(w)), np.maximum(np.abs(g) - alpha, 0.0))
    j = int(np.argmax(viol))
    if not viol[j] > alpha * tol:
        return False
    gram.add(np.array([j]))
    h = gram.diag(j)
    if not h > 0:  # a zero column: its coefficient is best at zero
        w[j] = 0.0
        return True
    z = w[j] - g[j] / h
    w[j] = np.sign(z) * max(abs(z) - alpha / h, 0.0)
    return True


def drop_along_null_direction(H, w):
    """Move ``w`` (all non-zero) along ``eta``, the eigenvector of the smallest eigenvalue of
    ``H = A_S^T A_S / n`` (a null direction of ``A_S`` when ``H`` is singular, so the residual
    does not change), in the sense that does not increase ``||w||_1`` (``sign(w) . eta <= 0``),
    until the first coordinate reaches zero; that coordinate is set to exactly zero. Returns
    None when no coordinate moves towards zero along that direction."""
    _, vecs = scipy.linalg.eigh(H, subset_by_index=[0, 0], check_finite=False)
    eta = vecs[:, 0]
    if np.sign(w) @ eta > 0:
        eta = -eta
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(w * eta < 0, -w / eta, np.inf)
    j = int(np.argmin(t))
    if not np.isfinite(t[j]):
        return None
    out = w + t[j] * eta
    out[j] = 0.0
    return out


class ActiveCholesky:
    """Cholesky factor ``G_SS = R^T R`` of the cached Gram matrix on an ordered active set ``S``
    (``order``), updated one coordinate at a time.

    A removed coordinate costs a column deletion and Givens rotations, an added one a forward
    substitution (kernels in ``skproj._kernels._linalg``, ``O(|S|^2)`` each), instead of the
    gather and ``O(|S|^3)`` factorisation of a new ``G_SS``. More than ``_MAX_FACTOR_CHANGES``
    changes at once, or a new coordinate that is numerically a combination of the others, make
    :meth:`update` return False (the caller refactorises, or falls back to least squares).
    """

    def __init__(self, gram):
        self.gram = gram
        self.order = np.empty(0, dtype=np.intp)
        self.R = np.zeros((0, 0))
        self.work = np.empty(0)
        self.valid = False
        self.n_updates = 0

    def _reserve(self, k):
        if k > self.R.shape[0]:
            cap = max(k, (3 * self.R.shape[0]) // 2, 64)
            R = np.zeros((cap, cap))
            m = self.order.size
            R[:m, :m] = self.R[:m, :m]
            self.R, self.work = R, np.empty(cap)

    def factorise(self, S):
        p = self.gram.pos[S]
        try:
            R = scipy.linalg.cholesky(self.gram.G[np.ix_(p, p)], lower=False, check_finite=False)
        except np.linalg.LinAlgError:
            self.valid = False
            return False
        self.order = np.empty(0, dtype=np.intp)
        self._reserve(S.size)
        self.order = np.array(S, dtype=np.intp)
        self.R[: S.size, : S.size] = R
        self.n_updates = 0
        self.valid = True
        return True

    def update(self, S):
        if not self.valid:
            return False
        keep = np.isin(self.order, S, assume_unique=True)
        drop = np.flatnonzero(~keep)
        new = S[~np.isin(S, self.order, assume_unique=True)]
        if drop.size + new.size > _MAX_FACTOR_CHANGES or self.n_updates >= _MAX_FACTOR_UPDATES:
            return False
        self.n_updates += 1
        k = self.order.size
        for j in drop[::-1]:
            _linalg.cholesky_delete(self.R, k, j)
            k -= 1
        self.order = self.order[keep]
        if new.size:
            self._reserve(k + new.size)
            G, pos = self.gram.G, self.gram.pos
            for j in new:
                pj = pos[j]
                h = G[pj, pos[self.order]]  # G is symmetric: a row gather
                s = _linalg.cholesky_append(self.R, k, h, G[pj, pj], self.work)
                if not s > 1e-10 * G[pj, pj]:
                    self.valid = False
                    return False
                self.order = np.append(self.order, j)
                k += 1
        return True

    def solve(self, rhs):
        """``G_SS^{-1} rhs`` for ``rhs`` in the order of ``order``."""
        x = np.array(rhs, dtype=np.float64)
        _linalg.cholesky_solve(self.R, x.size, x)
        return x


def feature_sign(loss, alpha, W, tol, max_iter):
    """Feature-sign search (Lee et al. 2006, Alg. 1) per output column, for the squared loss.

    Minimises (1 / (2n)) ||y - A w||^2 + alpha ||w||_1 starting from ``W``: on the active set
    with fixed signs theta the problem is the quadratic ``(A_S^T A_S / n) w_S = A_S^T y / n -
    alpha theta_S``; a discrete line search over the points where coefficients change sign keeps
    every step a strict descent step; then every inactive j with ``|A_j^T r| / n > alpha (1 +
    tol)`` is activated with sign ``-sign(g_j)``. ``A_S^T A_S`` is gathered from a cache of the
    Gram matrix of every column used so far (:class:`GramCache`). The active set is kept at
    most ``rank(A) <= n - 1`` (``n`` without intercept) coordinates when possible, since a
    lasso problem has a solution with at most that many non-zeros (Tibshirani 2013, Lemma 14)
    and the quadratic is singular beyond it.

    Parameters
    ----------
    loss : skproj._solvers._spred.LinearLoss
        A squared loss with unit weights: ``n`` (samples), ``Y`` (n, K) (centred and row-scaled
        targets), ``design`` (``A``, centred when ``centred``: then ``rank(A) <= n - 1``) and
        ``rmatvec(R)`` (``A^T R``, shape (d, K)): the KKT check on all columns.
    alpha : float > 0
    W : ndarray of shape (d, K)
        Starting point (not modified).
    tol : float
        Relative tolerance on the KKT conditions (``alpha * tol``).
    max_iter : int
        Most iterations per output column.

    Returns
    -------
    W : ndarray of shape (d, K)
    n_iter : int
    converged : bool
        Whether every KKT condition holds to ``tol`` for every column.
    """
    n = loss.n
    d = W.shape[0]
    rank = n - 1 if loss.centred else n
    W = W.copy()
    total_iter = 0
    converged = True
    gram = GramCache(loss.design, d)
    for k in range(W.shape[1]):
        y = loss.Y[:, k]
        w = W[:, k]
        nz = np.flatnonzero(w)
        nz = nz[np.argsort(-np.abs(w[nz]), kind="stable")]  # the largest first
        # keep the ``rank`` largest; the violated KKT conditions bring back any that is needed
        w[nz[rank:]] = 0.0
        theta = np.sign(w)
        # the first working set: the starting support before truncation (its largest entries)
        gram.add(nz[: 3 * rank])
        c = gram.At @ y / n  # A_U^T y / n, extended when U grows
        ok = False
        fac, fresh = ActiveCholesky(gram), True
        F_best, stalled, safe = np.inf, 0, False
        for it in range(max_iter):
            total_iter += 1
            S = np.flatnonzero(theta)
            if S.size:
                gram.add(S)
                if c.size < gram.m:
                    c = np.concatenate([c, gram.At[c.size:] @ y / n])
                if fresh or not fac.update(S):
                    fac.factorise(S)
                if fac.valid:
                    S = fac.order  # the factor's order
                    p = gram.pos[S]
                    w_new = fac.solve(c[p] - alpha * theta[S])
                else:  # singular on S
                    p = gram.pos[S]
                    w_new = scipy.linalg.lstsq(gram.G[np.ix_(p, p)], c[p] - alpha * theta[S],
                                               check_finite=False)[0]
                fresh = False
                w_cur = w[S]
                dw = w_new - w_cur
                # residuals along the segment: r(t) = r_cur - t A_S dw; the squared loss is a
                # quadratic in t, evaluated at every candidate step at once
                AS = gram.At[p]  # the columns of S, as rows
                r_cur = y - w_cur @ AS
                Adw = dw @ AS
                qa, qb, qc = r_cur @ r_cur, r_cur @ Adw, Adw @ Adw

                F0 = 0.5 * qa / n + alpha * np.abs(w_cur).sum()
                # discrete line search (Lee et al. 2006): the full step and the points where a
                # coordinate changes sign; the last ones become exact zeros
                with np.errstate(divide="ignore", invalid="ignore"):
                    t_zero = np.where((w_cur != 0) & (w_cur * w_new <= 0), w_cur / (w_cur - w_new), np.inf)
                ts = np.concatenate([[1.0], np.unique(t_zero[(t_zero > 0) & (t_zero < 1)])])
                vals = 0.5 * (qa - 2.0 * ts * qb + ts * ts * qc) / n + alpha * np.abs(
                    w_cur + ts[:, None] * dw).sum(axis=1)
                i_best = int(np.argmin(vals))
                t, Ft = float(ts[i_best]), float(vals[i_best])
                # Several coordinates activated at once lose the strict-descent guarantee of
                # feature-sign (it holds for one at a time, at an exact optimum on the previous
                # set); the best candidate is still taken, which is much faster in practice.
                # After _STALL_CHECKS KKT checks without a lower objective the search turns
                # safe: one activation at a time, an exact line search and, if rounding still
                # prevents descent (|S| near rank(A)), an exact coordinate step instead.
                if not Ft < F0 and safe:
                    t, Ft = exact_line_search(qa, qb, qc, n, alpha, w_cur, dw)
                    if not Ft < F0:
                        nz = np.flatnonzero(w)
                        moved = None
                        if nz.size > rank:
                            # singular quadratic on the non-zeros: move along a null direction
                            # of A_nz (the loss is unchanged), the way that does not increase
                            # the l1 norm, until a coordinate reaches zero; this shrinks the
                            # support (Tibshirani 2013, Lemma 14). Kept only if F does not rise.
                            gram.add(nz)
                            pn = gram.pos[nz]
                            moved = drop_along_null_direction(gram.G[np.ix_(pn, pn)], w[nz])
                            if moved is not None:
                                trial = w.copy()
                                trial[nz] = moved
                                r_t = y - gram.product(trial)
                                F_t = 0.5 * (r_t @ r_t) / n + alpha * np.abs(trial).sum()
                                moved = trial if F_t <= F0 else None  # F0 = F(w)
                        if moved is not None:
                            w[:] = moved
                        else:
                            # one exact coordinate-descent step on the coordinate violating its
                            # optimality condition most: a strict descent
                            r = y - gram.product(w)
                            if not coordinate_step(w, -gram.rproduct(r), alpha, tol, gram):
                                g = -loss.rmatvec(r[:, None])[:, 0] / n  # all d columns
                                if not coordinate_step(w, g, alpha, tol, gram):
                                    ok = True  # every KKT condition holds to tol
                                    break
                        theta = np.sign(w)
                        fresh = True
                        continue
                elif not Ft < F0:
                    stalled += 1  # an accepted step that does not descend
                    safe = stalled >= _STALL_CHECKS
                ws = w_cur + t * dw
                ws[t_zero == t] = 0.0  # the coordinates changing sign at t become exact zeros
                cross = np.isfinite(t_zero)  # coordinates whose sign the full step changes
                if cross.any() and t < 1.0:
                    # also try the orthant projection of the full step (as in OWL-QN, Andrew &
                    # Gao 2007), which can drop many coordinates at once; keep it only if better
                    wp = np.where(cross, 0.0, w_new)
                    rp = y - wp @ AS
                    Fp = 0.5 * (rp @ rp) / n + alpha * np.abs(wp).sum()
                    if Fp < Ft:
                        ws, t = wp, 0.5
                theta_S = theta[S]
                w[:] = 0.0
                w[S] = ws
                theta = np.sign(w)
                if t < 1.0 or np.any(theta[S] != theta_S):
                    # signs changed (a coordinate reached zero, or a new one came out with the
                    # sign opposite to the one assumed): re-solve before checking optimality
                    continue
            # optimal on the active set with consistent signs: check the KKT conditions, first
            # on the cached columns U only (O(n |U|)); on all d columns (O(n d)) once they hold
            # on U. Violators outside U join U in batches, so that the next checks see them.
            r = y - gram.product(w)
            g = -gram.rproduct(r)
            if S.size and fac.valid and fac.n_updates:
                act = theta != 0
                if np.max(np.abs(g[act] + alpha * theta[act])) > alpha * tol:
                    fresh = True  # an updated factor not accurate enough: refactorise and re-solve
                    continue
            viol = (theta == 0) & (np.abs(g) > alpha * (1.0 + tol))
            if not viol.any():
                # the active coordinates too (a singular solve can leave them off)
                if coordinate_step(w, g, alpha, tol, gram):
                    theta = np.sign(w)
                    fresh = True
                    continue
                g = -loss.rmatvec(r[:, None])[:, 0] / n
                viol = (theta == 0) & (np.abs(g) > alpha * (1.0 + tol))
                if not viol.any():
                    ok = True  # every KKT condition holds to tol (the active ones hold on U)
                    break
                out = np.flatnonzero(viol)
                gram.add(out[np.argsort(-np.abs(g[out]))[:_WORKING_SET_BATCH]])
            F_now = 0.5 * (r @ r) / n + alpha * np.abs(w).sum()
            if F_now < F_best * (1.0 - 1e-15):
                F_best, stalled = F_now, 0
            else:
                stalled += 1
                safe = stalled >= _STALL_CHECKS
            cand = np.flatnonzero(viol)
            n_act = np.count_nonzero(theta)
            n_add = 1 if safe else max(10, n_act)
            if n_act + n_add > rank:  # stay within the rank when possible (at least one)
                n_add = max(1, rank - n_act)
            cand = cand[np.argsort(-np.abs(g[cand]))[:n_add]]  # the most violating first
            theta[cand] = -np.sign(g[cand])
        W[:, k] = w
        converged &= ok
    return W, total_iter, converged

