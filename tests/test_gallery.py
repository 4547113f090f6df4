"""Galleries: the deterministic toy gallery and its disk cache, the photos, and safe reading of uploads."""

from __future__ import annotations

import base64
import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from clipdemo.core import settings
from clipdemo.core.cache import LRUCache
from clipdemo.core.images import ImageError
from clipdemo.data import gallery


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.setattr(gallery, "_TOY_MEMO", LRUCache(4))
    return tmp_path / "cache"


def png_bytes(colour=(200, 30, 30), size=(24, 24)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


def test_toy_gallery_is_deterministic_and_cached_on_disk(cache_dir, monkeypatch):
    first = gallery.toy_gallery(n=10, seed=7, size=48)
    assert len(first) == 10 and first.source == "toy"
    assert all(c for c in first.captions) and first.names[0] == "toy_000.png"
    folder = cache_dir / "gallery" / f"toy-v1-{gallery._toyworld_digest()}-10-7-48"
    assert (folder / "index.json").exists() and len(list(folder.glob("*.png"))) == 10
    assert gallery.toy_gallery(n=10, seed=7, size=48) is first  # in-memory memo

    monkeypatch.setattr(gallery, "_TOY_MEMO", LRUCache(4))
    monkeypatch.setattr(gallery, "_render_toy", lambda *a: pytest.fail("should load from disk, not render"))
    from_disk = gallery.toy_gallery(n=10, seed=7, size=48)
    assert from_disk.captions == first.captions and from_disk.groups == first.groups
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(first.images, from_disk.images,
                                                                             strict=True))
    assert from_disk.key == first.key


def test_toy_gallery_without_disk_matches_and_other_seed_differs(cache_dir):
    a = gallery.toy_gallery(n=6, seed=3, size=32, use_disk=False)
    gallery._TOY_MEMO.clear()
    b = gallery.toy_gallery(n=6, seed=3, size=32, use_disk=False)
    assert a.captions == b.captions and a.key == b.key
    assert not (cache_dir / "gallery").exists()
    assert gallery.toy_gallery(n=6, seed=4, size=32, use_disk=False).key != a.key


def test_toy_group_is_the_shared_colour_or_mixed():
    g = gallery.toy_gallery(n=40, seed=11, size=32, use_disk=False)
    for cap, grp in zip(g.captions, g.groups, strict=True):
        if grp == "mixed":
            continue
        words = cap.split()
        assert grp in words  # the group's colour word is in the caption
        assert all(w not in words for w in gallery.toyworld.COLOURS if w != grp)


def test_photo_gallery_has_captions():
    g = gallery.photo_gallery()
    assert len(g) == 6 and g.source == "photos"
    assert dict(zip(g.names, g.captions, strict=True))["chelsea.jpg"] == gallery.PHOTO_CAPTIONS["chelsea"]
    assert max(max(im.size) for im in g.images) <= gallery.KEEP_SIDE


@pytest.mark.parametrize("name, caption", [
    ("Golden_Retriever-02.jpg", "golden retriever"),
    ("cat.png", "cat"),
    ("a.red.circle (3).png", "a red circle"),
    ("IMG_1234.jpg", ""),
    ("00_a_small_red_circle_on_the_left.png", "a small red circle on the left"),
])
def test_caption_from_filename(name, caption):
    assert gallery.caption_from_filename(name) == caption


def test_read_captions_csv_with_and_without_header():
    with_header = b"filename,caption,group\ndir/a.png,a red thing,reds\nb.png,a blue thing,blues\n"
    assert gallery.read_captions_csv(with_header) == {"a.png": ("a red thing", "reds"), "b.png": ("a blue thing", "blues")}
    no_header = "a.png,first\nb.png,second\n".encode("utf-8-sig")
    assert gallery.read_captions_csv(no_header) == {"a.png": ("first", ""), "b.png": ("second", "")}
    reordered = b"text,image\nhello,x.jpg\n"
    assert gallery.read_captions_csv(reordered) == {"x.jpg": ("hello", "")}


def test_user_files_with_csv(tmp_path):
    (tmp_path / "red_square.png").write_bytes(png_bytes((200, 0, 0)))
    (tmp_path / "blue.png").write_bytes(png_bytes((0, 0, 200)))
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "caps.csv").write_text("file,caption\nblue.png,a blue square\n")
    g = gallery.user_gallery([tmp_path / "red_square.png", tmp_path / "blue.png", tmp_path / "notes.txt",
                              tmp_path / "caps.csv"])
    assert g.names == ["red_square.png", "blue.png"]
    assert g.captions == ["red square", "a blue square"]  # file name, then CSV
    assert any("unreadable" in n and "notes.txt" in n for n in g.notices)


def make_zip(path, members: dict[str, bytes]):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_zip_reads_folders_as_groups_and_skips_non_images(tmp_path):
    z = make_zip(tmp_path / "g.zip", {
        "cats/tom.png": png_bytes((10, 10, 10)), "cats/kit.png": png_bytes((20, 20, 20)),
        "dogs/rex.png": png_bytes((30, 30, 30)), "dogs/tom.png": png_bytes((40, 40, 40)),
        "readme.md": b"# hi", "__MACOSX/cats/._tom.png": b"junk", "broken.png": b"\x89PNG not really",
        "captions.csv": b"file,caption\nrex.png,a good dog\n"})
    g = gallery.user_gallery([z])
    assert sorted(g.groups) == ["cats", "cats", "dogs", "dogs"]
    assert "tom.png" in g.names and "tom (2).png" in g.names  # same file name in two folders: both kept
    assert g.captions[g.names.index("rex.png")] == "a good dog"
    joined = " ".join(g.notices)
    assert "readme.md" in joined and "broken.png" in joined
    assert "_tom" not in joined  # macOS resource forks are ignored silently


def test_zip_member_names_never_escape(tmp_path):
    z = make_zip(tmp_path / "evil.zip", {"../../outside.png": png_bytes(), "/abs/root.png": png_bytes((0, 200, 0))})
    before = set(p.name for p in tmp_path.parent.iterdir())
    g = gallery.user_gallery([z])
    assert sorted(g.names) == ["outside.png", "root.png"]  # base names only
    assert set(p.name for p in tmp_path.parent.iterdir()) == before  # nothing extracted anywhere


def test_zip_bomb_member_is_skipped(tmp_path, monkeypatch):
    # 2 MB of zeros compresses ~1000:1, far beyond any image's ratio.
    z = make_zip(tmp_path / "bomb.zip", {"big.png": b"\0" * (2 * 1024 * 1024), "ok.png": png_bytes()})
    g = gallery.user_gallery([z])
    assert g.names == ["ok.png"]
    assert any("big.png (too large when unpacked)" in n for n in g.notices)


def test_zip_member_count_and_image_limits(tmp_path, monkeypatch):
    z = make_zip(tmp_path / "many.zip", {f"{i}.png": png_bytes((i, i, i)) for i in range(12)})
    monkeypatch.setattr(gallery, "ZIP_MAX_MEMBERS", 5)
    g = gallery.user_gallery([z], max_images=3)
    assert len(g) == 3
    assert any("only the first 5" in n for n in g.notices)
    assert any("the first 3" in n for n in g.notices)


def test_unusable_uploads_raise_image_error(tmp_path):
    bad = tmp_path / "fake.zip"
    bad.write_bytes(b"PK but not a zip")
    with pytest.raises(ImageError, match="not a readable zip"):
        gallery.user_gallery([bad])
    empty = make_zip(tmp_path / "empty.zip", {"a.txt": b"x"})
    with pytest.raises(ImageError, match="No usable images"):
        gallery.user_gallery([empty])


def test_thumbnail_uri_is_a_small_jpeg():
    uri = gallery.thumbnail_uri(Image.new("RGB", (300, 150), (1, 2, 3)), side=80)
    assert uri.startswith("data:image/jpeg;base64,")
    im = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    assert im.format == "JPEG" and im.size == (80, 40)
