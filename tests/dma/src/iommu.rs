//! `sys:iommu` as the tests read it: each device's domain and mappings, and the faults
//! (used by the `iommu` suite and by the block suites' killed-driver check).

use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

/// One mapping line: (IOVA, physical, size).
pub type Mapping = (u64, u64, u64);

/// The text, after giving the kernel's timer tick time to drain fault records.
pub fn read() -> Result<String, String> {
    let _ = userlib::time::sleep(Duration::from_millis(30));
    userlib::sys::read_file("sys:iommu")
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .map_err(|error| alloc::format!("read sys:iommu: {error}"))
}

/// Whether the kernel confines devices (an IOMMU is in use): not `iommu none`.
pub fn confined(text: &str) -> bool {
    text.lines()
        .next()
        .is_some_and(|line| line.trim() != "iommu none")
}

/// Whether `device` is a PCI function (`sys:devices` says `pci B D F`): only those sit behind
/// the IOMMU (a virtio-mmio transport would not be).
pub fn on_pci(device: &str) -> bool {
    userlib::sys::read_file("sys:devices").is_ok_and(|bytes| {
        String::from_utf8_lossy(&bytes)
            .lines()
            .any(|line| line.split_whitespace().next() == Some(device) && line.contains(" pci "))
    })
}

fn hex(text: &str) -> u64 {
    u64::from_str_radix(text.trim_start_matches("0x"), 16).unwrap_or(u64::MAX)
}

/// The mappings of `device`'s domain, `None` if it has none listed.
pub fn mappings(text: &str, device: &str) -> Option<Vec<Mapping>> {
    let mut inside = false;
    let mut found = None;
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["domain", _, name, _] => {
                inside = *name == device;
                if inside {
                    found = Some(Vec::new());
                }
            }
            ["map", iova, physical, size, _] if inside => {
                if let Some(list) = found.as_mut() {
                    list.push((hex(iova), hex(physical), hex(size)));
                }
            }
            _ => inside = inside && !line.starts_with("faults"),
        }
    }
    found
}

/// The total fault count.
pub fn fault_count(text: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix("faults "))
        .and_then(|count| count.trim().parse().ok())
        .unwrap_or(0)
}

/// Whether a fault of `source` in `direction` at the page of `address` is listed.
pub fn has_fault(text: &str, source: &str, direction: &str, address: u64) -> bool {
    text.lines().any(|line| {
        let words: Vec<&str> = line.split_whitespace().collect();
        matches!(words.as_slice(), ["fault", s, d, a, ..]
            if *s == source && *d == direction && hex(a) == address & !0xfff)
    })
}
