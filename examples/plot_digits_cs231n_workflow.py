"""
==================================================
The cs231n workflow on digits: tune, test, look
==================================================

Stanford's CS231n assignment 1 trains a linear softmax classifier in four
steps: subtract the mean image, search the learning rate and the
regularisation strength on held-out data, report the test accuracy of the
best model, and look at the learned weights, which turn out to be one
template image per class.

This example does the same with scikit-learn's tools on the 8x8 digits:
a :class:`~sklearn.pipeline.Pipeline` does the preprocessing,
:class:`~sklearn.model_selection.GridSearchCV` does the search, and
:class:`~sksoftmax.SoftmaxSGDClassifier` is the classifier.
"""

# sphinx_gallery_thumbnail_number = 2

# %%
# The data
# --------
#
# 1797 grey-level images of 8x8 pixels with values 0..16. A quarter is kept
# aside for the final test; the search only sees the rest.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sksoftmax import SoftmaxSGDClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
print(f"{X_train.shape[0]} training and {X_test.shape[0]} test images")

# %%
# Preprocessing and search
# ------------------------
#
# cs231n subtracts the mean image (centering); standardising also divides
# each pixel by its standard deviation. Both are one
# :class:`~sklearn.preprocessing.StandardScaler`, with ``with_std`` off or
# on, so the search treats the choice as one more parameter, beside the
# initial step size ``eta0`` and the L2 strength ``alpha``. ``eta0="auto"``
# (the default) derives the step from the data; the fixed values are what a
# hand search would try. Three-fold cross-validation plays the role of
# cs231n's validation set.
pipeline = make_pipeline(StandardScaler(), SoftmaxSGDClassifier(random_state=0))
eta0_values = ["auto", 0.001, 0.01, 0.1, 1.0]
alpha_values = [1e-4, 1e-3, 1e-2, 1e-1, 1.0]
param_grid = {
    "standardscaler__with_std": [False, True],
    "softmaxsgdclassifier__eta0": eta0_values,
    "softmaxsgdclassifier__alpha": alpha_values,
}
search = GridSearchCV(pipeline, param_grid, cv=3)
search.fit(X_train, y_train)
print("best parameters:", search.best_params_)
print(f"best cross-validated accuracy: {search.best_score_:.3f}")

# %%
# The validation accuracy of every candidate, as two heat maps: one for
# centered pixels, one for standardised pixels. Rows are strengths, columns
# step sizes.
results = search.cv_results_
lowest = results["mean_test_score"].min()
fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), sharey=True, layout="constrained")
for ax, with_std in zip(axes, [False, True]):
    scores = np.empty((len(alpha_values), len(eta0_values)))
    for params, score in zip(results["params"], results["mean_test_score"]):
        if params["standardscaler__with_std"] == with_std:
            row = alpha_values.index(params["softmaxsgdclassifier__alpha"])
            column = eta0_values.index(params["softmaxsgdclassifier__eta0"])
            scores[row, column] = score
    image = ax.imshow(scores, cmap="viridis", vmin=lowest, vmax=1.0)
    for (row, column), score in np.ndenumerate(scores):
        ax.text(
            column,
            row,
            f"{score:.3f}",
            ha="center",
            va="center",
            color="white" if score < (lowest + 1) / 2 else "black",
            fontsize=9,
        )
    print(
        f"{'standardised' if with_std else 'centered'} pixels: best with "
        f"eta0='auto' {scores[:, 0].max():.3f}, best with a fixed eta0 "
        f"{scores[:, 1:].max():.3f}"
    )
    ax.set_xticks(range(len(eta0_values)), [str(eta0) for eta0 in eta0_values])
    ax.set_yticks(range(len(alpha_values)), [f"{alpha:g}" for alpha in alpha_values])
    ax.set_xlabel("eta0")
    ax.set_title("standardised pixels" if with_std else "centered pixels (cs231n)")
axes[0].set_ylabel("alpha")
fig.colorbar(image, ax=axes, label="mean validation accuracy", shrink=0.9)
plt.show()

# %%
# Too strong a penalty (the bottom rows) costs accuracy whatever the step.
# A fixed step has to be searched for, and a small one can cost accuracy
# too: it makes so little progress per epoch that the ``tol`` criterion
# stops training early. The automatic step, derived from the data, needs
# no search.
#
# Test accuracy of the best model
# -------------------------------
#
# :class:`~sklearn.model_selection.GridSearchCV` refits the best candidate
# on all training images; the test images are used once, now.
best_model = search.best_estimator_
print(f"test accuracy of the best model: {best_model.score(X_test, y_test):.3f}")

# %%
# The learned templates
# ---------------------
#
# Each class's score is the dot product of its weight row with the
# (preprocessed) image, so each row of ``coef_`` is an 8x8 image: the
# template the class matches against. Positive weights (red) are pixels
# where ink makes the class more likely, negative ones (blue) pixels where
# ink speaks against it.
classifier = best_model[-1]
templates = classifier.coef_.reshape(-1, 8, 8)
limit = np.abs(templates).max()
fig, axes = plt.subplots(2, 5, figsize=(9, 4), layout="constrained")
for label, (ax, template) in enumerate(zip(axes.ravel(), templates)):
    ax.imshow(template, cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.set_title(f"class {label}")
    ax.set_axis_off()
fig.suptitle("Weights of each class, shown as 8x8 images")
plt.show()
