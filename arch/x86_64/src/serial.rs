//! The 16550 UART on COM1: the boot console.

use crate::port;

/// COM1's base I/O port.
const COM1: u16 = 0x3f8;
/// Line status register offset; bit 5 = transmit holding register empty.
const LINE_STATUS: u16 = 5;
const TRANSMIT_EMPTY: u8 = 1 << 5;
/// Line status bit 0: a received byte is waiting in the receive buffer.
const DATA_READY: u8 = 1;
/// Interrupt enable register offset; bit 0 = received data available.
const INTERRUPT_ENABLE: u16 = 1;
const RECEIVED_DATA_INTERRUPT: u8 = 1;
/// Modem control register offset: DTR, RTS and OUT2 (which gates the IRQ on a PC).
const MODEM_CONTROL: u16 = 4;
const DTR_RTS_OUT2: u8 = 0x0b;
/// COM1's ISA interrupt request line.
pub const COM1_IRQ: u8 = 4;

/// Programs COM1 for 115200 baud, 8N1, FIFOs on, interrupts off.
pub fn init() {
    // SAFETY: COM1 belongs to the kernel's console and to nothing else.
    unsafe {
        port::write_u8(COM1 + 1, 0x00); // no interrupts
        port::write_u8(COM1 + 3, 0x80); // DLAB on: next two registers are the divisor
        port::write_u8(COM1, 0x01); // divisor 1 = 115200 baud
        port::write_u8(COM1 + 1, 0x00);
        port::write_u8(COM1 + 3, 0x03); // 8 bits, no parity, one stop bit, DLAB off
        port::write_u8(COM1 + 2, 0xc7); // FIFOs on and cleared, 14-byte threshold
        port::write_u8(COM1 + 4, 0x03); // DTR and RTS
    }
}

/// Turns on the received-data interrupt (COM1 raises ISA IRQ [`COM1_IRQ`]).
pub fn enable_receive_interrupt() {
    // SAFETY: COM1 belongs to the kernel's console; these writes only enable its interrupt.
    unsafe {
        port::write_u8(COM1 + MODEM_CONTROL, DTR_RTS_OUT2);
        port::write_u8(COM1 + INTERRUPT_ENABLE, RECEIVED_DATA_INTERRUPT);
    }
}

/// The next received byte, if one is waiting (reading it clears the interrupt once none is
/// left).
pub fn read_byte() -> Option<u8> {
    // SAFETY: COM1 belongs to the kernel's console; reading the buffer takes the byte.
    unsafe { (port::read_u8(COM1 + LINE_STATUS) & DATA_READY != 0).then(|| port::read_u8(COM1)) }
}

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
    // SAFETY: COM1 belongs to the kernel's console; polling its status is side-effect free.
    unsafe {
        while port::read_u8(COM1 + LINE_STATUS) & TRANSMIT_EMPTY == 0 {
            core::hint::spin_loop();
        }
        port::write_u8(COM1, byte);
    }
}
