"""Test configuration: a deterministic Hypothesis profile for CI, and the
extras that a CI job installs made mandatory there."""

import os
import re

# scikit-learn's array API checks need SciPy's array API mode, which SciPy
# reads once, at import: set it before anything imports SciPy.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("dev", deadline=None, max_examples=100)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Set by .ci/run for the main job, which installs every extra: there a test
# skipped because an optional package does not import would hide a broken
# install, so such a skip fails instead. Libraries that need hardware this
# machine may lack (a GPU array library) still skip.
REQUIRE_EXTRAS = os.environ.get("SKSOFTMAX_REQUIRE_EXTRAS") == "1"
HARDWARE_MODULES = ("cupy", "dpnp")
_MISSING_MODULE = re.compile(r"could not import '([^']+)'")


def _missing_extra(message):
    """The module a skip message says could not be imported, unless it is
    one that needs absent hardware; None for any other skip."""
    match = _MISSING_MODULE.search(str(message))
    if match is None or match[1].partition(".")[0] in HARDWARE_MODULES:
        return None
    return match[1]


def _fail_skip_of_missing_extra(report):
    if not (REQUIRE_EXTRAS and report.skipped and isinstance(report.longrepr, tuple)):
        return
    module = _missing_extra(report.longrepr[2])
    if module is not None:
        report.outcome = "failed"
        report.longrepr = (
            f"SKSOFTMAX_REQUIRE_EXTRAS=1: {module!r} does not import, but this "
            f"job installs every extra ({report.longrepr[2]})"
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    _fail_skip_of_missing_extra(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    report = yield
    _fail_skip_of_missing_extra(report)
    return report
