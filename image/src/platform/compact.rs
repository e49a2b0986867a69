//! Rewriting a device tree blob without NOP tokens.
//!
//! libfdt leaves `FDT_NOP` tokens where it deletes or shrinks something, and QEMU edits a
//! `-dtb` blob with libfdt (it rewrites `/chosen`), so the tree the kernel receives may hold
//! them. The reader refuses NOPs (see `structure.rs`), so the kernel first copies the blob
//! here, token by token, dropping NOPs: header, memory reservations, structure block,
//! strings block, in that order, with the header's offsets and sizes updated.

use super::cells::read_u32;
use super::error::PlatformError;

const HEADER_BYTES: usize = 40;
const TOKEN_BEGIN_NODE: u32 = 1;
const TOKEN_END_NODE: u32 = 2;
const TOKEN_PROPERTY: u32 = 3;
const TOKEN_NOP: u32 = 4;
const TOKEN_END: u32 = 9;

fn field(input: &[u8], index: usize) -> Result<usize, PlatformError> {
    read_u32(input.get(index * 4..).unwrap_or(&[]))
        .map(|value| value as usize)
        .ok_or(PlatformError::new(index * 4, "truncated header"))
}

fn slice<'a>(
    input: &'a [u8],
    start: usize,
    length: usize,
    reason: &'static str,
) -> Result<&'a [u8], PlatformError> {
    start
        .checked_add(length)
        .and_then(|end| input.get(start..end))
        .ok_or(PlatformError::new(start, reason))
}

struct Writer<'o> {
    output: &'o mut [u8],
    length: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), PlatformError> {
        let end = self.length + bytes.len();
        let target = self
            .output
            .get_mut(self.length..end)
            .ok_or(PlatformError::new(
                self.length,
                "output buffer too small for the device tree",
            ))?;
        target.copy_from_slice(bytes);
        self.length = end;
        Ok(())
    }

    fn set_field(&mut self, index: usize, value: usize) {
        self.output[index * 4..index * 4 + 4].copy_from_slice(&(value as u32).to_be_bytes());
    }
}

fn padded(length: usize) -> usize {
    (length + 3) & !3
}

/// Copies `input` into `output` without NOP tokens and returns the new blob. Any other
/// content is copied unchanged; a blob with no NOPs comes out equivalent.
///
/// # Errors
/// When `input` is not a well-formed blob (bad magic, blocks out of bounds, an unknown
/// token) or `output` is too small.
pub fn without_nops<'o>(input: &[u8], output: &'o mut [u8]) -> Result<&'o [u8], PlatformError> {
    super::structure::size_from_header(input)?;
    let structure_offset = field(input, 2)?;
    let strings_offset = field(input, 3)?;
    let reservations_offset = field(input, 4)?;
    let strings_size = field(input, 8)?;
    let structure_size = field(input, 9)?;
    let structure = slice(
        input,
        structure_offset,
        structure_size,
        "structure block out of bounds",
    )?;
    let strings = slice(
        input,
        strings_offset,
        strings_size,
        "strings block out of bounds",
    )?;

    let mut writer = Writer { output, length: 0 };
    writer.put(slice(input, 0, HEADER_BYTES, "truncated header")?)?;
    // Memory reservations: 16-byte (address, size) entries up to an all-zero one.
    let mut offset = reservations_offset;
    loop {
        let entry = slice(input, offset, 16, "memory reservation block out of bounds")?;
        writer.put(entry)?;
        offset += 16;
        if entry.iter().all(|byte| *byte == 0) {
            break;
        }
    }
    let new_structure_offset = writer.length;
    let mut position = 0;
    loop {
        let token =
            read_u32(structure.get(position..).unwrap_or(&[])).ok_or(PlatformError::new(
                structure_offset + position,
                "structure block ends without FDT_END",
            ))?;
        let length = match token {
            TOKEN_NOP => {
                position += 4;
                continue;
            }
            TOKEN_BEGIN_NODE => {
                let name = structure.get(position + 4..).unwrap_or(&[]);
                let name_length =
                    name.iter()
                        .position(|byte| *byte == 0)
                        .ok_or(PlatformError::new(
                            structure_offset + position,
                            "unterminated node name",
                        ))?;
                4 + padded(name_length + 1)
            }
            TOKEN_PROPERTY => {
                let value_length = read_u32(structure.get(position + 4..).unwrap_or(&[])).ok_or(
                    PlatformError::new(structure_offset + position, "truncated property"),
                )?;
                12 + padded(value_length as usize)
            }
            TOKEN_END_NODE | TOKEN_END => 4,
            _ => {
                return Err(PlatformError::new(
                    structure_offset + position,
                    "unknown structure token",
                ))
            }
        };
        writer.put(slice(
            structure,
            position,
            length,
            "token runs past the structure block",
        )?)?;
        position += length;
        if token == TOKEN_END {
            break;
        }
    }
    let new_structure_size = writer.length - new_structure_offset;
    let new_strings_offset = writer.length;
    writer.put(strings)?;
    let total = writer.length;
    writer.set_field(1, total);
    writer.set_field(2, new_structure_offset);
    writer.set_field(3, new_strings_offset);
    writer.set_field(4, HEADER_BYTES);
    writer.set_field(8, strings_size);
    writer.set_field(9, new_structure_size);
    Ok(&writer.output[..total])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::DeviceTree;

    fn tree_with_nops() -> Vec<u8> {
        let mut writer = vm_fdt::FdtWriter::new().unwrap();
        let root = writer.begin_node("").unwrap();
        writer.property_u32("#address-cells", 2).unwrap();
        writer.property_u32("#size-cells", 2).unwrap();
        let chosen = writer.begin_node("chosen").unwrap();
        writer.property_string("bootargs", "log=debug").unwrap();
        writer.end_node(chosen).unwrap();
        let memory = writer.begin_node("memory@40000000").unwrap();
        writer.property_string("device_type", "memory").unwrap();
        writer
            .property_array_u64("reg", &[0x4000_0000, 0x2000_0000])
            .unwrap();
        writer.end_node(memory).unwrap();
        writer.end_node(root).unwrap();
        let mut blob = writer.finish().unwrap();
        // Insert NOP tokens after the root's BEGIN_NODE and before FDT_END, as libfdt does.
        let structure_offset = u32::from_be_bytes(blob[8..12].try_into().unwrap()) as usize;
        let structure_size = u32::from_be_bytes(blob[36..40].try_into().unwrap()) as usize;
        let nop = 4u32.to_be_bytes();
        let end = structure_offset + structure_size - 4;
        blob.splice(end..end, nop.iter().copied());
        let after_root = structure_offset + 8;
        blob.splice(
            after_root..after_root,
            nop.iter().chain(nop.iter()).copied(),
        );
        let grow = |blob: &mut Vec<u8>, index: usize, by: u32| {
            let value = u32::from_be_bytes(blob[index * 4..index * 4 + 4].try_into().unwrap()) + by;
            blob[index * 4..index * 4 + 4].copy_from_slice(&value.to_be_bytes());
        };
        grow(&mut blob, 1, 12);
        grow(&mut blob, 3, 12);
        grow(&mut blob, 9, 12);
        blob
    }

    #[test]
    fn nops_are_dropped_and_the_tree_reads_the_same() {
        let blob = tree_with_nops();
        assert!(DeviceTree::new(&blob).is_err(), "the reader refuses NOPs");
        let mut buffer = vec![0u8; blob.len()];
        let compact = without_nops(&blob, &mut buffer).unwrap();
        assert_eq!(compact.len(), blob.len() - 12);
        let tree = DeviceTree::new(compact).unwrap();
        assert_eq!(tree.bootargs(), Some("log=debug"));
        assert_eq!(
            tree.memory_regions().collect::<Vec<_>>(),
            [(0x4000_0000, 0x2000_0000)]
        );
    }

    #[test]
    fn a_small_buffer_and_garbage_are_errors() {
        let blob = tree_with_nops();
        let mut small = vec![0u8; 64];
        assert!(without_nops(&blob, &mut small).is_err());
        let mut buffer = vec![0u8; blob.len()];
        assert!(without_nops(&blob[..30], &mut buffer).is_err());
        for cut in (40..blob.len()).step_by(7) {
            let mut truncated = blob[..cut].to_vec();
            truncated[4..8].copy_from_slice(&(cut as u32).to_be_bytes());
            let _ = without_nops(&truncated, &mut buffer);
        }
    }
}
