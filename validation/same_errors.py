#!/usr/bin/env python3
"""Input handling of one nti binary over a corpus, so that two binaries (before and after a
refactoring of src/config) can be compared: every input of inputs/ and tests/fixtures, every key
of inputs/example.toml overridden with ~30 good and bad values, pairs of keys checked together, an
input without [system], and the checks of nti generate, ti and run that stop before any work.
Prints one record per case (arguments, exit code, stdout, stderr): about 3500 cases, a few minutes.

Usage: same_errors.py NTI_BINARY > A.txt; same_errors.py OTHER_BINARY > B.txt; diff A.txt B.txt
"""
import os
import subprocess
import sys
import tempfile
import tomllib

NTI = os.path.realpath(sys.argv[1])
REPO = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
EXAMPLE = f"{REPO}/inputs/example.toml"

# Values every key of the example input is set to (most are wrong for most keys).
VALUES = ["-1", "0", "1", "2", "3", "0.5", "1.5", "1e9", "-0.5", "nan", "inf", '"x"', '"min-image"', "[]",
          "[1, 1]", "[0.5, 0.2]", "[2, 1000]", "[0.0, 1.0]", "true", "false", '"data"', '"both"', '"hmc"',
          '"clenshaw-curtis"', '"gauss-legendre"', '"langevin"', '"message-passing"', '"auto"', '["a.h5"]',
          "[0.3, 0.3]", "[1.0]", "[60, 120]"]

# Overrides that are not of one known key.
ODD = ["version=2", 'version="1"', "foo.bar=1", "system=1", "model.standardize=true", "train.cd_weight=1",
       "model=1", "density", "a.b.c=1", "system.density="]

# Keys that are checked together.
PAIRS = [
    ('ti.window_start="data"', "ti.window_chains=1"), ('ti.window_start="both"', "ti.window_chains=1"),
    ('ti.window_start="both"', 'ti.window_data=["a.h5"]'), ("ti.windows=0", "ti.window_chains=0"),
    ('ti.window_rule="clenshaw-curtis"', "ti.windows=25"), ('ti.window_sampler="hmc"', "ti.hmc_leapfrog=0"),
    ("ti.ais_chains=4", "ti.ais_switches=0"), ('system.cutoff="min-image"', "system.tail_correction=false"),
    ("system.shift=true", "system.tail_correction=false"),
    ('model.network="message-passing"', "model.mp_layers=0"),
    ('model.network="message-passing"', "model.mp_radial=1"),
    ('model.network="message-passing"', "model.mp_cutoff=0.3"),
    ('model.network="message-passing"', "model.pair_walls=[2.5]"),
    ("model.pair_walls=[]", "model.pair_time_basis=1"),
    ("generate.corrector_t=[0.3]", "generate.corrector_steps=1"),
    ("generate.corrector_t=[0.3]", "generate.corrector_steps=4"),
    ("generate.box_side=6.0", "generate.n_particles=[60, 300]"),
    ("generate.box_side=6.0", "generate.n_particles=[60, 60]"),
    ('baseline.spacing="gauss-legendre"', "baseline.mbar=false"),
    ('baseline.spacing="gauss-legendre"', "baseline.windows=0"),
    ("pipeline.train_n=[500, 500]", "pipeline.ti_n=[1]"), ("system.n_particles=1", "pipeline.ti_n=[1]"),
    ("system.cutoff=10", "pipeline.ti_n=[100000]"), ("sample.stride=0", "pipeline.ti_n=[100000]"),
    ("train.batch=0", "model.n_radial=1"), ('output.file=""', "model.n_radial=1"),
]


def sets(overrides):
    return [a for o in overrides for a in ("--set", o)]


def case(records, name, args):
    """Runs nti with `args`; a command that does not stop within 20 s is recorded as such."""
    try:
        p = subprocess.run([NTI] + args, capture_output=True, text=True, timeout=20)
        records.append(f"=== {name}\nrc={p.returncode}\n--stdout\n{p.stdout}\n--stderr\n{p.stderr}")
    except subprocess.TimeoutExpired:
        records.append(f"=== {name}\ndid not stop within 20 s")


def main():
    os.chdir(tempfile.mkdtemp())  # nothing below should write a file; if it does, not in the repository
    records = []
    files = [EXAMPLE, f"{REPO}/inputs/quickstart.toml", f"{REPO}/inputs/nist_sample.toml"]
    for d in ["good", "bad"]:
        dd = f"{REPO}/tests/fixtures/{d}"
        files += [f"{dd}/{f}" for f in sorted(os.listdir(dd))]
    for f in files:
        case(records, f"check {os.path.relpath(f, REPO)}", ["check", f])
    with open(EXAMPLE, "rb") as fh:
        example = tomllib.load(fh)
    for section, table in example.items():
        if isinstance(table, dict):
            for key in list(table) + ["nonsense_key"]:
                for v in VALUES:
                    o = f"{section}.{key}={v}"
                    case(records, f"check example --set {o}", ["check", EXAMPLE] + sets([o]))
    for o in ODD:
        case(records, f"check example --set {o}", ["check", EXAMPLE] + sets([o]))
    for a, b in PAIRS:
        case(records, f"check example --set {a} --set {b}", ["check", EXAMPLE] + sets([a, b]))
    with open("nosys.toml", "w") as fh:
        fh.write("version = 1\n[train]\nsteps = 10\n")
    for o in [[], ["sample.replicas=0"], ["pipeline.train_n=[1]"], ["train.lr=0"]]:
        case(records, f"check nosys {o}", ["check", "nosys.toml"] + sets(o))
    # nti generate and nti ti stop at the [generate] requirements before any work.
    for cmd in ["generate", "ti"]:
        for o in [[], ['generate.model="m.h5"'], ['generate.model="m.h5"', "generate.n_particles=[60]"],
                  ['generate.model="  "', "generate.n_particles=[60]", "generate.box_side=6.0"]]:
            case(records, f"{cmd} example {o}", [cmd, EXAMPLE] + sets(o))
    # nti run stops at its network cutoff check before any work.
    small = ["system.n_particles=32", "system.density=0.8", "system.cutoff=1.5", 'output.file="r.h5"']
    case(records, "run small r_cut 3", ["run", EXAMPLE] + sets(small))
    mp = ['model.network="message-passing"', "model.r_cut=1.5", "model.pair_walls=[0.9]"]
    case(records, "run small mp_cutoff 2", ["run", EXAMPLE] + sets(small + mp))
    case(records, "run nosys", ["run", "nosys.toml"])
    print("\n".join(records))


if __name__ == "__main__":
    main()
