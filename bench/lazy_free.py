#!/usr/bin/env python3
"""lazy_free — UNLINK of a huge value and FLUSHALL ASYNC of millions of keys
return at once, the shard keeps serving meanwhile, and the memory comes back.

Starts ringcache with one shard (so the GET stream, the UNLINK and the
freeing all share it), then for each case:
  - a 512 MiB string (one SET) and UNLINK big;
  - 10,000,000 keys (memtier, sequential, 32-byte values) and FLUSHALL ASYNC;
times the command's round trip, while one client runs GETs back to back
from the start of the command until the lazy free is done (INFO
lazyfree_pending_objects 0), and prints the command's time, the GET
stream's p50/p99/p99.9/max over that window, how long the free took, and
the RSS before, at the command, and 3 s after the free.

  bench/lazy_free.py target/release/ringcache-server [--keys 10000000]
"""
import argparse, os, subprocess, threading, time

from memlib import Conn, free_port, rss, start_server, stop_server

MEMTIER = os.environ.get("MEMTIER", "/tmp/peer/memtier/memtier_benchmark")


def info_field(c, name):
    return int(c.info()[name])


def case(name, port, pid, command):
    c = Conn(port)
    c.cmd("SET", "probe", "x" * 100)
    lat, stop = [], threading.Event()

    def stream():
        g = Conn(port)
        while not stop.is_set():
            t = time.perf_counter()
            g.cmd("GET", "probe")
            lat.append(time.perf_counter() - t)
    before = rss(pid)
    t = threading.Thread(target=stream); t.start()
    time.sleep(0.2)
    lat.clear()
    t0 = time.perf_counter()
    reply = c.cmd(*command)
    took = time.perf_counter() - t0
    at_cmd = rss(pid)
    while info_field(c, "lazyfree_pending_objects") > 0:
        time.sleep(0.005)
    freed = time.perf_counter() - t0
    stop.set(); t.join()
    time.sleep(3)
    after = rss(pid)
    time.sleep(9)
    later = rss(pid)
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1e3
    print(f"{name}: reply {reply!r} in {took * 1e3:.3f} ms; freed in {freed:.2f} s; "
          f"GETs meanwhile {len(lat)}: p50 {q(.5):.3f} p99 {q(.99):.3f} p99.9 {q(.999):.3f} max {lat[-1] * 1e3:.3f} ms; "
          f"RSS {before / 2**20:.0f} MiB before, {at_cmd / 2**20:.0f} at the command, {after / 2**20:.0f} 3 s "
          f"after the free, {later / 2**20:.0f} 12 s after")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--keys", type=int, default=10_000_000)
    ap.add_argument("--server-cpu", default="1")
    ap.add_argument("--load-cpu", default="0")
    o = ap.parse_args()
    # This script's GET stream runs beside the load tools, not on the server's CPU.
    os.sched_setaffinity(0, {int(o.load_cpu)})
    port = free_port()
    p = start_server([o.binary, "--port", str(port), "--shards", "1"], port, o.server_cpu)
    try:
        c = Conn(port)
        # A real 512 MiB value, sent as one SET (every page written).
        size = 512 << 20
        c.s.sendall(b"*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$%d\r\n" % size)
        chunk = b"v" * (1 << 20)
        for _ in range(size >> 20):
            c.s.sendall(chunk)
        c.s.sendall(b"\r\n")
        assert c.read() == b"OK"
        assert int(c.cmd("STRLEN", "big")) == size
        case("UNLINK of a 512 MiB string", port, p.pid, ["UNLINK", "big"])
        per = o.keys // 50
        subprocess.run(["taskset", "-c", o.load_cpu, MEMTIER, "-s", "127.0.0.1", "-p", str(port),
                        "--protocol=redis", "-t", "1", "-c", "50", "--pipeline=64", "--ratio=1:0",
                        "--key-pattern=P:P", "--key-minimum=1", f"--key-maximum={per * 50}",
                        "--data-size=32", f"--requests={per}", "--hide-histogram"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        keys = int(c.cmd("DBSIZE"))
        case(f"FLUSHALL ASYNC of {keys} keys", port, p.pid, ["FLUSHALL", "ASYNC"])
    finally:
        stop_server(p)


if __name__ == "__main__":
    main()
