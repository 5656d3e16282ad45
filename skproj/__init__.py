"""skproj: exact projections and proximal operators for structured sparsity, with scikit-learn estimators.

The operators live in :mod:`skproj.projections` and :mod:`skproj.prox`; they are re-exported here
with the estimators. The sparsity objects (balls and penalties) are in :mod:`skproj.sparsity`, the
optimisers in :mod:`skproj.optim`, the sparsity-inducing activations in :mod:`skproj.activations`
(their names remain importable from ``skproj`` for compatibility, but are no longer in ``__all__``).
"""

from .activations import (
    chi1,
    clipped_relu,
    clipped_relu_derivative,
    clipped_soft_threshold,
    clipped_soft_threshold_derivative,
    edge_of_chaos,
    get_activation,
    init_layer,
    max_stable_clip,
    shifted_relu,
    shifted_relu_derivative,
    soft_threshold,
    soft_threshold_derivative,
    variance_map,
    variance_map_slope,
    zero_fraction,
)
from .projections import (
    l1inf_norm,
    l12_norm,
    project_l1_ball,
    project_l11_ball,
    project_l12_ball,
    project_l1inf_ball,
    project_simplex,
)
from .prox import (
    prox_group_l2,
    prox_l1,
    prox_l1inf,
    weighted_prox_group_l2,
    weighted_prox_group_mcp,
)
from .linear_model import ProjectedLinearClassifier, ProjectedLinearModel, ProjectedLinearModelCV, projected_path
from ._selector import SparseAutoencoderSelector
from .spred import SpredClassifier, SpredRegressor
from . import sparsity

__version__ = "0.1.0.dev0"

__all__ = [
    "l12_norm",
    "project_l1_ball",
    "project_l11_ball",
    "project_l12_ball",
    "project_simplex",
    "project_l1inf_ball",
    "l1inf_norm",
    "prox_group_l2",
    "prox_l1",
    "prox_l1inf",
    "weighted_prox_group_l2",
    "weighted_prox_group_mcp",
    "SparseAutoencoderSelector",
    "ProjectedLinearModel",
    "ProjectedLinearClassifier",
    "ProjectedLinearModelCV",
    "projected_path",
    "SpredClassifier",
    "SpredRegressor",
]
