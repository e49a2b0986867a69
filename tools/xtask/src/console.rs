//! The `console` guest suite: the harness types commands into the shell's serial console
//! and judges the answers on the host.
//!
//! The image keeps the default image's dmad, drivers, dmastat and shell (whose section
//! grants `console`, `power` and `spawns = ["dmastat"]`). Each check below becomes one
//! `test NAME ... ok|FAILED` line and the closing line `console-ARCH: N passed, N failed`,
//! appended to the guest's output so the usual judge (`harness::judge`) reads them; the last
//! command, `poweroff`, must end QEMU with the success status, which the judge checks too.

use harness::protocol::{untagged, Ending};
use harness::{Arch, Machine, RunOutput};
use std::time::Duration;

/// The default image's processes the suite's image keeps.
pub const KEEP: &[&str] = &["dmad", "dmastat", "virtio-blk", "nvme", "shell"];

/// The shell's prompt (`services/shell`).
const PROMPT: &str = "coherent> ";

/// What the harness types, in order (`\x7f` is the backspace key).
const COMMANDS: [&str; 10] = [
    "help",
    "ps",
    "cat dma:/",
    "run dmastat",
    "run dmad",
    "frobnicate now",
    "kill me",
    "pz\x7fs",
    "dmastat --map nvme0",
    "poweroff",
];

/// Boots `machine`, talks to its shell and returns its output with the suite's test lines
/// and closing line appended.
///
/// # Errors
/// When QEMU cannot be started.
pub fn run(
    arch: Arch,
    machine: &Machine,
    deadline: Duration,
    on_line: impl FnMut(&str),
) -> Result<RunOutput, String> {
    let conversation = harness::converse(machine, PROMPT, &COMMANDS, deadline, on_line)
        .map_err(|error| format!("cannot start {}: {error}", arch.qemu_binary()))?;
    let answer = |index: usize| conversation.answers[index].clone().unwrap_or_default();
    let results = [
        ("help_lists_every_command", help(&answer(0))),
        ("ps_lists_dmad_and_the_drivers", processes(&answer(1))),
        (
            "cat_dma_matches_dmastat",
            dma_table_matches(&answer(2), &answer(3)),
        ),
        ("run_permitted_program", run_permitted(&answer(3))),
        ("run_forbidden_program_is_eperm", run_forbidden(&answer(4))),
        (
            "bad_command_and_bad_argument_get_one_line",
            one_line(&answer(5), "frobnicate: unknown command (type help)")
                .and_then(|()| one_line(&answer(6), "kill: me: not a process id")),
        ),
        ("backspace_edits_the_line", backspace(&answer(7))),
        (
            "dmastat_map_draws_the_pool",
            map_matches_table(&answer(8), &answer(2)),
        ),
        (
            "poweroff_ends_qemu_with_success",
            poweroff(arch, &answer(9), &conversation.ending),
        ),
    ];
    let mut output = conversation.output;
    output.push('\n');
    let mut passed = 0;
    for (name, result) in &results {
        let line = match result {
            Ok(()) => {
                passed += 1;
                format!("test {name} ... ok")
            }
            Err(problem) => {
                println!("console: {name}: {problem}");
                format!("test {name} ... FAILED")
            }
        };
        println!("{line}");
        output.push_str(&line);
        output.push('\n');
    }
    let closing = format!(
        "console-{}: {passed} passed, {} failed",
        arch.name(),
        results.len() - passed
    );
    println!("{closing}");
    output.push_str(&closing);
    output.push('\n');
    Ok(RunOutput {
        output,
        ending: conversation.ending,
        elapsed: conversation.elapsed,
    })
}

type Check = Result<(), String>;

/// The answer's lines after the echoed command, without the kernel's and other processes'
/// log lines (`[...] ...`) that may land in between.
fn shell_lines(answer: &str) -> Vec<&str> {
    answer
        .lines()
        .skip(1)
        .filter(|line| !line.starts_with('['))
        .collect()
}

fn help(answer: &str) -> Check {
    let lines = shell_lines(answer);
    let missing: Vec<&str> = [
        "help", "ps", "run", "kill", "cat", "dmastat", "free", "poweroff",
    ]
    .into_iter()
    .filter(|name| {
        !lines
            .iter()
            .any(|line| line.split_whitespace().next() == Some(*name))
    })
    .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("help does not list {missing:?}: {answer:?}"))
    }
}

fn processes(answer: &str) -> Check {
    let names: Vec<&str> = shell_lines(answer)
        .iter()
        .filter_map(|line| line.split_whitespace().nth(2))
        .collect();
    let missing: Vec<&str> = ["dmad", "virtio-blk", "nvme", "shell"]
        .into_iter()
        .filter(|name| !names.contains(name))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("ps does not list {missing:?}: {answer:?}"))
    }
}

/// `cat dma:/` printed the same table as the dmastat program (run by `run dmastat`), whose
/// lines arrive tagged `[dmastat[PID]]`: the lines after its `dma:/` heading up to the
/// first empty one.
fn dma_table_matches(cat: &str, run: &str) -> Check {
    let table: Vec<&str> = shell_lines(cat);
    let dmastat: Vec<&str> = run
        .lines()
        .filter(|line| line.starts_with("[dmastat["))
        .map(untagged)
        .skip_while(|line| *line != "dma:/")
        .skip(1)
        .take_while(|line| !line.is_empty())
        .collect();
    if table.len() < 2 {
        return Err(format!("cat dma:/ printed no pool: {cat:?}"));
    }
    if table == dmastat {
        Ok(())
    } else {
        Err(format!("cat dma:/ printed {table:?}, dmastat {dmastat:?}"))
    }
}

fn run_permitted(answer: &str) -> Check {
    let ended = shell_lines(answer).into_iter().any(|line| {
        line.strip_prefix("dmastat (pid ")
            .and_then(|rest| rest.split_once(") "))
            .is_some_and(|(pid, ending)| {
                pid.parse::<u32>().is_ok() && ending == "exited with status 0"
            })
    });
    if ended {
        Ok(())
    } else {
        Err(format!("run dmastat did not end with status 0: {answer:?}"))
    }
}

fn run_forbidden(answer: &str) -> Check {
    one_line(
        answer,
        "run: dmad: not permitted (EPERM): the shell may not start it",
    )
}

/// The shell answered exactly `expected`, one line.
fn one_line(answer: &str, expected: &str) -> Check {
    let lines = shell_lines(answer);
    if lines == [expected] {
        Ok(())
    } else {
        Err(format!("expected the one line {expected:?}, got {lines:?}"))
    }
}

/// `pz`, backspace, `s`: the echo erased the `z` (`\b \b`) and the shell ran `ps`.
fn backspace(answer: &str) -> Check {
    let echo = answer.lines().next().unwrap_or("");
    if echo != "pz\u{8} \u{8}s" {
        return Err(format!("echo was {echo:?}"));
    }
    processes(answer)
}

/// `dmastat --map nvme0` (256 pages, one cell each): as many free cells as `dma:/` says
/// nvme0 has free pages, every other cell live (nothing is deferred or quarantined here).
fn map_matches_table(map: &str, table: &str) -> Check {
    let lines = shell_lines(map);
    if lines.get(1) != Some(&"pages 256, 1 cell = 1 page, 256 cells") {
        return Err(format!("unexpected map heading: {lines:?}"));
    }
    let grid: String = lines
        .iter()
        .skip(2)
        .take_while(|line| !line.starts_with(". free"))
        .copied()
        .collect();
    let free = grid.chars().filter(|cell| *cell == '.').count();
    let live = grid.chars().filter(|cell| *cell == '#').count();
    let table_free = shell_lines(table)
        .iter()
        .find(|line| line.split_whitespace().next() == Some("nvme0"))
        .and_then(|line| line.split_whitespace().nth(5))
        .and_then(|pages| pages.parse::<usize>().ok());
    match table_free {
        Some(pages) if pages == free && free + live == 256 && live > 0 => Ok(()),
        other => Err(format!(
            "map has {free} free and {live} live cells of 256; dma:/ says {other:?} free"
        )),
    }
}

fn poweroff(arch: Arch, answer: &str, ending: &Ending) -> Check {
    if !shell_lines(answer).contains(&"powering off") {
        return Err(format!("no `powering off`: {answer:?}"));
    }
    match ending {
        Ending::Exited(code) if *code == arch.success_status() => Ok(()),
        other => Err(format!(
            "QEMU ended {other:?}, expected exit {}",
            arch.success_status()
        )),
    }
}
