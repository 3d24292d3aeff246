//! A worker's rows and the first half of a Lloyd step, as `lloyd.py` computes them.
//!
//! The same file is in kmeans' map and burst crates (a test keeps the copies identical).

use serde_json::Value;

use crate::storage::Object;

/// Row-major float64 points or centroids, `dims` per row.
pub struct Rows {
    pub dims: usize,
    pub values: Vec<f64>,
}

impl Rows {
    pub fn count(&self) -> usize {
        self.values.len() / self.dims
    }

    fn row(&self, index: usize) -> &[f64] {
        &self.values[index * self.dims..(index + 1) * self.dims]
    }
}

pub fn number(args: &Value, key: &str) -> Result<u64, String> {
    args[key]
        .as_u64()
        .ok_or_else(|| format!("{} must be a non-negative integer, got {}", key, args[key]))
}

/// Floats from little-endian bytes (the points file, messages).
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

/// This worker's rows `[first_row, first_row + rows)` of the points object.
pub fn read_partition(args: &Value) -> Result<Rows, String> {
    let dims = number(args, "dims")? as usize;
    let (first, rows) = (number(args, "first_row")?, number(args, "rows")? as usize);
    let name = args["points"].as_str().ok_or("points must be a name")?;
    let row_bytes = (dims * 8) as u64;
    let data = Object::named(args, name)?.read_range(first * row_bytes, rows * dims * 8)?;
    Ok(Rows {
        dims,
        values: floats(&data),
    })
}

/// The payload's `centroids`, a list of `k` lists of `dims` numbers.
pub fn centroids(args: &Value) -> Result<Rows, String> {
    let dims = number(args, "dims")? as usize;
    let rows = args["centroids"]
        .as_array()
        .ok_or("centroids must be a list of rows")?;
    let mut values = Vec::with_capacity(rows.len() * dims);
    for row in rows {
        let row = row.as_array().filter(|row| row.len() == dims);
        let row = row.ok_or_else(|| format!("every centroid must have {} numbers", dims))?;
        for value in row {
            values.push(
                value
                    .as_f64()
                    .ok_or("a centroid coordinate must be a number")?,
            );
        }
    }
    Ok(Rows { dims, values })
}

/// Per-centroid coordinate sums (`k * dims`, row-major) and point counts of the points nearest
/// to each centroid. Distances are |p|^2 - 2 p.c + |c|^2, as `lloyd.py` computes them, and
/// the first of equally near centroids wins, as NumPy's argmin does.
pub fn partial_sums(points: &Rows, centroids: &Rows) -> (Vec<f64>, Vec<f64>) {
    let (k, dims) = (centroids.count(), centroids.dims);
    let norms: Vec<f64> = (0..k)
        .map(|c| dot(centroids.row(c), centroids.row(c)))
        .collect();
    let mut sums = vec![0.0; k * dims];
    let mut counts = vec![0.0; k];
    for index in 0..points.count() {
        let point = points.row(index);
        let own = dot(point, point);
        let mut nearest = 0;
        let mut best = f64::INFINITY;
        for (c, norm) in norms.iter().enumerate() {
            let distance = own - 2.0 * dot(point, centroids.row(c)) + norm;
            if distance < best {
                best = distance;
                nearest = c;
            }
        }
        counts[nearest] += 1.0;
        for (sum, value) in sums[nearest * dims..(nearest + 1) * dims]
            .iter_mut()
            .zip(point)
        {
            *sum += value;
        }
    }
    (sums, counts)
}

fn dot(left: &[f64], right: &[f64]) -> f64 {
    left.iter().zip(right).map(|(a, b)| a * b).sum()
}
