"""Tests of SparseAutoencoderSelector, its numpy network and its Adam optimiser."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import skproj.projections as projections
from skproj import SparseAutoencoderSelector
from skproj._network import ACTIVATIONS, init_params, loss_and_grad
from skproj._optim import Adam
from skproj.activations import get_activation

HAS_L1INF = hasattr(projections, "project_l1inf_ball")
CONSTRAINTS = ["l12", "l1"] + (["l1inf"] if HAS_L1INF else [])


def _data(n=120, d=20, informative=4, seed=0, dtype=np.float64):
    X, y = make_classification(
        n_samples=n, n_features=d, n_informative=informative, n_redundant=0, shuffle=False, random_state=seed
    )
    return StandardScaler().fit_transform(X).astype(dtype), y


_CHECKED = [
    SparseAutoencoderSelector(constraint="l12"),
    SparseAutoencoderSelector(constraint="l1", max_features=3, activation="silu"),
    SparseAutoencoderSelector(radius=np.inf, activation="tanh", early_stopping=True, reconstruction_loss="squared"),
    SparseAutoencoderSelector(constraint="l12", decoder_input="hidden"),
]
if HAS_L1INF:
    _CHECKED.insert(0, SparseAutoencoderSelector())


def _expected_failed_checks(estimator):
    if estimator.activation == "tanh" and estimator.early_stopping:
        # Checked: with class_weight={0: 1000, 1: 1e-4(, 2: 1e-4)} this configuration predicts
        # class 0 for 56% (two classes) / 66-68% (three) of the check's test points, against
        # > 87% required; the default configuration gives 100% (and passes the check). The
        # check's data (make_blobs, std 20) are not standardised, so tanh saturates, and the
        # 60 epochs of 2 Adam steps of size 1e-3 (50 training samples) do not move the logits
        # far enough. The weights are applied in both phases (test_class_weight).
        return {
            "check_class_weight_classifiers": "tanh saturates on the check's unscaled data: too few "
            "Adam steps to follow extreme class weights (the default configuration passes)"
        }
    return {}


@parametrize_with_checks(_CHECKED, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# --------------------------------------------------------------------------- network
@pytest.mark.parametrize("act", sorted(ACTIVATIONS))
@pytest.mark.parametrize("rec", ["smooth_l1", "squared"])
@pytest.mark.parametrize("dec", ["logits", "hidden"])
@pytest.mark.parametrize("weighted", [False, True])
def test_gradient_matches_finite_differences(act, rec, dec, weighted):
    rng = np.random.RandomState(0)
    n, d, h, k = 7, 5, 4, 3
    X = rng.randn(n, d) * 1.5  # residuals on both sides of the smooth-L1 kink
    Y = np.eye(k)[rng.randint(0, k, n)]
    if weighted:  # class weights: one-hot rows times a weight per sample
        Y *= rng.uniform(0.2, 3.0, n)[:, None]
    params = init_params(d, h, k, np.float64, rng, decoder_input=dec)
    assert params[4].shape == ((h if dec == "hidden" else k), h)
    for p in params:
        p += 0.3 * rng.randn(*p.shape)  # non-zero biases; ReLU kinks are avoided generically
    _, grads, _ = loss_and_grad(X, Y, params, act, 0.7, rec, dec)
    eps = 1e-6
    for p, g in zip(params, grads):
        num = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + eps
            lp = loss_and_grad(X, Y, params, act, 0.7, rec, dec, need_grad=False)[0]
            p[idx] = old - eps
            lm = loss_and_grad(X, Y, params, act, 0.7, rec, dec, need_grad=False)[0]
            p[idx] = old
            num[idx] = (lp - lm) / (2 * eps)
        np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-7)


def test_loss_parts_match_definitions():
    rng = np.random.RandomState(1)
    X = rng.randn(6, 4)
    y = rng.randint(0, 2, 6)
    Y = np.eye(2)[y]
    params = init_params(4, 3, 2, np.float64, rng)
    loss, _, (ce, rec) = loss_and_grad(X, Y, params, "relu", 2.0, "squared")
    W1, b1, W2, b2, W3, b3, W4, b4 = params
    Z = np.maximum(X @ W1 + b1, 0) @ W2 + b2
    Xhat = np.maximum(Z @ W3 + b3, 0) @ W4 + b4
    P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(ce, -np.mean(np.log(P[np.arange(6), y])))
    np.testing.assert_allclose(rec, np.mean((Xhat - X) ** 2))
    np.testing.assert_allclose(loss, ce + 2.0 * rec)


def test_hidden_decoder_loss_parts_match_definitions():
    rng = np.random.RandomState(2)
    X = rng.randn(6, 4)
    y = rng.randint(0, 2, 6)
    Y = np.eye(2)[y]
    params = init_params(4, 3, 2, np.float64, rng, decoder_input="hidden")
    loss, _, (ce, rec) = loss_and_grad(X, Y, params, "tanh", 2.0, "squared", "hidden")
    W1, b1, W2, b2, W3, b3, W4, b4 = params
    A1 = np.tanh(X @ W1 + b1)
    Z = A1 @ W2 + b2
    Xhat = np.tanh(A1 @ W3 + b3) @ W4 + b4  # the decoder reads the hidden layer, not Z
    P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(ce, -np.mean(np.log(P[np.arange(6), y])))
    np.testing.assert_allclose(rec, np.mean((Xhat - X) ** 2))
    np.testing.assert_allclose(loss, ce + 2.0 * rec)


# --------------------------------------------------------------------------- optimiser
def test_adam_matches_reference_and_calls_hook():
    rng = np.random.RandomState(0)
    p0 = rng.randn(3, 2)
    grads = [rng.randn(3, 2) for _ in range(5)]
    calls = []

    class Hooked(Adam):
        def post_step(self, params):
            calls.append(params[0].copy())

    opt = Hooked(lr=0.1, betas=(0.8, 0.99), eps=1e-8)
    p = [p0.copy()]
    for g in grads:
        opt.step(p, [g])
    # independent scalar-loop reference of Kingma & Ba, Algorithm 1
    ref = p0.copy()
    m = np.zeros_like(ref)
    v = np.zeros_like(ref)
    for t, g in enumerate(grads, 1):
        m = 0.8 * m + 0.2 * g
        v = 0.99 * v + 0.01 * g**2
        ref = ref - 0.1 * (m / (1 - 0.8**t)) / (np.sqrt(v / (1 - 0.99**t)) + 1e-8)
    np.testing.assert_allclose(p[0], ref, rtol=1e-12)
    assert len(calls) == 5 and opt.t == 5
    np.testing.assert_array_equal(calls[-1], p[0])


def test_adam_keeps_float32_and_skips_none():
    p = [np.ones(4, np.float32), np.ones(2, np.float32)]
    Adam(lr=0.5).step(p, [np.full(4, 2.0, np.float32), None])
    assert p[0].dtype == np.float32
    np.testing.assert_allclose(p[0], 0.5, rtol=1e-5)
    np.testing.assert_array_equal(p[1], 1.0)


# --------------------------------------------------------------------------- estimator
def test_reproducible_with_random_state():
    X, y = _data()
    a = SparseAutoencoderSelector("l12", radius=1.0, max_epochs=15, random_state=3).fit(X, y)
    b = SparseAutoencoderSelector("l12", radius=1.0, max_epochs=15, random_state=3).fit(X, y)
    for wa, wb in zip(a.coefs_, b.coefs_):
        np.testing.assert_array_equal(wa, wb)
    np.testing.assert_array_equal(a.support_, b.support_)
    assert a.loss_curve_ == b.loss_curve_


@pytest.mark.parametrize("constraint", CONSTRAINTS)
def test_support_transform_consistency(constraint):
    X, y = _data()
    radius = {"l12": 0.5, "l1": 0.5, "l1inf": 0.05}[constraint]
    sel = SparseAutoencoderSelector(constraint, radius=radius, max_epochs=15, random_state=0).fit(X, y)
    mask = sel.get_support()
    assert mask.dtype == bool and mask.shape == (X.shape[1],)
    assert 0 < mask.sum() < X.shape[1]
    np.testing.assert_array_equal(sel.transform(X), X[:, mask])
    np.testing.assert_array_equal(sel.get_support(indices=True), np.flatnonzero(mask))
    W1 = sel.coefs_[0]
    np.testing.assert_array_equal(np.abs(W1).sum(axis=1) > 0, mask)
    np.testing.assert_array_equal(sel.feature_importances_ > 0, mask)
    back = sel.inverse_transform(sel.transform(X))
    np.testing.assert_array_equal(back[:, mask], X[:, mask])
    assert not back[:, ~mask].any()


@pytest.mark.parametrize("constraint", CONSTRAINTS)
def test_constraint_holds_without_retraining(constraint):
    X, y = _data()
    radius = 0.7
    sel = SparseAutoencoderSelector(constraint, radius=radius, retrain=False, max_epochs=10, random_state=0).fit(X, y)
    W1 = sel.coefs_[0]
    if constraint == "l12":
        norm = projections.l12_norm(W1, axis=1)
    elif constraint == "l1":
        norm = np.abs(W1).sum()
    else:
        norm = projections.l1inf_norm(W1, axis=1)
    assert norm <= radius * (1 + 1e-6)
    # the projection is active: the unconstrained run ends outside the ball
    free = SparseAutoencoderSelector(radius=np.inf, retrain=False, max_epochs=10, random_state=0).fit(X, y)
    assert projections.l12_norm(free.coefs_[0], axis=1) > radius


def test_support_never_grows_in_retraining(monkeypatch):
    X, y = _data()
    seen = {}
    from skproj import _selector

    orig = _selector.Trainer.run

    def spy(self, params, *args, **kwargs):
        out = orig(self, params, *args, **kwargs)
        seen.setdefault("rows", []).append(np.abs(params[0]).sum(axis=1) > 0)
        return out

    monkeypatch.setattr(_selector.Trainer, "run", spy)
    sel = SparseAutoencoderSelector("l12", radius=0.5, max_epochs=15, random_state=0).fit(X, y)
    after_select, after_retrain = seen["rows"]
    assert sel.n_iter_ > sel.n_iter_select_  # the second phase ran
    assert not (after_retrain & ~after_select).any()
    np.testing.assert_array_equal(sel.support_, after_select)
    np.testing.assert_array_equal(after_retrain, after_select)  # kept rows keep training


def test_max_features_keeps_largest_rows():
    X, y = _data()
    full = SparseAutoencoderSelector(radius=np.inf, retrain=False, max_epochs=10, random_state=0).fit(X, y)
    top = SparseAutoencoderSelector(radius=np.inf, max_features=5, retrain=False, max_epochs=10, random_state=0).fit(X, y)
    assert top.support_.sum() == 5
    np.testing.assert_array_equal(np.sort(np.argsort(-full.feature_importances_)[:5]), np.flatnonzero(top.support_))


@pytest.mark.parametrize("constraint", CONSTRAINTS)
def test_float32_stays_float32(constraint):
    X, y = _data(dtype=np.float32)
    sel = SparseAutoencoderSelector(constraint, radius=0.1, max_epochs=5, random_state=0).fit(X, y)
    assert all(w.dtype == np.float32 for w in sel.coefs_ + sel.intercepts_)
    assert sel.transform(X).dtype == np.float32
    assert sel.predict_proba(X).dtype == np.float32
    assert sel.feature_importances_.dtype == np.float32


def test_learns_and_selects_informative_features():
    X, y = make_classification(
        n_samples=300, n_features=30, n_informative=3, n_redundant=0, n_clusters_per_class=1,
        class_sep=1.5, shuffle=False, random_state=0,
    )
    X = StandardScaler().fit_transform(X)
    sel = SparseAutoencoderSelector("l12", radius=0.5, random_state=0).fit(X, y)
    assert sel.support_[:3].all()  # the 3 informative features are kept
    assert sel.support_.sum() <= 5  # and almost nothing else
    assert sel.score(X, y) > 0.9
    np.testing.assert_allclose(sel.predict_proba(X).sum(axis=1), 1.0)
    assert 0 <= sel.projection_time_ <= sel.fit_time_


def test_pipeline_gridsearch_over_radius():
    X, y = _data(n=150, d=15, informative=3)
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("select", SparseAutoencoderSelector("l12", max_epochs=10, random_state=0)),
            ("clf", LogisticRegression()),
        ]
    )
    gs = GridSearchCV(pipe, {"select__radius": [0.1, 1.0]}, cv=3).fit(X, y)
    assert gs.best_params_["select__radius"] in (0.1, 1.0)
    assert gs.score(X, y) > 0.5


def test_pandas_output_keeps_names():
    pd = pytest.importorskip("pandas")
    X, y = _data()
    names = [f"gene{i}" for i in range(X.shape[1])]
    df = pd.DataFrame(X, columns=names)
    sel = SparseAutoencoderSelector("l12", radius=0.5, max_epochs=10, random_state=0).set_output(transform="pandas")
    out = sel.fit(df, y).transform(df)
    assert list(out.columns) == list(np.asarray(names)[sel.support_])
    np.testing.assert_array_equal(sel.feature_names_in_, names)
    np.testing.assert_array_equal(sel.get_feature_names_out(), out.columns)


def test_class_weight():
    rng = np.random.RandomState(3)
    X = rng.randn(90, 12)
    y = np.repeat([0, 1, 2], [60, 20, 10])
    X[y == 2, 5] += 2.0
    X[y == 1, 9] += 1.5
    kw = dict(n_features_to_select=3, max_epochs=8, random_state=0)
    plain = SparseAutoencoderSelector(**kw).fit(X, y)
    # unit weights, and "balanced" on balanced classes, change nothing (bitwise)
    ones = SparseAutoencoderSelector(class_weight={0: 1, 1: 1, 2: 1}, **kw).fit(X, y)
    np.testing.assert_array_equal(ones.coefs_[0], plain.coefs_[0])
    yb = np.repeat([0, 1, 2], 30)
    np.testing.assert_array_equal(
        SparseAutoencoderSelector(class_weight="balanced", **kw).fit(X, yb).coefs_[0],
        SparseAutoencoderSelector(**kw).fit(X, yb).coefs_[0],
    )
    # weighting a class up makes the network predict it more (both phases use the weights)
    up = SparseAutoencoderSelector(class_weight={0: 1, 1: 1, 2: 10}, **kw).fit(X, y)
    assert up.predict_proba(X)[:, 2].mean() > plain.predict_proba(X)[:, 2].mean() + 0.05
    assert (up.predict(X) == 2).sum() > (plain.predict(X) == 2).sum()
    with pytest.raises(ValueError, match="class_weight"):
        SparseAutoencoderSelector(class_weight={7: 2.0}, **kw).fit(X, y)


def test_single_class_and_unknown_activation_raise():
    X, y = _data(n=20)
    with pytest.raises(ValueError, match="2 classes"):
        SparseAutoencoderSelector("l12").fit(X, np.zeros(20))
    # the class is named as the user wrote it, not as a numpy scalar's repr
    with pytest.raises(ValueError, match=r"got 1 class: 'b'\.$"):
        SparseAutoencoderSelector("l12").fit(X, np.array(["b"] * 20))
    with pytest.raises(ValueError, match="activation"):
        SparseAutoencoderSelector("l12", activation="nope").fit(X, y)


def test_verbose_and_early_stopping_records():
    X, y = _data()
    sel = SparseAutoencoderSelector(
        "l12", radius=0.5, max_epochs=12, radius_decay_epochs=4, early_stopping=True, n_iter_no_change=3,
        random_state=0,
    )
    sel.fit(X, y)
    assert len(sel.validation_scores_) == len(sel.loss_curve_) == sel.n_iter_
    assert np.all(np.isfinite(sel.loss_curve_))
    assert projections.l12_norm(sel.coefs_[0][~sel.support_], axis=1) == 0


def test_verbose_prints_each_epoch(capsys):
    X, y = _data(n=40)
    SparseAutoencoderSelector("l12", max_epochs=3, retrain=False, verbose=1, random_state=0).fit(X, y)
    out = capsys.readouterr().out
    assert out.count("[select] epoch") == 3


def test_register_activation_is_accepted():
    from skproj._network import ACTIVATIONS, register_activation

    calls = []

    def softsign(z):
        calls.append(z.shape)
        return z / (1 + np.abs(z))

    register_activation("softsign_test", softsign, lambda z, a: 1 / (1 + np.abs(z)) ** 2)
    try:
        X, y = _data(n=40)
        sel = SparseAutoencoderSelector("l12", activation="softsign_test", max_epochs=2, random_state=0).fit(X, y)
        assert calls  # training used the registered function
        assert sel.predict(X).shape == (40,)
        # the network's output is computed with the user's function: logits = phi(X W1 + b1) W2 + b2
        W1, W2 = sel.coefs_[:2]
        b1, b2 = sel.intercepts_[:2]
        a1 = X @ W1 + b1
        a1 = a1 / (1 + np.abs(a1))
        Z = a1 @ W2 + b2
        n_calls = len(calls)
        np.testing.assert_allclose(sel.decision_function(X), Z[:, 1] - Z[:, 0], rtol=1e-10, atol=1e-12)
        assert len(calls) > n_calls  # decision_function called it too
        np.testing.assert_array_equal(sel.predict(X), sel.classes_[np.argmax(Z, axis=1)])
    finally:
        from skproj._network import ACTIVATION_NAMES

        ACTIVATIONS.pop("softsign_test")
        ACTIVATION_NAMES.discard("softsign_test")


def test_hidden_decoder_without_reconstruction_leaves_the_encoder_unchanged():
    # With reconstruction_weight=0 the decoder gets no gradient and sends none to the encoder;
    # the encoder's initial weights are drawn before W3, so both decoders train the same encoder.
    X, y = _data()
    kw = dict(reconstruction_weight=0.0, max_epochs=15, radius=0.5, random_state=0)
    a = SparseAutoencoderSelector(**kw).fit(X, y)
    b = SparseAutoencoderSelector(decoder_input="hidden", **kw).fit(X, y)
    assert a.coefs_[2].shape == (2, 64) and b.coefs_[2].shape == (64, 64)
    np.testing.assert_array_equal(a.support_, b.support_)
    np.testing.assert_allclose(a.coefs_[0], b.coefs_[0])
    np.testing.assert_allclose(a.decision_function(X), b.decision_function(X))


def test_hidden_decoder_with_clipped_activation_fits():
    X, y = _data()
    est = SparseAutoencoderSelector(
        decoder_input="hidden", activation="clipped_relu", hidden_layer_size=16, max_epochs=10, random_state=0
    ).fit(X, y)
    assert est.coefs_[2].shape == (16, 16)
    assert est.predict(X).shape == y.shape
    # the reported sparsity is the fraction of exact zeros of the fitted network's hidden
    # activations, recomputed here with the public activation, its fitted threshold and clip;
    # the decoder reads the hidden layer a1 (decoder_input="hidden"), not the logits
    act = get_activation("clipped_relu")
    tau, clip = est.activation_threshold_, est.activation_clip_
    W1, W2, W3, _ = est.coefs_
    b1, b2, b3, _ = est.intercepts_
    a1 = act.forward(X @ W1 + b1, tau, clip)
    a3 = act.forward(a1 @ W3 + b3, tau, clip)
    expected = (np.count_nonzero(a1 == 0) + np.count_nonzero(a3 == 0)) / (a1.size + a3.size)
    assert 0.0 < expected < 1.0
    assert est.activation_sparsity_ == pytest.approx(expected, abs=1e-12)
    Z = a1 @ W2 + b2
    np.testing.assert_allclose(est.decision_function(X), Z[:, 1] - Z[:, 0], rtol=1e-10, atol=1e-12)


def _counts_problem():
    # raw Poisson counts (not scaled): a learning rate of 1e12 makes the loss overflow
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(4), 50)
    X = rng.poisson(1.0, size=(200, 300)).astype(np.float32)
    for c in range(4):
        X[y == c, 5 * c:5 * c + 5] += rng.poisson(6, size=(50, 5))
    return X, y


@pytest.mark.parametrize("sparse_input", [False, True])
def test_diverged_training_says_so(sparse_input):
    """A learning rate far too large: a ValueError that says the training diverged and what to
    lower (it was the projection's "W contains NaN", about an argument the user never gave)."""
    import scipy.sparse as sp

    from skproj._training import DivergedError

    X, y = _counts_problem()
    X = sp.csr_matrix(X) if sparse_input else X
    est = SparseAutoencoderSelector(max_epochs=2, learning_rate=1e12, n_features_to_select=5, random_state=0)
    with pytest.raises(DivergedError, match="training diverged.*lower learning_rate"):
        est.fit(X, y)
    assert issubclass(DivergedError, ValueError)
    SparseAutoencoderSelector(max_epochs=2, learning_rate=1e-3, n_features_to_select=5,
                              random_state=0).fit(X, y)   # the same data at the default rate


def test_projection_of_non_finite_weights_says_the_training_diverged():
    from skproj._training import BallStep, DivergedError
    from skproj.sparsity import L1InfBall

    step = BallStep(L1InfBall(radius=1.0, axis=1))
    W = np.ones((4, 3))
    W[2, 1] = np.inf
    with pytest.raises(DivergedError, match="first layer's weights is not finite"):
        step.after_step(W)
    with pytest.raises(ValueError, match="2-D") as info:   # other errors are the projection's own
        step.after_step(np.ones(3))
    assert not isinstance(info.value, DivergedError)
