"""Model selection for feature selectors.

:func:`compare_selectors` runs the selection-quality protocol (scaler, selector, downstream
classifier; same folds for every selector) and returns a :class:`SelectionComparison` with
per-fold scores, selected features and their stability, and fit times. The baselines people use
to pick genes (L1-logistic, ANOVA F-test, random forest, Wilcoxon markers) are built by the
``make_*_selector`` factories.
"""

from ._baselines import (
    BASELINE_SELECTORS,
    WilcoxonMarkerSelector,
    make_anova_selector,
    make_baseline_selector,
    make_l1_logistic_selector,
    make_random_forest_selector,
    make_wilcoxon_selector,
    wilcoxon_scores,
)
from ._compare import SelectionComparison, compare_selectors
from ._parallel import dask_backend
from ._plot import plot_comparison

__all__ = [
    "BASELINE_SELECTORS",
    "SelectionComparison",
    "WilcoxonMarkerSelector",
    "compare_selectors",
    "dask_backend",
    "make_anova_selector",
    "make_baseline_selector",
    "make_l1_logistic_selector",
    "make_random_forest_selector",
    "make_wilcoxon_selector",
    "plot_comparison",
    "wilcoxon_scores",
]
