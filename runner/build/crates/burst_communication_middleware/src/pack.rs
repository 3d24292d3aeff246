//! One pack of a burst, as the generated action loop runs it: the pack line read, one
//! `Middleware` per worker, failures posted where every peer looks, heartbeats kept.
//!
//! Not part of the fork's API: the action loop is this module's only user.

use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::deadline::Deadline;
use crate::handle::Middleware;
use crate::mailbox::Mailbox;
use crate::topology::{BurstInfo, Topology};
use crate::transport::{Links, Remote};
use crate::wire::local::{self, LocalWire};
use crate::wire::redis_list::{RedisBoard, RedisListWire, HEARTBEAT_EVERY};

/// A waiter's error quotes the reason of the worker it waited on; long chains keep the
/// first hops and the root cause.
const MAX_REASON: usize = 1000;

/// The pack line's `backend_type`s this crate speaks (the fork's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BackendType {
    Local,
    RedisList,
}

impl BackendType {
    fn parse(name: &str) -> Result<BackendType, String> {
        match name {
            "Local" => Ok(BackendType::Local),
            "RedisList" => Ok(BackendType::RedisList),
            other => Err(format!(
                "unsupported backend_type {:?} (supported: Local, RedisList)",
                other
            )),
        }
    }
}

/// Where this pack tells the other packs about its workers.
enum Board {
    Local(PathBuf),
    Redis(RedisBoard),
}

/// One pack of one burst.
pub struct Pack {
    topology: Arc<Topology>,
    group: usize,
    burst_id: String,
    backend: Result<BackendType, String>,
    uri: Option<String>,
    chunk_bytes: Option<usize>,
    deadline: Deadline,
    mailboxes: Arc<Vec<Arc<Mailbox>>>,
    board: Arc<Mutex<Option<Board>>>,
    beating: Option<(Arc<AtomicBool>, JoinHandle<()>)>,
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

fn number(value: Option<&Value>) -> Option<f64> {
    match value? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl Pack {
    /// Reads a pack line (docs/design.md, "The burst extension"); says what is wrong with it.
    pub fn parse(line: &Map<String, Value>) -> Result<Pack, String> {
        let topology = Topology::from_burst_info(line.get("burst_info").unwrap_or(&Value::Null))?;
        let group_id =
            text(line.get("invoker_id")).ok_or("a burst pack line needs an invoker_id")?;
        let group = topology
            .group(&group_id)
            .ok_or_else(|| format!("invoker_id {:?} is not a group of burst_info", group_id))?;
        let middleware = line.get("middleware").and_then(Value::as_object);
        let info = middleware
            .and_then(|m| m.get("backend_info"))
            .and_then(Value::as_object);
        let backend_type = info
            .and_then(|i| text(i.get("backend_type")))
            .unwrap_or_else(|| "Local".into());
        let chunk_kb = middleware
            .and_then(|m| number(m.get("chunk_size")))
            .filter(|kb| *kb > 0.0);
        let members = topology.members(group);
        let mailboxes = members.map(|_| Arc::new(Mailbox::default())).collect();
        Ok(Pack {
            group,
            burst_id: text(line.get("transaction_id")).unwrap_or_default(),
            backend: BackendType::parse(&backend_type),
            uri: info.and_then(|i| text(i.get("uri"))),
            chunk_bytes: chunk_kb.map(|kb| (kb * 1024.0) as usize),
            deadline: Deadline::for_activation(number(line.get("deadline"))),
            mailboxes: Arc::new(mailboxes),
            board: Arc::new(Mutex::new(None)),
            beating: None,
            topology: Arc::new(topology),
        })
    }

    pub fn workers(&self) -> RangeInclusive<u32> {
        self.topology.members(self.group)
    }

    fn multi_pack(&self) -> bool {
        self.topology.groups().len() > 1
    }

    fn uri(&self, backend: BackendType) -> Result<&str, String> {
        self.uri.as_deref().ok_or_else(|| match backend {
            BackendType::Local => {
                "the Local backend needs backend_info.uri: a directory all packs share".into()
            }
            BackendType::RedisList => {
                "the RedisList backend needs backend_info.uri, e.g. redis://host:6379".into()
            }
        })
    }

    /// Marks the pack running on the backend's board and starts its heartbeat, before any
    /// worker runs. A pack alone in its burst needs no board.
    pub fn start(&mut self) -> Result<(), String> {
        if !self.multi_pack() {
            return Ok(());
        }
        let backend = self.backend.clone()?;
        let uri = self.uri(backend)?.to_string();
        let group_id = self.topology.groups()[self.group].id.clone();
        let board = match backend {
            BackendType::Local => Board::Local(PathBuf::from(&uri)),
            BackendType::RedisList => {
                let mut board = RedisBoard::open(&uri, &self.burst_id, &group_id, &self.deadline)?;
                board
                    .pack_started()
                    .map_err(|e| format!("Redis at {}: {}", board.address(), e))?;
                let mut beat = RedisBoard::open(&uri, &self.burst_id, &group_id, &self.deadline)?;
                let stop = Arc::new(AtomicBool::new(false));
                let stopped = Arc::clone(&stop);
                let beater = thread::Builder::new()
                    .name("burst-heartbeat".to_string())
                    .spawn(move || {
                        while !stopped.load(Ordering::SeqCst) {
                            thread::park_timeout(HEARTBEAT_EVERY);
                            if !stopped.load(Ordering::SeqCst) && beat.heartbeat().is_err() {
                                eprintln!(
                                    "burst heartbeat: Redis at {} stopped answering",
                                    beat.address()
                                );
                                return;
                            }
                        }
                    })
                    .map_err(|e| e.to_string())?;
                self.beating = Some((stop, beater));
                Board::Redis(board)
            }
        };
        *self.board.lock().unwrap_or_else(|p| p.into_inner()) = Some(board);
        Ok(())
    }

    /// One middleware per worker of the pack, in worker order.
    pub fn middlewares<T>(&self) -> Result<Vec<Middleware<T>>, String>
    where
        T: From<Bytes> + Into<Bytes>,
    {
        let group_id = self.topology.groups()[self.group].id.clone();
        let ranges = self.topology.group_ranges();
        self.workers()
            .map(|worker| {
                let remote = self.remote(worker)?;
                let links = Links::new(
                    worker,
                    Arc::clone(&self.topology),
                    self.deadline,
                    Arc::clone(&self.mailboxes),
                    remote,
                );
                let info = BurstInfo {
                    burst_id: self.burst_id.clone(),
                    burst_size: self.topology.size(),
                    group_ranges: ranges.clone(),
                    worker_id: worker,
                    group_id: group_id.clone(),
                };
                Ok(Middleware::new(links, info))
            })
            .collect()
    }

    fn remote(&self, worker: u32) -> Result<Option<Remote>, String> {
        if !self.multi_pack() {
            return Ok(None);
        }
        let backend = self.backend.clone()?;
        let uri = self.uri(backend)?;
        let inbox = Arc::clone(&self.mailboxes[(worker - self.workers().start()) as usize]);
        Ok(Some(match backend {
            BackendType::Local => Remote::Local(LocalWire::open(uri.as_ref(), worker, inbox)?),
            BackendType::RedisList => Remote::Redis(RedisListWire::open(
                uri,
                &self.burst_id,
                worker,
                self.chunk_bytes,
                &self.deadline,
            )?),
        }))
    }

    /// Posts that `worker` will never send again: to its pack-mates at once, and on the
    /// board the other packs read. `reason` reads after the peer's name: "failed: ...".
    pub fn worker_failed(&self, worker: u32, reason: &str) {
        let reason = shorten(reason);
        for mailbox in self.mailboxes.iter() {
            mailbox.post_failure(worker, &reason);
        }
        let mut board = self.board.lock().unwrap_or_else(|p| p.into_inner());
        let posted = match board.as_mut() {
            Some(Board::Local(dir)) => {
                local::post_failure(dir, worker, &reason).map_err(|e| e.to_string())
            }
            Some(Board::Redis(redis)) => redis
                .worker_failed(worker, &reason)
                .map_err(|e| e.to_string()),
            None => Ok(()),
        };
        if let Err(err) = posted {
            eprintln!(
                "burst: could not post the failure of worker {}: {}",
                worker, err
            );
        }
    }

    /// Stops the heartbeat and withdraws the pack's liveness marks.
    pub fn finish(mut self) {
        if let Some((stop, beater)) = self.beating.take() {
            stop.store(true, Ordering::SeqCst);
            beater.thread().unpark();
            let _ = beater.join();
        }
        if let Some(Board::Redis(redis)) = self
            .board
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_mut()
        {
            if let Err(err) = redis.pack_finished() {
                eprintln!("burst: could not withdraw the pack's marks: {}", err);
            }
        }
    }
}

fn shorten(reason: &str) -> String {
    if reason.chars().count() <= MAX_REASON {
        return reason.to_string();
    }
    let chars: Vec<char> = reason.chars().collect();
    let keep = MAX_REASON / 2;
    let head: String = chars[..keep].iter().collect();
    let tail: String = chars[chars.len() - keep..].iter().collect();
    format!("{} [...] {}", head, tail)
}
