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

/// The status the proxy an https API goes through answers a CONNECT to the API with, asked
/// again on a connection of its own: reqwest's tunnel keeps no status but 407's, and a 403 from
/// the proxy's rules must be told from a 502 while it cannot reach the API. The proxy is the
/// one reqwest chose, from the same variables; only the API's host and port and the proxy's
/// own credentials are sent. `None`: no plain-http proxy, or no status line in time.
pub(super) async fn tunnel_status(api_url: &Url, within: Duration) -> Option<u16> {
    let api: http::Uri = api_url.as_str().parse().ok()?;
    let proxy = hyper_util::client::proxy::matcher::Matcher::from_env().intercept(&api)?;
    let uri = proxy.uri();
    if uri.scheme_str() != Some("http") {
        return None;
    }
    let proxy_address = (
        uri.host()?.trim_matches(['[', ']']).to_owned(),
        uri.port_u16().unwrap_or(80),
    );
    let target = format!(
        "{}:{}",
        api_url.host_str()?,
        api_url.port_or_known_default()?
    );
    let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some(auth) = proxy.basic_auth().and_then(|value| value.to_str().ok()) {
        request.push_str(&format!("Proxy-Authorization: {auth}\r\n"));
    }
    request.push_str("\r\n");
    let ask = async {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let mut stream = tokio::net::TcpStream::connect(proxy_address).await.ok()?;
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut head = Vec::new();
        let mut buffer = [0u8; 512];
        while !head.contains(&b'\n') && head.len() < 8192 {
            let read = stream.read(&mut buffer).await.ok()?;
            if read == 0 {
                break;
            }
            head.extend_from_slice(&buffer[..read]);
        }
        status_code(&head)
    };
    tokio::time::timeout(within, ask).await.ok().flatten()
}

/// `HTTP/1.1 403 Forbidden` is 403.
fn status_code(head: &[u8]) -> Option<u16> {
    let line = head.split(|&b| b == b'\n').next()?;
    let rest = line
        .strip_prefix(b"HTTP/1.")?
        .get(1..)?
        .strip_prefix(b" ")?;
    let code = rest.get(..3)?;
    if !code.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(code).ok()?.parse().ok()
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
    fn a_status_line_gives_its_code_and_nothing_else_does() {
        assert_eq!(status_code(b"HTTP/1.1 403 Forbidden\r\n\r\n"), Some(403));
        assert_eq!(status_code(b"HTTP/1.0 502 Bad Gateway\r\n"), Some(502));
        for head in [
            &b"SSH-2.0-OpenSSH\r\n"[..],
            b"HTTP/1.1 4x3 No",
            b"HTTP/2 200 OK",
            b"",
        ] {
            assert_eq!(status_code(head), None, "{head:?}");
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
