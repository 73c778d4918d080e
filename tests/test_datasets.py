"""Tests of sksoftmax.datasets: load_cifar10 on batch files written as the real ones."""

import io
import os
import pickle
import struct

import numpy as np
import pytest

from sksoftmax.datasets import load_cifar10

LABEL_NAMES = [
    b"airplane",
    b"automobile",
    b"bird",
    b"cat",
    b"deer",
    b"dog",
    b"frog",
    b"horse",
    b"ship",
    b"truck",
]


class _Python2Pickler(pickle._Pickler):
    """Pickles bytes as Python 2's cPickle pickled ``str``.

    The real batch files were written by Python 2: their keys and names are
    SHORT_BINSTRING/BINSTRING opcodes, which Python 3 reads back as bytes
    with ``encoding="bytes"`` (Python 3 itself would write bytes as calls of
    ``_codecs.encode``).
    """

    dispatch = dict(pickle._Pickler.dispatch)

    def save_py2_str(self, obj):
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str


def write_python2_pickle(filename, obj):
    buffer = io.BytesIO()
    _Python2Pickler(buffer, protocol=2).dump(obj)
    # Files written with numpy < 2, as the real ones, name numpy.core; GLOBAL
    # opcodes are newline-terminated text, so the name can be swapped in place.
    content = buffer.getvalue().replace(
        b"numpy._core.multiarray\n", b"numpy.core.multiarray\n"
    )
    with open(filename, "wb") as file:
        file.write(content)


def write_batch(folder, name, data, labels, batch_label):
    write_python2_pickle(
        folder / name,
        {
            b"batch_label": batch_label,
            b"labels": [int(label) for label in labels],  # a list, as in the real files
            b"data": data,
            b"filenames": [f"image_{i}.png".encode() for i in range(len(labels))],
        },
    )


@pytest.fixture
def cifar_folder(tmp_path):
    """Six batches of 4 images each plus batches.meta; pixel values encode the row."""
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.RandomState(0)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    expected = {}
    for index, name in enumerate(names):
        data = rng.randint(0, 256, size=(4, 3072)).astype(np.uint8)
        labels = rng.randint(0, 10, size=4)
        write_batch(folder, name, data, labels, f"batch {index}".encode())
        expected[name] = (data, labels)
    write_python2_pickle(
        folder / "batches.meta",
        {
            b"num_cases_per_batch": 4,
            b"label_names": LABEL_NAMES,
            b"num_vis": 3072,
        },
    )
    return folder, expected


def test_file_format_matches_the_real_batches(cifar_folder):
    folder, _ = cifar_folder
    content = (folder / "data_batch_1").read_bytes()
    # Protocol 2, a dict, a 5-byte SHORT_BINSTRING key, and numpy.core globals.
    assert content[:2] == b"\x80\x02"
    assert b"U\x04data" in content
    assert b"cnumpy.core.multiarray\n_reconstruct\n" in content
    with open(folder / "data_batch_1", "rb") as file:
        batch = pickle.load(file, encoding="bytes")
    assert set(batch) == {b"batch_label", b"labels", b"data", b"filenames"}


def test_load_cifar10_train_test_all(cifar_folder):
    folder, expected = cifar_folder
    train = load_cifar10(folder)
    train_names = [f"data_batch_{i}" for i in range(1, 6)]
    np.testing.assert_array_equal(
        train.data, np.concatenate([expected[name][0] for name in train_names])
    )
    np.testing.assert_array_equal(
        train.target, np.concatenate([expected[name][1] for name in train_names])
    )
    assert train.data.dtype == np.uint8 and train.data.shape == (20, 3072)
    assert train.target_names == [name.decode() for name in LABEL_NAMES]

    X_test, y_test = load_cifar10(str(folder), subset="test", return_X_y=True)
    np.testing.assert_array_equal(X_test, expected["test_batch"][0])
    np.testing.assert_array_equal(y_test, expected["test_batch"][1])
    assert load_cifar10(folder, subset="all").data.shape == (24, 3072)


def test_images_are_height_width_channel(cifar_folder):
    folder, _ = cifar_folder
    cifar = load_cifar10(folder)
    assert cifar.images.shape == (20, 32, 32, 3)
    # Row layout: 1024 red values, then green, then blue, each row-major.
    row, channel, height, width = 3, 2, 5, 7
    assert (
        cifar.images[row, height, width, channel]
        == (cifar.data[row, channel * 1024 + height * 32 + width])
    )


def test_missing_folder_says_where_to_get_the_data(tmp_path):
    with pytest.raises(FileNotFoundError, match="cifar-10-python.tar.gz"):
        load_cifar10(tmp_path / "nowhere")


def test_missing_meta_falls_back_to_published_names(cifar_folder):
    folder, _ = cifar_folder
    (folder / "batches.meta").unlink()
    assert load_cifar10(folder, subset="test").target_names[3] == "cat"


def test_python3_pickles_with_str_keys_load_too(cifar_folder):
    folder, expected = cifar_folder
    data, labels = expected["test_batch"]
    with open(folder / "test_batch", "wb") as file:
        pickle.dump({"data": data, "labels": labels.tolist()}, file)
    np.testing.assert_array_equal(load_cifar10(folder, subset="test").data, data)


def test_protocol_5_pickles_and_numpy_number_labels_load(cifar_folder):
    # Python 3.14 pickles with protocol 5 by default: numpy then names
    # _frombuffer; a list of numpy numbers names numpy's scalar.
    folder, expected = cifar_folder
    data, labels = expected["test_batch"]
    with open(folder / "test_batch", "wb") as file:
        pickle.dump({"data": data, "labels": list(labels)}, file, protocol=5)
    loaded = load_cifar10(folder, subset="test")
    np.testing.assert_array_equal(loaded.data, data)
    np.testing.assert_array_equal(loaded.target, labels)


class ObjectArrayFromBuffer:
    """Pickles as numpy's _frombuffer with an object dtype: pointers from bytes."""

    def __reduce__(self):
        core = np._core if hasattr(np, "_core") else np.core
        return core.numeric._frombuffer, (b"\0" * 8, np.dtype(object), (1,), "C")


def test_refuses_object_dtypes_from_buffers(cifar_folder):
    folder, _ = cifar_folder
    with open(folder / "test_batch", "wb") as file:
        pickle.dump({"data": ObjectArrayFromBuffer(), "labels": []}, file)
    with pytest.raises(pickle.UnpicklingError, match="dtype object"):
        load_cifar10(folder, subset="test")


def test_refuses_pickles_that_would_run_code(cifar_folder):
    folder, _ = cifar_folder
    with open(folder / "test_batch", "wb") as file:
        pickle.dump({b"data": os.getcwd, b"labels": []}, file, protocol=2)
    with pytest.raises(pickle.UnpicklingError, match="refusing to load"):
        load_cifar10(folder, subset="test")


def test_malformed_batch_is_reported(cifar_folder):
    folder, _ = cifar_folder
    write_batch(folder, "test_batch", np.zeros((2, 100), np.uint8), [0, 1], b"x")
    with pytest.raises(ValueError, match=r"uint8 of shape \(n, 3072\)"):
        load_cifar10(folder, subset="test")
    with pytest.raises(ValueError, match="subset"):
        load_cifar10(folder, subset="validation")
