"""What :class:`sksoftmax.dask.DataParallel` runs on the workers: one
partition's checks, summaries and sample, a replica's round, and the
model's loss on the partitions. Plain functions of numpy data (no Dask):
their arguments and results are what travels.
"""

import math

import numpy as np
from scipy import sparse
from sklearn.utils import check_array, column_or_1d

from sksoftmax._engine import (
    EpochSums,
    LocalEpochs,
    merge_epoch_losses,
    plan_run,
    validation_metrics,
)
from sksoftmax._state import state_from_plain, state_to_plain
from sksoftmax._step_size import (
    _row_norms_sq,
    check_row_norms,
    importance_sample,
    pareto_rows,
    take_rows,
)


class Partition:
    """One partition of the data, as a worker holds it: the features, the
    labels, the weights and, once prepared, the rows that train and those
    held out. ``plan`` caches the minibatch plan of the current fit (not
    pickled: a partition copied to another worker builds it again)."""

    def __init__(self, index, X, y, sample_weight):
        self.index, self.X, self.y, self.sample_weight = index, X, y, sample_weight
        self.train_rows = self.validation_rows = None
        self.plan = None

    def __getstate__(self):
        return {**self.__dict__, "plan": None}

    def __setstate__(self, state):
        # Received from another worker: realigned, see aligned.
        self.__dict__.update(state)
        self.X = aligned_data(self.X)
        self.y, self.sample_weight = aligned(self.y), aligned(self.sample_weight)


def load_partition(index, X, y, sample_weight):
    """Check one partition (as fit checks its data) and keep it."""
    # A partition may be empty (a filter's), or weigh nothing: the whole
    # data's rows and weights are checked on the client.
    X = check_array(
        X,
        accept_sparse="csr",
        dtype=[np.float64, np.float32],
        order="C",
        ensure_min_samples=0,
    )
    y = column_or_1d(y, warn=False)
    if len(y) != X.shape[0]:
        raise ValueError(
            f"Partition {index} of y holds {len(y)} labels for the "
            f"{X.shape[0]} rows of X's partition {index}."
        )
    if sample_weight is None:
        sample_weight = np.ones(X.shape[0], dtype=X.dtype)
    else:
        sample_weight = check_array(
            sample_weight, ensure_2d=False, dtype=X.dtype, ensure_min_samples=0
        )
        if sample_weight.shape != (X.shape[0],):
            raise ValueError(
                f"Partition {index} of sample_weight has shape "
                f"{sample_weight.shape}; expected ({X.shape[0]},)."
            )
        if np.any(sample_weight < 0):
            raise ValueError("Negative values in data passed to sample_weight.")
    return Partition(index, aligned_data(X), aligned(y), aligned(sample_weight))


def aligned_data(X):
    if sparse.issparse(X):
        X.data, X.indices, X.indptr = map(aligned, (X.data, X.indices, X.indptr))
        return X
    return aligned(X)


def aligned(array):
    """``array``, copied where its memory is not 16-byte aligned: an array
    received from another worker may start at any byte of a message, and
    the minibatch arithmetic on such an array runs at half speed."""
    if array.ctypes.data % 16 == 0:
        return array
    return np.array(array, order="C")


def label_summary(partition):
    """The partition's size, kind, labels and the weight of each label."""
    labels, encoded = np.unique(partition.y, return_inverse=True)
    weights = np.bincount(
        encoded, weights=partition.sample_weight, minlength=len(labels)
    )
    return {
        "rows": partition.X.shape[0],
        "n_features": partition.X.shape[1],
        "sparse": sparse.issparse(partition.X),
        "labels": labels,
        "label_weights": weights,
    }


def prepare_partition(partition, n_held_out, classes, class_factors, seed):
    """The partition with encoded labels, weights times the class weights,
    and ``n_held_out`` of its rows, drawn at random, held out."""
    unseen = partition.y[~np.isin(partition.y, classes)]
    if unseen.size:
        raise ValueError(
            f"y holds labels not in classes {classes.tolist()}: "
            f"{np.unique(unseen).tolist()}."
        )
    y_encoded = np.searchsorted(classes, partition.y).astype(np.intp)
    sample_weight = partition.sample_weight
    if class_factors is not None:
        sample_weight = (
            sample_weight * class_factors.astype(sample_weight.dtype)[y_encoded]
        )
    prepared = Partition(partition.index, partition.X, y_encoded, sample_weight)
    rows = np.arange(len(y_encoded))
    order = partition_rng(seed, partition.index, "split").permutation(rows)
    prepared.validation_rows = np.sort(order[:n_held_out])
    prepared.train_rows = np.sort(order[n_held_out:])
    return prepared


def row_moments(partition, step_from_data):
    """What the checks, and eta0="auto" (``step_from_data``), need of the
    partition's training rows: weight sums, squared-norm moments and the
    rows that can hold the largest curvature (see
    :class:`~sksoftmax._step_size.RowMoments`)."""
    X, train = partition.X, partition.train_rows
    weight = np.zeros(X.shape[0])
    weight[train] = partition.sample_weight[train]
    if step_from_data:
        with np.errstate(over="ignore"):
            norms_sq = _row_norms_sq(X)
        check_row_norms(norms_sq, X)
    else:
        norms_sq = np.zeros(X.shape[0])
    weighted = weight * norms_sq
    frontier = pareto_rows(weighted, weight)
    held_out = partition.validation_rows
    y = partition.y
    return {
        "weight": float(weight.sum()),
        "n_weighted": int(np.count_nonzero(weight)),
        "n_train": len(train),
        "weighted_trace": float(weighted.sum()),
        "largest_norm_sq": float(norms_sq.max(initial=0.0)),
        "frontier": (weighted[frontier], weight[frontier]),
        "max_abs": max_abs_or_zero(X),
        "train_classes": np.unique(y[train][weight[train] > 0]),
        "held_out_weight": float(partition.sample_weight[held_out].sum()),
    }


def max_abs_or_zero(X):
    if X.shape[0] == 0:
        return 0.0
    return max(float(X.max()), -float(X.min()))


def sample_partition(partition, n_draws, total_weight, total_trace, seed):
    """``n_draws`` of the partition's training rows for eta0="auto", drawn
    in proportion to their share of the whole data's weight and trace (as
    :func:`~sksoftmax._step_size._sample_rows` draws from all rows), with
    weights that estimate the whole data's sums; all its weighted rows,
    with their weights relative to the whole, if ``n_draws`` is None."""
    X, train = partition.X, partition.train_rows
    weight = np.zeros(X.shape[0])
    weight[train] = partition.sample_weight[train] / total_weight
    if not n_draws:  # None: all weighted rows; 0: none
        rows = np.flatnonzero(weight) if n_draws is None else np.zeros(0, np.intp)
        return take_rows(X, rows), weight[rows]
    weighted_norms_sq = weight * _row_norms_sq(X)
    # With q_i the probability of drawing row i here (as the whole data's,
    # within the partition), r_i / (n q_i) summed over n draws estimates the
    # partition's sums weighted by r without bias; the partitions' samples
    # pooled estimate the whole data's.
    rows, ratio = importance_sample(
        weight,
        weighted_norms_sq if total_trace > 0 else np.zeros_like(weight),
        n_draws,
        partition_rng(seed, partition.index, "sample"),
    )
    return take_rows(X, rows), ratio / n_draws


def train_replica(plain_state, t, settings, *partitions):
    """One round of a replica: an epoch over each of its partitions, in an
    order drawn for the round, from the state the client sent.

    Returns the replica's state (its sparse scale folded into the weights),
    its epoch's sums and the training rows it stepped on.
    """
    state = state_from_plain(plain_state)
    first = min(partition.index for partition in partitions)
    order = partition_rng(settings["seed"], first, "order", settings["round"])
    sums, rows = [], 0
    for position in order.permutation(len(partitions)):
        partition = partitions[position]
        if len(partition.train_rows) == 0:
            continue  # an empty partition, or all held out
        if partition.plan is None:  # built once per fit (a partition is a fit's)
            partition.plan = plan_run(
                partition.X,
                partition.y,
                partition.sample_weight,
                state,
                partition.train_rows,
                batch_size=settings["batch_size"],
                shuffle=settings["shuffle"],
                mean_weight=settings["mean_weight"],
            )
        plan = partition.plan
        rng = partition_rng(
            settings["seed"], partition.index, "shuffle", settings["round"]
        )
        epochs = LocalEpochs(plan, rng, partition.train_rows)
        with epochs.threads(), np.errstate(over="ignore", invalid="ignore"):
            epoch = epochs.run(state, t)
        sums.append(epoch)
        t, rows = epoch.t, rows + plan.n_rows
        if not math.isfinite(epoch.loss):
            break  # the client rolls the round back
    state.optimizer.fold_scale(state.coef)
    state.optimizer.flush_decay(state.coef)
    weight = sum(block.weight for block in sums)
    loss = merge_epoch_losses(sums) if weight > 0 else 0.0
    return state_to_plain(state), EpochSums(loss, weight, t), rows


def partition_metrics(partition, coef, intercept, batch_size, held_out):
    """Weighted log-loss and accuracy sums of the model on the partition's
    held-out (or training) rows."""
    rows = partition.validation_rows if held_out else partition.train_rows
    weight = float(partition.sample_weight[rows].sum())
    if weight <= 0:
        return 0.0, 0.0, 0.0
    kernel = (
        partition.plan.kernel
        if partition.plan is not None
        else MetricsKernel(partition.X, partition.y)
    )
    loss, accuracy = validation_metrics(
        kernel, partition.sample_weight, rows, coef, intercept, batch_size
    )
    return loss * weight, accuracy * weight, weight


class MetricsKernel:
    """The kernel interface :func:`validation_metrics` uses, for a
    partition whose plan is not built here."""

    def __init__(self, X, labels):
        self.X, self.labels = X, labels

    def gather(self, rows):
        return self.X[rows]

    def move_indices(self, rows):
        return rows


def partition_rng(seed, index, purpose, round_index=0):
    """The random numbers of one partition for one purpose and round: a
    function of the fit's seed and the partition's index only, so that a
    fit does not depend on which worker holds which partition."""
    purposes = {"split": 0, "sample": 1, "order": 2, "shuffle": 3}
    return np.random.RandomState(
        np.random.SeedSequence(
            [seed, index, purposes[purpose], round_index]
        ).generate_state(1)[0]
    )
