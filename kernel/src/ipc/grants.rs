//! Which process may serve which scheme: the manifest's `schemes = [...]` lists.
//!
//! A process's name is its program's file name; the grants of the manifest section with that
//! name apply to it (`[process.dmad] schemes = ["dma", "memory"]`). `memory` is the kernel's
//! DMA-pool facility, not a registrable name.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use spin::Mutex;

static GRANTS: Mutex<BTreeMap<String, Vec<String>>> = Mutex::new(BTreeMap::new());

/// Reads the scheme grants from the image manifest.
pub fn load_grants(manifest: Option<&image::manifest::Manifest<'_>>) {
    let mut grants = GRANTS.lock();
    let Some(manifest) = manifest else { return };
    for process in manifest.processes().flatten() {
        grants.insert(
            process.name.into(),
            process.schemes.map(String::from).collect(),
        );
    }
}

/// Whether the process named `process` may serve (or, for `memory`, use) `scheme`.
pub fn may_use_scheme(process: &str, scheme: &str) -> bool {
    GRANTS
        .lock()
        .get(process)
        .is_some_and(|schemes| schemes.iter().any(|granted| granted == scheme))
}
