"""What the memory benches (evict_fill, evict_bench, hit_ratio, lazy_free)
share: a free loopback port, a pinned server started and waited for, its RSS."""
import socket, subprocess, sys, time


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def start_server(cmd, port, cpu):
    """Starts `cmd` pinned to `cpu` and waits until `port` accepts; exits
    (killing it) if it never does."""
    p = subprocess.Popen(["taskset", "-c", str(cpu)] + cmd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return p
        except OSError:
            time.sleep(0.05)
    p.kill(); p.wait()
    sys.exit(f"{cmd[0]} did not start on port {port}")


def stop_server(p):
    p.terminate(); p.wait()


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0
