"""The models a running app holds: load on demand, keep at most `max_models`, switch without restart.

Shared models (the bundled one, hub checkpoints, allowed folders) are offered to everybody. A model
a visitor trains in the Learn tab is *private* to that visitor's session: it gets an unguessable name
(`session-model:…`, never a session id or a server path) and a label for people, only that session's
picker and header list it, `get(name, session=…)` refuses it to anyone else, and it is freed when the
session resets or closes (`drop_session`) or has not used it for `private_idle_s` seconds.
"""

from __future__ import annotations

import gc
import secrets
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from clipdemo.backends import make_backend
from clipdemo.cache import LRUCache
from clipdemo.encoding import Encoder
from clipdemo.loading import BUNDLED, KNOWN_MODELS, LoadedModel, ModelNotAvailable, load_model

PRIVATE_PREFIX = "session-model:"


@dataclass
class PrivateModel:
    owner: str  # the session it belongs to
    label: str  # what people read in the picker and header
    encoder: Encoder
    last_used: float


class ModelRegistry:
    def __init__(self, default: str = BUNDLED, device: str | None = None, dtype: str | None = None,
                 max_models: int = 2, allowed_folders: tuple[str, ...] = (), backend: str | None = "torch",
                 int8: bool = False, max_private: int = 16, private_idle_s: float = 3600):
        self.default = default
        self.device = device
        self.dtype = dtype
        self.backend = backend  # clipdemo.backends: auto, torch, openvino (for the models it loads)
        self.int8 = int8
        self.max_models = max(1, max_models)
        self.allowed_folders = tuple(str(Path(f).expanduser().resolve()) for f in allowed_folders)
        self._encoders = LRUCache(self.max_models)  # name -> Encoder; the least recently used leaves first
        self._private: dict[str, PrivateModel] = {}
        self.max_private = max(1, max_private)
        self.private_idle_s = private_idle_s
        self._lock = threading.Lock()

    def choices(self, session: str | None = None) -> list[str]:
        """What the picker offers: the bundled model, well-known hub ids, allowed folders, loaded models,
        and this session's own private models (nobody else's)."""
        return list(dict.fromkeys([BUNDLED, *KNOWN_MODELS, *self.allowed_folders, *self._encoders.keys(),
                                   *self.private_names(session)]))

    def check_allowed(self, name: str) -> None:
        # A folder typed into the UI must be on the launch-time allow-list: no arbitrary server paths.
        if name in KNOWN_MODELS or name in self._encoders or name in self.allowed_folders or name == self.default:
            return
        raise ModelNotAvailable(f"{name!r} is not offered here. Pick a listed model, or start the app with "
                                "--allow-folder PATH to offer a local folder.")

    def get(self, name: str | None = None, session: str | None = None) -> Encoder:
        """The encoder for `name`. A private model is refused to any other `session` than its owner's
        (tabs pass no session: their model name comes from the session's own server-side state)."""
        name = name or self.default
        if is_private(name):
            return self._get_private(name, session)
        encoder = self._encoders.get(name)
        if encoder is not None:
            return encoder
        self.check_allowed(name)
        loaded = load_model(name, self.device, self.dtype)
        backend = make_backend(loaded, self.backend, self.int8)
        if backend.notice:  # the header shows it too; the log keeps it for whoever runs the server
            print(f"[clipdemo] {name}: {backend.notice}", file=sys.stderr, flush=True)
        return self.add(name, loaded, backend)

    def add(self, name: str, loaded: LoadedModel, backend=None) -> Encoder:
        """Register an already loaded model (e.g. one trained in the Learn tab: torch, as its weights change)."""
        encoder = Encoder(loaded, backend=backend)
        self._encoders.put(name, encoder)  # requests holding an evicted encoder finish with it
        return encoder

    def peek(self, name: str) -> Encoder | None:
        """The model if it is in memory now, without loading it or changing which is evicted next."""
        return self._encoders.peek(name)


    def loaded_names(self, session: str | None = None) -> list[str]:
        """Models in memory that `session` may see: the shared ones and its own."""
        return [*self._encoders.keys(), *self.private_names(session)]

    # ---------------------------------------------------------------- private (per-session) models

    def add_private(self, session: str, loaded: LoadedModel, label: str) -> str:
        """Register a model only `session` may use (one per session: a new one replaces the old); its name."""
        if not session:
            raise ModelNotAvailable("A private model needs a browser session.")
        name = PRIVATE_PREFIX + secrets.token_urlsafe(12)
        entry = PrivateModel(session, label, Encoder(loaded), time.monotonic())
        with self._lock:
            for old in [n for n, p in self._private.items() if p.owner == session]:
                del self._private[old]
            self._private[name] = entry
            while len(self._private) > self.max_private:  # the least recently used session model goes
                del self._private[min(self._private, key=lambda n: self._private[n].last_used)]
        self.expire()
        return name

    def _get_private(self, name: str, session: str | None) -> Encoder:
        with self._lock:
            entry = self._private.get(name)
            if entry is not None and (session is None or session == entry.owner):
                entry.last_used = time.monotonic()
                return entry.encoder
        raise ModelNotAvailable("That model was trained in another browser session, or it was freed "
                                "(reset, closed tab or unused for a while); train it again in the Learn tab.")

    def private_names(self, session: str | None) -> list[str]:
        if not session:
            return []
        with self._lock:
            return [n for n, p in self._private.items() if p.owner == session]

    def label(self, name: str) -> str | None:
        """The people's name of a private model (None for shared ones)."""
        entry = self._private.get(name)
        return entry.label if entry is not None else None

    def drop_session(self, session: str | None) -> int:
        """Free every private model of `session` (reset, tab closed, session expired); how many went."""
        if not session:
            return 0
        with self._lock:
            gone = [n for n, p in self._private.items() if p.owner == session]
            for n in gone:
                del self._private[n]
        if gone:
            gc.collect()
        return len(gone)

    def expire(self, now: float | None = None) -> int:
        """Free private models nobody used for `private_idle_s` seconds."""
        now = time.monotonic() if now is None else now
        with self._lock:
            gone = [n for n, p in self._private.items() if now - p.last_used > self.private_idle_s]
            for n in gone:
                del self._private[n]
        return len(gone)


def is_private(name: str | None) -> bool:
    return bool(name) and str(name).startswith(PRIVATE_PREFIX)


def load_encoder(model: str, device: str | None = "auto", dtype: str | None = "auto", backend: str | None = None,
                 int8: bool = False) -> Encoder:
    """One model on its chosen backend, outside any registry (the command line's tools); the backend's notice,
    if any, goes to stderr."""
    loaded = load_model(model, device, dtype)
    encoder = Encoder(loaded, backend=make_backend(loaded, backend, int8))
    if encoder.backend.notice:
        print(f"note: {encoder.backend.notice}", file=sys.stderr)
    return encoder
