//! The x87 80-bit `long double`, in software, for INCRBYFLOAT.
//!
//! Redis parses with `strtold`, adds in `long double` (a 64-bit significand)
//! and stores `printf("%.17Lf")` less its trailing zeros. Its replies show
//! the extra precision: 0.1 + 0.2 is "0.3" and 1000.1 is
//! "1000.09999999999999998", where an `f64` would give "0.30000000000000004"
//! and "1000.10000000000002274". So the three steps are done here exactly,
//! with big integers, and rounded the way the FPU and glibc round: to
//! nearest, ties to even.

use std::cmp::Ordering;
use std::fmt::Write;

/// Exponent of the last significand bit of the smallest normal and of every
/// subnormal (2^-16382 is 2^63 × 2^-16445).
const MIN_EXP: i64 = -16445;
/// Exponent of the last significand bit of the largest finite value.
const MAX_EXP: i64 = 16320;
/// Redis reads at most this many characters as a long double.
const MAX_CHARS: usize = 5 * 1024;
/// Decimal magnitudes past which a value is surely infinite, or rounds to zero.
const MAX_DECIMAL_EXP: i64 = 4933;
const MIN_DECIMAL_EXP: i64 = -4951;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LongDouble {
    /// `mant × 2^exp`, negated when `neg`; zero when `mant` is 0.
    Finite {
        neg: bool,
        mant: u64,
        exp: i64,
    },
    Inf {
        neg: bool,
    },
}

impl LongDouble {
    pub const ZERO: LongDouble = zero(false);

    pub fn from_i64(n: i64) -> LongDouble {
        round(n < 0, &Big::from(n.unsigned_abs() as u128), 0, false)
    }

    /// Reads a number as Redis's string2ld does: `strtold` over the whole
    /// string (decimal, hex with a `p` exponent, `inf`/`infinity`), no
    /// leading space, no NaN, and nothing that overflows or that is not zero
    /// but rounds to zero.
    pub fn parse(s: &[u8]) -> Option<LongDouble> {
        if s.len() >= MAX_CHARS {
            return None;
        }
        let (neg, body) = match s.first()? {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
            return Some(LongDouble::Inf { neg });
        }
        let (radix, body) = match body {
            [b'0', x, rest @ ..] if x | 0x20 == b'x' && !rest.is_empty() => (16, rest),
            _ => (10, body),
        };
        let (digits, ndigits, frac, used) = read_digits(body, radix)?;
        let exp = read_exponent(&body[used..], if radix == 16 { b'p' } else { b'e' })?;
        if digits.is_zero() {
            return Some(zero(neg));
        }
        let v = if radix == 16 {
            round(neg, &digits, exp - 4 * frac, false)
        } else {
            from_decimal(neg, digits, ndigits, exp - frac)
        };
        match v {
            LongDouble::Finite { mant: 0, .. } | LongDouble::Inf { .. } => None,
            v => Some(v),
        }
    }

    /// `self + other` rounded as the FPU rounds; None when NaN or infinite.
    pub fn add(self, other: LongDouble) -> Option<LongDouble> {
        let (
            LongDouble::Finite {
                neg: an,
                mant: am,
                exp: ae,
            },
            LongDouble::Finite {
                neg: bn,
                mant: bm,
                exp: be,
            },
        ) = (self, other)
        else {
            return None;
        };
        if am == 0 || bm == 0 {
            let neg = if am == 0 && bm == 0 { an && bn } else { false };
            return Some(match (am, bm) {
                (0, 0) => zero(neg),
                (0, _) => other,
                _ => self,
            });
        }
        let ((hn, hm, he), (ln, mut lm, mut le)) = if ae >= be {
            ((an, am, ae), (bn, bm, be))
        } else {
            ((bn, bm, be), (an, am, ae))
        };
        // An addend wholly below the rounding bit of the larger one (which is
        // then normal, its top bit set) only decides which way to round:
        // a single bit far down stands in for it and keeps the sum small.
        if he - le > 80 {
            (lm, le) = (1, he - 80);
        }
        let mut hi = Big::from(hm as u128);
        hi.shl(he - le);
        let lo = Big::from(lm as u128);
        let neg = if hn == ln {
            hi.add(&lo);
            hn
        } else if hi.cmp(&lo) != Ordering::Less {
            hi.sub(&lo);
            hn
        } else {
            let mut diff = lo;
            diff.sub(&hi);
            hi = diff;
            ln
        };
        // x - x is +0 when rounding to nearest.
        let sum = round(neg && !hi.is_zero(), &hi, le, false);
        matches!(sum, LongDouble::Finite { .. }).then_some(sum)
    }

    /// Redis's LD_STR_HUMAN: "%.17Lf" less trailing zeros (and a bare "."),
    /// with "-0" written "0".
    pub fn to_human(self) -> String {
        let (neg, mant, exp) = match self {
            LongDouble::Finite { neg, mant, exp } => (neg, mant, exp),
            LongDouble::Inf { neg } => return if neg { "-inf" } else { "inf" }.into(),
        };
        let mut n = Big::from(mant as u128);
        n.mul_pow10(17);
        let n = if exp >= 0 {
            n.shl(exp);
            n
        } else {
            shr_round(&n, -exp, false)
        };
        let digits = format!("{:0>18}", n.to_decimal());
        let (int, frac) = digits.split_at(digits.len() - 17);
        let frac = frac.trim_end_matches('0');
        let sign = if neg && (int != "0" || !frac.is_empty()) {
            "-"
        } else {
            ""
        };
        match frac {
            "" => format!("{sign}{int}"),
            _ => format!("{sign}{int}.{frac}"),
        }
    }
}

const fn zero(neg: bool) -> LongDouble {
    LongDouble::Finite {
        neg,
        mant: 0,
        exp: 0,
    }
}

/// Reads digits in `radix` with at most one '.'; returns them as an integer,
/// how many there are from the first non-zero one, how many follow the '.',
/// and the bytes used. None without a single digit.
fn read_digits(s: &[u8], radix: u32) -> Option<(Big, i64, i64, usize)> {
    let (mut n, mut ndigits, mut frac) = (Big::default(), 0, 0);
    let (mut dot, mut any) = (false, false);
    let mut used = 0;
    for &c in s {
        if c == b'.' && !dot {
            dot = true;
        } else if let Some(d) = (c as char).to_digit(radix) {
            any = true;
            if d != 0 || !n.is_zero() {
                n.mul_add(radix, d);
                ndigits += 1;
            }
            frac += dot as i64;
        } else {
            break;
        }
        used += 1;
    }
    any.then_some((n, ndigits, frac, used))
}

/// Reads what follows the digits: nothing, or `marker` ('e' or 'p', any
/// case), an optional sign and digits. Anything else refuses the number.
/// Exponents are capped: far past any finite value they all mean the same.
fn read_exponent(s: &[u8], marker: u8) -> Option<i64> {
    let Some((&m, rest)) = s.split_first() else {
        return Some(0);
    };
    if m | 0x20 != marker {
        return None;
    }
    let (neg, digits) = match rest.first() {
        Some(b'-') => (true, &rest[1..]),
        Some(b'+') => (false, &rest[1..]),
        _ => (false, rest),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let e = digits
        .iter()
        .fold(0i64, |e, d| (e * 10 + (d - b'0') as i64).min(1 << 40));
    Some(if neg { -e } else { e })
}

/// Rounds `n × 10^e10` (n has `ndigits` digits) to the nearest long double.
fn from_decimal(neg: bool, mut n: Big, ndigits: i64, e10: i64) -> LongDouble {
    if ndigits + e10 > MAX_DECIMAL_EXP {
        return LongDouble::Inf { neg };
    }
    if ndigits + e10 < MIN_DECIMAL_EXP {
        return zero(neg);
    }
    if e10 >= 0 {
        n.mul_pow10(e10 as u64);
        return round(neg, &n, 0, false);
    }
    // n / 10^-e10, scaled by 2^k so the quotient has 66 or 67 bits: the
    // significand, the rounding bit and one more; the remainder is sticky.
    let mut p = Big::from(1);
    p.mul_pow10(e10.unsigned_abs());
    let k = p.bit_len() + 66 - n.bit_len();
    if k > 0 {
        n.shl(k);
    } else {
        p.shl(-k);
    }
    p.shl(66);
    let mut q = 0u128;
    for bit in (0..=66).rev() {
        if n.cmp(&p) != Ordering::Less {
            n.sub(&p);
            q |= 1 << bit;
        }
        p.shr(1);
    }
    round(neg, &Big::from(q), -k, !n.is_zero())
}

/// Rounds `n × 2^scale` (plus a sliver below n's last bit when `sticky`) to
/// the nearest long double, ties to even, subnormals and overflow included.
/// Callers with `sticky` give at least two bits more than the significand.
fn round(neg: bool, n: &Big, scale: i64, sticky: bool) -> LongDouble {
    let len = n.bit_len();
    if len == 0 {
        return zero(neg);
    }
    let mut exp = (len + scale - 64).max(MIN_EXP);
    let drop = exp - scale;
    let kept = if drop < 0 {
        let mut k = n.clone();
        k.shl(-drop);
        k
    } else {
        shr_round(n, drop, sticky)
    };
    let mut mant = kept.low_u128();
    if mant >> 64 != 0 {
        // Rounding carried into a 65th bit.
        mant >>= 1;
        exp += 1;
    }
    if exp > MAX_EXP {
        return LongDouble::Inf { neg };
    }
    LongDouble::Finite {
        neg,
        mant: mant as u64,
        exp,
    }
}

/// `n / 2^s` rounded to nearest, ties to even; `sticky` marks a nonzero
/// remainder below n itself.
fn shr_round(n: &Big, s: i64, sticky: bool) -> Big {
    let mut q = n.clone();
    q.shr(s);
    let half = s > 0 && n.bit(s - 1);
    if half && (sticky || n.any_below(s - 1) || q.bit(0)) {
        q.add(&Big::from(1));
    }
    q
}

/// An unsigned integer of any size, little-endian 32-bit limbs, no zero limb
/// on top: just enough arithmetic for exact conversions.
#[derive(Clone, Default, PartialEq, Eq, Debug)]
struct Big(Vec<u32>);

impl From<u128> for Big {
    fn from(mut v: u128) -> Big {
        let mut limbs = Vec::new();
        while v != 0 {
            limbs.push(v as u32);
            v >>= 32;
        }
        Big(limbs)
    }
}

impl Big {
    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    fn bit_len(&self) -> i64 {
        self.0.last().map_or(0, |top| {
            (self.0.len() * 32) as i64 - top.leading_zeros() as i64
        })
    }

    fn bit(&self, i: i64) -> bool {
        self.0
            .get((i / 32) as usize)
            .is_some_and(|l| (l >> (i % 32)) & 1 == 1)
    }

    /// Whether any bit below bit `i` is set.
    fn any_below(&self, i: i64) -> bool {
        let (whole, part) = ((i / 32) as usize, (i % 32) as u32);
        self.0.iter().take(whole).any(|&l| l != 0)
            || (part > 0 && self.0.get(whole).is_some_and(|&l| l << (32 - part) != 0))
    }

    fn low_u128(&self) -> u128 {
        self.0
            .iter()
            .take(4)
            .rev()
            .fold(0, |acc, &l| (acc << 32) | l as u128)
    }

    fn shl(&mut self, n: i64) {
        if self.is_zero() {
            return;
        }
        let (limbs, bits) = ((n / 32) as usize, (n % 32) as u32);
        if bits > 0 {
            let mut carry = 0;
            for l in &mut self.0 {
                let v = ((*l as u64) << bits) | carry;
                *l = v as u32;
                carry = v >> 32;
            }
            if carry > 0 {
                self.0.push(carry as u32);
            }
        }
        let mut shifted = vec![0; limbs];
        shifted.extend_from_slice(&self.0);
        self.0 = shifted;
    }

    fn shr(&mut self, n: i64) {
        let (limbs, bits) = ((n / 32) as usize, (n % 32) as u32);
        self.0.drain(..limbs.min(self.0.len()));
        if bits > 0 {
            for i in 0..self.0.len() {
                let hi = self.0.get(i + 1).copied().unwrap_or(0) as u64;
                self.0[i] = (((hi << 32) | self.0[i] as u64) >> bits) as u32;
            }
        }
        self.trim();
    }

    /// `self × m + a`.
    fn mul_add(&mut self, m: u32, a: u32) {
        let mut carry = a as u64;
        for l in &mut self.0 {
            let v = *l as u64 * m as u64 + carry;
            *l = v as u32;
            carry = v >> 32;
        }
        if carry > 0 {
            self.0.push(carry as u32);
        }
    }

    fn mul_pow10(&mut self, mut n: u64) {
        while n > 0 {
            let step = n.min(9);
            self.mul_add(10u32.pow(step as u32), 0);
            n -= step;
        }
    }

    fn add(&mut self, other: &Big) {
        if self.0.len() < other.0.len() {
            self.0.resize(other.0.len(), 0);
        }
        let mut carry = 0;
        for (i, l) in self.0.iter_mut().enumerate() {
            let v = *l as u64 + other.0.get(i).copied().unwrap_or(0) as u64 + carry;
            *l = v as u32;
            carry = v >> 32;
        }
        if carry > 0 {
            self.0.push(carry as u32);
        }
    }

    /// `self - other`, for `self >= other`.
    fn sub(&mut self, other: &Big) {
        let mut borrow = 0;
        for (i, l) in self.0.iter_mut().enumerate() {
            let v = *l as i64 - other.0.get(i).copied().unwrap_or(0) as i64 - borrow;
            borrow = (v < 0) as i64;
            *l = (v + (borrow << 32)) as u32;
        }
        self.trim();
    }

    fn cmp(&self, other: &Big) -> Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
    }

    fn to_decimal(&self) -> String {
        let mut n = self.clone();
        let mut chunks = Vec::new();
        while !n.is_zero() {
            let mut rem = 0u64;
            for l in n.0.iter_mut().rev() {
                let v = (rem << 32) | *l as u64;
                *l = (v / 1_000_000_000) as u32;
                rem = v % 1_000_000_000;
            }
            n.trim();
            chunks.push(rem);
        }
        let mut s = chunks.pop().unwrap_or(0).to_string();
        for c in chunks.iter().rev() {
            let _ = write!(s, "{c:09}");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::LongDouble;

    fn sum(a: &str, b: &str) -> String {
        let a = LongDouble::parse(a.as_bytes()).expect("a parses");
        let b = LongDouble::parse(b.as_bytes()).expect("b parses");
        a.add(b).expect("finite").to_human()
    }

    #[test]
    fn adds_prints_and_parses_like_redis() {
        // Each expected text is what redis-server 7.0 (x86-64) replied.
        for (a, b, want) in [
            // The extra precision of long double.
            ("0.1", "0.2", "0.3"),
            ("0", "1000.1", "1000.09999999999999998"),
            ("10.5", "0.1", "10.6"),
            ("0", "123456789.123456789", "123456789.12345678899873747"),
            ("0", "18446744073709551617", "18446744073709551616"),
            ("9223372036854775807", "1", "9223372036854775808"),
            ("17179869184", "1.5", "17179869185.5"),
            ("1", "-1.1", "-0.1"),
            // Fixed notation with 17 decimals, ties to even, no "-0".
            ("0", "0.000003814697265625", "0.00000381469726562"),
            ("0", "0.000011444091796875", "0.00001144409179688"),
            ("0", "-1e-30", "0"),
            ("-0", "-0", "0"),
            ("0", "1e-20", "0"),
            // strtold's forms.
            ("0", "0x10", "16"),
            ("0", "0x1p-3", "0.125"),
            ("0", "0x.8", "0.5"),
            ("0", ".5", "0.5"),
            ("0", "5.", "5"),
            ("0", "+3", "3"),
            ("0", "1E+2", "100"),
            ("0", "3.6e-4951", "0"),
        ] {
            assert_eq!(sum(a, b), want, "{a} + {b}");
        }
        let big = sum("0", "1e400");
        assert!(big.starts_with("10000000000000000000281880683947586514586453433629"));
        assert_eq!(big.len(), 401);
    }

    #[test]
    fn refuses_what_strtold_refuses_or_overflows() {
        for bad in [
            "", "1e", "0x", " 1", "1 ", "nan", "1e-5000", "1e5000", "1e-4951", "1\x002", "--1",
        ] {
            assert_eq!(LongDouble::parse(bad.as_bytes()), None, "{bad:?}");
        }
        assert_eq!(
            LongDouble::parse(b"-Infinity"),
            Some(LongDouble::Inf { neg: true })
        );
        let inf = LongDouble::parse(b"inf").unwrap();
        assert_eq!(LongDouble::ZERO.add(inf), None);
        let max = LongDouble::parse(b"1.18e4932").unwrap();
        assert_eq!(max.add(max), None);
    }
}
