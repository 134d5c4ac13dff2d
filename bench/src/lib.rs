//! Benchmarks live under benches/ and scripts.
