//! Command errors. `Display` is the exact text Redis writes after the `-`,
//! because clients match on it.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CmdError {
    WrongType,
    NotInteger,
    NotFloat,
    Syntax,
    Overflow,
    NoSuchKey,
    OutOfRange,
    /// `wrong number of arguments for 'NAME' command` (name as the client sent it, lowercased).
    Arity(String),
    UnknownCommand {
        name: String,
        args: String,
    },
    UnknownSubcommand {
        sub: String,
        cmd: String,
    },
    InvalidExpire(String),
    CrossSlot,
    NoAuth,
    /// Any other text, written as is (it carries its own prefix such as `ERR`).
    Other(String),
    Static(&'static str),
}

impl fmt::Display for CmdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CmdError::WrongType => {
                f.write_str("WRONGTYPE Operation against a key holding the wrong kind of value")
            }
            CmdError::NotInteger => f.write_str("ERR value is not an integer or out of range"),
            CmdError::NotFloat => f.write_str("ERR value is not a valid float"),
            CmdError::Syntax => f.write_str("ERR syntax error"),
            CmdError::Overflow => f.write_str("ERR increment or decrement would overflow"),
            CmdError::NoSuchKey => f.write_str("ERR no such key"),
            CmdError::OutOfRange => f.write_str("ERR index out of range"),
            CmdError::Arity(name) => {
                write!(f, "ERR wrong number of arguments for '{name}' command")
            }
            CmdError::UnknownCommand { name, args } => {
                write!(
                    f,
                    "ERR unknown command '{name}', with args beginning with: {args}"
                )
            }
            CmdError::UnknownSubcommand { sub, cmd } => {
                write!(f, "ERR unknown subcommand '{sub}'. Try {cmd} HELP.")
            }
            CmdError::InvalidExpire(cmd) => write!(f, "ERR invalid expire time in '{cmd}' command"),
            CmdError::CrossSlot => {
                f.write_str("CROSSSLOT Keys in request don't hash to the same slot")
            }
            CmdError::NoAuth => f.write_str("NOAUTH Authentication required."),
            CmdError::Other(s) => f.write_str(s),
            CmdError::Static(s) => f.write_str(s),
        }
    }
}

impl CmdError {
    /// Redis's reply for a container command (CLIENT, CONFIG, ...) given a
    /// subcommand it lacks or the wrong number of arguments for one.
    pub fn bad_subcommand(container: &str, sub: &[u8]) -> CmdError {
        CmdError::Other(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try {container} HELP.",
            String::from_utf8_lossy(sub)
        ))
    }
}

pub type CmdResult = Result<(), CmdError>;
