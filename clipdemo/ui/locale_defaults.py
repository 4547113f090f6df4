"""What the app pre-fills in each UI language: labels, templates, captions of the toy batch.

The bundled model reads Chinese as well as English, so a visitor whose browser asks for Chinese gets
Chinese labels, the Chinese template and Chinese captions to start from (any mix still works: labels
are embedded one by one, in whatever language each is written). Tabs ask `defaults_for(locale)`.
"""

from __future__ import annotations

from dataclasses import dataclass

from clipdemo import toyworld
from clipdemo.templates import ZH_DEFAULT_TEMPLATE

TOY_COMBOS = (("red", "circle"), ("blue", "square"), ("yellow", "star"), ("green", "triangle"), ("purple", "heart"),
              ("orange", "cross"), ("pink", "crescent"), ("cyan", "diamond"))


@dataclass(frozen=True)
class LocaleDefaults:
    language: str  # "en" | "zh": the language captions and labels are written in
    toy_labels: str  # zero-shot labels for the toy world, comma separated
    photo_labels: str  # zero-shot labels for the example photos (a real CLIP; Chinese-CLIP for Chinese)
    shape_labels: str  # shape names only (embedding map)
    template: str  # the template picker's default: a named set in templates.TEMPLATE_SETS
    ensemble: str  # the same language's template ensemble
    query: str  # the embedding map's search text
    extra_texts_hint: str  # the embedding map's example extra texts (placeholder)


_EN = LocaleDefaults(
    language="en",
    toy_labels=", ".join(f"{c} {s}" for c, s in TOY_COMBOS),
    photo_labels="astronaut, cat, cup of coffee, rocket, horse, man with a camera",
    shape_labels=", ".join(toyworld.SHAPES),
    template="single", ensemble="imagenet80", query="a red circle", extra_texts_hint="a red heart\ntwo blue stars")
_ZH = LocaleDefaults(
    language="zh",
    toy_labels=", ".join(toyworld.zh_colour(c) + toyworld.zh_shape(s) for c, s in TOY_COMBOS),
    photo_labels="宇航员, 猫, 一杯咖啡, 火箭, 马, 拿着相机的男人",
    shape_labels=", ".join(toyworld.zh_shape(s) for s in toyworld.SHAPES),
    template="zh_single", ensemble="zh_ensemble", query="一个红色圆形", extra_texts_hint="一个红色心形\n两个蓝色星形")


def defaults_for(locale: str | None) -> LocaleDefaults:
    """The defaults for a UI locale ("en", "zh-CN", "zh", "zh-TW"…); anything not Chinese gets English."""
    return _ZH if (locale or "").lower().startswith("zh") else _EN


def toy_caption(scene: toyworld.Scene, locale: str | None = "en") -> str:
    """A toy scene's full caption in the locale's language."""
    return toyworld.zh_full_caption(scene) if defaults_for(locale).language == "zh" else toyworld.full_caption(scene)


def default_template(locale: str | None) -> str:
    """The single template itself ("a photo of a {}." / "一张{}的照片。")."""
    return ZH_DEFAULT_TEMPLATE if defaults_for(locale).language == "zh" else "a photo of a {}."
