"""Gathering the shuffled rows of the next minibatches in a second thread.

On dense data larger than the CPU caches, gathering a shuffled minibatch
waits on memory: on 200,000 x 100 float32 rows it took a fifth of the epoch
(``benchmarks/bench_minimal_loop.py``). The minibatch products of the
default batch size run on one BLAS thread (see ``SMALL_BATCH_PRODUCT``), so
on a machine with a second core the gather of the next few batches can run
there meanwhile: numpy's ``take`` releases the GIL while it copies. The
batches are exactly those of the serial loop. Since the rows are copied
anyway, the thread also appends a 1 to each, so that the intercept joins
the products as a last column of the weights (the joint weights of
:class:`~sksoftmax._kernels.NumpyKernel`): the fit then equals the serial
one up to the rounding of the intercept's sums. Without an intercept it is
the same bit for bit (with OpenBLAS, as tested; a BLAS whose results depend
on the alignment of its input, as MKL's may without ``MKL_CBWR``, can differ
in the last bits).
"""

import queue
import threading
from contextlib import contextmanager

import joblib
import numpy as np

from sksoftmax._loss import _flat_true_class

# Batches gathered per hand-over between the threads: a hand-over costs tens
# of microseconds, about a step's time, so one per batch would lose what the
# overlap gains (2 batches a chunk run 1.3x slower than no thread, 8 as fast
# as contiguous blocks).
CHUNK_BATCHES = 8
# Data below this size sit in the caches of a typical server CPU (tens of MiB
# of L3), where the gather is cheap: with 32 MiB of L3 the thread costs 0 to
# 25 % of an epoch's time on 4 to 15 MiB of X, and saves 10 to 17 % from
# 19 MiB on.
MIN_DATA_BYTES = 16 * 2**20
# The two chunk buffers together at most this share of X.
MAX_BUFFER_SHARE = 1 / 8


def available_cpus():
    """CPUs this process may use: joblib's count, which honours the CPU
    affinity and a container's CPU quota (cgroups)."""
    return joblib.cpu_count()


def prefetch_pays(X, batch_size, n_batches, single_blas_thread, blas_threads):
    """Whether gathering in a second thread speeds up an epoch of shuffled
    minibatches of the dense numpy array ``X``.

    Only when a core is free: the minibatch products run on one BLAS thread
    while the process may use two or more (``blas_threads``, the BLAS
    libraries' thread count outside the loop: 1 in joblib's workers when
    GridSearchCV(n_jobs=-1) gives each fit one core, or under
    ``threadpool_limits(1)``), and there are two CPUs. And only when the
    epoch holds several chunks, X is larger than the caches, and the
    buffers are small against it.
    """
    chunk_bytes = CHUNK_BATCHES * batch_size * X.shape[1] * X.itemsize
    return (
        single_blas_thread
        and n_batches >= 2 * CHUNK_BATCHES
        and X.nbytes >= MIN_DATA_BYTES
        and 2 * chunk_bytes <= MAX_BUFFER_SHARE * X.nbytes
        and blas_threads >= 2
        and available_cpus() >= 2
    )


class RowPrefetcher:
    """Gathers the rows of ``X`` in an epoch's order, a chunk ahead of use.

    Two buffers of ``CHUNK_BATCHES * batch_size`` rows: while the training
    loop works through the batches of one, a second thread fills the other
    with the next chunk. Extra memory: those two buffers, nothing of the
    size of X.

    With ``labels``, each batch comes with the flat indices of its true
    classes in the kernel's logits (:func:`sksoftmax._loss._flat_true_class`),
    formed a chunk at a time: a few numpy calls a chunk rather than three a
    batch. They are formed on the training loop's thread, and the batches'
    views into the buffers are made once: the gather thread only gathers,
    since whatever Python work it does holds the GIL, which the loop then
    waits for.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    batch_size : int
    labels : ndarray of shape (n_samples,), dtype=intp, default=None
        Encoded labels.
    ones_column : bool, default=False
        End each gathered row with a 1, for a kernel whose weights hold the
        intercept as their last column (the ``joint`` weights of
        :class:`sksoftmax._kernels.NumpyKernel`). The gather into the
        buffer's first columns then costs a second copy, in this thread.
    """

    def __init__(self, X, batch_size, labels=None, ones_column=False):
        self.X = X
        self.batch_size = batch_size
        self.labels = labels
        self.ones_column = ones_column
        self.samples = np.arange(batch_size)
        chunk_rows = CHUNK_BATCHES * batch_size
        self.buffers = [
            np.ones((chunk_rows, X.shape[1] + ones_column), dtype=X.dtype)
            for _ in range(2)
        ]
        # Each buffer's batches, as views made once.
        self.views = [
            [
                buffer[start : start + batch_size]
                for start in range(0, chunk_rows, batch_size)
            ]
            for buffer in self.buffers
        ]

    @contextmanager
    def epoch(self, order):
        """An iterator over ``(X_batch, true_class)`` for the batches of rows
        ``order[i:i + batch_size]``, ``i = 0, batch_size, ...``: ``X_batch``
        is a view into the buffers, valid until the next batch is drawn, and
        ``true_class`` the flat true-class indices of its labels (None
        without ``labels``). The thread ends when the block exits, early
        exits and errors included."""
        chunk_rows = len(self.buffers[0])
        chunks = [
            slice(start, min(start + chunk_rows, len(order)))
            for start in range(0, len(order), chunk_rows)
        ]
        free, full = queue.Queue(), queue.Queue()
        for index in range(len(self.buffers)):
            free.put(index)

        def produce():
            try:
                for chunk in chunks:
                    index = free.get()
                    if index is None:
                        return  # the loop ended early
                    rows = order[chunk]
                    # mode="clip" writes straight into the buffer; the rows
                    # are valid indices by construction.
                    out = self.buffers[index][: len(rows), : self.X.shape[1]]
                    self.X.take(rows, axis=0, out=out, mode="clip")
                    full.put(index)
            except BaseException as error:  # handed to the training loop
                full.put(error)

        def batches():
            for chunk in chunks:
                true_classes = self.true_classes(order[chunk])
                index = full.get()
                if isinstance(index, BaseException):
                    raise index
                views = self.views[index]
                n_rows = chunk.stop - chunk.start
                n_batches = -(-n_rows // self.batch_size)
                for j in range(n_batches):
                    X_batch = views[j]
                    if j == n_batches - 1 and n_rows % self.batch_size:
                        X_batch = X_batch[: n_rows % self.batch_size]
                    yield X_batch, None if true_classes is None else true_classes[j]
                free.put(index)

        thread = threading.Thread(
            target=produce, name="sksoftmax-prefetch", daemon=True
        )
        thread.start()
        try:
            yield batches()
        finally:
            free.put(None)
            free.put(None)
            thread.join()

    def true_classes(self, rows):
        """:func:`_flat_true_class` of each batch of ``rows`` (a chunk), or None."""
        if self.labels is None:
            return None
        labels = self.labels.take(rows)
        n_full = len(rows) // self.batch_size * self.batch_size
        full = labels[:n_full].reshape(-1, self.batch_size)
        full *= self.batch_size
        full += self.samples
        batches = list(full)
        if n_full < len(rows):
            batches.append(_flat_true_class(labels[n_full:], len(rows) - n_full))
        return batches
