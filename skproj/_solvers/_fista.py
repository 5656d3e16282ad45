"""FISTA with backtracking and adaptive restart for ``min_x loss(A x) + g(x)``.

The one accelerated proximal-gradient solver of skproj, used by the projected linear models
(:mod:`skproj.linear_model`, ``g`` the indicator of a norm ball: a projection) and by spred's
polishing step (``g`` a penalty: a proximal operator). The smooth part is a loss of a linear
predictor ``z = A x`` (``A`` the identity when ``matvec`` is None). Keeping the predictor ``z``
alongside ``x`` means an iteration costs one product with ``A`` (at the new iterate) and one
with ``A^T`` (at the extrapolated point): the predictor of the extrapolated point is the same
linear combination of predictors. The non-smooth part is given as a projection
(a callable ``v -> P_C(v)`` or an object with a ``project`` method, e.g. a
:class:`skproj.sparsity.Constraint`) or as a proximal operator (a callable
``(v, step) -> prox_{step g}(v)`` or an object with ``prox(v, step)`` and ``value``, e.g. a
:class:`skproj.sparsity.Penalty`).

References
----------
A. Beck, M. Teboulle, "A fast iterative shrinkage-thresholding algorithm for linear inverse
problems", SIAM J. Imaging Sci. 2(1), 2009: FISTA with backtracking (Section 4, "FISTA with
backtracking").
B. O'Donoghue, E. Candes, "Adaptive restart for accelerated gradient schemes", Found. Comput.
Math. 15, 2015: function-value restart (Section 3.2, F(x_k) > F(x_{k-1})) and gradient restart
(Section 3.2, ``<y_{k-1} - x_k, x_k - x_{k-1}> > 0`` with the gradient mapping in place of the
gradient, as the paper suggests for composite problems).
"""

import math
from dataclasses import dataclass

import numpy as np

from .._design import power_iteration

__all__ = ["FistaResult", "fista", "estimate_lipschitz", "power_iteration"]


@dataclass
class FistaResult:
    """Output of :func:`fista`.

    Attributes
    ----------
    x : ndarray
        The last iterate (the output of one projection / proximal step).
    n_iter : int
        Number of iterations run (each: one gradient, at least one projection or prox).
    converged : bool
        Whether the stopping criterion was met before ``max_iter``.
    lipschitz : float
        The step-size constant ``L`` reached by backtracking (steps are ``1 / L``).
    residual : float
        ``||x - y||_2`` at the last iteration, where ``x = prox(y - grad f(y) / L)``.
    loss : float
        ``loss(A x)`` at the returned ``x`` (the smooth part).
    objective : float
        ``loss(A x) + g(x)`` (``g = 0`` for a projection or when no value is known).
    """

    x: np.ndarray
    n_iter: int
    converged: bool
    lipschitz: float
    residual: float
    loss: float
    objective: float = math.nan


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
    return power_iteration(lambda u: rmatvec(hessp(matvec(u))), v, n_iter=n_iter, rayleigh=True)


def _nonsmooth(project, prox, penalty):
    """``(step_fn(v, step), value_fn(x) or None, is_projection)`` from the user's arguments."""
    if (project is None) == (prox is None):
        raise ValueError("Give exactly one of project= (a projection) and prox= (a proximal operator).")
    if project is not None:
        fn = project.project if hasattr(project, "project") else project
        return (lambda v, step: fn(v)), None, True
    if hasattr(prox, "prox"):
        obj = prox
        return (lambda v, step: obj.prox(v, step)), (penalty if penalty is not None else obj.value), False
    return prox, penalty, False


def _identity(x):
    return x


def fista(x0, *, loss, loss_grad, lipschitz, matvec=None, rmatvec=None, project=None, prox=None, penalty=None,
          bregman=None, tol=1e-4, max_iter=1000, restart="gradient", backtrack=2.0, stop=None, verbose=0,
          callback_name="FISTA", polish=None, polish_wait=5):
    """Minimise ``F(x) = loss(A x) + g(x)`` by FISTA with backtracking and adaptive restart.

    Parameters
    ----------
    x0 : ndarray
        Starting point, of any shape (projected onto ``C`` before the first iteration when
        ``g`` is a projection; used as it is for a prox). Its dtype is kept.
    loss : callable
        ``z -> loss(z)`` (float).
    loss_grad : callable
        ``z -> (loss(z), d loss / d z)``.
    lipschitz : float
        Initial estimate of the Lipschitz constant of ``grad f``; backtracking multiplies it by
        ``backtrack`` until the sufficient-decrease condition holds, and never decreases it.
    matvec, rmatvec : callable, default=None
        ``x -> z = A x`` and ``dz -> A^T dz`` (shaped like ``x``). None: ``A`` is the identity.
    project : callable or object with a ``project`` method, default=None
        ``v -> P_C(v)``, the Euclidean projection onto a closed convex set ``C`` (new array).
    prox : callable or object with ``prox`` and ``value`` methods, default=None
        ``(v, step) -> argmin_x 0.5 ||x - v||^2 + step g(x)``. Exactly one of ``project`` and
        ``prox`` is given.
    penalty : callable, default=None
        ``x -> g(x)``, for the function restart and the reported objective (taken from a
        ``prox`` object's ``value`` when not given; 0 for a projection).
    bregman : callable, optional
        ``(z_old, z_new, dz_old) -> loss(z_new) - loss(z_old) - <dz_old, z_new - z_old>``
        computed without cancellation (for the squared loss ``0.5 * ||z_new - z_old||^2_H``).
        When ``None`` the difference of loss values is used, with a rounding allowance.
    tol : float, default=1e-4
        Stop when ``||x_{k+1} - y_k||_2 <= tol * max(||x_{k+1}||_2, tiny)`` (unless ``stop``).
        This step test depends on the scale of the problem (the step is ``1 / L``, set by the
        largest curvature): with badly scaled variables it can hold far from the optimum. Give
        ``stop`` for a scale-free test; :func:`skproj._solvers._working_set.solve_working_set`
        uses the step test only for its inner solves and stops on a duality gap.
    max_iter : int, default=1000
    restart : {"gradient", "function", None}, default="gradient"
        Adaptive restart of the momentum (O'Donoghue & Candes 2015): "gradient" when
        ``<y_k - x_{k+1}, x_{k+1} - x_k> > 0`` (the step is kept and the momentum restarts from
        it); "function" when ``F(x_{k+1}) > F(x_k)``: the step is discarded and the next one is
        a plain proximal-gradient step from ``x_k``, which is then accepted whatever its value
        (it descends up to rounding, and accepting it keeps rounding from stalling the loop).
    backtrack : float > 1, default=2.0
    stop : callable, default=None
        ``(x, z) -> bool``, a problem-specific convergence test at each new iterate (e.g. a KKT
        violation below a tolerance); replaces the step test when given.
    verbose : int, default=0
        Print progress every iteration (>= 2) or every 100 iterations (1).
    callback_name : str, default="FISTA"
        Prefix of the progress lines.
    polish : callable, optional
        ``x -> x_candidate or None``: a problem-specific guess of the solution from the current
        iterate (e.g. an equality-constrained least-squares solve on the current support and
        signs). It is tried once the zero pattern of the iterates has stayed the same for
        ``polish_wait`` iterations (the wait doubles after each rejected candidate); a candidate
        is accepted only if it is feasible by construction and ``F(candidate) <= F(x)``, after
        which the momentum restarts from it. The stopping test is unchanged, so a wrong
        candidate can only cost time.
    polish_wait : int, default=5

    Returns
    -------
    FistaResult

    Raises
    ------
    ValueError
        If ``restart`` is not one of the options, or not exactly one of ``project`` and
        ``prox`` is given.

    Notes
    -----
    Stopping criterion. With ``x_{k+1} = prox(y_k - grad f(y_k) / L)`` the vector
    ``G = L (y_k - x_{k+1})`` is the gradient mapping at ``y_k``, and
    ``G + grad f(x_{k+1}) - grad f(y_k)`` belongs to ``grad f(x_{k+1}) + dg(x_{k+1})``, so the
    distance from 0 to the subdifferential of ``f + g`` at the returned point is at most
    ``(L + L_f) ||x_{k+1} - y_k||`` (``L`` the accepted constant, ``L_f`` the Lipschitz constant
    of ``grad f``). The relative test on ``||x_{k+1} - y_k||`` is therefore a relative bound on
    this optimality residual in the units of ``x``. For a projection it also bounds the
    fixed-point residual at the returned point:
    ``||x - P_C(x - grad f(x) / L')|| <= (L + L_f) ||x_{k+1} - y_k|| / L'`` for every ``L' > 0``.
    """
    if restart not in ("gradient", "function", None):
        raise ValueError(f"restart must be 'gradient', 'function' or None, got {restart!r}.")
    step_fn, g_value, is_projection = _nonsmooth(project, prox, penalty)
    matvec = _identity if matvec is None else matvec
    rmatvec = _identity if rmatvec is None else rmatvec
    dtype = x0.dtype
    tiny = float(np.finfo(dtype).tiny)
    eps = float(np.finfo(dtype).eps)
    L = float(lipschitz) if lipschitz > 0 else 1.0
    x = step_fn(x0, 1.0 / L) if is_projection else x0
    z_x = matvec(x)
    need_F = restart == "function"
    f_x = float(loss(z_x))
    F_x = f_x + (g_value(x) if g_value is not None else 0.0)
    y, z_y = x, z_x
    t = 1.0
    restarted = False
    same, wait = 0, max(1, int(polish_wait))
    residual = math.inf
    converged = False
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        f_y, dz = loss_grad(z_y)
        f_y = float(f_y)
        g = rmatvec(dz)
        while True:
            x_new = step_fn(y - g * dtype.type(1.0 / L), 1.0 / L)
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
        if f_new is None and (need_F or verbose):
            f_new = float(loss(z_new))
        F_new = None
        if f_new is not None:
            F_new = f_new + (g_value(x_new) if g_value is not None else 0.0)
        if restart == "function" and F_new > F_x and not restarted:
            y, z_y = x, z_x  # discard the step; a plain proximal-gradient step from x follows
            t, restarted = 1.0, True
            continue
        restarted = False
        xnorm = float(np.linalg.norm(x_new))
        if verbose and (verbose >= 2 or n_iter % 100 == 0):
            print(
                f"[{callback_name}] iter {n_iter:5d}  objective {F_new:.10g}  L {L:.4g}  "
                f"step {residual:.3e}  rel {residual / max(xnorm, tiny):.3e}"
            )
        if (stop(x_new, z_new) if stop is not None else residual <= tol * max(xnorm, tiny)):
            x, z_x, F_x = x_new, z_new, F_new
            converged = True
            break
        if restart == "gradient" and float(np.vdot(d, x_new - x)) < 0.0:  # <y - x_new, x_new - x> > 0
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
                    if F_new is None:
                        F_new = float(loss(z_new)) + (g_value(x_new) if g_value is not None else 0.0)
                    z_c = matvec(cand)
                    F_c = float(loss(z_c)) + (g_value(cand) if g_value is not None else 0.0)
                    if F_c <= F_new:
                        x_new, z_new, F_new = cand, z_c, F_c
                        t = 1.0
                        y, z_y = x_new, z_new
                        accepted = True
                if not accepted:
                    wait *= 2
                if verbose >= 2:
                    print(f"[{callback_name}] polish candidate {'accepted' if accepted else 'rejected'}")
        x, z_x = x_new, z_new
        if F_new is not None:
            F_x = F_new
    if verbose:
        state = "converged" if converged else "stopped (max_iter)"
        print(f"[{callback_name}] {state} after {n_iter} iterations, step {residual:.3e}")
    f_final = float(loss(z_x))
    return FistaResult(
        x=x, n_iter=n_iter, converged=converged, lipschitz=L, residual=residual, loss=f_final,
        objective=f_final + (g_value(x) if g_value is not None else 0.0),
    )
