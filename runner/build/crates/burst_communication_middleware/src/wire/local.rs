//! Local backend: Unix sockets in a directory every pack of the burst shares.
//!
//! Each worker listens on `<dir>/<worker_id>.sock` (bound under `<worker_id>.tmp` and renamed
//! into place, so a socket file that refuses connections can only be a killed worker's). A
//! sender connects on its first message to a peer, retrying while the file does not exist,
//! and keeps one stream per peer. A reader thread per incoming stream parses frames into the
//! worker's mailbox. Failures are posted as `<dir>/<worker_id>.failed` files holding the reason.

use std::fs;
use std::io::{self, BufReader, Read, Write};
use std::os::unix::io::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use bytes::Bytes;

use super::frames::{self, HEADER_LEN};
use crate::buffers::payload_buffer;
use crate::deadline::Deadline;
use crate::errors::Stop;
use crate::mailbox::Mailbox;

/// Payloads up to this size are joined with their header into one write.
const SMALL_PAYLOAD: usize = 64 * 1024;
const SOCKET_BUFFER: libc::c_int = 4 << 20;
const MAX_SOCKET_PATH: usize = 107;
const READER_STACK: usize = 256 * 1024;
pub(crate) const KILLED: &str = "died (its socket no longer accepts connections)";

pub(crate) fn socket_path(dir: &Path, worker: u32) -> PathBuf {
    dir.join(format!("{}.sock", worker))
}

fn failure_path(dir: &Path, worker: u32) -> PathBuf {
    dir.join(format!("{}.failed", worker))
}

/// The reason posted for a failed worker, or None while it has not failed.
pub(crate) fn read_failure(dir: &Path, worker: u32) -> Option<String> {
    fs::read_to_string(failure_path(dir, worker)).ok()
}

/// Posts that `worker` failed; readers never see half a reason (written, then renamed).
pub(crate) fn post_failure(dir: &Path, worker: u32, reason: &str) -> io::Result<()> {
    let path = failure_path(dir, worker);
    let partial = dir.join(format!("{}.failed.partial", worker));
    fs::write(&partial, reason)?;
    fs::rename(partial, path)
}

fn set_buffer(stream: &UnixStream, option: libc::c_int) {
    let size = SOCKET_BUFFER;
    // SAFETY: a valid socket descriptor, and a pointer to an int of the size passed.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            option,
            &size as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

/// One worker's end of the Local backend.
pub(crate) struct LocalWire {
    dir: PathBuf,
    me: u32,
    path: PathBuf,
    peers: std::collections::HashMap<u32, UnixStream>,
    accepted: Arc<Mutex<Vec<UnixStream>>>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
    listener: Option<UnixListener>,
}

impl LocalWire {
    /// Listens at `<dir>/<me>.sock`; what arrives goes to `mailbox`.
    pub(crate) fn open(dir: &Path, me: u32, mailbox: Arc<Mailbox>) -> Result<LocalWire, String> {
        let path = socket_path(dir, me);
        if path.as_os_str().len() > MAX_SOCKET_PATH {
            return Err(format!(
                "socket path too long for AF_UNIX ({} bytes max): {}",
                MAX_SOCKET_PATH,
                path.display()
            ));
        }
        // A notice left by an earlier worker with this id is not about this one.
        let _ = fs::remove_file(failure_path(dir, me));
        let partial = dir.join(format!("{}.tmp", me));
        let _ = fs::remove_file(&partial);
        let listener = UnixListener::bind(&partial)
            .map_err(|e| format!("cannot listen at {}: {}", partial.display(), e))?;
        fs::rename(&partial, &path)
            .map_err(|e| format!("cannot publish {}: {}", path.display(), e))?;
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let listener = listener.try_clone().map_err(|e| e.to_string())?;
            let (accepted, stop) = (Arc::clone(&accepted), Arc::clone(&stop));
            thread::Builder::new()
                .name(format!("burst-accept-{}", me))
                .stack_size(READER_STACK)
                .spawn(move || accept_loop(listener, mailbox, accepted, stop))
                .map_err(|e| e.to_string())?
        };
        Ok(LocalWire {
            dir: dir.to_path_buf(),
            me,
            path,
            peers: Default::default(),
            accepted,
            stop,
            acceptor: Some(acceptor),
            listener: Some(listener),
        })
    }

    pub(crate) fn send(
        &mut self,
        dest: u32,
        channel: u32,
        payload: &[u8],
        deadline: &Deadline,
    ) -> Result<(), Stop> {
        let header = frames::header(self.me, channel, payload.len());
        let stream = self.connection(dest, deadline)?;
        stream.set_write_timeout(Some(deadline.left()?))?;
        let written = if payload.len() <= SMALL_PAYLOAD {
            let mut frame = Vec::with_capacity(HEADER_LEN + payload.len());
            frame.extend_from_slice(&header);
            frame.extend_from_slice(payload);
            stream.write_all(&frame)
        } else {
            stream
                .write_all(&header)
                .and_then(|_| stream.write_all(payload))
        };
        match written {
            Ok(()) => Ok(()),
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Err(Stop::Expired)
            }
            Err(err) => {
                self.peers.remove(&dest);
                Err(Stop::Gone(read_failure(&self.dir, dest).unwrap_or_else(
                    || format!("closed its connection ({})", err),
                )))
            }
        }
    }

    /// Why `source` will never send again, or None while it may; `probe` also tries its socket.
    pub(crate) fn gone(&self, source: u32, probe: bool) -> Option<String> {
        if let Some(reason) = read_failure(&self.dir, source) {
            return Some(reason);
        }
        if probe && refuses(&socket_path(&self.dir, source)) {
            // The dead worker's pack, if it lives, may have posted the exact cause meanwhile.
            return Some(read_failure(&self.dir, source).unwrap_or_else(|| KILLED.to_string()));
        }
        None
    }

    fn connection(&mut self, dest: u32, deadline: &Deadline) -> Result<&mut UnixStream, Stop> {
        if !self.peers.contains_key(&dest) {
            let stream = self.connect(dest, deadline)?;
            self.peers.insert(dest, stream);
        }
        Ok(self.peers.get_mut(&dest).expect("just inserted"))
    }

    fn connect(&self, dest: u32, deadline: &Deadline) -> Result<UnixStream, Stop> {
        let path = socket_path(&self.dir, dest);
        let mut pause = Duration::from_millis(1);
        loop {
            match UnixStream::connect(&path) {
                Ok(stream) => {
                    set_buffer(&stream, libc::SO_SNDBUF);
                    return Ok(stream);
                }
                Err(err) if err.kind() == io::ErrorKind::NotFound => {
                    if let Some(reason) = read_failure(&self.dir, dest) {
                        return Err(Stop::Gone(reason));
                    }
                    thread::sleep(pause.min(deadline.left()?));
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Err(err) if err.kind() == io::ErrorKind::ConnectionRefused => {
                    return Err(Stop::Gone(
                        read_failure(&self.dir, dest).unwrap_or_else(|| KILLED.to_string()),
                    ));
                }
                Err(err) => {
                    return Err(Stop::Broken(format!(
                        "connecting to {}: {}",
                        path.display(),
                        err
                    )))
                }
            }
        }
    }
}

impl Drop for LocalWire {
    fn drop(&mut self) {
        self.peers.clear();
        self.stop.store(true, Ordering::SeqCst);
        // Wake the acceptor while the socket still has its name, then withdraw the name
        // before the listener closes: a file that refuses connections means a killed worker.
        let woke = UnixStream::connect(&self.path).is_ok();
        let _ = fs::remove_file(&self.path);
        if let Some(acceptor) = self.acceptor.take() {
            if woke {
                let _ = acceptor.join();
            }
        }
        self.listener.take();
        if let Ok(streams) = self.accepted.lock() {
            for stream in streams.iter() {
                let _ = stream.shutdown(std::net::Shutdown::Both);
            }
        }
    }
}

fn accept_loop(
    listener: UnixListener,
    mailbox: Arc<Mailbox>,
    accepted: Arc<Mutex<Vec<UnixStream>>>,
    stop: Arc<AtomicBool>,
) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        set_buffer(&stream, libc::SO_RCVBUF);
        if let (Ok(clone), Ok(mut list)) = (stream.try_clone(), accepted.lock()) {
            list.push(clone);
        }
        let mailbox = Arc::clone(&mailbox);
        let _ = thread::Builder::new()
            .name("burst-read".to_string())
            .stack_size(READER_STACK)
            .spawn(move || read_frames(stream, &mailbox));
    }
}

/// Turns one incoming stream into mail until the peer closes it.
fn read_frames(stream: UnixStream, mailbox: &Mailbox) {
    let mut reader = BufReader::with_capacity(SMALL_PAYLOAD, stream);
    let mut source = None;
    loop {
        let mut header = [0u8; HEADER_LEN];
        if reader.read_exact(&mut header).is_err() {
            break;
        }
        let Some((from, channel, length)) = frames::parse(&header) else {
            break;
        };
        source = Some(from);
        let mut payload = payload_buffer(length as usize);
        if reader.read_exact(&mut payload).is_err() {
            break;
        }
        mailbox.put(from, channel, Bytes::from(payload));
    }
    if let Some(source) = source {
        mailbox.stream_ended(source);
    }
}

/// True when a socket file exists but nobody listens on it: its worker was killed.
fn refuses(path: &Path) -> bool {
    matches!(UnixStream::connect(path), Err(err) if err.kind() == io::ErrorKind::ConnectionRefused)
}
