//! A shard's runtime state in the network layer: the engine shard it owns,
//! its clients, its copy of the settings, and its links to the other shards.
//!
//! Everything here is owned by one executor thread. `RefCell`s are borrowed
//! only for the length of a synchronous step (never across an `.await`), so a
//! borrow can never be held while another task on this shard runs.

use crate::client::Clients;
use crate::config::Config;
use crate::info::{NetStats, ShardStats};
use crate::post::{Msg, Post};
use crate::router::{Op, RemoteCmd, Reply, Request};
use engine::table::PREFETCH_KEYS;
use engine::{Args, Out, Registry, Shard};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A reply on its way: already here (the home shard's own part), or the
/// index of its slot in `ShardState::waiting`.
pub enum Pending {
    Ready(Reply),
    Waiting(u32),
}

/// Where another shard's reply lands for the task that asked.
enum Awaited {
    Free,
    Waiting(Option<Waker>),
    Arrived(Reply),
}

/// A setting every shard must apply.
#[derive(Clone, Debug)]
pub enum Setting {
    ActiveExpire(bool),
    /// CONFIG SET pairs, already validated on the shard that received them.
    Config(Vec<(Vec<u8>, Vec<u8>)>),
}

pub struct ShardState {
    pub id: usize,
    pub nshards: usize,
    pub engine: RefCell<Shard>,
    pub clients: RefCell<Clients>,
    pub config: RefCell<Config>,
    pub registry: Rc<Registry>,
    /// Owner shard of each of the 16384 slots (a flat array, as the design says).
    owners: Box<[u8]>,
    pub net: RefCell<NetStats>,
    /// What every shard shares (never touched per command).
    pub shared: Arc<Shared>,
    pub started: Instant,
    /// The shard's socket ring (accepts, receives, sends).
    pub ring: Rc<crate::uring::Ring>,
    /// Mailboxes of every shard (None with one shard).
    post: Option<Arc<Post>>,
    /// Replies this shard waits for, by request id (a slot index, reused).
    waiting: RefCell<Vec<Awaited>>,
    free_waiting: RefCell<Vec<u32>>,
}

/// The few figures shared by every shard.
#[derive(Default)]
pub struct Shared {
    /// Clients connected on every shard together, for `maxclients`:
    /// touched once per accept and once per close, never per command, so it
    /// costs the data path nothing.
    pub connected: AtomicUsize,
    /// The memory peak and start-up figure.
    pub mem: crate::memory::ServerMem,
}

pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl ShardState {
    pub fn new(
        id: usize,
        nshards: usize,
        config: Config,
        registry: Rc<Registry>,
        post: Option<Arc<Post>>,
        shared: Arc<Shared>,
        ring: Rc<crate::uring::Ring>,
    ) -> Self {
        let mut engine = Shard::new(id, nshards, config.databases, registry.clone());
        apply_engine_conf(&mut engine, &config);
        // Built on the shard's own thread: the meter reads this thread's counters.
        engine.mem.set_meter(crate::memory::thread_meter());
        engine
            .mem
            .set_budget(equal_share(config.maxmemory, nshards));
        engine.now_ms = unix_ms();
        let owners = (0..engine::slot::SLOTS as u16)
            .map(|s| engine::slot::slot_owner(s, nshards) as u8)
            .collect();
        ShardState {
            id,
            nshards,
            engine: RefCell::new(engine),
            clients: RefCell::new(Clients::new(id, nshards)),
            config: RefCell::new(config),
            registry,
            owners,
            net: RefCell::new(NetStats::default()),
            shared,
            started: Instant::now(),
            ring,
            post,
            waiting: RefCell::new(Vec::new()),
            free_waiting: RefCell::new(Vec::new()),
        }
    }

    pub fn owner(&self, key: &[u8]) -> usize {
        self.owners[engine::slot::key_slot(key) as usize] as usize
    }

    /// Sends `op` to shard `dest`; the reply is awaited with `Pending::wait`,
    /// so a fan-out has every request in flight before it waits on any. The
    /// home shard's own part runs inline, without a message.
    pub async fn send(&self, dest: usize, op: Op) -> Pending {
        if dest == self.id {
            return Pending::Ready(self.handle(op));
        }
        let slot = match self.free_waiting.borrow_mut().pop() {
            Some(i) => {
                self.waiting.borrow_mut()[i as usize] = Awaited::Waiting(None);
                i
            }
            None => {
                let mut waiting = self.waiting.borrow_mut();
                waiting.push(Awaited::Waiting(None));
                (waiting.len() - 1) as u32
            }
        };
        let post = self.post.as_ref().expect("several shards have mailboxes");
        let req = Request {
            id: slot as u64,
            op,
        };
        post.send(dest, Msg::Request { from: self.id, req });
        Pending::Waiting(slot)
    }

    /// The reply `p` stands for. Every `Pending` is waited for: its task
    /// runs to completion (connection tasks are never cancelled), so a slot
    /// is always freed by the wait that takes its reply.
    pub async fn wait(&self, p: Pending) -> Reply {
        let slot = match p {
            Pending::Ready(r) => return r,
            Pending::Waiting(slot) => slot as usize,
        };
        std::future::poll_fn(|cx| {
            let mut waiting = self.waiting.borrow_mut();
            match std::mem::replace(&mut waiting[slot], Awaited::Free) {
                Awaited::Arrived(reply) => {
                    self.free_waiting.borrow_mut().push(slot as u32);
                    Poll::Ready(reply)
                }
                _ => {
                    waiting[slot] = Awaited::Waiting(Some(cx.waker().clone()));
                    Poll::Pending
                }
            }
        })
        .await
    }

    pub async fn call(&self, dest: usize, op: Op) -> Reply {
        let p = self.send(dest, op).await;
        self.wait(p).await
    }

    /// Runs `op` on every shard and returns the replies in shard order.
    pub async fn call_all(&self, make: impl Fn() -> Op) -> Vec<Reply> {
        let mut pending = Vec::with_capacity(self.nshards);
        for s in 0..self.nshards {
            pending.push(self.send(s, make()).await);
        }
        let mut replies = Vec::with_capacity(pending.len());
        for p in pending {
            replies.push(self.wait(p).await);
        }
        replies
    }

    /// Runs an operation that another shard (or this one) asked for.
    pub fn handle(&self, op: Op) -> Reply {
        let mut eng = self.engine.borrow_mut();
        // The ring's clock, read once per pass, as a connection's commands use.
        eng.now_ms = self.ring.now_ms();
        match op {
            Op::Exec(mut cmds) => {
                let mut out = Out::reusing(std::mem::take(&mut cmds.reply), false);
                // Room for short replies (a 100-byte value's takes 107).
                out.buf.reserve(cmds.len() * 128);
                let mut ends = std::mem::take(&mut cmds.ends);
                ends.clear();
                ends.reserve(cmds.len());
                {
                    let mut ahead = cmds.iter();
                    for (i, (c, args)) in cmds.iter().enumerate() {
                        if i % PREFETCH_KEYS == 0 && cmds.len() > 1 {
                            prefetch_keys(&eng, ahead.by_ref().take(PREFETCH_KEYS));
                        }
                        out.resp3 = c.resp3;
                        engine::cmd::execute(&mut eng, c.db as usize, c.id, &args, &mut out);
                        // The reply crosses threads: shared values are copied in.
                        out.flatten();
                        ends.push(out.buf.len() as u32);
                    }
                }
                cmds.clear();
                Reply::Exec {
                    out: out.buf,
                    ends,
                    spent: cmds,
                }
            }
            Op::Stats => Reply::Stats(Box::new(ShardStats::collect(
                &eng,
                &self.clients.borrow(),
                &self.net.borrow(),
            ))),
            Op::ClientList(filter) => Reply::Text(self.clients.borrow().list(&filter)),
            Op::ClientKill(filter, asker) => {
                Reply::Count(self.clients.borrow().kill(&filter, Some(asker)))
            }
            Op::Scan {
                db,
                pos,
                count,
                pattern,
                type_filter,
            } => {
                let mut keys = Vec::new();
                let mut ctx = engine::Ctx::new(&mut eng, db as usize);
                let next = engine::cmd::keyspace::scan_shard(
                    &mut ctx,
                    pos,
                    count,
                    pattern.as_deref(),
                    type_filter.as_deref(),
                    &mut keys,
                );
                Reply::Scan { keys, next }
            }
            Op::RandomKey { db } => Reply::Key(engine::cmd::keyspace::random_key(
                &mut engine::Ctx::new(&mut eng, db as usize),
            )),
            Op::Configure(setting) => {
                match setting {
                    Setting::ActiveExpire(on) => eng.conf.active_expire = on,
                    Setting::Config(pairs) => {
                        let mut config = self.config.borrow_mut();
                        let refs: Vec<(&[u8], &[u8])> =
                            pairs.iter().map(|(k, v)| (&k[..], &v[..])).collect();
                        let limit = config.maxmemory;
                        // Already validated where it was received; a failure here cannot happen.
                        let _ = config.set(&refs);
                        apply_engine_conf(&mut eng, &config);
                        // A new limit starts as an equal split; the
                        // rebalancer moves it where it is needed.
                        if self.id == 0 {
                            crate::memory::set_background_thread(config.jemalloc_bg_thread);
                        }
                        if config.maxmemory != limit {
                            let share = equal_share(config.maxmemory, self.nshards);
                            eng.mem.set_budget(share);
                        }
                    }
                }
                Reply::Done
            }
            Op::MemReport => Reply::Mem(crate::memory::MemReport {
                used: eng.mem.used_signed(),
                evicted: eng.mem.take_evicted(),
                budget: eng.mem.budget,
            }),
            Op::Budget(b) => {
                // A limit removed meanwhile stays removed.
                if self.config.borrow().maxmemory != 0 {
                    eng.mem.set_budget(b);
                }
                Reply::Done
            }
            Op::MemoryUsage { db, key } => {
                let mut ctx = engine::Ctx::new(&mut eng, db as usize);
                Reply::Count(
                    engine::cmd::server::memory_usage(&mut ctx, &key).map_or(-1, |n| n as i64),
                )
            }
            Op::ResetStats => {
                eng.stats = Default::default();
                eng.cmd_stats
                    .iter_mut()
                    .for_each(|s| *s = Default::default());
                eng.err_stats.clear();
                self.net.borrow_mut().reset();
                Reply::Done
            }
        }
    }

    /// Runs what other shards post here: their requests (answered into the
    /// sender's mailbox) and the responses to this shard's requests.
    pub async fn serve_mail(self: Rc<Self>) {
        let Some(post) = self.post.clone() else {
            return;
        };
        let mut batch = Vec::new();
        loop {
            self.ring.mail().await;
            post.take(self.id, &mut batch);
            for msg in batch.drain(..) {
                match msg {
                    Msg::Request { from, req } => {
                        let reply = self.handle(req.op);
                        post.send(from, Msg::Response { id: req.id, reply });
                    }
                    Msg::Response { id, reply } => {
                        let mut waiting = self.waiting.borrow_mut();
                        let slot = &mut waiting[id as usize];
                        if let Awaited::Waiting(Some(waker)) =
                            std::mem::replace(slot, Awaited::Arrived(reply))
                        {
                            waker.wake();
                            self.ring.stir();
                        }
                    }
                }
            }
        }
    }

    /// Once a second, as Redis's clientsCron: closes clients idle longer
    /// than `timeout` seconds (0 = never).
    pub async fn clients_cron(self: Rc<Self>) {
        loop {
            self.ring.sleep(std::time::Duration::from_secs(1)).await;
            let timeout = self.config.borrow().timeout;
            if timeout > 0 {
                self.clients
                    .borrow()
                    .close_idle(unix_ms(), timeout as u64 * 1000);
            }
        }
    }

    /// The active expiry sweep: `hz` times a second, at most 1 ms a tick so a
    /// sweep never shows in the tail latency of the requests it interleaves
    /// with. Then the housework (eviction left behind, lazy free), in steps
    /// of at most HOUSEWORK_STEP with a turn for every other task between
    /// two, until none is left.
    pub async fn expire_loop(self: Rc<Self>) {
        loop {
            let hz = self.config.borrow().hz.clamp(1, 500) as u64;
            self.ring
                .sleep(std::time::Duration::from_millis(1000 / hz))
                .await;
            {
                let mut eng = self.engine.borrow_mut();
                eng.now_ms = unix_ms();
                eng.active_expire(std::time::Duration::from_millis(1));
            }
            while self.engine.borrow_mut().housework(HOUSEWORK_STEP) {
                // Our own turn again after everyone else's: the driver must
                // not sleep in the ring meanwhile.
                self.ring.stir();
                futures_lite::future::yield_now().await;
            }
        }
    }
}

/// Starts loading the memory of the keys (first arguments) of the next
/// commands of a batch from another shard, as a connection does for a
/// pipeline: their cache misses overlap instead of each command waiting
/// for its own. A batch is one database's as a rule; keys of any other are
/// left out.
fn prefetch_keys<'a>(eng: &Shard, cmds: impl Iterator<Item = (&'a RemoteCmd, Args<'a>)>) {
    let mut keys = cmds
        .filter_map(|(c, args)| Some((c.db, args.arg(1)?)))
        .peekable();
    let Some(&(db, _)) = keys.peek() else {
        return;
    };
    let in_db = keys.filter(|&(d, _)| d == db).map(|(_, key)| key);
    eng.prefetch(usize::from(db), in_db);
}

/// The longest one step of housework (eviction in the background, lazy
/// free) keeps the shard from its clients. A request meets up to three
/// steps between its arrival and its reply leaving (the driver's pass that
/// reaps it, the connection's turn, the pass that submits the reply), so a
/// step is kept short: measured with `bench/lazy_free.py` (FLUSHALL ASYNC of
/// 10 M keys under a GET stream), 500 µs steps put a GET's p50 at 1.7 ms.
const HOUSEWORK_STEP: std::time::Duration = std::time::Duration::from_micros(100);

/// A shard's share of `maxmemory` before the rebalancer has looked (0: no limit).
pub fn equal_share(maxmemory: u64, nshards: usize) -> u64 {
    match maxmemory {
        0 => 0,
        m => (m / nshards.max(1) as u64).max(1),
    }
}

/// Copies the settings the engine consults into the engine shard.
pub fn apply_engine_conf(eng: &mut Shard, config: &Config) {
    use engine::memory::{lfu::LfuConf, LazyConf, MemConf, Policy};
    eng.conf.debug_enabled = config.enable_debug_command != crate::config::DebugCommand::No;
    let policy = Policy::from_name(config.maxmemory_policy.name())
        .expect("the config's policy names are the engine's");
    eng.mem.conf = MemConf {
        policy,
        samples: config.maxmemory_samples as usize,
        tenacity: config.maxmemory_eviction_tenacity,
        lfu: LfuConf {
            log_factor: config.lfu_log_factor,
            decay_time: config.lfu_decay_time,
        },
        lazy: LazyConf {
            eviction: config.lazyfree_lazy_eviction,
            expire: config.lazyfree_lazy_expire,
            server_del: config.lazyfree_lazy_server_del,
            user_del: config.lazyfree_lazy_user_del,
            user_flush: config.lazyfree_lazy_user_flush,
        },
    };
    eng.conf.hash_limits = engine::types::HashLimits {
        max_entries: usize::try_from(config.hash_max_listpack_entries).unwrap_or(usize::MAX),
        max_value: usize::try_from(config.hash_max_listpack_value).unwrap_or(usize::MAX),
    };
    eng.conf.set_max_intset = usize::try_from(config.set_max_intset_entries).unwrap_or(usize::MAX);
    eng.conf.list_fill = engine::types::Fill(config.list_max_listpack_size);
    eng.conf.zset_limits = engine::types::ZsetLimits {
        max_entries: usize::try_from(config.zset_max_listpack_entries).unwrap_or(usize::MAX),
        max_value: usize::try_from(config.zset_max_listpack_value).unwrap_or(usize::MAX),
    };
}
