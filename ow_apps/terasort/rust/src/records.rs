//! TeraSort's records and terasort's data layout, as `teraformat.py` defines them: 100-byte
//! records whose first 10 bytes are the key, compared like memcmp.
//!
//! The same file is in terasort's map and burst crates (a test keeps the copies identical).

use serde_json::Value;

use crate::storage::Object;

pub const RECORD_BYTES: usize = 100;
const KEY_BYTES: usize = 10;

/// A key as a number that orders like the key's bytes.
fn key(record: &[u8]) -> u128 {
    let mut wide = [0u8; 16];
    wide[..KEY_BYTES].copy_from_slice(&record[..KEY_BYTES]);
    u128::from_be_bytes(wide)
}

pub fn number(args: &Value, key: &str) -> Result<u64, String> {
    args[key]
        .as_u64()
        .ok_or_else(|| format!("{} must be a non-negative integer, got {}", key, args[key]))
}

pub fn text<'a>(args: &'a Value, key: &str) -> Result<&'a str, String> {
    args[key]
        .as_str()
        .ok_or_else(|| format!("{} must be a string, got {}", key, args[key]))
}

/// The payload's `boundaries`: workers - 1 hex-encoded keys, ascending.
pub fn boundaries(args: &Value) -> Result<Vec<u128>, String> {
    let hex = args["boundaries"]
        .as_array()
        .ok_or("boundaries must be a list of hex keys")?;
    hex.iter()
        .map(|entry| {
            let entry = entry.as_str().filter(|entry| entry.len() == 2 * KEY_BYTES);
            let entry = entry.ok_or("a boundary must be a 10-byte key in hex")?;
            let mut bytes = [0u8; KEY_BYTES];
            for (index, byte) in bytes.iter_mut().enumerate() {
                let pair = &entry[2 * index..2 * index + 2];
                *byte = u8::from_str_radix(pair, 16).map_err(|_| "a boundary is not hex")?;
            }
            Ok(key(&bytes))
        })
        .collect()
}

/// This worker's records: `count` records from record `first` of the input, one ranged read.
pub fn read_slice(args: &Value) -> Result<Vec<u8>, String> {
    let (first, count) = (number(args, "first")?, number(args, "count")? as usize);
    let input = Object::named(args, text(args, "input")?)?;
    input.read_range(first * RECORD_BYTES as u64, count * RECORD_BYTES)
}

/// One contiguous run of records per reducer, in input order; run r holds the keys in
/// `[b[r-1], b[r])`, as `group_by_destination` makes them.
pub fn group_by_destination(records: &[u8], boundaries: &[u128]) -> Vec<Vec<u8>> {
    let mut groups = vec![Vec::new(); boundaries.len() + 1];
    for record in records.chunks_exact(RECORD_BYTES) {
        let destination = boundaries.partition_point(|&bound| bound <= key(record));
        groups[destination].extend_from_slice(record);
    }
    groups
}

/// The records of `runs` (whole records each), together and sorted by key.
pub fn sort_by_key(runs: &[&[u8]]) -> Vec<u8> {
    let mut keys: Vec<(u128, &[u8])> = runs
        .iter()
        .flat_map(|run| run.chunks_exact(RECORD_BYTES))
        .map(|record| (key(record), record))
        .collect();
    keys.sort_unstable_by_key(|(key, _)| *key);
    let mut sorted = Vec::with_capacity(keys.len() * RECORD_BYTES);
    for (_, record) in keys {
        sorted.extend_from_slice(record);
    }
    sorted
}

/// Map mode's intermediate object: what `mapper` sends to `reducer`.
pub fn shuffle_name(scratch: &str, mapper: u64, reducer: usize) -> String {
    format!("{}/shuffle/m{:05}-r{:05}.bin", scratch, mapper, reducer)
}

/// Output part `reducer`; parts in reducer order form the whole sorted output.
pub fn part_name(scratch: &str, reducer: u64) -> String {
    format!("{}/output/part-{:05}.bin", scratch, reducer)
}
