"""The toy world: procedurally generated scenes of coloured shapes with captions.

Everything the bundled model knows comes from here. Scenes hold 1-3 objects drawn from
8 colours x 8 shapes in two sizes at free positions, on varied low-saturation grounds, so
that colour words are never ambiguous. A few colour-shape combinations (HELD_OUT) never
appear in training; the evaluation asks about them to show compositional zero-shot.

Rendering is plain Pillow with supersampling; `render` is deterministic given a Scene.
"""

from __future__ import annotations

import colorsys
import math
import random
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 35, 35),
    "orange": (245, 135, 20),
    "yellow": (240, 215, 30),
    "green": (40, 165, 60),
    "cyan": (30, 200, 215),
    "blue": (35, 75, 220),
    "purple": (135, 55, 190),
    "pink": (245, 125, 190),
}
SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "star", "heart", "cross", "diamond", "crescent")
PLURALS = {"cross": "crosses"}
SIZES = ("small", "large")
COUNT_WORDS = {1: "one", 2: "two", 3: "three"}

# One combination per colour and per shape, so every colour and every shape is still seen.
HELD_OUT: frozenset[tuple[str, str]] = frozenset(
    (c, SHAPES[(3 * i + 1) % len(SHAPES)]) for i, c in enumerate(COLOURS)
)


def plural(shape: str) -> str:
    return PLURALS.get(shape, shape + "s")


@dataclass(frozen=True)
class SceneObject:
    colour: str
    shape: str
    size: str  # "small" | "large"
    x: float  # centre, fraction of width
    y: float  # centre, fraction of height
    radius: float  # equal-area radius, fraction of width
    angle: float  # degrees
    tint: tuple[int, int, int]  # actual fill colour (jittered around COLOURS[colour])
    outline: bool

    @property
    def position(self) -> str:
        return "left" if self.x < 0.38 else "right" if self.x > 0.62 else "center"


@dataclass(frozen=True)
class Scene:
    objects: tuple[SceneObject, ...]
    background: tuple  # ("flat", rgb) | ("gradient", rgb0, rgb1, vertical) | ("noise", rgb, sigma)
    blur: float = 0.0
    kind: str = "single"  # "single" | "count" | "mixed"
    seed: int = 0
    extra: dict = field(default_factory=dict, compare=False)


# ---------------------------------------------------------------- shapes as unit polygons


def _regular(n: int, phase: float = -math.pi / 2, r: float = 1.0) -> list[tuple[float, float]]:
    return [(r * math.cos(phase + 2 * math.pi * k / n), r * math.sin(phase + 2 * math.pi * k / n)) for k in range(n)]


def _star() -> list[tuple[float, float]]:
    pts = []
    for k in range(10):
        r = 1.0 if k % 2 == 0 else 0.45
        a = -math.pi / 2 + math.pi * k / 5
        pts.append((r * math.cos(a), r * math.sin(a)))
    return pts


def _heart() -> list[tuple[float, float]]:
    pts = []
    for k in range(48):
        t = 2 * math.pi * k / 48
        x = 16 * math.sin(t) ** 3
        y = 13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t)
        pts.append((x / 16, -y / 16 + 0.15))
    return pts


def _cross() -> list[tuple[float, float]]:
    a, b = 1.0, 0.36
    return [(-b, -a), (b, -a), (b, -b), (a, -b), (a, b), (b, b), (b, a), (-b, a), (-b, b), (-a, b), (-a, -b), (-b, -b)]


def _polygon_area(pts: list[tuple[float, float]]) -> float:
    s = 0.0
    for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1]):
        s += x0 * y1 - x1 * y0
    return abs(s) / 2


_POLYGONS = {
    "square": _regular(4, phase=math.pi / 4),
    "triangle": _regular(3),
    "star": _star(),
    "heart": _heart(),
    "cross": _cross(),
    "diamond": [(0.0, -1.0), (0.62, 0.0), (0.0, 1.0), (-0.62, 0.0)],
}
# Scale every polygon to the area of the unit circle: area must not give the shape away.
_POLYGONS = {k: [(x * math.sqrt(math.pi / _polygon_area(v)), y * math.sqrt(math.pi / _polygon_area(v))) for x, y in v]
             for k, v in _POLYGONS.items()}
_CRESCENT_R = 1.25  # outer radius; the bite removes about a third, leaving roughly unit-circle area
# How far each shape reaches from its centre, in equal-area radii (placement keeps shapes apart and inside).
EXTENT = {"circle": 1.0, "crescent": _CRESCENT_R,
          **{k: max(math.hypot(x, y) for x, y in v) for k, v in _POLYGONS.items()}}


def _rotate(pts, angle_deg):
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    return [(x * c - y * s, x * s + y * c) for x, y in pts]


def draw_shape(draw: ImageDraw.ImageDraw, shape: str, cx: float, cy: float, r: float, angle: float, fill) -> None:
    """Draw one shape (equal-area radius r, pixels) onto a mask or image."""
    if shape == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
    elif shape == "crescent":
        R = r * _CRESCENT_R
        draw.ellipse([cx - R, cy - R, cx + R, cy + R], fill=fill)
        ox, oy = _rotate([(0.55 * R, -0.25 * R)], angle)[0]
        draw.ellipse([cx + ox - 0.85 * R, cy + oy - 0.85 * R, cx + ox + 0.85 * R, cy + oy + 0.85 * R], fill=0)
    else:
        pts = _rotate(_POLYGONS[shape], angle)
        draw.polygon([(cx + r * x, cy + r * y) for x, y in pts], fill=fill)


# ---------------------------------------------------------------- sampling scenes


def _jitter_colour(rgb, rng: random.Random, amount: float = 1.0) -> tuple[int, int, int]:
    h, s, v = colorsys.rgb_to_hsv(*(c / 255 for c in rgb))
    h = (h + rng.uniform(-0.025, 0.025) * amount) % 1.0
    s = min(1.0, max(0.45, s * rng.uniform(0.8, 1.1)))
    v = min(1.0, max(0.35, v * rng.uniform(0.8, 1.12)))
    return tuple(int(round(255 * c)) for c in colorsys.hsv_to_rgb(h, s, v))


# Domain randomisation ("varied" scenes): each colour word covers a band of shades, as people use it, not
# one tint jittered a little. Hue band in degrees, saturation and value ranges; bands never overlap, and
# pink stays light (pastel to hot pink) where red is saturated, so the words keep their meaning.
SHADE_RANGES: dict[str, tuple[tuple[float, float], tuple[float, float], tuple[float, float]]] = {
    "red": ((-8, 6), (0.7, 1.0), (0.62, 1.0)),
    "orange": ((22, 36), (0.75, 1.0), (0.85, 1.0)),
    "yellow": ((46, 58), (0.7, 1.0), (0.85, 1.0)),
    "green": ((95, 145), (0.5, 1.0), (0.42, 0.85)),
    "cyan": ((176, 193), (0.6, 1.0), (0.7, 1.0)),
    "blue": ((214, 242), (0.6, 1.0), (0.6, 1.0)),
    "purple": ((266, 290), (0.5, 1.0), (0.5, 0.85)),
    "pink": ((318, 338), (0.3, 0.65), (0.9, 1.0)),
}
# Varied scenes draw objects in a wider range of sizes (equal-area radius, fraction of width), and
# identical objects of any size: area alone must not tell how many there are.
VARIED_RADII = {"small": (0.075, 0.145), "large": (0.17, 0.24)}


def varied_shade(colour: str, rng: random.Random) -> tuple[int, int, int]:
    """A shade anywhere in the colour word's band (SHADE_RANGES)."""
    (h0, h1), (s0, s1), (v0, v1) = SHADE_RANGES[colour]
    h = (rng.uniform(h0, h1) / 360) % 1.0
    return tuple(int(round(255 * c)) for c in colorsys.hsv_to_rgb(h, rng.uniform(s0, s1), rng.uniform(v0, v1)))


def _background(rng: random.Random):
    """Low-saturation grounds, so colour words always refer to the objects."""
    def grey():
        v = rng.uniform(0.08, 0.95)
        h, s = rng.random(), rng.uniform(0.0, 0.22)
        return tuple(int(255 * c) for c in colorsys.hsv_to_rgb(h, s, v))

    kind = rng.random()
    if kind < 0.45:
        return ("flat", grey())
    if kind < 0.75:
        return ("gradient", grey(), grey(), rng.random() < 0.5)
    return ("noise", grey(), rng.uniform(4, 22))


def _angle(shape: str, rng: random.Random) -> float:
    if shape in ("square", "diamond", "cross"):
        return rng.uniform(-12, 12)  # large turns would make a square a diamond
    if shape == "circle":
        return 0.0
    if shape == "crescent":
        return rng.uniform(0, 360)
    return rng.uniform(-20, 20)


def allowed_combos(split: str = "train") -> list[tuple[str, str]]:
    combos = [(c, s) for c in COLOURS for s in SHAPES]
    if split == "train":
        return [cs for cs in combos if cs not in HELD_OUT]
    if split == "heldout":
        return sorted(HELD_OUT)
    return combos


def _place(rng: random.Random, reach: list[float], tries: int = 200) -> list[tuple[float, float]] | None:
    """Centres such that no two shapes touch and none leaves the canvas; `reach` = radius x extent."""
    placed: list[tuple[float, float, float]] = []
    for r in reach:
        m = r * 1.04
        for _ in range(tries):
            x, y = rng.uniform(m, 1 - m), rng.uniform(m, 1 - m)
            if all(math.hypot(x - px, y - py) > (r + pr) * 1.06 for px, py, pr in placed):
                placed.append((x, y, r))
                break
        else:
            return None
    return [(x, y) for x, y, _ in placed]


def sample_scene(
    rng: random.Random,
    kind: str | None = None,
    combos: list[tuple[str, str]] | None = None,
    n_objects: int | None = None,
    varied: bool = False,
) -> Scene:
    """Draw one scene. kind: single (1 object), count (2-3 identical), mixed (2-3 different).

    `varied`: domain randomisation for training: shades from the colour word's whole band, a wider
    range of sizes (counts of small and large objects alike), hard-edged or smoothed rendering."""
    combos = combos or allowed_combos("train")
    if kind is None:
        u = rng.random()
        kind = "single" if u < 0.5 else "count" if u < 0.75 else "mixed"
    if kind == "single":
        specs = [rng.choice(combos)]
    elif kind == "count":
        specs = [rng.choice(combos)] * (n_objects or rng.choice((2, 3)))
    else:
        n = n_objects or rng.choice((2, 3))
        specs = []
        while len(specs) < n:
            cs = rng.choice(combos)
            if cs not in specs:
                specs.append(cs)
    while True:
        if len(specs) == 1:
            sizes = [rng.choice(SIZES)]
        elif kind == "count":
            sizes = [rng.choice(SIZES) if len(specs) == 2 else "small"] * len(specs)
        else:
            sizes = [rng.choice(SIZES) if len(specs) == 2 else "small" for _ in specs]
        if varied:
            radii = [rng.uniform(*VARIED_RADII[s]) for s in sizes]
            if kind == "count":  # identical objects: one size
                radii = [radii[0]] * len(radii)
        else:
            radii = [rng.uniform(0.18, 0.23) if s == "large" else rng.uniform(0.115, 0.145) for s in sizes]
        if len(specs) == 3:
            radii = [r * 0.88 for r in radii]
        centres = _place(rng, [r * EXTENT[s] for r, (_, s) in zip(radii, specs)])
        if centres is not None:
            break
    objs = []
    for (c, s), size, r, (x, y) in zip(specs, sizes, radii, centres):
        angle = _angle(s, rng)  # drawn before the tint: plain scenes stay exactly what they were for a seed
        tint = varied_shade(c, rng) if varied else _jitter_colour(COLOURS[c], rng)
        objs.append(SceneObject(c, s, size, x, y, r, angle, tint, rng.random() < (0.1 if varied else 0.2)))
    objs.sort(key=lambda o: o.x)  # captions list objects left to right
    blur = rng.choice((0.0, 0.0, 0.0, 0.4, 0.8))
    extra = {"resample": rng.choice(("box", "bicubic", "nearest"))} if varied else {}
    return Scene(tuple(objs), _background(rng), blur, kind, rng.randrange(2**31), extra)


# ---------------------------------------------------------------- rendering


def _ground(bg, size: int, rng: np.random.Generator) -> np.ndarray:
    if bg[0] == "flat":
        return np.broadcast_to(np.array(bg[1], np.float32), (size, size, 3)).copy()
    if bg[0] == "gradient":
        t = np.linspace(0, 1, size, dtype=np.float32)
        t = t[:, None, None] if bg[3] else t[None, :, None]
        arr = np.array(bg[1], np.float32) * (1 - t) + np.array(bg[2], np.float32) * t
        return np.broadcast_to(arr, (size, size, 3)).copy()
    base = np.broadcast_to(np.array(bg[1], np.float32), (size, size, 3))
    return base + rng.normal(0, bg[2], (size, size, 1)).astype(np.float32)


def render(scene: Scene, size: int = 224, supersample: int = 2) -> Image.Image:
    """Render a scene as an RGB image of size x size pixels."""
    big = size * supersample
    nrng = np.random.default_rng(scene.seed)
    canvas = Image.fromarray(np.clip(_ground(scene.background, big, nrng), 0, 255).astype(np.uint8))
    for o in scene.objects:
        mask = Image.new("L", (big, big), 0)
        draw_shape(ImageDraw.Draw(mask), o.shape, o.x * big, o.y * big, o.radius * big, o.angle, 255)
        if o.outline:
            dark = tuple(int(c * 0.45) for c in o.tint)
            canvas.paste(dark, (0, 0), mask)
            mask = mask.filter(ImageFilter.MinFilter(2 * max(1, big // 64) + 1))
        canvas.paste(o.tint, (0, 0), mask)
    # varied scenes: "nearest" keeps hard, aliased edges, as shapes drawn without smoothing have
    resample = {"box": Image.Resampling.BOX, "bicubic": Image.Resampling.BICUBIC,
                "nearest": Image.Resampling.NEAREST}[scene.extra.get("resample", "box")]
    img = canvas.resize((size, size), resample) if supersample > 1 else canvas
    if scene.blur:
        img = img.filter(ImageFilter.GaussianBlur(scene.blur * size / 64))
    return img


def object_mask(scene: Scene, index: int, size: int = 224) -> np.ndarray:
    """Boolean mask of one object (for pointing-game evaluation)."""
    o = scene.objects[index]
    mask = Image.new("L", (size, size), 0)
    draw_shape(ImageDraw.Draw(mask), o.shape, o.x * size, o.y * size, o.radius * size, o.angle, 255)
    return np.asarray(mask) > 127


# ---------------------------------------------------------------- captions


def describe(o: SceneObject, with_size: bool = True) -> str:
    return f"{o.size} {o.colour} {o.shape}" if with_size else f"{o.colour} {o.shape}"


def full_caption(scene: Scene) -> str:
    """The most detailed caption: used for retrieval evaluation and the gallery."""
    objs = scene.objects
    if len(objs) == 1:
        o = objs[0]
        return f"a {describe(o)} on the {o.position}" if o.position != "center" else f"a {describe(o)} in the center"
    if scene.kind == "count":
        o = objs[0]
        return f"{COUNT_WORDS[len(objs)]} {o.size} {o.colour} {plural(o.shape)}"
    return " and ".join(f"a {describe(o)}" for o in objs[:-1]) + f" and a {describe(objs[-1])}" \
        if len(objs) == 2 else ", ".join(f"a {describe(o)}" for o in objs[:-1]) + f" and a {describe(objs[-1])}"


PLURAL_TEMPLATES = ("a photo of {}.", "{}", "a picture of {}.", "a drawing of {}.", "an image of {}.",
                     "there are {}.", "a photo showing {}.")


def training_caption(scene: Scene, rng: random.Random, templates: list[str]) -> str:
    """A randomly phrased caption: many forms, so prompts in the app are understood."""
    objs = scene.objects
    u = rng.random()
    if len(objs) == 1:
        o = objs[0]
        if u < 0.1:
            desc = f"{o.colour} shape" if rng.random() < 0.5 else f"{o.colour} object"
        elif u < 0.2:
            desc = o.shape
        elif u < 0.55:
            desc = f"{o.colour} {o.shape}"
        elif u < 0.75:
            desc = describe(o)
        else:
            return full_caption(scene) if rng.random() < 0.5 else f"one {o.colour} {o.shape}"
        return rng.choice(templates).format(desc) if rng.random() < 0.6 else f"a {desc}"
    if scene.kind == "count":
        o = objs[0]
        n = COUNT_WORDS[len(objs)]
        desc = f"{n} {o.colour} {plural(o.shape)}" if u < 0.7 else full_caption(scene)
        return rng.choice(PLURAL_TEMPLATES).format(desc)
    if u < 0.6:
        return full_caption(scene)
    parts = [f"a {o.colour} {o.shape}" for o in objs]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def generate(n: int, seed: int, size: int = 224, kind: str | None = None, split: str = "train"):
    """Deterministic list of (PIL image, full caption, scene) triples (for galleries and tests)."""
    rng = random.Random(seed)
    combos = allowed_combos(split)
    out = []
    for _ in range(n):
        scene = sample_scene(rng, kind=kind, combos=combos)
        out.append((render(scene, size), full_caption(scene), scene))
    return out


# ---------------------------------------------------------------- Chinese captions
#
# Written as people write them: "红色圆形", "红色的圆形", "一个红色的圆", "两个蓝色正方形",
# "左边有一个小的红色圆形". The first word of each list is the canonical one (evaluation prompts,
# full captions); the others are everyday variants training mixes in.

ZH_COLOURS: dict[str, tuple[str, ...]] = {
    "red": ("红色",), "orange": ("橙色", "橘色"), "yellow": ("黄色",), "green": ("绿色",),
    "cyan": ("青色",), "blue": ("蓝色",), "purple": ("紫色",), "pink": ("粉色", "粉红色"),
}
ZH_SHAPES: dict[str, tuple[str, ...]] = {
    "circle": ("圆形", "圆", "圆圈"), "square": ("正方形", "方形", "方块"), "triangle": ("三角形", "三角"),
    "star": ("星形", "星星", "五角星"), "heart": ("心形", "爱心", "心"), "cross": ("十字形", "十字"),
    "diamond": ("菱形",), "crescent": ("月牙形", "月牙", "新月"),
}
ZH_SIZES = {"small": "小", "large": "大"}
ZH_COUNT_WORDS = {1: "一", 2: "两", 3: "三"}
ZH_POSITIONS = {"left": "左边", "right": "右边", "center": "中间"}
ZH_PLURAL_TEMPLATES = ("一张{}的照片。", "{}", "一幅{}的画。", "一张有{}的图片。", "图中有{}。",
                       "画面里有{}。", "这里有{}。")


def zh_colour(c: str) -> str:
    return ZH_COLOURS[c][0]


def zh_shape(s: str) -> str:
    return ZH_SHAPES[s][0]


def zh_describe(o: SceneObject, with_size: bool = True) -> str:
    """小的红色圆形 / 红色圆形 (canonical words)."""
    core = zh_colour(o.colour) + zh_shape(o.shape)
    return f"{ZH_SIZES[o.size]}的{core}" if with_size else core


def zh_full_caption(scene: Scene) -> str:
    """The Chinese twin of `full_caption`: the same facts, canonical words."""
    objs = scene.objects
    if len(objs) == 1:
        return f"{ZH_POSITIONS[objs[0].position]}有一个{zh_describe(objs[0])}"
    if scene.kind == "count":
        return f"{ZH_COUNT_WORDS[len(objs)]}个{zh_describe(objs[0])}"
    parts = [f"一个{zh_describe(o)}" for o in objs]
    return "、".join(parts[:-1]) + "和" + parts[-1]


def _zh_phrase(o: SceneObject, rng: random.Random, size: bool = False, count: int = 0, bare: bool = False) -> str:
    """One object in one of the ways people say it: 红色圆形, 红色的圆形, 一个红色的圆, 一个小的红色圆形."""
    colour, shape = rng.choice(ZH_COLOURS[o.colour]), rng.choice(ZH_SHAPES[o.shape])
    if rng.random() < 0.7:  # canonical words most of the time
        colour, shape = ZH_COLOURS[o.colour][0], ZH_SHAPES[o.shape][0]
    core = f"{colour}的{shape}" if rng.random() < 0.35 else colour + shape
    if size:
        s = ZH_SIZES[o.size]
        core = f"{s}的{core}" if rng.random() < 0.6 else f"{colour}的{s}{shape}"
    if count:
        return f"{ZH_COUNT_WORDS[count]}个{core}"
    return core if bare or rng.random() >= 0.4 else f"一个{core}"


def zh_training_caption(scene: Scene, rng: random.Random, templates) -> str:
    """A randomly phrased Chinese caption (the counterpart of `training_caption`)."""
    objs = scene.objects
    u = rng.random()
    if len(objs) == 1:
        o = objs[0]
        if u < 0.1:
            desc = f"{rng.choice(ZH_COLOURS[o.colour])}的{rng.choice(('东西', '物体', '图形', '形状'))}"
        elif u < 0.2:
            desc = rng.choice(ZH_SHAPES[o.shape])
        elif u < 0.55:
            desc = _zh_phrase(o, rng, bare=True)
        elif u < 0.75:
            desc = _zh_phrase(o, rng, size=True, bare=True)
        else:
            v = rng.random()
            if v < 0.4:
                return zh_full_caption(scene)
            one = _zh_phrase(o, rng, size=rng.random() < 0.5, count=1)  # "一个…", as counts are phrased
            return f"{ZH_POSITIONS[o.position]}有{one}" if v < 0.7 else rng.choice(ZH_PLURAL_TEMPLATES).format(one)
        if rng.random() < 0.6:
            return rng.choice(templates).format(desc)
        return f"一个{desc}" if rng.random() < 0.4 else desc
    if scene.kind == "count":
        o = objs[0]
        desc = _zh_phrase(o, rng, size=rng.random() < 0.3, count=len(objs)) if u < 0.7 else zh_full_caption(scene)
        return rng.choice(ZH_PLURAL_TEMPLATES).format(desc)
    if u < 0.5:
        return zh_full_caption(scene)
    parts = [_zh_phrase(o, rng) for o in objs]
    joined = "、".join(parts[:-1]) + "和" + parts[-1]
    return rng.choice(ZH_PLURAL_TEMPLATES).format(joined) if u < 0.75 else joined


def zh_shape_caption(scene: Scene, rng: random.Random, templates) -> str:
    """Shapes only, in Chinese ("一张星形的照片。", "两个心形")."""
    objs = scene.objects
    if len(objs) == 1:
        return rng.choice(templates).format(rng.choice(ZH_SHAPES[objs[0].shape]))
    if scene.kind == "count":
        desc = f"{ZH_COUNT_WORDS[len(objs)]}个{zh_shape(objs[0].shape)}"
    else:
        desc = "和".join(dict.fromkeys(f"一个{zh_shape(o.shape)}" for o in objs))
    return rng.choice(ZH_PLURAL_TEMPLATES).format(desc)


def chinese_vocabulary() -> str:
    """Every word the Chinese captions can use (for the tokenizer's character list)."""
    words = [w for ws in (*ZH_COLOURS.values(), *ZH_SHAPES.values()) for w in ws]
    words += [*ZH_SIZES.values(), *ZH_COUNT_WORDS.values(), *ZH_POSITIONS.values(), *ZH_PLURAL_TEMPLATES,
              "的个有和、东西物体图形形状"]
    return "".join(words)
