//! wake_cost [--wakes N] [--cpus A,B]
//!
//! What this machine charges for the pieces a shard's sleep and wake-up are
//! made of, so that a figure like `remote_get`'s can be read against them:
//! a plain syscall, an eventfd write nobody waits on, an eventfd write that
//! wakes a thread blocked on the same CPU and on another CPU (the waker's
//! time: what a shard pays to wake another shard or a client), the CPU the
//! woken thread itself spends to block and wake, and a short timed sleep.
//! Each wake is timed after the reader has had 200 µs to fall asleep, so its
//! CPU is idle (halted) as a shard's is between bursts. Times are medians
//! (means for the loops), in microseconds. Takes about 5 s.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Options {
    wakes: usize,
    cpus: (usize, usize),
}

fn options() -> Options {
    let mut o = Options {
        wakes: 3000,
        cpus: (0, 1),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--wakes" => o.wakes = value().parse().expect("--wakes N"),
            "--cpus" => {
                let v = value();
                let (a, b) = v.split_once(',').expect("--cpus A,B");
                o.cpus = (a.parse().expect("a CPU"), b.parse().expect("a CPU"));
            }
            _ => panic!("unknown option {a}"),
        }
    }
    o
}

fn pin(cpu: usize) {
    // SAFETY: a zeroed cpu_set_t is an empty set; CPU_SET writes inside it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        assert_eq!(
            libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set),
            0,
            "cannot pin to CPU {cpu}"
        );
    }
}

/// The calling thread's user+system CPU so far, in microseconds.
fn thread_cpu_us() -> f64 {
    // SAFETY: getrusage fills the zeroed struct it is given.
    let r = unsafe {
        let mut r: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_THREAD, &mut r);
        r
    };
    let us = |t: libc::timeval| t.tv_sec as f64 * 1e6 + t.tv_usec as f64;
    us(r.ru_utime) + us(r.ru_stime)
}

fn eventfd() -> i32 {
    // SAFETY: plain syscall; the fd is closed by the caller.
    let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
    assert!(fd >= 0, "eventfd failed");
    fd
}

fn signal(fd: i32) {
    let one = 1u64;
    // SAFETY: writes 8 bytes from a live u64.
    unsafe { libc::write(fd, &one as *const u64 as *const libc::c_void, 8) };
}

fn drain(fd: i32) {
    let mut v = 0u64;
    // SAFETY: reads 8 bytes into a live u64.
    unsafe { libc::read(fd, &mut v as *mut u64 as *mut libc::c_void, 8) };
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Mean microseconds of `f` over `n` calls.
fn per_call(n: usize, mut f: impl FnMut()) -> f64 {
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    t.elapsed().as_secs_f64() * 1e6 / n as f64
}

/// The waker's time for each eventfd write that wakes a reader blocked on
/// `reader_cpu` (the writer runs on `writer_cpu`), and the reader's own CPU
/// per block-and-wake.
fn wake(wakes: usize, writer_cpu: usize, reader_cpu: usize) -> (f64, f64) {
    let fd = eventfd();
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let done = done.clone();
        std::thread::spawn(move || {
            pin(reader_cpu);
            let start = thread_cpu_us();
            let mut n = 0;
            while !done.load(Ordering::Relaxed) {
                drain(fd);
                n += 1;
            }
            (thread_cpu_us() - start) / n as f64
        })
    };
    pin(writer_cpu);
    let mut times = Vec::with_capacity(wakes);
    for _ in 0..wakes {
        std::thread::sleep(Duration::from_micros(200));
        let t = Instant::now();
        signal(fd);
        times.push(t.elapsed().as_secs_f64() * 1e6);
    }
    done.store(true, Ordering::Relaxed);
    signal(fd);
    let reader_cpu_per_wake = reader.join().expect("reader");
    // SAFETY: both threads are done with it.
    unsafe { libc::close(fd) };
    (median(times), reader_cpu_per_wake)
}

fn main() {
    let o = options();
    let (a, b) = o.cpus;
    pin(a);
    let syscall = per_call(1_000_000, || {
        // SAFETY: no arguments, no effects.
        unsafe { libc::getppid() };
    });
    let idle_fd = eventfd();
    let unheard = per_call(1_000_000, || signal(idle_fd));
    // SAFETY: closed once, after its last use.
    unsafe { libc::close(idle_fd) };
    let (same, same_sleeper) = wake(o.wakes, a, a);
    let (other, other_sleeper) = wake(o.wakes, a, b);
    pin(b);
    let n = o.wakes;
    let cpu = thread_cpu_us();
    let wall = per_call(n, || std::thread::sleep(Duration::from_micros(30)));
    let sleep_cpu = (thread_cpu_us() - cpu) / n as f64;

    println!("wake_cost: CPUs {a} and {b}, {n} wakes each, microseconds");
    println!("syscall (getppid)                          {syscall:8.3}");
    println!("eventfd write, nobody waiting              {unheard:8.3}");
    println!("eventfd write waking CPU {a} (same CPU)      {same:8.3}   sleeper's CPU per block+wake {same_sleeper:.2}");
    println!("eventfd write waking CPU {b} (other CPU)     {other:8.3}   sleeper's CPU per block+wake {other_sleeper:.2}");
    println!("30 us timed sleep                          {wall:8.1} wall, {sleep_cpu:.2} CPU");
}
