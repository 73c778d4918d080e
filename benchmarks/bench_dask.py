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
import pickle
import statistics
import time
import warnings

import numpy as np
from _common import markdown_table, print_environment, seconds
from scipy.special import softmax

from sksoftmax import SoftmaxSGDClassifier

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
    """Times each round of DataParallel's fits and scores the merged model
    on the held-out rows after it (by wrapping the rounds' ``run``)."""

    def __init__(self, X_test, y_test):
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
            recorder.accuracies.append(recorder.accuracy(*state.model()))
            recorder.state_bytes = len(pickle.dumps(_plain(state)))
            return sums

        self.module._Rounds.run = run
        return self

    def __exit__(self, *exc):
        self.module._Rounds.run = self.original

    def accuracy(self, coef, intercept):
        raw = self.X_test @ coef.T + intercept
        return 100 * float(np.mean(raw.argmax(axis=1) == self.y_test))


def _plain(state):
    from sksoftmax._state import state_to_plain

    return state_to_plain(state)


def start_cluster(n_workers):
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    return cluster, Client(cluster)


def fit_on_cluster(n_workers, X_lazy, y_lazy, X_test, y_test, repeats, **params):
    """Fixed-length and default fits on ``n_workers`` workers (data made
    and held there before the timings start)."""
    from sksoftmax.dask import DataParallel

    cluster, client = start_cluster(n_workers)
    try:
        X, y = client.persist([X_lazy, y_lazy])
        client.wait_for_workers(n_workers)
        from distributed import wait

        wait([X, y])
        fixed = SoftmaxSGDClassifier(random_state=0, max_iter=TIMED_EPOCHS, tol=None)
        with RoundRecorder(X_test, y_test) as epochs, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            DataParallel(fixed, **params).fit(X, y)
        fits = []
        for _ in range(repeats):
            with RoundRecorder(X_test, y_test) as rounds:
                start = time.perf_counter()
                model = DataParallel(SoftmaxSGDClassifier(random_state=0), **params)
                model.fit(X, y)
                fits.append(
                    {
                        "time": time.perf_counter() - start,
                        "rounds": model.estimator_.n_iter_,
                        "accuracy": rounds.accuracy(
                            model.estimator_.coef_, model.estimator_.intercept_
                        ),
                        "curve": rounds.accuracies,
                        "round_times": rounds.times,
                    }
                )
        return {
            "epoch_times": epochs.times,
            "state_bytes": epochs.state_bytes,
            "fits": fits,
        }
    finally:
        client.close()
        cluster.close()


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
    args = parser.parse_args(argv)
    n_rows = 200_000 if args.quick else 2_000_000
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
    X_lazy, y_lazy = lazy_data(model, n_rows, chunk_rows)

    X_train, y_train = local_data(model, n_rows, chunk_rows)
    start = time.perf_counter()
    in_memory = SoftmaxSGDClassifier(random_state=0).fit(X_train, y_train)
    memory_time = time.perf_counter() - start
    memory_accuracy = 100 * in_memory.score(X_test, y_test)
    del X_train, y_train

    runs = {
        n: fit_on_cluster(n, X_lazy, y_lazy, X_test, y_test, repeats) for n in (1, 2)
    }
    one, two = runs[1], runs[2]
    epoch = {n: statistics.median(runs[n]["epoch_times"]) for n in (1, 2)}
    fit_time = {
        n: statistics.median(f["time"] for f in runs[n]["fits"]) for n in (1, 2)
    }

    print("## Epochs and default fits: 2 workers against 1\n")
    rows = [
        [
            "median epoch (round) of a fixed-length fit",
            seconds(epoch[1]),
            seconds(epoch[2]),
            f"{epoch[2] / epoch[1]:.2f}",
            "<= 0.6",
        ],
        [
            "default fit, data already on the workers",
            seconds(fit_time[1]),
            seconds(fit_time[2]),
            f"{fit_time[2] / fit_time[1]:.2f}",
            "<= 0.7",
        ],
    ]
    print(markdown_table(["", "1 worker", "2 workers", "ratio", "target"], rows))
    print()
    print(
        f"Epochs timed: {len(one['epoch_times'])} per fit; default fits: "
        f"{repeats} each, median shown. Rounds of the default fits: "
        f"{[f['rounds'] for f in one['fits']]} (1 worker), "
        f"{[f['rounds'] for f in two['fits']]} (2 workers).\n"
    )
    accuracy_rows = [
        [
            "SoftmaxSGDClassifier() in memory",
            seconds(memory_time),
            f"{in_memory.n_iter_}",
            f"{memory_accuracy:.2f}",
            "",
        ],
    ]
    for n in (1, 2):
        fit = runs[n]["fits"][0]
        accuracy_rows.append(
            [
                f"DataParallel, {n} worker{'s' if n > 1 else ''}",
                seconds(fit_time[n]),
                f"{fit['rounds']}",
                f"{fit['accuracy']:.2f}",
                f"{fit['accuracy'] - memory_accuracy:+.2f}",
            ]
        )
    print(
        markdown_table(
            ["fit", "time", "epochs", "held-out accuracy (%)", "gap (points)"],
            accuracy_rows,
        )
    )
    print()

    print("## More replicas: rounds and accuracy (simulated on 2 workers)\n")
    simulated = simulate(replica_counts, X_lazy, y_lazy, X_test, y_test)
    print()
    state_bytes = two["state_bytes"]
    # Per round: compute on a 1/R share of the rows, plus a fixed cost
    # measured on 2 workers (the round's time less half the 1-worker
    # compute), plus the scheduler's cost per task and the states through
    # the client's link, each way.
    fixed_cost = max(epoch[2] - epoch[1] / 2, 0.0)
    table = []
    for n_replicas, result in simulated.items():
        reached = rounds_to_reach(result["curve"], memory_accuracy - 0.2)
        round_time = (
            epoch[1] / n_replicas
            + fixed_cost
            + n_replicas * TASK_OVERHEAD_SECONDS
            + 2 * n_replicas * state_bytes / NETWORK_BYTES_PER_SECOND
        )
        expected = result["rounds"] * round_time
        baseline = simulated[1]["rounds"] * (epoch[1] + fixed_cost)
        table.append(
            [
                f"{n_replicas}",
                f"{result['rounds']}",
                "-" if reached is None else f"{reached}",
                f"{result['accuracy']:.2f}",
                f"{n_replicas * state_bytes / 1e3:.0f} kB",
                seconds(round_time),
                f"{baseline / expected:.1f}x",
            ]
        )
    print(
        markdown_table(
            [
                "replicas",
                "rounds (default fit)",
                "rounds to within 0.2 point of in-memory",
                "held-out accuracy (%)",
                "sent per round, each way",
                "expected round time",
                "expected speed-up",
            ],
            table,
        )
    )
    print()
    print(
        f"Model: a round on R workers takes the 1-worker epoch / R "
        f"({seconds(epoch[1])} / R) plus the fixed cost measured on 2 workers "
        f"({seconds(fixed_cost)}), plus {TASK_OVERHEAD_SECONDS * 1e3:.0f} ms of "
        f"scheduling per task and each replica's state ({state_bytes:,} bytes "
        f"pickled) through the client's link at "
        f"{NETWORK_BYTES_PER_SECOND / 1e9:.0f} GB/s, both ways. The speed-up "
        "is that of the whole default fit (rounds x round time) against 1 "
        "worker's, setup excluded; rounds are the simulated ones."
    )


if __name__ == "__main__":
    main()
