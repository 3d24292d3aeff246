//! Where an action's data lives, as `ow_apps/storage.py` says it in the payload: `storage` is
//! the root directory of the run's data and each object is named under it.
//!
//! The same file is in every Rust data app's crates (a test keeps the copies identical): each
//! crate stays self-contained, so it builds where the fork's build puts it.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;

/// Numbers the partial files of this process, so that two writers never share one.
static PARTIALS: AtomicU64 = AtomicU64::new(0);

/// One object of the run's storage.
pub struct Object {
    path: PathBuf,
}

impl Object {
    /// The object `name` under the payload's `storage` root.
    pub fn named(args: &Value, name: &str) -> Result<Object, String> {
        match &args["storage"] {
            Value::String(root) => Ok(Object {
                path: PathBuf::from(root).join(name),
            }),
            other => Err(format!(
                "storage must be a local directory (storage=local), got {}",
                other
            )),
        }
    }

    /// Bytes `[offset, offset + length)`: a worker reads only its own part of the input.
    pub fn read_range(&self, offset: u64, length: usize) -> Result<Vec<u8>, String> {
        let mut data = vec![0; length];
        if length == 0 {
            return Ok(data);
        }
        let mut file = File::open(&self.path).map_err(|err| self.failed("open", err))?;
        file.seek(SeekFrom::Start(offset))
            .and_then(|_| file.read_exact(&mut data))
            .map_err(|err| self.failed(&format!("read {} bytes at {} of", length, offset), err))?;
        Ok(data)
    }

    /// The whole object.
    pub fn read(&self) -> Result<Vec<u8>, String> {
        fs::read(&self.path).map_err(|err| self.failed("read", err))
    }

    /// Stores `data` whole, through a file renamed into place: a reader never sees part of it.
    pub fn write(&self, data: &[u8]) -> Result<(), String> {
        if let Some(parent) = self.path.parent() {
            fs::create_dir_all(parent).map_err(|err| self.failed("create the folder of", err))?;
        }
        let mut partial = self.path.clone().into_os_string();
        let serial = PARTIALS.fetch_add(1, Ordering::Relaxed);
        partial.push(format!(".{}-{}.partial", std::process::id(), serial));
        let partial = PathBuf::from(partial);
        fs::write(&partial, data)
            .and_then(|()| fs::rename(&partial, &self.path))
            .map_err(|err| {
                let _ = fs::remove_file(&partial);
                self.failed("write", err)
            })
    }

    fn failed(&self, what: &str, err: std::io::Error) -> String {
        format!("cannot {} {}: {}", what, self.path.display(), err)
    }
}
