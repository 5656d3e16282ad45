"""A figure of a :class:`~skproj.model_selection.SelectionComparison` (needs matplotlib)."""

import numpy as np

__all__ = ["plot_comparison"]


def plot_comparison(result, *, selector=None, versus=None, top=15, title=None):
    """Figure: stability of the top features, and cross-validated accuracy of every selector.

    Left panel: selection frequency across the folds of the ``top`` features of ``selector``
    (its :meth:`~SelectionComparison.ranking`), beside their frequency for ``versus``. Right
    panel: mean +/- std downstream test accuracy of each selector, with the fold values and the
    mean number of selected features.

    Parameters
    ----------
    result : SelectionComparison
        The output of :func:`compare_selectors`.
    selector : str or None, default=None
        Selector whose top features are shown; default the first one.
    versus : str or None, default=None
        Selector compared with it on the left; default the most accurate other selector
        (``"all_features"`` excluded). None shown if there is no other.
    top : int, default=15
        Number of features on the left.
    title : str or None, default=None
        Title of the figure.

    Returns
    -------
    fig : matplotlib.figure.Figure
        A figure not attached to pyplot (save it with ``fig.savefig``).

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    """
    from matplotlib.figure import Figure

    names = result.selector_names
    selector = names[0] if selector is None else selector
    others = [n for n in names if n not in (selector, "all_features")]
    if versus is None and others:
        versus = max(others, key=lambda n: result.scores[n].mean())
    idx = result.ranking(selector)[:top]
    fig = Figure(figsize=(12, max(4.0, 0.28 * len(idx) + 1.5)), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2, width_ratios=[1.1, 1])
    pos = np.arange(len(idx))
    shown = [selector] + ([versus] if versus else [])
    for i, name in enumerate(shown):
        ax1.barh(pos + (0.4 * i - 0.2 * (len(shown) - 1)), result.selection_frequency(name)[idx],
                 height=0.4, label=name)
    ax1.set_yticks(pos, list(result.feature_names[idx]))
    ax1.invert_yaxis()
    ax1.set_xlim(0, 1.05)
    ax1.set_xlabel(f"selection frequency across {result.n_splits} folds")
    ax1.set_title(f"Top features of {selector} (stability)")
    ax1.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize="small")
    for i, name in enumerate(names):
        folds = result.scores[name]
        ax2.errorbar(i, folds.mean(), yerr=folds.std(), fmt="o", capsize=4, color=f"C{i}")
        ax2.scatter(np.full(folds.size, i) + 0.12, folds, s=10, color=f"C{i}", alpha=0.5)
        ax2.annotate(f"{result.n_selected(name).mean():.0f} feat.", (i, folds.mean()),
                     textcoords="offset points", xytext=(8, -3), fontsize="small")
    ax2.set_xticks(range(len(names)), [n.replace("_", "\n") for n in names], fontsize="small")
    ax2.set_xlim(-0.5, len(names) - 0.3)
    ax2.set_ylabel("downstream test accuracy (mean +/- std over folds)")
    ax2.set_title("Cross-validated accuracy")
    if title:
        fig.suptitle(title, fontsize="medium")
    return fig
