"""The threaded kernels (OpenMP) give the same results on 1 and 2 threads, and stay optimal.

The inputs are above the kernels' size threshold (200,000 entries), so with 2 threads allowed
the parallel code paths run (when the build has OpenMP; without it both runs are serial and
the tests still check the optimality conditions). Thread counts are set with threadpoolctl,
the way users limit them.
"""

import importlib.util
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from skproj import l1inf_norm, l12_norm, project_l12_ball, project_l1inf_ball
from skproj._kernels._l1inf import openmp_info
from skproj.prox import prox_group_l2, prox_l1inf, weighted_prox_group_l2, weighted_prox_group_mcp



def _sibling(name):
    """A sibling test module (pytest runs with --import-mode=importlib: no sys.path entry)."""
    path = pathlib.Path(__file__).with_name(name + ".py")
    spec = importlib.util.spec_from_file_location("_skproj_tests_" + name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


check_optimality = _sibling("test_l1inf").check_optimality
_test_prox = _sibling("test_prox")
check_weighted_optimality = _test_prox.check_weighted_optimality
l1inf_prox_moreau = _test_prox.l1inf_prox_moreau


def on_threads(n, fn):
    with threadpool_limits(limits=n, user_api="openmp"):
        return fn()


def matrix(shape, dist, dtype, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, shape) if dist == "uniform" else np.abs(rng.standard_normal(shape))
    X *= rng.choice([-1.0, 1.0], shape)
    return X.astype(dtype)


def test_thread_count_follows_threadpoolctl_and_omp_num_threads(tmp_path):
    have_openmp, _ = openmp_info()
    with threadpool_limits(limits=1, user_api="openmp"):
        assert openmp_info() == (have_openmp, 1)
    with threadpool_limits(limits=2, user_api="openmp"):
        assert openmp_info() == (have_openmp, 2 if have_openmp else 1)
    if have_openmp:
        # threadpoolctl finds the OpenMP runtime the kernels link
        assert "openmp" in {info["user_api"] for info in threadpool_info()}
    code = "from skproj._kernels._l1inf import openmp_info; print(openmp_info()[1])"
    env = dict(os.environ, OMP_NUM_THREADS="3")
    # run outside the source tree, whose skproj/ (no compiled kernels) would shadow the installed one
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                         cwd=tmp_path)
    assert int(out.stdout) == (3 if have_openmp else 1)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape, dist", [((400, 1000), "uniform"), ((5000, 64), "gauss"), ((40, 9000), "uniform")])
@pytest.mark.parametrize("frac", [1e-4, 1e-2, 0.1, 0.5])
def test_l1inf_ball_same_on_1_and_2_threads(shape, dist, dtype, frac):
    X = matrix(shape, dist, dtype)
    radius = frac * l1inf_norm(X)
    P1 = on_threads(1, lambda: project_l1inf_ball(X, radius))
    P2 = on_threads(2, lambda: project_l1inf_ball(X, radius))
    assert P1.dtype == P2.dtype == dtype
    # every sum over groups is added in a fixed chunk order: identical, not only close
    np.testing.assert_array_equal(P1, P2)
    if dtype == np.float64:
        check_optimality(X, P2, radius)
    else:
        # float32 output: levels rounded to float32; compare with the optimal float64 projection
        X64 = X.astype(np.float64)
        P64 = on_threads(2, lambda: project_l1inf_ball(X64, radius))
        check_optimality(X64, P64, radius)
        np.testing.assert_allclose(P2, P64, rtol=1e-5, atol=1e-5 * np.abs(X64).max())
        assert l1inf_norm(P2) <= radius * (1 + 1e-5)
    # axis=0 goes through the same kernel on the transpose
    P0 = on_threads(2, lambda: project_l1inf_ball(X.T, radius, axis=0))
    np.testing.assert_array_equal(P0, P1.T)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("frac", [1e-3, 0.3])
def test_l12_ball_same_on_1_and_2_threads(dtype, frac):
    X = matrix((500, 600), "gauss", dtype, seed=1)
    radius = frac * l12_norm(X)
    P1 = on_threads(1, lambda: project_l12_ball(X, radius))
    P2 = on_threads(2, lambda: project_l12_ball(X, radius))
    np.testing.assert_array_equal(P1, P2)
    # optimality: ||P||_{1,2} = radius and every surviving row is X_g scaled by 1 - tau / ||X_g||
    norms_x = np.linalg.norm(X.astype(float), axis=1)
    norms_p = np.linalg.norm(P2.astype(float), axis=1)
    rtol = 1e-9 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(norms_p.sum(), radius, rtol=rtol)
    alive = norms_p > 0
    tau = norms_x[alive] - norms_p[alive]
    np.testing.assert_allclose(tau, tau.mean(), rtol=rtol * 10, atol=rtol * norms_x.max())
    assert np.all(norms_x[~alive] <= tau.mean() * (1 + rtol))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_group_proxes_same_on_1_and_2_threads(dtype):
    X = matrix((600, 500), "gauss", dtype, seed=2)
    norms = np.linalg.norm(X.astype(float), axis=1)
    c = float(np.median(norms))
    G1 = on_threads(1, lambda: prox_group_l2(X, c))
    G2 = on_threads(2, lambda: prox_group_l2(X, c))
    np.testing.assert_array_equal(G1, G2)
    assert 0 < np.mean(np.abs(G2).max(axis=1) == 0) < 1
    rtol = 1e-9 if dtype == np.float64 else 1e-5
    # closed form: row g is (1 - c / ||x_g||)_+ x_g
    ref = np.maximum(1.0 - c / norms, 0.0)[:, None] * X.astype(float)
    np.testing.assert_allclose(G2, ref, rtol=rtol, atol=rtol * np.abs(X).max())
    c_inf = float(np.median(np.abs(X.astype(float)).sum(axis=1)))
    L1 = on_threads(1, lambda: prox_l1inf(X, c_inf))
    L2 = on_threads(2, lambda: prox_l1inf(X, c_inf))
    np.testing.assert_array_equal(L1, L2)
    ref = l1inf_prox_moreau(X.astype(float), c_inf)
    np.testing.assert_allclose(L2, ref, rtol=rtol, atol=rtol * np.abs(X).max())


@pytest.mark.parametrize("penalty", ["l2", "mcp"])
def test_weighted_group_prox_same_on_1_and_2_threads(penalty):
    rng = np.random.default_rng(3)
    Z = rng.standard_normal((2000, 64))
    D = rng.uniform(0.5, 2.0, Z.shape)
    c = np.median(np.linalg.norm(D * Z, axis=1)) * rng.uniform(0.5, 1.5, Z.shape[0])
    if penalty == "l2":
        fn = lambda: weighted_prox_group_l2(Z, D, c)  # noqa: E731
        gamma = np.inf
    else:
        gamma = 4.0
        fn = lambda: weighted_prox_group_mcp(Z, D, c, gamma)  # noqa: E731
    X1 = on_threads(1, fn)
    X2 = on_threads(2, fn)
    np.testing.assert_array_equal(X1, X2)
    zeroed = np.mean(np.abs(X2).max(axis=1) == 0)
    assert 0 < zeroed < 1
    check_weighted_optimality(Z, D, c, X2, 1, gamma=gamma)
