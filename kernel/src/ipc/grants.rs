//! The manifest's rights by section, and the rights init starts with.
//!
//! Each `[process.NAME]` section of the image manifest describes one set of rights
//! (`schemes`, `devices`, `quota-pages`, `declare-pools`, `spawns`). They are not anyone's until a parent
//! names the section when it spawns a child (see [`kernel_core::rights`] for the rule). The
//! table is read once at boot and never changes.

use alloc::collections::BTreeMap;
use alloc::string::String;
use kernel_core::rights::Rights;
use spin::Mutex;

static SECTIONS: Mutex<BTreeMap<String, Rights>> = Mutex::new(BTreeMap::new());

/// Reads every well-formed `[process]` section's rights from the image manifest.
pub fn load_grants(manifest: Option<&image::manifest::Manifest<'_>>) {
    let mut sections = SECTIONS.lock();
    let Some(manifest) = manifest else { return };
    for process in manifest.processes().flatten() {
        sections.insert(
            process.name.into(),
            Rights {
                section: Some(process.name.into()),
                schemes: process.schemes.map(String::from).collect(),
                devices: process.devices.map(String::from).collect(),
                quota_pages: process.quota_pages,
                declare_pools: process.declare_pools,
                spawns: process.spawns.map(String::from).collect(),
                grant_any: false,
                kills: process.kills.map(String::from).collect(),
                console: process.console,
                power: process.power,
            },
        );
    }
}

/// The rights manifest section `name` confers, if there is such a section.
pub fn section_rights(name: &str) -> Option<Rights> {
    SECTIONS.lock().get(name).cloned()
}

/// init's rights: the manifest's — it may hand any section's rights to a child and may
/// declare and retire pools — but no scheme or device of its own.
pub fn init_rights() -> Rights {
    Rights {
        section: Some("init".into()),
        declare_pools: true,
        grant_any: true,
        ..Rights::none()
    }
}
