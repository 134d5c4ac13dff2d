//! Prints the host report and the start-up checks' verdicts, as
//! `ringcache-server --check` will: `cargo run -p ringcache-tuning --example check`.

fn main() {
    for line in tuning::check_report() {
        println!("{line}");
    }
    match tuning::probe_io_uring() {
        Ok(()) => println!("probe_io_uring: ok"),
        Err(e) => println!("probe_io_uring: {e}"),
    }
    match tuning::ensure_limits(&tuning::Needs::for_host()) {
        Ok(report) => println!("ensure_limits: {report}"),
        Err(e) => println!("ensure_limits: {e}"),
    }
}
