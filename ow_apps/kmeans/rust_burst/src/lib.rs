//! kmeans' burst worker in Rust, the twin of `action.py`'s burst branch: the partition is read
//! once and kept in memory; every Lloyd iteration allreduces the partial sums and counts
//! through the middleware, so every worker moves the centroids the same way and stops at the
//! same iteration. Worker 0 reports the final centroids.

pub mod partition;
pub mod storage;

use std::time::Instant;

use burst_communication_middleware::Middleware;
use bytes::Bytes;
use serde::de::Error as _;
use serde_json::{json, Error, Value};

use partition::{centroids, floats, number, partial_sums, read_partition, to_bytes, Rows};

/// Element-wise sum of two messages of little-endian float64s.
fn add(left: Bytes, right: Bytes) -> Bytes {
    let total: Vec<f64> = floats(&left)
        .iter()
        .zip(floats(&right))
        .map(|(a, b)| a + b)
        .collect();
    Bytes::from(to_bytes(&total))
}

/// The mean of each cluster; a centroid with no points stays where it was (`lloyd.py`).
fn update(centroids: &Rows, sums: &[f64], counts: &[f64]) -> Rows {
    let dims = centroids.dims;
    let mut values = centroids.values.clone();
    for (c, &count) in counts.iter().enumerate().filter(|(_, &count)| count > 0.0) {
        for d in 0..dims {
            values[c * dims + d] = sums[c * dims + d] / count;
        }
    }
    Rows { dims, values }
}

/// How far the farthest centroid moved.
fn shift(before: &Rows, after: &Rows) -> f64 {
    let moved = before
        .values
        .chunks(before.dims)
        .zip(after.values.chunks(after.dims));
    moved
        .map(|(old, new)| {
            let squares: f64 = old.iter().zip(new).map(|(a, b)| (b - a) * (b - a)).sum();
            squares.sqrt()
        })
        .fold(0.0, f64::max)
}

pub fn main(args: Value, burst_middleware: Middleware<Bytes>) -> Result<Value, Error> {
    let burst = burst_middleware.get_actor_handle();
    let started = Instant::now();
    let points = read_partition(&args).map_err(Error::custom)?;
    let read_ms = started.elapsed().as_secs_f64() * 1000.0;
    let mut centroids = centroids(&args).map_err(Error::custom)?;
    let iterations = number(&args, "iterations").map_err(Error::custom)?;
    let threshold = args["threshold"]
        .as_f64()
        .ok_or_else(|| Error::custom("threshold must be a number"))?;
    let (mut compute_ms, mut comm_ms, mut done) = (0.0, 0.0, 0);
    while done < iterations {
        let begin = Instant::now();
        let (mut local, counts) = partial_sums(&points, &centroids);
        local.extend(counts);
        let middle = Instant::now();
        let total = burst
            .allreduce(Bytes::from(to_bytes(&local)), add)
            .map_err(Error::custom)?;
        compute_ms += (middle - begin).as_secs_f64() * 1000.0;
        comm_ms += middle.elapsed().as_secs_f64() * 1000.0;
        let total = floats(&total);
        let (sums, counts) = total.split_at(centroids.values.len());
        let updated = update(&centroids, sums, counts);
        let moved = shift(&centroids, &updated);
        centroids = updated;
        done += 1;
        if moved < threshold {
            break;
        }
    }
    let mut result = json!({
        "worker_id": burst.info.worker_id,
        "iterations": done,
        "read_ms": read_ms,
        "compute_ms": compute_ms,
        "comm_ms": comm_ms,
        "points": points.count(),
    });
    if burst.info.worker_id == 0 {
        let rows: Vec<&[f64]> = centroids.values.chunks(centroids.dims).collect();
        result["centroids"] = json!(rows);
    }
    Ok(result)
}
