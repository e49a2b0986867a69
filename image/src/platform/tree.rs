//! The device tree as a whole: RAM, reservations, the initrd, boot arguments and node lookup.

use fdt::node::FdtNode;
use fdt::Fdt;

use super::cells::{read_number, read_scalar, read_u32, Pairs};
use super::error::PlatformError;
use super::node::Node;
use super::structure;

/// A checked flattened device tree, borrowing the blob the boot loader passed.
#[derive(Clone, Copy)]
pub struct DeviceTree<'a> {
    pub(crate) fdt: Fdt<'a>,
    bytes: &'a [u8],
    reservations_offset: usize,
}

impl core::fmt::Debug for DeviceTree<'_> {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        formatter
            .debug_struct("DeviceTree")
            .field("total_size", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

impl<'a> DeviceTree<'a> {
    /// Checks the header and the whole structure block, then wraps the blob.
    ///
    /// # Errors
    ///
    /// A [`PlatformError`] with the offset of the first problem.
    pub fn new(bytes: &'a [u8]) -> Result<Self, PlatformError> {
        let header = structure::check(bytes)?;
        let bytes = &bytes[..header.total_size];
        let fdt =
            Fdt::new(bytes).map_err(|_| PlatformError::new(0, "rejected by the fdt crate"))?;
        Ok(Self {
            fdt,
            bytes,
            reservations_offset: header.reservations_offset,
        })
    }

    /// The blob's total size read from its first 40 bytes, so that a boot path holding only a
    /// pointer (aarch64 x0) knows how long a slice to make before calling [`DeviceTree::new`].
    ///
    /// # Errors
    ///
    /// Fewer than 40 bytes, or a bad magic number.
    pub fn size_from_header(header: &[u8]) -> Result<usize, PlatformError> {
        structure::size_from_header(header)
    }

    /// The blob's length from its header.
    pub fn total_size(&self) -> usize {
        self.bytes.len()
    }

    /// The root's children named `memory` or `memory@...` or with `device_type = "memory"`:
    /// their `reg` ranges as `(base, size)`, in tree order.
    pub fn memory_regions(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        let cells = self.root_cells();
        self.root_children()
            .filter(|node| {
                node.name.split('@').next() == Some("memory")
                    || node
                        .property("device_type")
                        .and_then(|property| property.as_str())
                        == Some("memory")
            })
            .flat_map(move |node| {
                let reg = node.property("reg").map(|property| property.value);
                Pairs::new(reg.unwrap_or_default(), cells.0, cells.1)
            })
            .filter(|(_, size)| *size > 0)
    }

    /// The `/memreserve/` block's entries as `(base, size)`.
    pub fn memory_reservations(&self) -> impl Iterator<Item = (u64, u64)> + 'a {
        self.bytes[self.reservations_offset..]
            .chunks_exact(16)
            .map(|entry| {
                (
                    read_number(entry, 2).unwrap_or(0),
                    read_number(&entry[8..], 2).unwrap_or(0),
                )
            })
            .take_while(|entry| *entry != (0, 0))
    }

    /// The initrd's `(start, end)` from `/chosen` `linux,initrd-start` and `linux,initrd-end`
    /// (each 32 or 64 bits); `None` if either is missing or malformed or end < start.
    pub fn initrd(&self) -> Option<(u64, u64)> {
        let chosen = self.fdt.find_node("/chosen")?;
        let read = |name| read_scalar(chosen.property(name)?.value);
        let start = read("linux,initrd-start")?;
        let end = read("linux,initrd-end")?;
        (end >= start).then_some((start, end))
    }

    /// `/chosen` `bootargs`.
    pub fn bootargs(&self) -> Option<&'a str> {
        self.chosen_str("bootargs")
    }

    /// `/chosen` `stdout-path`, without any `:options` suffix (e.g. `/pl011@9000000`).
    pub fn stdout_path(&self) -> Option<&'a str> {
        let path = self.chosen_str("stdout-path")?;
        Some(path.split(':').next().unwrap_or(path))
    }

    /// The node `stdout-path` names, resolving an alias.
    pub fn stdout(&self) -> Option<Node<'_, 'a>> {
        self.find_node(self.stdout_path()?)
    }

    /// The node at `path` (e.g. `/chosen`, `/pl011@9000000`), or an alias.
    pub fn find_node(&self, path: &str) -> Option<Node<'_, 'a>> {
        self.fdt.find_node(path).map(|node| self.wrap(node))
    }

    /// Every node whose `compatible` lists `compatible`, in tree order.
    pub fn compatible_nodes<'s>(
        &'s self,
        compatible: &'s str,
    ) -> impl Iterator<Item = Node<'s, 'a>> + 's {
        self.fdt
            .all_nodes()
            .filter(move |node| {
                node.compatible()
                    .is_some_and(|list| list.all().any(|entry| entry == compatible))
            })
            .map(|node| self.wrap(node))
    }

    /// Every node, depth first.
    pub fn nodes(&self) -> impl Iterator<Item = Node<'_, 'a>> {
        self.fdt.all_nodes().map(|node| self.wrap(node))
    }

    /// The node whose `phandle` (or `linux,phandle`) is `phandle`.
    pub fn find_phandle(&self, phandle: u32) -> Option<Node<'_, 'a>> {
        self.fdt
            .all_nodes()
            .find(|node| phandle_of(node) == Some(phandle))
            .map(|node| self.wrap(node))
    }

    pub(crate) fn wrap<'t>(&'t self, inner: FdtNode<'t, 'a>) -> Node<'t, 'a> {
        Node { inner, tree: self }
    }

    pub(crate) fn root_children(&self) -> impl Iterator<Item = FdtNode<'_, 'a>> {
        self.fdt
            .find_node("/")
            .into_iter()
            .flat_map(|root| root.children())
    }

    /// The root's `#address-cells` and `#size-cells` (defaults 2 and 1).
    fn root_cells(&self) -> (usize, usize) {
        self.fdt
            .find_node("/")
            .map_or((2, 1), |root| node_cells(&root))
    }

    fn chosen_str(&self, name: &str) -> Option<&'a str> {
        let value = self.fdt.find_node("/chosen")?.property(name)?.value;
        let value = value.strip_suffix(&[0]).unwrap_or(value);
        core::str::from_utf8(value).ok()
    }
}

/// A node's `#address-cells` and `#size-cells` for its children (defaults 2 and 1).
pub(crate) fn node_cells(node: &FdtNode<'_, '_>) -> (usize, usize) {
    let read = |name, default| {
        node.property(name)
            .and_then(|property| read_u32(property.value))
            .map_or(default, |cells| cells as usize)
    };
    (read("#address-cells", 2), read("#size-cells", 1))
}

/// A node's `phandle` or `linux,phandle`.
pub(crate) fn phandle_of(node: &FdtNode<'_, '_>) -> Option<u32> {
    node.property("phandle")
        .or_else(|| node.property("linux,phandle"))
        .and_then(|property| read_u32(property.value))
}
