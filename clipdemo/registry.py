"""The models a running app holds: load on demand, keep at most `max_models`, switch without restart."""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from clipdemo.encoding import Encoder
from clipdemo.loading import BUNDLED, KNOWN_MODELS, LoadedModel, ModelNotAvailable, load_model


class ModelRegistry:
    def __init__(self, default: str = BUNDLED, device: str | None = None, dtype: str | None = None,
                 max_models: int = 2, allowed_folders: tuple[str, ...] = ()):
        self.default = default
        self.device = device
        self.dtype = dtype
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
        return self.add(name, loaded)

    def add(self, name: str, loaded: LoadedModel) -> Encoder:
        """Register an already loaded model (e.g. one trained in the Learn tab)."""
        encoder = Encoder(loaded)
        with self._lock:
            self._encoders[name] = encoder
            self._encoders.move_to_end(name)
            while len(self._encoders) > self.max_models:
                evicted = next(k for k in self._encoders if k != name)
                del self._encoders[evicted]
        return encoder

    def peek(self, name: str) -> Encoder | None:
        """The model if it is in memory now, without loading it or changing which is evicted next."""
        with self._lock:
            return self._encoders.get(name)

    def loaded_names(self) -> list[str]:
        return list(self._encoders)
