"""What a collection's embeddings say about its quality: near-duplicates, captions that do not fit, outliers, clusters.

All from one exact pass over the collection: the cosine of every vector with every other, in blocks of
BLOCK rows (a block x count float32 matrix at a time, so memory stays bounded), keeping each row's K nearest
neighbours and every pair above the duplicate threshold. The pass costs count² x dim multiply-adds (100k x 512-d:
~5·10¹² , minutes on two cores); past MAX_EXACT vectors a collection needs an index (not built here).

- duplicates: groups of pictures joined by a cosine >= `threshold` (connected components). DUPLICATE_COSINE is
  measured, not guessed: on the bundled model the planted copies of `synthetic.planted_folder` (JPEG q75, 1-3 px
  re-crop, brightness +-6%) keep a cosine >= 0.93 with their original in 94% of cases (5th percentile 0.934).
  A model that sees only content also joins distinct pictures of the same content (in the toy world, two
  "small red circle on the left" pictures reach 0.99): the groups are candidates to look at, not verdicts.
- mismatched captions: a picture whose own caption scores below the captions of its K nearest pictures. The
  score is best neighbour caption's cosine minus the own caption's cosine (with the better caption beside it);
  positive means a neighbour's caption fits this picture better than its own.
- outliers: the lowest neighbourhood density, 1 - mean cosine with the K nearest pictures.
- clusters: k-means (scikit-learn) on the unit vectors; each cluster named by the zero-shot best of a vocabulary
  made of the captions' frequent words and word pairs ("a photo of {}." by the collection's model): the word whose
  cosine with the cluster's mean direction most exceeds its mean over all clusters (what sets the cluster apart,
  not what every cluster shares); without a model, its most central picture's caption. That caption is beside it.

Every table keeps clip-retrieval's columns (image_path, caption) and the row's index, and carries its parameters
in the parquet file's metadata (key b"clipdemo", JSON).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from clipdemo.data.collection.layout import CollectionError, atomic_write
from clipdemo.data.collection.store import Collection

BLOCK = 2048  # rows of the similarity matrix computed at once (2048 x 100k float32 = 800 MB at most)
K = 10  # neighbours for density and for the captions a picture's own caption is compared with
DUPLICATE_COSINE = 0.93  # see the module docstring for the measurement behind it
MAX_EXACT = 200_000  # beyond this the exact pass would take hours on a CPU: refused with a message
MAX_VOCABULARY = 400  # the most frequent words and word pairs of the captions, as candidate cluster names
MIN_WORD_COUNT = 3  # a word or pair seen fewer times is too rare to name a cluster
LABEL_TEMPLATE = "a photo of {}."
STOP_WORDS = frozenset("a an the and or of on in at to with by for from is are this that it its there".split())


@dataclass
class Neighbourhood:
    """Each vector's K nearest others (by cosine, best first) and every pair above the duplicate threshold."""

    indices: np.ndarray  # (n, k) int64
    cosines: np.ndarray  # (n, k) float32
    pairs: np.ndarray  # (m, 2) int64, i < j
    pair_cosines: np.ndarray  # (m,) float32
    threshold: float
    params: dict = field(default_factory=dict)


def unit_vectors(c: Collection) -> np.ndarray:
    if c.count > MAX_EXACT:
        raise CollectionError(f"collection {c.name!r} holds {c.count} vectors; the exact quality pass takes at most "
                              f"{MAX_EXACT} (it compares every pair).")
    x = np.asarray(c.search_matrix, np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def neighbourhood(x: np.ndarray, k: int = K, threshold: float = DUPLICATE_COSINE, block: int = BLOCK) -> Neighbourhood:
    """The exact blocked pass: each row's k nearest other rows, and all pairs with cosine >= threshold."""
    n = len(x)
    k = max(1, min(int(k), n - 1))
    idx, cos = np.empty((n, k), np.int64), np.empty((n, k), np.float32)
    pairs, pair_cos = [], []
    for a in range(0, n, block):
        s = x[a:a + block] @ x.T
        rows = np.arange(len(s))
        s[rows, a + rows] = -np.inf  # not its own neighbour
        part = np.argpartition(-s, k - 1, axis=1)[:, :k]
        part_cos = np.take_along_axis(s, part, 1)
        order = np.argsort(-part_cos, axis=1, kind="stable")
        idx[a:a + block], cos[a:a + block] = np.take_along_axis(part, order, 1), np.take_along_axis(part_cos, order, 1)
        i, j = np.nonzero(s >= threshold)
        keep = a + i < j
        pairs.append(np.stack([a + i[keep], j[keep]], 1))
        pair_cos.append(s[i[keep], j[keep]])
    return Neighbourhood(idx, cos, np.concatenate(pairs) if pairs else np.zeros((0, 2), np.int64),
                         np.concatenate(pair_cos) if pair_cos else np.zeros(0, np.float32), float(threshold),
                         {"k": k, "threshold": float(threshold), "block": block, "exact": True})


def _table(c: Collection, indices: np.ndarray, **columns):
    import pandas as pd

    meta = c.metadata
    idx = np.asarray(indices, np.int64)
    return pd.DataFrame({"index": idx, "image_path": meta["image_path"].to_numpy()[idx],
                         "caption": meta["caption"].to_numpy()[idx], **columns})


def duplicate_groups(c: Collection, nb: Neighbourhood):
    """One row per picture that has a near-duplicate: group, group_size, cosine with the group's first picture
    (its representative: the lowest index), best first within a group; groups largest first."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = c.count
    if len(nb.pairs) == 0:
        return _table(c, np.zeros(0, np.int64), group=np.zeros(0, np.int64), group_size=np.zeros(0, np.int64),
                      cosine_to_first=np.zeros(0, np.float32))
    graph = coo_matrix((np.ones(len(nb.pairs)), (nb.pairs[:, 0], nb.pairs[:, 1])), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    sizes = np.bincount(label)
    members = np.nonzero(sizes[label] > 1)[0]
    groups = {}
    for i in members:
        groups.setdefault(label[i], []).append(i)
    x = unit_vectors(c)
    rows, gid, gsize, first_cos = [], [], [], []
    for g, (_, items) in enumerate(sorted(groups.items(), key=lambda kv: (-len(kv[1]), min(kv[1])))):
        items = np.array(sorted(items))
        sims = x[items] @ x[items[0]]
        order = np.argsort(-sims, kind="stable")
        rows += items[order].tolist()
        gid += [g] * len(items)
        gsize += [len(items)] * len(items)
        first_cos += sims[order].tolist()
    return _table(c, np.array(rows), group=np.array(gid), group_size=np.array(gsize),
                  cosine_to_first=np.array(first_cos, np.float32))


def caption_vectors(c: Collection, encoder=None) -> tuple[np.ndarray, list[str]]:
    """Unit caption embeddings, row for row: the collection's text_emb shards, else encoded by `encoder`."""
    captions = c.metadata["caption"].tolist()
    if not any(s.strip() for s in captions):
        raise CollectionError(f"collection {c.name!r} has no captions: finding captions that do not fit (and naming "
                              "clusters by caption) needs them. Give each image a same-named .txt file, or a "
                              "caption column in the list, and embed it again.")
    if all(s.text is not None for s in c.shards):
        t = np.concatenate([np.load(s.text) for s in c.shards]).astype(np.float32)
    elif encoder is None:
        raise CollectionError(f"collection {c.name!r} stores no caption embeddings (text_emb/); give a model to "
                              "embed its captions.")
    else:
        t = np.asarray(encoder.encode_texts([s or " " for s in captions]), np.float32)
    return t / np.maximum(np.linalg.norm(t, axis=1, keepdims=True), 1e-12), captions


def mismatched_captions(c: Collection, nb: Neighbourhood, encoder=None):
    """Every captioned picture, worst fit first: own_cosine (picture with its own caption), better_cosine and
    better_caption (the best-fitting caption among its K nearest pictures'), mismatch = better - own."""
    x = unit_vectors(c)
    t, captions = caption_vectors(c, encoder)
    own = np.einsum("ij,ij->i", x, t)
    candidate = np.einsum("id,ikd->ik", x, t[nb.indices])  # picture i with each neighbour's caption
    has = np.array([bool(s.strip()) for s in captions])
    candidate = np.where(has[nb.indices], candidate, -np.inf)
    best = candidate.argmax(1)
    better_idx = nb.indices[np.arange(len(x)), best]
    better = candidate[np.arange(len(x)), best]
    score = np.where(np.isfinite(better), better - own, 0.0)
    rows = np.nonzero(has)[0]
    rows = rows[np.lexsort((rows, -score[rows]))]
    caps = np.array(captions, dtype=object)
    return _table(c, rows, rank=np.arange(1, len(rows) + 1), mismatch=score[rows].astype(np.float32),
                  own_cosine=own[rows].astype(np.float32), better_cosine=better[rows].astype(np.float32),
                  better_caption=caps[better_idx[rows]], better_caption_from=better_idx[rows])


def outliers(c: Collection, nb: Neighbourhood):
    """Every picture, most isolated first: outlier_score = 1 - mean cosine with its K nearest pictures."""
    score = 1.0 - nb.cosines.mean(1)
    rows = np.lexsort((np.arange(len(score)), -score))
    return _table(c, rows, rank=np.arange(1, len(rows) + 1), outlier_score=score[rows].astype(np.float32))


def vocabulary(captions: list[str]) -> list[str]:
    """Candidate cluster names: the captions' most frequent words and adjacent word pairs (stop words dropped);
    a caption without spaces (Chinese) counts as one phrase."""
    import re
    from collections import Counter

    counts: Counter = Counter()
    for caption in captions:
        text = caption.strip().lower()
        if not text:
            continue
        if " " not in text:
            counts[text] += 1
            continue
        tokens = [w for w in re.findall(r"[^\W\d_]+", text) if w not in STOP_WORDS]
        counts.update(set(tokens) | {f"{a} {b}" for a, b in zip(tokens, tokens[1:])})
    return [w for w, n in counts.most_common(MAX_VOCABULARY) if n >= MIN_WORD_COUNT]


def default_clusters(n: int) -> int:
    return int(min(30, max(2, round(math.sqrt(n / 4)))))


def clusters(c: Collection, n_clusters: int | None = None, seed: int = 0, encoder=None):
    """k-means on the unit vectors; per picture its cluster, and per cluster a label (the zero-shot best
    of the collection's distinct captions) and its most central picture's caption. (table, labels list)."""
    from sklearn.cluster import KMeans

    x = unit_vectors(c)
    k = int(n_clusters or default_clusters(len(x)))
    k = max(1, min(k, len(x)))
    km = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(x)
    centres = km.cluster_centers_ / np.maximum(np.linalg.norm(km.cluster_centers_, axis=1, keepdims=True), 1e-12)
    captions = c.metadata["caption"].tolist()
    central = [int(np.flatnonzero(km.labels_ == g)[np.argmax(x[km.labels_ == g] @ centres[g])]) for g in range(k)]
    words = vocabulary(captions)
    if words and encoder is not None:
        t = np.asarray(encoder.encode_texts([LABEL_TEMPLATE.format(w) for w in words]), np.float32)
        t /= np.maximum(np.linalg.norm(t, axis=1, keepdims=True), 1e-12)
        fit = centres @ t.T  # (clusters, words) cosine
        labels = [words[b] for b in (fit - fit.mean(0, keepdims=True)).argmax(1)]
        source = (f"zero-shot best of {len(words)} words and word pairs from the captions (\"{LABEL_TEMPLATE}\"), "
                  "by cosine with the cluster's mean direction above that word's mean over all clusters")
    elif any(s.strip() for s in captions):
        labels = [captions[i] for i in central]
        source = "the caption of the most central picture"
    else:
        labels = [Path(c.metadata["image_path"].iat[i]).name for i in central]
        source = "the most central picture's file name (no captions)"
    sims = np.einsum("ij,ij->i", x, centres[km.labels_])
    table = _table(c, np.arange(len(x)), cluster=km.labels_.astype(np.int64),
                   cluster_label=np.array(labels, dtype=object)[km.labels_],
                   central_caption=np.array([captions[i] for i in central], dtype=object)[km.labels_],
                   cosine_to_centre=sims.astype(np.float32))
    return table, labels, {"algorithm": "k-means (scikit-learn)", "n_clusters": k, "seed": seed, "n_init": 4,
                           "label": source}


def write_table(table, path: str | Path, params: dict) -> Path:
    """A parquet file with its parameters in the schema metadata (key b"clipdemo")."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    arrow = pa.Table.from_pandas(table, preserve_index=False)
    arrow = arrow.replace_schema_metadata({**(arrow.schema.metadata or {}),
                                           b"clipdemo": json.dumps(params, ensure_ascii=False).encode()})
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda p: pq.write_table(arrow, p))
    return path


def read_params(path: str | Path) -> dict:
    import pyarrow.parquet as pq

    return json.loads(pq.read_schema(path).metadata[b"clipdemo"])


@dataclass
class InsightSummary:
    count: int
    duplicates: dict | None = None  # groups, pictures, threshold
    mismatched: dict | None = None
    outliers: dict | None = None
    clusters: dict | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def write_reports(c: Collection, duplicates: str | Path | None = None, mismatched: str | Path | None = None,
                  clusters_out: str | Path | None = None, outliers_out: str | Path | None = None,
                  threshold: float = DUPLICATE_COSINE, k: int = K, n_clusters: int | None = None,
                  encoder=None) -> dict:
    """Write the asked-for tables; a summary of each (counts, parameters, the top rows' indices)."""
    out: dict = {"collection": c.name, "count": c.count}
    base = {"collection": c.name, "count": c.count, "model": c.model}
    nb = neighbourhood(unit_vectors(c), k, threshold) if (duplicates or mismatched or outliers_out) else None
    if duplicates:
        table = duplicate_groups(c, nb)
        params = {**base, "kind": "near-duplicate groups", "measure": "cosine of image embeddings", **nb.params}
        out["duplicates"] = {"file": str(write_table(table, duplicates, params)), "groups": int(table["group"].nunique()),
                             "pictures": len(table), "threshold": threshold}
    if mismatched:
        table = mismatched_captions(c, nb, encoder)
        params = {**base, "kind": "captions that do not fit", "k": nb.params["k"],
                  "score": "mismatch = best cosine of the picture with a caption of its k nearest pictures minus "
                           "the cosine with its own caption; positive: a neighbour's caption fits better"}
        out["mismatched"] = {"file": str(write_table(table, mismatched, params)),
                             "positive": int((table["mismatch"] > 0).sum()), "rows": len(table)}
    if outliers_out:
        table = outliers(c, nb)
        params = {**base, "kind": "outliers", "k": nb.params["k"],
                  "score": "1 - mean cosine with the k nearest pictures (low neighbourhood density)"}
        out["outliers"] = {"file": str(write_table(table, outliers_out, params)), "rows": len(table)}
    if clusters_out:
        table, labels, cparams = clusters(c, n_clusters, encoder=encoder)
        out["clusters"] = {"file": str(write_table(table, clusters_out, {**base, "kind": "clusters", **cparams})),
                           "labels": labels, **cparams}
    return out
