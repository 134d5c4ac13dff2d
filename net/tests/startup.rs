//! Start-up under CPU contention: every multi-shard server must print its
//! readiness line, however busy the host is.

mod common;

use common::Server;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Busy threads that compete with the shards for the CPUs until dropped.
struct Burners {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Burners {
    fn start(n: usize) -> Burners {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..n)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::hint::spin_loop();
                    }
                })
            })
            .collect();
        Burners { stop, threads }
    }
}

impl Drop for Burners {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

#[test]
fn two_shard_startup_never_hangs_under_cpu_load() {
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
    let _burners = Burners::start(2 * cpus);
    for round in 0..25 {
        let starting: Vec<_> = (0..8)
            .map(|_| std::thread::spawn(|| Server::start(2, &[])))
            .collect();
        for s in starting {
            // A start that never gets ready panics in Server::start.
            let server = s
                .join()
                .unwrap_or_else(|_| panic!("round {round}: a start hung"));
            drop(server);
        }
    }
}
