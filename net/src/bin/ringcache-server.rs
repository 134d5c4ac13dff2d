//! ringcache-server [file.conf] [--name value ...] | --check | --version | --help

#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--check") => {
            for line in tuning::check_report() {
                println!("{line}");
            }
            return;
        }
        Some("-v" | "--version") => {
            println!(
                "ringcache-server v={} (redis 7.0.15 compatible)",
                env!("CARGO_PKG_VERSION")
            );
            return;
        }
        Some("-h" | "--help") => {
            println!("Usage: ringcache-server [/path/to/ringcache.conf] [--name value ...]");
            println!(
                "       ringcache-server --check     (host report: CPUs, limits, io_uring, ...)"
            );
            println!("       ringcache-server -v | --version");
            println!("Examples: ringcache-server --port 7777 --shards 2");
            println!("          ringcache-server /etc/ringcache.conf --loglevel verbose");
            return;
        }
        _ => {}
    }
    let started = net::config::Config::from_args(&args)
        .map_err(|e| e.to_string())
        .and_then(net::server::plan)
        .and_then(net::server::run);
    if let Err(e) = started {
        eprintln!("ringcache: {e}");
        std::process::exit(1);
    }
}
