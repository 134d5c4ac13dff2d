//! A key with its value, expiry and LRU clock in ONE allocation, held
//! through an 8-byte handle that a table slot stores as is.
//!
//! ```text
//!   Entry (8 bytes)                         block (see block.rs)
//!   [tag hi 16 | address 45 | tag lo 3] ──▶ [header 8][expire 8]?[desc][key][value]
//! ```
//!
//! Why: a GET used to miss the cache twice, once on a 64-byte table bucket
//! and once on the value's own allocation. Now the table's slots are 8
//! bytes (100 k keys take ~1.3 MB, inside L2) and the slot's tag filters
//! probes without touching the block, so a GET misses once: on the block,
//! where the key and a value under 4 KiB sit side by side. A 16-byte key
//! and a 100-byte value take 124 bytes, one 128-byte jemalloc class.
//!
//! Strings keep Redis's encodings: an integer (`int`), bytes as written
//! (`embstr` up to 44 bytes, `raw` past that), a string edited in place
//! (APPEND, SETRANGE, SETBIT: `raw`, with spare room to grow into), and a
//! value of 4 KiB or more in its own `Rc<[u8]>` (`raw`), which a reply can
//! hand to the socket without copying.
//!
//! A hash or a set keeps its `types::Coll` (40 bytes) in the block where a
//! string keeps its descriptor: a small collection is the block plus its
//! one compact buffer. Under a 16-byte key the block is 64 bytes, one
//! jemalloc class; a hash of ten 6-byte fields and values adds a 140-byte
//! buffer, a set of ten small integers a 20-byte one (tests.rs checks both).
//! A list's `Coll` is a box (its deque and length would not fit in 40
//! bytes): block, box and one 8 KiB-bounded buffer per node. Moving a block
//! (a TTL added, RENAME) moves the `Coll` bitwise with it, which Rust
//! allows of any value; COPY clones it.
//!
//! The tag is the table's (bits of the key's hash); every method that
//! moves the block to a new allocation keeps it.

mod block;

use crate::types::Coll;
use crate::value::{StrVal, Value};
use block::{
    alloc_block, free_block, read_shape, read_u64, realloc_block, write_u64, Kind, Shape, HEADER,
    LRU_MASK,
};
use std::marker::PhantomData;
use std::num::NonZeroU64;
use std::ptr::NonNull;
use std::rc::Rc;

/// Values of at least this many bytes get their own refcounted buffer.
pub const SHARED_MIN: usize = 4096;
/// Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT: a longer string reads as `raw`.
const EMBSTR_MAX: usize = 44;

/// Bits of tag an entry carries: 16 above the address, 3 below it (blocks
/// are 8-aligned).
pub const TAG_BITS: u32 = 19;
const ADDR_MASK: u64 = 0x0000_FFFF_FFFF_FFF8;

pub struct Entry {
    bits: NonZeroU64,
    /// Owns a block that may own an `Rc`: neither Send nor Sync.
    _owns: PhantomData<Rc<[u8]>>,
}

impl Entry {
    /// A new entry (tag 0 until a table sets it). `expire_at` is absolute
    /// Unix ms, 0 for none; `lru` the LRU (or LFU) clock's 24 bits.
    /// A collection given as a `Value` is cloned (see `new_coll` to move one in).
    pub fn new(key: &[u8], val: Value<'_>, expire_at: u64, lru: u32) -> Entry {
        let s = match val {
            Value::Str(s) => s,
            coll => {
                let coll = coll.to_coll().expect("not a string: a collection");
                return Entry::new_coll(key, coll, expire_at, lru);
            }
        };
        let (kind, vlen) = kind_of(s);
        let shape = Shape {
            kind,
            ttl: expire_at != 0,
            klen: key.len(),
            vlen,
        };
        let mut e = Entry::wrap(alloc_block(&shape), 0);
        let buf = e.bytes_mut(shape.size());
        write_fields(buf, &shape, s, expire_at, lru);
        buf[shape.key_at()..shape.val_at()].copy_from_slice(key);
        e
    }

    /// A new entry holding a collection (see `new` for the rest).
    pub fn new_coll(key: &[u8], coll: Coll, expire_at: u64, lru: u32) -> Entry {
        let shape = Shape {
            kind: Kind::Coll,
            ttl: expire_at != 0,
            klen: key.len(),
            vlen: 0,
        };
        let mut e = Entry::wrap(alloc_block(&shape), 0);
        let buf = e.bytes_mut(shape.size());
        shape.write_header(buf, lru);
        if shape.ttl {
            write_u64(buf, shape.ttl_at(), expire_at);
        }
        buf[shape.key_at()..shape.val_at()].copy_from_slice(key);
        // SAFETY: the block is ours and `coll_ptr` points inside it at
        // COLL_DESC bytes, 8-aligned (see block.rs), which hold no value
        // yet: writing without dropping is right.
        unsafe { e.coll_ptr(&shape).write(coll) };
        e
    }

    /// Where a collection's `Coll` lies in the block (shape kind Coll).
    fn coll_ptr(&self, shape: &Shape) -> *mut Coll {
        debug_assert_eq!(shape.kind, Kind::Coll);
        self.ptr().as_ptr().wrapping_add(shape.desc_at()).cast()
    }

    /// The collection this entry holds, to change in place; None for a string.
    pub fn coll_mut(&mut self) -> Option<&mut Coll> {
        let shape = self.shape();
        if shape.kind != Kind::Coll {
            return None;
        }
        // SAFETY: a Coll block holds a live, aligned `Coll` at `coll_ptr`,
        // owned by the block; `&mut self` makes this borrow the only one.
        Some(unsafe { &mut *self.coll_ptr(&shape) })
    }

    fn coll(&self, shape: &Shape) -> &Coll {
        // SAFETY: as in `coll_mut`, shared: `&self` keeps it unchanged.
        unsafe { &*self.coll_ptr(shape) }
    }

    fn wrap(ptr: NonNull<u8>, tag: u32) -> Entry {
        let addr = ptr.as_ptr() as u64;
        assert!(
            addr & !ADDR_MASK == 0,
            "heap address {addr:#x} above 48 bits or not 8-aligned"
        );
        let mut e = Entry {
            bits: NonZeroU64::new(addr).expect("a block's address is not null"),
            _owns: PhantomData,
        };
        e.set_tag(tag);
        e
    }

    /// The tag a table stored with this entry.
    #[inline]
    pub(crate) fn tag(&self) -> u32 {
        let b = self.bits.get();
        (((b >> 48) << 3) | (b & 7)) as u32
    }

    #[inline]
    pub(crate) fn set_tag(&mut self, tag: u32) {
        debug_assert!(tag < 1 << TAG_BITS);
        let tag = tag as u64;
        let bits = (self.bits.get() & ADDR_MASK) | ((tag >> 3) << 48) | (tag & 7);
        self.bits = NonZeroU64::new(bits).expect("the address part is not null");
    }

    #[inline]
    fn ptr(&self) -> NonNull<u8> {
        // The address came from a NonNull allocation and was exposed by the
        // `as u64` cast in `wrap`.
        NonNull::new((self.bits.get() & ADDR_MASK) as usize as *mut u8)
            .expect("the address part is not null")
    }

    /// Points the entry at a new block, keeping its tag.
    fn set_ptr(&mut self, ptr: NonNull<u8>) {
        let tag = self.tag();
        let addr = ptr.as_ptr() as u64;
        assert!(
            addr & !ADDR_MASK == 0,
            "heap address {addr:#x} out of range"
        );
        self.bits = NonZeroU64::new(addr).expect("a block's address is not null");
        self.set_tag(tag);
    }

    /// Asks the CPU to start loading the block's first line: a split reads
    /// thousands of keys, and issuing the loads ahead overlaps their misses.
    #[inline]
    pub(crate) fn prefetch(&self) {
        prefetch_line(self.ptr().as_ptr());
    }

    /// Asks the CPU to start loading the block's first two lines: a read
    /// needs the key (first line) and the value, which for a 100-byte
    /// value in a 128-byte block ends in the second. Measured, GET P16 of
    /// 100-byte values: with the first line alone, the reply's copy of the
    /// value (memmove) was 12% of the server's CPU, waiting for the second.
    #[inline]
    pub(crate) fn prefetch_block(&self) {
        let p = self.ptr().as_ptr();
        prefetch_line(p);
        prefetch_line(p.wrapping_add(64));
    }

    /// For a value kept in its own buffer, starts loading the buffer's
    /// first line, where its reference count sits: a GET takes a count,
    /// which is otherwise one more miss per large value, after the block's.
    #[inline]
    pub(crate) fn prefetch_shared(&self) {
        let shape = self.shape();
        if shape.kind == Kind::Shared {
            let (data, _) = shared_parts(self.bytes(shape.used()), &shape);
            // The counts sit just before the data, in the same or the
            // previous line.
            prefetch_line(data.wrapping_sub(16));
        }
    }

    #[inline]
    fn shape(&self) -> Shape {
        // SAFETY: the entry owns a live block whose header is always written.
        unsafe { read_shape(self.ptr()) }
    }

    /// The block's first `len` bytes (`len` at most the shape's size).
    #[inline]
    fn bytes(&self, len: usize) -> &[u8] {
        // SAFETY: the entry owns the block, at least `len` bytes long (callers
        // pass a size read from its header) and all initialised (zero-filled
        // at allocation, then written); `&self` keeps it alive and unchanged
        // for the borrow.
        unsafe { std::slice::from_raw_parts(self.ptr().as_ptr(), len) }
    }

    #[inline]
    fn bytes_mut(&mut self, len: usize) -> &mut [u8] {
        // SAFETY: as in `bytes`; `&mut self` makes the borrow unique.
        unsafe { std::slice::from_raw_parts_mut(self.ptr().as_ptr(), len) }
    }

    fn meta(&self) -> u32 {
        u32::from_le_bytes(self.bytes(4).try_into().expect("4 bytes"))
    }

    #[inline]
    pub fn key(&self) -> &[u8] {
        let shape = self.shape();
        &self.bytes(shape.val_at())[shape.key_at()..]
    }

    /// The value, borrowed: an integer, the bytes, or a collection.
    #[inline]
    pub fn value(&self) -> Value<'_> {
        let shape = self.shape();
        let buf = self.bytes(shape.used());
        Value::Str(match shape.kind {
            Kind::Coll => {
                return match self.coll(&shape) {
                    Coll::Hash(h) => Value::Hash(h),
                    Coll::Set(s) => Value::Set(s),
                    Coll::List(l) => Value::List(l),
                    Coll::Zset(z) => Value::Zset(z),
                }
            }
            Kind::Int => StrVal::Int(read_u64(buf, shape.desc_at()) as i64),
            Kind::Embed | Kind::Grow => StrVal::Bytes(&buf[shape.val_at()..]),
            Kind::Shared => {
                let (data, len) = shared_parts(buf, &shape);
                // SAFETY: the block holds one strong count of this `Rc<[u8]>`
                // (see `shared_parts`), so its bytes live as long as `&self`.
                StrVal::Bytes(unsafe { std::slice::from_raw_parts(data, len) })
            }
        })
    }

    pub fn type_name(&self) -> &'static str {
        self.value().type_name()
    }

    /// OBJECT ENCODING's name for how the value is stored.
    pub fn encoding(&self) -> &'static str {
        let shape = self.shape();
        match shape.kind {
            Kind::Coll => self.coll(&shape).encoding(),
            Kind::Int => "int",
            Kind::Embed if shape.vlen <= EMBSTR_MAX => "embstr",
            _ => "raw",
        }
    }

    /// Absolute expiry in Unix ms; 0 when the key has none.
    #[inline]
    pub fn expire_at(&self) -> u64 {
        let shape = self.shape();
        if shape.ttl {
            read_u64(self.bytes(HEADER + 8), shape.ttl_at())
        } else {
            0
        }
    }

    /// Sets or (with 0) removes the expiry. Adding or removing one moves the
    /// entry to a block 8 bytes larger or smaller.
    pub fn set_expire_at(&mut self, at: u64) {
        let old = self.shape();
        if old.ttl == (at != 0) {
            if at != 0 {
                write_u64(self.bytes_mut(HEADER + 8), old.ttl_at(), at);
            }
            return;
        }
        let new = Shape {
            ttl: at != 0,
            ..old
        };
        let ptr = self.transplant(&old, &new, None, at, self.lru());
        // SAFETY: the old block is ours and the new one took over its
        // contents, the Rc of a Shared value included; it is freed once.
        unsafe { free_block(self.ptr(), &old) };
        self.set_ptr(ptr);
    }

    /// Last access on the LRU clock (or Redis's LFU layout): 24 bits.
    #[inline]
    pub fn lru(&self) -> u32 {
        self.meta() & LRU_MASK
    }

    #[inline]
    pub fn set_lru(&mut self, lru: u32) {
        let meta = (self.meta() & !LRU_MASK) | (lru & LRU_MASK);
        self.bytes_mut(4).copy_from_slice(&meta.to_le_bytes());
    }

    /// Replaces value, expiry and LRU clock, as SET does to an existing key.
    /// When the key stays where it is in the block, the block is reused
    /// (resized in place when the allocator can): no free and malloc.
    pub fn reset(&mut self, val: Value<'_>, expire_at: u64, lru: u32) {
        let old = self.shape();
        let (kind, vlen, s) = match val {
            Value::Str(s) => {
                let (kind, vlen) = kind_of(s);
                (kind, vlen, s)
            }
            // Never in place: the new block is built whole, below.
            _ => (Kind::Coll, 0, StrVal::Int(0)),
        };
        let new = Shape {
            kind,
            ttl: expire_at != 0,
            vlen,
            ..old
        };
        if new.key_at() != old.key_at() || kind == Kind::Coll || old.kind == Kind::Coll {
            let mut fresh = Entry::new(self.key(), val, expire_at, lru);
            fresh.set_tag(self.tag());
            *self = fresh;
            return;
        }
        self.release_value(&old);
        // SAFETY: the block is ours, allocated with `old`'s size; only the
        // returned pointer is used from here on.
        let ptr = unsafe { realloc_block(self.ptr(), &old, &new) };
        self.set_ptr(ptr);
        write_fields(self.bytes_mut(new.size()), &new, s, expire_at, lru);
    }

    /// Replaces the value, keeping expiry and LRU clock (counters do this).
    pub fn set_value(&mut self, val: Value<'_>) {
        self.reset(val, self.expire_at(), self.lru());
    }

    /// The value as bytes to change in place, at least `min_len` long (grown
    /// with zeros). The value becomes `raw`, with room to grow into.
    /// Strings only: callers check the type first (a collection panics).
    pub fn edit(&mut self, min_len: usize) -> &mut [u8] {
        let old = self.shape();
        if old.kind == Kind::Grow {
            if min_len > old.vlen {
                self.grow(&old, min_len);
            }
        } else {
            let mut fresh = self.to_grow(&old, min_len);
            fresh.set_tag(self.tag());
            *self = fresh;
        }
        let shape = self.shape();
        &mut self.bytes_mut(shape.used())[shape.val_at()..]
    }

    /// A Grow block made longer: resized, its new bytes zeroed.
    fn grow(&mut self, old: &Shape, len: usize) {
        let new = Shape { vlen: len, ..*old };
        // SAFETY: the block is ours, allocated with `old`'s size; only the
        // returned pointer is used from here on.
        let ptr = unsafe { realloc_block(self.ptr(), old, &new) };
        self.set_ptr(ptr);
        let buf = self.bytes_mut(new.used());
        buf[old.used()..].fill(0);
        write_u64(buf, new.desc_at(), len as u64);
    }

    /// A Grow copy of this entry whose value is at least `min_len` long.
    fn to_grow(&self, old: &Shape, min_len: usize) -> Entry {
        let mut scratch = itoa::Buffer::new();
        let Value::Str(s) = self.value() else {
            panic!("edit() of a collection: callers check for a string first")
        };
        let bytes = s.as_bytes(&mut scratch);
        let new = Shape {
            kind: Kind::Grow,
            vlen: bytes.len().max(min_len),
            ..*old
        };
        let mut e = Entry::wrap(alloc_block(&new), 0);
        let buf = e.bytes_mut(new.size());
        new.write_header(buf, self.lru());
        if new.ttl {
            write_u64(buf, new.ttl_at(), self.expire_at());
        }
        write_u64(buf, new.desc_at(), new.vlen as u64);
        buf[new.key_at()..new.val_at()].copy_from_slice(self.key());
        buf[new.val_at()..new.val_at() + bytes.len()].copy_from_slice(bytes);
        e
    }

    /// The same value, expiry and LRU clock under another key (RENAME).
    pub fn with_key(self, key: &[u8]) -> Entry {
        let old = self.shape();
        let new = Shape {
            klen: key.len(),
            ..old
        };
        let ptr = self.transplant(&old, &new, Some(key), self.expire_at(), self.lru());
        let old_ptr = self.ptr();
        std::mem::forget(self);
        // SAFETY: the old block was ours; the new one took over its contents
        // (the Rc of a Shared value included), so it is freed without them.
        unsafe { free_block(old_ptr, &old) };
        Entry::wrap(ptr, 0)
    }

    /// A copy under another key, with the same encoding and expiry (COPY).
    /// A Shared value's buffer is shared, not copied: it is never written.
    pub fn duplicate(&self, key: &[u8], lru: u32) -> Entry {
        let old = self.shape();
        let new = Shape {
            klen: key.len(),
            ..old
        };
        let ptr = self.transplant(&old, &new, Some(key), self.expire_at(), lru);
        if old.kind == Kind::Shared {
            let (data, len) = shared_parts(self.bytes(old.used()), &old);
            // SAFETY: the parts are a live `Rc<[u8]>` this block holds; the
            // new block takes one more strong count of it.
            unsafe { Rc::increment_strong_count(std::ptr::slice_from_raw_parts(data, len)) };
        }
        let copy = Entry::wrap(ptr, 0);
        if old.kind == Kind::Coll {
            // SAFETY: the new block's descriptor holds a bitwise copy of
            // this entry's `Coll`, which it must not own (both would free
            // the same buffers): it is overwritten, not dropped, with a
            // clone of its own. The slot is aligned as in `new_coll`.
            unsafe { copy.coll_ptr(&new).write(self.coll(&old).clone()) };
        }
        copy
    }

    /// A new block of shape `new` holding this entry's descriptor and value
    /// (the bytes of a Shared value's `Rc` pointer too: the caller decides
    /// who owns it), with `key` or this entry's key.
    fn transplant(
        &self,
        old: &Shape,
        new: &Shape,
        key: Option<&[u8]>,
        expire_at: u64,
        lru: u32,
    ) -> NonNull<u8> {
        let ptr = alloc_block(new);
        // SAFETY: a fresh, zero-filled block of `new.size()` bytes that
        // nothing else refers to yet.
        let buf = unsafe { std::slice::from_raw_parts_mut(ptr.as_ptr(), new.size()) };
        let src = self.bytes(old.used());
        new.write_header(buf, lru);
        if new.ttl {
            write_u64(buf, new.ttl_at(), expire_at);
        }
        buf[new.desc_at()..new.key_at()].copy_from_slice(&src[old.desc_at()..old.key_at()]);
        let key = key.unwrap_or(&src[old.key_at()..old.val_at()]);
        buf[new.key_at()..new.val_at()].copy_from_slice(key);
        buf[new.val_at()..new.used()].copy_from_slice(&src[old.val_at()..old.used()]);
        ptr
    }

    /// The refcounted buffer of a value of 4 KiB or more, for a reply that
    /// sends it without copying.
    pub fn shared(&self) -> Option<Rc<[u8]>> {
        let shape = self.shape();
        if shape.kind != Kind::Shared {
            return None;
        }
        let (data, len) = shared_parts(self.bytes(shape.used()), &shape);
        let raw = std::ptr::slice_from_raw_parts(data, len);
        // SAFETY: a live `Rc<[u8]>` this block holds one count of; the new
        // handle takes a count of its own.
        unsafe {
            Rc::increment_strong_count(raw);
            Some(Rc::from_raw(raw))
        }
    }

    /// Bytes this entry takes: its block, and what its value holds outside
    /// it (a Shared value's buffer, a collection's structures).
    pub fn mem_bytes(&self) -> usize {
        let shape = self.shape();
        let outside = match shape.kind {
            // The buffer and the Rc's two counts.
            Kind::Shared => shared_parts(self.bytes(shape.used()), &shape).1 + 16,
            Kind::Coll => self.coll(&shape).heap_bytes(),
            _ => 0,
        };
        shape.size() + outside
    }

    /// The one allocation of at least `min` bytes this entry holds alone,
    /// as (start, length) of its value's bytes: a grown string's block, or
    /// a large value's buffer that no reply in flight shares. Lazy free
    /// hands such a region's pages back to the kernel in steps before the
    /// entry is dropped; the bytes before the region (the block's header,
    /// the buffer's counts) are left alone, so the drop still reads them.
    pub fn large_region(&self, min: usize) -> Option<(*mut u8, usize)> {
        let shape = self.shape();
        match shape.kind {
            Kind::Grow if shape.size() >= min => {
                let at = shape.val_at();
                // SAFETY: `at` is inside the block, which is `size()` long.
                let start = unsafe { self.ptr().as_ptr().add(at) };
                Some((start, shape.size() - at))
            }
            Kind::Shared => {
                let (data, len) = shared_parts(self.bytes(shape.used()), &shape);
                let raw = std::ptr::slice_from_raw_parts(data, len);
                // SAFETY: a live `Rc<[u8]>` this block holds a count of; the
                // handle only reads the counts and is never dropped.
                let rc = std::mem::ManuallyDrop::new(unsafe { Rc::from_raw(raw) });
                let alone = Rc::strong_count(&rc) == 1 && Rc::weak_count(&rc) == 0;
                (alone && len >= min).then_some((data as *mut u8, len))
            }
            _ => None,
        }
    }

    /// Drops what the value owns outside the block: a Shared value's `Rc`,
    /// a collection's `Coll` (the block still holds their bytes: the
    /// caller rewrites or frees the block next).
    fn release_value(&mut self, shape: &Shape) {
        match shape.kind {
            Kind::Shared => {
                let (data, len) = shared_parts(self.bytes(shape.used()), shape);
                // SAFETY: the block's own count of this Rc, given up once:
                // every caller rewrites the descriptor or frees the block
                // right after.
                drop(unsafe { Rc::from_raw(std::ptr::slice_from_raw_parts(data, len)) });
            }
            // SAFETY: the block owns this live `Coll`; it is dropped once,
            // and every caller rewrites or frees the block right after.
            Kind::Coll => unsafe { std::ptr::drop_in_place(self.coll_ptr(shape)) },
            _ => {}
        }
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        let shape = self.shape();
        self.release_value(&shape);
        // SAFETY: the entry owns the block, allocated with this shape's size,
        // and frees it once, here.
        unsafe { free_block(self.ptr(), &shape) };
    }
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("key", &String::from_utf8_lossy(self.key()))
            .field("encoding", &self.encoding())
            .field("expire_at", &self.expire_at())
            .finish()
    }
}

fn kind_of(s: StrVal<'_>) -> (Kind, usize) {
    match s {
        StrVal::Int(_) => (Kind::Int, 0),
        StrVal::Bytes(b) if b.len() >= SHARED_MIN => (Kind::Shared, 0),
        StrVal::Bytes(b) => (Kind::Embed, b.len()),
    }
}

/// Writes everything but the key: header, expiry, descriptor, and the
/// value's bytes (a Shared value's go to a new `Rc`).
fn write_fields(buf: &mut [u8], shape: &Shape, s: StrVal<'_>, expire_at: u64, lru: u32) {
    shape.write_header(buf, lru);
    if shape.ttl {
        write_u64(buf, shape.ttl_at(), expire_at);
    }
    let at = shape.desc_at();
    match (shape.kind, s) {
        (Kind::Int, StrVal::Int(n)) => write_u64(buf, at, n as u64),
        (Kind::Embed, StrVal::Bytes(b)) => buf[shape.val_at()..shape.used()].copy_from_slice(b),
        (Kind::Shared, StrVal::Bytes(b)) => {
            let raw = Rc::into_raw(Rc::<[u8]>::from(b));
            // The address is exposed here and read back in `shared_parts`.
            write_u64(buf, at, raw.cast::<u8>() as usize as u64);
            write_u64(buf, at + 8, b.len() as u64);
        }
        (kind, _) => unreachable!("{kind:?} is not written from a new value"),
    }
}

/// A Shared block's `Rc<[u8]>`, as the data pointer and length that
/// `Rc::into_raw` gave.
fn shared_parts(buf: &[u8], shape: &Shape) -> (*const u8, usize) {
    let at = shape.desc_at();
    let data = read_u64(buf, at) as usize as *const u8;
    (data, read_u64(buf, at + 8) as usize)
}

#[cfg(test)]
mod tests;

/// Asks the CPU to start loading the cache line at `p`. A hint: it never
/// faults, whatever `p` is, and on CPUs without a stable intrinsic here
/// (aarch64) it does nothing.
#[inline]
pub(crate) fn prefetch_line<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint that never faults and reads nothing
    // into the program; SSE, which it needs, is in every x86_64 CPU.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(p as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
