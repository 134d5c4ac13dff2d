//! CPU lists: the kernel's `0,2-3` syntax (sysfs, `taskset -c`, `--cpus`) and
//! the set of CPUs this process may run on.

use crate::sys;

/// Highest CPU number accepted in a list. Linux's NR_CPUS tops out at 8192;
/// the cap only stops `0-4000000000` from allocating a huge vector.
pub const MAX_CPU: usize = 65_535;

/// Parses a CPU list such as `0,2-3` (the format of `--cpus`, `taskset -c` and
/// /sys/devices/system/cpu/online). Whitespace around items is ignored; the
/// result is sorted and free of duplicates. An empty list is an error: a server
/// with no CPU to run on is a configuration mistake, not a default.
pub fn parse_cpu_list(s: &str) -> Result<Vec<usize>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty CPU list: expected something like 0,2-3".to_string());
    }
    let mut cpus = Vec::new();
    for item in s.split(',') {
        let item = item.trim();
        let (lo, hi) = match item.split_once('-') {
            Some((lo, hi)) => (parse_cpu(lo, item)?, parse_cpu(hi, item)?),
            None => {
                let cpu = parse_cpu(item, item)?;
                (cpu, cpu)
            }
        };
        if lo > hi {
            return Err(format!(
                "CPU range {item:?} runs backwards: write it as {hi}-{lo}"
            ));
        }
        cpus.extend(lo..=hi);
    }
    cpus.sort_unstable();
    cpus.dedup();
    Ok(cpus)
}

fn parse_cpu(s: &str, item: &str) -> Result<usize, String> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "bad CPU list item {item:?}: expected a CPU number or a range like 2-5"
        ));
    }
    match s.parse::<usize>() {
        Ok(cpu) if cpu <= MAX_CPU => Ok(cpu),
        _ => Err(format!(
            "CPU {s} in {item:?} is out of range (max {MAX_CPU})"
        )),
    }
}

/// Formats CPUs back into the compact list syntax: `[0, 1, 2, 5]` → `0-2,5`.
/// The input need not be sorted.
pub fn format_cpu_list(cpus: &[usize]) -> String {
    let mut sorted = cpus.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = String::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}-{end}"));
        }
        i += 1;
    }
    out
}

/// CPUs the kernel has online (/sys/devices/system/cpu/online).
pub fn online_cpus() -> Result<Vec<usize>, String> {
    let path = "/sys/devices/system/cpu/online";
    let text = sys::read_trimmed(path)?;
    parse_cpu_list(&text).map_err(|e| format!("{path}: {e}"))
}

/// CPUs this process may run on: sched_getaffinity(2) of the calling thread,
/// which is what `taskset`, cpusets and `docker --cpuset-cpus` restrict. The
/// default shard count is this list's length.
///
/// Never empty: if the mask cannot be read (it always can on Linux), falls back
/// to the online CPUs, then to CPU 0.
pub fn allowed_cpus() -> Vec<usize> {
    affinity_mask()
        .or_else(|| online_cpus().ok())
        .filter(|cpus| !cpus.is_empty())
        .unwrap_or_else(|| vec![0])
}

/// Reads the affinity mask with the raw syscall and a growing buffer, so hosts
/// with more CPUs than `cpu_set_t` holds (1024) still work: the kernel answers
/// EINVAL while the buffer is smaller than its cpumask.
fn affinity_mask() -> Option<Vec<usize>> {
    const WORD_BITS: usize = u64::BITS as usize;
    let mut words = 1024 / WORD_BITS;
    while words * WORD_BITS <= MAX_CPU + 1 {
        let mut mask = vec![0u64; words];
        let bytes = words * std::mem::size_of::<u64>();
        // SAFETY: the kernel writes at most `bytes` bytes into `mask`, which
        // owns exactly that many. pid 0 means the calling thread.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_sched_getaffinity,
                0 as libc::pid_t,
                bytes,
                mask.as_mut_ptr(),
            )
        };
        if ret > 0 {
            // The return value is how many bytes the kernel filled in.
            let filled_words = (ret as usize).div_ceil(std::mem::size_of::<u64>());
            let cpus = mask[..filled_words.min(words)]
                .iter()
                .enumerate()
                .flat_map(|(w, &bits)| {
                    (0..WORD_BITS)
                        .filter(move |b| bits & (1u64 << b) != 0)
                        .map(move |b| w * WORD_BITS + b)
                })
                .collect();
            return Some(cpus);
        }
        if sys::last_errno() != libc::EINVAL {
            return None;
        }
        words *= 2;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_and_ranges() {
        assert_eq!(parse_cpu_list("0,2-3"), Ok(vec![0, 2, 3]));
        assert_eq!(parse_cpu_list("0-1\n"), Ok(vec![0, 1]));
        assert_eq!(parse_cpu_list("7"), Ok(vec![7]));
        assert_eq!(parse_cpu_list(" 3 , 1-2 ,1"), Ok(vec![1, 2, 3]));
        assert_eq!(parse_cpu_list("4-4"), Ok(vec![4]));
    }

    #[test]
    fn rejects_bad_lists_with_a_reason() {
        for (input, needle) in [
            ("", "empty CPU list"),
            ("   ", "empty CPU list"),
            ("a", "bad CPU list item \"a\""),
            ("0,,1", "bad CPU list item \"\""),
            ("1-", "bad CPU list item \"1-\""),
            ("-1", "bad CPU list item \"-1\""),
            ("3-1", "runs backwards"),
            ("0-15:2", "bad CPU list item"),
            ("+1", "bad CPU list item"),
            ("70000", "out of range"),
            ("0-99999999999999999999999", "out of range"),
        ] {
            let err = parse_cpu_list(input).unwrap_err();
            assert!(err.contains(needle), "{input:?} gave {err:?}");
        }
    }

    #[test]
    fn formats_back() {
        assert_eq!(format_cpu_list(&[0, 1, 2, 5]), "0-2,5");
        assert_eq!(format_cpu_list(&[5, 0, 1]), "0-1,5");
        assert_eq!(format_cpu_list(&[3]), "3");
        assert_eq!(format_cpu_list(&[]), "");
        for list in ["0", "0-3", "0,2-3,8-15,17"] {
            assert_eq!(format_cpu_list(&parse_cpu_list(list).unwrap()), list);
        }
    }

    #[test]
    fn allowed_is_nonempty_and_within_online() {
        let allowed = allowed_cpus();
        assert!(!allowed.is_empty());
        assert!(allowed.windows(2).all(|w| w[0] < w[1]));
        if let Ok(online) = online_cpus() {
            assert!(allowed.iter().all(|c| online.contains(c)), "{allowed:?}");
        }
        // std also reads the affinity mask, then caps it by any cgroup quota.
        let parallelism = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert!(allowed.len() >= parallelism);
    }
}
