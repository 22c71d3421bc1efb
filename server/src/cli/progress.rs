//! A progress bar for long CLI work, drawn only when stdout is a terminal: piped output stays
//! plain lines that scripts can read. Lines printed through it clear the bar first and redraw it
//! after, so the two never mix.

use std::io::{IsTerminal, Write};

pub struct Progress {
    on: bool,
    total: usize,
    done: usize,
    what: String,
}

const WIDTH: usize = 24;

impl Progress {
    /// A bar counting up to `total`, when stdout is a terminal.
    pub fn new(total: usize) -> Progress {
        Progress {
            on: std::io::stdout().is_terminal() && total > 0,
            total,
            done: 0,
            what: String::new(),
        }
    }

    /// Whether the bar is drawn (stdout is a terminal).
    pub fn drawn(&self) -> bool {
        self.on
    }

    /// The bar's text: `[#####-----] 3/10 what`.
    pub fn render(done: usize, total: usize, what: &str) -> String {
        let filled = (done * WIDTH).checked_div(total).unwrap_or(0).min(WIDTH);
        format!(
            "[{}{}] {done}/{total} {what}",
            "#".repeat(filled),
            "-".repeat(WIDTH - filled)
        )
    }

    fn draw(&self) {
        if self.on {
            let mut out = std::io::stdout().lock();
            let _ = write!(
                out,
                "\r\x1b[2K{}",
                Progress::render(self.done, self.total, &self.what)
            );
            let _ = out.flush();
        }
    }

    fn clear(&self) {
        if self.on {
            let mut out = std::io::stdout().lock();
            let _ = write!(out, "\r\x1b[2K");
            let _ = out.flush();
        }
    }

    /// Prints `line` (on stdout) above the bar.
    pub fn println(&self, line: &str) {
        self.clear();
        println!("{line}");
        self.draw();
    }

    /// `done` of the total are finished; `what` is under way.
    pub fn set(&mut self, done: usize, what: &str) {
        if (done, what) != (self.done, self.what.as_str()) {
            self.done = done;
            self.what = what.to_string();
            self.draw();
        }
    }

    /// Removes the bar, leaving the lines printed through it.
    pub fn finish(self) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::Progress;

    #[test]
    fn the_bar_fills_with_what_is_done() {
        assert_eq!(
            Progress::render(0, 4, "a"),
            format!("[{}] 0/4 a", "-".repeat(24))
        );
        assert_eq!(
            Progress::render(1, 4, "b"),
            format!("[{}{}] 1/4 b", "#".repeat(6), "-".repeat(18))
        );
        assert_eq!(
            Progress::render(4, 4, ""),
            format!("[{}] 4/4 ", "#".repeat(24))
        );
        assert_eq!(
            Progress::render(0, 0, ""),
            format!("[{}] 0/0 ", "-".repeat(24))
        );
    }
}
