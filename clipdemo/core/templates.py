"""Prompt templates as constants (from OpenAI's CLIP prompt-engineering notebook)."""

DEFAULT_TEMPLATE = "a photo of a {}."
PROBE_TEMPLATE = "a photo of {}."  # a caption that already holds its article: "a photo of two red circles."

# The 80 templates OpenAI used for ImageNet zero-shot.
IMAGENET_TEMPLATES: tuple[str, ...] = (
    "a bad photo of a {}.", "a photo of many {}.", "a sculpture of a {}.", "a photo of the hard to see {}.",
    "a low resolution photo of the {}.", "a rendering of a {}.", "graffiti of a {}.", "a bad photo of the {}.",
    "a cropped photo of the {}.", "a tattoo of a {}.", "the embroidered {}.", "a photo of a hard to see {}.",
    "a bright photo of a {}.", "a photo of a clean {}.", "a photo of a dirty {}.", "a dark photo of the {}.",
    "a drawing of a {}.", "a photo of my {}.", "the plastic {}.", "a photo of the cool {}.",
    "a close-up photo of a {}.", "a black and white photo of the {}.", "a painting of the {}.",
    "a painting of a {}.", "a pixelated photo of the {}.", "a sculpture of the {}.", "a bright photo of the {}.",
    "a cropped photo of a {}.", "a plastic {}.", "a photo of the dirty {}.", "a jpeg corrupted photo of a {}.",
    "a blurry photo of the {}.", "a photo of the {}.", "a good photo of the {}.", "a rendering of the {}.",
    "a {} in a video game.", "a photo of one {}.", "a doodle of a {}.", "a close-up photo of the {}.",
    "a photo of a {}.", "the origami {}.", "the {} in a video game.", "a sketch of a {}.", "a doodle of the {}.",
    "a origami {}.", "a low resolution photo of a {}.", "the toy {}.", "a rendition of the {}.",
    "a photo of the clean {}.", "a photo of a large {}.", "a rendition of a {}.", "a photo of a nice {}.",
    "a photo of a weird {}.", "a blurry photo of a {}.", "a cartoon {}.", "art of a {}.", "a sketch of the {}.",
    "a embroidered {}.", "a pixelated photo of a {}.", "itap of the {}.", "a jpeg corrupted photo of the {}.",
    "a good photo of a {}.", "a plushie {}.", "a photo of the nice {}.", "a photo of the small {}.",
    "a photo of the weird {}.", "the cartoon {}.", "art of the {}.", "a drawing of the {}.",
    "a photo of the large {}.", "a black and white photo of a {}.", "the plushie {}.", "a dark photo of a {}.",
    "itap of a {}.", "graffiti of the {}.", "a toy {}.", "itap of my {}.", "a photo of a cool {}.",
    "a photo of a small {}.", "a tattoo of the {}.",
)

# The 7-template subset OpenAI found almost as good as all 80.
IMAGENET_TEMPLATES_7: tuple[str, ...] = (
    "itap of a {}.", "a bad photo of the {}.", "a origami {}.", "a photo of the large {}.",
    "a {} in a video game.", "art of the {}.", "a photo of the small {}.",
)

TEMPLATE_SETS: dict[str, tuple[str, ...]] = {
    "single": (DEFAULT_TEMPLATE,),
    "imagenet7": IMAGENET_TEMPLATES_7,
    "imagenet80": IMAGENET_TEMPLATES,
    "bare": ("{}",),
}

# ---------------------------------------------------------------- Chinese
ZH_DEFAULT_TEMPLATE = "一张{}的照片。"

# OpenAI's 80 ImageNet templates translated, "a photo of a {}." first. Chinese has no articles, so
# "a bad photo of a {}." and "a bad photo of the {}." are one sentence: duplicates are dropped,
# leaving fewer templates than the English set.
ZH_TEMPLATES: tuple[str, ...] = tuple(dict.fromkeys((
    ZH_DEFAULT_TEMPLATE,
    "一张{}的糟糕照片。", "一张有很多{}的照片。", "一个{}的雕塑。", "一张难以看清的{}的照片。",
    "一张{}的低分辨率照片。", "一张{}的渲染图。", "{}的涂鸦。", "一张{}的糟糕照片。",
    "一张{}的裁剪照片。", "一个{}的纹身。", "刺绣的{}。", "一张难以看清的{}的照片。",
    "一张{}的明亮照片。", "一张干净的{}的照片。", "一张脏的{}的照片。", "一张{}的昏暗照片。",
    "一幅{}的画。", "一张我的{}的照片。", "塑料的{}。", "一张很酷的{}的照片。",
    "一张{}的特写照片。", "一张{}的黑白照片。", "一幅{}的绘画。",
    "一幅{}的绘画。", "一张{}的像素化照片。", "一个{}的雕塑。", "一张{}的明亮照片。",
    "一张{}的裁剪照片。", "一个塑料{}。", "一张脏的{}的照片。", "一张{}的JPEG压缩损坏照片。",
    "一张{}的模糊照片。", "一张{}的照片。", "一张{}的好照片。", "一张{}的渲染图。",
    "电子游戏里的{}。", "一张一个{}的照片。", "随手画的{}。", "一张{}的特写照片。",
    "一张{}的照片。", "折纸{}。", "电子游戏里的{}。", "一幅{}的素描。", "随手画的{}。",
    "折纸{}。", "一张{}的低分辨率照片。", "玩具{}。", "{}的艺术再现。",
    "一张干净的{}的照片。", "一张大的{}的照片。", "{}的艺术再现。", "一张漂亮的{}的照片。",
    "一张奇怪的{}的照片。", "一张{}的模糊照片。", "卡通{}。", "{}的艺术作品。", "一幅{}的素描。",
    "刺绣的{}。", "一张{}的像素化照片。", "我拍的{}。", "一张{}的JPEG压缩损坏照片。",
    "一张{}的好照片。", "毛绒{}。", "一张漂亮的{}的照片。", "一张小的{}的照片。",
    "一张奇怪的{}的照片。", "卡通{}。", "{}的艺术作品。", "一幅{}的画。",
    "一张大的{}的照片。", "一张{}的黑白照片。", "毛绒{}。", "一张{}的昏暗照片。",
    "我拍的{}。", "{}的涂鸦。", "玩具{}。", "我拍的我的{}。", "一张很酷的{}的照片。",
    "一张小的{}的照片。", "一个{}的纹身。",
)))

TEMPLATE_SETS["zh_single"] = (ZH_DEFAULT_TEMPLATE,)
TEMPLATE_SETS["zh_ensemble"] = ZH_TEMPLATES


def is_chinese(text: str) -> bool:
    """True when `text` holds any CJK ideograph (the language a label list or caption is in)."""
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


# A named set's counterpart in the other language: a Chinese label in "a photo of a {}." (or an English
# one in "一张{}的照片。") is a sentence nobody writes, so each label is put in its own language's set.
LANGUAGE_TWINS = {"single": "zh_single", "imagenet7": "zh_ensemble", "imagenet80": "zh_ensemble",
                  "zh_single": "single", "zh_ensemble": "imagenet80"}


def set_for_label(choice: str, label: str) -> str:
    """The named set to use for `label`: `choice`, or its twin when the label is in the other language."""
    twin = LANGUAGE_TWINS.get(choice)
    if twin is None or is_chinese(label) == choice.startswith("zh_"):
        return choice
    return twin
