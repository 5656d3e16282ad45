"""Model selection for feature selectors: the cross-validated comparison behind ``skproj select``.

:func:`compare_selectors` runs one protocol (scaler, selector, downstream classifier; same folds
for every selector) and returns a :class:`SelectionComparison` with per-fold scores, selected
features and their stability, and fit times.
"""

from ._compare import SelectionComparison, compare_selectors

__all__ = ["SelectionComparison", "compare_selectors"]
