//! RedisList backend: one list per `burst:<burst id>:<source>:<dest>:<channel>`, RPUSH/BLPOP.
//!
//! A message up to `min(64 KiB, chunk)` is one element, `0x00` + payload; a larger one is a
//! header element, `0x01` + the chunk count as a little-endian u64, then its chunks, all in one
//! RPUSH so two messages never interleave. Keys expire 60 s after the deadline. The board keys
//! `failed:<worker>`, `started:<group>` and `alive:<group>` (a heartbeat that expires) tell a
//! waiting worker that its peer failed or that the peer's whole pack was killed.

use std::io;
use std::time::Duration;

use bytes::Bytes;

use super::resp::{Address, Connection, Reply, REPLY_SLACK};
use crate::buffers::payload_buffer;
use crate::deadline::Deadline;
use crate::errors::Stop;
use crate::topology::Topology;

const INLINE: u8 = 0x00;
const CHUNKED: u8 = 0x01;
const INLINE_LIMIT: usize = 64 * 1024;
/// Redis refuses elements over 512 MB; without a configured chunk size, cut there.
const MAX_ELEMENT: usize = 256 << 20;
pub(crate) const KEY_TTL_AFTER_DEADLINE_MS: u64 = 60_000;
/// A waiting worker reads the board between blocking slices this long.
const WATCH_EVERY: Duration = Duration::from_millis(200);
/// BLPOP treats a timeout that rounds to 0 as "forever".
const MIN_BLOCK: Duration = Duration::from_millis(10);
pub(crate) const HEARTBEAT_EVERY: Duration = Duration::from_millis(500);
const HEARTBEAT_TTL_MS: u64 = 2_500;
pub(crate) const KILLED: &str = "died (its pack stopped sending heartbeats)";

/// Every key of one burst, so the backend and the board agree on names.
#[derive(Clone)]
pub(crate) struct Keys {
    prefix: String,
}

impl Keys {
    pub(crate) fn new(burst_id: &str) -> Keys {
        Keys {
            prefix: format!("burst:{}", burst_id),
        }
    }
    fn messages(&self, source: u32, dest: u32, channel: u32) -> String {
        format!("{}:{}:{}:{}", self.prefix, source, dest, channel)
    }
    fn failed(&self, worker: u32) -> String {
        format!("{}:failed:{}", self.prefix, worker)
    }
    fn started(&self, group: &str) -> String {
        format!("{}:started:{}", self.prefix, group)
    }
    fn alive(&self, group: &str) -> String {
        format!("{}:alive:{}", self.prefix, group)
    }
}

fn broken(err: io::Error) -> Stop {
    Stop::Broken(err.to_string())
}

/// One worker's connection to the burst's lists.
pub(crate) struct RedisListWire {
    connection: Connection,
    keys: Keys,
    me: u32,
    chunk: usize,
    expire_at_ms: String,
}

impl RedisListWire {
    pub(crate) fn open(
        uri: &str,
        burst_id: &str,
        me: u32,
        chunk_bytes: Option<usize>,
        deadline: &Deadline,
    ) -> Result<RedisListWire, String> {
        let address = Address::parse(uri)?;
        let connection = Connection::open(&address).map_err(|e| e.to_string())?;
        Ok(RedisListWire {
            connection,
            keys: Keys::new(burst_id),
            me,
            chunk: chunk_bytes.filter(|c| *c > 0).unwrap_or(MAX_ELEMENT),
            expire_at_ms: expire_at_ms(deadline),
        })
    }

    pub(crate) fn send(&mut self, dest: u32, channel: u32, payload: &[u8]) -> Result<(), Stop> {
        let key = self.keys.messages(self.me, dest, channel);
        let inline;
        let header;
        let mut parts: Vec<&[u8]> = vec![b"RPUSH", key.as_bytes()];
        if payload.len() <= INLINE_LIMIT.min(self.chunk) {
            inline = [&[INLINE][..], payload].concat();
            parts.push(&inline);
        } else {
            let count = payload.len().div_ceil(self.chunk) as u64;
            header = [&[CHUNKED][..], &count.to_le_bytes()[..]].concat();
            parts.push(&header);
            parts.extend(payload.chunks(self.chunk));
        }
        let c = &mut self.connection;
        c.queue(&parts).map_err(broken)?;
        c.queue(&[b"PEXPIREAT", key.as_bytes(), self.expire_at_ms.as_bytes()])
            .map_err(broken)?;
        c.flush().map_err(broken)?;
        c.read_reply().map_err(broken)?;
        c.read_reply().map_err(broken)?;
        Ok(())
    }

    /// The oldest message from `source`; between blocking slices, reads the board.
    pub(crate) fn recv(
        &mut self,
        source: u32,
        channel: u32,
        deadline: &Deadline,
        topology: &Topology,
    ) -> Result<Bytes, Stop> {
        let key = self.keys.messages(source, self.me, channel);
        loop {
            let block = deadline.left()?.min(WATCH_EVERY).max(MIN_BLOCK);
            let seconds = format!("{:.3}", block.as_secs_f64());
            self.connection
                .reply_timeout(block + REPLY_SLACK)
                .map_err(broken)?;
            let reply = self
                .connection
                .call(&[b"BLPOP", key.as_bytes(), seconds.as_bytes()]);
            self.connection.reply_timeout(REPLY_SLACK).map_err(broken)?;
            match reply.map_err(broken)? {
                Reply::Array(Some(mut pair)) if pair.len() == 2 => {
                    if let Reply::Bulk(Some(first)) = pair.remove(1) {
                        return self.message(source, &key, first);
                    }
                    return Err(Stop::Broken(
                        "BLPOP answered without an element".to_string(),
                    ));
                }
                Reply::Array(None) | Reply::Bulk(None) => {}
                other => return Err(Stop::Broken(format!("unexpected BLPOP reply {:?}", other))),
            }
            if let Some(reason) = self.gone(source, topology)? {
                // The peer's last pushes precede its notice: one more look finds them.
                if let Reply::Bulk(Some(first)) = self
                    .connection
                    .call(&[b"LPOP", key.as_bytes()])
                    .map_err(broken)?
                {
                    return self.message(source, &key, first);
                }
                return Err(Stop::Gone(reason));
            }
        }
    }

    fn message(&mut self, source: u32, key: &str, first: Vec<u8>) -> Result<Bytes, Stop> {
        match first.first() {
            Some(&INLINE) => Ok(Bytes::from(first).slice(1..)),
            Some(&CHUNKED) if first.len() == 9 => {
                let count = u64::from_le_bytes(first[1..9].try_into().unwrap_or([0; 8]));
                // Room for every chunk up front (the last may be shorter): one allocation.
                let mut body = Vec::new();
                if count > 1 {
                    body = payload_buffer(count as usize * self.chunk);
                    body.clear();
                }
                let c = &mut self.connection;
                c.queue(&[b"LPOP", key.as_bytes(), count.to_string().as_bytes()])
                    .map_err(broken)?;
                c.flush().map_err(broken)?;
                let got = c.read_bulks_into(&mut body).map_err(broken)?.unwrap_or(0);
                if got as u64 != count {
                    return Err(Stop::Broken(format!(
                        "message from worker {} lost chunks ({} of {})",
                        source, got, count
                    )));
                }
                Ok(Bytes::from(body))
            }
            _ => Err(Stop::Broken(format!(
                "a malformed element from worker {}",
                source
            ))),
        }
    }

    fn gone(&mut self, source: u32, topology: &Topology) -> Result<Option<String>, Stop> {
        let group = &topology.group_of(source).id;
        let keys = [
            self.keys.failed(source),
            self.keys.started(group),
            self.keys.alive(group),
        ];
        let reply = self
            .connection
            .call(&[
                b"MGET",
                keys[0].as_bytes(),
                keys[1].as_bytes(),
                keys[2].as_bytes(),
            ])
            .map_err(broken)?;
        let Reply::Array(Some(values)) = reply else {
            return Err(Stop::Broken(
                "MGET answered something else than an array".to_string(),
            ));
        };
        let present = |i: usize| matches!(values.get(i), Some(Reply::Bulk(Some(_))));
        if let Some(Reply::Bulk(Some(reason))) = values.first() {
            return Ok(Some(String::from_utf8_lossy(reason).into_owned()));
        }
        if present(1) && !present(2) {
            return Ok(Some(KILLED.to_string()));
        }
        Ok(None)
    }
}

fn expire_at_ms(deadline: &Deadline) -> String {
    (deadline.epoch_ms() as u64 + KEY_TTL_AFTER_DEADLINE_MS).to_string()
}

/// A pack's liveness and its workers' failures as keys beside the burst's messages.
pub(crate) struct RedisBoard {
    connection: Connection,
    keys: Keys,
    group: String,
    expire_at_ms: String,
}

impl RedisBoard {
    pub(crate) fn open(
        uri: &str,
        burst_id: &str,
        group: &str,
        deadline: &Deadline,
    ) -> Result<RedisBoard, String> {
        let connection = Connection::open(&Address::parse(uri)?).map_err(|e| e.to_string())?;
        Ok(RedisBoard {
            connection,
            keys: Keys::new(burst_id),
            group: group.to_string(),
            expire_at_ms: expire_at_ms(deadline),
        })
    }

    pub(crate) fn pack_started(&mut self) -> io::Result<()> {
        let (started, alive) = (self.keys.started(&self.group), self.keys.alive(&self.group));
        let ttl = HEARTBEAT_TTL_MS.to_string();
        let c = &mut self.connection;
        c.queue(&[
            b"SET",
            started.as_bytes(),
            b"1",
            b"PXAT",
            self.expire_at_ms.as_bytes(),
        ])?;
        c.queue(&[b"SET", alive.as_bytes(), b"1", b"PX", ttl.as_bytes()])?;
        c.flush()?;
        c.read_reply()?;
        c.read_reply().map(|_| ())
    }

    pub(crate) fn heartbeat(&mut self) -> io::Result<()> {
        let alive = self.keys.alive(&self.group);
        let ttl = HEARTBEAT_TTL_MS.to_string();
        self.connection
            .call(&[b"SET", alive.as_bytes(), b"1", b"PX", ttl.as_bytes()])
            .map(|_| ())
    }

    pub(crate) fn worker_failed(&mut self, worker: u32, reason: &str) -> io::Result<()> {
        let key = self.keys.failed(worker);
        self.connection
            .call(&[
                b"SET",
                key.as_bytes(),
                reason.as_bytes(),
                b"PXAT",
                self.expire_at_ms.as_bytes(),
            ])
            .map(|_| ())
    }

    pub(crate) fn pack_finished(&mut self) -> io::Result<()> {
        let (started, alive) = (self.keys.started(&self.group), self.keys.alive(&self.group));
        self.connection
            .call(&[b"DEL", started.as_bytes(), alive.as_bytes()])
            .map(|_| ())
    }

    pub(crate) fn address(&self) -> &str {
        self.connection.address()
    }
}
