#!/usr/bin/env python3
"""Fault trials (not in CI): interrupt a tiny `nti run` pipeline with SIGTERM or kill -9 at random
times, rerun the same command until it finishes, and compare the results bitwise with one
uninterrupted run.

Each trial: start `mpirun -np 2 nti run tiny.toml` in a fresh directory, wait for the chosen stage
to begin (its first work item or checkpoint on disk), wait a random extra time, send the signal
(SIGTERM to one rank, or SIGKILL to every rank), then rerun the same command until exit code 0.
Printed per trial: stage, signal, seconds after the stage began, whether the final `nti summary
--json` equals the uninterrupted run's, work lost (training: steps since the last checkpoint;
item stages: the time since the running items' last state saves), and files left behind
(work-item directories, temporary files) after the final run.

    python3 validation/fault_trials.py --nti target/release/nti [--trials 24] [--seed 1]
"""

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time

TINY = """version = 1
[system]
n_particles = 20
density = 0.1
temperature = 1.5
cutoff = 2.5
tail_correction = true
[sample]
replicas = 6
equilibration = 200
production = 2000
stride = 10
rdf_bins = 0
[model]
hidden = [16, 16]
n_radial = 4
r_cut = 2.5
n_freq = 2
[train]
steps = 600
batch = 8
micro_batch = 4
eval_every = 100
checkpoint_every = 50
validation_samples = 16
[generate]
trajectories = 16
steps = 50
[ti]
windows = 6
window_chains = 2
ais_chains = 8
[baseline]
windows = 6
equilibration = 300
production = 3000
[pipeline]
train_n = [20]
ti_n = [20]
baseline_n = [20]
[run]
seed = 3
[output]
file = "tiny.h5"
item_save_seconds = 0.2
"""

# Stage -> (file whose appearance marks that the stage is running, extra delay range in s).
STAGES = {
    "sampling": ("tiny_stages/sample_N20.items/input.toml", (0.0, 0.6)),
    "training": ("tiny_stages/train.ckpt.h5", (0.0, 0.8)),
    "ti-windows": ("tiny_stages/ti.items/input.toml", (0.0, 0.8)),
    "baseline-windows": ("tiny_stages/baseline_N20.items/input.toml", (0.0, 0.6)),
}
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", RUST_LOG="info")


def launch(nti, d, log):
    cmd = ["mpirun", "--oversubscribe", "-np", "2", nti, "run", "tiny.toml"]
    return subprocess.Popen(cmd, cwd=d, env=ENV, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def summary(nti, d):
    out = subprocess.run([nti, "summary", "--json", os.path.join(d, "tiny.h5")], capture_output=True, text=True)
    return json.loads(out.stdout) if out.returncode == 0 else None


def leftovers(d):
    found = []
    for root, dirs, files in os.walk(os.path.join(d, "tiny_stages")):
        found += [x for x in dirs if x.endswith(".items")]
        found += [x for x in files if ".partial-" in x]
    found += [x for x in os.listdir(d) if ".partial-" in x]
    return found


def trial(nti, stage, sig, rng, reference):
    d = tempfile.mkdtemp(prefix="nti-fault-")
    with open(os.path.join(d, "tiny.toml"), "w") as f:
        f.write(TINY)
    mark, (lo, hi) = STAGES[stage]
    log_path = os.path.join(d, "run0.log")
    with open(log_path, "w") as log:
        p = launch(nti, d, log)
        t0 = None
        while p.poll() is None:
            ranks = children(p.pid)
            # Rank 0 (the only rank that logs info) logs the plan after the collective agreement
            # on the input, which rank 1 reaches after installing its signal handlers.
            ready = "nti run: box" in open(log_path).read()
            if os.path.exists(os.path.join(d, mark)) and len(ranks) == 2 and ready:
                t0 = time.time()
                break
            time.sleep(0.01)
        delay = rng.uniform(lo, hi)
        time.sleep(delay)
        ranks = children(p.pid)
        if p.poll() is None and ranks:
            if sig == "SIGTERM":
                os.kill(ranks[-1], signal.SIGTERM)
            else:
                for r in ranks:
                    os.kill(r, signal.SIGKILL)
        code = p.wait(timeout=120)
    text = open(log_path).read()
    # States of running replicas or windows that the stopped run left for the rerun to resume.
    states = sum(f.endswith(".state.h5") for _, _, fs in os.walk(os.path.join(d, "tiny_stages")) for f in fs)
    reruns, final = 0, None
    while reruns < 6:
        reruns += 1
        with open(os.path.join(d, f"run{reruns}.log"), "w") as log:
            final = launch(nti, d, log).wait(timeout=600)
        if final == 0:
            break
    after = open(os.path.join(d, "run1.log")).read()
    # Work lost: nothing after a clean stop (checkpoint at the stopping step, running items saved
    # where they stopped); after kill -9, the training steps since the last checkpoint
    # (< checkpoint_every), or of each running replica or window the time since its last periodic
    # state save (< item_save_seconds = 0.2 s; "states": the item states the rerun found).
    if code == 3:
        lost = "0" if stage == "training" else f"0 ({states} item states saved)"
    elif code == 0:
        lost = "- (finished first)"
    elif stage == "training":
        ck = [int(x) for x in re.findall(r"checkpoint at step (\d+)", text)]
        ev = [int(x) for x in re.findall(r"step (\d+): train loss", text)]
        res = re.findall(r"resuming training from checkpoint .* at step (\d+)", after)
        lost = f"<50 steps (ckpt {max(ck) if ck else 0}, resumed {res[0] if res else 0}, seen {max(ev) if ev else 0})"
    else:
        kept = sum(int(x) for x in re.findall(r"(\d+) items kept from an earlier run", after))
        lost = f"<0.2 s per running item ({kept} kept, {states} states)"
    same = final == 0 and summary(nti, d) == reference
    return {"stage": stage, "signal": sig, "t": delay, "first_exit": code, "reruns": reruns, "same": same, "lost": lost, "left": leftovers(d), "dir": d}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nti", default="target/release/nti")
    ap.add_argument("--trials", type=int, default=24)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    nti = os.path.abspath(a.nti)
    rng = random.Random(a.seed)
    ref_dir = tempfile.mkdtemp(prefix="nti-fault-ref-")
    with open(os.path.join(ref_dir, "tiny.toml"), "w") as f:
        f.write(TINY)
    r = subprocess.run([nti, "run", "tiny.toml"], cwd=ref_dir, env=dict(ENV, RUST_LOG="warn"), capture_output=True)
    if r.returncode != 0:
        sys.exit(f"uninterrupted reference run failed: {r.stderr.decode()}")
    reference = summary(nti, ref_dir)
    rows = []
    combos = [(s, g) for s in STAGES for g in ("SIGTERM", "SIGKILL")]
    print(f"{'#':>3} {'stage':<17} {'signal':<8} {'t(s)':>5} {'1st exit':>8} {'reruns':>6} "
          f"{'resumed==uninterrupted':>22} {'work lost':<44} left behind")
    for k in range(a.trials):
        stage, sig = combos[k % len(combos)]
        t = trial(nti, stage, sig, rng, reference)
        rows.append(t)
        print(f"{k + 1:>3} {stage:<17} {sig:<8} {t['t']:>5.2f} {t['first_exit']:>8} {t['reruns']:>6} "
              f"{str(t['same']):>22} {t['lost']:<44} {','.join(t['left']) or '-'}", flush=True)
    bad = [t for t in rows if not t["same"] or t["left"]]
    print(f"\n{len(rows) - len(bad)} of {len(rows)} trials resumed bitwise identical with nothing left behind "
          f"(reference: 1 rank, uninterrupted; trials: 2 ranks)")
    for t in bad:
        print(f"  FAILED: {t['stage']} {t['signal']} in {t['dir']}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
