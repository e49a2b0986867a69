//! The NVM Express protocol as the NVMe driver speaks it, without touching the machine:
//! controller registers ([`registers`]), submission and completion entries ([`command`]),
//! queue ring arithmetic ([`ring`]), PRP lists ([`prp`]) and identify data ([`identify`]).
//! All of it is tested on the host; the driver program (`main.rs`) puts it on `device:`
//! registers and `dma:` buffers.
//!
//! # Why not a crate
//!
//! The no_std NVMe crates on crates.io (`nvme` 0.2, `nvme-driver` 0.4/0.5) were checked:
//! both allocate DMA memory through one process-wide allocator hook and translate
//! addresses themselves, where coherent's rule is that every buffer is a `Dma` from the
//! device's own pool and the device address is dmad's; `nvme-driver` changes its API and
//! its DMA abstraction every minor release and is undocumented, `nvme` is a one-person
//! crate on edition 2024 without tests. The part a driver needs — admin queue, identify,
//! one I/O queue pair, read/write/flush with PRP lists — is a few hundred lines of
//! arithmetic that is easier to test here than to adapt.
//!
//! References: NVM Express Base Specification 2.0 (registers §3.1, queues §3.3, commands
//! §5), NVM Command Set Specification 1.0 (read/write, identify namespace).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod command;
pub mod identify;
pub mod prp;
pub mod registers;
pub mod ring;

/// The memory page size the driver programs (`CC.MPS = 0`): 4 KiB, coherent's page.
pub const PAGE_SIZE: u64 = 4096;
