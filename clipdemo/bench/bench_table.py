"""The one way the benchmarks print a table (plain columns that read as Markdown)."""

from __future__ import annotations


def print_table(rows, head=("model", "measurement", "result")) -> None:
    w = [max([len(str(r[i])) for r in rows] + [len(h)]) for i, h in enumerate(head)]
    print(" | ".join(h.ljust(x) for h, x in zip(head, w)))
    print("-|-".join("-" * x for x in w))
    for r in rows:
        print(" | ".join(str(c).ljust(x) for c, x in zip(r, w)))
