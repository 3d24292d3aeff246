//! terasort's map stages in Rust, the twins of `action.py`'s: a mapper reads its slice and
//! writes one intermediate object per reducer; a reducer (`role: reducer`) reads what every
//! mapper wrote for it, sorts it and writes its output part. `comm_ms` is the shuffle through
//! storage, as in the Python action.

pub mod phases;
pub mod records;
pub mod storage;

use serde::de::Error as _;
use serde_json::{json, Error, Value};

use phases::{Clock, Phase};
use records::{
    boundaries, group_by_destination, number, part_name, read_slice, shuffle_name, sort_by_key,
    text, RECORD_BYTES,
};
use storage::Object;

fn map(args: &Value, clock: &mut Clock) -> Result<Value, String> {
    let me = number(args, "worker_id")?;
    let scratch = text(args, "scratch")?;
    let records = read_slice(args)?;
    clock.lap(Phase::Read);
    let groups = group_by_destination(&records, &boundaries(args)?);
    clock.lap(Phase::Compute);
    for (reducer, group) in groups.iter().enumerate() {
        Object::named(args, &shuffle_name(scratch, me, reducer))?.write(group)?;
    }
    clock.lap(Phase::Comm);
    let count = records.len() / RECORD_BYTES;
    Ok(clock.report(json!({"worker_id": me, "records": count})))
}

fn reduce(args: &Value, clock: &mut Clock) -> Result<Value, String> {
    let me = number(args, "worker_id")?;
    let scratch = text(args, "scratch")?;
    let received = (0..number(args, "mappers")?)
        .map(|mapper| Object::named(args, &shuffle_name(scratch, mapper, me as usize))?.read())
        .collect::<Result<Vec<_>, _>>()?;
    clock.lap(Phase::Comm);
    let runs: Vec<&[u8]> = received.iter().map(Vec::as_slice).collect();
    let output = sort_by_key(&runs);
    clock.lap(Phase::Compute);
    Object::named(args, &part_name(scratch, me))?.write(&output)?;
    clock.lap(Phase::Write);
    let count = output.len() / RECORD_BYTES;
    Ok(clock.report(json!({"worker_id": me, "records": count})))
}

pub fn main(args: Value) -> Result<Value, Error> {
    let mut clock = Clock::start();
    let done = match args["role"].as_str() {
        Some("reducer") => reduce(&args, &mut clock),
        _ => map(&args, &mut clock),
    };
    done.map_err(Error::custom)
}
