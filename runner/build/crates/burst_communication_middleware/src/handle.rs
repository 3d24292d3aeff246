//! What an action gets: `Middleware<T>`, and the `MiddlewareActorHandle<T>` it turns into.

use std::marker::PhantomData;
use std::sync::Arc;

use bytes::Bytes;

use crate::collectives;
use crate::errors::{BurstError, Result};
use crate::topology::BurstInfo;
use crate::transport::{Links, P2P_CHANNEL};

/// One worker's middleware, as the action loop hands it to `main(args, middleware)`.
///
/// `T` is the action's message type; it crosses the wire as `Bytes`. Between pack-mates the
/// `Bytes` itself is handed over, so a `T` whose conversions keep the buffer (as `Bytes`
/// does) is never copied.
pub struct Middleware<T> {
    links: Arc<Links>,
    info: BurstInfo,
    message: PhantomData<fn(T) -> T>,
}

impl<T> Middleware<T>
where
    T: From<Bytes> + Into<Bytes>,
{
    pub(crate) fn new(links: Links, info: BurstInfo) -> Self {
        Middleware {
            links: Arc::new(links),
            info,
            message: PhantomData,
        }
    }

    /// The handle with the operations (the fork spawns an actor here; this crate needs none).
    pub fn get_actor_handle(self) -> MiddlewareActorHandle<T> {
        MiddlewareActorHandle {
            info: self.info,
            links: self.links,
            message: PhantomData,
        }
    }

    pub fn info(&self) -> BurstInfo {
        self.info.clone()
    }
}

/// A worker's operations. Every call blocks until done or until the communication deadline
/// (the activation's, less a margin), and its error names the peer: "timed out waiting for
/// worker 3 (group 1)", "worker 3 (group 1) failed: main panicked: boom". All workers must
/// call the same collectives in the same order.
pub struct MiddlewareActorHandle<T> {
    pub info: BurstInfo,
    links: Arc<Links>,
    message: PhantomData<fn(T) -> T>,
}

impl<T> Clone for MiddlewareActorHandle<T> {
    fn clone(&self) -> Self {
        MiddlewareActorHandle {
            info: self.info.clone(),
            links: Arc::clone(&self.links),
            message: PhantomData,
        }
    }
}

/// Wraps `op` so that the collectives, which move `Bytes`, can fold values of `T`.
fn on_bytes<T: From<Bytes> + Into<Bytes>>(op: fn(T, T) -> T) -> impl Fn(Bytes, Bytes) -> Bytes {
    move |left, right| op(T::from(left), T::from(right)).into()
}

impl<T> MiddlewareActorHandle<T>
where
    T: From<Bytes> + Into<Bytes>,
{
    /// Sends `data` to worker `dest`; messages to one peer arrive in the order sent.
    pub fn send(&self, dest: u32, data: T) -> Result<()> {
        Ok(self.links.send(dest, P2P_CHANNEL, data.into())?)
    }

    /// The next message worker `from` sent to this worker.
    pub fn recv(&self, from: u32) -> Result<T> {
        Ok(T::from(self.links.recv(from, P2P_CHANNEL)?))
    }

    /// Every worker gets the root's data; the root passes `Some`, the others `None`.
    pub fn broadcast(&self, data: Option<T>, root: u32) -> Result<T> {
        self.check_root(root)?;
        Ok(T::from(collectives::broadcast(
            &self.links,
            data.map(Into::into),
            root,
        )?))
    }

    /// The root gets everyone's data in worker order; the others get `None`.
    pub fn gather(&self, data: T, root: u32) -> Result<Option<Vec<T>>> {
        self.check_root(root)?;
        let gathered = collectives::gather(&self.links, data.into(), root)?;
        Ok(gathered.map(|all| all.into_iter().map(T::from).collect()))
    }

    /// The root passes one value per worker; worker i gets value i.
    pub fn scatter(&self, data: Option<Vec<T>>, root: u32) -> Result<T> {
        self.check_root(root)?;
        let chunks = data.map(|all| all.into_iter().map(Into::into).collect());
        Ok(T::from(collectives::scatter(&self.links, chunks, root)?))
    }

    /// Value i goes to worker i; returns what each worker sent here, in worker order.
    pub fn all_to_all(&self, data: Vec<T>) -> Result<Vec<T>> {
        let chunks = data.into_iter().map(Into::into).collect();
        Ok(collectives::all_to_all(&self.links, chunks)?
            .into_iter()
            .map(T::from)
            .collect())
    }

    /// Folds everyone's data in worker order with the associative `op` (`op(lower, higher)`);
    /// worker 0 gets `Some(total)`, the others `None`. Any burst size (the fork's needs a
    /// power of two).
    pub fn reduce(&self, data: T, op: fn(T, T) -> T) -> Result<Option<T>> {
        let total = collectives::reduce(&self.links, data.into(), &on_bytes(op))?;
        Ok(total.map(T::from))
    }

    /// `reduce`, then every worker gets the total (beyond the fork's API).
    pub fn allreduce(&self, data: T, op: fn(T, T) -> T) -> Result<T> {
        Ok(T::from(collectives::allreduce(
            &self.links,
            data.into(),
            &on_bytes(op),
        )?))
    }

    /// Returns once every worker of the burst has entered the barrier (beyond the fork's API).
    pub fn barrier(&self) -> Result<()> {
        Ok(collectives::barrier(&self.links)?)
    }

    fn check_root(&self, root: u32) -> Result<()> {
        if root < self.info.burst_size {
            return Ok(());
        }
        let message = format!(
            "root {} is not in this burst (size {})",
            root, self.info.burst_size
        );
        Err(BurstError::Usage(message).into())
    }
}
