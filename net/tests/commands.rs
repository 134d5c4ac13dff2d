//! Commands end to end through the `redis` crate: strings and keys, TTLs,
//! databases, HELLO, AUTH, CONFIG, INFO, COMMAND and the errors for unknown
//! commands and wrong arity.

mod common;

use common::{query, query_err, Reply, Server};
use redis::{Commands, Value};
use std::collections::HashMap;

#[test]
fn strings_and_keys() {
    let server = Server::start(1, &[]);
    let mut con = server.client();
    let () = con.set("k", "v").unwrap();
    assert_eq!(
        con.get::<_, Option<String>>("k").unwrap().as_deref(),
        Some("v")
    );
    assert_eq!(con.get::<_, Option<String>>("missing").unwrap(), None);
    assert_eq!(con.exists::<_, i64>(&["k", "missing", "k"]).unwrap(), 2);
    assert_eq!(con.incr::<_, _, i64>("n", 1).unwrap(), 1);
    assert_eq!(con.incr::<_, _, i64>("n", 41).unwrap(), 42);
    assert_eq!(
        query_err(&mut con, &["INCR", "k"]),
        "ERR value is not an integer or out of range"
    );
    let () = con.mset(&[("a", "1"), ("b", "2")]).unwrap();
    let got: Vec<Option<String>> = con.mget(&["a", "missing", "b", "n"]).unwrap();
    assert_eq!(
        got,
        [Some("1".into()), None, Some("2".into()), Some("42".into())]
    );
    assert_eq!(con.del::<_, i64>(&["a", "b", "missing"]).unwrap(), 2);
    assert_eq!(con.exists::<_, i64>("a").unwrap(), 0);
}

#[test]
fn expire_ttl_persist() {
    let server = Server::start(1, &[]);
    let mut con = server.client();
    let () = con.set("k", "v").unwrap();
    assert_eq!(con.ttl::<_, i64>("k").unwrap(), -1);
    assert_eq!(con.ttl::<_, i64>("missing").unwrap(), -2);
    assert_eq!(con.expire::<_, i64>("k", 100).unwrap(), 1);
    let ttl: i64 = con.ttl("k").unwrap();
    assert!((99..=100).contains(&ttl), "ttl {ttl}");
    let pttl: i64 = con.pttl("k").unwrap();
    assert!((99_000..=100_000).contains(&pttl), "pttl {pttl}");
    assert_eq!(con.persist::<_, i64>("k").unwrap(), 1);
    assert_eq!(con.persist::<_, i64>("k").unwrap(), 0);
    assert_eq!(con.ttl::<_, i64>("k").unwrap(), -1);
    assert_eq!(con.expire::<_, i64>("missing", 100).unwrap(), 0);
    // SET without KEEPTTL drops the TTL.
    let () = con.set_ex("k", "v", 50).unwrap();
    assert!(con.ttl::<_, i64>("k").unwrap() > 0);
    let () = con.set("k", "w").unwrap();
    assert_eq!(con.ttl::<_, i64>("k").unwrap(), -1);
}

#[test]
fn select_separates_databases() {
    let server = Server::start(2, &[]);
    let mut con = server.client();
    // Enough keys that both shards hold some.
    let zero: Vec<(String, String)> = (0..20).map(|i| (format!("k{i}"), "zero".into())).collect();
    let names: Vec<&str> = zero.iter().map(|(k, _)| k.as_str()).collect();
    let () = con.mset(&zero).unwrap();
    assert_eq!(query::<String>(&mut con, &["SELECT", "5"]), "OK");
    let got: Vec<Option<String>> = con.mget(&names).unwrap();
    assert!(got.iter().all(Option::is_none), "{got:?}");
    let () = con.set("k3", "five").unwrap();
    assert_eq!(query::<i64>(&mut con, &["DBSIZE"]), 1);
    assert_eq!(con.keys::<_, Vec<String>>("*").unwrap(), ["k3"]);
    assert_eq!(query::<String>(&mut con, &["SELECT", "0"]), "OK");
    assert_eq!(con.get::<_, String>("k3").unwrap(), "zero");
    assert_eq!(query::<i64>(&mut con, &["DBSIZE"]), 20);
    assert_eq!(
        query_err(&mut con, &["SELECT", "16"]),
        "ERR DB index is out of range"
    );
    // A new connection starts in db 0, whichever shard accepted it.
    let mut other = server.client();
    assert_eq!(other.get::<_, String>("k3").unwrap(), "zero");
}

#[test]
fn hello_3_then_back_to_2() {
    let server = Server::start(1, &[]);
    let mut con = server.client();
    let Value::Map(fields) = query::<Value>(&mut con, &["HELLO", "3"]) else {
        panic!("HELLO 3 must answer a RESP3 map");
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| *k == Value::BulkString(name.into()))
            .map(|(_, v)| v.clone())
    };
    assert_eq!(field("proto"), Some(Value::Int(3)));
    assert_eq!(field("server"), Some(Value::BulkString(b"redis".to_vec())));
    let id: i64 = query(&mut con, &["CLIENT", "ID"]);
    assert_eq!(field("id"), Some(Value::Int(id)));
    // Replies now use RESP3 types: CONFIG GET is a map.
    assert!(matches!(
        query::<Value>(&mut con, &["CONFIG", "GET", "hz"]),
        Value::Map(_)
    ));
    assert_eq!(query::<Value>(&mut con, &["GET", "missing"]), Value::Nil);
    let Value::Array(flat) = query::<Value>(&mut con, &["HELLO", "2"]) else {
        panic!("HELLO 2 must answer a flat array");
    };
    assert_eq!(flat.len(), 14);
    assert!(matches!(
        query::<Value>(&mut con, &["CONFIG", "GET", "hz"]),
        Value::Array(_)
    ));
    assert_eq!(
        query_err(&mut con, &["HELLO", "4"]),
        "NOPROTO unsupported protocol version"
    );
}

#[test]
fn auth_with_requirepass() {
    let server = Server::start(1, &["--requirepass", "s3cret"]);
    let mut con = server.client();
    assert_eq!(
        query_err(&mut con, &["GET", "k"]),
        "NOAUTH Authentication required."
    );
    assert_eq!(
        query_err(&mut con, &["AUTH", "wrong"]),
        "WRONGPASS invalid username-password pair or user is disabled."
    );
    assert_eq!(
        query_err(&mut con, &["SET", "k", "v"]),
        "NOAUTH Authentication required."
    );
    assert_eq!(query::<String>(&mut con, &["AUTH", "s3cret"]), "OK");
    assert_eq!(query::<String>(&mut con, &["SET", "k", "v"]), "OK");
    // The two-argument form names the default user; the crate's URL form uses AUTH too.
    let mut other = server.client();
    assert_eq!(
        query::<String>(&mut other, &["AUTH", "default", "s3cret"]),
        "OK"
    );
    let client = redis::Client::open(format!("redis://:s3cret@127.0.0.1:{}/", server.port));
    let mut by_url = client.unwrap().get_connection().unwrap();
    assert_eq!(by_url.get::<_, String>("k").unwrap(), "v");
}

#[test]
fn config_get_set_reach_every_shard() {
    let server = Server::start(2, &[]);
    let mut con = server.client();
    let get = |con: &mut redis::Connection, name: &str| -> HashMap<String, String> {
        query(con, &["CONFIG", "GET", name])
    };
    assert_eq!(
        get(&mut con, "maxmemory-policy")["maxmemory-policy"],
        "noeviction"
    );
    assert_eq!(get(&mut con, "hz")["hz"], "10");
    assert_eq!(
        query::<String>(
            &mut con,
            &[
                "CONFIG",
                "SET",
                "maxmemory-policy",
                "allkeys-lru",
                "hz",
                "50"
            ]
        ),
        "OK"
    );
    // Connections on every shard see the new values.
    for (_, mut raw) in server.raw_per_shard(2) {
        for (name, value) in [("maxmemory-policy", "allkeys-lru"), ("hz", "50")] {
            assert_eq!(
                raw.cmd(&["CONFIG", "GET", name]),
                Reply::Array(vec![Reply::bulk(name), Reply::bulk(value)])
            );
        }
        let Reply::Bulk(info) = raw.cmd(&["INFO", "server"]) else {
            panic!("INFO server");
        };
        let info = String::from_utf8(info).unwrap();
        assert!(info.contains("\r\nhz:50\r\n"), "{info}");
    }
    let all = get(&mut con, "maxmemory*");
    assert!(all.contains_key("maxmemory") && all.contains_key("maxmemory-samples"));
    assert!(get(&mut con, "nosuch").is_empty());
    assert_eq!(
        query_err(&mut con, &["CONFIG", "SET", "nosuch", "1"]),
        "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'"
    );
    let bad = query_err(&mut con, &["CONFIG", "SET", "maxmemory-policy", "bogus"]);
    assert!(
        bad.starts_with("ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy')"),
        "{bad}"
    );
    assert_eq!(
        get(&mut con, "maxmemory-policy")["maxmemory-policy"],
        "allkeys-lru"
    );
}

#[test]
fn info_uses_redis_field_names() {
    let server = Server::start(2, &[]);
    let mut con = server.client();
    let _keep_open = server.client();
    let pairs: Vec<(String, String)> = (0..10).map(|i| (format!("k{i}"), "v".into())).collect();
    let () = con.mset(&pairs).unwrap();
    let () = con.set_ex("volatile", "v", 100).unwrap();
    assert_eq!(query::<String>(&mut con, &["SELECT", "3"]), "OK");
    let () = con.set("in3", "v").unwrap();

    let info: String = query(&mut con, &["INFO"]);
    let field = |name: &str| -> String {
        let prefix = format!("{name}:");
        info.split("\r\n")
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no {name} in INFO:\n{info}"))
            .to_string()
    };
    for section in ["# Server", "# Clients", "# Memory", "# Stats", "# Keyspace"] {
        assert!(info.contains(section), "no {section} in INFO");
    }
    assert_eq!(field("redis_version"), "7.0.15");
    assert_eq!(field("tcp_port"), server.port.to_string());
    assert!(field("connected_clients").parse::<u64>().unwrap() >= 2);
    assert!(field("used_memory").parse::<u64>().unwrap() > 0);
    // Keyspace lines sum every shard.
    assert!(
        field("db0").starts_with("keys=11,expires=1,"),
        "{}",
        field("db0")
    );
    assert!(
        field("db3").starts_with("keys=1,expires=0,"),
        "{}",
        field("db3")
    );

    let server_only: String = query(&mut con, &["INFO", "server"]);
    assert!(server_only.contains("redis_version:"));
    assert!(!server_only.contains("connected_clients:"));
    let keyspace: String = query(&mut con, &["INFO", "keyspace"]);
    assert!(keyspace.starts_with("# Keyspace\r\n"), "{keyspace}");
}

#[test]
fn command_count_and_info() {
    let server = Server::start(1, &[]);
    let mut con = server.client();
    let count: i64 = query(&mut con, &["COMMAND", "COUNT"]);
    let all: Vec<Value> = query(&mut con, &["COMMAND"]);
    assert_eq!(all.len() as i64, count);
    assert!(count >= 40, "COMMAND COUNT {count}");

    let info: Vec<Value> = query(&mut con, &["COMMAND", "INFO", "get", "mset", "nosuch"]);
    assert_eq!(info.len(), 3);
    let Value::Array(get) = &info[0] else {
        panic!("COMMAND INFO get: {:?}", info[0]);
    };
    assert_eq!(get.len(), 10);
    assert_eq!(get[0], Value::BulkString(b"get".to_vec()));
    // Arity, first key, last key, step.
    assert_eq!(get[1], Value::Int(2));
    assert_eq!(&get[3..6], &[Value::Int(1), Value::Int(1), Value::Int(1)]);
    let Value::Array(mset) = &info[1] else {
        panic!("COMMAND INFO mset: {:?}", info[1]);
    };
    assert_eq!(mset[1], Value::Int(-3));
    assert_eq!(&mset[3..6], &[Value::Int(1), Value::Int(-1), Value::Int(2)]);
    assert_eq!(info[2], Value::Nil);
}

#[test]
fn unknown_command_and_arity_errors() {
    let server = Server::start(1, &[]);
    let mut con = server.client();
    assert_eq!(
        query_err(&mut con, &["foo", "a", "b"]),
        "ERR unknown command 'foo', with args beginning with: 'a' 'b' "
    );
    assert_eq!(
        query_err(&mut con, &["foo"]),
        "ERR unknown command 'foo', with args beginning with: "
    );
    assert_eq!(
        query_err(&mut con, &["GET"]),
        "ERR wrong number of arguments for 'get' command"
    );
    // The connection stays usable after command errors.
    assert_eq!(query::<String>(&mut con, &["PING"]), "PONG");
}
