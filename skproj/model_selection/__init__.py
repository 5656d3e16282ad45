"""Model selection for feature selectors: the baselines of the selection-quality protocol."""

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

__all__ = [
    "BASELINE_SELECTORS",
    "WilcoxonMarkerSelector",
    "make_anova_selector",
    "make_baseline_selector",
    "make_l1_logistic_selector",
    "make_random_forest_selector",
    "make_wilcoxon_selector",
    "wilcoxon_scores",
]
