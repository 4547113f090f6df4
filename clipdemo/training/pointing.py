"""The pointing game: does a spatial map's hottest point land inside the named object?

    python -m clipdemo.training.pointing --model assets/toy-clip [--n 300] [--write-card]

Each trial is a toy-world scene with 2-3 different objects and the name of one of them
("a red circle"). A method scores a hit when the peak of its map lies inside that object's
mask. Chance is the mask's share of the image: a random point hits that often. We also count
how often the peak lands on one of the *other* objects, which is CLIP's "opposite
visualisation" when it is frequent. With --write-card the table goes into the model folder's
README.md between `<!-- pointing:start -->` and `<!-- pointing:end -->`.
"""

from __future__ import annotations

import argparse
import datetime
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from clipdemo import toyworld
from clipdemo.encoding import Encoder
from clipdemo.spatial import METHODS, spatial_map

CARD_START = "<!-- pointing:start -->"
CARD_END = "<!-- pointing:end -->"
BAR = 0.70  # the better method must reach this on the bundled model, with chance under 15 %


@dataclass
class Trial:
    image: Image.Image
    text: str
    target: np.ndarray  # boolean mask of the named object
    others: np.ndarray  # boolean mask of the other objects

    @property
    def chance(self) -> float:
        return float(self.target.mean())


def object_text(o: toyworld.SceneObject, language: str = "en") -> str:
    """"a red circle" / "一个红色圆形"."""
    if language == "zh":
        return f"一个{toyworld.zh_colour(o.colour)}{toyworld.zh_shape(o.shape)}"
    return f"a {o.colour} {o.shape}"


LANGUAGE_NAMES = {"en": "English", "zh": "Chinese"}


def make_trials(n: int, seed: int = 0, size: int = 224, language: str = "en") -> list[Trial]:
    """n scenes with 2-3 different objects; one object per scene is named (the same scenes in every language)."""
    rng = random.Random(seed)
    combos = toyworld.allowed_combos("train")
    trials = []
    while len(trials) < n:
        scene = toyworld.sample_scene(rng, kind="mixed", combos=combos, n_objects=rng.choice((2, 3)))
        names = [object_text(o, language) for o in scene.objects]
        i = rng.randrange(len(scene.objects))
        if names.count(names[i]) > 1:  # same colour and shape twice: the text would not pick one object
            continue
        masks = [toyworld.object_mask(scene, k, size) for k in range(len(scene.objects))]
        others = np.any([m for k, m in enumerate(masks) if k != i], axis=0)
        trials.append(Trial(toyworld.render(scene, size), names[i], masks[i], others))
    return trials


@dataclass
class MethodScore:
    method: str
    n: int
    hits: int
    on_other: int  # peak on another object
    chance: float  # mean mask area fraction
    seconds: float

    @property
    def accuracy(self) -> float:
        return self.hits / self.n if self.n else 0.0

    @property
    def other_rate(self) -> float:
        return self.on_other / self.n if self.n else 0.0

    def interval(self) -> tuple[float, float]:
        """95 % Wilson interval of the accuracy."""
        if not self.n:
            return 0.0, 0.0
        z, p, n = 1.96, self.accuracy, self.n
        mid = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return max(0.0, mid - half), min(1.0, mid + half)


def hit(trial: Trial, point: tuple[float, float]) -> tuple[bool, bool]:
    """(inside the named object, inside another object) for a point in pixel coordinates."""
    h, w = trial.target.shape
    c, r = min(w - 1, int(point[0])), min(h - 1, int(point[1]))
    return bool(trial.target[r, c]), bool(trial.others[r, c])


def evaluate(encoder: Encoder, trials: list[Trial], methods=METHODS, map_fn=spatial_map) -> list[MethodScore]:
    chance = float(np.mean([t.chance for t in trials])) if trials else 0.0
    scores = []
    for method in methods:
        t0 = time.perf_counter()
        hits = other = 0
        for trial in trials:
            inside, elsewhere = hit(trial, map_fn(encoder, trial.image, trial.text, method).hottest_point())
            hits += inside
            other += elsewhere
        scores.append(MethodScore(method, len(trials), hits, other, chance, time.perf_counter() - t0))
    return scores


def table(scores: list[MethodScore]) -> str:
    lines = ["| method | hits | accuracy (95% CI) | peak on another object | chance (mask area) |",
             "|---|---|---|---|---|"]
    for s in scores:
        lo, hi = s.interval()
        lines.append(f"| {s.method} | {s.hits}/{s.n} | {s.accuracy:.1%} ({lo:.0%}–{hi:.0%}) | {s.other_rate:.1%} | "
                     f"{s.chance:.1%} |")
    return "\n".join(lines)


def card_section(scores: list[MethodScore], model: str, seed: int, size: int,
                 other_languages: dict[str, list[MethodScore]] | None = None) -> str:
    """The card's section; `other_languages` adds a table per language ({"zh": scores}), same scenes."""
    best = max(scores, key=lambda s: s.accuracy)
    chance = scores[0].chance if scores else 0.0
    verdict = "meets" if best.accuracy >= BAR and chance < 0.15 else "does not meet"
    extra = []
    for lang, lang_scores in (other_languages or {}).items():
        lang_best = max(lang_scores, key=lambda s: s.accuracy)
        lang_verdict = "meets" if lang_best.accuracy >= BAR and lang_scores[0].chance < 0.15 else "does not meet"
        example = object_text(toyworld.SceneObject("red", "circle", "small", 0, 0, 0, 0, (0, 0, 0), False), lang)
        extra += ["", f"The same scenes with {LANGUAGE_NAMES.get(lang, lang)} texts (\"{example}\"):", "",
                  table(lang_scores), "",
                  f"Best method: **{lang_best.method}** at {lang_best.accuracy:.1%}, which {lang_verdict} the bar."]
    languages = ",".join(["en", *(other_languages or {})])
    return "\n".join([
        CARD_START,
        "## Pointing game (where does a text match?)",
        "",
        f"Measured {datetime.date.today().isoformat()} with `python -m clipdemo.training.pointing --model {model} "
        f"--n {scores[0].n if scores else 0} --seed {seed} --languages {languages} --write-card`: toy-world scenes of {size} px with 2–3 "
        "different objects, one of them named (\"a red circle\"). A hit is the map's hottest point inside that "
        "object's mask; chance is the mask's share of the image.",
        "",
        table(scores),
        "",
        f"Best method: **{best.method}** at {best.accuracy:.1%}, which {verdict} the bar "
        f"(≥ {BAR:.0%} with chance under 15%). Maps are computed at half-patch shifts (`clipdemo.spatial`). "
        "`naive` compares each patch's own token with the text: its peak often lands on another object, CLIP's "
        "\"opposite visualisation\". `decomposition` and `gradcam` read what the class token takes from each "
        "patch instead.",
        *extra,
        CARD_END,
    ])


def write_card(folder: str | Path, section: str) -> Path:
    """Replace the delimited section of the model folder's README.md, or append it."""
    path = Path(folder) / "README.md"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    start, end = text.find(CARD_START), text.find(CARD_END)
    if start >= 0 and end > start:
        text = text[:start] + section + text[end + len(CARD_END):]
    else:
        text = (text.rstrip("\n") + "\n\n" if text.strip() else "") + section + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m clipdemo.training.pointing", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="assets/toy-clip", help="'bundled' or a model folder")
    p.add_argument("--n", type=int, default=300, help="trials (one named object per scene)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--size", type=int, default=224, help="rendered image size in pixels")
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--languages", default="en", help="comma-separated: en, zh (texts in each; same scenes)")
    p.add_argument("--write-card", action="store_true", help="write the table into the model folder's README.md")
    args = p.parse_args(argv)
    import torch

    from clipdemo.loading import load_model

    torch.set_num_threads(args.threads)
    loaded = load_model(args.model, device="cpu", dtype="fp32")
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    by_language = {}
    for lang in [x.strip() for x in args.languages.split(",") if x.strip()]:
        trials = make_trials(args.n, args.seed, args.size, lang)
        by_language[lang] = evaluate(Encoder(loaded), trials, methods)
        print(f"pointing game · {loaded.describe()} · {len(trials)} trials · seed {args.seed} · "
              f"{LANGUAGE_NAMES.get(lang, lang)} texts")
        print(table(by_language[lang]))
    if args.write_card:
        first, *rest = by_language
        section = card_section(by_language[first], args.model, args.seed, args.size,
                               {lang: by_language[lang] for lang in rest})
        path = write_card(loaded.source, section)
        print(f"wrote the pointing-game section of {path}")


if __name__ == "__main__":
    main()
