//! Small readers for /proc, /sys and uname that never panic.
//!
//! Containers hide or omit much of /proc and /sys, so every reader returns a
//! `Result` whose error text names the path; the caller decides whether an
//! absent file is a warning or simply "not limited".

use std::io;

/// Reads a whole pseudo-file and trims surrounding whitespace (sysfs ends lines
/// with `\n`). The error names the path, ready to go into a report line.
pub(crate) fn read_trimmed(path: &str) -> Result<String, String> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(s.trim().to_string()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(format!("{path} is absent")),
        Err(e) => Err(format!("cannot read {path}: {e}")),
    }
}

/// Reads a pseudo-file holding one unsigned integer (a sysctl, say).
pub(crate) fn read_u64(path: &str) -> Result<u64, String> {
    let s = read_trimmed(path)?;
    s.parse()
        .map_err(|_| format!("{path} holds {s:?}, not a number"))
}

/// The value of one `Name:\tvalue` field of /proc/self/status.
pub(crate) fn self_status_field(name: &str) -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key == name).then(|| value.trim().to_string())
    })
}

/// True when a seccomp filter is installed on this process (`Seccomp: 2`).
/// A filter is how container runtimes refuse io_uring, so it tells an EPERM
/// from a sandbox apart from other causes. `None` when the field is hidden.
pub(crate) fn seccomp_filtered() -> Option<bool> {
    self_status_field("Seccomp").map(|mode| mode == "2")
}

/// `kernel.io_uring_disabled` (Linux 6.6+): 0 allowed, 1 only for
/// `kernel.io_uring_group` members and CAP_SYS_ADMIN, 2 refused to everyone.
/// `None` on older kernels, where the sysctl does not exist.
pub(crate) fn io_uring_disabled() -> Option<u64> {
    read_u64("/proc/sys/kernel/io_uring_disabled").ok()
}

/// The kernel release string from uname(2), e.g. `6.8.0-45-generic`.
pub(crate) fn kernel_release() -> Option<String> {
    // SAFETY: utsname is plain old data; uname fills it and returns 0 on success.
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut uts) } != 0 {
        return None;
    }
    // SAFETY: the kernel NUL-terminates every utsname field (and the zeroed
    // buffer guarantees a terminator regardless).
    let release = unsafe { std::ffi::CStr::from_ptr(uts.release.as_ptr()) };
    Some(release.to_string_lossy().into_owned())
}

/// `(major, minor)` from a release such as `5.15.0-91-generic` or `6.1-rc3`.
pub(crate) fn parse_kernel_version(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// Symbolic name for the errnos the start-up checks talk about.
pub(crate) fn errno_name(errno: i32) -> String {
    let name = match errno {
        libc::EPERM => "EPERM",
        libc::ENOSYS => "ENOSYS",
        libc::ENOMEM => "ENOMEM",
        libc::EINVAL => "EINVAL",
        libc::EFAULT => "EFAULT",
        libc::EMFILE => "EMFILE",
        libc::EACCES => "EACCES",
        _ => return format!("errno {errno} ({})", io::Error::from_raw_os_error(errno)),
    };
    name.to_string()
}

/// The errno of the last failed libc call.
pub(crate) fn last_errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Byte counts for messages: `unlimited`, `512 KiB`, `8 MiB`, `2 GiB`, rounded
/// up so a requirement is never understated.
pub(crate) fn fmt_bytes(bytes: u64) -> String {
    const KIB: u64 = 1 << 10;
    const MIB: u64 = 1 << 20;
    const GIB: u64 = 1 << 30;
    match bytes {
        u64::MAX => "unlimited".to_string(),
        b if b >= 64 * GIB && b % GIB == 0 => format!("{} GiB", b / GIB),
        b if b >= MIB => format!("{} MiB", b.div_ceil(MIB)),
        b if b >= KIB => format!("{} KiB", b.div_ceil(KIB)),
        b => format!("{b} B"),
    }
}

/// A limit for messages: `unlimited` or the number.
pub(crate) fn fmt_count(n: u64) -> String {
    if n == u64::MAX {
        "unlimited".to_string()
    } else {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_versions() {
        assert_eq!(parse_kernel_version("6.18.44-fc-v669"), Some((6, 18)));
        assert_eq!(parse_kernel_version("5.4.0-150-generic"), Some((5, 4)));
        assert_eq!(parse_kernel_version("6.1-rc3"), Some((6, 1)));
        assert_eq!(parse_kernel_version("garbage"), None);
        let here = kernel_release().expect("uname works");
        assert!(parse_kernel_version(&here).is_some(), "{here}");
    }

    #[test]
    fn bytes_round_up() {
        assert_eq!(fmt_bytes(8 << 20), "8 MiB");
        assert_eq!(fmt_bytes((8 << 20) + 1), "9 MiB");
        assert_eq!(fmt_bytes(512 << 10), "512 KiB");
        assert_eq!(fmt_bytes(u64::MAX), "unlimited");
        assert_eq!(fmt_bytes(100), "100 B");
    }

    #[test]
    fn absent_files_are_errors_not_panics() {
        let err = read_trimmed("/nonexistent/ringcache").unwrap_err();
        assert!(err.contains("/nonexistent/ringcache is absent"), "{err}");
        assert!(read_u64("/proc/self/status").is_err());
    }
}
