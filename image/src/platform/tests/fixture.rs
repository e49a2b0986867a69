//! Fixture device trees shaped like QEMU's `virt` machine, written with `vm-fdt`.

use vm_fdt::{FdtReserveEntry, FdtWriter};

/// The phandle of the interrupt controller.
pub const GIC_PHANDLE: u32 = 1;

/// Writes a virt-like tree; `reserved` adds `/reserved-memory` children and `devices` adds
/// root-level device nodes.
pub fn virt_tree(
    reserved: impl FnOnce(&mut FdtWriter),
    devices: impl FnOnce(&mut FdtWriter),
) -> Vec<u8> {
    let mut writer =
        FdtWriter::new_with_mem_reserv(&[FdtReserveEntry::new(0x4800_0000, 0x1000).unwrap()])
            .unwrap();
    let root = writer.begin_node("").unwrap();
    writer.property_u32("#address-cells", 2).unwrap();
    writer.property_u32("#size-cells", 2).unwrap();
    writer
        .property_string("compatible", "linux,dummy-virt")
        .unwrap();
    writer
        .property_u32("interrupt-parent", GIC_PHANDLE)
        .unwrap();

    let chosen = writer.begin_node("chosen").unwrap();
    writer
        .property_string("bootargs", "console=ttyAMA0 quiet")
        .unwrap();
    writer
        .property_string("stdout-path", "/pl011@9000000:115200n8")
        .unwrap();
    writer
        .property_u64("linux,initrd-start", 0x4400_0000)
        .unwrap();
    writer
        .property_u32("linux,initrd-end", 0x4410_0000)
        .unwrap();
    writer.end_node(chosen).unwrap();

    let memory = writer.begin_node("memory@40000000").unwrap();
    writer.property_string("device_type", "memory").unwrap();
    writer
        .property_array_u64("reg", &[0x4000_0000, 0x1000_0000])
        .unwrap();
    writer.end_node(memory).unwrap();

    let gic = writer.begin_node("intc@8000000").unwrap();
    writer.property_string("compatible", "arm,gic-v3").unwrap();
    writer.property_null("interrupt-controller").unwrap();
    writer.property_u32("#interrupt-cells", 3).unwrap();
    writer
        .property_array_u64("reg", &[0x800_0000, 0x1_0000])
        .unwrap();
    writer.property_phandle(GIC_PHANDLE).unwrap();
    writer.end_node(gic).unwrap();

    let uart = writer.begin_node("pl011@9000000").unwrap();
    writer
        .property_string_list(
            "compatible",
            vec!["arm,pl011".into(), "arm,primecell".into()],
        )
        .unwrap();
    writer
        .property_array_u64("reg", &[0x900_0000, 0x1000])
        .unwrap();
    writer.property_array_u32("interrupts", &[0, 1, 4]).unwrap();
    writer.end_node(uart).unwrap();

    let reserved_memory = writer.begin_node("reserved-memory").unwrap();
    writer.property_u32("#address-cells", 2).unwrap();
    writer.property_u32("#size-cells", 2).unwrap();
    writer.property_null("ranges").unwrap();
    reserved(&mut writer);
    writer.end_node(reserved_memory).unwrap();

    devices(&mut writer);
    writer.end_node(root).unwrap();
    writer.finish().unwrap()
}

/// Adds a `virtio,mmio` device node at `address`, optionally linked to pool phandles and
/// given a coherent device name.
pub fn virtio_device(writer: &mut FdtWriter, address: u64, regions: &[u32], name: Option<&str>) {
    let node = writer
        .begin_node(&format!("virtio_mmio@{address:x}"))
        .unwrap();
    writer.property_string("compatible", "virtio,mmio").unwrap();
    writer.property_array_u64("reg", &[address, 0x200]).unwrap();
    writer
        .property_array_u32("interrupts", &[0, 16, 1])
        .unwrap();
    if !regions.is_empty() {
        writer.property_array_u32("memory-region", regions).unwrap();
    }
    if let Some(name) = name {
        writer
            .property_string("coherent,device-name", name)
            .unwrap();
    }
    writer.end_node(node).unwrap();
}

/// Adds a `virtio,mmio` device node like [`virtio_device`], marked `dma-coherent`.
pub fn coherent_device(writer: &mut FdtWriter, address: u64, regions: &[u32]) {
    let node = writer
        .begin_node(&format!("virtio_mmio@{address:x}"))
        .unwrap();
    writer.property_string("compatible", "virtio,mmio").unwrap();
    writer.property_array_u64("reg", &[address, 0x200]).unwrap();
    writer.property_array_u32("memory-region", regions).unwrap();
    writer.property_null("dma-coherent").unwrap();
    writer.end_node(node).unwrap();
}

/// Adds a `shared-dma-pool` child with the given extra properties written by `properties`.
pub fn pool_node(
    writer: &mut FdtWriter,
    name: &str,
    phandle: Option<u32>,
    properties: impl FnOnce(&mut FdtWriter),
) {
    let node = writer.begin_node(name).unwrap();
    writer
        .property_string("compatible", "shared-dma-pool")
        .unwrap();
    if let Some(phandle) = phandle {
        writer.property_phandle(phandle).unwrap();
    }
    properties(writer);
    writer.end_node(node).unwrap();
}

/// A tree with no pools and no devices.
pub fn plain_tree() -> Vec<u8> {
    virt_tree(|_| {}, |_| {})
}
