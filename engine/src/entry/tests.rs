use super::*;
use crate::types::{Hash, HashLimits, Set};

fn s(b: &[u8]) -> Value<'_> {
    Value::Str(StrVal::from_bytes(b))
}

fn bytes(e: &Entry) -> Vec<u8> {
    let Value::Str(v) = e.value() else {
        panic!("{e:?} is not a string")
    };
    v.to_vec()
}

#[test]
fn encodings_follow_redis() {
    let long = [b'x'; 45];
    let big = vec![b'y'; SHARED_MIN];
    for (val, enc) in [
        (&b"12"[..], "int"),
        (b"012", "embstr"),
        (&long[..44], "embstr"),
        (&long[..], "raw"),
        (&big[..], "raw"),
    ] {
        let e = Entry::new(b"k", s(val), 0, 0);
        assert_eq!(e.encoding(), enc, "{} bytes", val.len());
        assert_eq!(bytes(&e), val);
        assert_eq!(e.key(), b"k");
    }
    let e = Entry::new(b"k", s(&big), 0, 0);
    let rc = e.shared().expect("a large value is shared");
    assert_eq!(&rc[..], &big[..]);
    drop(e);
    assert_eq!(Rc::strong_count(&rc), 1, "the entry let its count go");
}

#[test]
fn expiry_lru_and_tag_survive_moves() {
    let mut e = Entry::new(b"key", s(b"value"), 0, 0x12_3456);
    e.set_tag((1 << TAG_BITS) - 1);
    assert_eq!(e.expire_at(), 0);
    e.set_expire_at(1_700_000_000_000);
    assert_eq!(e.expire_at(), 1_700_000_000_000);
    e.set_expire_at(5);
    assert_eq!(e.expire_at(), 5);
    assert_eq!(
        (e.lru(), e.tag(), e.key()),
        (0x12_3456, (1 << TAG_BITS) - 1, &b"key"[..])
    );
    e.set_lru(7);
    e.set_expire_at(0);
    assert_eq!(
        (e.expire_at(), e.lru(), bytes(&e)),
        (0, 7, b"value".to_vec())
    );
    e.reset(s(b"42"), 9, 8);
    assert_eq!((e.encoding(), e.expire_at(), e.lru()), ("int", 9, 8));
    e.set_value(s(b"other"));
    assert_eq!(
        (bytes(&e), e.expire_at(), e.tag()),
        (b"other".to_vec(), 9, (1 << TAG_BITS) - 1)
    );
}

#[test]
fn edits_grow_in_place_and_read_raw() {
    let mut e = Entry::new(b"k", s(b"123"), 77, 0);
    e.edit(3)[0] = b'9';
    assert_eq!((bytes(&e), e.encoding()), (b"923".to_vec(), "raw"));
    for i in 0..5_000usize {
        let len = e.edit(0).len();
        e.edit(len + 1)[len] = b'a' + (i % 26) as u8;
    }
    let v = bytes(&e);
    assert_eq!(v.len(), 5_003);
    assert_eq!(&v[..4], b"923a");
    assert_eq!(e.expire_at(), 77, "the TTL stays");
    assert!(e.mem_bytes() >= 5_003 && e.mem_bytes() <= 2 * 8_192);
    e.set_expire_at(0);
    assert_eq!(bytes(&e), v);
}

#[test]
fn rename_and_copy_keep_value_and_encoding() {
    let big = vec![b'z'; 10_000];
    let long_key = vec![b'k'; 70_000];
    let e = Entry::new(b"a", s(&big), 123, 5);
    let rc = e.shared().unwrap();
    let e = e.with_key(&long_key);
    assert_eq!((e.key(), e.expire_at(), e.lru()), (&long_key[..], 123, 5));
    let copy = e.duplicate(b"b", 6);
    assert_eq!(
        (copy.key(), copy.lru(), copy.encoding()),
        (&b"b"[..], 6, "raw")
    );
    assert_eq!(bytes(&copy), big);
    assert_eq!(Rc::strong_count(&rc), 3, "one buffer, three holders");
    drop((e, copy));
    assert_eq!(Rc::strong_count(&rc), 1);
    let mut g = Entry::new(b"g", s(b"x"), 0, 0);
    g.edit(2);
    let copy = g.duplicate(b"h", 0);
    assert_eq!((copy.encoding(), bytes(&copy)), ("raw", b"x\0".to_vec()));
}

#[test]
fn a_value_replaced_by_another_kind_frees_the_old_one() {
    let big = vec![b'q'; SHARED_MIN + 1];
    let mut e = Entry::new(b"k", s(&big), 0, 0);
    let rc = e.shared().unwrap();
    e.reset(s(b"1"), 0, 0);
    assert_eq!(Rc::strong_count(&rc), 1);
    e.reset(s(&big), 0, 0);
    e.reset(s(&big[..200]), 0, 0);
    assert_eq!((bytes(&e), e.encoding()), (big[..200].to_vec(), "raw"));
}

fn hash_of(n: usize) -> Coll {
    let mut h = Hash::default();
    for i in 0..n {
        let f = format!("field{i}");
        h.set(f.as_bytes(), b"value", HashLimits::default());
    }
    Coll::Hash(h)
}

fn fields(e: &Entry) -> usize {
    match e.value() {
        Value::Hash(h) => h.len(),
        other => panic!("{other:?} is not a hash"),
    }
}

#[test]
fn a_collection_lives_in_the_block_and_moves_with_it() {
    let long_key = vec![b'k'; 70_000];
    for key in [&b"h"[..], &long_key] {
        let mut e = Entry::new_coll(key, hash_of(3), 0, 9);
        e.set_tag(5);
        assert_eq!(
            (e.type_name(), e.encoding(), fields(&e)),
            ("hash", "listpack", 3)
        );
        assert_eq!(e.key(), key);
        // A TTL moves the block; the collection goes with it, changeable.
        e.set_expire_at(77);
        let Some(Coll::Hash(h)) = e.coll_mut() else {
            panic!("a hash")
        };
        h.set(b"more", b"v", HashLimits::default());
        e.set_expire_at(0);
        assert_eq!((fields(&e), e.lru(), e.tag(), e.key()), (4, 9, 5, key));
        let renamed = e.with_key(b"other");
        assert_eq!((renamed.key(), fields(&renamed)), (&b"other"[..], 4));
    }
}

#[test]
fn a_copy_owns_its_own_collection() {
    let mut e = Entry::new_coll(b"a", hash_of(200), 5, 0);
    assert_eq!(e.encoding(), "hashtable");
    let mut copy = e.duplicate(b"b", 1);
    if let Some(Coll::Hash(h)) = copy.coll_mut() {
        h.remove(b"field0");
    }
    assert_eq!((fields(&e), fields(&copy), copy.expire_at()), (200, 199, 5));
    drop(copy);
    if let Some(Coll::Hash(h)) = e.coll_mut() {
        assert!(h.remove(b"field0"), "the original was not touched");
    }
}

#[test]
fn memory_counts_what_a_collection_holds() {
    let small = Entry::new_coll(b"k", hash_of(2), 0, 0);
    let big = Entry::new_coll(b"k", hash_of(1_000), 0, 0);
    assert!(small.mem_bytes() < 128, "{}", small.mem_bytes());
    // A thousand fields of ~15 bytes each, and the table around them.
    assert!(big.mem_bytes() > 15_000, "{}", big.mem_bytes());
}

#[test]
fn replacing_a_collection_with_a_string_and_back() {
    let mut e = Entry::new_coll(b"k", Coll::Set(Set::for_member(b"1")), 0, 0);
    assert_eq!((e.type_name(), e.encoding()), ("set", "intset"));
    e.reset(s(b"text"), 10, 0);
    assert_eq!(
        (bytes(&e), e.expire_at(), e.type_name()),
        (b"text".to_vec(), 10, "string")
    );
    let h = hash_of(1);
    let Coll::Hash(h) = &h else { unreachable!() };
    e.set_value(Value::Hash(h));
    assert_eq!((e.type_name(), e.expire_at(), fields(&e)), ("hash", 10, 1));
    assert!(e.coll_mut().is_some());
}

#[test]
fn strings_are_not_bigger_for_the_new_kinds() {
    // 8 header + 16 key + 100 value: the 128-byte class, as before.
    let e = Entry::new(&[b'k'; 16], s(&[b'v'; 100]), 0, 0);
    assert_eq!(e.mem_bytes(), 124);
    assert!(Entry::new(b"k", s(b"1"), 0, 0).coll_mut().is_none());
}

/// What a small collection under a 16-byte key costs (the figures the
/// memory comparison with redis-server starts from): the block is 64 bytes
/// (header 8, the `Coll` 40, the key 16), plus the one compact buffer.
#[test]
fn small_collections_are_one_block_and_one_buffer() {
    let key = [b'k'; 16];
    let mut h = Hash::default();
    for i in 0..10 {
        let (f, v) = (format!("field{i}"), format!("value{i}"));
        h.set(f.as_bytes(), v.as_bytes(), HashLimits::default());
    }
    // 20 strings of 6 bytes, each with a 1-byte length.
    let hash = Entry::new_coll(&key, Coll::Hash(h), 0, 0);
    assert_eq!(hash.mem_bytes(), 64 + 20 * 7);
    let mut ints = Set::for_member(b"0");
    for i in 0..10 {
        ints.add(format!("{}", i * 1000).as_bytes(), 512);
    }
    // Ten members below 2^15: two bytes each.
    let ints = Entry::new_coll(&key, Coll::Set(ints), 0, 0);
    assert_eq!(ints.mem_bytes(), 64 + 10 * 2);
}
