//! Every worker answers who it is: its id, its pack (group) and the size of the burst.
//!
//! The action loop of `app.build=cargo` reads the burst pack line, calls `main` once per
//! worker of the pack (concurrently) and adds `worker_id`, `group_id` and `burst_size` to
//! that worker's params; in map mode only `worker_id` is there (the runner adds it).

use serde_json::{json, Error, Value};

pub fn main(args: Value) -> Result<Value, Error> {
    let worker_id: u64 = serde_json::from_value(args["worker_id"].clone())?;
    let greeting = args["greeting"].as_str().unwrap_or("hello");
    Ok(json!({
        "worker_id": worker_id,
        "group_id": args.get("group_id").cloned().unwrap_or(Value::Null),
        "burst_size": args.get("burst_size").cloned().unwrap_or(Value::Null),
        "message": format!("{} from worker {}", greeting, worker_id),
    }))
}
