"""The image x text similarity matrix and the contrastive loss CLIP trains on it.

Plain numpy on embeddings that are already in the joint space. Row i is image i, column j is
text j. When the batch comes in pairs (text i describes image i), the diagonal holds the true
pairs, and CLIP's loss asks each row (image -> text) and each column (text -> image) to put its
diagonal cell first. SigLIP instead scores every cell on its own with a sigmoid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from clipdemo import limits, scoring
from clipdemo.encoding import Encoder
from clipdemo.errors import InputError

MODES = ("cosine", "softmax_texts", "softmax_images")
MAX_IMAGES, MAX_TEXTS = 24, 24  # one matrix: beyond this the cells are too small to read


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def cosine_matrix(image_embeddings: np.ndarray, text_embeddings: np.ndarray) -> np.ndarray:
    """(N images, D) x (M texts, D) -> (N, M) cosine similarities (inputs need not be normalised)."""
    if image_embeddings.ndim != 2 or text_embeddings.ndim != 2:
        raise ValueError("embeddings must be 2-d arrays (items x dimensions)")
    if image_embeddings.shape[1] != text_embeddings.shape[1]:
        raise ValueError(f"image and text embeddings differ in size ({image_embeddings.shape[1]} vs "
                         f"{text_embeddings.shape[1]})")
    return _normalise(image_embeddings) @ _normalise(text_embeddings).T


def softmax_over_texts(cosine: np.ndarray, temperature: float) -> np.ndarray:
    """Each image's distribution over the texts (rows sum to 1), as zero-shot labeling uses it."""
    return scoring.probabilities(cosine, temperature, axis=1)


def softmax_over_images(cosine: np.ndarray, temperature: float) -> np.ndarray:
    """Each text's distribution over the images (columns sum to 1), as text -> image search uses it."""
    return scoring.probabilities(cosine, temperature, axis=0)


def sigmoid_scores(cosine: np.ndarray, temperature: float, bias: float = 0.0) -> np.ndarray:
    """SigLIP's score: every (image, text) cell on its own, sigmoid(t * cos + b)."""
    return scoring.probabilities(cosine, temperature, bias, use_sigmoid=True)


def scores(cosine: np.ndarray, mode: str, temperature: float, sigmoid: bool = False, bias: float = 0.0) -> np.ndarray:
    """What a matrix view shows in `mode`; SigLIP models show sigmoids for both softmax modes."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    if mode == "cosine":
        return np.asarray(cosine, np.float64)
    if sigmoid:
        return sigmoid_scores(cosine, temperature, bias)
    return softmax_over_texts(cosine, temperature) if mode == "softmax_texts" else softmax_over_images(cosine,
                                                                                                       temperature)


@dataclass(frozen=True)
class PairLosses:
    image_to_text: float  # mean over images of -log p(true text | image)
    text_to_image: float  # mean over texts of -log p(true image | text)
    mean: float  # CLIP's training objective
    chance: float  # the loss of a model that knows nothing: log N


def contrastive_losses(cosine: np.ndarray, temperature: float) -> PairLosses:
    """CLIP's symmetric cross-entropy on a paired N x N batch (the diagonal is the target)."""
    cosine = np.asarray(cosine, np.float64)
    if cosine.ndim != 2 or cosine.shape[0] != cosine.shape[1] or cosine.shape[0] == 0:
        raise ValueError(f"the loss needs pairs: as many texts as images (got {cosine.shape[0]} images and "
                         f"{cosine.shape[1] if cosine.ndim == 2 else 0} texts)")
    logits = cosine * temperature
    i2t = float(-np.diag(scoring.log_softmax(logits, axis=1)).mean())
    t2i = float(-np.diag(scoring.log_softmax(logits, axis=0)).mean())
    return PairLosses(i2t, t2i, (i2t + t2i) / 2, float(np.log(cosine.shape[0])))


def sigmoid_loss(cosine: np.ndarray, temperature: float, bias: float = 0.0) -> float:
    """SigLIP's loss on a paired batch: every cell is a yes/no question, summed and divided by N."""
    cosine = np.asarray(cosine, np.float64)
    if cosine.ndim != 2 or cosine.shape[0] != cosine.shape[1] or cosine.shape[0] == 0:
        raise ValueError("the loss needs pairs: as many texts as images")
    labels = 2 * np.eye(cosine.shape[0]) - 1
    z = labels * (cosine * temperature + bias)
    return float(np.logaddexp(0.0, -z).sum() / cosine.shape[0])  # -log sigmoid(z) = log(1 + e^-z)


def is_paired(n_images: int, n_texts: int) -> bool:
    return n_images == n_texts and n_images > 0


@dataclass
class SimilarityMatrix:
    """The numbers a matrix view needs; no model inside, so views can re-render freely."""

    images: list[str]
    texts: list[str]
    cosine: np.ndarray
    logit_scale: float
    logit_bias: float
    sigmoid: bool

    @property
    def paired(self) -> bool:
        return is_paired(len(self.images), len(self.texts))

    def view(self, mode: str, temperature: float | None = None) -> np.ndarray:
        t = self.logit_scale if temperature is None else temperature
        return scores(self.cosine, mode, t, self.sigmoid, self.logit_bias)

    def losses(self, temperature: float | None = None) -> PairLosses | None:
        if not self.paired or self.sigmoid:
            return None
        return contrastive_losses(self.cosine, self.logit_scale if temperature is None else temperature)

    def siglip_loss(self, temperature: float | None = None) -> float | None:
        if not self.paired or not self.sigmoid:
            return None
        return sigmoid_loss(self.cosine, self.logit_scale if temperature is None else temperature, self.logit_bias)

    def as_json(self, digits: int = 5) -> dict:
        return {"images": list(self.images), "texts": list(self.texts),
                "cosine": [[round(float(v), digits) for v in row] for row in self.cosine],
                "logit_scale": round(self.logit_scale, 4), "logit_bias": round(self.logit_bias, 4),
                "scoring": "sigmoid" if self.sigmoid else "softmax", "paired": self.paired}


def similarity_matrix(encoder: Encoder, images: Sequence, texts: Sequence[str],
                      names: Sequence[str] | None = None) -> SimilarityMatrix:
    """Encode the images (PIL) and texts with one model and return their cosine matrix."""
    texts, _cut = limits.clean_texts([t.strip() for t in texts if t and t.strip()])  # cut before anything sees them
    if not images:
        raise InputError("Add at least one image.")
    if not texts:
        raise InputError("Add at least one text (one per line).")
    names = list(names) if names is not None else [f"image {i + 1}" for i in range(len(images))]
    cos = cosine_matrix(encoder.encode_images(list(images)), encoder.encode_texts(texts))
    lm = encoder.loaded
    return SimilarityMatrix(names, texts, cos, lm.logit_scale, lm.logit_bias, lm.uses_sigmoid)
