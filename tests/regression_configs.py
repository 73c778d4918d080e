"""The fits that the regression fixture pins, and the writer of their results.

Each configuration below is a small seeded fit (or a sequence of calls on one
estimator) covering one path of the training code: the dense, CSR and array
API kernels, every schedule, momentum, averaging, penalties, weights, early
stopping, streams, the divergence guard and the zero-weight fallback.
``tests/test_regression.py`` trains each again and compares
``coef_``, ``intercept_``, ``n_iter_``, ``t_`` and ``loss_curve_`` with the
results stored in ``tests/data/regression_fixture.json``: a change that means
to keep every fit (a refactor of the engine, the kernels or the optimizer)
shows that it does.

The stored results name the versions and the BLAS that computed them
(:func:`environment`): the comparison is strict there (float64 within
1e-12, float32 bit for bit) and looser elsewhere, where sums may round
differently (see ``test_regression.py``). They are written, from the
repository root, by::

    python tests/regression_configs.py --write

Regenerate them ONLY in a commit that intends to change what some fit
computes, and say in that commit which configurations change and why. Where
a change keeps the algorithm but reorders its arithmetic, loosen that
configuration's ``rtol`` instead, with a comment giving the reason.
"""

import os

# scikit-learn's array API dispatch needs SciPy's array API mode, which SciPy
# reads once, at import (tests/conftest.py sets it too, for the test run).
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import json
import platform
import sys
import warnings
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

if __name__ == "__main__":
    # Train the package of this checkout, not whichever one is installed.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import scipy
import sklearn
from scipy import sparse
from sklearn import config_context
from sklearn.datasets import make_blobs, make_classification
from threadpoolctl import threadpool_info

import sksoftmax
from sksoftmax import SoftmaxSGDClassifier

FIXTURE_PATH = Path(__file__).parent / "data" / "regression_fixture.json"
# The results compared: float64 arrays (the weights and the loss curve, in
# whatever dtype the model has) and integers.
FLOAT_FIELDS = ("coef", "intercept", "loss_curve")
INTEGER_FIELDS = ("n_iter", "t")


@dataclass(frozen=True)
class Recipe:
    """What one configuration trains: the estimator's parameters and the
    calls made on it in turn, each ``(method, X, y, keyword arguments)``."""

    params: dict
    calls: list
    # Fit under sklearn.config_context(array_api_dispatch=True).
    array_api_dispatch: bool = False
    # Some warning of the fit must contain this text: the path it names was
    # taken (the warnings themselves are silenced).
    warns: str = None


@dataclass(frozen=True)
class Config:
    """A configuration: its recipe builder and how it is compared."""

    build: object  # () -> Recipe
    # None: the tolerances of test_regression.py (float64 within 1e-12,
    # float32 bit for bit, in the environment that stored the results). A
    # change that reorders the arithmetic of some path sets a looser rtol
    # here, with the reason as a comment.
    rtol: float = None
    # A module the configuration needs, skipped where it is missing.
    requires: str = None


CONFIGS = {}


def config(*, rtol=None, requires=None):
    """Register the decorated recipe builder under its function name."""

    def register(build):
        if build.__name__ in CONFIGS:
            raise ValueError(f"two configurations named {build.__name__!r}")
        CONFIGS[build.__name__] = Config(build, rtol=rtol, requires=requires)
        return build

    return register


# --------------------------------------------------------------------- data


def _classification(
    n_samples=300, n_features=10, n_classes=3, dtype=np.float64, random_state=0
):
    X, y = make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=min(6, n_features),
        n_redundant=min(2, n_features - min(6, n_features)),
        n_classes=n_classes,
        n_clusters_per_class=1,
        random_state=random_state,
    )
    return X.astype(dtype), y


def _sparse_classification(dtype=np.float64, random_state=1):
    """CSR data: 20 features of which about 70 % of the entries are zero."""
    X, y = _classification(n_features=20, dtype=dtype, random_state=random_state)
    rng = np.random.RandomState(random_state)
    X[rng.uniform(size=X.shape) < 0.7] = 0.0
    return sparse.csr_array(X), y


def _fit(X, y, **kwargs):
    return [("fit", X, y, kwargs)]


def _stream(X, y, n_chunks):
    """partial_fit calls over ``n_chunks`` consecutive chunks of the rows."""
    classes = np.unique(y)
    chunks = np.array_split(np.arange(len(y)), n_chunks)
    return [
        ("partial_fit", X[rows], y[rows], {"classes": classes} if i == 0 else {})
        for i, rows in enumerate(chunks)
    ]


# ---------------------------------------------------------- configurations


@config()
def dense_float64_defaults():
    return Recipe(dict(random_state=0), _fit(*_classification()))


@config()
def dense_float32_defaults():
    return Recipe(dict(random_state=0), _fit(*_classification(dtype=np.float32)))


@config()
def csr_float64_lazy():
    # Plain SGD on CSR data: the lazy path (scaled weights, touched columns).
    return Recipe(dict(random_state=0), _fit(*_sparse_classification()))


@config()
def csr_float32_lazy():
    X, y = _sparse_classification(dtype=np.float32)
    return Recipe(dict(random_state=0), _fit(X, y))


@config()
def csr_momentum():
    # Momentum touches every weight: CSR data through the non-lazy kernel.
    params = dict(momentum=0.9, batch_size=32, max_iter=30, random_state=0)
    return Recipe(params, _fit(*_sparse_classification()))


@config(requires="array_api_strict")
def array_api_strict_float64():
    import array_api_strict

    X, y = _classification(random_state=2)
    device = array_api_strict.Device("CPU_DEVICE")
    calls = _fit(
        array_api_strict.asarray(X, device=device),
        array_api_strict.asarray(y, device=device),
    )
    params = dict(max_iter=20, random_state=0)
    return Recipe(params, calls, array_api_dispatch=True)


@config()
def learning_rate_adaptive_eta0():
    params = dict(learning_rate="adaptive", eta0=0.05, batch_size=32, random_state=0)
    return Recipe(params, _fit(*_classification(random_state=3)))


@config()
def learning_rate_constant():
    params = dict(learning_rate="constant", eta0=0.02, batch_size=32, random_state=0)
    return Recipe(params, _fit(*_classification(random_state=3)))


@config()
def learning_rate_optimal():
    params = dict(learning_rate="optimal", alpha=1e-3, batch_size=32, random_state=0)
    return Recipe(params, _fit(*_classification(random_state=3)))


@config()
def learning_rate_invscaling():
    params = dict(learning_rate="invscaling", batch_size=32, random_state=0)
    return Recipe(params, _fit(*_classification(random_state=3)))


@config()
def learning_rate_cosine():
    params = dict(learning_rate="cosine", max_iter=25, batch_size=32, random_state=0)
    return Recipe(params, _fit(*_classification(random_state=3)))


@config()
def momentum_heavy_ball():
    params = dict(
        momentum=0.9,
        nesterovs_momentum=False,
        eta0=0.01,
        batch_size=32,
        random_state=0,
    )
    return Recipe(params, _fit(*_classification(random_state=4)))


@config()
def momentum_nesterov():
    params = dict(momentum=0.9, eta0=0.01, batch_size=32, random_state=0)
    return Recipe(params, _fit(*_classification(random_state=4)))


@config()
def full_batch_momentum_auto():
    # n_samples <= batch_size: one full batch an epoch, with momentum="auto"
    # (0.9 on dense data; with momentum, eta0="auto" does not grow its step).
    X, y = _classification(n_samples=200, random_state=5)
    return Recipe(dict(max_iter=60, random_state=0), _fit(X, y))


@config()
def full_batch_step_growth():
    # Without momentum eta0="auto" doubles the step after each improving
    # epoch; the doubling that makes the objective worse is discarded (CSR
    # data, trained without momentum by default, grow their step too).
    X, y = _classification(n_samples=200, random_state=5)
    params = dict(momentum=0.0, max_iter=60, random_state=0)
    return Recipe(params, _fit(X, y))


@config()
def average_true():
    params = dict(average=True, batch_size=32, max_iter=30, random_state=0)
    return Recipe(params, _fit(*_classification(random_state=6)))


@config()
def average_after_100_samples():
    # An integer average counts samples, as SGDClassifier's.
    params = dict(average=100, batch_size=32, max_iter=30, random_state=0)
    return Recipe(params, _fit(*_classification(random_state=6)))


@config()
def penalty_l1_dense():
    params = dict(penalty="l1", alpha=1e-3, batch_size=32, random_state=0)
    return Recipe(params, _fit(*_classification(n_features=15, random_state=7)))


@config()
def penalty_elasticnet_dense():
    params = dict(
        penalty="elasticnet", alpha=1e-3, l1_ratio=0.5, batch_size=32, random_state=0
    )
    return Recipe(params, _fit(*_classification(n_features=15, random_state=7)))


@config()
def penalty_l1_csr():
    params = dict(penalty="l1", alpha=1e-3, batch_size=32, random_state=0)
    return Recipe(params, _fit(*_sparse_classification(random_state=8)))


@config()
def class_weight_dict():
    params = dict(class_weight={0: 1.0, 1: 2.0, 2: 0.5}, random_state=0)
    return Recipe(params, _fit(*_classification(n_samples=400, random_state=9)))


@config()
def class_weight_balanced():
    X, y = _classification(n_samples=400, random_state=9)
    keep = (y != 2) | (np.arange(len(y)) % 4 == 0)  # class 2 a quarter as large
    params = dict(class_weight="balanced", random_state=0)
    return Recipe(params, _fit(X[keep], y[keep]))


@config()
def sample_weight():
    X, y = _classification(n_samples=400, random_state=10)
    rng = np.random.RandomState(10)
    weight = rng.uniform(0.2, 3.0, len(y))
    weight[rng.uniform(size=len(y)) < 0.05] = 0.0
    params = dict(batch_size=64, random_state=0)
    return Recipe(params, _fit(X, y, sample_weight=weight))


@config()
def early_stopping():
    params = dict(early_stopping=True, batch_size=32, random_state=0)
    return Recipe(params, _fit(*_classification(n_samples=400, random_state=11)))


@config()
def shuffle_blocks():
    # make_classification shuffles its rows: blocks in random order.
    params = dict(shuffle="blocks", batch_size=32, random_state=0)
    return Recipe(params, _fit(*_classification(random_state=12)))


@config()
def partial_fit_stream():
    X, y = _classification(n_samples=400, random_state=13)
    return Recipe(dict(batch_size=32, random_state=0), _stream(X, y, n_chunks=5))


@config()
def partial_fit_cosine_stream():
    # The decay spans max_iter=4 calls whatever the chunks' sizes; the last
    # two calls come after its end (and warn so).
    X, y = _classification(n_samples=400, random_state=13)
    params = dict(learning_rate="cosine", max_iter=4, batch_size=32, random_state=0)
    return Recipe(params, _stream(X, y, n_chunks=6), warns="decayed to a step of 0")


@config()
def warm_start():
    X, y = _classification(random_state=14)
    params = dict(warm_start=True, max_iter=5, batch_size=32, random_state=0)
    return Recipe(params, _fit(X, y) + _fit(X, y))


@config()
def no_intercept():
    params = dict(fit_intercept=False, batch_size=32, random_state=0)
    return Recipe(params, _fit(*_classification(random_state=15)))


@config()
def binary():
    X, y = _classification(n_classes=2, random_state=16)
    return Recipe(dict(batch_size=32, random_state=0), _fit(X, y))


@config()
def divergence_rolled_back():
    # A numeric step far too large for data scaled by 1e160: the loss
    # overflows in the fit's first epoch and in the stream's second call,
    # whose changes are undone; training then goes on from the weights before.
    X, y = _classification(random_state=17)
    calls = [
        ("fit", X * 1e160, y, {}),
        ("partial_fit", X, y, {"classes": np.unique(y)}),
        ("partial_fit", X * 1e160, y, {}),
        ("partial_fit", X, y, {}),
    ]
    params = dict(eta0=0.1, max_iter=5, batch_size=32, random_state=0)
    return Recipe(params, calls, warns="diverged")


@config()
def zero_weight_fallback():
    # A step far too large that does not overflow (float64): no epoch
    # improves on the zero weights, which are kept.
    X, y = make_blobs(n_samples=300, centers=3, random_state=0)
    X = X * [1e3, 1e-2]
    return Recipe(
        dict(eta0=1e6, random_state=0),
        _fit(X, y),
        warns="No epoch improved on the starting (zero) weights",
    )


# ---------------------------------------------------------------- training


def train(name):
    """Train configuration ``name``; its results as numpy arrays (float64
    for the weights and the loss curve, whatever the model's dtype)."""
    recipe = CONFIGS[name].build()
    clf = SoftmaxSGDClassifier(**recipe.params)
    with ExitStack() as context:
        caught = context.enter_context(warnings.catch_warnings(record=True))
        # Expected warnings (divergence, max_iter reached, ...) are recorded,
        # not raised: the test suite makes this package's warnings errors.
        warnings.simplefilter("always")
        if recipe.array_api_dispatch:
            context.enter_context(config_context(array_api_dispatch=True))
        for method, X, y, kwargs in recipe.calls:
            getattr(clf, method)(X, y, **kwargs)
    if recipe.warns is not None and not any(
        recipe.warns in str(warning.message) for warning in caught
    ):
        raise AssertionError(f"{name}: no warning says {recipe.warns!r}")
    coef = _to_numpy(clf.coef_)
    return {
        "coef": coef.astype(np.float64),
        "intercept": _to_numpy(clf.intercept_).astype(np.float64),
        "n_iter": np.int64(clf.n_iter_),
        "t": np.int64(clf.t_),
        "loss_curve": np.asarray(clf.loss_curve_, dtype=np.float64),
        "dtype": np.str_(coef.dtype.name),
    }


def _to_numpy(array):
    # DLPack reads numpy and array-api-strict arrays alike, on the CPU.
    return array if isinstance(array, np.ndarray) else np.from_dlpack(array)


def environment():
    """The versions and the BLAS (numpy's and scipy's, with the CPU kernel
    it chose) that computed the results: with another BLAS build or kernel,
    float results can differ in their last bits."""
    blas = [info for info in threadpool_info() if info["user_api"] == "blas"]
    own = [
        info
        for info in blas
        if {"numpy", "numpy.libs", "scipy", "scipy.libs"}
        & set(Path(info["filepath"]).parts)
    ]
    libraries = sorted(
        {
            f"{info['internal_api']} {info.get('version')} {info.get('architecture')}"
            for info in own or blas
        }
    )
    return (
        f"numpy {np.__version__}, scipy {scipy.__version__}, "
        f"scikit-learn {sklearn.__version__}, {platform.machine()}, "
        f"BLAS: {'; '.join(libraries)}"
    )


def load_fixture(path=FIXTURE_PATH):
    """The stored results, ``{name: {field: array}}``, and their environment."""
    with open(path, encoding="utf-8") as file:
        stored = json.load(file)
    results = {
        name: {
            "dtype": fields["dtype"],
            "n_iter": fields["n_iter"],
            "t": fields["t"],
            **{
                field_name: np.asarray(fields[field_name], dtype=np.float64)
                for field_name in FLOAT_FIELDS
            },
        }
        for name, fields in stored["configurations"].items()
    }
    return results, stored["environment"]


def write_fixture(path=FIXTURE_PATH):
    """Train every configuration and store the results as JSON: Python's
    float repr reads back exactly, and a commit that regenerates the file
    shows in its diff which configurations changed."""
    configurations = {}
    for name in CONFIGS:
        results = train(name)
        configurations[name] = {
            "dtype": str(results["dtype"]),
            "n_iter": int(results["n_iter"]),
            "t": int(results["t"]),
            **{field_name: results[field_name].tolist() for field_name in FLOAT_FIELDS},
        }
    stored = {"environment": environment(), "configurations": configurations}
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as file:
        json.dump(stored, file, indent=1)
        file.write("\n")
    return path


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit(f"usage: python {sys.argv[0]} --write")
    written = write_fixture()
    print(
        f"{len(CONFIGS)} configurations from {sksoftmax.__file__} "
        f"written to {written} ({written.stat().st_size} bytes)"
    )
