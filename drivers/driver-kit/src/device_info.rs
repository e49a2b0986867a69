//! The text `device:NAME` reads as: which transport, where the registers are.
//!
//! One fact per line (see `kernel_core::abi::DEVICE_SCHEME`): `kind virtio-mmio`,
//! `kind virtio-pci` or `kind nvme`; `region PHYSICAL SIZE` per register range; for PCI `pci BUS DEVICE
//! FUNCTION` and `config PHYSICAL`; maybe `interrupt N`. Numbers are `0x` hexadecimal or
//! decimal. Unknown lines are ignored, so the kernel may add facts.

use alloc::vec::Vec;

/// How the device is attached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportKind {
    /// A virtio-mmio register window (aarch64 `virt`).
    Mmio,
    /// A PCI function with virtio capabilities (x86_64 `q35`).
    Pci,
    /// An NVM Express controller on PCI (registers in BAR0).
    Nvme,
}

/// A PCI function's address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PciAddress {
    /// Bus number.
    pub bus: u8,
    /// Device number (0..32).
    pub device: u8,
    /// Function number (0..8).
    pub function: u8,
}

impl PciAddress {
    /// The function's offset in an ECAM window: `bus << 20 | device << 15 | function << 12`.
    pub fn ecam_offset(&self) -> u64 {
        (u64::from(self.bus) << 20)
            | (u64::from(self.device) << 15)
            | (u64::from(self.function) << 12)
    }
}

/// What the kernel told about the device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// The transport.
    pub kind: TransportKind,
    /// Register ranges, `(physical, size)`.
    pub regions: Vec<(u64, u64)>,
    /// For PCI: the function.
    pub pci: Option<PciAddress>,
    /// For PCI: the physical address of the function's 4 KiB configuration page.
    pub config: Option<u64>,
    /// The interrupt line, where known.
    pub interrupt: Option<u64>,
}

impl DeviceInfo {
    /// Reads the text; `None` when it names no known kind, or a PCI device lacks its
    /// function or configuration page, or an MMIO device has no region.
    pub fn parse(text: &str) -> Option<DeviceInfo> {
        let mut kind = None;
        let mut info = DeviceInfo {
            kind: TransportKind::Mmio,
            regions: Vec::new(),
            pci: None,
            config: None,
            interrupt: None,
        };
        for line in text.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["kind", "virtio-mmio"] => kind = Some(TransportKind::Mmio),
                ["kind", "virtio-pci"] => kind = Some(TransportKind::Pci),
                ["kind", "nvme"] => kind = Some(TransportKind::Nvme),
                ["region", base, size] => info.regions.push((number(base)?, number(size)?)),
                ["pci", bus, device, function] => {
                    info.pci = Some(PciAddress {
                        bus: u8::try_from(number(bus)?).ok()?,
                        device: u8::try_from(number(device)?).ok().filter(|d| *d < 32)?,
                        function: u8::try_from(number(function)?).ok().filter(|f| *f < 8)?,
                    });
                }
                ["config", base] => info.config = Some(number(base)?),
                ["interrupt", line] => info.interrupt = Some(number(line)?),
                _ => {}
            }
        }
        info.kind = kind?;
        let complete = match info.kind {
            TransportKind::Mmio => !info.regions.is_empty(),
            TransportKind::Pci => info.pci.is_some() && info.config.is_some(),
            TransportKind::Nvme => {
                info.pci.is_some() && info.config.is_some() && !info.regions.is_empty()
            }
        };
        complete.then_some(info)
    }

    /// The register range holding `[physical, physical + size)`, if any.
    pub fn region_holding(&self, physical: u64, size: u64) -> Option<(u64, u64)> {
        let end = physical.checked_add(size)?;
        self.regions.iter().copied().find(|&(base, length)| {
            base <= physical && base.checked_add(length).is_some_and(|limit| end <= limit)
        })
    }
}

/// A `0x` hexadecimal or decimal number.
fn number(text: &str) -> Option<u64> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_mmio_device() {
        let info =
            DeviceInfo::parse("kind virtio-mmio\nregion 0xa003e00 0x200\ninterrupt 79\n").unwrap();
        assert_eq!(info.kind, TransportKind::Mmio);
        assert_eq!(info.regions, [(0xa003e00, 0x200)]);
        assert_eq!(info.interrupt, Some(79));
        assert_eq!(
            info.region_holding(0xa003e00, 0x200),
            Some((0xa003e00, 0x200))
        );
        assert_eq!(info.region_holding(0xa003e00, 0x201), None);
    }

    #[test]
    fn reads_a_pci_device() {
        let text = "kind virtio-pci\nregion 0xfebf0000 0x1000\nregion 0xfe000000 0x4000\npci 0 2 0\nconfig 0xb0010000\nfuture fact\n";
        let info = DeviceInfo::parse(text).unwrap();
        assert_eq!(info.kind, TransportKind::Pci);
        let pci = info.pci.unwrap();
        assert_eq!((pci.bus, pci.device, pci.function), (0, 2, 0));
        assert_eq!(pci.ecam_offset(), 0x10000);
        assert_eq!(info.config, Some(0xb001_0000));
        assert_eq!(
            info.region_holding(0xfe003000, 0x1000),
            Some((0xfe000000, 0x4000))
        );
    }

    #[test]
    fn reads_an_nvme_controller() {
        let text = "kind nvme\nregion 0x10000000 0x4000\npci 0 3 0\nconfig 0x30018000\n";
        let info = DeviceInfo::parse(text).unwrap();
        assert_eq!(info.kind, TransportKind::Nvme);
        assert_eq!(info.regions, [(0x1000_0000, 0x4000)]);
        assert_eq!(
            DeviceInfo::parse("kind nvme\npci 0 3 0\nconfig 0x1000\n"),
            None
        );
    }

    #[test]
    fn refuses_incomplete_descriptions() {
        assert_eq!(DeviceInfo::parse(""), None);
        assert_eq!(DeviceInfo::parse("kind virtio-mmio\n"), None);
        assert_eq!(DeviceInfo::parse("kind virtio-pci\npci 0 2 0\n"), None);
        assert_eq!(
            DeviceInfo::parse("kind virtio-pci\npci 0 40 0\nconfig 0x1000\n"),
            None
        );
        assert_eq!(DeviceInfo::parse("kind usb\nregion 0x1000 0x1000\n"), None);
    }
}
