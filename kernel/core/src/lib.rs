//! Arch-neutral kernel types and pure logic, tested on the host.
//!
//! Everything here is plain data and arithmetic: the boot information an arch crate hands the
//! kernel, the memory types and page permissions every page table speaks, and range
//! arithmetic. It has no `unsafe` code (the CPU contracts only declare unsafe operations) and no
//! knowledge of any CPU, so `cargo test` exercises it on
//! the build machine (the role Hubris gives `kerncore`).
#![no_std]
#![deny(unsafe_code)]

extern crate alloc;

pub mod abi;
#[allow(
    unsafe_code,
    reason = "declares the CPU contract's unsafe operations; implements none"
)]
pub mod arch;
pub mod boot;
pub mod cache;
pub mod command_line;
pub mod device_window;
pub mod dma_sync;
pub mod elf;
pub mod error;
pub mod flags;
pub mod frame_counts;
pub mod interrupt;
pub mod iommu;
pub mod layout;
pub mod machine;
pub mod paging;
pub mod path;
pub mod pci;
pub mod random;
pub mod ranges;
pub mod rights;
pub mod slots;
#[allow(
    unsafe_code,
    reason = "declares the CPU contract's unsafe operations; implements none"
)]
pub mod user_mode;

pub use arch::{Arch, ExitStatus, Fault, InterruptStack};
pub use boot::{BootInfo, MemoryRegion, PhysicalRange, RegionKind};
pub use cache::CacheType;
pub use command_line::CommandLine;
pub use error::Error;
pub use flags::PageFlags;
