//! An answer's body as the classifier reads it: decoded once, leniently (a byte that is not
//! UTF-8 or a lone surrogate escape is U+FFFD, a BOM is skipped), refused where readers would
//! disagree on it (a field that decides the verdict given twice), and redacted after decoding.

use std::borrow::Cow;
use std::fmt;

use serde_json::Value;

use crate::api::classify::SERVER_WORDS_LIMIT;
use crate::api::failure::{NotAJob, Words};
use crate::api::resource::Reading;
use crate::text::redact::Redactor;
use crate::text::sanitize::{truncated, untrusted};

/// An answer body, decoded once and redacted after decoding, so that no escape sequence
/// (`\u006dint_…`) can carry the key past redaction.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    Json(Value),
    NotJson {
        text: String,
        error: String,
    },
    /// JSON whose meaning depends on the reader: a field that decides the verdict given twice.
    Ambiguous(&'static str),
    /// There is no whole text to read: it is empty, too large, or the connection broke.
    Unread(NotAJob),
}

impl Body {
    /// Leniently in detail: a byte that is not UTF-8 or a lone UTF-16 surrogate escape (in a
    /// field nobody reads, say) becomes U+FFFD instead of making the whole answer unreadable,
    /// and a leading BOM is skipped.
    pub(crate) fn decode(bytes: &[u8], redactor: &Redactor) -> Body {
        let text = String::from_utf8_lossy(bytes);
        let json = text.strip_prefix('\u{feff}').unwrap_or(&text);
        if json.trim().is_empty() {
            return Body::Unread(NotAJob::Empty);
        }
        let json = lone_surrogates_replaced(json);
        match serde_json::from_str::<Value>(&json) {
            Ok(mut value) => {
                if let Some(field) = twice(&json) {
                    return Body::Ambiguous(field);
                }
                redactor.value(&mut value);
                Body::Json(value)
            }
            Err(error) => Body::NotJson {
                text: redactor.text(&text).into_owned(),
                error: error.to_string(),
            },
        }
    }

    /// What a 2xx answer holds, or why it holds none.
    pub(crate) fn read<R: Reading>(self) -> Result<R, NotAJob> {
        match self {
            Body::Json(value) => R::read(value),
            Body::NotJson { error, .. } => Err(NotAJob::NotJson(untrusted(&error))),
            Body::Ambiguous(field) => Err(NotAJob::Ambiguous(field)),
            Body::Unread(reason) => Err(reason),
        }
    }

    /// The server's own words, from `{"error": "..."}` or the start of the body, escaped and
    /// short.
    pub(crate) fn server_words(&self) -> Words {
        let text = match self {
            Body::Json(value) => match value.get("error") {
                Some(Value::String(error)) => error.clone(),
                _ => value.to_string(),
            },
            Body::NotJson { text, .. } => text.clone(),
            Body::Ambiguous(_) | Body::Unread(_) => String::new(),
        };
        Words(untrusted(&truncated(text.trim(), SERVER_WORDS_LIMIT)))
    }
}

/// The first field that decides the verdict and appears twice in a JSON object answer: serde
/// keeps the last, another reader the first, so neither can be trusted.
fn twice(json: &str) -> Option<&'static str> {
    struct Keys(Vec<String>);
    impl<'de> serde::Deserialize<'de> for Keys {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct Visitor;
            impl<'de> serde::de::Visitor<'de> for Visitor {
                type Value = Keys;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Keys, A::Error> {
                    let mut keys = Vec::new();
                    while let Some((key, serde::de::IgnoredAny)) = map.next_entry::<String, _>()? {
                        keys.push(key);
                    }
                    Ok(Keys(keys))
                }
            }
            deserializer.deserialize_map(Visitor)
        }
    }
    let Keys(keys) = serde_json::from_str(json).ok()?;
    [
        "status",
        "id",
        "prLink",
        "source",
        "_id",
        "statusId",
        "previewUrl",
    ]
    .into_iter()
    .find(|field| keys.iter().filter(|key| key == field).count() > 1)
}

/// The JSON text with each `\uXXXX` escape of a UTF-16 surrogate that is not half of a pair
/// written as `\ufffd`. Node's `JSON.stringify` writes a lone one for a string cut inside an
/// emoji; `serde_json` refuses the whole text for it, where a browser or Node reads U+FFFD, as
/// a byte that is not UTF-8 is read here. Redaction runs after this decoding, so an escaped
/// key is still caught.
fn lone_surrogates_replaced(json: &str) -> Cow<'_, str> {
    let bytes = json.as_bytes();
    let escape_at = |at: usize| -> Option<u16> {
        let hex = bytes.get(at..at + 6)?.strip_prefix(b"\\u")?;
        if !hex.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        u16::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
    };
    let mut out = String::new();
    let mut copied = 0;
    let mut in_string = false;
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'"' => {
                in_string = !in_string;
                at += 1;
            }
            b'\\' if in_string => match escape_at(at) {
                Some(0xD800..=0xDBFF) if matches!(escape_at(at + 6), Some(0xDC00..=0xDFFF)) => {
                    at += 12;
                }
                Some(0xD800..=0xDFFF) => {
                    out.push_str(&json[copied..at]);
                    out.push_str("\\ufffd");
                    at += 6;
                    copied = at;
                }
                // Any other escape, `\"` and `\\` included, is two bytes and then text.
                _ => at += 2,
            },
            _ => at += 1,
        }
    }
    // Every replacement moves `copied` past it: none, and the text is as it came.
    if copied == 0 {
        return Cow::Borrowed(json);
    }
    out.push_str(&json[copied..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests;
