"""
=============================================================
Out-of-core learning: streaming a file through partial_fit
=============================================================

When the training data does not fit in memory, the model can still see all
of it, one chunk at a time: :meth:`~sksoftmax.SoftmaxSGDClassifier.partial_fit`
runs one epoch of minibatch SGD over the chunk it is given and keeps the
optimizer's state for the next one.

This example writes a data set to disk as memory-mapped ``.npy`` files,
streams it back in chunks of 5,000 rows, and tracks the held-out accuracy
against the number of samples seen. Only one chunk is in memory at a time,
so the same loop works for files far larger than memory.
"""

# %%
# A data set on disk
# ------------------
#
# The labels come from a known softmax "teacher" model: each row's class is
# drawn from the teacher's probabilities. So the best achievable accuracy is
# known, the accuracy of the teacher itself (the Bayes rate), and the
# student can be measured against it. The rows are generated and written
# chunk by chunk into files opened with
# :func:`numpy.lib.format.open_memmap`.
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from sksoftmax import SoftmaxSGDClassifier

n_samples, n_features, n_classes, chunk_size = 100_000, 150, 8, 5_000
teacher = 0.25 * np.random.RandomState(0).randn(n_classes, n_features)


def make_rows(n_rows, rng):
    """Features and labels drawn from the teacher's softmax."""
    X = rng.randn(n_rows, n_features).astype(np.float32)
    logits = X @ teacher.T
    proba = np.exp(logits - logits.max(axis=1, keepdims=True))
    proba /= proba.sum(axis=1, keepdims=True)
    y = (proba.cumsum(axis=1) > rng.rand(n_rows, 1)).argmax(axis=1)
    return X, y


folder = Path(tempfile.mkdtemp())
X_file = np.lib.format.open_memmap(
    folder / "X.npy", mode="w+", dtype=np.float32, shape=(n_samples, n_features)
)
y_file = np.lib.format.open_memmap(
    folder / "y.npy", mode="w+", dtype=np.int64, shape=(n_samples,)
)
rng = np.random.RandomState(1)
for start in range(0, n_samples, chunk_size):
    X_file[start : start + chunk_size], y_file[start : start + chunk_size] = make_rows(
        chunk_size, rng
    )
X_file.flush()
y_file.flush()
del X_file, y_file
size_mb = (folder / "X.npy").stat().st_size / 1e6
print(f"wrote {n_samples:,} rows x {n_features} features ({size_mb:.0f} MB)")

X_test, y_test = make_rows(10_000, np.random.RandomState(2))
bayes_accuracy = np.mean((X_test @ teacher.T).argmax(axis=1) == y_test)
print(f"accuracy of the teacher itself on the test rows: {bayes_accuracy:.3f}")

# %%
# Streaming
# ---------
#
# :func:`numpy.load` with ``mmap_mode="r"`` maps the files without reading
# them; slicing a chunk reads just those rows. The first call to
# ``partial_fit`` names all classes, since a chunk need not hold each one.
#
# Three students see the same stream: the default settings (plain SGD in
# ``partial_fit``), SGD with momentum 0.9, and averaged SGD
# (``average=True``), which predicts with the mean of its iterates. The loop
# prints a progress line every few chunks with each student's test accuracy
# (in a terminal, a live bar from rich or tqdm would do the same).
students = {
    "defaults": SoftmaxSGDClassifier(random_state=0),
    "momentum 0.9": SoftmaxSGDClassifier(momentum=0.9, random_state=0),
    "averaged SGD (average=True)": SoftmaxSGDClassifier(average=True, random_state=0),
}
X_stream = np.load(folder / "X.npy", mmap_mode="r")
y_stream = np.load(folder / "y.npy", mmap_mode="r")
all_classes = np.arange(n_classes)
n_chunks = n_samples // chunk_size
samples_seen, accuracy = [], {name: [] for name in students}
print("test accuracy of:", " | ".join(students))
start_time = time.perf_counter()
for chunk in range(n_chunks):
    rows = slice(chunk * chunk_size, (chunk + 1) * chunk_size)
    X_chunk, y_chunk = np.asarray(X_stream[rows]), np.asarray(y_stream[rows])
    for name, student in students.items():
        student.partial_fit(X_chunk, y_chunk, classes=all_classes)
        accuracy[name].append(student.score(X_test, y_test))
    samples_seen.append(rows.stop)
    if (chunk + 1) % 4 == 0 or chunk == 0:
        done = (chunk + 1) / n_chunks
        bar = "#" * round(20 * done) + "-" * (20 - round(20 * done))
        scores = " | ".join(f"{accuracy[name][-1]:.3f}" for name in students)
        print(
            f"[{bar}] {rows.stop:>7,} / {n_samples:,} samples, "
            f"{time.perf_counter() - start_time:4.1f}s, accuracy {scores}"
        )

# %%
# Accuracy against samples seen
# -----------------------------
fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
for name, scores in accuracy.items():
    ax.plot(samples_seen, scores, marker=".", label=name)
ax.axhline(
    bayes_accuracy, color="black", linestyle="--", label="the teacher (best possible)"
)
ax.set(
    xlabel="training samples seen",
    ylabel="test accuracy",
    title=f"partial_fit on a memory-mapped stream, chunks of {chunk_size:,} rows",
)
ax.xaxis.set_major_formatter("{x:,.0f}")
ax.legend(loc="center right")
plt.show()

# %%
# Each ``partial_fit`` call is one epoch over its chunk. The ``"adaptive"``
# default divides its step by 5 when the loss of ``n_iter_no_change``
# successive calls has not improved by ``tol``, so a long stream slowly
# settles; until then the noise of the minibatch gradients stays, and the
# students without averaging hover below the teacher at a level that depends
# on the step; momentum enlarges it by ``1 / (1 - momentum)``. Averaging the
# iterates cancels most of the noise: the averaged student stays close to
# the teacher from the first chunks on. A decaying schedule
# (``learning_rate="invscaling"``) is another remedy.
#
# The files were temporary; remove them.
import shutil  # noqa: E402

shutil.rmtree(folder)
