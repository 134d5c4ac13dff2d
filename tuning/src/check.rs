//! `ringcache-server --check`: one line per host property that matters to a
//! thread-per-core io_uring server, each OK or WARN with the fix.
//!
//! ```text
//! OK   cpus         2 online, 2 allowed (0-1)
//! WARN thp          always (...): set to madvise or never: echo madvise > ...
//! ```
//!
//! Containers hide much of /proc and /sys; a file that cannot be read becomes
//! a WARN line saying so, never a panic and never a silent OK.

use std::fmt;

use crate::cpus::{allowed_cpus, format_cpu_list, online_cpus, parse_cpu_list};
use crate::error::{memlock_fix, nofile_fix};
use crate::limits::{get_rlimit, memlock_exempt, Needs, Resource, GLOMMIO_MIN_MEMLOCK};
use crate::sys::{self, fmt_bytes, fmt_count};
use crate::uring::{self, MIN_KERNEL, NOTABLE_FEATURES};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Warn,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Padded here so `{:<4}` in CheckLine lines the columns up.
        f.pad(match self {
            Status::Ok => "OK",
            Status::Warn => "WARN",
        })
    }
}

/// One line of the host report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckLine {
    pub status: Status,
    /// Short fixed name: `cpus`, `thp`, `io_uring`, ...
    pub name: &'static str,
    /// What was found.
    pub detail: String,
    /// What to do about it, for WARN lines that have a fix.
    pub fix: Option<String>,
}

impl CheckLine {
    fn ok(name: &'static str, detail: impl Into<String>) -> CheckLine {
        CheckLine {
            status: Status::Ok,
            name,
            detail: detail.into(),
            fix: None,
        }
    }

    fn warn(name: &'static str, detail: impl Into<String>, fix: Option<String>) -> CheckLine {
        CheckLine {
            status: Status::Warn,
            name,
            detail: detail.into(),
            fix,
        }
    }
}

impl fmt::Display for CheckLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<4} {:<12} {}", self.status, self.name, self.detail)?;
        if let Some(fix) = &self.fix {
            write!(f, ": {fix}")?;
        }
        Ok(())
    }
}

/// The report for the default configuration on this host (one shard per
/// allowed CPU, maxclients 10000, glommio's default buffer pool).
pub fn check_report() -> Vec<CheckLine> {
    check_report_for(&Needs::for_host())
}

/// The report for a given configuration (the limits lines depend on it).
pub fn check_report_for(needs: &Needs) -> Vec<CheckLine> {
    let allowed = allowed_cpus();
    vec![
        cpus_line(&allowed),
        quota_line(&allowed),
        numa_line(),
        isolated_line(),
        memlock_line(needs),
        nofile_line(needs),
        somaxconn_line(),
        thp_line(),
        io_uring_line(),
        socket_ring_line(),
        kernel_line(),
    ]
}

fn socket_ring_line() -> CheckLine {
    match uring::socket_ring_mode() {
        uring::SocketRingMode::DeferTaskrun => CheckLine::ok(
            "socket ring",
            "DEFER_TASKRUN: completions wait for the shard, no IPI per completion",
        ),
        mode => CheckLine::warn(
            "socket ring",
            format!(
                "{}: each socket completion that arrives while a shard runs costs an IPI",
                if mode == uring::SocketRingMode::CoopTaskrun {
                    "COOP_TASKRUN fallback"
                } else {
                    "plain ring fallback"
                }
            ),
            Some("Linux 6.1+ for DEFER_TASKRUN".to_string()),
        ),
    }
}

fn cpus_line(allowed: &[usize]) -> CheckLine {
    let allowed_text = format!("{} allowed ({})", allowed.len(), format_cpu_list(allowed));
    match online_cpus() {
        Ok(online) => CheckLine::ok("cpus", format!("{} online, {allowed_text}", online.len())),
        Err(e) => CheckLine::warn(
            "cpus",
            format!("online CPUs unknown ({e}), {allowed_text}"),
            None,
        ),
    }
}

/// std's available_parallelism() is the affinity mask capped by any cgroup
/// (v1 or v2) CPU quota; when it is below the allowed CPUs, a shard per
/// allowed CPU would spend part of every period throttled.
fn quota_line(allowed: &[usize]) -> CheckLine {
    let name = "cpu quota";
    match std::thread::available_parallelism() {
        Ok(n) if n.get() < allowed.len() => CheckLine::warn(
            name,
            format!(
                "the cgroup CPU quota allows about {n} CPUs but {} are allowed, so one shard \
                 per CPU gets throttled (latency spikes)",
                allowed.len()
            ),
            Some(format!(
                "run with --shards {n}, or raise the container's CPU limit to {}",
                allowed.len()
            )),
        ),
        Ok(_) => CheckLine::ok(
            name,
            format!("none below the {} allowed CPUs", allowed.len()),
        ),
        Err(e) => CheckLine::warn(name, format!("unknown: {e}"), None),
    }
}

fn numa_line() -> CheckLine {
    let dir = "/sys/devices/system/node";
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            return CheckLine::warn(
                "numa",
                format!("layout unknown: cannot read {dir}: {e}"),
                None,
            )
        }
    };
    let mut nodes: Vec<(usize, String)> = entries
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            let id = name.strip_prefix("node")?.parse().ok()?;
            let cpus = sys::read_trimmed(&format!("{dir}/{name}/cpulist"))
                .unwrap_or_else(|_| "?".to_string());
            Some((id, cpus))
        })
        .collect();
    nodes.sort();
    if nodes.is_empty() {
        return CheckLine::warn("numa", format!("layout unknown: no node* in {dir}"), None);
    }
    let list: Vec<String> = nodes
        .iter()
        .map(|(id, cpus)| format!("node{id}: {cpus}"))
        .collect();
    let plural = if nodes.len() == 1 { "" } else { "s" };
    CheckLine::ok(
        "numa",
        format!("{} node{plural} ({})", nodes.len(), list.join(", ")),
    )
}

fn isolated_line() -> CheckLine {
    let path = "/sys/devices/system/cpu/isolated";
    match sys::read_trimmed(path) {
        Ok(text) if text.is_empty() => CheckLine::ok("isolated", "none"),
        Ok(text) => match parse_cpu_list(&text) {
            Ok(cpus) => {
                let list = format_cpu_list(&cpus);
                CheckLine::ok(
                    "isolated",
                    format!(
                        "{list} (outside the default affinity; pin shards there with --cpus {list})"
                    ),
                )
            }
            Err(e) => CheckLine::warn("isolated", format!("{path}: {e}"), None),
        },
        Err(e) => CheckLine::warn("isolated", format!("unknown: {e}"), None),
    }
}

fn memlock_line(needs: &Needs) -> CheckLine {
    let name = "memlock";
    let limit = match get_rlimit(Resource::Memlock) {
        Ok(limit) => limit,
        Err(e) => return CheckLine::warn(name, e.to_string(), None),
    };
    let limits = format!(
        "soft {}, hard {}",
        fmt_bytes(limit.soft),
        fmt_bytes(limit.hard)
    );
    if memlock_exempt() {
        let detail = format!("{limits}; io_uring charges nothing to it (CAP_IPC_LOCK)");
        return if limit.hard >= GLOMMIO_MIN_MEMLOCK {
            CheckLine::ok(name, detail)
        } else {
            CheckLine::warn(name, detail, Some(memlock_fix(GLOMMIO_MIN_MEMLOCK)))
        };
    }
    let needed = needs.memlock();
    let plural = if needs.shards == 1 { "" } else { "s" };
    let detail = format!(
        "{limits}; {} shard{plural} need {} for io_uring buffers",
        needs.shards,
        fmt_bytes(needed)
    );
    if limit.hard >= needed {
        CheckLine::ok(name, detail)
    } else {
        CheckLine::warn(name, detail, Some(memlock_fix(needed)))
    }
}

fn nofile_line(needs: &Needs) -> CheckLine {
    let name = "nofile";
    let limit = match get_rlimit(Resource::Nofile) {
        Ok(limit) => limit,
        Err(e) => return CheckLine::warn(name, e.to_string(), None),
    };
    let needed = needs.nofile();
    let plural = if needs.shards == 1 { "" } else { "s" };
    let detail = format!(
        "soft {}, hard {}; maxclients {} with {} shard{plural} need {needed}",
        fmt_count(limit.soft),
        fmt_count(limit.hard),
        needs.maxclients,
        needs.shards
    );
    if limit.hard >= needed {
        CheckLine::ok(name, detail)
    } else {
        CheckLine::warn(name, detail, Some(nofile_fix(needed)))
    }
}

fn somaxconn_line() -> CheckLine {
    let name = "somaxconn";
    match sys::read_u64("/proc/sys/net/core/somaxconn") {
        Ok(n) if n >= 1024 => CheckLine::ok(name, n.to_string()),
        Ok(n) => CheckLine::warn(
            name,
            format!("{n}: listen backlogs are capped at this, so connection bursts get dropped"),
            Some("sysctl -w net.core.somaxconn=4096".to_string()),
        ),
        Err(e) => CheckLine::warn(name, format!("unknown: {e}"), None),
    }
}

fn thp_line() -> CheckLine {
    let path = "/sys/kernel/mm/transparent_hugepage/enabled";
    match sys::read_trimmed(path) {
        Ok(text) => match selected_option(&text) {
            Some("always") => CheckLine::warn(
                "thp",
                "always (huge-page faults and khugepaged compaction cause latency spikes, and \
                 huge pages inflate memory per key)",
                Some(format!("set to madvise or never: echo madvise > {path}")),
            ),
            Some(mode) => CheckLine::ok("thp", mode),
            None => CheckLine::warn("thp", format!("unknown: {path} holds {text:?}"), None),
        },
        Err(e) => CheckLine::warn("thp", format!("unknown: {e}"), None),
    }
}

/// The bracketed choice in a sysfs selector such as `always [madvise] never`.
fn selected_option(text: &str) -> Option<&str> {
    text.split_whitespace()
        .find_map(|w| w.strip_prefix('[')?.strip_suffix(']'))
}

fn io_uring_line() -> CheckLine {
    let mut context = match sys::io_uring_disabled() {
        Some(n) => format!("kernel.io_uring_disabled = {n}"),
        None => "no kernel.io_uring_disabled (kernel < 6.6 or /proc hidden)".to_string(),
    };
    if sys::seccomp_filtered() == Some(true) {
        context.push_str("; seccomp filter installed");
    }
    match uring::probe() {
        Ok(info) => {
            let features: Vec<&str> = NOTABLE_FEATURES
                .iter()
                .filter(|(bit, _)| info.features & bit != 0)
                .map(|&(_, name)| name)
                .collect();
            let features = if features.is_empty() {
                String::new()
            } else {
                format!("; {}", features.join(", "))
            };
            CheckLine::ok("io_uring", format!("usable ({context}{features})"))
        }
        Err(e) => CheckLine::warn("io_uring", format!("{e} ({context})"), None),
    }
}

fn kernel_line() -> CheckLine {
    let Some(release) = sys::kernel_release() else {
        return CheckLine::warn("kernel", "unknown: uname failed", None);
    };
    match sys::parse_kernel_version(&release) {
        Some(v) if v < MIN_KERNEL => CheckLine::warn(
            "kernel",
            format!("{release}: older than 5.8, which glommio 0.9 needs"),
            Some("upgrade to Linux 5.8 or newer (6.1+ recommended)".to_string()),
        ),
        Some(v) => CheckLine::ok("kernel", format!("{release} ({})", kernel_notes(v))),
        None => CheckLine::warn("kernel", format!("unknown version {release:?}"), None),
    }
}

/// io_uring features newer kernels add, for the operator planning upgrades.
fn kernel_notes(v: (u32, u32)) -> &'static str {
    if v >= (6, 1) {
        "io_uring multishot accept/recv, zero-copy send and DEFER_TASKRUN available"
    } else if v >= (6, 0) {
        "io_uring multishot accept/recv and zero-copy send available; 6.1 adds DEFER_TASKRUN"
    } else if v >= (5, 19) {
        "io_uring multishot accept available; 6.0 adds multishot recv and zero-copy send"
    } else {
        ">= 5.8; 5.19+ and 6.x add multishot accept/recv and zero-copy send"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: &[&str] = &[
        "cpus",
        "cpu quota",
        "numa",
        "isolated",
        "memlock",
        "nofile",
        "somaxconn",
        "thp",
        "io_uring",
        "socket ring",
        "kernel",
    ];

    #[test]
    fn report_runs_here_with_every_line() {
        let report = check_report();
        let names: Vec<&str> = report.iter().map(|l| l.name).collect();
        assert_eq!(names, NAMES);
        for line in &report {
            let text = line.to_string();
            assert!(!text.contains('\n'), "{text}");
            assert!(
                text.starts_with("OK   ") || text.starts_with("WARN "),
                "{text}"
            );
            assert_eq!(&text[5..5 + line.name.len()], line.name);
        }
        let io_uring = report.iter().find(|l| l.name == "io_uring").unwrap();
        assert_eq!(io_uring.status, Status::Ok, "{io_uring}");
        assert!(io_uring.detail.contains("io_uring_disabled"), "{io_uring}");
        let cpus = report.iter().find(|l| l.name == "cpus").unwrap();
        assert!(cpus.detail.contains("allowed ("), "{cpus}");
    }

    #[test]
    fn limits_lines_follow_the_needs() {
        let small = Needs {
            shards: 1,
            maxclients: 10,
            memlock_per_shard: 0,
        };
        let report = check_report_for(&small);
        let nofile = report.iter().find(|l| l.name == "nofile").unwrap();
        assert_eq!(nofile.status, Status::Ok, "{nofile}");
        let huge = Needs {
            shards: 4,
            maxclients: usize::MAX / 2,
            memlock_per_shard: 1 << 40,
        };
        let report = check_report_for(&huge);
        let nofile = report.iter().find(|l| l.name == "nofile").unwrap();
        assert_eq!(nofile.status, Status::Warn);
        assert!(nofile.fix.as_deref().unwrap().contains("ulimit -n"));
        let memlock = report.iter().find(|l| l.name == "memlock").unwrap();
        let hard = get_rlimit(Resource::Memlock).unwrap().hard;
        let expect_warn = !memlock_exempt() && hard < huge.memlock();
        assert_eq!(memlock.status == Status::Warn, expect_warn, "{memlock}");
    }

    #[test]
    fn line_format() {
        let ok = CheckLine::ok("cpus", "2 online, 2 allowed (0-1)");
        assert_eq!(
            ok.to_string(),
            "OK   cpus         2 online, 2 allowed (0-1)"
        );
        let warn = CheckLine::warn(
            "thp",
            "always",
            Some("set to madvise or never: echo madvise > /x".into()),
        );
        assert_eq!(
            warn.to_string(),
            "WARN thp          always: set to madvise or never: echo madvise > /x"
        );
    }

    #[test]
    fn sysfs_selector() {
        assert_eq!(selected_option("always [madvise] never"), Some("madvise"));
        assert_eq!(selected_option("[always] madvise never"), Some("always"));
        assert_eq!(selected_option("always madvise never"), None);
    }

    #[test]
    fn kernel_notes_by_version() {
        assert!(kernel_notes((5, 15)).starts_with(">= 5.8"));
        assert!(kernel_notes((5, 19)).contains("multishot accept available"));
        assert!(kernel_notes((6, 18)).contains("DEFER_TASKRUN available"));
    }
}
