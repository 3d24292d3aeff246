//! PageRank written against the burst fork's API, in the shape of burst-validation's
//! `pagerank/ow-pr/src/lib.rs`: a `PagerankMessage(Vec<f64>)` converted from and to `Bytes`,
//! the root broadcasting the ranks, a reduce of every worker's partial sums, the root
//! broadcasting the error. Instead of downloading its part of the graph from S3, each
//! worker makes it: node n links to (n * 7 + k) % num_nodes for k in 1..=3.

use std::collections::{HashMap, HashSet};

use burst_communication_middleware::{Middleware, MiddlewareActorHandle};
use bytes::Bytes;
use serde_derive::{Deserialize, Serialize};
use serde_json::{Error, Value};

const ROOT_WORKER: u32 = 0;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Input {
    num_nodes: u32,
    iterations: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Output {
    worker_id: u32,
    iterations: u32,
    error: f64,
    ranks: Option<Vec<f64>>,
}

#[derive(Debug, Clone)]
pub struct PagerankMessage(Vec<f64>);

impl From<Bytes> for PagerankMessage {
    fn from(bytes: Bytes) -> Self {
        let floats = bytes
            .chunks_exact(8)
            .map(|word| f64::from_le_bytes(word.try_into().unwrap()))
            .collect();
        PagerankMessage(floats)
    }
}

impl From<PagerankMessage> for Bytes {
    fn from(val: PagerankMessage) -> Self {
        Bytes::from(
            val.0
                .iter()
                .flat_map(|x| x.to_le_bytes())
                .collect::<Vec<u8>>(),
        )
    }
}

/// This worker's nodes (a contiguous share) and their outgoing links.
fn graph(params: &Input, worker: u32, workers: u32) -> HashMap<u32, HashSet<u32>> {
    let share = params.num_nodes.div_ceil(workers);
    let first = worker * share;
    let last = (first + share).min(params.num_nodes);
    (first..last)
        .map(|node| {
            (
                node,
                (1..=3).map(|k| (node * 7 + k) % params.num_nodes).collect(),
            )
        })
        .collect()
}

fn pagerank(params: Input, burst_middleware: &MiddlewareActorHandle<PagerankMessage>) -> Output {
    let worker = burst_middleware.info.worker_id;
    let graph = graph(&params, worker, burst_middleware.info.burst_size);
    let mut page_ranks = vec![1.0 / params.num_nodes as f64; params.num_nodes as usize];
    let mut sum = vec![0.0; params.num_nodes as usize];
    let mut err = f64::MAX;
    for _ in 0..params.iterations {
        let pr_msg = if burst_middleware.info.worker_id == ROOT_WORKER {
            burst_middleware
                .broadcast(Some(PagerankMessage(page_ranks.clone())), ROOT_WORKER)
                .unwrap()
        } else {
            burst_middleware.broadcast(None, ROOT_WORKER).unwrap()
        };
        page_ranks = pr_msg.0;
        for (node, links) in graph.iter() {
            for link in links.iter() {
                sum[*link as usize] += page_ranks[*node as usize] / links.len() as f64;
            }
        }
        let sum_msg = burst_middleware
            .reduce(PagerankMessage(sum.clone()), |vec1, vec2| {
                let reduced_sum = vec1
                    .0
                    .iter()
                    .zip(vec2.0.iter())
                    .map(|(a, b)| a + b)
                    .collect();
                PagerankMessage(reduced_sum)
            })
            .unwrap();
        let new_norm = if let Some(x) = sum_msg {
            let new_page_ranks = x.0;
            err = new_page_ranks
                .iter()
                .zip(page_ranks.iter())
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>()
                .sqrt();
            page_ranks = new_page_ranks;
            Some(PagerankMessage(vec![err]))
        } else {
            None
        };
        err = burst_middleware
            .broadcast(new_norm, ROOT_WORKER)
            .unwrap()
            .0
            .pop()
            .unwrap();
        for val in &mut sum {
            *val = 0.0;
        }
    }
    Output {
        worker_id: worker,
        iterations: params.iterations,
        error: err,
        ranks: (worker == ROOT_WORKER).then_some(page_ranks),
    }
}

pub fn main(args: Value, burst_middleware: Middleware<PagerankMessage>) -> Result<Value, Error> {
    let input: Input = serde_json::from_value(args)?;
    let burst_middleware = burst_middleware.get_actor_handle();
    let result = pagerank(input, &burst_middleware);
    serde_json::to_value(result)
}
