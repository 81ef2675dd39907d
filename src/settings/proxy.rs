//! The proxy an https API would go through, as reqwest will choose it from `HTTPS_PROXY`,
//! `ALL_PROXY` and `NO_PROXY` (read here through the injected environment): one it would
//! silently ignore, or one it cannot speak, is refused before anything is sent.

use std::ffi::OsString;

use reqwest::Url;

use super::refusal::ConfigError;

/// Why the proxy an https API would go through cannot serve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ProxyProblem {
    #[error(
        "is not a proxy URL, so it would be ignored: give http://host:port (with user:password@ if it asks for credentials), or unset it"
    )]
    Unparseable,
    /// The URL parser would read a port over 65535 as none, so the proxy's default, 80.
    #[error(
        "has no usable port (it must be a number from 1 to 65535): give http://host:port, or unset it"
    )]
    Port,
    #[error(
        "is a SOCKS proxy, which this program does not support: give an http:// proxy that tunnels with CONNECT, or add the API's host to NO_PROXY"
    )]
    Socks,
}

/// The proxy variables as reqwest reads them for an https request, first set name first: a
/// variable that is set, even empty, hides the next one.
const HTTPS_PROXY_VARIABLES: [&[&str]; 2] =
    [&["HTTPS_PROXY", "https_proxy"], &["ALL_PROXY", "all_proxy"]];

/// Refuses a proxy setting reqwest would silently ignore (and so connect directly, or through
/// `ALL_PROXY` instead), and a SOCKS proxy the API would go through, which this build cannot
/// speak. What reqwest's matcher does with the same values decides both, so they agree.
pub(super) fn check_proxy(
    api_url: &Url,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<(), ConfigError> {
    // A CGI request's `Proxy:` header would become HTTP_PROXY; reqwest ignores all proxies then.
    if env("REQUEST_METHOD").is_some() {
        return Ok(());
    }
    let first_set = |names: &[&'static str]| {
        names.iter().find_map(|&name| {
            let value = env(name)?.into_string().ok()?;
            Some((name, value))
        })
    };
    let mut values = Vec::new();
    for names in HTTPS_PROXY_VARIABLES {
        let Some((name, value)) = first_set(names) else {
            values.push(String::new());
            continue;
        };
        let problem = if value.is_empty() {
            None
        } else if !proxy_parses(&with_lowercase_scheme(&value)) {
            Some(ProxyProblem::Unparseable)
        } else if !port_is_usable(&value) {
            Some(ProxyProblem::Port)
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(ConfigError::Proxy {
                name,
                value: without_credentials(&value),
                problem,
            });
        }
        values.push(with_lowercase_scheme(&value));
    }
    let no_proxy = first_set(&["NO_PROXY", "no_proxy"]).map(|(_, value)| value);
    let matcher = hyper_util::client::proxy::matcher::Matcher::builder()
        .https(values[0].clone())
        .all(values[1].clone())
        .no(no_proxy.unwrap_or_default())
        .build();
    let Ok(api) = api_url.as_str().parse::<http::Uri>() else {
        return Ok(());
    };
    let Some(proxy) = matcher.intercept(&api) else {
        return Ok(());
    };
    if proxy
        .uri()
        .scheme_str()
        .is_some_and(|s| s.starts_with("socks"))
    {
        let (name, value) = HTTPS_PROXY_VARIABLES
            .iter()
            .find_map(|names| first_set(names).filter(|(_, v)| !v.is_empty()))
            .unwrap_or_default();
        return Err(ConfigError::Proxy {
            name,
            value: without_credentials(&value),
            problem: ProxyProblem::Socks,
        });
    }
    Ok(())
}

/// `SOCKS5://` is `socks5://`: a scheme is read without regard to case.
fn with_lowercase_scheme(value: &str) -> String {
    match value.find("://") {
        Some(end) => format!("{}{}", value[..end].to_ascii_lowercase(), &value[end..]),
        None => value.to_owned(),
    }
}

/// Whether the port the value gives, if any, is one a connection can go to: `:99999`,
/// `:65536` and `:-1` would be read as no port at all, and `:0` is no port to connect to.
fn port_is_usable(value: &str) -> bool {
    let start = value.find("://").map_or(0, |scheme| scheme + 3);
    let rest = &value[start..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host_port = &authority[authority.rfind('@').map_or(0, |at| at + 1)..];
    // After an IPv6 literal's `]`, or after the only `:` of any other host.
    let port = match host_port.rfind(']') {
        Some(end) => host_port[end + 1..].strip_prefix(':'),
        None => host_port.split_once(':').map(|(_, port)| port),
    };
    match port {
        None | Some("") => true,
        Some(port) => {
            port.bytes().all(|b| b.is_ascii_digit()) && port.parse::<u16>().is_ok_and(|p| p != 0)
        }
    }
}

/// A proxy setting as a message may show it: a password before the host is not shown.
fn without_credentials(value: &str) -> String {
    let start = value.find("://").map_or(0, |scheme| scheme + 3);
    match value[start..].rfind('@') {
        Some(at) => format!("{}***{}", &value[..start], &value[start + at..]),
        None => value.to_owned(),
    }
}

/// Whether reqwest's matcher takes `value` as a proxy (hyper-util's `parse_env_uri`): an
/// `http::Uri` with an authority, and a scheme it knows or none.
fn proxy_parses(value: &str) -> bool {
    let matcher = hyper_util::client::proxy::matcher::Matcher::builder()
        .https(value.to_owned())
        .build();
    // Any https destination: with no NO_PROXY, a proxy that parses intercepts it.
    let probe = http::Uri::from_static("https://example.com/");
    matcher.intercept(&probe).is_some()
}
