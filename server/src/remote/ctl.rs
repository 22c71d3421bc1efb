//! Supervisor's control actions, and what each one's XML-RPC answer means in supervisorctl's own
//! words. The same calls `supervisorctl` makes (`reloadConfig` is `reread`, `addProcessGroup` is
//! `add`, …), made on supervisord's socket through the SSH session, so no Python process is
//! spawned on the host for each of them. One judge (`vr_app::supervisor::judge_ctl_output`) then
//! reads the words of either path.

use super::xmlrpc::Value;

/// One control action on one program (`Reread` names none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CtlAction {
    Start,
    Stop,
    Restart,
    Reread,
    Add,
    Remove,
}

/// Supervisor's fault codes that have words of their own (`supervisor/xmlrpc.py`, `Faults`).
mod fault {
    pub const BAD_NAME: i64 = 10;
    pub const ABNORMAL_TERMINATION: i64 = 40;
    pub const SPAWN_ERROR: i64 = 50;
    pub const ALREADY_STARTED: i64 = 60;
    pub const NOT_RUNNING: i64 = 70;
    pub const ALREADY_ADDED: i64 = 90;
    pub const STILL_RUNNING: i64 = 91;
}

/// A call's answer: its value, or its fault's code and string.
pub type Answer = Result<Value, (i64, String)>;

impl CtlAction {
    /// The words given to supervisorctl.
    pub fn args(self, name: &str) -> Vec<&str> {
        match self {
            CtlAction::Start => vec!["start", name],
            CtlAction::Stop => vec!["stop", name],
            CtlAction::Restart => vec!["restart", name],
            CtlAction::Reread => vec!["reread"],
            CtlAction::Add => vec!["add", name],
            CtlAction::Remove => vec!["remove", name],
        }
    }

    /// The XML-RPC calls the action is made of, in order (a restart is a stop then a start, as
    /// supervisorctl does it). Start and stop wait, like supervisorctl, so their verdict is
    /// the program's real state.
    pub fn calls(self, name: &str) -> Vec<(&'static str, Vec<Value>)> {
        let named = |wait: bool| {
            let mut params = vec![Value::Str(name.to_string())];
            if wait {
                params.push(Value::Bool(true));
            }
            params
        };
        match self {
            CtlAction::Start => vec![("supervisor.startProcess", named(true))],
            CtlAction::Stop => vec![("supervisor.stopProcess", named(true))],
            CtlAction::Restart => vec![
                ("supervisor.stopProcess", named(true)),
                ("supervisor.startProcess", named(true)),
            ],
            CtlAction::Reread => vec![("supervisor.reloadConfig", Vec::new())],
            CtlAction::Add => vec![("supervisor.addProcessGroup", named(false))],
            CtlAction::Remove => vec![("supervisor.removeProcessGroup", named(false))],
        }
    }

    /// What supervisorctl would have printed for these answers (one per call of `calls`).
    pub fn words(self, name: &str, answers: &[Answer]) -> String {
        let mut lines = Vec::new();
        for (i, answer) in answers.iter().enumerate() {
            let starting =
                matches!(self, CtlAction::Start) || (self == CtlAction::Restart && i == 1);
            lines.push(match self {
                CtlAction::Reread => reread_words(answer),
                CtlAction::Add => match answer {
                    Ok(_) => format!("{name}: added process group"),
                    Err((fault::ALREADY_ADDED, _)) => "ERROR: process group already active".into(),
                    Err((fault::BAD_NAME, _)) => format!("ERROR: no such process/group: {name}"),
                    Err((_, s)) => format!("ERROR: {s}"),
                },
                CtlAction::Remove => match answer {
                    Ok(_) => format!("{name}: removed process group"),
                    Err((fault::STILL_RUNNING, _)) => {
                        format!("ERROR: process/group still running: {name}")
                    }
                    Err((fault::BAD_NAME, _)) => format!("ERROR: no such process/group: {name}"),
                    Err((_, s)) => format!("ERROR: {s}"),
                },
                _ => {
                    let why = match answer {
                        Ok(_) if starting => "started".into(),
                        Ok(_) => "stopped".into(),
                        Err((fault::ALREADY_STARTED, _)) => "ERROR (already started)".into(),
                        Err((fault::NOT_RUNNING, _)) => "ERROR (not running)".into(),
                        Err((fault::BAD_NAME, _)) => "ERROR (no such process)".into(),
                        Err((fault::SPAWN_ERROR, _)) => "ERROR (spawn error)".into(),
                        Err((fault::ABNORMAL_TERMINATION, _)) => {
                            "ERROR (abnormal termination)".into()
                        }
                        Err((_, s)) => format!("ERROR ({s})"),
                    };
                    format!("{name}: {why}")
                }
            });
        }
        lines.join("\n")
    }
}

/// `reloadConfig` answers `[[added, changed, removed]]`.
fn reread_words(answer: &Answer) -> String {
    let lists = match answer {
        Ok(Value::Array(outer)) => match outer.first() {
            Some(Value::Array(lists)) => lists.clone(),
            _ => Vec::new(),
        },
        Ok(_) => Vec::new(),
        Err((_, s)) => return format!("ERROR: {s}"),
    };
    let mut lines = Vec::new();
    for (list, word) in lists.iter().zip(["available", "changed", "disappeared"]) {
        if let Value::Array(names) = list {
            for n in names.iter().filter_map(Value::as_str) {
                lines.push(format!("{n}: {word}"));
            }
        }
    }
    if lines.is_empty() {
        "No config updates to processes".into()
    } else {
        lines.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vr_app::supervisor::judge_ctl_output;

    fn fault(code: i64) -> Answer {
        Err((code, format!("CODE_{code}: web")))
    }

    /// Each answer, in words, gets the verdict supervisorctl's own output gets.
    #[test]
    fn answers_read_as_supervisorctl_output() {
        let ok: Answer = Ok(Value::Bool(true));
        /// An action, its answers, what is tolerated, the words, the verdict.
        type Case<'a> = (CtlAction, Vec<Answer>, &'a [&'a str], &'a str, bool);
        let cases: Vec<Case<'_>> = vec![
            (
                CtlAction::Start,
                vec![ok.clone()],
                &[],
                "web: started",
                true,
            ),
            (
                CtlAction::Start,
                vec![fault(60)],
                &["ERROR (already started)"],
                "web: ERROR (already started)",
                true,
            ),
            (
                CtlAction::Start,
                vec![fault(50)],
                &["ERROR (already started)"],
                "web: ERROR (spawn error)",
                false,
            ),
            (CtlAction::Stop, vec![ok.clone()], &[], "web: stopped", true),
            (
                CtlAction::Stop,
                vec![fault(10)],
                &["ERROR (not running)"],
                "web: ERROR (no such process)",
                false,
            ),
            (
                CtlAction::Restart,
                vec![fault(70), ok.clone()],
                &["ERROR (not running)"],
                "web: ERROR (not running)\nweb: started",
                true,
            ),
            (
                CtlAction::Add,
                vec![ok.clone()],
                &[],
                "web: added process group",
                true,
            ),
            (
                CtlAction::Add,
                vec![fault(90)],
                &["ERROR: process group already active"],
                "ERROR: process group already active",
                true,
            ),
            (
                CtlAction::Remove,
                vec![fault(10)],
                &["no such process/group"],
                "ERROR: no such process/group: web",
                true,
            ),
            (
                CtlAction::Remove,
                vec![fault(91)],
                &["no such process/group"],
                "ERROR: process/group still running: web",
                false,
            ),
            (
                CtlAction::Start,
                vec![fault(99)],
                &[],
                "web: ERROR (CODE_99: web)",
                false,
            ),
        ];
        for (action, answers, tolerated, words, ok) in cases {
            let said = action.words("web", &answers);
            assert_eq!(said, words, "{action:?}");
            assert_eq!(
                judge_ctl_output(&said, tolerated).ok,
                ok,
                "{action:?}: {said}"
            );
        }
    }

    #[test]
    fn reread_names_what_changed() {
        let names =
            |ns: &[&str]| Value::Array(ns.iter().map(|n| Value::Str(n.to_string())).collect());
        let answer: Answer = Ok(Value::Array(vec![Value::Array(vec![
            names(&["a", "b"]),
            names(&["c"]),
            names(&[]),
        ])]));
        let said = CtlAction::Reread.words("", &[answer]);
        assert_eq!(said, "a: available\nb: available\nc: changed");
        assert!(judge_ctl_output(&said, &[]).ok);
        let none: Answer = Ok(Value::Array(vec![Value::Array(vec![
            names(&[]),
            names(&[]),
            names(&[]),
        ])]));
        assert_eq!(
            CtlAction::Reread.words("", &[none]),
            "No config updates to processes"
        );
    }

    #[test]
    fn a_restart_stops_then_starts_and_waits_for_both() {
        let calls = CtlAction::Restart.calls("web");
        let methods: Vec<&str> = calls.iter().map(|(m, _)| *m).collect();
        assert_eq!(
            methods,
            ["supervisor.stopProcess", "supervisor.startProcess"]
        );
        assert!(
            calls
                .iter()
                .all(|(_, p)| p == &vec![Value::Str("web".into()), Value::Bool(true)])
        );
    }
}
