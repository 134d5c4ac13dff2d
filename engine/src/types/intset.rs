//! A sorted array of integers, each stored in the narrowest width that fits
//! every member (2, 4 or 8 bytes): the compact form of a set of integers,
//! as Redis's intset. Lookups are binary searches; an insert moves the tail.
//! One member too wide for the current width widens them all.

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntSet {
    /// Bytes per member: 2, 4 or 8.
    width: u8,
    /// Members, ascending, little-endian, `width` bytes each; exact size.
    buf: Vec<u8>,
}

impl Default for IntSet {
    fn default() -> Self {
        IntSet {
            width: 2,
            buf: Vec::new(),
        }
    }
}

fn width_of(v: i64) -> u8 {
    if i16::try_from(v).is_ok() {
        2
    } else if i32::try_from(v).is_ok() {
        4
    } else {
        8
    }
}

/// Appends `v`, `width` bytes little-endian (it fits: callers widen first).
fn encode(width: u8, v: i64, to: &mut Vec<u8>) {
    match width {
        2 => to.extend_from_slice(&(v as i16).to_le_bytes()),
        4 => to.extend_from_slice(&(v as i32).to_le_bytes()),
        _ => to.extend_from_slice(&v.to_le_bytes()),
    }
}

impl IntSet {
    pub fn len(&self) -> usize {
        self.buf.len() / self.width as usize
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn heap_bytes(&self) -> usize {
        self.buf.capacity()
    }

    /// Member `i` in ascending order.
    pub fn get(&self, i: usize) -> i64 {
        let w = self.width as usize;
        let b = &self.buf[i * w..(i + 1) * w];
        match w {
            2 => i16::from_le_bytes(b.try_into().expect("2 bytes")) as i64,
            4 => i32::from_le_bytes(b.try_into().expect("4 bytes")) as i64,
            _ => i64::from_le_bytes(b.try_into().expect("8 bytes")),
        }
    }

    /// `Ok(i)` where `v` is, or `Err(i)` where it would go.
    fn search(&self, v: i64) -> Result<usize, usize> {
        if width_of(v) > self.width {
            // Wider than every member: past one end.
            return Err(if v < 0 { 0 } else { self.len() });
        }
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.get(mid).cmp(&v) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    pub fn contains(&self, v: i64) -> bool {
        self.search(v).is_ok()
    }

    /// Adds `v`; false when it was already a member.
    pub fn insert(&mut self, v: i64) -> bool {
        let at = match self.search(v) {
            Ok(_) => return false,
            Err(at) => at,
        };
        if width_of(v) > self.width {
            self.widen(width_of(v));
        }
        let mut bytes = Vec::with_capacity(8);
        encode(self.width, v, &mut bytes);
        let w = self.width as usize;
        self.buf.reserve_exact(w);
        self.buf.splice(at * w..at * w, bytes);
        true
    }

    /// Rewrites every member `width` bytes wide (wider than now).
    fn widen(&mut self, width: u8) {
        let mut buf = Vec::with_capacity(self.len() * width as usize + width as usize);
        for v in self.iter() {
            encode(width, v, &mut buf);
        }
        *self = IntSet { width, buf };
    }

    /// Removes `v`; false when it was not a member.
    pub fn remove(&mut self, v: i64) -> bool {
        match self.search(v) {
            Ok(i) => {
                self.remove_at(i);
                true
            }
            Err(_) => false,
        }
    }

    /// Removes and returns member `i`.
    pub fn remove_at(&mut self, i: usize) -> i64 {
        let v = self.get(i);
        let w = self.width as usize;
        self.buf.drain(i * w..(i + 1) * w);
        self.buf.shrink_to_fit();
        v
    }

    pub fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_stay_sorted_and_widen_as_needed() {
        let mut s = IntSet::default();
        for v in [5, -3, 100, 5, 0] {
            s.insert(v);
        }
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![-3, 0, 5, 100]);
        assert_eq!((s.width, s.heap_bytes()), (2, 8));
        assert!(s.insert(70_000));
        assert_eq!(s.width, 4);
        assert!(s.insert(i64::MIN));
        assert!(s.insert(i64::MAX));
        assert_eq!(s.width, 8);
        let want = vec![i64::MIN, -3, 0, 5, 100, 70_000, i64::MAX];
        assert_eq!(s.iter().collect::<Vec<_>>(), want);
        assert!(s.contains(70_000) && !s.contains(6) && !s.contains(1 << 40));
        assert!(s.remove(0) && !s.remove(0));
        assert_eq!(s.remove_at(0), i64::MIN);
        assert_eq!(s.len(), 5);
    }

    #[test]
    fn a_value_wider_than_the_set_is_found_absent() {
        let mut s = IntSet::default();
        s.insert(1);
        assert!(!s.contains(i64::MAX) && !s.contains(i64::MIN));
        assert!(!s.remove(1 << 33));
    }
}
