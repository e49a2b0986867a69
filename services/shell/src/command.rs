//! The command parser: a typed line becomes a [`Command`] or a [`ParseError`] whose text is
//! the one line the shell prints.
//!
//! Words are separated by spaces or tabs; there is no quoting. The first word names the
//! command; `run` hands the rest to the program as its arguments.

use alloc::vec::Vec;
use core::fmt;

/// The `help` text: every command, one line each.
pub const HELP: &str = "\
commands:
  help                   this list
  ps                     processes (pid, parent, name, state, pages)
  run PROGRAM [ARGS...]  start a manifest program the shell may start, and wait for it
  kill PID               end a process the shell may kill
  cat PATH               print a file or scheme path (initfs:manifest.toml, dma:/, disk:/size)
  dmastat [DEVICE]       dmad's pool table, or one device's pool statistics
  dmastat --map DEVICE   the device's pool as a grid (. free # live d deferred Q quarantined)
  free                   free frames and DMA pool pages
  poweroff               turn the machine off
";

/// A command to run.
#[derive(Debug, PartialEq, Eq)]
pub enum Command<'a> {
    /// An empty line: nothing to do.
    Empty,
    /// `help`.
    Help,
    /// `ps`.
    Processes,
    /// `run PROGRAM [ARGS...]`.
    Run {
        /// The manifest section (and program) to start.
        program: &'a str,
        /// Its arguments.
        arguments: Vec<&'a str>,
    },
    /// `kill PID`.
    Kill(usize),
    /// `cat PATH`.
    Cat(&'a str),
    /// `dmastat [DEVICE]`.
    DmaStat(Option<&'a str>),
    /// `dmastat --map DEVICE`.
    DmaMap(&'a str),
    /// `free`.
    Free,
    /// `poweroff`.
    PowerOff,
}

/// Why a line is not a command; displays as the line the shell prints.
#[derive(Debug, PartialEq, Eq)]
pub enum ParseError<'a> {
    /// The first word names no command.
    Unknown(&'a str),
    /// The command's arguments do not fit; the usage line.
    Usage(&'static str),
    /// `kill`'s argument is not a number.
    NotAPid(&'a str),
}

impl fmt::Display for ParseError<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Unknown(name) => {
                write!(formatter, "{name}: unknown command (type help)")
            }
            ParseError::Usage(usage) => write!(formatter, "usage: {usage}"),
            ParseError::NotAPid(text) => write!(formatter, "kill: {text}: not a process id"),
        }
    }
}

/// Parses one line.
pub fn parse(line: &str) -> Result<Command<'_>, ParseError<'_>> {
    let mut words = line.split([' ', '\t']).filter(|word| !word.is_empty());
    let Some(name) = words.next() else {
        return Ok(Command::Empty);
    };
    let rest: Vec<&str> = words.collect();
    let none = |command: Command<'static>, usage: &'static str| {
        if rest.is_empty() {
            Ok(command)
        } else {
            Err(ParseError::Usage(usage))
        }
    };
    match name {
        "help" => none(Command::Help, "help"),
        "ps" => none(Command::Processes, "ps"),
        "free" => none(Command::Free, "free"),
        "poweroff" => none(Command::PowerOff, "poweroff"),
        "run" => match rest.split_first() {
            Some((program, arguments)) => Ok(Command::Run {
                program,
                arguments: arguments.to_vec(),
            }),
            None => Err(ParseError::Usage("run PROGRAM [ARGS...]")),
        },
        "kill" => match rest.as_slice() {
            [pid] => pid
                .parse()
                .map(Command::Kill)
                .map_err(|_| ParseError::NotAPid(pid)),
            _ => Err(ParseError::Usage("kill PID")),
        },
        "cat" => match rest.as_slice() {
            [path] => Ok(Command::Cat(path)),
            _ => Err(ParseError::Usage("cat PATH")),
        },
        "dmastat" => match rest.as_slice() {
            [] => Ok(Command::DmaStat(None)),
            ["--map", device] => Ok(Command::DmaMap(device)),
            ["--map"] => Err(ParseError::Usage("dmastat [DEVICE] | dmastat --map DEVICE")),
            [device] => Ok(Command::DmaStat(Some(device))),
            _ => Err(ParseError::Usage("dmastat [DEVICE] | dmastat --map DEVICE")),
        },
        unknown => Err(ParseError::Unknown(unknown)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn every_command_parses() {
        assert_eq!(parse(""), Ok(Command::Empty));
        assert_eq!(parse("   "), Ok(Command::Empty));
        assert_eq!(parse("help"), Ok(Command::Help));
        assert_eq!(parse(" ps "), Ok(Command::Processes));
        assert_eq!(parse("free"), Ok(Command::Free));
        assert_eq!(parse("poweroff"), Ok(Command::PowerOff));
        assert_eq!(parse("kill 12"), Ok(Command::Kill(12)));
        assert_eq!(parse("cat dma:/"), Ok(Command::Cat("dma:/")));
        assert_eq!(parse("dmastat"), Ok(Command::DmaStat(None)));
        assert_eq!(parse("dmastat\tnvme0"), Ok(Command::DmaStat(Some("nvme0"))));
        assert_eq!(parse("dmastat --map nvme0"), Ok(Command::DmaMap("nvme0")));
        assert_eq!(
            parse("run dmastat  a b"),
            Ok(Command::Run {
                program: "dmastat",
                arguments: ["a", "b"].into()
            })
        );
    }

    #[test]
    fn bad_lines_get_one_clear_line() {
        let message = |line| parse(line).unwrap_err().to_string();
        assert_eq!(
            message("frobnicate x"),
            "frobnicate: unknown command (type help)"
        );
        assert_eq!(message("kill"), "usage: kill PID");
        assert_eq!(message("kill 1 2"), "usage: kill PID");
        assert_eq!(message("kill me"), "kill: me: not a process id");
        assert_eq!(message("kill -3"), "kill: -3: not a process id");
        assert_eq!(message("cat"), "usage: cat PATH");
        assert_eq!(message("run"), "usage: run PROGRAM [ARGS...]");
        assert_eq!(message("ps aux"), "usage: ps");
        assert_eq!(message("poweroff now"), "usage: poweroff");
        assert_eq!(
            message("dmastat a b"),
            "usage: dmastat [DEVICE] | dmastat --map DEVICE"
        );
        assert_eq!(
            message("dmastat --map"),
            "usage: dmastat [DEVICE] | dmastat --map DEVICE"
        );
        for message in ["frobnicate", "kill", "cat a b"].map(message) {
            assert!(!message.contains('\n'));
        }
    }

    #[test]
    fn help_names_every_command() {
        for name in [
            "help", "ps", "run", "kill", "cat", "dmastat", "free", "poweroff",
        ] {
            assert!(parse(name).is_ok() || matches!(parse(name), Err(ParseError::Usage(_))));
            assert!(HELP.lines().any(|line| line.trim_start().starts_with(name)));
        }
    }
}
