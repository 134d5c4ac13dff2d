//! Commands the network layer runs because they need the connection or the
//! whole server: HELLO, AUTH, SELECT, QUIT, RESET, CLIENT, INFO, CONFIG,
//! SCAN, RANDOMKEY, DEBUG, SHUTDOWN. Their spec lines are at the bottom.

use crate::client::{KillFilter, ListFilter, ReplyMode};
use crate::conn::Conn;
use crate::info::{self, ServerFacts, ShardStats};
use crate::router::{Op, Reply};
use crate::shard::{Setting, ShardState};
use engine::spec::{CommandSpec, Exec, Route};
use engine::{cmd, Args, CmdError, Out};
use std::rc::Rc;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Flow {
    Continue,
    Close,
}

const HELLO: u16 = 0;
const AUTH: u16 = 1;
const SELECT: u16 = 2;
const QUIT: u16 = 3;
const RESET: u16 = 4;
const CLIENT: u16 = 5;
const INFO: u16 = 6;
const CONFIG: u16 = 7;
pub const SCAN: u16 = 8;
pub const RANDOMKEY: u16 = 9;
const DEBUG: u16 = 10;
const SHUTDOWN: u16 = 11;
const MEMORY: u16 = 12;

pub async fn run(
    state: &Rc<ShardState>,
    conn: &mut Conn,
    op: u16,
    id: u16,
    args: &Args<'_>,
    out: &mut Out,
) -> Flow {
    let start = engine::clock::ticks();
    let result = match op {
        HELLO => hello(state, conn, args, out),
        AUTH => auth(state, conn, args, out),
        SELECT => select(state, conn, args, out),
        QUIT => {
            out.ok();
            return Flow::Close;
        }
        RESET => {
            conn.db = 0;
            conn.resp3 = false;
            conn.reply = ReplyMode::On;
            conn.authed = state.config.borrow().requirepass.is_empty();
            {
                let mut info = conn.info.borrow_mut();
                info.name = None;
                info.db = 0;
                info.resp = 2;
                info.no_evict = false;
            }
            out.resp3 = false;
            out.simple("RESET");
            Ok(())
        }
        CLIENT => client(state, conn, args, out).await,
        INFO => info_cmd(state, args, out).await,
        CONFIG => config(state, args, out).await,
        SCAN => scan(state, conn, args, out).await,
        RANDOMKEY => randomkey(state, conn, out).await,
        DEBUG => debug(state, conn, args, out).await,
        SHUTDOWN => shutdown(args),
        MEMORY => crate::memory::memory_cmd(state, conn.db, args, out).await,
        _ => unreachable!("unknown network-layer command {op}"),
    };
    cmd::finish(&mut state.engine.borrow_mut(), id, start, result, out);
    Flow::Continue
}

type Res = Result<(), CmdError>;

fn err(s: &str) -> CmdError {
    CmdError::Other(s.to_string())
}

fn hello(state: &ShardState, conn: &mut Conn, args: &Args, out: &mut Out) -> Res {
    let mut proto = if conn.resp3 { 3 } else { 2 };
    let mut i = 1;
    if args.len() > 1 {
        proto = cmd::int_arg(args.get(1))
            .map_err(|_| err("ERR Protocol version is not an integer or out of range"))?;
        if !(2..=3).contains(&proto) {
            return Err(err("NOPROTO unsupported protocol version"));
        }
        i = 2;
    }
    let mut name = None;
    let mut authed_now = false;
    while i < args.len() {
        let more = args.len() - i - 1;
        if args.is(i, "AUTH") && more >= 2 {
            check_password(state, args.get(i + 1), args.get(i + 2))?;
            authed_now = true;
            i += 3;
        } else if args.is(i, "SETNAME") && more >= 1 {
            name = Some(valid_client_name(args.get(i + 1))?);
            i += 2;
        } else {
            return Err(CmdError::Other(format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(args.get(i))
            )));
        }
    }
    if authed_now {
        conn.authed = true;
    }
    if !conn.authed {
        return Err(err("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"));
    }
    if let Some(n) = name {
        conn.info.borrow_mut().name = n;
    }
    conn.resp3 = proto == 3;
    conn.info.borrow_mut().resp = proto as u8;
    out.resp3 = conn.resp3;
    out.map(7);
    out.bulk_str("server");
    out.bulk_str("redis");
    out.bulk_str("version");
    out.bulk_str("7.0.15");
    out.bulk_str("proto");
    out.int(proto);
    out.bulk_str("id");
    out.int(conn.id as i64);
    out.bulk_str("mode");
    out.bulk_str("standalone");
    out.bulk_str("role");
    out.bulk_str("master");
    out.bulk_str("modules");
    out.array(0);
    Ok(())
}

fn check_password(state: &ShardState, user: &[u8], pass: &[u8]) -> Res {
    let config = state.config.borrow();
    if user == b"default"
        && (config.requirepass.is_empty() || pass == config.requirepass.as_bytes())
    {
        Ok(())
    } else {
        Err(err(
            "WRONGPASS invalid username-password pair or user is disabled.",
        ))
    }
}

fn auth(state: &ShardState, conn: &mut Conn, args: &Args, out: &mut Out) -> Res {
    if args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    if args.len() == 2 && state.config.borrow().requirepass.is_empty() {
        return Err(err("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"));
    }
    let (user, pass) = if args.len() == 3 {
        (args.get(1), args.get(2))
    } else {
        (&b"default"[..], args.get(1))
    };
    check_password(state, user, pass)?;
    conn.authed = true;
    out.ok();
    Ok(())
}

fn select(state: &ShardState, conn: &mut Conn, args: &Args, out: &mut Out) -> Res {
    let db = cmd::int_arg(args.get(1))?;
    if db < 0 || db as usize >= state.config.borrow().databases {
        return Err(err("ERR DB index is out of range"));
    }
    conn.db = db as usize;
    conn.info.borrow_mut().db = conn.db;
    out.ok();
    Ok(())
}

/// Redis's rule for client names: printable ASCII without spaces.
fn valid_client_name(name: &[u8]) -> Result<Option<String>, CmdError> {
    if name.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err(err(
            "ERR Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    Ok(if name.is_empty() {
        None
    } else {
        Some(String::from_utf8_lossy(name).into_owned())
    })
}

async fn client(state: &Rc<ShardState>, conn: &mut Conn, args: &Args<'_>, out: &mut Out) -> Res {
    let sub = String::from_utf8_lossy(args.get(1)).to_lowercase();
    let argc = args.len();
    match (sub.as_str(), argc) {
        ("id", 2) => out.int(conn.id as i64),
        ("getname", 2) => match &conn.info.borrow().name {
            Some(n) => out.bulk_str(n),
            None => out.null(),
        },
        ("setname", 3) => {
            conn.info.borrow_mut().name = valid_client_name(args.get(2))?;
            out.ok();
        }
        ("info", 2) => {
            let line = conn.info.borrow().line();
            out.verbatim(format!("{line}\n").as_bytes());
        }
        ("list", _) => {
            let mut filter = ListFilter::default();
            let mut i = 2;
            while i < argc {
                if args.is(i, "TYPE") && i + 1 < argc {
                    let t = String::from_utf8_lossy(args.get(i + 1)).to_lowercase();
                    match t.as_str() {
                        "normal" => {}
                        "master" | "replica" | "slave" | "pubsub" => filter.other_type = true,
                        _ => return Err(CmdError::Other(format!("ERR Unknown client type '{t}'"))),
                    }
                    i += 2;
                } else if args.is(i, "ID") && i + 1 < argc {
                    let mut ids = Vec::new();
                    for j in i + 1..argc {
                        let id =
                            cmd::int_arg(args.get(j)).map_err(|_| err("ERR Invalid client ID"))?;
                        if id <= 0 {
                            return Err(err("ERR Invalid client ID"));
                        }
                        ids.push(id as u64);
                    }
                    filter.ids = Some(ids);
                    i = argc;
                } else {
                    return Err(CmdError::Syntax);
                }
            }
            let mut text = String::new();
            for r in state.call_all(|| Op::ClientList(filter.clone())).await {
                if let Reply::Text(t) = r {
                    text.push_str(&t);
                }
            }
            out.verbatim(text.as_bytes());
        }
        ("kill", _) => return client_kill(state, conn, args, out).await,
        ("no-evict", 3) => {
            let on = if args.is(2, "on") {
                true
            } else if args.is(2, "off") {
                false
            } else {
                return Err(CmdError::Syntax);
            };
            conn.info.borrow_mut().no_evict = on;
            out.ok();
        }
        ("reply", 3) => {
            let mode = if args.is(2, "on") {
                ReplyMode::On
            } else if args.is(2, "off") {
                ReplyMode::Off
            } else if args.is(2, "skip") {
                ReplyMode::Skip
            } else {
                return Err(CmdError::Syntax);
            };
            // OFF and SKIP send no reply to this command; SKIP drops the next one's.
            conn.reply = match mode {
                ReplyMode::On => {
                    out.ok();
                    ReplyMode::On
                }
                ReplyMode::Skip => ReplyMode::SkipNext,
                other => other,
            };
        }
        ("help", 2) => {
            let lines = [
                "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "ID",
                "    Return the ID of the current connection.",
                "GETNAME",
                "    Return the name of the current connection.",
                "SETNAME <name>",
                "    Assign the name <name> to the current connection.",
                "INFO",
                "    Return information about the current client connection.",
                "LIST [options ...]",
                "    Return information about client connections.",
                "KILL <ip:port>|<filter> [value] ... [<filter> [value] ...]",
                "    Kill connections.",
                "NO-EVICT (ON|OFF)",
                "    Protect the current client connection from eviction.",
                "REPLY (ON|OFF|SKIP)",
                "    Control the replies sent to the current connection.",
                "HELP",
                "    Print this help.",
            ];
            out.help(&lines);
        }
        _ => return Err(CmdError::bad_subcommand("CLIENT", args.get(1))),
    }
    Ok(())
}

async fn client_kill(state: &Rc<ShardState>, conn: &Conn, args: &Args<'_>, out: &mut Out) -> Res {
    let argc = args.len();
    if argc == 3 {
        // Old form: CLIENT KILL addr:port.
        let filter = KillFilter {
            addr: Some(String::from_utf8_lossy(args.get(2)).into_owned()),
            ..Default::default()
        };
        let killed = kill_everywhere(state, conn, filter).await;
        if killed == 0 {
            return Err(err("ERR No such client"));
        }
        out.ok();
        return Ok(());
    }
    if !argc.is_multiple_of(2) {
        return Err(CmdError::Syntax);
    }
    let mut f = KillFilter::default();
    let mut skipme = true;
    for i in (2..argc).step_by(2) {
        let value = String::from_utf8_lossy(args.get(i + 1)).into_owned();
        if args.is(i, "ID") {
            let id = cmd::int_arg(args.get(i + 1))
                .map_err(|_| err("ERR client-id should be greater than 0"))?;
            if id <= 0 {
                return Err(err("ERR client-id should be greater than 0"));
            }
            f.id = Some(id as u64);
        } else if args.is(i, "ADDR") {
            f.addr = Some(value);
        } else if args.is(i, "LADDR") {
            f.laddr = Some(value);
        } else if args.is(i, "TYPE") {
            match value.to_lowercase().as_str() {
                "normal" => {}
                "master" | "replica" | "slave" | "pubsub" => f.none = true,
                _ => {
                    return Err(CmdError::Other(format!(
                        "ERR Unknown client type '{value}'"
                    )))
                }
            }
        } else if args.is(i, "USER") {
            f.none |= value != "default";
        } else if args.is(i, "SKIPME") {
            skipme = match value.to_lowercase().as_str() {
                "yes" => true,
                "no" => false,
                _ => return Err(CmdError::Syntax),
            };
        } else {
            return Err(CmdError::Syntax);
        }
    }
    if skipme {
        f.skip_id = Some(conn.id);
    }
    out.int(kill_everywhere(state, conn, f).await);
    Ok(())
}

async fn kill_everywhere(state: &Rc<ShardState>, conn: &Conn, f: KillFilter) -> i64 {
    let replies = state.call_all(|| Op::ClientKill(f.clone(), conn.id)).await;
    replies
        .iter()
        .map(|r| if let Reply::Count(n) = r { *n } else { 0 })
        .sum()
}

async fn info_cmd(state: &Rc<ShardState>, args: &Args<'_>, out: &mut Out) -> Res {
    let wanted: Vec<Vec<u8>> = args.iter().skip(1).map(|a| a.to_vec()).collect();
    let sections = info::sections(&wanted);
    let total = ShardStats::gather(state).await;
    let config = state.config.borrow();
    let file = config
        .config_file
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let facts = ServerFacts {
        memory: crate::memory::picture(state, &total),
        port: config.port,
        hz: config.hz,
        maxclients: config.maxclients as usize,
        maxmemory: config.maxmemory,
        maxmemory_policy: config.maxmemory_policy.name(),
        config_file: &file,
        uptime_secs: state.started.elapsed().as_secs(),
        nshards: state.nshards,
    };
    out.verbatim(info::render(&sections, &total, &facts, &state.registry).as_bytes());
    Ok(())
}

async fn config(state: &Rc<ShardState>, args: &Args<'_>, out: &mut Out) -> Res {
    let sub = String::from_utf8_lossy(args.get(1)).to_lowercase();
    let argc = args.len();
    match sub.as_str() {
        "get" if argc >= 3 => {
            let patterns: Vec<&[u8]> = args.iter().skip(2).collect();
            let pairs = state.config.borrow().get(&patterns);
            out.map(pairs.len());
            for (k, v) in pairs {
                out.bulk_str(&k);
                out.bulk_str(&v);
            }
        }
        "set" if argc >= 4 && argc.is_multiple_of(2) => {
            let pairs: Vec<(&[u8], &[u8])> = (2..argc)
                .step_by(2)
                .map(|i| (args.get(i), args.get(i + 1)))
                .collect();
            state
                .config
                .borrow_mut()
                .set(&pairs)
                .map_err(|e| CmdError::Other(e.to_string()))?;
            crate::shard::apply_engine_conf(&mut state.engine.borrow_mut(), &state.config.borrow());
            let owned: Vec<(Vec<u8>, Vec<u8>)> = pairs
                .iter()
                .map(|(k, v)| (k.to_vec(), v.to_vec()))
                .collect();
            for s in (0..state.nshards).filter(|&s| s != state.id) {
                state
                    .call(s, Op::Configure(Setting::Config(owned.clone())))
                    .await;
            }
            out.ok();
        }
        "resetstat" if argc == 2 => {
            state.call_all(|| Op::ResetStats).await;
            out.ok();
        }
        "rewrite" if argc == 2 => {
            let config = state.config.borrow();
            config
                .rewrite(config.config_file.as_deref())
                .map_err(|e| CmdError::Other(e.to_string()))?;
            out.ok();
        }
        "help" if argc == 2 => {
            let lines = [
                "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "GET <pattern>",
                "    Return parameters matching the glob-like <pattern> and their values.",
                "SET <directive> <value>",
                "    Set the configuration <directive> to <value>.",
                "RESETSTAT",
                "    Reset statistics reported by the INFO command.",
                "REWRITE",
                "    Rewrite the configuration file.",
                "HELP",
                "    Print this help.",
            ];
            out.help(&lines);
        }
        _ => return Err(CmdError::bad_subcommand("CONFIG", args.get(1))),
    }
    Ok(())
}

/// SCAN's cursor: the shard in the top 16 bits, a position in that shard's
/// hash space below (see engine::table). 0 starts and ends a scan.
const CURSOR_SHIFT: u32 = 48;

async fn scan(state: &Rc<ShardState>, conn: &Conn, args: &Args<'_>, out: &mut Out) -> Res {
    let cursor = engine::cmd::keyspace::parse_cursor(args.get(1))?;
    let opts = engine::cmd::keyspace::parse_scan_args(args, 2)?;
    let shard = (cursor >> CURSOR_SHIFT) as usize;
    let pos = cursor & ((1 << CURSOR_SHIFT) - 1);
    let (keys, next) = if shard >= state.nshards {
        (Vec::new(), 0)
    } else {
        let op = Op::Scan {
            db: conn.db as u8,
            pos,
            count: opts.count,
            pattern: opts.pattern.clone(),
            type_filter: opts.type_filter.clone(),
        };
        match state.call(shard, op).await {
            Reply::Scan { keys, next } if next >= engine::table::POS_END => {
                let following = shard + 1;
                (
                    keys,
                    if following < state.nshards {
                        (following as u64) << CURSOR_SHIFT
                    } else {
                        0
                    },
                )
            }
            Reply::Scan { keys, next } => (keys, ((shard as u64) << CURSOR_SHIFT) | next),
            _ => (Vec::new(), 0),
        }
    };
    out.array(2);
    out.bulk_str(&next.to_string());
    out.array(keys.len());
    keys.iter().for_each(|k| out.bulk(k));
    Ok(())
}

async fn randomkey(state: &Rc<ShardState>, conn: &Conn, out: &mut Out) -> Res {
    let first = state.engine.borrow_mut().random() as usize % state.nshards;
    for i in 0..state.nshards {
        let shard = (first + i) % state.nshards;
        if let Reply::Key(Some(k)) = state.call(shard, Op::RandomKey { db: conn.db as u8 }).await {
            out.bulk(&k);
            return Ok(());
        }
    }
    out.null();
    Ok(())
}

async fn debug(state: &Rc<ShardState>, _conn: &Conn, args: &Args<'_>, out: &mut Out) -> Res {
    if !state.engine.borrow().conf.debug_enabled {
        return Err(err("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"no\", you can't use this command. Set it to \"yes\" or \"local\" in the configuration file and restart the server."));
    }
    let sub = String::from_utf8_lossy(args.get(1)).to_lowercase();
    match (sub.as_str(), args.len()) {
        ("sleep", 3) => {
            let secs = cmd::float_arg(args.get(2))?;
            // DEBUG SLEEP blocks the shard on purpose, like Redis blocks its one thread.
            std::thread::sleep(std::time::Duration::from_secs_f64(secs.max(0.0)));
            out.ok();
        }
        ("set-active-expire", 3) => {
            let on = cmd::int_arg(args.get(2))? != 0;
            state
                .call_all(|| Op::Configure(Setting::ActiveExpire(on)))
                .await;
            out.ok();
        }
        ("help", 2) => {
            let lines = [
                "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "SLEEP <seconds>",
                "    Stop the server for <seconds>. Decimals allowed.",
                "SET-ACTIVE-EXPIRE <0|1>",
                "    Setting it to 0 disables expiring keys in background when they are not accessed.",
                "HELP",
                "    Print this help.",
            ];
            out.help(&lines);
        }
        _ => return Err(CmdError::bad_subcommand("DEBUG", args.get(1))),
    }
    Ok(())
}

fn shutdown(args: &Args) -> Res {
    let mut i = 1;
    while i < args.len() {
        if args.is(i, "ABORT") {
            return Err(err("ERR No shutdown in progress."));
        }
        if !["NOSAVE", "SAVE", "NOW", "FORCE"]
            .iter()
            .any(|w| args.is(i, w))
        {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    // Nothing is persisted yet, so there is nothing to save or flush.
    eprintln!("ringcache: SHUTDOWN received, exiting");
    std::process::exit(0);
}

/// Every command the server knows: the engine's families and this file's.
pub fn registry() -> engine::Registry {
    let mut tables = engine::cmd::tables();
    tables.push(COMMANDS);
    engine::Registry::new(&tables)
}

macro_rules! conn_cmd {
    ($name:literal, $arity:expr, $flags:literal, $acl:literal, $op:expr, $group:literal, $summary:literal, $subs:expr) => {
        CommandSpec {
            name: $name,
            arity: $arity,
            flags: $flags,
            acl: $acl,
            route: Route::Conn,
            exec: Exec::Conn($op),
            group: $group,
            summary: $summary,
            subcommands: $subs,
            ..CommandSpec::DEFAULT
        }
    };
}

pub static COMMANDS: &[CommandSpec] = &[
    conn_cmd!(
        "hello",
        -1,
        "noscript loading stale fast no_auth allow_busy",
        "fast connection",
        HELLO,
        "connection",
        "Handshakes with the Redis server.",
        &[]
    ),
    conn_cmd!(
        "auth",
        -2,
        "noscript loading stale fast no_auth allow_busy",
        "fast connection",
        AUTH,
        "connection",
        "Authenticates the connection.",
        &[]
    ),
    conn_cmd!(
        "select",
        2,
        "loading stale fast",
        "fast connection",
        SELECT,
        "connection",
        "Changes the selected database.",
        &[]
    ),
    conn_cmd!(
        "quit",
        -1,
        "noscript loading stale fast no_auth allow_busy",
        "fast connection",
        QUIT,
        "connection",
        "Closes the connection.",
        &[]
    ),
    conn_cmd!(
        "reset",
        1,
        "noscript loading stale fast no_auth allow_busy",
        "fast connection",
        RESET,
        "connection",
        "Resets the connection.",
        &[]
    ),
    conn_cmd!(
        "client",
        -2,
        "",
        "slow connection",
        CLIENT,
        "connection",
        "A container for client connection commands.",
        &["id", "getname", "setname", "info", "list", "kill", "no-evict", "reply", "help"]
    ),
    conn_cmd!(
        "info",
        -1,
        "loading stale",
        "slow dangerous",
        INFO,
        "server",
        "Returns information and statistics about the server.",
        &[]
    ),
    conn_cmd!(
        "config",
        -2,
        "",
        "slow",
        CONFIG,
        "server",
        "A container for server configuration commands.",
        &["get", "set", "resetstat", "rewrite", "help"]
    ),
    conn_cmd!(
        "debug",
        -2,
        "admin noscript loading stale",
        "admin slow dangerous",
        DEBUG,
        "server",
        "A container for debugging commands.",
        &["sleep", "set-active-expire", "help"]
    ),
    conn_cmd!(
        "memory",
        -2,
        "",
        "slow",
        MEMORY,
        "server",
        "A container for memory diagnostics commands.",
        &["doctor", "malloc-stats", "purge", "stats", "usage", "help"]
    ),
    conn_cmd!(
        "shutdown",
        -1,
        "admin noscript loading stale allow_busy",
        "admin slow dangerous",
        SHUTDOWN,
        "server",
        "Synchronously saves the database(s) to disk and shuts down the Redis server.",
        &[]
    ),
];

#[cfg(test)]
mod tests {
    #[test]
    fn the_full_command_table_has_each_name_once() {
        // Registry::new panics on a duplicate, and this is the table the server builds.
        let registry = super::registry();
        assert!(registry.lookup(b"HELLO").is_some());
        assert!(registry.lookup(b"get").is_some());
    }

    #[test]
    fn every_name_resolves_in_any_case_and_nothing_else_does() {
        let registry = super::registry();
        for (i, spec) in registry.iter().enumerate() {
            let name = spec.name.as_bytes();
            for variant in [name.to_vec(), name.to_ascii_uppercase()] {
                assert_eq!(registry.lookup(&variant), Some(i as u16), "{}", spec.name);
            }
            // Near misses resolve to the command of that name, if any.
            let mut longer = name.to_vec();
            longer.push(b'x');
            let mut bent = name.to_vec();
            bent[0] ^= 0x80;
            for miss in [&longer[..], &name[..name.len() - 1], &bent[..]] {
                let by_search = registry
                    .iter()
                    .position(|s| s.name.as_bytes().eq_ignore_ascii_case(miss));
                assert_eq!(registry.lookup(miss), by_search.map(|i| i as u16));
            }
        }
        assert_eq!(registry.lookup(b""), None);
        assert_eq!(registry.lookup(b"GET\0"), None);
        assert_eq!(registry.lookup(&[b'x'; 100]), None);
    }
}
