//! Routes one worker's messages: to a pack-mate through its mailbox (the `Bytes` handed over,
//! never copied), to a worker of another pack through the burst's backend.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::deadline::Deadline;
use crate::errors::{BurstError, Stop};
use crate::mailbox::{Mailbox, Taken};
use crate::topology::Topology;
use crate::wire::local::LocalWire;
use crate::wire::redis_list::RedisListWire;

/// Point-to-point and collective traffic never share a queue, so a user's pending message
/// can never be taken for a round of a collective (the Python middleware's channels).
pub(crate) const P2P_CHANNEL: u32 = 0;
pub(crate) const COLLECTIVE_CHANNEL: u32 = 1;

/// While waiting on the mailbox, look at the peer's notices this often, and probe its socket
/// (a killed worker's refuses connections) less often.
const WATCH_EVERY: Duration = Duration::from_millis(100);
const PROBE_EVERY: Duration = Duration::from_millis(500);
/// How long a dead peer's last bytes may take to reach the mailbox once it is known dead.
const DRAIN_GRACE: Duration = Duration::from_millis(500);

/// The burst-wide backend of a worker in a burst of several packs.
pub(crate) enum Remote {
    Local(LocalWire),
    Redis(RedisListWire),
}

/// Everything one worker sends and receives through.
pub(crate) struct Links {
    pub(crate) me: u32,
    pub(crate) topology: Arc<Topology>,
    deadline: Deadline,
    first_mate: u32,
    mates: Arc<Vec<Arc<Mailbox>>>,
    remote: Mutex<Option<Remote>>,
}

impl Links {
    pub(crate) fn new(
        me: u32,
        topology: Arc<Topology>,
        deadline: Deadline,
        mates: Arc<Vec<Arc<Mailbox>>>,
        remote: Option<Remote>,
    ) -> Links {
        let group = topology.group_index(me);
        let first_mate = *topology.members(group).start();
        Links {
            me,
            topology,
            deadline,
            first_mate,
            mates,
            remote: Mutex::new(remote),
        }
    }

    fn inbox(&self) -> &Mailbox {
        &self.mates[(self.me - self.first_mate) as usize]
    }

    fn mate(&self, worker: u32) -> Option<&Mailbox> {
        let same = self.topology.group_index(worker) == self.topology.group_index(self.me);
        same.then(|| &*self.mates[(worker - self.first_mate) as usize])
    }

    fn remote(&self) -> MutexGuard<'_, Option<Remote>> {
        self.remote
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn check_peer(&self, peer: u32) -> Result<(), BurstError> {
        if self.topology.contains(peer) {
            return Ok(());
        }
        Err(BurstError::Usage(format!(
            "worker {} is not in this burst (size {})",
            peer,
            self.topology.size()
        )))
    }

    fn named(&self, peer: u32, stop: Stop, doing: &str) -> BurstError {
        let name = self.topology.name(peer);
        match stop {
            Stop::Expired => BurstError::Timeout(format!("timed out {} {}", doing, name)),
            Stop::Gone(reason) => BurstError::PeerFailed(format!("{} {}", name, reason)),
            Stop::Broken(reason) => BurstError::Backend(format!("{} {}: {}", doing, name, reason)),
        }
    }

    pub(crate) fn send(&self, dest: u32, channel: u32, payload: Bytes) -> Result<(), BurstError> {
        self.check_peer(dest)?;
        if let Some(mailbox) = self.mate(dest) {
            if let Some(reason) = mailbox.failure(dest) {
                return Err(self.named(dest, Stop::Gone(reason), "sending to"));
            }
            mailbox.put(self.me, channel, payload);
            return Ok(());
        }
        let sent = match self.remote().as_mut() {
            Some(Remote::Local(wire)) => wire.send(dest, channel, &payload, &self.deadline),
            Some(Remote::Redis(wire)) => wire.send(dest, channel, &payload),
            None => Err(Stop::Broken("no backend between packs".to_string())),
        };
        sent.map_err(|stop| self.named(dest, stop, "sending to"))
    }

    pub(crate) fn recv(&self, source: u32, channel: u32) -> Result<Bytes, BurstError> {
        self.check_peer(source)?;
        let from_mate = self.mate(source).is_some();
        if !from_mate {
            if let Some(Remote::Redis(wire)) = self.remote().as_mut() {
                return wire
                    .recv(source, channel, &self.deadline, &self.topology)
                    .map_err(|stop| self.named(source, stop, "waiting for"));
            }
        }
        self.recv_mail(source, channel, from_mate)
            .map_err(|stop| self.named(source, stop, "waiting for"))
    }

    /// Waits on the mailbox (pack-mates, and other packs on the Local backend).
    fn recv_mail(&self, source: u32, channel: u32, from_mate: bool) -> Result<Bytes, Stop> {
        let inbox = self.inbox();
        let mut next_probe = Instant::now() + PROBE_EVERY;
        loop {
            let wait = self.deadline.left()?.min(WATCH_EVERY);
            match inbox.take(source, channel, wait) {
                Taken::Message(payload) => return Ok(payload),
                Taken::Failed(reason) => return Err(Stop::Gone(reason)),
                Taken::Empty if from_mate => continue,
                Taken::Empty => {}
            }
            let probe = Instant::now() >= next_probe;
            if probe {
                next_probe = Instant::now() + PROBE_EVERY;
            }
            let reason = match self.remote().as_ref() {
                Some(Remote::Local(wire)) => wire.gone(source, probe),
                _ => None,
            };
            if let Some(reason) = reason {
                // What the peer wrote before it ended may still be on its way in.
                inbox.await_end(source, DRAIN_GRACE);
                return match inbox.take(source, channel, Duration::ZERO) {
                    Taken::Message(payload) => Ok(payload),
                    _ => Err(Stop::Gone(reason)),
                };
            }
        }
    }
}
