//! Loading the configuration at start-up: a redis.conf-style file (with
//! `include`s) and `--name value` arguments, in the shape of `redis-server`.

use std::borrow::Cow;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use engine::glob::glob_match;

use super::error::io_reason;
use super::lexer::{repr, split_args};
use super::table::utf8;
use super::{Config, ConfigError, Origin, Param};

/// Flags the caller handles before [`Config::from_args`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EarlyFlag {
    /// `-v` / `--version` as the only argument (as redis-server).
    Version,
    /// `-h` / `--help` as the only argument.
    Help,
    /// `--check` anywhere: report on the host for this configuration and exit.
    /// `from_args` ignores the flag, so the caller can still parse the rest.
    Check,
}

pub fn early_flag(args: &[String]) -> Option<EarlyFlag> {
    match args {
        [one] if one == "-v" || one == "--version" => Some(EarlyFlag::Version),
        [one] if one == "-h" || one == "--help" => Some(EarlyFlag::Help),
        _ if args.iter().any(|a| a == "--check") => Some(EarlyFlag::Check),
        _ => None,
    }
}

/// Deep enough for any real layout; stops a file that includes itself.
const MAX_INCLUDE_DEPTH: usize = 16;

impl Config {
    /// Builds the configuration from `redis-server`-shaped arguments (without
    /// the program name): an optional config file path first (any argument
    /// not starting with `-`), then `--name value [value ...]` options, which
    /// win over the file. An option's values run until the next `--` argument,
    /// but its first value is taken as is even if it starts with `--`.
    pub fn from_args(args: &[String]) -> Result<Config, ConfigError> {
        let mut cfg = Config::default();
        let (file, options) = match args.split_first() {
            Some((first, rest)) if !first.starts_with('-') => (Some(first), rest),
            _ => (None, args),
        };
        if let Some(file) = file {
            let path = std::path::absolute(file).map_err(|e| ConfigError::Open {
                path: PathBuf::from(file),
                reason: io_reason(&e),
            })?;
            cfg.load_file(&path, 0)?;
            cfg.config_file = Some(path);
        }
        for words in option_directives(options)? {
            cfg.apply_directive(&words)
                .map_err(|reason| ConfigError::Load {
                    origin: Origin::Args,
                    text: shown_args(&words),
                    reason: reason.into_owned(),
                })?;
        }
        Ok(cfg)
    }

    fn load_file(&mut self, path: &Path, depth: usize) -> Result<(), ConfigError> {
        let text = fs::read(path).map_err(|e| ConfigError::Open {
            path: path.to_owned(),
            reason: io_reason(&e),
        })?;
        self.load_text(&text, path, depth)
    }

    /// Applies a config file's text; later lines win over earlier ones.
    fn load_text(&mut self, text: &[u8], path: &Path, depth: usize) -> Result<(), ConfigError> {
        for (n, raw) in text.split(|&b| b == b'\n').enumerate() {
            let line = raw.trim_ascii();
            if line.is_empty() || line[0] == b'#' {
                continue;
            }
            let error = |reason: Cow<'static, str>| ConfigError::Load {
                origin: Origin::File {
                    path: path.to_owned(),
                    line: n + 1,
                    included: depth > 0,
                },
                text: String::from_utf8_lossy(line).into_owned(),
                reason: reason.into_owned(),
            };
            let words = split_args(line)
                .ok_or_else(|| error("Unbalanced quotes in configuration line".into()))?;
            match words.as_slice() {
                [] => continue,
                [name, file] if name.eq_ignore_ascii_case(b"include") => {
                    if depth >= MAX_INCLUDE_DEPTH {
                        return Err(error(
                            "include nesting is too deep (does a file include itself?)".into(),
                        ));
                    }
                    for included in
                        include_paths(utf8(file).map_err(error)?).map_err(|e| error(e.into()))?
                    {
                        self.load_file(&included, depth + 1)?;
                    }
                }
                _ => self.apply_directive(&words).map_err(error)?,
            }
        }
        Ok(())
    }

    /// One `name value...` directive from a file line or the command line.
    fn apply_directive(&mut self, words: &[Vec<u8>]) -> Result<(), Cow<'static, str>> {
        let spec = Param::lookup(&words[0])
            .ok_or("Bad directive or wrong number of arguments")?
            .spec();
        let value = spec.parse(&words[1..])?;
        (spec.put)(self, value);
        Ok(())
    }
}

/// Splits `--name value...` arguments into directives, the way redis-server
/// turns them into config lines.
fn option_directives(args: &[String]) -> Result<Vec<Vec<Vec<u8>>>, ConfigError> {
    let error = |text: &str, reason: &str| ConfigError::Load {
        origin: Origin::Args,
        text: text.to_owned(),
        reason: reason.to_owned(),
    };
    let mut directives: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut wants_value = false;
    for (i, arg) in args.iter().enumerate() {
        if wants_value || !arg.starts_with("--") {
            let Some(directive) = directives.last_mut() else {
                return Err(error(arg, "Bad directive or wrong number of arguments"));
            };
            directive.push(arg.as_bytes().to_vec());
            wants_value = false;
            continue;
        }
        if arg == "--check" {
            continue; // see EarlyFlag::Check
        }
        // "--port 6380" in one argument is a name and its value.
        let mut words = split_args(&arg.as_bytes()[2..])
            .ok_or_else(|| error(arg, "Unbalanced quotes in configuration line"))?;
        if words.is_empty() {
            return Err(error(arg, "Bad directive or wrong number of arguments"));
        }
        wants_value = words.len() == 1;
        let next_is_option = match args.get(i + 1) {
            Some(next) => next.starts_with("--"),
            None => true,
        };
        if wants_value && words[0].eq_ignore_ascii_case(b"save") && next_is_option {
            // A bare `--save` means `--save ""` (redis-server keeps this for
            // command lines generated from an empty list).
            words.push(Vec::new());
            wants_value = false;
        }
        directives.push(words);
    }
    Ok(directives)
}

/// How a command-line directive is shown in an error: `port "abc"`.
fn shown_args(words: &[Vec<u8>]) -> String {
    let mut shown = String::from_utf8_lossy(&words[0]).into_owned();
    for w in &words[1..] {
        shown.push(' ');
        shown.push_str(&repr(w));
    }
    shown
}

/// The files an `include` names: the path itself, or, when its file name has
/// glob characters, the matching files of its directory in name order (none
/// is fine, so an empty conf.d works, as in Redis).
fn include_paths(pattern: &str) -> Result<Vec<PathBuf>, String> {
    let path = Path::new(pattern);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !name.contains(['*', '?', '[']) {
        return Ok(vec![path.to_owned()]);
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if dir.to_string_lossy().contains(['*', '?', '[']) {
        return Err("include: glob characters are supported in the file name only".into());
    }
    let mut found = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(found),
        Err(e) => {
            return Err(format!(
                "include: can't read '{}': {}",
                dir.display(),
                io_reason(&e)
            ))
        }
    };
    for entry in entries.flatten() {
        let file = entry.file_name();
        if glob_match(name.as_bytes(), file.as_encoded_bytes(), false) {
            found.push(dir.join(file));
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::super::table::path_text;
    use super::super::testutil::*;
    use super::super::{BindAddr, DebugCommand, EvictionPolicy, LogLevel};
    use super::*;

    fn load(text: &str) -> Result<Config, String> {
        let mut cfg = Config::default();
        let path = Path::new("/etc/ringcache.conf");
        cfg.load_text(text.as_bytes(), path, 0)
            .map(|()| cfg)
            .map_err(|e| e.to_string())
    }

    fn file_error(line: usize, text: &str, reason: &str) -> String {
        format!(
            "\n*** FATAL CONFIG FILE ERROR (ringcache) ***\n\
             Reading the configuration file, at line {line}\n>>> '{text}'\n{reason}"
        )
    }

    fn args_error(text: &str, reason: &str) -> String {
        format!(
            "\n*** FATAL CONFIG FILE ERROR (ringcache) ***\n\
             Reading the command line arguments\n>>> '{text}'\n{reason}"
        )
    }

    #[test]
    fn args_only() {
        let cfg = Config::from_args(&[]).unwrap();
        assert_eq!(cfg, Config::default());
        let cfg = Config::from_args(&strings(&[
            "--port",
            "7001",
            "--bind",
            "127.0.0.1",
            "-::1",
            "--maxmemory",
            "2mb",
            "--maxmemory-policy",
            "ALLKEYS-LRU",
            "--requirepass",
            "--starts-with-dashes",
            "--check",
            "--save",
        ]))
        .unwrap();
        assert_eq!(cfg.port, 7001);
        assert_eq!(get1(&cfg, "bind"), "127.0.0.1 -::1");
        assert_eq!(
            cfg.bind[1],
            BindAddr {
                ip: "::1".parse().unwrap(),
                optional: true,
                wildcard: false
            }
        );
        assert_eq!(cfg.maxmemory, 2 << 20);
        assert_eq!(cfg.maxmemory_policy, EvictionPolicy::AllkeysLru);
        assert_eq!(cfg.requirepass, "--starts-with-dashes");
        assert_eq!(cfg.config_file, None);
        // A name and its value in one argument; `--save` followed by another option.
        let cfg = Config::from_args(&strings(&["--port 6380", "--save", "--hz", "20"])).unwrap();
        assert_eq!((cfg.port, cfg.hz), (6380, 20));
        // A list in one argument is split again.
        let cfg = Config::from_args(&strings(&["--bind", "* -::*"])).unwrap();
        assert_eq!(get1(&cfg, "bind"), "* -::*");
        assert!(cfg.bind.iter().all(|b| b.wildcard && b.ip.is_unspecified()));
    }

    #[test]
    fn args_errors() {
        let err = |list: &[&str]| Config::from_args(&strings(list)).unwrap_err().to_string();
        let integer = "argument couldn't be parsed into an integer";
        assert_eq!(
            err(&["--port", "abc"]),
            args_error(r#"port "abc""#, integer)
        );
        assert_eq!(
            err(&["--port 70000"]),
            args_error(
                r#"port "70000""#,
                "argument must be between 0 and 65535 inclusive"
            )
        );
        let bad = "Bad directive or wrong number of arguments";
        assert_eq!(err(&["--nosuch", "1"]), args_error(r#"nosuch "1""#, bad));
        assert_eq!(err(&["-x"]), args_error("-x", bad));
        assert_eq!(err(&["--"]), args_error("--", bad));
        assert_eq!(
            err(&["--port"]),
            args_error("port", "wrong number of arguments")
        );
        assert_eq!(
            err(&["--port", "1", "2"]),
            args_error(r#"port "1" "2""#, "wrong number of arguments")
        );
        assert!(err(&["--daemonize", "yes"]).ends_with("ringcache does not fork: run it in the foreground under a supervisor (systemd, a container runtime) instead of 'daemonize yes'"));
        assert!(err(&["--appendonly", "yes"])
            .ends_with("persistence is not built yet: ringcache accepts only 'appendonly no'"));
        assert!(err(&["--save", "900 1"])
            .ends_with("snapshots are not built yet: ringcache accepts only 'save \"\"'"));
        assert_eq!(
            err(&["/nonexistent/ringcache.conf"]),
            "Fatal error, can't open config file '/nonexistent/ringcache.conf': No such file or directory"
        );
    }

    #[test]
    fn file_then_args() {
        let tmp = TempDir::new("args");
        let file = tmp.file(
            "ringcache.conf",
            "port 7000\nmaxmemory 1mb\nloglevel debug\n",
        );
        let cfg = Config::from_args(&[
            file.to_string_lossy().into_owned(),
            "--port".into(),
            "7001".into(),
        ])
        .unwrap();
        assert_eq!(
            (cfg.port, cfg.maxmemory, cfg.loglevel),
            (7001, 1 << 20, LogLevel::Debug)
        );
        assert_eq!(cfg.config_file.as_deref(), Some(file.as_path()));
    }

    #[test]
    fn file_syntax() {
        let cfg = load(concat!(
            "# a comment\n",
            "\n",
            "   # an indented comment\n",
            "PORT 7000\r\n",
            "\tport 7002   \n",
            "requirepass \"pa ss\\\"word\"\n",
            "logfile '/var/log/ringcache.log'\n",
            "MAXMEMORY-POLICY Allkeys-LFU\n",
            "bind \"127.0.0.1 ::1\"\n",
            "maxmemory 1GB\n",
            "hz 1000\n",
            "cpus 0-2,5\n",
            "shards 4\n",
            "save \"\"\n",
            "appendonly no\n",
            "daemonize no\n",
            "enable-debug-command local\n",
        ))
        .unwrap();
        assert_eq!(cfg.port, 7002, "the last line wins");
        assert_eq!(cfg.requirepass, "pa ss\"word");
        assert_eq!(cfg.logfile, Some(PathBuf::from("/var/log/ringcache.log")));
        assert_eq!(cfg.maxmemory_policy, EvictionPolicy::AllkeysLfu);
        assert_eq!(get1(&cfg, "bind"), "127.0.0.1 ::1");
        assert_eq!(cfg.maxmemory, 1 << 30);
        assert_eq!(cfg.hz, 500, "clamped like Redis");
        assert_eq!(
            (cfg.cpus.clone(), get1(&cfg, "cpus")),
            (vec![0, 1, 2, 5], "0-2,5".into())
        );
        assert_eq!(cfg.shards, 4);
        assert_eq!(cfg.enable_debug_command, DebugCommand::Local);
        assert_eq!(load("hz 0").unwrap().hz, 1);
        assert_eq!(load("bind \"\"").unwrap().bind, vec![]);
        assert_eq!(load("bind \"\"").unwrap().listen_addrs().len(), 2);
        assert_eq!(path_text(&load("dir .").unwrap().dir), cwd());
    }

    #[test]
    fn file_errors() {
        let text = "# comment\nport 7000\nnosuch-directive yes\n";
        let bad = "Bad directive or wrong number of arguments";
        assert_eq!(
            load(text).unwrap_err(),
            file_error(3, "nosuch-directive yes", bad)
        );
        let cases: &[(&str, &str)] = &[
            ("maxmemory 10zb", "argument must be a memory value"),
            ("maxmemory -1", "argument must be a memory value"),
            ("proto-max-bulk-len 1kb", "argument must be between 1048576 and 9223372036854775807 inclusive"),
            ("port 1 2", "wrong number of arguments"),
            ("port", "wrong number of arguments"),
            ("port 70000", "argument must be between 0 and 65535 inclusive"),
            ("timeout soon", "argument couldn't be parsed into an integer"),
            ("protected-mode maybe", "argument must be 'yes' or 'no'"),
            ("loglevel loud", "argument(s) must be one of the following: debug, verbose, notice, warning"),
            ("requirepass \"abc", "Unbalanced quotes in configuration line"),
            ("requirepass \"\\xff\"", "argument must be valid UTF-8"),
            ("appendonly maybe", "argument must be 'yes' or 'no'"),
            ("appendonly yes", "persistence is not built yet: ringcache accepts only 'appendonly no'"),
            ("save 900 1", "snapshots are not built yet: ringcache accepts only 'save \"\"'"),
            ("bind 1.2.3.999", "invalid bind address '1.2.3.999': expected an IPv4 or IPv6 address, '*' or '::*', optionally prefixed with '-'"),
            ("bind 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17", "Too many bind addresses specified."),
            ("include a b", bad),
        ];
        for &(line, reason) in cases {
            assert_eq!(
                load(line).unwrap_err(),
                file_error(1, line, reason),
                "{line}"
            );
        }
        assert!(load("cpus 3-1").unwrap_err().contains("runs backwards"));
        assert_eq!(
            load("dir \"\"").unwrap_err(),
            file_error(1, "dir \"\"", "argument must be a directory path")
        );
    }

    #[test]
    fn includes() {
        let tmp = TempDir::new("include");
        tmp.file("conf.d/10-port.conf", "port 7100\n");
        tmp.file("conf.d/20-port.conf", "port 7200\nmaxmemory 5mb\n");
        tmp.file("conf.d/skipped.txt", "nonsense\n");
        let base = tmp.file("base.conf", "loglevel warning\n");
        let main = tmp.file(
            "main.conf",
            &format!(
                "include {}\ninclude {}/conf.d/*.conf\ninclude {}/empty.d/*.conf\nhz 20\n",
                base.display(),
                tmp.0.display(),
                tmp.0.display()
            ),
        );
        let cfg = Config::from_args(&[main.to_string_lossy().into_owned()]).unwrap();
        assert_eq!(
            (cfg.loglevel, cfg.port, cfg.maxmemory, cfg.hz),
            (LogLevel::Warning, 7200, 5 << 20, 20)
        );

        let broken = tmp.file("broken.conf", "\nport x\n");
        let main = tmp.file("main2.conf", &format!("include {}\n", broken.display()));
        let err = Config::from_args(&[main.to_string_lossy().into_owned()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "\n*** FATAL CONFIG FILE ERROR (ringcache) ***\n\
                 Reading the included configuration file {}, at line 2\n>>> 'port x'\n\
                 argument couldn't be parsed into an integer",
                broken.display()
            )
        );

        let selfish = tmp.0.join("self.conf");
        fs::write(&selfish, format!("include {}\n", selfish.display())).unwrap();
        let err = Config::from_args(&[selfish.to_string_lossy().into_owned()]).unwrap_err();
        assert!(err
            .to_string()
            .ends_with("include nesting is too deep (does a file include itself?)"));
    }

    #[test]
    fn early_flags() {
        assert_eq!(early_flag(&strings(&["-v"])), Some(EarlyFlag::Version));
        assert_eq!(
            early_flag(&strings(&["--version"])),
            Some(EarlyFlag::Version)
        );
        assert_eq!(early_flag(&strings(&["-h"])), Some(EarlyFlag::Help));
        assert_eq!(early_flag(&strings(&["--help"])), Some(EarlyFlag::Help));
        assert_eq!(
            early_flag(&strings(&["x.conf", "--check"])),
            Some(EarlyFlag::Check)
        );
        assert_eq!(early_flag(&strings(&["--port", "1"])), None);
        assert_eq!(early_flag(&strings(&["--port", "1", "--version"])), None);
    }
}
