"""FISTA with backtracking and adaptive restart for ``min_{x in C} loss(A x)``.

A small solver used by the projected linear models (:mod:`skproj.linear_model`). The problem
is a smooth loss of a linear predictor ``z = A x`` under a constraint set ``C`` given by its
Euclidean projection. Keeping the predictor ``z`` alongside ``x`` means an iteration costs one
product with ``A`` (at the new iterate) and one with ``A^T`` (at the extrapolated point): the
predictor of the extrapolated point is the same linear combination of predictors.

References
----------
A. Beck, M. Teboulle, "A fast iterative shrinkage-thresholding algorithm for linear inverse
problems", SIAM J. Imaging Sci. 2(1), 2009: FISTA with backtracking (Section 4, "FISTA with
backtracking").
B. O'Donoghue, E. Candes, "Adaptive restart for accelerated gradient schemes", Found. Comput.
Math. 15, 2015: function-value restart (Section 3.2, f(x_k) > f(x_{k-1})) and gradient restart
(Section 3.2, ``<y_{k-1} - x_k, x_k - x_{k-1}> > 0`` with the gradient mapping in place of the
gradient, as the paper suggests for composite problems).
"""

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["FistaResult", "fista", "estimate_lipschitz"]


@dataclass
class FistaResult:
    """Output of :func:`fista`.

    Attributes
    ----------
    x : ndarray
        The last iterate (feasible: the output of one projection).
    n_iter : int
        Number of iterations run (each: one gradient, at least one projection).
    converged : bool
        Whether the stopping criterion was met before ``max_iter``.
    lipschitz : float
        The step-size constant ``L`` reached by backtracking (steps are ``1 / L``).
    residual : float
        ``||x - y||_2`` at the last iteration, where ``x = P_C(y - grad f(y) / L)``.
    loss : float
        ``loss(A x)`` at the returned ``x``.
    """

    x: np.ndarray
    n_iter: int
    converged: bool
    lipschitz: float
    residual: float
    loss: float


def estimate_lipschitz(matvec, rmatvec, hessp, x_like, n_iter=30, seed=0):
    """Estimate the largest eigenvalue of ``A^T H A`` by power iteration.

    Parameters
    ----------
    matvec, rmatvec : callables
        ``x -> A x`` and ``z -> A^T z``.
    hessp : callable
        ``v -> H v`` for the (bound on the) Hessian ``H`` of the loss in predictor space.
    x_like : ndarray
        An array with the shape and dtype of ``x``.
    n_iter : int, default=30
        Number of power iterations.
    seed : int, default=0
        Seed of the (deterministic) start vector.

    Returns
    -------
    float
        A Rayleigh quotient, a lower bound of the largest eigenvalue (backtracking corrects it).
    """
    rng = np.random.RandomState(seed)
    v = rng.standard_normal(x_like.shape).astype(x_like.dtype, copy=False)
    norm = float(np.linalg.norm(v))
    lam = 0.0
    for _ in range(n_iter):
        if norm == 0.0:
            return 0.0
        v = v / norm
        w = rmatvec(hessp(matvec(v)))
        lam = float(np.vdot(v, w))
        norm = float(np.linalg.norm(w))
        v = w
    return max(lam, 0.0)


def fista(
    x0,
    *,
    matvec,
    rmatvec,
    loss,
    loss_grad,
    project,
    lipschitz,
    bregman=None,
    tol=1e-4,
    max_iter=1000,
    restart="gradient",
    backtrack=2.0,
    verbose=0,
    callback_name="FISTA",
    polish=None,
    polish_wait=5,
):
    """Minimise ``f(x) = loss(A x)`` over a closed convex set ``C`` by FISTA.

    Parameters
    ----------
    x0 : ndarray
        Starting point (projected onto ``C`` before the first iteration). Its dtype is kept.
    matvec : callable
        ``x -> z = A x``.
    rmatvec : callable
        ``dz -> A^T dz`` (returns an array shaped like ``x``).
    loss : callable
        ``z -> loss(z)`` (float).
    loss_grad : callable
        ``z -> (loss(z), d loss / d z)``.
    project : callable
        ``v -> P_C(v)``, the Euclidean projection onto ``C`` (returns a new array).
    lipschitz : float
        Initial estimate of the Lipschitz constant of ``grad f``; backtracking multiplies it by
        ``backtrack`` until the sufficient-decrease condition holds, and never decreases it.
    bregman : callable, optional
        ``(z_old, z_new, dz_old) -> loss(z_new) - loss(z_old) - <dz_old, z_new - z_old>``
        computed without cancellation (for the squared loss ``0.5 * ||z_new - z_old||^2_H``).
        When ``None`` the difference of loss values is used, with a rounding allowance.
    tol : float, default=1e-4
        Stop when ``||x_{k+1} - y_k||_2 <= tol * max(||x_{k+1}||_2, tiny)``.
    max_iter : int, default=1000
    restart : {"gradient", "function", None}, default="gradient"
        Adaptive restart of the momentum (O'Donoghue & Candes 2015): "gradient" when
        ``<y_k - x_{k+1}, x_{k+1} - x_k> > 0``, "function" when ``f(x_{k+1}) > f(x_k)``.
    backtrack : float > 1, default=2.0
    verbose : int, default=0
        Print progress every iteration (>= 2) or every 100 iterations (1).
    callback_name : str, default="FISTA"
        Prefix of the progress lines.
    polish : callable, optional
        ``x -> x_candidate or None``: a problem-specific guess of the solution from the current
        iterate (e.g. an equality-constrained least-squares solve on the current support and
        signs). It is tried once the zero pattern of the iterates has stayed the same for
        ``polish_wait`` iterations (the wait doubles after each rejected candidate); a candidate
        is accepted only if it is feasible by construction and ``f(candidate) <= f(x)``, after
        which the momentum restarts from it. The stopping test is unchanged, so a wrong
        candidate can only cost time.
    polish_wait : int, default=5

    Returns
    -------
    FistaResult

    Notes
    -----
    Stopping criterion. With ``x_{k+1} = P_C(y_k - grad f(y_k) / L)`` the vector
    ``G = L (y_k - x_{k+1})`` is the gradient mapping at ``y_k``, and
    ``G + grad f(x_{k+1}) - grad f(y_k)`` belongs to ``grad f(x_{k+1}) + N_C(x_{k+1})``, so the
    distance from 0 to the subdifferential of ``f + i_C`` at the returned point is at most
    ``(L + L_f) ||x_{k+1} - y_k||`` (``L`` the accepted constant, ``L_f`` the Lipschitz constant
    of ``grad f``). The relative test on ``||x_{k+1} - y_k||`` is therefore a relative bound on
    this optimality residual in the units of ``x``. It also bounds the fixed-point residual at
    the returned point: ``||x - P_C(x - grad f(x) / L')|| <= (L + L_f) ||x_{k+1} - y_k|| / L'``
    for every ``L' > 0``.
    """
    if restart not in ("gradient", "function", None):
        raise ValueError(f"restart must be 'gradient', 'function' or None, got {restart!r}.")
    dtype = x0.dtype
    tiny = float(np.finfo(dtype).tiny)
    eps = float(np.finfo(dtype).eps)
    L = float(lipschitz) if lipschitz > 0 else 1.0
    x = project(x0)
    z_x = matvec(x)
    f_x = float(loss(z_x))
    y, z_y = x, z_x
    t = 1.0
    same, wait = 0, max(1, int(polish_wait))
    residual = math.inf
    converged = False
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        f_y, dz = loss_grad(z_y)
        f_y = float(f_y)
        g = rmatvec(dz)
        while True:
            x_new = project(y - g * dtype.type(1.0 / L))
            d = x_new - y
            dd = float(np.vdot(d, d))
            z_new = matvec(x_new)
            if bregman is not None:
                excess = float(bregman(z_y, z_new, dz))
                f_new = None
                ok = excess <= 0.5 * L * dd * (1 + 1e3 * eps)
            else:
                f_new = float(loss(z_new))
                excess = f_new - f_y - float(np.vdot(dz, z_new - z_y))
                ok = excess <= 0.5 * L * dd + 10 * eps * (abs(f_new) + abs(f_y))
            if ok or dd == 0.0:
                break
            L *= backtrack
        residual = math.sqrt(dd)
        xnorm = float(np.linalg.norm(x_new))
        if restart == "function" or verbose:
            if f_new is None:
                f_new = float(loss(z_new))
        if verbose and (verbose >= 2 or n_iter % 100 == 0):
            print(
                f"[{callback_name}] iter {n_iter:5d}  loss {f_new:.10g}  L {L:.4g}  "
                f"step {residual:.3e}  rel {residual / max(xnorm, tiny):.3e}"
            )
        if residual <= tol * max(xnorm, tiny):
            x, z_x = x_new, z_new
            converged = True
            break
        if restart == "gradient":
            do_restart = float(np.vdot(d, x_new - x)) < 0.0  # <y - x_new, x_new - x> > 0
        elif restart == "function":
            do_restart = f_new > f_x
        else:
            do_restart = False
        if do_restart:
            t = 1.0
            y, z_y = x_new, z_new
        else:
            t_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
            beta = dtype.type((t - 1.0) / t_new)
            y = x_new + beta * (x_new - x)
            z_y = z_new + beta * (z_new - z_x)
            t = t_new
        if polish is not None:
            same = same + 1 if np.array_equal(x_new != 0, x != 0) else 0
            if same >= wait:
                same = 0
                cand = polish(x_new)
                accepted = False
                if cand is not None:
                    z_c = matvec(cand)
                    f_c = float(loss(z_c))
                    if f_new is None:
                        f_new = float(loss(z_new))
                    if f_c <= f_new:
                        x_new, z_new, f_new = cand, z_c, f_c
                        t = 1.0
                        y, z_y = x_new, z_new
                        accepted = True
                if not accepted:
                    wait *= 2
                if verbose >= 2:
                    print(f"[{callback_name}] polish candidate {'accepted' if accepted else 'rejected'}")
        x, z_x = x_new, z_new
        if f_new is not None:
            f_x = f_new
    if verbose:
        state = "converged" if converged else "stopped (max_iter)"
        print(f"[{callback_name}] {state} after {n_iter} iterations, step {residual:.3e}")
    return FistaResult(
        x=x, n_iter=n_iter, converged=converged, lipschitz=L, residual=residual, loss=float(loss(z_x))
    )
