//! Progress where there is no terminal: indicatif draws its bars only on a terminal, so CI logs,
//! `nohup` runs and pipes would see nothing during a long run. A [`Heartbeat`] watches the same
//! bars and, when stderr is not a terminal, prints one plain line per unfinished bar every
//! [`INTERVAL`] (what, done of total, elapsed, an ETA from the rate so far) to stderr.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::ProgressBar;

/// Time between two heartbeat lines.
pub const INTERVAL: Duration = Duration::from_secs(15);

/// The environment variable that sets the interval in milliseconds (for tests).
pub const INTERVAL_ENV: &str = "OVERPARAM_HEARTBEAT_MS";

/// Prints the watched bars' state to stderr every interval until dropped (nothing on a terminal,
/// where the bars themselves are drawn).
pub struct Heartbeat {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Heartbeat {
    /// Starts watching `bars` (labelled by their prefix, or by `label` when they have none);
    /// a no-op on a terminal.
    pub fn watch(label: &str, bars: Vec<ProgressBar>) -> Heartbeat {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        if std::io::stderr().is_terminal() {
            return Heartbeat { stop, thread: None };
        }
        let interval = std::env::var(INTERVAL_ENV)
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .map_or(INTERVAL, Duration::from_millis);
        let signal = Arc::clone(&stop);
        let label = label.to_string();
        let start = Instant::now();
        let thread = std::thread::spawn(move || {
            let (lock, cvar) = &*signal;
            let Ok(mut stopped) = lock.lock() else { return };
            // When each bar was first seen moving, and where: its rate, hence its time left, is
            // measured from there (a bar made at the start may begin much later).
            let mut first_moved: Vec<Option<(Instant, u64)>> = vec![None; bars.len()];
            loop {
                // Stopped before this thread first took the lock (a short run): the notification
                // has come and gone, so waiting would sleep a whole interval for nothing.
                if *stopped {
                    return;
                }
                let Ok((guard, _)) = cvar.wait_timeout(stopped, interval) else { return };
                stopped = guard;
                if *stopped {
                    return;
                }
                let now = Instant::now();
                let mut lines = Vec::new();
                for (bar, seen) in bars.iter().zip(first_moved.iter_mut()) {
                    let pos = bar.position();
                    if bar.is_finished() || pos == 0 {
                        continue;
                    }
                    let (t0, p0) = *seen.get_or_insert((now, pos));
                    let rate = (pos > p0).then(|| (pos - p0) as f64 / now.duration_since(t0).as_secs_f64());
                    lines.push(line(&label, bar, start.elapsed(), rate));
                }
                // Nothing has moved yet: say what is starting.
                if lines.is_empty()
                    && let Some(bar) = bars.iter().find(|b| !b.is_finished())
                {
                    lines.push(line(&label, bar, start.elapsed(), None));
                }
                for line in lines {
                    // A closed or unread stderr must not stop the run: the line is dropped.
                    let _ = writeln!(std::io::stderr(), "{line}");
                }
            }
        });
        Heartbeat { stop, thread: Some(thread) }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        let (lock, cvar) = &*self.stop;
        if let Ok(mut s) = lock.lock() {
            *s = true;
        }
        cvar.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// "progress: Thm 2.1 120/300, 1 min 05 s elapsed, about 1 min 38 s left", the time left from
/// `rate` (units per second since the bar was first seen moving), when known.
fn line(label: &str, bar: &ProgressBar, elapsed: Duration, rate: Option<f64>) -> String {
    let prefix = bar.prefix();
    let what = if prefix.trim().is_empty() { label.to_string() } else { prefix.trim().to_string() };
    let pos = bar.position();
    let mut s = match bar.length() {
        Some(len) => format!("progress: {what} {pos}/{len}"),
        None if pos == 0 => format!("progress: {what}"),
        None => format!("progress: {what} {pos}"),
    };
    let msg = bar.message();
    if !msg.is_empty() {
        s.push_str(&format!(" {msg}"));
    }
    s.push_str(&format!(", {} elapsed", duration(elapsed)));
    match (bar.length(), rate) {
        (Some(len), Some(rate)) if len > pos && rate > 0.0 && rate.is_finite() => {
            let left = (len - pos) as f64 / rate;
            s.push_str(&format!(", about {} left", duration(Duration::from_secs_f64(left.min(1e9)))));
        }
        _ => {}
    }
    s
}

fn duration(d: Duration) -> String {
    let s = d.as_secs();
    if s < 60 { format!("{s} s") } else { format!("{} min {:02} s", s / 60, s % 60) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_name_the_work_its_count_and_the_time_left() {
        let bar = ProgressBar::hidden();
        bar.set_length(300);
        bar.set_prefix("Thm 2.1");
        bar.set_position(120);
        let l = line("verify", &bar, Duration::from_secs(65), Some(2.0));
        assert_eq!(l, "progress: Thm 2.1 120/300, 1 min 05 s elapsed, about 1 min 30 s left");
        let plain = ProgressBar::hidden();
        plain.set_length(10);
        assert_eq!(line("figure1", &plain, Duration::from_secs(3), None), "progress: figure1 0/10, 3 s elapsed");
        let spinner = ProgressBar::hidden();
        spinner.set_message("eigenvalues of H∞ (n = 4000)");
        assert_eq!(
            line("kernel", &spinner, Duration::from_secs(61), None),
            "progress: kernel eigenvalues of H∞ (n = 4000), 1 min 01 s elapsed"
        );
    }
}
