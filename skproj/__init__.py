"""skproj: exact projections and proximal operators for structured sparsity, with scikit-learn estimators.

The operators live in :mod:`skproj.projections` and :mod:`skproj.prox`; they are re-exported here.
"""

from .projections import (
    l12_norm,
    project_l1_ball,
    project_l11_ball,
    project_l12_ball,
    project_simplex,
)
from .spred import SpredClassifier, SpredRegressor

__version__ = "0.1.0.dev0"

__all__ = [
    "l12_norm",
    "project_l1_ball",
    "project_l11_ball",
    "project_l12_ball",
    "project_simplex",
    "SpredClassifier",
    "SpredRegressor",
]
