//! OpenWhisk action loop around the `action` crate's entry function.
//!
//! One JSON line per activation arrives on stdin; the answer is one JSON line on fd 3;
//! stdout and stderr are the activation's logs. The entry function has one of the burst
//! fork's two signatures, told apart at compile time (`Entry`):
//!
//! - `fn(Value) -> Result<Value, E>`, a map action: a map line calls it once; a burst pack
//!   line calls it once per worker of the pack, each in its own thread, with `worker_id`,
//!   `burst_size` and `group_id` added to that worker's params (no messages between them);
//! - `fn(Value, Middleware<T>) -> Result<Value, E>`, a burst action: a pack line runs one
//!   thread per worker of the pack, each with its `Middleware<T>` (`T` inferred from the
//!   signature); a worker that fails or panics is posted at once, so its peers' waits end
//!   naming it, and its envelope says why while its pack-mates' results are kept.
//!
//! A pack answers a list of one envelope per worker, in worker-id order.

use std::any::Any;
use std::env;
use std::fmt::Display;
use std::fs::File;
use std::io::{self, BufRead, Write};
use std::marker::PhantomData;
use std::os::unix::io::FromRawFd;
use std::panic::{self, AssertUnwindSafe};
use std::thread;
use std::time::{SystemTime, UNIX_EPOCH};

use burst_communication_middleware::pack::Pack;
use burst_communication_middleware::Middleware;
use bytes::Bytes;
use serde_json::{json, Map, Value};

use action::__MAIN__ as action_main;

/// Keys of an activation line that are not part of the activation's environment.
const NOT_ENVIRONMENT: [&str; 5] = ["value", "burst_info", "middleware", "invoker_id", "debug"];

/// The signature `fn(Value) -> Result<Value, E>`.
struct MapSignature<E>(PhantomData<fn() -> E>);
/// The signature `fn(Value, Middleware<T>) -> Result<Value, E>`.
struct BurstSignature<T, E>(PhantomData<fn() -> (T, E)>);

/// An entry function of either signature; `Signature` is inferred from the function itself.
trait Entry<Signature>: Sync {
    /// Runs one activation line that `activate` found to be an object.
    fn run(&self, activation: &Map<String, Value>, params: Value) -> Value;
}

impl<F, E> Entry<MapSignature<E>> for F
where
    F: Fn(Value) -> Result<Value, E> + Sync,
    E: Display,
{
    fn run(&self, activation: &Map<String, Value>, params: Value) -> Value {
        let call = |params: Value| outcome(panic::catch_unwind(AssertUnwindSafe(|| self(params))));
        match activation.get("burst_info") {
            Some(info) => run_map_pack(activation, info, params, &call),
            None => call(params).unwrap_or_else(error),
        }
    }
}

impl<F, T, E> Entry<BurstSignature<T, E>> for F
where
    F: Fn(Value, Middleware<T>) -> Result<Value, E> + Sync,
    T: From<Bytes> + Into<Bytes>,
    E: Display,
{
    fn run(&self, activation: &Map<String, Value>, params: Value) -> Value {
        if !activation.contains_key("burst_info") {
            return error(
                "this action's main takes a Middleware: invoke it as a burst (mode=burst)"
                    .to_string(),
            );
        }
        run_burst_pack(activation, params, |params, middleware| {
            outcome(panic::catch_unwind(AssertUnwindSafe(|| {
                self(params, middleware)
            })))
        })
    }
}

fn main() {
    // SAFETY: the platform opens fd 3 for answers before it starts us, and only we use it.
    let mut answers = unsafe { File::from_raw_fd(3) };
    if env::var_os("__OW_WAIT_FOR_ACK").is_some() {
        answer(&mut answers, &json!({"ok": true}));
    }
    serve(&mut answers, action_main);
}

fn serve<S>(answers: &mut File, entry: impl Entry<S>) {
    let stdin = io::stdin();
    for line in stdin.lock().lines() {
        let line = match line {
            Ok(line) => line,
            Err(_) => break,
        };
        if line.trim().is_empty() {
            continue;
        }
        let result = activate(&entry, &line);
        let _ = io::stdout().flush();
        let _ = io::stderr().flush();
        answer(answers, &result);
    }
}

/// One answer line; a platform that stopped reading them has ended this container.
fn answer(answers: &mut File, value: &Value) {
    if answers
        .write_all(format!("{}\n", value).as_bytes())
        .is_err()
    {
        std::process::exit(1);
    }
}

fn activate<S>(entry: &impl Entry<S>, line: &str) -> Value {
    let activation = match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(activation)) => activation,
        Ok(_) => return error("an activation line must be a JSON object".to_string()),
        Err(err) => return error(format!("the activation line is not JSON: {}", err)),
    };
    export_environment(&activation);
    let params = activation
        .get("value")
        .cloned()
        .unwrap_or_else(|| json!({}));
    entry.run(&activation, params)
}

/// Every key but the params and the burst description becomes an `__OW_<KEY>` variable.
fn export_environment(activation: &Map<String, Value>) {
    for (key, value) in activation {
        if NOT_ENVIRONMENT.contains(&key.as_str()) {
            continue;
        }
        let text = match value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        env::set_var(format!("__OW_{}", key.to_uppercase()), text);
    }
}

/// The entry function's answer, a JSON object; its errors and panics become messages.
fn outcome<E: Display>(returned: thread::Result<Result<Value, E>>) -> Result<Value, String> {
    match returned {
        Ok(Ok(result @ Value::Object(_))) => Ok(result),
        Ok(Ok(other)) => Err(format!(
            "main must return a JSON object, got {}",
            kind(&other)
        )),
        Ok(Err(err)) => Err(err.to_string()),
        Err(panic) => Err(format!("main panicked: {}", panic_message(panic.as_ref()))),
    }
}

/// A burst pack of a burst action: one thread and one `Middleware` per worker.
fn run_burst_pack<T, W>(activation: &Map<String, Value>, params: Value, worker_main: W) -> Value
where
    T: From<Bytes> + Into<Bytes>,
    W: Fn(Value, Middleware<T>) -> Result<Value, String> + Sync,
{
    let mut pack = match Pack::parse(activation) {
        Ok(pack) => pack,
        Err(message) => return error(message),
    };
    let workers = pack.workers();
    let params = match pack_params(params, *workers.start(), *workers.end()) {
        Ok(params) => params,
        Err(message) => return error(message),
    };
    let middlewares = pack.start().and_then(|()| pack.middlewares::<T>());
    let envelopes = match middlewares {
        Err(message) => workers
            .map(|worker_id| {
                pack.worker_failed(worker_id, &format!("failed: {}", message));
                let now = now_ms();
                envelope(worker_id as u64, now, now, Err(message.clone()))
            })
            .collect(),
        Ok(middlewares) => thread::scope(|scope| {
            let (pack, worker_main) = (&pack, &worker_main);
            let running: Vec<_> = workers
                .zip(params.into_iter().zip(middlewares))
                .map(|(worker_id, (params, middleware))| {
                    let thread = scope.spawn(move || {
                        let start = now_ms();
                        let result = worker_main(params, middleware);
                        if let Err(message) = &result {
                            pack.worker_failed(worker_id, &format!("failed: {}", message));
                        }
                        envelope(worker_id as u64, start, now_ms(), result)
                    });
                    (worker_id, thread)
                })
                .collect();
            running
                .into_iter()
                .map(|(worker_id, thread)| joined(worker_id as u64, thread))
                .collect()
        }),
    };
    pack.finish();
    Value::Array(envelopes)
}

fn joined(worker_id: u64, thread: thread::ScopedJoinHandle<'_, Value>) -> Value {
    thread.join().unwrap_or_else(|_| {
        let now = now_ms();
        envelope(worker_id, now, now, Err("worker thread died".to_string()))
    })
}

fn pack_params(params: Value, first: u32, last: u32) -> Result<Vec<Value>, String> {
    match params {
        Value::Array(workers) if workers.len() as u64 == (last - first + 1) as u64 => Ok(workers),
        _ => Err(format!(
            "value must be a list of {} params for workers {}..{}",
            last - first + 1,
            first,
            last
        )),
    }
}

/// A burst pack of a map action: its workers run concurrently, without messages.
fn run_map_pack<C>(activation: &Map<String, Value>, info: &Value, params: Value, call: &C) -> Value
where
    C: Fn(Value) -> Result<Value, String> + Sync,
{
    let group = match activation.get("invoker_id") {
        Some(Value::String(group)) => group.clone(),
        Some(other) => other.to_string(),
        None => return error("a burst pack line needs an invoker_id".to_string()),
    };
    let ranges: Vec<(String, (u64, u64))> = match info.as_object() {
        Some(groups) => groups
            .iter()
            .filter_map(|(id, range)| worker_range(range).map(|r| (id.clone(), r)))
            .collect(),
        None => return error("burst_info must map group ids to [first, last]".to_string()),
    };
    let (first, last) = match ranges.iter().find(|(id, _)| *id == group) {
        Some((_, range)) => *range,
        None => return error(format!("invoker_id {} is not a group of burst_info", group)),
    };
    let burst_size: u64 = ranges.iter().map(|(_, (a, b))| b - a + 1).sum();
    let workers = match pack_params(params, first as u32, last as u32) {
        Ok(workers) => workers,
        Err(message) => return error(message),
    };
    let envelopes = thread::scope(|scope| {
        let running: Vec<_> = workers
            .into_iter()
            .enumerate()
            .map(|(index, mut params)| {
                let worker_id = first + index as u64;
                if let Value::Object(fields) = &mut params {
                    fields.insert("worker_id".to_string(), json!(worker_id));
                    fields.insert("burst_size".to_string(), json!(burst_size));
                    fields.insert("group_id".to_string(), json!(group));
                }
                let thread = scope.spawn(move || {
                    let start = now_ms();
                    let result = call(params);
                    envelope(worker_id, start, now_ms(), result)
                });
                (worker_id, thread)
            })
            .collect();
        running
            .into_iter()
            .map(|(worker_id, thread)| joined(worker_id, thread))
            .collect()
    });
    Value::Array(envelopes)
}

fn envelope(worker_id: u64, start: u64, end: u64, outcome: Result<Value, String>) -> Value {
    let (result, error) = match outcome {
        Ok(result) => (result, Value::Null),
        Err(message) => (Value::Null, Value::String(message)),
    };
    json!({"worker_id": worker_id, "start_ms": start, "end_ms": end, "result": result,
           "error": error})
}

fn worker_range(range: &Value) -> Option<(u64, u64)> {
    match range.as_array().map(|pair| pair.as_slice()) {
        Some([first, last]) => match (first.as_u64(), last.as_u64()) {
            (Some(first), Some(last)) if first <= last => Some((first, last)),
            _ => None,
        },
        _ => None,
    }
}

fn error(message: String) -> Value {
    json!({ "error": message })
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        text.to_string()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "(no message)".to_string()
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
