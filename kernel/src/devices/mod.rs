//! The device table: which devices the machine has, where their registers are, which
//! interrupt they raise — found once at boot, then read by the `device:` scheme.
//!
//! The kernel only discovers and describes; drivers are processes that map what the table
//! lists (through `device:NAME`, if the manifest grants them `NAME`). Two sources feed it: the
//! device tree's `virtio,mmio` nodes ([`tree`]) and a scan of PCI configuration space where
//! the CPU port names an ECAM window ([`pci`]). Who holds a device, and stopping it before
//! its driver's DMA memory is reused, is [`quiesce`]'s.

mod pci;
pub mod quiesce;
mod tree;

pub use pci::ConfigPage;

use crate::platform::Platform;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use spin::Mutex;

/// How a device is attached, which is how its driver must talk to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A virtio-mmio transport (device tree).
    VirtioMmio,
    /// A virtio device on PCI.
    VirtioPci,
    /// An NVM Express controller on PCI (class 01h, subclass 08h, interface 02h).
    Nvme,
    /// Any other PCI function a driver may use (QEMU's `edu` DMA engine).
    Pci,
}

impl Kind {
    /// The name `device:` texts use.
    pub fn name(self) -> &'static str {
        match self {
            Kind::VirtioMmio => "virtio-mmio",
            Kind::VirtioPci => "virtio-pci",
            Kind::Nvme => "nvme",
            Kind::Pci => "pci",
        }
    }
}

/// Where a PCI function sits and where its configuration page is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PciFunction {
    /// Bus, device and function numbers.
    pub address: kernel_core::pci::Address,
    /// Physical address of its 4 KiB ECAM page.
    pub config: u64,
}

/// One device in the table.
#[derive(Clone, Debug)]
pub struct Device {
    /// The name drivers open (`virtio-blk0`) or, if nobody named it, its node's name.
    pub name: String,
    /// How it is attached.
    pub kind: Kind,
    /// Its register ranges as (physical base, size).
    pub regions: Vec<(u64, u64)>,
    /// Its place on PCI, if it is a PCI function.
    pub pci: Option<PciFunction>,
    /// The interrupt it raises (GIC interrupt ID on aarch64, the firmware's legacy line on
    /// x86), if known.
    pub interrupt: Option<u32>,
    /// How that interrupt signals (device tree flags; PCI INTx is level).
    pub trigger: kernel_core::interrupt::Trigger,
}

impl Device {
    /// Every range a driver may map: the register ranges and the configuration page.
    pub fn windows(&self) -> Vec<(u64, u64)> {
        let mut windows = self.regions.clone();
        if let Some(function) = self.pci {
            windows.push((function.config, kernel_core::pci::CONFIG_PAGE_SIZE));
        }
        windows
    }

    /// Writes the `read` text of `device:NAME` to `text`, one fact per line.
    pub fn write_description(&self, text: &mut dyn Write) -> core::fmt::Result {
        writeln!(text, "kind {}", self.kind.name())?;
        for (base, size) in &self.regions {
            writeln!(text, "region {base:#x} {size:#x}")?;
        }
        if let Some(function) = self.pci {
            let address = function.address;
            writeln!(
                text,
                "pci {} {} {}",
                address.bus, address.device, address.function
            )?;
            writeln!(text, "config {:#x}", function.config)?;
        }
        if let Some(interrupt) = self.interrupt {
            writeln!(text, "interrupt {interrupt}")?;
        }
        Ok(())
    }

    /// One boot-log line: `virtio-mmio at 0x0a003e00 (0x200 bytes), interrupt 79`.
    fn log(&self) {
        let mut line = String::new();
        let _ = write!(line, "device {}: {}", self.name, self.kind.name());
        if let Some(function) = self.pci {
            let address = function.address;
            let _ = write!(
                line,
                " {:02x}:{:02x}.{}",
                address.bus, address.device, address.function
            );
        }
        for (index, (base, size)) in self.regions.iter().enumerate() {
            let joint = if index == 0 { " at" } else { "," };
            let _ = write!(line, "{joint} {base:#010x} ({size:#x} bytes)");
        }
        if let Some(interrupt) = self.interrupt {
            let _ = write!(line, ", interrupt {interrupt}");
        }
        log::info!("{line}");
    }
}

/// The table, filled once by [`discover`].
static DEVICES: Mutex<Vec<Device>> = Mutex::new(Vec::new());

/// Builds the device table from the device tree and PCI, and logs what it found. Needs the
/// kernel's own address space (PCI configuration space is read through the device window).
pub fn discover(platform: &Platform) {
    let mut devices = Vec::new();
    let device_tree = platform.device_tree();
    if let Some(device_tree) = &device_tree {
        tree::discover(device_tree, &mut devices);
    }
    pci::discover(&platform.machine, device_tree.as_ref(), &mut devices);
    let mut unnamed = 0;
    for device in &devices {
        if device.name.contains('@') {
            unnamed += 1;
        } else {
            device.log();
        }
    }
    if unnamed > 0 {
        log::info!("devices: {unnamed} more, unnamed (see sys:devices)");
    }
    *DEVICES.lock() = devices;
}

/// Every device in the table (test kernels only: the boot suite checks PCI assignment).
#[cfg(feature = "test-suites")]
pub fn all() -> Vec<Device> {
    DEVICES.lock().clone()
}

/// The highest PCI bus number a function was found on (the IOMMU sizes its tables by it).
pub fn highest_pci_bus() -> Option<u8> {
    DEVICES
        .lock()
        .iter()
        .filter_map(|device| device.pci.map(|function| function.address.bus))
        .max()
}

/// The device called `name`.
pub fn find(name: &str) -> Option<Device> {
    DEVICES
        .lock()
        .iter()
        .find(|device| device.name == name)
        .cloned()
}

/// Every named PCI function as (place in the table, name, bus address): the devices an
/// IOMMU confines, each in the domain its place numbers.
pub fn named_pci_functions() -> Vec<(usize, String, kernel_core::pci::Address)> {
    DEVICES
        .lock()
        .iter()
        .enumerate()
        .filter(|(_, device)| !device.name.contains('@'))
        .filter_map(|(index, device)| Some((index, device.name.clone(), device.pci?.address)))
        .collect()
}

/// `sys:devices`: one line per device, `NAME KIND BASE SIZE [BASE SIZE...] [pci B D F config
/// PHYSICAL] [interrupt N]`.
pub fn write_table(text: &mut dyn Write) -> core::fmt::Result {
    for device in DEVICES.lock().iter() {
        write!(text, "{} {}", device.name, device.kind.name())?;
        for (base, size) in &device.regions {
            write!(text, " {base:#x} {size:#x}")?;
        }
        if let Some(function) = device.pci {
            let address = function.address;
            write!(
                text,
                " pci {} {} {} config {:#x}",
                address.bus, address.device, address.function, function.config
            )?;
        }
        if let Some(interrupt) = device.interrupt {
            write!(text, " interrupt {interrupt}")?;
        }
        writeln!(text)?;
    }
    Ok(())
}
