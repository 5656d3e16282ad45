"""What the linear estimators share: the support mask, the tags, the constraint, probabilities."""

import numbers
import warnings

import numpy as np
from scipy.special import expit, log_expit, logsumexp, softmax
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import SelectorMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from .._design import constant_columns
from .._validation import fill_doc, store_init_args
from ..sparsity import CONSTRAINT_NAMES, Constraint, make_constraint

#: ``constraint`` parameter: a Constraint object or a name ("l11" accepted, deprecated: it is "l1").
CONSTRAINT_PARAM = [StrOptions(set(CONSTRAINT_NAMES) | {"l11"}, deprecated={"l11"}), Constraint]


def build_constraint(constraint, radius):
    """The constraint on ``coef_`` of shape (n_outputs, n_features).

    A name builds the ball with ``radius`` and the features as groups (``axis=0``); an object
    is cloned and used with its own ``radius`` and ``axis``.
    """
    return make_constraint(constraint, radius=radius, axis=0)


class LinearSelectorMixin(SelectorMixin):
    """Support = features with a non-zero coefficient (for any target / class); sparse input."""

    def _get_support_mask(self):
        check_is_fitted(self, "coef_")
        coef = np.asarray(self.coef_)
        if coef.ndim == 1:
            return coef != 0
        return np.any(coef != 0, axis=0)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


#: Docstring sections of a prediction method up to its return type (``fill_doc`` fragment).
X_SECTION = """
Parameters
----------
X : {array-like, sparse matrix} of shape (n_samples, n_features)

Returns
-------
"""
_PROBA_SECTIONS = X_SECTION + "ndarray of shape (n_samples, n_classes)\n"


def encode_classes(estimator, y):
    """Encode the class labels ``y`` as ``0..n_classes-1`` and set ``estimator.classes_``.

    Parameters
    ----------
    estimator : classifier
        Receives ``classes_`` (sorted unique labels); its class name appears in the error.
    y : ndarray of shape (n_samples,)
        Class labels (validated).

    Returns
    -------
    y_idx : ndarray of shape (n_samples,), dtype int64
        Index of each label in ``classes_``.
    n_classes : int

    Raises
    ------
    ValueError
        If ``y`` is not a classification target or holds fewer than two classes.
    """
    check_classification_targets(y)
    encoder = LabelEncoder()
    y_idx = encoder.fit_transform(y)
    estimator.classes_ = encoder.classes_
    n_classes = len(estimator.classes_)
    if n_classes < 2:
        raise ValueError(
            f"{type(estimator).__name__} needs samples of at least 2 classes in the data, but the "
            f"data contains only one class: {np.asarray(estimator.classes_[0]).item()!r}."
        )
    return y_idx, n_classes


class ProbabilityMixin:
    """``predict_proba`` / ``predict_log_proba`` from a linear ``decision_function``.

    A 1-D decision function (two classes) gives the logistic probabilities
    ``[1 - expit(s), expit(s)]``, a 2-D one the softmax over classes.
    """

    @fill_doc(proba_sections=_PROBA_SECTIONS)
    def predict_proba(self, X):
        """Class probabilities (logistic / softmax of the decision function).

        {proba_sections}
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            p1 = expit(scores)
            return np.column_stack([1 - p1, p1])
        return softmax(scores, axis=1)

    @fill_doc(proba_sections=_PROBA_SECTIONS)
    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba` (computed stably).

        {proba_sections}
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return np.column_stack([log_expit(-scores), log_expit(scores)])
        return scores - logsumexp(scores, axis=1, keepdims=True)


class ProjectedLinearBase(LinearSelectorMixin):
    """Parameters, validation and convergence report of the projected linear models."""

    _parameter_constraints = {
        "radius": [Interval(numbers.Real, 0, None, closed="left")],
        "constraint": CONSTRAINT_PARAM,
        "fit_intercept": ["boolean"],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
    }

    def __init__(
        self, radius=1.0, *, constraint="l1", fit_intercept=True, tol=1e-4, max_iter=1000, warm_start=False, verbose=0
    ):
        store_init_args(self, locals())

    def _constraint(self):
        return build_constraint(self.constraint, self.radius)

    def _warm_coef(self, shape, dtype):
        """The previous ``coef_`` as an array of ``shape`` (n_outputs, n_features) when
        warm-starting from a fit of that shape (same outputs, same features; ``intercept_`` one
        per output), else None: a cold start, as scikit-learn's estimators do."""
        if self.warm_start and hasattr(self, "coef_"):
            prev = np.asarray(self.coef_, dtype=dtype)
            if prev.reshape(-1, prev.shape[-1]).shape == tuple(shape) and np.size(self.intercept_) == shape[0]:
                return prev.reshape(shape)
        return None

    #: an accepted gap above tol (within the rounding allowance) beyond this fraction of the loss
    #: at zero is reported: the fit may be that far from optimal
    _UNRESOLVED_GAP = 1e-2

    def _without_constant_features(self, W, X, sample_weight):
        """``W`` (n_outputs, n_features), modified in place, with a zero coefficient for each
        constant feature when an intercept is fitted: such a feature carries nothing, and the
        solver leaves it a rounding-level (or, where the radius does not bind, arbitrary) value."""
        if self.fit_intercept:
            W[:, constant_columns(X, sample_weight)] = 0
        return W

    def _warn_not_converged(self, res):
        if not res.converged:
            warnings.warn(
                f"{type(self).__name__} did not converge in max_iter={self.max_iter} iterations "
                f"(relative optimality gap {res.gap:.3e} > tol={self.tol}). Increase max_iter or tol.",
                ConvergenceWarning,
                stacklevel=4,  # _warn_not_converged, fit, sklearn's fit wrapper, the caller
            )
        elif res.gap > max(self.tol, self._UNRESOLVED_GAP):
            warnings.warn(
                f"{type(self).__name__} stopped at a relative optimality gap of {res.gap:.3e} > "
                f"tol={self.tol}: its rounding error (about {res.rounding:.1e}, float32 with "
                "uncentred or badly scaled features, or a radius far above the solution's norm) "
                "does not allow a smaller certificate, so the fit may be that far from optimal. "
                "Centre and scale the features (e.g. StandardScaler) or fit float64 data.",
                ConvergenceWarning,
                stacklevel=4,  # _warn_not_converged, fit, sklearn's fit wrapper, the caller
            )
