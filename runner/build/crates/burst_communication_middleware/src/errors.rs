//! The fork's `Error` and `Result`, and the errors this crate puts in them.

use std::fmt;

/// Any error a middleware call returns (the fork's type: a boxed error).
pub type Error = Box<dyn std::error::Error + Send + Sync>;
/// What every middleware call returns.
pub type Result<T> = std::result::Result<T, Error>;

/// Why a middleware call failed; every message names the peer it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BurstError {
    /// A wait reached the communication deadline: "timed out waiting for worker 3 (group 1)".
    Timeout(String),
    /// The peer failed or died: "worker 3 (group 1) failed: main panicked: boom".
    PeerFailed(String),
    /// The call cannot be honoured as made (a worker id outside the burst, a missing root value).
    Usage(String),
    /// The backend itself broke (a Redis server that went away, a protocol error).
    Backend(String),
}

impl fmt::Display for BurstError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BurstError::Timeout(m)
            | BurstError::PeerFailed(m)
            | BurstError::Usage(m)
            | BurstError::Backend(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for BurstError {}

/// How a backend's wait or send ended without a message; the transport names the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The communication deadline passed.
    Expired,
    /// The peer will never send (or receive) again, and why: "failed: ...", "died (...)".
    Gone(String),
    /// The transport failed for a reason of its own.
    Broken(String),
}

impl From<std::io::Error> for Stop {
    fn from(err: std::io::Error) -> Self {
        match err.kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => Stop::Expired,
            _ => Stop::Broken(err.to_string()),
        }
    }
}
