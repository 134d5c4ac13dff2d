# Settings and shell helpers the bench scripts share; sourced, not run.
# The caller sets REPO (the repository root) first and defines die().

# The server under test and the measuring convention: server and load tools
# pinned to different CPUs (override with the environment).
RING_BIN=$REPO/target/release/ringcache-server
SERVER_CPU=${SERVER_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}

# stop_pid PID: TERM, then KILL after 10 s, then reap.
stop_pid() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}

# A port below the kernel's ephemeral range (so no client connection of ours
# or anyone's can be holding it) that no socket on this host uses.
free_port() {
    local low p i
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
    [ "$low" -gt 12000 ] || low=32768
    for ((i = 0; i < 100; i++)); do
        p=$((10000 + RANDOM % (low - 10000)))
        awk -v port="$(printf '%04X' "$p")" 'NR > 1 { split($2, a, ":"); if (a[2] == port) found = 1 }
            END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null || {
            echo "$p"
            return
        }
    done
    die "no free port found"
}

