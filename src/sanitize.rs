//! Text from the server (and from the user) is untrusted. The GitHub runner treats any line
//! that starts with `::` as a workflow command, and a `$GITHUB_OUTPUT` line as an entry, so
//! such text is escaped for the place it goes before it goes there.

/// For a log line or an error message: control characters (CR and LF included) become visible
/// escapes, so the text can never begin a line of its own.
pub fn untrusted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// For the message of a workflow command, escaped as the runner unescapes it.
pub fn workflow_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// For a Markdown table cell in the step summary: no HTML, no table breaks, no formatting.
pub fn markdown(text: &str) -> String {
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
    }
}
