//! ringcache's engine: keyspace, values, the command table and the command
//! families. Synchronous and single-owner: no sockets, no files, no glommio.
//! A shard's network layer drives it; so can a test (`testing::Harness`).

pub mod args;
pub mod clock;
pub mod cmd;
pub mod entry;
pub mod error;
pub mod glob;
pub mod memory;
pub mod reply;
pub mod shard;
pub mod slot;
pub mod spec;
pub mod table;
pub mod types;
pub mod value;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

#[cfg(test)]
#[global_allocator]
static COUNTING: testing::counting::Counting = testing::counting::Counting;

pub use args::{Args, OwnedArgs};
pub use error::{CmdError, CmdResult};
pub use reply::Out;
pub use shard::{Ctx, Shard};
pub use spec::{CommandSpec, Registry};
