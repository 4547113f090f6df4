"""Write requirements*.txt from pyproject.toml, the one place for clipdemo's dependencies.

    python scripts/requirements_from_pyproject.py            (rewrites the files)
    python scripts/requirements_from_pyproject.py --check    (exit 1 when a file differs; tests/test_requirements.py)

A Space and README's `pip install -r requirements.txt && python app.py` install requirements.txt without installing
clipdemo itself (app.py imports it from the checkout), so the files list the packages, not `.[extra]`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
HEADER = ("# Written by scripts/requirements_from_pyproject.py from pyproject.toml, the one place for dependencies (and\n"
          "# the reasons for their pins): edit pyproject.toml, then run the script.\n")
# file -> (what it is for, files it includes, whether it lists [project] dependencies, extras it lists)
LAYOUT = {
    "requirements.txt": ("What a Space and `python app.py` need: the dependencies and the extras mcp, spaces.",
                         [], True, ["mcp", "spaces"]),
    "requirements-openvino.txt": ("Optional: the extra openvino (faster CPU encoding, int8).", [], False, ["openvino"]),
    "requirements-ray.txt": ("Optional: the extra ray (`clipdemo embed --engine ray`).", ["requirements.txt"], False,
                             ["ray"]),
    "requirements-dev.txt": ("The tests: the extra dev (it includes openvino, mcp and spaces).",
                             ["requirements.txt", "requirements-openvino.txt"], False, ["dev"]),
}


def render(pyproject: dict) -> dict[str, str]:
    """Each requirements file's text. `clipdemo[...]` inside an extra is left to the included files, which must
    cover it (checked here)."""
    project = pyproject["project"]
    extras = project["optional-dependencies"]
    out = {}
    for name, (purpose, includes, with_dependencies, wanted) in LAYOUT.items():
        lines = [HEADER.rstrip("\n"), f"# {purpose}", *(f"-r {f}" for f in includes)]
        if with_dependencies:
            lines += project["dependencies"]
        for extra in wanted:
            for req in extras[extra]:
                if req.startswith(project["name"] + "["):
                    needed = set(req.split("[", 1)[1].rstrip("]").split(","))
                    covered = {e for f in includes for e in LAYOUT[f][3]}
                    if not needed <= covered:
                        raise ValueError(f"{name}: extra {extra} needs {sorted(needed - covered)}; include their file")
                    continue
                lines.append(req)
        out[name] = "\n".join(lines) + "\n"
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--check", action="store_true", help="only compare; exit 1 when a file differs")
    args = p.parse_args(argv)
    texts = render(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8")))
    stale = [n for n, text in texts.items() if not (ROOT / n).is_file() or (ROOT / n).read_text() != text]
    if args.check:
        for n in stale:
            print(f"{n} differs from pyproject.toml: run python scripts/requirements_from_pyproject.py", file=sys.stderr)
        return 1 if stale else 0
    for n in stale:
        (ROOT / n).write_text(texts[n])
        print(f"wrote {n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
