"""Data-parallel training on a Dask cluster: sksoftmax.dask.DataParallel.

Answers four questions on one synthetic problem (2,000,000 x 100 float32
rows, 10 classes, labels drawn from a planted softmax model, generated on
the workers in chunks of 100,000 rows; 50,000 held-out rows):

1. How long does an epoch take on 2 workers against 1 (1 thread each),
   communication included? (median over the rounds of a fixed-length fit)
2. How long does the default fit take on 2 workers against 1, and how
   accurate is it against ``SoftmaxSGDClassifier()`` fitted in memory?
3. How many rounds do more replicas need (simulated: 1 to 64 replicas on
   the same cluster, whose results do not depend on where they run), and
   what accuracy do they reach?
4. What speed-up follows at 8, 16 and 64 workers, from the measured round
   costs and the simulated round counts?

Run with OpenBLAS free to pick its kernel (the workers inherit the
environment)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_dask.py

``--quick`` runs a small version (200,000 rows, replicas up to 8) in about
a minute, to check the script.
"""

import argparse
import importlib
import pickle
import statistics
import time
import warnings

import numpy as np
from _common import markdown_table, print_environment, seconds
from scipy.special import softmax
from threadpoolctl import threadpool_limits

from sksoftmax import SoftmaxSGDClassifier
from sksoftmax._state import state_to_plain

N_FEATURES = 100
N_CLASSES = 10
BAYES_ACCURACY = 0.7
TEST_ROWS = 50_000
# Fixed-length fits for the epoch timing: enough rounds for a median.
TIMED_EPOCHS = 7
# Assumptions of the speed-up model, beyond what is measured here.
NETWORK_BYTES_PER_SECOND = 1e9  # the client's link: 10 Gbit/s, at 80 %
TASK_OVERHEAD_SECONDS = 1e-3  # the scheduler's cost per task (Dask's docs)


# ------------------------------------------------------------------ data


def planted_model(seed=0):
    """The generator's parameters: factor loadings, column scales, and the
    coefficients and intercepts of the planted softmax model, scaled so that
    its Bayes accuracy is about 70 %."""
    rng = np.random.default_rng(seed)
    loadings = rng.standard_normal((5, N_FEATURES)) * 0.5
    column_scale = 1 / np.sqrt(1 + (loadings**2).sum(axis=0))
    coef = rng.standard_normal((N_FEATURES, N_CLASSES))
    intercept = rng.standard_normal(N_CLASSES) * 0.5
    pilot = make_chunk((loadings, column_scale, coef, intercept), 20_000, seed + 1)[0]
    raw = pilot @ coef
    low, high = -6.0, 6.0
    for _ in range(50):  # bisection on the log of the scale
        middle = (low + high) / 2
        top = softmax(np.exp(middle) * raw + intercept, axis=1).max(axis=1).mean()
        low, high = (middle, high) if top < BAYES_ACCURACY else (low, middle)
    return loadings, column_scale, coef * np.exp((low + high) / 2), intercept


def make_chunk(model, n_rows, seed):
    """``n_rows`` rows of the problem: correlated Gaussian features and
    labels drawn from the softmax of the planted logits (argmax plus Gumbel
    noise). A function of ``seed`` only: the same on any worker."""
    loadings, column_scale, coef, intercept = model
    rng = np.random.default_rng(seed)
    factors = rng.standard_normal((n_rows, loadings.shape[0]))
    noise = rng.standard_normal((n_rows, N_FEATURES))
    X = ((noise + factors @ loadings) * column_scale).astype(np.float32)
    logits = X @ coef.astype(np.float32) + intercept
    y = (logits + rng.gumbel(size=logits.shape)).argmax(axis=1)
    return X, y


def lazy_data(model, n_rows, chunk_rows):
    """X and y as dask arrays whose chunks are made on the workers."""
    import dask
    import dask.array as da

    X_chunks, y_chunks = [], []
    for index, start in enumerate(range(0, n_rows, chunk_rows)):
        rows = min(chunk_rows, n_rows - start)
        chunk = dask.delayed(make_chunk, pure=True, nout=2)(model, rows, 1000 + index)
        X_chunks.append(da.from_delayed(chunk[0], (rows, N_FEATURES), np.float32))
        y_chunks.append(da.from_delayed(chunk[1], (rows,), np.intp))
    return da.concatenate(X_chunks), da.concatenate(y_chunks)


def local_data(model, n_rows, chunk_rows):
    """The same rows as :func:`lazy_data`, made in this process."""
    parts = [
        make_chunk(model, min(chunk_rows, n_rows - start), 1000 + index)
        for index, start in enumerate(range(0, n_rows, chunk_rows))
    ]
    return np.concatenate([X for X, _ in parts]), np.concatenate([y for _, y in parts])


# ------------------------------------------------------------ measuring


class RoundRecorder:
    """Times each round of DataParallel's fits (by wrapping the rounds'
    ``run``) and, given held-out rows, scores the merged model after each
    (on one BLAS thread, outside the timing: OpenBLAS threads left spinning
    in the client would take a core from the workers)."""

    def __init__(self, X_test=None, y_test=None):
        from sksoftmax import dask as sksoftmax_dask

        self.module = sksoftmax_dask
        self.X_test, self.y_test = X_test, y_test
        self.original = sksoftmax_dask._Rounds.run
        self.times, self.accuracies, self.state_bytes = [], [], 0

    def __enter__(self):
        recorder = self

        def run(rounds, state, t):
            start = time.perf_counter()
            sums = recorder.original(rounds, state, t)
            recorder.times.append(time.perf_counter() - start)
            if recorder.X_test is not None:
                recorder.accuracies.append(recorder.accuracy(*state.model()))
            recorder.state_bytes = len(pickle.dumps(state_to_plain(state)))
            return sums

        self.module._Rounds.run = run
        return self

    def __exit__(self, *exc):
        self.module._Rounds.run = self.original

    def accuracy(self, coef, intercept):
        with threadpool_limits(1):
            raw = self.X_test @ coef.T + intercept
        return 100 * float(np.mean(raw.argmax(axis=1) == self.y_test))


def start_cluster(n_workers):
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    )
    client = Client(cluster)
    client.run(importlib.import_module, "sksoftmax.dask")  # not in the timings
    return cluster, client


def fit_on_clusters(X_lazy, y_lazy, X_test, y_test, repeats):
    """On a 1-worker and a 2-worker cluster, both started at once (idle
    workers cost nothing) and measured in turns, so that a drift of the
    machine's speed shows in both: a default fit that makes the data as its
    first step; then, on data made and held on the workers before the
    timings, ``repeats`` times the rounds of a fixed-length fit and a
    default fit; and the round trip of no-op tasks."""
    from distributed import wait

    from sksoftmax.dask import DataParallel

    clusters = {n: start_cluster(n) for n in (1, 2)}
    runs = {n: {"epoch_times": [], "compute_times": [], "fits": []} for n in clusters}
    try:
        for n, (_, client) in clusters.items():
            with client.as_current():  # while no chunk is in memory
                runs[n]["lazy_fit"] = default_fit(
                    DataParallel, X_lazy, y_lazy, X_test, y_test
                )
        data = {}
        for n, (_, client) in clusters.items():
            data[n] = client.persist([X_lazy, y_lazy])
            wait(data[n])
        for _ in range(repeats):
            for n, (_, client) in clusters.items():
                with client.as_current():
                    fixed_length_rounds(DataParallel, client, *data[n], runs[n])
                    runs[n]["fits"].append(
                        default_fit(DataParallel, *data[n], X_test, y_test)
                    )
        for n, (_, client) in clusters.items():
            runs[n]["round_trip"] = round_trip(client)
        return runs
    finally:
        for cluster, client in clusters.values():
            client.close()
            cluster.close()


def fixed_length_rounds(DataParallel, client, X, y, run):
    """The rounds of a fit of ``TIMED_EPOCHS`` epochs: their times on the
    client, and the slowest replica's compute in each (Dask's task stream)."""
    from distributed import get_task_stream

    fixed = SoftmaxSGDClassifier(random_state=0, max_iter=TIMED_EPOCHS, tol=None)
    with (
        RoundRecorder() as epochs,
        warnings.catch_warnings(),
        get_task_stream(client) as stream,
    ):
        warnings.simplefilter("ignore")
        DataParallel(fixed).fit(X, y)
    run["epoch_times"] += epochs.times
    run["compute_times"] += replica_compute_times(stream.data, len(epochs.times))
    run["state_bytes"] = epochs.state_bytes


def default_fit(DataParallel, X, y, X_test, y_test):
    start = time.perf_counter()
    model = DataParallel(SoftmaxSGDClassifier(random_state=0)).fit(X, y)
    elapsed = time.perf_counter() - start
    with threadpool_limits(1):
        accuracy = 100 * model.estimator_.score(X_test, y_test)
    return {"time": elapsed, "rounds": model.estimator_.n_iter_, "accuracy": accuracy}


def round_trip(client, repeats=50):
    """The median time of a round of no-op tasks, one per worker: what a
    synchronous step (a gradient aggregation) would cost at least."""
    workers = sorted(client.nthreads())
    times = []
    for index in range(repeats):
        start = time.perf_counter()
        client.gather(
            [
                client.submit(abs, index, workers=[worker], pure=False)
                for worker in workers
            ]
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def replica_compute_times(tasks, n_rounds):
    """The longest replica task of each round (its compute, on the worker),
    from the task stream of a fit."""
    rounds = {}
    for task in tasks:
        if "train_replica" not in task["key"]:
            continue
        compute = [s for s in task["startstops"] if s["action"] == "compute"]
        start = min(s["start"] for s in compute)
        rounds.setdefault(
            task["key"], (start, sum(s["stop"] - s["start"] for s in compute))
        )
    ordered = sorted(rounds.values())
    per_round = len(ordered) // n_rounds
    return [
        max(duration for _, duration in ordered[i : i + per_round])
        for i in range(0, per_round * n_rounds, per_round)
    ]


def simulate(replica_counts, X_lazy, y_lazy, X_test, y_test):
    """Default fits with each replica count on a 2-worker cluster: the
    rounds and accuracy they reach do not depend on where replicas run."""
    from distributed import wait

    from sksoftmax.dask import DataParallel

    cluster, client = start_cluster(2)
    results = {}
    try:
        X, y = client.persist([X_lazy, y_lazy])
        wait([X, y])
        for n_replicas in replica_counts:
            with RoundRecorder(X_test, y_test) as rounds:
                model = DataParallel(
                    SoftmaxSGDClassifier(random_state=0), n_replicas=n_replicas
                ).fit(X, y)
            results[n_replicas] = {
                "rounds": model.estimator_.n_iter_,
                "curve": rounds.accuracies,
                "accuracy": rounds.accuracy(
                    model.estimator_.coef_, model.estimator_.intercept_
                ),
            }
            print(
                f"- {n_replicas} replicas: {results[n_replicas]['rounds']} rounds, "
                f"held-out accuracy {results[n_replicas]['accuracy']:.2f} %",
                flush=True,
            )
    finally:
        client.close()
        cluster.close()
    return results


def rounds_to_reach(curve, target):
    """The first round whose held-out accuracy reaches ``target``."""
    for index, accuracy in enumerate(curve):
        if accuracy >= target:
            return index + 1
    return None


# ------------------------------------------------------------------ main


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small, fast run")
    parser.add_argument("--rows", type=int, help="training rows (a multiple of 64)")
    args = parser.parse_args(argv)
    n_rows = args.rows or (200_000 if args.quick else 2_000_000)
    chunk_rows = n_rows // 20
    replica_counts = [1, 2, 4, 8] if args.quick else [1, 2, 4, 8, 16, 32, 64]
    repeats = 1 if args.quick else 3
    print_environment(
        "sksoftmax.dask.DataParallel on a local Dask cluster",
        packages=["dask", "distributed", "dask-ml"],
        details=[
            f"- data: {n_rows:,} x {N_FEATURES} float32 rows, {N_CLASSES} "
            f"classes (planted softmax, Bayes accuracy about "
            f"{BAYES_ACCURACY:.0%}), made on the workers in chunks of "
            f"{chunk_rows:,} rows; {TEST_ROWS:,} held-out rows",
            "- workers: separate processes, 1 thread each, on 127.0.0.1",
        ],
    )
    model = planted_model()
    X_test, y_test = make_chunk(model, TEST_ROWS, 999)

    X_train, y_train = local_data(model, n_rows, chunk_rows)
    start = time.perf_counter()
    in_memory = SoftmaxSGDClassifier(random_state=0).fit(X_train, y_train)
    memory_time = time.perf_counter() - start
    memory_accuracy = 100 * in_memory.score(X_test, y_test)
    del X_train, y_train

    X_lazy, y_lazy = lazy_data(model, n_rows, chunk_rows)
    runs = fit_on_clusters(X_lazy, y_lazy, X_test, y_test, repeats)
    report_two_against_one(runs, repeats, in_memory, memory_time, memory_accuracy)

    print("## More replicas: rounds and accuracy (simulated on 2 workers)\n")
    print(
        f"The same rows in {len(replica_counts) and max(replica_counts)} "
        "partitions, so that each replica holds at least one.\n"
    )
    X_lazy, y_lazy = lazy_data(model, n_rows, n_rows // max(replica_counts))
    simulated = simulate(replica_counts, X_lazy, y_lazy, X_test, y_test)
    print()
    report_curves(simulated, memory_accuracy)
    report_speed_up(runs, simulated, memory_accuracy)


def report_two_against_one(runs, repeats, in_memory, memory_time, memory_accuracy):
    epoch = {n: statistics.median(runs[n]["epoch_times"]) for n in (1, 2)}
    compute = {n: statistics.median(runs[n]["compute_times"]) for n in (1, 2)}
    fit_time = {
        n: statistics.median(fit["time"] for fit in runs[n]["fits"]) for n in (1, 2)
    }
    print("## 2 workers against 1\n")
    print("### Times\n")
    lazy_time = {n: runs[n]["lazy_fit"]["time"] for n in (1, 2)}
    rows = [
        ["median epoch (round), communication included", *_compare(epoch), "<= 0.6"],
        ["of which the slowest replica's compute", *_compare(compute), ""],
        [
            "default fit, data already on the workers",
            *_compare(fit_time),
            "<= 0.7",
        ],
        ["default fit, making the data as it loads it", *_compare(lazy_time), ""],
    ]
    print(markdown_table(["measure", "1 worker", "2 workers", "ratio", "target"], rows))
    print()
    print(
        f"Epochs timed: the {TIMED_EPOCHS} rounds of each of {repeats} fits "
        f"with max_iter={TIMED_EPOCHS}, tol=None, on each cluster; compute: "
        "the replica tasks' compute time in Dask's task stream. Default fits: "
        f"{repeats} on each cluster, median shown. Both clusters ran at once, "
        "measured in turns. The rounds of the default fits: "
        f"{[f['rounds'] for f in runs[1]['fits']]} (1 worker), "
        f"{[f['rounds'] for f in runs[2]['fits']]} (2 workers). A round of "
        f"no-op tasks, one per worker, takes {seconds(runs[2]['round_trip'])} "
        "on 2 workers (the median of 50): what each minibatch would cost at "
        "least if the workers' gradients were aggregated at every step.\n"
    )
    rows = [
        [
            "SoftmaxSGDClassifier() in memory",
            seconds(memory_time),
            f"{in_memory.n_iter_}",
            f"{memory_accuracy:.2f}",
            "",
        ]
    ]
    for n in (1, 2):
        fit = runs[n]["fits"][0]
        rows.append(
            [
                f"DataParallel, {n} worker{'s' if n > 1 else ''}",
                seconds(fit_time[n]),
                f"{fit['rounds']}",
                f"{fit['accuracy']:.2f}",
                f"{fit['accuracy'] - memory_accuracy:+.2f}",
            ]
        )
    print("### Held-out accuracy\n")
    print(
        markdown_table(
            ["fit", "time", "epochs", "held-out accuracy (%)", "gap (points)"], rows
        )
    )
    print()


def _compare(times):
    return [seconds(times[1]), seconds(times[2]), f"{times[2] / times[1]:.2f}"]


def report_curves(simulated, memory_accuracy, shown=8):
    """Held-out accuracy of the averaged model after each round."""
    rows = [
        [f"{n_replicas}"]
        + [
            f"{accuracy:.2f}" if index < len(result["curve"]) else ""
            for index, accuracy in enumerate(result["curve"][:shown])
        ]
        for n_replicas, result in simulated.items()
    ]
    rounds = [f"round {index + 1}" for index in range(shown)]
    print("### Accuracy against rounds\n")
    print(
        f"Held-out accuracy (%) of the averaged model after each round (the "
        f"in-memory fit: {memory_accuracy:.2f}):\n"
    )
    print(markdown_table(["replicas", *rounds], rows))
    print()


def report_speed_up(runs, simulated, memory_accuracy):
    """The expected speed-up on R machines: rounds (simulated) times the
    round time of a model built from the measurements."""
    one, two = runs[1], runs[2]
    compute_one = statistics.median(one["compute_times"])
    # What a round costs beyond its slowest replica's compute: scheduling,
    # the states' transfers, the merge and the client's decisions.
    overhead = statistics.median(
        total - compute
        for total, compute in zip(two["epoch_times"], two["compute_times"])
    )
    state_bytes = two["state_bytes"]
    baseline = simulated[1]["rounds"] * (compute_one + overhead)
    rows = []
    for n_replicas, result in simulated.items():
        reached = rounds_to_reach(result["curve"], memory_accuracy - 0.2)
        round_time = (
            compute_one / n_replicas
            + overhead
            + n_replicas * TASK_OVERHEAD_SECONDS
            + 2 * n_replicas * state_bytes / NETWORK_BYTES_PER_SECOND
        )
        rows.append(
            [
                f"{n_replicas}",
                f"{result['rounds']}",
                "-" if reached is None else f"{reached}",
                f"{result['accuracy']:.2f}",
                f"{n_replicas * state_bytes / 1e3:.0f} kB",
                seconds(round_time),
                f"{baseline / (result['rounds'] * round_time):.1f}x",
            ]
        )
    print("### Expected speed-up\n")
    print(
        markdown_table(
            [
                "workers (replicas)",
                "rounds of the default fit",
                "rounds to within 0.2 point of in-memory",
                "held-out accuracy (%)",
                "states sent per round, each way",
                "expected round time",
                "expected speed-up",
            ],
            rows,
        )
    )
    print()
    print(
        "Model of a round on R workers, each a machine of its own: the "
        f"1-worker replica compute / R ({seconds(compute_one)} / R), plus the "
        f"measured cost of a round beyond its compute on 2 workers "
        f"({seconds(overhead)}: scheduling, transfers, the merge), plus "
        f"{TASK_OVERHEAD_SECONDS * 1e3:.0f} ms of scheduling per task and "
        f"each replica's state ({state_bytes:,} bytes pickled) through the "
        f"client's link at {NETWORK_BYTES_PER_SECOND / 1e9:.0f} GB/s, both "
        "ways. The speed-up is that of the rounds of the default fit against "
        "1 worker's, setup excluded."
    )


if __name__ == "__main__":
    main()
