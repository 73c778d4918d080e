"""Every configuration of regression_configs.py trains as the stored results say.

A change that means to keep every fit passes this module unchanged; see
regression_configs.py for when and how the stored results are regenerated.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from regression_configs import (
    CONFIGS,
    FLOAT_FIELDS,
    INTEGER_FIELDS,
    environment,
    load_fixture,
    train,
)

# Float results, in the environment that computed them: float64 within this
# relative tolerance (and within it times the array's largest entry in
# absolute terms, so that entries near zero are not compared on their
# rounding), float32 bit for bit. A configuration's own rtol, where set,
# replaces these.
STORED_ENVIRONMENT_RTOL = {"float64": 1e-12, "float32": 0.0}
# With other versions or another BLAS kernel (regression_configs.environment)
# float32 sums round differently (a few 1e-6 relative after a fit): there
# the tolerances that test_array_api.py allows between implementations.
OTHER_ENVIRONMENT_RTOL = {"float64": 1e-9, "float32": 1e-4}


@pytest.fixture(scope="module")
def stored():
    return load_fixture()


def test_every_configuration_is_stored(stored):
    results, _ = stored
    assert set(results) == set(CONFIGS)
    for name, fields in results.items():
        assert set(fields) == {*FLOAT_FIELDS, *INTEGER_FIELDS, "dtype"}, name


@pytest.mark.parametrize("name", list(CONFIGS))
def test_fit_equals_the_stored_fit(name, stored):
    config = CONFIGS[name]
    if config.requires is not None:
        pytest.importorskip(config.requires)
    results, stored_environment = stored
    expected, actual = results[name], train(name)
    here = environment()
    same_environment = here == stored_environment
    context = f"configuration {name}; stored on {stored_environment}" + (
        "" if same_environment else f"; running on {here}"
    )
    dtype = str(expected["dtype"])
    assert str(actual["dtype"]) == dtype, context
    for field in INTEGER_FIELDS:
        assert int(actual[field]) == int(expected[field]), f"{field}: {context}"
    rtol = (STORED_ENVIRONMENT_RTOL if same_environment else OTHER_ENVIRONMENT_RTOL)[
        dtype
    ]
    if config.rtol is not None:
        rtol = max(rtol, config.rtol)
    for field in FLOAT_FIELDS:
        message = f"{field}: {context}"
        assert actual[field].shape == expected[field].shape, message
        if rtol == 0.0:
            assert_array_equal(actual[field], expected[field], err_msg=message)
        else:
            scale = float(np.max(np.abs(expected[field]), initial=0.0))
            assert_allclose(
                actual[field],
                expected[field],
                rtol=rtol,
                atol=rtol * scale,
                err_msg=message,
            )
