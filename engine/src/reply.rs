//! Reply encoding into a per-connection output buffer, RESP2 or RESP3.
//! Handlers write straight into the buffer: no reply value is built first.
//!
//! A large stored value (a refcounted buffer, 4 KiB or more) is not copied:
//! `bulk_shared` writes its header and trailer into `buf` and notes where the
//! value's bytes belong, and the connection sends `buf` and the values
//! together in one vectored write. `flatten` copies them in where a reply
//! must be plain bytes (a reply that crosses shards, a spliced batch).

use std::rc::Rc;

pub struct Out {
    pub buf: Vec<u8>,
    pub resp3: bool,
    /// Values to send from their own buffers: (offset in `buf` they go at, value),
    /// offsets in order.
    pub shared: Vec<(usize, Rc<[u8]>)>,
}

impl Out {
    pub fn new(resp3: bool) -> Self {
        Out::reusing(Vec::with_capacity(256), resp3)
    }

    /// A reply written into `buf`'s memory (emptied first).
    pub fn reusing(mut buf: Vec<u8>, resp3: bool) -> Self {
        buf.clear();
        Out {
            buf,
            resp3,
            shared: Vec::new(),
        }
    }

    /// Bytes of the reply so far, shared values included.
    pub fn len(&self) -> usize {
        self.buf.len() + self.shared.iter().map(|(_, v)| v.len()).sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty() && self.shared.is_empty()
    }

    /// Drops everything written after `mark` (a `buf.len()` taken earlier).
    pub fn truncate(&mut self, mark: usize) {
        self.buf.truncate(mark);
        while self.shared.last().is_some_and(|(at, _)| *at >= mark) {
            self.shared.pop();
        }
    }

    /// Copies every shared value into `buf`, leaving plain bytes.
    #[inline]
    pub fn flatten(&mut self) {
        if !self.shared.is_empty() {
            self.copy_shared_in();
        }
    }

    fn copy_shared_in(&mut self) {
        let extra: usize = self.shared.iter().map(|(_, v)| v.len()).sum();
        let mut flat = Vec::with_capacity(self.buf.len() + extra);
        let mut prev = 0;
        for (at, v) in self.shared.drain(..) {
            flat.extend_from_slice(&self.buf[prev..at]);
            flat.extend_from_slice(&v);
            prev = at;
        }
        flat.extend_from_slice(&self.buf[prev..]);
        self.buf = flat;
    }

    /// A bulk string sent from the value's own buffer (see the module doc).
    pub fn bulk_shared(&mut self, v: Rc<[u8]>) {
        self.header(b'$', v.len() as i64);
        self.shared.push((self.buf.len(), v));
        self.buf.extend_from_slice(b"\r\n");
    }

    fn line(&mut self, prefix: u8, body: &[u8]) {
        self.buf.push(prefix);
        self.buf.extend_from_slice(body);
        self.buf.extend_from_slice(b"\r\n");
    }

    fn header(&mut self, prefix: u8, n: i64) {
        self.buf.push(prefix);
        self.buf
            .extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    pub fn simple(&mut self, s: &str) {
        self.line(b'+', s.as_bytes());
    }

    /// An error line; `text` is the full text after `-` (e.g. "ERR syntax error").
    pub fn error(&mut self, text: &str) {
        // A newline inside an error would break the protocol: Redis replaces them.
        let clean: String = text
            .chars()
            .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
            .collect();
        self.line(b'-', clean.as_bytes());
    }

    pub fn int(&mut self, n: i64) {
        self.header(b':', n);
    }

    pub fn bulk(&mut self, s: &[u8]) {
        self.header(b'$', s.len() as i64);
        self.buf.extend_from_slice(s);
        self.buf.extend_from_slice(b"\r\n");
    }

    pub fn bulk_str(&mut self, s: &str) {
        self.bulk(s.as_bytes());
    }

    pub fn bulk_int(&mut self, n: i64) {
        self.bulk(itoa::Buffer::new().format(n).as_bytes());
    }

    /// The null bulk string (`$-1` in RESP2, `_` in RESP3).
    pub fn null(&mut self) {
        if self.resp3 {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"$-1\r\n");
        }
    }

    /// The null array (`*-1` in RESP2, `_` in RESP3).
    pub fn null_array(&mut self) {
        if self.resp3 {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"*-1\r\n");
        }
    }

    pub fn array(&mut self, n: usize) {
        self.header(b'*', n as i64);
    }

    /// A map of `n` pairs (`%` in RESP3, a flat array of 2n in RESP2).
    pub fn map(&mut self, n: usize) {
        if self.resp3 {
            self.header(b'%', n as i64);
        } else {
            self.header(b'*', 2 * n as i64);
        }
    }

    /// A set (`~` in RESP3, an array in RESP2).
    pub fn set(&mut self, n: usize) {
        if self.resp3 {
            self.header(b'~', n as i64);
        } else {
            self.header(b'*', n as i64);
        }
    }

    /// A double: RESP3 `,`, RESP2 a bulk string, both in Redis's `%.17g` form.
    pub fn double(&mut self, d: f64) {
        let text = format_double(d);
        if self.resp3 {
            self.line(b',', text.as_bytes());
        } else {
            self.bulk(text.as_bytes());
        }
    }

    pub fn boolean(&mut self, b: bool) {
        if self.resp3 {
            self.buf
                .extend_from_slice(if b { b"#t\r\n" } else { b"#f\r\n" });
        } else {
            self.int(b as i64);
        }
    }

    /// A verbatim string (`=` with a `txt:` format in RESP3, a bulk in RESP2).
    pub fn verbatim(&mut self, s: &[u8]) {
        if self.resp3 {
            self.header(b'=', s.len() as i64 + 4);
            self.buf.extend_from_slice(b"txt:");
            self.buf.extend_from_slice(s);
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(s);
        }
    }

    /// A HELP reply: one simple string per line.
    pub fn help(&mut self, lines: &[&str]) {
        self.array(lines.len());
        lines.iter().for_each(|l| self.simple(l));
    }

    /// Appends an already encoded reply.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }
}

/// Redis's `%.17g` for doubles in replies (`inf`, `-inf`, `nan` spelled as Redis does).
pub fn format_double(d: f64) -> String {
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if d.is_nan() {
        return "nan".into();
    }
    format_g(d, 17)
}

/// C's `%.{prec}g`.
pub fn format_g(d: f64, prec: usize) -> String {
    if d == 0.0 {
        return if d.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let exp = d.abs().log10().floor() as i32;
    // Format in scientific notation first to learn the exponent after rounding.
    let sci = format!("{:.*e}", prec - 1, d);
    let (mant, e) = sci.split_once('e').unwrap();
    let e: i32 = e.parse().unwrap_or(exp);
    if e < -4 || e >= prec as i32 {
        let mant = trim_zeros(mant);
        let sign = if e < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", e.abs())
    } else {
        let decimals = (prec as i32 - 1 - e).max(0) as usize;
        trim_zeros(&format!("{:.*}", decimals, d)).to_string()
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_read_like_printf_g() {
        assert_eq!(format_g(1.5, 17), "1.5");
        assert_eq!(format_g(10.0, 17), "10");
        assert_eq!(format_g(0.1, 17), "0.10000000000000001");
        assert_eq!(format_g(1e20, 17), "1e+20");
        assert_eq!(format_g(1.25e-5, 17), "1.2500000000000001e-05");
        assert_eq!(format_double(f64::INFINITY), "inf");
    }

    #[test]
    fn shared_values_are_spliced_in_by_flatten_and_dropped_by_truncate() {
        let mut o = Out::new(false);
        o.ok();
        o.bulk_shared(Rc::from(&b"hello"[..]));
        let mark = o.buf.len();
        o.bulk_shared(Rc::from(&b"later"[..]));
        assert_eq!(o.len(), o.buf.len() + 10);
        o.truncate(mark);
        assert_eq!(o.shared.len(), 1);
        o.int(7);
        o.flatten();
        assert!(o.shared.is_empty());
        assert_eq!(o.buf, b"+OK\r\n$5\r\nhello\r\n:7\r\n");
    }

    #[test]
    fn resp2_and_resp3_shapes() {
        let mut o = Out::new(false);
        o.null();
        o.map(1);
        o.boolean(true);
        assert_eq!(o.buf, b"$-1\r\n*2\r\n:1\r\n");
        let mut o = Out::new(true);
        o.null();
        o.map(1);
        o.boolean(true);
        assert_eq!(o.buf, b"_\r\n%1\r\n#t\r\n");
    }
}
