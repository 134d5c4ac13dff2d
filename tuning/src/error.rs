//! Why the server cannot start on this host. Each variant's `Display` is one
//! line that names the cause and the fix, because it is the last thing an
//! operator sees before the process exits (and often the only thing that
//! reaches a container's log).

use std::fmt;

use crate::sys::{errno_name, fmt_bytes, fmt_count};

/// A limit that stays below the need even after the soft limit was raised to
/// the hard one. Bytes for RLIMIT_MEMLOCK, descriptors for RLIMIT_NOFILE;
/// `u64::MAX` means unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shortfall {
    /// The best soft limit reachable (the hard limit).
    pub limit: u64,
    /// What the configuration needs.
    pub needed: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StartupError {
    /// RLIMIT_MEMLOCK, RLIMIT_NOFILE or both are too low for the configuration.
    /// Both are reported together so the operator fixes them in one go.
    LimitsTooLow {
        memlock: Option<Shortfall>,
        nofile: Option<Shortfall>,
        shards: usize,
        maxclients: usize,
    },
    /// getrlimit/setrlimit failed. Not expected: raising a soft limit up to the
    /// hard limit is always permitted.
    Rlimit {
        call: &'static str,
        resource: &'static str,
        errno: i32,
    },
    /// io_uring_setup answered ENOSYS and no seccomp filter is installed: the
    /// kernel predates io_uring or was built without it.
    IoUringUnsupported { kernel: String },
    /// `kernel.io_uring_disabled` is 1 or 2 and refuses this process.
    IoUringDisabled { sysctl: u64 },
    /// A sandbox refused an io_uring syscall: EPERM with the sysctl allowing
    /// it, or ENOSYS from inside a seccomp filter on a kernel that has
    /// io_uring. `seccomp` says whether a filter is visibly installed.
    IoUringBlocked {
        syscall: &'static str,
        errno: i32,
        seccomp: bool,
    },
    /// io_uring_setup answered ENOMEM for a tiny ring.
    IoUringNoMemory { memlock: u64 },
    /// io_uring exists but is older than glommio 0.9 supports (Linux 5.8).
    KernelTooOld {
        kernel: String,
        /// io_uring operations glommio uses that the kernel lacks.
        missing_ops: Vec<&'static str>,
    },
    /// Any other failure of an io_uring syscall.
    IoUringFailed { syscall: &'static str, errno: i32 },
}

const SECCOMP_FIX: &str = "run with `--security-opt seccomp=unconfined` (Kubernetes: \
     seccompProfile type Unconfined) or a seccomp profile that allows io_uring_setup, \
     io_uring_enter and io_uring_register";

impl fmt::Display for StartupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartupError::LimitsTooLow {
                memlock,
                nofile,
                shards,
                maxclients,
            } => {
                if let Some(m) = memlock {
                    write_memlock(f, m, *shards)?;
                }
                if let Some(n) = nofile {
                    if memlock.is_some() {
                        f.write_str("; also ")?;
                    }
                    write_nofile(f, n, *shards, *maxclients)?;
                }
                Ok(())
            }
            StartupError::Rlimit {
                call,
                resource,
                errno,
            } => write!(f, "{call}({resource}) failed with {}", errno_name(*errno)),
            StartupError::IoUringUnsupported { kernel } => write!(
                f,
                "io_uring is not available: io_uring_setup returned ENOSYS on kernel {kernel}, \
                 which is too old or built without CONFIG_IO_URING; ringcache needs Linux >= 5.8 \
                 with io_uring enabled"
            ),
            StartupError::IoUringDisabled { sysctl: 1 } => f.write_str(
                "io_uring is restricted on this host (kernel.io_uring_disabled = 1 allows only \
                 CAP_SYS_ADMIN and members of kernel.io_uring_group): run `sysctl -w \
                 kernel.io_uring_disabled=0` as root, or run ringcache in the group named by \
                 kernel.io_uring_group",
            ),
            StartupError::IoUringDisabled { sysctl } => write!(
                f,
                "io_uring is disabled on this host (kernel.io_uring_disabled = {sysctl}): run \
                 `sysctl -w kernel.io_uring_disabled=0` as root (and persist it in /etc/sysctl.d/)"
            ),
            StartupError::IoUringBlocked {
                syscall,
                errno,
                seccomp: true,
            } => write!(
                f,
                "io_uring is blocked by a seccomp filter ({syscall} returned {}), as a \
                 container's seccomp profile does by default in recent Docker and containerd: \
                 {SECCOMP_FIX}",
                errno_name(*errno)
            ),
            StartupError::IoUringBlocked {
                syscall,
                errno,
                seccomp: false,
            } => write!(
                f,
                "io_uring is blocked by a security policy ({syscall} returned {} although \
                 kernel.io_uring_disabled allows it), most likely a container's seccomp profile \
                 or an SELinux/AppArmor rule: {SECCOMP_FIX}",
                errno_name(*errno)
            ),
            StartupError::IoUringNoMemory { memlock } => write!(
                f,
                "io_uring_setup failed with ENOMEM for a 4-entry ring: RLIMIT_MEMLOCK ({}) is used \
                 up by this user's other rings (kernels before 5.12 charge ring memory to it) or \
                 the memory cgroup is full: run `ulimit -l 65536` (or set LimitMEMLOCK= in the \
                 systemd unit, --ulimit memlock=-1 for docker) or free memory",
                fmt_bytes(*memlock)
            ),
            StartupError::KernelTooOld {
                kernel,
                missing_ops,
            } => {
                write!(
                    f,
                    "kernel {kernel} is too old: ringcache's I/O runtime (glommio 0.9) needs \
                     Linux >= 5.8"
                )?;
                if !missing_ops.is_empty() {
                    write!(f, " (io_uring lacks {})", missing_ops.join(", "))?;
                }
                f.write_str("; upgrade the kernel")
            }
            StartupError::IoUringFailed { syscall, errno } => write!(
                f,
                "{syscall} failed with {}: io_uring is unusable on this host",
                errno_name(*errno)
            ),
        }
    }
}

impl std::error::Error for StartupError {}

fn write_memlock(f: &mut fmt::Formatter<'_>, m: &Shortfall, shards: usize) -> fmt::Result {
    write!(
        f,
        "RLIMIT_MEMLOCK is {} but {shards} shard{} need {} for io_uring rings and buffers: {}",
        fmt_bytes(m.limit),
        if shards == 1 { "" } else { "s" },
        fmt_bytes(m.needed),
        memlock_fix(m.needed)
    )
}

fn write_nofile(
    f: &mut fmt::Formatter<'_>,
    n: &Shortfall,
    shards: usize,
    maxclients: usize,
) -> fmt::Result {
    write!(
        f,
        "RLIMIT_NOFILE is {} but maxclients {maxclients} with {shards} shard{} needs {} file \
         descriptors: {}",
        fmt_count(n.limit),
        if shards == 1 { "" } else { "s" },
        n.needed,
        nofile_fix(n.needed)
    )
}

/// How to raise RLIMIT_MEMLOCK to `needed` bytes. `ulimit -l` counts KiB; the
/// figure is rounded up to whole MiB so it reads well and still suffices.
pub(crate) fn memlock_fix(needed: u64) -> String {
    let kib = needed.div_ceil(1 << 20).saturating_mul(1024);
    format!(
        "run `ulimit -l {kib}` (or set LimitMEMLOCK= in the systemd unit, --ulimit memlock=-1 \
         for docker), or use fewer --shards"
    )
}

/// How to raise RLIMIT_NOFILE to `needed` descriptors.
pub(crate) fn nofile_fix(needed: u64) -> String {
    format!(
        "run `ulimit -n {needed}` (or set LimitNOFILE= in the systemd unit, --ulimit \
         nofile={needed} for docker), or lower maxclients"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memlock_message_names_cause_and_fix() {
        let e = StartupError::LimitsTooLow {
            memlock: Some(Shortfall {
                limit: 8 << 20,
                needed: 40 << 20,
            }),
            nofile: None,
            shards: 4,
            maxclients: 10_000,
        };
        assert_eq!(
            e.to_string(),
            "RLIMIT_MEMLOCK is 8 MiB but 4 shards need 40 MiB for io_uring rings and buffers: \
             run `ulimit -l 40960` (or set LimitMEMLOCK= in the systemd unit, --ulimit \
             memlock=-1 for docker), or use fewer --shards"
        );
    }

    #[test]
    fn both_limits_make_one_line() {
        let e = StartupError::LimitsTooLow {
            memlock: Some(Shortfall {
                limit: 8 << 20,
                needed: 20 << 20,
            }),
            nofile: Some(Shortfall {
                limit: 1024,
                needed: 10_128,
            }),
            shards: 2,
            maxclients: 10_000,
        };
        let s = e.to_string();
        assert!(!s.contains('\n'));
        assert!(s.contains("; also RLIMIT_NOFILE is 1024 but maxclients 10000 with 2 shards"));
        assert!(s.contains("`ulimit -n 10128`"), "{s}");
        assert!(s.contains("lower maxclients"), "{s}");
    }

    #[test]
    fn io_uring_messages_carry_their_fix() {
        let cases = [
            (
                StartupError::IoUringDisabled { sysctl: 2 },
                "sysctl -w kernel.io_uring_disabled=0",
            ),
            (
                StartupError::IoUringDisabled { sysctl: 1 },
                "kernel.io_uring_group",
            ),
            (
                StartupError::IoUringBlocked {
                    syscall: "io_uring_setup",
                    errno: libc::EPERM,
                    seccomp: true,
                },
                "--security-opt seccomp=unconfined",
            ),
            (
                StartupError::IoUringBlocked {
                    syscall: "io_uring_register",
                    errno: libc::EPERM,
                    seccomp: false,
                },
                "io_uring_register returned EPERM",
            ),
            (
                StartupError::IoUringUnsupported {
                    kernel: "4.19.0".into(),
                },
                "Linux >= 5.8",
            ),
            (
                StartupError::IoUringNoMemory { memlock: 64 << 10 },
                "ulimit -l",
            ),
            (
                StartupError::KernelTooOld {
                    kernel: "5.4.0".into(),
                    missing_ops: vec!["IORING_OP_RECV"],
                },
                "(io_uring lacks IORING_OP_RECV); upgrade the kernel",
            ),
        ];
        for (e, needle) in cases {
            let s = e.to_string();
            assert!(s.contains(needle), "{s}");
            assert!(!s.contains('\n'), "{s}");
        }
    }
}
