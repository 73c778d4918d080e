"""Data-parallel training on a Dask cluster: :class:`DataParallel`.

Every worker trains a copy of the model on the partitions it holds, at the
same time, and the copies are averaged, weighted by their data, after each
epoch: iterative parameter mixing (McDonald, Hall and Mann, NAACL 2010),
also called local SGD (Stich, ICLR 2019). The client runs the estimator's
own epoch loop (:func:`sksoftmax._engine.run_epochs`) with a round on the
cluster as its epoch, so the schedule, the stopping rule, early stopping
and the rollback after a divergence decide on the merged model, exactly as
they decide in memory on the model of the epoch.
"""

import math
from contextlib import nullcontext
from numbers import Integral

import numpy as np
from scipy import sparse
from sklearn.base import clone
from sklearn.utils import check_random_state, compute_class_weight
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from sksoftmax._classifier import SoftmaxSGDClassifier
from sksoftmax._dask_tasks import (
    label_summary,
    load_partition,
    partition_metrics,
    prepare_partition,
    row_moments,
    sample_partition,
    train_replica,
)
from sksoftmax._engine import (
    EpochSums,
    merge_epoch_losses,
    resolve_batch_size,
    run_epochs,
)
from sksoftmax._optim import make_penalty
from sksoftmax._state import (
    build_training_state,
    state_from_plain,
    state_to_plain,
    step_from_data,
)
from sksoftmax._step_size import (
    GRAM_MAX_FEATURES,
    RowMoments,
    sample_size,
    step_sizes_from_sample,
)
from sksoftmax._validation import (
    balanced_weights,
    check_label_types,
    check_parameters_together,
    initial_params,
)

try:
    import dask
    import dask.array as da
    import distributed
    from dask_ml.wrappers import ParallelPostFit
except ImportError as error:  # pragma: no cover - the extra is missing
    raise ImportError(
        "sksoftmax.dask needs the dask extra: pip install 'sksoftmax[dask]'"
    ) from error

__all__ = ["DataParallel"]


class DataParallel(ParallelPostFit):
    """Train a :class:`~sksoftmax.SoftmaxSGDClassifier` on a Dask cluster,
    every worker at once.

    ``fit`` takes Dask arrays or dataframes whose partitions stay on the
    workers. Each of ``n_replicas`` copies of the model trains on its share
    of the partitions for one epoch, all at the same time; the client then
    averages the copies, weighted by the training weight of their rows (their
    rows, for unit weights), and decides as the estimator does after an
    epoch (step size, stopping, early stopping, rollback). A round sends
    the weights: ``n_classes x n_features`` numbers (and as many per
    momentum velocity and average) each way per replica. Rows leave the
    workers only once, as the sample of at most 4,096 rows that
    ``eta0="auto"`` estimates the step size from.

    Parameters
    ----------
    estimator : SoftmaxSGDClassifier, default=None
        The model and its training parameters (None:
        ``SoftmaxSGDClassifier()``). It is cloned; the fitted copy is
        ``estimator_``.
    n_replicas : int, default=None
        Copies of the model that train side by side: by default one per
        worker thread of the cluster when ``fit`` starts (at most one per
        partition). The partitions are dealt to the replicas by their index
        and the random numbers drawn per partition, so a fit with the same
        data, ``random_state`` and ``n_replicas`` gives the same model
        wherever the partitions are held, even after a worker is lost.
    scoring : str or callable, default=None
        How :meth:`score` scores (None: accuracy), as dask-ml's wrappers.
    predict_meta, predict_proba_meta, transform_meta : array-like, default=None
        The empty arrays that :meth:`predict` and :meth:`predict_proba`
        return lazily describe themselves with (dask-ml's; inferred if None).

    Attributes
    ----------
    estimator_ : SoftmaxSGDClassifier
        The fitted model: a plain estimator, picklable and usable without
        Dask. Its ``partial_fit`` continues in memory.
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    n_replicas_ : int
        The replicas that trained.

    See Also
    --------
    dask_ml.wrappers.Incremental : Trains one chunk after another on one model.

    Notes
    -----
    The classes, the class and sample weights, the minibatch gradient's
    weight normaliser and ``eta0="auto"`` are global (counted over all
    partitions); weights, momentum velocities, running averages and the L1
    penalty's state are averaged (the L1 shrinkage still owed applied after
    the average); every decision of the epoch loop is taken on the client
    on the merged model and objective. The user guide's Dask page lists
    each of these, the references and the measured speed-up.

    Examples
    --------
    >>> import dask.array as da
    >>> from distributed import Client, LocalCluster
    >>> from sksoftmax import SoftmaxSGDClassifier
    >>> from sksoftmax.dask import DataParallel
    >>> cluster = LocalCluster(n_workers=2, threads_per_worker=1,
    ...                        host="127.0.0.1", dashboard_address="127.0.0.1:0")
    >>> client = Client(cluster)
    >>> X = da.random.RandomState(0).normal(size=(20_000, 4), chunks=5_000)
    >>> y = (X[:, 0] + X[:, 1] > 0).astype(int)
    >>> model = DataParallel(SoftmaxSGDClassifier(random_state=0)).fit(X, y)
    >>> model.n_replicas_
    2
    >>> float(model.score(X, y)) > 0.95
    True
    >>> client.close(); cluster.close()
    """

    _parameter_constraints = {
        "n_replicas": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        estimator=None,
        *,
        n_replicas=None,
        scoring=None,
        predict_meta=None,
        predict_proba_meta=None,
        transform_meta=None,
    ):
        self.n_replicas = n_replicas
        super().__init__(
            estimator=estimator,
            scoring=scoring,
            predict_meta=predict_meta,
            predict_proba_meta=predict_proba_meta,
            transform_meta=transform_meta,
        )

    @property
    def _postfit_estimator(self):
        check_is_fitted(self, "estimator_")
        return self.estimator_

    def fit(self, X, y, classes=None, sample_weight=None):
        """Train on the partitions of ``X`` and ``y``, every worker at once.

        Parameters
        ----------
        X : dask.array.Array or dask.dataframe.DataFrame
            Of shape (n_samples, n_features), partitioned along rows only
            (chunks of columns are joined into one). Partitions of unknown
            size are accepted.
        y : dask.array.Array or dask.dataframe.Series of shape (n_samples,)
            Labels, partitioned as ``X``.
        classes : array-like of shape (n_classes,), default=None
            All classes; found in ``y`` (one pass) if None.
        sample_weight : dask.array.Array of shape (n_samples,), default=None
            Non-negative weights, partitioned as ``X``.

        Returns
        -------
        self : object
            The fitted wrapper.
        """
        self._validate_params()
        estimator = self._checked_estimator()
        client = _client()
        params = estimator.get_params(deep=False)
        feature_names, X, y, sample_weight = _as_arrays(X, y, sample_weight)
        rng = check_random_state(params["random_state"])
        seed = int(rng.randint(2**31 - 1))
        data = _ClusterData.load(
            client, X, y, sample_weight, self.n_replicas, seed=seed
        )
        try:
            classes = data.find_classes(classes)
            data.prepare(classes, params, seed)
            state = _initial_state(data, params, classes, X.dtype)
            result = run_epochs(
                _Rounds(data, params, seed),
                state,
                max_epochs=params["max_iter"],
                t=0,
                tol=params["tol"],
                n_iter_no_change=params["n_iter_no_change"],
                check_convergence=True,
                verbose=params["verbose"],
                start_objective=math.log(len(classes)),
            )
        finally:
            data.release()  # the partitions leave the workers' memory
        estimator._publish(classes, state, result, result.n_epochs, result.loss_curve)
        estimator.best_loss_ = result.best_loss
        estimator._publish_validation(result if params["early_stopping"] else None)
        estimator.n_features_in_ = data.n_features
        if feature_names is not None:
            estimator.feature_names_in_ = feature_names
        self.estimator_ = estimator
        self.classes_ = classes
        self.n_replicas_ = data.n_replicas
        return self

    def _checked_estimator(self):
        estimator = SoftmaxSGDClassifier() if self.estimator is None else self.estimator
        if not isinstance(estimator, SoftmaxSGDClassifier):
            raise TypeError(
                "DataParallel trains a SoftmaxSGDClassifier; got "
                f"{type(estimator).__name__}. Other estimators train chunk by "
                "chunk with dask_ml.wrappers.Incremental."
            )
        estimator = clone(estimator)
        estimator._validate_params()
        params = estimator.get_params(deep=False)
        check_parameters_together(params)
        if getattr(self.estimator, "_skl_callbacks", None):
            raise ValueError(
                "DataParallel does not run the estimator's callbacks (set with "
                "set_callbacks): its epochs are rounds on a cluster. Use "
                "verbose=1 to follow the rounds."
            )
        if params["warm_start"]:
            raise ValueError(
                "DataParallel.fit starts from zero weights: warm_start=True "
                "is not supported. To continue from a fitted model, call "
                "partial_fit on its estimator_ (in memory) or train it with "
                "dask_ml.wrappers.Incremental."
            )
        if params["shuffle"] == "blocks":
            raise ValueError(
                "shuffle='blocks' is not supported by DataParallel: each "
                "partition's rows are shuffled (shuffle=True) or kept in order "
                "(shuffle=False)."
            )
        return estimator


def _client():
    try:
        return distributed.default_client()
    except ValueError as error:
        raise ValueError(
            "DataParallel trains on a dask.distributed cluster: create a "
            "distributed.Client first (for example Client(LocalCluster()))."
        ) from error


def _as_arrays(X, y, sample_weight):
    """Dask arrays of X (one chunk of columns), y and sample_weight with
    the same row partitions; and X's string column names, if any."""
    feature_names = None
    if hasattr(X, "to_dask_array"):  # a dask DataFrame
        columns = np.asarray(X.columns, dtype=object)
        if len(columns) and all(isinstance(name, str) for name in columns):
            feature_names = columns
        X = X.to_dask_array()
    if hasattr(y, "to_dask_array"):
        y = y.to_dask_array()
    if sample_weight is not None and hasattr(sample_weight, "to_dask_array"):
        sample_weight = sample_weight.to_dask_array()
    for name, value in (("X", X), ("y", y), ("sample_weight", sample_weight)):
        if value is not None and not isinstance(value, da.Array):
            raise TypeError(
                f"DataParallel.fit takes dask arrays or dataframes; {name} is a "
                f"{type(value).__name__}. Wrap data in memory with "
                "dask.array.from_array, or fit the estimator itself."
            )
    if X.ndim != 2:
        raise ValueError(f"X must be 2-dimensional; got {X.ndim} dimensions.")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y must be 1-dimensional; got shape {y.shape}.")
    if X.numblocks[1] > 1:
        X = X.rechunk({1: -1})
    for name, value in (("y", y), ("sample_weight", sample_weight)):
        if value is None:
            continue
        if value.numblocks[0] != X.numblocks[0]:
            raise ValueError(
                f"{name} must be partitioned as X along the rows: X has "
                f"{X.numblocks[0]} partitions, {name} {value.numblocks[0]}."
            )
        known = not (np.isnan(X.chunks[0]).any() or np.isnan(value.chunks[0]).any())
        if known and X.chunks[0] != value.chunks[0]:
            raise ValueError(
                f"{name}'s partitions must hold as many rows as X's: "
                f"{value.chunks[0]} against {X.chunks[0]}."
            )
    return feature_names, X, y, sample_weight


class _ClusterData:
    """The partitions of a fit, held on the workers, and the replicas that
    train on them."""

    @classmethod
    def load(cls, client, X, y, sample_weight, n_replicas, *, seed):
        self = cls()
        self.client = client
        n_partitions = X.numblocks[0]
        X_parts = X.to_delayed().ravel()
        y_parts = y.to_delayed().ravel()
        w_parts = (
            [None] * n_partitions
            if sample_weight is None
            else sample_weight.to_delayed().ravel()
        )
        sizes = None if np.isnan(X.chunks[0]).any() else list(X.chunks[0])
        slots = _worker_slots(client)
        self.n_replicas = min(n_replicas or len(slots), n_partitions)
        self.groups = _deal_partitions(n_partitions, sizes, self.n_replicas)
        self.workers = [slots[group % len(slots)] for group in range(self.n_replicas)]
        load = dask.delayed(load_partition, pure=True)
        partitions = [None] * n_partitions
        for group, members in enumerate(self.groups):
            futures = client.compute(
                [load(i, X_parts[i], y_parts[i], w_parts[i]) for i in members],
                workers=[self.workers[group]],
                allow_other_workers=True,
            )
            for i, future in zip(members, futures):
                partitions[i] = future
        self.raw = partitions
        self.worker_of = [None] * n_partitions
        for group, members in enumerate(self.groups):
            for i in members:
                self.worker_of[i] = self.workers[group]
        self.summaries = client.gather(self.each(label_summary, partitions))
        self.n_features = self.summaries[0]["n_features"]
        self.sparse = self.summaries[0]["sparse"]
        self.seed = seed
        return self

    def find_classes(self, classes):
        labels = np.concatenate([summary["labels"] for summary in self.summaries])
        if classes is None:
            check_label_types(labels, "y")
            check_classification_targets(labels)
            classes = np.unique(labels)
        else:
            classes = np.unique(np.asarray(classes))
            check_label_types(classes, "classes")
        if len(classes) < 2:
            raise ValueError(
                "DataParallel needs samples of at least 2 classes in the data, "
                f"but the data contains only one class: {classes[0]!r}."
            )
        return classes

    def prepare(self, classes, params, seed):
        """Encode the labels, weigh them, hold out rows, gather the moments."""
        class_factors = _class_factors(classes, self.summaries, params["class_weight"])
        fraction = params["validation_fraction"] if params["early_stopping"] else None
        rows = [summary["rows"] for summary in self.summaries]
        self.partitions = self.each(
            prepare_partition,
            self.raw,
            [(n,) for n in _held_out_rows(rows, fraction)],
            classes=classes,
            class_factors=class_factors,
            seed=seed,
        )
        self.raw = None
        self.moments = self.client.gather(
            self.each(
                row_moments,
                self.partitions,
                step_from_data=step_from_data(params),
            )
        )
        self.weight = sum(moment["weight"] for moment in self.moments)
        self.n_train = sum(moment["n_train"] for moment in self.moments)
        self.max_abs = max(moment["max_abs"] for moment in self.moments)
        trained = np.unique(np.concatenate([m["train_classes"] for m in self.moments]))
        if self.weight <= 0 or len(trained) < 2:
            raise ValueError(
                "At least two classes must carry positive weight (sample_weight "
                "times class_weight) in the training rows; "
                f"{len(trained)} do."
            )
        if fraction is not None and not any(
            moment["held_out_weight"] > 0 for moment in self.moments
        ):
            raise ValueError(
                "early_stopping left no positive sample_weight in the held-out "
                "rows, so their loss cannot be measured; use another "
                "validation_fraction or early_stopping=False."
            )

    def step_sizes(self, params, batch_size, seed):
        """``eta0`` and the intercept's step scale (see ``eta0="auto"``)."""
        if not step_from_data(params):
            return float(params["eta0"]), 1.0
        moments, total = self.moments, self.weight
        trace = sum(moment["weighted_trace"] for moment in moments) / total
        weighted = np.concatenate([m["frontier"][0] for m in moments]) / total
        relative = np.concatenate([m["frontier"][1] for m in moments]) / total
        n_weighted = sum(moment["n_weighted"] for moment in moments)
        power_iteration = self.n_features > GRAM_MAX_FEATURES
        n_sample = sample_size(
            self.n_features, self.sparse, n_weighted, power_iteration
        )
        sampled = n_weighted > n_sample
        draws = [
            _draws(moment, n_sample, total, trace) if sampled else None
            for moment in moments
        ]
        samples = self.client.gather(
            self.each(
                sample_partition,
                self.partitions,
                [(n, total, trace * total, seed) for n in draws],
            )
        )
        stack = sparse.vstack if self.sparse else np.concatenate
        X_sample = stack([rows for rows, _ in samples])
        if self.sparse:
            X_sample = X_sample.tocsr()
        weight_sample = np.concatenate([weight for _, weight in samples])
        weight_sample = weight_sample / weight_sample.sum()
        rows = RowMoments(
            trace=trace,
            largest_norm_sq=max(moment["largest_norm_sq"] for moment in moments),
            weighted_norms_sq=weighted,
            relative_weight=relative,
        )
        l2 = make_penalty(params["penalty"], params["alpha"], params["l1_ratio"]).l2
        return step_sizes_from_sample(
            X_sample,
            weight_sample,
            sampled,
            rows,
            params["fit_intercept"],
            batch_size,
            l2,
            n_samples=self.n_train,
        )

    def each(self, function, partitions, args_of_each=None, **kwargs):
        """``function(partition, *args, **kwargs)`` for each partition, as a
        task on the worker of its replica (where it is held): Dask would
        otherwise spread many similar tasks over the workers as it sees fit,
        and each round would move the partitions back."""
        if args_of_each is None:
            args_of_each = [()] * len(partitions)
        return [
            self.client.submit(
                function,
                partition,
                *args,
                **kwargs,
                workers=[self.worker_of[index]],
                allow_other_workers=True,
                pure=False,
            )
            for index, (partition, args) in enumerate(zip(partitions, args_of_each))
        ]

    def replica_steps(self, batch_size):
        """The updates of a round, as the merge counts them: each replica's
        (a batch per ``batch_size`` rows of each partition), weighted by
        the replicas' training weight."""
        steps = [
            sum(math.ceil(self.moments[i]["n_train"] / batch_size) for i in group)
            for group in self.groups
        ]
        weights = [sum(self.moments[i]["weight"] for i in g) for g in self.groups]
        return max(1, round(float(np.dot(steps, weights)) / sum(weights)))

    def release(self):
        self.partitions = self.raw = None


def _held_out_rows(rows, fraction):
    """Rows each partition holds out for early stopping: ``ceil(fraction *
    n_rows)`` in all, as in memory, shared in proportion to the partitions'
    rows (largest remainders first), so that small partitions hold out their
    share too."""
    if fraction is None:
        return [0] * len(rows)
    total = math.ceil(fraction * sum(rows))
    exact = np.array(rows, dtype=np.float64) * (total / max(sum(rows), 1))
    counts = np.floor(exact).astype(int)
    remainders = np.argsort(-(exact - counts), kind="stable")
    counts[remainders[: total - counts.sum()]] += 1
    return counts.tolist()


def _draws(moment, n_sample, total_weight, trace):
    """A partition's share of the sample: its share of the whole data's
    sampling probability (half weight, half trace), at least one draw for a
    partition with weighted rows."""
    if not moment["n_weighted"]:
        return 0
    share = moment["weight"] / total_weight
    if trace > 0:
        share += moment["weighted_trace"] / (trace * total_weight)
    return max(1, round(0.5 * share * n_sample))


def _worker_slots(client):
    """One entry per worker thread, workers in address order."""
    threads = client.nthreads()
    if not threads:
        raise ValueError("The Dask cluster has no workers.")
    return [address for address in sorted(threads) for _ in range(threads[address])]


def _deal_partitions(n_partitions, sizes, n_replicas):
    """The partitions of each replica: by size, largest first, each to the
    replica with the fewest rows so far (ties to the first); round robin
    by index where sizes are unknown."""
    groups = [[] for _ in range(n_replicas)]
    if sizes is None:
        for index in range(n_partitions):
            groups[index % n_replicas].append(index)
        return groups
    rows = [0] * n_replicas
    for index in sorted(range(n_partitions), key=lambda i: (-sizes[i], i)):
        replica = rows.index(min(rows))
        groups[replica].append(index)
        rows[replica] += sizes[index]
    return [sorted(group) for group in groups]


def _class_factors(classes, summaries, class_weight):
    """``class_weight`` as one factor per class (None for none), "balanced"
    from the weight of each class over all partitions."""
    if class_weight is None:
        return None
    if class_weight == "balanced":
        counts = np.zeros(len(classes))
        for summary in summaries:
            index = np.searchsorted(classes, summary["labels"])
            known = index < len(classes)
            known[known] &= classes[index[known]] == summary["labels"][known]
            np.add.at(counts, index[known], summary["label_weights"][known])
        return balanced_weights(counts)
    return compute_class_weight(class_weight, classes=classes, y=classes)


def _initial_state(data, params, classes, dtype):
    batch_size = resolve_batch_size(params["batch_size"], data.n_train, False)
    data.batch_size = batch_size
    dtype = np.float32 if dtype == np.float32 else np.float64
    coef, intercept = initial_params(
        None,
        None,
        len(classes),
        np.zeros((0, data.n_features), dtype=dtype),
        params["fit_intercept"],
    )
    return build_training_state(
        params,
        data.step_sizes(params, batch_size, data.seed),
        coef,
        intercept,
        n_rows=data.n_train,
        batch_size=batch_size,
        sparse_data=data.sparse,
        cold_start=True,
        epoch_steps=data.replica_steps(batch_size),
    )


class _Rounds:
    """The epochs of :func:`~sksoftmax._engine.run_epochs` on a cluster:
    each a round in which every replica trains an epoch on its partitions,
    merged into the client's state (see :class:`DataParallel`)."""

    def __init__(self, data, params, seed):
        self.data, self.client = data, data.client
        self.n_rows, self.x_max_abs = data.n_train, data.max_abs
        self.has_validation = bool(params["early_stopping"])
        self.settings = {
            "seed": seed,
            "batch_size": data.batch_size,
            "shuffle": bool(params["shuffle"]),
            "mean_weight": data.weight / data.n_train,
            "round": 0,
        }

    def threads(self):
        return nullcontext()

    def run(self, state, t):
        data, client = self.data, self.client
        self.settings["round"] += 1
        plain = state_to_plain(state)
        futures = [
            client.submit(
                train_replica,
                plain,
                t,
                dict(self.settings),
                *[data.partitions[i] for i in group],
                workers=[data.workers[replica]],
                allow_other_workers=True,
                pure=False,
            )
            for replica, group in enumerate(data.groups)
        ]
        results = client.gather(futures)  # every replica's, or an error
        return _merge(state, t, results)

    def validation(self, state):
        loss, correct, weight = self._metrics(state, held_out=True)
        return loss / weight, correct / weight

    def training_loss(self, state):
        loss, _, weight = self._metrics(state, held_out=False)
        return loss / weight

    def _metrics(self, state, held_out):
        coef, intercept = state.model()
        sums = self.client.gather(
            self.data.each(
                partition_metrics,
                self.data.partitions,
                coef=coef,
                intercept=intercept,
                batch_size=self.data.batch_size,
                held_out=held_out,
            )
        )
        return np.sum(np.asarray(sums), axis=0)


def _merge(state, t, results):
    """Write the replicas' average into ``state``; return the round's
    :class:`EpochSums` (``t``: the update count after it).

    Each replica counts in proportion to the training weight it stepped on
    (its rows, for unit weights): one whose rows all weigh zero took no
    step, and counting it would pull the average back to where the round
    began.
    """
    sums = [epoch for _, epoch, _ in results]
    weight = sum(epoch.weight for epoch in sums)
    if not weight > 0:
        return EpochSums(math.nan, weight, t)
    kept = [index for index, epoch in enumerate(sums) if epoch.weight > 0]
    replicas = [state_from_plain(results[index][0]) for index in kept]
    share = np.array([sums[index].weight for index in kept]) / weight
    optimizer = state.optimizer
    merged = {}
    for name in state.arrays():
        arrays = [replica.arrays()[name] for replica in replicas]
        if name.startswith("average_"):
            started = [r.optimizer.n_averaged > 0 for r in replicas]
            if not any(started):
                continue
            weights = share * started
            weights = weights / weights.sum()
        else:
            weights = share
        if any(array is None for array in arrays):
            continue
        # (Python floats: numpy's would promote float32 weights to float64.)
        merged[name] = sum(float(w) * array for w, array in zip(weights, arrays))
    for name, value in state.arrays().items():
        if name in merged and value is not None:
            value[...] = merged[name]
    if "received" in merged and optimizer.penalty.received is None:
        optimizer.penalty.received = np.asarray(
            merged["received"], dtype=state.coef.dtype, order="F"
        )
    averaged = [r.optimizer.n_averaged for r in replicas if r.optimizer.n_averaged]
    if averaged:
        optimizer.n_averaged = round(float(np.mean(averaged)))
    optimizer.samples_seen += sum(
        r.optimizer.samples_seen - optimizer.samples_seen for r in replicas
    )
    penalty = optimizer.penalty
    penalty.total_shrinkage = float(
        share @ [r.optimizer.penalty.total_shrinkage for r in replicas]
    )
    if penalty.l1 and penalty.received is not None:
        # Averaged weights are still owed the shrinkage that some replicas
        # applied and others did not: applied now, they reach zero again.
        velocity = optimizer.velocities[0] if optimizer.velocities else None
        penalty.apply_owed(state.coef, velocity, optimizer.lookahead)
    steps = float(share @ [sums[index].t - t for index in kept])
    loss = merge_epoch_losses([sums[index] for index in kept])
    return EpochSums(loss, weight, t + round(steps))
