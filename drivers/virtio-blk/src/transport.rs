//! The virtio transport the device description asks for.
//!
//! - `kind virtio-mmio`: an `MmioTransport` over the mapped register window (the first
//!   `region`).
//! - `kind virtio-pci`: a `PciRoot` over the function's own configuration page
//!   ([`ConfigPage`]); memory decoding and bus mastering are switched on (the firmware
//!   assigned the BARs), then `PciTransport` finds the virtio capabilities and maps the BAR
//!   ranges through the `Hal` (`mmio_phys_to_virt` → `device:`).

use crate::config_page::{device_function, ConfigPage};
use crate::hal::{self, PoolHal};
use alloc::format;
use alloc::string::String;
use virtio_blk::TransportKind;
use virtio_drivers::transport::mmio::{MmioTransport, VirtIOHeader};
use virtio_drivers::transport::pci::bus::{Command, PciRoot};
use virtio_drivers::transport::pci::PciTransport;
use virtio_drivers::transport::SomeTransport;

/// The driver's transport.
pub type Transport = SomeTransport<'static>;

/// Builds the transport from the installed registers (see [`hal::install`]).
///
/// # Errors
///
/// Why the device cannot be used, for the log.
pub fn open() -> Result<Transport, String> {
    let info = hal::with(|devices| devices.registers.info().clone());
    match info.kind {
        TransportKind::Mmio => {
            let (base, size) = info.regions[0];
            let header = hal::with(|devices| devices.registers.map(base, size))
                .map_err(|error| format!("cannot map the registers at {base:#x}: {error}"))?;
            // SAFETY: `header` maps the device's whole virtio-mmio window (`size` bytes) as
            // device memory for the life of the process, and only this transport uses it.
            let transport =
                unsafe { MmioTransport::new(header.cast::<VirtIOHeader>(), size as usize) }
                    .map_err(|error| format!("not a virtio-mmio device at {base:#x}: {error}"))?;
            Ok(transport.into())
        }
        TransportKind::Pci => {
            let (Some(address), Some(config)) = (info.pci, info.config) else {
                return Err("a PCI device without its function or configuration page".into());
            };
            let page =
                hal::with(|devices| devices.registers.map(config, 4096)).map_err(|error| {
                    format!("cannot map the configuration page at {config:#x}: {error}")
                })?;
            // SAFETY: `page` maps the function's 4 KiB configuration space (the kernel's
            // `config` page) for the life of the process, and only this root uses it.
            let mut root = PciRoot::new(unsafe { ConfigPage::new(page, address) });
            let function = device_function(address);
            let (_, command) = root.get_status_command(function);
            root.set_command(
                function,
                command | Command::MEMORY_SPACE | Command::BUS_MASTER,
            );
            let transport = PciTransport::new::<PoolHal, _>(&mut root, function)
                .map_err(|error| format!("PCI function {function}: {error}"))?;
            Ok(transport.into())
        }
        TransportKind::Nvme => Err("an NVMe controller, not a virtio device".into()),
    }
}
