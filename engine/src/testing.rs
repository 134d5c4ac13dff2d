//! A harness that runs commands against one in-memory shard, for unit tests:
//! `h.run(&["SET", "k", "v"])` returns the decoded reply. Time is injected:
//! `h.advance(ms)` moves the shard's clock without sleeping.

use crate::args::OwnedArgs;
use crate::cmd;
use crate::reply::Out;
use crate::shard::Shard;
use crate::spec::Registry;
use std::rc::Rc;

#[derive(Debug, Clone, PartialEq)]
pub enum R {
    Simple(String),
    Err(String),
    Int(i64),
    Bulk(Vec<u8>),
    Nil,
    Arr(Vec<R>),
    Double(String),
    Bool(bool),
}

impl R {
    pub fn bulk(s: &str) -> R {
        R::Bulk(s.as_bytes().to_vec())
    }
    pub fn ok() -> R {
        R::Simple("OK".into())
    }
    pub fn is_err(&self) -> bool {
        matches!(self, R::Err(_))
    }
}

pub struct Harness {
    pub shard: Shard,
    pub db: usize,
    pub resp3: bool,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    pub fn new() -> Self {
        let registry = Rc::new(Registry::new(&cmd::tables()));
        let mut shard = Shard::new(0, 1, 16, registry);
        shard.now_ms = 1_700_000_000_000;
        shard.conf.debug_enabled = true;
        #[cfg(test)]
        shard.mem.set_meter(Box::new(|| counting::held() as i64));
        Harness {
            shard,
            db: 0,
            resp3: false,
        }
    }

    /// Runs one command and returns its raw reply bytes.
    pub fn raw(&mut self, parts: &[&str]) -> Vec<u8> {
        let owned = OwnedArgs::from_slices(parts);
        let args = owned.args();
        let mut out = Out::new(self.resp3);
        match self.shard.registry.lookup(args.get(0)) {
            None => out.error(&cmd::unknown_command(&args).to_string()),
            Some(id) if !self.shard.registry.spec(id).arity_ok(args.len()) => {
                out.error(&cmd::arity_error(args.get(0)).to_string())
            }
            Some(id) => cmd::execute(&mut self.shard, self.db, id, &args, &mut out),
        }
        out.flatten();
        out.buf
    }

    pub fn run(&mut self, parts: &[&str]) -> R {
        let raw = self.raw(parts);
        let (r, used) = parse(&raw).expect("complete reply");
        assert_eq!(used, raw.len(), "one reply per command");
        r
    }

    pub fn advance(&mut self, ms: u64) {
        self.shard.now_ms += ms;
    }
}

fn line(b: &[u8]) -> Option<(&str, usize)> {
    let end = b.windows(2).position(|w| w == b"\r\n")?;
    Some((std::str::from_utf8(&b[1..end]).ok()?, end + 2))
}

/// Decodes one RESP2/RESP3 reply; returns it and the bytes used.
pub fn parse(b: &[u8]) -> Option<(R, usize)> {
    let (text, mut used) = line(b)?;
    let r = match b[0] {
        b'+' => R::Simple(text.into()),
        b'-' => R::Err(text.into()),
        b':' => R::Int(text.parse().ok()?),
        b',' => R::Double(text.into()),
        b'#' => R::Bool(text == "t"),
        b'_' => R::Nil,
        b'$' | b'=' => {
            let n: i64 = text.parse().ok()?;
            if n < 0 {
                R::Nil
            } else {
                let body = b.get(used..used + n as usize)?.to_vec();
                used += n as usize + 2;
                R::Bulk(body)
            }
        }
        b'*' | b'%' | b'~' => {
            let mut n: i64 = text.parse().ok()?;
            if n < 0 {
                return Some((R::Nil, used));
            }
            if b[0] == b'%' {
                n *= 2;
            }
            let mut items = Vec::new();
            for _ in 0..n {
                let (item, u) = parse(&b[used..])?;
                used += u;
                items.push(item);
            }
            R::Arr(items)
        }
        _ => return None,
    };
    Some((r, used))
}

/// The engine's own tests count what each thread holds, as jemalloc's
/// per-thread counters do in the server, so memory limits can be tested
/// with real figures (each test runs on a thread of its own).
#[cfg(test)]
pub mod counting {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    thread_local! {
        static HELD: Cell<i64> = const { Cell::new(0) };
    }

    fn add(n: i64) {
        // A thread being torn down has no counter left; nothing reads it then.
        let _ = HELD.try_with(|h| h.set(h.get() + n));
    }

    /// Bytes this thread holds (allocated minus freed).
    pub fn held() -> u64 {
        HELD.with(|h| h.get()).max(0) as u64
    }

    pub struct Counting;

    // SAFETY: every call is passed to the system allocator unchanged; the
    // counter is a const-initialised thread-local that never allocates.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, l: Layout) -> *mut u8 {
            // SAFETY: the caller's contract, passed on.
            let p = unsafe { System.alloc(l) };
            if !p.is_null() {
                add(l.size() as i64);
            }
            p
        }

        unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
            // SAFETY: as above.
            let p = unsafe { System.alloc_zeroed(l) };
            if !p.is_null() {
                add(l.size() as i64);
            }
            p
        }

        unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
            // SAFETY: as above.
            unsafe { System.dealloc(p, l) };
            add(-(l.size() as i64));
        }

        unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
            // SAFETY: as above.
            let q = unsafe { System.realloc(p, l, new) };
            if !q.is_null() {
                add(new as i64 - l.size() as i64);
            }
            q
        }
    }
}
