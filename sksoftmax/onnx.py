"""ONNX export: a skl2onnx converter for SoftmaxSGDClassifier.

Importing this module needs nothing beyond the core package; skl2onnx (the
``onnx`` extra) is imported when :func:`register_onnx_converter` is called.
"""

import numbers

import numpy as np
from scipy import sparse

from sksoftmax._classifier import SoftmaxSGDClassifier
from sksoftmax._compat import to_numpy

__all__ = [
    "calculate_softmax_sgd_classifier_output_shapes",
    "convert_softmax_sgd_classifier",
    "register_onnx_converter",
]

# The name skl2onnx knows the estimator by in its registry of operators.
_OPERATOR_ALIAS = "SksoftmaxSoftmaxSGDClassifier"

# The options to_onnx accepts for the estimator, with their allowed values.
_CONVERTER_OPTIONS = {
    "zipmap": [True, False, "columns"],
    "nocl": [True, False],
    "raw_scores": [True, False],
}


def register_onnx_converter():
    """Teach skl2onnx to convert :class:`~sksoftmax.SoftmaxSGDClassifier`.

    After this call ``skl2onnx.to_onnx`` converts the estimator, alone or
    inside a pipeline, to the ``ai.onnx.ml`` ``LinearClassifier`` operator
    (float inputs) or to standard ONNX operators (double inputs). The
    exported ``label`` equals :meth:`~sksoftmax.SoftmaxSGDClassifier.predict`
    and ``probabilities`` equal
    :meth:`~sksoftmax.SoftmaxSGDClassifier.predict_proba` up to the rounding
    of the input type. Calling it again is harmless.

    The converter accepts skl2onnx's usual classifier options: ``zipmap``
    (probabilities as a list of dicts, the default, or ``False`` for a
    tensor), ``nocl`` (labels as class indices) and ``raw_scores``
    (``decision_function`` scores instead of probabilities; for two classes
    the columns are ``0`` and ``decision_function``).

    Raises
    ------
    ImportError
        If skl2onnx is not installed (``pip install "sksoftmax[onnx]"``).

    Examples
    --------
    >>> import numpy as np
    >>> from onnxruntime import InferenceSession
    >>> from skl2onnx import to_onnx
    >>> from sklearn.datasets import load_iris
    >>> from sksoftmax import SoftmaxSGDClassifier
    >>> from sksoftmax.onnx import register_onnx_converter
    >>> register_onnx_converter()
    >>> X, y = load_iris(return_X_y=True)
    >>> X = X.astype(np.float32)
    >>> clf = SoftmaxSGDClassifier(random_state=0).fit(X, y)
    >>> onx = to_onnx(clf, X[:1], options={"zipmap": False})
    >>> session = InferenceSession(
    ...     onx.SerializeToString(), providers=["CPUExecutionProvider"]
    ... )
    >>> label, proba = session.run(None, {"X": X})
    >>> bool((label == clf.predict(X)).all())
    True
    >>> np.allclose(proba, clf.predict_proba(X), rtol=1e-5, atol=0)
    True
    """
    try:
        from skl2onnx import update_registered_converter
    except ImportError as error:
        raise ImportError(
            "ONNX export needs skl2onnx; install it with pip install 'sksoftmax[onnx]'."
        ) from error
    update_registered_converter(
        SoftmaxSGDClassifier,
        _OPERATOR_ALIAS,
        calculate_softmax_sgd_classifier_output_shapes,
        convert_softmax_sgd_classifier,
        options=_CONVERTER_OPTIONS,
    )


def calculate_softmax_sgd_classifier_output_shapes(operator):
    """skl2onnx shape calculator: a label per row and a score per class.

    The outputs are those of skl2onnx's linear classifiers, so this reuses
    its shape calculator.

    Parameters
    ----------
    operator : skl2onnx.common._topology.Operator
        The operator wrapping a fitted estimator.
    """
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
    )

    calculate_linear_classifier_output_shapes(operator)


def convert_softmax_sgd_classifier(scope, operator, container):
    """skl2onnx converter: add the nodes computing ``predict`` and ``predict_proba``.

    Float inputs go through one ``LinearClassifier`` node with a SOFTMAX
    post-transform; double inputs through ``MatMul``, ``Add``, ``Softmax``
    and ``ArgMax``, since ``LinearClassifier`` always computes in float.
    Labels come from the scores before the softmax, so ties and tiny scores
    resolve as in ``predict``.

    Parameters
    ----------
    scope : skl2onnx.common._topology.Scope
        Names in use in the graph.
    operator : skl2onnx.common._topology.Operator
        The operator wrapping the fitted estimator (``operator.raw_operator``).
    container : skl2onnx.common._container.ModelComponentContainer
        The graph under construction.
    """
    from skl2onnx.common.data_types import DoubleTensorType
    from skl2onnx.common.utils_classifier import get_label_classes

    model = operator.raw_operator
    options = container.get_options(model, dict(raw_scores=False))
    coef, intercept = _score_weights(model)
    post_transform = "NONE" if options["raw_scores"] else "SOFTMAX"
    labels = _class_labels(get_label_classes(scope, model))
    if isinstance(operator.inputs[0].type, DoubleTensorType):
        _add_double_nodes(
            scope, operator, container, coef, intercept, post_transform, labels
        )
    else:
        _add_linear_classifier_node(
            scope, operator, container, coef, intercept, post_transform, labels
        )


def _score_weights(model):
    """Weights and intercepts whose softmax is ``predict_proba``, one row per class.

    For two classes the model is the softmax over the scores ``[0, z]``
    (``coef_`` is the second row, the first is pinned at zero), so the rows
    are ``[0, coef_]``. This is the same function as the logistic of ``[-z,
    z]``, but onnxruntime's LOGISTIC post-transform is a float approximation
    (relative error about 1e-5 at ``|z| = 5``, 1e-3 at ``|z| = 10``) while its
    SOFTMAX is exact to float rounding.
    """
    # A model fitted on a GPU holds its weights there: to numpy first (and a
    # sparsified model's CSR coef_ to a dense array).
    coef = model.coef_
    coef = coef.toarray() if sparse.issparse(coef) else to_numpy(coef)
    coef = coef.astype(np.float64)
    intercept = to_numpy(model.intercept_).astype(np.float64).reshape(-1)
    if len(model.classes_) == 2:
        coef = np.vstack([np.zeros_like(coef), coef])
        intercept = np.concatenate([np.zeros_like(intercept), intercept])
    return coef, intercept


def _class_labels(classes):
    """Classes as ONNX label values: a list of str, or a list of int."""
    if all(isinstance(label, str) for label in classes):
        return [str(label) for label in classes]
    if all(
        isinstance(label, (numbers.Real, np.bool_)) and float(label).is_integer()
        for label in classes
    ):
        return [int(label) for label in classes]
    raise ValueError(
        "ONNX classifiers carry integer or string labels; the classes "
        f"{list(classes)} are neither. Encode them (for example with "
        "sklearn.preprocessing.LabelEncoder) before fitting."
    )


def _add_linear_classifier_node(
    scope, operator, container, coef, intercept, post_transform, labels
):
    """One ``ai.onnx.ml.LinearClassifier`` node, on a float copy of the input."""
    from onnx import TensorProto
    from skl2onnx.common.data_types import FloatTensorType

    input_name = operator.inputs[0].full_name
    if not isinstance(operator.inputs[0].type, FloatTensorType):
        cast_name = scope.get_unique_variable_name("cast_input")
        container.add_node(
            "Cast",
            input_name,
            cast_name,
            name=scope.get_unique_operator_name("Cast"),
            to=TensorProto.FLOAT,
        )
        input_name = cast_name
    label_key = (
        "classlabels_strings" if isinstance(labels[0], str) else "classlabels_ints"
    )
    container.add_node(
        "LinearClassifier",
        input_name,
        [operator.outputs[0].full_name, operator.outputs[1].full_name],
        op_domain="ai.onnx.ml",
        name=scope.get_unique_operator_name("LinearClassifier"),
        coefficients=coef.ravel().tolist(),
        intercepts=intercept.tolist(),
        multi_class=1,
        post_transform=post_transform,
        **{label_key: labels},
    )


def _add_double_nodes(
    scope, operator, container, coef, intercept, post_transform, labels
):
    """Scores, probabilities and labels in double precision, from standard operators."""
    from onnx import TensorProto

    coef_name = scope.get_unique_variable_name("coef")
    container.add_initializer(
        coef_name, TensorProto.DOUBLE, list(coef.T.shape), coef.T.ravel().tolist()
    )
    intercept_name = scope.get_unique_variable_name("intercept")
    container.add_initializer(
        intercept_name, TensorProto.DOUBLE, list(intercept.shape), intercept.tolist()
    )
    product_name = scope.get_unique_variable_name("product")
    container.add_node(
        "MatMul",
        [operator.inputs[0].full_name, coef_name],
        product_name,
        name=scope.get_unique_operator_name("MatMul"),
    )
    scores_name = scope.get_unique_variable_name("scores")
    container.add_node(
        "Add",
        [product_name, intercept_name],
        scores_name,
        name=scope.get_unique_operator_name("Add"),
    )
    _add_label_nodes(scope, operator, container, scores_name, labels)

    output_name = operator.outputs[1].full_name
    if post_transform == "NONE":
        container.add_node(
            "Identity",
            scores_name,
            output_name,
            name=scope.get_unique_operator_name("Identity"),
        )
    else:
        container.add_node(
            "Softmax",
            scores_name,
            output_name,
            name=scope.get_unique_operator_name("Softmax"),
            axis=1,
        )


def _add_label_nodes(scope, operator, container, scores_name, labels):
    """The label of the largest score; ties go to the first class, as ``predict``."""
    from onnx import TensorProto

    index_name = scope.get_unique_variable_name("class_index")
    container.add_node(
        "ArgMax",
        scores_name,
        index_name,
        name=scope.get_unique_operator_name("ArgMax"),
        axis=1,
        keepdims=0,
    )
    labels_name = scope.get_unique_variable_name("class_labels")
    if isinstance(labels[0], str):
        container.add_initializer(
            labels_name,
            TensorProto.STRING,
            [len(labels)],
            [label.encode("utf-8") for label in labels],
        )
    else:
        container.add_initializer(labels_name, TensorProto.INT64, [len(labels)], labels)
    container.add_node(
        "Gather",
        [labels_name, index_name],
        operator.outputs[0].full_name,
        name=scope.get_unique_operator_name("Gather"),
        axis=0,
    )
