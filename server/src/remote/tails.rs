//! Reading many procs' logs by offset in one request, for merged live logs: one
//! `system.multicall` of Supervisor's `tail…Log` on the host's session, or, where Supervisor's
//! socket is closed to vr's login (a sudo user), one privileged script reading the log files of
//! the procs vr deployed (their paths are vr's own layout).

use super::RemoteError;
use super::shell::quote;
use super::supervisor::{Supervisor, is_plain_program_name, only_after};
use super::xmlrpc::Value;
use vr_app::fleet::{LogChunk, LogStream};

/// One log to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailRequest {
    pub program: String,
    pub stream: LogStream,
    /// Where the previous read ended; `None` = the last `bytes`.
    pub offset: Option<u64>,
    pub bytes: u32,
    /// vr deployed it, so its log files are at vr's paths.
    pub managed: bool,
}

/// Why one log of a batch could not be read (the others still were).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TailError {
    #[error("Supervisor refused: {0}")]
    Refused(String),
    #[error("no log file")]
    NoFile,
    #[error(
        "only procs vr deployed can be followed on this host: Supervisor's socket is closed to its login"
    )]
    NoSocket,
}

const FIELD: char = '\u{1f}';
const RECORD: char = '\u{1e}';

impl Supervisor<'_> {
    /// Reads every requested log, in order. One request on the host's session whatever the
    /// number of logs.
    pub fn tail_many(
        &mut self,
        reqs: &[TailRequest],
    ) -> Result<Vec<Result<LogChunk, TailError>>, RemoteError> {
        if reqs.is_empty() {
            return Ok(Vec::new());
        }
        let calls: Vec<Value> = reqs
            .iter()
            .map(|r| {
                Value::Struct(vec![
                    ("methodName".into(), Value::Str(method(r.stream).into())),
                    (
                        "params".into(),
                        Value::Array(vec![
                            Value::Str(r.program.clone()),
                            Value::Int(i64::try_from(r.offset.unwrap_or(0)).unwrap_or(i64::MAX)),
                            Value::Int(i64::from(r.bytes)),
                        ]),
                    ),
                ])
            })
            .collect();
        if let Some(answer) = self.rpc("system.multicall", &[Value::Array(calls)])? {
            let Value::Array(items) = answer else {
                return Err(self.down("multicall did not answer with a list"));
            };
            if items.len() != reqs.len() {
                return Err(self.down("multicall answered a different number of calls"));
            }
            return Ok(reqs
                .iter()
                .zip(items)
                .map(|(r, item)| decode_item(r, &item))
                .collect());
        }
        self.tail_files(reqs)
    }

    /// The fallback: vr's own procs' log files, read by root by offset, in one command.
    fn tail_files(
        &mut self,
        reqs: &[TailRequest],
    ) -> Result<Vec<Result<LogChunk, TailError>>, RemoteError> {
        let readable: Vec<(usize, String)> = reqs
            .iter()
            .enumerate()
            .filter(|(_, r)| r.managed && is_plain_program_name(&r.program))
            .map(|(i, r)| {
                let file = format!(
                    "{}/{}.log",
                    self.layout.proc_dir(&r.program),
                    r.stream.as_str()
                );
                (i, read_script(&file, reqs[i].offset, reqs[i].bytes))
            })
            .collect();
        let mut out: Vec<Result<LogChunk, TailError>> =
            reqs.iter().map(|_| Err(TailError::NoSocket)).collect();
        if readable.is_empty() {
            return Ok(out);
        }
        let script: String = readable.iter().map(|(_, s)| s.as_str()).collect();
        let done = self.conn.exec(&self.layout.privileged(&script))?;
        let records = parse_records(&done.stdout);
        for ((i, _), record) in readable.iter().zip(records) {
            out[*i] = record.map(|chunk| settle(reqs[*i].offset, chunk));
        }
        Ok(out)
    }
}

fn method(stream: LogStream) -> &'static str {
    match stream {
        LogStream::Stdout => "supervisor.tailProcessStdoutLog",
        LogStream::Stderr => "supervisor.tailProcessStderrLog",
    }
}

/// A multicall item: `[value]` for an answer, a fault struct for a refusal.
fn decode_item(r: &TailRequest, item: &Value) -> Result<LogChunk, TailError> {
    if let Some(message) = item.member("faultString").and_then(Value::as_str) {
        return Err(if message.contains("NO_FILE") {
            TailError::NoFile
        } else {
            TailError::Refused(message.to_string())
        });
    }
    // Supervisor's multicall gives each result as it is; the XML-RPC convention wraps it in a
    // one-item list. Both are read.
    let chunk = super::supervisor::decode_tail(item)
        .or_else(|| match item {
            Value::Array(one) if one.len() == 1 => super::supervisor::decode_tail(&one[0]),
            _ => None,
        })
        .ok_or_else(|| TailError::Refused("unexpected answer".into()))?;
    Ok(settle(r.offset, chunk))
}

/// A read from `offset` keeps only what was written after it.
fn settle(offset: Option<u64>, chunk: LogChunk) -> LogChunk {
    match offset {
        Some(from) => only_after(chunk, from),
        None => chunk,
    }
}

/// Prints `RS size US start US bytes` for one file: the bytes from `start` to its end (at most
/// `bytes`, the last ones when more was written), like Supervisor's tail; `RS -` when it is not
/// a regular file. Never follows a link.
fn read_script(file: &str, offset: Option<u64>, bytes: u32) -> String {
    let from = offset.map_or_else(|| "-1".to_string(), |o| o.to_string());
    format!(
        "f={f}; o={from}; printf '\\036'; \
         if [ ! -L \"$f\" ] && [ -f \"$f\" ]; then s=$(stat -c %s -- \"$f\"); st=$o; \
         if [ \"$st\" -lt 0 ] || [ \"$st\" -gt \"$s\" ] || [ $((s - st)) -gt {bytes} ]; then st=$((s - {bytes})); fi; \
         [ \"$st\" -lt 0 ] && st=0; printf '%s\\037%s\\037' \"$s\" \"$st\"; \
         tail -c +$((st + 1)) -- \"$f\" | head -c $((s - st)); else printf -; fi; ",
        f = quote(file),
    )
}

/// The records [`read_script`] printed, in order. A record's text may hold any byte but RS.
fn parse_records(out: &str) -> Vec<Result<LogChunk, TailError>> {
    out.split(RECORD)
        .skip(1)
        .map(|record| {
            let mut parts = record.splitn(3, FIELD);
            let size = parts.next().and_then(|s| s.parse::<u64>().ok());
            let start = parts.next().and_then(|s| s.parse::<u64>().ok());
            match (size, start, parts.next()) {
                (Some(size), Some(start), Some(text)) => Ok(LogChunk {
                    text: text.to_string(),
                    offset: size,
                    overflow: start > 0,
                }),
                _ => Err(TailError::NoFile),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn run(script: &str) -> String {
        let out = Command::new("sh").arg("-c").arg(script).output();
        out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }

    #[test]
    fn the_fallback_reads_files_by_offset_like_supervisor() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("stdout.log");
        std::fs::write(&log, "one\ntwo\nthree\n").expect("write");
        let path = log.to_string_lossy().to_string();
        let missing = dir
            .path()
            .join("nope; rm -rf /")
            .to_string_lossy()
            .to_string();
        let reads = [
            (&path, None, 6),
            (&path, Some(4), 100),
            (&path, Some(14), 100),
            (&missing, Some(0), 100),
            (&path, Some(0), 3),
        ];
        let script: String = reads
            .iter()
            .map(|(f, o, b)| read_script(f, *o, *b))
            .collect();
        let got: Vec<_> = parse_records(&run(&script))
            .into_iter()
            .zip(reads)
            .map(|(r, (_, o, _))| r.map(|c| settle(o, c)))
            .collect();
        let chunk = |text: &str, overflow| {
            Ok(LogChunk {
                text: text.into(),
                offset: 14,
                overflow,
            })
        };
        assert_eq!(
            got,
            [
                chunk("three\n", true),
                chunk("two\nthree\n", false),
                chunk("", false),
                Err(TailError::NoFile),
                // More than `bytes` was written since: the last bytes, and overflow.
                chunk("ee\n", true),
            ]
        );
        // Through a link: not read.
        let link = dir.path().join("link.log");
        std::os::unix::fs::symlink(&log, &link).expect("symlink");
        let got = parse_records(&run(&read_script(&link.to_string_lossy(), None, 10)));
        assert_eq!(got, [Err(TailError::NoFile)]);
    }

    #[test]
    fn multicall_items_are_answers_or_refusals() {
        let r = TailRequest {
            program: "p".into(),
            stream: LogStream::Stdout,
            offset: Some(2),
            bytes: 100,
            managed: false,
        };
        let tail = Value::Array(vec![
            Value::Str("abcd".into()),
            Value::Int(4),
            Value::Bool(false),
        ]);
        let want = Ok(LogChunk {
            text: "cd".into(),
            offset: 4,
            overflow: false,
        });
        // As supervisord answers, and wrapped as the XML-RPC convention has it.
        assert_eq!(decode_item(&r, &tail), want);
        assert_eq!(decode_item(&r, &Value::Array(vec![tail])), want);
        let fault = |s: &str| {
            Value::Struct(vec![
                ("faultCode".into(), Value::Int(10)),
                ("faultString".into(), Value::Str(s.into())),
            ])
        };
        assert_eq!(
            decode_item(&r, &fault("NO_FILE: p")),
            Err(TailError::NoFile)
        );
        assert_eq!(
            decode_item(&r, &fault("BAD_NAME: p")),
            Err(TailError::Refused("BAD_NAME: p".into()))
        );
    }
}
