//! The signals that cancel a run, caught so that a cancelled run still writes its outputs and
//! exits with a code that says so. Caught from the start to the very end of a run: once caught,
//! a signal no longer ends the process by itself, so every phase must listen for it.

use tracing::warn;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// SIGINT, or Ctrl-C on Windows.
    Interrupt,
    /// SIGTERM (what CI runners send on cancel), or Ctrl-Break on Windows.
    Terminate,
}

impl Signal {
    pub(crate) fn name(self) -> &'static str {
        match (self, cfg!(windows)) {
            (Signal::Interrupt, false) => "SIGINT",
            (Signal::Terminate, false) => "SIGTERM",
            (Signal::Interrupt, true) => "Ctrl-C",
            (Signal::Terminate, true) => "Ctrl-Break",
        }
    }
}

#[cfg(unix)]
type Streams = (tokio::signal::unix::Signal, tokio::signal::unix::Signal);
#[cfg(windows)]
type Streams = (
    tokio::signal::windows::CtrlC,
    tokio::signal::windows::CtrlBreak,
);

pub(crate) struct Signals(Option<Streams>);

impl Signals {
    pub(crate) fn register() -> Self {
        #[cfg(unix)]
        let streams = {
            use tokio::signal::unix::{SignalKind, signal};
            signal(SignalKind::interrupt()).and_then(|i| Ok((i, signal(SignalKind::terminate())?)))
        };
        #[cfg(windows)]
        let streams = {
            use tokio::signal::windows::{ctrl_break, ctrl_c};
            ctrl_c().and_then(|c| Ok((c, ctrl_break()?)))
        };
        match streams {
            Ok(streams) => Signals(Some(streams)),
            Err(error) => {
                warn!("signals cannot be caught ({error}): a cancelled run will write no outputs");
                Signals(None)
            }
        }
    }

    pub(crate) async fn recv(&mut self) -> Signal {
        let Some((interrupt, terminate)) = &mut self.0 else {
            return std::future::pending().await;
        };
        tokio::select! {
            _ = interrupt.recv() => Signal::Interrupt,
            _ = terminate.recv() => Signal::Terminate,
        }
    }
}
