//! `$GITHUB_OUTPUT` as the runner reads it: the one model of that format, which the unit tests,
//! the fuzz targets (through `crate::fuzzing`), the end-to-end tests and the demo all read the
//! gate's outputs with (the last two include this file with `#[path]`, so it uses nothing of
//! the crate). Only `tests/action_e2e.py` keeps a port of it, in Python.

/// The entries of a `$GITHUB_OUTPUT` file, in order, as actions/runner's file-command parser
/// (`FileCommandManager`) reads them on Linux and macOS: only LF ends a line, so a CR stays in
/// the value (on Windows a CRLF ends a line too; the gate writes LF and escapes every CR and
/// LF in a value, so both read it alike); blank lines are skipped; `name=value`, or
/// `name<<DELIMITER` then the lines up to one equal to the delimiter, each of them ended by
/// LF. A later entry for a name wins when the runner sets the outputs. Anything else is an
/// error, as it fails the runner's step.
pub(crate) fn read(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut entries = Vec::new();
    let mut lines = text
        .split_inclusive('\n')
        .map(|line| match line.strip_suffix('\n') {
            Some(line) => (line, true),
            None => (line, false),
        });
    while let Some((line, _)) = lines.next() {
        if line.is_empty() {
            continue;
        }
        let equals = line.find('=');
        let heredoc = line.find("<<");
        match (equals, heredoc) {
            (Some(e), h) if h.is_none_or(|h| e < h) => {
                entries.push((line[..e].to_owned(), line[e + 1..].to_owned()));
            }
            (_, Some(h)) => {
                let (name, delimiter) = (&line[..h], &line[h + 2..]);
                if name.is_empty() || delimiter.is_empty() {
                    return Err(format!("invalid entry {line:?}"));
                }
                let mut value = Vec::new();
                loop {
                    let Some((next, ended)) = lines.next() else {
                        return Err(format!("delimiter {delimiter:?} not found"));
                    };
                    if next == delimiter {
                        break;
                    }
                    if !ended {
                        return Err("the delimiter has no line break before it".to_owned());
                    }
                    value.push(next);
                }
                entries.push((name.to_owned(), value.join("\n")));
            }
            _ => return Err(format!("invalid line {line:?}")),
        }
    }
    Ok(entries)
}
