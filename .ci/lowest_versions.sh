#!/usr/bin/env bash
# CI, second environment: the core test suite against the LOWEST numpy, scipy
# and scikit-learn that pyproject.toml declares, so that the declared range is
# true. Each "name>=X.Y.Z" of [project] dependencies is installed as
# "name==X.Y.Z", from wheels only (a floor with no wheel for this Python fails
# here rather than compiling for half an hour), with the test extra.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv-lowest
rm -rf "$venv"
python3 -m venv "$venv"

floors=$("$venv/bin/python" - <<'EOF'
import re
import tomllib

with open("pyproject.toml", "rb") as file:
    dependencies = tomllib.load(file)["project"]["dependencies"]
for dependency in dependencies:
    match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*>=\s*([0-9][0-9.]*)\s*", dependency)
    if match is None:
        raise SystemExit(f"no plain '>=' floor to pin in {dependency!r}")
    print(f"{match[1]}=={match[2]}")
EOF
)
echo "Lowest declared versions: $(echo $floors)"

# shellcheck disable=SC2086  # one argument per pin
"$venv/bin/pip" install -q --only-binary=numpy,scipy,scikit-learn $floors -e ".[test]"
"$venv/bin/python" -c "import numpy, scipy, sklearn; print('numpy', numpy.__version__, 'scipy', scipy.__version__, 'scikit-learn', sklearn.__version__)"

# The core: the math, the optimizer, the estimator and scikit-learn's checks.
# Integration tests (ONNX, skops, Dask) need the extras, which pin their own
# scikit-learn floors; they run in the main job.
"$venv/bin/python" -m pytest \
    tests/test_loss.py tests/test_optim.py tests/test_classifier.py tests/test_common.py
