"""clipdemo.serve.service: one typed call per operation, plain JSON out, UserError for what the user must fix."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from clipdemo.core.errors import InputError, UserError
from clipdemo.core.loading import ModelNotAvailable
from clipdemo.core.registry import ModelRegistry
from clipdemo.serve.service import ClipService


@pytest.fixture(scope="module")
def service(tiny_clip_dir):
    return ClipService(ModelRegistry(str(tiny_clip_dir), device="cpu", dtype="fp32"))


@pytest.fixture(scope="module")
def pictures(toy_images, tmp_path_factory):
    folder = tmp_path_factory.mktemp("pictures")
    paths = []
    for i, (image, _caption, _scene) in enumerate(toy_images[:3]):
        image.save(folder / f"p{i}.png")
        paths.append(folder / f"p{i}.png")
    (folder / "broken.png").write_bytes(b"not a picture")
    return paths, [c for _, c, _ in toy_images[:3]], folder / "broken.png"


def test_every_result_is_plain_json(service, pictures):
    paths, captions, _ = pictures
    results = [service.models(), service.zero_shot(paths[0], "red circle, blue square"),
               service.zero_shot_batch(paths, "red circle, blue square"),
               service.similarity_matrix(paths, captions), service.spatial_heatmap(paths[0], "a circle", "naive"),
               service.embedding_map(paths, "a red heart", method="pca"), service.search("a circle", paths, k=2),
               service.embed(paths, "a red heart"), service.describe()]
    for result in results:
        data = result.to_json()
        assert json.loads(json.dumps(data)) == data, type(result).__name__


def test_zero_shot_ranks_best_first_with_the_engines_numbers(service, pictures, tiny_encoder):
    from clipdemo.core.images import load_image
    from clipdemo.core.zeroshot import zero_shot

    paths, _, _ = pictures
    got = service.zero_shot(paths[1], "red circle, blue square, green star", "imagenet7")
    want = zero_shot(tiny_encoder, [load_image(paths[1])], "red circle, blue square, green star", "imagenet7")
    order = np.argsort(-want.probs[0], kind="stable")
    assert got.labels == [want.labels[j] for j in order] and got.image == "p1.png"
    assert got.probabilities == pytest.approx(want.probs[0][order], abs=1e-6)
    assert got.cosine == pytest.approx(want.cosine[0][order], abs=1e-6)
    assert sum(got.probabilities) == pytest.approx(1, abs=1e-5) and got.scoring == "softmax"


def test_a_batch_skips_bad_files_and_names_them(service, pictures):
    paths, _, broken = pictures
    batch = service.zero_shot_batch([paths[0], broken, paths[2]], "b, a, c")
    assert [r.image for r in batch.results] == ["p0.png", "p2.png"] and batch.labels == ["b", "a", "c"]
    assert len(batch.skipped) == 1 and "broken.png" in batch.skipped[0]
    with pytest.raises(InputError, match="None of the files"):
        service.zero_shot_batch([broken], "a, b")


def test_similarity_and_embeddings_agree(service, pictures):
    paths, captions, _ = pictures
    sim = service.similarity_matrix(paths, "\n".join(captions), names=["x", "y", "x"])
    assert sim.images == ["x", "y", "x (2)"] and sim.paired and sim.losses.chance == pytest.approx(math.log(3))
    emb = service.embed(paths, captions)
    img = np.array([e["vector"] for e in emb.images])
    txt = np.array([e["vector"] for e in emb.texts])
    assert np.linalg.norm(img, axis=1) == pytest.approx(1, abs=1e-5)
    assert img @ txt.T == pytest.approx(np.array(sim.cosine), abs=1e-4)
    unpaired = service.similarity_matrix(paths[:2], "a red circle")
    assert not unpaired.paired and unpaired.losses is None


def test_what_the_user_must_fix_is_a_user_error(service, pictures):
    paths, _, _ = pictures
    for call in (lambda: service.zero_shot(paths[0], " , "), lambda: service.similarity_matrix(paths, " \n "),
                 lambda: service.spatial_heatmap(paths[0], "x", "magic"), lambda: service.search("   ", paths),
                 lambda: service.embed([], ""), lambda: service.embedding_map(paths, "", method="mds"),
                 lambda: service.zero_shot(paths[0], "a", model="/etc")):
        with pytest.raises(UserError):
            call()
    with pytest.raises(ModelNotAvailable):
        service.encoder("nobody/no-such-model")


def test_models_lists_the_default_and_what_is_loaded(service, tiny_clip_dir):
    listed = service.models()
    assert listed.default == str(tiny_clip_dir)
    entries = {m.name: m for m in listed.models}
    assert entries["bundled"].family == "clip" and entries["bundled"].availability == "local"
    assert entries[str(tiny_clip_dir)].loaded and entries[str(tiny_clip_dir)].scoring == "softmax"
    details = service.describe()
    assert details.parameters > 0 and details.image_size == 32 and details.scoring == "softmax"


# ---------------------------------------------------------------- notices: pictures unlike the model's world

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent
PHOTOS = sorted((ROOT / "assets" / "photos").glob("*.jpg"))
TOY_FILES = sorted((ROOT / "assets" / "toy").glob("*.png"))


@pytest.fixture(scope="module")
def bundled_service():
    return ClipService(ModelRegistry("bundled", device="cpu", dtype="fp32"))


def _warned(notices) -> set[str]:
    return {n.params["name"] for n in notices if n.code == "out_of_world" and n.severity == "warning"}


def test_every_result_that_takes_pictures_warns_on_photos_and_not_on_toys(bundled_service):
    svc = bundled_service
    photos, toys = PHOTOS[:2], TOY_FILES[:2]
    mixed = [*photos, *toys]
    want = {p.name for p in photos}
    results = {
        "zero_shot photo": svc.zero_shot(photos[0], "cat, dog, car"),
        "zero_shot_batch": svc.zero_shot_batch(mixed, "cat, red circle"),
        "similarity_matrix": svc.similarity_matrix(mixed, ["a cat", "a cup", "a red circle", "a blue square"]),
        "spatial_heatmap": svc.spatial_heatmap(photos[0], "a cat", "naive"),
        "embedding_map": svc.embedding_map(mixed, "a cat", method="pca"),
        "search": svc.search("a red circle", mixed, k=2),
        "search by picture": svc.search("", toys, k=1, query_image=photos[0]),
        "embed": svc.embed(mixed),
    }
    for view, result in results.items():
        expected = {photos[0].name} if view in ("zero_shot photo", "spatial_heatmap", "search by picture") else want
        assert _warned(result.notices) == expected, view
        assert all(n["severity"] == "warning" for n in result.to_json()["notices"] if n["code"] == "out_of_world")
    batch = results["zero_shot_batch"]
    assert {r.image: bool(_warned(r.notices)) for r in batch.results} == {p.name: p in photos for p in mixed}
    for view, result in {"toy": svc.zero_shot(toys[0], "red circle, blue square"),
                         "toy heatmap": svc.spatial_heatmap(toys[0], "a red circle", "naive"),
                         "toy gallery map": svc.embedding_map(None, "", method="pca")}.items():
        assert not _warned(result.notices), view
    assert any(n.code == "scoring.softmax" for n in results["zero_shot photo"].notices)


def test_a_batch_of_large_photos_is_read_once_and_every_one_warned(bundled_service, tmp_path):
    """A request decodes and charges each picture once: 8 photos within a budget that only holds them once
    are all labelled, shown as the model sees them, and each one warned about by name."""
    from PIL import Image

    from clipdemo.core import limits

    paths = list(PHOTOS)
    for i, extra in enumerate(PHOTOS[:2]):  # eight photos, the last two copies under other names
        paths.append(tmp_path / f"copy{i}-{extra.name}")
        paths[-1].write_bytes(extra.read_bytes())
    total = sum(Image.open(p).size[0] * Image.open(p).size[1] for p in paths)
    with limits.request_scope(limits.RequestBudget(max_pixels=int(total * 1.5))) as budget:
        batch = bundled_service.zero_shot_batch(paths, "cat, dog, car")
        for p in paths:
            bundled_service.model_view(p)
    assert not batch.skipped and budget.pixels == total
    assert _warned(batch.notices) == {p.name for p in paths}
