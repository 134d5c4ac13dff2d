use super::sleep::{next_gather, MAX_GATHER, MAX_SLEEP};
use super::*;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::time::Duration;

/// Runs `f` on an executor with a ring whose driver runs beside it, and
/// stops the ring when `f` is done.
fn with_driven_ring(
    f: impl FnOnce(Rc<Ring>) -> Pin<Box<dyn Future<Output = ()>>> + Send + 'static,
) {
    glommio::LocalExecutorBuilder::default()
        .spawn(move || async move {
            let ring = Ring::new().unwrap();
            glommio::spawn_local(ring.clone().drive()).detach();
            f(ring.clone()).await;
            ring.stop();
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn gathering_grows_when_batches_fill_and_stops_for_a_lone_client() {
    assert_eq!(next_gather(1, 1), 1, "one per wake-up: no gathering");
    assert_eq!(next_gather(1, 0), 1);
    assert_eq!(next_gather(1, 6), 6, "a wake-up found six");
    assert_eq!(next_gather(6, 6), 12, "filled: wait for more");
    assert_eq!(next_gather(24, 30), MAX_GATHER);
    assert_eq!(next_gather(12, 3), 3, "cut short: wait for what came");
}

#[test]
fn busy_connections_are_counted_once_per_millisecond() {
    let ring = Ring::new().unwrap();
    let mut conns = [0u64; 40];
    ring.now_ms.set(1000);
    for c in conns.iter_mut() {
        ring.count_active(c);
        ring.count_active(c);
    }
    assert_eq!(ring.active.get(), 40);
    ring.now_ms.set(1001);
    ring.count_active(&mut conns[0]);
    assert_eq!((ring.active.get(), ring.active_before.get()), (1, 40));
    assert_eq!(ring.busy_connections(), 40);
    // Nobody since: a burst that ended is not busy.
    ring.now_ms.set(1003);
    assert_eq!(ring.busy_connections(), 0);
    // A quiet gap: the millisecond before this one had nobody.
    ring.now_ms.set(1005);
    ring.count_active(&mut conns[0]);
    assert_eq!((ring.active.get(), ring.active_before.get()), (1, 0));
}

#[test]
fn a_sleeping_ring_wakes_for_its_bell_and_its_timers() {
    with_driven_ring(|ring| {
        Box::pin(async move {
            let started = Instant::now();
            ring.sleep(Duration::from_millis(20)).await;
            assert!(started.elapsed() >= Duration::from_millis(20));
            // Nothing in flight: the driver sleeps in the ring until
            // another thread rings the bell.
            let bell = ring.bell();
            let ringer = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                bell.ring();
            });
            let started = Instant::now();
            ring.mail().await;
            assert!(started.elapsed() >= Duration::from_millis(15));
            assert!(
                started.elapsed() < MAX_SLEEP,
                "woken by the bell, not the cap"
            );
            ringer.join().unwrap();
        })
    });
}

#[test]
fn accept_receive_and_send_through_the_ring() {
    with_driven_ring(|ring| {
        Box::pin(async move {
            let listener = crate::listen::listen([127, 0, 0, 1].into(), 0, 8).unwrap();
            let addr = listener.local_addr().unwrap();
            let client = std::thread::spawn(move || {
                let mut c = std::net::TcpStream::connect(addr).unwrap();
                c.write_all(b"ping").unwrap();
                let mut back = [0u8; 4];
                c.read_exact(&mut back).unwrap();
                back
            });
            let (fd, _) = ring.accept(listener.as_raw_fd()).await;
            assert!(fd >= 0, "accept: {fd}");
            // Named by a registered slot, which is given back and reused.
            let sock = ring.register(fd);
            assert!(sock.fixed.is_some(), "this kernel has sparse file tables");
            let (n, hold) = ring.recv(sock, vec![0u8; 64], 0, false).await;
            let buf = hold.into_buf();
            assert_eq!(&buf[..n as usize], b"ping");
            let (sent, _) = ring.send(sock, b"pong".to_vec(), 0).await;
            assert_eq!(sent, 4);
            assert_eq!(&client.join().unwrap(), b"pong");
            ring.release(sock);
            assert_eq!(ring.register(fd).fixed, sock.fixed);
            // SAFETY: fd is the accepted socket, closed once.
            unsafe { libc::close(fd) };
        })
    });
}

/// Runs passes of `ring` (no driver) until `done`, for up to 100 ms.
fn pass_until(ring: &Ring, done: impl Fn() -> bool) {
    for _ in 0..100 {
        ring.pass();
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// What a `hinted_ring`'s hint has been shown.
type Seen = Rc<RefCell<Vec<Vec<u8>>>>;

/// A ring (no driver) whose arrival hint keeps a copy of every arrival.
fn hinted_ring() -> (Rc<Ring>, Seen) {
    let ring = Ring::new().unwrap();
    let seen = Seen::default();
    let log = seen.clone();
    ring.on_arrivals(Box::new(move |bufs: &[&[u8]]| {
        log.borrow_mut().extend(bufs.iter().map(|b| b.to_vec()));
    }));
    (ring, seen)
}

fn sorted(seen: &Seen) -> Vec<Vec<u8>> {
    let mut got = seen.borrow().clone();
    got.sort();
    got
}

fn socket_pairs(
    n: usize,
) -> Vec<(
    std::os::unix::net::UnixStream,
    std::os::unix::net::UnixStream,
)> {
    (0..n)
        .map(|_| std::os::unix::net::UnixStream::pair().unwrap())
        .collect()
}

#[test]
fn a_pass_shows_its_arrivals_before_their_tasks_run() {
    let (ring, seen) = hinted_ring();
    let pairs = socket_pairs(3);
    for (i, (a, _)) in pairs.iter().enumerate() {
        (&*a).write_all(format!("new{i}").as_bytes()).unwrap();
    }
    // The third buffer holds two bytes kept from an earlier read.
    let mut kept = vec![0u8; 64];
    kept[..2].copy_from_slice(b"ab");
    let ops: Vec<Op<'_>> = vec![
        ring.recv(Sock::plain(pairs[0].1.as_raw_fd()), vec![0u8; 64], 0, false),
        ring.recv(Sock::plain(pairs[1].1.as_raw_fd()), vec![0u8; 64], 0, false),
        ring.recv(Sock::plain(pairs[2].1.as_raw_fd()), kept, 2, false),
    ];
    pass_until(&ring, || !seen.borrow().is_empty());
    assert_eq!(
        sorted(&seen),
        [b"new0".to_vec(), b"new1".to_vec(), b"new2".to_vec()]
    );
    drop(ops);
    // One arrival alone is left to its task.
    seen.borrow_mut().clear();
    (&pairs[0].0).write_all(b"solo").unwrap();
    let op = ring.recv(Sock::plain(pairs[0].1.as_raw_fd()), vec![0u8; 64], 0, false);
    pass_until(&ring, || {
        matches!(ring.inner.borrow().slots[op.idx as usize], Slot::Done(..))
    });
    assert!(matches!(
        ring.inner.borrow().slots[op.idx as usize],
        Slot::Done(4, _)
    ));
    assert!(seen.borrow().is_empty());
}

/// The byte at offset `i` of what `flood` sends.
fn pattern(i: usize) -> u8 {
    (i % 251) as u8
}

/// Sends `total` bytes of `pattern` on `a` from a thread of its own.
fn flood(a: std::os::unix::net::UnixStream, total: usize) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let data: Vec<u8> = (0..total).map(pattern).collect();
        for piece in data.chunks(16 * 1024) {
            (&a).write_all(piece).unwrap();
        }
    })
}

/// A receiver for `sock` with its stream started.
fn streaming(ring: &Ring, sock: Sock) -> Receiver<'_> {
    Receiver {
        stream: Some(ring.recv_stream(sock)),
        plain_next: false,
    }
}

/// Receives `total` bytes through `receiver` and checks every one.
async fn receive_all<'r>(ring: &'r Ring, receiver: &mut Receiver<'r>, sock: Sock, total: usize) {
    let mut buf = vec![0u8; 4096];
    let mut filled = 0;
    while filled < total {
        if buf.len() - filled < STREAM_CHUNK {
            buf.resize(buf.len() * 2, 0);
        }
        let n = receiver.recv(ring, sock, &mut buf, filled, false).await;
        assert!(n > 0, "receive: {n}");
        filled += n as usize;
    }
    assert_eq!(filled, total);
    assert!(buf[..total]
        .iter()
        .enumerate()
        .all(|(i, &v)| v == pattern(i)));
}

/// Sleeps on `ring` until `done`, for up to 2 s.
async fn sleep_until(ring: &Ring, done: impl Fn() -> bool) {
    for _ in 0..2000 {
        if done() {
            return;
        }
        ring.sleep(Duration::from_millis(1)).await;
    }
}

#[test]
fn a_connection_that_does_not_read_cannot_take_the_whole_pool() {
    with_driven_ring(|ring| {
        Box::pin(async move {
            let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
            const TOTAL: usize = 1 << 20;
            let writer = flood(a, TOTAL);
            let sock = Sock::plain(b.as_raw_fd());
            let mut receiver = streaming(&ring, sock);
            let idx = receiver.stream.as_ref().unwrap().idx as usize;
            let stopped = || match &ring.inner.borrow().slots[idx] {
                Slot::Stream(st) => st.ended.then_some(st.arrived.len()),
                _ => None,
            };
            sleep_until(&ring, || stopped().is_some()).await;
            // Cut off well short of the pool: past MAX_QUEUED it holds only
            // what arrived within the pass that saw it (measured: 28-67).
            let held = stopped().expect("the stream was cut off");
            assert!(held < 128, "held {held} of 256 buffers");
            // Another connection still receives from the pool.
            let (c, d) = std::os::unix::net::UnixStream::pair().unwrap();
            let mut other = ring.recv_stream(Sock::plain(d.as_raw_fd()));
            (&c).write_all(b"still served").unwrap();
            let mut buf = vec![0u8; 64];
            assert_eq!(other.read(&mut buf, 0).await, Received::Data(12));
            // And the first one gets everything, in order.
            receive_all(&ring, &mut receiver, sock, TOTAL).await;
            writer.join().unwrap();
        })
    });
}

#[test]
fn a_pass_shows_what_streams_brought_too() {
    let (ring, seen) = hinted_ring();
    let pairs = socket_pairs(2);
    let streams: Vec<Stream<'_>> = pairs
        .iter()
        .map(|(_, b)| ring.recv_stream(Sock::plain(b.as_raw_fd())))
        .collect();
    ring.pass(); // the receives are in the kernel before anything arrives
    for (i, (a, _)) in pairs.iter().enumerate() {
        (&*a).write_all(format!("pooled{i}").as_bytes()).unwrap();
    }
    pass_until(&ring, || !seen.borrow().is_empty());
    assert_eq!(sorted(&seen), [b"pooled0".to_vec(), b"pooled1".to_vec()]);
    drop(streams);
}

#[test]
fn a_dropped_receive_keeps_its_buffer_until_the_kernel_is_done() {
    with_driven_ring(|ring| {
        Box::pin(async move {
            let (_a, b) = std::os::unix::net::UnixStream::pair().unwrap();
            let early = ring.recv(Sock::plain(b.as_raw_fd()), vec![0u8; 64], 0, false);
            drop(early);
            // The kernel still owns slot 0 and its buffer: a new op takes another slot.
            let second = ring.recv(Sock::plain(b.as_raw_fd()), vec![0u8; 64], 0, false);
            assert_eq!(second.idx, 1);
            assert!(matches!(ring.inner.borrow().slots[0], Slot::Orphaned(_)));
            // SAFETY: b is open; shutting it ends both pending receives.
            unsafe { libc::shutdown(b.as_raw_fd(), libc::SHUT_RDWR) };
            assert_eq!(second.await.0, 0);
            for _ in 0..100 {
                if matches!(ring.inner.borrow().slots[0], Slot::Free) {
                    break;
                }
                ring.sleep(Duration::from_millis(1)).await;
            }
            let inner = ring.inner.borrow();
            assert!(inner.slots.iter().all(|s| matches!(s, Slot::Free)));
            assert_eq!(inner.free.len(), 2);
        })
    });
}

#[test]
fn a_stream_reads_arrivals_in_order_and_ends_at_end_of_file() {
    with_driven_ring(|ring| {
        Box::pin(async move {
            assert!(ring.multishot(), "this kernel has multishot receives");
            let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
            let mut stream = ring.recv_stream(Sock::plain(b.as_raw_fd()));
            let mut buf = vec![0u8; 4];
            (&a).write_all(b"hello ").unwrap();
            assert_eq!(stream.read(&mut buf, 0).await, Received::Data(6));
            (&a).write_all(b"world").unwrap();
            assert_eq!(stream.read(&mut buf, 6).await, Received::Data(5));
            assert_eq!(&buf[..11], b"hello world", "grown to fit, in order");
            drop(a);
            assert_eq!(stream.read(&mut buf, 11).await, Received::End(0));
            drop(stream);
            let inner = ring.inner.borrow();
            assert!(inner.slots.iter().all(|s| matches!(s, Slot::Free)));
            drop(inner);
        })
    });
}

#[test]
fn a_dropped_stream_is_cancelled_and_its_buffers_come_back() {
    with_driven_ring(|ring| {
        Box::pin(async move {
            let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
            let stream = ring.recv_stream(Sock::plain(b.as_raw_fd()));
            (&a).write_all(b"never read").unwrap();
            let queued = || match &ring.inner.borrow().slots[stream.idx as usize] {
                Slot::Stream(st) => st.arrived.len(),
                _ => 0,
            };
            for _ in 0..1000 {
                if queued() > 0 {
                    break;
                }
                ring.sleep(Duration::from_millis(1)).await;
            }
            assert_eq!(queued(), 1);
            let tail = ring.inner.borrow().pool.as_ref().unwrap().tail;
            drop(stream);
            assert_eq!(
                ring.inner.borrow().pool.as_ref().unwrap().tail,
                tail.wrapping_add(1),
                "the unread buffer went back"
            );
            for _ in 0..100 {
                if ring
                    .inner
                    .borrow()
                    .slots
                    .iter()
                    .all(|s| matches!(s, Slot::Free))
                {
                    break;
                }
                ring.sleep(Duration::from_millis(1)).await;
            }
            assert!(ring
                .inner
                .borrow()
                .slots
                .iter()
                .all(|s| matches!(s, Slot::Free)));
        })
    });
}

#[test]
fn receivers_whose_pool_runs_dry_go_on_without_losing_a_byte() {
    with_driven_ring(|ring| {
        Box::pin(async move {
            // Sixteen connections that do not read hold more than the
            // pool has, even cut off past MAX_QUEUED each.
            const TOTAL: usize = 1 << 20;
            let mut conns = Vec::new();
            for _ in 0..16 {
                let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
                let sock = Sock::plain(b.as_raw_fd());
                conns.push((flood(a, TOTAL), streaming(&ring, sock), sock, b));
            }
            let dry = || {
                let inner = ring.inner.borrow();
                inner.slots.iter().any(|s| match s {
                    Slot::Stream(st) if st.ended => {
                        st.arrived.back().map(|c| c.0) == Some(-libc::ENOBUFS)
                    }
                    _ => false,
                })
            };
            sleep_until(&ring, dry).await;
            assert!(dry(), "the pool ran dry and a stream ended");
            for (writer, mut receiver, sock, _b) in conns {
                receive_all(&ring, &mut receiver, sock, TOTAL).await;
                writer.join().unwrap();
            }
        })
    });
}
