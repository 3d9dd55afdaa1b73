r"""Training: losses, optimizers, gradient clipping, finite-difference checks, a fit loop.

Nothing here knows a specific net: the fit loop calls ``net.bptt`` (DESIGN.md §2).

Losses
------
Every loss is a *mean* over its scored terms by default (``reduction="mean"``), or a sum
(``reduction="sum"``). A "term" is one output element for the element-wise losses and one
output *vector* (one step of one sequence) for cross-entropy. No factor 1/2: MSE of a single
output is ``(y - t)^2``, the convention of worked example Wg (SCENARIOS.md) [computed].

* MSE            ``L = mean (y - t)^2``                       ``dL/dy = 2 (y - t) / n``
* MAE            ``L = mean |y - t|``                         ``dL/dy = sign(y - t) / n``
* BCE            ``L = mean -[t log y + (1 - t) log(1 - y)]`` ``dL/dy = (y - t) / (y (1 - y)) / n``
* cross-entropy  ``L = mean_rows -sum_k t_k log y_k``         ``dL/dy_k = -t_k / y_k / n_rows``

(n = number of terms). On a net's output layer ``y = g(z)`` the losses are applied by
:func:`output_loss`, which returns ``dL/dz``. Two pairs are fused, computed from the logits
``z`` without forming ``log y``: BCE with a sigmoid output
(``L = mean softplus(z) - t z``, ``dL/dz = (sigmoid(z) - t) / n``) and cross-entropy with a
softmax output (``L = mean_rows logsumexp(z) - t . z`` for targets summing to one,
``dL/dz = (softmax(z) - t) / n_rows``). Those two losses require those outputs; MSE and MAE
work with any output (identity, sigmoid, softmax: the chain rule through g).

Optimizers (the standard forms, as in Ruder 2016, "An overview of gradient descent
optimization algorithms", arXiv:1609.04747; g is the gradient at the parameters held)
-----------------------------------------------------------------------------------------
* SGD        ``theta <- theta - eta g``
* momentum   ``v <- gamma v + eta g;  theta <- theta - v``
* Nesterov   ``v <- gamma v + eta grad f(theta - gamma v);  theta <- theta - v``.
  The gradient is taken at the look-ahead point, so the optimizer holds
  ``phi = theta - gamma v`` (what :meth:`Optimizer.step` returns and the caller
  differentiates at) and updates ``v <- gamma v + eta g(phi); phi <- phi - gamma v - eta g(phi)``,
  an exact rewriting (Sutskever et al. 2013; PyTorch's form). ``theta = phi + gamma v``
  is :meth:`Nesterov.theta`; the two coincide when v = 0 (at a minimum).
* Adagrad    ``G <- G + g^2;  theta <- theta - eta g / sqrt(G + eps)``
* RMSprop    ``E <- rho E + (1 - rho) g^2;  theta <- theta - eta g / sqrt(E + eps)``
* Adam       ``m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
  m_hat = m / (1 - b1^k);  v_hat = v / (1 - b2^k);  theta <- theta - eta m_hat / (sqrt(v_hat) + eps)``
  (k = 1, 2, ... the update count; Kingma & Ba 2015).

Squares and roots are element-wise. Gradient clipping: :func:`clip_by_norm` rescales all
gradient arrays together when their joint L2 norm exceeds ``max_norm`` (Pascanu et al.
2013); :func:`clip_by_value` clips every element to ``[-c, c]``.

Worked example Wd (SCENARIOS.md) [computed]: SGD on f(x) = x^2 - 2 from x0 = 3 with
eta = 0.4 gives x_{k+1} = 0.2 x_k: 0.6, 0.12, 0.024, 0.0048, 0.00096.
"""
from __future__ import annotations

import abc
from typing import Any, Callable, NamedTuple

import numpy as np

__all__ = [
    "LOSSES", "OUTPUTS", "Loss", "get_loss", "output_loss",
    "Optimizer", "SGD", "Momentum", "Nesterov", "Adagrad", "RMSprop", "Adam", "OPTIMIZERS", "get_optimizer",
    "clip_by_norm", "clip_by_value", "global_norm",
    "numerical_gradient", "rel_error", "gradcheck",
    "FitResult", "fit",
]

OUTPUTS = ("identity", "sigmoid", "softmax")
_REDUCTIONS = ("mean", "sum")


# --- losses ----------------------------------------------------------------------------
class Loss(abc.ABC):
    """A loss on outputs ``y`` and targets ``t`` of the same shape (..., K)."""

    name: str = ""
    #: whether a term is one output vector (last axis) rather than one element
    per_row: bool = False

    def _n(self, y: np.ndarray, reduction: str) -> float:
        if reduction not in _REDUCTIONS:
            raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")
        if reduction == "sum":
            return 1.0
        n = y.size // y.shape[-1] if self.per_row else y.size
        return float(max(n, 1))

    @abc.abstractmethod
    def terms(self, y, t) -> np.ndarray:
        """Per-element (or per-row) loss terms."""

    @abc.abstractmethod
    def dterms(self, y, t) -> np.ndarray:
        """Derivatives of the terms with respect to y."""

    def value(self, y, t, reduction: str = "mean") -> float:
        """The loss (a float)."""
        y, t = _pair(y, t)
        return float(np.sum(self.terms(y, t)) / self._n(y, reduction))

    def grad(self, y, t, reduction: str = "mean") -> np.ndarray:
        """dL/dy, same shape as y."""
        y, t = _pair(y, t)
        return self.dterms(y, t) / self._n(y, reduction)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _pair(y, t):
    y = np.asarray(y, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    if y.shape != t.shape:
        raise ValueError(f"outputs {y.shape} and targets {t.shape} differ in shape")
    if y.ndim == 0:
        y, t = y[None], t[None]
    return y, t


class MSE(Loss):
    name = "mse"

    def terms(self, y, t):
        return (y - t) ** 2

    def dterms(self, y, t):
        return 2.0 * (y - t)


class MAE(Loss):
    name = "mae"

    def terms(self, y, t):
        return np.abs(y - t)

    def dterms(self, y, t):
        return np.sign(y - t)


class BCE(Loss):
    name = "bce"

    def terms(self, y, t):
        return -(t * np.log(y) + (1.0 - t) * np.log1p(-y))

    def dterms(self, y, t):
        return (y - t) / (y * (1.0 - y))


class CrossEntropy(Loss):
    name = "cross_entropy"
    per_row = True

    def terms(self, y, t):
        return -np.sum(t * np.log(y), axis=-1)

    def dterms(self, y, t):
        return -t / y


LOSSES: dict[str, Loss] = {c.name: c() for c in (MSE, MAE, BCE, CrossEntropy)}


def get_loss(loss: str | Loss) -> Loss:
    """The loss called ``loss`` (or ``loss`` itself)."""
    if isinstance(loss, Loss):
        return loss
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; expected one of {', '.join(LOSSES)}")
    return LOSSES[loss]


def _softplus(z):
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def output_loss(loss: str | Loss, output: str, z, t, *, reduction: str = "mean") -> tuple[float, np.ndarray]:
    """Loss of ``y = g(z)`` against ``t`` and its gradient with respect to the logits ``z``.

    Parameters
    ----------
    loss : str or Loss
    output : {"identity", "sigmoid", "softmax"}
        The output nonlinearity g (softmax over the last axis).
    z : ndarray (..., K)
        Output pre-activations.
    t : ndarray (..., K)
        Targets (one-hot or probability rows for cross-entropy, in [0, 1] for BCE).

    Returns
    -------
    value : float
    dz : ndarray (..., K)
    """
    from nets.activations import sigmoid, softmax  # nets depends on sim, not the reverse at import
    L = get_loss(loss)
    z, t = _pair(z, t)
    if output not in OUTPUTS:
        raise ValueError(f"unknown output {output!r}; expected one of {', '.join(OUTPUTS)}")
    n = L._n(z, reduction)
    if L.name == "bce":
        if output != "sigmoid":
            raise ValueError("the BCE loss needs a sigmoid output (fused with it on the logits)")
        return float(np.sum(_softplus(z) - t * z) / n), (sigmoid(z) - t) / n
    if L.name == "cross_entropy":
        if output != "softmax":
            raise ValueError("the cross-entropy loss needs a softmax output (fused with it on the logits)")
        zmax = np.max(z, axis=-1, keepdims=True)
        lse = zmax[..., 0] + np.log(np.sum(np.exp(z - zmax), axis=-1))
        value = np.sum(lse * np.sum(t, axis=-1) - np.sum(t * z, axis=-1)) / n
        return float(value), (softmax(z) * np.sum(t, axis=-1, keepdims=True) - t) / n
    if output == "identity":
        return L.value(z, t, reduction), L.grad(z, t, reduction)
    y = sigmoid(z) if output == "sigmoid" else softmax(z)
    gy = L.grad(y, t, reduction)
    if output == "sigmoid":
        return L.value(y, t, reduction), gy * y * (1.0 - y)
    return L.value(y, t, reduction), y * (gy - np.sum(y * gy, axis=-1, keepdims=True))


# --- optimizers ------------------------------------------------------------------------
def _arrays(params) -> list[np.ndarray]:
    if isinstance(params, np.ndarray):
        return [params]
    return [np.asarray(p, dtype=np.float64) for p in params]


def _rebuild(like, arrays: list[np.ndarray]):
    if isinstance(like, np.ndarray):
        return arrays[0]
    if hasattr(like, "_fields"):
        return type(like)(*arrays)
    return type(like)(arrays)


class Optimizer(abc.ABC):
    """Base class: ``new_params = opt.step(params, grads)``; never modifies its inputs.

    ``params`` and ``grads`` are matching sequences of arrays (a NamedTuple, a tuple or a
    list), or one array; the result has the type of ``params``. The optimizer keeps its
    state (velocities, moment estimates) per position, so always pass the same structure.
    """

    def __init__(self, lr: float):
        if not lr > 0:
            raise ValueError(f"learning rate must be > 0, got {lr}")
        self.lr = float(lr)
        self.n_steps = 0
        self._state: list[dict[str, np.ndarray]] | None = None

    def step(self, params, grads):
        ps, gs = _arrays(params), _arrays(grads)
        if len(ps) != len(gs) or any(p.shape != g.shape for p, g in zip(ps, gs)):
            raise ValueError("params and grads must be arrays of matching shapes")
        if self._state is None:
            self._state = [{} for _ in ps]
        elif len(self._state) != len(ps):
            raise ValueError("the parameter structure changed between steps")
        self.n_steps += 1
        return _rebuild(params, [self._update(p, g, s) for p, g, s in zip(ps, gs, self._state)])

    @abc.abstractmethod
    def _update(self, p, g, s):
        """The new value of parameter array p from its gradient g and its state dict s."""

    def __repr__(self) -> str:
        kw = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_") and k != "n_steps")
        return f"{type(self).__name__}({kw})"


class SGD(Optimizer):
    """``theta <- theta - lr g``."""

    def _update(self, p, g, s):
        return p - self.lr * g


class Momentum(Optimizer):
    """``v <- gamma v + lr g;  theta <- theta - v``."""

    def __init__(self, lr: float, gamma: float = 0.9):
        super().__init__(lr)
        self.gamma = float(gamma)

    def _update(self, p, g, s):
        v = self.gamma * s.get("v", 0.0) + self.lr * g
        s["v"] = v
        return p - v


class Nesterov(Momentum):
    """Nesterov momentum; returns the look-ahead point ``phi = theta - gamma v``."""

    def _update(self, p, g, s):
        v = self.gamma * s.get("v", 0.0) + self.lr * g
        s["v"] = v
        return p - self.gamma * v - self.lr * g

    def theta(self, params):
        """The Nesterov iterate ``theta = phi + gamma v`` for the look-ahead ``params``."""
        ps = _arrays(params)
        if self._state is None:
            return params
        return _rebuild(params, [p + self.gamma * s.get("v", 0.0) for p, s in zip(ps, self._state)])


class Adagrad(Optimizer):
    """``G <- G + g^2;  theta <- theta - lr g / sqrt(G + eps)``."""

    def __init__(self, lr: float, eps: float = 1e-8):
        super().__init__(lr)
        self.eps = float(eps)

    def _update(self, p, g, s):
        G = s.get("G", 0.0) + g * g
        s["G"] = G
        return p - self.lr * g / np.sqrt(G + self.eps)


class RMSprop(Optimizer):
    """``E <- rho E + (1 - rho) g^2;  theta <- theta - lr g / sqrt(E + eps)``."""

    def __init__(self, lr: float, rho: float = 0.9, eps: float = 1e-8):
        super().__init__(lr)
        self.rho, self.eps = float(rho), float(eps)

    def _update(self, p, g, s):
        E = self.rho * s.get("E", 0.0) + (1.0 - self.rho) * g * g
        s["E"] = E
        return p - self.lr * g / np.sqrt(E + self.eps)


class Adam(Optimizer):
    """Adam with bias-corrected moments (Kingma & Ba 2015)."""

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        super().__init__(lr)
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)

    def _update(self, p, g, s):
        m = self.beta1 * s.get("m", 0.0) + (1.0 - self.beta1) * g
        v = self.beta2 * s.get("v", 0.0) + (1.0 - self.beta2) * g * g
        s["m"], s["v"] = m, v
        k = self.n_steps
        m_hat = m / (1.0 - self.beta1 ** k)
        v_hat = v / (1.0 - self.beta2 ** k)
        return p - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD, "momentum": Momentum, "nesterov": Nesterov, "adagrad": Adagrad, "rmsprop": RMSprop, "adam": Adam,
}


def get_optimizer(name: str, **kwargs) -> Optimizer:
    """A new optimizer ``name`` built with ``kwargs`` (``lr`` and its own constants)."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; expected one of {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[name](**kwargs)


# --- clipping --------------------------------------------------------------------------
def global_norm(grads) -> float:
    """Joint L2 norm of a sequence of arrays."""
    return float(np.sqrt(sum(float(np.sum(g * g)) for g in _arrays(grads))))


def clip_by_norm(grads, max_norm: float):
    """Rescale all arrays by ``max_norm / norm`` when their joint norm exceeds ``max_norm``."""
    if not max_norm > 0:
        raise ValueError(f"max_norm must be > 0, got {max_norm}")
    norm = global_norm(grads)
    if norm <= max_norm:
        return grads
    scale = max_norm / norm
    return _rebuild(grads, [g * scale for g in _arrays(grads)])


def clip_by_value(grads, clip: float):
    """Clip every element to ``[-clip, clip]``."""
    if not clip > 0:
        raise ValueError(f"clip must be > 0, got {clip}")
    return _rebuild(grads, [np.clip(g, -clip, clip) for g in _arrays(grads)])


# --- finite differences ----------------------------------------------------------------
def numerical_gradient(f: Callable[[Any], float], params, eps: float = 1e-5):
    """Central differences ``(f(p + eps e_i) - f(p - eps e_i)) / (2 eps)`` for every entry.

    ``params`` is an array or a sequence of arrays (float64); the result has its structure.
    """
    ps = [np.array(p, dtype=np.float64, copy=True) for p in _arrays(params)]
    out = []
    for k, p in enumerate(ps):
        g = np.empty_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + eps
            fp = f(_rebuild(params, ps))
            p[i] = old - eps
            fm = f(_rebuild(params, ps))
            p[i] = old
            g[i] = (fp - fm) / (2.0 * eps)
        out.append(g)
    return _rebuild(params, out)


def rel_error(a, b) -> float:
    """``||a - b|| / (||a|| + ||b||)`` (0 when both are zero)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    den = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if den == 0 else float(np.linalg.norm(a - b) / den)


def gradcheck(f: Callable[[Any], float], params, grads, eps: float = 1e-5) -> list[float]:
    """Relative error of each analytic gradient array against central differences of ``f``."""
    num = _arrays(numerical_gradient(f, params, eps))
    return [rel_error(g, n) for g, n in zip(_arrays(grads), num)]


# --- fit loop --------------------------------------------------------------------------
class FitResult(NamedTuple):
    params: Any
    #: mean training loss over each epoch's batches, (epochs run,)
    loss: np.ndarray
    #: joint gradient norm (before clipping) averaged over each epoch's batches, (epochs run,)
    grad_norm: np.ndarray
    #: joint parameter norm at the end of each epoch, (epochs run,)
    param_norm: np.ndarray
    #: validation loss at the end of each epoch, (epochs run,); empty without validation
    val_loss: np.ndarray = np.empty(0)
    #: epoch (1-based) whose parameters were returned (the best validation loss with
    #: ``restore_best``, else the last epoch run)
    best_epoch: int = 0
    #: whether early stopping ended training before ``epochs``
    stopped_early: bool = False


def _split_validation(xs, ys, axis, validation, validation_split):
    """(xs, ys, xs_val, ys_val): the training set and the held-out set (or None, None)."""
    if validation is not None and validation_split is not None:
        raise ValueError("give validation or validation_split, not both")
    if validation is not None:
        xv, yv = (np.asarray(a, dtype=np.float64) for a in validation)
        if xv.ndim != 3 or xv.shape[0] != xs.shape[0] or xv.shape[2] != xs.shape[2]:
            raise ValueError(f"validation inputs must have shape ({xs.shape[0]}, N_val, {xs.shape[2]}), got {xv.shape}")
        if yv.ndim != ys.ndim or yv.shape[axis] != xv.shape[1]:
            raise ValueError(f"validation targets {yv.shape} do not match {xv.shape[1]} validation sequences")
        return xs, ys, xv, yv
    if validation_split is None:
        return xs, ys, None, None
    if not 0.0 < validation_split < 1.0:
        raise ValueError(f"validation_split must be in (0, 1), got {validation_split}")
    N = xs.shape[1]
    n_val = int(np.ceil(validation_split * N))
    if n_val >= N:
        raise ValueError(f"validation_split {validation_split} of {N} sequences leaves none for training")
    cut = N - n_val  # the last n_val sequences, as given (no rng draw: the split does not move the seeds)
    return xs[:, :cut], np.take(ys, np.arange(cut), axis=axis), xs[:, cut:], np.take(ys, np.arange(cut, N), axis=axis)


def fit(net, params, xs, ys, *, loss: str | Loss, optimizer: Optimizer, epochs: int,
        rng: np.random.Generator, batch_size: int = 1, truncate: int | None = None,
        clip_norm: float | None = None, clip_value: float | None = None,
        state0=None, validation=None, validation_split: float | None = None,
        patience: int | None = None, min_delta: float = 0.0, restore_best: bool = True) -> FitResult:
    """Train ``params`` of a sequence net by (truncated) BPTT on N sequences.

    Each epoch visits the sequences in a fresh random order drawn from ``rng`` and makes
    one update per mini-batch (``batch_size = 1``: online training). The gradient is
    clipped by value, then by norm, when asked.

    Early stopping: with a validation set (``validation = (xs_val, ys_val)``, or
    ``validation_split = f``: the *last* ceil(f N) sequences are held out, without a draw
    from ``rng``), the validation loss (the full, untruncated loss of the current
    parameters) is computed after every epoch. With ``patience = p``, training stops when
    it has not improved on the best so far by more than ``min_delta`` for p epochs in a
    row; with ``restore_best`` the parameters of the best epoch are returned. Without a
    validation set, training is exactly as before (same updates, same results).

    Parameters
    ----------
    net : a net with ``bptt(params, xs, ys, state0, *, loss, truncate)``
    params : the net's trainable parameters (e.g. ``net.train_params()``)
    xs : ndarray (T, N, I)
    ys : ndarray (T, N, K) (a target per step) or (N, K) (one target after the last step)
    validation : (xs_val (T, N_val, I), ys_val like ys), optional
    validation_split : float in (0, 1), optional
    patience : int >= 1, optional (needs a validation set)
    min_delta : float >= 0
    restore_best : bool
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError("epochs and batch_size must be >= 1")
    xs = np.asarray(xs, dtype=np.float64)
    ys = np.asarray(ys, dtype=np.float64)
    if xs.ndim != 3:
        raise ValueError(f"xs must have shape (T, N, I), got {xs.shape}")
    N = xs.shape[1]
    axis = 1 if ys.ndim == 3 else 0
    if ys.shape[axis] != N:
        raise ValueError(f"targets {ys.shape} do not match {N} input sequences")
    xs, ys, xv, yv = _split_validation(xs, ys, axis, validation, validation_split)
    if patience is not None and (xv is None or patience < 1):
        raise ValueError("patience needs a validation set and must be >= 1")
    if not min_delta >= 0:
        raise ValueError(f"min_delta must be >= 0, got {min_delta}")
    N = xs.shape[1]
    losses, gnorms, pnorms, vals = [], [], [], []
    best, best_params, best_epoch, since = np.inf, params, 0, 0
    stopped = False
    for e in range(epochs):
        order = rng.permutation(N)
        tot, gtot = 0.0, 0.0
        for lo in range(0, N, batch_size):
            idx = order[lo:lo + batch_size]
            value, grads, _ = net.bptt(params, xs[:, idx], np.take(ys, idx, axis=axis), state0,
                                       loss=loss, truncate=truncate)
            tot += value * len(idx)
            gtot += global_norm(grads) * len(idx)
            if clip_value is not None:
                grads = clip_by_value(grads, clip_value)
            if clip_norm is not None:
                grads = clip_by_norm(grads, clip_norm)
            params = optimizer.step(params, grads)
        losses.append(tot / N)
        gnorms.append(gtot / N)
        pnorms.append(global_norm(params))
        if xv is None:
            continue
        v = float(net.bptt(params, xv, yv, state0, loss=loss)[0])
        vals.append(v)
        if v < best - min_delta:
            best, best_params, best_epoch, since = v, params, e + 1, 0
        else:
            since += 1
            if patience is not None and since >= patience:
                stopped = True
                break
    n_run = len(losses)
    if xv is None or not restore_best:
        best_params, best_epoch = params, n_run
    return FitResult(best_params, np.array(losses), np.array(gnorms), np.array(pnorms), np.array(vals),
                     best_epoch, stopped)
