"""Minibatch kernels: loss and gradient of one minibatch, for dense numpy,
CSR and array API data, behind one protocol.

For a batch ``B`` of rows with weights ``s_i`` (1 when unweighted) the data
term of the objective and its gradient, as in :mod:`sksoftmax._loss`::

    raw  = X_B @ coef.T + intercept                 # (|B|, n_classes)
    loss = -1/N_B sum_i s_i log softmax(raw)[i, y_i]
    G    = diag(s / N_B) (P - Y)                    # (|B|, n_classes)
    grad_coef = G.T @ X_B,  grad_intercept = G.sum(axis=0)

with ``N_B = |B|`` unweighted and ``|B| * mean(s)`` weighted (see
:func:`_batch_normaliser`). Penalties are the optimizer's.

The protocol, the same for every kernel (all the data a kernel needs is
passed at construction; only the training state changes between calls):

- ``kernel(rows, state) -> (loss, weight_sum, grads)``: ``rows`` a slice or
  an index array (of :meth:`move_indices`); ``grads`` None when the rows
  carry no weight (then nothing else is computed); ``loss`` a float, or a
  0-d array on the device where ``loss_on_device``;
- ``kernel.step(state, grads, t, share, rows)``: the optimizer's update
  rule for this kernel's gradients (of ``rows`` rows);
- ``kernel.end_epoch(state)``, after each epoch: the optimizer's pending
  decay, or the lazy weights' scale, folded into ``coef``;
- ``move_indices``, ``gather`` and ``labels``: the rows and labels, for
  the engine's validation pass;
- ``batch_size`` and ``loss_on_device``.
"""

import numpy as np
from scipy import sparse
from sklearn.utils._array_api import get_namespace_and_device

from sksoftmax._loss import _flat_true_class, _loss_and_logit_gradient, log_softmax


def _batch_normaliser(weight, weight_sum, n_rows, mean_weight):
    """What a minibatch's weighted loss and gradient are divided by.

    Unweighted, the batch's size. Weighted, its size times the training
    rows' mean weight, ``b * S / n``, rather than its own weight sum: then
    ``sum_i s_i grad_i / (b S / n)`` is an unbiased estimate of the
    gradient of the objective ``sum_i s_i loss_i / S``, and an epoch's
    steps add up to it. Divided by its own weight sum, each batch would
    take a full step whatever its weight: a batch of one row would ignore
    the weight altogether, and small batches lean towards the unweighted
    fit.
    """
    if weight is None:
        return weight_sum
    return n_rows * mean_weight


class NumpyKernel:
    """The kernel of numpy data, dense or CSR, in preallocated buffers.

    ``kernel(rows, state)`` gathers the rows (a slice is used in place, an
    index array is copied into a buffer of ``batch_size`` rows, never the
    whole X), computes the logits with one BLAS product, turns them into
    ``G`` in place, and forms ``G.T @ X_batch``. CSR data get the same full
    gradients here (for momentum and averaging, which change every weight
    at every step); :class:`SparseKernel` is the lazy alternative.

    Parameters
    ----------
    X : {ndarray, CSR matrix} of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,), dtype=intp
        Encoded labels.
    sample_weight : ndarray of shape (n_samples,) or None
        None for unit weights (skips the weighting).
    n_classes : int
    batch_size : int
    fit_intercept : bool
    mean_weight : float, default=1.0
        The training rows' mean weight (see :func:`_batch_normaliser`).
    """

    loss_on_device = False  # batch losses are Python floats
    full_gradient = True  # forms (n_classes, n_features) gradients

    def __init__(
        self,
        X,
        y,
        sample_weight,
        n_classes,
        batch_size,
        fit_intercept,
        *,
        mean_weight=1.0,
    ):
        self.X, self.y, self.sample_weight = X, y, sample_weight
        self.labels = y  # encoded labels as numpy, for bookkeeping
        self.batch_size = batch_size
        self.mean_weight = mean_weight
        self.dense = not sparse.issparse(X)
        n_features = X.shape[1]
        self.X_buffer = (
            np.empty((batch_size, n_features), dtype=X.dtype) if self.dense else None
        )
        self.logit_buffer = np.empty((n_classes, batch_size), dtype=X.dtype)
        # Column-major, as the training state keeps coef (see __call__).
        self.grad_coef = (
            np.empty((n_classes, n_features), dtype=X.dtype, order="F")
            if self.full_gradient
            else None
        )
        self.grad_intercept = np.empty(n_classes, dtype=X.dtype)
        self.arange = np.arange(batch_size)
        self.ones = np.ones(batch_size, dtype=X.dtype)

    # -- the protocol

    def __call__(self, rows, state):
        """Loss, weight sum and gradients of the rows ``rows``.

        Returns
        -------
        loss : float
            Weighted mean cross-entropy of the batch (NaN or inf if diverged).
        weight_sum : float
            The batch's weight sum; 0 means the batch carries no gradient and
            the other outputs are not computed (loss 0, grads None).
        grads : list of ndarray
            ``[grad_coef]`` or ``[grad_coef, grad_intercept]`` (buffers,
            overwritten by the next call).
        """
        coef, intercept = state.coef, state.intercept
        y, weight, weight_sum = self.labels_and_weights(rows)
        n_rows = len(y)
        if weight_sum <= 0:
            return 0.0, 0.0, None  # zero-weight rows carry no gradient
        true_class = _flat_true_class(y, n_rows, self.arange[:n_rows])
        X_batch = self.gather(rows)
        logits = self.logits(n_rows)
        self.raw_logits(X_batch, coef, intercept, logits)
        normaliser = _batch_normaliser(weight, weight_sum, n_rows, self.mean_weight)
        # The fast shift first; the stable one where it overflows (rare: a
        # wrong class far above the true one, or diverged weights).
        loss = _loss_and_logit_gradient(
            logits, None, weight, normaliser, true_class=true_class, fast=True
        )
        if loss is None:
            self.raw_logits(X_batch, coef, intercept, logits)
            loss = _loss_and_logit_gradient(
                logits, None, weight, normaliser, true_class=true_class
            )
        if weight is not None:
            loss *= normaliser / weight_sum  # the batch's weighted mean loss
        if self.dense:
            # coef and its gradient are column-major (coef.T contiguous): for
            # a few classes BLAS runs these products about twice as fast as
            # with row-major weights, and the update adds like to like.
            np.matmul(X_batch.T, logits.T, out=self.grad_coef.T)
        else:
            self.grad_coef[...] = logits @ X_batch
        if intercept is None:
            return loss, weight_sum, [self.grad_coef]
        np.matmul(logits, self.ones[:n_rows], out=self.grad_intercept)
        return loss, weight_sum, [self.grad_coef, self.grad_intercept]

    def step(self, state, grads, t, share, rows):
        state.optimizer.step(state.coef, state.intercept, grads, t, share, rows)

    def end_epoch(self, state):
        state.optimizer.flush_decay(state.coef)

    def move_indices(self, rows):
        """Row indices as :meth:`gather` takes them (numpy: unchanged)."""
        return rows

    def gather(self, rows):
        """The rows of X: a view for a slice, else a copy into the buffer."""
        if isinstance(rows, slice) or not self.dense:
            return self.X[rows]
        # mode="clip" writes straight into the buffer (the default mode
        # buffers the output); the rows are valid indices by construction.
        out = self.X_buffer
        if len(rows) < len(out):
            out = out[: len(rows)]
        return self.X.take(rows, axis=0, out=out, mode="clip")

    # -- helpers

    def labels_and_weights(self, rows):
        """The rows' labels, weights (None for unit weights) and weight sum."""
        y = self.y[rows]
        if self.sample_weight is None:
            return y, None, float(len(y))
        weight = self.sample_weight[rows]
        return y, weight, float(weight.sum())

    def logits(self, n_rows):
        """The logit buffer for ``n_rows`` samples: its first entries, contiguous."""
        n_classes, batch_size = self.logit_buffer.shape
        if n_rows == batch_size:
            return self.logit_buffer
        return self.logit_buffer.reshape(-1)[: n_classes * n_rows].reshape(
            n_classes, n_rows
        )

    def raw_logits(self, X_batch, coef, intercept, out):
        """``coef @ X_batch.T + intercept[:, None]``, class-major, into ``out``."""
        if self.dense:
            np.matmul(coef, X_batch.T, out=out)
        else:
            out[...] = coef @ X_batch.T
        if intercept is not None:
            out += intercept[:, np.newaxis]


class SparseKernel(NumpyKernel):
    """The kernel of CSR data, on the columns a batch touches.

    A batch of high-dimensional sparse rows touches a few thousand of maybe
    millions of columns. The batch is re-indexed onto those columns only, so
    the logits use ``coef[:, columns]`` and the gradient is the dense
    ``(len(columns), n_classes)`` block ``X_batch[:, columns].T @ G``: never
    an ``(n_classes, n_features)`` array per batch. The updates are the
    optimizer's lazy ones (:meth:`~sksoftmax._optim.SGDOptimizer.sparse_step`):
    plain SGD only, the weights kept as ``scale * coef``.
    """

    full_gradient = False  # the gradient is a block of the touched columns

    def __init__(self, X, y, sample_weight, n_classes, batch_size, *args, **kwargs):
        super().__init__(X, y, sample_weight, n_classes, batch_size, *args, **kwargs)
        # Per-column scratch: a column's position among the batch's columns
        # (entries of columns the batch does not touch are stale).
        self.position = np.zeros(X.shape[1], dtype=X.indices.dtype)
        # The touched weight rows, coef.T[columns], grown to the largest batch.
        self.row_buffer = np.empty((0, n_classes), dtype=X.dtype)
        self.columns = self.coef_rows = None  # of the last batch, for step

    def __call__(self, rows, state):
        """Loss, weight sum and gradients of the rows ``rows``: ``grads`` is
        ``[grad_rows]`` of shape (n_columns, n_classes), the gradient of
        ``coef.T[columns]``, then the intercept's gradient when fitted."""
        selected = self.select(rows)
        if selected is None:
            return 0.0, 0.0, None
        compact, columns, y, weight, weight_sum = selected
        coef, intercept, optimizer = state.coef, state.intercept, state.optimizer
        # Shrinkage owed since the columns were last touched comes first, as
        # it would have with dense updates.
        optimizer.catch_up(coef, columns)
        n_rows = len(y)
        # coef is column-major, so coef.T[columns] gathers whole contiguous
        # rows of n_classes weights (fast), where coef[:, columns] would not.
        # The copy is kept for step, which updates it and writes it back.
        coef_rows = self.gather_coef_rows(coef, columns)
        self.columns, self.coef_rows = columns, coef_rows
        logits = self.logits(n_rows)
        logits[...] = (compact @ coef_rows).T
        scale = optimizer.scale
        if scale != 1.0:
            logits *= scale  # (scale * coef) @ x, scaling the smaller array
        if intercept is not None:
            logits += intercept[:, np.newaxis]
        normaliser = _batch_normaliser(weight, weight_sum, n_rows, self.mean_weight)
        loss = _loss_and_logit_gradient(
            logits, y, weight, normaliser, self.arange[:n_rows]
        )
        if weight is not None:
            loss *= normaliser / weight_sum  # the batch's weighted mean loss
        grads = [np.asarray(compact.T @ logits.T, dtype=coef.dtype)]
        if intercept is not None:
            grads.append(logits @ self.ones[:n_rows])
        return loss, weight_sum, grads

    def step(self, state, grads, t, share, rows):
        state.optimizer.sparse_step(
            state.coef,
            state.intercept,
            grads,
            self.columns,
            self.coef_rows,
            t,
            share,
            rows,
        )

    def end_epoch(self, state):
        state.optimizer.fold_scale(state.coef)

    def gather_coef_rows(self, coef, columns):
        """A copy of ``coef.T[columns]``, in a reused buffer."""
        n_columns = len(columns)
        if self.row_buffer.shape[0] < n_columns or self.row_buffer.dtype != coef.dtype:
            # A quarter to spare, so that slightly larger batches fit too.
            n_rows = min(n_columns + n_columns // 4, coef.shape[1])
            self.row_buffer = np.empty((n_rows, coef.shape[0]), dtype=coef.dtype)
        # take(..., mode="clip") writes straight into the buffer; the columns
        # are valid by construction.
        return np.take(
            coef.T, columns, axis=0, out=self.row_buffer[:n_columns], mode="clip"
        )

    def batch_rows(self, rows):
        """``X[rows]`` as (data, indices, indptr), gathered with numpy.

        The same as scipy's row indexing, without its per-call overhead
        (about 1 ms, which dominated small batches).
        """
        X = self.X
        if isinstance(rows, slice):
            start, stop = X.indptr[rows.start], X.indptr[rows.stop]
            return (
                X.data[start:stop],
                X.indices[start:stop],
                X.indptr[rows.start : rows.stop + 1] - start,
            )
        starts, stops = X.indptr[rows], X.indptr[rows + 1]
        lengths = stops - starts
        indptr = np.zeros(len(rows) + 1, dtype=X.indptr.dtype)
        np.cumsum(lengths, out=indptr[1:])
        # Entry j of the batch is entry starts[i] + (j - indptr[i]) of X.
        positions = np.arange(indptr[-1], dtype=X.indptr.dtype)
        positions += np.repeat(starts - indptr[:-1], lengths)
        # take: about half the time of fancy indexing for these 1-D gathers.
        return X.data.take(positions), X.indices.take(positions), indptr

    def select(self, rows):
        """The batch re-indexed onto its columns, or None if it has no weight.

        Returns
        -------
        batch : tuple or None
            ``(compact, columns, y, weight, weight_sum)``: the CSR batch over
            ``len(columns)`` columns, the columns it covers, its labels and
            weights (None for unit weights) and their sum.
        """
        y, weight, weight_sum = self.labels_and_weights(rows)
        if weight_sum <= 0:
            return None
        n_rows = len(y)
        data, indices, indptr = self.batch_rows(rows)
        # The touched columns, and each entry's position among them, in
        # O(nnz) (np.unique sorts; a marker array scans all columns): after
        # position[indices] = j, each column's last entry j finds itself.
        entries = np.arange(len(indices), dtype=self.position.dtype)
        self.position[indices] = entries
        columns = indices[self.position[indices] == entries]
        self.position[columns] = np.arange(len(columns), dtype=self.position.dtype)
        compact = sparse.csr_matrix(
            (data, self.position[indices], indptr), shape=(n_rows, len(columns))
        )
        return compact, columns, y, weight, weight_sum


class ArrayAPIKernel:
    """The kernel of any array API namespace and device.

    The same quantities, written with the namespace's functions only (the
    label indicator is a one-hot product rather than fancy indexing), so that
    the whole training loop runs where ``X`` lives, a GPU included. Row
    indices given as numpy arrays are moved to the device by
    :meth:`move_indices`, once per epoch.

    The batch loss is returned as a 0-d array on the device, not a Python
    float: reading it would wait for the device at every step. The engine
    sums it there and reads the epoch's total once. (With sample weights,
    each batch's weight sum is still read, to skip weightless batches.)
    """

    loss_on_device = True

    def __init__(
        self,
        X,
        y,
        sample_weight,
        n_classes,
        batch_size,
        fit_intercept,
        *,
        mean_weight=1.0,
    ):
        xp, _, device = get_namespace_and_device(X)
        self.xp, self.device, self.X = xp, device, X
        self.batch_size = batch_size
        self.mean_weight = mean_weight
        self.labels = y  # encoded labels as numpy, for bookkeeping
        self.y = xp.asarray(y, device=device)
        self.sample_weight = (
            None
            if sample_weight is None
            else xp.asarray(sample_weight, dtype=X.dtype, device=device)
        )
        self.class_range = xp.arange(n_classes, device=device)

    def __call__(self, rows, state):
        xp = self.xp
        X_batch = self.gather(rows)
        weight = self.batch_weight(rows)
        weight_sum = (
            float(X_batch.shape[0]) if weight is None else float(xp.sum(weight))
        )
        if weight_sum <= 0:
            return 0.0, 0.0, None
        raw = X_batch @ state.coef.T
        if state.intercept is not None:
            raw = raw + state.intercept
        log_proba = log_softmax(raw)
        one_hot = self.one_hot(rows)
        n_rows = X_batch.shape[0]
        normaliser = _batch_normaliser(weight, weight_sum, n_rows, self.mean_weight)
        scale = 1.0 / weight_sum if weight is None else weight[:, None] / normaliser
        # G = diag(s / N) (P - Y), as in _loss_and_logit_gradient.
        gradient = (xp.exp(log_proba) - one_hot) * scale
        loss = -xp.sum(log_proba * one_hot * scale)
        if weight is not None:
            loss = loss * (normaliser / weight_sum)  # the weighted mean
        grads = [gradient.T @ X_batch]
        if state.intercept is not None:
            grads.append(xp.sum(gradient, axis=0))
        return loss, weight_sum, grads

    def step(self, state, grads, t, share, rows):
        state.optimizer.step(state.coef, state.intercept, grads, t, share, rows)

    def end_epoch(self, state):
        state.optimizer.flush_decay(state.coef)

    def move_indices(self, rows):
        """Row indices on the device, for :meth:`gather` and ``__call__``."""
        return self.xp.asarray(rows, device=self.device)

    def gather(self, rows):
        """The rows of X: a view for a slice, else a gathered copy."""
        if isinstance(rows, slice):
            return self.X[rows, ...]
        return self.xp.take(self.X, rows, axis=0)

    def one_hot(self, rows):
        y = self.y[rows] if isinstance(rows, slice) else self.xp.take(self.y, rows)
        return self.xp.astype(y[:, None] == self.class_range[None, :], self.X.dtype)

    def batch_weight(self, rows):
        if self.sample_weight is None:
            return None
        if isinstance(rows, slice):
            return self.sample_weight[rows]
        return self.xp.take(self.sample_weight, rows)
