//! One SSH connection to a host, with a deadline on connect, handshake, auth and every command.
//! A dead or hanging host costs one deadline, never more.

use super::RemoteError;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use ssh2::{BlockDirections, HashType, MethodType, Session};
use std::collections::BTreeMap;
use std::io::Read;
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::AsFd;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshTarget {
    pub address: String,
    pub port: u16,
    pub user: String,
}

impl std::fmt::Display for SshTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}:{}", self.user, self.address, self.port)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Decides about the key a host presents, right after the handshake and before the server
/// authenticates: every connection goes through one, so no contact is ever unchecked.
pub trait HostKeyCheck: Send + Sync {
    /// `Ok(true)` when this call pinned the key (first contact), `Ok(false)` when it matches
    /// the pin; a different key is [`RemoteError::HostKeyChanged`].
    fn check(&self, target: &SshTarget, presented: &str) -> Result<bool, RemoteError>;
    /// The pinned key this check compares with, if one is known yet (tells two checks apart).
    fn pinned(&self) -> Option<String>;
}

/// A key that must be exactly this one.
pub struct Pinned(pub String);

impl HostKeyCheck for Pinned {
    fn check(&self, target: &SshTarget, presented: &str) -> Result<bool, RemoteError> {
        if self.0 == presented {
            Ok(false)
        } else {
            Err(RemoteError::HostKeyChanged {
                target: target.to_string(),
                pinned: self.0.clone(),
                presented: presented.to_string(),
            })
        }
    }
    fn pinned(&self) -> Option<String> {
        Some(self.0.clone())
    }
}

/// Trust on first use with the pin kept in memory, for one process that has no store (tools,
/// tests): the first key seen is pinned, any other is refused.
#[derive(Default)]
pub struct MemoryPin(std::sync::Mutex<Option<String>>);

impl HostKeyCheck for MemoryPin {
    fn check(&self, target: &SshTarget, presented: &str) -> Result<bool, RemoteError> {
        let mut pin = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match pin.as_deref() {
            None => {
                *pin = Some(presented.to_string());
                Ok(true)
            }
            Some(p) => Pinned(p.to_string()).check(target, presented),
        }
    }
    fn pinned(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Algorithms offered in the handshake, most preferred first: modern ones only. SHA-1 key
/// exchange and MACs, `ssh-rsa` signatures and CBC ciphers are never offered (this libssh2 has
/// no SHA-1 or `ssh-rsa` at all; CBC it has, and it is left out). `ext-info-c` and the strict
/// key exchange marker stay: they are how the Terrapin attack is prevented.
const MODERN: [(MethodType, &str); 6] = [
    (
        MethodType::Kex,
        "mlkem768x25519-sha256,curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,\
         ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group16-sha512,\
         diffie-hellman-group18-sha512,diffie-hellman-group14-sha256,\
         diffie-hellman-group-exchange-sha256,ext-info-c,kex-strict-c-v00@openssh.com",
    ),
    (
        MethodType::HostKey,
        "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,rsa-sha2-512,\
         rsa-sha2-256",
    ),
    (
        MethodType::CryptCs,
        "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr,\
         aes192-ctr,aes128-ctr",
    ),
    (
        MethodType::CryptSc,
        "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr,\
         aes192-ctr,aes128-ctr",
    ),
    (
        MethodType::MacCs,
        "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha2-256,hmac-sha2-512",
    ),
    (
        MethodType::MacSc,
        "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha2-256,hmac-sha2-512",
    ),
];

/// Sets the offered algorithms: ours, in order, that this libssh2 supports.
fn prefer(session: &Session) -> Result<(), ssh2::Error> {
    for (method, modern) in MODERN {
        let supported = session.supported_algs(method)?;
        let list: Vec<&str> = modern
            .split(',')
            .map(str::trim)
            .filter(|w| supported.contains(w))
            .collect();
        session.method_pref(method, &list.join(","))?;
    }
    Ok(())
}

/// Most output kept from one command or socket request, per stream: a host that prints forever
/// must not take the server's memory. The largest real answer (`getAllProcessInfo` of a
/// thousand programs) is well under 1 MiB.
pub const MAX_OUTPUT: usize = 16 * 1024 * 1024;

/// TCP connections opened (`true`) and failed (`false`) per target since start, for `/metrics`.
static CONNECTS: Mutex<BTreeMap<(String, bool), u64>> = Mutex::new(BTreeMap::new());

fn count_connect(target: &str, ok: bool) {
    let mut c = CONNECTS.lock().unwrap_or_else(|p| p.into_inner());
    *c.entry((target.to_string(), ok)).or_default() += 1;
}

/// `(target, opened, n)`: SSH connections opened or failed per `user@address:port`.
pub fn connect_counts() -> Vec<(String, bool, u64)> {
    let c = CONNECTS.lock().unwrap_or_else(|p| p.into_inner());
    c.iter().map(|((t, ok), n)| (t.clone(), *ok, *n)).collect()
}

pub struct Connection {
    session: Session,
    /// A handle on the session's socket, to wait for it while libssh2 is non-blocking.
    socket: TcpStream,
    target: SshTarget,
    deadline: Duration,
    host_key_sha256: String,
    pinned_now: bool,
}

impl Connection {
    /// Connects and authenticates with the server's key, each step bounded by `deadline`. The
    /// host's key goes through `keys` right after the handshake: a key other than the pinned
    /// one is refused before anything is sent to the host, and a first key is pinned there.
    pub fn connect(
        target: &SshTarget,
        private_key: &Path,
        keys: &dyn HostKeyCheck,
        deadline: Duration,
    ) -> Result<Connection, RemoteError> {
        let name = target.to_string();
        let addrs: Vec<_> = (target.address.as_str(), target.port)
            .to_socket_addrs()
            .map_err(|e| RemoteError::Connect {
                target: name.clone(),
                message: e.to_string(),
            })?
            .collect();
        let mut last_error = RemoteError::Connect {
            target: name.clone(),
            message: "address resolves to nothing".into(),
        };
        let mut connected = None;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, deadline) {
                Ok(tcp) => {
                    connected = Some(tcp);
                    break;
                }
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                    last_error = RemoteError::Timeout {
                        target: name.clone(),
                        step: "connect",
                        deadline,
                    };
                }
                Err(e) => {
                    last_error = RemoteError::Connect {
                        target: name.clone(),
                        message: e.to_string(),
                    };
                }
            }
        }
        count_connect(&name, connected.is_some());
        let tcp = connected.ok_or(last_error)?;
        // Counted by the benchmarks (connections per host per dispatch).
        tracing::debug!(host = %name, "ssh connection opened");
        // Without it every small SSH packet waits on Nagle: 65 ms vs 21 ms per connect.
        let _ = tcp.set_nodelay(true);
        let socket = tcp.try_clone().map_err(|e| RemoteError::Connect {
            target: name.clone(),
            message: e.to_string(),
        })?;
        let mut session = Session::new().map_err(|e| RemoteError::Handshake {
            target: name.clone(),
            message: e.to_string(),
        })?;
        session.set_tcp_stream(tcp);
        session.set_timeout(u32::try_from(deadline.as_millis()).unwrap_or(u32::MAX));
        prefer(&session).map_err(|e| RemoteError::Handshake {
            target: name.clone(),
            message: format!("setting the SSH algorithms: {}", e.message()),
        })?;
        session.handshake().map_err(|e| {
            let kex_failed = matches!(e.code(), ssh2::ErrorCode::Session(-5 | -8));
            timeout_or(e, &name, "handshake", deadline, |message| {
                RemoteError::Handshake {
                    target: name.clone(),
                    message: if kex_failed {
                        format!(
                            "{message}: the host offers no modern algorithm vr accepts (SHA-1 \
                             key exchange, ssh-rsa signatures and CBC ciphers are refused); \
                             update its sshd or give it an ed25519 host key"
                        )
                    } else {
                        message
                    },
                }
            })
        })?;
        let host_key_sha256 = session
            .host_key_hash(HashType::Sha256)
            .map(|h| {
                use base64::Engine;
                format!(
                    "SHA256:{}",
                    base64::engine::general_purpose::STANDARD_NO_PAD.encode(h)
                )
            })
            .unwrap_or_default();
        if host_key_sha256.is_empty() {
            return Err(RemoteError::Handshake {
                target: name,
                message: "the host presented no key".into(),
            });
        }
        let pinned_now = keys.check(target, &host_key_sha256)?;
        session
            .userauth_pubkey_file(&target.user, None, private_key, None)
            .map_err(|e| {
                timeout_or(e, &name, "auth", deadline, |message| RemoteError::Auth {
                    target: name.clone(),
                    user: target.user.clone(),
                    message,
                })
            })?;
        Ok(Connection {
            session,
            socket,
            target: target.clone(),
            deadline,
            host_key_sha256,
            pinned_now,
        })
    }

    /// True when this connection pinned the host's key (its first contact).
    pub fn pinned_now(&self) -> bool {
        self.pinned_now
    }

    pub fn target(&self) -> &SshTarget {
        &self.target
    }

    /// The host key's fingerprint in OpenSSH's `SHA256:…` form.
    pub fn host_key_fingerprint(&self) -> &str {
        &self.host_key_sha256
    }

    /// Runs one command line (already quoted by [`super::shell`]) and collects its output.
    /// The whole command, output included, must finish within the connection's deadline.
    pub fn exec(&mut self, command_line: &str) -> Result<ExecOutput, RemoteError> {
        self.exec_within(command_line, self.deadline)
    }

    /// [`Self::exec`] with its own deadline, for commands known to take long (builds, copies).
    pub fn exec_within(
        &mut self,
        command_line: &str,
        deadline: Duration,
    ) -> Result<ExecOutput, RemoteError> {
        let name = self.target.to_string();
        let err = |e: ssh2::Error| {
            timeout_or(e, &name, "command", deadline, |message| RemoteError::Exec {
                target: name.clone(),
                message,
            })
        };
        let mut channel = self.session.channel_session().map_err(err)?;
        channel.exec(command_line).map_err(err)?;
        // Drain stdout and stderr together without blocking, so a command that fills one
        // stream while we wait on the other cannot stall, and a trickle of output cannot
        // stretch the deadline.
        self.session.set_blocking(false);
        let result = self.drain(&mut channel, deadline);
        self.session.set_blocking(true);
        result
    }

    /// Sends `request` to a unix socket on the host (OpenSSH's `direct-streamlocal`, so nothing
    /// is spawned there) and reads the answer until the other side closes, within the deadline.
    pub fn unix_socket_request(
        &mut self,
        socket_path: &str,
        request: &[u8],
    ) -> Result<Vec<u8>, RemoteError> {
        let name = self.target.to_string();
        let deadline = self.deadline;
        let err = |e: ssh2::Error| {
            timeout_or(e, &name, "socket", deadline, |message| {
                RemoteError::Socket {
                    target: name.clone(),
                    path: socket_path.to_string(),
                    message,
                }
            })
        };
        let mut channel = self
            .session
            .channel_direct_streamlocal(socket_path, None)
            .map_err(err)?;
        {
            use std::io::Write;
            channel
                .write_all(request)
                .and_then(|()| channel.flush())
                .map_err(|e| RemoteError::Socket {
                    target: name.clone(),
                    path: socket_path.to_string(),
                    message: e.to_string(),
                })?;
        }
        let _ = channel.send_eof();
        self.session.set_blocking(false);
        let result = self.drain(&mut channel, deadline);
        self.session.set_blocking(true);
        let _ = channel.close();
        result.map(|out| out.stdout.into_bytes())
    }

    fn drain(
        &self,
        channel: &mut ssh2::Channel,
        deadline: Duration,
    ) -> Result<ExecOutput, RemoteError> {
        let mut stdout = Vec::new();
        let mut stderr = Vec::new();
        let mut too_large = false;
        let status = self.pump(channel, deadline, &mut |is_err, bytes| {
            let into = if is_err { &mut stderr } else { &mut stdout };
            if into.len() + bytes.len() > MAX_OUTPUT {
                too_large = true;
                return Err(std::io::Error::other("output limit"));
            }
            into.extend_from_slice(bytes);
            Ok(())
        });
        if too_large {
            return Err(RemoteError::OutputTooLarge {
                target: self.target.to_string(),
                limit: MAX_OUTPUT,
            });
        }
        let status = status?;
        Ok(ExecOutput {
            status,
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        })
    }

    /// Runs one command line and hands its output to `sink` as it arrives (`true` = stderr),
    /// for long commands whose output is a log to follow or a file to save. The whole command
    /// must finish within `deadline`; a sink error stops it. Returns the exit status.
    pub fn exec_streaming(
        &mut self,
        command_line: &str,
        deadline: Duration,
        sink: &mut dyn FnMut(bool, &[u8]) -> std::io::Result<()>,
    ) -> Result<i32, RemoteError> {
        let name = self.target.to_string();
        let err = |e: ssh2::Error| {
            timeout_or(e, &name, "command", deadline, |message| RemoteError::Exec {
                target: name.clone(),
                message,
            })
        };
        let mut channel = self.session.channel_session().map_err(err)?;
        channel.exec(command_line).map_err(err)?;
        self.session.set_blocking(false);
        let result = self.pump(&mut channel, deadline, sink);
        self.session.set_blocking(true);
        result
    }

    /// Runs one command line with `input` as its standard input (files sent to the host), then
    /// collects its output; all within `deadline`. The remote side must read its input before
    /// writing much output (the scripts that take input print little).
    pub fn exec_with_stdin(
        &mut self,
        command_line: &str,
        input: &mut dyn Read,
        deadline: Duration,
    ) -> Result<ExecOutput, RemoteError> {
        let name = self.target.to_string();
        let err = |e: ssh2::Error| {
            timeout_or(e, &name, "command", deadline, |message| RemoteError::Exec {
                target: name.clone(),
                message,
            })
        };
        let io_err = |e: std::io::Error| RemoteError::Exec {
            target: name.clone(),
            message: format!("sending input: {e}"),
        };
        let mut channel = self.session.channel_session().map_err(err)?;
        channel.exec(command_line).map_err(err)?;
        // Each write may wait the host's own deadline, not the whole transfer's: a host that
        // takes no data for that long is gone (a cut link would otherwise hold the session for
        // all of `deadline`). The whole transfer is bounded by `deadline`.
        let until = Instant::now() + deadline;
        let sent = (|| {
            use std::io::Write;
            let mut buf = [0u8; 64 * 1024];
            loop {
                let n = input.read(&mut buf)?;
                if n == 0 {
                    return channel.flush();
                }
                if Instant::now() > until {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("the transfer took longer than {deadline:?}"),
                    ));
                }
                channel.write_all(&buf[..n])?;
            }
        })();
        if let Err(e) = &sent
            && e.kind() == std::io::ErrorKind::TimedOut
        {
            return Err(RemoteError::Timeout {
                target: name.clone(),
                step: "command",
                deadline: self.deadline,
            });
        }
        sent.map_err(io_err)?;
        channel.send_eof().map_err(err)?;
        self.session.set_blocking(false);
        let result = self.drain(&mut channel, deadline);
        self.session.set_blocking(true);
        result
    }

    /// Moves everything the channel sends into `sink` until it closes, within `deadline`;
    /// returns the exit status.
    fn pump(
        &self,
        channel: &mut ssh2::Channel,
        deadline: Duration,
        sink: &mut dyn FnMut(bool, &[u8]) -> std::io::Result<()>,
    ) -> Result<i32, RemoteError> {
        let until = Instant::now() + deadline;
        let name = self.target.to_string();
        let timeout = || RemoteError::Timeout {
            target: name.clone(),
            step: "command",
            deadline,
        };
        let failed = |message: String| RemoteError::Exec {
            target: name.clone(),
            message,
        };
        let mut buf = [0u8; 32 * 1024];
        loop {
            let got_out = read_some(&mut channel.stream(0), &mut buf, &mut |b| sink(false, b))
                .map_err(|e| failed(e.to_string()))?;
            let got_err = read_some(&mut channel.stderr(), &mut buf, &mut |b| sink(true, b))
                .map_err(|e| failed(e.to_string()))?;
            if got_out || got_err {
                if Instant::now() >= until {
                    return Err(timeout());
                }
                continue;
            }
            if channel.eof() {
                break;
            }
            self.wait_socket(until).ok_or_else(timeout)?;
        }
        loop {
            match channel.wait_close() {
                Ok(()) => break,
                Err(e) if would_block(&e) => self.wait_socket(until).ok_or_else(timeout)?,
                Err(e) => return Err(failed(e.message().to_string())),
            }
        }
        channel
            .exit_status()
            .map_err(|e| failed(e.message().to_string()))
    }

    /// Waits until the socket is ready in the direction libssh2 is blocked on; `None` once
    /// `until` has passed.
    fn wait_socket(&self, until: Instant) -> Option<()> {
        let left = until.checked_duration_since(Instant::now())?;
        if left.is_zero() {
            return None;
        }
        let flags = match self.session.block_directions() {
            BlockDirections::Outbound => PollFlags::POLLOUT,
            BlockDirections::Both => PollFlags::POLLIN | PollFlags::POLLOUT,
            _ => PollFlags::POLLIN,
        };
        let mut fds = [PollFd::new(self.socket.as_fd(), flags)];
        // At most 10 ms at a time: libssh2 may already hold a packet for the other stream that
        // the socket no longer shows. EINTR just loops.
        let slice = left.min(Duration::from_millis(10));
        let _ = poll(
            &mut fds,
            PollTimeout::try_from(slice).unwrap_or(PollTimeout::MAX),
        );
        Some(())
    }
}

/// Hands what is available now to `into`; true when it read something.
fn read_some(
    stream: &mut impl Read,
    buf: &mut [u8],
    into: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
) -> std::io::Result<bool> {
    match stream.read(buf) {
        Ok(0) => Ok(false),
        Ok(n) => {
            into(&buf[..n])?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(false),
        Err(e) => Err(e),
    }
}

fn would_block(e: &ssh2::Error) -> bool {
    // LIBSSH2_ERROR_EAGAIN
    matches!(e.code(), ssh2::ErrorCode::Session(-37))
}

fn is_timeout(e: &ssh2::Error) -> bool {
    // libssh2 reports a blocking call past `set_timeout` as LIBSSH2_ERROR_TIMEOUT (-9).
    matches!(e.code(), ssh2::ErrorCode::Session(-9))
}

fn timeout_or(
    e: ssh2::Error,
    target: &str,
    step: &'static str,
    deadline: Duration,
    other: impl FnOnce(String) -> RemoteError,
) -> RemoteError {
    if is_timeout(&e) {
        RemoteError::Timeout {
            target: target.to_string(),
            step,
            deadline,
        }
    } else {
        other(e.message().to_string())
    }
}
