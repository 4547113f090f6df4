"""The models a running app holds: load on demand, keep at most `max_models`, switch without restart."""

from __future__ import annotations

from pathlib import Path

from clipdemo.cache import LRUCache
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
        self._encoders = LRUCache(self.max_models)  # name -> Encoder; the least recently used leaves first

    def choices(self) -> list[str]:
        """What the picker offers: the bundled model, well-known hub ids, allowed folders, loaded models."""
        return list(dict.fromkeys([BUNDLED, *KNOWN_MODELS, *self.allowed_folders, *self._encoders.keys()]))

    def allow(self, folder: str) -> None:
        """Offer one more local model folder (a model trained in the Learn tab), so it loads again after eviction."""
        if folder not in self.allowed_folders:
            self.allowed_folders = (*self.allowed_folders, folder)

    def withdraw(self, folders) -> None:
        """No longer offer these folders (their training session ended)."""
        gone = {str(f) for f in folders}
        self.allowed_folders = tuple(f for f in self.allowed_folders if f not in gone)

    def check_allowed(self, name: str) -> None:
        # A folder typed into the UI must be on the launch-time allow-list: no arbitrary server paths.
        if name in KNOWN_MODELS or name in self._encoders or name in self.allowed_folders or name == self.default:
            return
        raise ModelNotAvailable(f"{name!r} is not offered here. Pick a listed model, or start the app with "
                                "--allow-folder PATH to offer a local folder.")

    def get(self, name: str | None = None) -> Encoder:
        name = name or self.default
        encoder = self._encoders.get(name)
        if encoder is not None:
            return encoder
        self.check_allowed(name)
        loaded = load_model(name, self.device, self.dtype)
        return self.add(name, loaded)

    def add(self, name: str, loaded: LoadedModel) -> Encoder:
        """Register an already loaded model (e.g. one trained in the Learn tab)."""
        encoder = Encoder(loaded)
        self._encoders.put(name, encoder)  # requests holding an evicted encoder finish with it
        return encoder

    def peek(self, name: str) -> Encoder | None:
        """The model if it is in memory now, without loading it or changing which is evicted next."""
        return self._encoders.peek(name)

    def loaded_names(self) -> list[str]:
        return self._encoders.keys()
