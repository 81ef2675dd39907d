//! Writing the report's files: `$GITHUB_OUTPUT` and the dotenv report together or not at all,
//! and the step summary. Each is opened without blocking and written in one append that a
//! failure takes back. The text itself comes from [`crate::report`].

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::report;
use crate::sanitize::quoted;

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

/// Writes `$GITHUB_OUTPUT` and the dotenv report, all or none as far as can be known: both
/// are opened before either is written.
pub(crate) fn write_outputs(
    github_output: Option<&Path>,
    dotenv: Option<&Path>,
    fields: &[(&str, String)],
) -> Result<(), OutputError> {
    let github_output = github_output
        .map(|path| open_to_append(path).map(|file| (path, file)))
        .transpose()?;
    let dotenv = dotenv
        .map(|path| open_to_append(path).map(|file| (path, file)))
        .transpose()?;
    let mut written = None;
    if let Some((path, file)) = github_output {
        let start = file.metadata().map(|m| m.len()).unwrap_or_default();
        let rollback = file.try_clone().map(|file| (file, start));
        append(path, file, &report::github_output_text(fields)?)?;
        written = rollback.ok();
    }
    if let Some((path, file)) = dotenv
        && let Err(error) = append(path, file, &report::dotenv_text(fields))
    {
        // Exit 7 says the outputs were not written: take back the ones that were.
        if let Some((file, start)) = written {
            let _ = file.set_len(start);
        }
        return Err(error);
    }
    Ok(())
}

pub(crate) fn write_summary(path: &Path, summary: &str) -> Result<(), OutputError> {
    append(path, open_to_append(path)?, summary)
}

#[cfg(test)]
mod tests;
