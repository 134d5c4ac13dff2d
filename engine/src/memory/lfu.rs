//! Redis's LFU counter, kept in an entry's 24 clock bits while an LFU policy
//! is set:
//!
//! ```text
//!   [ last decrement time, minutes mod 2^16 (16) | log counter (8) ]
//! ```
//!
//! The counter grows logarithmically (the more hits it has, the less likely
//! the next one adds to it: `lfu-log-factor`) and loses one per
//! `lfu-decay-time` minutes without access. A new key starts at 5, so it is
//! not evicted before it had a chance to be read.

/// A new key's counter (Redis's LFU_INIT_VAL).
pub const INIT: u32 = 5;

/// What decides how a counter moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LfuConf {
    pub log_factor: u32,
    /// Minutes per decrement; 0 never decays.
    pub decay_time: u32,
}

impl Default for LfuConf {
    fn default() -> Self {
        LfuConf {
            log_factor: 10,
            decay_time: 1,
        }
    }
}

/// The minutes clock, 16 bits, at `now_ms`.
#[inline]
pub fn minutes(now_ms: u64) -> u32 {
    ((now_ms / 60_000) & 0xFFFF) as u32
}

/// Minutes from `then` to `now` across one wrap of the 16-bit clock.
fn elapsed(then: u32, now: u32) -> u32 {
    if now >= then {
        now - then
    } else {
        0xFFFF - then + now
    }
}

/// The counter of clock bits `bits`, decayed to `now_min` (Redis's
/// LFUDecrAndReturn): what OBJECT FREQ shows and what eviction compares.
pub fn decayed(bits: u32, now_min: u32, conf: LfuConf) -> u32 {
    let (ldt, counter) = (bits >> 8, bits & 0xFF);
    let periods = match conf.decay_time {
        0 => 0,
        d => elapsed(ldt, now_min) / d,
    };
    counter.saturating_sub(periods)
}

/// The clock bits of a key just created.
pub fn fresh(now_min: u32) -> u32 {
    (now_min << 8) | INIT
}

/// The clock bits after one access: decayed, then maybe one more, with
/// probability 1 / ((counter - INIT) * log_factor + 1); `rand` is uniform.
pub fn touched(bits: u32, now_min: u32, conf: LfuConf, rand: u64) -> u32 {
    let mut counter = decayed(bits, now_min, conf);
    if counter < 255 {
        let base = counter.saturating_sub(INIT) as f64;
        let p = 1.0 / (base * conf.log_factor as f64 + 1.0);
        // The top 53 bits as a fraction in [0, 1).
        let r = (rand >> 11) as f64 / (1u64 << 53) as f64;
        if r < p {
            counter += 1;
        }
    }
    (now_min << 8) | counter
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counter_decays_one_per_period_and_never_below_zero() {
        let conf = LfuConf::default();
        let bits = (100 << 8) | 7;
        assert_eq!(decayed(bits, 100, conf), 7);
        assert_eq!(decayed(bits, 103, conf), 4);
        assert_eq!(decayed(bits, 200, conf), 0);
        let slow = LfuConf {
            decay_time: 10,
            ..conf
        };
        assert_eq!(decayed(bits, 125, slow), 5);
        let never = LfuConf {
            decay_time: 0,
            ..conf
        };
        assert_eq!(decayed(bits, 60_000, never), 7);
        // Across the wrap of the 16-bit clock.
        assert_eq!(decayed((0xFFFE << 8) | 9, 2, conf), 6);
    }

    #[test]
    fn a_counter_grows_logarithmically() {
        let conf = LfuConf::default();
        // Below INIT every hit counts.
        assert_eq!(touched(0, 0, conf, u64::MAX) & 0xFF, 1);
        // Past it, the odds fall: with r just under 1/11 a counter of 6 grows...
        let r = (u64::MAX / 11) - (1 << 12);
        assert_eq!(touched(6, 0, conf, r) & 0xFF, 7);
        // ...and with r just over it does not.
        assert_eq!(touched(6, 0, conf, u64::MAX / 10) & 0xFF, 6);
        assert_eq!(touched(255, 0, conf, 0) & 0xFF, 255);
        // Many hits with a real generator: Redis's table gives 142 for 100k
        // hits at factor 10 (about 5 + sqrt(hits / 5)).
        let mut bits = fresh(0);
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            bits = touched(bits, 0, conf, x);
        }
        let c = bits & 0xFF;
        assert!((125..=165).contains(&c), "100k hits gave counter {c}");
    }
}
