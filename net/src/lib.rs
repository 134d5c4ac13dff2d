//! ringcache's network layer: the RESP codec, the connection loop, routing
//! between shards, the commands that need the connection or the whole server,
//! and the server's start-up.

pub mod client;
pub mod commands;
pub mod config;
pub mod conn;
pub mod info;
pub mod listen;
pub mod memory;
pub mod post;
pub mod resp;
pub mod router;
pub mod server;
pub mod shard;
pub mod uring;
