//! The wait between two polls.
//!
//! `backoff` 0.4 is unmaintained (RUSTSEC-2025-0012, and it pulls `instant`, RUSTSEC-2024-0384),
//! so it stays behind this one type to be swapped out easily. It is only asked for the next
//! interval: its jitter lands after its own cap (a 10 s cap gave 15 s), so the cap is applied
//! here, and its clock-reading features (`max_elapsed_time`, `retry_after`) are not used at
//! all, because they read the real clock and not tokio's.

use std::time::Duration;

use backoff::ExponentialBackoff;
use backoff::backoff::Backoff as _;

/// "Small jitter": ±10 %, enough that many pipelines started together drift apart.
const JITTER: f64 = 0.1;

pub(crate) struct Schedule {
    backoff: ExponentialBackoff,
    cap: Duration,
}

impl Schedule {
    pub(crate) fn new(initial: Duration, cap: Duration) -> Self {
        let mut backoff = ExponentialBackoff {
            current_interval: initial,
            initial_interval: initial,
            randomization_factor: JITTER,
            multiplier: 2.0,
            max_interval: cap,
            max_elapsed_time: None,
            ..ExponentialBackoff::default()
        };
        backoff.reset();
        Schedule { backoff, cap }
    }

    /// Never above the cap; without an elapsed-time limit the inner schedule never ends.
    pub(crate) fn next_wait(&mut self) -> Duration {
        self.backoff
            .next_backoff()
            .unwrap_or(self.cap)
            .min(self.cap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_with_small_jitter_and_never_passes_the_cap() {
        let cap = Duration::from_secs(10);
        let mut schedule = Schedule::new(Duration::from_secs(1), cap);
        let waits: Vec<f64> = (0..40)
            .map(|_| schedule.next_wait().as_secs_f64())
            .collect();
        for (i, expected) in [1.0, 2.0, 4.0, 8.0].into_iter().enumerate() {
            assert!(
                (waits[i] - expected).abs() <= expected * JITTER + 1e-9,
                "wait {i}: {}",
                waits[i]
            );
        }
        assert!(waits.iter().all(|&w| w <= 10.0), "{waits:?}");
        assert!(waits[5..].iter().all(|&w| w >= 9.0), "{waits:?}");
    }
}
