"""What a collection is embedded from: a folder tree, a zip, or a parquet/CSV list of image paths.

Every source becomes a root plus items (image path relative to that root, caption), sorted, so the
same source always gives the same shards. Captions: a same-named .txt beside an image in a folder
or zip (clip-retrieval's "files" input), or a caption column in a list. Paths never leave the root:
`..` and absolute member names are refused, and lists are resolved against their common folder,
which is what the app later serves thumbnails from.
"""

from __future__ import annotations

import os
import threading
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath

from clipdemo.collection.layout import CollectionError, caption_column, path_column
from clipdemo.images import IMAGE_SUFFIXES, MAX_BYTES, ImageError, load_image

LIST_SUFFIXES = (".parquet", ".csv")
ZIP_MAX_RATIO = 200  # image formats hardly compress: a larger ratio is a zip bomb


@dataclass(frozen=True)
class Item:
    path: str  # relative to the source root, POSIX separators
    caption: str = ""


@dataclass
class Source:
    kind: str  # "folder" | "zip" | "list"
    root: Path  # the folder images are read from, or the zip file
    items: list[Item] = field(default_factory=list)

    @property
    def has_captions(self) -> bool:
        return any(it.caption for it in self.items)

    def spec(self) -> dict:
        """JSON-able description, enough for another process (a Ray worker) to read the images."""
        return {"kind": "zip" if self.kind == "zip" else "folder", "root": str(self.root)}


def _safe_parts(name: str) -> tuple[str, ...] | None:
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if not parts or parts[0] == "/" or ".." in parts or ":" in parts[0]:
        return None
    return parts


def _caption_text(data: bytes) -> str:
    return " ".join(data.decode("utf-8", errors="replace").split())[:1000]


def from_folder(folder: Path) -> Source:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not any(
        part.startswith(".") for part in p.relative_to(folder).parts))
    items = []
    for p in files:
        if p.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        txt = p.with_suffix(".txt")
        caption = _caption_text(txt.read_bytes()) if txt.is_file() else ""
        items.append(Item(p.relative_to(folder).as_posix(), caption))
    return Source("folder", folder.resolve(), items)


def from_zip(path: Path) -> Source:
    try:
        with zipfile.ZipFile(path) as z:
            infos = [i for i in z.infolist() if not i.is_dir()]
            names = {i.filename for i in infos}
            items = []
            for info in sorted(infos, key=lambda i: i.filename):
                parts = _safe_parts(info.filename)
                if not parts or parts[0] == "__MACOSX" or parts[-1].startswith("."):
                    continue
                if PurePosixPath(info.filename).suffix.lower() not in IMAGE_SUFFIXES:
                    continue
                txt = str(PurePosixPath(info.filename).with_suffix(".txt"))
                caption = _caption_text(z.read(txt)[:10000]) if txt in names else ""
                items.append(Item(info.filename, caption))
    except (zipfile.BadZipFile, OSError) as e:
        raise CollectionError(f"{path}: not a readable zip ({e}).") from e
    return Source("zip", path.resolve(), items)


def from_list(path: Path) -> Source:
    import pandas as pd

    try:
        table = pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_csv(path, dtype=str)
    except Exception as e:  # noqa: BLE001 - pandas raises many kinds; the user needs the file name and reason
        raise CollectionError(f"{path}: cannot read the list ({e}).") from e
    col = path_column(table.columns)
    if col is None:
        raise CollectionError(f"{path}: no image path column (one of image_path, path, file, filename, image).")
    cap = caption_column(table.columns)
    paths = [str(v) for v in table[col].fillna("")]
    if any("://" in p for p in paths[:1000]):
        raise CollectionError(f"{path}: lists URLs; clipdemo embeds local files only (download them first, "
                              "e.g. with img2dataset, then list the files).")
    captions = [str(v) if v == v and v is not None else "" for v in table[cap]] if cap else [""] * len(paths)
    base = path.resolve().parent
    pairs = [((base / p).resolve(), " ".join(c.split())[:1000]) for p, c in zip(paths, captions, strict=True) if p]
    if not pairs:
        raise CollectionError(f"{path}: the list is empty.")
    root = Path(os.path.commonpath([str(r.parent) for r, _ in pairs]))
    items = sorted((Item(r.relative_to(root).as_posix(), c) for r, c in pairs), key=lambda it: it.path)
    return Source("list", root, items)


def open_source(source: str | Path) -> Source:
    path = Path(source).expanduser()
    if path.is_dir():
        src = from_folder(path)
    elif path.is_file() and path.suffix.lower() == ".zip":
        src = from_zip(path)
    elif path.is_file() and path.suffix.lower() in LIST_SUFFIXES:
        src = from_list(path)
    elif not path.exists():
        raise CollectionError(f"{path} does not exist.")
    else:
        raise CollectionError(f"{path}: give a folder, a .zip, or a .parquet/.csv list of image paths.")
    if not src.items:
        raise CollectionError(f"{path}: no images ({', '.join(IMAGE_SUFFIXES)}) found.")
    return src


# ---------------------------------------------------------------- reading one image


_zip_lock = threading.Lock()


@lru_cache(maxsize=8)
def _zip(path: str) -> zipfile.ZipFile:
    return zipfile.ZipFile(path)


def read_bytes(spec: dict, rel: str) -> bytes:
    """The bytes of one image of a source, refusing anything outside its root."""
    parts = _safe_parts(rel)
    if not parts:
        raise ImageError(f"{rel}: not a path inside the collection.")
    root = Path(spec["root"])
    if spec["kind"] == "zip":
        with _zip_lock:
            z = _zip(str(root))
            info = z.getinfo(rel)
            if info.file_size > MAX_BYTES or info.file_size > ZIP_MAX_RATIO * max(1, info.compress_size):
                raise ImageError(f"{rel}: too large or too compressed to be an image.")
            return z.read(info)
    path = (root / Path(*parts)).resolve()
    if not path.is_relative_to(root):  # a symlink pointing out of the folder
        raise ImageError(f"{rel}: outside the collection's folder.")
    if path.stat().st_size > MAX_BYTES:
        raise ImageError(f"{rel}: the file is larger than {MAX_BYTES // 2**20} MB.")
    return path.read_bytes()


def load(spec: dict, rel: str):
    """A decoded RGB image (clipdemo.images rules), or ImageError with the reason."""
    try:
        data = read_bytes(spec, rel)
    except (OSError, KeyError) as e:
        raise ImageError(f"{rel}: cannot be read ({e}).") from e
    return load_image(data, name=rel)
