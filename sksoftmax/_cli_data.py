"""Reading the command line's input: tables, NPZ archives and svmlight files.

CSV/TSV and Parquet tables are read with pandas (Parquet through pyarrow),
imported only when such a file is read, through :func:`require`, which
names the extra to install. Every problem with a file is a :class:`CLIError`:
one line for the user, without a traceback.
"""

import importlib
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np

CLI_EXTRA = "pip install 'sksoftmax[cli]'"
SUFFIX_FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".npz": "npz",
    ".svm": "svmlight",
    ".svmlight": "svmlight",
    ".libsvm": "svmlight",
}


class CLIError(Exception):
    """A problem with the user's input, reported as one line, without a traceback."""


def require(module, purpose):
    """Import an optional dependency, or fail with the extra that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise CLIError(
            f"{purpose} needs {module.split('.')[0]}, which is not installed; "
            f"install the command-line extras with: {CLI_EXTRA}"
        ) from None


# ------------------------------------------------------------ reading data


def format_of(path):
    """The format of ``path``, from its suffix (``.csv.gz`` reads as ``.csv``)."""
    suffixes = [suffix.lower() for suffix in Path(path).suffixes]
    compressed = suffixes and suffixes[-1] in (".gz", ".bz2", ".xz", ".zip")
    if compressed and len(suffixes) > 1:
        suffixes = suffixes[:-1]
    if suffixes and suffixes[-1] in SUFFIX_FORMATS:
        return SUFFIX_FORMATS[suffixes[-1]]
    raise CLIError(
        f"cannot tell the format of {path} from its name; use one of the "
        f"suffixes {', '.join(sorted(SUFFIX_FORMATS))}."
    )


def check_exists(path):
    if not Path(path).is_file():
        raise CLIError(f"no such file: {path}")


@contextmanager
def _parsing(path):
    """Report a file that its reader cannot parse as a CLIError."""
    try:
        yield
    except (ValueError, OSError, EOFError) as error:
        raise CLIError(f"cannot read {path}: {error}") from error


def _read_table(path, file_format, target=None):
    """A CSV/TSV or Parquet file as a pandas DataFrame.

    Parquet columns keep their stored types. In a CSV/TSV file the column
    ``target`` is read as written (see :func:`_read_csv_labels`), and a first
    column without a header (``to_csv`` with the index) is the row index.
    """
    pandas = require("pandas", f"reading {file_format.upper()} files")
    if file_format == "parquet":
        require("pyarrow", "reading Parquet files")
        with _parsing(path):
            return pandas.read_parquet(path)
    sep = "\t" if file_format == "tsv" else ","
    with _parsing(path):
        # Type guessing would turn the labels "007" and "07" into one class, 7.
        table = pandas.read_csv(
            path, sep=sep, dtype=None if target is None else {target: str}
        )
        if _first_column_is_the_index(pandas, path, sep, table):
            print(
                f"{path}: the first column has no header, so it is taken as the "
                "row index, not as a feature; give it a header to use it as one.",
                file=sys.stderr,
            )
            table = table.set_index(table.columns[0])
        if target in table.columns:
            table[target] = _read_csv_labels(pandas, path, sep, table[target])
    return table


def _first_column_is_the_index(pandas, path, sep, table):
    """Whether the first column's header is empty, as ``to_csv`` writes the index.

    pandas names such a column "Unnamed: 0"; the header line itself tells it
    from a column that is really called so.
    """
    if table.columns[:1].tolist() != ["Unnamed: 0"]:
        return False
    header = pandas.read_csv(
        path, sep=sep, header=None, nrows=1, dtype=str, na_filter=False
    )
    return header.iloc[0, 0] == ""


def _read_csv_labels(pandas, path, sep, labels):
    """The text ``labels`` as written, as integers if each is written as one.

    Only an empty cell is a missing label: pandas' words for missing values
    ("NA", "null", "nan", ...) may be class names, so where pandas found any,
    the column is read again without them. The labels become integers only
    where every one is an integer's usual spelling ("-3", "0", "12"; not
    "007" or "+1", which would merge with "7" and "1"), so that numeric
    labels sort and print as numbers.
    """
    if labels.isna().any():
        labels = pandas.read_csv(
            path,
            sep=sep,
            usecols=[labels.name],
            dtype=str,
            keep_default_na=False,
            na_values={labels.name: [""]},
        )[labels.name]
        if labels.isna().any():
            return labels.to_numpy()
    # Up to 18 digits, which int64 always holds; longer ones stay text.
    # (Spaces around an integer, as after ", " separators, do not count.)
    stripped = labels.str.strip()
    if stripped.str.fullmatch(r"0|-?[1-9][0-9]{0,17}").all():
        return stripped.to_numpy(dtype=np.int64)
    return labels.to_numpy()


def _numeric_features(table, path):
    """The DataFrame ``table`` as float columns, or an error naming the bad ones."""
    from pandas.api.types import is_numeric_dtype

    if table.shape[1] == 0:
        raise CLIError(f"{path} has no feature columns.")
    non_numeric = [
        f"{name!r} ({table[name].dtype}, e.g. {table[name].dropna().iloc[0]!r})"
        if table[name].notna().any()
        else f"{name!r} ({table[name].dtype})"
        for name in table.columns
        if not is_numeric_dtype(table[name])
    ]
    if non_numeric:
        raise CLIError(
            f"{path}: non-numeric feature column(s) {', '.join(non_numeric)}; "
            "encode them as numbers (for example one-hot) or drop them."
        )
    with_missing = [
        f"{name!r} ({count} missing)"
        for name, count in table.isna().sum().items()
        if count
    ]
    if with_missing:
        raise CLIError(
            f"{path}: feature column(s) with missing values {', '.join(with_missing)}; "
            "fill or drop them first."
        )
    table = table.astype(np.float64)
    _check_finite(table.to_numpy(), path)
    return table


def _check_finite(X, path):
    """An error if ``X`` holds an infinite or NaN feature value."""
    from scipy import sparse

    values = X.data if sparse.issparse(X) else np.asarray(X)
    if values.size and not np.isfinite(values).all():
        raise CLIError(
            f"{path}: the features hold infinite or missing values; fix or drop "
            "those rows first."
        )


def _npz_arrays(path, target):
    """Features and (when ``target`` names one) labels from an NPZ archive.

    The features are the array ``X``, or the only array besides the labels.
    """
    with _parsing(path), np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    if target is not None and target not in arrays:
        raise CLIError(
            f"{path} has no array {target!r} for the target; it has {sorted(arrays)}."
        )
    # The labels are never features (for predict too, where target is None).
    feature_names = [name for name in arrays if name != (target or "y")]
    if "X" in arrays and "X" != target:
        feature_names = ["X"]
    if len(feature_names) != 1:
        raise CLIError(
            f"{path}: cannot tell which array holds the features among "
            f"{sorted(feature_names)}; name it 'X'."
        )
    X = arrays[feature_names[0]]
    if X.ndim != 2 or not np.issubdtype(X.dtype, np.number):
        raise CLIError(
            f"{path}: the features {feature_names[0]!r} must be a 2-D numeric array; "
            f"got {X.dtype} of shape {X.shape}."
        )
    _check_finite(X, path)
    if target is None:
        return X, None
    y = arrays[target]
    if y.dtype.kind == "S":
        y = y.astype(str)  # byte strings: text labels
    return X, y


# The attribute of a saved model that records how its svmlight training file
# counted features (True: from 0, False: from 1).
SVMLIGHT_INDEXING = "svmlight_zero_based_"


def _read_svmlight(path, zero_based, n_features=None):
    """``X``, ``y`` and whether the file counts features from 0.

    ``zero_based="auto"`` decides as scikit-learn does (from 0 if any row
    holds feature 0), but says what it decided.
    """
    from sklearn.datasets import load_svmlight_file

    with _parsing(path):
        if zero_based != "auto" or n_features is not None:
            # (A model saved before the indexing was kept predicts with "auto".)
            X, y = load_svmlight_file(
                str(path), zero_based=zero_based, n_features=n_features
            )
        else:
            X, y = load_svmlight_file(str(path), zero_based=True)
            zero_based = X.shape[0] == 0 or bool(
                X.indices.size and X.indices.min() == 0
            )
            if not zero_based:
                X = X[:, 1:]
    _check_finite(X, path)
    return X.tocsr(), y, zero_based


def read_training_data(path, target):
    """Features ``X`` (DataFrame, ndarray or CSR matrix), labels ``y``, and
    for an svmlight file whether it counts features from 0 (else None)."""
    check_exists(path)
    file_format = format_of(path)
    if file_format == "svmlight":
        if target is not None:
            raise CLIError(
                f"{path} is an svmlight file, which holds its labels itself; "
                "drop --target."
            )
        return _read_svmlight(path, "auto")
    if file_format == "npz":
        return (*_npz_arrays(path, "y" if target is None else target), None)
    if target is None:
        raise CLIError(f"--target is required for {file_format.upper()} files.")
    table = _read_table(path, file_format, target)
    if target not in table.columns:
        raise CLIError(
            f"{path} has no column {target!r}; its columns are "
            f"{', '.join(map(repr, table.columns))}."
        )
    y = table[target]
    if y.isna().any():
        raise CLIError(f"{path}: the target column {target!r} has missing values.")
    return _numeric_features(table.drop(columns=[target]), path), y.to_numpy(), None


def read_prediction_data(path, model):
    """Features for ``model``: its named columns of a table, or the whole file."""
    check_exists(path)
    file_format = format_of(path)
    if file_format == "svmlight":
        # The training file's indexing: a new file that lacks feature 0 must
        # not be guessed one-based (its features would all shift by one).
        zero_based = getattr(model, SVMLIGHT_INDEXING, "auto")
        return _read_svmlight(path, zero_based, n_features=model.n_features_in_)[0]
    if file_format == "npz":
        return _npz_arrays(path, None)[0]
    table = _read_table(path, file_format)
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        return _numeric_features(table, path).to_numpy()
    missing = [name for name in names if name not in table.columns]
    if missing:
        raise CLIError(
            f"{path} lacks the feature column(s) {', '.join(map(repr, missing))} "
            "that the model was trained on."
        )
    # Columns the model did not see, such as the target, are left out.
    return _numeric_features(table[list(names)], path)
