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
from sklearn.utils._array_api import get_namespace_and_device
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


class MinibatchGradient:
    """Loss and gradient of minibatches of one data set, in preallocated buffers.

    The training loop's view of the kernel: ``gradient(rows, coef, intercept)``
    gathers the rows (a slice is used in place, an index array is copied into
    a buffer of ``batch_size`` rows, never the whole X), computes the logits
    with one BLAS product, turns them into ``G = diag(s / S_batch) (P - Y)``
    in place, and forms ``G.T @ X_batch``. Only the data term: penalties are
    the optimizer's.

    Parameters
    ----------
    X : {ndarray, CSR matrix} of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,), dtype=intp
        Encoded labels.
    sample_weight : ndarray of shape (n_samples,) or None
        None for unit weights (skips the weighting).
    n_classes : int
    batch_size : int
    fit_intercept : bool
    """

    loss_on_device = False  # batch losses are Python floats
    full_gradient = True  # forms (n_classes, n_features) gradients
    # The training rows' mean weight (set by the training loop): a weighted
    # batch's gradient is divided by its rows times it, not by its own
    # weight sum. See _batch_normaliser.
    mean_weight = 1.0

    def __init__(self, X, y, sample_weight, n_classes, batch_size, fit_intercept):
        self.X, self.y, self.sample_weight = X, y, sample_weight
        self.batch_size = batch_size
        self.labels = y  # encoded labels as numpy, for bookkeeping
        self.fit_intercept = fit_intercept
        self.dense = not sparse.issparse(X)
        n_features = X.shape[1]
        self.X_buffer = (
            np.empty((batch_size, n_features), dtype=X.dtype) if self.dense else None
        )
        self.logit_buffer = np.empty((n_classes, batch_size), dtype=X.dtype)
        # Column-major, as the training loop keeps coef (see __call__).
        self.grad_coef = (
            np.empty((n_classes, n_features), dtype=X.dtype, order="F")
            if self.full_gradient
            else None
        )
        self.grad_intercept = np.empty(n_classes, dtype=X.dtype)
        self.arange = np.arange(batch_size)
        self.ones = np.ones(batch_size, dtype=X.dtype)

    def logits(self, n_rows):
        """The logit buffer for ``n_rows`` samples: its first entries, contiguous."""
        n_classes, batch_size = self.logit_buffer.shape
        if n_rows == batch_size:
            return self.logit_buffer
        return self.logit_buffer.reshape(-1)[: n_classes * n_rows].reshape(
            n_classes, n_rows
        )

    def move_indices(self, rows):
        """Row indices as :meth:`gather` takes them (numpy: unchanged)."""
        return rows

    def labels_and_weights(self, rows):
        """The rows' labels, weights (None for unit weights) and weight sum."""
        y = self.y[rows]
        if self.sample_weight is None:
            return y, None, float(len(y))
        weight = self.sample_weight[rows]
        return y, weight, float(weight.sum())

    def gather(self, rows):
        """The rows of X: a view for a slice, else a copy into the buffer."""
        if isinstance(rows, slice):
            return self.X[rows]
        if self.dense:
            # mode="clip" writes straight into the buffer (the default mode
            # buffers the output); the rows are valid indices by construction.
            out = self.X_buffer
            if len(rows) < len(out):
                out = out[: len(rows)]
            return self.X.take(rows, axis=0, out=out, mode="clip")
        return self.X[rows]

    def __call__(
        self, rows, coef, intercept, X_batch=None, true_class=None, weights=None
    ):
        """Loss and gradients of the rows ``rows``.

        ``X_batch`` and ``true_class``, if given, hold those rows of X already
        gathered and :func:`_flat_true_class` of their labels (see
        :class:`sksoftmax._prefetch.RowPrefetcher`).

        ``weights``, if given, is the column-major (n_classes, n_features + 1)
        array whose first columns are ``coef`` and whose last is
        ``intercept``, and ``X_batch`` then ends with a column of ones: the
        intercept joins both products (no separate add, no separate sum for
        its gradient), and the gradients are the two parts of one such
        array.

        Returns
        -------
        loss : float
            Weighted mean cross-entropy of the batch (NaN or inf if diverged).
        weight_sum : float
            The batch's weight sum; 0 means the batch carries no gradient and
            the other outputs are not computed (loss 0).
        grads : list of ndarray
            ``[grad_coef]`` or ``[grad_coef, grad_intercept]`` (buffers,
            overwritten by the next call).
        """
        if true_class is None or self.sample_weight is not None:
            y, weight, weight_sum = self.labels_and_weights(rows)
            n_rows = len(y)
            if weight_sum <= 0:
                return 0.0, 0.0, None  # zero-weight rows carry no gradient
            if true_class is None:
                true_class = _flat_true_class(y, n_rows, self.arange[:n_rows])
        else:
            n_rows = len(true_class)
            weight, weight_sum = None, float(n_rows)
        if X_batch is None:
            X_batch = self.gather(rows)
        logits = self.logits(n_rows)
        self.raw_logits(X_batch, coef, intercept, logits, weights)
        normaliser = _batch_normaliser(weight, weight_sum, n_rows, self.mean_weight)
        # The fast shift first; the stable one where it overflows (rare: a
        # wrong class far above the true one, or diverged weights).
        loss = _loss_and_logit_gradient(
            logits, None, weight, normaliser, true_class=true_class, fast=True
        )
        if loss is None:
            self.raw_logits(X_batch, coef, intercept, logits, weights)
            loss = _loss_and_logit_gradient(
                logits, None, weight, normaliser, true_class=true_class
            )
        if weight is not None:
            loss *= normaliser / weight_sum  # the batch's weighted mean loss
        if weights is not None:
            grad = self.joint_gradient(weights)
            np.matmul(X_batch.T, logits.T, out=grad.T)
            return loss, weight_sum, self.joint_grads
        if self.dense:
            # coef and its gradient are column-major (coef.T contiguous): for
            # a few classes BLAS runs these products about twice as fast as
            # with row-major weights, and the update adds like to like.
            np.matmul(X_batch.T, logits.T, out=self.grad_coef.T)
        else:
            self.grad_coef[...] = logits @ X_batch
        if intercept is None:
            return loss, weight_sum, [self.grad_coef]
        np.matmul(logits, self.ones[:n_rows], out=self.grad_intercept)
        return loss, weight_sum, [self.grad_coef, self.grad_intercept]

    def raw_logits(self, X_batch, coef, intercept, out, weights=None):
        """``coef @ X_batch.T + intercept[:, None]``, class-major, into ``out``
        (``weights @ X_batch.T`` for joint weights and rows ending in ones)."""
        if weights is not None:
            np.matmul(weights, X_batch.T, out=out)
            return
        if self.dense:
            np.matmul(coef, X_batch.T, out=out)
        else:
            out[...] = coef @ X_batch.T
        if intercept is not None:
            out += intercept[:, np.newaxis]

    def joint_gradient(self, weights):
        """The gradient buffer shaped as the joint ``weights`` (made once), and
        its two parts in ``self.joint_grads``."""
        buffer = getattr(self, "joint_buffer", None)
        if buffer is None or buffer.shape != weights.shape:
            buffer = np.empty(weights.shape, dtype=weights.dtype, order="F")
            self.joint_buffer = buffer
            self.joint_grads = [buffer[:, :-1], buffer[:, -1]]
        return buffer


class ArrayAPIMinibatchGradient:
    """:class:`MinibatchGradient` for any array API namespace and device.

    The same quantities, written with the namespace's functions only (the
    label indicator is a one-hot product rather than fancy indexing), so that
    the whole training loop runs where ``X`` lives, a GPU included. Row
    indices given as numpy arrays are moved to the device by
    :meth:`move_indices`, once per epoch.

    The batch loss is returned as a 0-d array on the device, not a Python
    float: reading it would wait for the device at every step. The training
    loop sums it there and reads the epoch's total once. (With sample
    weights, each batch's weight sum is still read, to skip weightless
    batches.)
    """

    loss_on_device = True
    mean_weight = 1.0  # as MinibatchGradient's

    def __init__(self, X, y, sample_weight, n_classes, batch_size, fit_intercept):
        xp, _, device = get_namespace_and_device(X)
        self.xp, self.device, self.X = xp, device, X
        self.batch_size = batch_size
        self.labels = y  # encoded labels as numpy, for bookkeeping
        self.y = xp.asarray(y, device=device)
        self.sample_weight = (
            None
            if sample_weight is None
            else xp.asarray(sample_weight, dtype=X.dtype, device=device)
        )
        self.class_range = xp.arange(n_classes, device=device)
        self.fit_intercept = fit_intercept

    def move_indices(self, rows):
        """Row indices on the device, for :meth:`gather` and ``__call__``."""
        return self.xp.asarray(rows, device=self.device)

    def gather(self, rows):
        """The rows of X: a view for a slice, else a gathered copy."""
        if isinstance(rows, slice):
            return self.X[rows, ...]
        return self.xp.take(self.X, rows, axis=0)

    def one_hot(self, rows):
        y = self.y[rows] if isinstance(rows, slice) else self.xp.take(self.y, rows)
        return self.xp.astype(y[:, None] == self.class_range[None, :], self.X.dtype)

    def batch_weight(self, rows):
        if self.sample_weight is None:
            return None
        if isinstance(rows, slice):
            return self.sample_weight[rows]
        return self.xp.take(self.sample_weight, rows)

    def __call__(self, rows, coef, intercept):
        xp = self.xp
        X_batch = self.gather(rows)
        weight = self.batch_weight(rows)
        weight_sum = (
            float(X_batch.shape[0]) if weight is None else float(xp.sum(weight))
        )
        if weight_sum <= 0:
            return 0.0, 0.0, None
        raw = X_batch @ coef.T
        if intercept is not None:
            raw = raw + intercept
        log_proba = log_softmax(raw)
        one_hot = self.one_hot(rows)
        n_rows = X_batch.shape[0]
        normaliser = _batch_normaliser(weight, weight_sum, n_rows, self.mean_weight)
        scale = 1.0 / weight_sum if weight is None else weight[:, None] / normaliser
        # G = diag(s / N) (P - Y), as in _loss_and_logit_gradient.
        gradient = (xp.exp(log_proba) - one_hot) * scale
        loss = -xp.sum(log_proba * one_hot * scale)
        if weight is not None:
            loss = loss * (normaliser / weight_sum)  # the weighted mean
        grads = [gradient.T @ X_batch]
        if intercept is not None:
            grads.append(xp.sum(gradient, axis=0))
        return loss, weight_sum, grads


def _batch_normaliser(weight, weight_sum, n_rows, mean_weight):
    """What a minibatch's weighted loss and gradient are divided by.

    Unweighted, the batch's size. Weighted, its size times the training
    rows' mean weight, ``b * S / n``, rather than its own weight sum: then
    ``sum_i s_i grad_i / (b S / n)`` is an unbiased estimate of the
    gradient of the objective ``sum_i s_i loss_i / S``, and an epoch's
    steps add up to it. Divided by its own weight sum, each batch took a
    full step whatever its weight: a batch of one row ignored the weight
    altogether (a fit with ``batch_size=1`` was the unweighted one), and
    small batches leant towards the unweighted fit.
    """
    if weight is None:
        return weight_sum
    return n_rows * mean_weight


def put_rows(array, rows, values):
    """``array[rows] = values`` for a C-contiguous 2-D ``array``, row by row.

    Each row is put as one opaque item (a view of ``n_columns`` numbers as one
    ``np.void``): ``np.put`` then moves whole rows, about twice as fast as 2-D
    fancy assignment, which goes element by element. ``rows`` must be valid,
    non-negative row indices (``mode="clip"`` does not check them; the
    callers' come from the data's own column indices).
    """
    if not (
        array.flags.c_contiguous
        and values.flags.c_contiguous
        and values.dtype == array.dtype  # else the bytes would be reinterpreted
        and values.shape == (len(rows), array.shape[1])
    ):
        array[rows] = values
        return
    row_item = np.dtype((np.void, array.shape[1] * array.itemsize))
    np.put(
        array.view(row_item).reshape(-1),
        rows,
        values.view(row_item).reshape(-1),
        mode="clip",
    )


class SparseMinibatchGradient(MinibatchGradient):
    """:class:`MinibatchGradient` for CSR data, on the columns a batch touches.

    A batch of high-dimensional sparse rows touches a few thousand of maybe
    millions of columns. The batch is re-indexed onto those columns only, so
    the logits use ``coef[:, columns]`` and the gradient is the dense
    ``(n_classes, len(columns))`` block ``G.T @ X_batch[:, columns]``: never an
    ``(n_classes, n_features)`` array per batch.
    """

    full_gradient = False

    def __init__(self, X, y, sample_weight, n_classes, batch_size, fit_intercept):
        super().__init__(X, y, sample_weight, n_classes, batch_size, fit_intercept)
        # Per-column scratch: a column's position among the batch's columns
        # (entries of columns the batch does not touch are stale).
        self.position = np.zeros(X.shape[1], dtype=X.indices.dtype)
        # The touched weight rows, coef.T[columns], grown to the largest batch.
        self.row_buffer = np.empty((0, n_classes), dtype=X.dtype)

    def coef_rows(self, coef, columns):
        """A copy of ``coef.T[columns]``, in a reused buffer."""
        n_columns = len(columns)
        if self.row_buffer.shape[0] < n_columns or self.row_buffer.dtype != coef.dtype:
            # A quarter to spare, so that slightly larger batches fit too.
            n_rows = min(n_columns + n_columns // 4, coef.shape[1])
            self.row_buffer = np.empty((n_rows, coef.shape[0]), dtype=coef.dtype)
        # take(..., mode="clip") writes straight into the buffer; the columns
        # are valid by construction.
        return np.take(
            coef.T, columns, axis=0, out=self.row_buffer[:n_columns], mode="clip"
        )

    def batch_rows(self, rows):
        """``X[rows]`` as (data, indices, indptr), gathered with numpy.

        The same as scipy's row indexing, without its per-call overhead
        (about 1 ms, which dominated small batches).
        """
        X = self.X
        if isinstance(rows, slice):
            start, stop = X.indptr[rows.start], X.indptr[rows.stop]
            return (
                X.data[start:stop],
                X.indices[start:stop],
                X.indptr[rows.start : rows.stop + 1] - start,
            )
        starts, stops = X.indptr[rows], X.indptr[rows + 1]
        lengths = stops - starts
        indptr = np.zeros(len(rows) + 1, dtype=X.indptr.dtype)
        np.cumsum(lengths, out=indptr[1:])
        # Entry j of the batch is entry starts[i] + (j - indptr[i]) of X.
        positions = np.arange(indptr[-1], dtype=X.indptr.dtype)
        positions += np.repeat(starts - indptr[:-1], lengths)
        # take: about half the time of fancy indexing for these 1-D gathers.
        return X.data.take(positions), X.indices.take(positions), indptr

    def select(self, rows):
        """The batch re-indexed onto its columns, or None if it has no weight.

        Returns
        -------
        batch : tuple or None
            ``(compact, columns, y, weight, weight_sum)``: the CSR batch over
            ``len(columns)`` columns, the columns it covers, its labels and
            weights (None for unit weights) and their sum.
        """
        y, weight, weight_sum = self.labels_and_weights(rows)
        if weight_sum <= 0:
            return None
        n_rows = len(y)
        data, indices, indptr = self.batch_rows(rows)
        # The touched columns, and each entry's position among them, in
        # O(nnz) (np.unique sorts; a marker array scans all columns): after
        # position[indices] = j, each column's last entry j finds itself.
        entries = np.arange(len(indices), dtype=self.position.dtype)
        self.position[indices] = entries
        columns = indices[self.position[indices] == entries]
        self.position[columns] = np.arange(len(columns), dtype=self.position.dtype)
        compact = sparse.csr_matrix(
            (data, self.position[indices], indptr), shape=(n_rows, len(columns))
        )
        return compact, columns, y, weight, weight_sum

    def __call__(self, batch, coef, intercept, scale=1.0):
        """Loss and gradient blocks of a :meth:`select`-ed batch.

        ``scale * coef`` are the weights (see the lazy sparse updates of the
        estimator).

        Returns
        -------
        loss : float
        grads : list of ndarray
            ``[grad_rows]`` of shape (n_columns, n_classes): the gradient of
            ``coef.T[columns]``, then the intercept's gradient when fitted.
        coef_rows : ndarray of shape (n_columns, n_classes)
            A copy of ``coef.T[columns]`` (unscaled), in a buffer the next call
            reuses: the update changes it and writes it back, rather than
            gathering the rows again.
        """
        compact, columns, y, weight, weight_sum = batch
        n_rows = len(y)
        # coef is column-major, so coef.T[columns] gathers whole contiguous
        # rows of n_classes weights (fast), where coef[:, columns] would not.
        coef_rows = self.coef_rows(coef, columns)
        logits = self.logits(n_rows)
        logits[...] = (compact @ coef_rows).T
        if scale != 1.0:
            logits *= scale  # (scale * coef) @ x, scaling the smaller array
        if intercept is not None:
            logits += intercept[:, np.newaxis]
        normaliser = _batch_normaliser(weight, weight_sum, n_rows, self.mean_weight)
        loss = _loss_and_logit_gradient(
            logits, y, weight, normaliser, self.arange[:n_rows]
        )
        if weight is not None:
            loss *= normaliser / weight_sum  # the batch's weighted mean loss
        grads = [np.asarray(compact.T @ logits.T, dtype=coef.dtype)]
        if intercept is not None:
            grads.append(logits @ self.ones[:n_rows])
        return loss, grads, coef_rows
