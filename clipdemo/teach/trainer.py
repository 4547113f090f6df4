"""Train a small CLIP on the toy world with CLIP's own objective: the model, the batches and the step.

A batch holds N rendered scenes and one caption each. The model embeds both, forms the N x N
matrix of cosine similarities times a learned logit scale s (s = 1/τ, τ the temperature), and a
symmetric cross-entropy makes each true pair (the diagonal) win its row (image -> text) and its column (text -> image).
The result is a standard Hugging Face CLIP folder (config, model.safetensors, tokenizer,
processor). The Learn tab drives `Trainer` a step at a time (clipdemo.teach.live_training); the command line
that trained the bundled model, phase by phase, is clipdemo.training.train.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from clipdemo.core import toyworld
from clipdemo.core.toyworld import mixed_caption as training_caption

# OpenAI's normalisation; preprocessor_config.json carries the same numbers.
IMAGE_MEAN = (0.48145466, 0.4578275, 0.40821073)
IMAGE_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass
class TrainConfig:
    steps: int = 5000
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.1
    warmup: int = 200
    seed: int = 0
    width: int = 128
    vision_layers: int = 4
    text_layers: int = 4
    heads: int = 4
    image_size: int = 64
    patch_size: int = 8
    projection_dim: int = 128
    concepts: str = "all"  # "all" | "colour" | "shape": what the captions mention (Learn tab)
    # Share of batches drawn from only two colours: colour cannot tell the pairs apart there, so
    # shape (and size, count, position) must. Speeds up learning shape, the hard part.
    hard_batches: float = 0.0
    # Share of captions that name only the shapes ("a photo of a star."): the plain mix names shapes
    # alone in ~10% of captions, and a model trained on it answers shape-only prompts worst.
    shape_captions: float = 0.0
    # Share of captions written in Chinese (toyworld.zh_training_caption); each caption picks its
    # language independently, so 0.5 gives batches balanced between English and Chinese.
    zh_captions: float = 0.0
    # Locked-image tuning (LiT, Zhai et al. 2022): the image tower stays as it is and only the text
    # side learns. Teaching an already trained model a second language this way cannot disturb what
    # its images mean, and each step costs no image-tower backward pass.
    lock_image: bool = False
    # The mirror image: the text side (both languages' towers, projection and logit scale) stays as it is and
    # only the image tower learns, e.g. to read pictures drawn in other ways (varied_scenes) as it already
    # reads the toy renderer's. Text embeddings do not move, so cross-lingual agreement cannot drift.
    lock_text: bool = False
    # Share of scenes drawn with domain randomisation (toyworld.sample_scene(varied=True)): shades across each
    # colour word's band, wider sizes, hard or smooth edges. Teaches the image tower what stays the same.
    varied_scenes: float = 0.0
    # Share of captions that name only the colours ("a photo of a pink object."): the image tower must then
    # read colour apart from shape, also for colour-shape pairs it never saw.
    colour_captions: float = 0.0
    init_from: str = ""  # continue from a saved checkpoint folder (a second, seeded training phase)
    log_every: int = 50
    extra: dict = field(default_factory=dict)


def build_model(cfg: TrainConfig, tokenizer):
    from transformers import CLIPConfig, CLIPModel

    text = dict(vocab_size=len(tokenizer), hidden_size=cfg.width, intermediate_size=4 * cfg.width,
                num_hidden_layers=cfg.text_layers, num_attention_heads=cfg.heads, max_position_embeddings=77,
                projection_dim=cfg.projection_dim, hidden_act="gelu",
                # The text tower pools the EOS position: these ids must be the tokenizer's.
                bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                pad_token_id=tokenizer.pad_token_id)
    vision = dict(hidden_size=cfg.width, intermediate_size=4 * cfg.width, num_hidden_layers=cfg.vision_layers,
                  num_attention_heads=cfg.heads, image_size=cfg.image_size, patch_size=cfg.patch_size,
                  projection_dim=cfg.projection_dim, hidden_act="gelu")
    config = CLIPConfig(text_config=text, vision_config=vision, projection_dim=cfg.projection_dim)
    torch.manual_seed(cfg.seed)
    return CLIPModel(config)


def images_to_tensor(images, image_size: int) -> torch.Tensor:
    arr = np.stack([np.asarray(im.convert("RGB").resize((image_size, image_size)), np.float32) / 255 for im in images])
    arr = (arr - np.array(IMAGE_MEAN, np.float32)) / np.array(IMAGE_STD, np.float32)
    return torch.from_numpy(arr).permute(0, 3, 1, 2).contiguous()


def sample_batch(rng: random.Random, n: int, image_size: int, concepts: str = "all", hard: float = 0.0,
                 shape_share: float = 0.0, zh_share: float = 0.0, varied: float = 0.0, colour_share: float = 0.0):
    combos = None
    if hard and rng.random() < hard:
        pair = rng.sample(list(toyworld.COLOURS), 2)
        combos = [cs for cs in toyworld.allowed_combos("train") if cs[0] in pair]
    scenes = [toyworld.sample_scene(rng, combos=combos, varied=bool(varied) and rng.random() < varied)
              for _ in range(n)]
    images = [toyworld.render(s, image_size, supersample=2) for s in scenes]
    captions = [training_caption(s, rng, concepts, shape_share, zh_share, colour_share) for s in scenes]
    return scenes, images, captions


def prefetched_batches(cfg: TrainConfig, seed_offset: int = 1, with_scenes: bool = False, ahead: int = 4):
    """Batches drawn by a background thread, `ahead` of the optimiser step. A thread, not a DataLoader worker
    process: forking (or torch's worker signal handlers) inside a process that already runs OpenVINO's, Ray's or
    Gradio's threads crashed the test run with SIGSEGV; drawing is cheap next to a training step anyway."""
    import queue
    import threading

    rng = random.Random(cfg.seed + seed_offset)
    ready: queue.Queue = queue.Queue(maxsize=max(1, ahead))
    done = threading.Event()

    def draw():
        while not done.is_set():
            batch = sample_batch(rng, cfg.batch_size, cfg.image_size, cfg.concepts, cfg.hard_batches,
                                 cfg.shape_captions, cfg.zh_captions, cfg.varied_scenes, cfg.colour_captions)
            while not done.is_set():
                try:
                    ready.put(batch if with_scenes else batch[1:], timeout=0.5)
                    break
                except queue.Full:
                    continue

    threading.Thread(target=draw, name="draw-batches", daemon=True).start()
    try:
        while True:
            yield ready.get()
    finally:  # the caller stopped (or dropped) the generator: the drawing thread ends too
        done.set()


class ImagePool:
    """With the image tower locked, a picture's embedding never changes: draw and embed it once.

    Holds `n_batches` batches drawn as training draws them (two-colour batches included); each step
    then takes one of them and writes fresh captions for its scenes, so a step costs only the text
    tower. LiT precomputes its image embeddings for the same reason."""

    def __init__(self, cfg: TrainConfig, model, n_batches: int, log=None):
        self.scenes: list[list] = []
        self.embeds: list[torch.Tensor] = []
        batches = prefetched_batches(cfg, seed_offset=2, with_scenes=True)
        model.eval()
        with torch.no_grad():
            for b in range(n_batches):
                scenes, images, _ = next(batches)
                self.scenes.append(scenes)
                self.embeds.append(image_embeddings(model, images_to_tensor(images, cfg.image_size)))
                if log and (b + 1) % 50 == 0:
                    log(f"embedded {b + 1}/{n_batches} batches of pictures")

    def __len__(self) -> int:
        return len(self.scenes)


def image_embeddings(model, pixels: torch.Tensor) -> torch.Tensor:
    """Unnormalised projected image embeddings (what CLIPModel.forward computes before normalising)."""
    return model.visual_projection(model.vision_model(pixel_values=pixels).pooler_output)


def contrastive_losses(logits_per_image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """CLIP's symmetric cross-entropy: (image->text, text->image); the target is the diagonal."""
    target = torch.arange(logits_per_image.shape[0], device=logits_per_image.device)
    return F.cross_entropy(logits_per_image, target), F.cross_entropy(logits_per_image.T, target)


class Trainer:
    """A step-at-a-time trainer (used by the CLI and by the Learn tab)."""

    def __init__(self, cfg: TrainConfig, tokenizer, model=None):
        """`model`: a ready CLIPModel instead of a fresh one (the Learn tab's locked-image mode); only its
        parameters that require grad are trained."""
        self.cfg = cfg
        self.tokenizer = tokenizer
        self.model = model if model is not None else build_model(cfg, tokenizer)
        if cfg.init_from:
            load_grown(self.model, cfg.init_from, tokenizer)
        if cfg.lock_image:
            for module in (self.model.vision_model, self.model.visual_projection):
                module.requires_grad_(False)
        if cfg.lock_text:
            for module in (self.model.text_model, self.model.text_projection):
                module.requires_grad_(False)
            self.model.logit_scale.requires_grad_(False)
        self.rng = random.Random(cfg.seed)
        trainable = [(n, p) for n, p in self.model.named_parameters() if p.requires_grad]
        decay = [p for n, p in trainable if p.ndim >= 2 and "embedding" not in n]
        rest = [p for n, p in trainable if not (p.ndim >= 2 and "embedding" not in n)]
        self.opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                                      {"params": rest, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.98),
                                     eps=1e-6)
        self.step_count = 0
        self.history: list[dict] = []

    def lr_at(self, step: int) -> float:
        if step < self.cfg.warmup:
            return self.cfg.lr * (step + 1) / self.cfg.warmup
        t = (step - self.cfg.warmup) / max(1, self.cfg.steps - self.cfg.warmup)
        return self.cfg.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, t)))

    def encode_batch(self, images, captions):
        tok = self.tokenizer(captions, padding=True, truncation=True, return_tensors="pt")
        pixels = images_to_tensor(images, self.cfg.image_size)
        return tok["input_ids"], tok["attention_mask"], pixels

    def logits(self, images, captions) -> torch.Tensor:
        ids, mask, pixels = self.encode_batch(images, captions)
        return self.model(input_ids=ids, attention_mask=mask, pixel_values=pixels).logits_per_image

    def pooled_logits(self, pool: ImagePool) -> torch.Tensor:
        """Logits for one of the pool's batches, with captions written afresh for its scenes."""
        j = self.rng.randrange(len(pool))
        captions = [training_caption(s, self.rng, self.cfg.concepts, self.cfg.shape_captions, self.cfg.zh_captions,
                                     self.cfg.colour_captions) for s in pool.scenes[j]]
        tok = self.tokenizer(captions, padding=True, truncation=True, return_tensors="pt")
        text = self.model.text_projection(self.model.text_model(input_ids=tok["input_ids"],
                                                                attention_mask=tok["attention_mask"]).pooler_output)
        image = F.normalize(pool.embeds[j], dim=-1)
        return self.model.logit_scale.exp() * image @ F.normalize(text, dim=-1).T

    def step(self, batch: tuple | None = None, pool: ImagePool | None = None) -> dict:
        """One optimiser step; `batch` = (images, captions), else one from `pool`, else one is drawn here."""
        self.model.train()
        for g in self.opt.param_groups:
            g["lr"] = self.lr_at(self.step_count)
        if pool is not None:
            logits = self.pooled_logits(pool)
        else:
            if batch is None:
                batch = sample_batch(self.rng, self.cfg.batch_size, self.cfg.image_size, self.cfg.concepts,
                                     self.cfg.hard_batches, self.cfg.shape_captions, self.cfg.zh_captions,
                                     self.cfg.varied_scenes, self.cfg.colour_captions)[1:]
            logits = self.logits(*batch)
        loss_i2t, loss_t2i = contrastive_losses(logits)
        loss = (loss_i2t + loss_t2i) / 2
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.opt.step()
        with torch.no_grad():  # as in CLIP: the logit scale may not exceed 100 (temperature τ >= 0.01)
            self.model.logit_scale.clamp_(0, math.log(100))
        self.step_count += 1
        rec = {"step": self.step_count, "loss": loss.item(), "loss_i2t": loss_i2t.item(),
               "loss_t2i": loss_t2i.item(), "logit_scale": self.model.logit_scale.exp().item(),
               "lr": self.lr_at(self.step_count - 1)}
        self.history.append(rec)
        return rec


def load_grown(model, folder: str | Path, tokenizer) -> None:
    """Load a checkpoint into `model`, whose token table may have more rows than the checkpoint's.

    Rows the checkpoint has keep their weights (token ids are never renumbered, see tokenizer_build);
    new rows keep the model's fresh initialisation, except that a word-final token "X</w>" starts
    equal to "X", so both forms of a new character begin as one point and training splits them."""
    from transformers import CLIPModel

    state = CLIPModel.from_pretrained(folder, dtype=torch.float32).state_dict()
    key = "text_model.embeddings.token_embedding.weight"
    table = model.state_dict()[key].clone()
    old = state[key]
    if old.shape[0] > table.shape[0]:
        raise ValueError(f"{folder} has {old.shape[0]} token rows, more than this tokenizer's {table.shape[0]}")
    table[: old.shape[0]] = old
    vocab = tokenizer.get_vocab()
    for token, i in vocab.items():
        if i >= old.shape[0] and token.endswith("</w>") and vocab.get(token[:-4], -1) >= 0:
            table[i] = table[vocab[token[:-4]]]
    state[key] = table
    model.load_state_dict(state)


def save_checkpoint(model, tokenizer, out_dir: str | Path, image_size: int, fp16: bool = True) -> Path:
    """Write a standard Hugging Face CLIP folder that loads offline with nothing else."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    to_save = model
    if fp16:  # halves the size; no prediction changes (checked by evaluate)
        import copy

        to_save = copy.deepcopy(model).half()
    to_save.save_pretrained(out_dir, safe_serialization=True)
    clip_processor(tokenizer, image_size).save_pretrained(out_dir)
    return out_dir


def clip_processor(tokenizer, image_size: int):
    """The processor of a model trained here: resize the short side, centre crop, OpenAI's normalisation."""
    from transformers import CLIPImageProcessor, CLIPProcessor

    image_processor = CLIPImageProcessor(size={"shortest_edge": image_size},
                                         crop_size={"height": image_size, "width": image_size},
                                         image_mean=list(IMAGE_MEAN), image_std=list(IMAGE_STD))
    return CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer)
