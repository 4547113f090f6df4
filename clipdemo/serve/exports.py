"""Files a result can leave the app as: the figure, the numbers behind it, and a session to redo it.

- figure -> HTML with plotly's own `write_html`, plotly.js inlined so it opens offline (a classroom);
  figure -> PNG with plotly's own `write_image`, which needs kaleido and a Chrome/Chromium it can start:
  `write_figure_png` returns None where that is missing, so callers offer HTML only.
- numbers -> CSV and JSON (a list of flat records, one per row);
- session -> JSON with the model id, the settings, labels, templates and seed: what is needed to get
  the same numbers again (`python -m clipdemo label IMG --session session.json`).
- embeddings -> .npy (the matrix) + .parquet (one row per image, with its vector), in the same order.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import platform
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from clipdemo.errors import InputError

SESSION_FORMAT = "clipdemo-session"
SESSION_VERSION = 1


# ---------------------------------------------------------------- session


def session_record(view: str, model: str, settings: Mapping | None = None, labels: Sequence[str] = (),
                   templates: Sequence[str] = (), seed: int | None = None, model_info: Mapping | None = None,
                   **extra) -> dict:
    """Everything needed to reproduce a result. `model_info` (service.ModelDetails.session_info(): family, source,
    device, dtype, parameters, scores, logit scale) says which model made it."""
    import torch
    import transformers

    record = {
        "format": SESSION_FORMAT, "version": SESSION_VERSION, "view": view, "model": model,
        "settings": dict(settings or {}), "labels": list(labels), "templates": list(templates), "seed": seed,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "software": {"python": platform.python_version(), "torch": torch.__version__,
                     "transformers": transformers.__version__},
    }
    if model_info is not None:
        record["model_info"] = dict(model_info)
    record.update(extra)
    return record


def write_session(path: str | Path, record: Mapping) -> Path:
    return _write_json(path, record)


class SessionError(InputError):
    """A file that is not a session this clipdemo can read; `code` says why (for translated messages):
    "unreadable" (not a file, not JSON), "not_session" (JSON, but no session format mark), "newer"."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number a session may hold")


def read_session(path: str | Path) -> dict:
    """Read a session file back; refuse anything that is not one (with a message a user can act on)."""
    try:  # NaN / Infinity are not JSON numbers: refused, so no range check downstream has to meet one
        record = json.loads(Path(path).read_text(encoding="utf-8"), parse_constant=_no_constant)
    except (OSError, ValueError) as e:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise SessionError("unreadable", f"{path}: not a readable session file ({e}).") from e
    except RecursionError as e:  # "[[[[…" 100 000 deep: the parser gives up, the server must not
        raise SessionError("unreadable", f"{path}: not a readable session file (nested too deeply).") from e
    if not isinstance(record, dict) or record.get("format") != SESSION_FORMAT:
        raise SessionError("not_session", f"{path}: not a clipdemo session file (no \"format\": \"{SESSION_FORMAT}\").")
    version = record.get("version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise SessionError("not_session", f"{path}: not a clipdemo session file (version {version!r}).")
    if version > SESSION_VERSION:
        raise SessionError("newer", f"{path}: written by a newer clipdemo (session version {version}).")
    return record


# ---------------------------------------------------------------- tables


def write_records_csv(path: str | Path, records: Sequence[Mapping]) -> Path:
    """Flat records -> CSV; the columns are the union of the keys, in first-seen order."""
    path = _prepare(path)
    columns = list(dict.fromkeys(k for r in records for k in r))
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(records)
    return path


def write_records_json(path: str | Path, records: Sequence[Mapping], meta: Mapping | None = None) -> Path:
    return _write_json(path, {"meta": dict(meta or {}), "records": list(records)})


# ---------------------------------------------------------------- figures


def write_figure_html(fig, path: str | Path) -> Path:
    """Plotly's own HTML export with plotly.js inlined (~4 MB): opens without internet."""
    path = _prepare(path)
    fig.write_html(str(path), include_plotlyjs=True, full_html=True, config={"displaylogo": False})
    return path


def write_figure_png(fig, path: str | Path, scale: float = 2.0) -> Path | None:
    """Plotly's own PNG export (kaleido drives a headless Chrome); None where kaleido or a browser is missing."""
    try:
        import kaleido  # noqa: F401 - only to learn whether PNG export can work here
    except ImportError:
        return None
    path = _prepare(path)
    try:
        fig.write_image(str(path), format="png", scale=scale)
    except Exception:  # noqa: BLE001 - no browser, sandbox refusal, ...: PNG is optional
        path.unlink(missing_ok=True)
        return None
    return path if path.exists() and path.stat().st_size > 0 else None


# ---------------------------------------------------------------- embeddings


def write_embeddings(out_dir: str | Path, names: Sequence[str], embeddings: np.ndarray,
                     extra_columns: Mapping[str, Sequence] | None = None, meta: Mapping | None = None) -> dict:
    """embeddings.npy ([n, d] float32) + embeddings.parquet (name, extra columns, embedding list) + meta.json."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    emb = np.asarray(embeddings, dtype=np.float32)
    if emb.ndim != 2 or len(emb) != len(names):
        raise ValueError(f"{len(names)} names but embeddings of shape {emb.shape}")
    np.save(out / "embeddings.npy", emb)
    columns = {"row": pa.array(np.arange(len(names), dtype=np.int64)), "name": pa.array(list(names))}
    for key, values in (extra_columns or {}).items():
        columns[key] = pa.array(list(values))
    columns["embedding"] = pa.FixedSizeListArray.from_arrays(pa.array(emb.reshape(-1)), emb.shape[1]) \
        if len(emb) else pa.array([], pa.list_(pa.float32(), emb.shape[1]))
    pq.write_table(pa.table(columns), out / "embeddings.parquet")
    _write_json(out / "meta.json", {"rows": len(names), "dim": int(emb.shape[1]), "normalised": True,
                                    **dict(meta or {})})
    return {"npy": out / "embeddings.npy", "parquet": out / "embeddings.parquet", "meta": out / "meta.json"}


# ---------------------------------------------------------------- helpers


def _prepare(path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _write_json(path: str | Path, obj) -> Path:
    path = _prepare(path)
    path.write_text(json.dumps(obj, indent=1, ensure_ascii=False, default=_jsonable) + "\n", encoding="utf-8")
    return path


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (Path, dt.datetime)):
        return str(value)
    if isinstance(value, Iterable):
        return list(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")
