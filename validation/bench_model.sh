#!/usr/bin/env bash
# Energy-model benchmark (not a test): time per training step (batch 32, N = 200, L = 6, min-image),
# energy+gradient throughput, MLP GFLOP/s against this machine's f64 peak, peak memory; 1 and 2 ranks,
# and the message-passing network (default [model] sizes) on 1 rank.
# Usage: validation/bench_model.sh [OUT.jsonl [BEFORE.jsonl]]
#   OUT.jsonl     also keep the rows as JSON lines (the bench's --json output) in this file;
#   BEFORE.jsonl  rows from an earlier run (e.g. another commit): print before/after side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 RUST_LOG=warn
cargo build --release --benches -q 2>/dev/null || cargo build --release --benches
B=$(ls -t target/release/deps/model_throughput-* | grep -v '\.d$' | head -1)
model=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
mhz=$(grep -m1 "cpu MHz" /proc/cpuinfo | cut -d: -f2 | tr -d ' ')
cores=$(nproc)
flags=$(grep -m1 "^flags" /proc/cpuinfo)
fma=0; [[ $flags == *" fma "* && $flags == *" avx2 "* ]] && fma=1
echo "# hardware: $model, $cores cores, ${mhz} MHz"
# f64 peak: cores x clock x flops/cycle. With AVX2+FMA (2 x 256-bit FMA units): 16 flops/cycle/core.
# The default build targets baseline x86-64 (SSE2, no FMA): 2 x 128-bit (add + mul) = 4 flops/cycle/core.
python3 - "$mhz" "$cores" "$fma" <<'PY'
import sys
mhz, cores, fma = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
print(f"# f64 peak, baseline x86-64 build (SSE2): {cores*mhz*1e-3*4:.1f} GFLOP/s; with AVX2+FMA: {cores*mhz*1e-3*16:.1f} GFLOP/s" if fma else
      f"# f64 peak (SSE2): {cores*mhz*1e-3*4:.1f} GFLOP/s")
PY
out=${1:-$(mktemp)}
before=${2:-}
: >"$out"
"$B" --bench --json >>"$out"
mpirun --oversubscribe -np 2 "$B" --bench --json >>"$out"
"$B" --bench mp --json >>"$out"
python3 - "$out" "$before" <<'PY'
import json, sys
def rows(path):
    return {(r["model"], r["ranks"]): r for r in map(json.loads, open(path)) if r} if path else {}
after, before = rows(sys.argv[1]), rows(sys.argv[2])
cols = [("train_ms_per_step", "train ms/step(32)", 1), ("eg_conf_per_s", "E+grad conf/s", 1),
        ("eg_gflops", "GFLOP/s(E+g)", 2), ("train_gflops", "GFLOP/s(trn)", 2), ("peak_rss_mib", "peak RSS MiB", 1)]
print(f"{'model':<44} {'ranks':>5} " + " ".join(f"{h:>{30 if before else 17}}" for _, h, _ in cols))
for (model, ranks), r in after.items():
    b = before.get((model, ranks))
    cells = []
    for k, _, d in cols:
        cells.append(f"{b[k]:>13.{d}f} -> {r[k]:>13.{d}f}" if b else f"{r[k]:>17.{d}f}")
        if before and not b:
            cells[-1] = f"{'-':>13} -> {r[k]:>13.{d}f}"
    print(f"{model:<44} {ranks:>5} " + " ".join(cells))
PY
