//! I/O APICs: wired interrupt lines routed to local-APIC vectors.
//!
//! The kernel hands over the MADT's I/O APICs (`Arch::use_machine`); each one's register
//! window is mapped the first time a line of it is connected. A line is its global system
//! interrupt (GSI): the I/O APIC whose inputs `[interrupt_base, interrupt_base + inputs)`
//! hold it gets a redirection entry — vector, this CPU's APIC id, trigger and polarity
//! (`kernel_core::interrupt::io_apic`, after the MADT's overrides) — written masked.
//! Masking is the entry's mask bit. Registers are reached through IOREGSEL / IOWIN.

use kernel_core::interrupt::io_apic::{redirection_entry, MASKED};
use kernel_core::interrupt::WiredLine;
use kernel_core::machine::{IoApic, MAX_IO_APICS};
use kernel_core::user_mode::MapDevice;
use spin::Mutex;

/// IOREGSEL and IOWIN offsets in the window.
const SELECT: u64 = 0x00;
const WINDOW: u64 = 0x10;
/// IOAPICVER: bits 16..24 hold the number of inputs minus one.
const VERSION: u32 = 0x01;
/// The first redirection entry's register (two 32-bit registers per entry).
const FIRST_ENTRY: u32 = 0x10;
/// Bytes of the register window mapped.
const WINDOW_SIZE: u64 = 0x20;
/// The most lines routed at once.
const MAX_ROUTES: usize = 64;

/// One I/O APIC: what the MADT said, and its mapped window (0 until first used).
#[derive(Clone, Copy)]
struct Controller {
    description: IoApic,
    window: u64,
}

/// A routed line: its vector, its I/O APIC (index) and input.
#[derive(Clone, Copy)]
struct Route {
    vector: u32,
    controller: usize,
    input: u32,
}

static CONTROLLERS: Mutex<[Option<Controller>; MAX_IO_APICS]> = Mutex::new([None; MAX_IO_APICS]);
static ROUTES: Mutex<[Option<Route>; MAX_ROUTES]> = Mutex::new([None; MAX_ROUTES]);

/// Records the machine's I/O APICs (nothing is touched until a line is connected).
pub fn configure<'a>(io_apics: impl Iterator<Item = &'a IoApic>) {
    let mut controllers = CONTROLLERS.lock();
    for (slot, description) in controllers.iter_mut().zip(io_apics) {
        *slot = Some(Controller {
            description: *description,
            window: 0,
        });
    }
}

fn read(window: u64, register: u32) -> u32 {
    // SAFETY: `window` maps an I/O APIC's register window as device memory (`connect`);
    // IOREGSEL and IOWIN are aligned 32-bit registers in it, and this CPU runs with
    // interrupts masked, so nothing else selects a register in between.
    unsafe {
        ((window + SELECT) as *mut u32).write_volatile(register);
        ((window + WINDOW) as *const u32).read_volatile()
    }
}

fn write(window: u64, register: u32, value: u32) {
    // SAFETY: as in `read`.
    unsafe {
        ((window + SELECT) as *mut u32).write_volatile(register);
        ((window + WINDOW) as *mut u32).write_volatile(value);
    }
}

fn write_entry(window: u64, input: u32, entry: u64) {
    let register = FIRST_ENTRY + input * 2;
    // Masked first (low half, which holds the mask), so no half-written entry is live.
    write(window, register, (entry as u32) | MASKED as u32);
    write(window, register + 1, (entry >> 32) as u32);
    write(window, register, entry as u32);
}

fn read_entry(window: u64, input: u32) -> u64 {
    let register = FIRST_ENTRY + input * 2;
    u64::from(read(window, register)) | (u64::from(read(window, register + 1)) << 32)
}

/// Routes `line` to `vector` on the local APIC `destination`, masked. `None` when no I/O
/// APIC has the line's GSI or the route table is full.
pub fn connect(line: WiredLine, vector: u32, destination: u8, map_device: MapDevice) -> Option<()> {
    let mut controllers = CONTROLLERS.lock();
    for (index, slot) in controllers.iter_mut().enumerate() {
        let Some(controller) = slot else { continue };
        let base = controller.description.interrupt_base;
        if line.number < base {
            continue;
        }
        if controller.window == 0 {
            controller.window = map_device(controller.description.address, WINDOW_SIZE);
        }
        let inputs = ((read(controller.window, VERSION) >> 16) & 0xff) + 1;
        let input = line.number - base;
        if input >= inputs {
            continue;
        }
        let mut routes = ROUTES.lock();
        let free = routes.iter_mut().find(|route| route.is_none())?;
        *free = Some(Route {
            vector,
            controller: index,
            input,
        });
        let entry = redirection_entry(vector as u8, destination, line, true);
        write_entry(controller.window, input, entry);
        return Some(());
    }
    None
}

/// The routed line with vector `vector`: its window and input.
fn route(vector: u32) -> Option<(u64, u32)> {
    let route = ROUTES
        .lock()
        .iter()
        .flatten()
        .find(|route| route.vector == vector)
        .copied()?;
    let window = CONTROLLERS.lock()[route.controller]?.window;
    Some((window, route.input))
}

/// Sets or clears the mask bit of the line routed to `vector` (nothing for other vectors).
pub fn set_masked(vector: u32, masked: bool) {
    if let Some((window, input)) = route(vector) {
        let register = FIRST_ENTRY + input * 2;
        let low = read(window, register) & !(MASKED as u32);
        write(
            window,
            register,
            low | if masked { MASKED as u32 } else { 0 },
        );
    }
}

/// The redirection entry of the line routed to `vector`, as it reads back.
pub fn entry(vector: u32) -> Option<u64> {
    route(vector).map(|(window, input)| read_entry(window, input))
}
