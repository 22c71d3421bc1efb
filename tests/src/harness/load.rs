//! HTTP load for balancer tests and benchmarks: one answer through a balancer, a wait until
//! every answer is the one wanted, and a steady request loop that records every failure.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// One answer through nginx on `port` (a new connection each time, like a client behind a
/// balancer that does not keep connections).
pub async fn answer(client: &reqwest::Client, port: u16) -> Result<String, String> {
    let r = client
        .get(format!("http://127.0.0.1:{port}/"))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = r.status();
    let text = r.text().await.map_err(|e| e.to_string())?;
    if status.is_success() {
        Ok(text.trim().to_string())
    } else {
        Err(format!("HTTP {status}: {text}"))
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// Waits until every answer through `port` is `want` (nginx reloads in the background).
pub async fn wait_answers(port: u16, want: &str) {
    let c = client();
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let mut all = true;
        for _ in 0..8 {
            all &= answer(&c, port).await.as_deref() == Ok(want);
        }
        if all {
            return;
        }
        assert!(Instant::now() < until, "nginx never answered only {want:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A steady request loop through `port` until stopped (at most 20,000 requests or 120 s):
/// the answers and every failure.
pub struct Load {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<(usize, Vec<String>, Vec<String>)>,
}

impl Load {
    pub fn start(port: u16) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let task = tokio::spawn(async move {
            let c = client();
            let (mut n, mut failures, mut answers) = (0, Vec::new(), Vec::new());
            let until = Instant::now() + Duration::from_secs(120);
            while !flag.load(Ordering::Relaxed) && n < 20_000 && Instant::now() < until {
                n += 1;
                match answer(&c, port).await {
                    Ok(a) => answers.push(a),
                    Err(e) => failures.push(e),
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            (n, failures, answers)
        });
        Load { stop, task }
    }

    pub async fn stop(self) -> (usize, Vec<String>, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.expect("load task")
    }
}
