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
from numbers import Integral, Real

import numpy as np
from threadpoolctl import threadpool_limits
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.feature_selection import SelectorMixin
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from . import activations as _activations
from . import projections
from ._autoencoder import ACTIVATION_NAMES, _resolve, forward, init_params, loss_and_grad
from ._gates import DifferentiableGates
from ._optim import Adam
from ._proxadam import GroupPenalty, ProxAdam

__all__ = ["SparseAutoencoderSelector"]

# constraint -> (name of the public projection function in skproj.projections, inner norm)
_CONSTRAINTS = {
    "l1inf": ("project_l1inf_ball", "inf"),
    "l12": ("project_l12_ball", "l2"),
    "l11": ("project_l11_ball", "l1"),
}


# Clipped activations of skproj.activations, initialised by skproj.activations.edge_of_chaos.
_SPARSE_ACTIVATIONS = ("clipped_relu", "clipped_soft_threshold")
# Fixed-point variance of the hidden pre-activations (tau and the clip are in its units).
_Q_STAR = 1.0


def _projector(constraint):
    """Return ``f(W, radius) -> projected W`` calling one public projection function."""
    fname, _ = _CONSTRAINTS[constraint]
    func = getattr(projections, fname, None)
    if func is None:  # pragma: no cover - only while a projection is not yet available
        raise NotImplementedError(f"constraint={constraint!r} needs skproj.projections.{fname}.")
    if constraint == "l11":
        return lambda W, radius, out: func(W, radius, out=out)
    return lambda W, radius, out: func(W, radius, axis=1, out=out)


def _row_norms(W, inner):
    A = np.abs(W)
    if inner == "inf":
        return A.max(axis=1) if W.shape[1] else np.zeros(W.shape[0], W.dtype)
    if inner == "l1":
        return A.sum(axis=1)
    return np.sqrt((A * A).sum(axis=1))


class SparseAutoencoderSelector(SelectorMixin, ClassifierMixin, BaseEstimator):
    """Supervised autoencoder classifier that selects features by projecting its first layer.

    The network (numpy, float32 or float64 following ``X``) is::

        encoder  Linear(n_features, hidden_layer_size) -> activation -> Linear(hidden, n_classes)
        decoder  Linear(n_classes, hidden_layer_size) -> activation -> Linear(hidden, n_features)

    The latent code is the vector of class logits. The loss is the mean cross-entropy of the
    logits plus ``reconstruction_weight`` times the mean reconstruction loss over all entries.
    It is minimised with Adam on minibatches. After every Adam step the first-layer weight
    ``W1`` of shape ``(n_features, hidden_layer_size)`` is replaced by its Euclidean projection
    onto the ball ``{W : ||W||_{constraint} <= radius}`` whose groups are the rows (input
    features), by one call of the public function of :mod:`skproj.projections` (the radius
    reaches ``radius`` after ``radius_decay_epochs`` epochs, see below). Rows that become
    exactly zero are discarded features. Alternatively (``constraint=None``,
    ``penalty="group_lasso"`` or ``"group_mcp"``), a group penalty on the rows of ``W1`` is
    minimised with proximal Adam (:class:`skproj.optim.ProxAdam`, Deleu & Bengio,
    arXiv:2102.03869): Adam's step, then the weighted prox of the penalty, which zeroes rows.

    With ``retrain=True`` ("double descent"), the features whose row is non-zero at the end of
    this first phase (at most ``max_features`` of them, the largest rows) form the support; the
    other rows are set to zero and the network is trained again, from the weights of the first
    phase with a fresh optimiser state, with the gradient of the discarded rows masked and no
    projection. The support never grows in this second phase.

    Parameters
    ----------
    constraint : {"l1inf", "l12", "l11"} or None, default="l1inf"
        Ball onto which ``W1`` is projected after every step, groups = rows (input features):
        ``"l1inf"``: ``sum_i max_j |W1_ij| <= radius``
        (:func:`skproj.projections.project_l1inf_ball`); ``"l12"``:
        ``sum_i ||W1_i,:||_2 <= radius`` (:func:`skproj.project_l12_ball`); ``"l11"``:
        ``sum_ij |W1_ij| <= radius`` (:func:`skproj.project_l11_ball`, which zeroes single
        weights and whole rows only as a side effect). ``None``: no projection (then only
        ``max_features`` selects).
    radius : float > 0, default=0.1
        Radius of the ball: an absolute bound on the norm of the final ``W1`` (not relative
        to its initial norm). For ``"l1inf"`` it bounds ``sum_i max_j |W1_ij|``, the sum over
        features of the largest absolute weight leaving each feature, so roughly
        ``radius / typical_weight`` features survive. ``W1`` multiplies the features, so the
        radius is in units of ``1 / (feature scale)``: standardise the features (e.g. with
        :class:`~sklearn.preprocessing.StandardScaler` in a Pipeline). Smaller radius, fewer
        features. As a guide (standardised data, 750 samples, 1000 features, defaults
        otherwise), l1,inf radii 0.03 / 0.05 / 0.07 / 0.1 kept 20 / 27 / 54 / 100 features; the
        l1,2 norm of the same ``W1`` is larger, so ``"l12"`` needs larger radii (0.1 / 0.3 / 1
        kept 9 / 24 / 120). Tune it on a log grid with GridSearchCV, or fix the number of
        features with ``max_features``.
    penalty : {"group_lasso", "group_mcp", "differentiable"} or None, default=None
        Alternative to ``constraint``: requires ``constraint=None`` (setting both raises a
        ValueError).

        ``"group_lasso"`` / ``"group_mcp"``: the first phase minimises the loss plus a penalty
        on the rows (input features) of ``W1`` with :class:`skproj.optim.ProxAdam`: every
        step is Adam's step followed by the weighted proximal operator of the penalty in
        Adam's metric ``sqrt(v_hat) + eps`` (Deleu & Bengio, arXiv:2102.03869), which sets
        rows exactly to zero during training. ``"group_lasso"``:
        ``alpha * sqrt(h) * sum_i ||W1_i,:||_2``; ``"group_mcp"``: the minimax concave
        penalty of each row norm with level ``alpha * sqrt(h)`` and concavity ``mcp_gamma``
        (less shrinkage of large rows); ``h = hidden_layer_size``. ("Projection after prox"
        is not the prox of the sum, hence no combination with a ball.) The stopping rules
        monitor the loss without the penalty.

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
        Penalty strength (ignored when ``penalty=None``); ``None`` means 1e-2 for the group
        penalties and 1e-3 for ``"differentiable"``. Larger, fewer features.
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
    max_features : int >= 1 or None, default=None
        If given, keep at most this many features: those with the largest row norms of ``W1``
        (the norm of the constraint: l_inf for ``"l1inf"``, l2 for ``"l12"`` and ``None``, l1
        for ``"l11"``) among the non-zero rows after the first phase.
    hidden_layer_size : int >= 1, default=64
        Width ``h`` of the hidden layers of the encoder and decoder.
    activation : str, default="relu"
        ``"relu"``, ``"silu"`` or ``"tanh"`` (Glorot-uniform weights, zero biases), any name
        added with :func:`skproj._autoencoder.register_activation`, or a clipped
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
    batch_size : int >= 1, default=32
        Minibatch size (clipped to the number of training samples).
    learning_rate : float > 0, default=1e-3
        Adam step size.
    max_epochs : int >= 1, default=60
        Maximum number of passes over the training data in the first phase.
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
        Row norms of the final ``W1`` (norm as for ``max_features``); zero off the support.
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
    apart). (2) The radius decreases geometrically during the first
    ``radius_decay_epochs`` epochs. BLAS is limited to one thread during ``fit``: the
    minibatch products are too small to gain from threads.

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
    """

    _parameter_constraints = {
        "constraint": [StrOptions(set(_CONSTRAINTS)), None],
        "radius": [Interval(Real, 0, None, closed="neither")],
        "penalty": [StrOptions({"group_lasso", "group_mcp", "differentiable"}), None],
        "alpha": [Interval(Real, 0, None, closed="left"), None],
        "mcp_gamma": [Interval(Real, 0, None, closed="neither")],
        "gate_learning_rate": [Interval(Real, 0, None, closed="neither"), None],
        "max_features": [Interval(Integral, 1, None, closed="left"), None],
        "hidden_layer_size": [Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(ACTIVATION_NAMES), StrOptions(set(_SPARSE_ACTIVATIONS))],
        "activation_sparsity": [Interval(Real, 0, 1, closed="left")],
        "activation_clip": [Interval(Real, 0, None, closed="right"), None],
        "reconstruction_weight": [Interval(Real, 0, None, closed="left")],
        "reconstruction_loss": [StrOptions({"smooth_l1", "squared"})],
        "decoder_input": [StrOptions({"logits", "hidden"})],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
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
        constraint="l1inf",
        radius=0.1,
        *,
        penalty=None,
        alpha=None,
        mcp_gamma=20.0,
        gate_learning_rate=1e-2,
        max_features=None,
        hidden_layer_size=64,
        activation="relu",
        activation_sparsity=0.8,
        activation_clip=None,
        reconstruction_weight=1.0,
        reconstruction_loss="smooth_l1",
        decoder_input="logits",
        batch_size=32,
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
        self.constraint = constraint
        self.radius = radius
        self.penalty = penalty
        self.alpha = alpha
        self.mcp_gamma = mcp_gamma
        self.gate_learning_rate = gate_learning_rate
        self.max_features = max_features
        self.hidden_layer_size = hidden_layer_size
        self.activation = activation
        self.activation_sparsity = activation_sparsity
        self.activation_clip = activation_clip
        self.reconstruction_weight = reconstruction_weight
        self.reconstruction_loss = reconstruction_loss
        self.decoder_input = decoder_input
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.max_epochs = max_epochs
        self.radius_decay_epochs = radius_decay_epochs
        self.retrain = retrain
        self.retrain_epochs = retrain_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.sparse = False
        return tags

    # ------------------------------------------------------------------ training
    def _inner_norm(self):
        if self.constraint is None:
            return "l2"
        return _CONSTRAINTS[self.constraint][1]

    def _alpha(self):
        """``alpha``, or its default for the chosen penalty when it is None."""
        if self.alpha is not None:
            return float(self.alpha)
        return 1e-3 if self.penalty == "differentiable" else 1e-2

    def _make_optimizer(self, penalised):
        """Adam, or ProxAdam penalising the rows of W1 (params[0]) when ``penalised``.

        Adam: W1 (index 0) gets a scalar second moment so that the step before the Euclidean
        projection follows the gradient direction (see skproj._optim.Adam). ProxAdam keeps a
        per-entry second moment: its weighted prox is taken in the same metric as the step,
        so its fixed points are the stationary points of the penalised loss.
        """
        if penalised and self.penalty in ("group_lasso", "group_mcp"):
            pen = GroupPenalty(self.penalty, self._alpha(), gamma=float(self.mcp_gamma), axis=1)
            return ProxAdam(lr=self.learning_rate, penalties={0: pen})
        return Adam(lr=self.learning_rate, scalar_second_moment=(0,))

    @staticmethod
    def _gated_loss_and_grad(X, Y, params, gates, args, need_grad=True):
        """Loss and gradients of the network with its input features gated.

        ``X * g`` with ``g = n_features * a`` enters the first layer, which equals feeding
        ``X`` to a first layer whose row ``j`` is ``g_j * W1[j]``; the reconstruction target
        stays ``X``. Returns ``(loss incl. penalty, grads of params, grads of gates.params)``.
        """
        d = X.shape[1]
        a = gates.forward()
        g = (d * a).astype(X.dtype, copy=False)
        W1 = params[0]
        eff = [g[:, None] * W1] + list(params[1:])
        loss, grads, _ = loss_and_grad(X, Y, eff, *args, need_grad=need_grad)
        pen, pen_grad = gates.penalty(a)
        loss += pen
        if not need_grad:
            return loss, None, None
        gW1_eff = grads[0]
        grads[0] = g[:, None] * gW1_eff
        grad_a = d * np.einsum("ij,ij->i", W1, gW1_eff) + pen_grad
        return loss, grads, gates.backward(grad_a)

    def _run_phase(self, params, X, Y, Xv, Yv, rng, n_epochs, project, row_mask, phase, radii=None, gates=None):
        """Minibatch Adam for at most ``n_epochs``; returns the number of epochs run.

        ``radii[e]`` is the radius of epoch ``e`` (the schedule); the stopping rule is only
        armed once the final radius is reached. With ``gates`` (a
        :class:`~skproj._gates.DifferentiableGates`), the gate parameters are trained by a
        second plain Adam (step ``gate_learning_rate``) on the same minibatches.
        """
        all_params = params if gates is None else list(params) + gates.params
        if gates is not None:
            gate_lr = self.learning_rate if self.gate_learning_rate is None else self.gate_learning_rate
            gate_opt = Adam(lr=gate_lr)
        opt = self._make_optimizer(penalised=row_mask is None)
        n = X.shape[0]
        bs = min(self.batch_size, n)
        args = (self._activation_fns(), self.reconstruction_weight, self.reconstruction_loss, self.decoder_input)
        best = np.inf
        no_improve = 0
        best_params = None
        epochs = 0
        for epoch in range(n_epochs):
            radius = self.radius if radii is None else radii[min(epoch, len(radii) - 1)]
            armed = radii is None or epoch >= len(radii) - 1
            perm = rng.permutation(n)
            total = 0.0
            for start in range(0, n, bs):
                idx = perm[start : start + bs]
                if gates is None:
                    loss, grads, _ = loss_and_grad(X[idx], Y[idx], params, *args)
                else:
                    loss, grads, gate_grads = self._gated_loss_and_grad(X[idx], Y[idx], params, gates, args)
                    gate_opt.step(gates.params, gate_grads)
                total += loss * len(idx)
                if row_mask is not None:
                    grads[0][~row_mask] = 0
                opt.step(params, grads)
                if project is not None:
                    t0 = time.perf_counter()
                    project(params[0], radius, params[0])
                    self.projection_time_ += time.perf_counter() - t0
            epochs += 1
            train_loss = total / n
            self.loss_curve_.append(train_loss)
            if Xv is not None:
                if gates is None:
                    monitored = loss_and_grad(Xv, Yv, params, *args, need_grad=False)[0]
                else:
                    monitored = self._gated_loss_and_grad(Xv, Yv, params, gates, args, need_grad=False)[0]
                self.validation_scores_.append(monitored)
            else:
                monitored = train_loss
            if self.verbose:
                msg = f"[{phase}] epoch {epoch + 1}: loss = {train_loss:.6f}"
                if Xv is not None:
                    msg += f", validation loss = {monitored:.6f}"
                print(msg)
            if not armed:
                continue
            if monitored < best - self.tol:
                no_improve = 0
            else:
                no_improve += 1
            if monitored < best:
                best = monitored
                if Xv is not None:
                    best_params = [p.copy() for p in all_params]
            if no_improve >= self.n_iter_no_change:
                if self.verbose:
                    print(f"[{phase}] stopping: no improvement for {self.n_iter_no_change} epochs.")
                break
        if best_params is not None:
            for p, b in zip(all_params, best_params):
                p[...] = b
        self.projection_time_ += getattr(opt, "prox_time", 0.0)
        return epochs

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train the autoencoder, select the features, and (if ``retrain``) retrain on them.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, preferably standardised. float32 stays float32; other numeric
            dtypes become float64. Sparse matrices are not accepted.
        y : array-like of shape (n_samples,)
            Class labels (at least two classes).

        Returns
        -------
        self : SparseAutoencoderSelector

        Raises
        ------
        ValueError
            If ``X`` contains NaN or inf, ``y`` has a single class or is continuous, or a
            parameter is invalid.
        """
        t_start = time.perf_counter()
        if self.penalty is not None and self.constraint is not None:
            raise ValueError(
                f"penalty={self.penalty!r} needs constraint=None (got constraint={self.constraint!r}): "
                "the penalty selects the features; it is not combined with a projection of the first layer."
            )
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        check_classification_targets(y)
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        n_classes = len(self.classes_)
        if n_classes < 2:
            raise ValueError(
                f"SparseAutoencoderSelector needs samples of at least 2 classes; got 1 class: {self.classes_[0]!r}."
            )
        dtype = X.dtype
        Y = np.eye(n_classes, dtype=dtype)[y_idx]
        rng = check_random_state(self.random_state)
        init_seed = rng.randint(np.iinfo(np.int32).max)

        X_fit = X
        Xv = Yv = None
        if self.early_stopping:
            split_seed = rng.randint(np.iinfo(np.int32).max)
            counts = np.bincount(y_idx)
            n_val = int(np.ceil(self.validation_fraction * len(y_idx)))
            feasible = counts.min() >= 2 and min(n_val, len(y_idx) - n_val) >= n_classes
            stratify = y_idx if feasible else None
            X, Xv, Y, Yv = train_test_split(
                X, Y, test_size=self.validation_fraction, stratify=stratify, random_state=split_seed
            )
        self.validation_scores_ = [] if self.early_stopping else None
        self.loss_curve_ = []
        self.projection_time_ = 0.0

        init_rng = np.random.RandomState(init_seed)
        if self.activation in _SPARSE_ACTIVATIONS:
            params = self._edge_of_chaos_params(X, n_classes, init_rng)
        else:
            self.activation_threshold_ = self.activation_clip_ = None
            params = init_params(
                X.shape[1], self.hidden_layer_size, n_classes, dtype, init_rng, decoder_input=self.decoder_input
            )
        project = None if self.constraint is None else _projector(self.constraint)
        inner = self._inner_norm()
        radii = None
        if project is not None:
            r0 = float(_row_norms(params[0], inner).sum())
            n_decay = min(self.radius_decay_epochs, self.max_epochs)
            if n_decay > 0 and r0 > self.radius:
                # geometric decrease from the initial norm of W1 to radius over n_decay epochs
                radii = self.radius * (r0 / self.radius) ** (1 - np.arange(1, n_decay + 1) / n_decay)
            else:
                t0 = time.perf_counter()
                project(params[0], self.radius, params[0])
                self.projection_time_ += time.perf_counter() - t0

        with threadpool_limits(limits=1, user_api="blas"):
            # The minibatch products are small: BLAS threads cost more than they gain.
            self._train(params, X, Y, Xv, Yv, rng, project, inner, radii)
            self.activation_sparsity_ = self._zero_fraction(X_fit)
        self.fit_time_ = time.perf_counter() - t_start
        return self

    def _activation_fns(self):
        """The ``act`` argument of the network: a registry name, or the (forward, derivative)
        pair of a clipped activation with the fitted threshold and clip (public functions of
        :mod:`skproj.activations`)."""
        if self.activation not in _SPARSE_ACTIVATIONS:
            return self.activation
        act = _activations.get_activation(self.activation)
        tau, clip = self.activation_threshold_, self.activation_clip_
        return (lambda z: act.forward(z, tau, clip), lambda z, a: act.derivative(z, tau, clip))

    def _edge_of_chaos_params(self, X, n_classes, rng):
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
        n_features, h, dtype = X.shape[1], self.hidden_layer_size, X.dtype
        q_in = float(np.mean(np.square(X, dtype=np.float64))) if X.size else 0.0
        q_in = q_in if q_in > 0 else 1.0  # all-zero data: any scale gives the same zero input
        kw = dict(random_state=rng, dtype=dtype)
        W1, b1 = _activations.init_layer(n_features, h, (_Q_STAR - eoc.sigma_b2) / q_in, eoc.sigma_b2, **kw)
        W2, b2 = eoc.init_layer(h, n_classes, **kw)
        if self.decoder_input == "hidden":  # fed by activations, like W2 and W4
            W3, b3 = eoc.init_layer(h, h, **kw)
        else:
            W3, b3 = _activations.init_layer(n_classes, h, (_Q_STAR - eoc.sigma_b2) / _Q_STAR, eoc.sigma_b2, **kw)
        W4, b4 = eoc.init_layer(h, n_features, **kw)
        return [W1, b1, W2, b2, W3, b3, W4, b4]

    def _zero_fraction(self, X):
        """Fraction of exact zeros among the hidden activations (encoder and decoder) on ``X``."""
        phi, _ = _resolve(self._activation_fns())
        W1, W2, W3, _ = self.coefs_
        b1, b2, b3, _ = self.intercepts_
        a1 = phi(X @ W1 + b1)
        dec_in = a1 if self.decoder_input == "hidden" else a1 @ W2 + b2
        a3 = phi(dec_in @ W3 + b3)
        return (np.count_nonzero(a1 == 0) + np.count_nonzero(a3 == 0)) / (a1.size + a3.size)

    def _train(self, params, X, Y, Xv, Yv, rng, project, inner, radii):
        gates = None
        if self.penalty == "differentiable":
            gates = DifferentiableGates(X.shape[1], alpha=self._alpha(), p=0.5, dtype=X.dtype)
        # Phase 1: projected (or gated) training.
        self.n_iter_select_ = self._run_phase(
            params, X, Y, Xv, Yv, rng, self.max_epochs, project, None, "select", radii, gates
        )
        W1 = params[0]
        self.gates_ = None
        if gates is not None:
            a = gates.forward()
            self.gates_ = a
            W1 *= (X.shape[1] * a).astype(W1.dtype, copy=False)[:, None]  # fold the gates into W1
            norms = a
        else:
            norms = _row_norms(W1, inner)
        support = norms > 0
        if self.max_features is not None and support.sum() > self.max_features:
            keep = np.argsort(-norms, kind="stable")[: self.max_features]
            support = np.zeros_like(support)
            support[keep] = True
        W1[~support] = 0

        # Phase 2: double descent on the frozen support.
        n_retrain = 0
        if self.retrain and support.any():
            epochs = self.max_epochs if self.retrain_epochs is None else self.retrain_epochs
            n_retrain = self._run_phase(params, X, Y, Xv, Yv, rng, epochs, None, support, "retrain")
            W1[~support] = 0  # exact zeros (masked gradients keep them; this guards rounding)

        self.support_ = support
        self.feature_importances_ = _row_norms(W1, inner)
        self.coefs_ = params[0::2]
        self.intercepts_ = params[1::2]
        self.n_iter_ = self.n_iter_select_ + n_retrain

    # ------------------------------------------------------------------ prediction
    def _get_support_mask(self):
        check_is_fitted(self)
        return self.support_

    def _logits(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        params = [a.astype(X.dtype, copy=False) for pair in zip(self.coefs_, self.intercepts_) for a in pair]
        return forward(X, params, self._activation_fns())

    def decision_function(self, X):
        """Class logits (the latent code of the autoencoder).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in_)

        Returns
        -------
        ndarray of shape (n_samples,) for two classes (logit of class 1 minus logit of
        class 0), else (n_samples, n_classes).
        """
        Z = self._logits(X)
        if Z.shape[1] == 2:
            return Z[:, 1] - Z[:, 0]
        return Z

    def predict_proba(self, X):
        """Class probabilities: softmax of the logits.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in_)

        Returns
        -------
        ndarray of shape (n_samples, n_classes), columns ordered as ``classes_``.
        """
        Z = self._logits(X)
        Z = Z - Z.max(axis=1, keepdims=True)
        P = np.exp(Z)
        P /= P.sum(axis=1, keepdims=True)
        return P

    def predict(self, X):
        """Predicted class labels (argmax of the logits).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in_)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return self.classes_[np.argmax(self._logits(X), axis=1)]
