"""The one line between "the user must fix this" and "this is a bug".

`UserError` and its subclasses carry a message meant for the person who gave the input (shown as
is, in the UI, the API, MCP and the CLI). Anything else that escapes the engine is a bug: the
callers log it with its traceback and say so, instead of dressing it up as an input problem.

A converted raise names a code of clipdemo.core.catalogue and its parameters, `InputError(code=..., **params)`:
the English message comes from the catalogue, and the UI says the same code in the visitor's language.
A plain `UserError("message")` still works for the raises not converted yet (its code is None).
"""

from __future__ import annotations

from clipdemo.core import catalogue


class UserError(Exception):
    """Something the user must fix; the message says what and how."""

    def __init__(self, message: str = "", *args, code: str | None = None, **params):
        if code is not None:
            message = message or catalogue.render(code, params, "en")
        super().__init__(message, *args)
        self.params = params
        if code is not None or not hasattr(self, "code"):
            self.code = code

    def text(self, locale: str = "en") -> str:
        """The message in `locale` (a coded error in any catalogue language; an uncoded one as raised)."""
        if self.code in catalogue.MESSAGES:
            return catalogue.render(self.code, self.params, locale)
        return str(self)


class InputError(UserError, ValueError):
    """A value the user gave (a text, a setting, a file) that cannot be used as it is."""
