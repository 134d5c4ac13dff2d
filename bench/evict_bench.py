#!/usr/bin/env python3
"""evict_bench — throughput and CPU per request while every write evicts,
ringcache against redis-server, same core, same run.

Each round starts each server in turn (A B A B ...) pinned to --server-cpu
with `--maxmemory M --maxmemory-policy P` (ringcache with --shards 1), fills
it past the limit (so it evicts from then on), then loads it from
--load-cpu with redis-benchmark SET over a key range far larger than what
fits (-r 100000000: nearly every SET writes a new key and evicts one) and
reads server CPU (utime+stime, /proc/PID/stat) before and after. Prints
per pipeline the medians of ops/s, server CPU µs per request, p50/p99 (ms,
redis-benchmark's) for both servers, the ratios, and evicted keys per SET.

  bench/evict_bench.py target/release/ringcache-server [--rounds 3] [--pipelines 1,16]
"""
import argparse, os, statistics, subprocess

from memlib import free_port, start_server, stop_server

TICK = os.sysconf("SC_CLK_TCK")


def cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / TICK


def evicted(port):
    out = subprocess.run(["redis-cli", "-p", str(port), "INFO", "stats"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith("evicted_keys:"):
            return int(line.split(":")[1])
    return 0


def start(kind, binary, port, o):
    common = ["--port", str(port), "--maxmemory", o.maxmemory, "--maxmemory-policy", o.policy]
    if kind == "redis":
        cmd = ["redis-server", "--save", "", "--appendonly", "no"] + common
    else:
        cmd = [binary, "--shards", "1"] + common
    return start_server(cmd, port, o.server_cpu)


def bench(port, n, pipeline, o):
    cmd = ["taskset", "-c", o.load_cpu, "redis-benchmark", "-p", str(port), "-t", "set", "-n", str(n),
           "-P", str(pipeline), "-c", "50", "-d", str(o.size), "-r", "100000000", "--csv"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip().splitlines()
    row = out[-1].replace('"', "").split(",")
    # test, rps, avg, min, p50, p95, p99, max
    return float(row[1]), float(row[4]), float(row[6])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--pipelines", default="1,16")
    ap.add_argument("--maxmemory", default="64mb")
    ap.add_argument("--policy", default="allkeys-lru")
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--requests", type=int, default=300000)
    ap.add_argument("--server-cpu", default="1")
    ap.add_argument("--load-cpu", default="0")
    o = ap.parse_args()
    res = {}
    for _ in range(o.rounds):
        for kind in ("ring", "redis"):
            port = free_port()
            p = start(kind, o.binary, port, o)
            try:
                # Fill past the limit: from here on every new key evicts.
                bench(port, 1_000_000, 16, o)
                for pl in map(int, o.pipelines.split(",")):
                    n = o.requests if pl == 1 else o.requests * 4
                    c0, e0 = cpu(p.pid), evicted(port)
                    rps, p50, p99 = bench(port, n, pl, o)
                    c1, e1 = cpu(p.pid), evicted(port)
                    res.setdefault((kind, pl), []).append((rps, (c1 - c0) * 1e6 / n, p50, p99, (e1 - e0) / n))
            finally:
                stop_server(p)
    for pl in map(int, o.pipelines.split(",")):
        med = {k: [statistics.median(x[i] for x in res[(k, pl)]) for i in range(5)] for k in ("ring", "redis")}
        r, d = med["ring"], med["redis"]
        print(f"set P={pl} evicting ({o.policy}, {o.maxmemory}, {o.size} B): "
              f"ringcache {r[0]:.0f} ops/s {r[1]:.2f} cpu-us/req p50 {r[2]:.3f} p99 {r[3]:.3f} ms "
              f"evictions/SET {r[4]:.2f} | redis {d[0]:.0f} ops/s {d[1]:.2f} cpu-us/req p50 {d[2]:.3f} "
              f"p99 {d[3]:.3f} ms evictions/SET {d[4]:.2f} | ops ratio {r[0] / d[0]:.2f} cpu ratio {r[1] / d[1]:.2f}")


if __name__ == "__main__":
    main()
