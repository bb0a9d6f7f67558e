#!/usr/bin/env bash
# Runs benchmarks once and prints a Markdown section of medians on stdout.
#
#   benches/report.sh [--no-run] [--peers] [CRITERION_DIR]
#
# Without --peers: the whole suite (default features), then the README "Performance" section.
# --peers: the `peers/closest` group alone (`--features peers --bench peers`): the kernel, discv5
#          and libp2p-kad measured in ONE run of ONE binary, then its table. The group's earlier
#          results are deleted first, so every median and ratio printed comes from this run.
#          The build is heavy (about 300 crates, fat LTO over all of them).
# --no-run   only read existing results.
# Either way the binary is built with the bench profile as the workspace defines it (lto = true,
# codegen-units = 1): CARGO_PROFILE_BENCH_* and CARGO_PROFILE_RELEASE_* overrides in the
# environment are cleared, because the printed header names that profile.
# CRITERION_DIR defaults to $CRITERION_DIR, else $CARGO_TARGET_DIR/criterion, else target/criterion.
# BENCH_NOTE: a sentence about other work sharing the CPU, if any, printed under the heading.
# BENCH_PRIORITY=1: measure in a session whose autogroup has nice -10 (root; see below).
set -euo pipefail
cd "$(dirname "$0")/.."

run=1
peers=0
dir=""
for arg in "$@"; do
    case "$arg" in
        --no-run) run=0 ;;
        --peers) peers=1 ;;
        *) dir="$arg" ;;
    esac
done
dir="${dir:-${CRITERION_DIR:-${CARGO_TARGET_DIR:-target}/criterion}}"
# Criterion writes its results where CRITERION_HOME says (the bench runs in benches/, so the path
# must be absolute); the table is read from the same place.
dir=$(realpath -m "$dir")
export CRITERION_HOME="$dir"

# The one profile: the workspace's [profile.bench] (and the [profile.release] it inherits from),
# whatever the environment says.
while IFS= read -r var; do
    echo "report.sh: ignoring $var" >&2
    unset "$var"
done < <(env | sed -n 's/^\(CARGO_PROFILE_\(BENCH\|RELEASE\)_[A-Z_]*\)=.*/\1/p')

if [ "$peers" = 1 ]; then
    bench=(cargo bench -p pastry-benches --features peers --bench peers)
    title="\`peers/closest\` from one run of \`benches/report.sh --peers\`"
else
    bench=(cargo bench -p pastry-benches)
    title="Medians from one run of \`benches/report.sh\`"
fi

if [ "$run" = 1 ]; then
    if [ "$peers" = 1 ]; then
        rm -rf "$dir/peers_closest"
    fi
    if [ -n "${BENCH_PRIORITY:-}" ]; then
        # On a shared machine: build at normal priority, then measure in a session of its own
        # whose scheduler autogroup gets nice -10 (needs root), with one analysis thread.
        "${bench[@]}" --no-run >&2
        RAYON_NUM_THREADS=1 setsid bash -c 'echo -10 > /proc/self/autogroup; exec "$@"' _ \
            "${bench[@]}" >&2
    else
        "${bench[@]}" >&2
    fi
fi

cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //' || true)
if [ "$peers" = 1 ]; then
    echo "#### Peers"
else
    echo "## Performance"
fi
echo
echo "$title on $(date -u +%F), $(uname -sm), ${cpu:-unknown CPU}," \
    "$(nproc) cores; $(rustc --version | cut -d' ' -f1-2), bench profile (lto, codegen-units = 1)." \
    "Times are per key (per element for the other groups). ${BENCH_NOTE:-}"
if [ "$peers" = 1 ]; then
    cargo run -q --release -p pastry-benches --bin perf-table -- --peers "$dir"
else
    cargo run -q --release -p pastry-benches --bin perf-table -- "$dir"
fi
