"""Tests of the one FISTA solver (skproj._solvers._fista) with the losses and the design operator.

Where the problems coincide the solution is compared with scikit-learn: the Lasso (prox of the
l1 norm, and the l1-ball constraint with the radius of the Lasso solution) and the l1-penalised
logistic regression (prox on the coefficients only, unpenalised intercept).
"""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.linear_model import Lasso, LogisticRegression
from sklearn.preprocessing import StandardScaler

from skproj._design import Design, weighted_column_means
from skproj._solvers._fista import fista
from skproj._losses import BinaryLogisticLoss, SquaredLoss
from skproj.projections import project_l1_ball
from skproj.prox import prox_l1


def lasso_problem():
    X, y = load_diabetes(return_X_y=True)
    sw = np.ones(X.shape[0])
    offset = weighted_column_means(X, sw)
    yc = (y - y.mean())[:, None]
    design = Design(X, offset=offset)
    loss = SquaredLoss(yc)
    kw = dict(
        matvec=lambda W: design.matvec(W),
        rmatvec=lambda dZ: design.rmatvec(dZ)[0],
        loss=loss.value,
        loss_grad=loss.value_grad,
        bregman=loss.bregman,
        lipschitz=loss.lipschitz(design),
    )
    return X, y, kw


class _L1:
    """A minimal penalty object (the interface of skproj.sparsity.Penalty used by fista)."""

    def __init__(self, alpha):
        self.alpha = alpha

    def value(self, W):
        return self.alpha * float(np.abs(W).sum())

    def prox(self, W, step=1.0):
        return prox_l1(W, step * self.alpha)


class _L1Ball:
    """A minimal constraint object (the interface of skproj.sparsity.Constraint used by fista)."""

    def __init__(self, radius):
        self.radius = radius

    def project(self, W):
        return project_l1_ball(W, self.radius)


@pytest.mark.parametrize("alpha", [0.1, 1.0])
@pytest.mark.parametrize("restart", ["gradient", "function", None])
@pytest.mark.parametrize("as_object", [False, True])
def test_prox_l1_equals_lasso(alpha, restart, as_object):
    X, y, kw = lasso_problem()
    ref = Lasso(alpha=alpha, tol=1e-14, max_iter=200_000).fit(X, y)
    prox = _L1(alpha) if as_object else (lambda V, step: prox_l1(V, step * alpha))
    res = fista(np.zeros((1, X.shape[1])), prox=prox, tol=1e-12, max_iter=100_000, restart=restart, **kw)
    assert res.converged
    np.testing.assert_allclose(res.x[0], ref.coef_, rtol=0, atol=1e-6 * np.abs(ref.coef_).max())
    np.testing.assert_array_equal(res.x[0] != 0, ref.coef_ != 0)
    if as_object:  # the reported objective includes the penalty
        assert res.objective == pytest.approx(res.loss + alpha * np.abs(res.x).sum(), rel=1e-12)


@pytest.mark.parametrize("as_object", [False, True])
def test_l1_ball_equals_lasso(as_object):
    X, y, kw = lasso_problem()
    ref = Lasso(alpha=0.5, tol=1e-14, max_iter=200_000).fit(X, y)
    radius = np.abs(ref.coef_).sum()
    project = _L1Ball(radius) if as_object else (lambda V: project_l1_ball(V, radius))
    res = fista(np.ones((1, X.shape[1])), project=project, tol=1e-12, max_iter=100_000, **kw)
    assert res.converged
    assert np.abs(res.x).sum() <= radius * (1 + 1e-12)
    np.testing.assert_allclose(res.x[0], ref.coef_, rtol=0, atol=1e-6 * np.abs(ref.coef_).max())


def test_prox_with_unpenalised_intercept_equals_l1_logistic_regression():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)[:, :12]
    C = 0.05
    ref = LogisticRegression(l1_ratio=1.0, C=C, solver="saga", tol=1e-12, max_iter=100_000).fit(X, y)
    n, d = X.shape
    alpha = 1.0 / (C * n)  # (1/n) sum loss + alpha ||w||_1 has the minimisers of C sum loss + ||w||_1
    design = Design(X, intercept=True)
    loss = BinaryLogisticLoss(y)

    def matvec(x):
        return design.matvec(x[None, :d], x[d:])

    def rmatvec(dZ):
        GW, gb = design.rmatvec(dZ)
        return np.concatenate([GW[0], gb])

    def prox(v, step):
        out = v.copy()
        out[:d] = prox_l1(v[:d], step * alpha)
        return out

    res = fista(np.zeros(d + 1), matvec=matvec, rmatvec=rmatvec, loss=loss.value, loss_grad=loss.value_grad,
                prox=prox, penalty=lambda x: alpha * np.abs(x[:d]).sum(), lipschitz=loss.lipschitz(design),
                tol=1e-12, max_iter=100_000, restart="function")
    assert res.converged
    # saga's own accuracy limits this comparison (as in test_linear_model)
    np.testing.assert_allclose(res.x[:d], ref.coef_[0], atol=1e-5 * np.abs(ref.coef_).max())
    np.testing.assert_allclose(res.x[d:], ref.intercept_, atol=1e-5)
    np.testing.assert_array_equal(res.x[:d] != 0, ref.coef_[0] != 0)


def test_stop_callback_kkt():
    """A user-given stopping test (the KKT violation of the Lasso) replaces the step test."""
    X, y, kw = lasso_problem()
    alpha = 0.3
    calls = []

    def kkt(W, Z):
        G = kw["rmatvec"](kw["loss_grad"](Z)[1])
        v = np.where(W != 0, np.abs(G + alpha * np.sign(W)), np.maximum(np.abs(G) - alpha, 0))
        calls.append(1)
        return v.max() / alpha <= 1e-8

    res = fista(np.zeros((1, X.shape[1])), prox=_L1(alpha), stop=kkt, tol=0.0, max_iter=100_000, **kw)
    assert res.converged and len(calls) == res.n_iter
    G = kw["rmatvec"](kw["loss_grad"](kw["matvec"](res.x))[1])
    W = res.x
    v = np.where(W != 0, np.abs(G + alpha * np.sign(W)), np.maximum(np.abs(G) - alpha, 0))
    assert v.max() <= 1e-8 * alpha


def test_identity_operator_and_errors():
    """matvec=None: the loss acts on x itself (prox of a quadratic: closed form)."""
    c = np.array([3.0, -0.2, 0.5, -4.0])

    def loss_grad(x):
        return 0.5 * float((x - c) @ (x - c)), x - c

    res = fista(np.zeros(4), loss=lambda x: loss_grad(x)[0], loss_grad=loss_grad, prox=lambda v, s: prox_l1(v, s),
                lipschitz=1.0, tol=1e-14)
    # argmin 0.5 ||x - c||^2 + ||x||_1 = sign(c) max(|c| - 1, 0) = (2, 0, 0, -3), written out
    # here (not with prox_l1, the function the solver calls)
    expected = np.sign(c) * np.maximum(np.abs(c) - 1.0, 0.0)
    np.testing.assert_array_equal(expected, [2.0, 0.0, 0.0, -3.0])
    np.testing.assert_allclose(res.x, expected, atol=1e-14)
    with pytest.raises(ValueError, match="exactly one"):
        fista(np.zeros(4), loss=np.sum, loss_grad=loss_grad, lipschitz=1.0)
    with pytest.raises(ValueError, match="exactly one"):
        fista(np.zeros(4), loss=np.sum, loss_grad=loss_grad, lipschitz=1.0, project=np.abs, prox=prox_l1)


def test_sparsity_objects_from_skproj_sparsity():
    """The public sparsity objects plug into fista: L1 -> Lasso, GroupLasso over the targets of
    each feature (unit weights) -> MultiTaskLasso, L1Ball -> Lasso in constrained form."""
    from sklearn.linear_model import MultiTaskLasso

    from skproj.sparsity import L1, GroupLasso, L1Ball

    X, y, kw = lasso_problem()
    ref = Lasso(alpha=0.2, tol=1e-14, max_iter=200_000).fit(X, y)
    res = fista(np.zeros((1, X.shape[1])), prox=L1(alpha=0.2), tol=1e-12, max_iter=100_000, **kw)
    np.testing.assert_allclose(res.x[0], ref.coef_, atol=1e-6 * np.abs(ref.coef_).max())
    res = fista(np.zeros((1, X.shape[1])), project=L1Ball(radius=np.abs(ref.coef_).sum()), tol=1e-12,
                max_iter=100_000, **kw)
    np.testing.assert_allclose(res.x[0], ref.coef_, atol=1e-6 * np.abs(ref.coef_).max())

    rng = np.random.RandomState(0)
    Xm = rng.standard_normal((60, 15))
    Ym = Xm[:, :3] @ rng.standard_normal((3, 4)) + 0.1 * rng.standard_normal((60, 4))
    mtl = MultiTaskLasso(alpha=0.3, fit_intercept=False, tol=1e-14, max_iter=200_000).fit(Xm, Ym)
    design = Design(Xm)
    loss = SquaredLoss(Ym)
    pen = GroupLasso(alpha=0.3, axis=0, weights=np.ones(15))  # groups: the columns of coef_ (4, 15)
    res = fista(np.zeros((4, 15)), matvec=design.matvec, rmatvec=lambda dZ: design.rmatvec(dZ)[0],
                loss=loss.value, loss_grad=loss.value_grad, prox=pen, lipschitz=loss.lipschitz(design),
                tol=1e-12, max_iter=100_000, restart="function")
    assert res.converged
    np.testing.assert_allclose(res.x, mtl.coef_, atol=1e-6 * np.abs(mtl.coef_).max())
    np.testing.assert_array_equal(pen.support(res.x), np.any(mtl.coef_ != 0, axis=0))


def test_sparsity_objects_are_validated():
    from skproj.sparsity import L1, L1Ball

    X, y, kw = lasso_problem()
    with pytest.raises(ValueError, match="radius"):
        fista(np.zeros((1, X.shape[1])), project=L1Ball(radius=-1.0), **kw)
    with pytest.raises(ValueError, match="alpha"):
        fista(np.zeros((1, X.shape[1])), prox=L1(alpha=-1.0), **kw)
