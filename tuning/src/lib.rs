//! Host checks and limits, run before any shard starts.
//!
//! Synchronous and glommio-free on purpose: these checks must work on hosts
//! where glommio cannot start, to say why it cannot.
//!
//! ```text
//! main ─┬─ parse --cpus ........... cpus::parse_cpu_list / allowed_cpus
//!       ├─ probe_io_uring() ....... kernel, io_uring_disabled, seccomp, ops
//!       ├─ ensure_limits(&needs) .. raise soft RLIMIT_MEMLOCK / NOFILE, or
//!       │                           one-line StartupError naming the fix
//!       └─ start shards           (--check prints check_report() instead)
//! ```
//!
//! Every error's `Display` is a single line naming the cause and the fix; the
//! binary prints it and exits non-zero. Linux only (see linux-only.md).

mod check;
mod cpus;
mod error;
mod limits;
mod sys;
mod uring;

pub use check::{check_report, check_report_for, CheckLine, Status};
pub use cpus::{allowed_cpus, format_cpu_list, online_cpus, parse_cpu_list, MAX_CPU};
pub use error::{Shortfall, StartupError};
pub use limits::{
    ensure_limits, glommio_memlock_per_shard, memlock_exempt, plan_limits, LimitChange,
    LimitReport, Needs, Rlimit, DEFAULT_MAXCLIENTS, GLOMMIO_DEFAULT_IO_MEMORY, GLOMMIO_MIN_MEMLOCK,
    GLOMMIO_RINGS_PER_SHARD, NOFILE_PER_SHARD, NOFILE_SLACK, RING_MEMLOCK_ALLOWANCE,
};
pub use uring::{probe_io_uring, MIN_KERNEL};
