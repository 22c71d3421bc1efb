//! The Supervisor driver: status, actions, log tails and `proc.json` reads on one host, over one
//! SSH [`Connection`]. Status and logs go through supervisord's XML-RPC socket when the SSH user
//! may open it (nothing is spawned on the host), and so do actions (`ctl`: the calls
//! supervisorctl makes, read in its words); otherwise through `supervisorctl` (with `sudo -n`
//! for non-root users).

use super::RemoteError;
use super::ctl::{Answer, CtlAction};
use super::shell::quote;
use super::ssh::Connection;
use super::xmlrpc::{self, Value, XmlRpcError};
use std::collections::HashMap;
use vr_app::fleet::{HostSettings, LogChunk, LogStream};
use vr_app::supervisor::{CtlVerdict, ProcState, judge_ctl_output, parse_status};

/// Most of a `proc.json` that is read; ours are a few hundred bytes.
const PROC_JSON_MAX: usize = 64 * 1024;

/// Where Supervisor lives on a host, from its settings with defaults applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub supervisorctl: Vec<String>,
    pub socket: String,
    pub include_dir: String,
    pub apps_root: String,
    pub sudo: bool,
}

impl From<&HostSettings> for Layout {
    fn from(h: &HostSettings) -> Self {
        Layout {
            supervisorctl: h
                .supervisorctl()
                .split_whitespace()
                .map(str::to_string)
                .collect(),
            socket: h.supervisor_socket().to_string(),
            include_dir: h.include_dir().trim_end_matches('/').to_string(),
            apps_root: h.apps_root().trim_end_matches('/').to_string(),
            sudo: h.uses_sudo(),
        }
    }
}

impl Layout {
    /// `supervisorctl ARGS…`, each word quoted, behind `sudo -n` when needed.
    pub fn ctl_line(&self, args: &[&str]) -> String {
        let mut words: Vec<String> = Vec::new();
        if self.sudo {
            words.extend(["sudo".into(), "-n".into()]);
        }
        words.extend(self.supervisorctl.iter().map(|w| quote(w)));
        words.extend(args.iter().map(|a| quote(a)));
        words.join(" ")
    }

    /// A shell snippet (already quoted) run as root: directly, or through `sudo -n sh -c`.
    pub fn privileged(&self, script: &str) -> String {
        if self.sudo {
            format!("sudo -n sh -c {}", quote(script))
        } else {
            script.to_string()
        }
    }

    pub fn proc_dir(&self, program: &str) -> String {
        format!("{}/procs/{program}", self.apps_root)
    }

    pub fn program_conf(&self, program: &str) -> String {
        format!("{}/{program}.conf", self.include_dir)
    }
}

/// A program name safe to use as a path component. Supervisor allows more (`group:name`, odd
/// characters); such programs are not `vr`'s and are never touched on disk.
pub fn is_plain_program_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name.len() <= 200
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// One program as Supervisor reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteProc {
    pub name: String,
    pub state: ProcState,
    pub description: String,
    pub pid: Option<u32>,
    /// Unix seconds it started, while it runs.
    pub started_at: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    XmlRpc,
    Supervisorctl,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::XmlRpc => "xmlrpc",
            Via::Supervisorctl => "supervisorctl",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub procs: Vec<RemoteProc>,
    pub via: Via,
    pub version: Option<String>,
}

/// Supervisor on one host, through a borrowed connection.
pub struct Supervisor<'a> {
    pub conn: &'a mut Connection,
    pub layout: &'a Layout,
    /// Set once the socket was refused on this connection, so later calls skip the attempt.
    pub xmlrpc_refused: &'a mut bool,
    /// Supervisor's version, read once per connection (it cannot change without a restart of
    /// supervisord, which breaks nothing here: a stale version only shows until reconnect).
    pub version: &'a mut Option<String>,
}

impl Supervisor<'_> {
    fn target(&self) -> String {
        self.conn.target().to_string()
    }

    pub(super) fn down(&self, message: impl Into<String>) -> RemoteError {
        RemoteError::Supervisor {
            target: self.target(),
            message: message.into(),
        }
    }

    /// One XML-RPC call on supervisord's socket. `Ok(None)` when the socket cannot be opened
    /// by this user (the caller falls back to supervisorctl).
    pub(super) fn rpc(
        &mut self,
        method: &str,
        params: &[Value],
    ) -> Result<Option<Value>, RemoteError> {
        match self.call(method, params)? {
            None => Ok(None),
            Some(Ok(v)) => Ok(Some(v)),
            Some(Err((code, message))) => {
                Err(self.down(XmlRpcError::Fault { code, message }.to_string()))
            }
        }
    }

    /// One XML-RPC call whose fault is an answer (an action's "already started"), not an
    /// error. `Ok(None)` when the socket cannot be opened by this user.
    fn call(&mut self, method: &str, params: &[Value]) -> Result<Option<Answer>, RemoteError> {
        if *self.xmlrpc_refused {
            return Ok(None);
        }
        let raw = match self
            .conn
            .unix_socket_request(&self.layout.socket, &xmlrpc::request(method, params))
        {
            Ok(raw) => raw,
            Err(RemoteError::Socket { .. }) => {
                *self.xmlrpc_refused = true;
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        match xmlrpc::parse_http_response(&raw) {
            Ok(v) => Ok(Some(Ok(v))),
            Err(XmlRpcError::Fault { code, message }) => Ok(Some(Err((code, message)))),
            // An empty answer: sshd opened the channel but nothing listens there.
            Err(XmlRpcError::Malformed(_)) if raw.is_empty() => {
                *self.xmlrpc_refused = true;
                Ok(None)
            }
            Err(e) => Err(self.down(e.to_string())),
        }
    }

    /// Every program and its state.
    pub fn status(&mut self) -> Result<Status, RemoteError> {
        if let Some(v) = self.rpc("supervisor.getAllProcessInfo", &[])? {
            let procs = decode_process_infos(&v).map_err(|m| self.down(m))?;
            if self.version.is_none() {
                *self.version = self
                    .rpc("supervisor.getSupervisorVersion", &[])?
                    .and_then(|v| v.as_str().map(str::to_string));
            }
            return Ok(Status {
                procs,
                via: Via::XmlRpc,
                version: self.version.clone(),
            });
        }
        self.status_ctl()
    }

    fn status_ctl(&mut self) -> Result<Status, RemoteError> {
        let out = self.conn.exec(&self.layout.ctl_line(&["status"]))?;
        let parsed = parse_status(&out.stdout);
        // Exit 3 just means "some program is not running". Anything else without rows (a socket
        // error, a missing binary, sudo refusing) is Supervisor being down. Stderr alone is not
        // a failure: logins print noise there (e.g. a missing home directory).
        let clean_exit = out.status == 0 || out.status == 3;
        if parsed.rows.is_empty() && (!parsed.other.is_empty() || !clean_exit) {
            let mut message = parsed.other.join("; ");
            if !out.stderr.trim().is_empty() {
                if !message.is_empty() {
                    message.push_str("; ");
                }
                message.push_str(out.stderr.trim());
            }
            if message.is_empty() {
                message = format!("supervisorctl status exited with {}", out.status);
            }
            return Err(self.down(message));
        }
        let now = now_secs();
        let procs = parsed
            .rows
            .into_iter()
            .map(|r| RemoteProc {
                started_at: r.uptime_secs.map(|u| now - i64::try_from(u).unwrap_or(0)),
                name: r.name,
                state: r.state,
                description: r.description,
                pid: r.pid,
            })
            .collect();
        if self.version.is_none() {
            *self.version = self
                .conn
                .exec(&self.layout.ctl_line(&["version"]))
                .ok()
                .filter(|o| o.status == 0)
                .map(|o| o.stdout.trim().to_string());
        }
        Ok(Status {
            procs,
            via: Via::Supervisorctl,
            version: self.version.clone(),
        })
    }

    /// Runs one action on one program; `tolerated` errors count as success (see
    /// [`judge_ctl_output`]). On supervisord's socket when this user may open it (the same
    /// calls supervisorctl makes, without spawning it), else through supervisorctl.
    fn ctl(
        &mut self,
        action: CtlAction,
        name: &str,
        tolerated: &[&str],
    ) -> Result<CtlVerdict, RemoteError> {
        let calls = action.calls(name);
        let mut answers = Vec::new();
        for (method, params) in &calls {
            match self.call(method, params)? {
                Some(answer) => answers.push(answer),
                None => break,
            }
        }
        // Every action is idempotent, so one the socket left half done is redone whole.
        if answers.len() == calls.len() {
            return Ok(judge_ctl_output(&action.words(name, &answers), tolerated));
        }
        let out = self.conn.exec(&self.layout.ctl_line(&action.args(name)))?;
        let mut verdict = judge_ctl_output(&out.stdout, tolerated);
        // supervisorctl reports on stdout; stderr matters only when that says nothing (sudo
        // refusing, a missing binary) or already failed. Login noise there is not a failure.
        let quiet = out.stdout.trim().is_empty();
        if quiet && out.status != 0 {
            verdict.ok = false;
        }
        if (quiet || !verdict.ok) && !out.stderr.trim().is_empty() {
            if !verdict.message.is_empty() {
                verdict.message.push('\n');
            }
            verdict.message.push_str(out.stderr.trim());
        }
        Ok(verdict)
    }

    pub fn start(&mut self, name: &str) -> Result<CtlVerdict, RemoteError> {
        self.ctl(CtlAction::Start, name, &["ERROR (already started)"])
    }

    pub fn stop(&mut self, name: &str) -> Result<CtlVerdict, RemoteError> {
        self.ctl(CtlAction::Stop, name, &["ERROR (not running)"])
    }

    pub fn restart(&mut self, name: &str) -> Result<CtlVerdict, RemoteError> {
        self.ctl(CtlAction::Restart, name, &["ERROR (not running)"])
    }

    /// Makes Supervisor read its program files again (never `update`: that would restart
    /// changed groups; adding and removing single programs is done by name).
    pub fn reread(&mut self) -> Result<CtlVerdict, RemoteError> {
        self.ctl(CtlAction::Reread, "", &[])
    }

    /// Adds a program whose file `reread` found; already active counts as done.
    pub fn add(&mut self, name: &str) -> Result<CtlVerdict, RemoteError> {
        self.ctl(
            CtlAction::Add,
            name,
            &["ERROR: process group already active"],
        )
    }

    /// Removes a stopped program from Supervisor; one it no longer knows counts as done.
    pub fn remove(&mut self, name: &str) -> Result<CtlVerdict, RemoteError> {
        self.ctl(CtlAction::Remove, name, &["no such process/group"])
    }

    /// Stops the program, removes it from Supervisor, deletes its config file and proc folder.
    /// Idempotent: a program already gone is fine.
    pub fn destroy(&mut self, name: &str) -> Result<CtlVerdict, RemoteError> {
        if !is_plain_program_name(name) {
            return Ok(CtlVerdict {
                ok: false,
                message: format!("{name:?} is not a program vr deploys; not deleting files for it"),
            });
        }
        let stop = self.ctl(
            CtlAction::Stop,
            name,
            &["ERROR (not running)", "ERROR (no such process)"],
        )?;
        if !stop.ok {
            return Ok(stop);
        }
        let remove = self.remove(name)?;
        if !remove.ok {
            return Ok(remove);
        }
        // The cgroups the proc had (empty once it stopped) go too.
        let script = format!(
            "rm -f -- {} && rm -rf -- {} && {{ rmdir /sys/fs/cgroup/vr/{n} /sys/fs/cgroup/memory/vr/{n} /sys/fs/cgroup/cpu/vr/{n} 2>/dev/null; true; }}",
            quote(&self.layout.program_conf(name)),
            quote(&self.layout.proc_dir(name)),
            n = quote(name),
        );
        let out = self.conn.exec(&self.layout.privileged(&script))?;
        if out.status != 0 {
            return Ok(CtlVerdict {
                ok: false,
                message: format!(
                    "removed from Supervisor, but deleting its files failed: {}",
                    out.stderr.trim()
                ),
            });
        }
        Ok(CtlVerdict {
            ok: true,
            message: format!("{name}: destroyed (config and folder deleted)"),
        })
    }

    /// A piece of the program's log. Through XML-RPC this follows by byte offset; through
    /// supervisorctl it is the last `bytes` each time (`overflow` set: replace, don't append).
    pub fn tail(
        &mut self,
        name: &str,
        stream: LogStream,
        offset: Option<u64>,
        bytes: u32,
    ) -> Result<LogChunk, RemoteError> {
        let method = match stream {
            LogStream::Stdout => "supervisor.tailProcessStdoutLog",
            LogStream::Stderr => "supervisor.tailProcessStderrLog",
        };
        let params = [
            Value::Str(name.to_string()),
            Value::Int(i64::try_from(offset.unwrap_or(0)).unwrap_or(i64::MAX)),
            Value::Int(i64::from(bytes)),
        ];
        if let Some(v) = self.rpc(method, &params)? {
            let chunk = decode_tail(&v).ok_or_else(|| self.down("unexpected tail answer"))?;
            return Ok(match offset {
                Some(from) => only_after(chunk, from),
                None => chunk,
            });
        }
        let count = format!("-{bytes}");
        let mut args = vec!["tail", count.as_str(), name];
        if stream == LogStream::Stderr {
            args.push("stderr");
        }
        let out = self.conn.exec(&self.layout.ctl_line(&args))?;
        if out.status != 0 || out.stdout.contains(": ERROR (") {
            return Err(self.down(format!("{}{}", out.stdout.trim(), out.stderr.trim())));
        }
        Ok(LogChunk {
            text: out.stdout,
            offset: 0,
            overflow: true,
        })
    }

    /// Reads `proc.json` of each named program that has one; programs without (not deployed by
    /// `vr`) map to `None`. One command for all names.
    pub fn read_proc_json(
        &mut self,
        names: &[String],
    ) -> Result<HashMap<String, Option<String>>, RemoteError> {
        let plain: Vec<&String> = names.iter().filter(|n| is_plain_program_name(n)).collect();
        let mut found: HashMap<String, Option<String>> =
            names.iter().map(|n| (n.clone(), None)).collect();
        if plain.is_empty() {
            return Ok(found);
        }
        // Each record: RS name US content. Missing files print nothing after US. Root reads
        // only regular files that are not links, in folders that are root's alone (so nothing
        // can swap the file between the check and the read), and at most PROC_JSON_MAX of
        // each: a proc must not make root block on a FIFO or read another file. A folder an
        // older vr left to the proc's user is not read (its proc shows unmanaged until it is
        // deployed again).
        let list: Vec<String> = plain.iter().map(|n| quote(n)).collect();
        let script = format!(
            "cd {} 2>/dev/null || exit 0; for n in {}; do printf '\\036%s\\037' \"$n\"; f=\"$n/proc.json\"; \
             if [ ! -L \"$n\" ] && [ \"$(stat -c %u -- \"$n\" 2>/dev/null)\" = 0 ] && [ -z \"$(find \"$n\" -maxdepth 0 -perm /022)\" ] \
             && [ ! -L \"$f\" ] && [ -f \"$f\" ]; then head -c {PROC_JSON_MAX} -- \"$f\" 2>/dev/null; fi; done; exit 0",
            quote(&format!("{}/procs", self.layout.apps_root)),
            list.join(" ")
        );
        let out = self.conn.exec(&self.layout.privileged(&script))?;
        for record in out.stdout.split('\u{1e}').skip(1) {
            if let Some((name, content)) = record.split_once('\u{1f}')
                && !content.trim().is_empty()
            {
                found.insert(name.to_string(), Some(content.to_string()));
            }
        }
        Ok(found)
    }

    /// How many times the kernel killed each program for memory: the `oom_kill` count of its
    /// cgroup (v2 `memory.events`, v1 `memory.oom_control`; see `cgroup::cgroup_lines`).
    /// Programs without a group are left out.
    pub fn oom_kills(&mut self, names: &[String]) -> Result<HashMap<String, u32>, RemoteError> {
        let plain: Vec<String> = names
            .iter()
            .filter(|n| is_plain_program_name(n))
            .map(|n| quote(n))
            .collect();
        if plain.is_empty() {
            return Ok(HashMap::new());
        }
        let script = format!(
            "for n in {}; do for f in /sys/fs/cgroup/vr/$n/memory.events /sys/fs/cgroup/memory/vr/$n/memory.oom_control; do \
             [ -r \"$f\" ] && awk -v n=\"$n\" '$1 == \"oom_kill\" {{ print n, $2 }}' \"$f\" && break; done; done; exit 0",
            plain.join(" ")
        );
        let out = self.conn.exec(&self.layout.privileged(&script))?;
        Ok(out
            .stdout
            .lines()
            .filter_map(|l| {
                let (name, n) = l.split_once(' ')?;
                Some((name.to_string(), n.trim().parse().ok()?))
            })
            .collect())
    }
}

fn now_secs() -> i64 {
    crate::clock::now_ms() / 1000
}

fn decode_process_infos(v: &Value) -> Result<Vec<RemoteProc>, String> {
    let Value::Array(items) = v else {
        return Err("getAllProcessInfo did not return a list".into());
    };
    items
        .iter()
        .map(|item| {
            let name = item
                .member("name")
                .and_then(Value::as_str)
                .ok_or("a process without a name")?;
            let group = item.member("group").and_then(Value::as_str).unwrap_or(name);
            let state = item
                .member("state")
                .and_then(Value::as_int)
                .map(ProcState::from_code)
                .unwrap_or(ProcState::Unknown);
            let pid = item
                .member("pid")
                .and_then(Value::as_int)
                .filter(|p| *p > 0)
                .and_then(|p| u32::try_from(p).ok());
            let running = matches!(state, ProcState::Running | ProcState::Stopping);
            Ok(RemoteProc {
                // supervisorctl's naming: `group:name` unless the group is the program itself.
                name: if group == name {
                    name.to_string()
                } else {
                    format!("{group}:{name}")
                },
                state,
                description: item
                    .member("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                pid,
                started_at: item
                    .member("start")
                    .and_then(Value::as_int)
                    .filter(|s| running && *s > 0),
            })
        })
        .collect()
}

/// Supervisor's `tail…Log(name, offset, length)` always answers with the last `length` bytes
/// of the file when `offset + length` passes its end, so following from `from` needs the
/// answer cut to what was written after `from`. A file that shrank (rotated) or grew by more
/// than was returned is reported as overflow: the caller replaces what it shows.
pub(super) fn only_after(mut chunk: LogChunk, from: u64) -> LogChunk {
    let end = chunk.offset;
    let bytes = chunk.text.len() as u64;
    if end < from || end - from > bytes {
        chunk.overflow = true;
        return chunk;
    }
    let new = usize::try_from(end - from).unwrap_or(usize::MAX);
    let mut cut = chunk.text.len().saturating_sub(new);
    // Stay on a character boundary if the log is not valid UTF-8 where we cut.
    while !chunk.text.is_char_boundary(cut) {
        cut += 1;
    }
    chunk.text = chunk.text[cut..].to_string();
    chunk.overflow = false;
    chunk
}

pub(super) fn decode_tail(v: &Value) -> Option<LogChunk> {
    let Value::Array(items) = v else { return None };
    let text = items.first()?.as_str()?.to_string();
    let offset = u64::try_from(items.get(1)?.as_int()?).ok()?;
    let overflow = matches!(items.get(2), Some(Value::Bool(true)));
    Some(LogChunk {
        text,
        offset,
        overflow,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(user: &str) -> Layout {
        let settings = HostSettings {
            name: "h".into(),
            address: "h".into(),
            port: 22,
            user: user.into(),
            squad: None,
            active: true,
            builder: false,
            supervisorctl: Some("supervisorctl -c /etc/my supervisor.conf".into()),
            supervisor_socket: None,
            include_dir: Some("/etc/supervisor/conf.d/".into()),
            apps_root: None,
            port_min: None,
            port_max: None,
            notes: String::new(),
        };
        Layout::from(&settings)
    }

    #[test]
    fn command_lines_quote_every_word() {
        let root = layout("root");
        assert_eq!(
            root.ctl_line(&["start", "web;rm -rf /"]),
            "supervisorctl -c /etc/my supervisor.conf start 'web;rm -rf /'"
        );
        let deploy = layout("deploy");
        assert_eq!(
            deploy.ctl_line(&["stop", "x"]),
            "sudo -n supervisorctl -c /etc/my supervisor.conf stop x"
        );
        assert_eq!(
            deploy.privileged("rm -f -- '/a b'"),
            r"sudo -n sh -c 'rm -f -- '\''/a b'\'''"
        );
        assert_eq!(root.program_conf("w"), "/etc/supervisor/conf.d/w.conf");
        assert_eq!(root.proc_dir("w"), "/apps/procs/w");
    }

    proptest::proptest! {
        /// Whatever a name holds, the command line gives supervisorctl exactly the words it was
        /// built from. `printf '%s\0'` stands in for supervisorctl and prints each argument it got.
        #[test]
        fn no_name_escapes_its_argument(name in "[^\\x00]{0,40}") {
            let layout = Layout {
                supervisorctl: vec!["printf".into(), "%s\\0".into()],
                socket: String::new(),
                include_dir: "/i".into(),
                apps_root: "/a".into(),
                sudo: false,
            };
            let line = layout.ctl_line(&["start", &name]);
            let out = std::process::Command::new("/bin/sh")
                .arg("-c")
                .arg(&line)
                .output()
                .expect("sh");
            let words: Vec<String> = String::from_utf8_lossy(&out.stdout)
                .split('\0')
                .map(str::to_string)
                .collect();
            proptest::prop_assert_eq!(words, vec!["start".to_string(), name, String::new()]);
        }
    }

    #[test]
    fn only_plain_names_touch_disk() {
        for ok in ["web_1", "shop-1_0-prod-ab12cd-web-5001", "a.b"] {
            assert!(is_plain_program_name(ok), "{ok}");
        }
        for bad in [
            "", ".", "..", ".hidden", "a/b", "grp:web", "a b", "x;y", "$(id)",
        ] {
            assert!(!is_plain_program_name(bad), "{bad}");
        }
    }

    #[test]
    fn decodes_captured_process_info_into_procs() {
        let raw = include_bytes!("fixtures/get_all_process_info.http");
        let v = xmlrpc::parse_http_response(raw).expect("parse");
        let procs = decode_process_infos(&v).expect("decode");
        let summary: Vec<_> = procs
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.state,
                    p.pid.is_some(),
                    p.started_at.is_some(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("dies", ProcState::Fatal, false, false),
                ("web_1", ProcState::Running, true, true),
            ]
        );
    }

    #[test]
    fn following_keeps_only_new_bytes() {
        let chunk = |text: &str, offset| LogChunk {
            text: text.into(),
            offset,
            overflow: false,
        };
        // The file is 20 bytes; we had read up to 14; Supervisor sent the last 10 bytes.
        assert_eq!(only_after(chunk("0123456789", 20), 14).text, "456789");
        assert_eq!(only_after(chunk("0123456789", 20), 20).text, "");
        // More was written than returned: all of it, flagged.
        let big = only_after(chunk("0123456789", 100), 14);
        assert!(big.overflow && big.text == "0123456789");
        // The file shrank (rotated).
        assert!(only_after(chunk("abc", 3), 14).overflow);
    }

    #[test]
    fn grouped_programs_get_supervisorctl_names() {
        let v = Value::Array(vec![Value::Struct(vec![
            ("name".into(), Value::Str("w".into())),
            ("group".into(), Value::Str("grp".into())),
            ("state".into(), Value::Int(30)),
        ])]);
        let procs = decode_process_infos(&v).expect("decode");
        assert_eq!(procs[0].name, "grp:w");
        assert_eq!(procs[0].state, ProcState::Backoff);
    }
}
