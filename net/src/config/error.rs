//! Configuration errors, whose `Display` is the exact text Redis prints or replies.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// An I/O error as `strerror` words it (Redis's replies carry that text).
pub(super) fn io_reason(e: &io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(cut) => text[..cut].to_owned(),
        None => text,
    }
}

/// Where a refused directive came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    File {
        path: PathBuf,
        line: usize,
        included: bool,
    },
    Args,
}

/// A configuration error. `Display` is the exact text to print (start-up
/// errors, to stderr) or to reply after `-` (CONFIG errors, which carry their
/// `ERR` prefix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// A directive of the file or the command line was refused: Redis's
    /// `*** FATAL CONFIG FILE ERROR ***` block.
    Load {
        origin: Origin,
        text: String,
        reason: String,
    },
    /// The config file (or an included one) can't be read.
    Open { path: PathBuf, reason: String },
    /// CONFIG SET of a name no parameter has.
    UnknownOption(String),
    /// CONFIG SET refused a parameter or its value.
    SetFailed { name: String, reason: String },
    /// CONFIG REWRITE when started without a config file.
    NoConfigFile,
    /// CONFIG REWRITE could not read or replace the file.
    Rewrite(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Load {
                origin,
                text,
                reason,
            } => {
                f.write_str("\n*** FATAL CONFIG FILE ERROR (ringcache) ***\n")?;
                match origin {
                    Origin::File {
                        line,
                        included: false,
                        ..
                    } => writeln!(f, "Reading the configuration file, at line {line}")?,
                    Origin::File {
                        path,
                        line,
                        included: true,
                    } => writeln!(
                        f,
                        "Reading the included configuration file {}, at line {line}",
                        path.display()
                    )?,
                    Origin::Args => writeln!(f, "Reading the command line arguments")?,
                }
                write!(f, ">>> '{text}'\n{reason}")
            }
            ConfigError::Open { path, reason } => {
                write!(
                    f,
                    "Fatal error, can't open config file '{}': {reason}",
                    path.display()
                )
            }
            ConfigError::UnknownOption(name) => {
                write!(
                    f,
                    "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
                )
            }
            ConfigError::SetFailed { name, reason } => {
                write!(
                    f,
                    "ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}"
                )
            }
            ConfigError::NoConfigFile => {
                f.write_str("ERR The server is running without a config file")
            }
            ConfigError::Rewrite(reason) => write!(f, "ERR Rewriting config file: {reason}"),
        }
    }
}

impl std::error::Error for ConfigError {}

impl From<ConfigError> for engine::CmdError {
    fn from(e: ConfigError) -> Self {
        engine::CmdError::Other(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_become_command_errors() {
        let e: engine::CmdError = ConfigError::UnknownOption("x".into()).into();
        assert_eq!(
            e.to_string(),
            "ERR Unknown option or number of arguments for CONFIG SET - 'x'"
        );
    }
}
