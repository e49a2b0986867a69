//! Arm SMMUv3 data structures, encoded and decoded by pure functions (host-tested).
//!
//! The SMMU reads its configuration from memory the kernel writes: a linear stream table of
//! 64-byte stream table entries (STEs) indexed by stream id (on PCI, the requester id), one
//! 64-byte context descriptor (CD) per translating stream, and stage-1 translation tables in
//! the VMSAv8-64 format with a 4 KiB granule. It takes orders through a command queue of
//! 16-byte commands and reports faults through an event queue of 32-byte records. Field
//! positions follow the Arm SMMUv3 architecture specification (IHI 0070).
//!
//! Stage 1 is used, not stage 2: QEMU 7.2's SMMUv3 model implements stage 1 only (IDR0.S2P
//! clear; stage 2 arrived in QEMU 8.1), and stage 1 alone confines a device as well as stage
//! 2 would when no guest OS sits between. Each device domain is one CD with its own ASID.

mod commands;
mod context;
mod events;
mod registers;
mod stage1;
mod stream_table;

pub use commands::{command_error_name, Command, COMMAND_BYTES};
pub use context::{ContextDescriptor, CONTEXT_DESCRIPTOR_BYTES, MEMORY_ATTRIBUTES};
pub use events::{Event, EventKind, EVENT_BYTES};
pub use registers::*;
pub use stage1::Stage1Format;
pub use stream_table::{StreamTableEntry, STREAM_TABLE_ENTRY_BYTES};
