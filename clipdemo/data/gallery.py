"""Galleries for the embedding map: the toy world, the bundled photos, or the user's own files.

A gallery is images with names, optional captions and a group per image (what "colour by caption
group" uses). The toy gallery is generated deterministically; rendering costs a few ms per image,
so it is also kept on disk (~/.cache/clipdemo, or the app's --cache-dir) and in memory. User files may
include one or more .zip archives and a CSV of captions. Zips are read in memory, never extracted:
no member name reaches the file system, and count, size and compression-ratio limits stop zip
bombs. Anything that is not a usable image is skipped with a notice.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import random
import re
import shutil
import tempfile
import threading
import zipfile
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path, PurePosixPath

from PIL import Image

from clipdemo import assets, limits, settings, toyworld
from clipdemo.cache import LRUCache
from clipdemo.errors import InputError
from clipdemo.images import IMAGE_SUFFIXES, MAX_BYTES, ImageError, load_image

TOY_GALLERY_VERSION = 1  # bump when the toy gallery's recipe changes, so old disk caches are ignored
TOY_DEFAULT_SIZE = 300
TOY_SEED = 2024
TOY_IMAGE_PX = 96  # model input is 64 px; 96 px keeps thumbnails readable at ~8 ms per render
MAX_IMAGES = 1000  # per gallery: a map of more is unreadable and slow to embed on a CPU
KEEP_SIDE = 448  # user images are shrunk to this: every model here sees at most 336 px
ZIP_MAX_MEMBERS = 5000
ZIP_MAX_TOTAL_BYTES = 400 * 1024 * 1024  # uncompressed, all members together
ZIP_MAX_RATIO = 200  # image formats compress little; a larger ratio is a bomb
CSV_MAX_BYTES = 5 * 1024 * 1024
NAME_COLUMNS = ("file", "filename", "file_name", "image", "name", "path")
CAPTION_COLUMNS = ("caption", "text", "description", "title", "label")
GROUP_COLUMNS = ("group", "class", "category")

PHOTO_CAPTIONS = {
    "astronaut": "an astronaut in a spacesuit in front of a flag",
    "camera": "a black and white photo of a man with a camera",
    "chelsea": "a photo of a tabby cat",
    "coffee": "a cup of coffee on a saucer",
    "horse": "a silhouette of a horse",
    "rocket": "a rocket launching into the sky",
}


@dataclass
class Gallery:
    images: list[Image.Image]
    names: list[str]
    captions: list[str]  # "" where an image has none
    groups: list[str]
    source: str  # "toy" | "photos" | "upload"
    notices: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.images)

    @cached_property
    def key(self) -> str:
        """A content id: same images, names and captions -> same key (for caches). Galleries never change."""
        h = hashlib.blake2b(digest_size=12)
        for im, name, cap in zip(self.images, self.names, self.captions, strict=True):
            h.update(f"{name}\0{cap}\0{im.mode}{im.size}\0".encode())
            h.update(im.tobytes())
        return h.hexdigest()


# ---------------------------------------------------------------- the toy world


def toy_group(scene: toyworld.Scene) -> str:
    """The colour word when every object shares it (points can then be drawn in that colour)."""
    colours = {o.colour for o in scene.objects}
    return colours.pop() if len(colours) == 1 else "mixed"


def cache_root() -> Path:
    return settings.cache_dir()  # --cache-dir, $CLIPDEMO_CACHE or ~/.cache/clipdemo


def _render_toy(n: int, seed: int, size: int) -> tuple[list[Image.Image], list[str], list[str]]:
    items = toyworld.generate(n, seed=seed, size=size, split="all")
    return [im for im, _, _ in items], [cap for _, cap, _ in items], [toy_group(s) for _, _, s in items]


def _zh_toy_captions(n: int, seed: int) -> list[str]:
    """The Chinese twins of `_render_toy`'s captions: the same scenes drawn again (cheap: nothing rendered)."""
    rng = random.Random(seed)
    combos = toyworld.allowed_combos("all")
    return [toyworld.zh_full_caption(toyworld.sample_scene(rng, combos=combos)) for _ in range(n)]


def _load_toy_cache(folder: Path, n: int) -> tuple[list[Image.Image], list[str], list[str]] | None:
    try:
        meta = json.loads((folder / "index.json").read_text())
        if len(meta["captions"]) != n:
            return None
        images = []
        for i in range(n):
            with Image.open(folder / f"{i:04d}.png") as im:
                images.append(im.convert("RGB"))
        return images, meta["captions"], meta["groups"]
    except (OSError, ValueError, KeyError):
        return None


def _save_toy_cache(folder: Path, images, captions, groups) -> None:
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
        for i, im in enumerate(images):
            im.save(tmp / f"{i:04d}.png")
        (tmp / "index.json").write_text(json.dumps({"captions": captions, "groups": groups}))
        try:
            tmp.rename(folder)  # atomic: a half-written cache is never seen by another process
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)  # another process finished first
    except OSError:
        pass  # a read-only home only costs a re-render next time


def _toyworld_digest() -> str:
    """Changes whenever toyworld.py changes, so a cache never serves scenes from an older renderer."""
    try:
        return hashlib.blake2b(Path(toyworld.__file__).read_bytes(), digest_size=4).hexdigest()
    except OSError:
        return "unknown"


_TOY_MEMO = LRUCache(4)  # (n, seed, size) -> Gallery: the app asks for one; tests and benchmarks a few
_TOY_LOCK = threading.Lock()


def toy_gallery(n: int = TOY_DEFAULT_SIZE, seed: int = TOY_SEED, size: int = TOY_IMAGE_PX,
                use_disk: bool = True, language: str = "en") -> Gallery:
    """`n` generated scenes with their full captions; the same every time, in every process.
    language="zh": the same pictures captioned in Chinese (toyworld.zh_full_caption)."""
    if language == "zh":
        english = toy_gallery(n, seed, size, use_disk)
        return replace(english, captions=_zh_toy_captions(n, seed), notices=list(english.notices))
    key = (n, seed, size)
    with _TOY_LOCK:
        if key in _TOY_MEMO:
            return _TOY_MEMO.get(key)
        folder = cache_root() / "gallery" / f"toy-v{TOY_GALLERY_VERSION}-{_toyworld_digest()}-{n}-{seed}-{size}"
        cached = _load_toy_cache(folder, n) if use_disk else None
        images, captions, groups = cached or _render_toy(n, seed, size)
        if use_disk and cached is None:
            _save_toy_cache(folder, images, captions, groups)
        gallery = Gallery(images, [f"toy_{i:03d}.png" for i in range(n)], captions, groups, "toy")
        _TOY_MEMO.put(key, gallery)
        return gallery


# ---------------------------------------------------------------- the bundled photos


def photo_gallery() -> Gallery:
    paths = assets.photo_paths()
    images = [load_image(p) for p in paths]
    for im in images:
        im.thumbnail((KEEP_SIDE, KEEP_SIDE))
    captions = [PHOTO_CAPTIONS.get(p.stem, caption_from_filename(p.name)) for p in paths]
    return Gallery(images, [p.name for p in paths], captions, [p.stem for p in paths], "photos")


# ---------------------------------------------------------------- the user's files


def caption_from_filename(name: str) -> str:
    """'Golden_Retriever-02.jpg' -> 'golden retriever': words of the stem, numbering dropped at both ends."""
    stem = PurePosixPath(name).stem
    words = re.sub(r"[_\-.]+", " ", stem).split()
    while words and re.fullmatch(r"\(?\d+\)?|img|dsc|image|photo", words[-1].lower()):
        words.pop()
    while words and words[0].isdigit():  # '00_a_red_circle.png': a sort prefix, not a word
        words.pop(0)
    return " ".join(words).lower()


def read_captions_csv(data: bytes) -> dict[str, tuple[str, str]]:
    """CSV -> {file name: (caption, group)}. A header names the columns; else column 1 file, 2 caption."""
    if len(data) > CSV_MAX_BYTES:
        raise InputError(f"the captions CSV is over {CSV_MAX_BYTES // 2**20} MB")
    text = data.decode("utf-8-sig", errors="replace")
    rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    if not rows:
        return {}
    header = [c.strip().lower() for c in rows[0]]

    def find(cands):
        return next((header.index(c) for c in cands if c in header), None)

    i_name, i_cap, i_grp = find(NAME_COLUMNS), find(CAPTION_COLUMNS), find(GROUP_COLUMNS)
    if i_name is None:
        i_name, i_cap, i_grp = 0, 1, 2 if len(rows[0]) > 2 else None
    else:
        rows = rows[1:]
    out = {}
    for r in rows:
        if len(r) <= i_name:
            continue
        name = PurePosixPath(r[i_name].strip().replace("\\", "/")).name
        cap = r[i_cap].strip() if i_cap is not None and len(r) > i_cap else ""
        grp = r[i_grp].strip() if i_grp is not None and len(r) > i_grp else ""
        out[name] = (cap, grp)
    return out


@dataclass
class _Member:
    name: str  # display name (base name only)
    folder: str  # the parent folder inside the zip ("" at the top), a natural group
    data: bytes


def _clean_parts(name: str) -> list[str]:
    """The path's real components: no '/', '.', '..' (names are only ever displayed, never opened)."""
    return [p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("/", ".", "..")]


def _skip_member_name(parts: list[str]) -> bool:
    # hidden files and macOS resource forks (__MACOSX/._photo.jpg) are not the user's pictures
    return not parts or any(p.startswith(".") or p == "__MACOSX" for p in parts)


def read_zip(source, notices: list[str]) -> tuple[list[_Member], bytes | None]:
    """Image members and the first CSV of a zip, read in memory under hard limits."""
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as e:
        raise ImageError(f"{Path(str(source)).name}: not a readable zip archive ({e}).") from e
    members: list[_Member] = []
    csv_data: bytes | None = None
    total = 0
    skipped: list[str] = []
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > ZIP_MAX_MEMBERS:
            notices.append(f"the zip holds {len(infos)} files; only the first {ZIP_MAX_MEMBERS} were looked at")
            infos = infos[:ZIP_MAX_MEMBERS]
        for info in infos:
            parts = _clean_parts(info.filename)
            if _skip_member_name(parts):
                continue
            path = PurePosixPath(*parts)
            suffix = path.suffix.lower()
            if suffix not in (*IMAGE_SUFFIXES, ".csv"):
                skipped.append(path.name)
                continue
            if info.flag_bits & 0x1:
                skipped.append(f"{path.name} (encrypted)")
                continue
            limit = CSV_MAX_BYTES if suffix == ".csv" else MAX_BYTES
            if info.file_size > limit or info.file_size > ZIP_MAX_RATIO * max(info.compress_size, 1) + 65536:
                skipped.append(f"{path.name} (too large when unpacked)")
                continue
            if total + info.file_size > ZIP_MAX_TOTAL_BYTES:
                notices.append(f"stopped reading the zip at {ZIP_MAX_TOTAL_BYTES // 2**20} MB unpacked")
                break
            try:  # the same limit over all files of the request: 8 copies of one zip unpack only once as much
                limits.charge_bytes(path.name, info.file_size)
            except limits.LimitError as e:
                notices.append(f"stopped reading the zip: {e}")
                break
            try:
                with zf.open(info) as fh:
                    data = fh.read(limit + 1)  # the header's size may lie: never read past the limit
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError) as e:
                skipped.append(f"{path.name} ({e.__class__.__name__})")
                continue
            if len(data) > limit:
                skipped.append(f"{path.name} (too large when unpacked)")
                continue
            total += len(data)
            if suffix == ".csv":
                csv_data = csv_data if csv_data is not None else data
            else:
                members.append(_Member(path.name, parts[-2] if len(parts) > 1 else "", data))
    if skipped:
        notices.append(f"skipped {len(skipped)} file(s) in the zip that are not images: "
                       + ", ".join(skipped[:5]) + (" …" if len(skipped) > 5 else ""))
    return members, csv_data


def user_gallery(files, max_images: int = MAX_IMAGES) -> Gallery:
    """Images, zips and a captions CSV (paths or file objects) -> one Gallery.

    Captions come from the CSV when it names the file, else from the file name. Groups come from
    the CSV, else from the image's folder inside a zip, else from the caption.
    """
    notices: list[str] = []
    members: list[_Member] = []
    csv_blobs: list[bytes] = []
    for f in files or []:
        # Paths and strings as they are; gradio's older file wrappers carry the path in .name
        path = Path(f if isinstance(f, (str, os.PathLike)) else getattr(f, "name", f))
        suffix = path.suffix.lower()
        if suffix == ".zip":
            found, csv_data = read_zip(path, notices)
            members.extend(found)
            if csv_data is not None:
                csv_blobs.append(csv_data)
        elif suffix == ".csv":
            try:
                csv_blobs.append(path.read_bytes()[:CSV_MAX_BYTES + 1])
            except OSError as e:
                notices.append(f"{path.name}: cannot be read ({e.strerror or e})")
        else:
            try:
                limits.charge_bytes(path.name, min(path.stat().st_size, MAX_BYTES + 1))
                members.append(_Member(path.name, "", path.read_bytes()[:MAX_BYTES + 1]))
            except OSError as e:
                notices.append(f"{path.name}: cannot be read ({e.strerror or e})")
            except limits.LimitError as e:
                notices.append(str(e))
    captions_by_name: dict[str, tuple[str, str]] = {}
    for blob in csv_blobs:
        try:
            captions_by_name.update(read_captions_csv(blob))
        except ValueError as e:
            notices.append(str(e))
    if len(members) > max_images:
        notices.append(f"{len(members)} images given; the map shows the first {max_images}")
        members = members[:max_images]
    images, names, captions, groups, bad = [], [], [], [], []
    seen: dict[str, int] = {}
    for m in members:
        try:
            im = load_image(m.data, name=m.name)
        except ImageError as e:
            bad.append(str(e))
            continue
        im.thumbnail((KEEP_SIDE, KEEP_SIDE))
        cap, grp = captions_by_name.get(m.name, ("", ""))
        cap = cap or caption_from_filename(m.name)
        name = m.name
        if name in seen:  # two folders may hold the same file name; keep both, tell them apart
            seen[name] += 1
            name = f"{PurePosixPath(name).stem} ({seen[m.name]}){PurePosixPath(name).suffix}"
        else:
            seen[name] = 1
        images.append(im)
        names.append(name)
        captions.append(cap)
        groups.append(grp or m.folder or cap or "(none)")
    if bad:
        notices.append(f"skipped {len(bad)} unreadable image(s): " + "; ".join(bad[:3]) + (" …" if len(bad) > 3 else ""))
    if not images:
        raise ImageError("No usable images in what was uploaded: add PNG/JPEG/WebP files or a .zip of them.")
    return Gallery(images, names, captions, groups, "upload", notices)


# ---------------------------------------------------------------- thumbnails for the browser


def thumbnail_uri(image: Image.Image, side: int = 80) -> str:
    """A small JPEG as a data: URI, for hover previews inside the plot."""
    im = image.convert("RGB")
    im.thumbnail((side, side))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()
