"""Where in an image does a text match? Relevance maps for ViT-based CLIPs.

Four methods, all over the model's patch grid:

* ``decomposition`` (gradient-free; after Gandelsman et al., ICLR 2024). The image embedding is
  the class token read out through a layer norm and a projection; in the last layers the class
  token is a sum of what its attention took from each patch. Linearising the final layer norm
  splits the image-text cosine into one term per patch: what that patch *gave* the image
  embedding. This sidesteps CLIP's "opposite visualisation", which comes from reading a patch's
  *own* token, a token the image embedding never uses directly.
* ``gradcam`` (gradient-based; Grad-CAM on attention, after Chefer et al. 2021): the gradient of
  the image-text cosine with respect to the class token's attention weights in the last layers,
  times those weights, positive part, averaged over heads and summed over layers.
* ``surgery`` (gradient-free; CLIP Surgery, Li et al. 2023): patch tokens from a value-value
  attention path without MLPs, read out like the class token, minus the part the text shares
  with an empty prompt (feature surgery).
* ``naive``: the raw cosine of each final patch token (read out the same way) with the text;
  kept as the baseline that shows the opposite visualisation.

The map covers the region of the original image the model saw (after resize and crop); `box`
says where that is, so maps land on non-square, tiny and huge originals correctly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from clipdemo.core import gpu, limits
from clipdemo.core.encoding import Encoder
from clipdemo.core.errors import InputError
from clipdemo.core.vit_tower import SpatialUnavailable, VisionTower, forward, surgery_tokens, vision_tower

__all__ = ["METHODS", "SpatialMap", "SpatialUnavailable", "place_grid", "spatial_map", "view_box"]

METHODS = ("decomposition", "gradcam", "surgery", "naive")
SURGERY_NEUTRAL = ""  # CLIP Surgery's redundant feature for a single text: the empty prompt


def explained_layers(n_layers: int) -> int:
    """How many final layers the decomposition and Grad-CAM read (4 of ViT-B's 12, a third of deeper ones)."""
    return min(n_layers, max(4, n_layers // 3))


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
    patches: tuple[int, int] = (0, 0)  # the model's patch grid (the map may be finer, see refine)

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
        """Plain Python numbers only: numpy scalars reach JSON clients as strings (hottest_point did)."""
        x, y = self.hottest_point()
        return {"method": self.method, "text": self.text, "score": round(float(self.score), digits),
                "grid_size": [int(v) for v in self.grid.shape], "patch_grid": [int(v) for v in self.patches],
                "relevance": [[round(float(v), digits) for v in row] for row in self.grid],
                "raw": [[round(float(v), digits) for v in row] for row in self.raw],
                "box": [round(float(v), 2) for v in self.box], "image_size": [int(v) for v in self.image_size],
                "hottest_point": [round(float(x), 1), round(float(y), 1)]}


def _scale01(m: np.ndarray) -> np.ndarray:
    lo, hi = float(np.min(m)), float(np.max(m))
    return (m - lo) / (hi - lo) if hi > lo else np.zeros_like(m)


def _text_embedding(embedded: dict[str, np.ndarray], texts: list[str], device) -> torch.Tensor:
    """The texts' embeddings, encoded beforehand by the caller (spatial_map) and looked up here."""
    return torch.from_numpy(np.stack([embedded[t] for t in texts])).to(device, torch.float32)


def _texts_needed(method: str, text: str, contrast: list[str] | None) -> list[str]:
    """What a method compares the patches with (as _surgery picks them)."""
    others = [c for c in dict.fromkeys(contrast or []) if c and c != text]
    return [text, *others] if method == "surgery" and others else [text, SURGERY_NEUTRAL] if method == "surgery" else [text]


def _per_token(att, u: torch.Tensor) -> torch.Tensor:
    """Sum over heads of attention(query 0 -> token) x (value(token) . u_head); u is (heads, head_dim)."""
    w = att.weights[0, :, 0, :].float()  # heads x tokens: the class token's (or the probe's) attention
    return (w * (att.values[0].float() @ u[:, :, None]).squeeze(-1)).sum(0)


@torch.inference_mode()
def _decomposition(tower: VisionTower, embedded, pixels, text):
    t = _text_embedding(embedded, [text], pixels.device)[0]
    x, atts = forward(tower, pixels)
    emb, head_att = tower.pool_with_attention(x)
    scale = 1.0 / emb.float().norm()  # the cosine divides by |image embedding|
    if tower.head is not None:  # SigLIP: what the pooling head's probe takes from each token (MLP left out)
        out = tower.head.attention.out_proj.weight.float()
        return _per_token(head_att, (out.T @ (t * scale)).view(head_att.values.shape[1], -1))
    # The final layer norm is linear once its statistics are fixed to the class token's: a residual
    # component c adds (c - mean c) . d to the cosine, with d the text direction seen through it.
    ln = tower.post_norm
    cls = x[0, 0].float()
    sigma = torch.sqrt(cls.var(unbiased=False) + ln.eps)
    d = ln.weight.float() * (tower.projection.weight.float().T @ t) * scale / sigma
    d = d - d.mean()
    k = explained_layers(len(tower.layers))
    total = 0
    for layer, att in zip(tower.layers[-k:], atts[-k:], strict=True):
        u = layer.self_attn.out_proj.weight.float().T @ d  # through the output projection, split by head
        total = total + _per_token(att, u.view(att.values.shape[1], -1))
    return total[tower.n_prefix:]


def _gradcam(tower: VisionTower, embedded, pixels, text):
    t = _text_embedding(embedded, [text], pixels.device)[0]
    k = explained_layers(len(tower.layers))
    with torch.enable_grad():
        x, atts = forward(tower, pixels.detach(), track=True)
        emb, head_att = tower.pool_with_attention(x)
        score = F.normalize(emb.float(), dim=-1)[0] @ t
        weights = [head_att.weights] if tower.head is not None else [a.weights for a in atts[-k:]]
        # autograd.grad, not backward: no .grad is left on the shared model's parameters.
        grads = torch.autograd.grad(score, weights)
    cam = sum(torch.relu(g.float() * w.detach().float()).mean(1)[0, 0] for w, g in zip(weights, grads, strict=True))
    return cam[tower.n_prefix:]


@torch.inference_mode()
def _surgery(tower: VisionTower, embedded, pixels, text, contrast):
    final, new = surgery_tokens(tower, pixels)
    patches = F.normalize(tower.project_tokens(new[0]).float(), dim=-1)
    others = [c for c in dict.fromkeys(contrast or []) if c and c != text]
    if not others:
        t, neutral = _text_embedding(embedded, [text, SURGERY_NEUTRAL], pixels.device)
        return patches @ (t - neutral)
    # Several texts: CLIP Surgery's class-weighted mean of the element-wise products is the redundancy.
    texts = _text_embedding(embedded, [text, *others], pixels.device)
    image = F.normalize(tower.pool(final).float(), dim=-1)[0]
    prob = torch.softmax(2 * (texts @ image), dim=0)
    weighted = texts * (prob / prob.mean())[:, None]
    return patches @ (weighted[0] - weighted.mean(0))


@torch.inference_mode()
def _naive(tower: VisionTower, embedded, pixels, text):
    x, _ = forward(tower, pixels)
    patches = F.normalize(tower.project_tokens(x[0, tower.n_prefix:]).float(), dim=-1)
    return patches @ _text_embedding(embedded, [text], pixels.device)[0]


def _half_patch_shifts(method_fn, tower: VisionTower, pixels: torch.Tensor) -> np.ndarray:
    """Run a method on the input shifted by 0 and 1/2 patch in each direction; average on a 2x finer grid.

    A patch grid is coarse (8 x 8 for the bundled model, 7 x 7 for ViT-B/32): an object smaller than
    two patches often peaks on a patch that is mostly background. The shifted runs see the object
    split differently; each fine cell averages the patches that covered it.
    """
    gh, gw = tower.grid
    (height, width), half = pixels.shape[-2:], tower.patch // 2
    total, count = np.zeros((2 * gh, 2 * gw)), np.zeros((2 * gh, 2 * gw))
    for dy in (0, half):
        for dx in (0, half):
            shifted = F.pad(pixels, (dx, 0, dy, 0), mode="replicate")[..., :height, :width]
            coarse = method_fn(shifted).detach().float().cpu().numpy().reshape(gh, gw)
            fine = coarse.repeat(2, axis=0).repeat(2, axis=1)  # coarse patch (r, c) covers fine 2r..2r+1
            oy, ox = int(dy > 0), int(dx > 0)  # content moved down/right by half a patch = one fine cell
            total[:2 * gh - oy, :2 * gw - ox] += fine[oy:, ox:]
            count[:2 * gh - oy, :2 * gw - ox] += 1
    return total / count


def _for_display(raw: np.ndarray, method: str) -> np.ndarray:
    """Scale to [0, 1]. The decomposition's scale starts at the median patch: most patches give the
    image embedding a little of everything, and only what stands out above that is shown."""
    if method == "decomposition":
        raw = np.maximum(raw - np.median(raw), 0)
    return _scale01(raw)


def spatial_map(encoder: Encoder, image: Image.Image, text: str, method: str = "gradcam",
                contrast: list[str] | None = None, refine: bool = True) -> SpatialMap:
    """Relevance of each image region for `text`.

    contrast: other texts (surgery only; default: none). refine: half-patch shifts, a 2x finer grid
    for 4 forward passes (the pointing game gains about 10 points on the bundled model).
    """
    text = (text or "").strip()
    if not text:
        raise InputError("Type a text to look for.")
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    tower = vision_tower(encoder.loaded)  # here first: a model without a patch grid is told before any GPU work
    image = image.convert("RGB")
    texts = _texts_needed(method, text, contrast)
    embedded = dict(zip(texts, encoder.encode_texts(texts), strict=True))
    pixels = encoder.preprocess([image])
    if isinstance(pixels, dict):  # SigLIP 2 NaFlex: the grid is this picture's own
        tower = tower.for_naflex(pixels)[0]
    with encoder.exclusive():  # one forward pass per model at a time, as the encoder does
        raw = _raw_map_on_gpu(encoder.gpu_key, pixels, text, method, contrast, refine, embedded)
    score = float(encoder.encode_images([image])[0] @ embedded[text])
    return SpatialMap(method, text, _for_display(raw, method), raw, view_box(encoder.loaded.processor, *image.size),
                      image.size, score, tower.grid)


@gpu.gpu_task(duration=gpu.seconds_for(1, limits.GPU_SPATIAL_MAP_S))
def _raw_map_on_gpu(key: str, pixels: torch.Tensor | dict, text: str, method: str, contrast: list[str] | None, refine: bool,
                    embedded: dict[str, np.ndarray]) -> np.ndarray:
    """The relevance grid (patch grid, or 2x finer with `refine`), on the model's device; ZeroGPU's GPU function
    (clipdemo.core.gpu): picklable arguments, texts already embedded, no lock taken in here."""
    encoder: Encoder = gpu.lookup(key)
    tower = vision_tower(encoder.loaded)
    if isinstance(pixels, dict):  # SigLIP 2 NaFlex: the tower re-run on this picture's own patch grid
        tower, pixels = tower.for_naflex({k: v.to(encoder.loaded.device) for k, v in pixels.items()})
    else:
        pixels = pixels.to(encoder.loaded.device)
    runs = {"decomposition": lambda px: _decomposition(tower, embedded, px, text),
            "gradcam": lambda px: _gradcam(tower, embedded, px, text),
            "surgery": lambda px: _surgery(tower, embedded, px, text, contrast),
            "naive": lambda px: _naive(tower, embedded, px, text)}
    if refine:
        return _half_patch_shifts(runs[method], tower, pixels)
    return runs[method](pixels).detach().float().cpu().numpy().reshape(tower.grid)


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
