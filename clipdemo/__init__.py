"""clipdemo: see and touch CLIP. The library's door is `ClipService` (clipdemo.service):

    from clipdemo import ClipService
    service = ClipService.from_model("bundled")
    print(service.zero_shot("photo.jpg", "cat, dog, car").labels[0])
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"  # the one place: pyproject.toml reads it (tool.setuptools.dynamic)

__all__ = ["ClipService", "__version__"]

if TYPE_CHECKING:
    from clipdemo.service import ClipService


def __getattr__(name: str):
    # Lazy (PEP 562): `import clipdemo.settings` or `clipdemo --help` must not pay for torch and transformers.
    if name == "ClipService":
        from clipdemo.service import ClipService

        return ClipService
    raise AttributeError(f"module 'clipdemo' has no attribute {name!r}")
