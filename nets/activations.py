r"""Activation functions and the dense layer, as in the course notes.

A neuron computes y = f(w . x + b); a dense layer y = f(W x + b) with W of shape
(n_out, n_in). Activations: identity, ReLU max(0, z), logistic sigmoid
1 / (1 + e^{-z}), tanh, and the softmax output layer exp(z_k) / sum_j exp(z_j)
(computed after subtracting max z, which leaves it unchanged and cannot overflow).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["ACTIVATIONS", "activation", "derivative", "sigmoid", "relu", "identity", "softmax", "dense"]


def identity(z):
    return np.asarray(z, dtype=np.float64)


def relu(z):
    return np.maximum(np.asarray(z, dtype=np.float64), 0.0)


def sigmoid(z):
    """Logistic function, without overflow for large |z|."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softmax(z, axis: int = -1):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


ACTIVATIONS: dict[str, Callable] = {"identity": identity, "tanh": np.tanh, "relu": relu, "sigmoid": sigmoid}


def activation(name: str) -> Callable:
    """The activation function called ``name``."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]


def derivative(name: str, a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """f'(a) of activation ``name`` from the pre-activation a and y = f(a)."""
    if name == "tanh":
        return 1.0 - y * y
    if name == "sigmoid":
        return y * (1.0 - y)
    if name == "relu":
        return (a > 0).astype(np.float64)
    if name == "identity":
        return np.ones_like(a)
    raise ValueError(f"unknown activation {name!r}; expected one of {', '.join(ACTIVATIONS)}")


def dense(x, W, b, act: str = "identity"):
    """y = f(W x + b) for x (n_in,) or (B, n_in), W (n_out, n_in), b (n_out,)."""
    return activation(act)(np.asarray(x, dtype=np.float64) @ np.asarray(W, dtype=np.float64).T + b)
