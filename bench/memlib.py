"""What the memory benches (evict_fill, evict_bench, hit_ratio, lazy_free)
share: a free loopback port, a pinned server started and waited for, its RSS,
and a minimal RESP connection."""
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


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.f = self.s.makefile("rb")

    def cmd(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.s.sendall(out)
        return self.read()

    def read(self):
        line = self.f.readline()
        kind, rest = line[:1], line[1:-2]
        if kind in (b"+", b"-", b":"):
            return rest
        if kind in (b"$", b"="):
            n = int(rest)
            return None if n < 0 else self.f.read(n + 2)[:-2]
        raise RuntimeError(line)

    def info(self):
        """INFO all as a dict of field: text."""
        text = self.cmd("INFO", "all").decode()
        return dict(l.split(":", 1) for l in text.split("\r\n") if ":" in l and not l.startswith("#"))
