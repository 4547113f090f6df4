"""Live training for the Learn tab: a tiny CLIP trained in a background thread, in one of two modes.

- "locked" (the default): LiT, locked-image tuning (Zhai et al., CVPR 2022). The image tower is the
  bundled model's, frozen; a small text tower is trained from scratch against it. The fixed batch's
  diagonal is complete within seconds (see `python -m clipdemo.bench.bench_learn`).
- "scratch": both towers from random weights, as CLIP itself was trained. Colours come first and the
  shapes much later: the honest, slow curve.

One run per browser session and a server-wide cap on runs that hold a slot (running or paused),
so a classroom cannot overload the server. Each run uses `clipdemo.teach.trainer.Trainer` (the real
objective), a step at a time, in its own thread with its own small torch thread count: torch
releases the GIL during its kernels, so other users' requests keep being served. A run stops at
its step count, on request, after a wall-clock limit, when its session ends, or when nobody has
looked at it for a while; stopping drops the optimiser (the weights stay until reset or session
end, for "use this model"). Views read `snapshot()`: plain numbers only.
"""

from __future__ import annotations

import copy
import gc
import shutil
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from clipdemo.core.devices import pick_device
from clipdemo.core.encoding import projected_features
from clipdemo.core.errors import UserError
from clipdemo.core.loading import BUNDLED_MODEL_DIR, LoadedModel, load_model
from clipdemo.teach.conv_tower import is_conv_tower, with_conv_tower
from clipdemo.teach.live_data import ALL_PAIRS, ScenePool, accuracy_sets, fixed_batch, pair_labels
from clipdemo.teach.locked_image import image_tower, locked_image_model
from clipdemo.teach.trainer import TrainConfig, Trainer, build_model, clip_processor, save_checkpoint

CONCEPTS = ("all", "colour", "shape")
LANGUAGES = ("en", "zh")  # the captions' language: English or Chinese (the bundled tokenizer reads both)
MODES = ("locked", "scratch")  # locked image tower (LiT) | both towers from scratch
IMAGE_TOWERS = ("vit", "cnn")  # from scratch: a ViT (as the bundled model) or a small CNN (clipdemo.teach.conv_tower)
# training scenes: the whole toy world, single objects of any seen pair, or single objects of the batch's 16 pairs
WORLDS = ("full", "single", "pairs")
# Knob bounds: anything outside is refused with a clear message (the UI sliders stay inside them).
LIMITS = {"batch_size": (4, 128), "lr": (1e-5, 1e-2), "width": (16, 256), "steps": (10, 5000), "layers": (1, 8),
          "seed": (0, 2**31 - 1),  # seed: what torch.manual_seed takes (-1e30 made the start fail with `null`)
          "hard_batches": (0.0, 1.0)}
# What the Learn tab offers inside those bounds: sliders (lo, hi, step) and choices; its export box reads the same.
SLIDERS = {"batch_size": (8, 128, 8), "steps": (100, 3000, 50)}
LR_CHOICES = [5e-4, 1e-3, 2e-3, 5e-3]
WIDTH_CHOICES = [32, 64, 128]
RUNNING, PAUSED, FINISHED, STOPPED, FAILED = "running", "paused", "finished", "stopped", "error"
ACTIVE = (RUNNING, PAUSED)  # states that hold one of the server's training slots
# What differs between the modes' defaults. From scratch: a small CNN image tower (clipdemo.teach.conv_tower),
# single objects of the fixed batch's 16 pairs, 32 px pictures (27 steps/s on one thread of a quiet 2-core CPU):
# 15/16 on the diagonal at 44 s (step 1300) with `python -m clipdemo.bench.bench_learn --modes scratch --seconds 120`;
# a tiny ViT stayed at the colour blocks. Two-colour batches (hard_batches) did not help within 400 steps: off.
MODE_DEFAULTS = {"locked": {}, "scratch": {"image_tower": "cnn", "world": "pairs", "image_size": 32, "width": 64,
                                           "layers": 2, "heads": 2, "lr": 2e-3, "steps": 2800}}


class LiveTrainingError(UserError):
    """A request the manager refuses; `code` names the reason so the UI can say it in any language."""

    def __init__(self, code: str, message: str, **info):
        super().__init__(message)
        self.code = code
        self.info = info


@dataclass
class LiveConfig:
    """The Learn tab's knobs. With the defaults (locked image tower) the fixed batch's whole diagonal appears
    within seconds on a 2-core CPU. In "locked" mode `width` and `layers` size the text tower only; the
    image tower (and so the picture size) is the bundled model's."""

    mode: str = "locked"
    batch_size: int = 32
    lr: float = 2e-3
    width: int = 64
    concepts: str = "all"
    steps: int = 600
    language: str = "en"  # captions in English or Chinese (the Learn tab follows the UI language)
    layers: int = 2
    heads: int = 2
    image_size: int = 48
    patch_size: int = 8
    warmup: int = 20
    seed: int = 0
    image_tower: str = "vit"  # from scratch only ("locked" always uses the bundled model's ViT)
    world: str = "full"
    hard_batches: float = 0.0  # share of two-colour batches (shape must tell the pairs apart there)
    logits_every: int = 10  # redraw the heatmap's matrix this often (steps)
    eval_every: int = 50  # held-out accuracy this often (steps)

    @classmethod
    def for_mode(cls, mode: str = "locked", **knobs) -> LiveConfig:
        """The defaults of `mode`, with `knobs` on top."""
        return cls(mode=mode, **(MODE_DEFAULTS.get(mode, {}) | knobs))

    def validate(self) -> LiveConfig:
        for name, (lo, hi) in LIMITS.items():
            value = getattr(self, name)
            if not lo <= value <= hi:
                raise LiveTrainingError("bad_knob", f"{name} must lie between {lo:g} and {hi:g} (got {value:g}).",
                                        knob=name, lo=lo, hi=hi, value=value)
        if self.mode not in MODES:
            raise LiveTrainingError("bad_knob", f"mode must be one of {', '.join(MODES)}.",
                                    knob="mode", lo=MODES[0], hi=MODES[-1], value=self.mode)
        if self.concepts not in CONCEPTS:
            raise LiveTrainingError("bad_knob", f"concepts must be one of {', '.join(CONCEPTS)}.",
                                    knob="concepts", lo=CONCEPTS[0], hi=CONCEPTS[-1], value=self.concepts)
        for name, allowed in (("image_tower", IMAGE_TOWERS), ("world", WORLDS)):
            if getattr(self, name) not in allowed:
                raise LiveTrainingError("bad_knob", f"{name} must be one of {', '.join(allowed)}.",
                                        knob=name, lo=allowed[0], hi=allowed[-1], value=getattr(self, name))
        if self.language not in LANGUAGES:
            raise LiveTrainingError("bad_knob", f"language must be one of {', '.join(LANGUAGES)}.",
                                    knob="language", lo=LANGUAGES[0], hi=LANGUAGES[-1], value=self.language)
        if self.width % self.heads:
            raise LiveTrainingError("bad_knob", f"width must be a multiple of {self.heads}.", knob="width",
                                    lo=LIMITS["width"][0], hi=LIMITS["width"][1], value=self.width)
        return self

    def resolved(self) -> LiveConfig:
        """The config as it will run: a locked image tower fixes the picture size, patch and tower kind."""
        if self.mode != "locked":
            return self
        tower = image_tower()
        return replace(self, image_size=tower.image_size, patch_size=tower.patch_size, image_tower="vit")

    def train_config(self) -> TrainConfig:
        return TrainConfig(steps=self.steps, batch_size=self.batch_size, lr=self.lr, warmup=self.warmup,
                           seed=self.seed, width=self.width, vision_layers=self.layers, text_layers=self.layers,
                           heads=self.heads, image_size=self.image_size, patch_size=self.patch_size,
                           projection_dim=self.width, concepts=self.concepts,
                           zh_captions=1.0 if self.language == "zh" else 0.0)


def make_trainer(cfg: LiveConfig, tokenizer) -> Trainer:
    """A from-scratch CLIP, or (locked) the bundled image tower frozen beside a new text tower."""
    if cfg.mode == "locked":
        model = locked_image_model(tokenizer, cfg.width, cfg.layers, cfg.heads, seed=cfg.seed)
        return Trainer(cfg.train_config(), tokenizer, model=model)
    if cfg.image_tower == "cnn":
        model = with_conv_tower(build_model(cfg.train_config(), tokenizer), cfg.width, seed=cfg.seed)
        return Trainer(cfg.train_config(), tokenizer, model=model)
    return Trainer(cfg.train_config(), tokenizer)


def diagonal_hits(logits) -> int:
    """Pictures (rows) whose highest logit is their own caption (the diagonal)."""
    arr = np.asarray(logits)
    return int((arr.argmax(axis=1) == np.arange(len(arr))).sum()) if arr.size else 0


def status_record(snap: dict | None) -> dict:
    """The run's state for API clients: plain JSON, no figures."""
    if snap is None:
        return {"running": False, "state": "none", "mode": None, "step": 0, "steps": 0, "batch_size": None,
                "diagonal_hits": 0, "fixed_batch": 0, "loss": None}
    h, d, a = snap["history"], snap["diagonal"], snap["accuracy"]
    scale = h["logit_scale"][-1] if h["logit_scale"] else None
    return {
        "running": snap["state"] == RUNNING, "state": snap["state"], "reason": snap["reason"], "error": snap["error"],
        "mode": snap["mode"], "step": snap["step"], "steps": snap["steps"],
        "batch_size": snap["config"]["batch_size"], "config": snap["config"],
        "diagonal_hits": d["hits"][-1] if d["hits"] else 0, "fixed_batch": len(snap["captions"]),
        "diagonal_step": d["step"][-1] if d["step"] else None,
        "loss": h["loss"][-1] if h["loss"] else None,
        "logit_scale": scale, "temperature": 1 / scale if scale else None,
        "seen_accuracy": a["seen"][-1] if a["seen"] else None,
        "heldout_accuracy": a["heldout"][-1] if a["heldout"] else None,
        "seconds": snap["wall_s"], "train_seconds": snap["train_s"],
        "parameters": snap["n_params"], "trained_parameters": snap["n_trained"],
        "curve": {"seconds": d["seconds"], "step": d["step"], "diagonal_hits": d["hits"]},
    }


# ---------------------------------------------------------------- one run


class LiveRun:
    """One session's training: a Trainer driven a step at a time by a daemon thread."""

    def __init__(self, session_id: str, cfg: LiveConfig, tokenizer, time_limit_s: float, idle_timeout_s: float,
                 threads: int):
        self.session_id = session_id
        self.cfg = cfg
        self.time_limit_s = time_limit_s
        self.idle_timeout_s = idle_timeout_s
        self.threads = threads
        self.trainer: Trainer | None = make_trainer(cfg, tokenizer)
        self.tokenizer = tokenizer
        self.n_params = sum(p.numel() for p in self.trainer.model.parameters())
        self.n_trained = sum(p.numel() for p in self.trainer.model.parameters() if p.requires_grad)
        self.images, self.captions, self.combos = fixed_batch(cfg.concepts, cfg.image_size, language=cfg.language)
        self.eval_sets = accuracy_sets(cfg.image_size)
        self.state = RUNNING
        self.reason = ""
        self.error = ""
        self.started = self.last_seen = time.monotonic()
        self.elapsed_running = 0.0
        self.history: dict[str, list[float]] = {k: [] for k in ("step", "loss", "loss_i2t", "loss_t2i",
                                                                "logit_scale")}
        # pictures of the fixed batch that pick their own caption, against steps and seconds since start
        self.diagonal: dict[str, list[float]] = {"step": [], "seconds": [], "hits": []}
        self.accuracy: dict[str, list[float]] = {"step": [], "heldout": [], "seen": []}
        self.logits: list[list[float]] = []
        self.logits_step = -1
        self.exports: list[Path] = []
        self.pool = ScenePool(cfg.image_size, cfg.concepts, language=cfg.language, world=cfg.world,
                              hard=cfg.hard_batches)  # training batches
        self._lock = threading.Lock()  # guards the fields above
        self._model_lock = threading.Lock()  # held during a step, so exports never see half an update
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"live-train-{session_id[:8]}", daemon=True)

    # ------------------------------------------------------------ control (called from request threads)
    def start(self) -> None:
        self._thread.start()

    def pause(self) -> None:
        with self._lock:
            if self.state == RUNNING:
                self.state = PAUSED

    def resume(self) -> None:
        with self._lock:
            if self.state == PAUSED:
                self.state = RUNNING
        self._wake.set()

    def stop(self, reason: str = "user") -> None:
        with self._lock:
            if self.state in ACTIVE:
                self.state, self.reason = STOPPED, reason
        self._stop.set()
        self._wake.set()

    def join(self, timeout: float = 10.0) -> None:
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def release(self) -> None:
        """Drop the model and the optimiser (reset or session end)."""
        self.stop("reset")
        self.join()
        with self._model_lock:
            self.trainer = None
        self.pool = ScenePool(self.cfg.image_size, self.cfg.concepts, language=self.cfg.language,
                              world=self.cfg.world, hard=self.cfg.hard_batches)
        for folder in self.exports:
            shutil.rmtree(folder, ignore_errors=True)

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    # ------------------------------------------------------------ the loop (training thread)
    def _loop(self) -> None:
        torch.set_num_threads(self.threads)  # per thread under OpenMP: other requests keep their threads
        try:
            self._measure()
            while not self._stop.is_set():
                if self._over_limits():
                    break
                if self.state == PAUSED:
                    self._wake.wait(1.0)
                    self._wake.clear()
                    continue
                t0 = time.monotonic()
                with self._model_lock:
                    rec = self.trainer.step(self.pool.batch(self.trainer.rng, self.cfg.batch_size))
                    step = rec["step"]
                    evaluate = step % self.cfg.eval_every == 0 or step == self.cfg.steps
                    if evaluate or step % self.cfg.logits_every == 0:
                        self._measure(logits_only=not evaluate)
                with self._lock:
                    self.elapsed_running += time.monotonic() - t0
                    for k in self.history:
                        self.history[k].append(float(rec[k]))
                    if step >= self.cfg.steps and self.state in ACTIVE:
                        self.state, self.reason = FINISHED, "done"
                if self.state == FINISHED:
                    break
        except Exception as e:  # noqa: BLE001 - a failed run reports its error, the server carries on
            with self._lock:
                self.state, self.reason, self.error = FAILED, "error", f"{type(e).__name__}: {e}"
        finally:
            if self.trainer is not None:  # the optimiser's moments are twice the model: free them now
                self.trainer.opt = None
            gc.collect()

    def _over_limits(self) -> bool:
        now = time.monotonic()
        reason = "time_limit" if now - self.started > self.time_limit_s else \
            "idle" if now - self.last_seen > self.idle_timeout_s else ""
        if reason:
            self.stop(reason)
        return bool(reason)

    @torch.no_grad()
    def _measure(self, logits_only: bool = False) -> None:
        trainer = self.trainer
        model = trainer.model
        model.eval()
        try:
            logits = trainer.logits(self.images, self.captions).float().numpy()
            acc = None if logits_only else self._accuracy(trainer)
        finally:
            model.train()
        hits = diagonal_hits(logits)
        with self._lock:
            self.logits = np.round(logits, 3).tolist()
            self.logits_step = trainer.step_count
            self.diagonal["step"].append(trainer.step_count)
            self.diagonal["seconds"].append(round(time.monotonic() - self.started, 2))
            self.diagonal["hits"].append(hits)
            if acc is not None:
                self.accuracy["step"].append(trainer.step_count)
                self.accuracy["heldout"].append(acc["heldout"])
                self.accuracy["seen"].append(acc["seen"])

    def _accuracy(self, trainer: Trainer) -> dict[str, float]:
        model = trainer.model
        tok = self.tokenizer(pair_labels(self.cfg.language), padding=True, truncation=True, return_tensors="pt")
        text = torch.nn.functional.normalize(projected_features(model.get_text_features(**tok)).float(), dim=-1)
        out = {}
        for name, (images, pairs) in self.eval_sets.items():
            pixels = trainer.encode_batch(images, ["x"] * len(images))[2]
            img = torch.nn.functional.normalize(projected_features(model.get_image_features(pixel_values=pixels)).float(), dim=-1)
            pred = (img @ text.T).argmax(dim=1).tolist()
            out[name] = float(np.mean([ALL_PAIRS[j] == p for j, p in zip(pred, pairs, strict=True)]))
        return out

    # ------------------------------------------------------------ reading
    def snapshot(self) -> dict:
        self.last_seen = time.monotonic()
        with self._lock:
            return {
                "session": self.session_id, "state": self.state, "reason": self.reason, "error": self.error,
                "step": len(self.history["step"]), "steps": self.cfg.steps, "config": asdict(self.cfg),
                "mode": self.cfg.mode, "n_params": self.n_params, "n_trained": self.n_trained,
                "wall_s": round(time.monotonic() - self.started, 1),
                "train_s": round(self.elapsed_running, 1),
                "history": {k: list(v) for k, v in self.history.items()},
                "accuracy": {k: list(v) for k, v in self.accuracy.items()},
                "diagonal": {k: list(v) for k, v in self.diagonal.items()},
                "chance": 1 / len(ALL_PAIRS),
                "logits": [list(r) for r in self.logits], "logits_step": self.logits_step,
                "captions": list(self.captions), "has_model": self.trainer is not None,
            }

    def in_memory_model(self, device: str | None = None) -> LoadedModel:
        """A copy of the current weights, ready for the other tabs without a trip through the disk: for a
        convolutional image tower, which no Hugging Face CLIP folder can hold (a ViT run is exported instead)."""
        with self._model_lock:
            if self.trainer is None:
                raise LiveTrainingError("no_model", "This training was reset; start a new one first.")
            model = copy.deepcopy(self.trainer.model).float().eval().requires_grad_(False)
        dev = pick_device(device)
        text_positions = int(model.config.text_config.max_position_embeddings)
        return LoadedModel(name=f"learn:{self.session_id[:8]}", source=f"learn:{self.cfg.mode}-{self.cfg.image_tower}",
                           model=model.to(dev), processor=clip_processor(self.tokenizer, self.cfg.image_size),
                           tokenizer=self.tokenizer, family="clip", device=dev, dtype=torch.float32,
                           n_params=self.n_params, image_size=self.cfg.image_size,
                           max_text_length=min(int(self.tokenizer.model_max_length or text_positions), text_positions))

    def export(self, root: Path) -> Path:
        """Write the current weights as a standard HF CLIP folder (the same format as the bundled model)."""
        with self._model_lock:
            if self.trainer is None:
                raise LiveTrainingError("no_model", "This training was reset; start a new one first.")
            if is_conv_tower(self.trainer.model):
                raise LiveTrainingError("no_folder", "A model with the convolutional image tower cannot be saved as "
                                        "a Hugging Face CLIP folder (its image tower is not a ViT).")
            step = self.trainer.step_count
            root.mkdir(parents=True, exist_ok=True)
            folder = Path(tempfile.mkdtemp(prefix=f"{self.session_id[:8]}-step{step}-", dir=root))
            save_checkpoint(self.trainer.model, self.tokenizer, folder, self.cfg.image_size, fp16=False)
        for name in ("vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json"):
            if (BUNDLED_MODEL_DIR / name).exists() and not (folder / name).exists():
                shutil.copy(BUNDLED_MODEL_DIR / name, folder / name)
        self.exports.append(folder)
        return folder


# ---------------------------------------------------------------- the server-wide manager


class LiveTrainingManager:
    """All live runs of one server: at most one per session and `max_running` holding slots at once."""

    def __init__(self, max_running: int = 2, time_limit_s: float = 900, idle_timeout_s: float = 300,
                 threads: int = 1, tokenizer=None, export_root: str | Path | None = None):
        self.max_running = max(0, int(max_running))
        self.time_limit_s = time_limit_s
        self.idle_timeout_s = idle_timeout_s
        self.threads = max(1, int(threads))
        self._tokenizer = tokenizer
        self._runs: dict[str, LiveRun] = {}
        self._lock = threading.Lock()
        self._own_root = export_root is None  # only a folder made here is removed at shutdown
        self._export_root = Path(export_root) if export_root else None

    @property
    def export_root(self) -> Path:
        """Where exported checkpoints go; made on the first export (building the app makes nothing on disk)."""
        with self._lock:
            if self._export_root is None:
                self._export_root = Path(tempfile.mkdtemp(prefix="clipdemo-learned-"))
            return self._export_root

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(BUNDLED_MODEL_DIR)
        return self._tokenizer

    def running_count(self) -> int:
        with self._lock:
            return sum(r.active for r in self._runs.values())

    def _run(self, session_id: str) -> LiveRun:
        run = self._runs.get(session_id)
        if run is None:
            raise LiveTrainingError("no_run", "There is no training in this session; press Start first.")
        return run

    def start(self, session_id: str, cfg: LiveConfig | None = None) -> dict:
        """Start (or restart) this session's run. Refused while the server's slots are all taken."""
        cfg = (cfg or LiveConfig()).validate().resolved()
        old = None
        with self._lock:
            others = sum(r.active for s, r in self._runs.items() if s != session_id)
            if others >= self.max_running:
                raise LiveTrainingError("busy", f"{others} trainings are running on this server (the limit is "
                                        f"{self.max_running}). Try again when one has finished.",
                                        running=others, limit=self.max_running)
            old = self._runs.pop(session_id, None)
        if old is not None:  # one run per session: a new start replaces the old one
            old.release()
        run = LiveRun(session_id, cfg, self.tokenizer, self.time_limit_s, self.idle_timeout_s, self.threads)
        with self._lock:
            if sum(r.active for r in self._runs.values()) >= self.max_running:  # lost a race for the last slot
                raise LiveTrainingError("busy", "All training slots were just taken; try again shortly.",
                                        running=self.max_running, limit=self.max_running)
            self._runs[session_id] = run
        run.start()
        return run.snapshot()

    def pause(self, session_id: str) -> dict:
        run = self._run(session_id)
        run.pause()
        return run.snapshot()

    def resume(self, session_id: str) -> dict:
        run = self._run(session_id)
        run.resume()
        return run.snapshot()

    def stop(self, session_id: str, reason: str = "user") -> dict:
        run = self._run(session_id)
        run.stop(reason)
        run.join()
        return run.snapshot()

    def reset(self, session_id: str, registry=None) -> None:
        """Stop and forget this session's run, freeing its memory (and its exported models' folders)."""
        if registry is not None:
            registry.drop_session(session_id)  # its private model goes with it
        with self._lock:
            run = self._runs.pop(session_id, None)
        if run is not None:  # a session that never trained has nothing to free: a full collection holds the
            run.release()    # GIL for ~0.3-0.5 s, and a class leaving at once made 60 of them stall the server
            gc.collect()


    def snapshot(self, session_id: str) -> dict | None:
        with self._lock:
            run = self._runs.get(session_id)
        return run.snapshot() if run is not None else None

    # ------------------------------------------------------------ for API clients (plain JSON)
    def learn_start(self, session_id: str, **knobs) -> dict:
        """Start this session's run; every knob of LiveConfig is optional (unknown ones are refused)."""
        unknown = sorted(set(knobs) - set(LiveConfig.__dataclass_fields__))
        if unknown:
            raise LiveTrainingError("bad_knob", f"unknown setting {unknown[0]!r}; known: "
                                    f"{', '.join(LiveConfig.__dataclass_fields__)}.", knob=unknown[0], lo="", hi="",
                                    value=None)
        defaults = LiveConfig()
        given = {}
        for name, value in knobs.items():
            if value is None:
                continue
            kind = type(getattr(defaults, name))
            try:  # JSON clients send 32.0 for 32 and "0.002" as often as 0.002
                given[name] = kind(value) if kind is not int else int(float(value))
            except (TypeError, ValueError, OverflowError) as e:  # "abc", a list, Infinity as an int
                raise LiveTrainingError("bad_knob", f"{name} must be a {kind.__name__} (got {str(value)[:80]!r}).",
                                        knob=name, lo="", hi="", value=value) from e
        return status_record(self.start(session_id, LiveConfig.for_mode(**given)))

    def learn_status(self, session_id: str) -> dict:
        return status_record(self.snapshot(session_id))

    def export(self, session_id: str) -> Path:
        return self._run(session_id).export(self.export_root)

    def trained_model(self, session_id: str, device: str | None = None, dtype: str | None = None) -> LoadedModel:
        """This session's model for the other tabs: a ViT run is saved and loaded back through `load_model` (the
        path every model takes); a run with the convolutional image tower is copied in memory."""
        run = self._run(session_id)
        if run.cfg.image_tower == "cnn":
            return run.in_memory_model(device)
        return load_model(str(self.export(session_id).resolve()), device, dtype)

    def exported_folders(self, session_id: str) -> list[Path]:
        with self._lock:
            run = self._runs.get(session_id)
        return list(run.exports) if run is not None else []

    def shutdown(self) -> None:
        with self._lock:
            runs = list(self._runs.values())
            self._runs.clear()
        for run in runs:
            run.release()
        if self._own_root and self._export_root is not None:
            shutil.rmtree(self._export_root, ignore_errors=True)
