//! Supervisor's vocabulary, and parsing of `supervisorctl status` output. Pure: the remote layer
//! runs the command, this turns its text into typed rows the poller, the API and the UI share.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A program's state as Supervisor reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum ProcState {
    Stopped,
    Starting,
    Running,
    Backoff,
    Stopping,
    Exited,
    Fatal,
    Unknown,
    /// Not a Supervisor state: `vr` expects the program on its host and Supervisor no longer
    /// knows it (crashed host, removed by hand).
    Missing,
}

impl ProcState {
    /// Every state a proc may be in, MISSING (known to vr, not to Supervisor) last.
    pub const EVERY: [ProcState; 9] = [
        ProcState::Stopped,
        ProcState::Starting,
        ProcState::Running,
        ProcState::Backoff,
        ProcState::Stopping,
        ProcState::Exited,
        ProcState::Fatal,
        ProcState::Unknown,
        ProcState::Missing,
    ];

    /// The states Supervisor itself reports.
    pub const ALL: [ProcState; 8] = [
        ProcState::Stopped,
        ProcState::Starting,
        ProcState::Running,
        ProcState::Backoff,
        ProcState::Stopping,
        ProcState::Exited,
        ProcState::Fatal,
        ProcState::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProcState::Stopped => "STOPPED",
            ProcState::Starting => "STARTING",
            ProcState::Running => "RUNNING",
            ProcState::Backoff => "BACKOFF",
            ProcState::Stopping => "STOPPING",
            ProcState::Exited => "EXITED",
            ProcState::Fatal => "FATAL",
            ProcState::Unknown => "UNKNOWN",
            ProcState::Missing => "MISSING",
        }
    }

    /// Order for summaries: trouble first, then healthy, then stopped.
    pub fn rank(self) -> u8 {
        match self {
            ProcState::Missing => 0,
            ProcState::Fatal => 1,
            ProcState::Backoff => 2,
            ProcState::Unknown => 3,
            ProcState::Exited => 4,
            ProcState::Starting => 5,
            ProcState::Stopping => 6,
            ProcState::Running => 7,
            ProcState::Stopped => 8,
        }
    }

    /// Any state a filter may name, MISSING included.
    pub fn parse_any(word: &str) -> Option<ProcState> {
        let upper = word.to_ascii_uppercase();
        ProcState::EVERY.into_iter().find(|s| s.as_str() == upper)
    }

    /// Supervisor's numeric state code, as XML-RPC reports it.
    pub fn from_code(code: i64) -> ProcState {
        match code {
            0 => ProcState::Stopped,
            10 => ProcState::Starting,
            20 => ProcState::Running,
            30 => ProcState::Backoff,
            40 => ProcState::Stopping,
            100 => ProcState::Exited,
            200 => ProcState::Fatal,
            _ => ProcState::Unknown,
        }
    }

    /// `None` for a word that is not a state (so a line that merely looks like a row is rejected).
    pub fn parse(word: &str) -> Option<ProcState> {
        ProcState::ALL.into_iter().find(|s| s.as_str() == word)
    }
}

impl fmt::Display for ProcState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of `supervisorctl status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StatusRow {
    /// As Supervisor names it: `group:program` for grouped programs, else the program name.
    pub name: String,
    pub state: ProcState,
    /// Supervisor's description, e.g. `pid 12, uptime 0:01:02` or `Exited too quickly …`.
    pub description: String,
    pub pid: Option<u32>,
    pub uptime_secs: Option<u64>,
}

/// What `supervisorctl status` printed, split into rows and the lines that were not rows
/// (errors such as `nosuch: ERROR (no such process)` or an unreachable socket).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusOutput {
    pub rows: Vec<StatusRow>,
    pub other: Vec<String>,
}

/// Parses the whole output. Columns are padded to the longest name, so rows are split on
/// whitespace: name, state, then the description as printed.
pub fn parse_status(output: &str) -> StatusOutput {
    let mut out = StatusOutput::default();
    for line in output.lines().filter(|l| !l.trim().is_empty()) {
        match parse_row(line) {
            Some(row) => out.rows.push(row),
            None => out.other.push(line.trim().to_string()),
        }
    }
    out
}

fn parse_row(line: &str) -> Option<StatusRow> {
    let mut words = line.split_whitespace();
    let name = words.next()?;
    let state = ProcState::parse(words.next()?)?;
    // The description keeps its own spacing: everything after the state word.
    let after_name = line.trim_start().get(name.len()..)?.trim_start();
    let description = after_name.get(state.as_str().len()..)?.trim().to_string();
    let (pid, uptime_secs) = parse_running(&description);
    Some(StatusRow {
        name: name.to_string(),
        state,
        description,
        pid,
        uptime_secs,
    })
}

/// The part of Supervisor's description that stays true after it was read: a running
/// program's `pid 12, uptime 0:01:02` becomes `pid 12` (the uptime is kept, and shown, as a
/// start time instead of freezing at the poll that read it); other descriptions are kept.
pub fn lasting_description(desc: &str) -> &str {
    match desc.split_once(", uptime ") {
        Some((pid, _)) if desc.starts_with("pid ") => pid,
        _ => desc,
    }
}

/// `pid 25914, uptime 0:00:04` / `pid 7, uptime 3 days, 2:03:04` → (pid, seconds).
fn parse_running(desc: &str) -> (Option<u32>, Option<u64>) {
    let Some(rest) = desc.strip_prefix("pid ") else {
        return (None, None);
    };
    let (pid, rest) = rest.split_once(',').unwrap_or((rest, ""));
    let pid = pid.trim().parse().ok();
    let uptime = rest
        .trim()
        .strip_prefix("uptime ")
        .and_then(parse_timedelta);
    (pid, uptime)
}

/// Python's `str(timedelta)`: `H:MM:SS`, optionally preceded by `N day, ` or `N days, `.
fn parse_timedelta(s: &str) -> Option<u64> {
    let (days, clock) = match s.split_once(", ") {
        Some((d, clock)) => {
            let n = d.split_whitespace().next()?.parse::<u64>().ok()?;
            (n, clock)
        }
        None => (0, s),
    };
    let mut parts = clock.split(':').map(|p| p.trim().parse::<u64>().ok());
    let (h, m, sec) = (parts.next()??, parts.next()??, parts.next()??);
    // Checked: a host may print any number here.
    days.checked_mul(86_400)?
        .checked_add(h.checked_mul(3600)?)?
        .checked_add(m.checked_mul(60)?)?
        .checked_add(sec)
}

/// How a `supervisorctl` action (start, stop, restart, reread, add, remove) went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtlVerdict {
    pub ok: bool,
    /// The output, trimmed, one line per line: what the operator sees.
    pub message: String,
}

/// Lines supervisorctl prints when an action did what was asked.
const SUCCESS_SUFFIXES: [&str; 7] = [
    ": started",
    ": stopped",
    ": added process group",
    ": removed process group",
    ": available",
    ": changed",
    ": disappeared",
];

/// Judges an action's output. Its exit status alone cannot be trusted (4.2 exits 0 on
/// `ERROR (already started)` and on `ERROR: process group already active`), so every line must
/// be a known success, or an error the caller accepts as success (`tolerated`, e.g. `not
/// running` when stopping). Anything else — an unknown program, a spawn error, an unreachable
/// socket — is a failure carrying the exact text.
pub fn judge_ctl_output(output: &str, tolerated: &[&str]) -> CtlVerdict {
    let lines: Vec<&str> = output
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let ok = lines.iter().all(|l| {
        SUCCESS_SUFFIXES.iter().any(|s| l.ends_with(s))
            || *l == "No config updates to processes"
            || tolerated.iter().any(|t| l.contains(t))
    });
    CtlVerdict {
        ok,
        message: lines.join("\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_description_loses_its_frozen_uptime() {
        assert_eq!(lasting_description("pid 12, uptime 0:01:02"), "pid 12");
        assert_eq!(
            lasting_description("pid 7, uptime 3 days, 2:03:04"),
            "pid 7"
        );
        assert_eq!(
            lasting_description("Exited too quickly (process log may have details)"),
            "Exited too quickly (process log may have details)"
        );
        assert_eq!(lasting_description("Nov 25 12:06 AM"), "Nov 25 12:06 AM");
        assert_eq!(lasting_description(""), "");
    }

    /// Captured from supervisor 4.2.5 (`supervisorctl status`, exit 0), names padded to the longest.
    const CAPTURED: &str = "\
a_very_long_program_name_that_exceeds_the_column_width_for_sure   RUNNING   pid 25914, uptime 0:00:04
crashy                                                            FATAL     Exited too quickly (process log may have details)
grp:member                                                        RUNNING   pid 25916, uptime 0:00:04
quick                                                             EXITED    Nov 25 12:06 AM
web_v1_2-prod-abc123-web-5001                                     RUNNING   pid 25918, uptime 0:00:04
worker                                                            STOPPED   Not started
";

    #[test]
    fn parses_captured_output() {
        let out = parse_status(CAPTURED);
        assert!(out.other.is_empty(), "{:?}", out.other);
        let summary: Vec<(&str, ProcState, Option<u32>, Option<u64>)> = out
            .rows
            .iter()
            .map(|r| (r.name.as_str(), r.state, r.pid, r.uptime_secs))
            .collect();
        assert_eq!(
            summary,
            vec![
                (
                    "a_very_long_program_name_that_exceeds_the_column_width_for_sure",
                    ProcState::Running,
                    Some(25914),
                    Some(4)
                ),
                ("crashy", ProcState::Fatal, None, None),
                ("grp:member", ProcState::Running, Some(25916), Some(4)),
                ("quick", ProcState::Exited, None, None),
                (
                    "web_v1_2-prod-abc123-web-5001",
                    ProcState::Running,
                    Some(25918),
                    Some(4)
                ),
                ("worker", ProcState::Stopped, None, None),
            ]
        );
        assert_eq!(
            out.rows[1].description,
            "Exited too quickly (process log may have details)"
        );
        assert_eq!(out.rows[3].description, "Nov 25 12:06 AM");
    }

    #[test]
    fn errors_and_odd_lines_are_not_rows() {
        let out = parse_status(
            "nosuch: ERROR (no such process)\n\
             unix:///run/supervisor.sock no such file\n\
             web RUNNINGISH pid 1\n\
             starting_one   STARTING  \n",
        );
        assert_eq!(out.rows.len(), 1);
        assert_eq!(out.rows[0].state, ProcState::Starting);
        assert_eq!(out.rows[0].description, "");
        assert_eq!(out.other.len(), 3);
    }

    #[test]
    fn uptimes_with_days() {
        for (text, secs) in [
            ("0:00:04", 4),
            ("12:34:56", 45_296),
            ("1 day, 2:03:04", 93_784),
            ("3 days, 0:00:00", 259_200),
        ] {
            assert_eq!(parse_timedelta(text), Some(secs), "{text}");
        }
        assert_eq!(parse_timedelta("soon"), None);
    }

    #[test]
    fn every_state_round_trips() {
        for s in ProcState::ALL {
            assert_eq!(ProcState::parse(s.as_str()), Some(s));
            let json = serde_json::to_string(&s).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
        assert_eq!(ProcState::parse("running"), None);
    }

    /// Outputs captured from supervisorctl 4.2.5 against a live supervisord (with exit codes
    /// in comments, to show why they are not used).
    #[test]
    fn judges_captured_action_outputs() {
        let cases: &[(&str, &[&str], bool)] = &[
            ("idle: started\n", &[], true),
            ("idle: stopped\n", &[], true),
            ("web_1: stopped\nweb_1: started\n", &[], true),
            // exit 0, yet an error
            ("web_1: ERROR (already started)\n", &[], false),
            (
                "web_1: ERROR (already started)\n",
                &["ERROR (already started)"],
                true,
            ),
            (
                "idle: ERROR (not running)\n",
                &["ERROR (not running)"],
                true,
            ),
            (
                "idle: ERROR (not running)\nidle: started\n",
                &["ERROR (not running)"],
                true,
            ),
            (
                "nosuch: ERROR (no such process)\n",
                &["ERROR (not running)"],
                false,
            ),
            ("dies: ERROR (spawn error)\n", &[], false),
            ("No config updates to processes\n", &[], true),
            ("idle: available\nnew_one: available\n", &[], true),
            ("new_one: added process group\n", &[], true),
            // exit 0, yet an error
            ("ERROR: process group already active\n", &[], false),
            ("ERROR: no such process/group: nosuch\n", &[], false),
            ("ERROR: process/group still running: web_1\n", &[], false),
            ("idle: removed process group\n", &[], true),
            (
                "unix:///tmp/sv/nosock no such file\n",
                &["ERROR (not running)"],
                false,
            ),
            ("", &[], true),
        ];
        for (output, tolerated, ok) in cases {
            let v = judge_ctl_output(output, tolerated);
            assert_eq!(v.ok, *ok, "{output:?} tolerating {tolerated:?}");
            assert_eq!(v.message, output.trim());
        }
    }

    proptest::proptest! {
        /// Whatever a host prints, the parser answers and keeps every non-empty line, as a row
        /// or as an error line; it never panics.
        #[test]
        fn any_output_parses(text in "(?s).{0,3000}") {
            let parsed = parse_status(&text);
            let lines = text.lines().filter(|l| !l.trim().is_empty()).count();
            proptest::prop_assert_eq!(parsed.rows.len() + parsed.other.len(), lines);
        }

        /// Rows with any numbers in them (huge pids and uptimes included) parse without
        /// overflowing.
        #[test]
        fn any_numbers_in_rows_parse(pid in proptest::num::u64::ANY, days in proptest::num::u64::ANY,
                                     h in proptest::num::u64::ANY, m in 0u64..1000, sec in 0u64..1000) {
            let line = format!("web RUNNING pid {pid}, uptime {days} days, {h}:{m}:{sec}\n");
            let parsed = parse_status(&line);
            proptest::prop_assert_eq!(parsed.rows.len(), 1);
        }

        #[test]
        fn any_action_output_is_judged(text in "(?s).{0,2000}") {
            let _ = judge_ctl_output(&text, &["ERROR (not running)"]);
        }
    }
}
