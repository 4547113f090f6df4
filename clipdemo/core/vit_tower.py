"""Drive a CLIP-family ViT image encoder layer by layer, keeping what relevance maps need.

transformers runs the vision tower as one call; spatial maps need its insides: each layer's
attention weights and values, tokens on an alternative path (CLIP Surgery) and the read-out
that turns a token into the joint space. `VisionTower` wraps the modules of CLIP, Chinese-CLIP,
MetaCLIP 2, SigLIP (which pools with an attention head instead of a class token) and SigLIP 2 NaFlex
(a patch grid of each picture's own shape) and re-runs them with the models' own weights; tests
check the result against `get_image_features`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F

from clipdemo.core.errors import UserError
from clipdemo.core.loading import LoadedModel


class SpatialUnavailable(UserError):
    """This model has no patch grid we know how to read (not a ViT, or an unknown layout)."""


@dataclass
class Attention:
    """One layer's attention as used by the maps: weights (B, heads, queries, keys), values (B, heads, keys, d)."""

    weights: torch.Tensor
    values: torch.Tensor


@dataclass
class VisionTower:
    embeddings: torch.nn.Module
    pre_norm: torch.nn.Module | None
    layers: list
    post_norm: torch.nn.Module
    projection: torch.nn.Module | None  # CLIP: visual_projection after the class token
    head: torch.nn.Module | None  # SigLIP: attention-pooling head instead of a class token
    grid: tuple[int, int]  # patches (rows, columns)
    patch: int  # patch side in input pixels
    # SigLIP 2 NaFlex: the picture's own patch grid, (1, 2) as the processor gives it (None: a fixed grid).
    # Its embeddings take flattened patches; `embed` cuts the (B, 3, H, W) pixels into them, so every method
    # (and the half-patch shifts) works on a picture as for the other models.
    spatial_shapes: torch.Tensor | None = None

    @property
    def n_prefix(self) -> int:
        """Tokens before the patches (1 class token for CLIP, none for SigLIP)."""
        return 0 if self.head is not None else 1

    def embed(self, pixels: torch.Tensor) -> torch.Tensor:
        if self.spatial_shapes is not None:
            x = self.embeddings(to_patches(pixels, self.patch), self.spatial_shapes.expand(len(pixels), 2))
        else:
            x = self.embeddings(pixels)
        return self.pre_norm(x) if self.pre_norm is not None else x

    def for_naflex(self, features: dict) -> tuple[VisionTower, torch.Tensor]:
        """NaFlex: this tower fitted to one picture's grid, and that picture as (1, 3, H, W) pixels (padding
        patches dropped: with one picture nothing needs masking)."""
        shapes = features["spatial_shapes"][:1]
        h, w = (int(v) for v in shapes[0])
        return replace(self, grid=(h, w), spatial_shapes=shapes), from_patches(features["pixel_values"][:1], h, w,
                                                                               self.patch)

    def pool(self, x: torch.Tensor) -> torch.Tensor:
        """Final token sequence -> image embedding (un-normalised), as get_image_features does."""
        return self.pool_with_attention(x)[0]

    def pool_with_attention(self, x: torch.Tensor) -> tuple[torch.Tensor, Attention | None]:
        """The embedding, and for SigLIP the pooling head's attention (its probe is the only query)."""
        if self.head is None:
            return self.projection(self.post_norm(x[:, 0])), None
        mha = self.head.attention
        b, n, c = x.shape
        heads = mha.num_heads
        d = c // heads
        tokens = self.post_norm(x)
        wq, wk, wv = mha.in_proj_weight.split(c)
        bq, bk, bv = mha.in_proj_bias.split(c)
        q = F.linear(self.head.probe.expand(b, 1, c), wq, bq).view(b, 1, heads, d).transpose(1, 2)
        k = F.linear(tokens, wk, bk).view(b, n, heads, d).transpose(1, 2)
        v = F.linear(tokens, wv, bv).view(b, n, heads, d).transpose(1, 2)
        weights = torch.softmax((q @ k.transpose(-1, -2)).float() * d ** -0.5, dim=-1).to(v.dtype)
        h = mha.out_proj((weights @ v).transpose(1, 2).reshape(b, 1, c))
        h = h + self.head.mlp(self.head.layernorm(h))
        return h[:, 0], Attention(weights, v)

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


def to_patches(pixels: torch.Tensor, patch: int) -> torch.Tensor:
    """(B, 3, H, W) -> (B, rows*cols, patch*patch*3), in the order of SigLIP 2's image processor."""
    b, c, h, w = pixels.shape
    x = pixels.reshape(b, c, h // patch, patch, w // patch, patch).permute(0, 2, 4, 3, 5, 1)
    return x.reshape(b, (h // patch) * (w // patch), patch * patch * c)


def from_patches(patches: torch.Tensor, rows: int, cols: int, patch: int) -> torch.Tensor:
    """The inverse of `to_patches` for the first rows*cols patches (the rest is padding)."""
    b = patches.shape[0]
    x = patches[:, :rows * cols].reshape(b, rows, cols, patch, patch, -1)
    return x.permute(0, 5, 1, 3, 2, 4).reshape(b, -1, rows * patch, cols * patch)


def vision_tower(loaded: LoadedModel) -> VisionTower:
    """Find the ViT inside a loaded model, or say clearly why there is no spatial map."""
    model = loaded.model
    vm = getattr(model, "vision_model", None)
    emb = getattr(vm, "embeddings", None)
    layers = list(getattr(getattr(vm, "encoder", None), "layers", []) or [])
    naflex = getattr(loaded, "is_naflex", False)
    patch_kind = torch.nn.Linear if naflex else torch.nn.Conv2d  # NaFlex embeds flattened patches
    if vm is None or emb is None or not isinstance(getattr(emb, "patch_embedding", None), patch_kind):
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
    # NaFlex's grid is each picture's own (`for_naflex`); until then, that of a square picture
    side = int(int(cfg.num_patches) ** 0.5) if naflex else int(cfg.image_size) // int(cfg.patch_size)
    return VisionTower(emb, getattr(vm, "pre_layrnorm", None), layers, vm.post_layernorm, projection, head,
                       (side, side), int(cfg.patch_size))


def attention(layer, h: torch.Tensor, value_value: bool = False) -> tuple[torch.Tensor, Attention]:
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
    return a.out_proj(out), Attention(weights, v)


def block(layer, x: torch.Tensor) -> tuple[torch.Tensor, Attention]:
    y, att = attention(layer, layer.layer_norm1(x))
    x = x + y
    return x + layer.mlp(layer.layer_norm2(x)), att


def forward(tower: VisionTower, pixels: torch.Tensor, track: bool = False) -> tuple[torch.Tensor, list[Attention]]:
    """The ordinary forward pass, by hand: final tokens and every layer's attention.

    track=True makes sure the graph is recorded even when the model's parameters are frozen.
    """
    x = tower.embed(pixels)
    if track and not x.requires_grad:
        x = x.detach().requires_grad_()
    atts = []
    for layer in tower.layers:
        x, att = block(layer, x)
        atts.append(att)
    return x, atts


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
            new = new + attention(layer, layer.layer_norm1(x), value_value=True)[0]
        x, _ = block(layer, x)
    return x, new[:, tower.n_prefix:]
