//! Where a worker's time went, as `ow_apps/phases.py` reports it: read, compute, comm and write
//! milliseconds, each lap charged to one phase.
//!
//! The same file is in every crate that reports phases (a test keeps the copies identical).

use std::time::Instant;

use serde_json::{json, Value};

pub struct Clock {
    read_ms: f64,
    compute_ms: f64,
    comm_ms: f64,
    write_ms: f64,
    last: Instant,
}

/// The phase a lap is charged to.
pub enum Phase {
    Read,
    Compute,
    Comm,
    Write,
}

impl Clock {
    pub fn start() -> Clock {
        Clock {
            read_ms: 0.0,
            compute_ms: 0.0,
            comm_ms: 0.0,
            write_ms: 0.0,
            last: Instant::now(),
        }
    }

    /// Charges the time since the last lap to `phase`.
    pub fn lap(&mut self, phase: Phase) {
        let now = Instant::now();
        let ms = (now - self.last).as_secs_f64() * 1000.0;
        self.last = now;
        *match phase {
            Phase::Read => &mut self.read_ms,
            Phase::Compute => &mut self.compute_ms,
            Phase::Comm => &mut self.comm_ms,
            Phase::Write => &mut self.write_ms,
        } += ms;
    }

    /// `result` with the four phase columns added.
    pub fn report(&self, mut result: Value) -> Value {
        let phases = json!({
            "read_ms": self.read_ms,
            "compute_ms": self.compute_ms,
            "comm_ms": self.comm_ms,
            "write_ms": self.write_ms,
        });
        if let (Value::Object(result), Value::Object(phases)) = (&mut result, phases) {
            result.extend(phases);
        }
        result
    }
}
