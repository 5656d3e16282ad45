"""Feature selection with a supervised autoencoder whose first layer is projected onto a norm ball.

Implements the method of Perez, Condat and Barlaud, "Near-linear time projection onto the
l1,infty ball; application to sparse autoencoders" (arXiv 2307.09836): a supervised
autoencoder (the latent code is the class logits) trained with Adam, the first-layer weight
matrix ``W1`` (one row per input feature) projected onto an l1,inf (or l1,1 / l1,2) ball after
every optimiser step, so that whole rows (features) become exactly zero; then "double
descent": the surviving features are frozen as the support and the network is retrained
with the other rows held at zero.

The hidden layers can use the clipped sparsity-inducing activations of
:mod:`skproj.activations` (Price et al., ICLR 2024, arXiv 2402.16184), initialised at the edge of
chaos for a target fraction of zero activations.
"""

import time
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context, clone
from sklearn.feature_selection import SelectorMixin
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from . import activations as _activations
from ._gates import DifferentiableGates
from ._network import ACTIVATION_NAMES, forward, hidden_zero_fraction, init_edge_of_chaos, init_params
from ._optim import Adam
from ._proxadam import ProxAdam
from ._training import (BallStep, GateStep, TargetBallStep, Trainer, auto_batch_size, blas_threads, column_means,
                        column_ptp, gradient_row_norms, mean_variance, row_blocks, uncentred,
                        validation_split)
from ._validation import canonical_csr, fill_doc, n_from_fraction, store_init_args
from .linear_model._base import X_SECTION as _X_SECTION
from .linear_model._base import ProbabilityMixin
from .sparsity import (
    CONSTRAINT_NAMES, PENALTY_NAMES, L1, Constraint, L1Inf, L1InfBall, Penalty, make_constraint, make_penalty,
)

__all__ = ["SparseAutoencoderSelector"]


# Clipped activations of skproj.activations, initialised by skproj.activations.edge_of_chaos.
_SPARSE_ACTIVATIONS = ("clipped_relu", "clipped_soft_threshold")
# Fixed-point variance of the hidden pre-activations (tau and the clip are in its units).
_Q_STAR = 1.0
# Penalties by name: the group penalties of skproj.sparsity, or the differentiable gates.
_PENALTIES = tuple(PENALTY_NAMES) + ("differentiable",)
# n_features_to_select=k with a ball: the radius is steered until a pool of
# min(max(_POOL_FACTOR * k, _POOL_MIN), max(k, n_features // 2)) rows survives, and the k largest
# rows of that pool are selected (see the parameter's docstring for the measurements).
_POOL_FACTOR = 2
_POOL_MIN = 100


class SparseAutoencoderSelector(ProbabilityMixin, SelectorMixin, ClassifierMixin, BaseEstimator):
    """Supervised autoencoder classifier that selects features by projecting its first layer.

    The network (numpy, float32 or float64 following ``X``) is::

        encoder  Linear(n_features, hidden_layer_size) -> activation -> Linear(hidden, n_classes)
        decoder  Linear(n_classes, hidden_layer_size) -> activation -> Linear(hidden, n_features)

    The latent code is the vector of class logits. The loss is the mean cross-entropy of the
    logits plus ``reconstruction_weight`` times the mean reconstruction loss over all entries.
    It is minimised with Adam on minibatches. The first-layer weight ``W1`` of shape
    ``(n_features, hidden_layer_size)`` has one row per input feature; the features are
    selected by making whole rows exactly zero, in one of three ways:

    * a ball (``constraint``, the default: the l1,inf ball): after every Adam step ``W1`` is
      replaced by its Euclidean projection onto ``{W : ||W|| <= radius}`` (groups = rows),
      computed by the :mod:`skproj.sparsity` constraint object (one call of
      :mod:`skproj.projections`). The radius either follows a schedule down to ``radius``, or,
      with ``n_features_to_select``, is steered by the estimator until that many rows remain;
    * a penalty (``penalty``: group lasso, group MCP, l1,inf, l1): minimised with proximal Adam
      (:class:`skproj.optim.ProxAdam`, Deleu & Bengio, arXiv:2102.03869): Adam's step, then the
      weighted prox of the :mod:`skproj.sparsity` penalty, which zeroes rows;
    * differentiable gates (``penalty="differentiable"``) on the input features.

    With ``retrain=True`` ("double descent"), the features whose row is non-zero at the end of
    this first phase form the support (``n_features_to_select`` or ``max_features`` of them,
    see these); the other rows are set to zero and the network is trained again, from the
    weights of the first phase with a fresh optimiser state, with the gradient of the
    discarded rows masked and no projection. The support never grows in this second phase.

    Parameters
    ----------
    constraint : {"l1inf", "l12", "l1"}, skproj.sparsity.Constraint or None, default=None
        Ball onto which ``W1`` is projected after every step, groups = rows (input features):
        ``"l1inf"``: ``sum_i max_j |W1_ij| <= radius``
        (:class:`skproj.sparsity.L1InfBall`, :func:`skproj.project_l1inf_ball`); ``"l12"``:
        ``sum_i ||W1_i,:||_2 <= radius`` (:class:`~skproj.sparsity.L12Ball`); ``"l1"``:
        ``sum_ij |W1_ij| <= radius`` (:class:`~skproj.sparsity.L1Ball`, which zeroes single
        weights and whole rows only as a side effect; ``"l11"`` is the former spelling,
        accepted with a FutureWarning). A constraint object is used with its own norm and
        groups along ``axis=1``; its ``radius`` replaces the ``radius`` parameter. ``None``
        (default): the l1,inf ball, unless ``penalty`` is given (then no ball). To train
        without any sparsity (then only ``max_features`` selects), pass ``radius=numpy.inf``
        and leave ``n_features_to_select`` unset (with it, the ball is always used).
    radius : float > 0, default=0.1
        Radius of the ball (ignored when ``n_features_to_select`` is set, ``numpy.inf`` included;
        otherwise ``numpy.inf``: no ball): an absolute bound on the norm of ``W1`` at the end of
        the first phase (the final ``W1`` when ``retrain=False``; retraining on the selected
        features does not project), not relative to its initial norm. For ``"l1inf"`` it bounds ``sum_i max_j |W1_ij|``, the sum over
        features of the largest absolute weight leaving each feature, so roughly
        ``radius / typical_weight`` features survive. ``W1`` multiplies the features, so the
        radius is in units of ``1 / (feature scale)``: standardise the features (e.g. with
        :class:`~sklearn.preprocessing.StandardScaler` in a Pipeline). Smaller radius, fewer
        features. As a guide (standardised data, 750 samples, 1000 features, defaults
        otherwise), l1,inf radii 0.03 / 0.05 / 0.07 / 0.1 kept 20 / 27 / 54 / 100 features; the
        l1,2 norm of the same ``W1`` is larger, so ``"l12"`` needs larger radii (0.1 / 0.3 / 1
        kept 9 / 24 / 120). Tune it on a log grid with GridSearchCV, or fix the number of
        features with ``max_features``.
    penalty : {"group_lasso", "group_mcp", "l1inf", "l1", "differentiable"}, \
            skproj.sparsity.Penalty or None, default=None
        Alternative to a ball: with a penalty, ``constraint`` must stay ``None`` (setting both
        raises a ValueError: "projection after prox" is not the prox of the sum).

        A :mod:`skproj.sparsity` penalty (a name builds it with ``alpha``; an object is used
        with its own parameters, groups = rows of ``W1``): the first phase minimises the loss
        plus the penalty of ``W1`` with :class:`skproj.optim.ProxAdam`: every step is Adam's
        step followed by the weighted proximal operator of the penalty in Adam's metric
        ``sqrt(v_hat) + eps`` (Deleu & Bengio, arXiv:2102.03869), which sets rows exactly to
        zero during training. ``"group_lasso"``: ``alpha * sqrt(h) * sum_i ||W1_i,:||_2``;
        ``"group_mcp"``: the minimax concave penalty of each row norm with level
        ``alpha * sqrt(h)`` and concavity ``mcp_gamma`` (less shrinkage of large rows);
        ``"l1inf"``: ``alpha * sum_i max_j |W1_ij|`` (its prox has no weighted form: ``W1``
        then gets Adam's scalar second moment, see Notes); ``"l1"``: ``alpha * sum_ij |W1_ij|``;
        ``h = hidden_layer_size``. The stopping rules monitor the loss without the penalty.

        ``"differentiable"``: differentiable sparsification (Lee, arXiv 1910.03201, see
        :mod:`skproj._gates`). Each input feature ``j`` is multiplied by a gate
        ``n_features * a_j`` before the first layer, where
        ``a = renormalise(ReLU(softmax(gamma) - sigmoid(s) / n_features))`` is computed from
        free parameters ``(gamma, s)`` trained by plain Adam alongside the network, and
        ``alpha * ||a||_p`` (``p = 0.5``) is added to the loss. Gates become exactly 0.0 by
        themselves (no projection, prox, threshold or mask); the support is the features with
        a non-zero gate after the first phase. The factor ``n_features`` (our choice, not
        from the paper) makes the initial gates equal to 1.

        Double descent then works as with a constraint, on the selected features.
    alpha : float >= 0 or None, default=None
        Penalty strength (ignored when ``penalty`` is None or an object); ``None`` means 1e-2
        for the named penalties and 1e-3 for ``"differentiable"``. Larger, fewer features.
        Group penalties: strength per unit of row norm, divided by
        ``sqrt(hidden_layer_size)``. A row survives roughly when the gradient of the loss
        with respect to it has an l2 norm above ``alpha * sqrt(hidden_layer_size)``, so
        ``alpha`` is on the scale of the entries of that gradient (with standardised
        features, about 1e-3 to 3e-2; tune on a log grid).
        ``"differentiable"``: strength of the gate regulariser; ``||a||_p`` lies between 1
        (one feature) and ``n_features`` (uniform gates), so ``alpha * n_features`` bounds
        the penalty.
    mcp_gamma : float > 0, default=20.0
        MCP concavity ``gamma_0``: the penalty of a row is flat once its norm reaches
        ``mcp_gamma * alpha * sqrt(h)``, and rows beyond that norm are not shrunk at all. Rows
        of the Glorot-initialised ``W1`` have norms near ``sqrt(2 h / (n_features + h))``, so a
        small ``mcp_gamma`` (e.g. 3) leaves every row in the flat region and selects nothing;
        the default keeps the flat region beyond the initial norms for typical sizes. Only for
        ``penalty="group_mcp"``.
    gate_learning_rate : float > 0 or None, default=0.01
        Step size of the (separate, plain) Adam of the gate parameters ``(gamma, s)`` when
        ``penalty="differentiable"``; ``None`` means ``learning_rate``.
    n_features_to_select : int >= 1, float in (0, 1] or None, default=None
        Number of features to select (a float: that fraction of ``n_features``, rounded down, at
        least 1); the semantics of :class:`sklearn.feature_selection.RFE`. ``None``: the ``radius`` (or
        the penalty strength) decides how many survive. With a ball, the radius is found during the
        first phase (see :class:`skproj._training.TargetBallStep`): it shrinks geometrically from
        the norm of ``W1`` at initialisation while more than ``m = min(max(2 k, 100), max(k,
        n_features // 2))`` rows survive the projection (the ball removes at least half of the
        features, or all but ``k``), and is steered so that about ``m`` remain once there (cost: one
        count of the non-zero rows per step, no extra fit). At the end of the first phase the ``k``
        features are the non-zero rows with the largest norms (the ``k`` most used rows of a pool of
        about ``m``), then, if fewer than ``k`` rows are non-zero, the zero rows with the largest
        gradient (one more pass; not with ``retrain=False``), then retraining on them. Why a pool larger
        than ``k``: squeezing the ball down to exactly ``k`` rows keeps the rows that outlast the
        squeeze, which for small ``k`` depends more on the order in which rows were zeroed than on
        how much the trained network uses them. The pool size was chosen on three data sets
        (protocol of ``benchmarks/bench_selection_k.py``: the embedded PBMC data,
        ``make_single_cell_counts`` data and a Gaussian ``make_sparse_classification`` problem):
        mean accuracy over k = 5, 10, 20, 50 of +0.046, +0.045 and -0.013 against a pool of exactly
        ``k``. Features whose column of ``X`` is constant carry nothing and are never selected; if
        fewer than ``k`` features carry any weight, fewer are returned with a UserWarning. With a
        penalty or the gates, the same ranking picks ``k`` features after the first phase (the
        strength is not tuned).
    max_features : int >= 1 or None, default=None
        If given, keep at most this many features: those with the largest row norms of ``W1``
        (the norm of the constraint: l_inf for ``"l1inf"``, l2 for ``"l12"``, l1 for ``"l1"``)
        among the non-zero rows after the first phase. Unlike ``n_features_to_select`` it
        does not change the radius: it only cuts what the radius kept (fewer when the ball
        keeps fewer). Cannot be combined with ``n_features_to_select``.
    hidden_layer_size : int >= 1, default=64
        Width ``h`` of the hidden layers of the encoder and decoder.
    activation : str, default="relu"
        ``"relu"``, ``"silu"`` or ``"tanh"`` (Glorot-uniform weights, zero biases), any name
        added with :func:`skproj._network.register_activation`, or a clipped
        sparsity-inducing activation of :mod:`skproj.activations`: ``"clipped_relu"``
        (``min(max(x - tau, 0), clip)``) or ``"clipped_soft_threshold"``
        (``sign(x) min(max(|x| - tau, 0), clip)``). With the clipped ones, both hidden layers use
        the threshold ``tau`` and variances ``(sigma_w2, sigma_b2)`` of
        :func:`skproj.activations.edge_of_chaos` for ``activation_sparsity`` at the fixed point
        ``q* = 1`` (hidden pre-activations of unit variance), and every layer is drawn by
        :func:`skproj.activations.init_layer` (``W_ij ~ N(0, s2 / fan_in)``,
        ``b_j ~ N(0, sigma_b2)``). The layers fed by the activations (hidden -> logits,
        hidden -> reconstruction) use ``s2 = sigma_w2`` (``chi_1 = 1``, the paper's
        convention); the layers feeding them take inputs that are not activations (the data
        ``X``, the logits) and use ``s2 = (q* - sigma_b2) / q_in`` with ``q_in`` the mean
        square of their input (``mean(X**2)`` on the training data, 1 after standardisation;
        ``q*`` for the logits), so that the hidden pre-activations start with variance ``q*``
        and a fraction ``activation_sparsity`` of the hidden activations is exactly zero.
        With ``decoder_input="hidden"`` the decoder's first layer is fed by activations too
        and uses ``s2 = sigma_w2``.
    activation_sparsity : float in [0, 1), default=0.8
        Target fraction of zero hidden activations at initialisation; used only by the
        clipped activations. ``"clipped_relu"`` needs ``activation_sparsity >= 0.5``
        (``tau >= 0``). Training moves the weights, so the fraction after ``fit`` differs:
        it is reported in ``activation_sparsity_``.
    activation_clip : float > 0 or None, default=None
        Clip level ``m`` of the clipped activations, in units of the pre-activations
        (standard deviation 1 at initialisation); ``np.inf`` means no clipping (shifted ReLU /
        soft threshold, whose variance fixed point is only semi-stable). ``None`` means
        ``min(1, max_stable_clip(activation, activation_sparsity))``
        (:func:`skproj.activations.max_stable_clip`: the largest clip for which the fixed
        point attracts every variance in a deep network; e.g. 2.66 / 1.84 for
        ``"clipped_relu"`` at 70% / 85%, so the default is 1 there).
        Larger clips are accepted: this network has a single hidden layer per half, so the
        depth instability does not arise.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the cross-entropy term (scikit-learn's convention, e.g.
        :class:`~sklearn.linear_model.LogisticRegression`): a dict ``{label: weight}``, or
        ``"balanced"``, ``n_samples / (n_classes * np.bincount(y))``, computed on the data
        given to ``fit``. ``None``: every sample weighs 1.
    reconstruction_weight : float >= 0, default=1.0
        Weight of the reconstruction term in the loss.
    reconstruction_loss : {"smooth_l1", "squared"}, default="smooth_l1"
        Mean over all entries of the smooth L1 (Huber, beta=1) or squared error.
    decoder_input : {"logits", "hidden"}, default="logits"
        What the decoder reconstructs ``X`` from. ``"logits"``: the class logits (the authors'
        supervised autoencoder). ``"hidden"`` (our variant, not from the paper): the encoder's
        hidden activations, through ``Linear(hidden, hidden)``, so ``coefs_[2]`` has shape
        ``(hidden_layer_size, hidden_layer_size)``. Through the logits (2 numbers for two
        classes) the reconstruction can only use a rank-``n_classes`` structure of ``X``; from
        the hidden layer it can use the correlations among the features, which makes it
        select correlated groups. Measured on make_classification(1000 x 1000, 64
        informative, shuffle=False), one 750-sample training fold, 64 kept
        (``benchmarks/explore_selection.py``): ``"hidden"`` with ``reconstruction_weight=100``,
        ``radius=0.2``, ``activation="tanh"`` put 44-49 informative features among the 64
        (two folds, three seeds) against 26-31 for the defaults; with the default
        ``reconstruction_weight=1`` it changes nothing (the reconstruction, a mean over all
        entries, is then too weak to matter).
    batch_size : int >= 1 or "auto", default="auto"
        Minibatch size (clipped to the number of training samples). ``"auto"``:
        ``min(max(32, n_samples // 200), 1024)`` (:func:`skproj._training.auto_batch_size`):
        32 below 6,400 training samples, then about 200 minibatches per pass, at most 1024.
    learning_rate : float > 0, default=1e-3
        Adam step size.
    max_epochs : int >= 1, default=60
        Maximum number of epochs in the first phase. An epoch is a pass over the training
        data up to 5,000 samples; beyond, a pass over the next 5,000 samples of a running
        random permutation (:data:`skproj._training.EPOCH_SAMPLES`), so that every
        epoch-based parameter (this one, ``radius_decay_epochs``, ``retrain_epochs``,
        ``n_iter_no_change``) counts the same amount of training at any ``n_samples``, and
        the cost of ``fit`` stops growing with ``n_samples`` (50,000 cells: 6 passes at most
        per phase).
    radius_decay_epochs : int >= 0, default=20
        During the first ``radius_decay_epochs`` epochs of the first phase the radius
        decreases geometrically, epoch by epoch, from the norm of ``W1`` at initialisation
        to ``radius`` (reached at the end of epoch ``radius_decay_epochs``), so that features
        are discarded gradually while the network learns. ``0`` projects onto the final ball
        from the start. The stopping rules only start once ``radius`` is reached.
    retrain : bool, default=True
        Run the second phase ("double descent") on the selected support.
    retrain_epochs : int >= 1 or None, default=None
        Maximum number of epochs of the second phase; ``None`` means ``max_epochs``.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified) and stop each phase
        when the validation loss has not improved by ``tol`` for ``n_iter_no_change`` epochs;
        the parameters of the best validation epoch are restored. Otherwise each phase stops
        when the training loss has not improved by ``tol`` for ``n_iter_no_change`` epochs.
    validation_fraction : float in (0, 1), default=0.1
        Share of the training data held out when ``early_stopping=True``.
    n_iter_no_change : int >= 1, default=10
        Patience, in epochs, of the stopping rules.
    tol : float >= 0, default=1e-4
        Minimal improvement of the monitored loss.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation, the minibatch order and the validation split.
    verbose : int, default=0
        If > 0, print the loss of every epoch.

    Attributes
    ----------
    support_ : ndarray of shape (n_features_in_,), dtype bool
        Selected features (non-zero rows of ``W1``).
    feature_importances_ : ndarray of shape (n_features_in_,)
        Row norms of the final ``W1`` (norm as for ``max_features``; l2 for the gates and the
        group penalties); zero off the support.
    gates_ : ndarray of shape (n_features_in_,) or None
        With ``penalty="differentiable"``: the gates ``a`` at the end of the first phase
        (non-negative, summing to 1, exact zeros off the support; ``max_features`` keeps the
        largest gates). They are folded into ``coefs_[0]`` (row ``j`` multiplied by
        ``n_features * a_j``) before the second phase, so prediction uses the plain network.
        ``None`` otherwise.
    coefs_ : list of 4 ndarrays
        Weights ``[W1, W2, W3, W4]``; ``W1`` has shape ``(n_features_in_, hidden_layer_size)``.
    intercepts_ : list of 4 ndarrays
        Biases of the four layers.
    activation_sparsity_ : float
        Measured fraction of exactly zero hidden activations of the fitted network on the
        training data passed to ``fit`` (both hidden layers, encoder and decoder, pooled:
        ``n_samples * hidden_layer_size`` entries each), for every activation.
    activation_threshold_ : float or None
        Threshold ``tau`` of the clipped activations (from
        :func:`skproj.activations.edge_of_chaos`); None for the other activations.
    activation_clip_ : float or None
        Clip level used (``activation_clip`` or its default); None for the other activations.
    classes_ : ndarray of shape (n_classes,)
    n_iter_ : int
        Epochs run in total (both phases).
    n_iter_select_ : int
        Epochs run in the first (projected) phase.
    radius_ : float or None
        Radius of the ball at the end of the first phase (found by the estimator with
        ``n_features_to_select``); None without a ball.
    loss_curve_ : list of float
        Training loss of every epoch (both phases; the first ``n_iter_select_`` are phase 1).
    validation_scores_ : list of float or None
        Validation loss of every epoch when ``early_stopping=True``.
    fit_time_ : float
        Wall-clock seconds of ``fit``.
    projection_time_ : float
        Seconds spent in the projection of ``W1``, or in its proximal operator when
        ``penalty`` is set (its share of training time is ``projection_time_ / fit_time_``).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when ``X`` has string column names.

    Notes
    -----
    With ``penalty="differentiable"`` the features are selected by the gates of Y. Lee,
    "Differentiable Sparsification for Deep Neural Networks", arXiv 1910.03201 (see
    :mod:`skproj._gates` for the parametrisation and what of it could be confirmed); no ball
    is involved and the gates reach exact zeros under plain Adam.

    Two choices differ from a plain "Adam then project" loop. (1) The first layer uses Adam
    with one scalar second moment for the whole of ``W1`` (the other layers use the usual
    per-entry one): the step before the Euclidean projection then follows the direction of
    the averaged gradient, so that a fixed point of "step then project" is a stationary
    point of the constrained problem, and features with consistently large gradients grow
    faster than noise features (with a per-entry second moment every weight moves by about
    ``learning_rate`` per step whatever its gradient, and the projection cannot tell them
    apart); the same scalar second moment serves the l1,inf penalty, whose prox has no
    weighted form. (2) The radius decreases geometrically during the first
    ``radius_decay_epochs`` epochs. BLAS is limited to one thread during ``fit`` when the
    minibatch products are small or skinny (``batch_size < 128`` or ``batch_size *
    n_features * hidden_layer_size < 2**24``, :func:`skproj._training.blas_threads`), where
    threads cost more than they gain; larger ones use BLAS's own thread count.

    Sparse ``X`` (CSR or CSC, float32 or float64) is never densified as a whole: each
    minibatch is densified into a buffer of ``batch_size x n_features`` (the reconstruction
    target is that dense minibatch), and prediction works in blocks of rows. Extra memory
    beyond ``X`` is ``O(batch_size * n_features + n_features * hidden_layer_size)`` plus
    blocks of at most 2^22 entries (32 MiB in float64) for prediction and statistics, except
    that a CSC ``X`` is converted to CSR once (a copy of the size of ``X``: pass CSR to avoid
    it), a CSR ``X`` with duplicate or unsorted entries is copied once into canonical form, and
    ``early_stopping`` copies the training part of ``X`` (as for dense ``X``). The results
    equal those of the dense path on the same data.

    The network is trained on ``X`` minus the column means of the training samples (taken
    from each minibatch; ``intercepts_`` are the biases for ``X`` itself): a shift of a feature
    changes nothing, and sparse data, scaled but not centred, give the selection of their
    centred dense copy (a gene at a nearly constant level keeps a mean / std of ~100, which
    would reach every hidden unit as a large constant).

    Clipped activations and their initialisation: I. Price, N. Daultry Ball, S. C. H. Lam,
    A. C. Jones, J. Tanner, "Deep Neural Network Initialization with Sparsity Inducing
    Activations", ICLR 2024, arXiv 2402.16184 (Sections 2-4: edge of chaos ``chi_1 = 1``,
    ``V(q*) = q*``, clipping for a stable fixed point).

    Method: G. Perez, L. Condat, M. Barlaud, "Near-linear time projection onto the
    l1,infty ball; application to sparse autoencoders", arXiv 2307.09836 (supervised
    autoencoder, projection of the first layer, double descent). Unlike the authors'
    experiments, the projection is applied after every optimiser step (projected gradient),
    and nothing is selected on test data.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skproj import SparseAutoencoderSelector
    >>> X, y = make_classification(n_samples=200, n_features=30, n_informative=4,
    ...                            n_redundant=0, shuffle=False, random_state=0)
    >>> X = (X - X.mean(axis=0)) / X.std(axis=0)
    >>> sel = SparseAutoencoderSelector(radius=0.1, random_state=0).fit(X, y)
    >>> bool(sel.transform(X).shape[1] == sel.support_.sum())
    True
    >>> sel.predict(X[:3]).shape
    (3,)
    >>> sel = SparseAutoencoderSelector(n_features_to_select=4, random_state=0).fit(X, y)
    >>> sel.transform(X).shape
    (200, 4)
    """

    _parameter_constraints = {
        "constraint": [StrOptions(set(CONSTRAINT_NAMES) | {"l11"}), Constraint, None],
        "radius": [Interval(Real, 0, None, closed="right")],
        "penalty": [StrOptions(set(_PENALTIES)), Penalty, None],
        "alpha": [Interval(Real, 0, None, closed="left"), None],
        "mcp_gamma": [Interval(Real, 0, None, closed="neither")],
        "gate_learning_rate": [Interval(Real, 0, None, closed="neither"), None],
        "n_features_to_select": [Interval(Integral, 1, None, closed="left"), Interval(RealNotInt, 0, 1, closed="right"), None],
        "max_features": [Interval(Integral, 1, None, closed="left"), None],
        "hidden_layer_size": [Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(ACTIVATION_NAMES), StrOptions(set(_SPARSE_ACTIVATIONS))],
        "activation_sparsity": [Interval(Real, 0, 1, closed="left")],
        "activation_clip": [Interval(Real, 0, None, closed="right"), None],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "reconstruction_weight": [Interval(Real, 0, None, closed="left")],
        "reconstruction_loss": [StrOptions({"smooth_l1", "squared"})],
        "decoder_input": [StrOptions({"logits", "hidden"})],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "radius_decay_epochs": [Interval(Integral, 0, None, closed="left")],
        "retrain": ["boolean"],
        "retrain_epochs": [Interval(Integral, 1, None, closed="left"), None],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        constraint=None,
        radius=0.1,
        *,
        penalty=None,
        alpha=None,
        mcp_gamma=20.0,
        gate_learning_rate=1e-2,
        n_features_to_select=None,
        max_features=None,
        hidden_layer_size=64,
        activation="relu",
        activation_sparsity=0.8,
        activation_clip=None,
        class_weight=None,
        reconstruction_weight=1.0,
        reconstruction_loss="smooth_l1",
        decoder_input="logits",
        batch_size="auto",
        learning_rate=1e-3,
        max_epochs=60,
        radius_decay_epochs=20,
        retrain=True,
        retrain_epochs=None,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        random_state=None,
        verbose=0,
    ):
        store_init_args(self, locals())

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.sparse = True
        return tags

    # ------------------------------------------------------------------ training
    def _alpha(self):
        """``alpha``, or its default when it is None: 1e-3 for the gates, 1e-2 for a penalty."""
        default = 1e-3 if self.penalty == "differentiable" else 1e-2
        return default if self.alpha is None else float(self.alpha)

    def _sparsity(self):
        """The sparsity object of ``W1``: a Constraint, a Penalty, "differentiable" or None (no ball)."""
        if self.penalty is not None and self.constraint is not None:
            raise ValueError(
                f"penalty={self.penalty!r} needs constraint=None (got constraint={self.constraint!r}): "
                "the penalty selects the features; it is not combined with a projection of the first layer."
            )
        if self.penalty == "differentiable":
            return "differentiable"
        if self.penalty is not None:
            if self.penalty == "l1":  # entrywise; its group norms are those of the rows
                return L1(alpha=self._alpha(), axis=1)
            kw = {"gamma": float(self.mcp_gamma)} if self.penalty == "group_mcp" else {}
            pen = make_penalty(self.penalty, alpha=self._alpha(), axis=1, **kw)
            return self._check_rows(pen, "penalty")
        # radius=inf means no ball, unless n_features_to_select is set: then the radius is found
        # (it starts at the initial norm of W1, _first_phase_step) and radius is not used
        no_ball = self.radius == np.inf and self.n_features_to_select is None
        radius = self.radius if self.n_features_to_select is None else 1.0
        if self.constraint is None:
            return None if no_ball else L1InfBall(radius=radius, axis=1)
        ball = make_constraint(self.constraint, radius=radius, axis=1)
        if isinstance(ball, Constraint) and not isinstance(self.constraint, str):
            return self._check_rows(ball, "constraint")
        return None if no_ball else ball

    @staticmethod
    def _check_rows(obj, name):
        """``obj`` with its groups along the rows of ``W1``: an entrywise object (``axis=None``,
        e.g. ``L1Ball()``) becomes a copy with ``axis=1``, the same ball or penalty whose group
        norms are those of the rows (the row ranking uses them)."""
        if getattr(obj, "axis", 1) not in (1, None) or getattr(obj, "groups", None) is not None:
            raise ValueError(
                f"{name}={obj!r}: the groups must be the rows of the first layer (axis=1, groups=None)."
            )
        return clone(obj).set_params(axis=1) if getattr(obj, "axis", 1) is None else obj

    @staticmethod
    def _row_norms(sparsity, W1):
        """Norms of the rows of ``W1`` in the inner norm of the sparsity object (l2 without one)."""
        if isinstance(sparsity, (Constraint, Penalty)) and sparsity.axis == 1:
            return sparsity.group_norms(W1)
        return np.sqrt(np.einsum("ij,ij->i", W1, W1))

    def _n_to_select(self, n_features):
        k = self.n_features_to_select
        if k is None:
            return None
        if self.max_features is not None:
            raise ValueError(
                f"n_features_to_select={k!r} and max_features={self.max_features!r} cannot both be set: "
                "max_features only cuts what the radius keeps; n_features_to_select finds the radius."
            )
        if isinstance(k, Integral):
            if k > n_features:
                raise ValueError(f"n_features_to_select={k} exceeds n_features={n_features}, the number of features of X.")
            return int(k)
        return n_from_fraction(k, n_features)

    def _make_optimizer(self, sparsity):
        """ProxAdam with the penalty on ``W1`` (params[0]), or Adam.

        Adam: W1 gets a scalar second moment so that the step before the Euclidean projection
        follows the gradient direction (see skproj._optim.Adam). ProxAdam keeps a per-entry
        second moment (its weighted prox is taken in the same metric as the step) except for
        a penalty without a weighted prox (l1,inf), which gets the scalar one.
        """
        if isinstance(sparsity, Penalty):
            scalar = (0,) if isinstance(sparsity, L1Inf) else ()
            return ProxAdam(lr=self.learning_rate, penalties={0: sparsity}, scalar_second_moment=scalar)
        return Adam(lr=self.learning_rate, scalar_second_moment=(0,))

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train the autoencoder, select the features, and (if ``retrain``) retrain on them.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data, preferably scaled (standardised; for sparse data scaled without
            centring, e.g. ``StandardScaler(with_mean=False)``: the network centres the
            features itself, see Notes). float32 stays float32; other numeric
            dtypes become float64. CSR and CSC matrices are accepted and never densified as a
            whole (a CSC matrix is converted to CSR once, a copy; see Notes).
        y : array-like of shape (n_samples,)
            Class labels (at least two classes).

        Returns
        -------
        self : SparseAutoencoderSelector

        Raises
        ------
        ValueError
            If ``X`` contains NaN or inf, ``y`` has a single class or is continuous, a
            parameter is invalid, both ``constraint`` and ``penalty`` are given, or
            ``n_features_to_select`` exceeds the number of features; also if the training
            diverges (non-finite loss or weights: ``learning_rate`` far too large).
        """
        t_start = time.perf_counter()
        sparsity = self._sparsity()
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], accept_sparse=("csr", "csc"))
        if sp.issparse(X):
            # minibatches are rows: CSR (a copy only for CSC input); duplicate entries add up,
            # in the kernels but not in every statistic of X.data (nor column_ptp)
            X = canonical_csr(X.tocsr())
        check_classification_targets(y)
        k = self._n_to_select(X.shape[1])
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        n_classes = len(self.classes_)
        if n_classes < 2:
            raise ValueError(
                "SparseAutoencoderSelector needs samples of at least 2 classes; got 1 class: "
                f"{np.asarray(self.classes_[0]).item()!r}."
            )
        dtype = X.dtype
        Y = np.eye(n_classes, dtype=dtype)[y_idx]
        if self.class_weight is not None:
            Y *= compute_class_weight(self.class_weight, classes=self.classes_, y=y).astype(dtype)[y_idx, None]
        rng = check_random_state(self.random_state)
        init_seed = rng.randint(np.iinfo(np.int32).max)

        X_fit = X
        Xv = Yv = None
        if self.early_stopping:
            X, Xv, Y, Yv = validation_split(X, Y, y_idx, self.validation_fraction, rng.randint(np.iinfo(np.int32).max))

        # The network is trained on X minus its column means (per minibatch: a sparse X stays
        # sparse), so that a shift of a feature changes nothing: a feature scaled but not
        # centred (sparse data) would otherwise add a large constant to every hidden unit.
        center = column_means(X, dtype)
        init_rng = np.random.RandomState(init_seed)
        if self.activation in _SPARSE_ACTIVATIONS:
            params = self._edge_of_chaos_params(X, center, n_classes, init_rng)
        else:
            self.activation_threshold_ = self.activation_clip_ = None
            params = init_params(
                X.shape[1], self.hidden_layer_size, n_classes, dtype, init_rng, decoder_input=self.decoder_input
            )
        # A constant feature carries nothing: its row of W1 starts at zero and is never trained.
        constant = column_ptp(X_fit) == 0
        params[0][constant] = 0
        net_args = (self._activation_fns(), self.reconstruction_weight, self.reconstruction_loss, self.decoder_input)
        batch_size = auto_batch_size(X.shape[0]) if self.batch_size == "auto" else self.batch_size
        trainer = Trainer(net_args, X, Y, Xv, Yv, rng, batch_size, self.n_iter_no_change, self.tol, self.verbose,
                          center=center)
        threads = blas_threads(trainer.batch_size, X.shape[1], self.hidden_layer_size)
        with threadpool_limits(limits=threads, user_api="blas"):  # one thread for small products
            self._train(trainer, params, sparsity, k, None if not constant.any() else ~constant)
            fractions = [  # sparse X: in row blocks, averaged by their sizes
                (hidden_zero_fraction(Xb, params, net_args[0], self.decoder_input), sl.stop - sl.start)
                for sl, Xb in row_blocks(X_fit)
            ]
            self.activation_sparsity_ = (
                fractions[0][0] if len(fractions) == 1 else sum(f * m for f, m in fractions) / X_fit.shape[0]
            )
        self.loss_curve_ = trainer.loss_curve
        self.validation_scores_ = trainer.validation_scores
        self.fit_time_ = time.perf_counter() - t_start
        return self

    @staticmethod
    def _pool_size(k, n_features):
        """Rows the ball is steered to when ``k`` features are asked for (the ``k`` largest are kept)."""
        return min(max(_POOL_FACTOR * k, _POOL_MIN), max(k, n_features // 2))

    def _first_phase_step(self, sparsity, W1, k, trainer):
        """The sparsity part of the first phase (a BallStep, TargetBallStep, GateStep or None)."""
        if isinstance(sparsity, Constraint):
            r0 = sparsity.value(W1)
            if k is not None:
                sparsity.radius = r0
                n_decay = max(1, min(self.radius_decay_epochs, self.max_epochs))
                pool = self._pool_size(k, W1.shape[0])
                return TargetBallStep(sparsity, pool, W1.shape[0], n_decay, trainer.steps_per_epoch)
            n_decay = min(self.radius_decay_epochs, self.max_epochs)
            if n_decay > 0 and r0 > sparsity.radius:
                # geometric decrease from the initial norm of W1 to radius over n_decay epochs
                radii = sparsity.radius * (r0 / sparsity.radius) ** (1 - np.arange(1, n_decay + 1) / n_decay)
                return BallStep(sparsity, radii)
            step = BallStep(sparsity)
            step.after_step(W1)
            return step
        if sparsity == "differentiable":
            gates = DifferentiableGates(W1.shape[0], alpha=self._alpha(), p=0.5, dtype=W1.dtype)
            gate_lr = self.learning_rate if self.gate_learning_rate is None else self.gate_learning_rate
            return GateStep(gates, gate_lr)
        return None

    def _train(self, trainer, params, sparsity, k, trainable):
        """Both phases; ``trainable`` (bool mask of the features, or None for all) excludes
        the constant features from the first phase and from the support."""
        W1 = params[0]
        opt = self._make_optimizer(sparsity)
        step = self._first_phase_step(sparsity, W1, k, trainer)
        # Phase 1: projected, proximal or gated training.
        self.n_iter_select_ = trainer.run(params, opt, self.max_epochs, step, row_mask=trainable, phase="select")
        self.projection_time_ = getattr(step, "time", 0.0) + getattr(opt, "prox_time", 0.0)
        self.radius_ = step.final_radius if isinstance(step, BallStep) else None
        self.gates_ = None
        if isinstance(step, GateStep):
            a = step.gates.forward()
            self.gates_ = a
            W1 *= (W1.shape[0] * a).astype(W1.dtype, copy=False)[:, None]  # fold the gates into W1
            norms = a
        else:
            norms = self._row_norms(sparsity, W1)
        if trainable is not None:
            norms = np.where(trainable, norms, 0).astype(norms.dtype, copy=False)
        support = norms > 0
        if k is not None:
            support = self._top_k(trainer, params, norms, k, trainable)
        elif self.max_features is not None and support.sum() > self.max_features:
            keep = np.argsort(-norms, kind="stable")[: self.max_features]
            support = np.zeros_like(support)
            support[keep] = True
        W1[~support] = 0

        # Phase 2: double descent on the frozen support.
        n_retrain = 0
        if self.retrain and support.any():
            epochs = self.max_epochs if self.retrain_epochs is None else self.retrain_epochs
            n_retrain = trainer.run(params, Adam(lr=self.learning_rate, scalar_second_moment=(0,)), epochs,
                                    row_mask=support, phase="retrain")
            W1[~support] = 0  # exact zeros (masked gradients keep them; this guards rounding)

        # biases for X itself, not X - center: prediction needs no centring
        params[:] = uncentred(params, trainer.center)
        self.support_ = support
        self.feature_importances_ = self._row_norms(sparsity, W1)
        self.coefs_ = params[0::2]
        self.intercepts_ = params[1::2]
        self.n_iter_ = self.n_iter_select_ + n_retrain

    def _top_k(self, trainer, params, norms, k, trainable):
        """The ``k`` features: non-zero rows by norm, then (when retrained) zero rows by gradient."""
        # without retraining a zero row stays zero: the network would not use that feature
        score_zero = (gradient_row_norms(trainer.X, trainer.Y, params, trainer.net_args, center=trainer.center)
                      if self.retrain else np.zeros_like(norms))
        if trainable is not None:
            score_zero[~trainable] = 0
        carries = (norms > 0) | (score_zero > 0)
        order = np.lexsort((-score_zero, -norms))  # by norm, ties (zeros) by gradient
        order = order[carries[order]][:k]
        if len(order) < k:
            warnings.warn(
                f"n_features_to_select={self.n_features_to_select!r}: only {len(order)} features carry any "
                "weight; selecting these.",
                UserWarning,
            )
        support = np.zeros(len(norms), dtype=bool)
        support[order] = True
        return support

    def _activation_fns(self):
        """The ``act`` argument of the network: a registry name, or the (forward, derivative)
        pair of a clipped activation with the fitted threshold and clip (public functions of
        :mod:`skproj.activations`)."""
        if self.activation not in _SPARSE_ACTIVATIONS:
            return self.activation
        act = _activations.get_activation(self.activation)
        tau, clip = self.activation_threshold_, self.activation_clip_
        return (lambda z: act.forward(z, tau, clip), lambda z, a: act.derivative(z, tau, clip))

    def _edge_of_chaos_params(self, X, center, n_classes, rng):
        """Edge-of-chaos initialisation of the 4 layers (see the ``activation`` parameter)."""
        name, sparsity = self.activation, self.activation_sparsity
        try:
            clip = self.activation_clip
            if clip is None:
                clip = min(1.0, _activations.max_stable_clip(name, sparsity, q_star=_Q_STAR))
            eoc = _activations.edge_of_chaos(name, sparsity, clip, q_star=_Q_STAR)
        except ValueError as exc:
            raise ValueError(
                f"no edge-of-chaos initialisation for activation={name!r} with "
                f"activation_sparsity={sparsity!r}, activation_clip={self.activation_clip!r}: {exc}"
            ) from exc
        self.activation_threshold_, self.activation_clip_ = float(eoc.tau), float(clip)
        q_in = mean_variance(X, center)
        q_in = q_in if q_in > 1e-300 else 1.0  # constant data: any scale gives the same zero input
        return init_edge_of_chaos(
            X.shape[1], self.hidden_layer_size, n_classes, eoc, q_in, _Q_STAR, X.dtype, rng, self.decoder_input
        )

    # ------------------------------------------------------------------ prediction
    def _get_support_mask(self):
        check_is_fitted(self)
        return self.support_

    def _logits(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], accept_sparse="csr", reset=False)
        params = [a.astype(X.dtype, copy=False) for pair in zip(self.coefs_, self.intercepts_) for a in pair]
        blocks = [forward(Xb, params, self._activation_fns()) for _, Xb in row_blocks(X)]  # sparse: in row blocks
        return blocks[0] if len(blocks) == 1 else np.concatenate(blocks)

    @fill_doc(x_section=_X_SECTION)
    def decision_function(self, X):
        """Class logits (the latent code of the autoencoder).

        {x_section}
        ndarray of shape (n_samples,) for two classes (logit of class 1 minus logit of
        class 0), else (n_samples, n_classes).
        """
        Z = self._logits(X)
        return Z[:, 1] - Z[:, 0] if Z.shape[1] == 2 else Z

    @fill_doc(x_section=_X_SECTION)
    def predict(self, X):
        """Predicted class labels (argmax of the logits).

        {x_section}
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return self.classes_[np.argmax(self._logits(X), axis=1)]
