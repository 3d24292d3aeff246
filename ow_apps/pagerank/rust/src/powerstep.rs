//! One PageRank power step split in two, as `powerstep.py` computes it: the contributions of
//! a partition of the CSR graph, then the damped update with the dangling mass spread evenly.
//!
//! The same file is in pagerank's map and burst crates (a test keeps the copies identical).

use serde_json::Value;

use crate::storage::Object;

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

/// Floats from little-endian bytes (ranks, contributions, messages).
pub fn floats(bytes: &[u8]) -> Vec<f64> {
    bytes
        .chunks_exact(8)
        .map(|word| f64::from_le_bytes(word.try_into().expect("8-byte chunks")))
        .collect()
}

pub fn to_bytes(values: &[f64]) -> Vec<u8> {
    values
        .iter()
        .flat_map(|value| value.to_le_bytes())
        .collect()
}

/// This worker's part of the graph: source nodes `[first_node, last_node)`.
pub struct Partition {
    pub first_node: usize,
    /// Out-degree of each source node of the range.
    pub degrees: Vec<usize>,
    /// The targets of their edges, grouped by source.
    pub targets: Vec<usize>,
}

/// Two ranged reads, of the `offsets` (int64, nodes + 1) and `targets` (int32) objects: a
/// worker fetches only its own part of the graph.
pub fn read_partition(args: &Value) -> Result<Partition, String> {
    let (first, last) = (number(args, "first_node")?, number(args, "last_node")?);
    let offsets = Object::named(args, text(args, "offsets")?)?;
    let bounds: Vec<u64> = offsets
        .read_range(first * 8, (last - first + 1) as usize * 8)?
        .chunks_exact(8)
        .map(|word| u64::from_le_bytes(word.try_into().expect("8-byte chunks")))
        .collect();
    let (start, end) = (bounds[0], bounds[bounds.len() - 1]);
    let targets = Object::named(args, text(args, "targets")?)?
        .read_range(start * 4, (end - start) as usize * 4)?
        .chunks_exact(4)
        .map(|word| u32::from_le_bytes(word.try_into().expect("4-byte chunks")) as usize)
        .collect();
    Ok(Partition {
        first_node: first as usize,
        degrees: bounds
            .windows(2)
            .map(|pair| (pair[1] - pair[0]) as usize)
            .collect(),
        targets,
    })
}

/// The rank each node receives over this partition's edges, then (last) the partition's
/// dangling mass: summed over all partitions, everything `step` needs.
pub fn contributions(partition: &Partition, ranks: &[f64]) -> Vec<f64> {
    let mut received = vec![0.0; ranks.len() + 1];
    let mut dangling = 0.0;
    let mut edges = partition.targets.iter();
    let own = &ranks[partition.first_node..partition.first_node + partition.degrees.len()];
    for (&rank, &degree) in own.iter().zip(&partition.degrees) {
        if degree == 0 {
            dangling += rank;
            continue;
        }
        let share = rank / degree as f64;
        for &target in edges.by_ref().take(degree) {
            received[target] += share;
        }
    }
    received[ranks.len()] = dangling;
    received
}

/// New ranks from the summed contributions, and their L1 change.
pub fn step(ranks: &[f64], total: &[f64], damping: f64) -> (Vec<f64>, f64) {
    let nodes = ranks.len();
    let spread = total[nodes] / nodes as f64;
    let base = (1.0 - damping) / nodes as f64;
    let updated: Vec<f64> = total[..nodes]
        .iter()
        .map(|received| base + damping * (received + spread))
        .collect();
    let change = updated
        .iter()
        .zip(ranks)
        .map(|(new, old)| (new - old).abs())
        .sum();
    (updated, change)
}
