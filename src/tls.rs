//! Which CA roots the API's certificate is checked against. They are read once, when the client
//! is built, and only for an `https` API: plain http to this machine never makes a TLS
//! connection (no proxy, no redirects), so it reads none.
//!
//! - `SSL_CERT_FILE` (when not empty) replaces the system store, on every platform.
//! - Linux and the other Unixes: the system's bundle, one file, from the first of the usual
//!   paths that holds certificates (the list Go's `crypto/x509` uses). Only where none does,
//!   the OpenSSL-style probe of `rustls-native-certs`, which also reads every file of the
//!   certificate directories. `SSL_CERT_DIR` still goes to that probe, as it did.
//! - macOS, Windows (and Android): the platform's verifier, as reqwest sets it up, since their
//!   roots and policies live in the system's own store, not in a file.

use std::sync::Arc;

use anyhow::Context as _;
use reqwest::{ClientBuilder, Url};
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;

/// Sets `builder` up to trust what an API at `api_url` should be trusted by.
pub(crate) fn trust(builder: ClientBuilder, api_url: &Url) -> anyhow::Result<ClientBuilder> {
    if api_url.scheme() != "https" {
        // No roots at all: reqwest would otherwise read the whole system store up front.
        return Ok(builder.tls_certs_only(std::iter::empty()));
    }
    Ok(match roots()? {
        Some(roots) => builder.tls_backend_preconfigured(client_config(roots)?),
        None => builder,
    })
}

/// What reqwest itself sets up for rustls, with our roots: TLS 1.3 and 1.2 on ring, SNI,
/// HTTP/1.1 by ALPN (the client has no HTTP/2).
fn client_config(roots: RootCertStore) -> anyhow::Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("could not set up TLS")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// A variable that is set and not empty.
fn named(variable: &str) -> Option<std::ffi::OsString> {
    std::env::var_os(variable).filter(|value| !value.is_empty())
}

/// The certificates of a PEM bundle; sections that are not certificates, or not valid PEM, are
/// skipped. None if it cannot be read.
fn bundle(path: &std::path::Path) -> Option<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path).ok()?;
    Some(certs.filter_map(Result::ok).collect())
}

/// Roots the API's certificate may chain to; a certificate the verifier cannot use is skipped,
/// as the platform verifier does, but none at all is an error.
fn store(certs: Vec<CertificateDer<'static>>, from: &str) -> anyhow::Result<RootCertStore> {
    let mut store = RootCertStore::empty();
    store.add_parsable_certificates(certs);
    anyhow::ensure!(
        !store.is_empty(),
        "no CA certificates were loaded from {from}"
    );
    Ok(store)
}

#[cfg(all(
    unix,
    not(target_os = "android"),
    not(target_vendor = "apple"),
    not(target_arch = "wasm32")
))]
fn roots() -> anyhow::Result<Option<RootCertStore>> {
    /// Where distributions keep the one-file bundle, most common first.
    const BUNDLES: [&str; 6] = [
        "/etc/ssl/certs/ca-certificates.crt", // Debian, Ubuntu, Alpine, Arch, Gentoo
        "/etc/pki/tls/certs/ca-bundle.crt",   // Fedora, RHEL
        "/etc/ssl/ca-bundle.pem",             // openSUSE
        "/etc/pki/tls/cacert.pem",            // OpenELEC
        "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // CentOS, RHEL 7
        "/etc/ssl/cert.pem",                  // Alpine, the BSDs
    ];
    if named("SSL_CERT_FILE").is_none() && named("SSL_CERT_DIR").is_none() {
        let system = BUNDLES
            .iter()
            .find_map(|path| bundle(path.as_ref()).filter(|certs| !certs.is_empty()));
        if let Some(certs) = system {
            return store(certs, "the system's bundle").map(Some);
        }
    }
    // SSL_CERT_FILE and SSL_CERT_DIR as OpenSSL reads them, or else its probe of the usual
    // files and directories.
    let found = rustls_native_certs::load_native_certs();
    store(found.certs, "the system (or SSL_CERT_FILE, SSL_CERT_DIR)").map(Some)
}

#[cfg(not(all(
    unix,
    not(target_os = "android"),
    not(target_vendor = "apple"),
    not(target_arch = "wasm32")
)))]
fn roots() -> anyhow::Result<Option<RootCertStore>> {
    let Some(path) = named("SSL_CERT_FILE") else {
        return Ok(None);
    };
    let certs = bundle(path.as_ref()).unwrap_or_default();
    store(certs, "SSL_CERT_FILE").map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_keeps_its_certificates_and_skips_the_rest() {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(Vec::new())
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bundle.pem");
        let text = format!(
            "# a comment\n{}\n{}-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n{}",
            cert.pem(),
            key.serialize_pem(),
            cert.pem()
        );
        std::fs::write(&path, text).unwrap();
        let certs = bundle(&path).unwrap();
        assert_eq!(certs, vec![cert.der().clone(), cert.der().clone()]);
        assert_eq!(store(certs, "a test").unwrap().len(), 2);
        assert!(bundle(&dir.path().join("missing.pem")).is_none());
    }

    #[test]
    fn no_usable_root_is_an_error() {
        let junk = CertificateDer::from(b"not a certificate".to_vec());
        let error = store(vec![junk], "a test").unwrap_err();
        assert_eq!(
            error.to_string(),
            "no CA certificates were loaded from a test"
        );
    }
}
