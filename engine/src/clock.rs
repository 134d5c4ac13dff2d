//! A cheap monotonic tick counter for per-command timing (commandstats).
//!
//! Every command is timed, so the clock read sits on the hot path: the
//! CPU's own counter (TSC on x86-64, the virtual counter on aarch64) costs a
//! few cycles where `clock_gettime` costs tens of nanoseconds. Ticks become
//! microseconds through a rate measured against `Instant` over the process's
//! lifetime so far, so no start-up calibration sleep is needed. Other
//! architectures use `Instant` (one tick = one nanosecond).

use std::time::Instant;

#[inline]
pub fn ticks() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: RDTSC has no preconditions; every x86-64 CPU has it.
        unsafe { core::arch::x86_64::_rdtsc() }
    }
    #[cfg(target_arch = "aarch64")]
    {
        let v: u64;
        // SAFETY: CNTVCT_EL0 is readable from EL0 on Linux.
        unsafe { core::arch::asm!("mrs {}, cntvct_el0", out(reg) v, options(nomem, nostack)) };
        v
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        use std::sync::OnceLock;
        static START: OnceLock<Instant> = OnceLock::new();
        START.get_or_init(Instant::now).elapsed().as_nanos() as u64
    }
}

/// Converts ticks to microseconds, calibrated since it was created.
#[derive(Clone, Copy, Debug)]
pub struct TickRate {
    start_ticks: u64,
    start: Instant,
}

impl Default for TickRate {
    fn default() -> Self {
        TickRate {
            start_ticks: ticks(),
            start: Instant::now(),
        }
    }
}

impl TickRate {
    pub fn to_usec(&self, t: u64) -> u64 {
        let ns = self.start.elapsed().as_nanos();
        let dt = ticks().saturating_sub(self.start_ticks) as u128;
        if ns < 1_000_000 || dt == 0 {
            // Too early to calibrate well: assume 1 GHz.
            return t / 1000;
        }
        (t as u128 * ns / dt / 1000) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_advance_and_convert() {
        let rate = TickRate::default();
        let t0 = ticks();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let t1 = ticks();
        assert!(t1 > t0);
        let us = rate.to_usec(t1 - t0);
        assert!((15_000..200_000).contains(&us), "{us} µs for a 20 ms sleep");
    }
}
