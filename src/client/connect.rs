//! The connection under each request: how long it may take, where `localhost` is, and whether
//! a request that failed got past it (see `client::unsent`).

use std::future::Future;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use reqwest::Url;

/// Where `localhost` is: this machine, as curl and browsers take it, whatever a resolver or a
/// hosts file says, since the key may go there in clear. The URL's port is kept (port 0).
pub(super) fn pinned(api_url: &Url) -> Option<[SocketAddr; 2]> {
    match api_url.host() {
        Some(url::Host::Domain(host)) if host.eq_ignore_ascii_case("localhost") => Some([
            SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            SocketAddr::from((Ipv6Addr::LOCALHOST, 0)),
        ]),
        _ => None,
    }
}

/// How long the connection (DNS, TCP, TLS, a proxy's tunnel) may take: shorter than the whole
/// request, so that a server that never accepts is told from one that answers slowly. (With
/// the two equal, reqwest's whole-request timeout fires first.)
pub(super) fn connect_timeout(request_timeout: Duration) -> Duration {
    CONNECT_TIMEOUT.min(request_timeout / 2)
}

/// The longest connect: a server that answers at all completes a connection well within it.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether the request in flight is past its connection. The client sends one request at a
/// time, each on a connection of its own (no pool), so one state serves; [`Phase`] as a layer
/// around reqwest's connector keeps it.
#[derive(Debug, Clone, Default)]
pub(super) struct Phase(Arc<AtomicU8>);

/// No connection was asked for yet. Taken as past it: "never connected" must be certain,
/// since a start is sent again on it.
const PHASE_IDLE: u8 = 0;
/// A connection is being made, or failed.
const PHASE_CONNECTING: u8 = 1;
const PHASE_CONNECTED: u8 = 2;

impl Phase {
    pub(super) fn start_request(&self) {
        self.0.store(PHASE_IDLE, Ordering::SeqCst);
    }

    pub(super) fn connected(&self) -> bool {
        self.0.load(Ordering::SeqCst) != PHASE_CONNECTING
    }
}

impl<S> tower_layer::Layer<S> for Phase {
    type Service = Connecting<S>;

    fn layer(&self, inner: S) -> Connecting<S> {
        Connecting {
            inner,
            phase: self.clone(),
        }
    }
}

/// reqwest's connector, marking when a connection starts and when it is made.
#[derive(Debug, Clone)]
pub(super) struct Connecting<S> {
    inner: S,
    phase: Phase,
}

impl<S, R> tower_service::Service<R> for Connecting<S>
where
    S: tower_service::Service<R>,
    S::Future: Send + 'static,
    S::Response: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        self.phase.0.store(PHASE_CONNECTING, Ordering::SeqCst);
        let phase = self.phase.clone();
        let connecting = self.inner.call(request);
        Box::pin(async move {
            let connection = connecting.await;
            if connection.is_ok() {
                phase.0.store(PHASE_CONNECTED, Ordering::SeqCst);
            }
            connection
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn localhost_is_pinned_to_loopback_and_nothing_else_is() {
        for url in [
            "http://localhost:8080",
            "http://LOCALHOST",
            "https://localhost/",
        ] {
            let addresses = pinned(&Url::parse(url).unwrap()).unwrap();
            assert!(
                addresses
                    .iter()
                    .all(|a| a.ip().is_loopback() && a.port() == 0),
                "{url}"
            );
        }
        for url in [
            "http://127.0.0.1:8080",
            "http://[::1]",
            "https://api.mintlify.com",
            "https://localhost.example.com",
        ] {
            assert_eq!(pinned(&Url::parse(url).unwrap()), None, "{url}");
        }
    }

    #[test]
    fn the_connect_timeout_is_shorter_than_the_request_timeout() {
        for request in [
            Duration::from_millis(2),
            Duration::from_secs(1),
            Duration::from_secs(30),
            Duration::from_hours(1),
        ] {
            let connect = connect_timeout(request);
            assert!(
                connect < request && connect <= CONNECT_TIMEOUT,
                "{request:?}: {connect:?}"
            );
        }
    }
}
