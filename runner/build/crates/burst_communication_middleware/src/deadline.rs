//! Absolute deadlines in wall-clock time, the instant every worker of a burst agrees on.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::errors::Stop;

/// OpenWhisk's default action time limit, for a pack line that carries no deadline.
const DEFAULT_TIMEOUT_MS: f64 = 60_000.0;
/// Communication gives up this long before the activation's deadline at most, so that
/// workers still answer saying whom they waited for (10% of the time left when shorter).
const MAX_MARGIN_MS: f64 = 1_000.0;

/// A point in time (epoch milliseconds) after which waits give up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Deadline {
    at_ms: f64,
}

pub(crate) fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

impl Deadline {
    /// The deadline of a pack's messages: the activation's, less a margin to answer in.
    pub fn for_activation(deadline_ms: Option<f64>) -> Self {
        let at = deadline_ms.unwrap_or_else(|| now_ms() + DEFAULT_TIMEOUT_MS);
        let left = (at - now_ms()).max(0.0);
        Deadline {
            at_ms: at - MAX_MARGIN_MS.min(left * 0.1),
        }
    }

    pub fn epoch_ms(&self) -> f64 {
        self.at_ms
    }

    /// The time left, or `Stop::Expired` when none is.
    pub(crate) fn left(&self) -> Result<Duration, Stop> {
        let left = self.at_ms - now_ms();
        if left <= 0.0 {
            return Err(Stop::Expired);
        }
        Ok(Duration::from_secs_f64(left / 1000.0))
    }
}
