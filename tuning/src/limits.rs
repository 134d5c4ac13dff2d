//! RLIMIT_MEMLOCK and RLIMIT_NOFILE: raise the soft limits toward the hard
//! ones and refuse to start, with one message, when even that is not enough.
//!
//! Why memlock matters to an io_uring server:
//!
//! - Since Linux 5.12 the rings themselves (SQ/CQ arrays, SQEs) are charged to
//!   the memory cgroup, not to RLIMIT_MEMLOCK; before 5.12 they were charged to
//!   memlock. A small per-shard allowance covers the old behaviour.
//! - Registered buffers still are charged to memlock on every kernel: glommio
//!   registers its DMA buffer pool (`io_memory`, 10 MiB by default) with each of
//!   a shard's three rings (main, latency, poll), and the kernel charges every
//!   registration separately, so a shard pins 3 × io_memory. When that does not
//!   fit, glommio only logs a warning and falls back to unregistered buffers: a
//!   silent slowdown, which is why we check up front.
//! - The charge goes to the *user* (`user_struct.locked_vm`), checked against
//!   this process's RLIMIT_MEMLOCK, so other io_uring programs of the same user
//!   eat into the same budget. We cannot see that usage; the check is for this
//!   process alone.
//! - A process with CAP_IPC_LOCK in the initial user namespace is not charged
//!   at all (io_uring_create leaves `ctx->user` unset). glommio still refuses
//!   to start below a 512 KiB soft limit whatever the capabilities.
//!
//! Nofile: every client is one descriptor, and each shard holds a few dozen of
//! its own (three rings, an eventfd, listeners, AOF, snapshot and manifest
//! files, glommio's blocking-pool pipes), plus the process's own handful.

use std::fmt;

use crate::cpus::allowed_cpus;
use crate::error::{Shortfall, StartupError};
use crate::sys::{self, fmt_bytes, fmt_count};

/// glommio's default `io_memory` per executor (`DEFAULT_IO_MEMORY`).
pub const GLOMMIO_DEFAULT_IO_MEMORY: usize = 10 << 20;
/// glommio's `Reactor::new` fails if the soft RLIMIT_MEMLOCK is below this.
pub const GLOMMIO_MIN_MEMLOCK: u64 = 512 << 10;
/// Rings per glommio executor, each holding its own buffer registration.
pub const GLOMMIO_RINGS_PER_SHARD: u64 = 3;
/// Ring memory charged to memlock on kernels before 5.12: three rings of a
/// few hundred entries are well under this.
pub const RING_MEMLOCK_ALLOWANCE: u64 = 256 << 10;
/// Descriptors a shard holds besides its clients.
pub const NOFILE_PER_SHARD: u64 = 32;
/// Descriptors the process holds besides its shards (stdio, logs, /proc reads).
pub const NOFILE_SLACK: u64 = 64;
/// Redis's default `maxclients`, used when no configuration is at hand.
pub const DEFAULT_MAXCLIENTS: usize = 10_000;

/// What a configuration needs from the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    pub shards: usize,
    pub maxclients: usize,
    /// Bytes of locked memory one shard pins; see [`glommio_memlock_per_shard`].
    pub memlock_per_shard: u64,
}

impl Needs {
    /// The default configuration on this host: one shard per allowed CPU,
    /// Redis's maxclients, glommio's default buffer pool.
    pub fn for_host() -> Needs {
        Needs {
            shards: allowed_cpus().len(),
            maxclients: DEFAULT_MAXCLIENTS,
            memlock_per_shard: glommio_memlock_per_shard(GLOMMIO_DEFAULT_IO_MEMORY),
        }
    }

    /// Bytes of RLIMIT_MEMLOCK needed, never below glommio's own minimum.
    pub fn memlock(&self) -> u64 {
        (self.shards as u64)
            .saturating_mul(self.memlock_per_shard)
            .max(GLOMMIO_MIN_MEMLOCK)
    }

    /// Descriptors needed: maxclients + 32 per shard + process slack.
    pub fn nofile(&self) -> u64 {
        (self.maxclients as u64)
            .saturating_add((self.shards as u64).saturating_mul(NOFILE_PER_SHARD))
            .saturating_add(NOFILE_SLACK)
    }
}

/// Locked memory one glommio executor pins for an `io_memory` buffer pool:
/// glommio rounds the pool up to 4 KiB (at least 64 KiB) and registers it with
/// each of its rings, each registration charged in full, plus the pre-5.12
/// ring allowance.
pub fn glommio_memlock_per_shard(io_memory: usize) -> u64 {
    let pool = (io_memory as u64).next_multiple_of(4096).max(64 << 10);
    pool.saturating_mul(GLOMMIO_RINGS_PER_SHARD)
        .saturating_add(RING_MEMLOCK_ALLOWANCE)
}

/// A soft/hard pair; `u64::MAX` is RLIM_INFINITY.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rlimit {
    pub soft: u64,
    pub hard: u64,
}

/// One limit before and after start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitChange {
    pub before: Rlimit,
    /// The soft limit to run with.
    pub soft: u64,
    pub needed: u64,
}

impl LimitChange {
    pub fn raised(&self) -> bool {
        self.soft != self.before.soft
    }
}

/// What [`ensure_limits`] found and did, for the start-up log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitReport {
    pub memlock: LimitChange,
    pub nofile: LimitChange,
    /// CAP_IPC_LOCK: io_uring charges nothing to memlock for this process.
    pub memlock_exempt: bool,
}

impl fmt::Display for LimitReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = &self.memlock;
        write!(
            f,
            "memlock {} (hard {}, need {}",
            fmt_bytes(m.soft),
            fmt_bytes(m.before.hard),
            fmt_bytes(m.needed)
        )?;
        if self.memlock_exempt {
            f.write_str(", CAP_IPC_LOCK")?;
        }
        if m.raised() {
            write!(f, ", raised from {}", fmt_bytes(m.before.soft))?;
        }
        let n = &self.nofile;
        write!(
            f,
            "), nofile {} (hard {}, need {}",
            fmt_count(n.soft),
            fmt_count(n.before.hard),
            n.needed
        )?;
        if n.raised() {
            write!(f, ", raised from {}", fmt_count(n.before.soft))?;
        }
        f.write_str(")")
    }
}

/// Decides the soft limits to run with, from the current limits alone (pure,
/// so the arithmetic is testable with made-up limits).
///
/// - memlock: soft goes up to the hard limit. It is only a ceiling on what the
///   kernel will let us pin, and the budget is shared by all of this user's
///   rings, so the headroom costs nothing.
/// - nofile: soft goes up to what is needed, capped by the hard limit, as Redis
///   does: a needlessly huge soft limit leaks into child processes and into
///   code that sizes tables by it.
///
/// Soft limits are never lowered and never set above the hard limit.
pub fn plan_limits(
    needs: &Needs,
    memlock: Rlimit,
    nofile: Rlimit,
    memlock_exempt: bool,
) -> Result<LimitReport, StartupError> {
    let memlock_needed = if memlock_exempt {
        GLOMMIO_MIN_MEMLOCK
    } else {
        needs.memlock()
    };
    let memlock_soft = memlock.soft.max(memlock.hard);
    let nofile_needed = needs.nofile();
    let nofile_soft = if nofile.soft >= nofile_needed {
        nofile.soft
    } else {
        nofile_needed.min(nofile.hard)
    };

    let memlock_short = (memlock_soft < memlock_needed).then_some(Shortfall {
        limit: memlock_soft,
        needed: memlock_needed,
    });
    let nofile_short = (nofile_soft < nofile_needed).then_some(Shortfall {
        limit: nofile_soft,
        needed: nofile_needed,
    });
    if memlock_short.is_some() || nofile_short.is_some() {
        return Err(StartupError::LimitsTooLow {
            memlock: memlock_short,
            nofile: nofile_short,
            shards: needs.shards,
            maxclients: needs.maxclients,
        });
    }
    Ok(LimitReport {
        memlock: LimitChange {
            before: memlock,
            soft: memlock_soft,
            needed: memlock_needed,
        },
        nofile: LimitChange {
            before: nofile,
            soft: nofile_soft,
            needed: nofile_needed,
        },
        memlock_exempt,
    })
}

/// Raises this process's RLIMIT_MEMLOCK and RLIMIT_NOFILE soft limits toward
/// their hard limits and checks they cover `needs`. Call before any shard
/// starts; on error, print the message and exit.
pub fn ensure_limits(needs: &Needs) -> Result<LimitReport, StartupError> {
    let memlock = get_rlimit(Resource::Memlock)?;
    let nofile = get_rlimit(Resource::Nofile)?;
    let report = plan_limits(needs, memlock, nofile, memlock_exempt())?;
    if report.memlock.raised() {
        set_soft(Resource::Memlock, report.memlock.soft, memlock.hard)?;
    }
    if report.nofile.raised() {
        set_soft(Resource::Nofile, report.nofile.soft, nofile.hard)?;
    }
    Ok(report)
}

/// True when io_uring will not charge this process's pinned memory to
/// RLIMIT_MEMLOCK: CAP_IPC_LOCK is effective and we are in the initial user
/// namespace (the kernel checks the capability there, so CAP_IPC_LOCK inside
/// a rootless container's namespace does not count). Unknown reads as false.
pub fn memlock_exempt() -> bool {
    const CAP_IPC_LOCK: u32 = 14;
    let has_cap = sys::self_status_field("CapEff")
        .and_then(|hex| u64::from_str_radix(&hex, 16).ok())
        .is_some_and(|caps| caps & (1 << CAP_IPC_LOCK) != 0);
    has_cap && in_initial_user_namespace()
}

/// The initial user namespace maps every uid to itself: `0 0 4294967295`.
fn in_initial_user_namespace() -> bool {
    std::fs::read_to_string("/proc/self/uid_map").is_ok_and(|map| {
        let fields: Vec<&str> = map.split_whitespace().collect();
        fields == ["0", "0", "4294967295"]
    })
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Resource {
    Memlock,
    Nofile,
}

impl Resource {
    fn name(self) -> &'static str {
        match self {
            Resource::Memlock => "RLIMIT_MEMLOCK",
            Resource::Nofile => "RLIMIT_NOFILE",
        }
    }
}

// rlim_t is u64 on every 64-bit Linux target, and RLIM_INFINITY is u64::MAX,
// so the values pass through unconverted.
pub(crate) fn get_rlimit(resource: Resource) -> Result<Rlimit, StartupError> {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit into `r`, which we own.
    let ret = unsafe {
        match resource {
            Resource::Memlock => libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut r),
            Resource::Nofile => libc::getrlimit(libc::RLIMIT_NOFILE, &mut r),
        }
    };
    if ret != 0 {
        return Err(StartupError::Rlimit {
            call: "getrlimit",
            resource: resource.name(),
            errno: sys::last_errno(),
        });
    }
    Ok(Rlimit {
        soft: r.rlim_cur,
        hard: r.rlim_max,
    })
}

fn set_soft(resource: Resource, soft: u64, hard: u64) -> Result<(), StartupError> {
    let r = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: setrlimit only reads `r`.
    let ret = unsafe {
        match resource {
            Resource::Memlock => libc::setrlimit(libc::RLIMIT_MEMLOCK, &r),
            Resource::Nofile => libc::setrlimit(libc::RLIMIT_NOFILE, &r),
        }
    };
    if ret != 0 {
        return Err(StartupError::Rlimit {
            call: "setrlimit",
            resource: resource.name(),
            errno: sys::last_errno(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    fn needs(shards: usize, maxclients: usize, memlock_per_shard: u64) -> Needs {
        Needs {
            shards,
            maxclients,
            memlock_per_shard,
        }
    }

    fn lim(soft: u64, hard: u64) -> Rlimit {
        Rlimit { soft, hard }
    }

    #[test]
    fn needs_arithmetic() {
        let n = needs(4, 10_000, 10 * MIB);
        assert_eq!(n.memlock(), 40 * MIB);
        assert_eq!(n.nofile(), 10_000 + 4 * 32 + 64);
        // glommio's own floor applies to tiny configurations.
        assert_eq!(needs(1, 0, 0).memlock(), GLOMMIO_MIN_MEMLOCK);
        // No overflow on absurd input.
        assert_eq!(needs(usize::MAX, usize::MAX, u64::MAX).memlock(), u64::MAX);
        assert_eq!(needs(usize::MAX, usize::MAX, 0).nofile(), u64::MAX);
    }

    #[test]
    fn glommio_pool_is_charged_per_ring() {
        assert_eq!(
            glommio_memlock_per_shard(GLOMMIO_DEFAULT_IO_MEMORY),
            30 * MIB + RING_MEMLOCK_ALLOWANCE
        );
        // Rounded up to 4 KiB, at least 64 KiB.
        assert_eq!(
            glommio_memlock_per_shard(1),
            3 * (64 << 10) + RING_MEMLOCK_ALLOWANCE
        );
        assert_eq!(
            glommio_memlock_per_shard((1 << 20) + 1),
            3 * ((1 << 20) + 4096) + RING_MEMLOCK_ALLOWANCE
        );
    }

    #[test]
    fn enough_raises_memlock_to_hard_and_nofile_to_need() {
        let n = needs(2, 1000, MIB);
        let r = plan_limits(&n, lim(MIB, 64 * MIB), lim(1024, 1 << 20), false).unwrap();
        assert_eq!(r.memlock.soft, 64 * MIB);
        assert!(r.memlock.raised());
        assert_eq!(r.memlock.needed, 2 * MIB);
        assert_eq!(r.nofile.soft, 1000 + 64 + 64);
        assert!(r.nofile.raised());
    }

    #[test]
    fn never_lowers_and_keeps_infinity() {
        let n = needs(2, 1000, MIB);
        let r = plan_limits(&n, lim(u64::MAX, u64::MAX), lim(50_000, 50_000), false).unwrap();
        assert_eq!(r.memlock.soft, u64::MAX);
        assert!(!r.memlock.raised());
        assert_eq!(r.nofile.soft, 50_000);
        assert!(!r.nofile.raised());
        let shown = r.to_string();
        assert!(
            shown.starts_with("memlock unlimited (hard unlimited, need 2 MiB)"),
            "{shown}"
        );
    }

    #[test]
    fn memlock_short_even_at_hard_limit() {
        let n = needs(4, 100, 10 * MIB);
        let e = plan_limits(&n, lim(8 * MIB, 8 * MIB), lim(20_000, 20_000), false).unwrap_err();
        assert_eq!(
            e,
            StartupError::LimitsTooLow {
                memlock: Some(Shortfall {
                    limit: 8 * MIB,
                    needed: 40 * MIB
                }),
                nofile: None,
                shards: 4,
                maxclients: 100,
            }
        );
        assert!(e
            .to_string()
            .starts_with("RLIMIT_MEMLOCK is 8 MiB but 4 shards need 40 MiB"));
    }

    #[test]
    fn nofile_short_names_the_hard_limit() {
        let n = needs(2, 10_000, MIB);
        let e = plan_limits(&n, lim(64 * MIB, 64 * MIB), lim(1024, 4096), false).unwrap_err();
        let StartupError::LimitsTooLow {
            memlock: None,
            nofile: Some(short),
            ..
        } = e
        else {
            panic!("{e:?}");
        };
        assert_eq!(
            short,
            Shortfall {
                limit: 4096,
                needed: 10_128
            }
        );
        assert!(e.to_string().contains("`ulimit -n 10128`"));
    }

    #[test]
    fn both_short_are_reported_together() {
        let n = needs(8, 10_000, 30 * MIB);
        let e = plan_limits(&n, lim(8 * MIB, 8 * MIB), lim(1024, 1024), false).unwrap_err();
        assert!(matches!(
            e,
            StartupError::LimitsTooLow {
                memlock: Some(_),
                nofile: Some(_),
                ..
            }
        ));
    }

    #[test]
    fn cap_ipc_lock_only_needs_glommios_floor() {
        let n = needs(64, 100, 30 * MIB);
        let r = plan_limits(&n, lim(8 * MIB, 8 * MIB), lim(4096, 4096), true).unwrap();
        assert_eq!(r.memlock.needed, GLOMMIO_MIN_MEMLOCK);
        assert!(r.to_string().contains("CAP_IPC_LOCK"));
        let e = plan_limits(&n, lim(64 << 10, 64 << 10), lim(4096, 4096), true).unwrap_err();
        assert!(e
            .to_string()
            .starts_with("RLIMIT_MEMLOCK is 64 KiB but 64 shards need 512 KiB"));
    }

    #[test]
    fn ensure_limits_on_this_host() {
        // Small needs fit any sane host; afterwards the soft limits cover them.
        let small = needs(1, 100, 64 << 10);
        let report = ensure_limits(&small).expect("small needs fit");
        let memlock = get_rlimit(Resource::Memlock).unwrap();
        let nofile = get_rlimit(Resource::Nofile).unwrap();
        assert_eq!(memlock.soft, memlock.hard);
        assert!(nofile.soft >= small.nofile());
        assert_eq!(report.nofile.soft, nofile.soft);

        // Needs beyond any hard limit fail with the one-line message, unless
        // CAP_IPC_LOCK lifts the memlock charge.
        let huge = needs(4, usize::MAX / 2, 1 << 40);
        let e = ensure_limits(&huge).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("RLIMIT_NOFILE"), "{msg}");
        let memlock_short = !memlock_exempt() && memlock.hard < huge.memlock();
        assert_eq!(msg.contains("RLIMIT_MEMLOCK"), memlock_short, "{msg}");
    }
}
