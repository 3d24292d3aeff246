//! pagerank's burst worker in Rust, the twin of `action.py`'s burst branch: the partition is
//! read once and kept in memory; every iteration allreduces the contributions, so every worker
//! holds the same sum, applies the same update and stops at the same iteration. Worker 0 writes
//! the final ranks.

pub mod phases;
pub mod powerstep;
pub mod storage;

use burst_communication_middleware::Middleware;
use bytes::Bytes;
use serde::de::Error as _;
use serde_json::{json, Error, Value};

use phases::{Clock, Phase};
use powerstep::{contributions, floats, number, read_partition, step, text, to_bytes};
use storage::Object;

/// Element-wise sum of two messages of little-endian float64s.
fn add(left: Bytes, right: Bytes) -> Bytes {
    let total: Vec<f64> = floats(&left)
        .iter()
        .zip(floats(&right))
        .map(|(a, b)| a + b)
        .collect();
    Bytes::from(to_bytes(&total))
}

fn float(args: &Value, key: &str) -> Result<f64, Error> {
    args[key]
        .as_f64()
        .ok_or_else(|| Error::custom(format!("{} must be a number", key)))
}

pub fn main(args: Value, burst_middleware: Middleware<Bytes>) -> Result<Value, Error> {
    let burst = burst_middleware.get_actor_handle();
    let mut clock = Clock::start();
    let partition = read_partition(&args).map_err(Error::custom)?;
    clock.lap(Phase::Read);
    let nodes = number(&args, "nodes").map_err(Error::custom)? as usize;
    let cap = number(&args, "iterations").map_err(Error::custom)?;
    let (damping, tolerance) = (float(&args, "damping")?, float(&args, "tolerance")?);
    let mut ranks = vec![1.0 / nodes as f64; nodes];
    let (mut iterations, mut residual) = (0, f64::INFINITY);
    while iterations < cap {
        let partial = contributions(&partition, &ranks);
        clock.lap(Phase::Compute);
        let total = burst
            .allreduce(Bytes::from(to_bytes(&partial)), add)
            .map_err(Error::custom)?;
        clock.lap(Phase::Comm);
        (ranks, residual) = step(&ranks, &floats(&total), damping);
        iterations += 1;
        clock.lap(Phase::Compute);
        if residual < tolerance {
            break;
        }
    }
    if burst.info.worker_id == 0 {
        let out = text(&args, "ranks_out").map_err(Error::custom)?;
        Object::named(&args, out)
            .and_then(|object| object.write(&to_bytes(&ranks)))
            .map_err(Error::custom)?;
        clock.lap(Phase::Write);
    }
    Ok(clock.report(json!({
        "worker_id": burst.info.worker_id,
        "edges": partition.targets.len(),
        "iterations": iterations,
        "residual": residual,
    })))
}
