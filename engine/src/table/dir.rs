//! The directory: 2^depth segment ids indexed by the hash's top bits, kept
//! in chunks so that doubling it adds chunks instead of copying one array
//! into a twice-larger one (whose fresh pages would all fault in the same
//! insert). The doubling itself rewrites the entries in place, from the
//! top down.

use super::array::Array;
use super::reserve::Reserve;

/// Entries per chunk: 16 KiB of u32.
pub(super) const CHUNK: usize = 4096;
const CHUNK_BITS: u32 = CHUNK.trailing_zeros();

pub(super) struct Directory {
    depth: u32,
    chunks: Vec<Array<u32>>,
}

impl Directory {
    pub fn new() -> Self {
        Directory {
            depth: 0,
            chunks: vec![Array::new(1, || 0)],
        }
    }

    pub fn depth(&self) -> u32 {
        self.depth
    }

    pub fn len(&self) -> usize {
        1 << self.depth
    }

    /// The slot hash `h` falls in.
    #[inline]
    pub fn index(&self, h: u64) -> usize {
        if self.depth == 0 {
            0
        } else {
            (h >> (64 - self.depth)) as usize
        }
    }

    #[inline]
    pub fn get(&self, i: usize) -> u32 {
        self.chunks[i >> CHUNK_BITS][i & (CHUNK - 1)]
    }

    fn set(&mut self, i: usize, id: u32) {
        self.chunks[i >> CHUNK_BITS][i & (CHUNK - 1)] = id;
    }

    /// Chunks the next doubling takes from the reserve.
    pub fn chunks_next_doubling(&self) -> usize {
        if self.len() >= CHUNK {
            self.len() / CHUNK
        } else {
            0
        }
    }

    /// Doubles the directory: slot i becomes slots 2i and 2i + 1.
    pub fn double(&mut self, reserve: &mut Reserve<u32>) {
        let (old, new) = (self.len(), self.len() * 2);
        if new <= CHUNK {
            // Small: the one chunk is copied into one twice its size (≤ 16 KiB).
            let mut grown = Array::new(new, || 0);
            grown[..old].copy_from_slice(&self.chunks[0]);
            self.chunks[0] = grown;
        } else {
            for _ in 0..old / CHUNK {
                self.chunks.push(reserve.take());
            }
        }
        // From the top down, each write lands above every entry still to be read.
        for i in (1..new).rev() {
            let id = self.get(i / 2);
            self.set(i, id);
        }
        self.depth += 1;
    }

    /// Points the slots of `range` at segment `id`.
    pub fn fill(&mut self, range: std::ops::Range<usize>, id: u32) {
        for i in range {
            self.set(i, id);
        }
    }

    pub fn bytes(&self) -> usize {
        self.chunks.iter().map(|c| c.len() * 4).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubling_keeps_every_hash_on_its_segment() {
        let mut d = Directory::new();
        let mut r = Reserve::new(CHUNK, || 0u32);
        for depth in 0..14 {
            // Give each slot its own id, then double: both halves keep it.
            for i in 0..d.len() {
                d.set(i, i as u32);
            }
            d.double(&mut r);
            assert_eq!(d.depth(), depth + 1);
            for i in 0..d.len() {
                assert_eq!(d.get(i), (i / 2) as u32);
            }
        }
        let h = 0xF000_0000_0000_0000u64;
        assert_eq!(d.index(h), 0b11110000000000);
    }
}
