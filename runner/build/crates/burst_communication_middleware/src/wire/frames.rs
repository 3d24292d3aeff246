//! The Local backend's frame: a 16-byte little-endian header `<iiQ` (source worker, channel,
//! payload length) followed by the payload.

pub(crate) const HEADER_LEN: usize = 16;

pub(crate) fn header(source: u32, channel: u32, length: usize) -> [u8; HEADER_LEN] {
    let mut header = [0u8; HEADER_LEN];
    header[0..4].copy_from_slice(&(source as i32).to_le_bytes());
    header[4..8].copy_from_slice(&(channel as i32).to_le_bytes());
    header[8..16].copy_from_slice(&(length as u64).to_le_bytes());
    header
}

/// (source, channel, payload length) of a header, or None for negative ids.
pub(crate) fn parse(header: &[u8; HEADER_LEN]) -> Option<(u32, u32, u64)> {
    let int = |at: usize| i32::from_le_bytes(header[at..at + 4].try_into().unwrap_or([0; 4]));
    let length = u64::from_le_bytes(header[8..16].try_into().unwrap_or([0; 8]));
    let (source, channel) = (int(0), int(4));
    if source < 0 || channel < 0 {
        return None;
    }
    Some((source as u32, channel as u32, length))
}
