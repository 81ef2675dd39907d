//! Text from the server (and from the user) is untrusted. The GitHub runner treats any line
//! that starts with `::` as a workflow command, `##[` anywhere in a line as a legacy one (on
//! stdout and stderr alike), and a `$GITHUB_OUTPUT` line as an entry, so such text is escaped
//! for the place it goes before it goes there. Characters a person cannot
//! see (bidirectional overrides, zero-width marks) are escaped as well: they make a log line or
//! a link read differently from what it is.

/// For a log line or an error message: control characters (CR and LF included) and invisible
/// formatting characters become visible escapes, so the text can never begin a line of its
/// own or reorder what a reader sees, and `##[` loses the meaning the runner gives it.
pub(crate) fn untrusted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_hidden(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    defuse_legacy_commands(out)
}

/// `##[name]data` anywhere in a line is a workflow command to the runner; `##\[` is not.
pub(crate) fn defuse_legacy_commands(text: String) -> String {
    if text.contains("##[") {
        text.replace("##[", "##\\[")
    } else {
        text
    }
}

/// `"text"`, escaped once (`{:?}` on escaped text would escape the backslashes a second time)
/// and cut to a length a one-line message can carry.
pub(crate) fn quoted(text: &str) -> String {
    format!("\"{}\"", untrusted(&truncated(text, QUOTED_LIMIT)))
}

/// How much of a value a message quotes.
const QUOTED_LIMIT: usize = 200;

/// JSON for a line of the CI log: the same value, with every character a person cannot see
/// written as a `\uXXXX` escape and `##[` as `##\u005b`, which any JSON reader decodes back.
pub(crate) fn json_line(value: &serde_json::Value) -> String {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_hidden(c) {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    // Outside its strings, serialized JSON holds no `#`, so this only ever edits a string.
    out.replace("##[", "##\\u005b")
}

/// Control characters, line and paragraph separators, Unicode's format characters (category
/// Cf: bidirectional controls, zero-width spaces and joiners, the BOM, tags...), the code
/// points Unicode says to render as nothing, and the blanks that render as nothing though
/// Unicode does not say so.
pub(crate) fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}')
        || is_format(c)
        || is_default_ignorable(c)
        || is_blank_glyph(c)
}

/// The characters of Unicode's general category Cf (Unicode 15).
fn is_format(c: char) -> bool {
    matches!(c,
        '\u{00AD}'
        | '\u{0600}'..='\u{0605}'
        | '\u{061C}'
        | '\u{06DD}'
        | '\u{070F}'
        | '\u{0890}'..='\u{0891}'
        | '\u{08E2}'
        | '\u{180E}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{206F}'
        | '\u{FEFF}'
        | '\u{FFF9}'..='\u{FFFB}'
        | '\u{110BD}'
        | '\u{110CD}'
        | '\u{13430}'..='\u{1343F}'
        | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0001}'
        | '\u{E0020}'..='\u{E007F}')
}

/// Unicode's `Default_Ignorable_Code_Point` property (DerivedCoreProperties.txt, Unicode 15.1),
/// the code points a renderer shows as nothing when it cannot otherwise show them: besides Cf,
/// the combining grapheme joiner U+034F, the Hangul fillers, the Khmer inherent vowels, the
/// variation selectors and the unassigned ranges kept for more of them.
fn is_default_ignorable(c: char) -> bool {
    matches!(c,
        '\u{00AD}'
        | '\u{034F}'
        | '\u{061C}'
        | '\u{115F}'..='\u{1160}'
        | '\u{17B4}'..='\u{17B5}'
        | '\u{180B}'..='\u{180F}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}'
        | '\u{3164}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{FEFF}'
        | '\u{FFA0}'
        | '\u{FFF0}'..='\u{FFF8}'
        | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0000}'..='\u{E0FFF}')
}

/// Characters that are not default-ignorable yet are drawn as nothing (or as nothing a reader
/// takes for text): the Braille pattern blank U+2800, and U+FFFC, the object replacement
/// character, which stands for an embedded object that is not there.
fn is_blank_glyph(c: char) -> bool {
    matches!(c, '\u{2800}' | '\u{FFFC}')
}

/// The first `limit` characters, with `…` when something was cut.
pub(crate) fn truncated(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// For the message of a workflow command, escaped as the runner unescapes it.
pub(crate) fn workflow_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// For a Markdown table cell in the step summary: no HTML, no table breaks, no formatting, and
/// no invisible characters.
pub(crate) fn markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '!' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            // `\u{202e}`, with its backslash escaped for Markdown.
            c if is_hidden(c) => out.extend(std::iter::once('\\').chain(c.escape_unicode())),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_server_text_can_start_a_line_of_its_own() {
        let text = "ok\n::error::pwned\r\n::add-mask::x\u{2028}::stop-commands::t";
        let escaped = untrusted(text);
        assert_eq!(escaped.lines().count(), 1);
        assert_eq!(
            escaped,
            "ok\\n::error::pwned\\r\\n::add-mask::x\\u{2028}::stop-commands::t"
        );
    }

    #[test]
    fn invisible_characters_are_made_visible_once() {
        let text = "pr\u{202E}knil\u{200B}x\u{FEFF}\u{E0041}";
        assert_eq!(
            untrusted(text),
            "pr\\u{202e}knil\\u{200b}x\\u{feff}\\u{e0041}"
        );
        assert_eq!(quoted("a\u{1b}[2K"), "\"a\\u{1b}[2K\"");
        assert!(!is_hidden('é') && !is_hidden(' ') && !is_hidden('中'));
    }

    #[test]
    fn what_renders_as_nothing_is_hidden_too() {
        for c in [
            '\u{034F}',
            '\u{115F}',
            '\u{1160}',
            '\u{3164}',
            '\u{FFA0}',
            '\u{17B4}',
            '\u{17B5}',
            '\u{FE00}',
            '\u{FE0F}',
            '\u{E0100}',
            '\u{E01EF}',
            '\u{2800}',
            '\u{FFFC}',
        ] {
            assert!(is_hidden(c), "{c:?}");
        }
        assert_eq!(untrusted("a\u{034F}b\u{3164}"), "a\\u{34f}b\\u{3164}");
        for c in ['\u{2801}', '\u{3163}', '\u{FE10}', '\u{1161}', '\u{FFFD}'] {
            assert!(!is_hidden(c), "{c:?}");
        }
    }

    #[test]
    fn legacy_workflow_commands_are_defused_anywhere_in_a_line() {
        assert_eq!(untrusted("x ##[stop-commands]t"), "x ##\\[stop-commands]t");
        let value = serde_json::json!({"status": "a##[error]b\u{202E}\u{85}", "n": [1]});
        let line = json_line(&value);
        assert_eq!(line, r#"{"n":[1],"status":"a##\u005berror]b\u202e\u0085"}"#);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&line).unwrap(),
            value
        );
        let emoji_tag = serde_json::json!("\u{E0041}");
        assert_eq!(json_line(&emoji_tag), r#""\udb40\udc41""#);
    }

    #[test]
    fn bounds_count_characters_not_bytes() {
        assert_eq!(truncated("éééé", 3), "ééé…");
        assert_eq!(truncated("abc", 3), "abc");
    }

    #[test]
    fn workflow_data_escapes_as_the_runner_unescapes() {
        assert_eq!(
            workflow_data("100%\r\n::error::x"),
            "100%25%0D%0A::error::x"
        );
    }

    #[test]
    fn markdown_cells_cannot_break_the_table_or_hold_html() {
        assert_eq!(
            markdown("a|b<img src=x>\n`c`"),
            "a\\|b&lt;img src=x&gt; \\`c\\`"
        );
        assert_eq!(markdown("x\u{202E}y"), "x\\\\u{202e}y");
    }
}
