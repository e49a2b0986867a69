//! IOMMUs in the device tree: `arm,smmu-v3` nodes and the PCI host bridges' `iommu-map`.
//!
//! Decisions: an SMMU is named by its first `reg` window and its `phandle`; its interrupt is
//! the one `interrupt-names` calls `eventq` (else the first), as a GIC interrupt id. A PCI
//! host's `iommu-map` (`<rid-base iommu-phandle iommu-base length>` entries, the
//! `pci-iommu.txt` binding) maps requester ids to stream ids; the first
//! [`MAX_IOMMU_MAP_ENTRIES`] entries are kept, and an entry naming another IOMMU is skipped by
//! whoever asks for one SMMU's streams.

use super::cells::read_u32;
use super::machine::{GIC_PPI_BASE, GIC_SPI_BASE};
use super::tree::{phandle_of, DeviceTree};

/// The most `iommu-map` entries kept per host bridge.
pub const MAX_IOMMU_MAP_ENTRIES: usize = 4;

/// One `arm,smmu-v3` node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmmuNode {
    /// The register window `(base, size)`.
    pub registers: (u64, u64),
    /// The node's phandle, which `iommu-map` and `iommus` name.
    pub phandle: Option<u32>,
    /// The event queue's interrupt as a GIC interrupt id.
    pub event_interrupt: Option<u32>,
}

/// One `iommu-map` entry: requester ids `rid_base .. rid_base + length` are stream ids
/// `stream_base ..` of the IOMMU whose phandle is `iommu`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IommuMapEntry {
    /// First requester id.
    pub rid_base: u32,
    /// The IOMMU's phandle.
    pub iommu: u32,
    /// The stream id of `rid_base`.
    pub stream_base: u32,
    /// How many requester ids.
    pub length: u32,
}

impl IommuMapEntry {
    /// The stream id of requester id `rid`, if this entry covers it.
    pub fn stream_of(&self, rid: u32) -> Option<u32> {
        let offset = rid.checked_sub(self.rid_base)?;
        (offset < self.length).then(|| self.stream_base.wrapping_add(offset))
    }
}

impl DeviceTree<'_> {
    /// Every `arm,smmu-v3` node with a `reg`.
    pub fn smmus(&self) -> impl Iterator<Item = SmmuNode> + '_ {
        self.compatible_nodes("arm,smmu-v3").filter_map(|node| {
            let registers = node.first_reg()?;
            let names = node.property("interrupt-names").unwrap_or_default();
            let position = names
                .split(|byte| *byte == 0)
                .position(|name| name == b"eventq")
                .unwrap_or(0);
            let event_interrupt = node.interrupts().and_then(|mut specifiers| {
                let specifier = specifiers.nth(position)?;
                let base = match specifier.cell(0)? {
                    0 => GIC_SPI_BASE,
                    1 => GIC_PPI_BASE,
                    _ => return None,
                };
                specifier.cell(1)?.checked_add(base)
            });
            Some(SmmuNode {
                registers,
                phandle: phandle_of(&node.inner),
                event_interrupt,
            })
        })
    }

    /// The `iommu-map` of the `pci-host-ecam-generic` node whose `reg` starts at
    /// `config_base` (its first [`MAX_IOMMU_MAP_ENTRIES`] well-formed entries).
    pub fn pci_iommu_map(
        &self,
        config_base: u64,
    ) -> [Option<IommuMapEntry>; MAX_IOMMU_MAP_ENTRIES] {
        let mut entries = [None; MAX_IOMMU_MAP_ENTRIES];
        let Some(node) = self
            .compatible_nodes("pci-host-ecam-generic")
            .find(|node| node.first_reg().map(|reg| reg.0) == Some(config_base))
        else {
            return entries;
        };
        let value = node.property("iommu-map").unwrap_or_default();
        for (slot, bytes) in entries.iter_mut().zip(value.chunks_exact(16)) {
            let cell = |index: usize| read_u32(&bytes[index * 4..]);
            if let (Some(rid_base), Some(iommu), Some(stream_base), Some(length)) =
                (cell(0), cell(1), cell(2), cell(3))
            {
                *slot = Some(IommuMapEntry {
                    rid_base,
                    iommu,
                    stream_base,
                    length,
                });
            }
        }
        entries
    }
}
