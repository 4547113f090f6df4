"""A result's notices (clipdemo.core.notices) drawn beside it, in the visitor's language.

Coded notices come from clipdemo.core.catalogue; the few engine notices that are still plain English (code
"note") go through clipdemo.ui.messages' older translation until they are given codes.
"""

from __future__ import annotations

from collections.abc import Iterable

from clipdemo.core.notices import Notice, free_text
from clipdemo.ui.i18n import locale_of
from clipdemo.ui.messages import translate

NESTED = ("reason", "problems")  # parameters that hold an engine message of their own


def text(notice: Notice | str, locale: str) -> str:
    n = free_text([notice])[0]
    if n.code == "note":
        return translate(n.params["text"], locale)
    params = {k: translate(v, locale) if k in NESTED and isinstance(v, str) else v for k, v in n.params.items()}
    return Notice(n.code, params, n.severity).text(locale)


def warnings(notices: Iterable[Notice | str], request=None) -> str:
    """The warnings (severity "warning": the numbers may mislead), one per line, for right above the result."""
    loc = locale_of(request)
    found = [n for n in free_text(notices) if n.severity == "warning" and n.code.startswith("out_of_world")]
    pictures = [n for n in found if n.code == "out_of_world"]
    if len(pictures) > 1:  # one warning that names them all, not a wall of repeats
        more = sum(n.params.get("n", 0) for n in found if n.code == "out_of_world_more")
        names = ", ".join(f"{n.params['name']} ({n.params['score']:.0f})" for n in pictures)
        found = [Notice("out_of_world_many", {"n": len(pictures) + more, "names": names + (" …" if more else ""),
                                              "limit": pictures[0].params["limit"]}, "warning")]
    return "\n\n".join(f"⚠️ **{text(n, loc)}**" for n in found)


def bullets(notices: Iterable[Notice | str], request=None, skip: tuple[str, ...] = ("out_of_world",)) -> list[str]:
    """The other notices as Markdown list items (codes starting with a `skip` prefix are shown elsewhere)."""
    loc = locale_of(request)
    return [f"- {text(n, loc)}" for n in free_text(notices) if not n.code.startswith(skip)]
