//! The check that the product kernel carries no test machinery (STYLE.md 13).
//!
//! `cargo xtask test` builds the product kernel (no `test-suites` feature) next to the test
//! kernel, for both CPUs and with the test run's profile, and reads both ELF symbol tables.
//! The product kernel must have a symbol table (it names `kernel_main`) and no symbol from
//! the kernel's `suites` or `testing` modules — found by name, mangled or demangled, since
//! Rust's symbols spell their module path (`_ZN6kernel6suites4boot3run…`, or
//! `kernel..suites..` inside a generic one). The test kernel must have such symbols, so the
//! check can fail, and it does when the feature leaks into the product build. The test
//! kernel's self-test message must also be absent from the product kernel's bytes.

use crate::guest::{self, Kernel, Profile};
use crate::Result;
use harness::Arch;
use std::path::Path;

/// Substrings that name test code in a symbol: the kernel's test modules.
const TEST_MARKERS: [&str; 2] = ["suites", "testing"];

/// A string only the test kernel's self-test switches print.
const SELF_TEST_TEXT: &[u8] = b"deliberate panic requested";

/// Builds both kernels for `arch` and checks them; returns a one-line summary or why not.
pub fn check_arch(arch: Arch, profile: Profile) -> Result<String> {
    let product = guest::build_kernel_elf(arch, profile, Kernel::Product)?;
    let test = guest::build_kernel_elf(arch, profile, Kernel::Test)?;
    check_pair(&read(&product)?, &read(&test)?)
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|error| format!("cannot read {}: {error}", path.display()))
}

/// Checks a product kernel against a test kernel (both ELF files' bytes).
pub fn check_pair(product: &[u8], test: &[u8]) -> Result<String> {
    let product_symbols = symbol_names(product).map_err(|reason| format!("product: {reason}"))?;
    let test_symbols = symbol_names(test).map_err(|reason| format!("test kernel: {reason}"))?;
    if !product_symbols.iter().any(|name| name == "kernel_main") {
        return Err(format!(
            "the product kernel's symbol table ({} symbols) lacks kernel_main: stripped?",
            product_symbols.len()
        ));
    }
    let leaked: Vec<&String> = product_symbols
        .iter()
        .filter(|name| is_test_symbol(name))
        .collect();
    if let Some(first) = leaked.first() {
        return Err(format!(
            "the product kernel holds {} test symbols, e.g. {first}",
            leaked.len()
        ));
    }
    let test_count = test_symbols
        .iter()
        .filter(|name| is_test_symbol(name))
        .count();
    if test_count == 0 {
        return Err("the test kernel holds no test symbol: the check cannot see them".into());
    }
    if contains(product, SELF_TEST_TEXT) {
        return Err("the product kernel holds the self-test's panic message".into());
    }
    if !contains(test, SELF_TEST_TEXT) {
        return Err("the test kernel lacks the self-test's panic message".into());
    }
    Ok(format!(
        "product: 0 of {} symbols are test code; test kernel: {test_count} of {}",
        product_symbols.len(),
        test_symbols.len()
    ))
}

/// Whether symbol `name` belongs to the kernel's test modules.
fn is_test_symbol(name: &str) -> bool {
    TEST_MARKERS.iter().any(|marker| name.contains(marker))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// The names in an ELF64 little-endian file's symbol table (`SHT_SYMTAB`).
pub fn symbol_names(bytes: &[u8]) -> std::result::Result<Vec<String>, String> {
    const SHT_SYMTAB: u64 = 2;
    const SYMBOL_SIZE: usize = 24;
    let read = crate::user::elf64_reader(bytes)?;
    let section_offset = read(0x28, 8)? as usize;
    let section_size = read(0x3A, 2)? as usize;
    let section_count = read(0x3C, 2)? as usize;
    let section = |index: usize| section_offset + index * section_size;
    let mut names = Vec::new();
    let mut found = false;
    for index in 0..section_count {
        let header = section(index);
        if read(header + 4, 4)? != SHT_SYMTAB {
            continue;
        }
        found = true;
        let (offset, size) = (
            read(header + 24, 8)? as usize,
            read(header + 32, 8)? as usize,
        );
        let strings = section(read(header + 40, 4)? as usize);
        let (strings_offset, strings_size) = (
            read(strings + 24, 8)? as usize,
            read(strings + 32, 8)? as usize,
        );
        let table = strings_offset
            .checked_add(strings_size)
            .and_then(|end| bytes.get(strings_offset..end))
            .ok_or("string table beyond end of file")?;
        for symbol in (offset..offset + size).step_by(SYMBOL_SIZE) {
            let start = read(symbol, 4)? as usize;
            let name = table.get(start..).ok_or("symbol name beyond its table")?;
            let end = name
                .iter()
                .position(|&byte| byte == 0)
                .unwrap_or(name.len());
            if end > 0 {
                names.push(String::from_utf8_lossy(&name[..end]).into_owned());
            }
        }
    }
    if !found {
        return Err("no symbol table".into());
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ELF64 file with one symbol table naming `names`.
    fn elf(names: &[&str], extra: &[u8]) -> Vec<u8> {
        let mut strings = vec![0u8];
        let mut symbols = vec![0u8; 24];
        for name in names {
            let mut symbol = vec![0u8; 24];
            symbol[..4].copy_from_slice(&(strings.len() as u32).to_le_bytes());
            symbols.extend(symbol);
            strings.extend(name.as_bytes());
            strings.push(0);
        }
        let mut bytes = vec![0u8; 64];
        bytes[..6].copy_from_slice(b"\x7fELF\x02\x01");
        let symbols_offset = bytes.len();
        bytes.extend(&symbols);
        let strings_offset = bytes.len();
        bytes.extend(&strings);
        bytes.extend(extra);
        let headers = bytes.len();
        bytes[0x28..0x30].copy_from_slice(&(headers as u64).to_le_bytes());
        bytes[0x3A..0x3C].copy_from_slice(&64u16.to_le_bytes());
        bytes[0x3C..0x3E].copy_from_slice(&3u16.to_le_bytes());
        bytes.extend([0u8; 64]);
        let mut symtab = [0u8; 64];
        symtab[4..8].copy_from_slice(&2u32.to_le_bytes());
        symtab[24..32].copy_from_slice(&(symbols_offset as u64).to_le_bytes());
        symtab[32..40].copy_from_slice(&(symbols.len() as u64).to_le_bytes());
        symtab[40..44].copy_from_slice(&2u32.to_le_bytes());
        bytes.extend(symtab);
        let mut strtab = [0u8; 64];
        strtab[4..8].copy_from_slice(&3u32.to_le_bytes());
        strtab[24..32].copy_from_slice(&(strings_offset as u64).to_le_bytes());
        strtab[32..40].copy_from_slice(&(strings.len() as u64).to_le_bytes());
        bytes.extend(strtab);
        bytes
    }

    const SUITE: &str = "_ZN6kernel6suites4boot3run17h0123456789abcdefE";

    #[test]
    fn reads_the_names() {
        let file = elf(&["kernel_main", SUITE], b"");
        assert_eq!(symbol_names(&file).unwrap(), ["kernel_main", SUITE]);
    }

    #[test]
    fn passes_a_clean_product_and_a_test_kernel() {
        let product = elf(&["kernel_main"], b"");
        let test = elf(&["kernel_main", SUITE], b"deliberate panic requested");
        assert!(check_pair(&product, &test).is_ok());
    }

    #[test]
    fn fails_when_test_code_leaks_or_cannot_be_seen() {
        let test = elf(&["kernel_main", SUITE], b"deliberate panic requested");
        let leaky = elf(&["kernel_main", "_ZN6kernel7testing5Suite3new17hE"], b"");
        assert!(check_pair(&leaky, &test)
            .unwrap_err()
            .contains("1 test symbols"));
        let stripped = elf(&[], b"");
        assert!(check_pair(&stripped, &test)
            .unwrap_err()
            .contains("stripped"));
        let product = elf(&["kernel_main"], b"");
        assert!(check_pair(&product, &product).is_err());
        let message = elf(&["kernel_main"], b"deliberate panic requested");
        assert!(check_pair(&message, &test).is_err());
        assert!(symbol_names(b"not an elf").is_err());
    }
}
