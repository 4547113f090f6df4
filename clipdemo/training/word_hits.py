"""Which words carry the match, measured: on a picture holding only a red circle, do "red" and "circle"
outweigh "blue" and "square" in "a red circle and a blue square"?

    python -m clipdemo.training.word_hits --model assets/toy-clip [--n 300] [--write-card]

Each trial is a toy-world picture of one object (a colour and a shape) and a caption naming it and a second
object of another colour and another shape, which the picture does not hold. Both orders are asked: the
present object first ("a red circle and a blue square") and second ("a blue square and a red circle").
A trial is a hit when both present words get more attribution than both absent words (chance 1/6 for four
words in random order); the looser "sum" counts the present pair's total above the absent pair's (chance 1/2).
With --write-card the table goes into the model folder's README.md between the word-hits markers.
"""

from __future__ import annotations

import argparse
import datetime
import random
from dataclasses import dataclass

from PIL import Image

from clipdemo.core import toyworld
from clipdemo.core.attribution import token_attribution
from clipdemo.core.encoding import Encoder
from clipdemo.training.pointing import write_card

CARD_START = "<!-- word-hits:start -->"
CARD_END = "<!-- word-hits:end -->"
ORDERS = ("present first", "present second")
CHANCE_BOTH = 1 / 6  # both present words above both absent ones, four words in random order
CHANCE_SUM = 1 / 2


@dataclass
class Trial:
    image: Image.Image
    present: tuple[str, str]  # colour, shape in the picture
    absent: tuple[str, str]  # colour, shape named but not drawn


def make_trials(n: int, seed: int = 0, size: int = 96) -> list[Trial]:
    rng = random.Random(seed)
    combos = toyworld.allowed_combos("train")
    trials = []
    for _ in range(n):
        c1, s1 = rng.choice(combos)
        c2, s2 = rng.choice([(c, s) for c, s in combos if c != c1 and s != s1])
        scene = toyworld.sample_scene(rng, kind="single", combos=[(c1, s1)])
        trials.append(Trial(toyworld.render(scene, size), (c1, s1), (c2, s2)))
    return trials


def caption(trial: Trial, order: str) -> tuple[str, list[int], list[int]]:
    """The caption and the word positions of the present and the absent object's colour and shape."""
    (c1, s1), (c2, s2) = trial.present, trial.absent
    if order == ORDERS[0]:
        return f"a {c1} {s1} and a {c2} {s2}", [1, 2], [5, 6]
    return f"a {c2} {s2} and a {c1} {s1}", [5, 6], [1, 2]


@dataclass
class Score:
    method: str
    order: str
    n: int = 0
    both: int = 0  # both present words above both absent words
    total: int = 0  # the present pair's sum above the absent pair's


def evaluate(encoder: Encoder, trials: list[Trial]) -> list[Score]:
    scores = {(m, o): Score(m, o) for m in ("gradient_x_input", "leave_one_word_out") for o in ORDERS}
    for trial in trials:
        for order in ORDERS:
            text, present, absent = caption(trial, order)
            r = token_attribution(encoder, trial.image, text)
            assert r.words[1:3] + r.words[5:7] == [*text.split()[1:3], *text.split()[5:7]]  # noqa: S101
            for method, values in (("gradient_x_input", r.word_attribution), ("leave_one_word_out",
                                                                              r.word_leave_one_out)):
                s = scores[(method, order)]
                p, a = [values[i] for i in present], [values[i] for i in absent]
                s.n += 1
                s.both += min(p) > max(a)
                s.total += sum(p) > sum(a)
    return list(scores.values())


def table(scores: list[Score]) -> str:
    lines = ["| method | order | both present words above both absent (chance 17%) | present pair's sum above (chance 50%) |",
             "|---|---|---|---|"]
    for s in scores:
        lines.append(f"| {s.method} | {s.order} | {s.both}/{s.n} = {s.both / s.n:.1%} | "
                     f"{s.total}/{s.n} = {s.total / s.n:.1%} |")
    return "\n".join(lines)


def card_section(scores: list[Score], model: str, n: int, seed: int) -> str:
    return "\n".join([
        CARD_START,
        "## Which words carry the match",
        "",
        f"Measured {datetime.date.today().isoformat()} with `python -m clipdemo.training.word_hits --model {model} "
        f"--n {n} --seed {seed} --write-card`: {n} toy pictures of one object, each captioned with that object "
        "and another of a different colour and shape (\"a red circle and a blue square\" on a red circle), in "
        "both orders.",
        "",
        table(scores),
        "",
        CARD_END,
    ])


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m clipdemo.training.word_hits", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="assets/toy-clip", help="'bundled' or a model folder")
    p.add_argument("--n", type=int, default=300, help="pictures (each asked in both orders)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--write-card", action="store_true", help="write the table into the model folder's README.md")
    args = p.parse_args(argv)
    import torch

    # loaded only by the step that uses it (a tool's --help stays fast)
    from clipdemo.core.loading import load_model

    torch.set_num_threads(args.threads)
    loaded = load_model(args.model, device="cpu", dtype="fp32")
    scores = evaluate(Encoder(loaded), make_trials(args.n, args.seed))
    print(f"word hits · {loaded.describe()} · {args.n} pictures · seed {args.seed}")
    print(table(scores))
    if args.write_card:
        path = write_card(loaded.source, card_section(scores, args.model, args.n, args.seed), (CARD_START, CARD_END))
        print(f"wrote the word-hits section of {path}")


if __name__ == "__main__":
    main()
