"""Stateless math of multinomial softmax regression: log-softmax, loss and gradient.

The objective, for ``n_samples`` rows ``x_i`` with integer-encoded labels
``y_i`` in ``{0, ..., n_classes - 1}`` and non-negative sample weights ``s_i``::

    raw_prediction = X @ coef.T + intercept          # (n_samples, n_classes)
    log_proba      = log_softmax(raw_prediction)     # row-wise
    loss           = -1/S * sum_i s_i * log_proba[i, y_i]  +  alpha/2 * ||coef||_F^2

with ``S = sum_i s_i``. Shapes: ``X`` is (n_samples, n_features), ``coef`` is
(n_classes, n_features), ``intercept`` is (n_classes,). The intercept is not
penalised. The gradient follows from d(-log softmax(z)[y]) / dz = p - onehot(y)::

    G              = diag(s / S) @ (P - Y)            # (n_samples, n_classes)
    grad_coef      = G.T @ X + alpha * coef           # (n_classes, n_features)
    grad_intercept = G.sum(axis=0)                    # (n_classes,)

Conventions: ``alpha`` is scikit-learn's SGDClassifier L2 strength;
LogisticRegression's ``C`` equals ``1 / (alpha * n_samples)``; the ``reg`` of
Stanford cs231n's softmax assignment equals ``alpha / 2``.
"""

import math

import numpy as np
from scipy import sparse
from sklearn.utils import check_random_state
from sklearn.utils.extmath import safe_sparse_dot

from sksoftmax._compat import array_device, array_namespace

__all__ = [
    "log_softmax",
    "softmax_loss",
    "softmax_loss_naive",
    "check_gradient",
]


def log_softmax(raw_prediction, *, out=None):
    """Row-wise log-softmax, stable for any finite input.

    Parameters
    ----------
    raw_prediction : array of shape (n_samples, n_classes)
        Logits: a numpy array or any array API array.
    out : ndarray of shape (n_samples, n_classes), default=None
        Where to write the result (numpy only); may be ``raw_prediction`` itself.

    Returns
    -------
    log_proba : array of shape (n_samples, n_classes)
        ``raw_prediction - logsumexp(raw_prediction, axis=1)``, same
        namespace and device, and the same dtype for floating-point logits
        (integer ones give the namespace's default floating-point type:
        float64 in numpy, float32 in torch).
    """
    # Subtracting the row max makes every exponent <= 0: exp never overflows,
    # and the largest term is exactly 1, so the sum is in [1, n_classes] and its
    # log never underflows. Written as (z - max) - log(sum exp(z - max)) the
    # result is exact for logits far beyond exp's range (1e4 in float32,
    # 1e300 in float64).
    if not isinstance(raw_prediction, np.ndarray):
        # The array's own namespace, whether or not scikit-learn's array API
        # dispatch is on (with it off, its namespace would be numpy's, whose
        # functions refuse a torch tensor); lists and other array-likes go
        # to numpy.
        try:
            xp = array_namespace(raw_prediction)
        except TypeError:
            raw_prediction = np.asarray(raw_prediction)
        else:
            if not xp.isdtype(raw_prediction.dtype, "real floating"):
                # Integer logits, as numpy's below: the default float type.
                info = xp.__array_namespace_info__()
                floating = info.default_dtypes(device=array_device(raw_prediction))
                raw_prediction = xp.astype(raw_prediction, floating["real floating"])
            shifted = raw_prediction - xp.max(raw_prediction, axis=1, keepdims=True)
            return shifted - xp.log(xp.sum(xp.exp(shifted), axis=1, keepdims=True))
    if raw_prediction.dtype.kind in "biu":
        raw_prediction = raw_prediction.astype(np.float64)  # integer logits
    if out is None:
        out = np.empty_like(raw_prediction)
    row_max = raw_prediction.max(axis=1, keepdims=True)
    np.subtract(raw_prediction, row_max, out=out)
    sum_exp = np.exp(out).sum(axis=1, keepdims=True)
    out -= np.log(sum_exp)
    return out


def _flat_true_class(y, n_samples, samples=None):
    """Flat indices of each sample's true class in class-major logits.

    ``y * n_samples + arange(n_samples)``: 1-D indexing with these costs a
    fraction of 2-D fancy indexing on a small batch.
    """
    true_class = y * n_samples
    true_class += np.arange(n_samples) if samples is None else samples
    return true_class


def _loss_and_logit_gradient(
    logits, y, sample_weight, weight_sum, samples=None, *, true_class=None, fast=False
):
    """Weighted cross-entropy, turning ``logits`` into its gradient, in one pass.

    The hot part of every minibatch step, shared by :func:`softmax_loss` and the
    training loop. Logits are class-major, one column per sample, so that the
    reductions over classes run along the outer axis (several times faster
    for a few classes than along short rows).

    Parameters
    ----------
    logits : C-contiguous ndarray of shape (n_classes, n_samples)
        ``coef @ X.T + intercept``; overwritten with
        ``G.T = (P - Y).T @ diag(s / S)``, the gradient of the (unpenalised)
        loss with respect to the logits.
    y : ndarray of shape (n_samples,), dtype=intp
        Encoded labels (unused when ``true_class`` is given).
    sample_weight : ndarray of shape (n_samples,) or None
        None means unit weights.
    weight_sum : float
        ``S``, the normaliser (the batch's or the whole data set's weight sum).
        Dividing by it (not by n_samples) makes integer weights equivalent to
        repeated samples and zero weights equivalent to removal.
    samples : ndarray of shape (n_samples,), default=None
        ``arange(n_samples)``, when the caller keeps one to reuse.
    true_class : ndarray of shape (n_samples,), default=None
        :func:`_flat_true_class` of the labels, when the caller has it.
    fast : bool, default=False
        Shift each sample's logits by its true class's rather than by their
        maximum: one reduction fewer, and the loss is the log of the sum
        alone. Returns None, with ``logits`` overwritten, where that shift
        leaves a logit beyond ``exp``'s range (a wrong class's logit some 88
        above the true one in float32, 709 in float64) or anything is not
        finite: the caller then computes the logits again and calls this
        with ``fast=False``.

    Returns
    -------
    loss : float or None
        ``1/S * sum_i s_i * (log sum_k exp(z_ik) - z_iy_i)``.
    """
    if not logits.flags.c_contiguous:
        raise ValueError("logits must be C-contiguous: they are updated in place.")
    if true_class is None:
        true_class = _flat_true_class(y, logits.shape[1], samples)
    flat_logits = logits.reshape(-1)  # a view of the contiguous logits
    true_logit = flat_logits.take(true_class)
    # Subtracting a shift from each sample's logits leaves the softmax as it
    # is and keeps exp in range. With the largest logit (the stable path),
    # every exponent is <= 0 and the largest term is exactly 1: exp never
    # overflows and the sum lies in [1, n_classes], so its log never
    # underflows (see log_softmax). With the true class's logit (fast), that
    # class's term is exactly 1, so the sum is >= 1 and its log, the sample's
    # loss, never underflows either; only an overflow (inf, caught below)
    # can go wrong. Both are exact to the rounding of exp and log.
    # (The ufuncs reduce directly: the array methods add a Python layer that
    # costs a third of a reduction this small.)
    if fast:
        logits -= true_logit
    else:
        row_max = np.maximum.reduce(logits, axis=0)
        logits -= row_max
        true_logit -= row_max
    np.exp(logits, out=logits)
    sum_exp = np.add.reduce(logits, axis=0)
    # -log p_y = log(sum_k exp z_k) - z_y, both shifted; then P - Y: the
    # softmax Jacobian collapses to this because sum_k p_k = 1.
    log_sum_exp = np.log(sum_exp)
    if not fast:
        log_sum_exp -= true_logit
    if sample_weight is None:
        loss = float(np.add.reduce(log_sum_exp)) / weight_sum
        row_weight = 1.0 / weight_sum
    else:
        loss = float(log_sum_exp @ sample_weight) / weight_sum
        row_weight = sample_weight / weight_sum
    if fast and not math.isfinite(loss):
        return None
    # The softmax first, then the weights: after the true class's shift a
    # finite sum_exp may be near the largest float, where multiplying it by
    # the weight sum would overflow (and a row's probabilities become 0).
    logits /= sum_exp
    logits *= row_weight
    flat_logits[true_class] -= row_weight
    return loss


def _validate_kernel_input(coef, intercept, X, y, sample_weight):
    """Shared checks of the public kernels: shapes, labels and weights."""
    coef = np.asarray(coef)
    if coef.dtype.kind in "biu":
        coef = coef.astype(np.float64)  # integer weights: a float gradient
    if coef.ndim != 2 or coef.shape[1] != X.shape[1]:
        raise ValueError(
            f"coef must have shape (n_classes, n_features={X.shape[1]}); "
            f"got {coef.shape}."
        )
    n_classes = coef.shape[0]
    if intercept is not None:
        intercept = np.asarray(intercept, dtype=coef.dtype)
        if intercept.shape != (n_classes,):
            raise ValueError(
                f"intercept must have shape (n_classes={n_classes},); "
                f"got {intercept.shape}."
            )
    y = np.asarray(y)
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},); got {y.shape}.")
    if y.dtype.kind not in "biu" and not (
        y.dtype.kind == "f" and np.array_equal(y, np.floor(y))
    ):
        raise ValueError(
            f"y must hold encoded integer labels; got dtype {y.dtype} with "
            "non-integer values (encode labels with LabelEncoder)."
        )
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(
            f"y must hold encoded labels in [0, {n_classes - 1}]; "
            f"got values in [{y.min()}, {y.max()}]."
        )
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=coef.dtype)
        if sample_weight.shape != (X.shape[0],):
            raise ValueError(
                f"sample_weight must have shape ({X.shape[0]},); "
                f"got {sample_weight.shape}."
            )
        if np.any(sample_weight < 0):
            raise ValueError("sample_weight must be non-negative.")
    return coef, intercept, y.astype(np.intp, copy=False), sample_weight


def softmax_loss(coef, intercept, X, y, *, alpha=0.0, sample_weight=None):
    """Softmax cross-entropy loss and its gradient, fully vectorized.

    Computes, in one pass over the raw predictions::

        loss = sum_i s_i * CE(y_i, softmax(x_i @ coef.T + intercept)) / sum_i s_i
               + alpha / 2 * ||coef||_F^2

    Parameters
    ----------
    coef : ndarray of shape (n_classes, n_features)
        Weights, one row per class.
    intercept : ndarray of shape (n_classes,) or None
        Biases (not penalised); None fits no intercept.
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Data; CSR matrices are used as they are.
    y : ndarray of shape (n_samples,)
        Labels encoded as integers ``0 .. n_classes - 1``.
    alpha : float, default=0.0
        L2 strength.
    sample_weight : ndarray of shape (n_samples,), default=None
        Non-negative weights; None means unit weights.

    Returns
    -------
    loss : float
        The objective.
    grad_coef : ndarray of shape (n_classes, n_features)
        Its gradient with respect to ``coef``, in ``coef``'s dtype.
    grad_intercept : ndarray of shape (n_classes,) or None
        Its gradient with respect to ``intercept`` (None when ``intercept`` is).

    See Also
    --------
    softmax_loss_naive : The same quantities computed with explicit loops.
    check_gradient : Compare a gradient with central differences.

    Examples
    --------
    >>> import numpy as np
    >>> from sksoftmax import softmax_loss
    >>> X = np.array([[1.0, 2.0], [3.0, -1.0]])
    >>> coef, intercept = np.zeros((3, 2)), np.zeros(3)
    >>> loss, grad_coef, grad_intercept = softmax_loss(coef, intercept, X, [0, 2])
    >>> round(loss, 6)  # log(3): uniform probabilities over 3 classes
    1.098612
    >>> grad_intercept.round(4).tolist()
    [-0.1667, 0.3333, -0.1667]
    """
    coef, intercept, y, sample_weight = _validate_kernel_input(
        coef, intercept, X, y, sample_weight
    )
    weight_sum = X.shape[0] if sample_weight is None else float(sample_weight.sum())
    # (alpha == 0 must give 0 even when ||coef||^2 overflows.)
    penalty = 0.5 * alpha * float(np.vdot(coef, coef)) if alpha else 0.0
    if weight_sum <= 0:
        # No data carries weight: only the penalty is left.
        grad_intercept = None if intercept is None else np.zeros_like(intercept)
        return penalty, alpha * coef, grad_intercept

    logits = np.asarray(safe_sparse_dot(coef, X.T, dense_output=True))
    logits = np.ascontiguousarray(logits, dtype=coef.dtype)
    if intercept is not None:
        logits += intercept[:, np.newaxis]
    loss = _loss_and_logit_gradient(logits, y, sample_weight, weight_sum)
    gradient = logits  # (n_classes, n_samples)
    grad_coef = np.asarray(safe_sparse_dot(gradient, X, dense_output=True))
    grad_coef = grad_coef.astype(coef.dtype, copy=False)
    if alpha:
        grad_coef += alpha * coef
    grad_intercept = None if intercept is None else gradient.sum(axis=1)
    return loss + penalty, grad_coef, grad_intercept


def softmax_loss_naive(coef, intercept, X, y, *, alpha=0.0, sample_weight=None):
    """Softmax loss and gradient with explicit loops: the reference for tests.

    The same objective and return values as :func:`softmax_loss`, written
    sample by sample and class by class as in Stanford cs231n's softmax
    assignment. Slow; use it to check the vectorized kernel, not to train.

    Parameters
    ----------
    coef : ndarray of shape (n_classes, n_features)
    intercept : ndarray of shape (n_classes,) or None
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    alpha : float, default=0.0
    sample_weight : ndarray of shape (n_samples,), default=None

    Returns
    -------
    loss : float
    grad_coef : ndarray of shape (n_classes, n_features)
    grad_intercept : ndarray of shape (n_classes,) or None
    """
    coef, intercept, y, sample_weight = _validate_kernel_input(
        coef, intercept, X, y, sample_weight
    )
    if sparse.issparse(X):
        X = X.toarray()
    X = np.asarray(X, dtype=coef.dtype)
    n_samples, n_features = X.shape
    n_classes = coef.shape[0]
    if sample_weight is None:
        sample_weight = np.ones(n_samples)
    weight_sum = float(np.sum(sample_weight))

    loss = 0.0
    grad_coef = np.zeros(coef.shape, dtype=np.float64)
    grad_intercept = np.zeros(n_classes, dtype=np.float64)
    for i in range(n_samples):
        if weight_sum <= 0:
            break
        scores = [
            float(np.dot(coef[k].astype(np.float64), X[i].astype(np.float64)))
            + (0.0 if intercept is None else float(intercept[k]))
            for k in range(n_classes)
        ]
        shift = max(scores)
        exp_scores = [np.exp(score - shift) for score in scores]
        total = sum(exp_scores)
        loss -= sample_weight[i] * (scores[y[i]] - shift - np.log(total))
        for k in range(n_classes):
            p_k = exp_scores[k] / total
            d_k = sample_weight[i] * (p_k - (k == y[i])) / weight_sum
            for j in range(n_features):
                grad_coef[k, j] += d_k * X[i, j]
            grad_intercept[k] += d_k
    if weight_sum > 0:
        loss /= weight_sum
    for k in range(n_classes):
        for j in range(n_features):
            loss += 0.5 * alpha * float(coef[k, j]) ** 2
            grad_coef[k, j] += alpha * coef[k, j]
    return (
        float(loss),
        grad_coef.astype(coef.dtype),
        None if intercept is None else grad_intercept.astype(coef.dtype),
    )


def check_gradient(
    f, x, grad, *, epsilon=1e-6, n_checks=None, random_state=None, verbose=False
):
    """Compare an analytic gradient with central finite differences.

    For each checked entry ``j``::

        numerical_j = (f(x + h e_j) - f(x - h e_j)) / (2 h)
        rel_error_j = |numerical_j - grad_j| / max(|numerical_j| + |grad_j|, tiny)

    Parameters
    ----------
    f : callable
        ``f(x) -> float``: the scalar function of an array ``x``.
    x : ndarray
        Where to check; not modified (a float64 copy is perturbed).
    grad : ndarray of the same shape as ``x``
        The analytic gradient of ``f`` at ``x``.
    epsilon : float, default=1e-6
        The step ``h``.
    n_checks : int, default=None
        Check this many entries drawn at random (as cs231n's
        ``grad_check_sparse``); None checks every entry.
    random_state : int, RandomState instance or None, default=None
        Draws the entries when ``n_checks`` is set.
    verbose : bool, default=False
        Print one line per checked entry.

    Returns
    -------
    rel_error : ndarray of the same shape as ``x``
        The relative error of each checked entry, NaN where not checked.

    Examples
    --------
    >>> import numpy as np
    >>> from sksoftmax import check_gradient, softmax_loss
    >>> rng = np.random.RandomState(0)
    >>> X, y = rng.randn(20, 4), rng.randint(0, 3, 20)
    >>> coef = 0.1 * rng.randn(3, 4)
    >>> _, grad, _ = softmax_loss(coef, None, X, y, alpha=0.1)
    >>> f = lambda W: softmax_loss(W, None, X, y, alpha=0.1)[0]
    >>> bool(check_gradient(f, coef, grad).max() < 1e-6)
    True
    """
    # A C-ordered copy, so that its flat view below perturbs x itself (the
    # flat reshape of a Fortran-ordered x, as coef_ is, would be a copy).
    x = np.array(x, dtype=np.float64, order="C")
    grad = np.asarray(grad, dtype=np.float64)
    if grad.shape != x.shape:
        raise ValueError(f"grad must have the shape of x {x.shape}; got {grad.shape}.")
    rel_error = np.full(x.shape, np.nan)
    flat_x, flat_grad, flat_error = (
        x.reshape(-1),
        grad.reshape(-1),
        rel_error.reshape(-1),
    )
    if n_checks is None:
        entries = range(flat_x.size)
    else:
        rng = check_random_state(random_state)
        entries = rng.choice(
            flat_x.size, size=min(n_checks, flat_x.size), replace=False
        )
    for j in entries:
        saved = flat_x[j]
        flat_x[j] = saved + epsilon
        f_plus = float(f(x))
        flat_x[j] = saved - epsilon
        f_minus = float(f(x))
        flat_x[j] = saved
        numerical = (f_plus - f_minus) / (2 * epsilon)
        denominator = max(abs(numerical) + abs(flat_grad[j]), np.finfo(np.float64).tiny)
        flat_error[j] = abs(numerical - flat_grad[j]) / denominator
        if verbose:
            print(
                f"entry {j}: numerical {numerical:.6g} analytic {flat_grad[j]:.6g} "
                f"relative error {flat_error[j]:.3g}"
            )
    return rel_error
