"""The ``sksoftmax`` command line: ``demo``, ``train`` and ``predict``.

``train`` and ``predict`` read CSV/TSV and Parquet tables (with pandas), NPZ
archives and svmlight/libsvm files, so the heavy optional packages (pandas,
pyarrow, matplotlib, skops, rich) are imported only by the subcommands that
need them, through :func:`~sksoftmax._cli_data.require`, which names the
extra to install. Reading the input files lives in :mod:`sksoftmax._cli_data`.
"""

import argparse
import csv
import importlib
import json
import os
import sys
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from sksoftmax._cli_data import (
    SVMLIGHT_INDEXING,
    CLIError,
    check_exists,
    format_of,
    read_prediction_data,
    read_training_data,
    require,
)

CLASSIFIER_STEP = "softmaxsgdclassifier"


# --------------------------------------------------------------------- demo


def run_demo(args):
    """GridSearchCV over alpha x eta0 on digits, beside LogisticRegression."""
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sksoftmax import SoftmaxSGDClassifier

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=args.random_state
    )
    print(
        f"digits: {X_train.shape[0]} training and {X_test.shape[0]} held-out images, "
        f"{X.shape[1]} pixels, {len(np.unique(y))} classes\n"
    )
    pipeline = make_pipeline(
        StandardScaler(), SoftmaxSGDClassifier(random_state=args.random_state)
    )
    param_grid = {
        "softmaxsgdclassifier__alpha": [1e-5, 1e-4, 1e-3],
        "softmaxsgdclassifier__eta0": ["auto", 0.01, 0.1],
    }
    search = GridSearchCV(pipeline, param_grid, cv=5, n_jobs=args.n_jobs, verbose=2)
    print("GridSearchCV over alpha x eta0 (5 folds each):")
    start = time.perf_counter()
    search.fit(X_train, y_train)
    search_time = time.perf_counter() - start

    results = search.cv_results_
    print("\nCross-validation results (best first):")
    print(f"{'alpha':>8s} {'eta0':>6s} {'mean acc':>9s} {'std':>7s} {'fit time':>9s}")
    for i in np.argsort(results["rank_test_score"], kind="stable"):
        params = results["params"][i]
        print(
            f"{params['softmaxsgdclassifier__alpha']:8.0e} "
            f"{params['softmaxsgdclassifier__eta0']!s:>6s} "
            f"{results['mean_test_score'][i]:9.4f} {results['std_test_score'][i]:7.4f} "
            f"{results['mean_fit_time'][i] * 1000:7.1f}ms"
        )
    print(f"\nBest parameters: {search.best_params_} (search took {search_time:.2f}s)")

    rows = []
    for name, estimator in [
        ("SoftmaxSGDClassifier (best)", search.best_estimator_),
        (
            "SoftmaxSGDClassifier (defaults)",
            make_pipeline(
                StandardScaler(), SoftmaxSGDClassifier(random_state=args.random_state)
            ),
        ),
        (
            "LogisticRegression (defaults)",
            make_pipeline(StandardScaler(), LogisticRegression()),
        ),
    ]:
        start = time.perf_counter()
        estimator.fit(X_train, y_train)
        fit_time = time.perf_counter() - start
        rows.append((name, estimator.score(X_test, y_test), fit_time))
    print("\nHeld-out accuracy (refit on the whole training part):")
    print(f"{'model':34s} {'accuracy':>9s} {'fit time':>10s}")
    for name, accuracy, fit_time in rows:
        print(f"{name:34s} {accuracy:9.4f} {fit_time * 1000:8.1f}ms")
    return 0


# ----------------------------------------------------------------- training


def _parse_param_grid(text):
    """``--param-grid``: JSON text or a JSON file, keys are estimator parameters."""
    if text is None:
        return {}
    if not text.lstrip().startswith("{"):
        check_exists(text)
        text = Path(text).read_text()
    try:
        grid = json.loads(text)
    except json.JSONDecodeError as error:
        raise CLIError(f"--param-grid is not valid JSON: {error}") from None
    if not isinstance(grid, dict):
        raise CLIError(
            "--param-grid must be a JSON object such as "
            '\'{"alpha": [1e-5, 1e-4], "eta0": ["auto", 0.1]}\'.'
        )
    from sksoftmax import SoftmaxSGDClassifier

    known = SoftmaxSGDClassifier().get_params()
    unknown = [name for name in grid if name not in known]
    if unknown:
        raise CLIError(
            f"--param-grid: unknown parameter(s) {', '.join(map(repr, unknown))} of "
            f"SoftmaxSGDClassifier; known are {', '.join(sorted(known))}."
        )
    empty = [name for name, values in grid.items() if values == []]
    if empty:
        raise CLIError(
            f"--param-grid: no values for {', '.join(map(repr, empty))}; give at "
            "least one."
        )
    return {
        f"{CLASSIFIER_STEP}__{name}": values if isinstance(values, list) else [values]
        for name, values in grid.items()
    }


def _label_repr(label):
    """The label as Python writes it: 'a' and 0, not np.str_('a') and np.int64(0)."""
    return repr(label.item() if isinstance(label, np.generic) else label)


def _check_rows_per_class(y, needed, reason):
    classes, counts = np.unique(y, return_counts=True)
    too_few = [
        f"{_label_repr(label)} ({count})"
        for label, count in zip(classes, counts)
        if count < needed
    ]
    if too_few:
        raise CLIError(
            f"too few rows per class: {reason} needs at least {needed} rows of each "
            f"class; these have fewer: {', '.join(too_few)}."
        )


def _make_pipeline(X, scale, random_state):
    from scipy import sparse
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sksoftmax import SoftmaxSGDClassifier

    classifier = SoftmaxSGDClassifier(random_state=random_state)
    if not scale:
        return make_pipeline(classifier)
    # Centering would densify a sparse matrix: scale sparse columns only.
    return make_pipeline(StandardScaler(with_mean=not sparse.issparse(X)), classifier)


def _progress_enabled(requested):
    """Whether to draw progress bars: ``--progress``, ``--no-progress`` or neither.

    The bars are scikit-learn's ``ProgressBar`` callback (scikit-learn 1.9 and
    later), drawn by rich on standard output. By default they are drawn when
    both are installed and standard output is a terminal. Asked for without
    rich, they are an error naming the extra; on an older scikit-learn the
    command goes on without them, saying so.
    """
    if requested is None:
        return sys.stdout.isatty() and _callbacks_available()
    if not requested:
        return False
    require("rich", "--progress")
    if not _callbacks_available():
        import sklearn

        print(
            f"--progress: scikit-learn {sklearn.__version__} has no callbacks "
            "(1.9 and later have), so no progress bar is drawn.",
            file=sys.stderr,
        )
        return False
    return True


def _callbacks_available():
    """Whether scikit-learn's ProgressBar callback can be used (needs rich)."""
    try:
        importlib.import_module("rich")
        importlib.import_module("sklearn.callback")
    except ImportError:
        return False
    return True


def _short_params(params):
    """Grid parameters without the pipeline step's prefix."""
    return {
        name.removeprefix(CLASSIFIER_STEP + "__"): value
        for name, value in params.items()
    }


def _search(pipeline, param_grid, X, y, args):
    """Cross-validate each candidate of ``param_grid`` with GridSearchCV.

    Prints the candidates best first and returns the best one's parameters.
    A candidate whose every fold fails is an error: its parameters and its
    fit's error message; one that fails on some folds shows their count.
    """
    from sklearn.exceptions import FitFailedWarning
    from sklearn.model_selection import GridSearchCV, ParameterGrid, StratifiedKFold

    folds = StratifiedKFold(args.cv, shuffle=True, random_state=args.random_state)
    search = GridSearchCV(
        pipeline, param_grid, cv=folds, n_jobs=args.n_jobs, refit=False
    )
    if args.progress:
        from sklearn.callback import ProgressBar

        # One bar over the candidates' folds (deeper levels: one per fit).
        search.set_callbacks(ProgressBar(max_propagation_depth=0))
    with warnings.catch_warnings():
        # Failed fits are reported below, in one line each, not as tracebacks.
        warnings.simplefilter("ignore", FitFailedWarning)
        warnings.filterwarnings("ignore", "One or more of the test scores are non")
        try:
            search.fit(X, y)
        except ValueError as error:  # every fit of every candidate failed
            first = ParameterGrid(param_grid)[0]
            _raise_failed_candidate(pipeline, first, X, y, folds, str(error))
    results = search.cv_results_
    fold_scores = np.array([results[f"split{i}_test_score"] for i in range(args.cv)])
    n_failed = np.isnan(fold_scores).sum(axis=0)
    for index in np.flatnonzero(n_failed == args.cv)[:1]:
        _raise_failed_candidate(pipeline, results["params"][index], X, y, folds)
    _print_candidates(results, n_failed, args.cv)
    return search.best_params_


def _print_candidates(results, n_failed, n_folds):
    """The search's candidates, best first: mean and spread of their scores."""
    print(
        f"{n_folds}-fold cross-validation accuracy of {len(results['params'])} "
        "candidates:"
    )
    for index in np.argsort(results["rank_test_score"], kind="stable"):
        shown = ", ".join(
            f"{name}={value!r}"
            for name, value in _short_params(results["params"][index]).items()
        )
        failed = n_failed[index]
        print(
            f"  {results['mean_test_score'][index]:.4f} +- "
            f"{results['std_test_score'][index]:.4f}  "
            f"({results['mean_fit_time'][index] * 1000:.0f} ms/fit)  {shown}"
            + (f" (failed on {failed} of {n_folds} folds)" if failed else "")
        )


def _raise_failed_candidate(pipeline, params, X, y, folds, search_error=None):
    """Raise the CLIError of a candidate that failed on every fold.

    GridSearchCV keeps only the tracebacks of failed fits: the candidate is
    fitted again on the first fold's training rows, for its error message.
    Should that fit succeed, the search's own error (its first line) is shown.
    """
    from sklearn.base import clone
    from sklearn.utils import _safe_indexing

    train, _ = next(folds.split(X, y))
    message = (search_error or "").strip().split("\n")[0] or "no error message"
    try:
        clone(pipeline).set_params(**params).fit(
            _safe_indexing(X, train), _safe_indexing(y, train)
        )
    except Exception as error:  # what each fold raised, GridSearchCV caught
        message = str(error)
    raise CLIError(
        f"--param-grid: the candidate {_short_params(params)} failed on every "
        f"fold: {message}"
    )


def _print_report(model, X_test, y_test):
    from sklearn.metrics import (
        accuracy_score,
        classification_report,
        confusion_matrix,
        log_loss,
    )

    classes = model.classes_
    proba = model.predict_proba(X_test)
    y_pred = classes[proba.argmax(axis=1)]
    names = [str(label) for label in classes]
    print(f"\nTest accuracy: {accuracy_score(y_test, y_pred):.4f}")
    print(f"Test log-loss: {log_loss(y_test, proba, labels=classes):.4f}\n")
    print(
        classification_report(
            y_test, y_pred, labels=classes, target_names=names, zero_division=0
        )
    )
    matrix = confusion_matrix(y_test, y_pred, labels=classes)
    width = max(max(map(len, names)), len(str(matrix.max())), 4)
    print("Confusion matrix (rows: true class, columns: predicted class):")
    print(" " * width + "".join(f" {name:>{width}s}" for name in names))
    for name, row in zip(names, matrix):
        print(f"{name:>{width}s}" + "".join(f" {count:>{width}d}" for count in row))
    return y_pred


def _save_plots(model, y_test, y_pred, folder):
    """``loss_curve.png`` and ``confusion_matrix.png`` in ``folder``."""
    from matplotlib.figure import Figure
    from sklearn.metrics import ConfusionMatrixDisplay

    classifier = model[-1]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)

    figure = Figure(figsize=(6, 4), layout="constrained")
    axes = figure.subplots()
    epochs = np.arange(1, len(classifier.loss_curve_) + 1)
    axes.plot(epochs, classifier.loss_curve_, label="training objective")
    if getattr(classifier, "validation_loss_curve_", None) is not None:
        axes.plot(
            epochs, classifier.validation_loss_curve_, label="validation log-loss"
        )
    axes.set(xlabel="epoch", ylabel="loss", title="SoftmaxSGDClassifier training")
    axes.legend()
    loss_path = folder / "loss_curve.png"
    figure.savefig(loss_path, dpi=100)

    figure = Figure(figsize=(6, 5), layout="constrained")
    display = ConfusionMatrixDisplay.from_predictions(
        y_test,
        y_pred,
        labels=classifier.classes_,
        ax=figure.subplots(),
        cmap="Blues",
        colorbar=False,
    )
    display.ax_.set_title("Confusion matrix on the test part")
    matrix_path = folder / "confusion_matrix.png"
    figure.savefig(matrix_path, dpi=100)
    return [loss_path, matrix_path]


def _check_train_arguments(args):
    """Refuse, before any work, what would fail later; the candidates to search.

    Also settles ``args.progress``: whether progress bars are drawn.
    """
    from sklearn.model_selection import ParameterGrid

    check_exists(args.data)
    format_of(args.data)  # the input's problems first, then missing packages
    if not args.no_plots:
        require("matplotlib", "saving plots (or pass --no-plots)")
    if args.out is not None:
        require("skops.io", "saving the model")
        _check_output(args.out, "--out")
    if not args.no_plots and Path(args.plots_dir).exists():
        if not Path(args.plots_dir).is_dir():
            raise CLIError(f"--plots-dir {args.plots_dir} is a file, not a folder.")
    args.progress = _progress_enabled(args.progress)
    param_grid = _parse_param_grid(args.param_grid)
    n_candidates = len(ParameterGrid(param_grid))  # 1 for an empty grid
    if args.cv < 2 and n_candidates > 1:
        raise CLIError(f"--cv must be at least 2 for a --param-grid; got {args.cv}.")
    return param_grid, n_candidates


def _read_and_split(args):
    """The training and test parts of the file; and its svmlight indexing."""
    from sklearn.model_selection import train_test_split

    X, y, zero_based = read_training_data(args.data, args.target)
    if X.shape[0] == 0:
        raise CLIError(f"{args.data} holds no rows.")
    classes, counts = np.unique(y, return_counts=True)
    print(
        f"{args.data}: {X.shape[0]} rows, {X.shape[1]} features, {len(classes)} "
        f"classes ({', '.join(f'{c}: {n}' for c, n in zip(classes, counts))})"
    )
    if len(classes) < 2:
        raise CLIError(f"the target holds a single class, {_label_repr(classes[0])}.")
    _check_rows_per_class(y, 2, "a stratified split into training and test parts")
    try:
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=args.test_size, stratify=y, random_state=args.random_state
        )
    except ValueError as error:
        raise CLIError(
            f"cannot split {X.shape[0]} rows of {len(classes)} classes with "
            f"--test-size {args.test_size}: {error}"
        ) from error
    print(f"split: {X_train.shape[0]} training rows, {X_test.shape[0]} test rows")
    return X_train, X_test, y_train, y_test, zero_based


def _fit(model, X_train, y_train, progress):
    """Fit ``model``; its seconds. With ``progress``, a bar shows the epochs."""
    if progress:
        from sklearn.callback import ProgressBar

        model.set_callbacks(ProgressBar())
    start = time.perf_counter()
    try:
        model.fit(X_train, y_train)
    except ValueError as error:
        raise CLIError(f"training failed: {error}") from error
    finally:
        if progress:
            model.set_callbacks()  # the saved model holds no callback
    return time.perf_counter() - start


def run_train(args):
    """Read a file, train (optionally tune), report on a held-out part, save."""
    from sklearn.model_selection import ParameterGrid

    param_grid, n_candidates = _check_train_arguments(args)
    X_train, X_test, y_train, y_test, zero_based = _read_and_split(args)
    model = _make_pipeline(X_train, args.scale, args.random_state)
    if zero_based is not None:
        setattr(model, SVMLIGHT_INDEXING, zero_based)
    if n_candidates > 1:
        _check_rows_per_class(
            y_train, args.cv, f"{args.cv}-fold cross-validation over --param-grid"
        )
        best_params = _search(model, param_grid, X_train, y_train, args)
    else:
        best_params = ParameterGrid(param_grid)[0]
    model.set_params(**best_params)
    seconds = _fit(model, X_train, y_train, args.progress)
    classifier = model[-1]
    print(
        f"trained {' '.join(repr(classifier).split())} in {seconds:.2f}s "
        f"({classifier.n_iter_} epochs, {classifier.t_ - 1} samples seen)"
    )
    y_pred = _print_report(model, X_test, y_test)
    if not args.no_plots:
        for path in _save_plots(model, y_test, y_pred, args.plots_dir):
            print(f"saved {path}")
    if args.out is not None:
        _save_model(model, args.out)
        print(f"saved the model to {args.out}")
    return 0


# ----------------------------------------------------- saving and loading


def _save_model(model, path):
    skops_io = require("skops.io", "saving the model")
    skops_io.dump(model, path)


def _trusted_types(skops_io, path):
    """The types to trust in ``path``: those skops flags, if all are sksoftmax's.

    skops trusts scikit-learn's estimators (the Pipeline, StandardScaler) and
    numpy's arrays by itself; what is left in a model that ``train`` wrote is
    sksoftmax's own: the estimator class (and any state class it saves). So
    exactly the names that resolve to classes defined in sksoftmax are
    trusted; anything else (a function, a class from another package) is
    refused rather than loaded.
    """
    untrusted = skops_io.get_untrusted_types(file=path)
    refused = [name for name in untrusted if not _is_sksoftmax_class(name)]
    if refused:
        raise CLIError(
            f"{path} holds types that sksoftmax did not write: {', '.join(refused)}. "
            "If you trust the file, load it in Python with skops.io.load(path, "
            "trusted=[...])."
        )
    return untrusted


def _is_sksoftmax_class(name):
    """Whether ``name`` ("module.Class") is a class defined in sksoftmax."""
    module_name, _, attribute = name.rpartition(".")
    if module_name.split(".")[0] != "sksoftmax":
        return False
    try:
        candidate = getattr(importlib.import_module(module_name), attribute, None)
    except ImportError:
        return False
    return isinstance(candidate, type) and candidate.__module__ == module_name


def load_model(path):
    """A model that ``sksoftmax train --out`` saved."""
    check_exists(path)
    skops_io = require("skops.io", "loading the model")
    try:
        model = skops_io.load(path, trusted=_trusted_types(skops_io, path))
    except CLIError:
        raise
    except Exception as error:
        raise CLIError(f"{path} is not a model saved by skops: {error}") from error
    if not all(
        hasattr(model, name) for name in ("predict_proba", "classes_", "n_features_in_")
    ):
        raise CLIError(
            f"{path} holds a {type(model).__name__}, not a fitted classifier that "
            "sksoftmax train saved."
        )
    return model


def run_predict(args):
    """Predict labels and class probabilities for the rows of a file."""
    if args.out != "-":
        _check_output(args.out, "--out")
    model = load_model(args.model)
    X = read_prediction_data(args.data, model)
    try:
        proba = model.predict_proba(X)
    except ValueError as error:
        raise CLIError(f"cannot predict {args.data}: {error}") from error
    predictions = model.classes_[proba.argmax(axis=1)]
    header = ["prediction"] + [f"proba_{label}" for label in model.classes_]
    with _open_output(args.out) as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(header)
        for label, row in zip(predictions, proba):
            writer.writerow([label] + [f"{p:.6g}" for p in row])
    if args.out != "-":
        print(f"wrote {len(predictions)} predictions to {args.out}", file=sys.stderr)
    return 0


def _check_output(path, option):
    """Refuse, before any work, an output path whose folder does not exist."""
    folder = Path(path).parent
    if not folder.is_dir():
        raise CLIError(f"{option} {path}: no such folder {folder}.")


@contextmanager
def _open_output(path):
    if path == "-":
        yield sys.stdout
        return
    with open(path, "w", newline="") as file:
        yield file


# ------------------------------------------------------------------ parser


def _test_size(text):
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1); got {text}")
    return value


def _add_train_parser(commands):
    train = commands.add_parser(
        "train",
        help="train on a CSV/TSV, Parquet, NPZ or svmlight file and report",
        description=(
            "Train SoftmaxSGDClassifier (after StandardScaler) on a file, report "
            "accuracy, log-loss, per-class precision/recall and the confusion "
            "matrix on a stratified held-out part, save the loss curve and "
            "confusion matrix as PNG and, with --out, the model."
        ),
    )
    train.add_argument("data", help="a .csv, .tsv, .parquet, .npz or .svm/.libsvm file")
    train.add_argument(
        "--target",
        metavar="COLUMN",
        help="the label column (tables) or array (NPZ, default 'y'; features in 'X')",
    )
    train.add_argument(
        "--test-size",
        type=_test_size,
        default=0.25,
        help="share of the rows held out for the report (default: 0.25)",
    )
    train.add_argument(
        "--param-grid",
        metavar="JSON",
        help=(
            "parameters of SoftmaxSGDClassifier, as JSON text or a .json file: "
            '\'{"alpha": [1e-5, 1e-4], "eta0": ["auto", 0.1]}\'; lists are '
            "searched by cross-validation, single values are set"
        ),
    )
    train.add_argument(
        "--cv",
        type=int,
        default=5,
        help="folds of the --param-grid search (default: 5)",
    )
    train.add_argument("--out", metavar="MODEL.skops", help="save the trained model")
    train.add_argument(
        "--plots-dir",
        default=".",
        metavar="DIR",
        help="where to save loss_curve.png and confusion_matrix.png (default: .)",
    )
    train.add_argument("--no-plots", action="store_true", help="save no plots")
    train.add_argument(
        "--no-scale",
        dest="scale",
        action="store_false",
        help="train on the features as they are, without StandardScaler",
    )
    train.add_argument("--random-state", type=int, default=0)
    train.add_argument("--n-jobs", type=int, default=None, help="parallel CV fits")
    _add_progress_option(train)
    train.set_defaults(handler=run_train)


def _add_predict_parser(commands):
    predict = commands.add_parser(
        "predict",
        help="predict the rows of a file with a saved model",
        description=(
            "Write one CSV row per input row: the predicted label and the "
            "probability of each class. Table columns the model was not trained "
            "on (such as the target) are ignored."
        ),
    )
    predict.add_argument("model", help="a model saved by 'sksoftmax train --out'")
    predict.add_argument(
        "data", help="a .csv, .tsv, .parquet, .npz or .svm/.libsvm file"
    )
    predict.add_argument(
        "--out",
        default="-",
        metavar="PREDICTIONS.csv",
        help="where to write the predictions (default: standard output)",
    )
    predict.set_defaults(handler=run_predict)


def _add_progress_option(parser):
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show scikit-learn's progress bars (needs rich and scikit-learn 1.9 "
        "or later; default: when both are there and standard output is a "
        "terminal)",
    )


def build_parser():
    """The argument parser of the ``sksoftmax`` command."""
    parser = argparse.ArgumentParser(
        prog="sksoftmax",
        description="Multinomial softmax regression trained by minibatch SGD.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="tune SoftmaxSGDClassifier on digits beside LogisticRegression"
    )
    demo.add_argument("--n-jobs", type=int, default=2, help="parallel CV fits")
    demo.add_argument("--random-state", type=int, default=0)
    demo.set_defaults(handler=run_demo)
    _add_train_parser(commands)
    _add_predict_parser(commands)
    return parser


def main(argv=None):
    """Entry point of the ``sksoftmax`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except CLIError as error:
        print(f"sksoftmax {args.command}: error: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader of our output went away (``| head``): stop quietly, and
        # point stdout at devnull so that Python's exit flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
