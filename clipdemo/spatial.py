"""Where in an image does a text match? Relevance maps for ViT-based CLIPs.

Three methods, all over the model's patch grid:

* ``surgery`` (gradient-free, after CLIP Surgery, Li et al. 2023). Patch tokens of a plain
  CLIP point at the wrong places ("opposite visualisation"): the last layers' query-key
  attention mixes global information into every patch. A second path replaces it with
  value-value attention (no MLP) in the last layers, so each patch keeps its own content; the
  patches are projected into the joint space like the class token. Feature surgery then removes
  what the text shares with a neutral prompt (or with the other texts), i.e. the part of the
  similarity that is high everywhere.
* ``gradcam`` (gradient-based, Grad-CAM for ViTs): the gradient of the image-text cosine with
  respect to the tokens entering the last layers weights their channels; the positive part
  of the weighted sum is the map.
* ``naive``: raw cosine between each final patch token (projected) and the text. Kept as the
  baseline that shows CLIP's opposite visualisation.

The map covers the region of the original image the model saw (after resize and crop); `box`
says where that is, so maps land on non-square, tiny and huge originals correctly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from clipdemo.encoding import Encoder
from clipdemo.loading import LoadedModel

METHODS = ("surgery", "gradcam", "naive")
SURGERY_NEUTRAL = ""  # CLIP Surgery's redundant feature for a single text: the empty prompt


class SpatialUnavailable(ValueError):
    """This model has no patch grid we know how to read (not a ViT, or an unknown layout)."""


# ---------------------------------------------------------------- the vision tower, driven by hand


@dataclass
class VisionTower:
    """The parts of a ViT image encoder this module runs layer by layer (CLIP, Chinese-CLIP, SigLIP)."""

    embeddings: torch.nn.Module
    pre_norm: torch.nn.Module | None
    layers: list
    post_norm: torch.nn.Module
    projection: torch.nn.Module | None  # CLIP: visual_projection after the class token
    head: torch.nn.Module | None  # SigLIP: attention-pooling head instead of a class token
    grid: tuple[int, int]

    @property
    def n_prefix(self) -> int:
        """Tokens before the patches (1 class token for CLIP, none for SigLIP)."""
        return 0 if self.head is not None else 1

    def embed(self, pixels: torch.Tensor) -> torch.Tensor:
        x = self.embeddings(pixels)
        return self.pre_norm(x) if self.pre_norm is not None else x

    def pool(self, x: torch.Tensor) -> torch.Tensor:
        """Final token sequence -> image embedding (un-normalised), as get_image_features does."""
        if self.head is not None:
            return self.head(self.post_norm(x))
        return self.projection(self.post_norm(x[:, 0]))

    def project_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        """Patch tokens -> the joint space, through the same read-out the pooled token takes."""
        x = self.post_norm(tokens)
        if self.head is None:
            return self.projection(x)
        # SigLIP's pooling head with all attention on one token: value + output projection, then its MLP.
        mha = self.head.attention
        c = x.shape[-1]
        h = mha.out_proj(F.linear(x, mha.in_proj_weight[2 * c:], mha.in_proj_bias[2 * c:]))
        return h + self.head.mlp(self.head.layernorm(h))


def vision_tower(loaded: LoadedModel) -> VisionTower:
    """Find the ViT inside a loaded model, or say clearly why there is no spatial map."""
    model = loaded.model
    vm = getattr(model, "vision_model", None)
    emb = getattr(vm, "embeddings", None)
    layers = list(getattr(getattr(vm, "encoder", None), "layers", []) or [])
    if vm is None or emb is None or not isinstance(getattr(emb, "patch_embedding", None), torch.nn.Conv2d):
        raise SpatialUnavailable(f"{loaded.name} has no ViT image encoder with a patch grid: spatial maps are "
                                 "available for ViT-based CLIP, Chinese-CLIP and SigLIP models only.")
    attn = getattr(layers[0], "self_attn", None) if layers else None
    if attn is None or not all(hasattr(attn, n) for n in ("q_proj", "k_proj", "v_proj", "out_proj")):
        raise SpatialUnavailable(f"{loaded.name}: unknown attention layout, spatial maps are unavailable.")
    head = getattr(vm, "head", None) if getattr(vm, "use_head", False) else None
    projection = getattr(model, "visual_projection", None)
    if head is None and (projection is None or not hasattr(emb, "class_embedding")):
        raise SpatialUnavailable(f"{loaded.name}: no class token or pooling head found; spatial maps are "
                                 "unavailable for this model.")
    if head is not None and not isinstance(getattr(head, "attention", None), torch.nn.MultiheadAttention):
        raise SpatialUnavailable(f"{loaded.name}: unknown pooling head; spatial maps are unavailable.")
    cfg = vm.config
    side = int(cfg.image_size) // int(cfg.patch_size)
    return VisionTower(emb, getattr(vm, "pre_layrnorm", None), layers, vm.post_layernorm, projection, head,
                       (side, side))


def _attention(layer, h: torch.Tensor, value_value: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """One multi-head attention with the layer's own weights; value_value=True is CLIP Surgery's v-v attention."""
    a = layer.self_attn
    b, n, c = h.shape
    heads = c // a.head_dim

    def split(t):
        return t.view(b, n, heads, a.head_dim).transpose(1, 2)

    v = split(a.v_proj(h))
    q, k = (v, v) if value_value else (split(a.q_proj(h)), split(a.k_proj(h)))
    weights = torch.softmax((q @ k.transpose(-1, -2)).float() * a.scale, dim=-1).to(v.dtype)
    out = (weights @ v).transpose(1, 2).reshape(b, n, c)
    return a.out_proj(out), weights


def _block(layer, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    y, weights = _attention(layer, layer.layer_norm1(x))
    x = x + y
    return x + layer.mlp(layer.layer_norm2(x)), weights


def forward_tokens(tower: VisionTower, pixels: torch.Tensor) -> torch.Tensor:
    """The ordinary forward pass, by hand (tests check it against get_image_features)."""
    x = tower.embed(pixels)
    for layer in tower.layers:
        x, _ = _block(layer, x)
    return x


def surgery_depth(n_layers: int) -> int:
    """How many final layers get the value-value path (CLIP Surgery uses the last half of ViT-B)."""
    return max(1, n_layers // 2)


def surgery_tokens(tower: VisionTower, pixels: torch.Tensor, depth: int | None = None):
    """(final tokens of the ordinary path, patch tokens of the value-value path)."""
    depth = depth or surgery_depth(len(tower.layers))
    start = len(tower.layers) - depth
    x = tower.embed(pixels)
    new = None
    for i, layer in enumerate(tower.layers):
        if i == start:
            new = x
        if i >= start:  # the new path adds v-v attention of the ordinary path's features, and skips the MLP
            new = new + _attention(layer, layer.layer_norm1(x), value_value=True)[0]
        x, _ = _block(layer, x)
    return x, new[:, tower.n_prefix:]


# ---------------------------------------------------------------- the methods


@dataclass
class SpatialMap:
    method: str
    text: str
    grid: np.ndarray  # (rows, cols) relevance scaled to [0, 1]; row 0 is the top of the image
    raw: np.ndarray  # the same before scaling (method-specific units)
    box: tuple[float, float, float, float]  # the part of the original the model saw: x0, y0, x1, y1 in pixels
    image_size: tuple[int, int]  # original (width, height)
    score: float  # cosine of the whole image with the text

    def on_image(self, width: int | None = None, height: int | None = None) -> np.ndarray:
        """The map at (height, width) pixels over the original image; NaN where the model saw nothing."""
        w0, h0 = self.image_size
        return place_grid(self.grid, self.box, self.image_size, width or w0, height or h0)

    def hottest_point(self) -> tuple[float, float]:
        """Where the map peaks, in original pixel coordinates (the pointing game's guess)."""
        w0, h0 = self.image_size
        scale = min(1.0, 512 / max(w0, h0))  # a 512-px rendering locates the peak well enough
        w, h = max(1, round(w0 * scale)), max(1, round(h0 * scale))
        m = self.on_image(w, h)
        r, c = np.unravel_index(np.nanargmax(m), m.shape)
        return (c + 0.5) * w0 / w, (r + 0.5) * h0 / h

    def as_json(self, digits: int = 4) -> dict:
        x, y = self.hottest_point()
        return {"method": self.method, "text": self.text, "score": round(self.score, digits),
                "grid_size": list(self.grid.shape),
                "relevance": [[round(float(v), digits) for v in row] for row in self.grid],
                "raw": [[round(float(v), digits) for v in row] for row in self.raw],
                "box": [round(v, 2) for v in self.box], "image_size": list(self.image_size),
                "hottest_point": [round(x, 1), round(y, 1)]}


def _scale01(m: np.ndarray) -> np.ndarray:
    lo, hi = float(np.min(m)), float(np.max(m))
    return (m - lo) / (hi - lo) if hi > lo else np.zeros_like(m)


def _text_embeddings(encoder: Encoder, texts: list[str], device, dtype) -> torch.Tensor:
    return torch.from_numpy(encoder.encode_texts(texts)).to(device, dtype)


@torch.inference_mode()
def _surgery(tower, encoder, pixels, text, contrast):
    final, new = surgery_tokens(tower, pixels)
    dev = pixels.device
    patches = F.normalize(tower.project_tokens(new[0]).float(), dim=-1)
    others = [c for c in dict.fromkeys(contrast or []) if c and c != text]
    if not others:
        t, neutral = _text_embeddings(encoder, [text, SURGERY_NEUTRAL], dev, torch.float32)
        return patches @ (t - neutral)
    # Several texts: CLIP Surgery's class-weighted mean of the element-wise products is the redundancy.
    texts = _text_embeddings(encoder, [text, *others], dev, torch.float32)
    image = F.normalize(tower.pool(final).float(), dim=-1)[0]
    prob = torch.softmax(2 * (texts @ image), dim=0)
    w = prob / prob.mean()
    weighted = texts * w[:, None]
    return patches @ (weighted[0] - weighted.mean(0))


@torch.inference_mode()
def _naive(tower, encoder, pixels, text):
    x = forward_tokens(tower, pixels)
    patches = F.normalize(tower.project_tokens(x[0, tower.n_prefix:]).float(), dim=-1)
    return patches @ _text_embeddings(encoder, [text], pixels.device, torch.float32)[0]


def _gradcam(tower, encoder, pixels, text, n_layers: int = 1):
    """Grad-CAM on the tokens entering the last `n_layers` layers, averaged after scaling each."""
    start = len(tower.layers) - n_layers
    t = _text_embeddings(encoder, [text], pixels.device, torch.float32)[0]
    with torch.enable_grad():
        x = tower.embed(pixels.detach())
        acts = []
        for i, layer in enumerate(tower.layers):
            if i >= start:
                acts.append(x)
            x, _ = _block(layer, x)
        score = F.normalize(tower.pool(x).float(), dim=-1)[0] @ t
        # autograd.grad, not backward: no .grad is left on the shared model's parameters.
        grads = torch.autograd.grad(score, acts)
    cams = []
    for a, g in zip(acts, grads, strict=True):
        a, g = a[0, tower.n_prefix:].float().detach(), g[0, tower.n_prefix:].float()
        cams.append(torch.relu(a @ g.mean(0)))
    cams = [c / c.max() if c.max() > 0 else c for c in cams]
    return torch.stack(cams).mean(0)


def spatial_map(encoder: Encoder, image: Image.Image, text: str, method: str = "surgery",
                contrast: list[str] | None = None) -> SpatialMap:
    """Relevance of each image patch for `text`. `contrast`: other texts (surgery only; default: none)."""
    text = (text or "").strip()
    if not text:
        raise ValueError("Type a text to look for.")
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    tower = vision_tower(encoder.loaded)
    image = image.convert("RGB")
    pixels = encoder.preprocess([image])
    with encoder._lock:  # one forward pass per model at a time, as the encoder does
        if method == "surgery":
            raw = _surgery(tower, encoder, pixels, text, contrast)
        elif method == "naive":
            raw = _naive(tower, encoder, pixels, text)
        else:
            raw = _gradcam(tower, encoder, pixels, text)
    raw = raw.detach().float().cpu().numpy().reshape(tower.grid)
    score = float(encoder.encode_images([image])[0] @ encoder.encode_texts([text])[0])
    return SpatialMap(method, text, _scale01(raw), raw, view_box(encoder.loaded.processor, *image.size),
                      image.size, score)


# ---------------------------------------------------------------- placing the map on the original


def _size_of(v, key: str) -> int | None:
    """A processor's size entry: a dict (transformers 4), a SizeDict (5) or a bare int."""
    if isinstance(v, (int, float)):
        return int(v)
    got = v.get(key) if isinstance(v, dict) else getattr(v, key, None)
    return int(got) if got else None


def view_box(processor, width: int, height: int) -> tuple[float, float, float, float]:
    """The region of a width x height original that the processor hands the model, in original pixels.

    CLIP-style processors resize the short side and crop the centre; SigLIP-style ones squash the
    whole image to a square (the box is then the whole image).
    """
    ip = getattr(processor, "image_processor", processor)
    size = getattr(ip, "size", None)
    short = _size_of(size, "shortest_edge") if getattr(ip, "do_resize", True) else None
    if not short:
        return 0.0, 0.0, float(width), float(height)
    # Resize as transformers does: the short side to `short`, the long side truncated proportionally.
    if width <= height:
        new_w, new_h = short, int(short * height / width)
    else:
        new_w, new_h = int(short * width / height), short
    crop = getattr(ip, "crop_size", None)
    if getattr(ip, "do_center_crop", False) and crop:
        cw, ch = _size_of(crop, "width") or short, _size_of(crop, "height") or short
    else:
        cw, ch = new_w, new_h
    left, top = (new_w - cw) // 2, (new_h - ch) // 2
    sx, sy = width / new_w, height / new_h
    return left * sx, top * sy, (left + cw) * sx, (top + ch) * sy


def place_grid(grid: np.ndarray, box, image_size, out_w: int, out_h: int, smooth: bool = True) -> np.ndarray:
    """Resample a patch grid onto out_h x out_w pixels covering the original; NaN outside `box`.

    Each output pixel's centre is mapped to original coordinates, then into the grid (patch
    centres at half-integers), and interpolated bilinearly (or nearest patch with smooth=False).
    """
    gh, gw = grid.shape
    w0, h0 = image_size
    x0, y0, x1, y1 = box
    xs = (np.arange(out_w) + 0.5) * w0 / out_w
    ys = (np.arange(out_h) + 0.5) * h0 / out_h
    gx = (xs - x0) / (x1 - x0) * gw
    gy = (ys - y0) / (y1 - y0) * gh
    if smooth:
        out = _interp_axis(_interp_axis(grid, gy - 0.5, axis=0), gx - 0.5, axis=1)
    else:
        out = grid[np.clip(gy.astype(int), 0, gh - 1)][:, np.clip(gx.astype(int), 0, gw - 1)]
    out = out.astype(np.float64)
    out[~((gy >= 0) & (gy < gh)), :] = np.nan
    out[:, ~((gx >= 0) & (gx < gw))] = np.nan
    return out


def _interp_axis(a: np.ndarray, pos: np.ndarray, axis: int) -> np.ndarray:
    n = a.shape[axis]
    pos = np.clip(pos, 0, n - 1)
    i0 = np.floor(pos).astype(int)
    i1 = np.minimum(i0 + 1, n - 1)
    f = pos - i0
    lo, hi = np.take(a, i0, axis=axis), np.take(a, i1, axis=axis)
    f = f[:, None] if axis == 0 else f[None, :]
    return lo * (1 - f) + hi * f
