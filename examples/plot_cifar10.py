"""
=================================================
CIFAR-10 as in cs231n: raw pixels, one softmax
=================================================

Stanford's CS231n assignment 1 trains a softmax classifier on the raw,
mean-subtracted pixels of CIFAR-10 and reaches a validation accuracy of
about 0.35 to 0.37: far from a convolutional network, well above chance
(0.10). This example does the same with
:func:`sksoftmax.datasets.load_cifar10` and
:class:`~sksoftmax.SoftmaxSGDClassifier`.

The data is not bundled with sksoftmax. Download "CIFAR-10 python version"
(``cifar-10-python.tar.gz``, 163 MB) from
https://www.cs.toronto.edu/~kriz/cifar.html, unpack it with
``tar xzf cifar-10-python.tar.gz``, and point the environment variable
``CIFAR10_DIR`` to the folder ``cifar-10-batches-py`` it creates (or run
the script from the folder that holds it). Without it, the script writes a
small synthetic stand-in in the same file format and runs on that, which is
what the documentation build does: the numbers printed below are then those
of the stand-in, not of CIFAR-10.
"""

# %%
# Loading the batches
# -------------------
#
# CIFAR-10's batch files are pickled dictionaries; ``data`` holds one image
# per row, 3072 bytes: the 1024 red values, then green, then blue, of the
# 32x32 pixels. :func:`~sksoftmax.datasets.load_cifar10` reads them (and
# only them: it refuses pickles that would run code) and also returns the
# images as ``(n, 32, 32, 3)`` arrays for display.
import os
import pickle
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from scipy.ndimage import zoom
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sksoftmax import SoftmaxSGDClassifier
from sksoftmax.datasets import load_cifar10

cifar_folder = Path(os.environ.get("CIFAR10_DIR", "cifar-10-batches-py"))


def smooth_field(rng, n_images, coarse_size, size=32):
    """Random colour fields of size x size pixels, smooth at size / coarse_size."""
    coarse = rng.normal(size=(n_images, coarse_size, coarse_size, 3))
    return zoom(coarse, (1, size / coarse_size, size / coarse_size, 1), order=1)


def write_stand_in(folder, n_per_batch=200, random_state=0):
    """Synthetic CIFAR-10-like batch files in the format of the real ones.

    Each class is a smooth colour pattern; each image is its class's
    pattern, shifted by a few pixels, plus smooth and fine noise, so that a
    linear model can learn much but not all of it.
    """
    rng = np.random.RandomState(random_state)
    patterns = smooth_field(rng, 10, 6, size=44)  # cropped at random offsets
    folder.mkdir(parents=True, exist_ok=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        labels = rng.randint(10, size=n_per_batch)
        offsets = rng.randint(0, 13, size=(n_per_batch, 2))
        images = np.stack(
            [
                patterns[label, top : top + 32, left : left + 32]
                for label, (top, left) in zip(labels, offsets)
            ]
        )
        images += 3 * smooth_field(rng, n_per_batch, 8)
        images = 128 + 30 * images + rng.normal(0, 15, images.shape)
        images = np.clip(images, 0, 255).astype(np.uint8)
        data = images.transpose(0, 3, 1, 2).reshape(n_per_batch, 3072)
        with open(folder / name, "wb") as file:
            pickle.dump(
                {
                    b"batch_label": name.encode(),
                    b"labels": labels.tolist(),
                    b"data": data,
                },
                file,
                protocol=2,
            )


if (cifar_folder / "data_batch_1").exists():
    real_data = True
else:
    real_data = False
    print(
        f"CIFAR-10 not found in {cifar_folder}: download "
        "'CIFAR-10 python version' from https://www.cs.toronto.edu/~kriz/cifar.html, "
        "unpack it and set CIFAR10_DIR to the cifar-10-batches-py folder.\n"
        "Running on a small synthetic stand-in instead.\n"
    )
    cifar_folder = Path(tempfile.mkdtemp()) / "cifar-10-batches-py"
    write_stand_in(cifar_folder)

train = load_cifar10(cifar_folder, subset="train")
test = load_cifar10(cifar_folder, subset="test")
print(
    f"{train.data.shape[0]} training and {test.data.shape[0]} test images, "
    f"{train.data.shape[1]} values each"
)

fig, axes = plt.subplots(2, 10, figsize=(12, 3), layout="constrained")
for label, column in enumerate(axes.T):
    examples = np.flatnonzero(train.target == label)[:2]
    for ax, index in zip(column, examples):
        ax.imshow(train.images[index])
        ax.set_axis_off()
    column[0].set_title(train.target_names[label], fontsize=9)
plt.show()

# %%
# Mean subtraction and a validation split
# ---------------------------------------
#
# As in cs231n: keep 1000 training images for validation (a fifth of the
# stand-in) and subtract the mean image of the training part,
# ``StandardScaler(with_std=False)`` in a pipeline. The pixels are
# converted to float32, which the classifier keeps (half the memory of
# float64: CIFAR-10's 49000 training images take 600 MB).
X = train.data.astype(np.float32)
X_train, X_validation, y_train, y_validation = train_test_split(
    X,
    train.target,
    test_size=1000 if real_data else 0.2,
    stratify=train.target,
    random_state=0,
)
X_test, y_test = test.data.astype(np.float32), test.target

# %%
# The search over the strength
# ----------------------------
#
# cs231n searches learning rates and strengths by hand; here the step size
# comes from the data (``eta0="auto"``, which copes with the raw 0..255 pixel
# scale), so only the L2 strength is searched. cs231n's ``reg`` multiplies
# ``np.sum(W * W)``: it is ``alpha / 2`` (see the user guide), so its
# suggested ``reg`` of 2.5e4 to 5e4 is an ``alpha`` of 5e4 to 1e5 on these
# unscaled pixels. The grid covers that and weaker penalties.
alphas = [1e3, 1e4, 5e4]
models, validation_accuracy = {}, {}
for alpha in alphas:
    model = make_pipeline(
        StandardScaler(with_std=False),
        SoftmaxSGDClassifier(alpha=alpha, max_iter=300, random_state=0),
    )
    model.fit(X_train, y_train)
    models[alpha] = model
    validation_accuracy[alpha] = model.score(X_validation, y_validation)
    print(
        f"alpha={alpha:<8g} (cs231n reg={alpha / 2:<8g}) "
        f"validation accuracy {validation_accuracy[alpha]:.3f}"
    )
best_alpha = max(validation_accuracy, key=validation_accuracy.get)
best_model = models[best_alpha]
data_name = "CIFAR-10" if real_data else "the stand-in"
print(
    f"\nbest alpha {best_alpha:g}: test accuracy "
    f"{best_model.score(X_test, y_test):.3f} on {data_name}"
)

# %%
# The learned templates
# ---------------------
#
# Each class's weights are a 32x32 colour image: rescaled to the range of
# pixel values, they show what the class matches against. On CIFAR-10 they
# are the blurry class averages familiar from cs231n: blue sky or water
# behind planes and ships, green and brown ground under the animals, a
# reddish car-shaped blob for automobiles. On the stand-in they are its
# class patterns, seen through the noise.
classifier = best_model[-1]
templates = classifier.coef_.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
fig, axes = plt.subplots(1, 10, figsize=(12, 1.9), layout="constrained")
for label, (ax, template) in enumerate(zip(axes, templates)):
    low, high = template.min(), template.max()
    ax.imshow((template - low) / (high - low))
    ax.set_title(train.target_names[label], fontsize=9)
    ax.set_axis_off()
plt.show()
