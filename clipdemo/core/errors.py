"""The one line between "the user must fix this" and "this is a bug".

`UserError` and its subclasses carry a message meant for the person who gave the input (shown as
is, in the UI, the API, MCP and the CLI). Anything else that escapes the engine is a bug: the
callers log it with its traceback and say so, instead of dressing it up as an input problem.
"""

from __future__ import annotations


class UserError(Exception):
    """Something the user must fix; the message says what and how."""


class InputError(UserError, ValueError):
    """A value the user gave (a text, a setting, a file) that cannot be used as it is."""
