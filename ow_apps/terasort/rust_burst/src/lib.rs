//! terasort's burst worker in Rust, the twin of `action.py`'s burst branch: read this worker's
//! slice, send every record to the worker owning its key range with one `all_to_all`, sort what
//! arrived and write it as this worker's output part. `comm_ms` is the shuffle.

pub mod phases;
pub mod records;
pub mod storage;

use burst_communication_middleware::Middleware;
use bytes::Bytes;
use serde::de::Error as _;
use serde_json::{json, Error, Value};

use phases::{Clock, Phase};
use records::RECORD_BYTES;
use records::{boundaries, group_by_destination, part_name, read_slice, sort_by_key, text};
use storage::Object;

pub fn main(args: Value, burst_middleware: Middleware<Bytes>) -> Result<Value, Error> {
    let burst = burst_middleware.get_actor_handle();
    let me = burst.info.worker_id;
    let mut clock = Clock::start();
    let records = read_slice(&args).map_err(Error::custom)?;
    clock.lap(Phase::Read);
    let bounds = boundaries(&args).map_err(Error::custom)?;
    if bounds.len() + 1 != burst.info.burst_size as usize {
        let message = format!(
            "{} boundaries for a burst of {} workers",
            bounds.len(),
            burst.info.burst_size
        );
        return Err(Error::custom(message));
    }
    let groups = group_by_destination(&records, &bounds);
    drop(records);
    clock.lap(Phase::Compute);
    let received = burst
        .all_to_all(groups.into_iter().map(Bytes::from).collect())
        .map_err(Error::custom)?;
    clock.lap(Phase::Comm);
    let runs: Vec<&[u8]> = received.iter().map(|run| &run[..]).collect();
    let output = sort_by_key(&runs);
    drop(received);
    clock.lap(Phase::Compute);
    let scratch = text(&args, "scratch").map_err(Error::custom)?;
    Object::named(&args, &part_name(scratch, me as u64))
        .and_then(|part| part.write(&output))
        .map_err(Error::custom)?;
    clock.lap(Phase::Write);
    let count = output.len() / RECORD_BYTES;
    Ok(clock.report(json!({"worker_id": me, "records": count})))
}
