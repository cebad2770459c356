#!/usr/bin/env python3
"""Bitwise comparison of two nti output trees (refactoring check: "behaviour unchanged").

Usage: same_results.py DIR_A DIR_B

Every .h5 file under DIR_A is paired with the file of the same relative path under DIR_B; every
dataset and every attribute is compared bit for bit, except what records the run rather than the
result: the /provenance group (version, commit, timings, host), attributes named like timings, and
the warnings the writing process logged (/diagnostics@warnings, n_warnings: a resumed run does not
repeat the warnings of the items its interrupted predecessor finished).
Prints one line per file (same / differs, with the first differences) and exits 1 if any differ
or a file is missing on either side.
"""
import sys
from pathlib import Path

import h5py
import numpy as np

SKIP_GROUPS = ("provenance",)
SKIP_ATTR_WORDS = ("seconds", "wall", "timing", "version", "commit", "date", "host", "elapsed", "input_text", "warnings")


def skipped(name: str) -> bool:
    return any(part in SKIP_GROUPS for part in name.strip("/").split("/"))


def same_value(a, b) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind in "fc":
        return a.tobytes() == b.tobytes()
    return bool(np.array_equal(a, b))


def collect(f: h5py.File, root: Path) -> dict:
    """Every dataset and attribute outside /provenance; strings with the output root replaced by
    <ROOT>, so that paths recorded in the files (data files, stage directories) compare equal."""
    items = {}

    def norm(v):
        if isinstance(v, bytes):
            v = v.decode("utf-8", "replace")
        if isinstance(v, str):
            return v.replace(str(root), "<ROOT>")
        return v

    def visit(name, obj):
        if skipped(name):
            return
        if isinstance(obj, h5py.Dataset):
            items[("data", name)] = obj[()]
        for k, v in obj.attrs.items():
            if not any(w in k.lower() for w in SKIP_ATTR_WORDS):
                items[("attr", name + "@" + k)] = norm(v)

    for k, v in f.attrs.items():
        if not any(w in k.lower() for w in SKIP_ATTR_WORDS):
            items[("attr", "/@" + k)] = norm(v)
    f.visititems(visit)
    return items


def compare(pa: Path, pb: Path, ra: Path, rb: Path) -> list:
    with h5py.File(pa, "r") as fa, h5py.File(pb, "r") as fb:
        a, b = collect(fa, ra), collect(fb, rb)
    diffs = [f"only in A: {k[1]}" for k in sorted(a.keys() - b.keys())]
    diffs += [f"only in B: {k[1]}" for k in sorted(b.keys() - a.keys())]
    for k in sorted(a.keys() & b.keys()):
        if not same_value(a[k], b[k]):
            diffs.append(f"differs: {k[1]}")
    return diffs


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    da, db = Path(sys.argv[1]), Path(sys.argv[2])
    fa = {p.relative_to(da) for p in da.rglob("*.h5")}
    fb = {p.relative_to(db) for p in db.rglob("*.h5")}
    bad = 0
    for rel in sorted(fa - fb):
        print(f"MISSING in B: {rel}")
        bad += 1
    for rel in sorted(fb - fa):
        print(f"MISSING in A: {rel}")
        bad += 1
    for rel in sorted(fa & fb):
        d = compare(da / rel, db / rel, da.resolve(), db.resolve())
        print(f"{'same   ' if not d else 'DIFFERS'} {rel}" + ("" if not d else f"  ({len(d)}: " + "; ".join(d[:5]) + ")"))
        bad += bool(d)
    print(f"{len(fa & fb)} files compared, {bad} differ or missing")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
