//! Writing the report's files: `$GITHUB_OUTPUT` and the dotenv report together or not at all,
//! and the step summary. `$GITHUB_OUTPUT` and the summary belong to the runner, which reads what
//! each step appends: each is opened without blocking and written in one append that a failure
//! takes back. The dotenv report belongs to this program alone, so it is written whole each run
//! and put in place by a rename: lines of an earlier run never stay in it. The text itself
//! comes from [`crate::report`].

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::report;
use crate::text::sanitize::quoted;

/// Why an output could not be written.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OutputError {
    #[error("could not open {}: {source}", shown(path))]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a regular file (a FIFO or a device?)", shown(path))]
    NotAFile { path: PathBuf },
    #[error("could not write {}: {source}", shown(path))]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("could not draw a random delimiter: {0}")]
    Delimiter(#[from] getrandom::Error),
}

fn shown(path: &Path) -> String {
    quoted(&path.display().to_string())
}

/// Opens a file to append to without ever blocking: a FIFO with no reader would hold `open`
/// forever, past the deadline, so it is opened non-blocking and refused unless it is a
/// regular file.
fn open_to_append(path: &Path) -> Result<File, OutputError> {
    let mut options = OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let open = |source| OutputError::Open {
        path: path.to_owned(),
        source,
    };
    let file = options.open(path).map_err(open)?;
    if !file.metadata().map_err(open)?.is_file() {
        return Err(OutputError::NotAFile {
            path: path.to_owned(),
        });
    }
    Ok(file)
}

/// Appends `text` in one write; if the write fails (a full disk), the file is cut back to
/// where it was, so a reader never sees half an entry.
fn append(path: &Path, mut file: File, text: &str) -> Result<(), OutputError> {
    let write = |source| OutputError::Write {
        path: path.to_owned(),
        source,
    };
    let start = file.metadata().map_err(write)?.len();
    if let Err(error) = file.write_all(text.as_bytes()) {
        let _ = file.set_len(start);
        return Err(write(error));
    }
    Ok(())
}

/// Writes `$GITHUB_OUTPUT` and the dotenv report, all or none as far as can be known: the new
/// report is written beside the old one first, the outputs appended next, and the report put
/// in place last; a failure at any step takes back the steps before it.
pub(crate) fn write_outputs(
    github_output: Option<&Path>,
    dotenv: Option<&Path>,
    fields: &[(&str, String)],
) -> Result<(), OutputError> {
    let github_output = github_output
        .map(|path| open_to_append(path).map(|file| (path, file)))
        .transpose()?;
    let dotenv = dotenv
        .map(|path| Replacement::write(path, &report::dotenv_text(fields)))
        .transpose()?;
    let mut written = None;
    if let Some((path, file)) = github_output {
        let start = file.metadata().map(|m| m.len()).unwrap_or_default();
        let rollback = file.try_clone().map(|file| (file, start));
        let appended = report::github_output_text(fields)
            .map_err(OutputError::from)
            .and_then(|text| append(path, file, &text));
        if let Err(error) = appended {
            if let Some(dotenv) = dotenv {
                dotenv.discard();
            }
            return Err(error);
        }
        written = rollback.ok();
    }
    if let Some(dotenv) = dotenv
        && let Err(error) = dotenv.put_in_place()
    {
        // Exit 7 says the outputs were not written: take back the ones that were.
        if let Some((file, start)) = written {
            let _ = file.set_len(start);
        }
        return Err(error);
    }
    Ok(())
}

/// A file's new text, written whole beside it under a name of its own, until it replaces it.
struct Replacement {
    written: PathBuf,
    /// The file itself: the target of a symbolic link, so the link stays.
    target: PathBuf,
    /// The path as the user gave it, for messages.
    shown: PathBuf,
}

impl Replacement {
    fn write(path: &Path, text: &str) -> Result<Replacement, OutputError> {
        let open = |source| OutputError::Open {
            path: path.to_owned(),
            source,
        };
        let (target, permissions) = match std::fs::metadata(path) {
            // A FIFO or a device is no report this program may replace.
            Ok(metadata) if !metadata.is_file() => {
                return Err(OutputError::NotAFile {
                    path: path.to_owned(),
                });
            }
            Ok(metadata) => (
                std::fs::canonicalize(path).map_err(open)?,
                Some(metadata.permissions()),
            ),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => (path.to_owned(), None),
            Err(error) => return Err(open(error)),
        };
        let mut name = target.file_name().unwrap_or_default().to_owned();
        let mut tag = [0u8; 8];
        getrandom::getrandom(&mut tag)?;
        name.push(format!(".{:016x}.tmp", u64::from_ne_bytes(tag)));
        let written = target.with_file_name(name);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&written)
            .map_err(open)?;
        let replacement = Replacement {
            written,
            target,
            shown: path.to_owned(),
        };
        let filled = append(path, file, text).and_then(|()| match permissions {
            Some(permissions) => {
                std::fs::set_permissions(&replacement.written, permissions).map_err(open)
            }
            None => Ok(()),
        });
        match filled {
            Ok(()) => Ok(replacement),
            Err(error) => {
                replacement.discard();
                Err(error)
            }
        }
    }

    fn put_in_place(self) -> Result<(), OutputError> {
        std::fs::rename(&self.written, &self.target).map_err(|source| {
            let _ = std::fs::remove_file(&self.written);
            OutputError::Write {
                path: self.shown,
                source,
            }
        })
    }

    fn discard(self) {
        let _ = std::fs::remove_file(&self.written);
    }
}

pub(crate) fn write_summary(path: &Path, summary: &str) -> Result<(), OutputError> {
    append(path, open_to_append(path)?, summary)
}

#[cfg(test)]
mod tests;
