//! Keys as stored in the table: short keys (most of them, e.g. `user:1000`)
//! live inline in the entry, so a lookup compares the key without touching
//! a second cache line elsewhere in memory; longer keys go to the heap.

use std::ops::Deref;

pub const INLINE_KEY: usize = 22;

#[derive(Clone)]
pub enum Key {
    Inline { len: u8, bytes: [u8; INLINE_KEY] },
    Heap(Box<[u8]>),
}

impl From<&[u8]> for Key {
    fn from(k: &[u8]) -> Key {
        if k.len() <= INLINE_KEY {
            let mut bytes = [0u8; INLINE_KEY];
            bytes[..k.len()].copy_from_slice(k);
            Key::Inline {
                len: k.len() as u8,
                bytes,
            }
        } else {
            Key::Heap(k.into())
        }
    }
}

impl Deref for Key {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        match self {
            Key::Inline { len, bytes } => &bytes[..*len as usize],
            Key::Heap(b) => b,
        }
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self))
    }
}

impl Key {
    /// Heap bytes the key owns beyond the entry.
    pub fn heap_bytes(&self) -> usize {
        match self {
            Key::Inline { .. } => 0,
            Key::Heap(b) => b.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_keys_inline_long_on_heap() {
        let k = Key::from(&b"user:1000"[..]);
        assert!(matches!(k, Key::Inline { .. }));
        assert_eq!(&*k, b"user:1000");
        let long = [b'x'; 40];
        let k = Key::from(&long[..]);
        assert!(matches!(k, Key::Heap(_)));
        assert_eq!(&*k, &long[..]);
        assert_eq!(std::mem::size_of::<Key>(), 24);
    }
}
