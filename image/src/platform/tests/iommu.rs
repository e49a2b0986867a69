//! Tests of the IOMMU queries on a tree shaped like QEMU `virt,iommu=smmuv3`'s.

use super::fixture::virt_tree;
use crate::platform::{DeviceTree, IommuMapEntry, SmmuNode};

const SMMU_PHANDLE: u32 = 0x8005;

fn smmu_tree(with_names: bool) -> Vec<u8> {
    virt_tree(
        |_| {},
        |writer| {
            let smmu = writer.begin_node("smmuv3@9050000").unwrap();
            writer.property_string("compatible", "arm,smmu-v3").unwrap();
            writer
                .property_array_u64("reg", &[0x905_0000, 0x2_0000])
                .unwrap();
            writer
                .property_array_u32("interrupts", &[0, 74, 1, 0, 75, 1, 0, 76, 1, 0, 77, 1])
                .unwrap();
            if with_names {
                writer
                    .property_string_list(
                        "interrupt-names",
                        vec![
                            "priq".into(),
                            "eventq".into(),
                            "cmdq-sync".into(),
                            "gerror".into(),
                        ],
                    )
                    .unwrap();
            }
            writer.property_u32("#iommu-cells", 1).unwrap();
            writer.property_phandle(SMMU_PHANDLE).unwrap();
            writer.end_node(smmu).unwrap();

            let pcie = writer.begin_node("pcie@10000000").unwrap();
            writer
                .property_string("compatible", "pci-host-ecam-generic")
                .unwrap();
            writer.property_u32("#address-cells", 3).unwrap();
            writer.property_u32("#size-cells", 2).unwrap();
            writer
                .property_array_u64("reg", &[0x40_1000_0000, 0x1000_0000])
                .unwrap();
            writer
                .property_array_u32("iommu-map", &[0, SMMU_PHANDLE, 0, 0x1_0000])
                .unwrap();
            writer.end_node(pcie).unwrap();
        },
    )
}

#[test]
fn smmu_node_registers_phandle_and_event_interrupt() {
    let blob = smmu_tree(true);
    let tree = DeviceTree::new(&blob).unwrap();
    let smmus: Vec<SmmuNode> = tree.smmus().collect();
    assert_eq!(
        smmus,
        [SmmuNode {
            registers: (0x905_0000, 0x2_0000),
            phandle: Some(SMMU_PHANDLE),
            event_interrupt: Some(32 + 75),
        }]
    );
    // Without names, the first interrupt is taken.
    let blob = smmu_tree(false);
    let tree = DeviceTree::new(&blob).unwrap();
    assert_eq!(tree.smmus().next().unwrap().event_interrupt, Some(32 + 74));
}

#[test]
fn iommu_map_gives_stream_ids() {
    let blob = smmu_tree(true);
    let tree = DeviceTree::new(&blob).unwrap();
    let map = tree.pci_iommu_map(0x40_1000_0000);
    let entry = map[0].unwrap();
    assert_eq!(
        entry,
        IommuMapEntry {
            rid_base: 0,
            iommu: SMMU_PHANDLE,
            stream_base: 0,
            length: 0x1_0000
        }
    );
    assert!(map[1].is_none());
    assert_eq!(entry.stream_of(0x18), Some(0x18));
    assert_eq!(entry.stream_of(0x1_0000), None);
    let shifted = IommuMapEntry {
        rid_base: 0x100,
        stream_base: 0x1000,
        length: 0x100,
        ..entry
    };
    assert_eq!(shifted.stream_of(0x108), Some(0x1008));
    assert_eq!(shifted.stream_of(0x8), None);
    assert!(tree.pci_iommu_map(0x1234).iter().all(Option::is_none));
}
