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


def _runs_on_this_machine(check):
    """False for array API checks of a library or device that is absent here.

    scikit-learn generates checks for CuPy, CUDA, MPS, XPU and dpnp; on a
    machine without them those checks can only skip, so they are left out
    rather than reported as skipped. Everything available runs: numpy,
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
    except SkipTest:
        return False
    return True


CHECKS = [
    (estimator, check)
    for estimator, check in estimator_checks_generator(
        SoftmaxSGDClassifier(random_state=0)
    )
    if _runs_on_this_machine(check)
]


@pytest.mark.parametrize("estimator, check", CHECKS, ids=_get_check_estimator_ids)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_param_validation():
    check_param_validation("SoftmaxSGDClassifier", SoftmaxSGDClassifier())


def test_dataframe_column_names_consistency():
    check_dataframe_column_names_consistency(
        "SoftmaxSGDClassifier", SoftmaxSGDClassifier(random_state=0)
    )
