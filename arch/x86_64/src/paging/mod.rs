//! x86_64 page-table entries: coherent's page flags and memory types as descriptor bits.
//!
//! Two pure pieces, both tested on the host:
//! - [`PAT_VALUE`] is the IA32_PAT MSR value every CPU loads at boot, so each [`CacheType`]
//!   has an entry, and [`pat_index`] names the entry a type uses.
//! - [`encode`] turns a physical address, [`PageFlags`] and a [`Level`] into a leaf entry;
//!   [`decode`] and [`cache_of`] read one back, so in-image tests can walk live tables and
//!   check the memory type of a mapping.
//!
//! Nothing here touches a register or a table: the code that writes the MSR and the tables
//! lives elsewhere and uses these values.
//!
//! [`CacheType`]: kernel_core::CacheType
//! [`PageFlags`]: kernel_core::PageFlags
#![forbid(unsafe_code)]

mod encode;
mod format;
mod pat;
#[cfg(test)]
mod tests;

pub use encode::{
    cache_of, decode, decode_table, encode, encode_table, pat_index_of, EncodeError, Level,
    ADDRESS_MASK, CACHE_DISABLE, GLOBAL, LARGE_PAGE, NO_EXECUTE, PAT_LARGE, PAT_SMALL, PRESENT,
    USER, WRITABLE, WRITE_THROUGH,
};
pub use format::*;
pub use pat::{
    cache_type_of_pat_index, pat_entry, pat_index, MEMORY_TYPE_UNCACHEABLE,
    MEMORY_TYPE_UNCACHED_MINUS, MEMORY_TYPE_WRITE_BACK, MEMORY_TYPE_WRITE_COMBINING,
    MEMORY_TYPE_WRITE_PROTECTED, MEMORY_TYPE_WRITE_THROUGH, PAT_VALUE,
};
