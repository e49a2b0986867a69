//! The contract every IOMMU driver in the kernel implements (Intel VT-d on x86_64, Arm SMMUv3
//! on aarch64), and the plain data it speaks: device sources, domains, permissions, faults.
//!
//! # Design: who programs the IOMMU
//!
//! The **kernel** programs the IOMMU; dmad decides *what* a device may reach and asks the
//! kernel through one narrow facility (its scheme socket, `call` with an [`Request`]) when it
//! hands a buffer to device D or takes it back. Reasons:
//!
//! - The IOMMU's registers, root/stream tables and page tables are the confinement itself:
//!   whoever writes them can let any device reach any memory, kernel memory included. Giving
//!   dmad those registers would make dmad as trusted as the kernel; keeping them in the kernel
//!   keeps dmad a policy server whose worst mistake is confusing two of its own pools.
//! - The kernel must check the request anyway: it knows which physical ranges are declared
//!   pools (only those may ever be mapped into a device domain), which PCI function is which
//!   device name (the device table), and when a process dies (a dead driver's device loses its
//!   domain before its pages return).
//! - Invalidation must finish before pages are reused. The kernel's `unmap` returns only after
//!   the IOMMU confirmed the invalidation (VT-d invalidation-wait / SMMU `CMD_SYNC`), so dmad's
//!   order "unmap → wait → free" is one synchronous call, and a crashed dmad cannot skip it.
//! - dmad already talks to the kernel over its scheme socket; one more `call` there costs no
//!   new system call and no new right (only the server of `dma:` may make it).
//!
//! Device addresses are IOVAs chosen by dmad (per device, its pool's device address, so that
//! without an IOMMU nothing changes: IOVA = device address). A domain holds exactly the live
//! buffers of its device; anything else a device touches faults, is recorded by the hardware,
//! drained by the kernel ([`Iommu::drain_faults`]) and logged with device, address and
//! direction — never fatal. The kernel also keeps, per device, a [`DeviceFaults`] record (how
//! many faults, the last one's address and direction), which the device's holder — and only
//! it — reads by a `call` on its `device:NAME` handle (request `faults`, answer
//! [`DeviceFaults::write_text`]); driver-kit turns a new fault into `EIO` on the request that
//! saw it.
//!
//! # Adding a driver
//!
//! Implement [`Iommu`] in `kernel/src/iommu/` (one file per hardware kind, register access
//! there, page-table and command encodings in pure host-tested code under
//! `kernel_core::iommu`), and make discovery (`kernel::iommu::discover`) construct it from the
//! [`crate::machine::MachineDescription`]'s [`IommuUnit`] (ACPI DMAR on x86_64, device-tree
//! `arm,smmu-v3` on aarch64). The kernel registers at most one unit at boot.

use crate::Error;

pub mod smmu;
pub mod vtd;
use core::fmt;

/// The smallest unit a domain maps (both VT-d and SMMUv3 use 4 KiB translation granules).
pub const PAGE_SIZE: u64 = 4096;

/// Who issued a DMA: a PCI requester ID (`bus << 8 | device << 3 | function`) on VT-d, a
/// stream ID on SMMUv3 (for PCI behind an SMMU, the requester ID plus the root complex's
/// `iommu-map` offset).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourceId(pub u32);

impl SourceId {
    /// The requester ID of PCI function `bus:device.function`.
    pub const fn pci(bus: u8, device: u8, function: u8) -> Self {
        SourceId(((bus as u32) << 8) | (((device & 31) as u32) << 3) | ((function & 7) as u32))
    }

    /// Bus number, if this is a PCI requester ID.
    pub const fn bus(self) -> u8 {
        (self.0 >> 8) as u8
    }

    /// Device number, if this is a PCI requester ID.
    pub const fn device(self) -> u8 {
        ((self.0 >> 3) & 31) as u8
    }

    /// Function number, if this is a PCI requester ID.
    pub const fn function(self) -> u8 {
        (self.0 & 7) as u8
    }
}

impl fmt::Display for SourceId {
    /// `00:03.0` (the PCI form; a stream ID above 16 bits prints as `stream 0x...`).
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 > 0xffff {
            write!(formatter, "stream {:#x}", self.0)
        } else {
            write!(
                formatter,
                "{:02x}:{:02x}.{}",
                self.bus(),
                self.device(),
                self.function()
            )
        }
    }
}

/// A translation domain: one per confined device. `0` is never used (VT-d reserves domain 0
/// when caching mode is set; SMMUv3 drivers may use it freely but keep the numbering shared).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DomainId(pub u16);

/// What a device may do with a mapped range. The default is nothing; build by meaning.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Access {
    /// The device may read (DMA to the device, "to device").
    pub read: bool,
    /// The device may write (DMA from the device, "from device").
    pub write: bool,
}

impl Access {
    /// Read and write: what a coherent DMA buffer gets.
    pub const READ_WRITE: Access = Access {
        read: true,
        write: true,
    };
    /// Read only.
    pub const READ: Access = Access {
        read: true,
        write: false,
    };
}

/// Why the IOMMU blocked an access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultReason {
    /// The source is attached to no domain (no present context / stream table entry).
    NoDomain,
    /// The address is not mapped in the source's domain.
    NotMapped,
    /// Mapped, but without the permission the access needed.
    Permission,
    /// Any other hardware reason, with the hardware's code (VT-d fault reason, SMMU event ID).
    Other(u16),
}

impl fmt::Display for FaultReason {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultReason::NoDomain => formatter.write_str("no domain"),
            FaultReason::NotMapped => formatter.write_str("not mapped"),
            FaultReason::Permission => formatter.write_str("permission"),
            FaultReason::Other(code) => write!(formatter, "hardware reason {code:#x}"),
        }
    }
}

/// One blocked device access, as the hardware recorded it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    /// The device that issued it.
    pub source: SourceId,
    /// The device address (IOVA) it used, page-aligned where the hardware only records pages.
    pub address: u64,
    /// Whether it was a write (DMA from the device into memory).
    pub write: bool,
    /// Why it was blocked.
    pub reason: FaultReason,
}

impl fmt::Display for Fault {
    /// `device 00:03.0 write at 0x1000: not mapped`.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "device {} {} at {:#x}: {}",
            self.source,
            if self.write { "write" } else { "read" },
            self.address,
            self.reason
        )
    }
}

/// What the holder of a device learns of its faults: how many the kernel drained for that
/// device since boot, and the last one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeviceFaults {
    /// Faults of the device so far.
    pub count: u64,
    /// The last one's device address and whether it was a write.
    pub last: Option<(u64, bool)>,
}

impl DeviceFaults {
    /// The request a `call` on a `device:` handle carries to ask for this record.
    pub const REQUEST: &'static [u8] = b"faults";

    /// Counts `fault` and makes it the last.
    pub fn record(&mut self, fault: &Fault) {
        self.count = self.count.saturating_add(1);
        self.last = Some((fault.address, fault.write));
    }

    /// `faults COUNT` and, after a fault, ` last ADDRESS read|write`, then a newline.
    pub fn write_text(&self, text: &mut dyn fmt::Write) -> fmt::Result {
        write!(text, "faults {}", self.count)?;
        if let Some((address, write)) = self.last {
            let direction = if write { "write" } else { "read" };
            write!(text, " last {address:#x} {direction}")?;
        }
        writeln!(text)
    }

    /// Reads [`DeviceFaults::write_text`]'s line back; `None` if it is not one.
    pub fn parse(text: &str) -> Option<DeviceFaults> {
        let mut words = text.trim_end_matches(['\n', '\0']).split(' ');
        if words.next()? != "faults" {
            return None;
        }
        let count = words.next()?.parse().ok()?;
        let last = match words.next() {
            None => None,
            Some("last") => {
                let address = u64::from_str_radix(words.next()?.strip_prefix("0x")?, 16).ok()?;
                let write = match words.next()? {
                    "write" => true,
                    "read" => false,
                    _ => return None,
                };
                Some((address, write))
            }
            Some(_) => return None,
        };
        if words.next().is_some() {
            return None;
        }
        Some(DeviceFaults { count, last })
    }
}

/// One live mapping of a domain, as a table walk finds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// First device address.
    pub iova: u64,
    /// First physical address.
    pub physical: u64,
    /// Bytes, a multiple of [`PAGE_SIZE`] (contiguous pages may be merged).
    pub size: u64,
    /// Permissions.
    pub access: Access,
}

/// Which hardware one discovered unit is, and where its registers are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IommuKind {
    /// Intel VT-d DMA-remapping hardware unit (ACPI DMAR DRHD).
    VtD,
    /// Arm SMMUv3 (device tree `arm,smmu-v3`, or ACPI IORT).
    SmmuV3,
}

/// One IOMMU the machine description names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IommuUnit {
    /// The hardware kind.
    pub kind: IommuKind,
    /// Physical base of its register block.
    pub registers: u64,
    /// Size of its register block.
    pub size: u64,
    /// The PCI segment it translates.
    pub segment: u16,
    /// Whether it translates every device of the segment not claimed by another unit
    /// (VT-d `INCLUDE_PCI_ALL`; always true for a lone SMMU on the `virt` root complex).
    pub include_all: bool,
    /// Interrupt (GIC SPI for the event queue / global errors on aarch64), if the table
    /// names one; VT-d faults are polled or use the unit's own MSI registers.
    pub interrupt: Option<u32>,
}

/// The kernel's IOMMU driver contract. Methods take `&self`: a driver keeps its own lock
/// (a leaf in the kernel's lock order: it takes only the frame allocator and the heap).
///
/// Every method that changes what a device can reach returns only once the hardware agrees:
/// `unmap` and `detach` remove the entries, invalidate the caches that could hold them
/// (IOTLB, context / stream-table caches) and wait for the invalidation to complete.
pub trait Iommu: Sync {
    /// A short name for logs (`"VT-d"`, `"SMMUv3"`).
    fn name(&self) -> &'static str;

    /// Makes `domain` exist (empty) if it does not, and points `source` at it. A source
    /// attached to nothing is blocked entirely. Attaching an attached source to a different
    /// domain is `Error::Busy`.
    fn attach(&self, source: SourceId, domain: DomainId) -> Result<(), Error>;

    /// Blocks `source` entirely again (entry cleared, caches invalidated, waited for). The
    /// domain and its mappings stay until they are unmapped.
    fn detach(&self, source: SourceId) -> Result<(), Error>;

    /// Maps `[iova, iova + size)` to `[physical, physical + size)` in `domain` with `access`.
    /// All three must be [`PAGE_SIZE`]-aligned and `size > 0` (`InvalidArgument`); any page
    /// already mapped is `AlreadyExists` and nothing changes; no memory for tables is
    /// `OutOfMemory`.
    fn map(
        &self,
        domain: DomainId,
        iova: u64,
        physical: u64,
        size: u64,
        access: Access,
    ) -> Result<(), Error>;

    /// Unmaps `[iova, iova + size)` from `domain`, invalidates the IOTLB for it and waits for
    /// completion: when this returns, the device can no longer reach those pages. A range
    /// not wholly mapped is `NotFound` and nothing changes; one not aligned is
    /// `InvalidArgument`.
    fn unmap(&self, domain: DomainId, iova: u64, size: u64) -> Result<(), Error>;

    /// Calls `visit` for each live mapping of `domain`, in IOVA order, walking the hardware
    /// tables (not a shadow list), so a test sees what the device sees.
    fn mappings(&self, domain: DomainId, visit: &mut dyn FnMut(Mapping)) -> Result<(), Error>;

    /// Moves every fault the hardware recorded since the last call to `sink`, clearing the
    /// hardware's records so it can record more. Never blocks.
    fn drain_faults(&self, sink: &mut dyn FnMut(Fault));
}

/// Scheme dmad opens (`iommu:DEVICE`, only a process that may serve `dma:`) to map and unmap
/// its buffers in DEVICE's domain, and whose root (`iommu:`) reads as "on" or "off".
pub const IOMMU_SCHEME: &str = "iommu";

/// What dmad asks of the kernel on an `iommu:DEVICE` descriptor, as a `call` payload of
/// [`Request::BYTES`] little-endian bytes: `operation u32, access u32, iova u64, physical u64,
/// size u64`. The kernel checks that `[physical, physical + size)` lies inside a pool declared
/// for DEVICE before mapping it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// Map a buffer: pages `[physical, +size)` at `iova` with `access`.
    Map {
        /// Device address.
        iova: u64,
        /// Physical address (inside one of the device's pools).
        physical: u64,
        /// Bytes, page multiple.
        size: u64,
        /// Permissions.
        access: Access,
    },
    /// Unmap `[iova, +size)`, invalidate and wait: afterwards the pages may be reused.
    Unmap {
        /// Device address.
        iova: u64,
        /// Bytes, page multiple.
        size: u64,
    },
}

impl Request {
    /// Bytes of an encoded request.
    pub const BYTES: usize = 32;
    const MAP: u32 = 1;
    const UNMAP: u32 = 2;

    /// The `call` payload for this request.
    pub fn encode(&self) -> [u8; Self::BYTES] {
        let (operation, access, iova, physical, size) = match *self {
            Request::Map {
                iova,
                physical,
                size,
                access,
            } => (
                Self::MAP,
                u32::from(access.read) | (u32::from(access.write) << 1),
                iova,
                physical,
                size,
            ),
            Request::Unmap { iova, size } => (Self::UNMAP, 0, iova, 0, size),
        };
        let mut bytes = [0; Self::BYTES];
        bytes[0..4].copy_from_slice(&operation.to_le_bytes());
        bytes[4..8].copy_from_slice(&access.to_le_bytes());
        bytes[8..16].copy_from_slice(&iova.to_le_bytes());
        bytes[16..24].copy_from_slice(&physical.to_le_bytes());
        bytes[24..32].copy_from_slice(&size.to_le_bytes());
        bytes
    }

    /// Parses a `call` payload; anything malformed (length, operation, access bits, an
    /// unaligned or empty or overflowing range) is `InvalidArgument`.
    pub fn decode(bytes: &[u8]) -> Result<Request, Error> {
        let bytes: &[u8; Self::BYTES] = bytes.try_into().map_err(|_| Error::InvalidArgument)?;
        let word = |at: usize| {
            u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        let quad = |at: usize| {
            let mut eight = [0; 8];
            eight.copy_from_slice(&bytes[at..at + 8]);
            u64::from_le_bytes(eight)
        };
        let (operation, access, iova, physical, size) =
            (word(0), word(4), quad(8), quad(16), quad(24));
        let aligned = |value: u64| value.is_multiple_of(PAGE_SIZE);
        let fits = |base: u64| base.checked_add(size).is_some();
        if size == 0 || !aligned(iova) || !aligned(size) || !fits(iova) || access > 3 {
            return Err(Error::InvalidArgument);
        }
        match operation {
            Self::MAP if aligned(physical) && fits(physical) && access != 0 => Ok(Request::Map {
                iova,
                physical,
                size,
                access: Access {
                    read: access & 1 != 0,
                    write: access & 2 != 0,
                },
            }),
            Self::UNMAP if access == 0 && physical == 0 => Ok(Request::Unmap { iova, size }),
            _ => Err(Error::InvalidArgument),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_faults_count_keep_the_last_and_round_trip() {
        let mut faults = DeviceFaults::default();
        let mut text = alloc::string::String::new();
        faults.write_text(&mut text).unwrap();
        assert_eq!(text, "faults 0\n");
        assert_eq!(DeviceFaults::parse(&text), Some(faults));
        for (address, write) in [(0x1000, false), (0x8000_2000, true)] {
            faults.record(&Fault {
                source: SourceId::pci(0, 3, 0),
                address,
                write,
                reason: FaultReason::NotMapped,
            });
        }
        assert_eq!(faults.count, 2);
        assert_eq!(faults.last, Some((0x8000_2000, true)));
        text.clear();
        faults.write_text(&mut text).unwrap();
        assert_eq!(text, "faults 2 last 0x80002000 write\n");
        assert_eq!(DeviceFaults::parse(&text), Some(faults));
        for nonsense in [
            "",
            "faults",
            "faults x",
            "faults 1 last 0x10 sideways",
            "faults 1 2",
        ] {
            assert_eq!(DeviceFaults::parse(nonsense), None, "{nonsense:?}");
        }
    }

    #[test]
    fn requester_id_packs_bus_device_function() {
        let id = SourceId::pci(0, 3, 0);
        assert_eq!(id.0, 0x18);
        assert_eq!((id.bus(), id.device(), id.function()), (0, 3, 0));
        assert_eq!(alloc::format!("{id}"), "00:03.0");
    }

    #[test]
    fn requests_round_trip_and_refuse_nonsense() {
        let map = Request::Map {
            iova: 0x10_0000,
            physical: 0x4000_0000,
            size: 0x2000,
            access: Access::READ_WRITE,
        };
        assert_eq!(Request::decode(&map.encode()), Ok(map));
        let unmap = Request::Unmap {
            iova: 0x10_0000,
            size: 0x1000,
        };
        assert_eq!(Request::decode(&unmap.encode()), Ok(unmap));
        let mut bad = map.encode();
        bad[8] = 1; // unaligned IOVA
        assert_eq!(Request::decode(&bad), Err(Error::InvalidArgument));
        assert_eq!(Request::decode(&[0; 8]), Err(Error::InvalidArgument));
        let overflow = Request::Unmap {
            iova: !0xfff,
            size: 0x2000,
        };
        assert_eq!(
            Request::decode(&overflow.encode()),
            Err(Error::InvalidArgument)
        );
    }
}
