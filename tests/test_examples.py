"""Smoke tests of the cheapest gallery examples, run off screen.

The documentation build runs every example; these keep the fastest ones
(and the CIFAR-10 example's synthetic stand-in, which goes through
sksoftmax.datasets.load_cifar10) from breaking between documentation builds.
"""

import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture
def off_screen(monkeypatch, tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures = []
    monkeypatch.setattr(plt, "show", lambda: figures.extend(plt.get_fignums()))
    monkeypatch.chdir(tmp_path)
    yield figures
    plt.close("all")


@pytest.mark.parametrize(
    "script, n_figures",
    [("plot_softmax_vs_one_vs_rest.py", 2), ("plot_cifar10.py", 2)],
)
def test_example_runs(off_screen, monkeypatch, tmp_path, capsys, script, n_figures):
    # The CIFAR-10 example falls back to its stand-in when the data is absent.
    monkeypatch.setenv("CIFAR10_DIR", str(tmp_path / "no-cifar-here"))
    runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    assert len(set(off_screen)) == n_figures
    out = capsys.readouterr().out
    assert "accuracy" in out
