//! Keeps the API key out of everything a run writes. A server may echo the key, raw or as JSON
//! escapes (`\u006dint_…`) that only decoding turns back into the key, so redaction is applied
//! to decoded text where server text enters the program, and once more at every sink (the
//! log, stdout, the annotation, the output files) in case some path was missed.

use std::borrow::Cow;
use std::sync::Arc;

use serde_json::Value;

pub const REDACTED: &str = "<redacted>";

/// Cheap to clone: the log writer holds one, the report another.
#[derive(Clone, Default)]
pub struct Redactor {
    key: Option<Arc<str>>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redactor")
    }
}

impl Redactor {
    pub fn new(key: &str) -> Self {
        Redactor {
            key: (!key.is_empty()).then(|| Arc::from(key)),
        }
    }

    pub fn text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match &self.key {
            Some(key) if text.contains(&**key) => Cow::Owned(text.replace(&**key, REDACTED)),
            _ => Cow::Borrowed(text),
        }
    }

    /// Every string of a decoded JSON value, object keys included.
    pub fn value(&self, value: &mut Value) {
        let Some(key) = &self.key else { return };
        match value {
            Value::String(text) if text.contains(&**key) => *text = text.replace(&**key, REDACTED),
            Value::Array(items) => items.iter_mut().for_each(|item| self.value(item)),
            Value::Object(map) => {
                if map.keys().any(|name| name.contains(&**key)) {
                    *map = std::mem::take(map)
                        .into_iter()
                        .map(|(name, value)| (name.replace(&**key, REDACTED), value))
                        .collect();
                }
                map.values_mut().for_each(|item| self.value(item));
            }
            _ => {}
        }
    }

    /// Bytes that may not be text, for a sink that writes bytes.
    pub fn bytes<'a>(&self, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        let Some(key) = &self.key else {
            return Cow::Borrowed(bytes);
        };
        let needle = key.as_bytes();
        if !bytes.windows(needle.len()).any(|window| window == needle) {
            return Cow::Borrowed(bytes);
        }
        let mut out = Vec::with_capacity(bytes.len());
        let mut rest = bytes;
        while let Some(at) = rest
            .windows(needle.len())
            .position(|window| window == needle)
        {
            out.extend_from_slice(&rest[..at]);
            out.extend_from_slice(REDACTED.as_bytes());
            rest = &rest[at + needle.len()..];
        }
        out.extend_from_slice(rest);
        Cow::Owned(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "mint_k3y";

    #[test]
    fn the_key_is_replaced_in_text_bytes_and_every_json_string() {
        let redactor = Redactor::new(KEY);
        assert_eq!(
            redactor.text("a mint_k3y b mint_k3y"),
            "a <redacted> b <redacted>"
        );
        assert_eq!(&*redactor.bytes(b"\xffmint_k3y"), b"\xff<redacted>");
        let mut value: Value =
            serde_json::from_str(r#"{"a":["\u006dint_k3y"],"mint_k3y":{"b":"xmint_k3yx"}}"#)
                .unwrap();
        redactor.value(&mut value);
        assert_eq!(
            value.to_string(),
            r#"{"<redacted>":{"b":"x<redacted>x"},"a":["<redacted>"]}"#
        );
    }

    #[test]
    fn without_a_key_nothing_changes() {
        let redactor = Redactor::default();
        assert!(matches!(redactor.text("mint_k3y"), Cow::Borrowed(_)));
    }
}
