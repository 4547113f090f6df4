"""Spatial maps: the hand-driven forward pass, map shapes, and placement on odd-shaped originals."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

from clipdemo.core import spatial, vit_tower
from clipdemo.ui import overlay


@pytest.fixture(scope="module")
def scene(toy_images):
    return toy_images[0][0]


def test_hand_forward_matches_get_image_features(tiny_encoder, scene):
    tower = vit_tower.vision_tower(tiny_encoder.loaded)
    pixels = tiny_encoder.preprocess([scene])
    with torch.no_grad():
        mine = tower.pool(vit_tower.forward(tower, pixels)[0])
        theirs = tiny_encoder.loaded.model.get_image_features(pixel_values=pixels).pooler_output
    torch.testing.assert_close(mine, theirs, atol=1e-5, rtol=1e-4)


def test_surgery_path_keeps_the_ordinary_path_intact(tiny_encoder, scene):
    tower = vit_tower.vision_tower(tiny_encoder.loaded)
    pixels = tiny_encoder.preprocess([scene])
    with torch.no_grad():
        final, patches = vit_tower.surgery_tokens(tower, pixels)
        plain = vit_tower.forward(tower, pixels)[0]
    torch.testing.assert_close(final, plain)
    assert patches.shape[1] == tower.grid[0] * tower.grid[1]
    assert not torch.allclose(patches, plain[:, 1:])  # the value-value path really differs


@pytest.mark.parametrize("method", spatial.METHODS)
def test_map_shape_and_range(tiny_encoder, scene, method):
    smap = spatial.spatial_map(tiny_encoder, scene, "a red circle", method)
    assert smap.patches == (4, 4) and smap.grid.shape == (8, 8)  # 32 px input, 8 px patches, half-patch shifts
    assert np.isfinite(smap.raw).all()
    assert smap.grid.min() >= 0 and smap.grid.max() == pytest.approx(1.0)
    assert -1 <= smap.score <= 1
    js = smap.as_json()
    assert np.array(js["relevance"]).shape == (8, 8) and js["method"] == method and js["patch_grid"] == [4, 4]
    assert spatial.spatial_map(tiny_encoder, scene, "a red circle", method, refine=False).grid.shape == (4, 4)


def test_the_json_holds_plain_numbers(tiny_encoder, scene):
    """numpy scalars reached API clients as strings (hottest_point ['63.5', '147.5'])."""
    js = spatial.spatial_map(tiny_encoder, scene, "a red circle", "naive").as_json()
    for key in ("hottest_point", "box", "image_size", "grid_size", "patch_grid"):
        assert all(type(v) in (int, float) for v in js[key]), (key, [type(v) for v in js[key]])
    assert type(js["score"]) is float


def test_naive_map_is_the_raw_patch_text_cosine(tiny_encoder, scene):
    model = tiny_encoder.loaded.model
    pixels = tiny_encoder.preprocess([scene])
    with torch.no_grad():
        tokens = model.vision_model(pixel_values=pixels).last_hidden_state[0, 1:]
        patches = torch.nn.functional.normalize(
            model.visual_projection(model.vision_model.post_layernorm(tokens)), dim=-1)
    direct = (patches.numpy() @ tiny_encoder.encode_texts(["a blue star"])[0]).reshape(4, 4)
    smap = spatial.spatial_map(tiny_encoder, scene, "a blue star", "naive", refine=False)
    np.testing.assert_allclose(smap.raw, direct, atol=1e-5)


def test_surgery_with_contrast_texts_differs_from_the_neutral_prompt(tiny_encoder, scene):
    plain = spatial.spatial_map(tiny_encoder, scene, "a red circle", "surgery", refine=False)
    contrast = spatial.spatial_map(tiny_encoder, scene, "a red circle", "surgery", refine=False,
                                   contrast=["a blue square", "a green star", "a red circle"])
    assert not np.allclose(plain.raw, contrast.raw)


def test_gradcam_leaves_no_gradients_on_the_model(tiny_encoder, scene):
    spatial.spatial_map(tiny_encoder, scene, "a red circle", "gradcam")
    assert all(p.grad is None for p in tiny_encoder.loaded.model.parameters())


def test_bad_inputs(tiny_encoder, scene):
    with pytest.raises(ValueError, match="text"):
        spatial.spatial_map(tiny_encoder, scene, "  ", "surgery")
    with pytest.raises(ValueError, match="method"):
        spatial.spatial_map(tiny_encoder, scene, "a red circle", "magic")


def test_non_vit_models_are_unavailable():
    resnet_like = SimpleNamespace(name="RN50", model=SimpleNamespace(vision_model=SimpleNamespace(
        embeddings=SimpleNamespace(patch_embedding=None))))
    with pytest.raises(spatial.SpatialUnavailable, match="ViT"):
        vit_tower.vision_tower(resnet_like)
    with pytest.raises(spatial.SpatialUnavailable):
        vit_tower.vision_tower(SimpleNamespace(name="x", model=torch.nn.Linear(2, 2)))


def _marker_centre(encoder, size, frac):
    """Draw a bright block at a fraction of the view box; return where the model's view shows it."""
    w, h = size
    box = spatial.view_box(encoder.loaded.processor, w, h)
    cx, cy = box[0] + frac[0] * (box[2] - box[0]), box[1] + frac[1] * (box[3] - box[1])
    r = max(1, int(0.08 * min(box[2] - box[0], box[3] - box[1])))
    arr = np.zeros((h, w, 3), np.uint8)
    arr[max(0, int(cy) - r):int(cy) + r + 1, max(0, int(cx) - r):int(cx) + r + 1] = 255
    view = np.asarray(encoder.model_view(Image.fromarray(arr))).mean(2)
    ys, xs = np.nonzero(view > 128)
    return box, (xs.mean() + 0.5) / view.shape[1], (ys.mean() + 0.5) / view.shape[0]


@pytest.mark.parametrize("size", [(300, 100), (100, 300), (7, 5), (3000, 700), (32, 32), (33, 90)])
def test_view_box_matches_what_the_model_sees(tiny_encoder, size):
    box, fx, fy = _marker_centre(tiny_encoder, size, (0.7, 0.3))
    assert 0 <= box[0] <= box[2] <= size[0] + 1e-6 and 0 <= box[1] <= box[3] <= size[1] + 1e-6
    assert fx == pytest.approx(0.7, abs=0.06) and fy == pytest.approx(0.3, abs=0.06)


def test_view_box_of_a_squashing_processor_is_the_whole_image():
    squash = SimpleNamespace(image_processor=SimpleNamespace(size={"height": 224, "width": 224}, do_resize=True,
                                                             do_center_crop=False))
    assert spatial.view_box(squash, 640, 200) == (0, 0, 640, 200)


def _one_hot_map(box, image_size, row, col, shape=(4, 4)):
    grid = np.zeros(shape)
    grid[row, col] = 1.0
    return spatial.SpatialMap("test", "t", grid, grid, box, image_size, 0.0)


def test_map_lands_in_the_right_place_on_a_wide_image():
    # A 300 x 100 photo seen through a centre crop: the model saw x in [100, 200].
    smap = _one_hot_map((100.0, 0.0, 200.0, 100.0), (300, 100), row=0, col=3)
    x, y = smap.hottest_point()
    assert 175 <= x <= 200 and 0 <= y <= 25
    m = smap.on_image()
    assert m.shape == (100, 300)
    assert np.isnan(m[:, :100]).all() and np.isnan(m[:, 200:]).all() and not np.isnan(m[:, 100:200]).any()


def test_map_lands_in_the_right_place_on_a_tall_tiny_and_huge_image():
    tall = _one_hot_map((0.0, 100.0, 100.0, 200.0), (100, 300), row=3, col=0)
    x, y = tall.hottest_point()
    assert 0 <= x <= 25 and 175 <= y <= 200
    tiny = _one_hot_map((0.0, 0.0, 3.0, 2.0), (3, 2), row=1, col=2, shape=(2, 3))
    assert tiny.on_image().shape == (2, 3)
    assert tiny.on_image(300, 200)[150, 250] == pytest.approx(1.0)
    huge = _one_hot_map((1500.0, 0.0, 4500.0, 3000.0), (6000, 3000), row=2, col=1, shape=(8, 8))
    x, y = huge.hottest_point()
    assert 1500 + 3000 / 8 <= x <= 1500 + 2 * 3000 / 8 and 750 <= y <= 1125


def test_placement_end_to_end_on_a_non_square_photo(tiny_encoder):
    img = Image.new("RGB", (250, 90), (90, 90, 90))
    smap = spatial.spatial_map(tiny_encoder, img, "a red circle", "surgery")
    assert smap.image_size == (250, 90)
    assert smap.box == pytest.approx((80.0, 0.0, 170.0, 90.0), abs=1.5)
    x, y = smap.hottest_point()
    assert smap.box[0] <= x <= smap.box[2] and 0 <= y <= 90


def test_overlay_and_raw_pictures_keep_the_aspect_ratio():
    smap = _one_hot_map((100.0, 0.0, 200.0, 100.0), (300, 100), row=1, col=1)
    img = Image.new("RGB", (300, 100), (200, 200, 200))
    shown = overlay.overlay(img, smap, 0.7)
    raw = overlay.raw_map(smap)
    assert shown.size == raw.size
    assert shown.size[0] / shown.size[1] == pytest.approx(3, rel=0.02)
    arr = np.asarray(raw).astype(int)
    assert (arr[:, : raw.size[0] // 3 - 2] == overlay.UNSEEN.astype(int)).all()  # unseen: grey
    tiny = overlay.overlay(Image.new("RGB", (4, 3)), _one_hot_map((0, 0, 4, 3), (4, 3), 0, 0, (2, 2)))
    assert min(tiny.size) >= 150  # tiny originals are shown large enough to see


def test_siglip_tower_matches_its_own_forward():
    from transformers import SiglipConfig, SiglipModel

    cfg = SiglipConfig(text_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                        num_attention_heads=2, vocab_size=100),
                       vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                          num_attention_heads=2, image_size=32, patch_size=8))
    torch.manual_seed(0)
    model = SiglipModel(cfg).eval()
    loaded = SimpleNamespace(name="tiny-siglip", model=model)
    tower = vit_tower.vision_tower(loaded)
    assert tower.n_prefix == 0 and tower.grid == (4, 4) and tower.patch == 8
    pixels = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        x, _ = vit_tower.forward(tower, pixels)
        mine, head_attention = tower.pool_with_attention(x)
        theirs = model.get_image_features(pixel_values=pixels).pooler_output
        _, patches = vit_tower.surgery_tokens(tower, pixels)
        projected = tower.project_tokens(patches)
    torch.testing.assert_close(mine, theirs, atol=1e-5, rtol=1e-4)
    assert head_attention.weights.shape == (1, 2, 1, 16)  # the probe attends to the 16 patches
    assert projected.shape == (1, 16, 32)
    text = torch.nn.functional.normalize(torch.randn(32), dim=0)
    embedded = {"x": text.numpy()}  # the text's embedding, as spatial_map hands it over
    decomposed = spatial._decomposition(tower, embedded, pixels, "x")
    with torch.no_grad():
        cam = spatial._gradcam(tower, embedded, pixels, "x")
    assert decomposed.shape == cam.shape == (16,) and torch.isfinite(decomposed).all() and (cam >= 0).all()


def test_decomposition_matches_an_explicit_per_patch_sum(tiny_encoder, scene):
    """Rebuild each patch's term the long way: per-head residual vectors, the frozen layer norm, projection."""
    tower = vit_tower.vision_tower(tiny_encoder.loaded)
    pixels = tiny_encoder.preprocess([scene])
    text = torch.from_numpy(tiny_encoder.encode_texts(["a green star"])[0])
    with torch.no_grad():
        x, atts = vit_tower.forward(tower, pixels)
        emb = tower.pool(x)[0]
        ln = tower.post_norm
        sigma = torch.sqrt(x[0, 0].var(unbiased=False) + ln.eps)
        expected = torch.zeros(16)
        for layer, att in zip(tower.layers[-spatial.explained_layers(2):], atts[-2:], strict=True):
            heads, head_dim = att.values.shape[1], att.values.shape[-1]
            out_w = layer.self_attn.out_proj.weight
            for h in range(heads):
                sl = slice(h * head_dim, (h + 1) * head_dim)
                for i in range(16):
                    c = att.weights[0, h, 0, i + 1] * (out_w[:, sl] @ att.values[0, h, i + 1])
                    normed = ln.weight * (c - c.mean()) / sigma
                    expected[i] += tower.projection(normed) @ text / emb.norm()
    got = spatial.spatial_map(tiny_encoder, scene, "a green star", "decomposition", refine=False).raw.reshape(-1)
    np.testing.assert_allclose(got, expected.numpy(), rtol=1e-4, atol=1e-6)


def test_half_patch_shifts_put_fine_cells_where_the_patches_were():
    tower = SimpleNamespace(grid=(2, 2), patch=8)
    # A "method" that reports the mean brightness of each 8 x 8 patch of the (shifted) input.
    def brightness(px):
        return px[0, 0].reshape(2, 8, 2, 8).mean(axis=(1, 3)).reshape(-1)
    pixels = torch.zeros(1, 3, 16, 16)
    pixels[..., 4:8, 4:8] = 1.0  # a bright 4 x 4 square: fine cell (1, 1) of the 4 x 4 fine grid
    fine = spatial._half_patch_shifts(brightness, tower, pixels)
    assert fine.shape == (4, 4)
    assert np.unravel_index(np.argmax(fine), fine.shape) == (1, 1)
    assert fine[3, 3] == 0 and fine[1, 1] > fine[0, 0] > 0


@pytest.fixture(scope="module")
def naflex_encoder(tmp_path_factory):
    from family_fixtures import build_tiny_siglip2_naflex

    from clipdemo.core.encoding import Encoder
    from clipdemo.core.loading import load_model

    folder = build_tiny_siglip2_naflex(tmp_path_factory.mktemp("naflex"))
    return Encoder(load_model(str(folder), device="cpu", dtype="fp32"))


def test_naflex_tower_follows_each_pictures_own_grid_and_matches_its_forward(naflex_encoder):
    """SigLIP 2 NaFlex: a wide picture gets a wide patch grid; the tower re-run by hand on that grid gives the
    model's own (padded, masked) image embedding, and the maps come out on that grid."""
    loaded = naflex_encoder.loaded
    wide = Image.new("RGB", (96, 40), "white")
    wide.paste((230, 30, 30), (60, 10, 80, 30))
    features = naflex_encoder.preprocess([wide])
    rows, cols = features["spatial_shapes"][0].tolist()
    assert cols > rows and rows * cols <= features["pixel_values"].shape[1]  # not squashed to a square
    tower, pixels = vit_tower.vision_tower(loaded).for_naflex(features)
    assert tower.grid == (rows, cols) and pixels.shape == (1, 3, rows * 8, cols * 8)
    torch.testing.assert_close(vit_tower.to_patches(pixels, 8), features["pixel_values"][:, :rows * cols])
    with torch.no_grad():
        x, _ = vit_tower.forward(tower, pixels)
        theirs = loaded.model.get_image_features(**features).pooler_output
    torch.testing.assert_close(tower.pool(x), theirs, atol=1e-5, rtol=1e-4)
    for method in spatial.METHODS:
        smap = spatial.spatial_map(naflex_encoder, wide, "a red square", method)
        assert smap.patches == (rows, cols) and smap.grid.shape == (2 * rows, 2 * cols)  # half-patch shifts
        assert smap.box == (0.0, 0.0, 96.0, 40.0) and np.isfinite(smap.grid).all()
        coarse = spatial.spatial_map(naflex_encoder, wide, "a red square", method, refine=False)
        assert coarse.grid.shape == (rows, cols)
    tall = naflex_encoder.preprocess([Image.new("RGB", (30, 90), "blue")])["spatial_shapes"][0].tolist()
    assert tall[0] > tall[1]


def test_metaclip2_tower_matches_its_own_forward(tmp_path):
    from family_fixtures import build_tiny_metaclip2

    from clipdemo.core.encoding import Encoder
    from clipdemo.core.loading import load_model

    encoder = Encoder(load_model(str(build_tiny_metaclip2(tmp_path / "mc2")), device="cpu", dtype="fp32"))
    tower = vit_tower.vision_tower(encoder.loaded)
    assert tower.n_prefix == 1 and tower.grid == (4, 4)
    pixels = encoder.preprocess([Image.new("RGB", (50, 40), "red")])
    with torch.no_grad():
        x, _ = vit_tower.forward(tower, pixels)
        theirs = encoder.loaded.model.get_image_features(pixel_values=pixels).pooler_output
    torch.testing.assert_close(tower.pool(x), theirs, atol=1e-5, rtol=1e-4)
    smap = spatial.spatial_map(encoder, Image.new("RGB", (50, 40), "red"), "a red square", "gradcam")
    assert smap.patches == (4, 4) and smap.grid.shape == (8, 8)
