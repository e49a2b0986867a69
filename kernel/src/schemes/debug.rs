//! `debug:`: console output, one log line per `\n`, tagged `name[pid]` with the opener's
//! name and pid, so two instances of one program (a restarted dmad) are told apart.

use crate::fallible::try_string;
use crate::object::{Handles, OpenRequest, Scheme, Sink, Source};
use alloc::string::String;
use alloc::vec::Vec;
use kernel_core::Error;

/// The longest line kept; longer lines are cut (and so are lines the heap cannot hold).
const MAX_LINE: usize = 4096;

/// An open console: the opener's name and pid, and the unfinished line.
struct Console {
    name: String,
    pid: u32,
    line: Vec<u8>,
}

static HANDLES: Handles<Console> = Handles::new();

/// The `debug:` scheme.
pub struct Debug;

impl Scheme for Debug {
    fn open(&self, request: &OpenRequest<'_>) -> Result<u64, Error> {
        HANDLES.insert(Console {
            name: try_string(request.caller.name)?,
            pid: request.caller.pid,
            line: Vec::new(),
        })
    }

    /// Nothing to read.
    fn read(&self, handle: u64, _buffer: &mut dyn Sink) -> Result<usize, Error> {
        HANDLES.with(handle, |_| 0)
    }

    fn write(&self, handle: u64, bytes: &dyn Source) -> Result<usize, Error> {
        let mut chunk = [0u8; 256];
        let mut done = 0;
        while done < bytes.len() {
            let count = chunk.len().min(bytes.len() - done);
            bytes.copy_to(done, &mut chunk[..count])?;
            HANDLES.with(handle, |console| {
                for &byte in &chunk[..count] {
                    if byte == b'\n' {
                        crate::println!(
                            "[{}[{}]] {}",
                            console.name,
                            console.pid,
                            String::from_utf8_lossy(&console.line)
                        );
                        console.line.clear();
                    } else if console.line.len() < MAX_LINE && console.line.try_reserve(1).is_ok() {
                        console.line.push(byte);
                    }
                }
            })?;
            done += count;
        }
        Ok(bytes.len())
    }

    fn close(&self, handle: u64) {
        HANDLES.remove(handle);
    }
}
