"""Retrieval in the joint space: a text (or an image) in, the gallery's nearest images out, with scores.

The score is the cosine similarity of unit vectors, the number CLIP itself ranks by. Ties are
broken by gallery order, so a ranking is reproducible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from clipdemo.encoding import Encoder
from clipdemo.errors import InputError

MAX_QUERY_CHARS = 500
DEFAULT_K = 10


@dataclass(frozen=True)
class Hit:
    rank: int  # 1 = best
    index: int  # position in the gallery
    name: str
    score: float  # cosine similarity
    caption: str = ""

    def as_dict(self) -> dict:
        return {"rank": self.rank, "name": self.name, "score": round(self.score, 4), "caption": self.caption,
                "index": self.index}


def rank(query: np.ndarray, image_emb: np.ndarray, k: int = DEFAULT_K) -> list[tuple[int, float]]:
    """(index, cosine) of the k images closest to `query`, best first."""
    if len(image_emb) == 0:
        return []
    q = np.asarray(query, np.float32).reshape(-1)
    q = q / (np.linalg.norm(q) or 1.0)
    scores = np.asarray(image_emb, np.float32) @ q
    order = np.lexsort((np.arange(len(scores)), -scores))[:max(0, int(k))]
    return [(int(i), float(scores[i])) for i in order]


def _hits(ranked, names: Sequence[str], captions: Sequence[str] | None) -> list[Hit]:
    caps = captions or [""] * len(names)
    return [Hit(r + 1, i, names[i], s, caps[i]) for r, (i, s) in enumerate(ranked)]


def clean_query(text: str | None) -> str:
    query = " ".join((text or "").split())
    if not query:
        raise InputError("Type a query, e.g. 'a red circle'.")
    return query[:MAX_QUERY_CHARS]


def search_text(encoder: Encoder, query: str, image_emb: np.ndarray, names: Sequence[str],
                captions: Sequence[str] | None = None, k: int = DEFAULT_K) -> list[Hit]:
    """Text -> image retrieval: the query is embedded as typed (no prompt template)."""
    q = encoder.encode_texts([clean_query(query)])[0]
    return _hits(rank(q, image_emb, k), names, captions)


def search_image(encoder: Encoder, image: Image.Image, image_emb: np.ndarray, names: Sequence[str],
                 captions: Sequence[str] | None = None, k: int = DEFAULT_K) -> list[Hit]:
    """Image -> image retrieval (an image from the gallery finds itself first, at cosine 1)."""
    q = encoder.encode_images([image])[0]
    return _hits(rank(q, image_emb, k), names, captions)
