//! The signals that cancel a run, caught so that a cancelled run still writes its outputs and
//! exits with a code that says so. Caught from the very start of a run, before anything slow
//! (the settings may read a prompt file, the client reads CA roots), to its very end: once
//! caught, a signal no longer ends the process by itself, so every phase must listen for it.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// SIGINT, or Ctrl-C on Windows.
    Interrupt,
    /// SIGTERM (what CI runners send on cancel), or Ctrl-Break on Windows.
    Terminate,
    /// SIGHUP: a closed terminal, or a CI cancellation that hangs up. Unix only.
    Hangup,
}

impl Signal {
    pub(crate) fn name(self) -> &'static str {
        match (self, cfg!(windows)) {
            (Signal::Interrupt, false) => "SIGINT",
            (Signal::Terminate, false) => "SIGTERM",
            (Signal::Interrupt, true) => "Ctrl-C",
            (Signal::Terminate, true) => "Ctrl-Break",
            (Signal::Hangup, _) => "SIGHUP",
        }
    }
}

/// SIGINT and SIGHUP are None when the process started with them ignored (`nohup`, or `&` in
/// a script): they stay ignored, as the one who started the gate asked.
#[cfg(unix)]
struct Streams {
    interrupt: Option<tokio::signal::unix::Signal>,
    terminate: tokio::signal::unix::Signal,
    hangup: Option<tokio::signal::unix::Signal>,
}

#[cfg(windows)]
struct Streams {
    interrupt: tokio::signal::windows::CtrlC,
    terminate: tokio::signal::windows::CtrlBreak,
}

impl Streams {
    #[cfg(unix)]
    fn register() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        let ignored = ignored_at_start();
        let unless_ignored = |kind: SignalKind| {
            let ignored = 1_u64
                .checked_shl(kind.as_raw_value().unsigned_abs().wrapping_sub(1))
                .is_some_and(|bit| ignored & bit != 0);
            if ignored {
                Ok(None)
            } else {
                signal(kind).map(Some)
            }
        };
        Ok(Streams {
            interrupt: unless_ignored(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
            hangup: unless_ignored(SignalKind::hangup())?,
        })
    }

    #[cfg(windows)]
    fn register() -> std::io::Result<Self> {
        use tokio::signal::windows::{ctrl_break, ctrl_c};
        Ok(Streams {
            interrupt: ctrl_c()?,
            terminate: ctrl_break()?,
        })
    }

    async fn recv(&mut self) -> Signal {
        #[cfg(unix)]
        let (interrupt, terminate, hangup) = (
            caught(self.interrupt.as_mut()),
            self.terminate.recv(),
            caught(self.hangup.as_mut()),
        );
        // Windows has no hangup to catch: its console closing is not a cancellation.
        #[cfg(windows)]
        let (interrupt, terminate, hangup) = (
            self.interrupt.recv(),
            self.terminate.recv(),
            std::future::pending::<Option<()>>(),
        );
        tokio::select! {
            _ = interrupt => Signal::Interrupt,
            _ = terminate => Signal::Terminate,
            _ = hangup => Signal::Hangup,
        }
    }
}

/// The next one of a signal, or never if it is not caught.
#[cfg(unix)]
async fn caught(signal: Option<&mut tokio::signal::unix::Signal>) -> Option<()> {
    match signal {
        Some(signal) => signal.recv().await,
        None => std::future::pending().await,
    }
}

/// The signals the process started with ignored, as a mask (bit n - 1 for signal n), read from
/// `/proc` (asking the kernel directly would take `unsafe`); none where there is no `/proc`.
#[cfg(unix)]
fn ignored_at_start() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let mask = status
                .lines()
                .find_map(|line| line.strip_prefix("SigIgn:"))?;
            u64::from_str_radix(mask.trim(), 16).ok()
        })
        .unwrap_or(0)
}

/// The run's signals, or why they could not be caught.
pub(crate) struct Signals(Result<Streams, std::io::Error>);

impl Signals {
    /// Catches the signals from now on. Call it before anything slow; a failure is kept for
    /// [`Signals::warn_if_uncaught`], as the log may not be set up yet.
    pub(crate) fn register() -> Self {
        Signals(Streams::register())
    }

    pub(crate) fn warn_if_uncaught(&self) {
        if let Err(error) = &self.0 {
            tracing::warn!(
                "signals cannot be caught ({error}): a cancelled run will write no outputs"
            );
        }
    }

    /// The next signal, including one that arrived before this call.
    pub(crate) async fn recv(&mut self) -> Signal {
        match &mut self.0 {
            Ok(streams) => streams.recv().await,
            Err(_) => std::future::pending().await,
        }
    }
}
