//! The burst fork's `burst-communication-middleware` API, on this project's wires.
//!
//! An action written for the fork, `pub fn main(args: Value, burst_middleware: Middleware<T>)
//! -> Result<Value, Error>`, compiles unchanged against this crate: it calls
//! `get_actor_handle()` and then `send`, `recv`, `broadcast`, `gather`, `scatter`,
//! `all_to_all` and `reduce`, plus `allreduce` and `barrier`, on its own message type
//! `T: From<Bytes> + Into<Bytes>`.
//!
//! Workers of one pack are threads of one process: their messages are `Bytes` handed over in
//! memory. Between packs, messages take the Python middleware's backends on the same wire
//! (docs/design.md, "Middleware wire format"): `Local` (Unix sockets in a shared directory)
//! and `RedisList`. Every wait ends at the communication deadline, and a peer that failed or
//! whose pack was killed makes it fail at once, naming the peer.

mod buffers;
mod collectives;
mod deadline;
mod errors;
mod handle;
mod mailbox;
#[doc(hidden)]
pub mod pack;
mod topology;
mod transport;
mod wire;

pub use errors::{BurstError, Error, Result};
pub use handle::{Middleware, MiddlewareActorHandle};
pub use topology::BurstInfo;
