"""
================================================================
Regularisation path of a projected linear model
================================================================

:func:`~skproj.linear_model.projected_path` solves least squares under an l1-ball constraint
:math:`\\|w\\|_1 \\le C` for a grid of radii :math:`C`, each fit warm-started from the previous
one. Every Lasso solution is the solution of a constrained problem whose radius is its own l1
norm, so this path is the Lasso path parametrised by the radius instead of the penalty: the
markers are scikit-learn's :func:`~sklearn.linear_model.lasso_path` plotted at the l1 norm of
its coefficients, and they lie on the curves.

The data are scikit-learn's diabetes data set (442 patients, 10 standardised features).
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import lasso_path

from skproj.linear_model import projected_path

data = load_diabetes()
X, y = data.data, data.target
Xc, yc = X - X.mean(axis=0), y - y.mean()  # lasso_path fits no intercept

w_ols = np.linalg.lstsq(Xc, yc, rcond=None)[0]
radii = np.linspace(0, np.abs(w_ols).sum(), 60)
radii, coefs, intercepts, n_iter = projected_path(X, y, radii, constraint="l1", tol=1e-8)
print(f"{radii.size} radii from 0 to ||w_ols||_1 = {radii[-1]:.0f}, {n_iter.sum()} FISTA iterations in all")

alphas, lasso_coefs, _ = lasso_path(Xc, yc, alphas=15, tol=1e-10)
lasso_l1 = np.abs(lasso_coefs).sum(axis=0)

# the constrained fit at the radius of a Lasso solution reproduces that solution
_, c_check, _, _ = projected_path(X, y, [lasso_l1[7]], constraint="l1", tol=1e-10)
print(f"alpha = {alphas[7]:.3g}: max |projected - Lasso| = {np.abs(c_check[:, 0] - lasso_coefs[:, 7]).max():.1e}")

# %%
# The path
# --------

fig, ax = plt.subplots(figsize=(8, 5))
for j, name in enumerate(data.feature_names):
    (line,) = ax.plot(radii, coefs[j], label=name)
    ax.plot(lasso_l1, lasso_coefs[j], "o", ms=4, color=line.get_color())
ax.axhline(0, color="k", lw=0.6)
ax.set(xlabel="radius C of the l1 ball", ylabel="coefficient",
       title="projected_path (lines) and lasso_path at ||w||_1 (dots), diabetes data")
ax.legend(ncol=2, fontsize=8, loc="upper left")
ax.grid(alpha=0.3)
fig.tight_layout()
plt.show()
