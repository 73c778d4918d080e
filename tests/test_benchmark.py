"""Smoke tests of the peer benchmark (sksoftmax._benchmark); no timing assertions."""

import subprocess
import sys
from pathlib import Path

import pytest

from sksoftmax import _benchmark


def test_quick_run_prints_markdown_tables(tmp_path, capsys):
    status = _benchmark.main(["--quick", "--skip-torch", "--out-dir", str(tmp_path)])
    output = capsys.readouterr().out

    assert status == 0
    lines = output.splitlines()
    headers = [i for i, line in enumerate(lines) if line.startswith("| method |")]
    assert headers, output
    assert lines[headers[0] + 1].startswith("|---|")
    for section in ("## 1.", "## 2.", "## 3.", "## 4.", "## 5.", "## Targets"):
        assert section in output
    assert "PyTorch: skipped (--skip-torch)" in output
    assert "| LogisticRegression() |" in output
    if "Plot: saved to" in output:
        assert (tmp_path / "bench_peers.png").stat().st_size > 0
    else:
        assert "Plot: skipped (matplotlib is not installed)" in output


def test_plot_is_skipped_without_matplotlib(tmp_path, monkeypatch):
    # None in sys.modules makes `import matplotlib...` raise ImportError.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    results = {"dense": [{"label": "ours", "key": "ours", "epoch": 0.1}]}

    assert _benchmark.save_plot(results, tmp_path / "bench_peers.png") is None
    assert not (tmp_path / "bench_peers.png").exists()


def test_unknown_section_is_refused():
    with pytest.raises(SystemExit):
        _benchmark.build_parser().parse_args(["--only", "gpu"])


def test_minimal_loop_benchmark_quick_run():
    # benchmarks/ is not a package: run the script as a user would.
    script = Path(__file__).parents[1] / "benchmarks" / "bench_minimal_loop.py"
    result = subprocess.run(
        [sys.executable, str(script), "--quick"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| loop | epoch (ms) |")
    labels = [row.split(" | ")[0] for row in rows[1:]]  # (the |---| row is not in rows)
    assert len(labels) == 8
    assert "| SoftmaxSGDClassifier(batch_size=256), rows" in labels
    assert "| BLAS floor, 1 thread" in labels
