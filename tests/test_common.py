"""scikit-learn's estimator checks, run on SoftmaxSGDClassifier."""

from sklearn.utils.estimator_checks import (
    check_dataframe_column_names_consistency,
    check_param_validation,
    parametrize_with_checks,
)

from sksoftmax import SoftmaxSGDClassifier


@parametrize_with_checks([SoftmaxSGDClassifier(random_state=0)])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_param_validation():
    check_param_validation("SoftmaxSGDClassifier", SoftmaxSGDClassifier())


def test_dataframe_column_names_consistency():
    check_dataframe_column_names_consistency(
        "SoftmaxSGDClassifier", SoftmaxSGDClassifier(random_state=0)
    )
