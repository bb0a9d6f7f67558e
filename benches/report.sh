#!/usr/bin/env bash
# Runs the benchmark suite once and prints the README "Performance" section (Markdown) on stdout.
#
#   benches/report.sh [--no-run] [--peers] [CRITERION_DIR]
#
# --no-run   only read existing results; --peers   also build and run the `peers` feature.
# CRITERION_DIR defaults to $CRITERION_DIR, else $CARGO_TARGET_DIR/criterion, else target/criterion.
# BENCH_NOTE: a sentence about other work sharing the CPU, if any, printed under the heading.
# BENCH_PRIORITY=1: measure in a session whose autogroup has nice -10 (root; see below).
set -euo pipefail
cd "$(dirname "$0")/.."

run=1
features=()
dir=""
for arg in "$@"; do
    case "$arg" in
        --no-run) run=0 ;;
        --peers) features=(--features peers) ;;
        *) dir="$arg" ;;
    esac
done
dir="${dir:-${CRITERION_DIR:-${CARGO_TARGET_DIR:-target}/criterion}}"

if [ "$run" = 1 ]; then
    if [ -n "${BENCH_PRIORITY:-}" ]; then
        # On a shared machine: build at normal priority, then measure in a session of its own
        # whose scheduler autogroup gets nice -10 (needs root), with one analysis thread.
        cargo bench -p pastry-benches "${features[@]}" --no-run >&2
        RAYON_NUM_THREADS=1 setsid bash -c 'echo -10 > /proc/self/autogroup; exec "$@"' _ \
            cargo bench -p pastry-benches "${features[@]}" >&2
    else
        cargo bench -p pastry-benches "${features[@]}" >&2
    fi
fi

cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //' || true)
echo "## Performance"
echo
echo "Medians from one run of \`benches/report.sh\` on $(date -u +%F), $(uname -sm), ${cpu:-unknown CPU}," \
    "$(nproc) cores; $(rustc --version | cut -d' ' -f1-2), bench profile (lto, codegen-units = 1)." \
    "Times are per key (per element for the other groups). ${BENCH_NOTE:-}"
cargo run -q --release -p pastry-benches --bin perf-table -- "$dir"
