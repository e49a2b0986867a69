//! aarch64 translation tables: coherent's page flags and memory types as descriptor bits.
//!
//! 4 KiB granule, 48-bit virtual addresses, four levels (L0 to L3), TTBR0 for user space and
//! TTBR1 for the kernel. All pure and tested on the host:
//! - [`MAIR_VALUE`] gives each [`CacheType`] a memory attribute; [`attribute_index`] picks one.
//! - [`encode`] turns a physical address, [`PageFlags`] and a [`Level`] into a block or page
//!   descriptor; [`decode`] and [`cache_of`] read one back for in-image table walks.
//! - [`tcr_value`] and [`SCTLR_VALUE`] are the TCR_EL1 and SCTLR_EL1 values boot code loads.
//!
//! [`CacheType`]: kernel_core::CacheType
//! [`PageFlags`]: kernel_core::PageFlags
#![forbid(unsafe_code)]

mod attributes;
mod encode;
mod format;
mod registers;
#[cfg(test)]
mod tests;

pub use attributes::{
    attribute_index, cache_type_of_attribute_index, mair_attribute, ATTRIBUTE_DEVICE_NGNRE,
    ATTRIBUTE_DEVICE_NGNRNE, ATTRIBUTE_NORMAL_NON_CACHEABLE, ATTRIBUTE_NORMAL_WRITE_BACK,
    MAIR_VALUE,
};
pub use encode::{
    cache_of, decode, decode_table, encode, encode_table, EncodeError, Level, ACCESS_FLAG,
    ADDRESS_MASK, ATTRIBUTE_INDEX_MASK, ATTRIBUTE_INDEX_SHIFT, EL0_ACCESS, INNER_SHAREABLE,
    NOT_GLOBAL, PAGE_OR_TABLE, PRIVILEGED_EXECUTE_NEVER, READ_ONLY, SHAREABILITY_MASK,
    UNPRIVILEGED_EXECUTE_NEVER, VALID,
};
pub use format::*;
pub use registers::{physical_address_bits, tcr_value, SCTLR_RESERVED_ONES, SCTLR_VALUE};
