//! The PL011 UART: the boot console.
//!
//! Its physical address is QEMU `virt`'s constant until the kernel hands over the device
//! tree's console ([`set_device`], from `Arch::use_machine`); the early console before that
//! (the first log lines) keeps the constant.

use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// PL011 physical base on QEMU `virt`.
pub const PL011_BASE: u64 = 0x0900_0000;
/// The PL011's interrupt on QEMU `virt` (SPI 1, level): used when the tree names none.
pub const PL011_INTERRUPT_ID: u32 = 33;
/// Size of the PL011 register block.
pub const PL011_SIZE: u64 = 0x1000;

/// The UART's physical base and size.
static PHYSICAL: [AtomicU64; 2] = [AtomicU64::new(PL011_BASE), AtomicU64::new(PL011_SIZE)];

/// Uses the UART at `(base, size)` from now on, through the linear map until
/// [`set_address`].
pub fn set_device(device: (u64, u64)) {
    PHYSICAL[0].store(device.0, Ordering::SeqCst);
    PHYSICAL[1].store(device.1, Ordering::SeqCst);
}

/// The UART's physical `(base, size)`.
pub fn device() -> (u64, u64) {
    (
        PHYSICAL[0].load(Ordering::SeqCst),
        PHYSICAL[1].load(Ordering::SeqCst),
    )
}

/// Where the registers are mapped: first through the early tables' linear map (device
/// memory below 1 GiB), later wherever the kernel's device window puts them.
static REGISTERS: AtomicUsize = AtomicUsize::new(0);

/// Points the driver at a new mapping of the registers.
///
/// # Safety
/// `virtual_address` must map the PL011 as device memory.
pub unsafe fn set_address(virtual_address: usize) {
    REGISTERS.store(virtual_address, Ordering::SeqCst);
}
const DATA: usize = 0x00;
const FLAG: usize = 0x18;
/// Interrupt mask set/clear register: a set bit enables that interrupt.
const INTERRUPT_MASK: usize = 0x38;
/// Receive and receive-timeout interrupts (IMSC bits 4 and 6).
const RECEIVE_INTERRUPTS: u32 = (1 << 4) | (1 << 6);
/// Flag register: receive FIFO empty.
const RECEIVE_EMPTY: u32 = 1 << 4;
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

/// The registers' virtual address: the kernel's mapping, or the early linear map.
fn base() -> usize {
    let base = REGISTERS.load(Ordering::Relaxed);
    if base == 0 {
        crate::physical_to_virtual(PHYSICAL[0].load(Ordering::Relaxed))
    } else {
        base
    }
}

/// Turns on the receive and receive-timeout interrupts.
pub fn enable_receive_interrupt() {
    let base = base();
    // SAFETY: the PL011 registers are mapped as device memory and belong to the console;
    // this only unmasks its receive interrupts.
    unsafe {
        let mask = (base + INTERRUPT_MASK) as *mut u32;
        mask.write_volatile(mask.read_volatile() | RECEIVE_INTERRUPTS);
    }
}

/// The next received byte, if the receive FIFO holds one (the receive interrupts clear once
/// it is empty).
pub fn read_byte() -> Option<u8> {
    let base = base();
    // SAFETY: the PL011 registers are mapped as device memory and belong to the console.
    unsafe {
        if ((base + FLAG) as *const u32).read_volatile() & RECEIVE_EMPTY != 0 {
            return None;
        }
        Some((((base + DATA) as *const u32).read_volatile() & 0xff) as u8)
    }
}

fn write_byte(byte: u8) {
    let base = base();
    // SAFETY: the PL011 registers are mapped as device memory and belong to the console.
    unsafe {
        while ((base + FLAG) as *const u32).read_volatile() & TRANSMIT_FULL != 0 {
            core::hint::spin_loop();
        }
        ((base + DATA) as *mut u32).write_volatile(u32::from(byte));
    }
}
