//! Which process may serve which scheme and drive which device: the manifest's
//! `schemes = [...]` and `devices = [...]` lists.
//!
//! A process's name is its program's file name; the grants of the manifest section with that
//! name apply to it (`[process.dmad] schemes = ["dma", "memory"]`). `memory` is the kernel's
//! DMA-pool facility, not a registrable name. A process's `devices` are the ones whose
//! registers it may map through `device:` (the same list gives it their DMA pools in dmad).

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use spin::Mutex;

/// What one process may use.
struct Grants {
    schemes: Vec<String>,
    devices: Vec<String>,
}

static GRANTS: Mutex<BTreeMap<String, Grants>> = Mutex::new(BTreeMap::new());

/// Reads the scheme grants from the image manifest.
pub fn load_grants(manifest: Option<&image::manifest::Manifest<'_>>) {
    let mut grants = GRANTS.lock();
    let Some(manifest) = manifest else { return };
    for process in manifest.processes().flatten() {
        grants.insert(
            process.name.into(),
            Grants {
                schemes: process.schemes.map(String::from).collect(),
                devices: process.devices.map(String::from).collect(),
            },
        );
    }
}

/// Whether the process named `process` may serve (or, for `memory`, use) `scheme`.
pub fn may_use_scheme(process: &str, scheme: &str) -> bool {
    GRANTS
        .lock()
        .get(process)
        .is_some_and(|grants| grants.schemes.iter().any(|granted| granted == scheme))
}

/// Whether the process named `process` may map the registers of device `device`.
pub fn may_use_device(process: &str, device: &str) -> bool {
    GRANTS
        .lock()
        .get(process)
        .is_some_and(|grants| grants.devices.iter().any(|granted| granted == device))
}
