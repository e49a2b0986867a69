//! The line editor: bytes typed on a serial terminal in, echo and finished lines out.
//!
//! Printable ASCII is kept and echoed; backspace (`0x08`) and delete (`0x7f`, what most
//! terminals send for the backspace key) remove the last character and echo `\b \b`;
//! Ctrl-U (`0x15`) erases the whole line; Ctrl-C (`0x03`) abandons it (`^C`). Enter — `\r`,
//! `\n`, or `\r\n` counted once — finishes the line. Other control bytes and anything past
//! [`MAX_LINE`] characters are ignored (a bell, `0x07`, is echoed so the typist notices).

use alloc::string::String;
use alloc::vec::Vec;

/// The longest line kept.
pub const MAX_LINE: usize = 200;

const BACKSPACE: u8 = 0x08;
const DELETE: u8 = 0x7f;
const ERASE_LINE: u8 = 0x15;
const INTERRUPT: u8 = 0x03;
const BELL: u8 = 0x07;

/// What one typed byte did.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// Nothing to show.
    Nothing,
    /// Bytes to echo.
    Echo(Vec<u8>),
    /// The line is finished (the echo of the line end is the caller's).
    Line(String),
    /// The line was abandoned (Ctrl-C).
    Cancelled,
}

/// The line being typed.
#[derive(Debug, Default)]
pub struct Editor {
    line: String,
    /// The last byte was `\r`, so a `\n` right after it ends nothing.
    after_carriage_return: bool,
}

impl Editor {
    /// An empty line.
    pub fn new() -> Self {
        Editor::default()
    }

    /// The line so far.
    pub fn line(&self) -> &str {
        &self.line
    }

    /// Takes one typed byte.
    pub fn feed(&mut self, byte: u8) -> Event {
        let after_carriage_return = core::mem::take(&mut self.after_carriage_return);
        match byte {
            b'\n' if after_carriage_return => Event::Nothing,
            b'\r' | b'\n' => {
                self.after_carriage_return = byte == b'\r';
                Event::Line(core::mem::take(&mut self.line))
            }
            BACKSPACE | DELETE => match self.line.pop() {
                Some(_) => Event::Echo(b"\x08 \x08".to_vec()),
                None => Event::Nothing,
            },
            ERASE_LINE => {
                let count = self.line.chars().count();
                self.line.clear();
                let mut echo = Vec::new();
                for _ in 0..count {
                    echo.extend_from_slice(b"\x08 \x08");
                }
                Event::Echo(echo)
            }
            INTERRUPT => {
                self.line.clear();
                Event::Cancelled
            }
            b' '..=b'~' if self.line.len() < MAX_LINE => {
                self.line.push(char::from(byte));
                Event::Echo(alloc::vec![byte])
            }
            b' '..=b'~' => Event::Echo(alloc::vec![BELL]),
            _ => Event::Nothing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn type_all(editor: &mut Editor, text: &[u8]) -> Vec<Event> {
        text.iter().map(|&byte| editor.feed(byte)).collect()
    }

    #[test]
    fn printable_bytes_are_echoed_and_enter_finishes_the_line() {
        let mut editor = Editor::new();
        let events = type_all(&mut editor, b"ps\r");
        assert_eq!(events[0], Event::Echo(b"p".to_vec()));
        assert_eq!(events[1], Event::Echo(b"s".to_vec()));
        assert_eq!(events[2], Event::Line("ps".into()));
        assert_eq!(editor.line(), "");
    }

    #[test]
    fn backspace_and_delete_remove_the_last_character() {
        let mut editor = Editor::new();
        type_all(&mut editor, b"helx");
        assert_eq!(editor.feed(0x7f), Event::Echo(b"\x08 \x08".to_vec()));
        type_all(&mut editor, b"pq");
        assert_eq!(editor.feed(0x08), Event::Echo(b"\x08 \x08".to_vec()));
        assert_eq!(editor.feed(b'\n'), Event::Line("help".into()));
        // Backspace on an empty line echoes nothing.
        assert_eq!(editor.feed(0x7f), Event::Nothing);
    }

    #[test]
    fn carriage_return_then_line_feed_ends_one_line() {
        let mut editor = Editor::new();
        let events = type_all(&mut editor, b"a\r\nb\n\n");
        let lines: Vec<_> = events
            .into_iter()
            .filter_map(|event| match event {
                Event::Line(line) => Some(line),
                _ => None,
            })
            .collect();
        assert_eq!(lines, ["a", "b", ""]);
    }

    #[test]
    fn ctrl_u_erases_and_ctrl_c_abandons_the_line() {
        let mut editor = Editor::new();
        type_all(&mut editor, b"abc");
        assert_eq!(editor.feed(0x15), Event::Echo(b"\x08 \x08".repeat(3)));
        assert_eq!(editor.line(), "");
        type_all(&mut editor, b"xyz");
        assert_eq!(editor.feed(0x03), Event::Cancelled);
        assert_eq!(editor.feed(b'\r'), Event::Line(String::new()));
    }

    #[test]
    fn control_bytes_are_ignored_and_long_lines_ring_the_bell() {
        let mut editor = Editor::new();
        assert_eq!(editor.feed(0x1b), Event::Nothing);
        assert_eq!(editor.feed(0xc3), Event::Nothing);
        for _ in 0..MAX_LINE {
            editor.feed(b'a');
        }
        assert_eq!(editor.feed(b'b'), Event::Echo(vec![0x07]));
        assert_eq!(editor.line().len(), MAX_LINE);
    }
}
