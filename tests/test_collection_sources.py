"""Sources of a collection: folder trees, zips and lists become sorted items that never leave their root."""

from __future__ import annotations

import os
import zipfile

import pandas as pd
import pytest
from collection_fixtures import toy_folder

from clipdemo.core.images import ImageError
from clipdemo.data.collection import sources
from clipdemo.data.collection.layout import CollectionError


def test_folder_tree_sorted_with_txt_captions_and_no_hidden_files(tmp_path):
    folder = toy_folder(tmp_path, 6)
    (folder / ".hidden.png").write_bytes((folder / "toy_000000.png").read_bytes())
    (folder / "notes.md").write_text("not an image")
    src = sources.open_source(folder)
    paths = [it.path for it in src.items]
    assert paths == sorted(paths) and len(paths) == 6
    assert sum(p.startswith("sub/") for p in paths) == 3
    assert src.has_captions and all(it.caption for it in src.items)
    first = src.items[0]
    assert first.caption == (folder / first.path).with_suffix(".txt").read_text().strip()
    assert sources.load(src.spec(), first.path).size == (48, 48)


def test_zip_members_with_captions_and_unsafe_names_skipped(tmp_path):
    folder = toy_folder(tmp_path, 4, nested=False)
    z = tmp_path / "imgs.zip"
    with zipfile.ZipFile(z, "w") as f:
        for p in sorted(folder.iterdir()):
            f.write(p, f"inner/{p.name}")
        f.writestr("../evil.png", (folder / "toy_000000.png").read_bytes())
        f.writestr("__MACOSX/._toy.png", b"junk")
    src = sources.open_source(z)
    assert [it.path for it in src.items] == [f"inner/toy_{i:06d}.png" for i in range(4)]
    assert src.items[2].caption == (folder / "toy_000002.txt").read_text().strip()
    assert sources.load(src.spec(), "inner/toy_000001.png").size == (48, 48)
    with pytest.raises(ImageError):
        sources.read_bytes(src.spec(), "../evil.png")


def test_csv_list_resolves_against_common_folder(tmp_path):
    folder = toy_folder(tmp_path, 4, nested=True)
    table = tmp_path / "list.csv"
    pd.DataFrame({"filepath": ["flat/toy_000000.png", "flat/sub/toy_000003.png"],
                  "text": ["a red thing", None]}).to_csv(table, index=False)
    src = sources.open_source(table)
    assert src.kind == "list" and src.root == folder.resolve()
    assert [(it.path, it.caption) for it in src.items] == [("sub/toy_000003.png", ""), ("toy_000000.png", "a red thing")]


def test_parquet_list_of_urls_and_without_path_column_are_refused(tmp_path):
    urls = tmp_path / "urls.parquet"
    pd.DataFrame({"url": ["https://example.invalid/a.jpg"]}).to_parquet(urls)
    with pytest.raises(CollectionError, match="URLs"):
        sources.open_source(urls)
    nothing = tmp_path / "nothing.csv"
    pd.DataFrame({"colour": ["red"]}).to_csv(nothing, index=False)
    with pytest.raises(CollectionError, match="no image path column"):
        sources.open_source(nothing)


def test_empty_or_missing_source_is_a_clear_error(tmp_path):
    with pytest.raises(CollectionError, match="no images"):
        sources.open_source(tmp_path)
    with pytest.raises(CollectionError, match="does not exist"):
        sources.open_source(tmp_path / "nope")


def test_read_bytes_refuses_paths_and_symlinks_out_of_the_root(tmp_path):
    folder = toy_folder(tmp_path, 2, nested=False)
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"x")
    os.symlink(secret, folder / "link.png")
    spec = sources.open_source(folder).spec()
    for bad in ("../secret.png", "/etc/passwd", "link.png"):
        with pytest.raises(ImageError):
            sources.read_bytes(spec, bad)
