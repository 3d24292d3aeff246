//! pagerank's map worker in Rust, the twin of `action.py`'s map branch: one iteration's
//! contributions of this worker's source range. The ranks come in and the contributions go out
//! through the storage (`comm_ms`, as in the Python action); the driver sums and updates.

pub mod phases;
pub mod powerstep;
pub mod storage;

use serde::de::Error as _;
use serde_json::{json, Error, Value};

use phases::{Clock, Phase};
use powerstep::{contributions, floats, number, read_partition, text, to_bytes};
use storage::Object;

fn iteration(args: &Value) -> Result<Value, String> {
    let mut clock = Clock::start();
    let partition = read_partition(args)?;
    clock.lap(Phase::Read);
    let ranks = floats(&Object::named(args, text(args, "ranks_in")?)?.read()?);
    clock.lap(Phase::Comm);
    let partial = contributions(&partition, &ranks);
    clock.lap(Phase::Compute);
    Object::named(args, text(args, "contrib_out")?)?.write(&to_bytes(&partial))?;
    clock.lap(Phase::Comm);
    let worker_id = number(args, "worker_id")?;
    Ok(clock.report(json!({"worker_id": worker_id, "edges": partition.targets.len()})))
}

pub fn main(args: Value) -> Result<Value, Error> {
    iteration(&args).map_err(Error::custom)
}
