"""Tests of the command line: every subcommand on small files the tests write."""

import ast
import csv
import os
import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import dump_svmlight_file, load_iris

from sksoftmax._cli import main

SPECIES = np.array(["setosa", "versicolor", "virginica"])


@pytest.fixture
def iris_frame():
    pandas = pytest.importorskip("pandas")
    iris = load_iris()
    frame = pandas.DataFrame(
        iris.data, columns=["sepal_l", "sepal_w", "petal_l", "petal_w"]
    )
    frame["species"] = SPECIES[iris.target]
    return frame


@pytest.fixture
def iris_csv(tmp_path, iris_frame):
    path = tmp_path / "iris.csv"
    iris_frame.to_csv(path, index=False)
    return path


def run(argv, capsys):
    """``main(argv)``'s exit code, standard output and standard error."""
    code = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def model_path(tmp_path, iris_csv, capsys):
    """A model trained on iris by the train subcommand and saved with skops."""
    pytest.importorskip("skops")
    path = tmp_path / "model.skops"
    argv = ["train", iris_csv, "--target", "species", "--no-plots", "--out", path]
    assert run(argv, capsys)[0] == 0
    return path


def read_predictions(path):
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def predict_each(model_path, paths, tmp_path, capsys):
    """What ``predict`` writes for each file of ``paths``, in turn."""
    predictions = []
    for path in paths:
        out_path = tmp_path / f"{path.name}_predictions.csv"
        code, _, err = run(["predict", model_path, path, "--out", out_path], capsys)
        assert code == 0, err
        predictions.append(read_predictions(out_path))
    return predictions


# ------------------------------------------------------------- train, predict


def test_train_reports_saves_plots_and_model_then_predict(tmp_path, iris_csv, capsys):
    pytest.importorskip("matplotlib")
    pytest.importorskip("skops")
    model_path = tmp_path / "model.skops"
    code, out, err = run(
        [
            "train",
            iris_csv,
            "--target",
            "species",
            "--out",
            model_path,
            "--plots-dir",
            tmp_path / "plots",
        ],
        capsys,
    )
    assert code == 0, err
    assert "150 rows, 4 features, 3 classes" in out
    assert "112 training rows, 38 test rows" in out
    for expected in (
        "Test accuracy: ",
        "Test log-loss: ",
        "precision",
        "recall",
        "Confusion matrix",
    ):
        assert expected in out
    accuracy = float(out.split("Test accuracy: ")[1].split()[0])
    assert accuracy > 0.85
    for name in ("loss_curve.png", "confusion_matrix.png"):
        assert (tmp_path / "plots" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # The CSV still holds the target column: predict uses the model's columns only.
    predictions_path = tmp_path / "predictions.csv"
    code, out, err = run(
        ["predict", model_path, iris_csv, "--out", predictions_path], capsys
    )
    assert code == 0, err
    rows = read_predictions(predictions_path)
    assert len(rows) == 150
    assert list(rows[0]) == ["prediction"] + [f"proba_{name}" for name in SPECIES]
    for row in rows:
        probabilities = [float(row[f"proba_{name}"]) for name in SPECIES]
        assert sum(probabilities) == pytest.approx(1, abs=1e-5)
        assert row["prediction"] == SPECIES[int(np.argmax(probabilities))]
    predicted = np.array([row["prediction"] for row in rows])
    assert np.mean(predicted == SPECIES[load_iris().target]) > 0.85


def test_predict_writes_to_standard_output_by_default(model_path, iris_csv, capsys):
    code, out, _ = run(["predict", model_path, iris_csv], capsys)
    assert code == 0
    assert out.splitlines()[0].startswith("prediction,proba_setosa")
    assert len(out.splitlines()) == 151


def _write_parquet(path, frame, rng):
    pytest.importorskip("pyarrow")
    frame.to_parquet(path)


def _write_npz(path, frame, rng):
    np.savez(
        path,
        X=frame.drop(columns="species").to_numpy(),
        y=frame["species"].to_numpy().astype(str),
    )


def _write_svmlight(path, frame, rng):
    codes = np.searchsorted(SPECIES, frame["species"])
    dump_svmlight_file(frame.drop(columns="species").to_numpy(), codes, str(path))


@pytest.mark.parametrize(
    "suffix, writer, target",
    [
        (".parquet", _write_parquet, ["--target", "species"]),
        (".npz", _write_npz, []),
        (".svm", _write_svmlight, []),
    ],
)
def test_train_and_predict_other_formats(
    tmp_path, iris_frame, capsys, suffix, writer, target
):
    pytest.importorskip("skops")
    path = tmp_path / f"iris{suffix}"
    writer(path, iris_frame, np.random.RandomState(0))
    model_path = tmp_path / "model.skops"
    code, out, err = run(
        ["train", path, *target, "--no-plots", "--out", model_path], capsys
    )
    assert code == 0, err
    # Iris read from each format trains well above chance (1/3). The sparse
    # svmlight file is scaled without centering, where plain SGD lags
    # LogisticRegression by a few points (0.84 against 0.97 on this split).
    assert float(out.split("Test accuracy: ")[1].split()[0]) > 0.8
    code, _, err = run(
        ["predict", model_path, path, "--out", tmp_path / "p.csv"], capsys
    )
    assert code == 0, err
    assert len(read_predictions(tmp_path / "p.csv")) == 150


def test_sparse_svmlight_is_scaled_without_centering(tmp_path, capsys):
    rng = np.random.RandomState(0)
    X = rng.binomial(1, 0.05, size=(200, 50)) * rng.rand(200, 50)
    y = (X[:, :25].sum(axis=1) > X[:, 25:].sum(axis=1)).astype(int)
    path = tmp_path / "sparse.svm"
    dump_svmlight_file(X, y, str(path))
    # Centering a sparse matrix raises: success means the scaler only scaled.
    code, out, err = run(["train", path, "--no-plots"], capsys)
    assert code == 0, err
    assert float(out.split("Test accuracy: ")[1].split()[0]) > 0.7


def test_param_grid_is_searched_by_cross_validation(tmp_path, iris_csv, capsys):
    grid = tmp_path / "grid.json"
    grid.write_text('{"alpha": [1e-4, 1e-2], "eta0": ["auto"]}')
    code, out, err = run(
        [
            "train",
            iris_csv,
            "--target",
            "species",
            "--no-plots",
            "--cv",
            "3",
            "--param-grid",
            grid,
        ],
        capsys,
    )
    assert code == 0, err
    assert "3-fold cross-validation accuracy of 2 candidates" in out
    assert "alpha=0.0001, eta0='auto'" in out and "alpha=0.01, eta0='auto'" in out


def test_single_values_are_set_without_search(iris_csv, capsys):
    code, out, err = run(
        [
            "train",
            iris_csv,
            "--target",
            "species",
            "--no-plots",
            "--param-grid",
            '{"alpha": 0.01, "learning_rate": "cosine", "max_iter": 30, "tol": null}',
        ],
        capsys,
    )
    assert code == 0, err
    assert "cross-validation" not in out
    assert "alpha=0.01" in out and "learning_rate='cosine'" in out
    assert "(30 epochs" in out


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_progress_bars_are_scikit_learns_and_not_saved(
    tmp_path, iris_csv, capsys, n_jobs
):
    pytest.importorskip("rich")
    pytest.importorskip("sklearn.callback")  # scikit-learn >= 1.9
    pytest.importorskip("skops")
    model_path = tmp_path / "model.skops"
    grid = '{"alpha": [1e-4, 1e-3]}'
    argv = ["train", iris_csv, "--target", "species", "--no-plots", "--progress"]
    argv += ["--cv", "2", "--param-grid", grid, "--n-jobs", n_jobs, "--out", model_path]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    # The search's bar, then the final fit's, whose classifier line counts epochs.
    assert "GridSearchCV - fit" in out
    assert "SoftmaxSGDClassifier - fit" in out
    assert "2-fold cross-validation accuracy of 2 candidates" in out
    # The bar's callback is not saved with the model: predict trusts the file.
    code, _, err = run(
        ["predict", model_path, iris_csv, "--out", tmp_path / "p.csv"], capsys
    )
    assert code == 0, err


def test_progress_on_scikit_learn_without_callbacks_trains_without_bars(
    monkeypatch, iris_csv, capsys
):
    pytest.importorskip("rich")
    # scikit-learn < 1.9 has no sklearn.callback: the import raises ImportError.
    monkeypatch.setitem(sys.modules, "sklearn.callback", None)
    argv = ["train", iris_csv, "--target", "species", "--no-plots", "--progress"]
    code, out, err = run(
        [*argv, "--cv", "2", "--param-grid", '{"alpha": [1e-4, 1e-3]}'], capsys
    )
    assert code == 0, err
    assert "no progress bar is drawn" in err and len(err.splitlines()) == 1
    assert "2-fold cross-validation accuracy of 2 candidates" in out
    assert "GridSearchCV" not in out


# ------------------------------------------------------------------- errors


def test_missing_file(tmp_path, capsys):
    code, _, err = run(["train", tmp_path / "absent.csv", "--target", "y"], capsys)
    assert code == 1
    assert "no such file" in err and "absent.csv" in err
    code, _, err = run(
        ["predict", tmp_path / "absent.skops", tmp_path / "x.csv"], capsys
    )
    assert code == 1 and "no such file" in err


def test_missing_target_column_lists_the_columns(iris_csv, capsys):
    code, _, err = run(["train", iris_csv, "--target", "Species", "--no-plots"], capsys)
    assert code == 1
    assert "no column 'Species'" in err and "'species'" in err
    code, _, err = run(["train", iris_csv, "--no-plots"], capsys)
    assert code == 1 and "--target is required" in err


def test_non_numeric_columns_are_named(tmp_path, iris_frame, capsys):
    iris_frame["colour"] = ["red", "blue", "green"] * 50
    iris_frame["site"] = "north"
    path = tmp_path / "mixed.csv"
    iris_frame.to_csv(path, index=False)
    code, _, err = run(["train", path, "--target", "species", "--no-plots"], capsys)
    assert code == 1
    assert "non-numeric feature column(s) 'colour'" in err and "'site'" in err
    assert "sepal_l" not in err


def test_missing_values_are_named(tmp_path, iris_frame, capsys):
    iris_frame.loc[3, "petal_w"] = np.nan
    path = tmp_path / "holes.csv"
    iris_frame.to_csv(path, index=False)
    code, _, err = run(["train", path, "--target", "species", "--no-plots"], capsys)
    assert code == 1 and "'petal_w' (1 missing)" in err


def test_too_few_rows_per_class(tmp_path, iris_frame, capsys):
    path = tmp_path / "few.csv"
    iris_frame.iloc[:101].to_csv(path, index=False)  # one virginica row
    code, _, err = run(["train", path, "--target", "species", "--no-plots"], capsys)
    assert code == 1
    assert "too few rows per class" in err and "'virginica' (1)" in err

    path = tmp_path / "small.csv"
    iris_frame.iloc[::10].to_csv(path, index=False)  # five rows per class
    code, _, err = run(
        [
            "train",
            path,
            "--target",
            "species",
            "--no-plots",
            "--param-grid",
            '{"alpha": [1e-4, 1e-3]}',
        ],
        capsys,
    )
    assert code == 1 and "5-fold cross-validation" in err

    path = tmp_path / "one.csv"
    iris_frame.assign(species=7).to_csv(path, index=False)
    code, _, err = run(["train", path, "--target", "species", "--no-plots"], capsys)
    assert code == 1 and "a single class, 7." in err


def test_bad_arguments(tmp_path, iris_csv, capsys):
    for grid, message in [
        ('{"alpah": [1]}', "unknown parameter(s) 'alpah'"),
        ('{"alpha": [1', "not valid JSON"),
    ]:
        train = ["train", iris_csv, "--target", "species", "--no-plots"]
        code, _, err = run([*train, "--param-grid", grid], capsys)
        assert code == 1 and message in err
    with pytest.raises(SystemExit) as exit_info:
        main(["train", str(iris_csv), "--test-size", "1.5"])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit):
        main(["predict", "model.skops", "data.csv", "--bogus"])


@pytest.mark.parametrize(
    "name, content",
    [
        ("empty.csv", b""),
        ("broken.npz", b"not a zip archive"),
        ("broken.svm", b"1 a:b c\n"),
    ],
)
def test_unreadable_files(tmp_path, capsys, name, content):
    pytest.importorskip("pandas")
    path = tmp_path / name
    path.write_bytes(content)
    target = ["--target", "y"] if name.endswith(".csv") else []
    code, _, err = run(["train", path, *target, "--no-plots"], capsys)
    assert code == 1 and f"cannot read {path}" in err


def test_unknown_suffix(tmp_path, capsys):
    path = tmp_path / "data.xlsx"
    path.write_text("")
    code, _, err = run(["train", path, "--target", "y", "--no-plots"], capsys)
    assert code == 1 and "suffixes" in err and ".parquet" in err


@pytest.mark.parametrize(
    "module, argv_tail",
    [
        ("pandas", ["--no-plots"]),
        ("matplotlib", []),
        ("skops", ["--no-plots", "--out", "model.skops"]),
        ("rich", ["--no-plots", "--progress"]),
    ],
)
def test_missing_optional_dependency_names_the_extra(
    monkeypatch, tmp_path, iris_csv, capsys, module, argv_tail
):
    monkeypatch.chdir(tmp_path)
    for name in list(sys.modules):
        if name == module or name.startswith(module + "."):
            monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, module, None)  # import raises ImportError
    code, _, err = run(["train", iris_csv, "--target", "species", *argv_tail], capsys)
    assert code == 1
    assert f"needs {module}" in err
    assert "pip install 'sksoftmax[cli]'" in err


def test_predict_refuses_foreign_types(tmp_path, iris_csv, capsys):
    skops_io = pytest.importorskip("skops.io")
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from sksoftmax import SoftmaxSGDClassifier

    model = make_pipeline(FunctionTransformer(os.getcwd), SoftmaxSGDClassifier())
    skops_io.dump(model, tmp_path / "foreign.skops")
    code, _, err = run(["predict", tmp_path / "foreign.skops", iris_csv], capsys)
    assert code == 1
    assert "posix.getcwd" in err or "nt.getcwd" in err
    code, _, err = run(["predict", iris_csv, iris_csv], capsys)
    assert code == 1 and "not a model saved by skops" in err


def test_predict_needs_the_trained_columns(
    tmp_path, model_path, iris_csv, iris_frame, capsys
):
    path = tmp_path / "partial.csv"
    iris_frame.drop(columns=["petal_w"]).to_csv(path, index=False)
    code, _, err = run(["predict", model_path, path], capsys)
    assert code == 1 and "lacks the feature column(s) 'petal_w'" in err


# ------------------------------------------------------------------ demo


def table_after(out, title):
    """The rows of the table under the line ``title``: each row's fields."""
    lines = out.split(title + "\n", 1)[1].splitlines()[1:]  # (after the header)
    if "" in lines:
        lines = lines[: lines.index("")]
    return [line.split() for line in lines]


def test_demo_tunes_and_compares_on_digits(capsys):
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    code, out, _ = run(["demo", "--n-jobs", "1", "--random-state", "0"], capsys)
    assert code == 0

    # The search: one row per candidate of the 3 x 3 grid, best first, mean
    # accuracies in [0, 1], measured fit times; the best is the first row.
    rows = table_after(out, "Cross-validation results (best first):")
    candidates = [(alpha, eta0) for alpha, eta0, *_ in rows]
    assert sorted(candidates) == sorted(
        (alpha, eta0)
        for alpha in ["1e-05", "1e-04", "1e-03"]
        for eta0 in ["auto", "0.01", "0.1"]
    )
    means = [float(row[2]) for row in rows]
    assert all(0 <= mean <= 1 for mean in means)
    assert means == sorted(means, reverse=True)
    assert all(float(std) >= 0 for _, _, _, std, _ in rows)
    assert all(float(fit_time.removesuffix("ms")) > 0 for *_, fit_time in rows)
    best = ast.literal_eval(out.split("Best parameters: ")[1].split(" (search")[0])
    assert (
        f"{best['softmaxsgdclassifier__alpha']:.0e}",
        str(best["softmaxsgdclassifier__eta0"]),
    ) == candidates[0]

    # The held-out part: LogisticRegression's accuracy is the one this test
    # gets on the same split; ours are close to it; the fits were timed.
    held_out = {
        " ".join(name): (float(accuracy), float(fit_time.removesuffix("ms")))
        for *name, accuracy, fit_time in table_after(
            out, "Held-out accuracy (refit on the whole training part):"
        )
    }
    assert len(held_out) == 3
    assert all(fit_time > 0 for _, fit_time in held_out.values())
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    reference = make_pipeline(StandardScaler(), LogisticRegression())
    reference_accuracy = reference.fit(X_train, y_train).score(X_test, y_test)
    lbfgs_accuracy = held_out["LogisticRegression (defaults)"][0]
    assert lbfgs_accuracy == pytest.approx(reference_accuracy, abs=5e-5)
    for name in ["SoftmaxSGDClassifier (best)", "SoftmaxSGDClassifier (defaults)"]:
        assert abs(held_out[name][0] - lbfgs_accuracy) < 0.03, held_out


def test_module_entry_point():
    result = subprocess.run(
        [sys.executable, "-m", "sksoftmax", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for command in ("demo", "train", "predict"):
        assert command in result.stdout


# ------------------------------------------------- bad input found by review


def test_svmlight_prediction_keeps_the_training_files_indexing(tmp_path, capsys):
    pytest.importorskip("skops")
    iris = load_iris()
    train_path, new_path = tmp_path / "iris.svm", tmp_path / "new.svm"
    dump_svmlight_file(iris.data, iris.target, str(train_path))  # from 0
    model_path = tmp_path / "model.skops"
    code, _, err = run(["train", train_path, "--no-plots", "--out", model_path], capsys)
    assert code == 0, err
    # New rows without feature 0: read alone, they would look one-based and
    # every feature would shift by one.
    new = iris.data.copy()
    new[:, 0] = 0.0
    dump_svmlight_file(new, iris.target, str(new_path))
    dense_path = tmp_path / "new.npz"
    np.savez(dense_path, X=new)
    predictions = predict_each(model_path, [new_path, dense_path], tmp_path, capsys)
    assert predictions[0] == predictions[1]


@pytest.mark.parametrize(
    "argv_tail, message",
    [
        (["--test-size", "0.1"], "cannot split"),  # 2 test rows for 4 classes
        (["--param-grid", '{"alpha": []}'], "no values for 'alpha'"),
        (["--param-grid", '{"alpha": [1e-4, 1e-3]}', "--cv", "1"], "--cv must be"),
        (
            ["--param-grid", '{"alpha": [-1, 1e-4]}', "--cv", "2"],
            "the candidate {'alpha': -1} failed on every fold: The 'alpha' parameter",
        ),
        (
            ["--param-grid", '{"alpha": [-1, -2]}', "--cv", "2"],
            "the candidate {'alpha': -1} failed on every fold: The 'alpha' parameter",
        ),
        (["--out", "no_such_folder/m.skops"], "no such folder"),
    ],
)
def test_bad_settings_give_one_line_errors(tmp_path, capsys, argv_tail, message):
    pandas = pytest.importorskip("pandas")
    rng = np.random.RandomState(0)
    frame = pandas.DataFrame(rng.randn(20, 2), columns=["a", "b"])
    frame["y"] = np.repeat([0, 1, 2, 3], 5)
    path = tmp_path / "small.csv"
    frame.to_csv(path, index=False)
    argv = ["train", path, "--target", "y", "--no-plots", *argv_tail]
    argv = [tmp_path / arg if str(arg).startswith("no_such") else arg for arg in argv]
    code, _, err = run(argv, capsys)
    assert code == 1 and message in err, err
    assert len(err.splitlines()) == 1, err
    assert not list(tmp_path.glob("*.png"))


@pytest.mark.parametrize("suffix", [".csv", ".npz", ".svm"])
def test_infinite_features_are_refused_before_training(tmp_path, capsys, suffix):
    pandas = pytest.importorskip("pandas")
    X = np.random.RandomState(0).randn(40, 3)
    X[7, 1] = np.inf
    y = np.arange(40) % 2
    path = tmp_path / f"data{suffix}"
    if suffix == ".csv":
        frame = pandas.DataFrame(X, columns=["a", "b", "c"])
        frame["y"] = y
        frame.to_csv(path, index=False)
    elif suffix == ".npz":
        np.savez(path, X=X, y=y)
    else:  # (dump_svmlight_file refuses inf: write the line by hand)
        X[7, 1] = 1.0
        dump_svmlight_file(X, y, str(path))
        lines = path.read_text().splitlines()
        lines[7] = "1 0:1 1:inf 2:1"
        path.write_text("\n".join(lines) + "\n")
    target = ["--target", "y"] if suffix == ".csv" else []
    code, _, err = run(["train", path, *target, "--no-plots"], capsys)
    assert code == 1 and "infinite or missing" in err, err


def test_empty_data_and_byte_labels(tmp_path, capsys):
    path = tmp_path / "empty.npz"
    np.savez(path, X=np.zeros((0, 3)), y=np.zeros(0))
    code, _, err = run(["train", path, "--no-plots"], capsys)
    assert code == 1 and "holds no rows" in err
    path = tmp_path / "bytes.npz"
    X = np.random.RandomState(0).randn(40, 3)
    np.savez(path, X=X, y=np.array([b"cat", b"dog"] * 20))
    code, out, err = run(["train", path, "--no-plots"], capsys)
    assert code == 0, err
    assert "cat: 20, dog: 20" in out


def test_predict_refuses_a_model_that_is_not_a_classifier(tmp_path, capsys):
    skops_io = pytest.importorskip("skops.io")
    from sklearn.cluster import KMeans

    path = tmp_path / "kmeans.skops"
    skops_io.dump(KMeans(n_clusters=2, n_init=1).fit(np.eye(4)), path)
    data = tmp_path / "x.npz"
    np.savez(data, X=np.eye(4))
    code, _, err = run(["predict", path, data], capsys)
    assert code == 1 and "not a fitted classifier" in err, err


def test_predict_on_the_training_npz_ignores_its_labels(tmp_path, capsys):
    pytest.importorskip("skops")
    iris = load_iris()
    path = tmp_path / "iris.npz"
    np.savez(path, features=iris.data, y=iris.target)
    model_path = tmp_path / "model.skops"
    code, _, err = run(["train", path, "--no-plots", "--out", model_path], capsys)
    assert code == 0, err
    code, _, err = run(
        ["predict", model_path, path, "--out", tmp_path / "p.csv"], capsys
    )
    assert code == 0, err
    assert len(read_predictions(tmp_path / "p.csv")) == 150


# ---------------------------------------------- CSV labels and the row index


@pytest.mark.parametrize(
    "labels, classes",
    [
        # Text that pandas' type guessing would merge or read as missing.
        (["007", "07", "7"], ["007", "07", "7"]),
        (["NA", "null", "N/A"], ["N/A", "NA", "null"]),
        (["1", "+1", "1.0"], ["+1", "1", "1.0"]),
        # Other numbers stay text, sorted as text.
        (["2.5", "10.5", "1.5"], ["1.5", "10.5", "2.5"]),
        # Integers written as such become numbers, sorted as numbers, with
        # or without spaces around them (", " separators).
        (["10", "2", "-3"], ["-3", "2", "10"]),
        ([" 10", "2 ", " -3"], ["-3", "2", "10"]),
    ],
)
def test_csv_labels_are_read_as_written(tmp_path, capsys, labels, classes):
    pandas = pytest.importorskip("pandas")
    pytest.importorskip("skops")
    rng = np.random.RandomState(0)
    codes = np.repeat([0, 1, 2], 20)
    centers = np.array([[0, 0], [6, 0], [0, 6]])
    frame = pandas.DataFrame(centers[codes] + rng.randn(60, 2), columns=["a", "b"])
    frame["label"] = np.array(labels, dtype=object)[codes]
    path = tmp_path / "blobs.csv"
    frame.to_csv(path, index=False)
    model_path = tmp_path / "model.skops"
    argv = ["train", path, "--target", "label", "--no-plots", "--out", model_path]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    assert f"3 classes ({', '.join(f'{name}: 20' for name in classes)})" in out
    code, _, err = run(
        ["predict", model_path, path, "--out", tmp_path / "p.csv"], capsys
    )
    assert code == 0, err
    rows = read_predictions(tmp_path / "p.csv")
    assert list(rows[0]) == ["prediction"] + [f"proba_{name}" for name in classes]
    predicted = np.array([row["prediction"] for row in rows])
    assert np.mean(predicted == np.char.strip(labels)[codes]) > 0.9


def test_only_an_empty_label_is_missing(tmp_path, capsys):
    pytest.importorskip("pandas")
    path = tmp_path / "empty_label.csv"
    path.write_text("a,b,label\n1,2,NA\n3,4,\n")
    code, _, err = run(["train", path, "--target", "label", "--no-plots"], capsys)
    assert code == 1 and "the target column 'label' has missing values" in err
    # Features keep pandas' missing values: "NA" is one there.
    path = tmp_path / "na_feature.csv"
    path.write_text("a,b,label\n1,NA,NA\n3,4,null\n")
    code, _, err = run(["train", path, "--target", "label", "--no-plots"], capsys)
    assert code == 1 and "'b' (1 missing)" in err, err


def test_first_column_without_header_is_the_row_index(
    tmp_path, iris_frame, iris_csv, capsys
):
    pytest.importorskip("skops")
    indexed = tmp_path / "indexed.csv"
    iris_frame.to_csv(indexed)  # the index first, under an empty header
    model_path = tmp_path / "model.skops"
    argv = ["train", indexed, "--target", "species", "--no-plots", "--out", model_path]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    assert "150 rows, 4 features" in out
    assert len(err.splitlines()) == 1
    assert "first column has no header" in err and "row index" in err
    predictions = predict_each(model_path, [indexed, iris_csv], tmp_path, capsys)
    assert predictions[0] == predictions[1]

    # A model without column names (trained on an NPZ) reads the rest.
    features = iris_frame.drop(columns="species")
    labels = iris_frame["species"].to_numpy().astype(str)
    np.savez(tmp_path / "iris.npz", X=features.to_numpy(), y=labels)
    argv = ["train", tmp_path / "iris.npz", "--no-plots", "--out", model_path]
    assert run(argv, capsys)[0] == 0
    features.to_csv(indexed)
    assert len(predict_each(model_path, [indexed], tmp_path, capsys)[0]) == 150

    # An empty header elsewhere, or a column named "Unnamed: 0", is a feature.
    path = tmp_path / "named.csv"
    iris_frame.rename(columns={"sepal_l": "Unnamed: 0", "sepal_w": ""}).to_csv(
        path, index=False
    )
    code, out, err = run(["train", path, "--target", "species", "--no-plots"], capsys)
    assert code == 0, err
    assert "4 features" in out and "row index" not in err
