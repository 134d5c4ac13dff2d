//! A list: a deque of packed nodes (Redis's quicklist, a linked list of
//! listpacks).
//!
//! ```text
//!   List ── nodes: VecDeque<Node>            len (items, for LLEN in O(1))
//!            [Node][Node][Node] ...
//!              │
//!              └─ buf: [head][payload][back] [head][payload][back] ...
//!                  head: LEB128 of (len << 1) for bytes, (zigzag(v) << 1 | 1)
//!                        for an integer (no payload)
//!                  back: the entry's size before it (head + payload), in
//!                        LEB128 written backwards, so the node reads both ways
//! ```
//!
//! Why: a list's items are short and many (a job queue, a log). One
//! allocation per item would cost 16-32 bytes of allocator and pointer
//! overhead for a 10-byte item; here a 10-byte item costs 12 bytes and an
//! integer item 2 to 10, like a listpack entry. Pushes and pops at either
//! end touch one node (a memmove within its 8 KiB at the head, as a
//! listpack does); an index walks the node counts (O(n / items per node))
//! and then one node. How full a node may get is `list-max-listpack-size`
//! (`Fill`); a node that an insert or a replacement overfills splits, and
//! after removals in the middle (LREM) neighbours that fit together merge.
//!
//! An integer is stored as one only when it is written canonically (no
//! "+1", no "01"), so it reads back byte for byte; larger than 2^62 in
//! magnitude, it stays bytes (the head has one bit for the kind).
//!
//! Redis 7.0 reports every list as `quicklist`, small or large, and so
//! does this (7.2 added a listpack form for small lists).

use super::pack::{encode_len, read_len};
use crate::value::{parse_canonical_i64, StrVal};
use std::collections::VecDeque;

/// `list-max-listpack-size`: below 0, a node's byte limit (-1: 4 KiB ...
/// -5: 64 KiB); above 0, its item limit (nodes stay under 8 KiB then too);
/// as Redis's quicklist reads it. Commands pass the current setting to each
/// write, where Redis fixes it when a list is created: after a CONFIG SET,
/// old lists' new nodes follow the new value too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fill(pub i64);

impl Default for Fill {
    fn default() -> Self {
        Fill(-2)
    }
}

/// Redis's SIZE_SAFETY_LIMIT: a node limited by a count stays under this.
const SAFETY_BYTES: usize = 8192;

impl Fill {
    /// Whether a node of `bytes` bytes and `count` items is within limits.
    fn fits(self, bytes: usize, count: usize) -> bool {
        if self.0 < 0 {
            let level = (-self.0).min(5) as u32 - 1;
            bytes <= 4096 << level
        } else {
            bytes <= SAFETY_BYTES && count as i64 <= self.0.min(i16::MAX as i64)
        }
    }
}

/// Which end of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Head,
    Tail,
}

/// An item encoded for a node: its head, its payload and its back length.
struct Enc<'a> {
    head: ([u8; 10], usize),
    payload: &'a [u8],
    back: ([u8; 10], usize),
}

/// Integers of at most this magnitude are stored as integers.
const INT_MAX: i64 = (1 << 62) - 1;

impl<'a> Enc<'a> {
    fn new(item: &'a [u8]) -> Enc<'a> {
        let (h, payload) = match parse_canonical_i64(item) {
            Some(v) if (-INT_MAX..=INT_MAX).contains(&v) => {
                let zigzag = ((v << 1) ^ (v >> 63)) as u64;
                ((zigzag << 1) | 1, &[][..])
            }
            _ => ((item.len() as u64) << 1, item),
        };
        let head = encode_len(h as usize);
        let back = encode_len(head.1 + payload.len());
        Enc {
            head,
            payload,
            back,
        }
    }

    fn size(&self) -> usize {
        self.head.1 + self.payload.len() + self.back.1
    }

    fn write(&self, dst: &mut [u8]) {
        let (h, p) = (self.head.1, self.payload.len());
        dst[..h].copy_from_slice(&self.head.0[..h]);
        dst[h..h + p].copy_from_slice(self.payload);
        for (d, s) in dst[h + p..]
            .iter_mut()
            .zip(self.back.0[..self.back.1].iter().rev())
        {
            *d = *s;
        }
    }
}

/// One packed node: the entries, and how many.
#[derive(Clone, Default, Debug, PartialEq, Eq)]
struct Node {
    buf: Vec<u8>,
    count: u32,
}

impl Node {
    /// The item starting at `at`, and where the next one starts.
    fn item(&self, at: usize) -> (StrVal<'_>, usize) {
        let (h, used) = read_len(&self.buf, at);
        let body = at + used;
        let (item, end) = if h & 1 == 1 {
            let z = (h >> 1) as u64;
            (StrVal::Int((z >> 1) as i64 ^ -((z & 1) as i64)), body)
        } else {
            let len = h >> 1;
            (StrVal::Bytes(&self.buf[body..body + len]), body + len)
        };
        (item, end + encode_len(end - at).1)
    }

    /// Where the item that ends at `end` starts.
    fn start_before(&self, end: usize) -> usize {
        let (mut n, mut k) = (0usize, 0);
        loop {
            let b = self.buf[end - 1 - k];
            n |= ((b & 0x7F) as usize) << (7 * k);
            k += 1;
            if b & 0x80 == 0 {
                return end - k - n;
            }
        }
    }

    /// The start of the `i`th item (i < count), walking from the nearer end.
    fn offset_of(&self, i: usize) -> usize {
        let count = self.count as usize;
        if i <= count / 2 {
            (0..i).fold(0, |at, _| self.item(at).1)
        } else {
            (i..count).fold(self.buf.len(), |end, _| self.start_before(end))
        }
    }

    fn insert(&mut self, at: usize, enc: &Enc<'_>) {
        let n = enc.size();
        let old = self.buf.len();
        // Grown in powers of two, so a node that fills to its 8 KiB limit
        // holds exactly one 8 KiB allocation (Vec's own doubling from the
        // first item's size would end at 12 KiB for 12-byte items).
        if old + n > self.buf.capacity() {
            self.buf.reserve_exact((old + n).next_power_of_two() - old);
        }
        self.buf.resize(old + n, 0);
        self.buf.copy_within(at..old, at + n);
        enc.write(&mut self.buf[at..at + n]);
        self.count += 1;
    }

    /// Removes the bytes `from..to`, which hold `items` whole items.
    fn remove(&mut self, from: usize, to: usize, items: usize) {
        self.buf.drain(from..to);
        self.count -= items as u32;
        if self.buf.capacity() > 64 && self.buf.len() < self.buf.capacity() / 4 {
            self.buf.shrink_to(self.buf.len() * 2);
        }
    }

    /// Splits off the items from the `i`th on into a new node.
    fn split_off(&mut self, i: usize) -> Node {
        let at = self.offset_of(i);
        let tail = Node {
            buf: self.buf[at..].to_vec(),
            count: self.count - i as u32,
        };
        self.buf.truncate(at);
        self.buf.shrink_to_fit();
        self.count = i as u32;
        tail
    }
}

#[derive(Clone, Default, Debug, PartialEq, Eq)]
pub struct List {
    nodes: VecDeque<Node>,
    len: usize,
}

/// A position: a node and the offset of an item in it.
#[derive(Clone, Copy, Debug)]
struct Pos {
    node: usize,
    at: usize,
}

impl List {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes held on the heap: the node array and every node's buffer
    /// (a walk over the nodes, a few hundred items each, not the items).
    pub fn heap_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.nodes.iter().map(|n| n.buf.capacity()).sum::<usize>()
    }

    /// Adds `item` at `end`, in the end node while it has room for it.
    pub fn push(&mut self, end: End, item: &[u8], fill: Fill) {
        let enc = Enc::new(item);
        let room = match end {
            End::Head => self.nodes.front(),
            End::Tail => self.nodes.back(),
        }
        .is_some_and(|n| fill.fits(n.buf.len() + enc.size(), n.count as usize + 1));
        if !room {
            match end {
                End::Head => self.nodes.push_front(Node::default()),
                End::Tail => self.nodes.push_back(Node::default()),
            }
        }
        let node = match end {
            End::Head => self.nodes.front_mut(),
            End::Tail => self.nodes.back_mut(),
        }
        .expect("made above when missing");
        let at = match end {
            End::Head => 0,
            End::Tail => node.buf.len(),
        };
        node.insert(at, &enc);
        self.len += 1;
    }

    /// The item at `end`.
    pub fn peek(&self, end: End) -> Option<StrVal<'_>> {
        match end {
            End::Head => self.iter().next(),
            End::Tail => self.iter_rev().next(),
        }
    }

    /// Removes and returns the item at `end`.
    pub fn pop(&mut self, end: End) -> Option<Vec<u8>> {
        let node = match end {
            End::Head => 0,
            End::Tail => self.nodes.len().checked_sub(1)?,
        };
        let n = self.nodes.get(node)?;
        let at = match end {
            End::Head => 0,
            End::Tail => n.start_before(n.buf.len()),
        };
        let (item, next) = n.item(at);
        let item = item.to_vec();
        self.remove_span(Pos { node, at }, next);
        Some(item)
    }

    /// Removes the one item at `p`, which ends at `end`; drops its node
    /// when that empties it.
    fn remove_span(&mut self, p: Pos, end: usize) {
        let node = &mut self.nodes[p.node];
        node.remove(p.at, end, 1);
        self.len -= 1;
        if node.count == 0 {
            self.nodes.remove(p.node);
        }
    }

    /// Where the `i`th item (i < len) is: node counts walked from the
    /// nearer end, then the node from its nearer end.
    fn locate(&self, i: usize) -> Pos {
        debug_assert!(i < self.len);
        let (node, first) = if i < self.len / 2 {
            let mut first = 0;
            let mut node = 0;
            while first + self.nodes[node].count as usize <= i {
                first += self.nodes[node].count as usize;
                node += 1;
            }
            (node, first)
        } else {
            let mut node = self.nodes.len();
            let mut first = self.len;
            while first > i {
                node -= 1;
                first -= self.nodes[node].count as usize;
            }
            (node, first)
        };
        Pos {
            node,
            at: self.nodes[node].offset_of(i - first),
        }
    }

    /// The item at `index` (negative counts from the tail), if in range.
    pub fn get(&self, index: i64) -> Option<StrVal<'_>> {
        let i = self.index(index)?;
        let p = self.locate(i);
        Some(self.nodes[p.node].item(p.at).0)
    }

    /// `index` (negative from the tail) as a position below `len`.
    pub fn index(&self, index: i64) -> Option<usize> {
        let i = if index < 0 {
            self.len as i64 + index
        } else {
            index
        };
        (0..self.len as i64).contains(&i).then_some(i as usize)
    }

    /// Replaces the item at `i` (< len) with `item`.
    pub fn set(&mut self, i: usize, item: &[u8], fill: Fill) {
        let p = self.locate(i);
        let node = &mut self.nodes[p.node];
        let end = node.item(p.at).1;
        node.remove(p.at, end, 1);
        node.insert(p.at, &Enc::new(item));
        self.settle(p.node, fill);
    }

    /// Inserts `item` before the `i`th item (i <= len; len: at the tail).
    pub fn insert(&mut self, i: usize, item: &[u8], fill: Fill) {
        if i == self.len {
            return self.push(End::Tail, item, fill);
        }
        let p = self.locate(i);
        self.nodes[p.node].insert(p.at, &Enc::new(item));
        self.len += 1;
        self.settle(p.node, fill);
    }

    /// Splits node `n` in halves until each part is within `fill` (a
    /// single item always is).
    fn settle(&mut self, n: usize, fill: Fill) {
        let node = &mut self.nodes[n];
        if node.count < 2 || fill.fits(node.buf.len(), node.count as usize) {
            return;
        }
        let tail = node.split_off(node.count as usize / 2);
        self.nodes.insert(n + 1, tail);
        self.settle(n + 1, fill);
        self.settle(n, fill);
    }

    /// The items from the `i`th on (i <= len), toward the tail.
    pub fn iter_from(&self, i: usize) -> Iter<'_> {
        let pos = if i < self.len {
            self.locate(i)
        } else {
            Pos {
                node: self.nodes.len(),
                at: 0,
            }
        };
        Iter { list: self, pos }
    }

    pub fn iter(&self) -> Iter<'_> {
        self.iter_from(0)
    }

    /// The items from the tail toward the head.
    pub fn iter_rev(&self) -> RevIter<'_> {
        RevIter {
            list: self,
            node: self.nodes.len() + 1,
            end: 0,
        }
    }

    /// Removes `n` items from `end` (all of them when n >= len): whole
    /// nodes where it can, then part of one.
    pub fn drop_end(&mut self, end: End, n: usize) {
        let mut left = n.min(self.len);
        self.len -= left;
        while left > 0 {
            let node = match end {
                End::Head => self.nodes.front_mut(),
                End::Tail => self.nodes.back_mut(),
            }
            .expect("items left to drop: a node holds them");
            let count = node.count as usize;
            if count <= left {
                left -= count;
                match end {
                    End::Head => self.nodes.pop_front(),
                    End::Tail => self.nodes.pop_back(),
                };
                continue;
            }
            match end {
                End::Head => {
                    let to = node.offset_of(left);
                    node.remove(0, to, left);
                }
                End::Tail => {
                    let from = node.offset_of(count - left);
                    let len = node.buf.len();
                    node.remove(from, len, left);
                }
            }
            left = 0;
        }
        if self.nodes.capacity() > 16 && self.nodes.len() < self.nodes.capacity() / 4 {
            self.nodes.shrink_to(self.nodes.len() * 2);
        }
    }

    /// Removes items equal to `elem`: up to `max` (0: all), from `from`'s
    /// end; returns how many went (LREM).
    pub fn remove_matching(&mut self, elem: &[u8], from: End, max: usize, fill: Fill) -> usize {
        let want = parse_canonical_i64(elem);
        let mut left = if max == 0 { usize::MAX } else { max };
        let nodes = self.nodes.len();
        let mut removed = 0;
        for k in 0..nodes {
            if left == 0 {
                break;
            }
            let n = match from {
                End::Head => k,
                End::Tail => nodes - 1 - k,
            };
            let node = &mut self.nodes[n];
            // Spans of the matches in this node, in the order they are met.
            let mut spans = Vec::new();
            let mut at = 0;
            while at < node.buf.len() {
                let (item, next) = node.item(at);
                if matches(item, elem, want) {
                    spans.push((at, next));
                }
                at = next;
            }
            if from == End::Tail {
                spans.reverse();
            }
            spans.truncate(left);
            left -= spans.len();
            removed += spans.len();
            // From the last offset down, so earlier offsets stay true.
            if from == End::Head {
                spans.reverse();
            }
            for (a, b) in spans {
                node.remove(a, b, 1);
            }
        }
        if removed > 0 {
            self.len -= removed;
            self.nodes.retain(|n| n.count > 0);
            self.merge_small(fill);
        }
        removed
    }

    /// Merges neighbouring nodes that fit together (after removals in the
    /// middle left them sparse), so indexes keep walking few nodes.
    fn merge_small(&mut self, fill: Fill) {
        let mut n = 0;
        while n + 1 < self.nodes.len() {
            let (a, b) = (&self.nodes[n], &self.nodes[n + 1]);
            if fill.fits(a.buf.len() + b.buf.len(), (a.count + b.count) as usize) {
                let b = self.nodes.remove(n + 1).expect("checked above");
                let a = &mut self.nodes[n];
                a.buf.extend_from_slice(&b.buf);
                a.count += b.count;
            } else {
                n += 1;
            }
        }
    }

    /// Frees at least `max` items from the tail (or all), whole nodes at
    /// a time (lazy free, see `Coll::free_some`).
    pub fn free_some(&mut self, max: usize) {
        let mut freed = 0;
        while freed < max {
            let Some(node) = self.nodes.pop_back() else {
                break;
            };
            freed += node.count as usize;
        }
        self.len -= freed.min(self.len);
    }
}

/// Whether a stored `item` equals `elem` (`want`: elem as a canonical
/// integer). An integer item is stored only for canonical text, so it
/// equals `elem` exactly when `elem` is that integer's text.
pub fn matches(item: StrVal<'_>, elem: &[u8], want: Option<i64>) -> bool {
    match item {
        StrVal::Int(v) => want == Some(v),
        StrVal::Bytes(b) => b == elem,
    }
}

/// Items toward the tail.
pub struct Iter<'a> {
    list: &'a List,
    pos: Pos,
}

impl<'a> Iterator for Iter<'a> {
    type Item = StrVal<'a>;

    fn next(&mut self) -> Option<StrVal<'a>> {
        let node = self.list.nodes.get(self.pos.node)?;
        let (item, next) = node.item(self.pos.at);
        self.pos.at = next;
        if next >= node.buf.len() {
            self.pos = Pos {
                node: self.pos.node + 1,
                at: 0,
            };
        }
        Some(item)
    }
}

/// Items toward the head.
pub struct RevIter<'a> {
    list: &'a List,
    /// The node being read, plus one (0: done).
    node: usize,
    /// Where the next item to read ends in it (0: go to the node before).
    end: usize,
}

impl<'a> Iterator for RevIter<'a> {
    type Item = StrVal<'a>;

    fn next(&mut self) -> Option<StrVal<'a>> {
        while self.end == 0 {
            self.node = self.node.checked_sub(1).filter(|&n| n > 0)?;
            self.end = self.list.nodes[self.node - 1].buf.len();
        }
        let node = &self.list.nodes[self.node - 1];
        self.end = node.start_before(self.end);
        Some(node.item(self.end).0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(l: &List) -> Vec<Vec<u8>> {
        l.iter().map(StrVal::to_vec).collect()
    }

    fn list_of(n: usize, fill: Fill) -> List {
        let mut l = List::default();
        for i in 0..n {
            l.push(End::Tail, format!("item-{i}").as_bytes(), fill);
        }
        l
    }

    #[test]
    fn items_of_every_kind_read_back_both_ways() {
        let long = vec![b'x'; 20_000];
        let mut cases: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"0".to_vec(),
            b"-1".to_vec(),
            b"01".to_vec(),
            b"+5".to_vec(),
            b"9223372036854775807".to_vec(),
            b"-9223372036854775808".to_vec(),
            b"4611686018427387903".to_vec(),
            b"4611686018427387904".to_vec(),
            long[..127].to_vec(),
            long[..128].to_vec(),
            long.clone(),
        ];
        cases.extend((0..300).map(|i: i64| (i * 7919 - 1000).to_string().into_bytes()));
        let mut l = List::default();
        for c in &cases {
            l.push(End::Tail, c, Fill::default());
        }
        assert_eq!(items(&l), cases);
        let mut rev: Vec<Vec<u8>> = l.iter_rev().map(StrVal::to_vec).collect();
        rev.reverse();
        assert_eq!(rev, cases);
        for (i, c) in cases.iter().enumerate() {
            assert_eq!(l.get(i as i64).unwrap().to_vec(), *c);
            assert!(matches(l.get(i as i64).unwrap(), c, parse_canonical_i64(c)));
        }
        assert!(!matches(StrVal::Int(1), b"01", parse_canonical_i64(b"01")));
    }

    #[test]
    fn nodes_stay_within_the_fill() {
        for fill in [Fill(-1), Fill(-2), Fill(-5), Fill(1), Fill(5), Fill(100)] {
            let mut l = list_of(3_000, fill);
            for i in (0..3_000).step_by(7) {
                l.insert(i, b"inserted-in-the-middle", fill);
            }
            l.set(5, &[b'y'; 300], fill);
            for n in &l.nodes {
                assert!(n.count == 1 || fill.fits(n.buf.len(), n.count as usize));
            }
            assert_eq!(l.len(), l.nodes.iter().map(|n| n.count as usize).sum());
            assert_eq!(l.iter().count(), l.len());
        }
        let l = list_of(3_000, Fill(-2));
        assert!(l.nodes.len() > 3, "{} nodes", l.nodes.len());
        assert!(l.nodes.iter().all(|n| n.buf.len() <= 8192));
    }

    #[test]
    fn both_ends_push_pop_and_drop() {
        let fill = Fill(4);
        let mut l = List::default();
        for i in 0..10 {
            l.push(End::Head, i.to_string().as_bytes(), fill);
        }
        assert_eq!(l.pop(End::Tail).unwrap(), b"0");
        assert_eq!(l.pop(End::Head).unwrap(), b"9");
        assert_eq!(l.len(), 8);
        l.drop_end(End::Head, 3);
        l.drop_end(End::Tail, 2);
        assert_eq!(items(&l), vec![b"5".to_vec(), b"4".to_vec(), b"3".to_vec()]);
        l.drop_end(End::Tail, 10);
        assert!(l.is_empty() && l.nodes.is_empty());
        assert_eq!(l.pop(End::Head), None);
    }

    #[test]
    fn removing_matches_from_either_end_and_merging() {
        let fill = Fill(4);
        let mut l = List::default();
        for i in 0..40 {
            let item = if i % 3 == 0 { "x" } else { "12" };
            l.push(End::Tail, item.as_bytes(), fill);
        }
        assert_eq!(l.remove_matching(b"12", End::Tail, 2, fill), 2);
        // 37 and 38 went; 39 and 36 are "x".
        assert_eq!(l.get(-2).unwrap(), StrVal::Bytes(b"x"));
        assert_eq!(l.get(-3).unwrap(), StrVal::Int(12));
        assert_eq!(l.remove_matching(b"x", End::Head, 0, fill), 14);
        assert_eq!(l.remove_matching(b"012", End::Head, 0, fill), 0);
        assert_eq!(l.len(), 24);
        for pair in l.nodes.iter().collect::<Vec<_>>().windows(2) {
            let (a, b) = (pair[0], pair[1]);
            assert!(a.count + b.count > 4, "neighbours that fit are merged");
        }
        assert_eq!(l.remove_matching(b"12", End::Head, 0, fill), 24);
        assert!(l.is_empty() && l.nodes.is_empty());
    }

    #[test]
    fn a_long_list_costs_about_its_entries() {
        // 10-byte strings take 12 bytes (head, payload, back length), and
        // integers below 2^17 four; nodes fill to their 8 KiB, so what is
        // left is node headers and the last node's spare room.
        let fill = Fill::default();
        let n = 100_000;
        let mut strings = List::default();
        let mut ints = List::default();
        for i in 0..n {
            strings.push(End::Tail, format!("item{i:06}").as_bytes(), fill);
            ints.push(End::Head, i.to_string().as_bytes(), fill);
        }
        let per_item = |l: &List| l.heap_bytes() as f64 / n as f64;
        assert!(per_item(&strings) < 12.2, "{}", per_item(&strings));
        assert!(per_item(&ints) < 4.1, "{}", per_item(&ints));
    }

    #[test]
    fn freed_in_steps_of_whole_nodes() {
        let mut l = list_of(10_000, Fill(-2));
        let mut steps = 1;
        l.free_some(1_000);
        while !l.is_empty() {
            l.free_some(1_000);
            steps += 1;
        }
        // Whole nodes of ~680 items: two per step of 1,000.
        assert!((5..=10).contains(&steps), "{steps}");
        assert!(l.is_empty());
    }
}
