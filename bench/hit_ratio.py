#!/usr/bin/env python3
"""hit_ratio — how well each server chooses what to evict: the hit ratio of
memtier_benchmark's Gaussian key pattern over ten times more keys than fit,
GET:SET 10:1, ringcache against redis-server under the same maxmemory and
policy, same core.

For each policy, each server in turn: start pinned to --server-cpu with the
limit, write every key once in order (far past the limit), warm up with the
Gaussian pattern for --warm seconds (the hot keys come in and the cache
reaches its steady state), CONFIG RESETSTAT, run --secs more, and read
keyspace_hits / (hits + misses) and evicted_keys from INFO. memtier's
--ratio is SET:GET, so GET:SET 10:1 is --ratio=1:10.

  bench/hit_ratio.py target/release/ringcache-server [--policies allkeys-lru,allkeys-lfu]
Needs memtier_benchmark (MEMTIER, default /tmp/peer/memtier/memtier_benchmark).
"""
import argparse, os, subprocess

from memlib import free_port, start_server, stop_server

MEMTIER = os.environ.get("MEMTIER", "/tmp/peer/memtier/memtier_benchmark")


def cli(port, *args):
    return subprocess.run(["redis-cli", "-p", str(port)] + list(args), capture_output=True, text=True).stdout


def stats(port):
    out = cli(port, "INFO", "stats")
    d = dict(l.split(":", 1) for l in out.splitlines() if ":" in l)
    return int(d["keyspace_hits"]), int(d["keyspace_misses"]), int(d["evicted_keys"])


def memtier(port, secs, o, fill=False):
    cmd = ["taskset", "-c", o.load_cpu, MEMTIER, "-s", "127.0.0.1", "-p", str(port), "--protocol=redis",
           "-t", "1", "-c", "50", "--key-minimum=1", f"--key-maximum={o.keys}", f"--data-size={o.size}",
           "--hide-histogram"]
    if fill:
        cmd += ["--ratio=1:0", "--key-pattern=P:P", "--pipeline=16", f"--requests={o.keys // 50 + 1}"]
    else:
        cmd += ["--ratio=1:10", "--key-pattern=G:G", f"--test-time={secs}"]
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)


def run(kind, policy, o):
    port = free_port()
    common = ["--port", str(port), "--maxmemory", o.maxmemory, "--maxmemory-policy", policy]
    cmd = (["redis-server", "--save", "", "--appendonly", "no"] + common if kind == "redis"
           else [o.binary, "--shards", "1"] + common)
    p = start_server(cmd, port, o.server_cpu)
    try:
        memtier(port, 0, o, fill=True)
        memtier(port, o.warm, o)
        cli(port, "CONFIG", "RESETSTAT")
        memtier(port, o.secs, o)
        hits, misses, evicted = stats(port)
        return hits / max(1, hits + misses), evicted
    finally:
        stop_server(p)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--policies", default="allkeys-lru,allkeys-lfu")
    ap.add_argument("--maxmemory", default="100mb")
    ap.add_argument("--size", type=int, default=1000)
    ap.add_argument("--keys", type=int, default=800_000, help="about ten times what fits")
    ap.add_argument("--warm", type=int, default=20)
    ap.add_argument("--secs", type=int, default=30)
    ap.add_argument("--server-cpu", default="1")
    ap.add_argument("--load-cpu", default="0")
    o = ap.parse_args()
    for policy in o.policies.split(","):
        ring, ring_ev = run("ring", policy, o)
        redis, redis_ev = run("redis", policy, o)
        print(f"{policy} {o.maxmemory} G:G over {o.keys} keys of {o.size} B, GET:SET 10:1: "
              f"hit ratio ringcache {100 * ring:.2f}% (evicted {ring_ev}) | redis {100 * redis:.2f}% "
              f"(evicted {redis_ev}) | difference {100 * (ring - redis):+.2f} points")


if __name__ == "__main__":
    main()
