"""Zero-shot labeling: embed "a photo of a {label}." prompts and pick the closest text.

With several templates, each label's text embedding is the mean of its normalised prompt
embeddings, renormalised (OpenAI's prompt-ensembling recipe). Scores come back both as raw
cosines and as probabilities at the model's temperature (softmax over labels; SigLIP: sigmoid).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from clipdemo import limits
from clipdemo.encoding import Encoder
from clipdemo.errors import InputError
from clipdemo.templates import DEFAULT_TEMPLATE, TEMPLATE_SETS, set_for_label

MAX_LABELS = 1000
MAX_LABEL_CHARS = limits.MAX_TEXT_CHARS


class LabelError(InputError):
    """Labels or templates the user must fix; the message is shown as is."""


@dataclass
class ParsedLabels:
    labels: list[str]
    notices: list[str] = field(default_factory=list)


def parse_labels(text: str | Sequence[str], max_labels: int = MAX_LABELS) -> ParsedLabels:
    """Labels separated by commas or new lines (a line holding commas is split on them)."""
    parts = text if not isinstance(text, str) else re.split(r"[,\n，、;；]", text or "")
    notices: list[str] = []
    labels: list[str] = []
    cut, longest = 0, 0
    for raw in parts:
        label = limits.clean_text(" ".join(str(raw)[:4 * MAX_LABEL_CHARS].split()))
        if not label:
            continue
        cut += len(str(raw).strip()) > MAX_LABEL_CHARS
        longest = max(longest, len(str(raw).strip()))
        if label in labels:
            notices.append(f"duplicate label {label!r} ignored")
            continue
        labels.append(label)
    if cut:
        notices.insert(0, f"{cut} label(s) longer than {MAX_LABEL_CHARS} characters were cut to that length "
                          f"(the longest had {longest} characters)")
    if not labels:
        raise LabelError("Enter at least one label (separate labels with commas or new lines).")
    if len(labels) > max_labels:
        notices.append(f"{len(labels)} labels given; only the first {max_labels} are used")
        labels = labels[:max_labels]
    return ParsedLabels(labels, notices)


def resolve_templates(choice: str | Sequence[str]) -> list[str]:
    """A named set ('single', 'imagenet7', 'imagenet80', 'bare') or the user's own templates."""
    if isinstance(choice, str):
        if choice in TEMPLATE_SETS:
            return list(TEMPLATE_SETS[choice])
        choice = [line for line in choice.splitlines() if line.strip()]
    templates = [t.strip() for t in choice if t.strip()]
    if not templates:
        return [DEFAULT_TEMPLATE]
    for t in templates:
        n = t.count("{}")
        if n != 1:
            raise LabelError(f"template {t!r} must contain exactly one {{}} where the label goes (it has {n}).")
    return templates


def prompts_for(labels: Sequence[str], templates: Sequence[str]) -> list[str]:
    return [t.format(label) for label in labels for t in templates]


def class_embeddings(encoder: Encoder, labels: Sequence[str], templates: Sequence[str]) -> np.ndarray:
    """One unit vector per label: the renormalised mean of its prompts' embeddings."""
    key = (tuple(labels), tuple(templates))
    cached = encoder.ensemble_cache.get(key)
    if cached is not None:
        return cached
    emb = encoder.encode_texts(prompts_for(labels, templates)).reshape(len(labels), len(templates), -1)
    mean = emb.mean(axis=1)
    out = mean / np.linalg.norm(mean, axis=-1, keepdims=True)
    out.setflags(write=False)  # shared by every later call with the same labels and templates
    encoder.ensemble_cache.put(key, out)
    return out


def _mixed_language_embeddings(encoder: Encoder, labels: list[str], choice, tmpl: list[str],
                               notices: list[str]) -> np.ndarray:
    """class_embeddings, with each label of a named set put in that set's own-language twin
    (templates.set_for_label): "红色圆形, blue square" with "single" -> "一张红色圆形的照片。", "a photo of a blue square."."""
    names = [set_for_label(choice, lab) if isinstance(choice, str) else None for lab in labels]
    if all(n == choice for n in names) or not isinstance(choice, str):
        return class_embeddings(encoder, labels, tmpl)
    rows: dict[int, np.ndarray] = {}
    for name in dict.fromkeys(names):
        idx = [i for i, n in enumerate(names) if n == name]
        group_tmpl = tmpl if name == choice else list(TEMPLATE_SETS[name])
        emb = class_embeddings(encoder, [labels[i] for i in idx], group_tmpl)
        rows.update({i: emb[k] for k, i in enumerate(idx)})
        if name != choice:
            notices.append(f"{len(idx)} label(s) in the other language used the template set '{name}' "
                           f"({TEMPLATE_SETS[name][0]!r}…)")
    return np.stack([rows[i] for i in range(len(labels))])


@dataclass
class ZeroShotResult:
    labels: list[str]
    templates: list[str]
    cosine: np.ndarray  # [images, labels]
    probs: np.ndarray  # [images, labels]
    logit_scale: float
    sigmoid: bool
    notices: list[str] = field(default_factory=list)

    def top(self, i: int = 0, k: int = 5) -> list[tuple[str, float, float]]:
        order = np.argsort(-self.probs[i])[:k]
        return [(self.labels[j], float(self.probs[i, j]), float(self.cosine[i, j])) for j in order]

    def predictions(self) -> list[str]:
        return [self.labels[j] for j in self.probs.argmax(axis=1)]


def zero_shot(encoder: Encoder, images: Sequence[Image.Image], labels: str | Sequence[str],
              templates: str | Sequence[str] = "single") -> ZeroShotResult:
    parsed = parse_labels(labels)
    tmpl = resolve_templates(templates)
    notices = list(parsed.notices)
    keep, cut = limits.prompt_budget(len(parsed.labels), len(tmpl))  # labels x templates, before any tokenising
    if cut:
        notices.append(cut)
        parsed.labels = parsed.labels[:keep]
    limit = encoder.loaded.max_text_length
    long = [lab for lab in parsed.labels if encoder.count_tokens(tmpl[0].format(lab)) > limit]
    if long:
        notices.append(f"{len(long)} prompt(s) longer than the model's {limit} tokens were truncated")
    n_prompts = len(parsed.labels) * len(tmpl)
    fresh = encoder.ensemble_cache.get((tuple(parsed.labels), tuple(tmpl))) is None
    with limits.heavy_work(fresh and n_prompts > limits.HEAVY_PROMPTS, f"embedding {n_prompts} prompts"):
        text = _mixed_language_embeddings(encoder, parsed.labels, templates, tmpl, notices)
    img = encoder.encode_images(images)
    cosine = img @ text.T
    return ZeroShotResult(parsed.labels, tmpl, cosine, encoder.probabilities(cosine, axis=1),
                          encoder.loaded.logit_scale, encoder.loaded.uses_sigmoid, notices)
