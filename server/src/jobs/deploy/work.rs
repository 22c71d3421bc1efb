//! A deploy's work: its steps in order on the host, each recorded as it ends; the first that
//! fails ends it. Apart from the job shell (`Deploys::run`, which records the end) and from the
//! host ([`DeployHost`]), so a scripted host tests the sequence here, in milliseconds.

use std::sync::Arc;
use std::time::Instant;

use super::Plan;
use super::host::{DeployFailure, DeployHost, StepError};
use crate::remote::deploy::UptestRun;
use vr_app::deploy::{DeployStep, DeployStepKind, UptestResult};

/// Where the work's progress goes: the job stores it and pushes it live.
pub(super) trait StepSink {
    /// The steps so far, after each one ends.
    async fn steps(&mut self, steps: &[DeployStep]);
    /// The results of the proc's uptest run.
    async fn uptests(&mut self, results: Vec<UptestResult>);
}

/// What a host step gave back.
enum Ran {
    Done(String),
    Uptests(Vec<UptestRun>),
}

/// Runs the deploy's steps (`DeployStepKind::plan`) on `host`; returns every step as it went
/// and, if one failed, which and why.
pub(super) async fn work(
    plan: &Arc<Plan>,
    program: &str,
    host: Arc<dyn DeployHost>,
    sink: &mut impl StepSink,
) -> (Vec<DeployStep>, Result<(), DeployFailure>) {
    let mut steps: Vec<DeployStep> = Vec::new();
    let secrets = plan.secret_values();
    for &step in DeployStepKind::plan(plan.meta.port) {
        let started = Instant::now();
        let (h, p, prog) = (Arc::clone(&host), Arc::clone(plan), program.to_string());
        let ran = tokio::task::spawn_blocking(move || match step {
            DeployStepKind::Uptests => h.uptests(&p, &prog).map(Ran::Uptests),
            _ => h.step(step, &p, &prog).map(Ran::Done),
        })
        .await
        .unwrap_or_else(|e| Err(StepError::Local(format!("the step's task failed: {e}"))));
        let result = match ran {
            Ok(Ran::Done(message)) => Ok(message),
            Ok(Ran::Uptests(runs)) => {
                let (results, verdict) =
                    judge_uptests(plan, program, &runs, crate::clock::now_ms());
                sink.uptests(results).await;
                verdict
            }
            Err(e) => Err(e),
        };
        let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let (ok, message) = match &result {
            Ok(m) => (true, m.clone()),
            Err(e) => (false, e.to_string()),
        };
        // Log tails may print the proc's env: its secrets never reach the record.
        steps.push(DeployStep {
            name: step,
            ok,
            message: vr_app::secret::redact(&message, &secrets),
            ms,
        });
        sink.steps(&steps).await;
        if let Err(source) = result {
            return (steps, Err(DeployFailure { step, source }));
        }
    }
    (steps, Ok(()))
}

/// The results of an uptest run as stored (outputs redacted), and the step's verdict: failed
/// when any uptest failed (the proc is left running for the operator to look at).
pub(super) fn judge_uptests(
    plan: &Plan,
    program: &str,
    runs: &[UptestRun],
    now: i64,
) -> (Vec<UptestResult>, Result<String, StepError>) {
    let secrets = plan.secret_values();
    let results: Vec<UptestResult> = runs
        .iter()
        .map(|r| UptestResult {
            host: plan.host.settings.name.clone(),
            program: program.to_string(),
            name: r.name.clone(),
            passed: r.exit_code == 0,
            output: vr_app::secret::redact(&r.output, &secrets),
            ms: r.ms,
            at: now,
        })
        .collect();
    if results.is_empty() {
        let t = &plan.meta.proc_type;
        return (
            results,
            Ok(format!(
                "no uptests for {t} (uptests/{t}/ is empty or absent)"
            )),
        );
    }
    let failed = results.iter().filter(|r| !r.passed).count();
    let mut message = if failed == 0 {
        format!("{} uptest(s) passed", results.len())
    } else {
        format!("{failed} of {} uptest(s) failed", results.len())
    };
    for r in &results {
        message.push_str(&format!(
            "\n{} {} ({} ms){}",
            if r.passed { "passed" } else { "FAILED" },
            r.name,
            r.ms,
            if r.passed {
                String::new()
            } else {
                format!(": {}", r.output.trim())
            }
        ));
    }
    let verdict = if failed == 0 {
        Ok(message)
    } else {
        Err(StepError::Failed(message))
    };
    (results, verdict)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::RemoteError;
    use std::sync::Mutex;
    use std::time::Duration;
    use vr_app::fixtures;

    /// A host that answers from a script and remembers what it was asked.
    #[derive(Default)]
    struct ScriptedHost {
        /// The step at which the host stops answering.
        lost_at: Option<DeployStepKind>,
        /// Exit codes of the uptests it runs.
        uptest_codes: Vec<i32>,
        asked: Mutex<Vec<DeployStepKind>>,
    }

    impl ScriptedHost {
        fn asked(&self) -> Vec<DeployStepKind> {
            self.asked.lock().map(|a| a.clone()).unwrap_or_default()
        }

        fn answer(&self, step: DeployStepKind) -> Result<(), StepError> {
            if let Ok(mut a) = self.asked.lock() {
                a.push(step);
            }
            if self.lost_at == Some(step) {
                return Err(StepError::from(RemoteError::Timeout {
                    target: "web1".into(),
                    step: "exec",
                    deadline: Duration::from_secs(5),
                }));
            }
            Ok(())
        }
    }

    impl DeployHost for ScriptedHost {
        fn step(&self, step: DeployStepKind, _: &Plan, _: &str) -> Result<String, StepError> {
            self.answer(step)?;
            Ok(format!("did {}", step.label()))
        }

        fn uptests(&self, _: &Plan, _: &str) -> Result<Vec<UptestRun>, StepError> {
            self.answer(DeployStepKind::Uptests)?;
            Ok(self
                .uptest_codes
                .iter()
                .enumerate()
                .map(|(i, code)| UptestRun {
                    name: format!("0{i}_check"),
                    exit_code: *code,
                    output: "token is s3cret-value".into(),
                    ms: 3,
                })
                .collect())
        }
    }

    #[derive(Default)]
    struct Recorded {
        steps: Vec<Vec<DeployStep>>,
        uptests: Vec<UptestResult>,
    }

    impl StepSink for Recorded {
        async fn steps(&mut self, steps: &[DeployStep]) {
            self.steps.push(steps.to_vec());
        }

        async fn uptests(&mut self, results: Vec<UptestResult>) {
            self.uptests = results;
        }
    }

    fn plan(port: u16) -> Arc<Plan> {
        let mut release = vr_app::release::Release {
            id: 1,
            app: "shop".into(),
            build_id: 1,
            version: "1.0".into(),
            commit: None,
            hash: "abc123".into(),
            config: Default::default(),
            ingredients: Vec::new(),
            created_by: "test".into(),
            created_at: 0,
        };
        release
            .config
            .env
            .insert("TOKEN".into(), "s3cret-value".into());
        release.config.secret_keys.insert("TOKEN".into());
        Arc::new(Plan {
            host: fixtures::host("web1", None),
            command: "run".into(),
            sha256: "sha".into(),
            artifact: "/nonexistent/sha.tar.gz".into(),
            stack_artifact: None,
            meta: fixtures::meta("shop", "prod", "web", port),
            settings_yaml: String::new(),
            release,
        })
    }

    async fn run(
        host: ScriptedHost,
        port: u16,
    ) -> (
        Arc<ScriptedHost>,
        Recorded,
        Vec<DeployStep>,
        Result<(), DeployFailure>,
    ) {
        let host = Arc::new(host);
        let mut sink = Recorded::default();
        let as_dyn: Arc<dyn DeployHost> = host.clone();
        let (steps, outcome) = work(&plan(port), "shop-web-5000", as_dyn, &mut sink).await;
        (host, sink, steps, outcome)
    }

    #[tokio::test]
    async fn every_step_runs_in_order_and_is_recorded_as_it_ends() {
        let (host, sink, steps, outcome) = run(
            ScriptedHost {
                uptest_codes: vec![0],
                ..Default::default()
            },
            5000,
        )
        .await;
        assert!(outcome.is_ok(), "{outcome:?}");
        assert_eq!(host.asked(), DeployStepKind::plan(5000));
        assert_eq!(sink.steps.len(), 6);
        assert_eq!(sink.steps.last(), Some(&steps));
        assert!(steps.iter().all(|s| s.ok));
        assert_eq!(
            steps[5].message,
            "1 uptest(s) passed\npassed 00_check (3 ms)"
        );
    }

    #[tokio::test]
    async fn a_worker_has_no_port_to_check() {
        let (host, _, _, outcome) = run(ScriptedHost::default(), 0).await;
        assert!(outcome.is_ok(), "{outcome:?}");
        assert_eq!(host.asked().first(), Some(&DeployStepKind::CopyBuild));
        assert!(!host.asked().contains(&DeployStepKind::CheckPort));
    }

    #[tokio::test]
    async fn a_lost_host_ends_the_work_there_and_says_so() {
        let (host, sink, steps, outcome) = run(
            ScriptedHost {
                lost_at: Some(DeployStepKind::CopyBuild),
                ..Default::default()
            },
            5000,
        )
        .await;
        let failure = outcome.expect_err("lost");
        assert_eq!(failure.step, DeployStepKind::CopyBuild);
        assert!(failure.source.host_lost());
        assert!(
            failure.to_string().starts_with("copy build: host lost: "),
            "{failure}"
        );
        // Nothing after the lost step was tried.
        assert_eq!(
            host.asked(),
            [DeployStepKind::CheckPort, DeployStepKind::CopyBuild]
        );
        assert_eq!(steps.len(), 2);
        assert!(!steps[1].ok);
        assert_eq!(sink.steps.len(), 2);
    }

    #[tokio::test]
    async fn a_failed_uptest_fails_the_step_with_its_output_redacted() {
        let (_, sink, steps, outcome) = run(
            ScriptedHost {
                uptest_codes: vec![0, 1],
                ..Default::default()
            },
            5000,
        )
        .await;
        let failure = outcome.expect_err("uptest failed");
        assert_eq!(failure.step, DeployStepKind::Uptests);
        assert!(!failure.source.host_lost());
        assert_eq!(failure.to_string(), "uptests: 1 of 2 uptest(s) failed");
        let last = steps.last().expect("a step");
        assert!(
            last.message.contains("FAILED 01_check (3 ms): token is "),
            "{}",
            last.message
        );
        assert!(!last.message.contains("s3cret-value"), "{}", last.message);
        assert_eq!(sink.uptests.len(), 2);
        assert!(
            sink.uptests
                .iter()
                .all(|r| !r.output.contains("s3cret-value"))
        );
        assert_eq!(
            sink.uptests.iter().map(|r| r.passed).collect::<Vec<_>>(),
            [true, false]
        );
    }
}
