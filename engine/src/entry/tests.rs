use super::*;

fn s(b: &[u8]) -> Value<'_> {
    Value::Str(StrVal::from_bytes(b))
}

fn bytes(e: &Entry) -> Vec<u8> {
    let Value::Str(v) = e.value();
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
