//! Reading an answer's fields one by one, for every kind of answer (a job, a deployment's
//! status, a trigger's answer): strictly in shape, leniently in detail. Each field is read on its
//! own, bounded, and checked the same way wherever it comes from, so one field of an unexpected
//! type or size is absent with a note, and an id or a link means the same in every kind.

use std::fmt;

use serde_json::{Map, Value};

use crate::api::failure::NotAJob;
use crate::text::sanitize::{is_hidden, quoted, truncated};

/// Bounds, in bytes, on what the server may put in a field that reaches an output or a log
/// line. GitLab caps a whole dotenv report at 5,120 bytes, and a longer value is not a real one
/// anyway; together these stay under that cap.
pub(crate) const ID_LIMIT: usize = 256;
pub(crate) const STATUS_LIMIT: usize = 64;
pub(crate) const PR_LINK_LIMIT: usize = 2048;
pub(crate) const REPOSITORY_LIMIT: usize = 1024;
pub(crate) const REF_LIMIT: usize = 256;

/// Why a string cannot serve as an id in a URL path segment and a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdProblem {
    Empty,
    HiddenCharacter,
    DotSegment,
    TooLong,
    Undecodable,
}

impl fmt::Display for IdProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IdProblem::Empty => "is empty",
            IdProblem::HiddenCharacter => {
                "holds a control or invisible character (a stray newline?)"
            }
            // A URL library drops `.` and `..` segments, which would send the request elsewhere.
            IdProblem::DotSegment => "is `.` or `..`, which is not an id",
            IdProblem::TooLong => "is over 256 bytes",
            IdProblem::Undecodable => {
                "holds U+FFFD, the mark of a character that could not be decoded"
            }
        })
    }
}

/// One check for ids from the user and from the server alike.
pub(crate) fn check_id(id: &str) -> Result<(), IdProblem> {
    if id.is_empty() {
        Err(IdProblem::Empty)
    } else if id.chars().any(is_hidden) {
        Err(IdProblem::HiddenCharacter)
    } else if id == "." || id == ".." {
        Err(IdProblem::DotSegment)
    } else if id.len() > ID_LIMIT {
        Err(IdProblem::TooLong)
    } else if id.contains(REPLACEMENT) {
        Err(IdProblem::Undecodable)
    } else {
        Ok(())
    }
}

/// What a character that could not be decoded (a byte that is not UTF-8, a lone UTF-16
/// surrogate escape) is read as.
pub(crate) const REPLACEMENT: char = '\u{fffd}';

/// Why a link (`prLink`, `previewUrl`) is not taken as one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PrLinkProblem {
    NotHttpUrl,
    HiddenCharacters,
    /// `https://github.com@evil.example/...` leads to `evil.example`.
    Userinfo,
    /// `https://github.com\\@evil.example/` leads to github.com or evil.example, by reader.
    Backslash,
    /// `https://gіthub.com/` (a Cyrillic `і`) reads as github.com and leads to `xn--gthub-...`.
    HostNotPlain,
    Undecodable,
}

/// A link from the server that every reader reads alike, or why it is none. URL readers
/// disagree where the text is not plain: `https://github.com\\@evil.example/` is github.com to
/// the url crate and evil.example to curl and Python, and `https:github.com/...` is a path to
/// some of them. So the text must start `http://` or `https://` and then the host, with no
/// backslash anywhere and no user name or password (`user@`, even an empty one) before the host,
/// and the host (and port) written as the URL standard reads it (`xn--` for a name in another
/// script, no default port, no `0x7f.1` for an address): what a person reads is where it leads.
pub(crate) fn plain_http_link(link: &str) -> Result<String, PrLinkProblem> {
    if link.chars().any(|c| c.is_whitespace() || is_hidden(c)) {
        return Err(PrLinkProblem::HiddenCharacters);
    }
    if link.contains(REPLACEMENT) {
        return Err(PrLinkProblem::Undecodable);
    }
    let after_scheme = ["http://", "https://"].into_iter().find_map(|prefix| {
        link.get(..prefix.len())
            .filter(|head| head.eq_ignore_ascii_case(prefix))
            .map(|_| &link[prefix.len()..])
    });
    let Some(after_scheme) = after_scheme else {
        return Err(PrLinkProblem::NotHttpUrl);
    };
    if link.contains('\\') {
        return Err(PrLinkProblem::Backslash);
    }
    let authority = after_scheme
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    if authority.is_empty() {
        return Err(PrLinkProblem::NotHttpUrl);
    }
    if authority.contains('@') {
        return Err(PrLinkProblem::Userinfo);
    }
    let url = url::Url::parse(link)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https"));
    let Some(host) = url.as_ref().and_then(url::Url::host_str) else {
        return Err(PrLinkProblem::NotHttpUrl);
    };
    let read_as = match url.as_ref().and_then(url::Url::port) {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    if !authority.eq_ignore_ascii_case(&read_as) {
        return Err(PrLinkProblem::HostNotPlain);
    }
    Ok(link.to_owned())
}

/// Something odd in an answer that did not stop it from being read: said once in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Note {
    WrongType {
        field: &'static str,
        expected: &'static str,
    },
    TooLong {
        field: &'static str,
        limit: usize,
    },
    NotAPrLink(PrLinkProblem),
    NotAPreviewUrl(PrLinkProblem),
    /// A status read as a known one, though its whitespace or case differs.
    Normalized {
        sent: String,
        read: String,
    },
    /// A character in the field could not be decoded: `kept` with U+FFFD in its place, or
    /// read as absent where a near miss would be taken for something else.
    Undecodable {
        field: &'static str,
        kept: bool,
    },
    /// An automation's trigger was accepted with no usable id in `field`, so `output` is
    /// empty. Accepted is accepted: sent again, the automation would run twice.
    AcceptedWithoutId {
        field: &'static str,
        output: &'static str,
    },
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::WrongType { field, expected } => {
                write!(f, "field {field} is not {expected}; read as absent")
            }
            Note::TooLong { field, limit } => {
                write!(
                    f,
                    "field {field} is over {limit} characters; read as absent"
                )
            }
            Note::NotAPrLink(problem) => not_a_link(f, "prLink", *problem, "no PR"),
            Note::NotAPreviewUrl(problem) => {
                not_a_link(f, "previewUrl", *problem, "no preview URL")
            }
            Note::Normalized { sent, read } => write!(
                f,
                "status {} read as {read:?} (whitespace or case differs)",
                quoted(sent)
            ),
            Note::AcceptedWithoutId { field, output } => write!(
                f,
                "the trigger was accepted, but the answer gives no usable {field}, so the {output} output is empty: the trigger is not sent again (the automation would run twice); find the run on the Automation Runs page of the Mintlify dashboard"
            ),
            Note::Undecodable { field, kept } => write!(
                f,
                "field {field} holds a character that could not be decoded (a lone UTF-16 surrogate escape or a byte that is not UTF-8); {}",
                if *kept {
                    "read with U+FFFD in its place"
                } else {
                    "read as absent"
                }
            ),
        }
    }
}

/// Why the link in `field` is not taken, and what it is read as instead.
fn not_a_link(
    f: &mut fmt::Formatter<'_>,
    field: &str,
    problem: PrLinkProblem,
    read_as: &str,
) -> fmt::Result {
    let why = match problem {
        PrLinkProblem::NotHttpUrl => " is not written as http:// or https:// and a host",
        PrLinkProblem::HiddenCharacters => " holds whitespace, control or invisible characters",
        PrLinkProblem::Userinfo => {
            " holds a user name or password before its host (user@host), so it may lead elsewhere than it seems"
        }
        PrLinkProblem::Backslash => {
            " holds a backslash, which URL readers take differently (one reads the host another does not)"
        }
        PrLinkProblem::HostNotPlain => {
            "'s host is not written as URL readers read it (letters of another script, a default port, an address in an odd form), so it may lead elsewhere than it seems"
        }
        PrLinkProblem::Undecodable => {
            " holds a character that could not be decoded (a lone UTF-16 surrogate escape or a byte that is not UTF-8)"
        }
    };
    write!(f, "{field}{why}; read as {read_as}")
}

/// Why an answer with these notes, and no status, is not a job or a deployment's status:
/// its status could not be decoded, or it has none.
pub(crate) fn no_status(notes: &[Note]) -> NotAJob {
    let undecodable = notes.iter().any(|note| {
        matches!(
            note,
            Note::Undecodable {
                field: "status",
                ..
            }
        )
    });
    if undecodable {
        NotAJob::UndecodableStatus
    } else {
        NotAJob::NoStatus
    }
}

/// Reads `raw` strictly in shape (a JSON object) and leniently in detail: `read` takes each
/// field it needs on its own; what was odd is returned as notes, beside the answer as sent.
pub(crate) fn object<T>(
    raw: Value,
    read: impl FnOnce(&mut Fields<'_>) -> T,
) -> Result<(T, Value, Vec<Note>), NotAJob> {
    let Value::Object(object) = &raw else {
        return Err(NotAJob::NotAnObject);
    };
    let mut notes = Vec::new();
    let read = read(&mut Fields {
        object,
        notes: &mut notes,
    });
    Ok((read, raw, notes))
}

/// A kind of answer's statuses: the ones this version knows, and any other as sent.
pub(crate) trait Statuses: Sized {
    /// The known status written `normal` (trimmed and in ASCII lower case), if it is one.
    fn known(normal: &str) -> Option<Self>;
    /// A status this version does not know, as sent (bounded).
    fn unknown(sent: String) -> Self;
    /// How the API writes it.
    fn spelled(&self) -> &str;
}

/// One object's fields, each read on its own, with what was odd noted. Every kind of answer
/// (a job, a deployment's status, a trigger's answer) is read through it.
pub(crate) struct Fields<'a> {
    pub(crate) object: &'a Map<String, Value>,
    pub(crate) notes: &'a mut Vec<Note>,
}

impl Fields<'_> {
    /// An id field, and whether one was given that is no usable id: an answer with one may be
    /// about anything.
    pub(crate) fn id(&mut self, field: &'static str) -> (Option<String>, bool) {
        let id = self.text(field, ID_LIMIT);
        let unusable = id.is_none() && self.object.get(field).is_some_and(|id| !id.is_null());
        (id, unusable)
    }

    /// The `status` field, any length: a known status is recognised after trimming whitespace
    /// and ignoring ASCII case (with a note when it was written otherwise), another is kept
    /// short. One with a character that could not be decoded is no status: read as unknown, it
    /// would be waited on until the deadline as if it were still running.
    pub(crate) fn status<S: Statuses>(&mut self) -> Option<S> {
        let sent = self.string("status", usize::MAX)?;
        if sent.contains(REPLACEMENT) {
            self.notes.push(Note::Undecodable {
                field: "status",
                kept: false,
            });
            return None;
        }
        let Some(status) = S::known(&sent.trim().to_ascii_lowercase()) else {
            if sent.len() > STATUS_LIMIT {
                self.notes.push(Note::TooLong {
                    field: "status",
                    limit: STATUS_LIMIT,
                });
            }
            return Some(S::unknown(truncated(&sent, STATUS_LIMIT)));
        };
        if status.spelled() != sent {
            self.notes.push(Note::Normalized {
                read: status.spelled().to_owned(),
                sent,
            });
        }
        Some(status)
    }

    /// A string field; `null`, absent and `""` are all absent, another type is noted.
    pub(crate) fn string(&mut self, field: &'static str, limit: usize) -> Option<String> {
        self.string_in(self.object, field, field, limit)
    }

    /// A string field that is shown or compared as it is: a character that could not be
    /// decoded stays U+FFFD (never equal to what was meant), with a note.
    pub(crate) fn text(&mut self, field: &'static str, limit: usize) -> Option<String> {
        self.text_in(self.object, field, field, limit)
    }

    pub(crate) fn text_in(
        &mut self,
        object: &Map<String, Value>,
        name: &str,
        field: &'static str,
        limit: usize,
    ) -> Option<String> {
        let text = self.string_in(object, name, field, limit)?;
        if text.contains(REPLACEMENT) {
            self.notes.push(Note::Undecodable { field, kept: true });
        }
        Some(text)
    }

    /// `field` is how a note names the field; `name` is its key in `object`.
    pub(crate) fn string_in(
        &mut self,
        object: &Map<String, Value>,
        name: &str,
        field: &'static str,
        limit: usize,
    ) -> Option<String> {
        match object.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) if text.is_empty() => None,
            Some(Value::String(text)) if text.len() > limit => {
                self.notes.push(Note::TooLong { field, limit });
                None
            }
            Some(Value::String(text)) => Some(text.clone()),
            Some(_) => {
                self.notes.push(Note::WrongType {
                    field,
                    expected: "a string",
                });
                None
            }
        }
    }

    /// A link field, under the rules of [`plain_http_link`]; `note` says why one is not taken.
    pub(crate) fn link(
        &mut self,
        field: &'static str,
        limit: usize,
        note: fn(PrLinkProblem) -> Note,
    ) -> Option<String> {
        let link = self.string(field, limit)?;
        match plain_http_link(&link) {
            Ok(link) => Some(link),
            Err(problem) => {
                self.notes.push(note(problem));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests;
