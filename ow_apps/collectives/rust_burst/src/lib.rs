//! collectives in Rust: time one collective operation on deterministic messages, as
//! `action.py` does (same rounds, barrier before each, CRC of everything received), on the
//! Rust middleware. Only `main`'s burst signature: collectives need mode=burst.

mod messages;

use std::time::Instant;

use burst_communication_middleware::{Middleware, MiddlewareActorHandle};
use bytes::Bytes;
use serde::de::Error as _;
use serde_json::{json, Error, Value};

use messages::{add_words, crc32, Messages, EVERYONE};

const ROOT: u32 = 0;
const MIB: f64 = (1 << 20) as f64;

type Burst = MiddlewareActorHandle<Bytes>;
type Outcome<T> = burst_communication_middleware::Result<T>;

/// One round of `op`, messages made: run it to get what this worker received, in order.
type Round<'a> = Box<dyn FnOnce() -> Outcome<Vec<Bytes>> + 'a>;

/// Makes this worker's messages of one round of `op` (untimed) and returns the round.
fn prepare<'a>(
    op: &str,
    burst: &'a Burst,
    made: &Messages,
    nbytes: usize,
    round: u32,
) -> Outcome<Round<'a>> {
    let (me, size) = (burst.info.worker_id, burst.info.burst_size);
    let message = |sender: u32, dest: i64| made.message(nbytes, sender, round, dest);
    Ok(match op {
        "pair" => {
            let partner = me ^ 1;
            if partner >= size {
                return Ok(Box::new(|| Ok(Vec::new()))); // the odd one out has no partner
            }
            let data = message(me, partner as i64);
            Box::new(move || {
                burst.send(partner, data)?;
                Ok(vec![burst.recv(partner)?])
            })
        }
        "broadcast" => {
            let data = (me == ROOT).then(|| message(ROOT, EVERYONE));
            Box::new(move || Ok(vec![burst.broadcast(data, ROOT)?]))
        }
        "gather" => {
            let data = message(me, ROOT as i64);
            Box::new(move || Ok(burst.gather(data, ROOT)?.unwrap_or_default()))
        }
        "scatter" => {
            let chunks = (me == ROOT).then(|| (0..size).map(|d| message(ROOT, d as i64)).collect());
            Box::new(move || Ok(vec![burst.scatter(chunks, ROOT)?]))
        }
        "all_to_all" => {
            let chunks = (0..size).map(|d| message(me, d as i64)).collect();
            Box::new(move || burst.all_to_all(chunks))
        }
        "reduce" => {
            let data = message(me, EVERYONE);
            Box::new(move || Ok(burst.reduce(data, add_words)?.into_iter().collect()))
        }
        "allreduce" => {
            let data = message(me, EVERYONE);
            Box::new(move || Ok(vec![burst.allreduce(data, add_words)?]))
        }
        other => return Err(format!("unknown op {:?}", other).into()),
    })
}

/// Bytes one round moves in or out of this worker if every message went directly.
fn volume(op: &str, me: u32, size: u32, nbytes: usize) -> usize {
    let others = (size - 1) as usize;
    match op {
        "pair" if me ^ 1 < size => 2 * nbytes,
        "pair" => 0,
        "all_to_all" => 2 * others * nbytes,
        "allreduce" if others > 0 => 2 * nbytes,
        _ if others == 0 => 0,
        _ if me == ROOT => others * nbytes,
        _ => nbytes,
    }
}

fn number(args: &Value, key: &str) -> Result<u64, Error> {
    args[key]
        .as_u64()
        .ok_or_else(|| Error::custom(format!("{} must be a non-negative integer", key)))
}

pub fn main(args: Value, burst_middleware: Middleware<Bytes>) -> Result<Value, Error> {
    let burst = burst_middleware.get_actor_handle();
    let op = args["op"]
        .as_str()
        .ok_or_else(|| Error::custom("op must be a string"))?
        .to_string();
    let nbytes = number(&args, "payload_kb")? as usize * 1024;
    let (warmup, repetitions) = (
        number(&args, "warmup")? as u32,
        number(&args, "repetitions")? as u32,
    );
    let made = Messages::default();
    let mut times_ms = Vec::new();
    let mut digest = 0u32;
    for index in 0..warmup + repetitions {
        let run = prepare(&op, &burst, &made, nbytes, index).map_err(Error::custom)?;
        burst.barrier().map_err(Error::custom)?; // all workers start the timed part together
        let started = Instant::now();
        let received = run().map_err(Error::custom)?;
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        if index >= warmup {
            times_ms.push(elapsed_ms);
        }
        digest = received.iter().fold(digest, |crc, chunk| crc32(crc, chunk));
    }
    times_ms.sort_by(f64::total_cmp);
    let median = match times_ms.len() {
        0 => 0.0,
        n if n % 2 == 1 => times_ms[n / 2],
        n => (times_ms[n / 2 - 1] + times_ms[n / 2]) / 2.0,
    };
    let (me, size) = (burst.info.worker_id, burst.info.burst_size);
    let moved = volume(&op, me, size, nbytes);
    Ok(json!({
        "worker_id": me,
        "op": op,
        "op_ms_median": median,
        "op_ms_min": times_ms.first().copied().unwrap_or(0.0),
        "bytes": moved,
        "throughput_mib_s": if median > 0.0 { moved as f64 / MIB / (median / 1000.0) } else { 0.0 },
        "digest": format!("{:08x}", digest),
    }))
}
