//! One device-tree node, with the readers drivers need: `compatible`, `reg`, `interrupts`.

use fdt::node::FdtNode;

use super::cells::{read_u32, Pairs, CELL_BYTES};
use super::tree::DeviceTree;

/// A node of a [`DeviceTree`].
#[derive(Clone, Copy, Debug)]
pub struct Node<'t, 'a> {
    pub(crate) inner: FdtNode<'t, 'a>,
    pub(crate) tree: &'t DeviceTree<'a>,
}

impl<'t, 'a> Node<'t, 'a> {
    /// The node's name with its unit address, e.g. `virtio_mmio@a000000` (`/` for the root).
    pub fn name(&self) -> &'a str {
        self.inner.name
    }

    /// A property's raw value.
    pub fn property(&self, name: &str) -> Option<&'a [u8]> {
        self.inner.property(name).map(|property| property.value)
    }

    /// A string property's value, without its NUL.
    pub fn property_str(&self, name: &str) -> Option<&'a str> {
        let value = self.property(name)?;
        let value = value.strip_suffix(&[0]).unwrap_or(value);
        core::str::from_utf8(value).ok()
    }

    /// A one-cell property's value.
    pub fn property_u32(&self, name: &str) -> Option<u32> {
        self.property(name)
            .filter(|value| value.len() == CELL_BYTES)
            .and_then(read_u32)
    }

    /// The strings of the `compatible` property, most specific first.
    pub fn compatible(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.property("compatible")
            .unwrap_or_default()
            .split(|byte| *byte == 0)
            .filter(|part| !part.is_empty())
            .filter_map(|part| core::str::from_utf8(part).ok())
    }

    /// Whether `compatible` lists `name`.
    pub fn is_compatible(&self, name: &str) -> bool {
        self.compatible().any(|entry| entry == name)
    }

    /// The `reg` ranges as `(address, size)` in the parent's cell counts; empty if absent or
    /// malformed (cell counts other than 1 or 2, or a length that is not whole pairs).
    pub fn reg(&self) -> impl Iterator<Item = (u64, u64)> + 'a {
        let sizes = self.inner.raw_reg().and_then(|mut raw| raw.next());
        let (address_cells, size_cells) = sizes.map_or((0, 0), |raw| {
            (raw.address.len() / CELL_BYTES, raw.size.len() / CELL_BYTES)
        });
        Pairs::new(
            self.property("reg").unwrap_or_default(),
            address_cells,
            size_cells,
        )
    }

    /// The parent's `#address-cells` as `reg` is read (0 when the node has no `reg`).
    pub(crate) fn parent_address_cells(&self) -> usize {
        self.inner
            .raw_reg()
            .and_then(|mut raw| raw.next())
            .map_or(0, |raw| raw.address.len() / CELL_BYTES)
    }

    /// The first `reg` range.
    pub fn first_reg(&self) -> Option<(u64, u64)> {
        self.reg().next()
    }

    /// The interrupt parent's `#interrupt-cells`: the parent is the node's own
    /// `interrupt-parent`, else the root's.
    pub fn interrupt_cells(&self) -> Option<u32> {
        let parent = self
            .property_u32("interrupt-parent")
            .or_else(|| self.tree.find_node("/")?.property_u32("interrupt-parent"))?;
        self.tree
            .find_phandle(parent)?
            .property_u32("#interrupt-cells")
    }

    /// The `interrupts` specifiers, each `#interrupt-cells` of the interrupt parent long;
    /// `None` if the node has no `interrupts` or its parent's cell count is unknown.
    ///
    /// See [`Node::interrupt_cells`]: nodes that inherit `interrupt-parent` from an ancestor
    /// other than the root are not resolved.
    pub fn interrupts(&self) -> Option<impl Iterator<Item = InterruptSpecifier<'a>> + 'a> {
        let cells = self.interrupt_cells().filter(|cells| *cells > 0)? as usize;
        let value = self.property("interrupts")?;
        let chunk = cells * CELL_BYTES;
        (value.len().is_multiple_of(chunk)).then(|| {
            value
                .chunks_exact(chunk)
                .map(|bytes| InterruptSpecifier { bytes })
        })
    }
}

/// One interrupt specifier, e.g. `<GIC_SPI 16 IRQ_TYPE_EDGE_RISING>` for the GIC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InterruptSpecifier<'a> {
    bytes: &'a [u8],
}

impl InterruptSpecifier<'_> {
    /// How many cells it has.
    pub fn len(&self) -> usize {
        self.bytes.len() / CELL_BYTES
    }

    /// Whether it has no cells (never true for a specifier from [`Node::interrupts`]).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Cell `index`.
    pub fn cell(&self, index: usize) -> Option<u32> {
        read_u32(self.bytes.get(index * CELL_BYTES..)?)
    }
}
