//! The deterministic messages of `messages.py`, byte for byte, and their CRC-32.
//!
//! A message is a fixed 64 KiB block of splitmix64 words, each 64 KiB repeat XORed with a key
//! of (sender, round, destination, block index); a CRC that matches the driver's therefore
//! proves every byte arrived from the right sender, round and place.

use bytes::Bytes;

const BLOCK_WORDS: usize = 64 * 1024 / 8;
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;
const SEED: u64 = 0x5EED;
/// The destination of a message meant for everyone (broadcast, reductions).
pub const EVERYONE: i64 = -1;

fn scramble(mut state: u64) -> u64 {
    state = (state ^ (state >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    state = (state ^ (state >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    state ^ (state >> 31)
}

/// splitmix64 folded over small integers (negative ones as their two's complement).
fn mix(parts: &[i64]) -> u64 {
    parts.iter().fold(0u64, |state, part| {
        scramble(state.wrapping_add(*part as u64).wrapping_add(GOLDEN))
    })
}

/// This worker's message maker: the base block, computed once.
pub struct Messages {
    base: Vec<u64>,
}

impl Default for Messages {
    fn default() -> Self {
        Messages {
            base: (0..BLOCK_WORDS as i64)
                .map(|i| mix(&[SEED as i64, i]))
                .collect(),
        }
    }
}

impl Messages {
    /// `nbytes` bytes that only (sender, round, dest) produce.
    pub fn message(&self, nbytes: usize, sender: u32, round: u32, dest: i64) -> Bytes {
        let key = mix(&[sender as i64, round as i64, dest]);
        let blocks = nbytes.div_ceil(BLOCK_WORDS * 8);
        let mut out = Vec::with_capacity(blocks * BLOCK_WORDS * 8);
        for block in 0..blocks as u64 {
            let block_key = block.wrapping_mul(GOLDEN).wrapping_add(key);
            out.extend(
                self.base
                    .iter()
                    .flat_map(|word| (word ^ block_key).to_le_bytes()),
            );
        }
        out.truncate(nbytes);
        Bytes::from(out)
    }
}

/// The reduction of the benchmark: element-wise little-endian u64 sum, wrapping.
pub fn add_words(left: Bytes, right: Bytes) -> Bytes {
    let words = |bytes: &[u8]| -> Vec<u64> {
        bytes
            .chunks_exact(8)
            .map(|w| u64::from_le_bytes(w.try_into().unwrap_or([0; 8])))
            .collect()
    };
    let sum: Vec<u8> = words(&left)
        .into_iter()
        .zip(words(&right))
        .flat_map(|(a, b)| a.wrapping_add(b).to_le_bytes())
        .collect();
    Bytes::from(sum)
}

/// CRC-32 (zlib's), continued from `crc` over `data`.
pub fn crc32(crc: u32, data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[[u32; 256]; 8]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut table = [[0u32; 256]; 8];
        for n in 0..256u32 {
            let mut c = n;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            table[0][n as usize] = c;
        }
        for n in 0..256 {
            for k in 1..8 {
                let previous = table[k - 1][n];
                table[k][n] = (previous >> 8) ^ table[0][(previous & 0xFF) as usize];
            }
        }
        table
    });
    let mut crc = !crc;
    let mut words = data.chunks_exact(8);
    for word in &mut words {
        let low = crc ^ u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
        crc = table[7][(low & 0xFF) as usize]
            ^ table[6][((low >> 8) & 0xFF) as usize]
            ^ table[5][((low >> 16) & 0xFF) as usize]
            ^ table[4][(low >> 24) as usize]
            ^ table[3][word[4] as usize]
            ^ table[2][word[5] as usize]
            ^ table[1][word[6] as usize]
            ^ table[0][word[7] as usize];
    }
    for byte in words.remainder() {
        crc = table[0][((crc ^ *byte as u32) & 0xFF) as usize] ^ (crc >> 8);
    }
    !crc
}
