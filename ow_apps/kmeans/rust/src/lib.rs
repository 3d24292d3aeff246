//! kmeans' map worker in Rust: the partial sums of one partition for the driver's centroids,
//! the Rust twin of `action.py`'s map branch. The driver (`__init__.py`'s `run`) runs one map
//! stage per iteration, adds the sums and moves the centroids.

pub mod partition;
pub mod storage;

use std::time::Instant;

use serde::de::Error as _;
use serde_json::{json, Error, Value};

use partition::{centroids, number, partial_sums, read_partition};

pub fn main(args: Value) -> Result<Value, Error> {
    let started = Instant::now();
    let points = read_partition(&args).map_err(Error::custom)?;
    let read_ms = started.elapsed().as_secs_f64() * 1000.0;
    let centroids = centroids(&args).map_err(Error::custom)?;
    let begin = Instant::now();
    let (sums, counts) = partial_sums(&points, &centroids);
    let compute_ms = begin.elapsed().as_secs_f64() * 1000.0;
    let rows: Vec<&[f64]> = sums.chunks(centroids.dims).collect();
    Ok(json!({
        "worker_id": number(&args, "worker_id").map_err(Error::custom)?,
        "sums": rows,
        "counts": counts,
        "read_ms": read_ms,
        "compute_ms": compute_ms,
    }))
}
