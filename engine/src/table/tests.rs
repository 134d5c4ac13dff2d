use super::*;
use crate::value::{StrVal, Value};

fn entry(k: &[u8]) -> Entry {
    Entry::new(k, Value::Str(StrVal::raw(b"v")), 0, 0)
}

#[test]
fn a_slot_is_eight_bytes() {
    assert_eq!(std::mem::size_of::<Option<Entry>>(), 8);
}

#[test]
fn grows_by_splitting_and_finds_everything() {
    let mut t = Table::new();
    for i in 0..50_000u32 {
        t.insert_new(entry(format!("key:{i}").as_bytes()));
    }
    assert_eq!(t.len(), 50_000);
    assert!(t.segments() > 4);
    for i in 0..50_000u32 {
        let k = format!("key:{i}");
        assert_eq!(t.get(k.as_bytes()).map(Entry::key), Some(k.as_bytes()));
    }
    assert!(t.get(b"key:50000").is_none());
    assert!(t.remove(b"key:7").is_some());
    assert!(t.get(b"key:7").is_none());
    assert_eq!(t.len(), 49_999);
    assert_eq!(t.iter().count(), 49_999);
    assert!(t.nth(49_998).is_some() && t.nth(49_999).is_none());
    let slots: usize = t.all_segments().map(Segment::capacity).sum();
    assert!(slots * 8 < 50_000 * 8 * 5 / 2, "slots stay over 40% full");
}

#[test]
fn upsert_finds_or_inserts_once() {
    let mut t = Table::new();
    for round in 0..2 {
        for i in 0..5_000u32 {
            let k = format!("u:{i}");
            let (e, found) = t.upsert(k.as_bytes(), || entry(k.as_bytes()));
            assert_eq!(found, round == 1);
            assert_eq!(e.key(), k.as_bytes());
        }
    }
    assert_eq!(t.len(), 5_000);
}

#[test]
fn expired_entries_go_on_read_and_in_the_sweep() {
    let mut t = Table::new();
    for i in 0..10_000u32 {
        let at = if i % 2 == 0 { 100 } else { 0 };
        let k = format!("x:{i}");
        t.insert_new(Entry::new(k.as_bytes(), Value::Str(StrVal::Int(1)), at, 0));
    }
    assert_eq!(t.get_live(b"x:0", 50).map(|e| e.expire_at()), Ok(100));
    assert_eq!(t.get_live(b"x:0", 100).map(|_| ()), Err(true));
    assert_eq!(t.get_live(b"x:0", 100).map(|_| ()), Err(false));
    let mut gone = 1;
    for s in 0..t.segments() {
        gone += t.sweep_segment(s, |e| e.expire_at() != 0).len();
    }
    assert_eq!(gone, 5_000);
    assert_eq!(t.len(), 5_000);
    assert!(t.iter().all(|e| e.expire_at() == 0));
}

#[test]
fn scan_returns_every_key_once_even_across_splits() {
    let mut t = Table::new();
    for i in 0..10_000u32 {
        t.insert_new(entry(format!("a:{i}").as_bytes()));
    }
    let mut seen = std::collections::HashSet::new();
    let mut pos = 0;
    let mut extra = 0u32;
    loop {
        let mut got = Vec::new();
        pos = t.scan(pos, 100, |e| got.push(e.key().to_vec()));
        for k in got {
            assert!(seen.insert(k), "returned twice");
        }
        // Keep growing the table mid-scan so segments split under the cursor.
        for _ in 0..50 {
            t.insert_new(entry(format!("b:{extra}").as_bytes()));
            extra += 1;
        }
        if pos == POS_END {
            break;
        }
    }
    for i in 0..10_000u32 {
        assert!(seen.contains(format!("a:{i}").as_bytes()), "missed a:{i}");
    }
}

#[test]
fn memory_ahead_of_need_is_bounded() {
    let mut t = Table::new();
    assert_eq!(
        t.spare_slots.bytes(),
        0,
        "an empty table keeps nothing ready"
    );
    for i in 0..200_000u32 {
        t.insert_new(entry(format!("m:{i}").as_bytes()));
    }
    let ready = t.spare_slots.bytes() + t.spare_dir.bytes();
    assert!(ready <= (SPARE_SEGS + 1) * MAX_CAP * 8 + 4 * CHUNK * 4);
    t.clear();
    assert!(t.is_empty() && t.get(b"m:1").is_none());
}

#[test]
fn prefetch_is_only_a_hint() {
    let empty = Table::new();
    empty.prefetch(&[b"a", b"b"]);
    let mut t = Table::new();
    for i in 0..3_000u32 {
        t.insert_new(entry(format!("p:{i}").as_bytes()));
    }
    // Present and absent keys, more than one call looks at.
    let names: Vec<String> = (0..PREFETCH_KEYS as u32 * 2)
        .map(|i| format!("p:{}", i * 97))
        .collect();
    let keys: Vec<&[u8]> = names.iter().map(|k| k.as_bytes()).collect();
    t.prefetch(&keys);
    assert_eq!(t.len(), 3_000);
    for k in &names {
        assert_eq!(
            t.get(k.as_bytes()).is_some(),
            k[2..].parse::<u32>().unwrap() < 3_000
        );
    }
}
