"""scikit-learn's estimator checks, run on SoftmaxSGDClassifier."""

from unittest import SkipTest

import pytest
from sklearn.utils._testing import _array_api_for_tests
from sklearn.utils.estimator_checks import (
    _get_check_estimator_ids,
    check_dataframe_column_names_consistency,
    check_param_validation,
    estimator_checks_generator,
)

from sksoftmax import SoftmaxSGDClassifier


def _absent_on_this_machine(check):
    """Why ``check`` cannot run here (an array library or device that is
    absent), or None.

    scikit-learn generates array API checks for CuPy, CUDA, MPS, XPU and
    dpnp; on a machine without them those checks are reported as skipped,
    with scikit-learn's reason. Everything available runs: numpy,
    array-api-strict and torch on the CPU in CI, and torch on CUDA on a
    machine that has it.
    """
    keywords = getattr(check, "keywords", {})
    namespaces = [
        (value.xp, value.device) for value in keywords.values() if hasattr(value, "xp")
    ]
    if "array_namespace" in keywords:
        namespaces.append((keywords["array_namespace"], keywords.get("device_name")))
    try:
        for namespace, device in namespaces:
            _array_api_for_tests(namespace, device)
    except SkipTest as reason:
        return str(reason)
    return None


CHECKS = list(estimator_checks_generator(SoftmaxSGDClassifier(random_state=0)))


@pytest.mark.parametrize("estimator, check", CHECKS, ids=_get_check_estimator_ids)
def test_sklearn_compatible_estimator(estimator, check):
    reason = _absent_on_this_machine(check)
    if reason is not None:
        pytest.skip(reason)
    check(estimator)


def test_param_validation():
    check_param_validation("SoftmaxSGDClassifier", SoftmaxSGDClassifier())


def test_dataframe_column_names_consistency():
    check_dataframe_column_names_consistency(
        "SoftmaxSGDClassifier", SoftmaxSGDClassifier(random_state=0)
    )
