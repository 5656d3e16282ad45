"""The order of the examples in the gallery (read by conf.py); unlisted examples go last."""

from pathlib import Path

GALLERY_ORDER = [
    "plot_main_job_pbmc.py",
    "plot_selector_grid_search.py",
    "plot_l1inf_speed.py",
    "plot_projected_path.py",
    "plot_spred_vs_lasso.py",
    "plot_proxadam_group_penalties.py",
    "plot_differentiable_gates.py",
    "plot_sparse_activations.py",
]


def example_rank(filename):
    """Sort key: position in GALLERY_ORDER, then the file name."""
    name = Path(filename).name
    return (GALLERY_ORDER.index(name), name) if name in GALLERY_ORDER else (len(GALLERY_ORDER), name)
