"""sksoftmax: multinomial softmax regression by minibatch SGD, for scikit-learn."""

from sksoftmax._classifier import SoftmaxSGDClassifier
from sksoftmax._loss import (
    check_gradient,
    log_softmax,
    softmax_loss,
    softmax_loss_naive,
)

__version__ = "0.1.0"

__all__ = [
    "SoftmaxSGDClassifier",
    "check_gradient",
    "log_softmax",
    "softmax_loss",
    "softmax_loss_naive",
    "__version__",
]
