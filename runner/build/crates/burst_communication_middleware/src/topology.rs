//! Which worker lives in which pack (group): contiguous id ranges, in id order.

use std::collections::{HashMap, HashSet};
use std::ops::RangeInclusive;

use serde_json::Value;

/// One pack of the burst and the inclusive range of worker ids it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: String,
    pub first: u32,
    pub last: u32,
}

/// An ordered partition of worker ids `0..size` into contiguous groups.
#[derive(Debug, Clone)]
pub struct Topology {
    groups: Vec<Group>,
    owner: Vec<usize>,
}

impl Topology {
    /// Reads the pack line's `burst_info` (`{"0": [0, 3], "1": [4, 7]}`, inclusive ranges).
    pub fn from_burst_info(info: &Value) -> Result<Topology, String> {
        let ranges = info
            .as_object()
            .ok_or("burst_info must map group ids to [first, last]")?;
        let mut groups = Vec::with_capacity(ranges.len());
        for (id, range) in ranges {
            let pair = range.as_array().map(|p| p.as_slice());
            let (first, last) = match pair {
                Some([first, last]) => match (first.as_u64(), last.as_u64()) {
                    (Some(first), Some(last)) if first <= last && last < u32::MAX as u64 => {
                        (first as u32, last as u32)
                    }
                    _ => return Err(format!("burst_info[{:?}] must be [first, last]", id)),
                },
                _ => return Err(format!("burst_info[{:?}] must be [first, last]", id)),
            };
            groups.push(Group {
                id: id.clone(),
                first,
                last,
            });
        }
        Topology::new(groups)
    }

    pub fn new(mut groups: Vec<Group>) -> Result<Topology, String> {
        groups.sort_by_key(|g| g.first);
        let mut expected = 0u32;
        let mut owner = Vec::new();
        for (index, group) in groups.iter().enumerate() {
            if group.first != expected {
                return Err(format!(
                    "burst_info must split 0..N-1 into contiguous ranges; group {:?} has \
                     [{}, {}] where worker {} should start one",
                    group.id, group.first, group.last, expected
                ));
            }
            owner.extend(std::iter::repeat_n(
                index,
                (group.last - group.first + 1) as usize,
            ));
            expected = group.last + 1;
        }
        if groups.is_empty() {
            return Err("burst_info has no groups".to_string());
        }
        Ok(Topology { groups, owner })
    }

    pub fn size(&self) -> u32 {
        self.owner.len() as u32
    }

    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    pub fn group(&self, id: &str) -> Option<usize> {
        self.groups.iter().position(|g| g.id == id)
    }

    /// The index (in id order) of the group holding `worker`.
    pub fn group_index(&self, worker: u32) -> usize {
        self.owner[worker as usize]
    }

    pub fn group_of(&self, worker: u32) -> &Group {
        &self.groups[self.group_index(worker)]
    }

    pub fn members(&self, index: usize) -> RangeInclusive<u32> {
        self.groups[index].first..=self.groups[index].last
    }

    pub fn contains(&self, worker: u32) -> bool {
        (worker as usize) < self.owner.len()
    }

    /// The fork's shape of the ranges: group id to the set of its worker ids.
    pub fn group_ranges(&self) -> HashMap<String, HashSet<u32>> {
        self.groups
            .iter()
            .map(|g| (g.id.clone(), (g.first..=g.last).collect()))
            .collect()
    }

    /// "worker 3 (group 1)": how errors name a peer.
    pub fn name(&self, worker: u32) -> String {
        if self.contains(worker) {
            format!("worker {} (group {})", worker, self.group_of(worker).id)
        } else {
            format!("worker {}", worker)
        }
    }
}

/// Who a worker is in its burst; the fork's `BurstInfo`, field for field.
#[derive(Debug, Clone)]
pub struct BurstInfo {
    pub burst_id: String,
    pub burst_size: u32,
    pub group_ranges: HashMap<String, HashSet<u32>>,
    pub worker_id: u32,
    pub group_id: String,
}
