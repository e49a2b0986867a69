//! `console:`: what is typed on the serial console, for the one process granted the
//! `console` right (manifest `console = true`: the shell).
//!
//! The kernel owns the UART (`crate::console` writes the boot log on it); this scheme adds
//! input. The first open connects the console's receive interrupt (`Arch::console_input_line`:
//! COM1's ISA IRQ 4 through the I/O APIC on x86_64, the PL011's SPI from the device tree on
//! aarch64) and turns it on at the UART. The interrupt hook ([`fired`]) drains the UART into
//! a small buffer ([`BUFFER_SIZE`] bytes; bytes typed while it is full are dropped) and wakes
//! the reader. `read` blocks until at least one byte is there and returns what is (raw bytes:
//! no echo, no line editing — both are the shell's); `write` prints raw bytes on the console.
//! One open handle at a time (`EBUSY`; `dup` shares it); without the right, `EACCES`; with
//! no receive interrupt the CPU port can route, `ENODEV`. The line stays connected after the holder closes; what
//! is typed meanwhile waits for the next holder (up to the buffer's size).

use crate::arch::{Arch, Cpu};
use crate::memory::kernel_space;
use crate::object::{Handles, OpenRequest, Scheme, Sink, Source};
use crate::process::{self, WaitQueue};
use kernel_core::interrupt::InterruptControl;
use kernel_core::{CacheType, Error};
use spin::Mutex;

/// Bytes kept between the interrupt and the reader.
const BUFFER_SIZE: usize = 256;

/// The receive side: the connected line's id, the holder and the bytes not yet read.
struct Input {
    /// The CPU port's id of the receive interrupt, once connected.
    line: Option<u32>,
    /// The pid holding `console:`, if any.
    holder: Option<u32>,
    bytes: [u8; BUFFER_SIZE],
    start: usize,
    length: usize,
}

impl Input {
    fn push(&mut self, byte: u8) {
        if self.length < BUFFER_SIZE {
            self.bytes[(self.start + self.length) % BUFFER_SIZE] = byte;
            self.length += 1;
        }
    }

    /// Moves up to `into.len()` bytes out; how many.
    fn take(&mut self, into: &mut [u8]) -> usize {
        let count = into.len().min(self.length);
        for slot in into.iter_mut().take(count) {
            *slot = self.bytes[self.start];
            self.start = (self.start + 1) % BUFFER_SIZE;
        }
        self.length -= count;
        count
    }
}

/// A leaf lock (lock order 9): nothing else is taken under it.
static INPUT: Mutex<Input> = Mutex::new(Input {
    line: None,
    holder: None,
    bytes: [0; BUFFER_SIZE],
    start: 0,
    length: 0,
});

/// Each handle's holder pid.
static HANDLES: Handles<u32> = Handles::new();

/// The holder parked in `read`.
static READERS: WaitQueue = WaitQueue::new();

/// The device-interrupt hook's first question: is interrupt `id` the console's? If so the
/// UART is drained into the buffer and the reader woken; `true`. Runs with no lock held.
pub fn fired(id: u32) -> bool {
    {
        let mut input = INPUT.lock();
        if input.line != Some(id) {
            return false;
        }
        while let Some(byte) = Cpu::console_read_byte() {
            input.push(byte);
        }
    }
    READERS.wake_all();
    process::READINESS.wake_all();
    true
}

/// Connects the receive interrupt the first time; `NoDevice` if the CPU port cannot.
fn connect(input: &mut Input) -> Result<(), Error> {
    if input.line.is_some() {
        return Ok(());
    }
    let machine = crate::platform::machine_description();
    let wired = Cpu::console_input_line(&machine).ok_or(Error::NoDevice)?;
    let mut map = |physical: u64, size: u64| {
        kernel_space::map_device(physical, size, CacheType::Device).unwrap_or(0)
    };
    let id = Cpu::connect_line(wired, &mut map).ok_or(Error::NoDevice)?;
    Cpu::console_enable_input();
    input.line = Some(id);
    Cpu::unmask(id);
    log::info!("console: input connected (line {}, id {id})", wired.number);
    Ok(())
}

/// The `console:` scheme.
pub struct ConsoleInput;

impl Scheme for ConsoleInput {
    /// `AccessDenied` without the `console` right, `Busy` while a handle is open.
    fn open(&self, request: &OpenRequest<'_>) -> Result<u64, Error> {
        if !request.caller.rights.console {
            log::warn!(
                "process {} may not read the console (no console right)",
                request.caller.name
            );
            return Err(Error::AccessDenied);
        }
        let pid = request.caller.pid;
        {
            // Connecting maps registers (kernel space, frames): taken before the leaf lock.
            let mut input = INPUT.lock();
            // One open handle at all (its descriptors may be duplicated): a second open,
            // even by the holder, would let a close give the console away while a handle
            // is still in use.
            if input.holder.is_some() {
                return Err(Error::Busy);
            }
            if input.line.is_none() {
                drop(input);
                let mut fresh = Input {
                    line: None,
                    holder: None,
                    bytes: [0; BUFFER_SIZE],
                    start: 0,
                    length: 0,
                };
                connect(&mut fresh)?;
                input = INPUT.lock();
                if input.line.is_none() {
                    input.line = fresh.line;
                }
                if input.holder.is_some() {
                    return Err(Error::Busy);
                }
            }
            input.holder = Some(pid);
        }
        HANDLES.insert(pid).inspect_err(|_| {
            INPUT.lock().holder = None;
        })
    }

    /// Blocks until a byte was typed; returns up to the buffer's length of them.
    fn read(&self, handle: u64, buffer: &mut dyn Sink) -> Result<usize, Error> {
        HANDLES.with(handle, |_| ())?;
        if buffer.len() == 0 {
            return Ok(0);
        }
        let mut chunk = [0u8; BUFFER_SIZE];
        let wanted = buffer.len().min(BUFFER_SIZE);
        let count = READERS.wait_until(|| {
            let count = INPUT.lock().take(&mut chunk[..wanted]);
            (count > 0).then_some(count)
        })?;
        buffer.copy_from(0, &chunk[..count])?;
        Ok(count)
    }

    /// Prints the bytes as they are (`\n` becomes `\r\n` on the wire).
    fn write(&self, handle: u64, bytes: &dyn Source) -> Result<usize, Error> {
        HANDLES.with(handle, |_| ())?;
        let mut chunk = [0u8; 256];
        let mut done = 0;
        while done < bytes.len() {
            let count = chunk.len().min(bytes.len() - done);
            bytes.copy_to(done, &mut chunk[..count])?;
            crate::console::write_bytes(&chunk[..count]);
            done += count;
        }
        Ok(bytes.len())
    }

    /// Ready while typed bytes wait.
    fn ready(&self, handle: u64) -> Result<bool, Error> {
        HANDLES.with(handle, |_| ())?;
        Ok(INPUT.lock().length > 0)
    }

    fn close(&self, handle: u64) {
        if let Some(pid) = HANDLES.remove(handle) {
            let mut input = INPUT.lock();
            if input.holder == Some(pid) {
                input.holder = None;
            }
        }
    }
}
