"""Working-set FISTA for a smooth loss of a linear model under a norm-ball constraint.

Solves ``min_{W, b} loss(A W^T + b)  s.t.  W in C`` (``A`` a :class:`skproj._design.Design`,
``C`` a :class:`skproj.sparsity.Constraint` on ``W`` of shape (n_outputs, n_features)) by
:func:`skproj._solvers._fista.fista` on growing sets of features (:func:`solve_working_set`), with an
active-set step for the l1 ball and the squared loss (:func:`l1_polisher`). The variable of the
solver is one flat vector ``x = [W.ravel(), b]`` (``b`` present only when the design has an
intercept); :class:`FlatProblem` packs it.
"""

import numpy as np

from ._fista import estimate_lipschitz, fista
from .._losses import SquaredLoss
from ..sparsity import L1Ball, L12Ball, L1InfBall
from ..sparsity._base import _inner_norms

__all__ = ["FlatProblem", "SolveResult", "feature_scores", "l1_polisher", "optimality_gap", "solve_working_set"]

_DUAL_INNER = {"l1": "inf", "l2": "l2", "inf": "l1"}


class FlatProblem:
    """``x = [W.ravel(), b] -> Z = A W^T + b`` for a design ``A`` and ``n_out`` outputs."""

    def __init__(self, design, n_out):
        self.design = design
        self.n_out = n_out
        self.n_features = design.n_features
        self.size_w = n_out * self.n_features
        self.size = self.size_w + (n_out if design.intercept else 0)

    def split(self, x):
        """Views ``W`` (n_out, n_features) and ``b`` (n_out,) or None of the flat ``x``."""
        W = x[: self.size_w].reshape(self.n_out, self.n_features)
        b = x[self.size_w :] if self.design.intercept else None
        return W, b

    def matvec(self, x):
        W, b = self.split(x)
        return self.design.matvec(W, b)

    def rmatvec(self, dZ):
        G = np.empty(self.size, dtype=dZ.dtype)
        _, gb = self.design.rmatvec(dZ, out=G[: self.size_w].reshape(self.n_out, self.n_features))
        if gb is not None:
            G[self.size_w :] = gb
        return G

    def restrict(self, mask):
        """The problem on the features of ``mask``."""
        return FlatProblem(self.design.restrict(mask), self.n_out)

    def gather(self, x, mask, full):
        """Sub-variable (restricted to ``mask``) of the variable ``x`` of the problem ``full``."""
        W, b = full.split(x)
        xs = np.empty(self.size, dtype=x.dtype)
        xs[: self.size_w] = W[:, mask].reshape(-1)
        if b is not None:
            xs[self.size_w :] = b
        return xs

    def scatter(self, xs, mask, full):
        """Variable of the problem ``full`` from the sub-variable ``xs`` (zeros outside ``mask``)."""
        x = np.zeros(full.size, dtype=xs.dtype)
        W, b = full.split(x)
        Ws, bs = self.split(xs)
        W[:, mask] = Ws
        if b is not None:
            b[...] = bs
        return x

    def projector(self, constraint):
        """``x -> [P_C(W), b]`` with one call of ``constraint.project``."""

        def project(x):
            W, b = self.split(x)
            out = np.empty_like(x)
            out[: self.size_w] = constraint.project(W).reshape(-1)
            if b is not None:
                out[self.size_w :] = b
            return out

        return project


def feature_scores(constraint, G):
    """Size of each feature's gradient column ``G[:, j]`` in the dual of the constraint's inner norm.

    When the constraint's groups are the features (``axis=0`` on ``W`` of shape (n_outputs,
    n_features)) a feature can enter the solution when this dual norm is large (l_inf for the
    l1 ball, l2 for l1,2, l1 for l1,inf); otherwise, and for one output, ``max_k |G_kj|``.

    Parameters
    ----------
    constraint : skproj.sparsity.Constraint
    G : ndarray of shape (n_outputs, n_features)

    Returns
    -------
    ndarray of shape (n_features,)
    """
    if G.shape[0] == 1:
        return np.abs(G[0])
    if getattr(constraint, "axis", None) == 0:
        return _inner_norms(np.abs(G), _DUAL_INNER[constraint._inner], 0)
    return np.abs(G).max(axis=0)


def l1_polisher(prob, loss, radius, max_drops=50):
    """Active-set step from the current support and signs (squared loss, l1, one target).

    On the support ``S`` with signs ``s`` of the current iterate ``x``, the solution (if ``S``
    and ``s`` are the optimal ones) solves the equality-constrained least-squares problem
    ``min 0.5 ||X_S w - y||^2_D  s.t.  s^T w = radius`` when the ball constraint is active
    (KKT system ``[[Q, s], [s^T, 0]] [w; lam] = [c; radius]`` with ``Q = X_S^T D X_S`` on
    centred columns and ``c = X_S^T D y``), the unconstrained one otherwise. The candidate is
    the point of the segment from ``x`` to that solution ``w*`` that is furthest along it while
    keeping the signs ``s`` (and ``||.||_1 <= radius``): the whole step when ``w*`` has the
    signs ``s``, otherwise the first coordinate to reach zero is dropped and the step is
    repeated on the smaller support (the inner loop of Lawson & Hanson's active-set method for
    non-negative least squares, "Solving Least Squares Problems", 1974, Ch. 23), at most
    ``max_drops`` times per call (each drop costs a dense solve of the support's size). On each face
    ``||.||_1`` is linear, so the candidate is feasible, and the objective, convex along each
    segment and minimal at its end ``w*``, does not increase.

    Parameters
    ----------
    prob : FlatProblem
        With one output and no intercept in the variable.
    loss : skproj._losses.SquaredLoss
    radius : float
    max_drops : int, default=50

    Returns
    -------
    callable
        ``x -> candidate or None`` for the ``polish`` argument of :func:`skproj._solvers._fista.fista`.
    """
    sqrt_w = np.sqrt(loss.w.astype(np.float64))
    wy = sqrt_w[:, 0] * loss.Y[:, 0]

    def polish(x):
        S = np.flatnonzero(x)
        if S.size == 0 or S.size >= prob.design.n_samples:
            return None
        B = sqrt_w * prob.design.columns(S)
        Q = B.T @ B
        c = B.T @ wy
        xS = x[S].astype(np.float64)
        sgn = np.sign(xS)
        active = np.abs(xS).sum() >= radius * (1 - 1e-7)
        cur = xS.copy()
        idx = np.arange(S.size)
        moved = False
        for _ in range(min(S.size + 2, max_drops)):
            Qi, ci, si = Q[np.ix_(idx, idx)], c[idx], sgn[idx]
            try:
                if active:
                    m = idx.size
                    K = np.zeros((m + 1, m + 1))
                    K[:m, :m] = Qi
                    K[:m, m] = si
                    K[m, :m] = si
                    w_opt = np.linalg.solve(K, np.append(ci, radius))[:m]
                else:
                    w_opt = np.linalg.solve(Qi, ci)
            except np.linalg.LinAlgError:
                break
            if not np.all(np.isfinite(w_opt)):
                break
            step = w_opt - cur[idx]
            theta, hit = 1.0, -1
            cross = np.flatnonzero(np.sign(w_opt) != si)
            if cross.size:
                ratios = cur[idx][cross] / (cur[idx][cross] - w_opt[cross])  # where a coordinate hits 0
                i = int(np.argmin(ratios))
                theta, hit = float(ratios[i]), int(idx[cross[i]])
            bound = False
            if not active:
                slope = float(si @ step)
                room = radius - float(np.abs(cur).sum())
                if slope > 0 and room < theta * slope:
                    theta, hit, bound = room / slope, -1, True
            theta = min(max(theta, 0.0), 1.0)
            cur[idx] += theta * step
            moved = moved or theta > 0
            if hit >= 0:
                cur[hit] = 0.0
            cur[idx[np.sign(cur[idx]) != si]] = 0.0
            if bound:
                active = True  # on the sphere now: continue on the face s^T w = radius
            elif hit < 0:
                break
            idx = idx[cur[idx] != 0]
            if idx.size == 0:
                break
        if not moved:
            return None
        newS = cur
        total = np.abs(newS).sum()
        if total > radius:
            newS *= radius / total
        out = np.zeros_like(x)
        out[S] = newS
        return out

    return polish


def _is_l1_ball(constraint, n_out):
    """Whether ``constraint`` on ``W`` of shape (n_out, n_features) is the l1 ball.

    True for :class:`~skproj.sparsity.L1Ball` and, with one output, for the l1,2 and l1,inf
    balls grouped by feature (``axis=0``): each group is then one entry, and both norms are
    ``sum_j |W_0j|``.
    """
    if isinstance(constraint, L1Ball):
        return True
    return n_out == 1 and isinstance(constraint, (L12Ball, L1InfBall)) and constraint.axis == 0


class SolveResult:
    """What :func:`solve_working_set` returns.

    Attributes
    ----------
    x : ndarray
        The solution (flat variable of the problem).
    n_iter : int
        FISTA iterations in all.
    converged : bool
        Whether ``gap <= tol + rounding`` was reached within ``max_iter`` iterations.
    lipschitz : float
        The last step constant of FISTA.
    gap : float
        The optimality certificate of ``x`` relative to the loss at zero (see
        :func:`optimality_gap`); ``inf`` when ``x`` was never checked.
    rounding : float
        The estimated rounding error of ``gap`` at the last check (:func:`_gap_rounding`): a
        fit accepted with ``tol < gap <= tol + rounding`` is optimal only to that resolution.
    """

    def __init__(self, x, n_iter, converged, lipschitz, gap, rounding=0.0):
        self.x, self.n_iter, self.converged, self.lipschitz, self.gap = x, n_iter, converged, lipschitz, gap
        self.rounding = rounding


def optimality_gap(prob, loss, constraint, W, g):
    """Scale-free optimality certificate of a point with gradient ``g`` (absolute, loss units).

    ``constraint.residual(W, G_W)``, the Frank-Wolfe gap ``radius * ||G_W||_* + <G_W, W>``: an
    upper bound on ``f(W, b) - min_V f(V, b)`` over the ball for the convex loss ``f`` (Jaggi,
    "Revisiting Frank-Wolfe", ICML 2013, Sec. 2; for the squared loss it is the duality gap that
    scikit-learn's Lasso tests). With an intercept in the variable, plus
    ``||g_b||^2 / (2 L_b)``, the decrease that one gradient step on the intercept guarantees
    (``L_b = a^2 loss.curvature``, the Lipschitz constant of the intercept's gradient for weights
    that sum to 1, ``a`` the design's ``intercept_scale``: the term is that of ``b`` itself). Both terms are invariant to rescaling the features (the coefficients and the
    radius scale inversely), unlike a projected-gradient step.

    Parameters
    ----------
    prob : FlatProblem
    loss : skproj._losses loss
    constraint : skproj.sparsity.Constraint
    W : ndarray of shape (n_out, n_features)
        A feasible point.
    g : ndarray of shape (prob.size,)
        The gradient of the loss at ``[W, b]``.

    Returns
    -------
    float
    """
    GW, gb = prob.split(g)
    gap = max(constraint.residual(W, GW), 0.0)  # >= 0 up to rounding for a feasible W
    if gb is not None:
        gap += float(np.vdot(gb, gb)) / (2.0 * loss.curvature * prob.design.intercept_scale**2)
    return gap


def _gap_rounding(prob, loss, constraint, f0, dtype):
    """``(W, Z) -> `` an estimate of the rounding error of :func:`optimality_gap` at ``W``.

    The gap's first term is ``radius * ||G||_*``. An entry ``G_j = x_j^T dZ - c_j 1^T dZ`` of
    the computed gradient (implicit centring) sums terms of the size of the uncentred column
    ``x_j``: an error of about ``eps * ||x_j||_w * s``, ``s = sqrt(2 f0)`` the size of the
    per-sample gradient (the targets' scale for the squared loss, about 1 for the logistic
    losses; ``||.||_w`` the weighted l2 norm over samples). The predictions' own rounding,
    about ``eps * z`` with ``z = ||Z||_w + ||(|c| |W|^T)||_2`` (that of ``X W^T`` and
    ``c W^T``), reaches ``G_j`` through the centred column: ``eps * ||x_j - c_j||_w *
    curvature * z``. The estimate is twice ``eps * radius`` times the largest of these over
    ``j`` (the term ``<G, W>`` has the same bound). It matters only in float32 with a radius
    far above the solution's norm, where the gap cannot be resolved below it.
    """
    w = loss.w[:, 0].astype(np.float64)
    design = prob.design
    raw = float(np.max(design.column_norms(w, centred=False), initial=0.0))
    centred = raw if design.offset is None else float(np.max(design.column_norms(w), initial=0.0))
    base = 2.0 * float(np.finfo(dtype).eps) * float(constraint.radius)
    s = raw * np.sqrt(2.0 * max(f0, 0.0))
    abs_offset = None if design.offset is None else np.abs(np.asarray(design.offset, dtype=np.float64))

    def rounding(W, Z):
        z = float(np.sqrt(np.vdot(w, np.einsum("ij,ij->i", Z, Z, dtype=np.float64))))
        if abs_offset is not None:
            z += float(np.linalg.norm(np.abs(W) @ abs_offset))
        return base * (s + centred * loss.curvature * z)

    return rounding


def solve_working_set(prob, loss, constraint, x0, tol, max_iter, verbose=0, name="FISTA", L0=None, min_ws=32):
    """Working-set FISTA for ``min loss(prob x)`` s.t. ``W in C``, stopped by an optimality certificate.

    Outer loop (in the spirit of the working-set solvers Blitz, Johnson & Guestrin, ICML 2015,
    and Celer, Massias et al., ICML 2018): restrict the problem to a set of features (the
    current support plus the outside features with the largest gradient in the dual inner norm,
    :func:`feature_scores`: up to twice the support, and at least the violators of the full
    fixed point, up to doubling the working set), solve it by :func:`skproj._solvers._fista.fista` from
    the current point, then test the full problem with one full gradient: stop when
    :func:`optimality_gap` ``<= tol * f0``, ``f0`` the loss at ``x = 0`` (the loss of zero
    coefficients and intercept: half the weighted variance of the targets for the centred
    squared loss, ``log 2`` or ``log(n_classes)`` for the logistic losses). The test does not
    depend on the scale of the features, as scikit-learn's Lasso's duality gap does not. The
    restricted solves stop on FISTA's relative step (``<= 0.3 * tol`` at first); when a test
    fails and the working set cannot grow, that tolerance is divided by 10. Features are never
    removed from the working set, so it terminates; when it would hold half of the features
    the full problem is solved instead (and the same test is made). With the l1 ball (or a
    ball that equals it, :func:`_is_l1_ball`), one output and the squared loss, FISTA tries the
    active-set step of :func:`l1_polisher`.

    Parameters
    ----------
    prob : FlatProblem
    loss : skproj._losses loss
    constraint : skproj.sparsity.Constraint
        Applied to ``W`` of shape (n_out, n_features).
    x0 : ndarray of shape (prob.size,)
    tol : float
        Relative tolerance of the certificate (see above).
    max_iter : int
        FISTA iterations in all.
    verbose : int, default=0
        1: one line per working-set round (its size and the full problem's optimality test) and
        FISTA's progress every 100 iterations with a summary of each restricted solve; 2 or
        more: every FISTA iteration (and each polishing attempt) as well.
    name : str, default="FISTA"
        Prefix of the progress lines.
    L0 : float, default=None
        Lipschitz estimate of the full problem (power iteration otherwise).
    min_ws : int, default=32
        Smallest working set.

    Returns
    -------
    SolveResult
        ``gap`` is the certificate divided by ``f0``.
    """
    d = prob.n_features
    k = prob.n_out
    x = prob.projector(constraint)(x0)
    f0 = float(loss.value(np.zeros((prob.design.n_samples, k), dtype=x.dtype)))
    scale = f0 if f0 > 0 else 1.0  # f0 = 0: 0 is optimal and its gradient is 0
    rounding = _gap_rounding(prob, loss, constraint, f0, x.dtype)
    ws = np.zeros(d, dtype=bool)
    n_iter = 0
    L = None
    inner_tol = 0.3 * tol
    gap = np.inf
    floor = 0.0
    converged = False
    use_polisher = k == 1 and isinstance(loss, SquaredLoss) and _is_l1_ball(constraint, k)
    while True:
        W, _ = prob.split(x)
        support = np.any(W != 0, axis=0)
        Z = prob.matvec(x)
        _, dZ = loss.value_grad(Z)
        g = prob.rmatvec(dZ)
        violators = None
        if L is not None:
            gap = optimality_gap(prob, loss, constraint, W, g) / scale
            floor = rounding(W, Z) / scale
            if verbose:
                print(f"[{name}] full problem: optimality gap {gap:.3e} (relative; tol {tol:g}, "
                      f"rounding {floor:.1e})")
            if gap <= tol + floor:
                converged = True
                break
            if n_iter >= max_iter:
                break
            x_pg = prob.projector(constraint)(x - g * x.dtype.type(1.0 / L))
            violators = np.any(prob.split(x_pg)[0] != 0, axis=0) & ~ws
        GW, _ = prob.split(g)
        scores = feature_scores(constraint, GW)
        n_before = int(ws.sum())
        ws |= support
        n_viol = int(violators.sum()) if violators is not None else 0
        # Grow to twice the support; with violators of the full fixed point, add at least the
        # best of them (they are the non-working-set features of largest gradient), up to
        # doubling the working set.
        target = max(min_ws, 2 * int(support.sum()))
        n_new = max(target - int(ws.sum()), min(n_viol, max(min_ws, int(ws.sum()))))
        if n_new > 0:
            cand = np.flatnonzero(~ws)
            if cand.size:
                top = cand[np.argsort(-scores[cand], kind="stable")[:n_new]]
                ws[top] = True
        same_ws = int(ws.sum()) == n_before and L is not None
        if same_ws:
            inner_tol *= 0.1  # nothing to add: the restricted solve was not accurate enough
        if 2 * int(ws.sum()) >= d:
            ws[:] = True
        if verbose:
            print(f"[{name}] working set {int(ws.sum())} of {d} features")
        sub = prob if ws.all() else prob.restrict(ws)
        xs0 = sub.gather(x, ws, prob)
        if sub is prob and L0 is not None:
            Ls = L0
        elif same_ws:
            Ls = L  # the same restricted problem: the constant its last solve reached
        else:
            Ls = estimate_lipschitz(sub.matvec, sub.rmatvec, loss.hessp_bound, xs0)
        res = fista(
            xs0,
            matvec=sub.matvec,
            rmatvec=sub.rmatvec,
            loss=loss.value,
            loss_grad=loss.value_grad,
            bregman=loss.bregman,
            project=sub.projector(constraint),
            lipschitz=Ls,
            tol=inner_tol,
            max_iter=max(1, max_iter - n_iter),
            verbose=verbose,
            callback_name=name,
            polish=l1_polisher(sub, loss, constraint.radius) if use_polisher else None,
        )
        n_iter += res.n_iter
        L = res.lipschitz
        x = res.x if sub is prob else sub.scatter(res.x, ws, prob)
    return SolveResult(x=x, n_iter=n_iter, converged=converged, lipschitz=L if L is not None else 0.0, gap=gap,
                       rounding=floor)
