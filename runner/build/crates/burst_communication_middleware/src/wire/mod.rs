//! The backends between packs, on the Python middleware's wire (docs/design.md).

pub(crate) mod frames;
pub(crate) mod local;
pub(crate) mod redis_list;
pub(crate) mod resp;
