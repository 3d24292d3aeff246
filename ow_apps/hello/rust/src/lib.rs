//! hello in Rust: each map worker greets with its id, exactly as the Python action does.
//!
//! hello's burst mode passes a token around a ring and broadcasts, which needs the
//! burst middleware; the action loop of `app.build=cargo` has none, so a burst pack
//! gets a clear error instead (app `hello_burst_rust` is the burst sample).

use serde::de::Error as _;
use serde_json::{json, Error, Value};

pub fn main(args: Value) -> Result<Value, Error> {
    if args.get("burst_size").is_some() {
        return Err(Error::custom(
            "hello's ring and broadcast need the burst middleware, which Rust actions built \
             with app.build=cargo lack: run hello in map mode, or app=hello_burst_rust",
        ));
    }
    let worker_id: u64 = serde_json::from_value(args["worker_id"].clone())?;
    let greeting = args["greeting"].as_str().unwrap_or("hello");
    Ok(json!({
        "worker_id": worker_id,
        "message": format!("{} from worker {}", greeting, worker_id),
    }))
}
