#!/usr/bin/env python3
"""nti's H5MD trajectories in MDAnalysis: a tiny `nti sample` run is opened with MDAnalysis's H5MD
reader as written, and MDAnalysis's InterRDF on the trajectory is compared with the g(r) nti
stored in the same file.

Run through validation/h5md_mdanalysis.sh, which provides a virtual environment with MDAnalysis
and h5py from PyPI (this script needs both importable):

    bash validation/h5md_mdanalysis.sh            # or: make h5md-check

Why the comparison is exact up to rounding: nti accumulates its RDF on exactly the frames it
stores in the trajectory (every `stride` steps of production), with 1 replica the stored g(r) is
that replica's, and both use the same bins ([0, r_max) in `rdf_bins` shells) and the same
normalisation (g = 2 H_k / (M N (N-1)/V V_k): InterRDF with exclusion_block=(1, 1) counts ordered
pairs over N(N-1)). The only difference is MDAnalysis's float32 coordinates: a pair changes shell
only when its distance lies within ~1e-6 sigma of a shell edge. The check expresses |g_MDA - g_nti| in
units of one pair in that shell and allows at most `--max-flips` pairs per shell (the expected
number of such pairs in this run is printed; it is far below 1). A 1% error in the box, a lost
frame or a wrong normalisation changes hundreds of counts.

A negative control follows: the same comparison on a copy whose box edges are scaled by 1.01 must
fail, so the check is shown to detect a wrong box.

Exit status 0 when every check passes, 1 otherwise.
"""
from __future__ import annotations

import argparse
import math
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import h5py
import numpy as np
import MDAnalysis as mda
from MDAnalysis.analysis.rdf import InterRDF

INPUT = """version = 1
[system]
n_particles = {n}
density = 0.6
temperature = 1.5
cutoff = 2.5
[sample]
method = "mc"
replicas = 1
equilibration = 200
production = {production}
stride = 10
rdf_bins = {bins}
widom_insertions = 10
[run]
seed = 11
[output]
file = "traj.h5"
"""


def open_universe(path: Path, n: int) -> mda.Universe:
    """The documented way to open an nti trajectory (README, "Results file")."""
    u = mda.Universe.empty(n, trajectory=False)
    u.load_new(str(path), format="H5MD", convert_units=False)
    return u


def pair_counts(g: np.ndarray, n: int, volume: float, frames: int, r_max: float) -> np.ndarray:
    """Unordered pair counts per shell behind g (inverse of nti's normalisation)."""
    e = np.linspace(0.0, r_max, len(g) + 1)
    vk = 4.0 / 3.0 * math.pi * (e[1:] ** 3 - e[:-1] ** 3)
    return g * 0.5 * n * (n - 1) / volume * frames * vk


def compare(path: Path, n: int, max_flips: float, quiet: bool = False) -> list[str]:
    """Failures of MDAnalysis's reading and RDF of `path` against nti's own data in the file."""
    fails: list[str] = []
    say = (lambda *a: None) if quiet else print
    with h5py.File(path, "r") as f:
        side = float(f["system"].attrs["box_side"])
        pos = f["particles/replica_000/position/value"][()]
        pressure = f["observables/replica_000/pressure/value"][()]
        r_nti, g_nti = f["rdf/r"][()], f["rdf/g"][()]
        unit = f["particles/replica_000/position/value"].attrs.get("reduced_unit")
    frames = pos.shape[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MDAnalysis warns about the empty topology's missing masses
        u = open_universe(path, n)
        if u.trajectory.n_frames != frames:
            fails.append(f"MDAnalysis reads {u.trajectory.n_frames} frames, the file has {frames}")
        for ts in u.trajectory:
            if not np.allclose(ts.dimensions, [side, side, side, 90, 90, 90], rtol=1e-6):
                fails.append(f"frame {ts.frame}: box {ts.dimensions} != cubic side {side}")
                break
            if not np.allclose(ts.positions, pos[ts.frame], rtol=0, atol=1e-5 * side):
                fails.append(f"frame {ts.frame}: positions differ from /particles/replica_000/position/value")
                break
            if ts.data.get("replica_000/pressure") != np.float64(pressure[ts.frame]):
                fails.append(f"frame {ts.frame}: observable replica_000/pressure not read as stored")
                break
        say(f"MDAnalysis {mda.__version__}: {u.trajectory.n_frames} frames of {u.atoms.n_atoms} particles, "
            f"box {u.dimensions[:3]} ({unit}), observables {sorted(u.trajectory.ts.data)}")
        r_max = r_nti[-1] + r_nti[0]  # centres (k + 1/2) dr: last centre + dr/2
        rdf = InterRDF(u.atoms, u.atoms, nbins=len(r_nti), range=(0.0, r_max), exclusion_block=(1, 1))
        rdf.run()
    if not np.allclose(rdf.results.bins, r_nti, rtol=0, atol=1e-9):
        fails.append("InterRDF shell centres differ from /rdf/r")
    # Differences in units of one pair in a shell (nti's normalisation: box side from /system).
    per_pair = pair_counts(np.ones_like(g_nti), n, side**3, frames, r_max) ** -1
    h_nti = g_nti / per_pair
    dh = np.abs(rdf.results.rdf - g_nti) / per_pair
    # Pairs within delta of an edge: pair density per unit r at each edge times 2 delta (delta =
    # float32 resolution of a distance of order L).
    delta = 2.0 * np.finfo(np.float32).eps * side
    dr = r_max / len(r_nti)
    expected = float(np.sum(np.maximum(h_nti[:-1], h_nti[1:]) / dr * 2 * delta))
    worst = int(np.argmax(dh))
    say(f"RDF: {len(r_nti)} shells up to r = {r_max:.4f} sigma over {frames} frames, "
        f"{h_nti.sum():.0f} pairs; largest difference of MDAnalysis InterRDF from nti: {dh[worst]:.3g} pairs "
        f"in shell {worst} (r = {r_nti[worst]:.3f}), max |g_MDA - g_nti| = {np.max(np.abs(rdf.results.rdf - g_nti)):.3g}; "
        f"pairs expected within float32 rounding of a shell edge: {expected:.2g}")
    if dh.max() > max_flips + 1e-6 * max(1.0, h_nti.max()):
        fails.append(f"RDF differs by {dh.max():.1f} pairs in shell {worst} (allowed {max_flips})")
    return fails


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nti", default="target/release/nti")
    ap.add_argument("--n", type=int, default=108)
    ap.add_argument("--production", type=int, default=400)
    ap.add_argument("--bins", type=int, default=40)
    ap.add_argument("--max-flips", type=float, default=2.0)
    a = ap.parse_args()
    nti = str(Path(a.nti).resolve())
    with tempfile.TemporaryDirectory() as d:
        dp = Path(d)
        (dp / "s.toml").write_text(INPUT.format(n=a.n, production=a.production, bins=a.bins))
        cmd = [nti, "sample", "s.toml"]
        print("$", " ".join(cmd), f"  (N = {a.n}, {a.production // 10} frames, {a.bins} RDF shells)", flush=True)
        p = subprocess.run(cmd, cwd=dp, capture_output=True, text=True)
        if p.returncode != 0:
            print(p.stdout + p.stderr)
            print("FAIL: nti sample failed")
            return 1
        path = dp / "traj.h5"
        fails = compare(path, a.n, a.max_flips)
        # Negative control: a 1% wrong box must be caught.
        bad = dp / "bad_box.h5"
        shutil.copy(path, bad)
        with h5py.File(bad, "r+") as f:
            f["particles/replica_000/box/edges/value"][...] *= 1.01
        control = compare(bad, a.n, a.max_flips, quiet=True)
        if not control:
            fails.append("negative control: a box 1% too large passed the comparison")
        else:
            print("negative control (box edges x 1.01) is detected:\n  " + "\n  ".join(control))
    for f in fails:
        print("FAIL:", f)
    print("h5md_mdanalysis:", "1 passed, 0 failed" if not fails else "0 passed, 1 failed")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
