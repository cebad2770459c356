#!/usr/bin/env bash
# Renders `nti report` pages in headless Chromium (Debian's `chromium`, installed here if missing)
# and fails when no screenshot is produced, the page logs a console error, or it requests anything
# from the network (blocked: every host name resolves to nothing; the request is in Chromium's
# --v=1 log). References to local files are checked by tests/report.rs.
#
# Usage: validation/report_browser.sh [--nti PATH] [--out DIR] [RESULTS.h5 ...]
#   Without results files: runs a tiny `nti run` (a few seconds) and renders its report.
#   Screenshots go to DIR as <stem>.png (without --out: a temporary directory, removed at the end).
#   --self-test: also checks that a page with a console error and one with an external image are
#   caught (the check can fail).
set -euo pipefail
cd "$(dirname "$0")/.."
NTI=${NTI:-target/release/nti}
OUT=""
SELF_TEST=0
FILES=()
while [ $# -gt 0 ]; do
  case "$1" in
    --nti) NTI=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --self-test) SELF_TEST=1; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) FILES+=("$1"); shift ;;
  esac
done
[ -x "$NTI" ] || { echo "report_browser: $NTI not found (cargo build --release first, or --nti PATH)" >&2; exit 2; }
NTI=$(realpath "$NTI")

# Debian's chromium, installed once.
if ! command -v chromium >/dev/null; then
  echo "report_browser: installing chromium"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
[ -n "$OUT" ] || OUT=$WORK/shots   # without --out the screenshots go with the work directory
mkdir -p "$OUT"

if [ ${#FILES[@]} -eq 0 ]; then
  cat > "$WORK/tiny.toml" <<'EOF'
version = 1
[system]
n_particles = 20
density = 0.1
temperature = 1.5
cutoff = 2.5
tail_correction = true
[sample]
replicas = 2
equilibration = 200
production = 1000
stride = 10
rdf_bins = 40
[model]
hidden = [8, 8]
n_radial = 4
r_cut = 2.5
n_freq = 2
[train]
steps = 100
batch = 8
micro_batch = 4
eval_every = 20
checkpoint_every = 100
validation_samples = 16
[generate]
trajectories = 8
steps = 40
[ti]
windows = 4
window_chains = 2
window_warmup = 20
window_steps = 40
ais_chains = 4
[baseline]
windows = 4
equilibration = 100
production = 500
[pipeline]
train_n = [20]
ti_n = [19, 20, 21]
baseline_n = [20]
[run]
seed = 3
[output]
file = "tiny.h5"
EOF
  (cd "$WORK" && RUST_LOG=warn "$NTI" run tiny.toml >/dev/null)
  FILES=("$WORK/tiny.h5")
fi

# render HTML PNG: screenshot of HTML into PNG; prints the console errors, fails on any or on no PNG.
render() {
  local html=$1 png=$2 log
  log="$WORK/$(basename "$png").log"
  rm -f "$png"
  # Chromium's own background traffic (updates, sync, spell-check dictionaries) is switched off,
  # so that every request left in the log is the page's.
  timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$WORK/profile" \
    --no-first-run --disable-background-networking --disable-component-update --disable-sync \
    --disable-default-apps --disable-extensions --disable-spell-checking --disable-features=Translate \
    --host-resolver-rules="MAP * ~NOTFOUND" --enable-logging=stderr --v=1 \
    --window-size=1100,2400 --screenshot="$png" "file://$html" >"$log" 2>&1 || true
  local errors
  # Console messages of the page (console.error, uncaught exceptions, failed loads), and any
  # request to the network (logged at --v=1 before the blocked host lookup fails).
  # Chromium still contacts its own services (google.com, googleapis.com, gvt1.com: clock, update
  # and account checks) whatever the flags; those requests are not the page's and are ignored.
  errors=$(grep -E ':CONSOLE[:(]|Uncaught|Failed to load resource|NotifyBeforeURLRequest: (https?|ftp|wss?):' "$log" \
    | grep -vE 'NotifyBeforeURLRequest: https?://([a-z0-9-]+\.)*(google\.com|googleapis\.com|gvt1\.com)/' || true)
  if [ ! -s "$png" ]; then
    echo "report_browser: no screenshot of $html; chromium said:" >&2
    tail -20 "$log" >&2
    return 1
  fi
  if [ -n "$errors" ]; then
    echo "report_browser: console errors in $html:" >&2
    echo "$errors" >&2
    return 1
  fi
  echo "report_browser: $html -> $png ($(stat -c %s "$png") bytes), no console errors"
}

status=0
for f in "${FILES[@]}"; do
  stem=$(basename "${f%.h5}")
  "$NTI" report "$f" --out "$WORK" >/dev/null
  render "$(realpath "$WORK/$stem.html")" "$(realpath "$OUT")/$stem.png" || status=1
done

if [ "$SELF_TEST" = 1 ]; then
  printf '<!DOCTYPE html><html><body><p>x</p><script>console.error("planted error")</script></body></html>' \
    > "$WORK/console.html"
  printf '<!DOCTYPE html><html><body><img src="https://example.org/x.png"></body></html>' > "$WORK/external.html"
  for p in console external; do
    if render "$WORK/$p.html" "$WORK/$p.png" 2>/dev/null; then
      echo "report_browser: self-test: the planted fault in $p.html was not detected" >&2
      status=1
    else
      echo "report_browser: self-test: $p.html fails as it should"
    fi
  done
fi
exit $status
