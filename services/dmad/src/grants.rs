//! Who a caller is and what it may use: its rights from the kernel; which devices exist.
//!
//! The kernel attaches rights to a process when it is spawned (`kernel_core::rights`): the
//! devices it may use, how many pool pages it may hold (`quota-pages`), whether it may
//! declare pools, and the manifest section they came from. dmad asks the kernel for them
//! ([`Callers`]) while the caller's request is pending, never by name. From the manifest
//! itself dmad learns only which devices are granted to anyone ([`Grants`]), so a device
//! without a pool of its own is known and served by the global pool.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use image::manifest::{Manifest, ManifestError};
use kernel_core::rights::Rights;

/// What one process may use.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Grant {
    /// Devices it may allocate from.
    pub devices: Vec<String>,
    /// Pool pages it may hold at once across all pools, if limited.
    pub quota_pages: Option<u64>,
}

/// Every process's grant, from the manifest.
#[derive(Clone, Debug, Default)]
pub struct Grants {
    /// (section name, program file name, grant).
    entries: Vec<(String, String, Grant)>,
}

impl Grants {
    /// Reads the grants of every well-formed `[process]` section of `manifest`; malformed
    /// sections grant nothing (init reports them).
    ///
    /// # Errors
    ///
    /// The manifest's syntax error.
    pub fn from_manifest(manifest: &str) -> Result<Self, ManifestError> {
        let manifest = Manifest::parse(manifest)?;
        let mut grants = Grants::default();
        for process in manifest.processes().flatten() {
            let program = process.path.rsplit('/').next().unwrap_or(process.path);
            grants.add(
                process.name,
                program,
                Grant {
                    devices: process.devices.map(str::to_string).collect(),
                    quota_pages: process.quota_pages,
                },
            );
        }
        Ok(grants)
    }

    /// Adds the grant of process `name`, whose program file is named `program`.
    pub fn add(&mut self, name: &str, program: &str, grant: Grant) {
        self.entries
            .push((name.to_string(), program.to_string(), grant));
    }
}

impl Grants {
    /// Whether any process is granted `device` (it is then a known device even without a
    /// pool of its own, served by the global pool).
    pub fn is_granted_to_anyone(&self, device: &str) -> bool {
        self.entries
            .iter()
            .any(|(_, _, grant)| grant.devices.iter().any(|granted| granted == device))
    }
}

/// Finds out what a caller may do: dmad asks the kernel; tests use a table.
pub trait Callers {
    /// The kernel-issued rights of process `pid`, which sent the pending request `tag`;
    /// `None` if the kernel does not answer (the caller then has no rights).
    fn rights(&mut self, pid: u32, tag: u32) -> Option<Rights>;

    /// The kernel's quiesce state of `device`; `None` if the kernel does not answer (dmad
    /// then reuses buffers as if the device were confirmed quiet).
    fn device_state(&mut self, _device: &str) -> Option<crate::DeviceState> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_granted_to_anyone() {
        let manifest = "[image]\nname = \"x\"\n\
            [process.blk]\npath = \"/bin/virtio-blk\"\ndevices = [\"virtio-blk0\"]\nquota-pages = 64\n\
            [process.tests]\npath = \"/bin/dma-tests\"\nautostart = false\ndevices = [\"a\", \"b\"]\n\
            [process.bad]\npath = 3\ndevices = [\"c\"]\n";
        let grants = Grants::from_manifest(manifest).unwrap();
        assert!(grants.is_granted_to_anyone("virtio-blk0"));
        assert!(grants.is_granted_to_anyone("a"));
        assert!(!grants.is_granted_to_anyone("c"));
    }
}
