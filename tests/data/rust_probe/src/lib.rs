//! What the middleware tests make a Rust worker do, chosen by `args["script"]`:
//!
//! - `echo`: `count` times, receive a message from `peer` and send it back reversed;
//! - `panic`: worker `victim` panics, the others run an all-to-all (and so wait on it);
//! - `wait`: receive one message from `peer`, which never sends it.

use burst_communication_middleware::Middleware;
use bytes::Bytes;
use serde_json::{json, Error, Value};

pub fn main(args: Value, burst_middleware: Middleware<Bytes>) -> Result<Value, Error> {
    let burst = burst_middleware.get_actor_handle();
    let me = burst.info.worker_id;
    let peer = args["peer"].as_u64().unwrap_or(0) as u32;
    match args["script"].as_str().unwrap_or("") {
        "echo" => {
            let mut lengths = Vec::new();
            for _ in 0..args["count"].as_u64().unwrap_or(1) {
                let message = burst.recv(peer).unwrap();
                lengths.push(message.len());
                let reversed: Vec<u8> = message.iter().rev().copied().collect();
                burst.send(peer, Bytes::from(reversed)).unwrap();
            }
            Ok(json!({"worker_id": me, "lengths": lengths}))
        }
        "panic" => {
            if me as u64 == args["victim"].as_u64().unwrap_or(0) {
                panic!("boom in worker {}", me);
            }
            let chunks = (0..burst.info.burst_size)
                .map(|_| Bytes::from_static(b"x"))
                .collect();
            match burst.all_to_all(chunks) {
                Ok(_) => Ok(json!({"worker_id": me})),
                Err(err) => Ok(json!({"worker_id": me, "error": err.to_string()})),
            }
        }
        "wait" => match burst.recv(peer) {
            Ok(_) => Ok(json!({"worker_id": me, "received": true})),
            Err(err) => Ok(json!({"worker_id": me, "error": err.to_string()})),
        },
        other => Ok(json!({"error": format!("unknown script {:?}", other)})),
    }
}
