//! Who holds a device, and stopping it from doing DMA before its driver's memory is reused.
//!
//! **Holder.** The process that opens `device:NAME` holds device `NAME` until its last
//! `device:NAME` handle closes or it dies; while it does, nobody else may open the device
//! (`EBUSY`), since a second driver would fight the first over its rings and its DMA.
//!
//! **Quiesce.** When the hold ends the kernel stops the device from mastering the bus, through
//! its own mapping of the device's registers, and reads the result back:
//!
//! - PCI function: clear Bus Master Enable in the command register, read it back clear. A
//!   function-level reset is not used: it would also clear the BARs the kernel assigned on
//!   aarch64 and the function's configuration, which the kernel would then have to restore;
//!   with bus mastering off the function cannot reach memory, which is what reuse needs.
//! - virtio-mmio transport: write 0 to `Status` (device reset), read back 0.
//!
//! Each attempt takes the next number of one kernel-wide sequence (its *generation*); a
//! device remembers the generation of its last attempt and of its last *confirmed* one. So
//! `confirmed == generation` means "the last quiesce was confirmed" (or none was needed,
//! both 0), and a device whose last attempt failed is *unconfirmed* until a later attempt
//! succeeds. A new holder's open first retries an unconfirmed device's quiesce and is
//! refused (`EIO`) while it still fails; a PCI function quiesced earlier gets bus mastering
//! back when its next holder opens it (the kernel owns configuration space).
//!
//! **Order at exit** (`lifecycle::exit_current`): the dying process's devices are quiesced
//! first, before its mappings are torn down (`Munmap`s) and before its descriptors close
//! (`Close`s to dmad, whose release of the buffers they name depends on the device state).
//!
//! dmad asks for a device's state with a `call` on its scheme socket (see `schemes::socket`)
//! and reads `write_state`'s line; `sys:quiesce` lists every device that was ever held.
//! Test kernels may make the quiesce of a named device report failure ([`set_refused`],
//! driven by the test-only `sys:quiesce-fail/NAME` and `sys:quiesce-works/NAME`), so the
//! quarantine path can be tested; the product kernel has neither the switch nor its texts.

use super::{Device, Kind};
use crate::memory::kernel_space;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use kernel_core::{CacheType, Error};
use spin::Mutex;

/// The virtio-mmio `Status` register's offset.
const VIRTIO_MMIO_STATUS: u64 = 0x70;

/// One device's hold and quiesce record.
struct Record {
    name: String,
    /// The holding process, if any.
    holder: Option<u32>,
    /// Its open `device:` handles.
    handles: u32,
    /// Counts holds, so a handle closing after its hold ended (at exit) changes nothing.
    epoch: u64,
    /// Generation of the last quiesce attempt (0: never).
    generation: u64,
    /// Generation of the last confirmed quiesce (0: never).
    confirmed: u64,
    /// Where the kernel mapped the registers it quiesces through (0: not yet).
    registers: u64,
    /// Whether bus mastering is off because the kernel quiesced it (PCI).
    master_off: bool,
    /// The process whose hold ended last: the one whose buffers the device may still
    /// reach if that quiesce failed.
    last_holder: Option<u32>,
    /// How many descriptors that holder still had open when its device was quiesced at
    /// its exit (`None`: the hold ended by a close): evidence of the exit path's order,
    /// since its `dma:` handles are among them.
    files_at_quiesce: Option<usize>,
}

/// Every device ever held. A leaf lock: nothing else is taken under it.
static RECORDS: Mutex<Vec<Record>> = Mutex::new(Vec::new());

/// The last generation handed out.
static SEQUENCE: Mutex<u64> = Mutex::new(0);

/// What the holder gets back: the hold's epoch, for [`release`].
pub type Epoch = u64;

/// Makes `pid` the holder of `device` (one more handle if it already is). Retries the
/// quiesce of a device whose last quiesce failed (`Io` while it still fails); `Busy`
/// while another process holds it.
pub fn acquire(device: &Device, pid: u32) -> Result<Epoch, Error> {
    let registers = registers(device)?;
    let (holder, unconfirmed, master_off) = with_record(&device.name, |record| {
        (
            record.holder,
            record.confirmed != record.generation,
            record.master_off,
        )
    })?;
    match holder {
        Some(holder) if holder == pid => {
            return with_record(&device.name, |record| {
                record.handles += 1;
                record.epoch
            })
        }
        Some(_) => return Err(Error::Busy),
        None => {}
    }
    if unconfirmed && !quiesce(device, registers) {
        log::warn!(
            "device {}: still not quiet; not handed to process {pid}",
            device.name
        );
        return Err(Error::Io);
    }
    if master_off || unconfirmed {
        enable_bus_master(device, registers);
    }
    with_record(&device.name, |record| {
        record.holder = Some(pid);
        record.handles = 1;
        record.master_off = false;
        record.epoch += 1;
        record.epoch
    })
}

/// One `device:` handle of hold `epoch` closed: the last one ends the hold and quiesces the
/// device. A handle of a hold already ended (its holder died) changes nothing.
pub fn release(device: &Device, epoch: Epoch) {
    let last = with_record(&device.name, |record| {
        if record.epoch != epoch || record.holder.is_none() {
            return false;
        }
        record.handles -= 1;
        record.handles == 0
    });
    if last == Ok(true) {
        end_hold(device, None);
    }
}

/// Ends every hold of `pid` (it is exiting, with `open_files` descriptors still open) and
/// quiesces those devices. Called before any of its mappings or descriptors are released.
pub fn release_all_of(pid: u32, open_files: usize) {
    let held: Vec<String> = RECORDS
        .lock()
        .iter()
        .filter(|record| record.holder == Some(pid))
        .map(|record| record.name.clone())
        .collect();
    for name in held {
        if let Some(device) = super::find(&name) {
            end_hold(&device, Some(open_files));
        }
    }
}

/// Writes `device`'s state line: `NAME holder PID|- state active|quiet|failed|idle
/// generation G confirmed C last-holder PID|- files-at-quiesce N|-` (`idle`: never
/// quiesced, never held; `last-holder`: whose hold ended last; `files-at-quiesce`: its
/// open descriptors when its exit quiesced the device). Unknown devices read as idle, so a pool serving a
/// device the kernel does not drive is never quarantined.
pub fn write_state(name: &str, text: &mut dyn Write) -> core::fmt::Result {
    let records = RECORDS.lock();
    match records.iter().find(|record| record.name == name) {
        Some(record) => write_record(record, text),
        None => writeln!(
            text,
            "{name} holder - state idle generation 0 confirmed 0 last-holder - files-at-quiesce -"
        ),
    }
}

/// `sys:quiesce`: one state line per device ever held.
pub fn write_table(text: &mut dyn Write) -> core::fmt::Result {
    for record in RECORDS.lock().iter() {
        write_record(record, text)?;
    }
    Ok(())
}

fn write_record(record: &Record, text: &mut dyn Write) -> core::fmt::Result {
    let state = match (record.holder, record.generation) {
        (Some(_), _) => "active",
        (None, 0) => "idle",
        (None, _) if record.confirmed == record.generation => "quiet",
        (None, _) => "failed",
    };
    write!(text, "{} holder ", record.name)?;
    match record.holder {
        Some(pid) => write!(text, "{pid}")?,
        None => write!(text, "-")?,
    }
    write!(
        text,
        " state {state} generation {} confirmed {} last-holder ",
        record.generation, record.confirmed
    )?;
    match record.last_holder {
        Some(pid) => write!(text, "{pid}")?,
        None => write!(text, "-")?,
    }
    match record.files_at_quiesce {
        Some(files) => writeln!(text, " files-at-quiesce {files}"),
        None => writeln!(text, " files-at-quiesce -"),
    }
}

/// Ends `device`'s hold (at its holder's exit with `open_files` descriptors, or by a close)
/// and quiesces it.
fn end_hold(device: &Device, open_files: Option<usize>) {
    let _ = with_record(&device.name, |record| {
        record.last_holder = record.holder.take();
        record.handles = 0;
        record.files_at_quiesce = open_files;
    });
    match registers(device) {
        Ok(registers) => {
            quiesce(device, registers);
        }
        Err(_) => {
            // Without a mapping the kernel cannot stop it: count a failed attempt.
            let generation = next_generation();
            let _ = with_record(&device.name, |record| record.generation = generation);
        }
    }
}

/// Stops `device` through `registers`, records the attempt, and says whether it was
/// confirmed.
fn quiesce(device: &Device, registers: u64) -> bool {
    let refused = refused(&device.name);
    let confirmed = !refused && stop(device, registers);
    let generation = next_generation();
    let _ = with_record(&device.name, |record| {
        record.generation = generation;
        if confirmed {
            record.confirmed = generation;
            record.master_off = device.pci.is_some();
        }
    });
    if confirmed {
        log::info!("device {}: quiesced (generation {generation})", device.name);
    } else {
        log::warn!(
            "device {}: could not confirm it quiet (generation {generation}); its buffers stay quarantined",
            device.name
        );
    }
    confirmed
}

/// The hardware step; true when the read-back confirms it.
fn stop(device: &Device, registers: u64) -> bool {
    // Every PCI function stops the same way, whatever its kind: bus mastering off.
    if device.pci.is_some() {
        let command = read16(registers + kernel_core::pci::COMMAND as u64);
        let stopped = command & !kernel_core::pci::COMMAND_BUS_MASTER;
        write16(registers + kernel_core::pci::COMMAND as u64, stopped);
        return read16(registers + kernel_core::pci::COMMAND as u64)
            & kernel_core::pci::COMMAND_BUS_MASTER
            == 0;
    }
    match device.kind {
        Kind::VirtioMmio => {
            let status = (registers + VIRTIO_MMIO_STATUS) as *mut u32;
            // SAFETY: `registers` maps the transport's whole register block as device
            // memory (see `registers`), and `Status` lies inside it, 4-byte aligned.
            unsafe {
                status.write_volatile(0);
                status.read_volatile() == 0
            }
        }
        // A device of another kind off PCI has no known way to stop: never confirmed.
        _ => false,
    }
}

/// Turns a PCI function's bus mastering (and memory decoding) back on for a new holder.
fn enable_bus_master(device: &Device, registers: u64) {
    if device.pci.is_some() {
        let command = read16(registers + kernel_core::pci::COMMAND as u64);
        write16(
            registers + kernel_core::pci::COMMAND as u64,
            command | kernel_core::pci::COMMAND_BUS_MASTER | kernel_core::pci::COMMAND_MEMORY_SPACE,
        );
    }
}

fn read16(address: u64) -> u16 {
    let word = (address & !3) as *const u32;
    // SAFETY: `address` lies in a configuration page the kernel mapped as device memory
    // (`registers`); the aligned word holding it is inside the same page.
    let value = unsafe { word.read_volatile() };
    (value >> ((address & 2) * 8)) as u16
}

fn write16(address: u64, value: u16) {
    // SAFETY: as in `read16`, a 2-byte aligned register of a mapped configuration page the
    // kernel owns.
    unsafe { (address as *mut u16).write_volatile(value) }
}

/// Where the kernel reaches `device`'s quiesce registers (its configuration page, or its
/// first register range), mapped on first use and kept.
fn registers(device: &Device) -> Result<u64, Error> {
    let mapped = with_record(&device.name, |record| record.registers)?;
    if mapped != 0 {
        return Ok(mapped);
    }
    let (physical, size) = match (device.pci, device.regions.first()) {
        (Some(function), _) => (function.config, kernel_core::pci::CONFIG_PAGE_SIZE),
        (None, Some(region)) => *region,
        (None, None) => return Err(Error::Io),
    };
    let address = kernel_space::map_device(physical, size, CacheType::Device)
        .map_err(|_| Error::OutOfMemory)?;
    with_record(&device.name, |record| record.registers = address)?;
    Ok(address)
}

/// Runs `change` on `name`'s record, making one first if needed (`OutOfMemory` if the heap
/// cannot hold it).
fn with_record<T>(name: &str, change: impl FnOnce(&mut Record) -> T) -> Result<T, Error> {
    let mut records = RECORDS.lock();
    if let Some(record) = records.iter_mut().find(|record| record.name == name) {
        return Ok(change(record));
    }
    records.try_reserve(1).map_err(|_| Error::OutOfMemory)?;
    records.push(Record {
        name: crate::fallible::try_string(name)?,
        holder: None,
        handles: 0,
        epoch: 0,
        generation: 0,
        confirmed: 0,
        registers: 0,
        master_off: false,
        last_holder: None,
        files_at_quiesce: None,
    });
    let record = records.last_mut().expect("just pushed");
    Ok(change(record))
}

fn next_generation() -> u64 {
    let mut sequence = SEQUENCE.lock();
    *sequence += 1;
    *sequence
}

/// Names whose quiesce reports failure (test kernels only). A leaf lock.
#[cfg(feature = "test-suites")]
static REFUSED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Makes the quiesce of `name` report failure (`true`) or work again (test kernels only).
#[cfg(feature = "test-suites")]
pub fn set_refused(name: &str, refuse: bool) -> Result<(), Error> {
    let mut refused = REFUSED.lock();
    refused.retain(|known| known != name);
    if refuse {
        refused.try_reserve(1).map_err(|_| Error::OutOfMemory)?;
        refused.push(crate::fallible::try_string(name)?);
    }
    Ok(())
}

#[cfg(feature = "test-suites")]
fn refused(name: &str) -> bool {
    REFUSED.lock().iter().any(|known| known == name)
}

/// The product kernel never fakes a failed quiesce.
#[cfg(not(feature = "test-suites"))]
fn refused(_name: &str) -> bool {
    false
}
