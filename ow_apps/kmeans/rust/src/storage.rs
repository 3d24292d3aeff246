//! Where an action's data lives, as `ow_apps/storage.py` says it in the payload: `storage` is
//! the root of the run's data and each object is named under it. Under a local root an object
//! is a file. Under an S3 root (`{"kind": "s3", ...}`) the driver has presigned one URL per
//! object this worker reads or writes (`presigned`: name -> URL), so the worker needs neither
//! credentials nor an AWS SDK: plain HTTP GETs (ranged) and PUTs.
//!
//! The same file is in every Rust data app's crates (a test keeps the copies identical): each
//! crate stays self-contained, so it builds where the fork's build puts it.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

/// Numbers the partial files of this process, so that two writers never share one.
static PARTIALS: AtomicU64 = AtomicU64::new(0);
/// One HTTP agent per process: pack-mates share its pooled connections.
static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
/// A request that has not connected, or has received nothing, for this long fails.
const HTTP_TIMEOUT: Duration = Duration::from_secs(60);

/// One object of the run's storage.
pub enum Object {
    File(PathBuf),
    Url { name: String, url: String },
}

impl Object {
    /// The object `name` under the payload's `storage` root.
    pub fn named(args: &Value, name: &str) -> Result<Object, String> {
        match &args["storage"] {
            Value::String(root) => Ok(Object::File(PathBuf::from(root).join(name))),
            Value::Object(root) if root.get("kind") == Some(&Value::from("s3")) => {
                match args["presigned"][name].as_str() {
                    Some(url) => Ok(Object::Url {
                        name: name.to_string(),
                        url: url.to_string(),
                    }),
                    None => Err(format!("no presigned URL for {} in the payload", name)),
                }
            }
            other => Err(format!(
                "storage must be a directory or an S3 location, got {}",
                other
            )),
        }
    }

    /// Bytes `[offset, offset + length)`: a worker reads only its own part of the input.
    pub fn read_range(&self, offset: u64, length: usize) -> Result<Vec<u8>, String> {
        if length == 0 {
            return Ok(Vec::new());
        }
        let data = match self {
            Object::File(path) => {
                let mut data = vec![0; length];
                let mut file = File::open(path).map_err(|err| self.failed("open", err))?;
                file.seek(SeekFrom::Start(offset))
                    .and_then(|_| file.read_exact(&mut data))
                    .map_err(|err| self.failed("read", err))?;
                data
            }
            Object::Url { url, .. } => {
                let range = format!("bytes={}-{}", offset, offset + length as u64 - 1);
                self.fetch(agent().get(url).set("Range", &range))?
            }
        };
        if data.len() != length {
            let message = format!(
                "{} bytes at offset {}, expected {}",
                data.len(),
                offset,
                length
            );
            return Err(format!("{}: {}", self.describe(), message));
        }
        Ok(data)
    }

    /// The whole object.
    pub fn read(&self) -> Result<Vec<u8>, String> {
        match self {
            Object::File(path) => fs::read(path).map_err(|err| self.failed("read", err)),
            Object::Url { url, .. } => self.fetch(agent().get(url)),
        }
    }

    /// Stores `data` whole: a file is renamed into place, an object is one PUT, so a reader
    /// never sees part of it.
    pub fn write(&self, data: &[u8]) -> Result<(), String> {
        let path = match self {
            Object::File(path) => path,
            Object::Url { url, .. } => {
                let response = agent().put(url).send_bytes(data);
                return response.map(|_| ()).map_err(|err| self.refused(err));
            }
        };
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|err| self.failed("create the folder of", err))?;
        }
        let mut partial = path.clone().into_os_string();
        let serial = PARTIALS.fetch_add(1, Ordering::Relaxed);
        partial.push(format!(".{}-{}.partial", std::process::id(), serial));
        let partial = PathBuf::from(partial);
        fs::write(&partial, data)
            .and_then(|()| fs::rename(&partial, path))
            .map_err(|err| {
                let _ = fs::remove_file(&partial);
                self.failed("write", err)
            })
    }

    fn fetch(&self, request: ureq::Request) -> Result<Vec<u8>, String> {
        let response = request.call().map_err(|err| self.refused(err))?;
        let mut data = Vec::new();
        response
            .into_reader()
            .read_to_end(&mut data)
            .map_err(|err| self.failed("read", err))?;
        Ok(data)
    }

    /// What a message calls the object: a path, or its name (a URL carries a signature).
    fn describe(&self) -> String {
        match self {
            Object::File(path) => path.display().to_string(),
            Object::Url { name, .. } => format!("object {}", name),
        }
    }

    fn failed(&self, what: &str, err: std::io::Error) -> String {
        format!("cannot {} {}: {}", what, self.describe(), err)
    }

    /// The storage's answer to a refused request, in one line: status and the start of the body.
    fn refused(&self, err: ureq::Error) -> String {
        match err {
            ureq::Error::Status(status, response) => {
                let body = response.into_string().unwrap_or_default();
                let body: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
                let body: String = body.chars().take(300).collect();
                format!("{}: HTTP {}: {}", self.describe(), status, body)
            }
            ureq::Error::Transport(transport) => format!("{}: {}", self.describe(), transport),
        }
    }
}

fn agent() -> &'static ureq::Agent {
    AGENT.get_or_init(|| {
        ureq::AgentBuilder::new()
            .timeout_connect(HTTP_TIMEOUT)
            .timeout_read(HTTP_TIMEOUT)
            .timeout_write(HTTP_TIMEOUT)
            .build()
    })
}
