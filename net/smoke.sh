#!/usr/bin/env bash
# Multi-process smoke test of the `pastry` binary: five `pastry node` processes on 127.0.0.1,
# each joining through the first; then `pastry info` through every node (each must be active
# with the other four in its leaf set), `pastry route` of the same keys through every node (all
# five must name the same root, the node closest to the key), `pastry put` through one node
# read back by `pastry get` through the others, and `pastry remove`.
#
# Usage: net/smoke.sh [path/to/pastry]. Bounded in time; every child is stopped on exit.
set -euo pipefail
bin=${1:-target/release/pastry}
dir=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$dir"
}
trap cleanup EXIT
fail() {
    echo "smoke: FAILED: $*"
    for f in "$dir"/*.log; do
        echo "--- $f"
        tail -n 20 "$f"
    done
    exit 1
}

# Five free ports: ask the kernel for them by binding port 0.
mapfile -t ports < <(python3 -c '
import socket
socks = []
for _ in range(5):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
for s in socks:
    print(s.getsockname()[1])
')

# Waits up to $2 seconds for "active" in node $1's log.
wait_active() {
    for _ in $(seq 1 $((${2} * 10))); do
        if grep -q ' active' "$dir/$1.log" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    fail "node $1 did not become active within $2 s"
}

guids=()
for i in 0 1 2 3 4; do
    args=(node --listen "127.0.0.1:${ports[$i]}" --heartbeat-ms 2000 --key "$dir/$i.key")
    if [ "$i" -gt 0 ]; then
        args+=(--bootstrap "127.0.0.1:${ports[0]}")
    fi
    RUST_LOG=info,libp2p_swarm=warn "$bin" "${args[@]}" >"$dir/$i.out" 2>"$dir/$i.log" &
    pids+=($!)
    wait_active "$i" 30
    guids+=("$(sed -n 's/^guid //p' "$dir/$i.out")")
    echo "smoke: node $i active on port ${ports[$i]}, guid ${guids[$i]}"
done

# Every leaf set holds the four other nodes (leaf sets settle within a few heartbeats).
for attempt in $(seq 1 30); do
    settled=yes
    for i in 0 1 2 3 4; do
        info=$(timeout 20 "$bin" info --peer "127.0.0.1:${ports[$i]}") || fail "info through node $i"
        grep -q '^active true$' <<<"$info" || settled=no
        for j in 0 1 2 3 4; do
            if [ "$i" != "$j" ] && ! grep -q "^leaf ${guids[$j]} " <<<"$info"; then
                settled=no
            fi
        done
    done
    [ "$settled" = yes ] && break
    [ "$attempt" = 30 ] && fail "leaf sets did not settle in 30 attempts"
    sleep 1
done
echo "smoke: every leaf set holds the other four nodes"

# The same key routed through each node ends at the same root, one of the five.
checked=0
for key in alpha beta gamma delta 00000000000000000000000000000000; do
    roots=()
    for i in 0 1 2 3 4; do
        out=$(timeout 40 "$bin" route --peer "127.0.0.1:${ports[$i]}" "$key" --message "smoke $i") ||
            fail "route of $key through node $i"
        roots+=("$(sed -n 's/^root //p' <<<"$out")")
    done
    for r in "${roots[@]}"; do
        [ "$r" = "${roots[0]}" ] || fail "key $key: roots differ: ${roots[*]}"
    done
    k=$(sed -n 's/^key //p' <<<"$out")
    want=$(python3 - "$k" "${guids[@]}" <<'PY'
import sys
key, ids = int(sys.argv[1], 16), sys.argv[2:]
ring = 1 << 128
dist = lambda g: min((int(g, 16) - key) % ring, (key - int(g, 16)) % ring)
print(min(ids, key=dist))
PY
)
    [ "${roots[0]}" = "$want" ] || fail "key $key: root ${roots[0]}, but the closest node is $want"
    echo "smoke: key $key: root ${roots[0]} through all five nodes"
    checked=$((checked + 5))
done
# A put through one node is read back through every other, and a remove through a third
# leaves no value anywhere.
for n in 1 2 3; do
    key="smoke-key-$n"
    out=$(timeout 60 "$bin" put --peer "127.0.0.1:${ports[0]}" "$key" "value $n") || fail "put $key"
    grep -q '^stored [1-9]' <<<"$out" || fail "put $key: $out"
    for i in 1 2 3 4; do
        out=$(timeout 60 "$bin" get --peer "127.0.0.1:${ports[$i]}" "$key") || fail "get $key through node $i"
        [ "$out" = "value value $n" ] || fail "get $key through node $i: $out"
        checked=$((checked + 1))
    done
    echo "smoke: $key put through node 0, read through nodes 1-4"
done
timeout 60 "$bin" remove --peer "127.0.0.1:${ports[2]}" smoke-key-1 | grep -q '^removed [1-9]' || fail "remove"
for i in 0 1 2 3 4; do
    out=$(timeout 60 "$bin" get --peer "127.0.0.1:${ports[$i]}" smoke-key-1) || fail "get after remove through node $i"
    [ "$out" = "none" ] || fail "get after remove through node $i: $out"
    checked=$((checked + 1))
done
echo "smoke: smoke-key-1 removed through node 2, gone through all five"
echo "smoke: $checked passed, 0 failed"
