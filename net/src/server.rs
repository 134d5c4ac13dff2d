//! Start-up: read the settings, check the host, start one pinned executor
//! per shard, bind every shard to the port with SO_REUSEPORT (the kernel
//! spreads accepted connections over them), and wire the shards together.

use crate::config::Config;
use crate::post::{Bell, Post};
use crate::shard::ShardState;
use glommio::{LocalExecutorBuilder, Placement};
use std::os::fd::{AsRawFd, FromRawFd};
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::sync::{Arc, Barrier, Mutex, OnceLock};

/// Memory each shard's rings register for I/O (pinned, so it counts against
/// RLIMIT_MEMLOCK). Sockets read into ordinary buffers; this is for files.
const IO_MEMORY: usize = 1 << 20;

pub struct Plan {
    pub config: Config,
    pub cpus: Vec<usize>,
    pub shards: usize,
}

/// Works out shards and CPUs from the settings and checks the host can run them.
pub fn plan(config: Config) -> Result<Plan, String> {
    let cpus = if config.cpus.is_empty() {
        tuning::allowed_cpus()
    } else {
        config.cpus.clone()
    };
    if cpus.is_empty() {
        return Err("no CPU to run on: check --cpus and the process's CPU affinity".into());
    }
    let shards = if config.shards > 0 {
        config.shards
    } else {
        cpus.len()
    };
    if shards > 256 {
        return Err(format!("--shards {shards}: at most 256 shards"));
    }
    tuning::probe_io_uring().map_err(|e| e.to_string())?;
    let needs = tuning::Needs {
        shards,
        maxclients: config.maxclients as usize,
        memlock_per_shard: tuning::glommio_memlock_per_shard(IO_MEMORY),
    };
    tuning::ensure_limits(&needs).map_err(|e| e.to_string())?;
    Ok(Plan {
        config,
        cpus,
        shards,
    })
}

/// Runs the server until SHUTDOWN or a signal. Prints the readiness line
/// tests wait for once every shard listens.
pub fn run(plan: Plan) -> Result<(), String> {
    let Plan {
        mut config,
        cpus,
        shards,
    } = plan;
    if config.port == 0 {
        // Port 0 would give every shard its own port; pick one for all of them.
        let ip = config
            .listen_addrs()
            .first()
            .map(|b| b.ip)
            .unwrap_or(std::net::Ipv4Addr::LOCALHOST.into());
        let probe = std::net::TcpListener::bind((ip, 0))
            .map_err(|e| format!("could not pick a free port: {e}"))?;
        config.port = probe.local_addr().map_err(|e| e.to_string())?.port();
    }
    let exchange = Arc::new(Exchange::new(shards));
    let (ready_tx, ready_rx) = mpsc::channel::<Result<usize, String>>();
    let shared = Arc::new(crate::shard::Shared::default());
    crate::memory::set_background_thread(config.jemalloc_bg_thread);
    let mut handles = Vec::new();
    for shard in 0..shards {
        let cpu = cpus[shard % cpus.len()];
        let config = config.clone();
        let exchange = exchange.clone();
        let ready = ready_tx.clone();
        let shared = shared.clone();
        let handle = LocalExecutorBuilder::new(Placement::Fixed(cpu))
            .name(&format!("shard-{shard}"))
            .io_memory(IO_MEMORY)
            .spawn(move || async move {
                if let Err(e) = shard_main(shard, shards, config, &exchange, shared, &ready).await {
                    let _ = ready.send(Err(e));
                }
            })
            .map_err(|e| format!("could not start shard {shard} on CPU {cpu}: {e}"))?;
        handles.push(handle);
    }
    drop(ready_tx);
    for _ in 0..shards {
        match ready_rx.recv() {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err("a shard stopped during start-up".into()),
        }
    }
    let (startup, _, _) = crate::memory::allocator_bytes();
    shared
        .mem
        .startup
        .store(startup, std::sync::atomic::Ordering::Relaxed);
    shared.mem.note(startup);
    println!(
        "ringcache {} ready to accept connections: port={} shards={} cpus={:?}",
        env!("CARGO_PKG_VERSION"),
        config.port,
        shards,
        &cpus[..shards.min(cpus.len())]
    );
    for h in handles {
        let _ = h.join();
    }
    Ok(())
}

/// How the shards find each other at start-up: each puts its doorbell in,
/// all wait for the others, and the first one out builds the one `Post`
/// they share. A shard whose ring failed puts in nothing, so the others
/// stop too instead of waiting on it.
struct Exchange {
    bells: Mutex<Vec<Option<Arc<Bell>>>>,
    all_in: Barrier,
    post: OnceLock<Option<Arc<Post>>>,
}

impl Exchange {
    fn new(shards: usize) -> Exchange {
        Exchange {
            bells: Mutex::new(vec![None; shards]),
            all_in: Barrier::new(shards),
            post: OnceLock::new(),
        }
    }

    /// Blocks until every shard has called it (start-up only, before any
    /// task of this executor runs).
    fn join(&self, id: usize, bell: Option<Arc<Bell>>) -> Option<Arc<Post>> {
        self.bells.lock().unwrap_or_else(|e| e.into_inner())[id] = bell;
        self.all_in.wait();
        self.post
            .get_or_init(|| {
                let bells = self.bells.lock().unwrap_or_else(|e| e.into_inner());
                let all: Option<Vec<_>> = bells.iter().cloned().collect();
                all.map(|b| Arc::new(Post::new(b)))
            })
            .clone()
    }
}

async fn shard_main(
    id: usize,
    nshards: usize,
    config: Config,
    exchange: &Exchange,
    shared: Arc<crate::shard::Shared>,
    ready: &mpsc::Sender<Result<usize, String>>,
) -> Result<(), String> {
    let registry = Rc::new(crate::commands::registry());
    let ring = crate::uring::Ring::new()
        .map_err(|e| format!("could not set up the socket ring on shard {id}: {e}"));
    let post = exchange.join(id, ring.as_ref().ok().map(|r| r.bell()));
    let ring = ring?;
    let post = match post {
        Some(p) => (nshards > 1).then_some(p),
        // Another shard failed and reports why; this one just stops.
        None => return Ok(()),
    };
    glommio::spawn_local(ring.clone().drive()).detach();
    let mut listeners = Vec::new();
    for addr in config.listen_addrs() {
        match crate::listen::listen(addr.ip, config.port, config.tcp_backlog) {
            Ok(l) => listeners.push(l),
            // `-::*`: an optional address the host may not have (no IPv6).
            Err(_) if addr.optional => {}
            Err(e) => {
                return Err(format!(
                    "Could not create server TCP listening socket {addr}:{}: {e}",
                    config.port
                ))
            }
        }
    }
    let state = Rc::new(ShardState::new(
        id, nshards, config, registry, post, shared, ring,
    ));
    crate::conn::hint_arrivals(&state);
    glommio::spawn_local(state.clone().serve_mail()).detach();
    glommio::spawn_local(state.clone().expire_loop()).detach();
    glommio::spawn_local(state.clone().clients_cron()).detach();
    if id == 0 {
        glommio::spawn_local(crate::memory::rebalance_loop(state.clone())).detach();
    }
    let accepts: Vec<_> = listeners
        .into_iter()
        .map(|l| glommio::spawn_local(accept_loop(state.clone(), l)))
        .collect();
    let _ = ready.send(Ok(id));
    for a in accepts {
        a.await;
    }
    Ok(())
}

async fn accept_loop(state: Rc<ShardState>, listener: std::net::TcpListener) {
    let fd = listener.as_raw_fd();
    loop {
        let (res, _) = state.ring.accept(fd).await;
        if res < 0 {
            // EMFILE and friends: back off briefly instead of spinning.
            let e = std::io::Error::from_raw_os_error(-res);
            eprintln!("ringcache: accept failed on shard {}: {e}", state.id);
            state.ring.sleep(std::time::Duration::from_millis(10)).await;
            continue;
        }
        // SAFETY: the ring just handed us this fd for the accepted socket.
        let sock = unsafe { std::net::TcpStream::from_raw_fd(res) };
        let max = state.config.borrow().maxclients as usize;
        if state.shared.connected.fetch_add(1, Ordering::Relaxed) >= max {
            state.shared.connected.fetch_sub(1, Ordering::Relaxed);
            state.clients.borrow_mut().rejected += 1;
            glommio::spawn_local(refuse(state.clone(), sock)).detach();
            state.ring.stir();
            continue;
        }
        glommio::spawn_local(crate::conn::serve(state.clone(), sock)).detach();
        state.ring.stir();
    }
}

async fn refuse(state: Rc<ShardState>, sock: std::net::TcpStream) {
    let msg = b"-ERR max number of clients reached\r\n".to_vec();
    let _ = state
        .ring
        .send(crate::uring::Sock::plain(sock.as_raw_fd()), msg, 0)
        .await;
}
