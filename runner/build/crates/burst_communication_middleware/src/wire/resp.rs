//! A minimal Redis client over `std::net::TcpStream`: RESP2 commands and replies, with
//! timeouts, for the few commands the RedisList backend and its board use.

use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::buffers::payload_buffer;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Replies beyond a blocking command's own wait may take this long (a big LPOP on a busy host).
pub(crate) const REPLY_SLACK: Duration = Duration::from_secs(30);
const IO_BUFFER: usize = 256 * 1024;

/// One reply; bulk strings stay bytes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Reply {
    Status(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Reply>>),
}

/// Where a `redis://[:password@]host[:port][/db]` URI points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Address {
    host: String,
    port: u16,
    password: Option<String>,
    db: Option<u32>,
}

impl Address {
    pub(crate) fn parse(uri: &str) -> Result<Address, String> {
        let bad = || format!("not a redis://host:port URI: {:?}", uri);
        let rest = uri.strip_prefix("redis://").ok_or_else(bad)?;
        let (auth, rest) = match rest.rsplit_once('@') {
            Some((auth, rest)) => (Some(auth), rest),
            None => (None, rest),
        };
        let (hostport, db) = match rest.split_once('/') {
            Some((hostport, "")) => (hostport, None),
            Some((hostport, db)) => (hostport, Some(db.parse::<u32>().map_err(|_| bad())?)),
            None => (rest, None),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((host, port)) => (host, port.parse::<u16>().map_err(|_| bad())?),
            None => (hostport, 6379),
        };
        if host.is_empty() {
            return Err(bad());
        }
        let password = auth
            .map(|a| a.split_once(':').map(|(_, p)| p).unwrap_or(a).to_string())
            .filter(|p| !p.is_empty());
        Ok(Address {
            host: host.to_string(),
            port,
            password,
            db,
        })
    }
}

/// One connection; every read and write is bounded by a timeout.
pub(crate) struct Connection {
    reader: BufReader<TcpStream>,
    writer: BufWriter<TcpStream>,
    address: String,
}

fn protocol(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

impl Connection {
    pub(crate) fn open(address: &Address) -> io::Result<Connection> {
        let target = format!("{}:{}", address.host, address.port);
        let mut last = io::Error::new(
            io::ErrorKind::NotFound,
            format!("{} resolves to nothing", target),
        );
        for addr in target.to_socket_addrs()? {
            match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
                Ok(stream) => {
                    stream.set_nodelay(true)?;
                    stream.set_read_timeout(Some(REPLY_SLACK))?;
                    stream.set_write_timeout(Some(REPLY_SLACK))?;
                    let mut connection = Connection {
                        reader: BufReader::with_capacity(IO_BUFFER, stream.try_clone()?),
                        writer: BufWriter::with_capacity(IO_BUFFER, stream),
                        address: target.clone(),
                    };
                    if let Some(password) = &address.password {
                        connection.call(&[b"AUTH", password.as_bytes()])?;
                    }
                    if let Some(db) = address.db {
                        connection.call(&[b"SELECT", db.to_string().as_bytes()])?;
                    }
                    return Ok(connection);
                }
                Err(err) => last = err,
            }
        }
        Err(io::Error::new(
            last.kind(),
            format!("cannot reach Redis at {}: {}", target, last),
        ))
    }

    pub(crate) fn address(&self) -> &str {
        &self.address
    }

    /// Bounds the wait for the next reply (a blocking command's timeout plus slack).
    pub(crate) fn reply_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        self.reader.get_ref().set_read_timeout(Some(timeout))
    }

    /// Queues one command made of `parts`; `flush` sends what is queued.
    pub(crate) fn queue(&mut self, parts: &[&[u8]]) -> io::Result<()> {
        write!(self.writer, "*{}\r\n", parts.len())?;
        for part in parts {
            write!(self.writer, "${}\r\n", part.len())?;
            self.writer.write_all(part)?;
            self.writer.write_all(b"\r\n")?;
        }
        Ok(())
    }

    pub(crate) fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }

    /// Sends one command and reads its reply; a Redis error reply is an `io::Error`.
    pub(crate) fn call(&mut self, parts: &[&[u8]]) -> io::Result<Reply> {
        self.queue(parts)?;
        self.flush()?;
        self.read_reply()
    }

    pub(crate) fn read_reply(&mut self) -> io::Result<Reply> {
        let line = self.read_line()?;
        let (kind, rest) = line.split_at(1);
        match kind {
            "+" => Ok(Reply::Status(rest.to_string())),
            "-" => Err(io::Error::other(format!("Redis error: {}", rest))),
            ":" => Ok(Reply::Int(parse_int(rest)?)),
            "$" => {
                let length = parse_int(rest)?;
                if length < 0 {
                    return Ok(Reply::Bulk(None));
                }
                let mut body = Vec::new();
                self.read_bulk_into(length as usize, &mut body)?;
                Ok(Reply::Bulk(Some(body)))
            }
            "*" => {
                let count = parse_int(rest)?;
                if count < 0 {
                    return Ok(Reply::Array(None));
                }
                let items = (0..count)
                    .map(|_| self.read_reply())
                    .collect::<io::Result<_>>()?;
                Ok(Reply::Array(Some(items)))
            }
            _ => Err(protocol(format!("unexpected reply from Redis: {:?}", line))),
        }
    }

    /// Reads an array of bulk strings appended into one buffer (the chunks of one message),
    /// so a chunked message is copied once, from the socket to its final place.
    /// Returns the number of elements, None for a nil reply.
    pub(crate) fn read_bulks_into(&mut self, out: &mut Vec<u8>) -> io::Result<Option<usize>> {
        let line = self.read_line()?;
        match line.split_at(1) {
            ("*", count) => {
                let count = parse_int(count)?;
                if count < 0 {
                    return Ok(None);
                }
                for _ in 0..count {
                    let header = self.read_line()?;
                    match header.split_at(1) {
                        ("$", length) if parse_int(length)? >= 0 => {
                            self.read_bulk_into(parse_int(length)? as usize, out)?
                        }
                        _ => {
                            return Err(protocol(format!(
                                "expected a bulk string, got {:?}",
                                header
                            )))
                        }
                    }
                }
                Ok(Some(count as usize))
            }
            ("-", message) => Err(io::Error::other(format!("Redis error: {}", message))),
            _ => Err(protocol(format!("expected an array reply, got {:?}", line))),
        }
    }

    fn read_bulk_into(&mut self, length: usize, out: &mut Vec<u8>) -> io::Result<()> {
        if out.is_empty() && out.capacity() < length {
            *out = payload_buffer(length);
            out.clear();
        }
        let start = out.len();
        out.resize(start + length, 0);
        self.reader.read_exact(&mut out[start..])?;
        let mut end = [0u8; 2];
        self.reader.read_exact(&mut end)?;
        if &end != b"\r\n" {
            return Err(protocol("a bulk string without its CRLF".to_string()));
        }
        Ok(())
    }

    fn read_line(&mut self) -> io::Result<String> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "Redis closed the connection",
            ));
        }
        if !line.ends_with("\r\n") || line.len() < 3 {
            return Err(protocol(format!("a malformed reply line: {:?}", line)));
        }
        line.truncate(line.len() - 2);
        Ok(line)
    }
}

fn parse_int(text: &str) -> io::Result<i64> {
    text.parse()
        .map_err(|_| protocol(format!("not an integer in a reply: {:?}", text)))
}

#[cfg(test)]
mod tests {
    use super::Address;

    #[test]
    fn uris_with_and_without_port_password_and_db() {
        let plain = Address::parse("redis://127.0.0.1:6380").unwrap();
        assert_eq!(
            (plain.host.as_str(), plain.port, plain.db),
            ("127.0.0.1", 6380, None)
        );
        let full = Address::parse("redis://:secret@example:7000/2").unwrap();
        assert_eq!(full.password.as_deref(), Some("secret"));
        assert_eq!((full.port, full.db), (7000, Some(2)));
        assert_eq!(Address::parse("redis://host").unwrap().port, 6379);
        assert!(Address::parse("http://host:1").is_err());
        assert!(Address::parse("redis://host:notaport").is_err());
    }
}
