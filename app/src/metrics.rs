//! Prometheus' text exposition format (version 0.0.4): metric families with their help and
//! type, samples with escaped labels, and histograms with cumulative buckets. Pure: the server
//! gathers the values and serves the text at `GET /metrics`.

use std::fmt::Write;

/// Bounds (seconds) of HTTP request latencies.
pub const LATENCY_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Bounds (seconds) of host polls.
pub const POLL_BUCKETS: [f64; 9] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
/// Bounds (seconds) of builds, deploys and dispatches.
pub const JOB_BUCKETS: [f64; 10] = [0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 1800.0];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// Observations counted into fixed buckets.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    bounds: &'static [f64],
    /// Per bucket, not cumulative; rendering adds them up.
    counts: Vec<u64>,
    pub sum: f64,
    pub count: u64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: vec![0; bounds.len()],
            sum: 0.0,
            count: 0,
        }
    }

    pub fn observe(&mut self, v: f64) {
        if let Some(i) = self.bounds.iter().position(|b| v <= *b) {
            self.counts[i] += 1;
        }
        self.sum += v;
        self.count += 1;
    }

    /// A histogram from counts already cumulative per bound (as SQL sums them).
    pub fn from_cumulative(
        bounds: &'static [f64],
        cumulative: &[u64],
        sum: f64,
        count: u64,
    ) -> Histogram {
        let mut counts = vec![0; bounds.len()];
        let mut before = 0;
        for (i, c) in cumulative.iter().take(bounds.len()).enumerate() {
            counts[i] = c.saturating_sub(before);
            before = *c;
        }
        Histogram {
            bounds,
            counts,
            sum,
            count,
        }
    }
}

/// `v` as Prometheus writes numbers.
fn number(v: f64) -> String {
    if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else if v.is_nan() {
        "NaN".to_string()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// A label value with `\`, `"` and newlines escaped.
pub fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

fn labels(pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    format!("{{{}}}", inner.join(","))
}

/// The text of one scrape, built family by family.
#[derive(Debug, Default)]
pub struct Text {
    out: String,
}

impl Text {
    pub fn new() -> Text {
        Text::default()
    }

    /// Starts a family: its `# HELP` and `# TYPE` lines.
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) -> &mut Text {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {}", kind.as_str());
        self
    }

    pub fn sample(&mut self, name: &str, pairs: &[(&str, &str)], value: f64) -> &mut Text {
        let _ = writeln!(self.out, "{name}{} {}", labels(pairs), number(value));
        self
    }

    /// The `_bucket`, `_sum` and `_count` samples of `h`.
    pub fn histogram(&mut self, name: &str, pairs: &[(&str, &str)], h: &Histogram) -> &mut Text {
        let mut cumulative = 0;
        for (bound, n) in h.bounds.iter().zip(&h.counts) {
            cumulative += n;
            let le = number(*bound);
            let mut with = pairs.to_vec();
            with.push(("le", &le));
            self.sample(&format!("{name}_bucket"), &with, cumulative as f64);
        }
        let mut with = pairs.to_vec();
        with.push(("le", "+Inf"));
        self.sample(&format!("{name}_bucket"), &with, h.count as f64);
        self.sample(&format!("{name}_sum"), pairs, h.sum);
        self.sample(&format!("{name}_count"), pairs, h.count as f64)
    }

    pub fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_samples_and_escaped_labels() {
        let mut t = Text::new();
        t.family("vr_hosts", Kind::Gauge, "Hosts by health.")
            .sample("vr_hosts", &[("health", "ok")], 3.0)
            .sample("vr_x", &[("a", "say \"hi\"\\\nbye")], 0.25);
        let text = t.finish();
        assert_eq!(
            text,
            "# HELP vr_hosts Hosts by health.\n# TYPE vr_hosts gauge\nvr_hosts{health=\"ok\"} 3\n\
             vr_x{a=\"say \\\"hi\\\"\\\\\\nbye\"} 0.25\n"
        );
    }

    #[test]
    fn histograms_are_cumulative_with_an_infinite_bucket() {
        let mut h = Histogram::new(&[0.1, 1.0]);
        for v in [0.05, 0.5, 0.7, 3.0] {
            h.observe(v);
        }
        let mut t = Text::new();
        t.histogram("d", &[("r", "x")], &h);
        let text = t.finish();
        assert!(text.contains("d_bucket{r=\"x\",le=\"0.1\"} 1\n"), "{text}");
        assert!(text.contains("d_bucket{r=\"x\",le=\"1\"} 3\n"), "{text}");
        assert!(text.contains("d_bucket{r=\"x\",le=\"+Inf\"} 4\n"), "{text}");
        assert!(text.contains("d_sum{r=\"x\"} 4.25\n"), "{text}");
        assert!(text.contains("d_count{r=\"x\"} 4\n"), "{text}");
        let same = Histogram::from_cumulative(&[0.1, 1.0], &[1, 3], 4.25, 4);
        assert_eq!(same, h);
    }
}
