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


# ---------------------------------------------------------------- Chinese characters as tokens
#
# CLIP's pre-tokenizer keeps a run of CJK letters as one "word", and byte-level BPE then splits each
# character into its 3 UTF-8 bytes unless merges join them. OpenAI's first 8000 merges join almost
# none, so "一张红色圆形的照片" became 27 byte pieces. We add, for each character we need, the merges
# that assemble its bytes into one token, in both forms BPE uses ("X" inside a word, "X</w>" at its
# end) -- one token per character, as Chinese BERT and Chinese-CLIP tokenize Chinese. The new merges
# go *first* (highest priority) so a known character always becomes one token whatever merges follow;
# they only ever apply to 3-byte UTF-8 sequences, so no English (or other Latin-script) word is split
# differently, and every existing token keeps its id: new tokens are appended after <|endoftext|>.

# Common characters beyond the toy world's: the most frequent ones in modern Chinese text, plus what
# everyday labels (animals, things, colours, places) need. A character here but never in training
# gets its own token with an untrained embedding; one outside this list falls back to byte pieces.
COMMON_CHARS = (
    "的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生自会那后能对着事其里所去"
    "行过家十用发天如然作方成者多日都三小军二无同么经法当起与好看学进种将还分此心前面又定见只主没公从知"
    "使点全已想头明开手问正两物实本长现意外老工果部门此高力理新把四五六七八九零百千万亿第几些每各都很最"
    "更太非常真假美丽漂亮可爱旧少短宽窄厚薄轻重快慢早晚亮暗深浅冷热干湿软硬圆方尖直弯平"
    "红橙黄绿青蓝紫粉黑白灰棕褐金银彩色"
    "形状圆圈角边线点块条片张幅副只匹头辆架艘本支根朵棵颗粒双对群堆"
    "照相图画像影视频摄绘素描油漆雕塑刺绣纹身涂鸦折纸卡通玩具毛绒游戏渲染模糊清晰低分辨率损坏像素干净脏酷好坏"
    "猫狗鸟鱼马牛羊猪鸡鸭鹅兔鼠虎狮熊象猴狼狐鹿蛇龟蛙虫蜂蝶蚁鲸鲨海豚企鹅熊猫长颈鹿斑袋鼠"
    "人男女孩儿童婴老师生医警察厨农民工士兵"
    "车汽船飞机火自行摩托卡巴士地铁路桥楼房屋门窗墙桌椅床柜沙发灯电脑手机键盘鼠标视钟表杯碗盘筷勺刀叉瓶"
    "书包笔纸伞帽鞋衣裤裙袜眼镜钥匙球拍琴吉他鼓"
    "苹果香蕉橘子梨桃葡萄西瓜草莓柠檬菠萝樱面包蛋糕饭米菜肉汤茶咖啡奶水酒披萨汉堡"
    "花草树叶木森林山河湖海天空云雨雪风太阳月亮星星火石沙土城市乡村公园街道学校医院商店厨房卧室"
    "上下左右前后中间里外旁边内东南西北"
    "一二三四五六七八九十两个张"
    "这那哪谁什么怎样吗呢吧啊哦是有在和与或但因为所以如果虽然就才也都还又再很最太更"
)
CJK_PUNCTUATION = "。，、！？：；（）“”《》"


def _units(text: str) -> list[str]:
    table = bytes_to_unicode()
    return [table[b] for b in text.encode("utf-8")]


def chinese_merges(chars: str) -> list[str]:
    """Merges that make each of `chars` one token, in the "X" and "X</w>" forms, in priority order."""
    out: list[str] = []
    for ch in dict.fromkeys(chars):
        units = _units(ch)
        if len(units) != 3:  # only 3-byte UTF-8 characters (CJK, CJK punctuation, fullwidth forms)
            continue
        out += [f"{units[0]} {units[1]}", f"{units[0] + units[1]} {units[2]}",
                f"{units[0] + units[1]} {units[2]}</w>"]
    return list(dict.fromkeys(out))


def extend_with_chinese(vocab: dict[str, int], merges: list[str], chars: str) -> tuple[dict[str, int], list[str]]:
    """Add one token per character in `chars`; existing ids unchanged, new ids after the last one.

    Idempotent: extending an already-extended tokenizer with the same characters changes nothing."""
    new = chinese_merges(chars)
    wanted = set(new)
    merges = new + [m for m in merges if m and m not in wanted]
    vocab = dict(vocab)
    next_id = max(vocab.values()) + 1
    for m in new:
        token = "".join(m.split())
        if token not in vocab:
            vocab[token] = next_id
            next_id += 1
    return vocab, merges


def chinese_charset() -> str:
    """Every character the toy world's Chinese captions and templates use, then COMMON_CHARS."""
    # loaded only by the step that uses it (a tool's --help stays fast)
    from clipdemo.core import toyworld
    from clipdemo.core.templates import ZH_TEMPLATES

    words = toyworld.chinese_vocabulary() + "".join(ZH_TEMPLATES) + COMMON_CHARS + CJK_PUNCTUATION
    return "".join(dict.fromkeys(ch for ch in words if len(ch.encode("utf-8")) == 3))


def read_tokenizer_files(folder: str | Path) -> tuple[dict[str, int], list[str]]:
    """vocab.json and merges.txt of a saved CLIP tokenizer folder (e.g. assets/toy-clip)."""
    folder = Path(folder)
    vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
    lines = (folder / "merges.txt").read_text(encoding="utf-8").split("\n")
    return vocab, [m for m in lines if m and not m.startswith("#version")]


def save_tokenizer(out_dir: str | Path, vocab: dict[str, int], merges: list[str]):
    """Write vocab.json/merges.txt and return a loaded CLIPTokenizer for them."""
    from transformers import CLIPTokenizer

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (out_dir / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    return CLIPTokenizer(vocab=str(out_dir / "vocab.json"), merges=str(out_dir / "merges.txt"),
                         model_max_length=CLIP_MAX_LENGTH, pad_token="<|endoftext|>")


def write_bilingual_tokenizer(out_dir: str | Path, base: str | Path, chars: str | None = None):
    """The tokenizer of folder `base`, extended with Chinese character tokens, written to `out_dir`."""
    vocab, merges = read_tokenizer_files(base)
    vocab, merges = extend_with_chinese(vocab, merges, chinese_charset() if chars is None else chars)
    return save_tokenizer(out_dir, vocab, merges)
