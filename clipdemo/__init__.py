"""clipdemo: see and touch CLIP. The library's door is `ClipService` (clipdemo.serve.service):

    from clipdemo import ClipService
    service = ClipService.from_model("bundled")
    print(service.zero_shot("photo.jpg", "cat, dog, car").labels[0])

Packages by layer, each importing only those before it: core (the engine) < data (galleries, collections)
< teach (lessons, live training) < serve (the one service, exports, CLI) < ui (Gradio). training/ and bench/
sit beside serve and are never imported by the running app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"  # the one place: pyproject.toml reads it (tool.setuptools.dynamic)

__all__ = ["ClipService", "__version__"]

if TYPE_CHECKING:
    from clipdemo.serve.service import ClipService


def __getattr__(name: str):
    # Lazy (PEP 562): `import clipdemo.core.settings` or `clipdemo --help` must not pay for torch and transformers.
    if name == "ClipService":
        from clipdemo.serve.service import ClipService  # lazy: see above

        return ClipService
    raise AttributeError(f"module 'clipdemo' has no attribute {name!r}")
