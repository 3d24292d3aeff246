//! hello's burst mode in Rust, the same check as the Python action: each worker passes its
//! id to the next one around a ring, then worker 0 broadcasts a greeting to everyone.

use burst_communication_middleware::{Middleware, MiddlewareActorHandle};
use bytes::Bytes;
use serde::de::Error as _;
use serde_json::{json, Error, Value};

fn failed(err: burst_communication_middleware::Error) -> Error {
    Error::custom(err)
}

fn ring_token(burst: &MiddlewareActorHandle<Bytes>) -> Result<u32, Error> {
    let (me, size) = (burst.info.worker_id, burst.info.burst_size);
    burst
        .send((me + 1) % size, Bytes::copy_from_slice(&me.to_le_bytes()))
        .map_err(failed)?;
    let token = burst.recv((me + size - 1) % size).map_err(failed)?;
    let bytes: [u8; 4] = token[..]
        .try_into()
        .map_err(|_| Error::custom("a ring token is 4 bytes"))?;
    Ok(u32::from_le_bytes(bytes))
}

pub fn main(args: Value, burst_middleware: Middleware<Bytes>) -> Result<Value, Error> {
    let burst = burst_middleware.get_actor_handle();
    let me = burst.info.worker_id;
    let token = ring_token(&burst)?;
    let greeting = args["greeting"].as_str().unwrap_or("hello");
    let mine = (me == 0).then(|| Bytes::from(format!("{} from worker {}", greeting, me)));
    let echoed = burst.broadcast(mine, 0).map_err(failed)?;
    Ok(json!({
        "worker_id": me,
        "group_id": burst.info.group_id,
        "token_from_left": token,
        "broadcast": String::from_utf8_lossy(&echoed),
    }))
}
