"""The ``sksoftmax`` command line: ``demo`` and the subcommands built on it."""

import argparse
import sys
import time

import numpy as np


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
        ("SoftmaxSGDClassifier (defaults)", make_pipeline(
            StandardScaler(), SoftmaxSGDClassifier(random_state=args.random_state))),
        ("LogisticRegression (defaults)", make_pipeline(
            StandardScaler(), LogisticRegression())),
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


def build_parser():
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
    return parser


def main(argv=None):
    """Entry point of the ``sksoftmax`` console script."""
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
