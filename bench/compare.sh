#!/usr/bin/env bash
# compare.sh — ringcache against redis-server, measured in the same run and
# printed side by side with the ratio ringcache/redis for every figure.
#
# Usage: bench/compare.sh [--record] [--no-build] [--help]
#   --record    also append the table (date, uname -srm, CPU model, git commit)
#               to bench/RESULTS.md
#   --no-build  use the existing target/release/ringcache-server as it is
#
# What it does:
#   1. cargo build --release -p ringcache-net in the repository this script
#      lives in; the server is that repository's target/release/ringcache-server
#      (CARGO_TARGET_DIR is ignored on purpose).
#   2. Sizes the runs: a short probe against a scratch redis-server picks -n so
#      one run lasts about RUN_SECS on redis (same -n for both servers), kept
#      within 100k..300k at -P 1 and 400k..1.5M at -P 16.
#   3. ROUNDS rounds; each starts both servers fresh, one after the other,
#      pinned to SERVER_CPU, and loads them from LOAD_CPU with:
#        redis-benchmark -t set,get -P 1 and -P 16, -c 50 -d 100 -r 100000
#        memtier_benchmark (if MEMTIER is set or the default one exists):
#          1 thread, 50 connections, GET:SET 10:1, 100-byte values, keys
#          1..100000 written once beforehand (not measured)
#      Per run: ops/s, p50/p99/p99.9 latency, server CPU µs per request
#      (utime+stime from /proc/PID/stat before and after, / requests).
#   4. Memory: each server fresh again, 1,000,000 `SET key:%012d <100 bytes>`
#      (16-byte keys) through redis-cli --pipe; (RSS after - RSS before)/keys,
#      and that minus 116 payload bytes as the overhead per key.
#   5. Prints a markdown table of medians over the rounds.
# Both servers are stopped by PID when the script ends, however it ends.
#
# Environment (defaults in brackets):
#   SERVER_CPU [1]  LOAD_CPU [0]     CPUs for the servers / for the load tools
#   ROUNDS [2]                       rounds of the throughput runs (medians)
#   RUN_SECS [2]                     target length of one redis-benchmark run
#   REQUESTS_P1, REQUESTS_P16        fix -n instead of probing
#   MEMTIER [/tmp/peer/memtier/memtier_benchmark if present]; MEMTIER= skips it
#   MEMTIER_SECS [3]                 target length of the memtier run
#   MEM_KEYS [1000000]               keys loaded for the memory figures
#
# Latency sources: redis-benchmark's p50/p99 are its "latency summary";
# its p99.9 is the first percentile it prints at or above 99.9 (HdrHistogram
# tick 99.902%, so a bound from above). memtier's come from
# --print-percentiles=50,99,99.9. All latencies are in milliseconds.
# Exit status: 0 when the table was printed, 1 when something could not be
# measured (the reason on stderr; logs are kept in the printed directory).
# Needs: cargo, redis-server, redis-benchmark, redis-cli, taskset, awk.

set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# RING_BIN, SERVER_CPU, LOAD_CPU, stop_pid, free_port.
. "$REPO/bench/lib.sh"
ROUNDS=${ROUNDS:-2}
RUN_SECS=${RUN_SECS:-2}
MEMTIER_SECS=${MEMTIER_SECS:-3}
MEM_KEYS=${MEM_KEYS:-1000000}
if [ -z "${MEMTIER+set}" ] && [ -x /tmp/peer/memtier/memtier_benchmark ]; then
    MEMTIER=/tmp/peer/memtier/memtier_benchmark
fi
MEMTIER=${MEMTIER:-}
CLIENTS=50
SIZE=100
KEYSPACE=100000
PAYLOAD=116 # 16-byte key + 100-byte value
TICK=$(getconf CLK_TCK)
PAGE=$(getconf PAGESIZE)

RECORD=0
BUILD=1
for arg in "$@"; do
    case $arg in
        --record) RECORD=1 ;;
        --no-build) BUILD=0 ;;
        -h | --help)
            sed -n '2,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
            exit 0
            ;;
        *)
            echo "compare.sh: unknown argument '$arg' (see --help)" >&2
            exit 2
            ;;
    esac
done

WORK=$(mktemp -d /tmp/ringcache-compare.XXXXXX)
RESULTS=$WORK/results # lines: figure-key <TAB> server <TAB> value
: >"$RESULTS"
RUNNING=() # PIDs of servers this script started and has not stopped yet
OK=0

stop_server() { # stop_server PID: stop_pid, and forget it
    local pid=$1 i
    stop_pid "$pid"
    local left=()
    for i in "${RUNNING[@]}"; do [ "$i" = "$pid" ] || left+=("$i"); done
    RUNNING=("${left[@]}")
}

cleanup() {
    local pid
    for pid in "${RUNNING[@]}"; do stop_server "$pid"; done
    if [ "$OK" = 1 ]; then
        rm -rf "$WORK"
    else
        echo "compare.sh: logs kept in $WORK" >&2
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
    echo "compare.sh: cannot measure: $*" >&2
    exit 1
}

for tool in redis-server redis-benchmark redis-cli taskset awk; do
    command -v "$tool" >/dev/null || die "$tool not found"
done
[ -z "$MEMTIER" ] || [ -x "$MEMTIER" ] || die "MEMTIER=$MEMTIER is not executable"
[ "$SERVER_CPU" != "$LOAD_CPU" ] ||
    echo "compare.sh: warning: SERVER_CPU = LOAD_CPU = $SERVER_CPU; server and load share a CPU" >&2

# start_server KIND: starts a fresh server on a free port; sets SERVER_PORT,
# and SERVER_PID once it answers PING. A port taken between the check and
# the bind is retried on another.
start_server() {
    local kind=$1 attempt
    for attempt in 1 2 3; do
        SERVER_PORT=$(free_port) || exit 1
        start_on "$kind" "$SERVER_PORT" && return
    done
    die "$kind could not bind a port in 3 attempts (logs in $WORK)"
}

start_on() { # start_on KIND PORT: 0 when up, 1 when the port was taken
    local kind=$1 port=$2 log="$WORK/$1-$2.log" i
    if [ "$kind" = ringcache ]; then
        taskset -c "$SERVER_CPU" "$RING_BIN" --port "$port" --shards 1 >"$log" 2>&1 &
    else
        taskset -c "$SERVER_CPU" redis-server --port "$port" --bind 127.0.0.1 \
            --save '' --appendonly no --protected-mode no >"$log" 2>&1 &
    fi
    SERVER_PID=$! # taskset execs the server: this is the server's PID
    RUNNING+=("$SERVER_PID")
    for ((i = 0; i < 400; i++)); do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            stop_server "$SERVER_PID"
            grep -qi 'address already in use' "$log" && return 1
            die "$kind exited before answering PING (log: $log)"
        fi
        [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && return 0
        sleep 0.05
    done
    die "$kind not answering PING on port $port after 20 s (log: $log)"
}

cpu_ticks() { # utime + stime of the whole process (fields 14 and 15)
    local line rest
    read -r line <"/proc/$1/stat" || die "process $1 is gone"
    rest=${line##*) }
    # shellcheck disable=SC2086 # split on purpose
    set -- $rest
    echo $((${12} + ${13}))
}

rss_bytes() {
    local size resident
    read -r size resident _ <"/proc/$1/statm" || die "process $1 is gone"
    echo $((resident * PAGE))
}

record() { # record FIGURE SERVER VALUE
    printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$RESULTS"
}

record_run() { # record_run RUN SERVER OPS P50 P99 P999 CPU_US: one load run's five figures
    record "$1|ops/s" "$2" "$3"
    record "$1|p50 ms" "$2" "$4"
    record "$1|p99 ms" "$2" "$5"
    record "$1|p99.9 ms" "$2" "$6"
    record "$1|server CPU µs/req" "$2" "$7"
}

per_request_us() { # per_request_us TICKS REQUESTS
    awk -v t="$1" -v hz="$TICK" -v n="$2" 'BEGIN { printf "%.3f", t / hz * 1e6 / n }'
}

# redis_benchmark PORT TEST PIPELINE N LOG: prints "ops p50 p99 p99.9".
redis_benchmark() {
    local port=$1 test=$2 pl=$3 n=$4 log=$5 out
    taskset -c "$LOAD_CPU" timeout 300 redis-benchmark -h 127.0.0.1 -p "$port" \
        -t "$test" -n "$n" -P "$pl" -c "$CLIENTS" -d "$SIZE" -r "$KEYSPACE" \
        --precision 3 2>&1 | tr '\r' '\n' | grep -v ' rps=' >"$log" ||
        die "redis-benchmark -t $test -P $pl failed (log: $log)"
    if grep -qiE '^(error|.*error from server)' "$log"; then
        die "redis-benchmark -t $test -P $pl saw errors (log: $log)"
    fi
    out=$(awk '
        /throughput summary:/ { ops = $3 }
        /latency summary/ { getline; getline; p50 = $3; p99 = $5 }
        /Latency by percentile distribution/ { dist = 1; next }
        dist && /^[0-9.]+% <=/ {
            p = $1; sub("%", "", p)
            if (p + 0 >= 99.9) { p999 = $3; dist = 0 }
        }
        END { if (ops != "" && p50 != "" && p999 != "") print ops, p50, p99, p999 }
    ' "$log")
    [ -n "$out" ] || die "no result from redis-benchmark -t $test -P $pl (log: $log)"
    echo "$out"
}

# memtier PORT REQUESTS_PER_CLIENT LOG: preloads the key space, then prints
# "ops p50 p99 p99.9" of a GET:SET 10:1 run (latencies in ms).
memtier() {
    local port=$1 per_client=$2 log=$3 line
    taskset -c "$LOAD_CPU" timeout 300 "$MEMTIER" -s 127.0.0.1 -p "$port" --protocol=redis \
        --key-prefix=mt: --key-minimum=1 --key-maximum="$KEYSPACE" --hide-histogram \
        -t 1 -c 1 --pipeline=64 --ratio=1:0 --key-pattern=P:P --requests=allkeys \
        -d "$SIZE" >"$log.preload" 2>&1 || die "memtier preload failed (log: $log.preload)"
    local t0 t1
    t0=$(cpu_ticks "$SERVER_PID")
    taskset -c "$LOAD_CPU" timeout 300 "$MEMTIER" -s 127.0.0.1 -p "$port" --protocol=redis \
        --key-prefix=mt: --key-minimum=1 --key-maximum="$KEYSPACE" --hide-histogram \
        -t 1 -c "$CLIENTS" --ratio=1:10 --pipeline=1 -d "$SIZE" --distinct-client-seed \
        --requests="$per_client" --print-percentiles=50,99,99.9 >"$log" 2>&1 ||
        die "memtier failed (log: $log)"
    t1=$(cpu_ticks "$SERVER_PID")
    if tr '\r' '\n' <"$log" | grep -qE 'Connection error|connection dropped|error response|parsing failed'; then
        die "memtier saw errors (log: $log)"
    fi
    # Totals  ops/sec  hits/sec  misses/sec  avg  p50  p99  p99.9  KB/sec
    line=$(grep -E '^Totals[[:space:]]' "$log" | tail -1)
    [ -n "$line" ] || die "no Totals line from memtier (log: $log)"
    echo "$(echo "$line" | awk '{ print $2, $6, $7, $8 }') $((t1 - t0))"
}

# ---------------------------------------------------------------- build
if [ "$BUILD" = 1 ]; then
    echo "== cargo build --release -p ringcache-net" >&2
    (cd "$REPO" && env -u CARGO_TARGET_DIR cargo build --release -p ringcache-net) ||
        die "release build failed"
fi
[ -x "$RING_BIN" ] || die "$RING_BIN not found (build it, or drop --no-build)"

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- sizing
if [ -n "${REQUESTS_P1:-}" ] && [ -n "${REQUESTS_P16:-}" ]; then
    N1=$REQUESTS_P1
    N16=$REQUESTS_P16
else
    echo "== sizing runs for ~${RUN_SECS}s each on redis-server" >&2
    start_server redis
    port=$SERVER_PORT
    # size_n PIPELINE PROBE_N MIN MAX: -n for RUN_SECS at the probed rate, a
    # multiple of 10,000 within MIN..MAX. The bounds matter on a shared
    # machine: a probe that lands in a busy moment would size runs too short
    # to measure CPU, one in a quiet moment runs too long.
    size_n() {
        local ops
        ops=$(redis_benchmark "$port" set "$1" "$2" "$WORK/probe-P$1.log" | cut -d' ' -f1)
        [ -n "$ops" ] || exit 1
        awk -v o="$ops" -v s="$RUN_SECS" -v lo="$3" -v hi="$4" 'BEGIN {
            n = int(o * s / 10000 + 0.5) * 10000
            print (n < lo ? lo : n > hi ? hi : n) }'
    }
    N1=${REQUESTS_P1:-$(size_n 1 50000 100000 300000)}
    N16=${REQUESTS_P16:-$(size_n 16 200000 400000 1500000)}
    [ -n "$N1" ] && [ -n "$N16" ] || exit 1
    stop_server "$SERVER_PID"
fi
MT_PER_CLIENT=$(awk -v n="$N1" -v r="$RUN_SECS" -v m="$MEMTIER_SECS" -v c="$CLIENTS" \
    'BEGIN { printf "%d", n / r * m / c }')
echo "== -n $N1 at -P 1, -n $N16 at -P 16${MEMTIER:+, memtier $MT_PER_CLIENT requests x $CLIENTS clients}; $ROUNDS round(s)" >&2

# ---------------------------------------------------------------- throughput
for ((round = 1; round <= ROUNDS; round++)); do
    for kind in ringcache redis; do
        start_server "$kind"
        port=$SERVER_PORT
        for pl in 1 16; do
            n=$N1
            [ "$pl" = 1 ] || n=$N16
            # SET first: GET reads keys the SETs of this server's runs wrote.
            for test in set get; do
                name=$(echo "$test" | tr a-z A-Z)
                echo "== round $round $kind $name -P $pl -n $n" >&2
                t0=$(cpu_ticks "$SERVER_PID")
                read -r ops p50 p99 p999 < <(redis_benchmark "$port" "$test" "$pl" "$n" \
                    "$WORK/$kind-r$round-$test-P$pl.log") || exit 1
                t1=$(cpu_ticks "$SERVER_PID")
                kill -0 "$SERVER_PID" 2>/dev/null || die "$kind died during $name -P $pl"
                record_run "redis-benchmark $name -P $pl" "$kind" "$ops" "$p50" "$p99" "$p999" \
                    "$(per_request_us $((t1 - t0)) "$n")"
            done
        done
        if [ -n "$MEMTIER" ]; then
            echo "== round $round $kind memtier GET:SET 10:1 -P 1" >&2
            read -r ops p50 p99 p999 ticks < <(memtier "$port" "$MT_PER_CLIENT" \
                "$WORK/$kind-r$round-memtier.log") || exit 1
            kill -0 "$SERVER_PID" 2>/dev/null || die "$kind died during memtier"
            record_run "memtier GET:SET 10:1 -P 1" "$kind" "$ops" "$p50" "$p99" "$p999" \
                "$(per_request_us "$ticks" $((MT_PER_CLIENT * CLIENTS)))"
        fi
        stop_server "$SERVER_PID"
    done
done

# ---------------------------------------------------------------- memory
gen_sets() { # MEM_KEYS x SET key:%012d <100 x 'v'> in RESP
    awk -v n="$MEM_KEYS" 'BEGIN {
        v = sprintf("%100s", ""); gsub(/ /, "v", v)
        for (i = 0; i < n; i++)
            printf "*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$100\r\n%s\r\n", i, v
    }'
}
for kind in ringcache redis; do
    echo "== $kind memory: $MEM_KEYS keys of 16 + 100 bytes" >&2
    start_server "$kind"
    port=$SERVER_PORT
    before=$(rss_bytes "$SERVER_PID")
    log=$WORK/$kind-memory.log
    gen_sets | taskset -c "$LOAD_CPU" timeout 300 redis-cli -p "$port" --pipe >"$log" 2>&1 ||
        die "redis-cli --pipe into $kind failed (log: $log)"
    grep -q "errors: 0, replies: $MEM_KEYS" "$log" || die "loading $kind: $(tail -1 "$log")"
    keys=$(redis-cli -p "$port" dbsize)
    [ "$keys" = "$MEM_KEYS" ] || die "$kind holds $keys keys after loading $MEM_KEYS"
    after=$(rss_bytes "$SERVER_PID")
    key="memory $MEM_KEYS keys 16+100 B"
    record "$key|RSS bytes/key" "$kind" "$(awk -v a="$after" -v b="$before" -v n="$keys" \
        'BEGIN { printf "%.1f", (a - b) / n }')"
    record "$key|overhead bytes/key" "$kind" "$(awk -v a="$after" -v b="$before" -v n="$keys" \
        -v p="$PAYLOAD" 'BEGIN { printf "%.1f", (a - b) / n - p }')"
    stop_server "$SERVER_PID"
done

# ---------------------------------------------------------------- table
TABLE=$(awk -F'\t' '
    function median(list, a, k, n, i, j, t) {
        n = split(list, a, " ")
        for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
            t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
        }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    function fmt(fig, v) {
        if (fig ~ /ops/) return sprintf("%.0f", v)
        if (fig ~ / ms$/) return sprintf("%.3f", v)
        if (fig ~ /µs/) return sprintf("%.2f", v)
        return sprintf("%.1f", v)
    }
    !($1 in seen) { seen[$1] = 1; order[++rows] = $1 }
    { vals[$1, $2] = vals[$1, $2] " " $3 }
    END {
        print "| run | figure | ringcache | redis | ringcache/redis |"
        print "|---|---|---:|---:|---:|"
        for (r = 1; r <= rows; r++) {
            split(order[r], part, "|")
            a = median(vals[order[r], "ringcache"]); b = median(vals[order[r], "redis"])
            ratio = b != 0 ? sprintf("%.2f", a / b) : "n/a"
            run = part[1] == last ? "" : part[1]; last = part[1]
            printf "| %s | %s | %s | %s | %s |\n", run, part[2], fmt(part[2], a), fmt(part[2], b), ratio
        }
    }' "$RESULTS")
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

echo
echo "$TABLE"
echo
echo "loadavg at start $LOAD_START, at end $LOAD_END; medians of $ROUNDS round(s); ${SECONDS}s;" \
    "ratio > 1 is better for ops/s, worse for every other figure."

if [ "$RECORD" = 1 ]; then
    out=$REPO/bench/RESULTS.md
    [ -s "$out" ] || printf '# Benchmark results\n\nAppended by `bench/compare.sh --record`, newest last.\n' >"$out"
    commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
    # diff-index takes no lock, so it cannot trip up anyone using git meanwhile.
    git -C "$REPO" diff-index --quiet HEAD -- 2>/dev/null || commit="$commit (with uncommitted changes)"
    cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    {
        echo
        echo "## $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit"
        echo
        echo "- host: \`$(uname -srm)\`, $cpu, $(nproc) CPUs; loadavg $LOAD_START at start, $LOAD_END at end; ${SECONDS}s"
        echo "- $(redis-server --version | cut -d' ' -f1-3); servers on CPU $SERVER_CPU, load on CPU $LOAD_CPU"
        echo "- redis-benchmark -c $CLIENTS -d $SIZE -r $KEYSPACE, -n $N1 (-P 1) / $N16 (-P 16)${MEMTIER:+; memtier $MT_PER_CLIENT requests x $CLIENTS clients}; medians of $ROUNDS rounds"
        echo
        echo "$TABLE"
    } >>"$out"
    echo "recorded in $out" >&2
fi
OK=1
