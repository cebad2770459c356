#!/usr/bin/env bash
# Energy-model benchmark (not a test): time per training step (batch 32, N = 200, L = 6, min-image),
# energy+gradient throughput, dense-layer GFLOP/s against the measured OpenBLAS dgemm rate on as many
# cores (over the whole step, and inside the matrix products alone), kernel-time fraction, peak memory; the default model (descriptor MLP) and "paper-mp" (the
# message-passing network at the paper's width: 3 layers, 32 + 8 features, K = 16, r_c = 2), each on
# 1 and 2 ranks.
# Usage: validation/bench_model.sh [--json] [OUT.jsonl [BEFORE.jsonl]]
#   --json        also print the rows as JSON lines (keys model, params, ranks, train_ms_per_step,
#                 egrad_conf_per_s, gflops, peak_gflops, ...) beside the table;
#   OUT.jsonl     keep the rows in this file;
#   BEFORE.jsonl  rows from an earlier run (e.g. another commit): print before/after side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
json=0
if [[ ${1:-} == --json ]]; then json=1; shift; fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 RUST_LOG=warn
cargo build --release --benches -q 2>/dev/null || cargo build --release --benches
B=$(ls -t target/release/deps/model_throughput-* | grep -v '\.d$' | head -1)
model=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
mhz=$(grep -m1 "cpu MHz" /proc/cpuinfo | cut -d: -f2 | tr -d ' ')
cores=$(nproc)
echo "# hardware: $model, $cores cores, ${mhz} MHz"
# The reference rate: OpenBLAS dgemm (4000 x 4000, f64) through the system numpy, on 1 and 2 threads.
# OpenBLAS identifies this virtual CPU as "Prescott" (generic SSE3 kernels, 15 GFLOP/s on 1 core);
# the CPU's own kernels are chosen by OPENBLAS_CORETYPE from its flags.
flags=$(grep -m1 "^flags" /proc/cpuinfo)
core=""
[[ $flags == *" avx2 "* ]] && core=Haswell
[[ $flags == *" avx512f "* ]] && core=SkylakeX
peak() {
  OPENBLAS_CORETYPE=$core OPENBLAS_NUM_THREADS=$1 /usr/bin/python3 - <<'PY' 2>/dev/null || echo ""
import time, numpy as np
a = np.random.rand(4000, 4000); b = np.random.rand(4000, 4000); a @ b
t = time.perf_counter(); n = 3
for _ in range(n): a @ b
print(f"{n * 2 * 4000**3 / (time.perf_counter() - t) / 1e9:.1f}")
PY
}
p1=$(peak 1); p2=$(peak 2)
echo "# measured OpenBLAS dgemm f64 (${core:-detected} kernels): ${p1:-n/a} GFLOP/s on 1 core, ${p2:-n/a} GFLOP/s on 2 cores"
out=${1:-$(mktemp)}
before=${2:-}
: >"$out"
for m in "" mp; do
  NTI_PEAK_GFLOPS=$p1 "$B" --bench $m --json >>"$out"
  mpirun --oversubscribe -np 2 -x NTI_PEAK_GFLOPS=$p2 "$B" --bench $m --json >>"$out"
done
[[ $json == 1 ]] && cat "$out"
python3 - "$out" "$before" <<'PY'
import json, sys
def name(r):
    # Rows of older commits named the models by their shape.
    m = r["model"]
    return "paper-mp" if m.startswith("message passing") else "default" if m.startswith("K = ") else m
def rows(path):
    return {(name(r), r["ranks"]): r for r in map(json.loads, open(path)) if r} if path else {}
after, before = rows(sys.argv[1]), rows(sys.argv[2])
cols = [("train_ms_per_step", "train ms/step(32)", 1), ("egrad_conf_per_s", "E+grad conf/s", 1),
        ("egrad_gflops", "GFLOP/s(E+g)", 2), ("gflops", "GFLOP/s(trn)", 2), ("pct_peak", "% of dgemm", 1),
        ("dense_gflops", "dense GFLOP/s", 1), ("dense_pct", "dense % dgemm", 1), ("dense_share", "dense time %", 1),
        ("sys_pct", "sys %", 1), ("peak_rss_mib", "peak RSS MiB", 1)]
for rows_ in (after, before):
    for r in rows_.values():
        # Older rows used other key names.
        for old, new in (("eg_conf_per_s", "egrad_conf_per_s"), ("eg_gflops", "egrad_gflops"), ("train_gflops", "gflops")):
            if old in r and new not in r:
                r[new] = r[old]
        r["pct_peak"] = 100 * r["gflops"] / r["peak_gflops"] if r.get("peak_gflops") else float("nan")
        r["sys_pct"] = 100 * r["sys_fraction"] if "sys_fraction" in r else float("nan")
        # The dense layers' own rate (products timed one by one; rows of older commits lack it).
        r.setdefault("dense_gflops", float("nan"))
        r["dense_pct"] = 100 * r["dense_gflops"] / r["peak_gflops"] if r.get("peak_gflops") else float("nan")
        r["dense_share"] = 100 * r.get("dense_time_share", float("nan"))
print(f"{'model':<10} {'ranks':>5} " + " ".join(f"{h:>{30 if before else 17}}" for _, h, _ in cols))
for (model, ranks), r in after.items():
    b = before.get((model, ranks))
    cells = []
    for k, _, d in cols:
        cells.append(f"{b[k]:>13.{d}f} -> {r[k]:>13.{d}f}" if b else f"{r[k]:>17.{d}f}")
        if before and not b:
            cells[-1] = f"{'-':>13} -> {r[k]:>13.{d}f}"
    print(f"{model:<10} {ranks:>5} " + " ".join(cells))
PY
