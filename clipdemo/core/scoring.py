"""How a CLIP-family model turns cosine similarities into scores: the one place softmax and sigmoid live.

logit = s * cosine + b, with s the learned logit scale (s = 1/τ, the inverse temperature) and b a bias
(SigLIP's; 0 for CLIP). CLIP compares texts with a softmax over the logits; SigLIP scores every
(image, text) pair on its own with a sigmoid. Every view, lesson and endpoint scores through here.
"""

from __future__ import annotations

import numpy as np


def logits(cosine, scale: float, bias: float = 0.0) -> np.ndarray:
    return np.asarray(cosine, np.float64) * scale + bias


def log_softmax(x, axis: int = -1) -> np.ndarray:
    x = np.asarray(x, np.float64)
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def softmax(x, axis: int = -1) -> np.ndarray:
    return np.exp(log_softmax(x, axis))


def sigmoid(x) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, np.float64)))


def probabilities(cosine, scale: float, bias: float = 0.0, use_sigmoid: bool = False, axis: int = -1) -> np.ndarray:
    """Softmax over `axis` (CLIP), or an independent sigmoid per cell (SigLIP), of s * cosine + b."""
    z = logits(cosine, scale, bias)
    return sigmoid(z) if use_sigmoid else softmax(z, axis)
