"""`python -m clipdemo`: every sub-command runs on the bundled model or a tiny one, offline."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clipdemo.core.loading import BUNDLED_MODEL_DIR
from clipdemo.serve import cli

ROOT = Path(__file__).resolve().parent.parent
TOYS = sorted((ROOT / "assets" / "toy").glob("*.png"))
LABELS = "red circle, blue square, orange cross"


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_module_help_lists_every_subcommand():
    proc = subprocess.run([sys.executable, "-m", "clipdemo", "--help"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0
    for command in ("label", "embed", "train", "eval", "bench", "download", "bench_map", "collection", "video"):
        assert command in proc.stdout


def test_label_prints_a_table(capsys):
    code, out, _ = run_cli(capsys, "label", TOYS[0], TOYS[5], "--labels", LABELS, "--model", "bundled",
                           "--top", "2")
    assert code == 0
    assert "softmax over the labels" in out and "bundled" in out
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("image"))
    rows = lines[header + 1:]
    assert len(rows) == 4  # 2 images x top 2
    assert rows[0].startswith(TOYS[0].name) and rows[2].startswith(TOYS[5].name)
    assert all(row.split()[-2].replace(".", "").isdigit() for row in rows)  # p column


def test_label_json_is_complete_and_consistent(capsys):
    code, out, _ = run_cli(capsys, "label", *TOYS[:3], "--labels", LABELS, "--templates", "imagenet7",
                           "--model", "bundled", "--json", "--top", "10")
    assert code == 0
    data = json.loads(out)
    assert data["model"] == "bundled" and data["scores"] == "softmax"
    assert data["labels"] == ["red circle", "blue square", "orange cross"] and len(data["templates"]) == 7
    assert [r["image"] for r in data["results"]] == [str(p) for p in TOYS[:3]]
    for r in data["results"]:
        assert len(r["top"]) == 3  # --top is capped at the number of labels
        probs = [t["probability"] for t in r["top"]]
        assert probs == sorted(probs, reverse=True) and sum(probs) == pytest.approx(1, abs=1e-4)


def test_session_file_reproduces_the_result(capsys, tmp_path):
    session = tmp_path / "session.json"
    code, first, _ = run_cli(capsys, "label", TOYS[1], "--labels", LABELS, "--templates", "imagenet7",
                             "--model", "bundled", "--json", "--save-session", session)
    assert code == 0 and session.exists()
    code, again, _ = run_cli(capsys, "label", TOYS[1], "--session", session, "--json")
    assert code == 0
    assert json.loads(again) == json.loads(first)


def test_label_on_a_tiny_model_with_own_templates(capsys, tiny_clip_dir, tmp_path):
    templates = tmp_path / "templates.txt"
    templates.write_text("a drawing of a {}.\n{} on a grey ground\n")
    code, out, _ = run_cli(capsys, "label", TOYS[0], "--labels", "red, green", "--templates", f"@{templates}",
                           "--model", tiny_clip_dir, "--json")
    assert code == 0
    assert json.loads(out)["templates"] == ["a drawing of a {}.", "{} on a grey ground"]


def test_label_reports_problems_without_a_traceback(capsys, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    code, _, err = run_cli(capsys, "label", broken, "--labels", LABELS, "--model", "bundled")
    assert code == 2 and "skipped: broken.png" in err and "none of the images" in err
    code, _, err = run_cli(capsys, "label", TOYS[0], "--model", "bundled")
    assert code == 2 and "--labels" in err
    code, _, err = run_cli(capsys, "label", TOYS[0], "--labels", LABELS, "--model", "no/such-model")
    assert code == 2 and "python -m clipdemo download" in err


def test_embed_writes_clip_retrieval_layout_and_resumes(capsys, tmp_path):
    folder = tmp_path / "images"
    (folder / "sub").mkdir(parents=True)
    for p in TOYS[:3]:
        (folder / p.name).write_bytes(p.read_bytes())
    (folder / "sub" / TOYS[4].name).write_bytes(TOYS[4].read_bytes())
    (folder / "sub" / (TOYS[4].stem + ".txt")).write_text("a purple heart")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 not really")
    (folder / "notes.md").write_text("ignored")
    out = tmp_path / "emb"
    argv = ("embed", folder, "--out", out, "--model", "bundled", "--no-map", "--store-dtype", "float32")
    code, stdout, err = run_cli(capsys, *argv)
    assert code == 0
    assert "embedding" in err and "skipped: broken.jpg" in err  # tqdm bar and the skipped file, on stderr
    emb = np.load(out / "img_emb" / "img_emb_0.npy")
    table = pd.read_parquet(out / "metadata" / "metadata_0.parquet")
    assert emb.shape[0] == 4 == len(table) and emb.dtype == np.float32
    assert list(table["image_path"]) == sorted([p.name for p in TOYS[:3]] + [f"sub/{TOYS[4].name}"])
    assert list(table["caption"]) == ["", "", "", "a purple heart"]
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-5)
    assert np.load(out / "text_emb" / "text_emb_0.npy")[3].any()
    side = json.loads((out / "clipdemo_collection.json").read_text())
    assert side["model"] == "bundled" and side["count"] == 4 and side["dim"] == emb.shape[1]
    assert "4 vectors" in stdout
    mtime = (out / "img_emb" / "img_emb_0.npy").stat().st_mtime_ns
    assert run_cli(capsys, *argv)[0] == 0  # a rerun finds the shard finished and leaves it alone
    assert (out / "img_emb" / "img_emb_0.npy").stat().st_mtime_ns == mtime


def test_collection_command_searches_and_exports_for_embedding_atlas(capsys, tmp_path):
    out = tmp_path / "emb"
    assert run_cli(capsys, "embed", TOYS[0].parent, "--out", out, "--model", "bundled", "--no-map")[0] == 0
    code, stdout, _ = run_cli(capsys, "collection", out, "--search", "a small red circle on the left", "--k", "2",
                              "--atlas", tmp_path / "atlas.parquet", "--json")
    assert code == 0
    data = json.loads(stdout)
    assert data["info"]["count"] == len(TOYS) and data["search"]["hits"][0]["image_path"] == TOYS[0].name
    atlas = pd.read_parquet(data["atlas"])
    assert len(atlas) == len(TOYS) and {"projection_x", "projection_y", "caption"} <= set(atlas.columns)


def test_embed_of_an_empty_folder_is_an_error(capsys, tmp_path):
    code, _, err = run_cli(capsys, "embed", tmp_path, "--out", tmp_path / "out", "--model", "bundled")
    assert code == 2 and "no images" in err
    code, _, err = run_cli(capsys, "collection", tmp_path)
    assert code == 2 and "holds no embeddings" in err


def test_download_refuses_offline(capsys, tmp_path):
    code, _, err = run_cli(capsys, "download", "openai/clip-vit-base-patch32", "--to", tmp_path)
    assert code == 2 and "HF_HUB_OFFLINE" in err
    assert not any(tmp_path.iterdir())


def test_train_passes_through(capsys, tmp_path):
    bpe = tmp_path / "bpe.txt.gz"  # the bundled merges, in the layout of OpenAI's BPE file
    bpe.write_bytes(gzip.compress((BUNDLED_MODEL_DIR / "merges.txt").read_bytes()))
    out = tmp_path / "trained"
    code, stdout, _ = run_cli(capsys, "train", "--out", out, "--bpe", bpe, "--merges", "500", "--steps", "2",
                              "--batch-size", "8", "--width", "32", "--vision-layers", "1", "--text-layers", "1",
                              "--heads", "2", "--image-size", "32", "--patch-size", "8", "--projection-dim", "16",
                              "--warmup", "1", "--log-every", "1")
    assert code == 0 and "step     2/2" in stdout
    from clipdemo.core.loading import load_model

    loaded = load_model(str(out), device="cpu", dtype="fp32")
    assert loaded.image_size == 32 and loaded.model.config.projection_dim == 16


def test_eval_passes_through(capsys, tiny_clip_dir):
    code, stdout, _ = run_cli(capsys, "eval", "--model", tiny_clip_dir, "--n-per-combo", "1", "--n-heldout",
                              "1", "--n-count", "8", "--recall-batches", "1")
    assert code == 0 and "colour" in stdout.lower()


def test_bench_passes_through(capsys, tiny_clip_dir):
    code, stdout, _ = run_cli(capsys, "bench", "--models", tiny_clip_dir, "--skip-app", "--dtype", "fp32",
                              "--backends", "none")  # the backend table: tests/test_backends.py
    assert code == 0
    assert "pipeline" in stdout and "img/s" in stdout


def test_passthrough_help_is_the_modules_own(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["train", "--help"])
    assert stop.value.code == 0
    assert "--steps" in capsys.readouterr().out


@pytest.mark.parametrize("query", ["a red circle", "红色圆形"])
def test_video_finds_the_red_circle_at_4_to_6_seconds(capsys, tmp_path, query):
    clip = tmp_path / "toy.mp4"
    code, out, _ = run_cli(capsys, "video", clip, "--make-example", "--query", query, "--model", "bundled",
                           "--backend", "torch", "--json")
    assert code == 0 and clip.is_file()
    data = json.loads(out)
    assert data["queries"] == [query] and 4.0 <= data["best_time"] < 6.0
    assert data["moments"][0]["start"] >= 3.9 and data["moments"][0]["end"] <= 6.1
    code, out, _ = run_cli(capsys, "video", clip, "--query", query, "--query", "a blue square", "--model", "bundled",
                           "--backend", "torch")
    assert code == 0 and "best time: 4." in out and "4.00 s -    6.00 s" in out and "0.00 s -    2.00 s" in out


def test_video_reports_a_file_that_is_not_a_video(capsys, tmp_path):
    bad = tmp_path / "notes.mp4"
    bad.write_text("hello")
    code, _, err = run_cli(capsys, "video", bad, "--query", "a red circle", "--model", "bundled")
    assert code == 2 and "not a video" in err and "Traceback" not in err


def test_label_takes_more_pictures_than_one_service_batch(capsys, tmp_path):
    """300 pictures: the service labels at most limits.MAX_BATCH_IMAGES per call, the CLI all of them."""
    from clipdemo.core import limits, toyworld

    paths = []
    for i, (image, _, _) in enumerate(toyworld.generate(limits.MAX_BATCH_IMAGES + 44, seed=3, size=64)):
        paths.append(tmp_path / f"{i:03d}.png")
        image.save(paths[-1])
    broken = tmp_path / "zz-broken.png"
    broken.write_bytes(b"not a picture")
    code, out, err = run_cli(capsys, "label", *paths, broken, "--labels", LABELS, "--model", "bundled", "--json",
                             "--top", "1")
    assert code == 0, err
    data = json.loads(out)
    assert [r["image"] for r in data["results"]] == [str(p) for p in paths]
    assert "skipped: zz-broken.png" in err and "unlike anything" not in err  # toy pictures: no warning


@pytest.mark.parametrize("family", ["metaclip_2", "siglip2"])
def test_label_on_the_2025_families(capsys, tmp_path, family):
    """A MetaCLIP 2 folder (softmax) and a SigLIP 2 NaFlex folder (sigmoid) label through the CLI."""
    from family_fixtures import build_tiny_metaclip2, build_tiny_siglip2_naflex

    build = build_tiny_metaclip2 if family == "metaclip_2" else build_tiny_siglip2_naflex
    folder = build(tmp_path / family)
    code, out, _ = run_cli(capsys, "label", TOYS[0], TOYS[1], "--labels", "red, green, 红色", "--model", folder,
                           "--backend", "torch", "--json")
    assert code == 0
    result = json.loads(out)
    assert result["family"] == family
    assert result["scores"] == ("sigmoid" if family == "siglip2" else "softmax")
    for row in result["results"]:
        total = sum(t["probability"] for t in row["top"])
        assert len(row["top"]) == 3 and (total != pytest.approx(1, abs=1e-3) if family == "siglip2"
                                         else total == pytest.approx(1, abs=1e-3))
