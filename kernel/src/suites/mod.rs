//! The in-kernel guest suites and the harness's deliberate failures: test kernels only
//! (feature `test-suites`; the product kernel reaches none of this, see `test_hooks`).
//!
//! `boot` checks what the arch crate and the boot protocol handed over; `memory` checks the
//! frame allocator, the kernel's live page tables, the cache types on this CPU and the DMA
//! pools. Later suites run as user programs. [`hooks`] is what the rest of the kernel calls.

mod boot;
pub mod hooks;
mod interrupt_routing;
mod iommu_dma;
mod memory;
mod translate;

use crate::arch::ExitStatus;
use crate::memory::physical::PhysicalLayout;
use crate::platform::Platform;
use log::error;

pub use boot::deliberate_fault;

/// Whether suite `name` runs inside the kernel (the others are user programs under init).
pub fn is_in_kernel(name: &str) -> bool {
    matches!(name, "boot" | "memory")
}

/// Runs the suite `name` and returns the status to power off with.
pub fn run(name: &str, platform: &Platform, layout: &PhysicalLayout) -> ExitStatus {
    match name {
        "boot" => boot::run(platform),
        "memory" => memory::run(platform, layout),
        unknown => {
            error!("no guest suite named `{unknown}`");
            ExitStatus::Failure
        }
    }
}
