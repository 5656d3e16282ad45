"""Linear models under a norm-ball constraint on the coefficients.

:class:`ProjectedLinearModel` (squared loss) and :class:`ProjectedLinearClassifier` (logistic /
multinomial loss) solve

    min_{W, b}  (1 / S) sum_i s_i loss(y_i, x_i W^T + b)   subject to  ||W|| <= radius

with ``S = sum_i s_i`` (the sample weights; the squared loss is ``0.5 ||.||^2``), by FISTA with
backtracking and adaptive restart (:mod:`skproj._solvers._fista`) on working sets of features
(:mod:`skproj._solvers._working_set`), one projection per step. The ball is a
:class:`skproj.sparsity.Constraint`, given as an object or by name: "l1" (on all entries of
``W``), "l12" or "l1inf" (groups = the coefficients of one feature across targets/classes,
``axis=0`` on ``coef_`` of shape (n_targets, n_features)), so that whole features leave the
model together. The losses are those of :mod:`skproj._losses`, the products with ``X`` those of
:class:`skproj._design.Design`. Both estimators are feature selectors: the support is the set of features with
a non-zero coefficient.

:func:`projected_path` computes the solutions along increasing radii with warm starts, and
:class:`ProjectedLinearModelCV` picks the radius by cross-validation.
"""

from ._path import ProjectedLinearModelCV, projected_path
from ._projected import ProjectedLinearClassifier, ProjectedLinearModel

__all__ = ["ProjectedLinearModel", "ProjectedLinearClassifier", "ProjectedLinearModelCV", "projected_path"]
