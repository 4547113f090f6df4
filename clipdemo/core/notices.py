"""Notices: what the reader of a result should know about it, as data (a code, its parameters, a severity).

Built once in the service and carried by every result (the UI, the API, MCP and the CLI all read the same
list): pictures unlike the bundled model's world, texts cut, images or labels dropped, the scoring rule,
sampling in projections. `message` is the English text (clipdemo.core.catalogue) for clients that do not
translate; the UI renders `code` and `params` in the visitor's language instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from clipdemo.core import catalogue

SEVERITIES = ("info", "warning")


@dataclass
class Notice:
    code: str  # a key of clipdemo.core.catalogue.MESSAGES
    params: dict = field(default_factory=dict)
    severity: str = "info"  # info | warning (the result's numbers may mislead)
    message: str = ""  # the English text, filled from the catalogue

    def __post_init__(self):
        if self.code not in catalogue.MESSAGES:
            raise KeyError(f"no message for notice code {self.code!r} in clipdemo.core.catalogue")
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}")
        if not self.message:
            self.message = catalogue.render(self.code, self.params, "en")

    def __str__(self) -> str:
        return self.message

    def text(self, locale: str = "en") -> str:
        params = dict(self.params)
        if "reason_code" in params:  # a nested coded message (a skipped picture's reason)
            params["reason"] = reason_text(params, locale)
        return catalogue.render(self.code, params, locale)


def notice(code: str, severity: str = "info", **params) -> Notice:
    return Notice(code, params, severity)


def free_text(texts: Iterable[str | Notice]) -> list[Notice]:
    """Engine notices that are still plain English (no code yet) as Notices; Notices pass through."""
    return [t if isinstance(t, Notice) else Notice(catalogue.FREE_TEXT, {"text": str(t)}) for t in texts]


def skipped_notice(error) -> Notice:
    """A picture skipped for a user error: the error's own code and parameters ride along, so the reason can be
    said in any language (an uncoded error travels as its English text)."""
    return Notice("image_skipped", {"reason": str(error), "reason_code": getattr(error, "code", None),
                                    "reason_params": dict(getattr(error, "params", {}) or {})}, "warning")


def reason_text(params: dict, locale: str) -> str:
    """The `reason` of a skip notice in `locale`, from its code where it has one."""
    code = params.get("reason_code")
    if code in catalogue.MESSAGES:
        return catalogue.render(code, params.get("reason_params") or {}, locale)
    return str(params.get("reason", ""))


def scoring(sigmoid: bool) -> Notice:
    """The rule that turned cosines into the numbers shown (softmax over the labels, or SigLIP's sigmoid)."""
    return Notice("scoring.sigmoid" if sigmoid else "scoring.softmax")


def out_of_world(names: Sequence[str], scores: Sequence[float] | None, limit: float) -> list[Notice]:
    """One warning per picture that scores above `limit` (scores None: the check does not apply)."""
    if scores is None:
        return []
    return [Notice("out_of_world", {"name": n, "score": round(float(s), 1), "limit": float(limit)}, "warning")
            for n, s in zip(names, scores, strict=True) if s > limit]
