"""The web app's launcher: parse launch options, build the UI, launch it.

    clipdemo app [--model NAME] [--port 7860] ...       (installed; each option also reads an environment variable)
    python app.py [--model NAME] [--port 7860] ...      (a checkout, a Space: the same function)
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from clipdemo.core import gpu, limits, settings
from clipdemo.core.settings import env, env_paths


def parse_args(argv=None, prog: str | None = None) -> argparse.Namespace:
    """Launch options; each defaults to its environment variable (read through clipdemo.core.settings, the one
    module that reads the environment) and is passed down from here."""
    p = argparse.ArgumentParser(prog=prog, description="clipdemo: see and touch CLIP in the browser")
    p.add_argument("--host", default=env("CLIPDEMO_HOST", env("GRADIO_SERVER_NAME", "127.0.0.1")),
                   help="address to listen on (CLIPDEMO_HOST; 0.0.0.0 to serve a classroom)")
    p.add_argument("--port", type=int, default=int(env("CLIPDEMO_PORT", env("GRADIO_SERVER_PORT", "7860"))),
                   help="port (CLIPDEMO_PORT)")
    p.add_argument("--share", action="store_true", default=env("CLIPDEMO_SHARE", "") == "1",
                   help="make a public gradio.live link (CLIPDEMO_SHARE=1; needs internet)")
    p.add_argument("--model", default=env("CLIPDEMO_MODEL", ""),
                   help="'bundled', a hub id or a local folder (CLIPDEMO_MODEL); default: OpenAI ViT-B/32 when "
                        "cached or reachable, else the bundled model")
    p.add_argument("--device", default=env("CLIPDEMO_DEVICE", "auto"), help="auto, cpu, cuda, mps (CLIPDEMO_DEVICE)")
    p.add_argument("--dtype", default=env("CLIPDEMO_DTYPE", "auto"), help="auto, fp32, bf16, fp16 (CLIPDEMO_DTYPE)")
    p.add_argument("--backend", default=env("CLIPDEMO_BACKEND", "auto"), choices=("auto", "torch", "openvino"),
                   help="what computes embeddings (CLIPDEMO_BACKEND): auto = OpenVINO on a CPU where it is installed "
                        "and measured faster, else torch")
    p.add_argument("--int8", action="store_true", default=env("CLIPDEMO_INT8", "") == "1",
                   help="encode with an int8 (NNCF-quantised) OpenVINO copy; its agreement with fp32 is shown "
                        "(CLIPDEMO_INT8=1)")
    p.add_argument("--max-models", type=int, default=int(env("CLIPDEMO_MAX_MODELS", "2")),
                   help="models kept in memory at once (CLIPDEMO_MAX_MODELS)")
    p.add_argument("--allow-folder", action="append", default=env_paths("CLIPDEMO_ALLOW_FOLDERS"), help="a local model folder the picker may offer, or a folder of them as written by "
                                "`python -m clipdemo download` (repeatable; CLIPDEMO_ALLOW_FOLDERS, "
                                f"'{os.pathsep}'-separated)")
    p.add_argument("--concurrency", type=int, default=int(env("CLIPDEMO_CONCURRENCY", "2")),
                   help="requests computed at once per kind of work (CLIPDEMO_CONCURRENCY)")
    p.add_argument("--max-queue", type=int, default=int(env("CLIPDEMO_MAX_QUEUE", str(limits.MAX_QUEUE))),
                   help="requests that may wait in the queue; more are turned away with a message (CLIPDEMO_MAX_QUEUE)")
    p.add_argument("--max-file-size", default=env("CLIPDEMO_MAX_FILE_SIZE", "25mb"),
                   help="upload limit (CLIPDEMO_MAX_FILE_SIZE)")
    p.add_argument("--collection", action="append", default=env_paths("CLIPDEMO_COLLECTIONS"), help="a collection folder written by `python -m clipdemo embed` or clip-retrieval, "
                                "offered in the map tab by its folder name (repeatable; CLIPDEMO_COLLECTIONS, "
                                f"'{os.pathsep}'-separated)")
    p.add_argument("--max-pending-per-client", type=int,
                   default=int(env("CLIPDEMO_MAX_PENDING", str(limits.MAX_PENDING_PER_SESSION))),
                   help="requests one visitor (a browser tab or API client: a session) may have waiting or running; "
                        "0: no limit (CLIPDEMO_MAX_PENDING)")
    p.add_argument("--max-pending-per-address", type=int,
                   default=int(env("CLIPDEMO_MAX_PENDING_PER_ADDRESS", str(limits.MAX_PENDING_PER_ADDRESS))),
                   help="requests all sessions of one address (a school's NAT: a whole class) may have waiting or "
                        "running (CLIPDEMO_MAX_PENDING_PER_ADDRESS)")
    p.add_argument("--max-new-sessions", type=int,
                   default=int(env("CLIPDEMO_MAX_NEW_SESSIONS", str(limits.MAX_NEW_SESSIONS_PER_MINUTE))),
                   help="new sessions one address may open a minute (CLIPDEMO_MAX_NEW_SESSIONS)")
    p.add_argument("--disk-cap", default=env("CLIPDEMO_DISK_CAP", "1gb"),
                   help="uploads and outputs kept on disk at most; the oldest go first (CLIPDEMO_DISK_CAP)")
    p.add_argument("--cache-dir", default=env("CLIPDEMO_CACHE", ""),
                   help="clipdemo's cache: toy galleries, converted OpenVINO models, collection maps (CLIPDEMO_CACHE; "
                        "default ~/.cache/clipdemo)")
    p.add_argument("--max-trainings", type=int, default=int(env("CLIPDEMO_MAX_TRAININGS", "2")),
                   help="Learn-tab trainings running at once on this server (CLIPDEMO_MAX_TRAININGS)")
    p.add_argument("--train-time-limit", type=float, default=float(env("CLIPDEMO_TRAIN_TIME_LIMIT", "900")),
                   help="seconds one Learn-tab training may run (CLIPDEMO_TRAIN_TIME_LIMIT)")
    p.add_argument("--train-threads", type=int, default=int(env("CLIPDEMO_TRAIN_THREADS", "1")),
                   help="CPU threads per Learn-tab training (CLIPDEMO_TRAIN_THREADS)")
    p.add_argument("--mcp", action="store_true", default=env("CLIPDEMO_MCP", "") == "1",
                   help="also serve the API endpoints as MCP tools at /gradio_api/mcp/ (CLIPDEMO_MCP=1)")
    p.add_argument("--no-gradio-patches", action="store_true", default=env("CLIPDEMO_GRADIO_PATCHES", "1") == "0",
                   help="leave Gradio's cache writes as Gradio ships them, not atomic: only for the test that shows "
                        "the race the patches prevent (CLIPDEMO_GRADIO_PATCHES=0)")
    return p.parse_args(argv)


def with_queue(demo, args: argparse.Namespace):
    """Gradio's queue: `concurrency` requests computed at once, at most `max_queue` waiting."""
    return demo.queue(default_concurrency_limit=args.concurrency, max_size=args.max_queue)


def start_warm_up() -> threading.Thread:
    """umap-learn's numba compile (12-15 s per process) and the toy gallery, paid once the server is up and
    off the request path: the first map then draws at once."""
    # after the options are parsed: `--help` answers without loading torch or the UI
    from clipdemo.core import projection
    from clipdemo.data import gallery

    def work():
        try:
            projection.warm_up()
            gallery.toy_gallery()
        except Exception as e:  # noqa: BLE001 - a failed warm-up only means the first map is slower
            print(f"clipdemo: map warm-up failed ({e!r}); the first UMAP will compile on demand", file=sys.stderr)

    thread = threading.Thread(target=work, name="map-warm-up", daemon=True)
    thread.start()
    return thread


def main(argv=None, prog: str | None = "clipdemo app") -> None:
    args = parse_args(argv, prog)
    gpu.prepare()  # on ZeroGPU, `spaces` must patch torch before anything touches CUDA
    # after the options are parsed: `--help` answers without loading torch or the UI
    from clipdemo.core.loading import default_model_name
    from clipdemo.core.registry import ModelRegistry
    from clipdemo.serve.download import launch_models
    from clipdemo.teach.live_training import LiveTrainingManager
    from clipdemo.ui import gradio_adapter, scratch
    from clipdemo.ui.app import build_app, launch_kwargs, shutdown, start_housekeeping
    from clipdemo.ui.context import UIContext

    if args.cache_dir:
        settings.CACHE_DIR = Path(args.cache_dir).expanduser()
    if not settings.env("GRADIO_TEMP_DIR"):  # uploads and outputs in the app's own folder, removed at shutdown
        settings.use_gradio_temp_dir(scratch.app_root() / "gradio")
    # SIGTERM (docker stop, systemd, a Space restarting) stops the app as Ctrl-C does: cleanly, exit 0
    signal.signal(signal.SIGTERM, lambda signum, frame: (_ for _ in ()).throw(KeyboardInterrupt()))

    # a folder of downloaded models (offline classroom) starts with the best one and offers them all
    model, allowed = launch_models(args.model or default_model_name(), args.allow_folder)
    registry = ModelRegistry(model, device=args.device, dtype=args.dtype, max_models=args.max_models,
                             allowed_folders=allowed, backend=args.backend, int8=args.int8)
    registry.get()  # load the default model before the first visitor arrives
    trainings = LiveTrainingManager(max_running=args.max_trainings, time_limit_s=args.train_time_limit,
                                    threads=args.train_threads, export_root=scratch.app_root() / "learned")
    ctx = UIContext(registry, concurrency=args.concurrency, extra={"live_training": trainings})
    kwargs = launch_kwargs(args.max_file_size, args.max_pending_per_client, behind_space_proxy=settings.on_hf_space(),
                           max_per_address=args.max_pending_per_address, max_new_sessions=args.max_new_sessions)
    if args.collection:  # large prepared collections: checked now, maps computed in the background
        # after the options are parsed: `--help` answers without loading torch or the UI
        from clipdemo.data.collection import service as collections
        from clipdemo.ui.collection.routes import routes

        ctx.extra["collections"] = collections.configure(args.collection)
        kwargs["app_kwargs"]["routes"] = [*kwargs["app_kwargs"].get("routes", []), *routes()]
    demo = build_app(ctx, gradio_patches=not args.no_gradio_patches)
    with_queue(demo, args)
    sweeper = start_housekeeping(ctx, gradio_adapter.parse_file_size(args.disk_cap))
    try:
        demo.launch(server_name=args.host, server_port=args.port, share=args.share, mcp_server=args.mcp,
                    prevent_thread_lock=True, **kwargs)
        start_warm_up()
        if args.collection:  # after launch, like the warm-up: imports are settled by now
            collections.prepare_in_background()
        demo.block_thread()  # returns on Ctrl-C or SIGTERM, the server closed
    except KeyboardInterrupt:  # before or during launch
        demo.close()
    finally:
        shutdown(ctx, sweeper)
