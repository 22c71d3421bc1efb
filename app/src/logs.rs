//! Merged live logs: what `GET /api/logs` selects, the events its stream carries, and the pure
//! parts of following (cutting text into lines, what a read of the last bytes adds, the search
//! filter, the CLI's line format) shared by the server, the CLI and the UI.

use serde::{Deserialize, Serialize};

use crate::fleet::{LogStream, ProcFilter};
use crate::validate::Invalid;

/// Lines of history per proc and stream when the query names none.
pub const DEFAULT_LINES: u32 = 10;
/// Most lines of history per proc and stream.
pub const MAX_LINES: u32 = 1000;
/// Most procs one stream follows: a pattern that matches the whole fleet is refused, not run.
pub const MAX_PROCS: usize = 200;
/// A line longer than this is sent in pieces of this size.
pub const MAX_LINE: usize = 16 * 1024;

/// `GET /api/logs`: which procs (the same filters as `vr procs`, plus a swarm) and streams.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LogsQuery {
    /// Regex matched against `app-config-proc` (managed) or the program name (unmanaged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Regex matched against the host name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub squad: Option<String>,
    /// Only the procs this swarm made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swarm: Option<i64>,
    /// Only these program names (comma-separated), as a page that shows them names them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only: Option<String>,
    /// One stream only; both when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<LogStream>,
    /// Only lines containing this text (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grep: Option<String>,
    /// Lines of history per proc and stream before following (0 = none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lines: Option<u32>,
}

impl LogsQuery {
    /// The proc filter part, as `vr procs` reads it.
    pub fn filter(&self) -> ProcFilter {
        ProcFilter {
            pattern: self.pattern.clone(),
            host: self.host.clone(),
            squad: self.squad.clone(),
            state: None,
        }
    }

    /// The program names `only` keeps; empty = any.
    pub fn only_names(&self) -> Vec<&str> {
        self.only
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .collect()
    }

    pub fn streams(&self) -> Vec<LogStream> {
        match self.stream {
            Some(s) => vec![s],
            None => LogStream::ALL.to_vec(),
        }
    }

    /// Lines of history asked for, checked.
    pub fn history(&self) -> Result<u32, Invalid> {
        let n = self.lines.unwrap_or(DEFAULT_LINES);
        if n > MAX_LINES {
            return Err(Invalid::new(
                "lines",
                format!("must be at most {MAX_LINES}"),
            ));
        }
        Ok(n)
    }
}

/// A followed proc.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LogSource {
    pub host: String,
    pub proc: String,
}

/// What a marker says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Mark {
    /// The host stopped answering: its lines stop until it is back.
    HostLost,
    HostBack,
    /// The proc's process changed (a restart, a crash and respawn).
    Restarted,
    /// The proc left the running state (stopped, exited, fatal) or came back to it.
    State,
    /// More was written than one read returns, or the log was rotated: lines were skipped.
    Skipped,
    /// The log cannot be read (no log file, Supervisor refused).
    Unreadable,
    /// The selection changed: this proc is followed from now on.
    Joined,
    /// The selection changed or the proc is gone: no longer followed.
    Left,
    /// This client read too slowly and missed lines.
    Lagged,
}

impl Mark {
    pub const ALL: [Mark; 9] = [
        Mark::HostLost,
        Mark::HostBack,
        Mark::Restarted,
        Mark::State,
        Mark::Skipped,
        Mark::Unreadable,
        Mark::Joined,
        Mark::Left,
        Mark::Lagged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Mark::HostLost => "host_lost",
            Mark::HostBack => "host_back",
            Mark::Restarted => "restarted",
            Mark::State => "state",
            Mark::Skipped => "skipped",
            Mark::Unreadable => "unreadable",
            Mark::Joined => "joined",
            Mark::Left => "left",
            Mark::Lagged => "lagged",
        }
    }
}

/// One message of a log stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LogEvent {
    /// First: the procs followed.
    Following { procs: Vec<LogSource> },
    /// One line, as received (`at`, ms) from its host.
    Line {
        host: String,
        proc: String,
        stream: LogStream,
        at: i64,
        text: String,
    },
    /// The history was sent; what follows is new.
    CaughtUp,
    /// Something happened to a host or proc; the stream goes on for the others.
    Marker {
        host: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        proc: Option<String>,
        at: i64,
        what: Mark,
        detail: String,
    },
}

impl LogEvent {
    /// Decodes one message; same result as the derived `Deserialize` (tested), in one flat pass
    /// like [`crate::api::LiveMessage::from_json`].
    pub fn from_json(text: &str) -> Result<LogEvent, crate::json::DecodeError> {
        let w: LogWire = crate::json::decode(text)?;
        use crate::json::need;
        Ok(match w.kind.as_str() {
            "following" => LogEvent::Following {
                procs: need(w.procs, "procs")?,
            },
            "line" => LogEvent::Line {
                host: need(w.host, "host")?,
                proc: need(w.proc, "proc")?,
                stream: need(w.stream, "stream")?,
                at: need(w.at, "at")?,
                text: need(w.text, "text")?,
            },
            "caught_up" => LogEvent::CaughtUp,
            "marker" => LogEvent::Marker {
                host: need(w.host, "host")?,
                proc: w.proc,
                at: need(w.at, "at")?,
                what: need(w.what, "what")?,
                detail: need(w.detail, "detail")?,
            },
            _ => {
                return Err(crate::json::DecodeError::Shape(
                    crate::json::JsonError::expected("a known log event").at("kind"),
                ));
            }
        })
    }

    /// The line as `vr logs` prints it: time, host, proc, stream, then the text; a marker
    /// stands out with `---`.
    pub fn render(&self) -> Option<String> {
        match self {
            LogEvent::Line {
                host,
                proc,
                stream,
                at,
                text,
            } => Some(format!(
                "{} {host} {proc} {}| {text}",
                clock(*at),
                match stream {
                    LogStream::Stdout => "out",
                    LogStream::Stderr => "err",
                }
            )),
            LogEvent::Marker {
                host,
                proc,
                at,
                detail,
                ..
            } => Some(format!(
                "{} --- {host}{}{} {detail}",
                clock(*at),
                if proc.is_some() { " " } else { "" },
                proc.as_deref().unwrap_or_default()
            )),
            LogEvent::Following { .. } | LogEvent::CaughtUp => None,
        }
    }
}

struct LogWire {
    kind: String,
    procs: Option<Vec<LogSource>>,
    host: Option<String>,
    proc: Option<String>,
    stream: Option<LogStream>,
    at: Option<i64>,
    text: Option<String>,
    what: Option<Mark>,
    detail: Option<String>,
}

crate::from_json_struct!(LogWire {
    kind,
    procs,
    host,
    proc,
    stream,
    at,
    text,
    what,
    detail
});
crate::from_json_struct!(LogSource { host, proc });
crate::from_json_named!(Mark, Mark::ALL, Mark::as_str);

/// "N procs on M hosts" of a followed set, in words.
pub fn following_summary(procs: &[LogSource]) -> String {
    let mut hosts: Vec<&str> = procs.iter().map(|p| p.host.as_str()).collect();
    hosts.sort_unstable();
    hosts.dedup();
    let s = |n: usize| if n == 1 { "" } else { "s" };
    format!(
        "{} proc{} on {} host{}",
        procs.len(),
        s(procs.len()),
        hosts.len(),
        s(hosts.len())
    )
}

/// `HH:MM:SS.mmm` (UTC) of a time in ms.
fn clock(at: i64) -> String {
    let ms = at.rem_euclid(86_400_000);
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// Whether `text` contains `needle`, ignoring ASCII case (an empty needle matches all): the
/// server's `grep` and the UI's search box.
pub fn matches(text: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    let (t, n) = (text.as_bytes(), needle.as_bytes());
    t.len() >= n.len() && t.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

/// What the log page shows of a stream: the search text, and the streams and hosts hidden.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogView {
    pub search: String,
    pub hidden_streams: Vec<LogStream>,
    pub hidden_hosts: Vec<String>,
}

impl LogView {
    /// Lines pass every part; markers only the host (they say what happened to the stream).
    pub fn shows(&self, event: &LogEvent) -> bool {
        match event {
            LogEvent::Line {
                host, stream, text, ..
            } => {
                !self.hidden_streams.contains(stream)
                    && !self.hidden_hosts.contains(host)
                    && matches(text, &self.search)
            }
            LogEvent::Marker { host, .. } => !self.hidden_hosts.contains(host),
            LogEvent::Following { .. } | LogEvent::CaughtUp => false,
        }
    }
}

/// Cuts a followed log into lines: text arrives in pieces that may end mid-line; the rest waits
/// for the next piece (or [`Lines::flush`]).
#[derive(Debug, Default, Clone)]
pub struct Lines {
    partial: String,
}

impl Lines {
    /// The whole lines `text` completes (without their `\n` or `\r\n`).
    pub fn push(&mut self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for piece in text.split_inclusive('\n') {
            if let Some(line) = piece.strip_suffix('\n') {
                self.partial.push_str(line);
                let mut done = std::mem::take(&mut self.partial);
                if done.ends_with('\r') {
                    done.pop();
                }
                chunk_into(done, &mut out);
            } else {
                self.partial.push_str(piece);
                // A line without an end is not held without bound: whole pieces go now.
                while self.partial.len() >= MAX_LINE {
                    let mut cut = MAX_LINE;
                    while !self.partial.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    let rest = self.partial.split_off(cut);
                    out.push(std::mem::replace(&mut self.partial, rest));
                }
            }
        }
        out
    }

    /// What waits for its line end, given up on (the writer paused mid-line).
    pub fn flush(&mut self) -> Option<String> {
        (!self.partial.is_empty()).then(|| std::mem::take(&mut self.partial))
    }

    pub fn pending(&self) -> bool {
        !self.partial.is_empty()
    }
}

/// Pushes `line` as pieces of at most [`MAX_LINE`] bytes, cut on character boundaries.
fn chunk_into(line: String, out: &mut Vec<String>) {
    if line.len() <= MAX_LINE {
        out.push(line);
        return;
    }
    let mut rest = line.as_str();
    while !rest.is_empty() {
        let mut cut = rest.len().min(MAX_LINE);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push(rest[..cut].to_string());
        rest = &rest[cut..];
    }
}

/// The last `n` whole lines of the end of a log. `cut` says the text may start mid-line (it
/// is the last bytes of a longer file), so its first line is dropped as partial.
pub fn last_lines(text: &str, n: usize, cut: bool) -> Vec<String> {
    let mut body = text;
    if cut {
        body = body.split_once('\n').map_or("", |(_, rest)| rest);
    }
    let mut lines: Vec<String> = Lines::default().push(body);
    // The history ends with the last full line; a partial last line comes when it ends.
    let keep = lines.len().saturating_sub(n);
    lines.drain(..keep);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_wait_for_their_end() {
        let mut l = Lines::default();
        assert_eq!(l.push("a\nb"), ["a"]);
        assert!(l.pending());
        assert_eq!(l.push("c\r\nd\n\n"), ["bc", "d", ""]);
        assert_eq!(l.flush(), None);
        assert_eq!(l.push("tail"), Vec::<String>::new());
        assert_eq!(l.flush().as_deref(), Some("tail"));
    }

    #[test]
    fn a_huge_line_comes_in_pieces_on_char_boundaries() {
        let mut l = Lines::default();
        let long = "é".repeat(MAX_LINE); // 2 bytes each
        let out = l.push(&format!("{long}\n"));
        assert_eq!(out.concat(), long);
        assert!(out.iter().all(|p| p.len() <= MAX_LINE));
        assert_eq!(out.len(), 2);
        // Without an end, a partial line is not held without bound either.
        let out = l.push(&"x".repeat(MAX_LINE + 5));
        assert_eq!(out.len(), 1);
        assert_eq!(l.flush().map(|s| s.len()), Some(5));
    }

    #[test]
    fn history_is_the_last_whole_lines() {
        assert_eq!(last_lines("a\nb\nc\nd\n", 2, false), ["c", "d"]);
        assert_eq!(last_lines("rtial\nb\nc", 5, true), ["b"]);
        assert_eq!(last_lines("only part", 5, true), Vec::<String>::new());
        assert_eq!(last_lines("a\n", 0, false), Vec::<String>::new());
    }

    #[test]
    fn the_page_hides_streams_hosts_and_unmatched_lines_but_keeps_markers() {
        let line = |host: &str, stream, text: &str| LogEvent::Line {
            host: host.into(),
            proc: "p".into(),
            stream,
            at: 0,
            text: text.into(),
        };
        let view = LogView {
            search: "GET".into(),
            hidden_streams: vec![LogStream::Stderr],
            hidden_hosts: vec!["h2".into()],
        };
        assert!(view.shows(&line("h1", LogStream::Stdout, "get /")));
        assert!(!view.shows(&line("h1", LogStream::Stdout, "post /")));
        assert!(!view.shows(&line("h1", LogStream::Stderr, "GET /")));
        assert!(!view.shows(&line("h2", LogStream::Stdout, "GET /")));
        let mark = |host: &str| LogEvent::Marker {
            host: host.into(),
            proc: None,
            at: 0,
            what: Mark::HostLost,
            detail: String::new(),
        };
        assert!(view.shows(&mark("h1")));
        assert!(!view.shows(&mark("h2")));
        assert!(!view.shows(&LogEvent::CaughtUp));
    }

    #[test]
    fn search_ignores_case() {
        assert!(matches("GET /Health 200", "health"));
        assert!(matches("x", ""));
        assert!(!matches("he", "hel"));
    }

    #[test]
    fn query_checks_history_and_picks_streams() {
        let q = LogsQuery {
            lines: Some(MAX_LINES + 1),
            ..Default::default()
        };
        assert_eq!(q.history().map_err(|e| e.field), Err("lines"));
        assert_eq!(LogsQuery::default().history(), Ok(DEFAULT_LINES));
        assert_eq!(LogsQuery::default().streams(), LogStream::ALL);
        let q = LogsQuery {
            stream: Some(LogStream::Stderr),
            ..Default::default()
        };
        assert_eq!(q.streams(), [LogStream::Stderr]);
    }

    #[test]
    fn events_decode_like_serde_and_render_for_the_cli() {
        let events = [
            LogEvent::Following {
                procs: vec![LogSource {
                    host: "web1".into(),
                    proc: "p".into(),
                }],
            },
            LogEvent::Line {
                host: "web1".into(),
                proc: "shop-web-8000".into(),
                stream: LogStream::Stderr,
                at: 3_723_004,
                text: "boom".into(),
            },
            LogEvent::CaughtUp,
            LogEvent::Marker {
                host: "web2".into(),
                proc: None,
                at: 0,
                what: Mark::HostLost,
                detail: "web2 stopped answering".into(),
            },
            LogEvent::Marker {
                host: "web2".into(),
                proc: Some("p".into()),
                at: 0,
                what: Mark::Restarted,
                detail: "restarted".into(),
            },
        ];
        for e in &events {
            let json = serde_json::to_string(e).unwrap_or_default();
            assert_eq!(LogEvent::from_json(&json).as_ref(), Ok(e), "{json}");
            assert_eq!(
                serde_json::from_str::<LogEvent>(&json).ok().as_ref(),
                Some(e)
            );
        }
        assert_eq!(
            events[1].render().as_deref(),
            Some("01:02:03.004 web1 shop-web-8000 err| boom")
        );
        assert_eq!(
            events[3].render().as_deref(),
            Some("00:00:00.000 --- web2 web2 stopped answering")
        );
        assert_eq!(events[0].render(), None);
        let LogEvent::Following { procs } = &events[0] else {
            return;
        };
        assert_eq!(following_summary(procs), "1 proc on 1 host");
        let two = [
            procs[0].clone(),
            LogSource {
                host: "web2".into(),
                proc: "p".into(),
            },
        ];
        assert_eq!(following_summary(&two), "2 procs on 2 hosts");
        for m in Mark::ALL {
            let json = serde_json::to_string(&m).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", m.as_str()));
        }
    }
}
