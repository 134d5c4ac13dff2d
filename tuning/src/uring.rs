//! Is io_uring usable by this process? Asked with the raw syscalls before any
//! glommio executor starts, because glommio reports an unusable ring with a
//! panic or `exit(1)` and a joke, and a container operator needs the cause.
//!
//! The probe creates a 4-entry ring, asks it which operations it supports
//! (IORING_REGISTER_PROBE, Linux 5.6+) and closes it. It does not mmap the
//! rings: creation and registration are the calls sandboxes refuse.

use crate::error::StartupError;
use crate::limits::{get_rlimit, Resource};
use crate::sys;

/// `struct io_sqring_offsets` from <linux/io_uring.h>.
#[allow(dead_code)] // fields exist for the kernel's layout
#[repr(C)]
#[derive(Default)]
struct SqRingOffsets {
    head: u32,
    tail: u32,
    ring_mask: u32,
    ring_entries: u32,
    flags: u32,
    dropped: u32,
    array: u32,
    resv1: u32,
    user_addr: u64,
}

/// `struct io_cqring_offsets` from <linux/io_uring.h>.
#[allow(dead_code)] // fields exist for the kernel's layout
#[repr(C)]
#[derive(Default)]
struct CqRingOffsets {
    head: u32,
    tail: u32,
    ring_mask: u32,
    ring_entries: u32,
    overflow: u32,
    cqes: u32,
    flags: u32,
    resv1: u32,
    user_addr: u64,
}

/// `struct io_uring_params`. Only fixed-width fields, so the layout is the
/// same on x86-64 and aarch64 (and every other Linux target).
#[allow(dead_code)] // fields exist for the kernel's layout
#[repr(C)]
#[derive(Default)]
struct IoUringParams {
    sq_entries: u32,
    cq_entries: u32,
    flags: u32,
    sq_thread_cpu: u32,
    sq_thread_idle: u32,
    features: u32,
    wq_fd: u32,
    resv: [u32; 3],
    sq_off: SqRingOffsets,
    cq_off: CqRingOffsets,
}

const _: () = assert!(std::mem::size_of::<IoUringParams>() == 120);

const IORING_REGISTER_PROBE: libc::c_uint = 8;
const IO_URING_OP_SUPPORTED: u16 = 1;
const PROBE_OPS: usize = 256;

/// `struct io_uring_probe_op`.
#[allow(dead_code)] // fields exist for the kernel's layout
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct ProbeOp {
    op: u8,
    resv: u8,
    flags: u16,
    resv2: u32,
}

/// `struct io_uring_probe` with room for every opcode. The kernel insists the
/// buffer arrives zeroed.
#[allow(dead_code)] // fields exist for the kernel's layout
#[repr(C)]
struct ProbeBuf {
    last_op: u8,
    ops_len: u8,
    resv: u16,
    resv2: [u32; 3],
    ops: [ProbeOp; PROBE_OPS],
}

const _: () = assert!(std::mem::size_of::<ProbeBuf>() == 16 + 8 * PROBE_OPS);

/// The operations glommio 0.9 checks at start-up (`GLOMMIO_URING_OPS`); it
/// exits the process if any is missing. Opcode numbers from <linux/io_uring.h>.
const GLOMMIO_OPS: &[(u8, &str)] = &[
    (0, "IORING_OP_NOP"),
    (1, "IORING_OP_READV"),
    (2, "IORING_OP_WRITEV"),
    (3, "IORING_OP_FSYNC"),
    (4, "IORING_OP_READ_FIXED"),
    (5, "IORING_OP_WRITE_FIXED"),
    (6, "IORING_OP_POLL_ADD"),
    (7, "IORING_OP_POLL_REMOVE"),
    (9, "IORING_OP_SENDMSG"),
    (10, "IORING_OP_RECVMSG"),
    (11, "IORING_OP_TIMEOUT"),
    (12, "IORING_OP_TIMEOUT_REMOVE"),
    (13, "IORING_OP_ACCEPT"),
    (15, "IORING_OP_LINK_TIMEOUT"),
    (16, "IORING_OP_CONNECT"),
    (17, "IORING_OP_FALLOCATE"),
    (18, "IORING_OP_OPENAT"),
    (19, "IORING_OP_CLOSE"),
    (21, "IORING_OP_STATX"),
    (22, "IORING_OP_READ"),
    (23, "IORING_OP_WRITE"),
    (26, "IORING_OP_SEND"),
    (27, "IORING_OP_RECV"),
];

/// `IORING_FEAT_*` bits worth naming in the host report, with the kernel that
/// introduced them.
pub(crate) const NOTABLE_FEATURES: &[(u32, &str)] = &[
    (1 << 5, "fast poll (5.7)"),
    (1 << 9, "native workers (5.12)"),
    (1 << 11, "CQE skip (5.17)"),
    (1 << 13, "registered ring fd (6.3)"),
];

/// glommio 0.9's documented minimum.
pub const MIN_KERNEL: (u32, u32) = (5, 8);

/// What a successful probe learned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RingInfo {
    /// `io_uring_params.features` as the kernel returned it.
    pub features: u32,
}

/// `io_uring_setup` flags the shards' socket rings ask for, best first
/// (`net/src/uring.rs`): SINGLE_ISSUER | DEFER_TASKRUN | TASKRUN_FLAG (6.1),
/// then COOP_TASKRUN | TASKRUN_FLAG (5.19), then none.
const SETUP_COOP_TASKRUN: u32 = 1 << 8;
const SETUP_TASKRUN_FLAG: u32 = 1 << 9;
const SETUP_SINGLE_ISSUER: u32 = 1 << 12;
const SETUP_DEFER_TASKRUN: u32 = 1 << 13;

/// How the socket rings will run on this kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketRingMode {
    DeferTaskrun,
    CoopTaskrun,
    Plain,
}

/// Which of the socket ring's set-ups this kernel accepts (`--check`
/// reports it: the fallbacks are silent at start-up and cost an IPI per
/// completion that arrives while a shard runs).
pub fn socket_ring_mode() -> SocketRingMode {
    let accepts = |flags: u32| {
        let mut params = IoUringParams {
            flags,
            ..Default::default()
        };
        // SAFETY: as in `probe`: one io_uring_params, the kernel's layout.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_io_uring_setup,
                4 as libc::c_uint,
                &mut params as *mut IoUringParams,
            )
        };
        if ret >= 0 {
            drop(RingFd(ret as libc::c_int));
        }
        ret >= 0
    };
    if accepts(SETUP_SINGLE_ISSUER | SETUP_DEFER_TASKRUN | SETUP_TASKRUN_FLAG) {
        SocketRingMode::DeferTaskrun
    } else if accepts(SETUP_COOP_TASKRUN | SETUP_TASKRUN_FLAG) {
        SocketRingMode::CoopTaskrun
    } else {
        SocketRingMode::Plain
    }
}

/// Checks that this process can create and use an io_uring ring, and that the
/// kernel is one glommio 0.9 supports. Errors name the cause and the fix:
/// kernel without io_uring, `kernel.io_uring_disabled`, a seccomp profile,
/// memlock exhaustion, or a kernel older than 5.8.
pub fn probe_io_uring() -> Result<(), StartupError> {
    probe().map(|_| ())
}

pub(crate) fn probe() -> Result<RingInfo, StartupError> {
    let kernel = sys::kernel_release().unwrap_or_else(|| "(unknown)".to_string());
    let mut params = IoUringParams::default();
    // SAFETY: io_uring_setup reads and writes one io_uring_params, which
    // `params` is, laid out as the kernel's struct (checked size above).
    let ret = unsafe {
        libc::syscall(
            libc::SYS_io_uring_setup,
            4 as libc::c_uint,
            &mut params as *mut IoUringParams,
        )
    };
    if ret < 0 {
        let errno = sys::last_errno();
        let memlock = get_rlimit(Resource::Memlock).map_or(0, |r| r.soft);
        return Err(classify_setup_error(
            errno,
            sys::io_uring_disabled(),
            sys::seccomp_filtered(),
            &kernel,
            memlock,
        ));
    }
    let ring = RingFd(ret as libc::c_int);

    let mut buf = ProbeBuf {
        last_op: 0,
        ops_len: 0,
        resv: 0,
        resv2: [0; 3],
        ops: [ProbeOp::default(); PROBE_OPS],
    };
    // SAFETY: the kernel fills at most `PROBE_OPS` entries of `buf.ops`.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_io_uring_register,
            ring.0,
            IORING_REGISTER_PROBE,
            &mut buf as *mut ProbeBuf,
            PROBE_OPS as libc::c_uint,
        )
    };
    drop(ring);
    if ret < 0 {
        let errno = sys::last_errno();
        return Err(match errno {
            // Kernels before 5.6 have no IORING_REGISTER_PROBE; glommio
            // panics on them.
            libc::EINVAL => StartupError::KernelTooOld {
                kernel,
                missing_ops: vec!["IORING_REGISTER_PROBE"],
            },
            libc::EPERM | libc::ENOSYS => StartupError::IoUringBlocked {
                syscall: "io_uring_register",
                errno,
                seccomp: sys::seccomp_filtered().unwrap_or(false),
            },
            _ => StartupError::IoUringFailed {
                syscall: "io_uring_register",
                errno,
            },
        });
    }
    let supported = |op: u8| {
        buf.ops
            .get(usize::from(op))
            .is_some_and(|o| op <= buf.last_op && o.flags & IO_URING_OP_SUPPORTED != 0)
    };
    let missing_ops: Vec<&'static str> = GLOMMIO_OPS
        .iter()
        .filter(|(op, _)| !supported(*op))
        .map(|&(_, name)| name)
        .collect();
    let too_old = sys::parse_kernel_version(&kernel).is_some_and(|v| v < MIN_KERNEL);
    if !missing_ops.is_empty() || too_old {
        return Err(StartupError::KernelTooOld {
            kernel,
            missing_ops,
        });
    }
    Ok(RingInfo {
        features: params.features,
    })
}

/// Turns io_uring_setup's errno into the error that names its cause. Pure, so
/// each sandbox can be tested without being in it.
fn classify_setup_error(
    errno: i32,
    io_uring_disabled: Option<u64>,
    seccomp: Option<bool>,
    kernel: &str,
    memlock: u64,
) -> StartupError {
    let has_io_uring = sys::parse_kernel_version(kernel).is_some_and(|v| v >= (5, 1));
    match errno {
        // A seccomp filter on a kernel that has io_uring: podman's and
        // runc's profiles answer ENOSYS for syscalls they do not list.
        libc::ENOSYS if seccomp == Some(true) && has_io_uring => StartupError::IoUringBlocked {
            syscall: "io_uring_setup",
            errno,
            seccomp: true,
        },
        libc::ENOSYS => StartupError::IoUringUnsupported {
            kernel: kernel.to_string(),
        },
        libc::EPERM => match io_uring_disabled {
            Some(sysctl @ (1 | 2)) => StartupError::IoUringDisabled { sysctl },
            _ => StartupError::IoUringBlocked {
                syscall: "io_uring_setup",
                errno,
                seccomp: seccomp.unwrap_or(false),
            },
        },
        libc::ENOMEM => StartupError::IoUringNoMemory { memlock },
        _ => StartupError::IoUringFailed {
            syscall: "io_uring_setup",
            errno,
        },
    }
}

/// Closes the probe ring on every path.
struct RingFd(libc::c_int);

impl Drop for RingFd {
    fn drop(&mut self) {
        // SAFETY: we own this descriptor and close it once.
        unsafe { libc::close(self.0) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_uring_works_here() {
        probe_io_uring().expect("io_uring is usable on the test host");
        let info = probe().unwrap();
        assert_ne!(info.features & 1, 0, "IORING_FEAT_SINGLE_MMAP since 5.4");
        // This machine's kernel (6.18) has DEFER_TASKRUN (6.1).
        assert_eq!(socket_ring_mode(), SocketRingMode::DeferTaskrun);
    }

    #[test]
    fn probe_does_not_leak_descriptors() {
        let count = || std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count());
        let before = count();
        for _ in 0..50 {
            probe().unwrap();
        }
        // Other tests run in parallel threads and may hold a few descriptors.
        assert!(count() < before + 20);
    }

    #[test]
    fn setup_errors_name_their_cause() {
        let k = "6.8.0";
        let classify =
            |errno, disabled, seccomp| classify_setup_error(errno, disabled, seccomp, k, 8 << 20);
        assert_eq!(
            classify(libc::EPERM, Some(2), Some(false)),
            StartupError::IoUringDisabled { sysctl: 2 }
        );
        assert_eq!(
            classify(libc::EPERM, Some(1), Some(true)),
            StartupError::IoUringDisabled { sysctl: 1 }
        );
        assert_eq!(
            classify(libc::EPERM, Some(0), Some(true)),
            StartupError::IoUringBlocked {
                syscall: "io_uring_setup",
                errno: libc::EPERM,
                seccomp: true
            }
        );
        assert!(matches!(
            classify(libc::EPERM, None, None),
            StartupError::IoUringBlocked { seccomp: false, .. }
        ));
        assert!(matches!(
            classify(libc::ENOSYS, None, Some(true)),
            StartupError::IoUringBlocked { seccomp: true, .. }
        ));
        assert_eq!(
            classify(libc::ENOSYS, None, Some(false)),
            StartupError::IoUringUnsupported { kernel: k.into() }
        );
        assert_eq!(
            classify_setup_error(libc::ENOSYS, None, Some(true), "4.19.0", 0),
            StartupError::IoUringUnsupported {
                kernel: "4.19.0".into()
            }
        );
        assert_eq!(
            classify(libc::ENOMEM, Some(0), Some(false)),
            StartupError::IoUringNoMemory { memlock: 8 << 20 }
        );
        assert!(matches!(
            classify(libc::EFAULT, Some(0), Some(false)),
            StartupError::IoUringFailed { .. }
        ));
    }
}
