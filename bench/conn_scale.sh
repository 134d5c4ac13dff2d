#!/usr/bin/env bash
# conn_scale.sh — how ringcache and redis-server hold up as the number of
# concurrent connections grows: 50, 500, 5,000 connections of memtier_benchmark,
# GET:SET 10:1, 100-byte values, each server measured in the same run.
#
# Usage: bench/conn_scale.sh [--time SECS] [--levels "50 500 5000"]
#                            [--server PATH] [--only ringcache|redis] [--help]
#   --time SECS     length of every level [10 s; 30 s for 5,000 connections]
#   --levels LIST   connection counts to run, space-separated [50 500 5000]
#   --server PATH   ringcache-server binary [target/release/ringcache-server of
#                   this repository; the script does not build it]
#   --only KIND     run one server only (no ratios then)
#
# What it does, per server (each started fresh, pinned to SERVER_CPU, with
# --maxclients 10000, load pinned to LOAD_CPU):
#   1. writes keys 1..100000 once (memtier, pipelined, not measured), so GETs hit;
#   2. per level: memtier_benchmark for the level's time; up to 1,000
#      connections one process (1 thread), above that PROCS processes (4)
#      sharing the connections; meanwhile `redis-cli INFO clients` every
#      0.5 s records the most connected_clients seen (minus its own
#      connection) and the slowest INFO answer;
#   3. per level: total ops/s (sum over processes), p99 and p99.9 in ms (the
#      largest over processes: a bound from above on the merged percentile),
#      memtier's error lines, and the server's own count of rejected
#      connections, error replies and errorstats over the level.
# A level FAILs when memtier saw an error or exited non-zero, the server
# counted a rejected connection or an error reply, or connected_clients never
# reached the level. Prints a markdown table per server row and the ratios
# ringcache/redis per level.
# Exit status: 0 all levels passed on every server; 1 a level failed or
# something could not be measured (logs kept in the printed directory);
# 2 bad arguments.
#
# Environment: SERVER_CPU [1], LOAD_CPU [0], PROCS [4], KEYS [100000],
# MEMTIER [/tmp/peer/memtier/memtier_benchmark].
# Needs: memtier_benchmark, redis-server, redis-cli, taskset, timeout, awk.

set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# RING_BIN, SERVER_CPU, LOAD_CPU, stop_pid; free_port: a port below the
# ephemeral range (5,000 client sockets take ephemeral ports) that nothing on
# this host uses.
. "$REPO/bench/lib.sh"
PROCS=${PROCS:-4}
KEYS=${KEYS:-100000}
MEMTIER=${MEMTIER:-/tmp/peer/memtier/memtier_benchmark}
MAXCLIENTS=10000
LEVELS="50 500 5000"
SIZE=100
TIME=
KINDS="ringcache redis"

usage() { sed -n '2,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }
while [ $# -gt 0 ]; do
    case $1 in
        --time) TIME=${2:?--time needs SECS}; shift ;;
        --levels) LEVELS=${2:?--levels needs a list}; shift ;;
        --server) RING_BIN=${2:?--server needs a path}; shift ;;
        --only) KINDS=${2:?--only needs ringcache or redis}; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "conn_scale.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
case $KINDS in "ringcache redis" | ringcache | redis) ;; *) echo "conn_scale.sh: --only ringcache|redis" >&2; exit 2 ;; esac
for n in $LEVELS ${TIME:+"$TIME"}; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "conn_scale.sh: '$n' is not a positive number" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/ringcache-connscale.XXXXXX)
ROWS=$WORK/rows # server level procs ops p99 p999 connected mt_errors rejected err_replies info_ms result
: >"$ROWS"
SERVERS=() # PIDs of servers started and not yet stopped
LOADS=()   # PIDs of load processes (timeout wrapping memtier) still running
OK=0

cleanup() {
    local pid
    # Loads first: a memtier left running would hammer the next server.
    for pid in "${LOADS[@]}" "${SERVERS[@]}"; do stop_pid "$pid"; done
    if [ "$OK" = 1 ]; then
        rm -rf "$WORK"
    else
        echo "conn_scale.sh: logs kept in $WORK" >&2
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
    echo "conn_scale.sh: cannot measure: $*" >&2
    exit 1
}

for tool in redis-server redis-cli taskset timeout awk; do
    command -v "$tool" >/dev/null || die "$tool not found"
done
[ -x "$MEMTIER" ] || die "memtier_benchmark not found at $MEMTIER (set MEMTIER)"
case " $KINDS " in *" ringcache "*) [ -x "$RING_BIN" ] || die "$RING_BIN not found (build it, or pass --server)" ;; esac

# 5,000 client sockets on one side and as many on the server's, plus the
# server's maxclients headroom: raise the soft limit as far as allowed.
ulimit -n "$(ulimit -Hn)" 2>/dev/null
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge $((MAXCLIENTS + 100)) ] ||
    die "open files limit $(ulimit -n) is below $((MAXCLIENTS + 100)) (maxclients $MAXCLIENTS)"

# start_server KIND: sets PORT and PID once the server answers PING.
start_server() {
    local kind=$1 log i
    PORT=$(free_port) || exit 1
    log=$WORK/$kind-server.log
    if [ "$kind" = ringcache ]; then
        taskset -c "$SERVER_CPU" "$RING_BIN" --port "$PORT" --shards 1 \
            --maxclients "$MAXCLIENTS" >"$log" 2>&1 &
    else
        taskset -c "$SERVER_CPU" redis-server --port "$PORT" --bind 127.0.0.1 --save '' \
            --appendonly no --protected-mode no --maxclients "$MAXCLIENTS" >"$log" 2>&1 &
    fi
    PID=$! # taskset execs the server: this is the server's PID
    SERVERS+=("$PID")
    for ((i = 0; i < 400; i++)); do
        kill -0 "$PID" 2>/dev/null || die "$kind exited before answering PING (log: $log)"
        [ "$(redis-cli -p "$PORT" ping 2>/dev/null)" = PONG ] && return 0
        sleep 0.05
    done
    die "$kind not answering PING on port $PORT after 20 s (log: $log)"
}

stop_server() {
    stop_pid "$1"
    local left=() p
    for p in "${SERVERS[@]}"; do [ "$p" = "$1" ] || left+=("$p"); done
    SERVERS=("${left[@]}")
}

info_field() { # info_field SECTION FIELD: one integer from INFO, "?" on no answer
    timeout 10 redis-cli -p "$PORT" info "$1" 2>/dev/null | tr -d '\r' |
        awk -F: -v f="$2" '$1 == f { v = $2 } END { print (v == "" ? "?" : v) }'
}

errorstats() { # the errorstat_* lines, one line, empty when none
    timeout 10 redis-cli -p "$PORT" info errorstats 2>/dev/null | tr -d '\r' | grep '^errorstat_' | tr '\n' ' '
}

# memtier_base SECS: sets MT to memtier pinned to the load CPU, killed by
# timeout if it outlives SECS by two minutes. An array, not a function, so a
# backgrounded run's $! is timeout's PID (taskset execs it) and a TERM to it
# reaches memtier.
memtier_base() {
    MT=(taskset -c "$LOAD_CPU" timeout "$(($1 + 120))" "$MEMTIER" -s 127.0.0.1 -p "$PORT"
        --protocol=redis --key-prefix=mt: --key-minimum=1 --key-maximum="$KEYS"
        --hide-histogram -d "$SIZE")
}

preload() {
    memtier_base 60
    "${MT[@]}" -t 1 -c 1 --pipeline=64 --ratio=1:0 --key-pattern=P:P \
        --requests=allkeys >"$WORK/$1-preload.log" 2>&1 || die "preloading $1 failed (log: $WORK/$1-preload.log)"
}

# run_level KIND LEVEL SECS: one level against the running server; appends a row.
run_level() {
    local kind=$1 level=$2 secs=$3 procs=1 per i pid rc=0 max_conn=0 max_info=0
    [ "$level" -le 1000 ] || procs=$PROCS
    per=$((level / procs))
    [ $((per * procs)) = "$level" ] || die "$level connections do not split evenly over $procs processes"
    local rej0 err0 rej1 err1 log=$WORK/$kind-$level
    rej0=$(info_field stats rejected_connections)
    err0=$(info_field stats total_error_replies)
    echo "== $kind: $level connections ($procs x $per) for ${secs}s" >&2
    LOADS=()
    memtier_base "$secs"
    for ((i = 0; i < procs; i++)); do
        "${MT[@]}" -t 1 -c "$per" --ratio=1:10 --key-pattern=R:R --distinct-client-seed \
            --test-time="$secs" --print-percentiles=99,99.9 >"$log-$i.log" 2>&1 &
        LOADS+=("$!")
    done
    # Sample while any load process runs: the peak of connected_clients, and
    # how long the server took to answer (a stall shows up here).
    while :; do
        local alive=0 t0 t1 c
        for pid in "${LOADS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ "$alive" = 1 ] || break
        t0=$(date +%s%N)
        c=$(info_field clients connected_clients)
        t1=$(date +%s%N)
        [ "$c" = "?" ] || [ "$((c - 1))" -le "$max_conn" ] || max_conn=$((c - 1)) # minus redis-cli
        [ $(((t1 - t0) / 1000000)) -le "$max_info" ] || max_info=$(((t1 - t0) / 1000000))
        sleep 0.5
    done
    for pid in "${LOADS[@]}"; do wait "$pid" || rc=$?; done
    LOADS=()
    kill -0 "$PID" 2>/dev/null || die "$kind died during the $level-connection level (log: $WORK/$kind-server.log)"
    rej1=$(info_field stats rejected_connections)
    err1=$(info_field stats total_error_replies)
    local es
    es=$(errorstats)
    [ -z "$es" ] || echo "   $kind errorstats: $es" >&2
    # memtier's complaints: connection errors, dropped connections, error replies.
    local mt_err
    mt_err=$(cat "$log"-*.log | tr '\r' '\n' | grep -ciE 'error|dropped|failed|refused|timed out')
    [ "$rc" = 0 ] || { echo "   memtier exited with status $rc" >&2; mt_err=$((mt_err + 1)); }
    # Totals  ops/sec  hits/sec  misses/sec  avg  p99  p99.9  KB/sec
    local totals
    totals=$(grep -hE '^Totals[[:space:]]' "$log"-*.log | awk '
        { ops += $2; if ($6 > p99) p99 = $6; if ($7 > p999) p999 = $7; n++ }
        END { if (n) printf "%.0f %.3f %.3f %d", ops, p99, p999, n }')
    [ "$(echo "$totals" | cut -d' ' -f4)" = "$procs" ] ||
        die "$kind: not every memtier process printed Totals at $level connections (logs: $log-*.log)"
    local rejected=$((rej1 - rej0)) replies=$((err1 - err0)) result=OK
    [ "$mt_err" = 0 ] && [ "$rejected" = 0 ] && [ "$replies" = 0 ] && [ -z "$es" ] || result=FAIL
    [ "$max_conn" -ge "$level" ] || result=FAIL
    echo "$kind $level ${procs}x$per ${totals% *} $max_conn $mt_err $rejected $replies $max_info $result" >>"$ROWS"
    echo "   $(tail -1 "$ROWS")" >&2
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
for kind in $KINDS; do
    start_server "$kind"
    preload "$kind"
    for level in $LEVELS; do
        secs=${TIME:-$([ "$level" -ge 5000 ] && echo 30 || echo 10)}
        run_level "$kind" "$level" "$secs"
    done
    stop_server "$PID"
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

echo
echo "| server | connections | memtier procs x conns | ops/s | p99 ms | p99.9 ms | max connected_clients | memtier errors | rejected | error replies | slowest INFO ms | result |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
awk '{ printf "| %s |", $1; for (i = 2; i <= NF; i++) printf " %s |", $i; print "" }' "$ROWS"
if [ "$KINDS" = "ringcache redis" ]; then
    echo
    echo "| connections | ops/s ringcache/redis | p99 ratio | p99.9 ratio |"
    echo "|---:|---:|---:|---:|"
    awk '{ ops[$1, $2] = $4; p99[$1, $2] = $5; p999[$1, $2] = $6; if (!($2 in seen)) { seen[$2]; order[++n] = $2 } }
        function r(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "n/a" }
        END { for (i = 1; i <= n; i++) { l = order[i]
            printf "| %s | %s | %s | %s |\n", l, r(ops["ringcache", l], ops["redis", l]),
                r(p99["ringcache", l], p99["redis", l]), r(p999["ringcache", l], p999["redis", l]) } }' "$ROWS"
fi
echo
echo "GET:SET 10:1, ${SIZE}-byte values, keys 1..$KEYS; servers on CPU $SERVER_CPU, memtier on CPU $LOAD_CPU;" \
    "loadavg at start $LOAD_START, at end $LOAD_END; ${SECONDS}s. p99/p99.9: the largest over memtier processes."

if grep -q ' FAIL$' "$ROWS"; then
    echo "conn_scale.sh: FAIL: $(grep -c ' FAIL$' "$ROWS") level(s) with errors or connections not all served" >&2
    exit 1
fi
OK=1
