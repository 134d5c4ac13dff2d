//! Connections: CLIENT SETNAME/GETNAME/ID/LIST/KILL/REPLY across shards,
//! and the limits Redis puts on clients (idle timeout, maxclients).

mod common;

use common::{encode, query, query_err, Reply, Server};
use std::time::Duration;

#[test]
fn client_name_id_and_list() {
    let server = Server::start(2, &[]);
    let mut con = server.client();
    let mut other = server.client();
    assert_eq!(
        query::<Option<String>>(&mut con, &["CLIENT", "GETNAME"]),
        None
    );
    assert_eq!(
        query::<String>(&mut con, &["CLIENT", "SETNAME", "alpha"]),
        "OK"
    );
    assert_eq!(query::<String>(&mut con, &["CLIENT", "GETNAME"]), "alpha");
    assert_eq!(
        query_err(&mut con, &["CLIENT", "SETNAME", "a b"]),
        "ERR Client names cannot contain spaces, newlines or special characters."
    );
    let id: i64 = query(&mut con, &["CLIENT", "ID"]);
    let other_id: i64 = query(&mut other, &["CLIENT", "ID"]);
    assert!(id > 0 && other_id > 0 && id != other_id);
    // LIST gathers every shard's clients.
    let per_shard = server.raw_per_shard(2);
    let list: String = query(&mut other, &["CLIENT", "LIST"]);
    let line = |id: i64| {
        list.lines()
            .find(|l| l.starts_with(&format!("id={id} ")))
            .unwrap_or_else(|| panic!("client {id} not in CLIENT LIST:\n{list}"))
    };
    assert!(line(id).contains(" name=alpha "), "{}", line(id));
    assert!(line(other_id).contains(" cmd=client"), "{}", line(other_id));
    for (id, _) in &per_shard {
        line(*id);
    }
    let only: String = query(&mut other, &["CLIENT", "LIST", "ID", &id.to_string()]);
    assert_eq!(only.lines().count(), 1);
    assert!(only.starts_with(&format!("id={id} ")));
}

#[test]
fn client_kill_id_closes_the_connection() {
    let server = Server::start(2, &[]);
    let mut killer = server.raw();
    let Reply::Int(killer_id) = killer.cmd(&["CLIENT", "ID"]) else {
        panic!("CLIENT ID");
    };
    // One victim on the killer's shard, one on the other.
    let victims = server.raw_per_shard(2);
    for (id, mut victim) in victims {
        let id = id.to_string();
        assert_eq!(killer.cmd(&["CLIENT", "KILL", "ID", &id]), Reply::Int(1));
        victim.expect_closed();
        assert_eq!(killer.cmd(&["CLIENT", "KILL", "ID", &id]), Reply::Int(0));
    }
    // SKIPME defaults to yes: killing yourself by id needs SKIPME no.
    let me = killer_id.to_string();
    assert_eq!(killer.cmd(&["CLIENT", "KILL", "ID", &me]), Reply::Int(0));
    assert_eq!(killer.cmd(&["PING"]), Reply::Simple("PONG".into()));
}

#[test]
fn client_reply_off_on_skip() {
    // Two shards, many keys: replies from other shards must be dropped too.
    let server = Server::start(2, &[]);
    let mut raw = server.raw();
    let keys: Vec<String> = (0..20).map(|i| format!("key:{i}")).collect();
    let mut pipeline = encode(&["CLIENT", "REPLY", "OFF"]);
    for k in &keys {
        pipeline.extend(encode(&["SET", k, "off"]));
        pipeline.extend(encode(&["GET", k]));
    }
    pipeline.extend(encode(&["NOSUCHCOMMAND"]));
    pipeline.extend(encode(&["CLIENT", "REPLY", "ON"]));
    pipeline.extend(encode(&["GET", &keys[7]]));
    raw.send(&pipeline);
    // Nothing said while OFF, so the first bytes are ON's +OK.
    assert_eq!(raw.read(), Reply::ok());
    assert_eq!(raw.read(), Reply::bulk("off"));

    let mut pipeline = encode(&["CLIENT", "REPLY", "SKIP"]);
    pipeline.extend(encode(&["SET", &keys[3], "skipped"]));
    for k in &keys[..5] {
        pipeline.extend(encode(&["GET", k]));
    }
    raw.send(&pipeline);
    let want = ["off", "off", "off", "skipped", "off"];
    for w in want {
        assert_eq!(raw.read(), Reply::bulk(w));
    }
    raw.send(&encode(&["CLIENT", "REPLY", "OFF"]));
    raw.expect_silence(Duration::from_millis(100));
    assert_eq!(raw.cmd(&["CLIENT", "REPLY", "ON"]), Reply::ok());
}

#[test]
fn client_kill_self_replies_then_closes() {
    let server = Server::start(2, &[]);
    let mut raw = server.raw();
    let Reply::Int(id) = raw.cmd(&["CLIENT", "ID"]) else {
        panic!("CLIENT ID");
    };
    let id = id.to_string();
    // Redis queues the reply, then closes (CLIENT_CLOSE_AFTER_REPLY).
    let wire = encode(&["CLIENT", "KILL", "ID", &id, "SKIPME", "no"]);
    raw.send(&wire);
    assert_eq!(raw.read(), Reply::Int(1));
    raw.expect_closed();
}

#[test]
fn client_idle_counts_from_the_last_command() {
    let server = Server::start(1, &[]);
    let mut con = server.client();
    let _: String = query(&mut con, &["PING"]);
    // Seconds are the unit, so one has to pass.
    std::thread::sleep(Duration::from_millis(1100));
    let line: String = query(&mut con, &["CLIENT", "INFO"]);
    let field = |name: &str| -> u64 {
        line.split_whitespace()
            .find_map(|f| f.strip_prefix(name))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {line}"))
    };
    assert!(field("age=") >= 1, "{line}");
    assert_eq!(field("idle="), 0, "{line}");
}

#[test]
fn idle_clients_are_closed_after_timeout() {
    let server = Server::start(1, &["--timeout", "1"]);
    let mut idle = server.raw();
    assert_eq!(idle.cmd(&["PING"]), Reply::Simple("PONG".into()));
    // Redis closes it within about a second of the timeout; expect_closed
    // waits up to common::IO_TIMEOUT.
    idle.expect_closed();
}

#[test]
fn maxclients_counts_clients_of_every_shard() {
    // 64 clients spread by the kernel over 2 shards: an uneven split is all
    // but certain, and each one must still be accepted.
    let server = Server::start(2, &["--maxclients", "64"]);
    let mut clients: Vec<_> = (0..64).map(|_| server.raw()).collect();
    for (i, c) in clients.iter_mut().enumerate() {
        assert_eq!(c.cmd(&["PING"]), Reply::Simple("PONG".into()), "client {i}");
    }
    // The refusal comes unasked; sending first could turn the close into a
    // reset that discards it.
    let mut over = server.raw();
    assert_eq!(over.read(), Reply::err("ERR max number of clients reached"));
    over.expect_closed();
}
