"""The models a running app holds: load on demand, keep at most `max_models`, switch without restart."""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from pathlib import Path

from clipdemo.backends import make_backend
from clipdemo.encoding import Encoder
from clipdemo.loading import BUNDLED, KNOWN_MODELS, LoadedModel, ModelNotAvailable, load_model


class ModelRegistry:
    def __init__(self, default: str = BUNDLED, device: str | None = None, dtype: str | None = None,
                 max_models: int = 2, allowed_folders: tuple[str, ...] = (), backend: str | None = "torch",
                 int8: bool = False):
        self.default = default
        self.device = device
        self.dtype = dtype
        self.backend = backend  # clipdemo.backends: auto, torch, openvino (for the models it loads)
        self.int8 = int8
        self.max_models = max(1, max_models)
        self.allowed_folders = tuple(str(Path(f).expanduser().resolve()) for f in allowed_folders)
        self._encoders: OrderedDict[str, Encoder] = OrderedDict()
        self._lock = threading.Lock()

    def choices(self) -> list[str]:
        """What the picker offers: the bundled model, well-known hub ids, allowed folders, loaded models."""
        return list(dict.fromkeys([BUNDLED, *KNOWN_MODELS, *self.allowed_folders, *self._encoders]))

    def check_allowed(self, name: str) -> None:
        # A folder typed into the UI must be on the launch-time allow-list: no arbitrary server paths.
        if name in KNOWN_MODELS or name in self._encoders or name in self.allowed_folders or name == self.default:
            return
        raise ModelNotAvailable(f"{name!r} is not offered here. Pick a listed model, or start the app with "
                                "--allow-folder PATH to offer a local folder.")

    def get(self, name: str | None = None) -> Encoder:
        name = name or self.default
        with self._lock:
            if name in self._encoders:
                self._encoders.move_to_end(name)
                return self._encoders[name]
        self.check_allowed(name)
        loaded = load_model(name, self.device, self.dtype)
        backend = make_backend(loaded, self.backend, self.int8)
        if backend.notice:  # the header shows it too; the log keeps it for whoever runs the server
            print(f"[clipdemo] {name}: {backend.notice}", file=sys.stderr, flush=True)
        return self.add(name, loaded, backend)

    def add(self, name: str, loaded: LoadedModel, backend=None) -> Encoder:
        """Register an already loaded model (e.g. one trained in the Learn tab: torch, as its weights change)."""
        encoder = Encoder(loaded, backend=backend)
        with self._lock:
            self._encoders[name] = encoder
            self._encoders.move_to_end(name)
            while len(self._encoders) > self.max_models:
                evicted = next(k for k in self._encoders if k != name)
                del self._encoders[evicted]
        return encoder

    def loaded_names(self) -> list[str]:
        return list(self._encoders)
