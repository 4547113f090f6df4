"""What every tab gets: the engine's model registry and the launch settings."""

from __future__ import annotations

from dataclasses import dataclass, field

import gradio as gr

from clipdemo.core import assets
from clipdemo.core.errors import UserError
from clipdemo.core.registry import ModelRegistry
from clipdemo.serve.service import ClipService

USER_ERRORS = (UserError,)  # what the user must fix; anything else is a bug and shows as one


@dataclass
class UIContext:
    registry: ModelRegistry
    concurrency: int = 2  # per event; long jobs get their own lower limits
    extra: dict = field(default_factory=dict)
    service: ClipService = field(init=False)

    def __post_init__(self):
        self.service = ClipService(self.registry)


def user_error(e: Exception, request: gr.Request | None = None) -> gr.Error:
    """Turn an engine error into a message shown in the UI, in the visitor's language (the server keeps running)."""
    from clipdemo.ui import messages  # messages -> i18n -> every tab module: imported when first needed

    return messages.user_error(e, request)


def example_photos() -> list[str]:
    return [str(p) for p in assets.photo_paths()]


def example_toys() -> list[str]:
    return [str(p) for p in assets.toy_paths()]
