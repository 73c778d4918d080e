"""Data set loaders: CIFAR-10 from its "python version" batch files."""

import codecs
import pickle
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

__all__ = ["load_cifar10"]

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar.html"
CIFAR10_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST_FILES = ("test_batch",)
CIFAR10_LABEL_NAMES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
CIFAR10_N_FEATURES = 3 * 32 * 32


def _plain_dtype(dtype):
    """``np.dtype(dtype)``, refusing dtypes that hold Python objects."""
    dtype = np.dtype(dtype)
    if dtype.hasobject:
        raise pickle.UnpicklingError(
            f"refusing to load an array of dtype {dtype}: a CIFAR-10 batch file "
            "holds only numbers and byte strings."
        )
    return dtype


def _frombuffer(buffer, dtype, shape, order):
    """What numpy's ``_frombuffer`` does for pickle protocol 5 (a copy of the
    buffer's data, reshaped), for plain dtypes only."""
    array = np.frombuffer(buffer, dtype=_plain_dtype(dtype))
    return array.reshape(shape, order=order).copy(order="K")


def _scalar(dtype, data):
    """What numpy's ``scalar`` does for a pickled numpy number (plain dtypes)."""
    return np.frombuffer(data, dtype=_plain_dtype(dtype))[0]


# The batch files are Python 2 pickles of dicts of byte strings, lists and one
# numpy array. Unpickling runs whatever callables a file names, so only the
# few that rebuild a numpy array are allowed. Files written by numpy < 2 name
# numpy.core, newer ones numpy._core; both resolve to the current function.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): np.ndarray(0).__reduce__()[0],
    ("numpy._core.multiarray", "_reconstruct"): np.ndarray(0).__reduce__()[0],
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): codecs.encode,
    # Pickle protocol 5 (Python 3.14's default) and lists of numpy numbers.
    ("numpy.core.numeric", "_frombuffer"): _frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _frombuffer,
    ("numpy.core.multiarray", "scalar"): _scalar,
    ("numpy._core.multiarray", "scalar"): _scalar,
}


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """An unpickler that can rebuild numpy arrays and nothing else callable."""

    def find_class(self, module, name):
        try:
            return _ALLOWED_GLOBALS[module, name]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: a CIFAR-10 batch file holds "
                "only lists, byte strings and numpy arrays."
            ) from None


def _read_batch(filename):
    """The dict in one batch file, with its byte-string keys decoded."""
    with open(filename, "rb") as file:
        # encoding="bytes" keeps Python 2 strings as bytes (the CIFAR-10
        # site's own recipe); keys are decoded here so that files re-pickled
        # by Python 3 with str keys read the same.
        batch = _ArrayOnlyUnpickler(file, encoding="bytes").load()
    if not isinstance(batch, dict):
        raise ValueError(f"{filename} does not hold a CIFAR-10 batch (a dict).")
    return {
        key.decode("ascii") if isinstance(key, bytes) else key: value
        for key, value in batch.items()
    }


def _batch_arrays(filename):
    """``data`` of shape (n, 3072), dtype uint8, and ``labels`` of shape (n,)."""
    batch = _read_batch(filename)
    missing = {"data", "labels"} - batch.keys()
    if missing:
        raise ValueError(
            f"{filename} lacks the key(s) {sorted(missing)} of a CIFAR-10 batch; "
            f"it has {sorted(batch)}."
        )
    data = np.asarray(batch["data"])
    labels = np.asarray(batch["labels"], dtype=np.intp)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != CIFAR10_N_FEATURES:
        raise ValueError(
            f"{filename}: 'data' must be uint8 of shape (n, {CIFAR10_N_FEATURES}); "
            f"got {data.dtype} of shape {data.shape}."
        )
    if labels.shape != (data.shape[0],):
        raise ValueError(
            f"{filename}: {labels.shape[0]} labels for {data.shape[0]} images."
        )
    return data, labels


def _label_names(folder):
    """Class names from ``batches.meta`` when present, else the published ones."""
    meta_file = folder / "batches.meta"
    if not meta_file.exists():
        return list(CIFAR10_LABEL_NAMES)
    names = _read_batch(meta_file).get("label_names", CIFAR10_LABEL_NAMES)
    return [
        name.decode("ascii") if isinstance(name, bytes) else str(name) for name in names
    ]


def load_cifar10(path, *, subset="train", return_X_y=False):
    """Load CIFAR-10 from the "CIFAR-10 python version" batch files.

    Reads the folder ``cifar-10-batches-py`` that the archive
    ``cifar-10-python.tar.gz`` (from the CIFAR-10 page, see Notes) unpacks to:
    ``data_batch_1`` to ``data_batch_5`` (the 50000 training images),
    ``test_batch`` (10000 test images) and ``batches.meta`` (class names).
    Nothing is downloaded.

    Parameters
    ----------
    path : str or path-like
        The folder holding the batch files.
    subset : {"train", "test", "all"}, default="train"
        The training batches, the test batch, or both (training rows first).
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With the fields:

        data : ndarray of shape (n_samples, 3072), dtype uint8
            One image per row: the 1024 red, then green, then blue values of
            the 32x32 pixels, row by row, as stored in the files.
        target : ndarray of shape (n_samples,)
            Class indices in 0..9.
        images : ndarray of shape (n_samples, 32, 32, 3), dtype uint8
            The same pixels as height x width x channel images (a view of
            ``data``, for ``matplotlib.pyplot.imshow``).
        target_names : list of str
            The class names, indexed by ``target``.
        DESCR : str
            A short description.

    (data, target) : tuple if ``return_X_y`` is True
        ``data`` and ``target`` as above.

    Raises
    ------
    FileNotFoundError
        When the folder or one of the batch files is missing; the message says
        where to get them.

    Notes
    -----
    The data set is Alex Krizhevsky's (2009), distributed at
    https://www.cs.toronto.edu/~kriz/cifar.html. The batch files are pickles;
    this loader unpickles them with an allow-list that rebuilds numpy arrays
    and runs nothing else, so a tampered file fails to load instead of
    running code.

    Examples
    --------
    >>> from sksoftmax.datasets import load_cifar10
    >>> cifar = load_cifar10("cifar-10-batches-py")  # doctest: +SKIP
    >>> cifar.data.shape, cifar.images.shape  # doctest: +SKIP
    ((50000, 3072), (50000, 32, 32, 3))
    """
    if subset not in ("train", "test", "all"):
        raise ValueError(f"subset must be 'train', 'test' or 'all'; got {subset!r}.")
    folder = Path(path)
    filenames = {
        "train": CIFAR10_TRAIN_FILES,
        "test": CIFAR10_TEST_FILES,
        "all": CIFAR10_TRAIN_FILES + CIFAR10_TEST_FILES,
    }[subset]
    missing = [name for name in filenames if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"CIFAR-10 batch file(s) {', '.join(missing)} not found in {folder}. "
            f"Download 'CIFAR-10 python version' (cifar-10-python.tar.gz) from "
            f"{CIFAR10_URL}, unpack it with 'tar xzf cifar-10-python.tar.gz', and "
            "pass the folder it creates, cifar-10-batches-py."
        )
    batches = [_batch_arrays(folder / name) for name in filenames]
    data = np.concatenate([data for data, _ in batches])
    target = np.concatenate([labels for _, labels in batches])
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        images=data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1),
        target_names=_label_names(folder),
        DESCR=(
            f"CIFAR-10 ({subset}): {data.shape[0]} 32x32 colour images in 10 "
            f"classes, read from {folder}."
        ),
    )
