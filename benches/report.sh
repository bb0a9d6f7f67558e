#!/usr/bin/env bash
# Runs the benchmark suite once and prints the README "Performance" section (Markdown) on stdout.
#
#   benches/report.sh [--no-run] [--peers] [CRITERION_DIR]
#
# --no-run   only read existing results; --peers   also build and run the `peers` feature.
# CRITERION_DIR defaults to $CRITERION_DIR, else $CARGO_TARGET_DIR/criterion, else target/criterion.
# NOTE (machine load): set BENCH_NOTE to a sentence about other work sharing the CPU, if any.
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
    cargo bench -p pastry-benches "${features[@]}" >&2
fi

cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //' || true)
echo "## Performance"
echo
echo "Medians from one run of \`benches/report.sh\` on $(date -u +%F), $(uname -sm), ${cpu:-unknown CPU}," \
    "$(nproc) cores; $(rustc --version | cut -d' ' -f1-2), bench profile (lto, codegen-units = 1)." \
    "Times are per key (per element for the other groups). ${BENCH_NOTE:-}"
cargo run -q --release -p pastry-benches --bin perf-table -- "$dir"
