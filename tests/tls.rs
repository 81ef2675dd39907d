//! The real TLS path: rustls with the ring provider, against a local HTTPS server whose
//! private CA is trusted only through `SSL_CERT_FILE`.

mod common;

use std::sync::Arc;

use common::*;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// Serves a completed job over HTTPS for `localhost`; returns its URL and the CA's PEM.
async fn https_api() -> (String, String) {
    https_api_with(Leaf::Good, Close::Notify).await
}

/// The server's certificate.
#[derive(Clone, Copy)]
enum Leaf {
    Good,
    Expired,
    ForAnotherHost,
}

/// How the server ends a connection after its answer.
#[derive(Clone, Copy)]
enum Close {
    /// With TLS `close_notify`, as it should.
    Notify,
    /// By closing the socket alone, as many servers do.
    Abruptly,
    /// The same, with no content-length: the close ends the body.
    AbruptlyWithoutLength,
    /// The same, halfway through the body.
    CutWithoutLength,
    /// No answer in TLS: plain bytes on the socket after the handshake and the request.
    Garbage,
}

async fn https_api_with(leaf: Leaf, close: Close) -> (String, String) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_pem = ca_params.self_signed(&ca_key).unwrap().pem();
    let ca = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let host = match leaf {
        Leaf::ForAnotherHost => "api.example.com",
        Leaf::Good | Leaf::Expired => "localhost",
    };
    let mut params = CertificateParams::new(vec![host.to_owned()]).unwrap();
    if let Leaf::Expired = leaf {
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    }
    let leaf = params.signed_by(&leaf_key, &ca).unwrap();

    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "https://localhost:{}",
        listener.local_addr().unwrap().port()
    );
    let body = job("completed", Some("https://github.com/acme/docs/pull/7")).to_string();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, body) = (acceptor.clone(), body.clone());
            tokio::spawn(async move {
                // A client that does not trust the CA hangs up here; that is the point.
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let mut request = vec![0u8; 8192];
                let _ = tls.read(&mut request).await;
                if let Close::Garbage = close {
                    let _ = tls
                        .get_mut()
                        .0
                        .write_all(b"HTTP/1.1 200 OK\r\n\r\n{}")
                        .await;
                    return;
                }
                let body = match close {
                    Close::CutWithoutLength => body[..body.len() / 2].to_owned(),
                    _ => body,
                };
                let length = match close {
                    Close::AbruptlyWithoutLength | Close::CutWithoutLength => String::new(),
                    Close::Notify | Close::Abruptly | Close::Garbage => {
                        format!("content-length: {}\r\n", body.len())
                    }
                };
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n{length}connection: close\r\n\r\n{body}",
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                match close {
                    Close::Notify | Close::Garbage => {
                        let _ = tls.shutdown().await;
                    }
                    Close::Abruptly | Close::AbruptlyWithoutLength | Close::CutWithoutLength => {
                        let _ = tls.flush().await;
                        let (mut tcp, _) = tls.into_inner();
                        let _ = tcp.shutdown().await;
                    }
                }
            });
        }
    });
    (url, ca_pem)
}

/// A run against `url` that trusts `ca_pem` through `SSL_CERT_FILE`.
fn trusting(url: &str, ca_pem: &str) -> Gate {
    let gate = Gate::new(url);
    let ca_file = gate.path("ca.pem");
    std::fs::write(&ca_file, ca_pem).unwrap();
    gate.env("SSL_CERT_FILE", &ca_file)
}

async fn run(gate: Gate) -> Run {
    tokio::task::spawn_blocking(move || gate.run())
        .await
        .unwrap()
}

fn assert_not_retried(run: &Run) {
    assert!(
        !run.stderr.contains("trying again"),
        "retried:\n{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_works_with_a_private_ca_from_ssl_cert_file() {
    let (url, ca_pem) = https_api().await;
    let gate = Gate::new(&url);
    let ca_file = gate.path("ca.pem");
    std::fs::write(&ca_file, ca_pem).unwrap();
    let run = tokio::task::spawn_blocking(move || gate.env("SSL_CERT_FILE", &ca_file).run())
        .await
        .unwrap();
    run.assert_code(0);
    assert_eq!(
        run.outputs()["pr_link"],
        "https://github.com/acme/docs/pull/7"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_stops_the_run_with_advice() {
    let (url, _) = https_api().await;
    let gate = Gate::new(&url);
    let run = tokio::task::spawn_blocking(move || gate.run())
        .await
        .unwrap();
    run.assert_code(5);
    run.assert_logged("TLS certificate is not trusted");
    run.assert_logged("SSL_CERT_FILE");
    assert!(
        !run.stderr.contains("trying again"),
        "an untrusted certificate was retried:\n{}",
        run.stderr
    );
}

/// A CONNECT proxy on loopback that tunnels to wherever it is asked, and records where.
async fn connect_proxy() -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else {
                return;
            };
            let record = record.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if client.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let Some(authority) = head
                    .strip_prefix("CONNECT ")
                    .and_then(|rest| rest.split(' ').next())
                else {
                    return;
                };
                // The key is for the API alone: a CONNECT that carried it would hand it over.
                let key_sent =
                    head.to_ascii_lowercase().contains("\nauthorization:") || head.contains(KEY);
                record.lock().unwrap().push(if key_sent {
                    "a CONNECT with the key".to_owned()
                } else {
                    authority.to_owned()
                });
                let Ok(mut upstream) =
                    tokio::net::TcpStream::connect(authority.replace("localhost", "127.0.0.1"))
                        .await
                else {
                    return;
                };
                let _ = client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await;
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            });
        }
    });
    (url, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_proxy_is_honoured_and_no_proxy_bypasses_it() {
    let (url, ca_pem) = https_api().await;
    let (proxy, seen) = connect_proxy().await;
    let authority = url.trim_start_matches("https://").to_owned();
    for (no_proxy, tunnels) in [("", 1), ("localhost", 0)] {
        let gate = Gate::new(&url);
        let ca_file = gate.path("ca.pem");
        std::fs::write(&ca_file, &ca_pem).unwrap();
        let gate = gate
            .env("SSL_CERT_FILE", &ca_file)
            .env("HTTPS_PROXY", &proxy)
            .env("NO_PROXY", no_proxy);
        let run = tokio::task::spawn_blocking(move || gate.run())
            .await
            .unwrap();
        run.assert_code(0);
        let tunnelled = std::mem::take(&mut *seen.lock().unwrap());
        assert_eq!(
            tunnelled,
            vec![authority.clone(); tunnels],
            "NO_PROXY={no_proxy:?}"
        );
    }
}

#[tokio::test]
async fn plain_http_to_this_machine_never_goes_through_a_proxy() {
    let server = finished_api().await;
    let proxy = wiremock::MockServer::start().await;
    let gate = Gate::new(&server.uri())
        .env("HTTP_PROXY", proxy.uri())
        .env("ALL_PROXY", proxy.uri());
    let run = tokio::task::spawn_blocking(move || gate.run())
        .await
        .unwrap();
    run.assert_code(0);
    assert!(proxy.received_requests().await.unwrap().is_empty());
}

/// Plain http makes no TLS connection, so it reads no CA roots: a CA setting that would leave
/// none at all does not stop it (it used to, with exit 5, before the first request).
#[tokio::test]
async fn plain_http_reads_no_ca_roots() {
    let server = finished_api().await;
    let gate = Gate::new(&server.uri());
    let empty = gate.path("no-roots");
    std::fs::create_dir(&empty).unwrap();
    let missing = gate.path("missing.pem");
    let run = gate
        .env("SSL_CERT_FILE", &missing)
        .env("SSL_CERT_DIR", &empty)
        .run();
    run.assert_code(0);
}

/// Over https, no root at all is an API error before any request, saying why.
#[cfg(all(unix, not(target_vendor = "apple")))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_no_ca_roots_at_all_stops_the_run() {
    let (url, _) = https_api().await;
    let gate = Gate::new(&url);
    let empty = gate.path("no-roots");
    std::fs::create_dir(&empty).unwrap();
    let run = tokio::task::spawn_blocking(move || gate.env("SSL_CERT_DIR", &empty).run())
        .await
        .unwrap();
    run.assert_code(5);
    run.assert_logged("could not set up the HTTP client (TLS): no CA certificates were loaded");
    assert_eq!(
        run.stderr.matches("could not set up").count(),
        1,
        "{}",
        run.stderr
    );
}

/// Only an unknown issuer is a matter of roots; an expired certificate or one for another host
/// is the server's (or the clock's) and `SSL_CERT_FILE` would not help. Refused at once, as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_or_wrong_host_certificate_is_not_sent_to_ssl_cert_file() {
    for (leaf, says) in [
        (Leaf::Expired, "expired or not yet valid"),
        (
            Leaf::ForAnotherHost,
            "not valid for the host in MINTLIFY_API_URL",
        ),
    ] {
        let (url, ca_pem) = https_api_with(leaf, Close::Notify).await;
        let run = run(trusting(&url, &ca_pem)).await;
        run.assert_code(5).assert_logged(says);
        assert!(
            !run.stderr.contains("point SSL_CERT_FILE"),
            "{}",
            run.stderr
        );
        assert_not_retried(&run);
    }
}

/// Many servers close the socket without TLS `close_notify`; an answer whose length was given
/// and arrived whole is still the answer, and so is one the close ends (no length) whose JSON
/// is whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_answer_closed_without_close_notify_is_accepted() {
    for close in [Close::Abruptly, Close::AbruptlyWithoutLength] {
        let (url, ca_pem) = https_api_with(Leaf::Good, close).await;
        let run = run(trusting(&url, &ca_pem)).await;
        run.assert_code(0);
        assert_eq!(run.outputs()["status"], "completed");
    }
    // Cut short, it is no answer: tried again, and never a job at the deadline.
    let (url, ca_pem) = https_api_with(Leaf::Good, Close::CutWithoutLength).await;
    let run = run(trusting(&url, &ca_pem).env("MINTLIFY_TIMEOUT", "500ms")).await;
    run.assert_code(5)
        .assert_logged("the answer broke off")
        .assert_logged("close_notify");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_whose_first_certificate_comes_after_64_kib_of_comments_works() {
    let (url, ca_pem) = https_api().await;
    let padded = format!("{}{ca_pem}", "# a long licence text\n".repeat(4000));
    assert!(padded.find("-----BEGIN").unwrap() > 64 * 1024);
    let run = run(trusting(&url, &padded)).await;
    run.assert_code(0);
}

/// A bundle with a PEM marker but nothing usable is a setting to fix: exit 2 before anything
/// is sent or written, naming the file, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_without_a_usable_certificate_is_refused_as_configuration() {
    let (url, _) = https_api().await;
    let broken =
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
    let gate = trusting(&url, broken);
    let named = gate.path("ca.pem").display().to_string();
    let run = run(gate).await;
    run.assert_code(2);
    assert_eq!(
        run.stderr.matches("SSL_CERT_FILE=").count(),
        1,
        "{}",
        run.stderr
    );
    run.assert_logged(&named)
        .assert_logged("holds no usable PEM certificate");
    assert!(run.file("output").is_none(), "outputs were written");
}

/// A server that takes the TCP connection and never completes the TLS handshake: the request
/// never left this machine. Polls and starts alike are retried and end "could not be reached"
/// (exit 4); a start is not reported as one that may have arrived. With less time left than a
/// request may take, the deadline cuts the handshake off; that is still no connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handshake_that_never_completes_is_unreachable_for_polls_and_starts() {
    let (url, _held) = stalled_server();
    let url = url.replace("http://", "https://");
    let limits = [
        ("400ms", "1s", "no connection within 200ms"),
        ("30s", "500ms", ""),
    ];
    // The six runs wait side by side: each spends its time on timers.
    let mut runs = tokio::task::JoinSet::new();
    for (request_timeout, timeout, says) in limits {
        for task in ["watch", "create", "follow-up"] {
            let mut gate = Gate::new(&url)
                .env("MINTLIFY_REQUEST_TIMEOUT", request_timeout)
                .env("MINTLIFY_TIMEOUT", timeout);
            if task != "watch" {
                gate = gate.env("MINTLIFY_PROMPT", "Fix the typos");
            }
            if task == "create" {
                gate.command.env_remove("MINTLIFY_JOB_ID");
            }
            runs.spawn_blocking(move || (task, says, gate.run()));
        }
    }
    while let Some(done) = runs.join_next().await {
        let (task, says, run) = done.unwrap();
        run.assert_code(4)
            .assert_logged("could not be reached")
            .assert_logged(says);
        assert!(
            !run.stderr.contains("may or may not"),
            "{task}: {}",
            run.stderr
        );
    }
}

/// Bytes that are no TLS after the request went out say nothing about whether it arrived: a
/// create is reported as one that may have started a job, not as a server without TLS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_tls_after_the_request_went_out_leaves_a_create_uncertain() {
    let (url, ca_pem) = https_api_with(Leaf::Good, Close::Garbage).await;
    let mut gate = trusting(&url, &ca_pem).env("MINTLIFY_PROMPT", "Fix the typos");
    gate.command.env_remove("MINTLIFY_JOB_ID");
    let run = run(gate).await;
    run.assert_code(5)
        .assert_logged("may or may not have reached Mintlify");
    assert!(
        !run.stderr.contains("did not answer in TLS"),
        "{}",
        run.stderr
    );
}

/// An https URL whose port speaks plain http: waiting will not change it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_answered_in_plain_http_stops_at_once() {
    let (url, _) = flaky_server(0, job("completed", None).to_string());
    let run = run(Gate::new(&url.replace("http://", "https://"))).await;
    run.assert_code(5)
        .assert_logged("did not answer in TLS")
        .assert_logged("MINTLIFY_API_URL");
    assert_not_retried(&run);
}

/// A server that answers every hello with a fatal `protocol_version` alert, as one that speaks
/// only TLS 1.0 or 1.1 does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_version_the_server_cannot_speak_stops_at_once() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "https://localhost:{}",
        listener.local_addr().unwrap().port()
    );
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            use std::io::{Read as _, Write as _};
            let mut hello = [0u8; 4096];
            let _ = stream.read(&mut hello);
            let _ = stream.write_all(&[0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46]);
        }
    });
    let run = run(Gate::new(&url)).await;
    run.assert_code(5)
        .assert_logged("share no TLS version or cipher suite");
    assert_not_retried(&run);
}

/// A proxy that wants credentials wants them on every try.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_asking_for_credentials_stops_at_once() {
    let (url, ca_pem) = https_api().await;
    let proxy = canned_proxy(
        b"HTTP/1.1 407 Proxy Authentication Required\r\nproxy-authenticate: Basic realm=\"corp\"\r\ncontent-length: 0\r\n\r\n",
    );
    let run = run(trusting(&url, &ca_pem).env("HTTPS_PROXY", &proxy)).await;
    run.assert_code(5)
        .assert_logged("the proxy asked for credentials (HTTP 407)")
        .assert_logged("HTTPS_PROXY=http://user:password@host:port");
    assert_not_retried(&run);
}

/// A proxy answering every connection with `answer`; its URL.
fn canned_proxy(answer: &'static [u8]) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            use std::io::{Read as _, Write as _};
            let mut head = [0u8; 4096];
            let _ = stream.read(&mut head);
            let _ = stream.write_all(answer);
        }
    });
    proxy
}

/// A proxy that will not open the tunnel (its rules forbid the host, it redirects, it speaks no
/// HTTP) says so on every try: exit 5 at once, naming its status, not a wait that ends
/// "unreachable".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_refusing_the_tunnel_stops_at_once_naming_its_status() {
    let (url, ca_pem) = https_api().await;
    for (answer, says) in [
        (
            &b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n"[..],
            "(HTTP 403 to its CONNECT)",
        ),
        (
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
            "(HTTP 404 to its CONNECT)",
        ),
        (
            b"HTTP/1.1 301 Moved Permanently\r\nlocation: http://x/\r\ncontent-length: 0\r\n\r\n",
            "(HTTP 301 to its CONNECT)",
        ),
        (
            b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
            "(its answer to the CONNECT was neither 200 nor 407)",
        ),
    ] {
        let proxy = canned_proxy(answer);
        let run = run(trusting(&url, &ca_pem).env("HTTPS_PROXY", &proxy)).await;
        run.assert_code(5)
            .assert_logged("the proxy in HTTPS_PROXY (or ALL_PROXY) refused to open a tunnel")
            .assert_logged(says);
        assert_not_retried(&run);
    }
}

/// A proxy that cannot reach the API now may later: tried again, and the status is named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_that_cannot_reach_the_api_is_waited_on_and_named() {
    let (url, ca_pem) = https_api().await;
    let proxy = canned_proxy(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
    let gate = trusting(&url, &ca_pem)
        .env("HTTPS_PROXY", &proxy)
        .env("MINTLIFY_TIMEOUT", "1s");
    let run = run(gate).await;
    run.assert_code(4)
        .assert_logged("could not reach the API (HTTP 502 to its CONNECT)");
}

/// A proxy setting the client would ignore, or a SOCKS proxy it cannot speak, is refused by
/// name before anything is sent; a SOCKS proxy that `NO_PROXY` keeps the API away from is fine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxies_that_cannot_serve_are_refused_by_name() {
    let (url, ca_pem) = https_api().await;
    for (name, value, says) in [
        ("HTTPS_PROXY", "http://[::1", "is not a proxy URL"),
        ("https_proxy", "ftp://proxy.corp:21", "is not a proxy URL"),
        ("ALL_PROXY", "http://proxy corp:8080", "is not a proxy URL"),
        ("HTTPS_PROXY", "socks5://127.0.0.1:1080", "is a SOCKS proxy"),
        ("all_proxy", "socks5h://127.0.0.1:1080", "is a SOCKS proxy"),
        ("HTTPS_PROXY", "SOCKS5://127.0.0.1:1080", "is a SOCKS proxy"),
        (
            "HTTPS_PROXY",
            "http://127.0.0.1:99999",
            "has no usable port",
        ),
        (
            "HTTPS_PROXY",
            "http://127.0.0.1:65536",
            "has no usable port",
        ),
        ("HTTPS_PROXY", "http://127.0.0.1:-1", "has no usable port"),
        ("HTTPS_PROXY", "http://127.0.0.1:0", "has no usable port"),
    ] {
        let run = run(trusting(&url, &ca_pem).env(name, value)).await;
        run.assert_code(2)
            .assert_logged(&format!("{name}=\"{value}\" {says}"));
        assert!(run.file("output").is_none(), "outputs were written");
    }
    let bypassed = trusting(&url, &ca_pem)
        .env("ALL_PROXY", "socks5://127.0.0.1:1080")
        .env("NO_PROXY", "localhost");
    run(bypassed).await.assert_code(0);
}
