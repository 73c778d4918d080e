"""
==============================================================
One softmax or one-vs-rest: probabilities and calibration
==============================================================

:class:`~sklearn.linear_model.SGDClassifier` with ``loss="log_loss"`` is
also a linear classifier trained by SGD with the logistic loss, but for
more than two classes it trains one binary classifier per class (this class
against the rest) and, to predict probabilities, divides each class's
sigmoid by their sum. :class:`~sksoftmax.SoftmaxSGDClassifier` trains one
multinomial model whose softmax *is* the probability model it was fitted
for.

This example fits both on the same data and compares their probabilities:
for a few test points, in a reliability diagram, and by the log-loss.
:class:`~sklearn.linear_model.LogisticRegression`, which fits the same
multinomial model as ``SoftmaxSGDClassifier`` with a batch solver, is
shown as a reference.
"""

# %%
# Data and models
# ---------------
#
# Five overlapping classes, so that the probabilities have something to say.
# The three models get the same standardised features and the same L2
# strength (``C = 1 / (alpha * n_samples)`` for LogisticRegression).
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sksoftmax import SoftmaxSGDClassifier

X, y = make_classification(
    n_samples=8000,
    n_features=20,
    n_informative=10,
    n_redundant=4,
    n_classes=5,
    n_clusters_per_class=1,
    class_sep=1.0,
    random_state=0,
)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.5, stratify=y, random_state=0
)
alpha = 1e-4
models = {
    "SoftmaxSGDClassifier": SoftmaxSGDClassifier(alpha=alpha, random_state=0),
    "SGDClassifier (one-vs-rest)": SGDClassifier(
        loss="log_loss", alpha=alpha, random_state=0
    ),
    "LogisticRegression": LogisticRegression(C=1 / (alpha * len(y_train))),
}
probabilities = {}
for name, model in models.items():
    pipeline = make_pipeline(StandardScaler(), model).fit(X_train, y_train)
    probabilities[name] = pipeline.predict_proba(X_test)
    print(
        f"{name:28s} log-loss {log_loss(y_test, probabilities[name]):.4f}  "
        f"accuracy {accuracy_score(y_test, probabilities[name].argmax(axis=1)):.4f}"
    )

# %%
# The log-loss is the mean of :math:`-\log p_{y_i}`: it rewards confident
# right answers and punishes confident wrong ones, so it measures the
# probabilities themselves, where the accuracy only looks at their argmax.
#
# Probabilities of a few test points
# ----------------------------------
#
# The same four test points seen by each model. One-vs-rest probabilities
# are each class's sigmoid divided by the sum of all five; the softmax
# spreads its mass as the multinomial model says.
points = [0, 1, 2, 3]
fig, axes = plt.subplots(
    1, len(points), figsize=(12, 3.2), sharey=True, layout="constrained"
)
width = 0.27
classes = np.arange(5)
for ax, point in zip(axes, points):
    for offset, (name, proba) in zip([-width, 0, width], probabilities.items()):
        ax.bar(classes + offset, proba[point], width=width, label=name)
    ax.set(
        title=f"test point {point} (true class {y_test[point]})",
        xlabel="class",
        xticks=classes,
    )
axes[0].set_ylabel("predicted probability")
axes[-1].legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=9)
plt.show()

# %%
# Reliability diagram
# -------------------
#
# A model is *calibrated* when, among the points it predicts with confidence
# :math:`c`, a fraction :math:`c` is right. The diagram bins the test
# points by the probability of the predicted class and plots the accuracy
# of each bin against its mean confidence: calibrated models lie on the
# diagonal, over-confident ones below it, under-confident ones above it.
# The histogram below shows how many points each bin holds.


def reliability(y_true, proba, n_bins=10):
    """Mean confidence, accuracy and count of the points in each confidence bin."""
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == y_true
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins)
    with np.errstate(invalid="ignore"):  # empty bins give NaN
        mean_confidence = np.bincount(bins, confidence, n_bins) / counts
        accuracy = np.bincount(bins, correct, n_bins) / counts
    return mean_confidence, accuracy, counts


fig, (ax_curve, ax_hist) = plt.subplots(
    2, 1, figsize=(6, 7), height_ratios=[3, 1], sharex=True, layout="constrained"
)
ax_curve.plot([0, 1], [0, 1], color="grey", linestyle=":", label="calibrated")
edges = np.linspace(0, 1, 11)
for name, proba in probabilities.items():
    mean_confidence, accuracy, counts = reliability(y_test, proba)
    filled = counts > 0
    expected_error = (
        np.sum(np.abs(mean_confidence - accuracy)[filled] * counts[filled])
        / counts.sum()
    )
    shown = counts >= 20  # a bin of a handful of points says little
    ax_curve.plot(
        mean_confidence[shown],
        accuracy[shown],
        marker="o",
        label=f"{name} (ECE {expected_error:.3f})",
    )
    ax_hist.stairs(counts, edges, label=name)
    print(
        f"{name:28s} mean confidence {proba.max(axis=1).mean():.3f}, "
        f"accuracy {np.mean(proba.argmax(axis=1) == y_test):.3f}"
    )
ax_curve.set(
    ylabel="accuracy in the bin",
    xlim=(0, 1),
    ylim=(0, 1),
    title="Reliability of the predicted class's probability",
)
ax_curve.legend(loc="upper left", fontsize=9)
ax_hist.set(
    xlabel="probability of the predicted class (confidence)", ylabel="test points"
)
plt.show()

# %%
# ECE, the expected calibration error, is the distance between the curve
# and the diagonal, weighted by the points in each bin.
#
# The softmax model, trained by SGD, gives practically the probabilities of
# LogisticRegression: both fit the same model to the same objective. The
# one-vs-rest probabilities are a renormalisation of five binary models
# that never saw each other. On this data they are under-confident: the
# points land in lower confidence bins (see the histogram) than the
# softmax puts them in, and each bin is right more often than its
# confidence says. The log-loss pays for that even where the predicted
# class is the same. When the probabilities matter (for decisions with
# costs, for ranking, for combining models), fit them with the model that
# produces them, or recalibrate the one-vs-rest model with
# :class:`~sklearn.calibration.CalibratedClassifierCV`.
