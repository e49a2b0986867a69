//! Devices on PCI: a scan of configuration space through the ECAM window the CPU port names.
//!
//! On x86_64 the firmware has already assigned every BAR. On aarch64 QEMU `virt` booted with
//! `-kernel` no firmware runs, so BARs read zero: where the host bridge's description names a
//! 32-bit memory window (device tree `ranges`), the kernel places each zero memory BAR in it
//! (`kernel_core::pci::BarAllocator`: size-aligned bump allocation; I/O BARs and bridge bus
//! numbers are left alone) with decoding off. The boot log lists every function found with
//! the BARs it assigned. The kernel then names the first virtio block function `virtio-blk0`
//! (and the first QEMU `edu` function `edu0`, kind `pci`: the IOMMU tests' DMA engine)
//! and turns on its memory decoding and bus mastering (the kernel owns configuration-space
//! policy; the driver only maps what the table lists); other functions keep decoding off. Its
//! interrupt is the firmware's interrupt line, or on a device-tree machine the GIC interrupt
//! the host bridge's `interrupt-map` routes its pin to. It
//! scans the first bus and the buses behind bridges found there, each bus mapped once (1 MiB).

use super::{Device, Kind, PciFunction};
use crate::memory::kernel_space;
use alloc::string::String;
use alloc::vec::Vec;
use image::platform::DeviceTree;
use kernel_core::interrupt::Trigger;
use kernel_core::machine::{MachineDescription, PciHostBridge};
use kernel_core::pci::{self, Address, Bar, BarAllocator};
use kernel_core::CacheType;

/// The most buses the scan visits (bus 0 and bridges' secondary buses).
const MAX_BUSES: usize = 16;
/// Base address registers in a type-0 header.
const BARS: usize = 6;

/// One function's configuration page, mapped in the kernel's device window.
#[derive(Clone, Copy)]
pub struct ConfigPage {
    virtual_address: u64,
}

impl ConfigPage {
    /// Maps the 4 KiB configuration page at `physical` (a device's `PciFunction::config`).
    pub fn map(physical: u64) -> Option<Self> {
        let virtual_address =
            kernel_space::map_device(physical, pci::CONFIG_PAGE_SIZE, CacheType::Device).ok()?;
        Some(ConfigPage { virtual_address })
    }

    /// Reads the aligned 32-bit register holding byte `offset`.
    pub fn read32(self, offset: usize) -> u32 {
        let pointer = (self.virtual_address + (offset & !3) as u64) as *const u32;
        // SAFETY: `virtual_address` maps a whole 4 KiB configuration page as device memory
        // (see `scan_bus`) and `offset & !3` is an aligned offset inside it.
        unsafe { pointer.read_volatile() }
    }

    /// Reads the 16-bit register at `offset`.
    pub fn read16(self, offset: usize) -> u16 {
        (self.read32(offset) >> ((offset & 2) * 8)) as u16
    }

    /// Reads the byte at `offset`.
    pub fn read8(self, offset: usize) -> u8 {
        (self.read32(offset) >> ((offset & 3) * 8)) as u8
    }

    /// Writes the aligned 32-bit register holding byte `offset`.
    pub fn write32(self, offset: usize, value: u32) {
        let pointer = (self.virtual_address + (offset & !3) as u64) as *mut u32;
        // SAFETY: as in `read32`; writes to configuration space only change the function's
        // own registers, which the kernel owns.
        unsafe { pointer.write_volatile(value) }
    }

    /// Writes the 16-bit register at `offset`.
    pub fn write16(self, offset: usize, value: u16) {
        let pointer = (self.virtual_address + (offset & !1) as u64) as *mut u16;
        // SAFETY: as in `write32`, a 2-byte aligned register inside the page.
        unsafe { pointer.write_volatile(value) }
    }
}

/// Appends the PCI devices coherent drives to `devices`, from every host bridge the
/// machine description names.
pub fn discover(
    machine: &MachineDescription,
    tree: Option<&DeviceTree<'_>>,
    devices: &mut Vec<Device>,
) {
    for host in machine.pci_hosts() {
        discover_host(host, tree, devices);
    }
}

/// Scans one host bridge's ECAM window from its first bus.
fn discover_host(host: &PciHostBridge, tree: Option<&DeviceTree<'_>>, devices: &mut Vec<Device>) {
    let base = host.ecam_base;
    let decoded_buses = (host.ecam_size / pci::BUS_SIZE).min(256);
    let last_bus =
        u64::from(host.bus_end).min(u64::from(host.bus_start) + decoded_buses.saturating_sub(1));
    let mut buses: Vec<u8> = alloc::vec![host.bus_start];
    let mut allocator = BarAllocator::from_windows(&host.windows);
    let interrupts = if allocator.is_some() {
        InterruptSource::DeviceTree {
            tree,
            config_base: base + u64::from(host.bus_start) * pci::BUS_SIZE,
        }
    } else {
        InterruptSource::Firmware
    };
    let mut next = 0;
    while next < buses.len() && next < MAX_BUSES {
        let bus = buses[next];
        next += 1;
        if bus < host.bus_start || u64::from(bus) > last_bus {
            continue;
        }
        let Ok(window) = kernel_space::map_device(
            base + u64::from(bus) * pci::BUS_SIZE,
            pci::BUS_SIZE,
            CacheType::Device,
        ) else {
            log::warn!("pci: cannot map the configuration space of bus {bus}");
            continue;
        };
        scan_bus(
            (base, bus, window),
            devices,
            &mut buses,
            allocator.as_mut(),
            interrupts,
        );
    }
}

/// How a function's legacy interrupt (INTx) is found.
#[derive(Clone, Copy)]
enum InterruptSource<'a> {
    /// The firmware wrote it into the interrupt line register.
    Firmware,
    /// No firmware ran: the `interrupt-map` of the device-tree bridge whose `reg` starts at
    /// `config_base` translates the function's interrupt pin.
    DeviceTree {
        tree: Option<&'a DeviceTree<'a>>,
        config_base: u64,
    },
}

/// Visits every function of `bus`, whose ECAM is mapped at `window`; `base` is the host
/// bridge's bus-0 ECAM address.
fn scan_bus(
    (base, bus, window): (u64, u8, u64),
    devices: &mut Vec<Device>,
    buses: &mut Vec<u8>,
    mut allocator: Option<&mut BarAllocator>,
    interrupts: InterruptSource<'_>,
) {
    for device in 0..pci::DEVICES_PER_BUS {
        for function in 0..pci::FUNCTIONS_PER_DEVICE {
            let address = Address {
                bus,
                device,
                function,
            };
            let page = ConfigPage {
                virtual_address: window + (address.ecam_offset() - (u64::from(bus) << 20)),
            };
            if page.read16(pci::VENDOR_ID) == 0xffff {
                if function == 0 {
                    break;
                }
                continue;
            }
            let header = page.read8(pci::HEADER_TYPE);
            let assigned = match (&mut allocator, header & 0x7f) {
                (Some(allocator), 0) => assign_bars(page, allocator),
                _ => String::new(),
            };
            log::info!(
                "pci {bus:02x}:{device:02x}.{function} {:04x}:{:04x} class {:02x}{assigned}",
                page.read16(pci::VENDOR_ID),
                page.read16(pci::DEVICE_ID),
                page.read8(pci::CLASS),
            );
            if header & 0x7f == 1 {
                let secondary = page.read8(pci::SECONDARY_BUS);
                if secondary != 0 && !buses.contains(&secondary) {
                    buses.push(secondary);
                }
            } else if pci::is_virtio_block(page.read16(pci::VENDOR_ID), page.read16(pci::DEVICE_ID))
            {
                let taken = devices.iter().any(|known| known.name == "virtio-blk0");
                let name = if taken {
                    alloc::format!("virtio-blk@{bus:02x}:{device:02x}.{function}")
                } else {
                    String::from("virtio-blk0")
                };
                devices.push(describe(name, base, address, page, interrupts));
            } else if page.read16(pci::VENDOR_ID) == pci::EDU_VENDOR
                && page.read16(pci::DEVICE_ID) == pci::EDU_DEVICE
                && !devices.iter().any(|known| known.name == "edu0")
            {
                let mut edu = describe(String::from("edu0"), base, address, page, interrupts);
                edu.kind = Kind::Pci;
                devices.push(edu);
            }
            if function == 0 && header & 0x80 == 0 {
                break;
            }
        }
    }
}

/// Places each implemented memory BAR that reads zero in `allocator`'s window, with decoding
/// off; returns ` barN ADDRESS+SIZE` for each, for the boot log.
fn assign_bars(page: ConfigPage, allocator: &mut BarAllocator) -> String {
    let command = page.read16(pci::COMMAND);
    page.write16(
        pci::COMMAND,
        command & !(pci::COMMAND_MEMORY_SPACE | pci::COMMAND_IO_SPACE),
    );
    let mut text = String::new();
    let mut index = 0;
    while index < BARS {
        let offset = pci::BAR0 + index * 4;
        let low = page.read32(offset);
        if low & 1 == 1 {
            index += 1;
            continue;
        }
        let wide = (low >> 1) & 0b11 == 0b10 && index + 1 < BARS;
        let high = if wide { page.read32(offset + 4) } else { 0 };
        let unassigned = low & !0xf == 0 && high == 0;
        if let Some(size) = unassigned.then(|| size_bar(page, offset, wide)).flatten() {
            match allocator.allocate(size) {
                Some(placed) => {
                    page.write32(offset, placed.pci as u32 | (low & 0xf));
                    if wide {
                        page.write32(offset + 4, (placed.pci >> 32) as u32);
                    }
                    let _ = core::fmt::Write::write_fmt(
                        &mut text,
                        format_args!(" bar{index} {:#x}+{size:#x}", placed.cpu),
                    );
                }
                None => log::warn!("pci: no room for a BAR of {size:#x} bytes"),
            }
        }
        index += if wide { 2 } else { 1 };
    }
    page.write16(pci::COMMAND, command);
    text
}

/// Reads a type-0 function's BARs and interrupt line, and enables memory decoding and bus
/// mastering. Its interrupt is the firmware's interrupt line, or without firmware the GIC
/// interrupt the device tree's `interrupt-map` routes its interrupt pin to.
fn describe(
    name: String,
    base: u64,
    address: Address,
    page: ConfigPage,
    interrupts: InterruptSource<'_>,
) -> Device {
    let command = page.read16(pci::COMMAND);
    // Decoding off while the BARs are sized, so no access lands on a half-written address.
    page.write16(
        pci::COMMAND,
        command & !(pci::COMMAND_MEMORY_SPACE | pci::COMMAND_IO_SPACE),
    );
    let mut regions = Vec::new();
    let mut index = 0;
    while index < BARS {
        let offset = pci::BAR0 + index * 4;
        let low = page.read32(offset);
        let high = if index + 1 < BARS {
            page.read32(offset + 4)
        } else {
            0
        };
        let bar = pci::decode_bar(low, high);
        if let Bar::Memory { base, wide, .. } = bar {
            if let Some(size) = size_bar(page, offset, wide) {
                regions.push((base, size));
            }
        }
        index += if matches!(bar, Bar::Memory { wide: true, .. }) {
            2
        } else {
            1
        };
    }
    page.write16(
        pci::COMMAND,
        command | pci::COMMAND_MEMORY_SPACE | pci::COMMAND_BUS_MASTER,
    );
    let interrupt = match interrupts {
        InterruptSource::Firmware => Some(page.read8(pci::INTERRUPT_LINE))
            .filter(|line| *line != 0xff)
            .map(u32::from),
        InterruptSource::DeviceTree { tree, config_base } => tree.and_then(|tree| {
            let location = (address.bus, address.device, address.function);
            tree.pci_interrupt(config_base, location, page.read8(pci::INTERRUPT_PIN))
        }),
    };
    Device {
        name,
        kind: Kind::VirtioPci,
        regions,
        pci: Some(PciFunction {
            address,
            config: base + address.ecam_offset(),
        }),
        interrupt,
        // PCI INTx is level-triggered, active low on the wire, active high at the GIC.
        trigger: Trigger::Level,
    }
}

/// A memory BAR's size: write all ones, read back, restore.
fn size_bar(page: ConfigPage, offset: usize, wide: bool) -> Option<u64> {
    let low = page.read32(offset);
    page.write32(offset, u32::MAX);
    let low_mask = page.read32(offset);
    page.write32(offset, low);
    let mut high_mask = 0;
    if wide {
        let high = page.read32(offset + 4);
        page.write32(offset + 4, u32::MAX);
        high_mask = page.read32(offset + 4);
        page.write32(offset + 4, high);
    }
    pci::bar_size(low_mask, high_mask, wide)
}
