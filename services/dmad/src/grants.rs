//! Who a caller is and what it may use: grants from the image manifest, names from `sys:`.
//!
//! The manifest's `[process.NAME]` sections say which DMA devices a process may allocate
//! from (`devices`) and how many pool pages it may hold (`quota-pages`); sections with
//! `autostart = false` declare grants for processes init does not start. dmad learns a
//! caller's name from the kernel (`sys:process/PID`, a line `name NAME`) and looks the grant
//! up by section name, or else by the file name of the section's `path` (the kernel names a
//! process after its program file).

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use image::manifest::{Manifest, ManifestError};

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

    /// The grant of the process the kernel calls `name`: the section of that name, or else
    /// the first whose program file has that name.
    pub fn for_process(&self, name: &str) -> Option<&Grant> {
        self.entries
            .iter()
            .find(|(section, _, _)| section == name)
            .or_else(|| self.entries.iter().find(|(_, program, _)| program == name))
            .map(|(_, _, grant)| grant)
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

/// Finds out process names (dmad asks the kernel; tests use a table).
pub trait ProcessNames {
    /// The name of process `pid`, if it exists.
    fn name(&mut self, pid: u32) -> Option<String>;
}

/// The name in a `sys:process/PID` text: the line `name NAME`.
pub fn name_from_process_text(text: &str) -> Option<&str> {
    text.lines()
        .find_map(|line| line.strip_prefix("name "))
        .map(str::trim)
        .filter(|name| !name.is_empty())
}

/// The name of `pid` in the `sys:processes` table (columns `pid parent name state pages`).
pub fn name_from_process_table(text: &str, pid: u32) -> Option<&str> {
    text.lines().find_map(|line| {
        let mut columns = line.split_whitespace();
        let id: u32 = columns.next()?.parse().ok()?;
        let _parent = columns.next()?;
        let name = columns.next()?;
        (id == pid).then_some(name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_by_section_or_program_name() {
        let manifest = "[image]\nname = \"x\"\n\
            [process.blk]\npath = \"/bin/virtio-blk\"\ndevices = [\"virtio-blk0\"]\nquota-pages = 64\n\
            [process.tests]\npath = \"/bin/dma-tests\"\nautostart = false\ndevices = [\"a\", \"b\"]\n\
            [process.bad]\npath = 3\n";
        let grants = Grants::from_manifest(manifest).unwrap();
        let blk = grants.for_process("blk").unwrap();
        assert_eq!(blk.devices, ["virtio-blk0"]);
        assert_eq!(blk.quota_pages, Some(64));
        assert_eq!(grants.for_process("virtio-blk"), Some(blk));
        assert_eq!(grants.for_process("dma-tests").unwrap().devices, ["a", "b"]);
        assert_eq!(grants.for_process("bad"), None);
        assert_eq!(grants.for_process("nobody"), None);
    }

    #[test]
    fn names_from_sys_texts() {
        assert_eq!(
            name_from_process_text("pid 7\nname virtio-blk\nstate Running\n"),
            Some("virtio-blk")
        );
        assert_eq!(name_from_process_text("pid 7\n"), None);
        let table = "  pid parent name                 state               pages\n    \
            1      - init                 Blocked                 12\n    \
            7      1 dmad                 Running                 40\n";
        assert_eq!(name_from_process_table(table, 7), Some("dmad"));
        assert_eq!(name_from_process_table(table, 1), Some("init"));
        assert_eq!(name_from_process_table(table, 9), None);
    }
}
