//! Server and user text on its way to a person or a file: escaped for where it goes, and the
//! API key redacted from all of it.

pub(crate) mod redact;
pub(crate) mod sanitize;
