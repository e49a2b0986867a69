//! The virtio transport the device description asks for.
//!
//! - `kind virtio-mmio`: an `MmioTransport` over the mapped register window (the first
//!   `region`).
//! - `kind virtio-pci`: a `PciRoot` over the function's own configuration page
//!   ([`ConfigPage`]); memory decoding and bus mastering are switched on (the firmware
//!   assigned the BARs), then `PciTransport` finds the virtio capabilities and maps the BAR
//!   ranges through the `Hal` (`mmio_phys_to_virt` → `device:`).
//!
//! Either is wrapped in `AccessPlatform`, so a device behind an IOMMU (which offers
//! `VIRTIO_F_ACCESS_PLATFORM`) is accepted; its addresses are dmad's IOVAs either way.

use crate::config_page::{device_function, ConfigPage};
use crate::hal::{self, PoolHal};
use alloc::format;
use alloc::string::String;
use virtio_blk::access_platform::AccessPlatform;
use virtio_blk::TransportKind;
use virtio_drivers::transport::mmio::{MmioTransport, VirtIOHeader};
use virtio_drivers::transport::pci::bus::{Command, ConfigurationAccess, DeviceFunction, PciRoot};
use virtio_drivers::transport::pci::PciTransport;
use virtio_drivers::transport::SomeTransport;

/// The driver's transport: whichever the device has, accepting `VIRTIO_F_ACCESS_PLATFORM`
/// when the device sits behind an IOMMU (see `virtio_blk::access_platform`).
pub type Transport = AccessPlatform<SomeTransport<'static>>;

/// The virtio common configuration's `queue_select` and `queue_msix_vector` offsets.
const QUEUE_SELECT: usize = 0x16;
const QUEUE_MSIX_VECTOR: usize = 0x1a;
/// virtio's "no MSI-X vector".
const NO_VECTOR: u16 = 0xffff;
/// The vendor-specific capability id virtio uses, and its common-configuration type.
const VENDOR_CAPABILITY: u8 = 0x09;
const COMMON_CONFIGURATION: u8 = 1;

/// The transport, and for virtio-pci the physical address of its common configuration
/// structure (where the driver routes its queue to an MSI-X entry).
pub struct Opened {
    /// The transport.
    pub transport: Transport,
    /// virtio-pci only: the common configuration structure's physical address.
    pub common_configuration: Option<u64>,
}

/// Routes queue 0's interrupts to MSI-X table entry 0, the entry the kernel programmed for
/// `irq:` (a device reset undoes it, so call after the device is initialised). The common
/// configuration structure is at `physical`.
///
/// # Errors
///
/// Why not: the structure cannot be mapped, or the device refused the vector.
pub fn route_queue_to_entry_zero(physical: u64) -> Result<(), String> {
    let base = hal::with(|devices| devices.registers.map(physical, 0x38))
        .map_err(|error| format!("cannot map the common configuration: {error}"))?;
    // SAFETY: `base` maps the device's 0x38-byte common configuration structure as device
    // memory for the life of the process; both fields are aligned 16-bit registers in it.
    let vector = unsafe {
        base.add(QUEUE_SELECT).cast::<u16>().write_volatile(0);
        base.add(QUEUE_MSIX_VECTOR).cast::<u16>().write_volatile(0);
        base.add(QUEUE_MSIX_VECTOR).cast::<u16>().read_volatile()
    };
    if vector == NO_VECTOR {
        return Err("the device refused MSI-X vector 0 for its queue".into());
    }
    Ok(())
}

/// Builds the transport from the installed registers (see [`hal::install`]).
///
/// # Errors
///
/// Why the device cannot be used, for the log.
pub fn open() -> Result<Opened, String> {
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
            Ok(Opened {
                transport: AccessPlatform::new(transport.into()),
                common_configuration: None,
            })
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
            // SAFETY: a second view of the same configuration page, only read (capability
            // fields) while the root is not used.
            let reader = unsafe { ConfigPage::new(page, address) };
            let common_configuration = common_configuration(&mut root, &reader, function);
            Ok(Opened {
                transport: AccessPlatform::new(transport.into()),
                common_configuration,
            })
        }
    }
}

/// The physical address of the function's virtio common configuration structure: the
/// vendor capability of type 1 names its BAR and offset.
fn common_configuration(
    root: &mut PciRoot<ConfigPage>,
    reader: &ConfigPage,
    function: DeviceFunction,
) -> Option<u64> {
    let capability = root.capabilities(function).find(|capability| {
        capability.id == VENDOR_CAPABILITY
            && (capability.private_header >> 8) as u8 == COMMON_CONFIGURATION
    })?;
    let bar = reader.read_word(function, capability.offset + 4) as u8;
    let offset = reader.read_word(function, capability.offset + 8);
    let (address, _) = root.bar_info(function, bar).ok()??.memory_address_size()?;
    Some(address + u64::from(offset))
}
