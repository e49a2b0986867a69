//! Checking a blob's header and structure block before the `fdt` crate reads it.
//!
//! The `fdt` crate trusts its input and panics on a malformed structure block, so
//! [`DeviceTree::new`](super::DeviceTree::new) first walks the whole blob here: every token,
//! name and property must lie inside its block, nodes must nest properly, properties must come
//! before child nodes, cell-count properties must be one cell, and there must be no NOP tokens
//! (which the `fdt` crate mishandles). After this check the `fdt`
//! crate's readers cannot fail on the blob.

use super::cells::{read_u32, CELL_BYTES};
use super::error::PlatformError;

const MAGIC: u32 = 0xd00d_feed;
const HEADER_BYTES: usize = 40;
const TOKEN_BEGIN_NODE: u32 = 1;
const TOKEN_END_NODE: u32 = 2;
const TOKEN_PROPERTY: u32 = 3;
const TOKEN_NOP: u32 = 4;
const TOKEN_END: u32 = 9;
/// Deepest nesting accepted (the `fdt` crate keeps a 64-entry parent stack).
const MAXIMUM_DEPTH: usize = 32;

/// The header fields the rest of the module needs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Header {
    pub total_size: usize,
    pub reservations_offset: usize,
}

fn header_field(bytes: &[u8], index: usize) -> Result<usize, PlatformError> {
    read_u32(&bytes[index * CELL_BYTES..])
        .map(|value| value as usize)
        .ok_or(PlatformError::new(index * CELL_BYTES, "truncated header"))
}

/// The block `[offset, offset + size)`, checked against `total_size`.
fn block<'a>(
    bytes: &'a [u8],
    offset: usize,
    size: usize,
    reason: &'static str,
) -> Result<&'a [u8], PlatformError> {
    offset
        .checked_add(size)
        .and_then(|end| bytes.get(offset..end))
        .ok_or(PlatformError::new(offset, reason))
}

/// The total size field, after checking length and magic.
pub(crate) fn size_from_header(bytes: &[u8]) -> Result<usize, PlatformError> {
    if bytes.len() < HEADER_BYTES {
        return Err(PlatformError::new(
            0,
            "blob shorter than the 40-byte header",
        ));
    }
    if header_field(bytes, 0)? != MAGIC as usize {
        return Err(PlatformError::new(0, "bad magic (not a device tree blob)"));
    }
    header_field(bytes, 1)
}

/// Checks the whole blob; returns its header.
pub(crate) fn check(bytes: &[u8]) -> Result<Header, PlatformError> {
    let total_size = size_from_header(bytes)?;
    if total_size > bytes.len() || total_size < HEADER_BYTES {
        return Err(PlatformError::new(4, "total size exceeds the blob"));
    }
    let blob = &bytes[..total_size];
    let structure_offset = header_field(bytes, 2)?;
    let strings_offset = header_field(bytes, 3)?;
    let reservations_offset = header_field(bytes, 4)?;
    let version = header_field(bytes, 5)?;
    let last_compatible_version = header_field(bytes, 6)?;
    if version < 17 || last_compatible_version > 17 {
        return Err(PlatformError::new(20, "unsupported version (need 17)"));
    }
    let strings_size = header_field(bytes, 8)?;
    let structure_size = header_field(bytes, 9)?;
    let strings = block(
        blob,
        strings_offset,
        strings_size,
        "strings block outside blob",
    )?;
    let structure = block(
        blob,
        structure_offset,
        structure_size,
        "structure block outside blob",
    )?;
    if !structure_offset.is_multiple_of(CELL_BYTES) {
        return Err(PlatformError::new(8, "structure block not 4-byte aligned"));
    }
    check_reservations(blob, reservations_offset)?;
    check_structure(structure, structure_offset, strings)?;
    Ok(Header {
        total_size,
        reservations_offset,
    })
}

fn check_reservations(blob: &[u8], offset: usize) -> Result<(), PlatformError> {
    let mut position = offset;
    loop {
        let entry = block(
            blob,
            position,
            16,
            "memory reservation block runs past the blob",
        )?;
        if entry.iter().all(|byte| *byte == 0) {
            return Ok(());
        }
        position += 16;
    }
}

/// Walks the structure block; `base` is its offset in the blob, for error offsets.
fn check_structure(structure: &[u8], base: usize, strings: &[u8]) -> Result<(), PlatformError> {
    let mut position = 0;
    let mut depth = 0;
    let mut seen_root = false;
    // Bit `d` set: the open node at depth `d` already has a child, so no property may follow.
    let mut has_child: u64 = 0;
    loop {
        let token_offset = base + position;
        let error = |reason| PlatformError::new(token_offset, reason);
        let token = read_u32(structure.get(position..).unwrap_or_default())
            .ok_or(error("structure block ends without an END token"))?;
        position += CELL_BYTES;
        match token {
            TOKEN_BEGIN_NODE => {
                if depth == 0 && seen_root {
                    return Err(error("second root node"));
                }
                if depth > 0 {
                    has_child |= 1 << depth;
                }
                let name = read_name(&structure[position..])
                    .ok_or(error("node name not NUL-terminated UTF-8"))?;
                if (depth == 0) != name.is_empty() {
                    return Err(error("only the root node may have an empty name"));
                }
                position = align(position + name.len() + 1);
                depth += 1;
                seen_root = true;
                if depth > MAXIMUM_DEPTH {
                    return Err(error("nodes nested too deeply"));
                }
                has_child &= !(1 << depth);
            }
            TOKEN_END_NODE => {
                if depth == 0 {
                    return Err(error("END_NODE without a node"));
                }
                depth -= 1;
            }
            TOKEN_PROPERTY => {
                if depth == 0 {
                    return Err(error("property outside any node"));
                }
                if has_child & (1 << depth) != 0 {
                    return Err(error("property after a child node"));
                }
                let header = structure
                    .get(position..position + 2 * CELL_BYTES)
                    .ok_or(error("truncated property"))?;
                let length = read_u32(header).unwrap_or_default() as usize;
                let name_offset = read_u32(&header[CELL_BYTES..]).unwrap_or_default() as usize;
                let name = strings
                    .get(name_offset..)
                    .and_then(read_name)
                    .filter(|name| !name.is_empty())
                    .ok_or(error("property name outside the strings block"))?;
                let value_start = position + 2 * CELL_BYTES;
                if value_start
                    .checked_add(length)
                    .is_none_or(|end| end > structure.len())
                {
                    return Err(error("property value runs past the structure block"));
                }
                let one_cell = matches!(
                    name,
                    "#address-cells"
                        | "#size-cells"
                        | "#interrupt-cells"
                        | "phandle"
                        | "linux,phandle"
                );
                if one_cell && length != CELL_BYTES {
                    return Err(error("cell-count or phandle property is not one cell"));
                }
                position = align(value_start + length);
            }
            // libfdt leaves NOPs where it deleted something; the `fdt` crate skips them only in
            // some places and panics on others, so they are refused outright.
            TOKEN_NOP => return Err(error("NOP tokens are not supported")),
            TOKEN_END if depth == 0 && seen_root => return Ok(()),
            TOKEN_END => return Err(error("END token inside a node or before the root")),
            _ => return Err(error("unknown structure token")),
        }
    }
}

fn read_name(bytes: &[u8]) -> Option<&str> {
    let end = bytes.iter().position(|byte| *byte == 0)?;
    core::str::from_utf8(&bytes[..end]).ok()
}

fn align(position: usize) -> usize {
    (position + CELL_BYTES - 1) & !(CELL_BYTES - 1)
}
