//! One server under test: started pinned to a CPU on a free port, reached
//! over raw RESP, and stopped by its PID when the guard is dropped.
//!
//! Stopping covers every way the tool can end: `Drop` on a normal return or
//! an `Err`; the stop flag (SIGINT/SIGTERM) turns into an `Err`; and because
//! the release profile aborts on panic (no `Drop` then), each server also
//! gets `PR_SET_PDEATHSIG = SIGKILL`, so the kernel kills it when the tool
//! dies of anything, `kill -9` included.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Which server a figure belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Ringcache,
    Redis,
}

impl Kind {
    pub const BOTH: [Kind; 2] = [Kind::Ringcache, Kind::Redis];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Ringcache => "ringcache",
            Kind::Redis => "redis",
        }
    }
}

/// A running server. Dropping it stops it.
pub struct Server {
    pub kind: Kind,
    pub port: u16,
    child: Child,
    log: PathBuf,
}

impl Server {
    /// Starts `kind` pinned to `cpu` on a free port and waits until it
    /// answers PING. A port taken between our check and the server's bind
    /// is retried on another one.
    pub fn start(
        kind: Kind,
        ringcache_bin: &Path,
        cpu: usize,
        logs: &Path,
    ) -> Result<Server, String> {
        for _ in 0..3 {
            let port = free_port()?;
            let log = logs.join(format!("{}-{port}.log", kind.name()));
            let mut server = spawn(kind, ringcache_bin, cpu, port, &log)?;
            match server.wait_ready() {
                Ok(()) => return Ok(server),
                Err(Ready::PortTaken) => continue, // `server` dropped: reaped
                Err(Ready::Failed(why)) => return Err(why),
            }
        }
        Err(format!(
            "{} could not bind a port in 3 attempts",
            kind.name()
        ))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// utime + stime of the whole server process, in clock ticks.
    pub fn cpu_ticks(&self) -> Result<u64, String> {
        ringcache_bench::process_cpu_ticks(self.pid())
    }

    /// Fails when the server has exited.
    pub fn check_alive(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            _ => Err(format!(
                "{} exited (log: {})",
                self.kind.name(),
                self.log.display()
            )),
        }
    }

    /// Sends one command and returns the first line of the reply. Enough for
    /// PING and FLUSHALL, whose replies are one line.
    pub fn call(&self, parts: &[&[u8]]) -> Result<String, String> {
        call(self.port, parts)
            .map_err(|e| format!("{} on port {}: {e}", self.kind.name(), self.port))
    }

    fn wait_ready(&mut self) -> Result<(), Ready> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                if log.to_lowercase().contains("address already in use") {
                    return Err(Ready::PortTaken);
                }
                return Err(Ready::Failed(format!(
                    "{} exited ({status}) before answering PING (log: {})",
                    self.kind.name(),
                    self.log.display()
                )));
            }
            if matches!(call(self.port, &[b"PING"]).as_deref(), Ok("+PONG")) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(Ready::Failed(format!(
            "{} not answering PING after 20 s",
            self.kind.name()
        )))
    }
}

impl Drop for Server {
    /// SIGTERM by PID, SIGKILL after 10 s, then reap.
    fn drop(&mut self) {
        let pid = self.pid() as libc::pid_t;
        // SAFETY: kill(2) on the PID of our own unreaped child: it cannot
        // have been reused by another process until we wait for it.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

enum Ready {
    PortTaken,
    Failed(String),
}

fn spawn(
    kind: Kind,
    ringcache_bin: &Path,
    cpu: usize,
    port: u16,
    log: &Path,
) -> Result<Server, String> {
    let mut cmd = pinned(cpu);
    let port_s = port.to_string();
    match kind {
        Kind::Ringcache => {
            cmd.arg(ringcache_bin)
                .args(["--port", &port_s, "--shards", "1"]);
        }
        Kind::Redis => {
            cmd.arg("redis-server")
                .args(["--port", &port_s, "--bind", "127.0.0.1"]);
            cmd.args(["--save", "", "--appendonly", "no", "--protected-mode", "no"]);
        }
    }
    let out = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    cmd.stdin(Stdio::null()).stdout(out).stderr(err);
    // taskset execs the server, so the child's PID is the server's.
    let child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", kind.name()))?;
    Ok(Server {
        kind,
        port,
        child,
        log: log.to_path_buf(),
    })
}

/// `taskset -c CPU ...` whose process dies with this one (see the module doc).
pub fn pinned(cpu: usize) -> Command {
    let mut cmd = Command::new("taskset");
    cmd.args(["-c", &cpu.to_string()]);
    // SAFETY: the closure runs between fork and exec and calls only
    // async-signal-safe functions (getppid, prctl, _exit).
    let parent = std::process::id() as libc::pid_t;
    unsafe {
        cmd.pre_exec(move || {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            // The parent died before prctl took effect: nobody will stop us.
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
    cmd
}

/// A port below the kernel's ephemeral range, so no client connection (ours
/// or anyone's) can be holding it, that nothing listens on right now.
fn free_port() -> Result<u16, String> {
    let range =
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap_or_default();
    let low: u64 = range
        .split_whitespace()
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(32768);
    let low = if low > 12000 { low } else { 32768 };
    for _ in 0..100 {
        // RandomState is seeded from the OS: a random draw without a crate.
        let mut h = RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        let port = (10000 + h.finish() % (low - 10000)) as u16;
        if TcpListener::bind(("0.0.0.0", port)).is_ok() {
            return Ok(port);
        }
    }
    Err("no free port found".into())
}

fn call(port: u16, parts: &[&[u8]]) -> std::io::Result<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut req = Vec::new();
    ringcache_bench::push_command(&mut req, parts);
    s.write_all(&req)?;
    let mut reply = Vec::new();
    let mut buf = [0u8; 512];
    while !reply.ends_with(b"\r\n") {
        let n = s.read(&mut buf)?;
        if n == 0 {
            break;
        }
        reply.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&reply);
    Ok(line.lines().next().unwrap_or("").to_string())
}
