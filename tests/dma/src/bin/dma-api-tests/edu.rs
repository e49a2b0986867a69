//! QEMU's `edu` device as a DMA engine for the streaming tests (the `iommu` suite's helper,
//! cut down): BAR0 registers 0x80 source, 0x88 destination, 0x90 count, 0x98 command (bit 0
//! run, bit 1 direction: 1 = from the device's buffer to memory); its internal buffer is at
//! device address 0x40000 (4 KiB). Each transfer takes a QEMU timer tick.

use alloc::format;
use alloc::string::String;
use core::time::Duration;
use userlib::sys::flag::O_RDWR;
use userlib::sys::{self, Map, MapFlags, TimeSpec};

/// The device's name in the manifest.
pub const DEVICE: &str = "edu0";
/// The device's internal buffer.
pub const INTERNAL: u64 = 0x40000;
/// Bytes in the internal buffer.
pub const INTERNAL_SIZE: u64 = 4096;
/// The highest address edu uses (the machine gives it `dma_mask=0xffffffff`).
pub const MASK: u64 = 0xffff_ffff;
const SOURCE: usize = 0x80;
const DESTINATION: usize = 0x88;
const COUNT: usize = 0x90;
const COMMAND: usize = 0x98;
const RUN: u64 = 1;
const TO_MEMORY: u64 = 2;

/// The mapped device.
pub struct Edu {
    fd: usize,
    registers: *mut u8,
}

impl Edu {
    /// Opens `device:edu0` and maps its first region (BAR0).
    pub fn open() -> Result<Edu, String> {
        let fd = sys::open("device:edu0", O_RDWR).map_err(|e| format!("open device:edu0: {e}"))?;
        let text = sys::read_to_end(fd).map_err(|e| format!("read device:edu0: {e}"))?;
        let text = String::from_utf8_lossy(&text).into_owned();
        let base = text.lines().find_map(|line| {
            let words: alloc::vec::Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["region", base, _size] => {
                    u64::from_str_radix(base.trim_start_matches("0x"), 16).ok()
                }
                _ => None,
            }
        });
        let Some(base) = base else {
            let _ = sys::close(fd);
            return Err(format!("device:edu0 says {text:?}"));
        };
        let map = Map {
            offset: base as usize,
            size: 4096,
            flags: MapFlags::PROT_READ | MapFlags::PROT_WRITE | MapFlags::MAP_SHARED,
            address: 0,
        };
        // SAFETY: a fresh mapping (address 0) of the device's own registers.
        let registers = match unsafe { sys::fmap(fd, &map) } {
            Ok(registers) => registers,
            Err(error) => {
                let _ = sys::close(fd);
                return Err(format!("fmap edu: {error}"));
            }
        };
        Ok(Edu {
            fd,
            registers: registers as *mut u8,
        })
    }

    fn write(&self, offset: usize, value: u64) {
        // SAFETY: `registers` maps edu's first 4 KiB of BAR0; offsets are its DMA registers.
        unsafe {
            self.registers
                .add(offset)
                .cast::<u64>()
                .write_volatile(value)
        }
    }

    fn read(&self, offset: usize) -> u64 {
        // SAFETY: as in `write`.
        unsafe { self.registers.add(offset).cast::<u64>().read_volatile() }
    }

    /// Copies `count` bytes from `source` to `destination` (one of them inside the
    /// internal buffer) and waits for the transfer to end.
    pub fn transfer(&self, source: u64, destination: u64, count: u64) -> Result<(), String> {
        let to_memory = (INTERNAL..INTERNAL + INTERNAL_SIZE).contains(&source);
        self.write(SOURCE, source);
        self.write(DESTINATION, destination);
        self.write(COUNT, count);
        self.write(COMMAND, RUN | if to_memory { TO_MEMORY } else { 0 });
        for _ in 0..400 {
            if self.read(COMMAND) & RUN == 0 {
                return Ok(());
            }
            sleep(Duration::from_millis(5));
        }
        Err(format!(
            "edu transfer {source:#x} -> {destination:#x} never ended"
        ))
    }
}

impl Drop for Edu {
    fn drop(&mut self) {
        // SAFETY: the registers' mapping made in `open`; nothing refers to it after drop.
        let _ = unsafe { sys::funmap(self.registers as usize, 4096) };
        let _ = sys::close(self.fd);
    }
}

fn sleep(duration: Duration) {
    let time = TimeSpec {
        tv_sec: duration.as_secs() as i64,
        tv_nsec: duration.subsec_nanos() as i32,
    };
    let mut left = TimeSpec::default();
    let _ = sys::nanosleep(&time, &mut left);
}
