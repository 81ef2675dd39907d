//! Keeps the API key out of everything a run writes. A server may echo the key whole, cut
//! short, without its `mint_` prefix, in another case, or encoded (JSON `\u006d…`, `%6D…`,
//! `&#109;…`), so any run of [`WINDOW`] or more characters of the key is redacted, in the text
//! and in each word once decoded. Redaction is applied where server text enters the program and
//! once more at every sink (the log, stdout, the annotation, the output files).

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;

use serde_json::Value;

use crate::text::sanitize::is_hidden;

pub(crate) const REDACTED: &str = "<redacted>";

/// The shortest run of the key's characters that counts as the key: long enough that no
/// ordinary text holds one by chance, short enough that a key cut short is still caught.
const WINDOW: usize = 8;

/// Cheap to clone: the log writer holds one, the report another.
#[derive(Clone, Default)]
pub(crate) struct Redactor {
    windows: Option<Arc<HashSet<Vec<u8>>>>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redactor")
    }
}

impl Redactor {
    pub(crate) fn new(key: &str) -> Self {
        let key = key.trim().to_ascii_lowercase();
        if key.is_empty() {
            return Redactor::default();
        }
        let width = WINDOW.min(key.len());
        let windows = key.as_bytes().windows(width).map(<[u8]>::to_vec).collect();
        Redactor {
            windows: Some(Arc::new(windows)),
        }
    }

    pub(crate) fn text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let Some(windows) = &self.windows else {
            return Cow::Borrowed(text);
        };
        match encoded_words(text, windows) {
            Some(words) => Cow::Owned(replace_runs(&words, windows).into_owned()),
            None => replace_runs(text, windows),
        }
    }

    /// Every string of a decoded JSON value, object keys included.
    pub(crate) fn value(&self, value: &mut Value) {
        if self.windows.is_none() {
            return;
        }
        match value {
            Value::String(text) => {
                if let Cow::Owned(clean) = self.text(text) {
                    *text = clean;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| self.value(item)),
            Value::Object(map) => {
                *map = std::mem::take(map)
                    .into_iter()
                    .map(|(name, mut value)| {
                        self.value(&mut value);
                        (self.text(&name).into_owned(), value)
                    })
                    .collect();
            }
            _ => {}
        }
    }

    /// Bytes for a sink that writes bytes (the log writer gets UTF-8 from the formatter).
    pub(crate) fn bytes<'a>(&self, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        match std::str::from_utf8(bytes) {
            Ok(text) => match self.text(text) {
                Cow::Borrowed(_) => Cow::Borrowed(bytes),
                Cow::Owned(clean) => Cow::Owned(clean.into_bytes()),
            },
            Err(_) => Cow::Owned(
                self.text(&String::from_utf8_lossy(bytes))
                    .into_owned()
                    .into_bytes(),
            ),
        }
    }
}

/// Replaces every run of the text covered by windows of the key (ASCII case ignored), also
/// where hidden characters (zero-width, default-ignorable, control) split the key into pieces
/// shorter than a window: a reader sees the key whole, and so may a program that drops them.
/// A run's hidden characters go with it.
fn replace_runs<'a>(text: &'a str, windows: &HashSet<Vec<u8>>) -> Cow<'a, str> {
    let Some(width) = windows.iter().next().map(Vec::len) else {
        return Cow::Borrowed(text);
    };
    // The text without its hidden characters, and where each of its bytes is in the text.
    let mut seen = Vec::with_capacity(text.len());
    let mut at_in_text = Vec::with_capacity(text.len() + 1);
    for (at, c) in text.char_indices() {
        if !is_hidden(c) {
            let c = ascii_of_full_width(c);
            let mut buffer = [0u8; 4];
            for (offset, byte) in c.encode_utf8(&mut buffer).bytes().enumerate() {
                seen.push(byte.to_ascii_lowercase());
                at_in_text.push(at + offset);
            }
        }
    }
    let mut covered: Vec<(usize, usize)> = Vec::new();
    for (at, window) in seen.windows(width).enumerate() {
        if windows.contains(window) {
            let (start, end) = (at_in_text[at], at_in_text[at + width - 1] + 1);
            match covered.last_mut() {
                Some((_, last_end)) if *last_end >= start => *last_end = end,
                _ => covered.push((start, end)),
            }
        }
    }
    if covered.is_empty() {
        return Cow::Borrowed(text);
    }
    // A checked key is ASCII, so runs fall on character boundaries; an unchecked one (in a
    // refusal of the key itself) may not, so each run is widened to whole characters.
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (mut start, mut end) in covered {
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        while !text.is_char_boundary(end) {
            end += 1;
        }
        if start < last {
            start = last;
        }
        out.push_str(&text[last..start]);
        out.push_str(REDACTED);
        last = end;
    }
    out.push_str(&text[last..]);
    Cow::Owned(out)
}

/// The ASCII character a full-width form (U+FF01 to U+FF5E) stands for, as Unicode's
/// compatibility normalisation (NFKC) reads it: `ｍｉｎｔ＿…` is the key to a reader and to any
/// program that normalises. Other characters are themselves.
fn ascii_of_full_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// Words that hold the key only once decoded become [`REDACTED`] whole. `None`: none did.
fn encoded_words(text: &str, windows: &HashSet<Vec<u8>>) -> Option<String> {
    if !text.contains(['%', '\\', '&']) {
        return None;
    }
    let mut changed = false;
    let mut out = String::with_capacity(text.len());
    for word in text.split_inclusive(char::is_whitespace) {
        let decoded = decode(word);
        if decoded != word && matches!(replace_runs(&decoded, windows), Cow::Owned(_)) {
            changed = true;
            out.push_str(REDACTED);
            // The word's trailing space stays, so the text keeps its shape.
            out.push_str(&word[word.trim_end().len()..]);
        } else {
            out.push_str(word);
        }
    }
    changed.then_some(out)
}

/// A word with percent-encoding (up to three layers), JSON `\uXXXX` escapes and HTML numeric
/// entities decoded, as a reader further along might decode it.
fn decode(word: &str) -> String {
    let mut text = word.to_owned();
    for _ in 0..3 {
        let next = percent_encoding::percent_decode_str(&text)
            .decode_utf8_lossy()
            .into_owned();
        if next == text {
            break;
        }
        text = next;
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(c) = rest.chars().next() {
        let escape = if let Some(hex) = rest.strip_prefix("\\u").and_then(|r| r.get(..4)) {
            u32::from_str_radix(hex, 16).ok().map(|n| (n, 6))
        } else if let Some(entity) = rest.strip_prefix("&#") {
            // Browsers decode `&#95`, `&#0095;` and `&#x5f` alike: the `;` is optional.
            let (hex, digits) = match entity.strip_prefix(['x', 'X']) {
                Some(hex) => (true, hex),
                None => (false, entity),
            };
            let count = digits
                .bytes()
                .take_while(|b| {
                    if hex {
                        b.is_ascii_hexdigit()
                    } else {
                        b.is_ascii_digit()
                    }
                })
                .count();
            let number = u32::from_str_radix(&digits[..count], if hex { 16 } else { 10 }).ok();
            let semicolon = usize::from(digits[count..].starts_with(';'));
            number.map(|n| (n, 2 + usize::from(hex) + count + semicolon))
        } else {
            None
        };
        if let Some((decoded, len)) =
            escape.and_then(|(n, len)| char::from_u32(n).map(|c| (c, len)))
        {
            out.push(decoded);
            rest = &rest[len..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "mint_S3cr3tK3y";

    #[test]
    fn the_key_is_replaced_whole_cut_short_without_prefix_or_in_another_case() {
        let redactor = Redactor::new(KEY);
        for (echo, shown) in [
            ("a mint_S3cr3tK3y b", "a <redacted> b"),
            (
                "Invalid API key: mint_S3cr3tK3",
                "Invalid API key: <redacted>",
            ),
            ("key S3cr3tK3y rejected", "key <redacted> rejected"),
            ("KEY MINT_S3CR3TK3Y", "KEY <redacted>"),
            ("nothing secret here", "nothing secret here"),
        ] {
            assert_eq!(redactor.text(echo), shown, "{echo}");
        }
    }

    #[test]
    fn a_key_split_by_hidden_characters_is_replaced_whole() {
        let redactor = Redactor::new("mint_secretkey12345678");
        for (echo, shown) in [
            (
                "ref mint_se\u{200b}cretke\u{200b}y123456\u{200b}78 x",
                "ref <redacted> x",
            ),
            (
                "a mint\u{034F}_secr\u{3164}etkey1\u{FE0F}2345678",
                "a <redacted>",
            ),
            ("secre\u{1b}tkey\n1234", "<redacted>"),
            ("se\u{200b}cret ke\u{200b}y", "se\u{200b}cret ke\u{200b}y"),
            ("\u{200b}é secretkey1 é", "\u{200b}é <redacted> é"),
            (
                "summary: \u{FF4D}\u{FF49}\u{FF4E}\u{FF54}\u{FF3F}\u{FF53}\u{FF45}\u{FF43}\u{FF52}\u{FF45}\u{FF54}\u{FF4B}\u{FF45}\u{FF59}\u{FF11}\u{FF12} x",
                "summary: <redacted> x",
            ),
        ] {
            assert_eq!(redactor.text(echo), shown, "{echo:?}");
        }
        assert_eq!(
            redactor.text("bad \\u006dint_se\\u200bcretke\\u200by12"),
            "bad <redacted>"
        );
    }

    #[test]
    fn an_encoded_key_is_replaced_word_by_word() {
        let redactor = Redactor::new(KEY);
        for (echo, shown) in [
            ("key mint%5FS3cr3tK3y expired", "key <redacted> expired"),
            ("https://evil/%256dint%255FS3cr3tK3y", "<redacted>"),
            ("bad \\u006dint_S3cr3tK3y", "bad <redacted>"),
            ("mint&#95;S3cr3tK3y!", "<redacted>"),
            (
                "Invalid key mint&#95S3cr3&#116K3y rejected",
                "Invalid key <redacted> rejected",
            ),
            ("mint&#000000095;S3cr3t&#000000075;3y", "<redacted>"),
            ("100% fine & \\u0041", "100% fine & \\u0041"),
        ] {
            assert_eq!(redactor.text(echo), shown, "{echo}");
        }
    }

    #[test]
    fn every_json_string_is_redacted_after_decoding() {
        let redactor = Redactor::new(KEY);
        let mut value: Value = serde_json::from_str(
            r#"{"a":["\u006dint_S3cr3tK3y"],"mint_S3cr3tK3y":{"b":"xmint_S3cr3tK3yx"}}"#,
        )
        .unwrap();
        redactor.value(&mut value);
        assert_eq!(
            value.to_string(),
            r#"{"<redacted>":{"b":"x<redacted>x"},"a":["<redacted>"]}"#
        );
        assert_eq!(
            &*redactor.bytes(b"\xffmint_S3cr3tK3y"),
            "\u{fffd}<redacted>".as_bytes()
        );
    }

    #[test]
    fn an_unchecked_key_that_is_not_ascii_never_splits_a_character() {
        let redactor = Redactor::new("mint_S3cr3tK3yé");
        assert_eq!(redactor.text("x mint_S3cr3tK3yè y"), "x <redacted> y");
        let shown = redactor.text("ééééé3cr3tK3yé");
        assert!(
            shown.starts_with("éééé") && shown.ends_with("<redacted>"),
            "{shown}"
        );
    }

    #[test]
    fn without_a_key_nothing_changes() {
        let redactor = Redactor::default();
        assert!(matches!(redactor.text("mint_S3cr3tK3y"), Cow::Borrowed(_)));
    }
}
