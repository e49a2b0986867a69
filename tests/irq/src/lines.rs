//! The kernel's `sys:interrupts` table, one device's line.

use alloc::format;
use alloc::string::String;
use process_tests::check::errno_name;
use userlib::sys;

/// One line of `sys:interrupts`:
/// `DEVICE SOURCE id N holder PID|- count N masked yes|no unacknowledged yes|no`.
#[derive(Debug, Default)]
pub struct Line {
    /// The holding process, if any.
    pub holder: Option<usize>,
    /// Interrupts fired since the line was connected.
    pub count: u64,
    /// Masked now.
    pub masked: bool,
    /// Fired and not acknowledged.
    pub unacknowledged: bool,
}

/// `device`'s line as the kernel reports it.
pub fn read(device: &str) -> Result<Line, String> {
    let bytes = sys::read_file("sys:interrupts")
        .map_err(|error| format!("read sys:interrupts: {}", errno_name(error.errno)))?;
    let text = String::from_utf8(bytes).map_err(|_| String::from("sys:interrupts: not text"))?;
    let words: alloc::vec::Vec<&str> = text
        .lines()
        .find(|line| line.split(' ').next() == Some(device))
        .ok_or_else(|| format!("sys:interrupts has no line for {device}:\n{text}"))?
        .split(' ')
        .collect();
    let mut line = Line::default();
    for pair in words[2..].chunks(2) {
        match pair {
            ["holder", holder] => line.holder = holder.parse().ok(),
            ["count", count] => line.count = count.parse().unwrap_or(0),
            ["masked", masked] => line.masked = *masked == "yes",
            ["unacknowledged", flag] => line.unacknowledged = *flag == "yes",
            _ => {}
        }
    }
    Ok(line)
}
