//! ringcache's benchmarks. Nothing here is a test: the figures are read by
//! people and recorded in `RESULTS.md`.
//!
//! - `compare.sh`: ringcache against redis-server, same machine, same run.
//! - `benches/parser.rs`, `benches/table.rs`: criterion micro-benchmarks.
//! - `src/bin/insert_10m.rs`: the latency of every single insert up to 10 M keys.
//! - `src/bin/report/`: ops/s and p99.9 against pipeline depth and value size,
//!   as `report.md` and `report.png`.
//! - `conn_scale.sh`: 50, 500 and 5,000 concurrent memtier connections.
//! - `src/bin/remote_get.rs`: a GET routed to the other shard against a local one.
//!
//! This file holds what they share: the key and value shapes (the same as
//! `redis-benchmark -r` and `compare.sh`'s memory load) and RESP encoding.

/// Key length: `key:` and 12 digits, as `redis-benchmark -r` writes them.
pub const KEY_LEN: usize = 16;
/// Value length, as `redis-benchmark -d 100`.
pub const VALUE_LEN: usize = 100;

/// Key `i`: `key:%012d`.
pub fn key(i: u64) -> [u8; KEY_LEN] {
    let mut k = *b"key:000000000000";
    write_key(&mut k, i);
    k
}

/// Writes key `i` over a `KEY_LEN`-byte slot in place (no allocation).
pub fn write_key(slot: &mut [u8], i: u64) {
    let digits = &mut slot[4..KEY_LEN];
    let mut n = i;
    for d in digits.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
    assert_eq!(n, 0, "key index {i} needs more than 12 digits");
}

/// The value every benchmark stores: `VALUE_LEN` bytes of `v`.
pub const VALUE: [u8; VALUE_LEN] = [b'v'; VALUE_LEN];

/// Appends one command in RESP multibulk form, as clients send it.
pub fn push_command(buf: &mut Vec<u8>, parts: &[&[u8]]) {
    buf.extend_from_slice(format!("*{}\r\n", parts.len()).as_bytes());
    for p in parts {
        buf.extend_from_slice(format!("${}\r\n", p.len()).as_bytes());
        buf.extend_from_slice(p);
        buf.extend_from_slice(b"\r\n");
    }
}

/// utime + stime of process `pid` so far, in clock ticks (`/proc/PID/stat`
/// fields 14 and 15): the server CPU the load tools divide by requests.
pub fn process_cpu_ticks(pid: u32) -> Result<u64, String> {
    stat_cpu_ticks(&format!("/proc/{pid}/stat"))
}

/// utime + stime of thread `tid` of process `pid` so far, in clock ticks.
pub fn thread_cpu_ticks(pid: u32, tid: u32) -> Result<u64, String> {
    stat_cpu_ticks(&format!("/proc/{pid}/task/{tid}/stat"))
}

fn stat_cpu_ticks(path: &str) -> Result<u64, String> {
    let stat = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    // The command name (field 2) may hold spaces; fields after its ')' are fixed.
    let rest = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    // `rest` starts at field 3.
    match (tick(11), tick(12)) {
        (Some(u), Some(s)) => Ok(u + s),
        _ => Err(format!("{path}: unexpected format")),
    }
}

/// A pseudo-random index in `0..n` for step `i`, the same on every run.
/// Lookups in this order do not walk the table in insertion order, so they
/// pay the cache misses a real key mix pays.
pub fn scatter(i: u64, n: u64) -> u64 {
    // Fibonacci hashing: the top bits of i * 2^64/phi are well spread.
    ((i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) * n) >> 32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_the_redis_benchmark_shape() {
        assert_eq!(&key(0), b"key:000000000000");
        assert_eq!(&key(999_999_999_999), b"key:999999999999");
        assert_eq!(&key(1_234_567), b"key:000001234567");
    }

    #[test]
    fn commands_are_resp_multibulk() {
        let mut b = Vec::new();
        push_command(&mut b, &[b"GET", b"k"]);
        assert_eq!(b, b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
    }
}
