"""The peer benchmark's report: markdown tables, the targets and the plot.

``bench_peers.py`` measures, this module formats what it measured; each
table takes the rows of one section.
"""

import numpy as np
from _common import markdown_table, milliseconds, ratio, seconds

# The defaults reach the target when their held-out accuracy is at most this
# far below LogisticRegression()'s.
ACCURACY_SLACK = 0.005


def dense_table(rows, n_steps):
    """Markdown table of section 1."""
    floor = next(row["epoch"] for row in rows if row["key"] == "floor")
    ours = next(row["epoch"] for row in rows if row["key"] == "ours")
    table = []
    for row in rows:
        per_step = (
            "-"
            if row["epoch"] is None or row["key"].startswith("floor")
            else f"{row['epoch'] / n_steps * 1e6:.0f}"
        )
        table.append(
            (
                row["name"],
                milliseconds(row["epoch"]),
                per_step,
                ratio(row["epoch"], floor),
                ratio(row["epoch"], ours),
                milliseconds(row["setup"]),
            )
        )
    return markdown_table(
        [
            "method",
            "epoch (ms)",
            "per step (µs)",
            "x BLAS floor",
            "x ours",
            "one-off setup (ms)",
        ],
        table,
    )


def accuracy_table(rows):
    """Markdown table of section 2."""
    lbfgs = next(row["fit_time"] for row in rows if row["key"] == "lbfgs")
    table = [
        (
            row["name"],
            seconds(row["fit_time"]),
            row["n_iter"],
            f"{100 * row['accuracy']:.2f}",
            seconds(row["time_to_target"]),
            ratio(row["fit_time"], lbfgs),
        )
        for row in rows
    ]
    return markdown_table(
        [
            "estimator (defaults)",
            "fit time (s)",
            "iterations",
            "held-out accuracy (%)",
            "time to LR accuracy - 0.5 pt (s)",
            "fit time x LR",
        ],
        table,
    )


def curve_lines(rows):
    """One markdown list item per estimator: its accuracy curve, point by point."""
    return [
        f"- {row['name']}: "
        + ", ".join(
            f"{max_iter}: {100 * accuracy:.2f} % ({fit_time:.2f} s)"
            for fit_time, accuracy, max_iter in row["curve"]
        )
        for row in rows
    ]


def sparse_table(rows, n_steps):
    """Markdown table of section 3."""
    sgd = next(row["epoch"] for row in rows if row["key"] == "sgd")
    table = [
        (
            row["name"],
            milliseconds(row["epoch"]),
            f"{row['epoch'] / n_steps * 1e6:.0f}",
            ratio(row["epoch"], sgd),
            milliseconds(row["setup"]),
        )
        for row in rows
    ]
    return markdown_table(
        [
            "method",
            "epoch (ms)",
            "per 256 rows (µs)",
            "x SGDClassifier",
            "one-off setup (ms)",
        ],
        table,
    )


def scaling_table(rows):
    """Markdown table of section 4."""
    table = [
        (
            f"{row['n_samples']:,}",
            row["n_epochs"],
            milliseconds(row["epoch"]),
            f"{row['epoch'] / row['n_samples'] * 1e9:.0f}",
            ratio(row["epoch"], row["floor"]),
            f"{100 * row['deviation']:+.1f}",
        )
        for row in rows
    ]
    return markdown_table(
        [
            "n_samples",
            "epochs timed",
            "epoch (ms)",
            "per row (ns)",
            "x 1-thread BLAS floor",
            "deviation from linear (%)",
        ],
        table,
    )


def memory_table(rows):
    """Markdown table of section 5."""
    table = [
        (
            row["name"],
            f"{row['extra'] / 2**20:.1f}",
            f"{row['nbytes'] / 2**20:.1f}",
            ratio(row["extra"], row["nbytes"]),
        )
        for row in rows
    ]
    return markdown_table(
        ["fit", "peak extra memory (MiB)", "X.nbytes (MiB)", "x X.nbytes"], table
    )


# Our rows that have a target row each: (result key, how the target names it).
OURS_SETTINGS = [("ours", ""), ("ours_blocks", ", with shuffle='blocks'")]


def target_rows(results):
    """The issue's targets, each ``(target, measured, met)``, where measured."""
    rows = []

    def add(target, measured, met):
        rows.append((target, measured, "yes" if met else "**no**"))

    dense = {row["key"]: row["epoch"] for row in results.get("dense", [])}
    if dense:
        ours = dense["ours"]
        for key, setting in OURS_SETTINGS:
            if key in dense:
                epoch = dense[key]
                add(
                    f"dense epoch <= 2.0 x BLAS floor{setting}",
                    f"{ratio(epoch, dense['floor'])} x "
                    f"({ratio(epoch, dense['floor1'])} x the 1-thread floor)",
                    epoch <= 2.0 * dense["floor"],
                )
        add(
            "dense epoch >= 2x faster than MLPClassifier",
            f"{ratio(dense['mlp'], ours)}x faster",
            dense["mlp"] >= 2 * ours,
        )
        torch_times = [epoch for key, epoch in dense.items() if key.startswith("torch")]
        if torch_times:
            add(
                "dense epoch faster than the PyTorch loop (its best thread count)",
                f"{ratio(min(torch_times), ours)}x faster",
                ours < min(torch_times),
            )
    if "accuracy" in results:
        by_key = {row["key"]: row for row in results["accuracy"]}
        ours, lbfgs = by_key["ours"], by_key["lbfgs"]
        gap = ours["accuracy"] - lbfgs["accuracy"]
        add(
            "defaults within 0.5 pt of LR's accuracy in less time than LR's fit",
            f"{100 * gap:+.2f} pt in {ours['fit_time']:.2f} s; "
            f"LR: {lbfgs['fit_time']:.2f} s",
            gap >= -ACCURACY_SLACK and ours["fit_time"] < lbfgs["fit_time"],
        )
    sparse_epochs = {row["key"]: row["epoch"] for row in results.get("sparse", [])}
    if sparse_epochs:
        sgd = sparse_epochs["sgd"]
        for key, setting in OURS_SETTINGS:
            if key in sparse_epochs:
                epoch = sparse_epochs[key]
                add(
                    f"sparse epoch faster than SGDClassifier{setting}",
                    f"{ratio(epoch, sgd)} x its time",
                    epoch < sgd,
                )
    memory = {row["key"]: row for row in results.get("memory", [])}
    if memory:
        extra, nbytes = memory["ours"]["extra"], memory["ours"]["nbytes"]
        add(
            "peak extra memory of fit <= 0.25 x X.nbytes",
            f"{ratio(extra, nbytes)} x",
            extra <= 0.25 * nbytes,
        )
    if "scaling" in results:
        worst = max(abs(row["deviation"]) for row in results["scaling"])
        add("epoch time linear in n within 10 %", f"{100 * worst:.1f} %", worst <= 0.10)
    return rows


def plot_curves(axes, rows):
    """Held-out accuracy against fit time, one line per estimator."""
    lbfgs_accuracy = next(row["accuracy"] for row in rows if row["key"] == "lbfgs")
    for row in rows:
        points = sorted(row["curve"])
        axes.plot(
            [point[0] for point in points],
            [100 * point[1] for point in points],
            marker="o",
            label=row["name"],
            linewidth=2.5 if row["key"] == "ours" else 1.2,
        )
    axes.axhline(
        100 * (lbfgs_accuracy - ACCURACY_SLACK),
        color="grey",
        linestyle="--",
        linewidth=0.8,
        label="LogisticRegression() accuracy - 0.5 pt",
    )
    axes.set_ylim(100 * lbfgs_accuracy - 10, 100 * lbfgs_accuracy + 2)
    axes.set_xscale("log")
    axes.set_xlabel("fit time (s), log scale")
    axes.set_ylabel("held-out accuracy (%)")
    axes.set_title(
        "Time to accuracy: fits truncated at 1, 2, 4, ... iterations, "
        "then the defaults",
        fontsize="medium",
    )
    axes.legend(fontsize="small", loc="lower right")


def plot_epoch_times(axes, rows):
    """Horizontal bars of the dense per-epoch times."""
    rows = [row for row in rows if row["epoch"] is not None]
    axes.barh([row["label"] for row in rows], [1e3 * row["epoch"] for row in rows])
    axes.invert_yaxis()
    axes.set_xlabel("time per epoch (ms)")
    axes.set_title("Dense per-epoch time, batch_size=256", fontsize="medium")


def save_plot(results, path):
    """Save the time-to-accuracy curves and the epoch times as a PNG.

    matplotlib is imported here only: it is an optional dependency.

    Returns
    -------
    path : Path or None
        Where the PNG went; None when matplotlib is not installed.
    """
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return None
    panels = [key for key in ("accuracy", "dense") if key in results]
    if not panels:
        return None
    figure = Figure(figsize=(6 * len(panels), 4.8), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(panels)))
    for ax, key in zip(axes, panels, strict=True):
        (plot_curves if key == "accuracy" else plot_epoch_times)(ax, results[key])
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    return path
