"""Build a CLIP-format BPE tokenizer (vocab.json + merges.txt) offline.

OpenAI's CLIP BPE ships in open-clip-torch's wheel (MIT) as `bpe_simple_vocab_16e6.txt.gz`.
Its merges are ordered by frequency, so any prefix of them is itself a valid BPE: we keep the
first `n_merges` (default 8000) so the bundled model's token table stays small (~2 MB in fp16
instead of ~13 MB for all 49k rows) while prompts are split exactly as real CLIP splits every
word that those merges cover. Rarer words fall back to smaller real-CLIP pieces.
"""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from pathlib import Path

BPE_NAME = "open_clip/bpe_simple_vocab_16e6.txt.gz"
CLIP_MAX_LENGTH = 77


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP's reversible byte -> printable unicode map."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def read_merges(source: str | Path) -> list[str]:
    """Merges from the .txt.gz itself or from an open-clip-torch wheel holding it."""
    source = Path(source)
    if source.suffix == ".whl":
        with zipfile.ZipFile(source) as zf:
            data = zf.read(BPE_NAME)
    else:
        data = source.read_bytes()
    text = gzip.GzipFile(fileobj=io.BytesIO(data)).read().decode("utf-8")
    return text.split("\n")[1 : 49152 - 256 - 2 + 1]  # exactly as OpenAI's SimpleTokenizer reads them


def find_bpe_source() -> Path:
    """The installed open_clip package's BPE file, if open-clip-torch is importable-as-files."""
    import importlib.util

    spec = importlib.util.find_spec("open_clip")
    if spec and spec.submodule_search_locations:
        p = Path(list(spec.submodule_search_locations)[0]) / "bpe_simple_vocab_16e6.txt.gz"
        if p.exists():
            return p
    raise FileNotFoundError("open-clip-torch's bpe_simple_vocab_16e6.txt.gz not found; pass --bpe PATH "
                            "(the .txt.gz or an open_clip_torch-*.whl from `pip download --no-deps open-clip-torch`)")


def build_vocab(merges: list[str], n_merges: int | None = 8000) -> tuple[dict[str, int], list[str]]:
    merges = merges[:n_merges] if n_merges else merges
    units = list(bytes_to_unicode().values())
    vocab = units + [u + "</w>" for u in units] + ["".join(m.split()) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    return {tok: i for i, tok in enumerate(vocab)}, merges


def write_tokenizer(out_dir: str | Path, source: str | Path | None = None, n_merges: int | None = 8000):
    """Write vocab.json/merges.txt and return a loaded CLIPTokenizer for them."""
    from transformers import CLIPTokenizer

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    vocab, merges = build_vocab(read_merges(source or find_bpe_source()), n_merges)
    (out_dir / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))
    (out_dir / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    tok = CLIPTokenizer(vocab=str(out_dir / "vocab.json"), merges=str(out_dir / "merges.txt"),
                        model_max_length=CLIP_MAX_LENGTH, pad_token="<|endoftext|>")
    return tok
