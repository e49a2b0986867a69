//! The shell's loop and its commands, on coherent.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::{self, Write};
use core::time::Duration;
use image::manifest::Manifest;
use shell::{parse, Command, Editor, Event, HELP};
use userlib::sys::{self, error::EPERM, flag::O_RDWR, Ending};
use userlib::{time, Args};

/// The prompt.
const PROMPT: &str = "coherent> ";
/// The programs the shell lets finish before its first prompt, and how long it waits.
const DEMO_PROGRAMS: &[&str] = &["disk-demo", "dmastat"];
/// How long the shell waits for them at most.
const DEMO_WAIT: Duration = Duration::from_secs(20);

/// Text onto the console descriptor.
struct Console(usize);

impl Write for Console {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        userlib::console::write_all(self.0, text.as_bytes());
        Ok(())
    }
}

/// The shell: holds `console:`, prompts, and runs each line typed.
pub fn main(_args: Args) -> i32 {
    let fd = match sys::open("console:", O_RDWR) {
        Ok(fd) => fd,
        Err(error) => {
            userlib::println!("shell: cannot open console: {error}");
            return 1;
        }
    };
    wait_for_demo();
    let mut out = Console(fd);
    let _ = write!(
        out,
        "\ncoherent shell: type help for the commands\n{PROMPT}"
    );
    let mut editor = Editor::new();
    let mut bytes = [0u8; 64];
    loop {
        let count = match sys::read(fd, &mut bytes) {
            Ok(count) => count,
            Err(error) => {
                userlib::println!("shell: console read failed: {error}");
                return 1;
            }
        };
        for &byte in &bytes[..count] {
            match editor.feed(byte) {
                Event::Nothing => {}
                Event::Echo(echo) => userlib::console::write_all(fd, &echo),
                Event::Cancelled => {
                    let _ = write!(out, "^C\n{PROMPT}");
                }
                Event::Line(line) => {
                    let _ = writeln!(out);
                    execute(&mut out, &line);
                    let _ = write!(out, "{PROMPT}");
                }
            }
        }
    }
}

/// Runs one line's command, printing its answer.
fn execute(out: &mut Console, line: &str) {
    let command = match parse(line) {
        Ok(command) => command,
        Err(error) => {
            let _ = writeln!(out, "{error}");
            return;
        }
    };
    let _ = match command {
        Command::Empty => Ok(()),
        Command::Help => out.write_str(HELP),
        Command::Processes => cat(out, "sys:processes"),
        Command::Run { program, arguments } => run(out, program, &arguments),
        Command::Kill(pid) => match sys::kill(pid) {
            Ok(()) => writeln!(out, "kill: {pid}: killed"),
            Err(error) => writeln!(out, "kill: {pid}: {error}"),
        },
        Command::Cat(path) => cat(out, path),
        Command::DmaStat(None) => {
            let _ = writeln!(out, "dma:/");
            cat(out, "dma:/")
        }
        Command::DmaStat(Some(device)) => {
            let path = format!("dma:/{device}/stats");
            let _ = writeln!(out, "{path}");
            cat(out, &path)
        }
        Command::DmaMap(device) => cat(out, &format!("dma:/{device}/map")),
        Command::Free => free(out),
        Command::PowerOff => {
            let _ = writeln!(out, "powering off");
            let error = sys::try_power_off(0);
            writeln!(out, "poweroff: {error}")
        }
    };
}

/// Prints the file or scheme path `path`, or one line saying why not.
fn cat(out: &mut Console, path: &str) -> fmt::Result {
    match sys::read_file(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            out.write_str(&text)?;
            if !text.is_empty() && !text.ends_with('\n') {
                writeln!(out)?;
            }
            Ok(())
        }
        Err(error) => writeln!(out, "cat: {path}: {error}"),
    }
}

/// `free`: the kernel's frame counts and dmad's pools.
fn free(out: &mut Console) -> fmt::Result {
    match sys::read_file("sys:memory") {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let value = |key: &str| {
                text.lines()
                    .find_map(|line| line.strip_prefix(key))
                    .and_then(|value| value.trim().parse::<u64>().ok())
                    .unwrap_or(0)
            };
            let free = value("free-pages ");
            writeln!(
                out,
                "frames: {free} free pages ({} KiB), {} shared",
                free * 4,
                value("shared-pages ")
            )?;
        }
        Err(error) => writeln!(out, "free: sys:memory: {error}")?,
    }
    writeln!(out, "DMA pools (dma:/):")?;
    cat(out, "dma:/")
}

/// `run`: starts manifest section `program` with its rights and waits for it.
fn run(out: &mut Console, program: &str, arguments: &[&str]) -> fmt::Result {
    let manifest = match sys::read_file("initfs:manifest.toml") {
        Ok(bytes) => bytes,
        Err(error) => return writeln!(out, "run: cannot read the manifest: {error}"),
    };
    let text = core::str::from_utf8(&manifest).unwrap_or("");
    let Ok(manifest) = Manifest::parse(text) else {
        return writeln!(out, "run: the manifest does not parse");
    };
    let Some(section) = manifest
        .processes()
        .flatten()
        .find(|section| section.name == program)
    else {
        return writeln!(out, "run: {program}: no such program in the manifest");
    };
    let pid = match sys::spawn_with_rights(section.path, arguments, program) {
        Ok(pid) => pid,
        Err(error) if error.errno == EPERM => {
            return writeln!(
                out,
                "run: {program}: not permitted (EPERM): the shell may not start it"
            );
        }
        Err(error) => return writeln!(out, "run: {program}: {error}"),
    };
    match sys::waitpid(pid, false) {
        Ok((_, status)) => writeln!(out, "{program} (pid {pid}) {}", Ending::from_status(status)),
        Err(error) => writeln!(out, "run: {program}: waiting failed: {error}"),
    }
}

/// Waits until none of [`DEMO_PROGRAMS`] is alive (or [`DEMO_WAIT`] passed).
fn wait_for_demo() {
    let step = Duration::from_millis(100);
    let mut waited = Duration::ZERO;
    while waited < DEMO_WAIT && demo_running() {
        let _ = time::sleep(step);
        waited += step;
    }
}

/// Whether `sys:processes` lists one of [`DEMO_PROGRAMS`] that has not exited (columns
/// `pid parent name state pages`).
fn demo_running() -> bool {
    let Ok(table) = sys::read_file("sys:processes") else {
        return false;
    };
    let table = String::from_utf8_lossy(&table);
    let running: Vec<&str> = table
        .lines()
        .filter_map(|line| {
            let mut columns = line.split_whitespace().skip(2);
            let name = columns.next()?;
            let exited = columns
                .next()
                .is_some_and(|state| state.starts_with("Exited"));
            (!exited).then_some(name)
        })
        .collect();
    DEMO_PROGRAMS.iter().any(|name| running.contains(name))
}
