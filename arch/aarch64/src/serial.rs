//! The PL011 UART of QEMU `virt`: the boot console.

/// PL011 base on QEMU `virt` (identity-mapped as device memory by the early tables).
const PL011_BASE: usize = 0x0900_0000;
const DATA: usize = 0x00;
const FLAG: usize = 0x18;
/// Flag register: transmit FIFO full.
const TRANSMIT_FULL: u32 = 1 << 5;

/// Writes bytes, translating `\n` to `\r\n`.
pub fn write_bytes(bytes: &[u8]) {
    for &byte in bytes {
        if byte == b'\n' {
            write_byte(b'\r');
        }
        write_byte(byte);
    }
}

fn write_byte(byte: u8) {
    let base = crate::physical_to_virtual(PL011_BASE as u64);
    // SAFETY: the PL011 registers are mapped as device memory and belong to the console.
    unsafe {
        while ((base + FLAG) as *const u32).read_volatile() & TRANSMIT_FULL != 0 {
            core::hint::spin_loop();
        }
        ((base + DATA) as *mut u32).write_volatile(u32::from(byte));
    }
}
