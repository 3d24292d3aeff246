//! One worker's incoming messages, filled by its pack-mates' threads and its socket readers.
//!
//! Pack-mates hand over `Bytes` directly (a reference count, never a copy of the payload);
//! the Local backend's reader threads put what arrives from other packs in the same queues.
//! The pack also posts here which of its workers failed, so a wait on one ends at once.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;

#[derive(Default)]
struct Boxes {
    queues: HashMap<(u32, u32), VecDeque<Bytes>>,
    failed: HashMap<u32, String>,
    ended: HashSet<u32>,
}

/// FIFO queues keyed by (source, channel), with the failures of known peers.
#[derive(Default)]
pub struct Mailbox {
    boxes: Mutex<Boxes>,
    changed: Condvar,
}

/// What a bounded wait on one queue found.
pub(crate) enum Taken {
    Message(Bytes),
    /// The source is known to have failed and sent nothing more: why.
    Failed(String),
    Empty,
}

impl Mailbox {
    fn lock(&self) -> MutexGuard<'_, Boxes> {
        // A thread that panicked while holding the lock left the queues consistent (every
        // critical section is a single push, pop or insert), so the poison is ignored.
        self.boxes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn put(&self, source: u32, channel: u32, payload: Bytes) {
        self.lock()
            .queues
            .entry((source, channel))
            .or_default()
            .push_back(payload);
        self.changed.notify_all();
    }

    pub(crate) fn post_failure(&self, worker: u32, reason: &str) {
        self.lock()
            .failed
            .entry(worker)
            .or_insert_with(|| reason.to_string());
        self.changed.notify_all();
    }

    pub(crate) fn failure(&self, worker: u32) -> Option<String> {
        self.lock().failed.get(&worker).cloned()
    }

    /// A stream from `source` (another pack) ended: all it wrote is in the queues now.
    pub(crate) fn stream_ended(&self, source: u32) {
        self.lock().ended.insert(source);
        self.changed.notify_all();
    }

    /// The oldest message from `source` on `channel`, waiting at most `wait` for one.
    /// Messages that arrived before a failure notice are still delivered first.
    pub(crate) fn take(&self, source: u32, channel: u32, wait: Duration) -> Taken {
        let until = Instant::now() + wait;
        let mut boxes = self.lock();
        loop {
            if let Some(payload) = boxes
                .queues
                .get_mut(&(source, channel))
                .and_then(|q| q.pop_front())
            {
                return Taken::Message(payload);
            }
            if let Some(reason) = boxes.failed.get(&source) {
                return Taken::Failed(reason.clone());
            }
            let now = Instant::now();
            if now >= until {
                return Taken::Empty;
            }
            boxes = self
                .changed
                .wait_timeout(boxes, until - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Waits up to `grace` for the stream from `source` to end (a dead peer's last bytes).
    pub(crate) fn await_end(&self, source: u32, grace: Duration) {
        let until = Instant::now() + grace;
        let mut boxes = self.lock();
        while !boxes.ended.contains(&source) {
            let now = Instant::now();
            if now >= until {
                return;
            }
            boxes = self
                .changed
                .wait_timeout(boxes, until - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}
