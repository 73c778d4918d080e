"""
=======================================================
Learning-rate schedules, momentum and averaging
=======================================================

With a constant step size, minibatch SGD goes quickly towards the minimum
and then wanders around it: each minibatch's gradient is a noisy estimate of
the full one. The ways out are to shrink the step (a *schedule*), to
accumulate gradients over steps (*momentum*), or to average the iterates
(*averaging*). This example trains :class:`~sksoftmax.SoftmaxSGDClassifier`
with each of them on the same data, with the same starting step
(``eta0="auto"``) and the same budget of epochs, and plots after every epoch
the training objective (``loss_curve_``) beside the log-loss and the
accuracy on held-out rows (``validation_loss_curve_``,
``validation_scores_``).
"""

# %%
# Data and common settings
# ------------------------
#
# A five-class problem with 30 features, standardised. ``early_stopping=True``
# holds out 20% of the rows and records the validation curves;
# ``tol=None`` switches the stopping rule off, so that every run gets the
# same 25 epochs of minibatches of the default size.
import matplotlib.pyplot as plt
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler

from sksoftmax import SoftmaxSGDClassifier

X, y = make_classification(
    n_samples=6000,
    n_features=30,
    n_informative=15,
    n_classes=5,
    n_clusters_per_class=1,
    class_sep=0.8,
    random_state=0,
)
X = StandardScaler().fit_transform(X)
common = dict(
    max_iter=25,
    tol=None,
    early_stopping=True,
    validation_fraction=0.2,
    random_state=0,
)

# %%
# The runs
# --------
#
# First the schedules, all without momentum. ``"adaptive"`` divides the step
# by 5 when the validation loss stalls, so it needs a ``tol``: it gets one
# here and may stop before the others. Then, with a constant step:
# momentum, in its heavy-ball and Nesterov forms, and averaging; and last
# the estimator's defaults for the schedule and momentum.
schedules = {
    "constant": dict(learning_rate="constant"),
    "optimal": dict(learning_rate="optimal"),
    "invscaling": dict(learning_rate="invscaling"),
    "cosine": dict(learning_rate="cosine"),
    "adaptive": dict(learning_rate="adaptive", tol=1e-4, n_iter_no_change=2),
}
accelerations = {
    "plain SGD": dict(momentum=0.0),
    "heavy-ball momentum 0.9": dict(momentum=0.9, nesterovs_momentum=False),
    "Nesterov momentum 0.9": dict(momentum=0.9, nesterovs_momentum=True),
    "averaged SGD": dict(momentum=0.0, average=True),
}


def train(settings):
    return SoftmaxSGDClassifier(**{**common, **settings}).fit(X, y)


schedule_models = {
    name: train({"momentum": 0.0, **settings}) for name, settings in schedules.items()
}
acceleration_models = {
    name: train({"learning_rate": "constant", **settings})
    for name, settings in accelerations.items()
}
# The defaults, with the stopping rule on as for the adaptive schedule above.
acceleration_models["defaults"] = train(dict(tol=1e-4, n_iter_no_change=2))

for name, model in {**schedule_models, **acceleration_models}.items():
    print(
        f"{name:25s} epochs {model.n_iter_:2d}  final objective "
        f"{model.loss_curve_[-1]:.4f}  best validation accuracy "
        f"{max(model.validation_scores_):.3f}"
    )

# %%
# The curves
# ----------
#
# Left: the training objective after each epoch. Middle and right: the
# log-loss and the accuracy on the held-out rows.
fig, axes = plt.subplots(2, 3, figsize=(14, 7.5), sharex=True, layout="constrained")
for row, (title, models) in enumerate(
    [
        ("schedules, no momentum", schedule_models),
        ("momentum and averaging", acceleration_models),
    ]
):
    for name, model in models.items():
        epochs = range(1, model.n_iter_ + 1)
        axes[row, 0].plot(epochs, model.loss_curve_, label=name)
        axes[row, 1].plot(epochs, model.validation_loss_curve_, label=name)
        axes[row, 2].plot(epochs, model.validation_scores_, label=name)
    axes[row, 0].set(ylabel="training objective", title=title)
    axes[row, 1].set(ylabel="validation log-loss", title=title)
    axes[row, 2].set(ylabel="validation accuracy", title=title)
    axes[row, 2].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=9)
for ax in axes[1]:
    ax.set_xlabel("epoch")
plt.show()

# %%
# What to read in the curves
# --------------------------
#
# - The constant step flattens out early: from then on, the noise of the
#   minibatch gradients keeps it away from the minimum.
# - Decaying steps (``"invscaling"``, ``"cosine"``, and ``"adaptive"`` once
#   it has divided its step) keep lowering the objective after that point.
#   How fast each decays matters: ``"invscaling"`` counts minibatch updates,
#   not epochs, and ``"optimal"`` decays at the rate ``alpha`` sets, which is
#   slow for a weak penalty.
# - Averaging predicts with the mean of the iterates: it removes much of the
#   noise of a constant step without shrinking the step. The validation
#   curves show it; the training objective does not, because
#   ``loss_curve_`` is accumulated over the epoch's minibatches, at the
#   current (not the averaged) weights.
# - Momentum with coefficient :math:`\mu` moves, in the long run, by
#   :math:`1 / (1 - \mu)` times the step, ten times for 0.9. With a constant
#   step that raises the noise floor; with a decaying one (the defaults) the
#   larger steps come early, when they help.
#
# The held-out accuracy moves much less than the objective: for
# prediction, the last digits of the optimisation rarely matter, which is
# why SGD with early stopping is a good deal for large data sets.
