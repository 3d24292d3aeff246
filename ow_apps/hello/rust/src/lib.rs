//! hello in Rust: each map worker greets with its id, exactly as the Python action does.
//!
//! hello's burst mode passes a token around a ring and broadcasts, which needs the burst
//! middleware: that is the crate `rust_burst/`, whose `main` takes a `Middleware` (the
//! default Rust action in mode=burst). This map crate, given a pack anyway, says so.

use serde::de::Error as _;
use serde_json::{json, Error, Value};

pub fn main(args: Value) -> Result<Value, Error> {
    if args.get("burst_size").is_some() {
        return Err(Error::custom(
            "hello's ring and broadcast need the burst middleware: this is the map crate; \
             leave app.action unset in mode=burst to build rust_burst/",
        ));
    }
    let worker_id: u64 = serde_json::from_value(args["worker_id"].clone())?;
    let greeting = args["greeting"].as_str().unwrap_or("hello");
    Ok(json!({
        "worker_id": worker_id,
        "message": format!("{} from worker {}", greeting, worker_id),
    }))
}
