//! Collectives over point-to-point messages on the collective channel.
//!
//! Broadcast and reduce are two-level, as in the Python middleware: binomial trees among one
//! leader per group (the only traffic crossing the backend between packs), then inside each
//! group in memory. Trees work for any burst size. Reductions fold contiguous id ranges in id
//! order, so `op` need only be associative. Every worker must call the same collectives in
//! the same order; per-pair FIFO order then keeps their rounds apart.

use bytes::Bytes;

use crate::errors::BurstError;
use crate::transport::{Links, COLLECTIVE_CHANNEL};

type Outcome<T> = std::result::Result<T, BurstError>;

fn send(links: &Links, dest: u32, data: Bytes) -> Outcome<()> {
    links.send(dest, COLLECTIVE_CHANNEL, data)
}

fn recv(links: &Links, source: u32) -> Outcome<Bytes> {
    links.recv(source, COLLECTIVE_CHANNEL)
}

pub(crate) fn broadcast(links: &Links, data: Option<Bytes>, root: u32) -> Outcome<Bytes> {
    let topo = &links.topology;
    let root_group = topo.group_index(root);
    let leaders: Vec<u32> = (0..topo.groups().len())
        .map(|g| {
            if g == root_group {
                root
            } else {
                *topo.members(g).start()
            }
        })
        .collect();
    let my_group = topo.group_index(links.me);
    let my_leader = leaders[my_group];
    let mut data = data.filter(|_| links.me == root);
    if links.me == root && data.is_none() {
        return Err(BurstError::Usage(
            "the broadcast root must pass Some(data)".to_string(),
        ));
    }
    if links.me == my_leader {
        data = Some(tree_broadcast(links, data, &leaders, root_group)?);
    }
    let members: Vec<u32> = topo.members(my_group).collect();
    let at = members.iter().position(|w| *w == my_leader).unwrap_or(0);
    tree_broadcast(links, data, &members, at)
}

/// Binomial-tree broadcast among `nodes` (this worker included) from `nodes[root]`.
fn tree_broadcast(
    links: &Links,
    mut data: Option<Bytes>,
    nodes: &[u32],
    root: usize,
) -> Outcome<Bytes> {
    let count = nodes.len();
    let me = nodes.iter().position(|w| *w == links.me).unwrap_or(0);
    let rel = (me + count - root) % count;
    let mut mask = 1;
    while mask < count {
        if rel & mask != 0 {
            data = Some(recv(links, nodes[(rel - mask + root) % count])?);
            break;
        }
        mask <<= 1;
    }
    let data = data.ok_or_else(|| BurstError::Usage("broadcast without data".to_string()))?;
    mask >>= 1;
    while mask > 0 {
        if rel + mask < count {
            send(links, nodes[(rel + mask + root) % count], data.clone())?;
        }
        mask >>= 1;
    }
    Ok(data)
}

/// Folds everyone's data in worker order; the result is at worker 0 (None elsewhere).
pub(crate) fn reduce(
    links: &Links,
    data: Bytes,
    op: &dyn Fn(Bytes, Bytes) -> Bytes,
) -> Outcome<Option<Bytes>> {
    let topo = &links.topology;
    let my_group = topo.group_index(links.me);
    let members: Vec<u32> = topo.members(my_group).collect();
    let partial = tree_reduce(links, data, op, &members)?;
    match partial {
        Some(partial) if links.me == members[0] => {
            let leaders: Vec<u32> = (0..topo.groups().len())
                .map(|g| *topo.members(g).start())
                .collect();
            tree_reduce(links, partial, op, &leaders)
        }
        other => Ok(other),
    }
}

/// Order-preserving binomial reduction among `nodes`; the result ends at `nodes[0]`.
///
/// At distance `step`, node `i` (a multiple of `2 * step`) folds in node `i + step`, whose
/// partial covers the ids right after its own, so ranges stay contiguous and in order.
fn tree_reduce(
    links: &Links,
    mut data: Bytes,
    op: &dyn Fn(Bytes, Bytes) -> Bytes,
    nodes: &[u32],
) -> Outcome<Option<Bytes>> {
    let Some(index) = nodes.iter().position(|w| *w == links.me) else {
        return Ok(None);
    };
    let mut step = 1;
    while step < nodes.len() {
        if index % (2 * step) != 0 {
            send(links, nodes[index - step], data)?;
            return Ok(None);
        }
        if index + step < nodes.len() {
            data = op(data, recv(links, nodes[index + step])?);
        }
        step *= 2;
    }
    Ok(Some(data))
}

pub(crate) fn allreduce(
    links: &Links,
    data: Bytes,
    op: &dyn Fn(Bytes, Bytes) -> Bytes,
) -> Outcome<Bytes> {
    let total = reduce(links, data, op)?;
    broadcast(links, total, 0)
}

pub(crate) fn barrier(links: &Links) -> Outcome<()> {
    let keep_left = |left: Bytes, _right: Bytes| left;
    allreduce(links, Bytes::new(), &keep_left).map(|_| ())
}

pub(crate) fn gather(links: &Links, data: Bytes, root: u32) -> Outcome<Option<Vec<Bytes>>> {
    if links.me != root {
        send(links, root, data)?;
        return Ok(None);
    }
    let mut data = Some(data);
    (0..links.topology.size())
        .map(|w| {
            if w == root {
                Ok(data.take().unwrap_or_default())
            } else {
                recv(links, w)
            }
        })
        .collect::<Outcome<Vec<Bytes>>>()
        .map(Some)
}

pub(crate) fn scatter(links: &Links, chunks: Option<Vec<Bytes>>, root: u32) -> Outcome<Bytes> {
    if links.me != root {
        return recv(links, root);
    }
    let size = links.topology.size() as usize;
    let chunks = match chunks {
        Some(chunks) if chunks.len() == size => chunks,
        other => {
            let got = other
                .map(|c| c.len().to_string())
                .unwrap_or_else(|| "None".to_string());
            return Err(BurstError::Usage(format!(
                "the scatter root needs {} chunks, got {}",
                size, got
            )));
        }
    };
    let mut mine = Bytes::new();
    for (dest, chunk) in chunks.into_iter().enumerate() {
        if dest as u32 == root {
            mine = chunk;
        } else {
            send(links, dest as u32, chunk)?;
        }
    }
    Ok(mine)
}

/// Chunk i goes to worker i; returns what each worker sent here, in sender order.
pub(crate) fn all_to_all(links: &Links, chunks: Vec<Bytes>) -> Outcome<Vec<Bytes>> {
    let size = links.topology.size();
    if chunks.len() != size as usize {
        return Err(BurstError::Usage(format!(
            "all_to_all needs {} chunks (one per worker), got {}",
            size,
            chunks.len()
        )));
    }
    let me = links.me;
    let mut chunks: Vec<Option<Bytes>> = chunks.into_iter().map(Some).collect();
    // Staggered: worker i sends to i+1 first, so no single receiver is flooded.
    for step in 1..size {
        let dest = (me + step) % size;
        send(
            links,
            dest,
            chunks[dest as usize].take().unwrap_or_default(),
        )?;
    }
    let mut received: Vec<Bytes> = vec![Bytes::new(); size as usize];
    received[me as usize] = chunks[me as usize].take().unwrap_or_default();
    for step in 1..size {
        let source = (me + size - step) % size;
        received[source as usize] = recv(links, source)?;
    }
    Ok(received)
}
