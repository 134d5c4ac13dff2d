//! A sorted set: members ordered by (score, member bytes), each found by
//! name in O(1). Small ones are a `Pack` of member, score, member, score
//! ... kept in order (Redis's `listpack`); one that passes either limit in
//! `ZsetLimits` becomes a `Tree` (reported as `skiplist`, Redis's name for
//! its large form) and stays one.
//!
//! ```text
//!   Tree: nodes (arena, u32 links)          index (hashbrown, u32 slots)
//!   [0: m, score, left, right, size, prio]  ◀──  member → slot
//!   [1: ...] [free slot] ...
//! ```
//!
//! The tree is a treap whose nodes count their subtree: rank, the n-th
//! member and "how many come before this score" are one walk from the root,
//! O(log n) expected, which is what ZRANK, ZRANGE and ZCOUNT need. Slots of
//! removed members are reused, so a slot stays valid while its member lives
//! and the index can point at it.
//!
//! ZSCAN walks slots, not the order (a rank shifts when a member below it
//! goes), from the top slot down, as `Dense::scan` walks its array: the
//! cursor means "slots below this are still to visit". A tree that has
//! become mostly free slots is compacted keeping its slots' order, so a
//! member only ever moves down: one not yet visited still will be, one
//! visited may be seen twice, which SCAN allows. A new member may take any
//! free slot and be missed, which SCAN also allows.

use super::pack::{Pack, Span};
use hashbrown::HashTable;
use std::cmp::Ordering;
use std::hash::BuildHasher;

/// When a sorted set leaves its compact form (`zset-max-listpack-entries`,
/// `zset-max-listpack-value`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ZsetLimits {
    pub max_entries: usize,
    pub max_value: usize,
}

impl Default for ZsetLimits {
    fn default() -> Self {
        ZsetLimits {
            max_entries: 128,
            max_value: 64,
        }
    }
}

/// The order of members: by score, then by their bytes.
pub fn order(a: (f64, &[u8]), b: (f64, &[u8])) -> Ordering {
    a.0.partial_cmp(&b.0)
        .unwrap_or(Ordering::Equal)
        .then_with(|| a.1.cmp(b.1))
}

#[derive(Clone, Debug, PartialEq)]
pub enum Zset {
    Pack(Pack),
    Tree(Box<Tree>),
}

impl Default for Zset {
    fn default() -> Self {
        Zset::Pack(Pack::default())
    }
}

fn score_of(p: &Pack, span: Span) -> f64 {
    f64::from_le_bytes(p.bytes(span).try_into().expect("a score is 8 bytes"))
}

impl Zset {
    /// An empty set in the form that suits its first member under `limits`
    /// (Redis's zsetTypeCreate).
    pub fn for_first(member: &[u8], limits: ZsetLimits) -> Zset {
        if limits.max_entries == 0 || member.len() > limits.max_value {
            Zset::Tree(Box::default())
        } else {
            Zset::default()
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Zset::Pack(p) => p.len() / 2,
            Zset::Tree(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// OBJECT ENCODING's name.
    pub fn encoding(&self) -> &'static str {
        match self {
            Zset::Pack(_) => "listpack",
            Zset::Tree(_) => "skiplist",
        }
    }

    pub fn heap_bytes(&self) -> usize {
        match self {
            Zset::Pack(p) => p.heap_bytes(),
            Zset::Tree(t) => std::mem::size_of::<Tree>() + t.heap_bytes(),
        }
    }

    /// An empty set for `len` members, the longest `longest` bytes: a pack
    /// when they fit the limits (what ZRANGESTORE and ZUNIONSTORE build
    /// their result in, as Redis's zsetTypeCreate does).
    pub fn for_size(len: usize, longest: usize, limits: ZsetLimits) -> Zset {
        if len > limits.max_entries || longest > limits.max_value {
            Zset::Tree(Box::default())
        } else {
            Zset::default()
        }
    }

    /// The spans of a member and its score in a pack.
    fn find_in(p: &Pack, member: &[u8]) -> Option<(Span, Span)> {
        let mut spans = p.spans();
        while let (Some(m), Some(s)) = (spans.next(), spans.next()) {
            if p.bytes(m) == member {
                return Some((m, s));
            }
        }
        None
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            Zset::Pack(p) => Zset::find_in(p, member).map(|(_, s)| score_of(p, s)),
            Zset::Tree(t) => t.score(member),
        }
    }

    /// Sets `member`'s score; its previous score when it had one. A member
    /// longer than `limits.max_value`, or one member too many, turns a pack
    /// into a tree first.
    pub fn set(&mut self, member: &[u8], score: f64, limits: ZsetLimits) -> Option<f64> {
        if let Zset::Pack(p) = self {
            let old = Zset::find_in(p, member).map(|(m, s)| (m, score_of(p, s)));
            if let Some((m, _)) = old {
                p.remove(m, 2);
            }
            // A member already there fits where it was (Redis converts only
            // on an addition).
            let fits = old.is_some()
                || (member.len() <= limits.max_value && p.len() / 2 < limits.max_entries);
            if fits {
                let before = p
                    .spans()
                    .step_by(2)
                    .zip(p.spans().skip(1).step_by(2))
                    .find(|&(m, s)| order((score_of(p, s), p.bytes(m)), (score, member)).is_gt())
                    .map(|(m, _)| m);
                p.insert(before, &[member, &score.to_le_bytes()]);
                return old.map(|(_, s)| s);
            }
            self.convert_to_tree();
            let Zset::Tree(t) = self else {
                unreachable!("made a tree above")
            };
            t.set(member, score);
            return old.map(|(_, s)| s);
        }
        let Zset::Tree(t) = self else {
            unreachable!("not a pack")
        };
        t.set(member, score)
    }

    fn convert_to_tree(&mut self) {
        let Zset::Pack(p) = self else { return };
        let p = std::mem::take(p);
        let mut t = Tree::default();
        for (m, s) in Zset::Pack(p).iter() {
            t.set(m, s);
        }
        *self = Zset::Tree(Box::new(t));
    }

    /// Removes `member`; its score when it was there.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        match self {
            Zset::Pack(p) => {
                let (m, s) = Zset::find_in(p, member)?;
                let score = score_of(p, s);
                p.remove(m, 2);
                Some(score)
            }
            Zset::Tree(t) => t.remove(member),
        }
    }

    /// How many members come before `member` (its rank from the lowest).
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        let score = self.score(member)?;
        Some(self.count_while(|s, m| order((s, m), (score, member)).is_lt()))
    }

    /// How many members, from the lowest, satisfy `before`, which must hold
    /// for a prefix of the order and not after it.
    pub fn count_while(&self, before: impl Fn(f64, &[u8]) -> bool) -> usize {
        match self {
            Zset::Pack(_) => self.iter().take_while(|&(m, s)| before(s, m)).count(),
            Zset::Tree(t) => t.count_while(before),
        }
    }

    /// The member of rank `i` (below `len()`) and its score.
    pub fn nth(&self, i: usize) -> (&[u8], f64) {
        match self {
            Zset::Pack(_) => self.iter().nth(i).expect("i is below len"),
            Zset::Tree(t) => t.nth(i),
        }
    }

    /// The members of ranks `from..to` (within `0..=len()`), lowest first,
    /// or highest first when `rev`.
    pub fn range(&self, from: usize, to: usize, rev: bool) -> Vec<(&[u8], f64)> {
        let mut items: Vec<(&[u8], f64)> = match self {
            Zset::Pack(_) => self.iter().skip(from).take(to - from).collect(),
            Zset::Tree(t) => (from..to).map(|i| t.nth(i)).collect(),
        };
        if rev {
            items.reverse();
        }
        items
    }

    /// Every member and score, lowest first.
    pub fn iter(&self) -> Box<dyn Iterator<Item = (&[u8], f64)> + '_> {
        match self {
            Zset::Pack(p) => {
                let mut spans = p.spans();
                Box::new(std::iter::from_fn(move || {
                    let (m, s) = (spans.next()?, spans.next()?);
                    Some((p.bytes(m), score_of(p, s)))
                }))
            }
            Zset::Tree(t) => Box::new((0..t.len()).map(|i| t.nth(i))),
        }
    }

    /// One ZSCAN step from `cursor`: a pack is returned whole (cursor 0
    /// next, as Redis does for its compact encodings), a tree in steps of
    /// about `count` slots (see the module doc).
    pub fn scan(&self, cursor: u64, count: usize, mut visit: impl FnMut(&[u8], f64)) -> u64 {
        match self {
            Zset::Pack(_) => {
                self.iter().for_each(|(m, s)| visit(m, s));
                0
            }
            Zset::Tree(t) => t.scan(cursor, count, visit),
        }
    }

    /// Frees up to `max` members of a tree; a pack all at once.
    pub fn free_some(&mut self, max: usize) {
        match self {
            Zset::Pack(_) => *self = Zset::default(),
            Zset::Tree(t) => {
                for _ in 0..max.min(t.len()) {
                    let (m, _) = t.nth(t.len() - 1);
                    let m = m.to_vec();
                    t.remove(&m);
                }
            }
        }
    }
}

const NIL: u32 = u32::MAX;

#[derive(Clone, Debug)]
struct Node {
    member: Box<[u8]>,
    score: f64,
    left: u32,
    right: u32,
    /// Members in this subtree, this one included; 0 in a free slot.
    size: u32,
    prio: u32,
}

/// The large form: a treap with subtree sizes, in an arena, plus an index
/// from member to slot (see the module doc).
#[derive(Clone)]
pub struct Tree {
    nodes: Vec<Node>,
    free: Vec<u32>,
    root: u32,
    index: HashTable<u32>,
    /// Seeded per tree: members are client data (see `Dense`).
    hasher: foldhash::fast::RandomState,
    /// The treap's priorities: any well-mixed sequence keeps it balanced.
    seed: u64,
    /// Bytes the members hold on the heap.
    heap: usize,
}

impl Default for Tree {
    fn default() -> Self {
        let hasher = foldhash::fast::RandomState::default();
        Tree {
            nodes: Vec::new(),
            free: Vec::new(),
            root: NIL,
            index: HashTable::new(),
            seed: hasher.hash_one(0u64) | 1,
            hasher,
            heap: 0,
        }
    }
}

impl Tree {
    pub fn len(&self) -> usize {
        self.size(self.root) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.root == NIL
    }

    pub fn heap_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.free.capacity() * 4
            + self.index.allocation_size()
            + self.heap
    }

    fn size(&self, t: u32) -> u32 {
        if t == NIL {
            0
        } else {
            self.nodes[t as usize].size
        }
    }

    fn pull(&mut self, t: u32) {
        let n = &self.nodes[t as usize];
        let size = 1 + self.size(n.left) + self.size(n.right);
        self.nodes[t as usize].size = size;
    }

    fn find(&self, member: &[u8]) -> Option<u32> {
        let h = self.hasher.hash_one(member);
        self.index
            .find(h, |&i| &*self.nodes[i as usize].member == member)
            .copied()
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.find(member).map(|i| self.nodes[i as usize].score)
    }

    /// Splits `t` into the nodes that satisfy `left` (a prefix of the
    /// order) and the rest.
    fn split(&mut self, t: u32, left: &dyn Fn(f64, &[u8]) -> bool) -> (u32, u32) {
        if t == NIL {
            return (NIL, NIL);
        }
        let n = &self.nodes[t as usize];
        if left(n.score, &n.member) {
            let (a, b) = self.split(n.right, left);
            self.nodes[t as usize].right = a;
            self.pull(t);
            (t, b)
        } else {
            let (a, b) = self.split(n.left, left);
            self.nodes[t as usize].left = b;
            self.pull(t);
            (a, t)
        }
    }

    /// Joins two treaps, every node of `a` ordered before every one of `b`.
    fn merge(&mut self, a: u32, b: u32) -> u32 {
        if a == NIL {
            return b;
        }
        if b == NIL {
            return a;
        }
        if self.nodes[a as usize].prio > self.nodes[b as usize].prio {
            let r = self.nodes[a as usize].right;
            let m = self.merge(r, b);
            self.nodes[a as usize].right = m;
            self.pull(a);
            a
        } else {
            let l = self.nodes[b as usize].left;
            let m = self.merge(a, l);
            self.nodes[b as usize].left = m;
            self.pull(b);
            b
        }
    }

    /// Links slot `s` into the tree at its place.
    fn attach(&mut self, s: u32) {
        let (score, member) = {
            let n = &self.nodes[s as usize];
            (n.score, n.member.clone())
        };
        let (a, b) = self.split(self.root, &|sc, m| order((sc, m), (score, &member)).is_lt());
        let left = self.merge(a, s);
        self.root = self.merge(left, b);
    }

    /// Unlinks slot `s` from the tree (it stays in the arena and index).
    fn detach(&mut self, s: u32) {
        let (score, member) = {
            let n = &self.nodes[s as usize];
            (n.score, n.member.clone())
        };
        let (a, rest) = self.split(self.root, &|sc, m| order((sc, m), (score, &member)).is_lt());
        let (one, b) = self.split(rest, &|sc, m| order((sc, m), (score, &member)).is_le());
        debug_assert_eq!(one, s);
        self.root = self.merge(a, b);
    }

    /// Sets `member`'s score; the previous one when it was there.
    pub fn set(&mut self, member: &[u8], score: f64) -> Option<f64> {
        if let Some(s) = self.find(member) {
            let old = self.nodes[s as usize].score;
            if old.to_bits() != score.to_bits() {
                self.detach(s);
                self.nodes[s as usize].score = score;
                self.attach(s);
            }
            return Some(old);
        }
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let node = Node {
            member: member.into(),
            score,
            left: NIL,
            right: NIL,
            size: 1,
            prio: (self.seed >> 32) as u32,
        };
        self.heap += member.len();
        let s = match self.free.pop() {
            Some(s) => {
                self.nodes[s as usize] = node;
                s
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        let h = self.hasher.hash_one(member);
        let Tree {
            nodes,
            index,
            hasher,
            ..
        } = self;
        index.insert_unique(h, s, |&j| hasher.hash_one(&*nodes[j as usize].member));
        self.attach(s);
        None
    }

    /// Removes `member`; its score when it was there.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let h = self.hasher.hash_one(member);
        let nodes = &self.nodes;
        let found = self
            .index
            .find_entry(h, |&j| &*nodes[j as usize].member == member)
            .ok()?;
        let (s, _) = found.remove();
        self.detach(s);
        let n = &mut self.nodes[s as usize];
        let score = n.score;
        self.heap -= n.member.len();
        n.member = Box::default();
        n.size = 0;
        self.free.push(s);
        if self.is_empty() {
            *self = Tree::default();
        } else if self.nodes.len() > 64 && self.free.len() * 4 > self.nodes.len() * 3 {
            self.compact();
        }
        Some(score)
    }

    /// Moves the live slots of a tree that has become mostly free down
    /// over the free ones, keeping their order (see the module doc on
    /// scans), and gives the memory back.
    fn compact(&mut self) {
        let mut new_of = vec![NIL; self.nodes.len()];
        let mut next = 0;
        for (i, n) in self.nodes.iter().enumerate() {
            if n.size > 0 {
                new_of[i] = next;
                next += 1;
            }
        }
        let moved = |t: u32| if t == NIL { NIL } else { new_of[t as usize] };
        for (i, &to) in new_of.iter().enumerate() {
            if to == NIL {
                continue;
            }
            let (l, r) = (self.nodes[i].left, self.nodes[i].right);
            self.nodes[i].left = moved(l);
            self.nodes[i].right = moved(r);
            self.nodes.swap(i, to as usize);
        }
        self.root = moved(self.root);
        self.index
            .iter_mut()
            .for_each(|slot| *slot = new_of[*slot as usize]);
        self.nodes.truncate(next as usize);
        self.nodes.shrink_to_fit();
        self.free = Vec::new();
        let Tree {
            nodes,
            index,
            hasher,
            ..
        } = self;
        index.shrink_to(0, |&j| hasher.hash_one(&*nodes[j as usize].member));
    }

    /// One step of a scan (see the module doc): visits the slots below
    /// `cursor` (0: from the top) down to `count` slots lower, and returns
    /// the next cursor, 0 when done.
    pub fn scan(&self, cursor: u64, count: usize, mut visit: impl FnMut(&[u8], f64)) -> u64 {
        let len = self.nodes.len() as u64;
        let top = if cursor == 0 { len } else { cursor.min(len) };
        let bottom = top.saturating_sub(count.max(1) as u64);
        for i in (bottom..top).rev() {
            let n = &self.nodes[i as usize];
            if n.size > 0 {
                visit(&n.member, n.score);
            }
        }
        bottom
    }

    /// How many members, from the lowest, satisfy `before` (a prefix).
    pub fn count_while(&self, before: impl Fn(f64, &[u8]) -> bool) -> usize {
        let (mut t, mut n) = (self.root, 0);
        while t != NIL {
            let node = &self.nodes[t as usize];
            if before(node.score, &node.member) {
                n += self.size(node.left) as usize + 1;
                t = node.right;
            } else {
                t = node.left;
            }
        }
        n
    }

    /// The member of rank `i` (below `len()`) and its score.
    pub fn nth(&self, mut i: usize) -> (&[u8], f64) {
        let mut t = self.root;
        loop {
            let node = &self.nodes[t as usize];
            let left = self.size(node.left) as usize;
            match i.cmp(&left) {
                Ordering::Less => t = node.left,
                Ordering::Equal => return (&node.member, node.score),
                Ordering::Greater => {
                    i -= left + 1;
                    t = node.right;
                }
            }
        }
    }
}

impl PartialEq for Tree {
    /// The same members with the same scores.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && (0..self.len()).all(|i| {
                let (m, s) = self.nth(i);
                other.score(m) == Some(s)
            })
    }
}

impl std::fmt::Debug for Tree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries((0..self.len()).map(|i| {
                let (m, s) = self.nth(i);
                (String::from_utf8_lossy(m), s)
            }))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn a_zset_becomes_a_tree_past_either_limit_and_stays_one() {
        let limits = ZsetLimits {
            max_entries: 3,
            max_value: 8,
        };
        let mut z = Zset::default();
        for (m, s) in [("c", 3.0), ("a", 1.0), ("b", 1.0)] {
            assert_eq!(z.set(m.as_bytes(), s, limits), None);
        }
        assert_eq!(z.set(b"c", 0.5, limits), Some(3.0));
        assert_eq!(z.encoding(), "listpack");
        let order: Vec<_> = z.iter().map(|(m, _)| m.to_vec()).collect();
        assert_eq!(order, [b"c", b"a", b"b"]);
        z.set(b"d", 9.0, limits);
        assert_eq!((z.encoding(), z.len()), ("skiplist", 4));
        assert_eq!(z.rank(b"d"), Some(3));
        for m in ["a", "b", "c"] {
            assert!(z.remove(m.as_bytes()).is_some());
        }
        assert_eq!(z.encoding(), "skiplist");
        let mut long = Zset::default();
        long.set(b"a member too long", 1.0, limits);
        assert_eq!(long.encoding(), "skiplist");
        assert_eq!(
            Zset::for_first(
                b"x",
                ZsetLimits {
                    max_entries: 0,
                    max_value: 64
                }
            )
            .encoding(),
            "skiplist"
        );
    }

    #[test]
    fn both_forms_agree_with_a_sorted_model() {
        let small = ZsetLimits::default();
        let tiny = ZsetLimits {
            max_entries: 0,
            max_value: 64,
        };
        let (mut p, mut t) = (Zset::default(), Zset::Tree(Box::default()));
        let mut model: BTreeMap<Vec<u8>, f64> = BTreeMap::new();
        let mut x = 7u64;
        for _ in 0..3_000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let m = format!("m{}", (x >> 33) % 100).into_bytes();
            let s = ((x >> 20) % 7) as f64 - 3.0;
            if (x >> 40).is_multiple_of(3) {
                let want = model.remove(&m);
                assert_eq!(p.remove(&m), want);
                assert_eq!(t.remove(&m), want);
            } else {
                let want = model.insert(m.clone(), s);
                assert_eq!(p.set(&m, s, small), want);
                assert_eq!(t.set(&m, s, tiny), want);
            }
        }
        let mut sorted: Vec<(Vec<u8>, f64)> = model.into_iter().collect();
        sorted.sort_by(|a, b| order((a.1, &a.0), (b.1, &b.0)));
        assert_eq!(p.encoding(), "listpack");
        for z in [&p, &t] {
            assert_eq!(z.len(), sorted.len());
            for (i, (m, s)) in sorted.iter().enumerate() {
                assert_eq!(z.nth(i), (&m[..], *s));
                assert_eq!(z.rank(m), Some(i));
            }
            let below_zero = sorted.iter().filter(|(_, s)| *s < 0.0).count();
            assert_eq!(z.count_while(|s, _| s < 0.0), below_zero);
            let top: Vec<_> = z.range(1, 4, true).into_iter().map(|(m, _)| m).collect();
            let want: Vec<_> = sorted[1..4].iter().rev().map(|(m, _)| &m[..]).collect();
            assert_eq!(top, want);
        }
        assert_eq!(
            p,
            Zset::Pack(match &p {
                Zset::Pack(x) => x.clone(),
                _ => unreachable!(),
            })
        );
    }

    #[test]
    fn a_scan_under_removals_returns_every_member_that_stayed() {
        let mut z = Zset::Tree(Box::default());
        for i in 0..1_000 {
            z.set(
                format!("m{i}").as_bytes(),
                (i % 10) as f64,
                ZsetLimits::default(),
            );
        }
        let mut seen = std::collections::BTreeSet::new();
        let (mut cursor, mut step) = (0, 0);
        loop {
            cursor = z.scan(cursor, 10, |m, _| {
                seen.insert(m.to_vec());
            });
            // Enough removals to compact the tree on the way.
            for j in 0..9 {
                let victim = format!("m{}", (step * 97 + j * 13) % 1_000);
                z.remove(victim.as_bytes());
            }
            step += 1;
            if cursor == 0 {
                break;
            }
        }
        assert!(z.len() < 250, "compacted on the way: {}", z.len());
        for (m, _) in z.iter() {
            assert!(seen.contains(m), "{}", String::from_utf8_lossy(m));
        }
    }

    #[test]
    fn a_tree_gives_memory_back_and_frees_in_steps() {
        let mut z = Zset::Tree(Box::default());
        for i in 0..10_000 {
            z.set(format!("m{i}").as_bytes(), i as f64, ZsetLimits::default());
        }
        let full = z.heap_bytes();
        for i in 0..9_990 {
            assert_eq!(z.remove(format!("m{i}").as_bytes()), Some(i as f64));
        }
        assert!(z.heap_bytes() < full / 50, "{} of {full}", z.heap_bytes());
        for i in 9_990..10_000 {
            assert_eq!(z.rank(format!("m{i}").as_bytes()), Some(i - 9_990));
        }
        assert_eq!(z.nth(0), (&b"m9990"[..], 9990.0));
        z.free_some(4);
        assert_eq!(z.len(), 6);
    }
}
