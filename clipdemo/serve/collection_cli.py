"""Command lines for collections (wired into `python -m clipdemo`):

    python -m clipdemo embed SOURCE --out DIR [--engine ray [--ray-address ADDR]]   (see --help)
    python -m clipdemo collection DIR [--search "a red circle"] [--atlas FILE.parquet]
    python -m clipdemo collection DIR --duplicates D.parquet --mismatched M.parquet [--clusters C.parquet]
                                      [--outliers O.parquet]   (collection insight, see clipdemo.data.collection.insight)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from clipdemo.data.collection.embed import DEFAULT_BATCH, DEFAULT_SHARD_SIZE, STORE_DTYPES
from clipdemo.data.collection.layout import CollectionError

EMBED_HELP = ("Embed a folder tree, a .zip, or a .parquet/.csv list of image paths (optional caption column; "
              "a same-named .txt beside an image is its caption) into clip-retrieval's layout: "
              "OUT/img_emb/img_emb_{k}.npy, OUT/metadata/metadata_{k}.parquet (image_path, caption), "
              "OUT/text_emb/ when there are captions, and OUT/clipdemo_collection.json. A rerun resumes: "
              "finished shards are skipped. Then the map is computed and cached (OUT/map/), unless --no-map.")


def add_embed_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", metavar="SOURCE", help="a folder (walked recursively), a .zip, or a .parquet/.csv list")
    p.add_argument("--out", required=True, metavar="DIR", help="the collection folder to write (or resume)")
    p.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="local: this process; ray: a Ray Data pipeline (pip install -r requirements-ray.txt)")
    p.add_argument("--ray-address", default=None, metavar="ADDR",
                   help="a running Ray cluster (e.g. ray://head:10001 or auto); default: a local Ray instance")
    p.add_argument("--ray-workers", type=int, default=1, metavar="N",
                   help="model replicas (Ray actors), each loads the model once (default 1)")
    p.add_argument("--ray-gpus", type=float, default=0.0, metavar="G", help="GPUs per Ray actor (default 0)")
    p.add_argument("--batch-size", type=int, default=DEFAULT_BATCH)
    p.add_argument("--shard-size", type=int, default=DEFAULT_SHARD_SIZE, help="images per shard, the unit a "
                   f"rerun resumes from (default {DEFAULT_SHARD_SIZE})")
    p.add_argument("--store-dtype", choices=STORE_DTYPES, default="float16",
                   help="dtype of the stored vectors (default float16, as clip-retrieval)")
    p.add_argument("--no-map", action="store_true", help="skip computing the 2D map")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--recursive", action="store_true", help=argparse.SUPPRESS)  # folders are always walked


def cmd_embed(args, open_encoder) -> int:
    """`open_encoder(model, device, dtype)`: the model as the app's service serves it (clipdemo.serve.cli passes it)."""
    # each subcommand loads only what it runs: `clipdemo --help` answers without torch
    from clipdemo.data.collection import embed, mapping, sources, store

    try:
        source = sources.open_source(args.source)
        out = Path(args.out).expanduser()
        print(f"{len(source.items)} images in {source.root} ({source.kind}"
              f"{', with captions' if source.has_captions else ''})", file=sys.stderr)
        if args.engine == "ray":
            # each subcommand loads only what it runs: `clipdemo --help` answers without torch
            from clipdemo.data.collection import ray_engine

            info = ray_engine.embed_ray(source, out, args.model, args.device, args.dtype, args.shard_size,
                                        args.batch_size, args.store_dtype, address=args.ray_address,
                                        workers=args.ray_workers, gpus=args.ray_gpus, progress=not args.no_progress)
        else:
            encoder = open_encoder(args.model, args.device, args.dtype)
            info = embed.embed_local(source, out, encoder, args.shard_size, args.batch_size, args.store_dtype,
                                     progress=not args.no_progress)
        print(f"{info['count']} vectors ({info['dim']}-d, {info['store_dtype']}) in {len(info['shards'])} shard(s) "
              f"-> {out}" + (f"; {info['skipped']} unreadable file(s) skipped" if info.get("skipped") else ""))
        if not args.no_map:
            c = store.open_collection(out)
            _, report = mapping.collection_projection(c, progress=lambda m: print(m, file=sys.stderr))
            print(f"map: UMAP ({report['strategy']}, fitted on {report['fit_n']} of {report['n']}), "
                  f"trustworthiness {report.get('trustworthiness')} on {report.get('trust_sample')} points"
                  + (" (cached)" if report.get("cached") else f", {report.get('total_seconds')} s"))
    except CollectionError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


def _service_on(model: str, device: str = "auto", dtype: str = "auto"):
    # the service (and torch) load only for a subcommand that runs a model
    from clipdemo.serve.service import ClipService

    return ClipService.from_model(model, device, dtype)


def main(argv=None, open_service=None) -> int:
    """`open_service(model, device, dtype)`: a clipdemo.serve.service.ClipService over that model, for --search
    and the model-named clusters (default: the service over that model, loaded on first use)."""
    open_service = open_service or _service_on
    p = argparse.ArgumentParser(prog="python -m clipdemo collection",
                                description="Look into a collection folder: size, model, map, search, exports.")
    p.add_argument("folder", metavar="DIR")
    p.add_argument("--search", metavar="TEXT", help="text -> image search over every vector")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--atlas", metavar="FILE", help="write the map as Embedding Atlas reads it (parquet)")
    p.add_argument("--duplicates", metavar="FILE.parquet", help="write the near-duplicate groups")
    p.add_argument("--mismatched", metavar="FILE.parquet", help="write every captioned picture, worst-fitting "
                                                                "caption first, with a better-fitting caption")
    p.add_argument("--clusters", metavar="FILE.parquet", help="write k-means clusters with caption labels")
    p.add_argument("--outliers", metavar="FILE.parquet", help="write every picture, most isolated first")
    p.add_argument("--threshold", type=float, default=None, metavar="COS",
                   help="cosine at or above which two pictures are near-duplicates (default 0.93, measured)")
    p.add_argument("--neighbours", type=int, default=None, metavar="K", help="neighbours for density and "
                                                                             "caption fit (default 10)")
    p.add_argument("--n-clusters", type=int, default=None, metavar="N", help="default sqrt(count/4), 2-30")
    p.add_argument("--json", action="store_true")
    p.add_argument("--model", default=None)
    p.add_argument("--device", default="auto")
    p.add_argument("--dtype", default="auto")
    args = p.parse_args(argv)
    # each subcommand loads only what it runs: `clipdemo --help` answers without torch
    from clipdemo.data.collection import service

    try:
        chosen = service.CollectionSet([args.folder])
        name = chosen.names()[0]
        out = {"info": service.collection_info(name, chosen)}
        if args.atlas:
            out["atlas"] = str(service.export_atlas(name, args.atlas, chosen))
        if args.search:
            clip = open_service(args.model or chosen.get(name).model, args.device, args.dtype)
            out["search"] = clip.collection_hits(name, args.search, k=args.k, collections=chosen)
        if args.duplicates or args.mismatched or args.clusters or args.outliers:
            from clipdemo.data.collection import insight  # loaded only when asked for

            c = chosen.get(name)  # the model names clusters (and embeds captions a folder did not store)
            needs_model = args.clusters or (args.mismatched and not all(s.text for s in c.shards))
            encoder = open_service(args.model or c.model, args.device, args.dtype).encoder("") if needs_model else None
            out["insight"] = insight.write_reports(
                chosen.get(name), args.duplicates, args.mismatched, args.clusters, args.outliers,
                threshold=args.threshold if args.threshold is not None else insight.DUPLICATE_COSINE,
                k=args.neighbours or insight.K, n_clusters=args.n_clusters, encoder=encoder)
    except (CollectionError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(out, indent=1, ensure_ascii=False))
        return 0
    info = out["info"]
    print(f"{name}: {info['count']} vectors, {info['dim']}-d {info['dtype']}, model {info['model'] or 'not recorded'}, "
          f"{info['shards']} shard(s)")
    if "atlas" in out:
        print(f"Embedding Atlas table: {out['atlas']}  (embedding-atlas {out['atlas']} --x projection_x "
              "--y projection_y --text caption)")
    for kind, r in out.get("insight", {}).items():
        if isinstance(r, dict):
            print(f"{kind}: {r['file']}  ({_insight_line(kind, r)})")
    for h in out.get("search", {}).get("hits", []):
        print(f"{h['rank']:>3}  {h['score']:+.4f}  {h['image_path']}  {h['caption']}")
    return 0


def _insight_line(kind: str, r: dict) -> str:
    if kind == "duplicates":
        return f"{r['groups']} groups, {r['pictures']} pictures at cosine >= {r['threshold']}"
    if kind == "mismatched":
        return f"{r['positive']} of {r['rows']} captions fit worse than a neighbour's"
    if kind == "clusters":
        return f"{r['n_clusters']} clusters: " + "; ".join(r["labels"][:8])
    return f"{r['rows']} pictures ranked"
