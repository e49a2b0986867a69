//! x86 I/O-port access, through the `x86_64` crate's [`Port`].

use x86_64::instructions::port::Port;

/// Writes a byte to an I/O port.
///
/// # Safety
/// The port must belong to a device whose driver is the caller; writing the wrong port can
/// reconfigure or stop the machine.
pub unsafe fn write_u8(port: u16, value: u8) {
    // SAFETY: the caller owns the port (see `# Safety`).
    unsafe { Port::<u8>::new(port).write(value) };
}

/// Writes a 32-bit value to an I/O port.
///
/// # Safety
/// As for [`write_u8`].
pub unsafe fn write_u32(port: u16, value: u32) {
    // SAFETY: the caller owns the port (see `# Safety`).
    unsafe { Port::<u32>::new(port).write(value) };
}

/// Reads a byte from an I/O port.
///
/// # Safety
/// As for [`write_u8`]: some device registers change state when read.
pub unsafe fn read_u8(port: u16) -> u8 {
    // SAFETY: the caller owns the port (see `# Safety`).
    unsafe { Port::<u8>::new(port).read() }
}
