"""Optimisers working in place on lists of numpy arrays (public interface).

* :class:`Adam`: Adam with bias correction (Kingma and Ba, ICLR 2015), with a ``post_step``
  hook for projections or proximal operators.
* :class:`ProxAdam`: Adam's step followed by the weighted proximal operator of a
  :mod:`skproj.sparsity` penalty in Adam's metric (Deleu and Bengio, arXiv:2102.03869, 2021).
* :class:`GroupPenalty`: deprecated; builds :class:`skproj.sparsity.GroupLasso` or
  :class:`skproj.sparsity.GroupMCP`.
"""

from ._optim import Adam
from ._proxadam import GroupPenalty, ProxAdam

__all__ = ["Adam", "GroupPenalty", "ProxAdam"]
