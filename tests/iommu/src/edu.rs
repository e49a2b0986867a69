//! QEMU's `edu` device as a DMA engine: BAR0 registers 0x80 source, 0x88 destination, 0x90
//! count, 0x98 command (bit 0 run, bit 1 direction: 1 = from the device's buffer to
//! memory); its internal buffer is at device address 0x40000 (4 KiB). Each transfer takes a
//! QEMU timer tick (about 100 ms of virtual time); a transfer the IOMMU blocks still ends.

use alloc::format;
use alloc::string::String;
use core::time::Duration;
use kernel_core::iommu::DeviceFaults;
use userlib::sys::flag::O_RDWR;
use userlib::sys::{self, Map, MapFlags, TimeSpec};

/// The device's internal buffer.
pub const INTERNAL: u64 = 0x40000;
const SOURCE: usize = 0x80;
const DESTINATION: usize = 0x88;
const COUNT: usize = 0x90;
const COMMAND: usize = 0x98;
const RUN: u64 = 1;
const TO_MEMORY: u64 = 2;

/// The mapped device and its PCI requester id (`bb:dd.f`).
pub struct Edu {
    fd: usize,
    registers: *mut u8,
    /// `bb:dd.f` as the kernel prints sources.
    pub source: String,
}

impl Edu {
    /// Opens `device:edu0` and maps its first region (BAR0).
    pub fn open() -> Result<Edu, String> {
        let fd = sys::open("device:edu0", O_RDWR).map_err(|e| format!("open device:edu0: {e}"))?;
        let text = sys::read_to_end(fd).map_err(|e| format!("read device:edu0: {e}"))?;
        let text = String::from_utf8_lossy(&text).into_owned();
        let mut region = None;
        let mut source = None;
        for line in text.lines() {
            let words: alloc::vec::Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["region", base, _size] if region.is_none() => {
                    region = u64::from_str_radix(base.trim_start_matches("0x"), 16).ok();
                }
                ["pci", bus, device, function] => {
                    let number = |text: &str| text.parse::<u8>().unwrap_or(0);
                    source = Some(format!(
                        "{:02x}:{:02x}.{}",
                        number(bus),
                        number(device),
                        number(function)
                    ));
                }
                _ => {}
            }
        }
        let (Some(base), Some(source)) = (region, source) else {
            return Err(format!("device:edu0 says {text:?}"));
        };
        let map = Map {
            offset: base as usize,
            size: 4096,
            flags: MapFlags::PROT_READ | MapFlags::PROT_WRITE | MapFlags::MAP_SHARED,
            address: 0,
        };
        // SAFETY: a fresh mapping (address 0) of the device's own registers.
        let registers = unsafe { sys::fmap(fd, &map) }.map_err(|e| format!("fmap edu: {e}"))?;
        Ok(Edu {
            fd,
            registers: registers as *mut u8,
            source,
        })
    }

    /// The kernel's record of edu's IOMMU faults, through this holder's `device:` handle.
    pub fn faults(&self) -> Result<DeviceFaults, String> {
        faults_through(self.fd).map_err(|e| format!("call faults on device:edu0: {e}"))
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

    /// Copies `count` bytes from `source` to `destination` (one of them [`INTERNAL`]) and
    /// waits for the transfer to end (blocked or not).
    pub fn transfer(&self, source: u64, destination: u64, count: u64) -> Result<(), String> {
        let to_memory = source == INTERNAL;
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

/// The fault record through `device:` descriptor `fd` (the `faults` call).
pub fn faults_through(fd: usize) -> sys::Result<DeviceFaults> {
    let mut buffer = [0u8; 96];
    buffer[..DeviceFaults::REQUEST.len()].copy_from_slice(DeviceFaults::REQUEST);
    let length = sys::call(fd, &mut buffer)?;
    let text = String::from_utf8_lossy(&buffer[..length.min(buffer.len())]).into_owned();
    DeviceFaults::parse(&text).ok_or(sys::Error::new(userlib::sys::error::EIO))
}

/// Sleeps `duration`.
pub fn sleep(duration: Duration) {
    let time = TimeSpec {
        tv_sec: duration.as_secs() as i64,
        tv_nsec: duration.subsec_nanos() as i32,
    };
    let mut left = TimeSpec::default();
    let _ = sys::nanosleep(&time, &mut left);
}
