//! Hashes and sets through the real server on two shards: they live on
//! their key's shard, the keyspace commands see them, their encoding
//! limits are CONFIG parameters every shard follows, and commands on
//! several keys run where the keys are or answer CROSSSLOT.

mod common;

use common::{keys_on_two_shards, query, query_err, shard_of, Reply, Server};

const CROSSSLOT: &str = "CROSSSLOT Keys in request don't hash to the same slot";

#[test]
fn hashes_and_sets_live_on_either_shard() {
    let server = Server::start(2, &[]);
    let mut con = server.client();
    for key in keys_on_two_shards("h") {
        assert_eq!(
            query::<i64>(&mut con, &["HSET", &key, "f", "v", "g", "w"]),
            2
        );
        assert_eq!(query::<String>(&mut con, &["HGET", &key, "g"]), "w");
        assert_eq!(query::<String>(&mut con, &["TYPE", &key]), "hash");
    }
    for key in keys_on_two_shards("s") {
        assert_eq!(query::<i64>(&mut con, &["SADD", &key, "1", "2"]), 2);
        assert_eq!(query::<String>(&mut con, &["TYPE", &key]), "set");
        assert_eq!(
            query_err(&mut con, &["GET", &key]),
            "WRONGTYPE Operation against a key holding the wrong kind of value"
        );
    }
    let mut hashes: Vec<String> = query(&mut con, &["KEYS", "h*"]);
    hashes.sort();
    let mut want = keys_on_two_shards("h").to_vec();
    want.sort();
    assert_eq!(hashes, want);
    let mut found = Vec::new();
    let mut cursor = "0".to_string();
    loop {
        let (next, keys): (String, Vec<String>) =
            query(&mut con, &["SCAN", &cursor, "TYPE", "set", "COUNT", "100"]);
        found.extend(keys);
        if next == "0" {
            break;
        }
        cursor = next;
    }
    found.sort();
    let mut sets = keys_on_two_shards("s").to_vec();
    sets.sort();
    assert_eq!(found, sets);
}

#[test]
fn encoding_limits_are_config_parameters_every_shard_follows() {
    let server = Server::start(2, &[]);
    let mut con = server.client();
    let get = |con: &mut redis::Connection, name: &str| -> Vec<String> {
        query(con, &["CONFIG", "GET", name])
    };
    assert_eq!(
        get(&mut con, "hash-max-listpack-entries"),
        ["hash-max-listpack-entries", "128"]
    );
    assert_eq!(
        get(&mut con, "set-max-intset-entries"),
        ["set-max-intset-entries", "512"]
    );
    let () = query(
        &mut con,
        &["CONFIG", "SET", "hash-max-ziplist-entries", "2"],
    );
    let () = query(
        &mut con,
        &["CONFIG", "SET", "hash-max-listpack-value", "1kb"],
    );
    let () = query(&mut con, &["CONFIG", "SET", "set-max-intset-entries", "1"]);
    assert_eq!(
        get(&mut con, "hash-max-listpack-entries"),
        ["hash-max-listpack-entries", "2"]
    );
    assert_eq!(
        get(&mut con, "hash-max-listpack-value"),
        ["hash-max-listpack-value", "1024"]
    );
    for key in keys_on_two_shards("h") {
        let long = "x".repeat(1000);
        let _: i64 = query(&mut con, &["HSET", &key, "a", &long, "b", "2"]);
        assert_eq!(
            query::<String>(&mut con, &["OBJECT", "ENCODING", &key]),
            "listpack"
        );
        let _: i64 = query(&mut con, &["HSET", &key, "c", "3"]);
        assert_eq!(
            query::<String>(&mut con, &["OBJECT", "ENCODING", &key]),
            "hashtable"
        );
    }
    for key in keys_on_two_shards("s") {
        let _: i64 = query(&mut con, &["SADD", &key, "1"]);
        assert_eq!(
            query::<String>(&mut con, &["OBJECT", "ENCODING", &key]),
            "intset"
        );
        let _: i64 = query(&mut con, &["SADD", &key, "2"]);
        assert_eq!(
            query::<String>(&mut con, &["OBJECT", "ENCODING", &key]),
            "hashtable"
        );
    }
    assert!(
        query_err(&mut con, &["CONFIG", "SET", "set-max-intset-entries", "-1"])
            .contains("set-max-intset-entries")
    );
    assert_eq!(
        get(&mut con, "zset-max-listpack-entries"),
        ["zset-max-listpack-entries", "128"]
    );
    let () = query(
        &mut con,
        &["CONFIG", "SET", "zset-max-ziplist-entries", "1"],
    );
    let () = query(&mut con, &["CONFIG", "SET", "zset-max-listpack-value", "2"]);
    assert_eq!(
        get(&mut con, "zset-max-listpack-value"),
        ["zset-max-listpack-value", "2"]
    );
    for key in keys_on_two_shards("z") {
        let _: i64 = query(&mut con, &["ZADD", &key, "1", "ab"]);
        assert_eq!(
            query::<String>(&mut con, &["OBJECT", "ENCODING", &key]),
            "listpack"
        );
        let _: i64 = query(&mut con, &["ZADD", &key, "2", "c"]);
        assert_eq!(
            query::<String>(&mut con, &["OBJECT", "ENCODING", &key]),
            "skiplist"
        );
        let _: i64 = query(&mut con, &["ZADD", &key, "1", "abc"]);
        assert_eq!(
            query::<Vec<String>>(&mut con, &["ZRANGE", &key, "0", "-1"]),
            ["ab", "abc", "c"]
        );
    }
}

#[test]
fn multi_key_zset_commands_run_where_their_keys_are() {
    let server = Server::start(2, &[]);
    let [a, b] = keys_on_two_shards("z");
    for (_, mut raw) in server.raw_per_shard(2) {
        let _ = raw.cmd(&["ZADD", &a, "1", "x"]);
        let _ = raw.cmd(&["ZADD", &b, "2", "x"]);
        for cmd in [
            vec!["ZUNION", "2", &a, &b],
            vec!["ZINTERCARD", "2", &a, &b],
            vec!["ZMPOP", "2", &a, &b, "MIN"],
            vec!["ZRANGESTORE", &b, &a, "0", "-1"],
            // The destination is a key too, besides those numkeys counts.
            vec!["ZUNIONSTORE", &b, "1", &a],
            vec!["ZDIFFSTORE", &a, "1", &b],
        ] {
            assert_eq!(raw.cmd(&cmd), Reply::Error(CROSSSLOT.into()), "{cmd:?}");
        }
        let (ta, tb, td) = ("{t}a", "{t}b", "{t}d");
        let _ = raw.cmd(&["ZADD", ta, "1", "x", "2", "y"]);
        let _ = raw.cmd(&["ZADD", tb, "3", "y"]);
        assert_eq!(
            raw.cmd(&["ZUNIONSTORE", td, "2", ta, tb, "AGGREGATE", "MAX"]),
            Reply::Int(2)
        );
        assert_eq!(raw.cmd(&["ZSCORE", td, "y"]), Reply::Bulk(b"3".to_vec()));
        assert_eq!(
            raw.cmd(&["ZINTERCARD", "2", ta, tb, "LIMIT", "0"]),
            Reply::Int(1)
        );
    }
}

#[test]
fn multi_key_set_commands_run_where_their_keys_are() {
    let server = Server::start(2, &[]);
    let [a, b] = keys_on_two_shards("k");
    // Both shards' own connections: a command may run at home or hop.
    for (_, mut raw) in server.raw_per_shard(2) {
        let _ = raw.cmd(&["SADD", &a, "1", "2"]);
        let _ = raw.cmd(&["SADD", &b, "2", "3"]);
        for cmd in [
            vec!["SMOVE", &a, &b, "1"],
            vec!["SINTER", &a, &b],
            vec!["SUNIONSTORE", &a, &a, &b],
            vec!["SINTERCARD", "2", &a, &b],
        ] {
            assert_eq!(raw.cmd(&cmd), Reply::Error(CROSSSLOT.into()), "{cmd:?}");
        }
        // SINTERCARD's keys are the ones numkeys counts: LIMIT and its
        // value are not keys, wherever they would hash.
        let (ta, tb) = ("{t}a", "{t}b");
        let _ = raw.cmd(&["SADD", ta, "1", "2", "3"]);
        let _ = raw.cmd(&["SADD", tb, "2", "3", "4"]);
        for limit in ["0", "1", "5", "LIMIT"] {
            let want = match limit {
                "0" | "5" => Reply::Int(2),
                "1" => Reply::Int(1),
                _ => Reply::Error("ERR LIMIT can't be negative".into()),
            };
            assert_eq!(raw.cmd(&["SINTERCARD", "2", ta, tb, "LIMIT", limit]), want);
        }
        assert_eq!(raw.cmd(&["SMOVE", ta, tb, "1"]), Reply::Int(1));
        assert_eq!(raw.cmd(&["SINTERSTORE", "{t}dst", ta, tb]), Reply::Int(2));
        assert_eq!(raw.cmd(&["SCARD", "{t}dst"]), Reply::Int(2));
        let _ = raw.cmd(&["DEL", ta, tb, "{t}dst", &a, &b]);
    }
    assert_ne!(shard_of(&a, 2), shard_of(&b, 2));
}

#[test]
fn lists_live_on_either_shard_and_move_within_one() {
    let server = Server::start(2, &[]);
    let [a, b] = keys_on_two_shards("l");
    for (_, mut raw) in server.raw_per_shard(2) {
        for key in [&a, &b] {
            assert_eq!(raw.cmd(&["RPUSH", key, "1", "2", "3"]), Reply::Int(3));
            assert_eq!(raw.cmd(&["TYPE", key]), Reply::Simple("list".into()));
            assert_eq!(raw.cmd(&["LINDEX", key, "-1"]), Reply::Bulk("3".into()));
        }
        for cmd in [
            vec!["LMOVE", &a, &b, "LEFT", "RIGHT"],
            vec!["RPOPLPUSH", &a, &b],
            vec!["LMPOP", "2", &a, &b, "LEFT"],
        ] {
            assert_eq!(raw.cmd(&cmd), Reply::Error(CROSSSLOT.into()), "{cmd:?}");
        }
        // LMPOP's keys are the ones numkeys counts: LEFT and COUNT's value
        // are not keys, wherever they would hash.
        let (ta, tb) = ("{t}a", "{t}b");
        let _ = raw.cmd(&["RPUSH", tb, "x", "y"]);
        assert_eq!(
            raw.cmd(&["LMPOP", "2", ta, tb, "RIGHT", "COUNT", "5"]),
            Reply::Array(vec![
                Reply::Bulk(tb.into()),
                Reply::Array(vec![Reply::Bulk("y".into()), Reply::Bulk("x".into())]),
            ])
        );
        let _ = raw.cmd(&["RPUSH", ta, "x"]);
        assert_eq!(
            raw.cmd(&["LMOVE", ta, tb, "LEFT", "LEFT"]),
            Reply::Bulk("x".into())
        );
        assert_eq!(raw.cmd(&["EXISTS", ta]), Reply::Int(0));
        let _ = raw.cmd(&["DEL", ta, tb, &a, &b]);
    }
    let mut con = server.client();
    let get = |con: &mut redis::Connection, name: &str| -> Vec<String> {
        query(con, &["CONFIG", "GET", name])
    };
    assert_eq!(
        get(&mut con, "list-max-listpack-size"),
        ["list-max-listpack-size", "-2"]
    );
    let () = query(&mut con, &["CONFIG", "SET", "list-max-ziplist-size", "1"]);
    let () = query(&mut con, &["CONFIG", "SET", "list-compress-depth", "2"]);
    assert_eq!(
        get(&mut con, "list-max-listpack-size"),
        ["list-max-listpack-size", "1"]
    );
    assert_eq!(
        get(&mut con, "list-compress-depth"),
        ["list-compress-depth", "2"]
    );
    for key in [&a, &b] {
        let _: i64 = query(&mut con, &["RPUSH", key, "a", "b", "c"]);
        let items: Vec<String> = query(&mut con, &["LRANGE", key, "0", "-1"]);
        assert_eq!(items, ["a", "b", "c"]);
        assert_eq!(
            query::<String>(&mut con, &["OBJECT", "ENCODING", key]),
            "quicklist"
        );
    }
    assert!(
        query_err(&mut con, &["CONFIG", "SET", "list-compress-depth", "-1"])
            .contains("list-compress-depth")
    );
}
