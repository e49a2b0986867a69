//! `device:`: only a granted device opens, its text names its ranges, and `fmap` maps exactly
//! those ranges as registers.
//!
//! The process suite's manifest grants this program `virtio-blk0` (the machine's virtio-pci
//! block function; where a machine has none the name is unknown and the open must say
//! `ENOENT`; a virtio-mmio transport is also checked by its magic).

use alloc::string::String;
use process_tests::check::{expect_errno, expect_ok, Outcome};
use userlib::sys::error::{EACCES, ENOENT};
use userlib::sys::flag::O_RDONLY;
use userlib::sys::{self, Map, MapFlags};

/// The first word of every virtio-mmio transport: "virt", little-endian.
const VIRTIO_MMIO_MAGIC: u32 = 0x7472_6976;

/// Grants, the description and the mapping check of `device:virtio-blk0`.
pub fn device_registers_map_only_when_granted() -> Outcome {
    expect_errno(
        "open device:no-such-device",
        sys::open("device:no-such-device", O_RDONLY),
        ENOENT,
    )?;
    let table = expect_ok("read sys:devices", sys::read_file("sys:devices"))?;
    let table = String::from_utf8_lossy(&table);
    let names = || table.lines().filter_map(|line| line.split(' ').next());
    if let Some(other) = names().find(|name| *name != "virtio-blk0") {
        let path = alloc::format!("device:{other}");
        expect_errno(
            "open an ungranted device",
            sys::open(&path, O_RDONLY),
            EACCES,
        )?;
    }
    if !names().any(|name| name == "virtio-blk0") {
        let opened = sys::open("device:virtio-blk0", O_RDONLY);
        return expect_errno("open device:virtio-blk0 (absent)", opened, ENOENT);
    }
    let file = expect_ok(
        "open device:virtio-blk0",
        sys::open("device:virtio-blk0", O_RDONLY),
    )?;
    let result = check_mapping(file);
    let _ = sys::close(file);
    result
}

fn check_mapping(file: usize) -> Outcome {
    let text = expect_ok("read device:virtio-blk0", sys::read_to_end(file))?;
    let text = String::from_utf8_lossy(&text);
    let (base, size) = text
        .lines()
        .find_map(|line| {
            let mut words = line.strip_prefix("region ")?.split(' ');
            Some((hexadecimal(words.next()?)?, hexadecimal(words.next()?)?))
        })
        .ok_or_else(|| alloc::format!("no region line in {text:?}"))?;
    let map = |offset: u64, size: u64| {
        let map = Map {
            offset: offset as usize,
            size: size as usize,
            flags: MapFlags::PROT_READ | MapFlags::PROT_WRITE | MapFlags::MAP_SHARED,
            address: 0,
        };
        // SAFETY: a fresh mapping of device registers at an address the kernel chooses.
        unsafe { sys::fmap(file, &map) }
    };
    expect_errno("fmap past the region", map(base + size, 4), EACCES)?;
    expect_errno("fmap one byte too many", map(base, size + 1), EACCES)?;
    let address = expect_ok("fmap the region", map(base, size))?;
    if address as u64 % 4096 != base % 4096 {
        return Err(alloc::format!(
            "fmap of {base:#x} gave {address:#x}: not the same place in the page"
        ));
    }
    let magic = if text.contains("kind virtio-mmio") {
        // SAFETY: the kernel just mapped the transport's registers at `address`, readable.
        Some(unsafe { (address as *const u32).read_volatile() })
    } else {
        None
    };
    // SAFETY: unmaps the mapping made above, which nothing uses any more.
    expect_ok("funmap the region", unsafe {
        sys::funmap(address, size as usize)
    })?;
    match magic {
        Some(magic) if magic != VIRTIO_MMIO_MAGIC => Err(alloc::format!(
            "virtio-mmio magic reads {magic:#x}, not {VIRTIO_MMIO_MAGIC:#x}"
        )),
        _ => Ok(()),
    }
}

fn hexadecimal(text: &str) -> Option<u64> {
    u64::from_str_radix(text.strip_prefix("0x")?, 16).ok()
}
