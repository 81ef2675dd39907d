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

#[cfg(unix)]
struct Streams {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
    /// None when SIGHUP was ignored from the start (`nohup`): it stays ignored.
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
        Ok(Streams {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
            hangup: if hangup_ignored() {
                None
            } else {
                Some(signal(SignalKind::hangup())?)
            },
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
        let (interrupt, terminate, hangup) = {
            let hangup = self.hangup.as_mut();
            let hangup = async move {
                match hangup {
                    Some(hangup) => hangup.recv().await,
                    None => std::future::pending().await,
                }
            };
            (&mut self.interrupt, &mut self.terminate, hangup)
        };
        // Windows has no hangup to catch: its console closing is not a cancellation.
        #[cfg(windows)]
        let (interrupt, terminate, hangup) = (
            &mut self.interrupt,
            &mut self.terminate,
            std::future::pending::<Option<()>>(),
        );
        tokio::select! {
            _ = interrupt.recv() => Signal::Interrupt,
            _ = terminate.recv() => Signal::Terminate,
            _ = hangup => Signal::Hangup,
        }
    }
}

/// Whether the process started with SIGHUP ignored, as `nohup` starts it: catching it would
/// undo what the user asked for. Read from `/proc` (asking the kernel directly would take
/// `unsafe`); where there is no `/proc`, SIGHUP is caught.
#[cfg(unix)]
fn hangup_ignored() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let mask = status
                .lines()
                .find_map(|line| line.strip_prefix("SigIgn:"))?;
            u64::from_str_radix(mask.trim(), 16).ok()
        })
        // Bit n - 1 stands for signal n; SIGHUP is 1.
        .is_some_and(|ignored| ignored & 1 != 0)
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
