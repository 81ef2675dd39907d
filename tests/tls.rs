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
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_pem = ca_params.self_signed(&ca_key).unwrap().pem();
    let ca = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();

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
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (url, ca_pem)
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
                record.lock().unwrap().push(authority.to_owned());
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
}
