//! The virtio block device's disk image: made, attached to the machine, checked afterwards.
//!
//! Every machine xtask boots gets a 16 MiB raw image (`disk_api::image`: a header sector
//! `coherent-disk v1 SIZE`, then the known pattern) as its virtio block device,
//! `-device virtio-blk-pci,disable-legacy=on` (modern virtio only, which is what
//! `virtio-drivers`' PCI transport speaks) on both CPUs: q35's PCI bus on x86_64, `virt`'s
//! PCIe host bridge on aarch64, so behind an IOMMU (VT-d, SMMUv3) the block device is
//! confined like NVMe. (It was virtio-mmio on aarch64, which no SMMU translates; the
//! device-tree `shared-dma-pool` path it used stays covered by the `platform` suite's test
//! devices.) Being the first PCI function xtask adds, it is `virtio-blk0`.
//!
//! Every machine also gets a second image of the same kind as its NVMe disk (QEMU `nvme`,
//! a PCI function on both CPUs, serial `coherent0`), next to the first: `STEM.nvme.img`.
//!
//! Test runs make fresh images per suite; `cargo xtask run` keeps `default-ARCH.img` and
//! `default-ARCH.nvme.img` between runs (what the demo wrote stays) and makes them only
//! when they are missing.

use crate::Result;
use disk_api::image::{
    fill_pattern, pattern_mismatch, read_header, sectors, write_header, written_byte, DEFAULT_SIZE,
    WRITTEN_FIRST_SECTOR, WRITTEN_SECTORS,
};
use disk_api::SECTOR_SIZE;
use harness::{Arch, Machine};
use std::path::{Path, PathBuf};

const SECTOR: usize = SECTOR_SIZE as usize;

/// The image's bytes: header and pattern.
pub fn image_bytes(size: u64) -> Vec<u8> {
    let mut bytes = vec![0u8; size as usize];
    for (sector, data) in bytes.chunks_mut(SECTOR).enumerate() {
        if sector == 0 {
            write_header(size, data);
        } else {
            fill_pattern(sector as u64, data);
        }
    }
    bytes
}

/// Writes fresh default-size images to `path` (virtio) and its [`nvme_image`].
pub fn create(path: &Path) -> Result<()> {
    create_one(path)?;
    create_one(&nvme_image(path))
}

/// The NVMe disk's image that goes with the virtio disk's image `image`.
pub fn nvme_image(image: &Path) -> PathBuf {
    image.with_extension("nvme.img")
}

fn create_one(path: &Path) -> Result<()> {
    if let Some(directory) = path.parent() {
        std::fs::create_dir_all(directory)
            .map_err(|error| format!("cannot create {}: {error}", directory.display()))?;
    }
    std::fs::write(path, image_bytes(DEFAULT_SIZE))
        .map_err(|error| format!("cannot write {}: {error}", path.display()))
}

/// The QEMU arguments that attach `image` as the machine's virtio block device.
pub fn qemu_arguments(arch: Arch, image: &Path) -> Vec<String> {
    let _ = arch;
    let device = "virtio-blk-pci,drive=disk0,disable-legacy=on";
    vec![
        "-drive".into(),
        format!("file={},if=none,format=raw,id=disk0", image.display()),
        "-device".into(),
        device.into(),
        "-drive".into(),
        format!(
            "file={},if=none,format=raw,id=nvme-disk0",
            nvme_image(image).display()
        ),
        "-device".into(),
        "nvme,drive=nvme-disk0,serial=coherent0".into(),
    ]
}

/// Attaches `image` and its NVMe image to `machine` (before its device tree is made, so
/// the tree matches), making the NVMe image if it is missing.
pub fn attach(machine: &mut Machine, image: &Path) -> Result<()> {
    let nvme = nvme_image(image);
    if !nvme.exists() {
        create_one(&nvme)?;
    }
    machine.extra.extend(qemu_arguments(machine.arch, image));
    Ok(())
}

/// [`check_after_suite`] for the NVMe image that goes with `image`, after the `nvme` suite
/// (which writes the same range and scratch half).
pub fn check_nvme_after_suite(image: &Path) -> Result<()> {
    check_after_suite(&nvme_image(image))
}

/// Puts `machine` behind an IOMMU: on x86_64, QEMU's Intel VT-d (`-device intel-iommu`,
/// first, as QEMU wants it before the PCI devices it translates; 48-bit addresses for 4-level
/// tables; no interrupt remapping, so
/// MSI writes to 0xfeex_xxxx pass untranslated) and every virtio PCI device with
/// `iommu_platform=on`, so its DMA goes through the IOMMU and the driver must accept
/// `VIRTIO_F_ACCESS_PLATFORM`. On aarch64, `virt`'s SMMUv3 (`iommu=smmuv3`), which
/// translates the PCI functions (virtio-mmio devices would not be behind it); the caller makes
/// the device tree again afterwards, so it names the SMMU.
pub fn add_iommu(machine: &mut Machine) {
    for argument in &mut machine.extra {
        if argument.starts_with("virtio-") && argument.contains("-pci") {
            argument.push_str(",iommu_platform=on");
        }
    }
    match machine.arch {
        Arch::X86_64 => {
            machine.extra.splice(
                0..0,
                [
                    "-device".to_string(),
                    "intel-iommu,intremap=off,aw-bits=48".to_string(),
                ],
            );
        }
        Arch::Aarch64 => machine.smmu = true,
    }
}

/// Checks the image after the `virtio-blk` suite: the header and the first half's pattern
/// are intact, and the suite's range holds what it wrote. Returns the problems found.
pub fn check_after_suite(path: &Path) -> Result<()> {
    let bytes =
        std::fs::read(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    check_bytes(&bytes).map_err(|problem| format!("{}: {problem}", path.display()))
}

fn check_bytes(bytes: &[u8]) -> std::result::Result<(), String> {
    if bytes.len() as u64 != DEFAULT_SIZE {
        return Err(format!("{} bytes, expected {DEFAULT_SIZE}", bytes.len()));
    }
    if read_header(&bytes[..SECTOR]) != Some(DEFAULT_SIZE) {
        return Err("sector 0 is no longer the header".into());
    }
    let written = WRITTEN_FIRST_SECTOR..WRITTEN_FIRST_SECTOR + WRITTEN_SECTORS;
    for (sector, data) in bytes.chunks(SECTOR).enumerate().skip(1) {
        let sector = sector as u64;
        if sector >= sectors(DEFAULT_SIZE) / 2 {
            break; // the scratch half, rewritten at random by `mixed_requests`
        }
        if written.contains(&sector) {
            if let Some(index) =
                (0..SECTOR).find(|&index| data[index] != written_byte(sector, index))
            {
                return Err(format!(
                    "sector {sector} (written by the suite) has {:#x} at byte {index}, expected {:#x}",
                    data[index],
                    written_byte(sector, index)
                ));
            }
        } else if let Some(index) = pattern_mismatch(sector, data) {
            return Err(format!(
                "sector {sector} breaks the pattern at byte {index}"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_image_has_the_header_and_pattern_but_not_the_suite_writes() {
        let mut bytes = image_bytes(DEFAULT_SIZE);
        assert_eq!(read_header(&bytes[..SECTOR]), Some(DEFAULT_SIZE));
        assert_eq!(pattern_mismatch(1, &bytes[SECTOR..2 * SECTOR]), None);
        assert!(check_bytes(&bytes)
            .unwrap_err()
            .contains("written by the suite"));
        let first = WRITTEN_FIRST_SECTOR as usize * SECTOR;
        for (index, byte) in bytes[first..first + WRITTEN_SECTORS as usize * SECTOR]
            .iter_mut()
            .enumerate()
        {
            *byte = written_byte(
                WRITTEN_FIRST_SECTOR + (index / SECTOR) as u64,
                index % SECTOR,
            );
        }
        assert_eq!(check_bytes(&bytes), Ok(()));
        bytes[SECTOR * 3] ^= 1;
        assert!(check_bytes(&bytes).unwrap_err().contains("sector 3"));
    }

    #[test]
    fn attaches_the_right_device_per_cpu() {
        let image = Path::new("/tmp/disk.img");
        let x86 = qemu_arguments(Arch::X86_64, image).join(" ");
        assert!(x86.contains("virtio-blk-pci,drive=disk0,disable-legacy=on"));
        assert!(x86.contains("file=/tmp/disk.img,if=none,format=raw,id=disk0"));
        let arm = qemu_arguments(Arch::Aarch64, image).join(" ");
        assert!(arm.contains("virtio-blk-pci,drive=disk0,disable-legacy=on"));
        for arguments in [x86, arm] {
            assert!(arguments.contains("file=/tmp/disk.nvme.img,if=none,format=raw,id=nvme-disk0"));
            assert!(arguments.contains("-device nvme,drive=nvme-disk0,serial=coherent0"));
        }
    }
}
