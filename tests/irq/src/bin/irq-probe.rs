//! `irq-probe`: tries to open `irq:virtio-blk0` and exits with 0 if it could, else with the
//! errno (the `irq` suite starts it with and without the device's grant).
#![no_std]
#![no_main]

use userlib::sys::Interrupt;
use userlib::Args;

userlib::entry!(main);

fn main(_args: Args) -> i32 {
    match Interrupt::open("virtio-blk0") {
        Ok(_interrupt) => 0,
        Err(error) => error.errno,
    }
}
