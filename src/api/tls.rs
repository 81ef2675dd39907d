//! Which CA roots the API's certificate is checked against. `settings` resolves the settings that
//! choose them ([`Roots`], through the injected environment, never the process's); this module
//! turns them into the client's TLS setup, once, when the client is built, and only for an
//! `https` API: plain http to this machine never makes a TLS connection (no proxy, no
//! redirects), so it reads none.
//!
//! - `SSL_CERT_FILE` (when not empty) replaces the system store, on every platform. `settings`
//!   reads it whole and refuses one without a usable certificate, by name.
//! - Linux and the other Unixes: `SSL_CERT_DIR`'s directories, when set, beside the bundle;
//!   else the system's bundle, one file, from the first of the usual paths that holds
//!   certificates (the list Go's `crypto/x509` uses). Only where none does, every file of the
//!   usual certificate directories (Go's list again).
//! - macOS, Windows (and Android): the platform's verifier, as reqwest sets it up, since their
//!   roots and policies live in the system's own store, not in a file.

use std::path::PathBuf;
use std::sync::Arc;

use reqwest::{ClientBuilder, Url};
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;

/// The roots the settings ask for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Roots {
    /// The certificates of `SSL_CERT_FILE`, at least one of them usable as a root.
    pub(crate) bundle: Option<Vec<CertificateDer<'static>>>,
    /// The directories of `SSL_CERT_DIR` (Unix only, as OpenSSL reads it).
    pub(crate) directories: Vec<PathBuf>,
}

/// The certificates of a PEM bundle; sections that are not certificates, or not valid PEM, are
/// skipped, wherever in the file the first certificate is. A leading byte order mark (a bundle
/// saved by a Windows editor) would hide a first `-----BEGIN` from the PEM reader: it is dropped.
pub(crate) fn pem_certificates(pem: &[u8]) -> Vec<CertificateDer<'static>> {
    let pem = pem.strip_prefix("\u{feff}".as_bytes()).unwrap_or(pem);
    CertificateDer::pem_slice_iter(pem)
        .filter_map(Result::ok)
        .collect()
}

/// Whether a root store would keep at least one of `certs`.
pub(crate) fn any_usable(certs: &[CertificateDer<'static>]) -> bool {
    let mut store = RootCertStore::empty();
    let (usable, _) = store.add_parsable_certificates(certs.iter().cloned());
    usable > 0
}

/// Why the TLS setup the settings ask for cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TlsError {
    /// None of the certificates found could serve as a root; where they were looked for.
    #[error("no CA certificates were loaded from {0}")]
    NoRoots(&'static str),
    /// rustls's own words (its error is neither `Eq` nor tied to a setting): the provider
    /// offers no protocol version, which ring's never fails to.
    #[error("could not set up TLS: {0}")]
    Protocols(String),
}

/// Sets `builder` up to trust what an API at `api_url` should be trusted by.
pub(crate) fn trust(
    builder: ClientBuilder,
    api_url: &Url,
    roots: &Roots,
) -> Result<ClientBuilder, TlsError> {
    if api_url.scheme() != "https" {
        // No roots at all: reqwest would otherwise read the whole system store up front.
        return Ok(builder.tls_certs_only(std::iter::empty()));
    }
    Ok(match store_for(roots)? {
        Some(roots) => builder.tls_backend_preconfigured(client_config(roots)?),
        None => builder,
    })
}

/// What reqwest itself sets up for rustls, with our roots: TLS 1.3 and 1.2 on ring, SNI,
/// HTTP/1.1 by ALPN (the client has no HTTP/2).
fn client_config(roots: RootCertStore) -> Result<rustls::ClientConfig, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| TlsError::Protocols(error.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The certificates of a PEM file; None if it cannot be read.
#[cfg(all(
    unix,
    not(target_os = "android"),
    not(target_vendor = "apple"),
    not(target_arch = "wasm32")
))]
fn bundle(path: &std::path::Path) -> Option<Vec<CertificateDer<'static>>> {
    std::fs::read(path).ok().map(|pem| pem_certificates(&pem))
}

/// Roots the API's certificate may chain to; a certificate the verifier cannot use is skipped,
/// as the platform verifier does, but none at all is an error.
fn store(
    certs: Vec<CertificateDer<'static>>,
    from: &'static str,
) -> Result<RootCertStore, TlsError> {
    let mut store = RootCertStore::empty();
    store.add_parsable_certificates(certs);
    if store.is_empty() {
        return Err(TlsError::NoRoots(from));
    }
    Ok(store)
}

#[cfg(all(
    unix,
    not(target_os = "android"),
    not(target_vendor = "apple"),
    not(target_arch = "wasm32")
))]
fn store_for(roots: &Roots) -> Result<Option<RootCertStore>, TlsError> {
    /// Where distributions keep the one-file bundle, most common first.
    const BUNDLES: [&str; 6] = [
        "/etc/ssl/certs/ca-certificates.crt", // Debian, Ubuntu, Alpine, Arch, Gentoo
        "/etc/pki/tls/certs/ca-bundle.crt",   // Fedora, RHEL
        "/etc/ssl/ca-bundle.pem",             // openSUSE
        "/etc/pki/tls/cacert.pem",            // OpenELEC
        "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // CentOS, RHEL 7
        "/etc/ssl/cert.pem",                  // Alpine, the BSDs
    ];
    /// Where they keep one file per certificate.
    const DIRECTORIES: [&str; 5] = [
        "/etc/ssl/certs",         // SLES, Debian
        "/etc/pki/tls/certs",     // Fedora, RHEL
        "/usr/local/share/certs", // FreeBSD
        "/etc/openssl/certs",     // NetBSD
        "/var/ssl/certs",         // AIX
    ];
    if roots.bundle.is_some() || !roots.directories.is_empty() {
        let mut certs = roots.bundle.clone().unwrap_or_default();
        for directory in &roots.directories {
            let found = rustls_native_certs::load_certs_from_paths(None, Some(directory));
            certs.extend(found.certs);
        }
        return store(certs, "SSL_CERT_FILE and SSL_CERT_DIR").map(Some);
    }
    let system = BUNDLES
        .iter()
        .find_map(|path| bundle(path.as_ref()).filter(|certs| !certs.is_empty()));
    if let Some(certs) = system {
        return store(certs, "the system's bundle").map(Some);
    }
    // Only where no bundle is found: every file of the usual certificate directories (Go's
    // list), read without a look at the environment.
    let certs = DIRECTORIES
        .iter()
        .flat_map(|dir| rustls_native_certs::load_certs_from_paths(None, Some(dir.as_ref())).certs)
        .collect();
    store(certs, "the system").map(Some)
}

#[cfg(not(all(
    unix,
    not(target_os = "android"),
    not(target_vendor = "apple"),
    not(target_arch = "wasm32")
)))]
fn store_for(roots: &Roots) -> Result<Option<RootCertStore>, TlsError> {
    if !roots.directories.is_empty() {
        tracing::warn!("SSL_CERT_DIR is read on Unix only: set SSL_CERT_FILE to a PEM bundle");
    }
    let Some(certs) = &roots.bundle else {
        return Ok(None);
    };
    store(certs.clone(), "SSL_CERT_FILE").map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certificate() -> rcgen::Certificate {
        let key = rcgen::KeyPair::generate().unwrap();
        rcgen::CertificateParams::new(Vec::new())
            .unwrap()
            .self_signed(&key)
            .unwrap()
    }

    #[test]
    fn a_bundle_keeps_its_certificates_and_skips_the_rest() {
        let cert = certificate();
        let key = rcgen::KeyPair::generate().unwrap();
        let text = format!(
            "# a comment\n{}\n{}-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n{}",
            cert.pem(),
            key.serialize_pem(),
            cert.pem()
        );
        let certs = pem_certificates(text.as_bytes());
        assert_eq!(certs, vec![cert.der().clone(), cert.der().clone()]);
        assert!(any_usable(&certs));
        assert_eq!(store(certs, "a test").unwrap().len(), 2);
    }

    #[test]
    fn a_bundle_saved_with_a_byte_order_mark_is_read() {
        let cert = certificate();
        let text = format!("\u{feff}{}", cert.pem());
        assert_eq!(pem_certificates(text.as_bytes()), vec![cert.der().clone()]);
    }

    #[test]
    fn a_certificate_after_long_comments_is_found() {
        let cert = certificate();
        let text = format!("{}{}", "# comment\n".repeat(10_000), cert.pem());
        assert_eq!(pem_certificates(text.as_bytes()), vec![cert.der().clone()]);
    }

    #[test]
    fn no_usable_root_is_an_error() {
        let junk = CertificateDer::from(b"not a certificate".to_vec());
        assert!(!any_usable(std::slice::from_ref(&junk)));
        let error = store(vec![junk], "a test").unwrap_err();
        assert_eq!(
            error.to_string(),
            "no CA certificates were loaded from a test"
        );
    }

    /// The refusal keeps the client's type up to the report, and reads as the one line the
    /// end-to-end test in tests/tls.rs looks for.
    #[test]
    fn a_client_that_cannot_be_set_up_is_refused_in_one_line() {
        let refusal = crate::api::failure::Refusal::Setup(crate::api::client::ClientError::Tls(
            TlsError::NoRoots("the system"),
        ));
        assert_eq!(
            refusal.to_string(),
            "could not set up the HTTP client (TLS): no CA certificates were loaded from the system"
        );
    }
}
