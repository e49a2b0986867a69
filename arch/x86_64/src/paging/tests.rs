//! Host tests: every memory type, level and permission against the documented bits.

use super::*;
use kernel_core::{CacheType, PageFlags};

/// Every combination of user, writable and executable, for `cache`.
fn permissions(cache: CacheType) -> impl Iterator<Item = PageFlags> {
    (0..8u8).map(move |bits| {
        let mut flags = if bits & 1 != 0 {
            PageFlags::user()
        } else {
            PageFlags::kernel()
        };
        if bits & 2 != 0 {
            flags = flags.writable();
        }
        if bits & 4 != 0 {
            flags = flags.executable();
        }
        flags.cache(cache)
    })
}

fn is_device(cache: CacheType) -> bool {
    matches!(cache, CacheType::Uncached | CacheType::Device)
}

/// An aligned address using the top bit and the lowest bit the level allows.
fn sample_address(level: Level) -> u64 {
    (1 << 51) | (1 << 30) | level.page_size()
}

#[test]
fn pat_value_holds_each_documented_type() {
    let expected = [0x06, 0x04, 0x07, 0x00, 0x01, 0x04, 0x07, 0x00];
    for (index, memory_type) in expected.into_iter().enumerate() {
        assert_eq!(pat_entry(index as u8), memory_type, "PAT entry {index}");
        assert_eq!((PAT_VALUE >> (8 * index)) & 0xFF, memory_type as u64);
    }
    assert_eq!(PAT_VALUE, 0x0007_0401_0007_0406);
}

#[test]
fn pat_index_selects_the_right_memory_type() {
    assert_eq!(pat_index(CacheType::WriteBack), 0);
    assert_eq!(pat_index(CacheType::WriteCombining), 4);
    assert_eq!(pat_index(CacheType::Uncached), 3);
    assert_eq!(pat_index(CacheType::Device), 3);
    assert_eq!(
        pat_entry(pat_index(CacheType::WriteBack)),
        MEMORY_TYPE_WRITE_BACK
    );
    assert_eq!(
        pat_entry(pat_index(CacheType::WriteCombining)),
        MEMORY_TYPE_WRITE_COMBINING
    );
    assert_eq!(
        pat_entry(pat_index(CacheType::Device)),
        MEMORY_TYPE_UNCACHEABLE
    );
}

#[test]
fn power_on_entries_keep_their_meaning() {
    // The power-on PAT is WB, WT, UC-, UC repeated; only entry 4 may differ.
    let power_on: u64 = 0x0007_0406_0007_0406;
    assert_eq!(PAT_VALUE & 0xFFFF_FFFF, power_on & 0xFFFF_FFFF);
    assert_eq!(PAT_VALUE >> 40, power_on >> 40);
}

#[test]
fn every_type_level_and_permission_sets_exactly_the_documented_bits() {
    let mut checked = 0;
    for level in Level::ALL {
        for cache in CacheType::ALL {
            for flags in permissions(cache) {
                let physical = sample_address(level);
                let result = encode(physical, flags, level);
                if flags.is_executable() && is_device(cache) {
                    assert_eq!(result, Err(EncodeError::ExecutableDeviceMemory));
                    continue;
                }
                let entry = result.unwrap();
                let index = pat_index(cache) as u64;
                let mut expected = physical | PRESENT;
                expected |= if flags.is_writable() { WRITABLE } else { 0 };
                expected |= if flags.is_user() { USER } else { 0 };
                expected |= if flags.is_executable() { 0 } else { NO_EXECUTE };
                expected |= if index & 1 != 0 { WRITE_THROUGH } else { 0 };
                expected |= if index & 2 != 0 { CACHE_DISABLE } else { 0 };
                match level {
                    Level::Pte4K => expected |= if index & 4 != 0 { 1 << 7 } else { 0 },
                    _ => expected |= (1 << 7) | if index & 4 != 0 { 1 << 12 } else { 0 },
                }
                assert_eq!(entry, expected, "{level:?} {flags:?}");
                assert_eq!(entry & GLOBAL, 0, "G is never set");
                checked += 1;
            }
        }
    }
    // 3 levels x (2 normal types x 8 + 2 device types x 4 non-executable).
    assert_eq!(checked, 3 * (2 * 8 + 2 * 4));
}

#[test]
fn pat_bit_is_seven_in_small_pages_and_twelve_in_large_ones() {
    let flags = PageFlags::kernel().cache(CacheType::WriteCombining);
    let small = encode(0x1000, flags, Level::Pte4K).unwrap();
    assert_ne!(small & (1 << 7), 0);
    assert_eq!(small & (1 << 12), 1 << 12, "address bit 12 of 0x1000");
    assert_eq!(encode(0, flags, Level::Pte4K).unwrap() & (1 << 12), 0);
    for level in [Level::Pde2M, Level::Pdpte1G] {
        let large = encode(0, flags, level).unwrap();
        assert_ne!(large & (1 << 12), 0, "{level:?} PAT at bit 12");
        let write_back = encode(0, PageFlags::kernel(), level).unwrap();
        assert_eq!(write_back & (1 << 12), 0);
    }
}

#[test]
fn cache_encoding_never_touches_bit_seven_of_a_large_entry() {
    for level in [Level::Pde2M, Level::Pdpte1G] {
        for cache in CacheType::ALL {
            let entry = encode(0, PageFlags::kernel().cache(cache), level).unwrap();
            let cache_bits = entry & (WRITE_THROUGH | CACHE_DISABLE | (1 << 7) | PAT_LARGE);
            assert_eq!(cache_bits & (1 << 7), LARGE_PAGE, "bit 7 is PS, always set");
            assert_eq!(pat_index_of(entry, level), pat_index(cache));
        }
    }
}

#[test]
fn decode_inverts_encode() {
    for level in Level::ALL {
        for cache in CacheType::ALL {
            for flags in permissions(cache) {
                let physical = sample_address(level);
                let Ok(entry) = encode(physical, flags, level) else {
                    continue;
                };
                let expected_cache = match cache {
                    CacheType::Device => CacheType::Uncached,
                    other => other,
                };
                assert_eq!(
                    decode(entry, level),
                    Some((physical, flags.cache(expected_cache)))
                );
                assert_eq!(cache_of(entry, level), expected_cache);
                assert_eq!(
                    decode(entry | GLOBAL | (1 << 5) | (1 << 6), level),
                    decode(entry, level)
                );
            }
        }
    }
}

#[test]
fn decode_refuses_absent_entries_and_tables() {
    let entry = encode(0x20_0000, PageFlags::kernel(), Level::Pde2M).unwrap();
    assert_eq!(decode(entry & !PRESENT, Level::Pde2M), None);
    let table = encode_table(0x5000);
    assert_eq!(decode(table, Level::Pde2M), None);
    assert_eq!(decode(table, Level::Pdpte1G), None);
    assert_eq!(decode_table(table), Some(0x5000));
    assert_eq!(decode_table(entry), None);
    assert_eq!(decode_table(0), None);
}

#[test]
fn table_entries_grant_everything_so_leaves_decide() {
    let table = encode_table(0x000F_FFFF_FFFF_F000 | 0xFFF | (1 << 63));
    assert_eq!(table, 0x000F_FFFF_FFFF_F000 | PRESENT | WRITABLE | USER);
    assert_eq!(table & NO_EXECUTE, 0);
    assert_eq!(table & LARGE_PAGE, 0);
}

#[test]
fn firmware_types_decode_conservatively() {
    assert_eq!(
        cache_type_of_pat_index(1),
        CacheType::WriteBack,
        "WT is cacheable"
    );
    assert_eq!(cache_type_of_pat_index(2), CacheType::Uncached, "UC-");
    assert_eq!(cache_type_of_pat_index(7), CacheType::Uncached);
    let uncached_minus = PRESENT | CACHE_DISABLE;
    assert_eq!(cache_of(uncached_minus, Level::Pte4K), CacheType::Uncached);
}

#[test]
fn misaligned_and_too_wide_addresses_are_refused() {
    let flags = PageFlags::kernel();
    for level in Level::ALL {
        let size = level.page_size();
        assert_eq!(encode(size / 2, flags, level), Err(EncodeError::Misaligned));
        assert_eq!(
            encode(size + 0x1000 / 2, flags, level),
            Err(EncodeError::Misaligned)
        );
        assert_eq!(
            encode(1 << 52, flags, level),
            Err(EncodeError::AddressTooWide)
        );
        assert_eq!(
            encode(!(size - 1), flags, level),
            Err(EncodeError::AddressTooWide)
        );
        assert!(encode((1 << 52) - size, flags, level).is_ok());
        assert!(encode(size, flags, level).is_ok());
    }
    assert_eq!(
        encode(0x1000, flags, Level::Pde2M),
        Err(EncodeError::Misaligned),
        "bit 12 would read as PAT"
    );
}

#[test]
fn executable_device_memory_is_refused() {
    for cache in [CacheType::Uncached, CacheType::Device] {
        let flags = PageFlags::kernel().executable().cache(cache);
        assert_eq!(
            encode(0, flags, Level::Pte4K),
            Err(EncodeError::ExecutableDeviceMemory)
        );
    }
    let code = PageFlags::user()
        .executable()
        .cache(CacheType::WriteCombining);
    assert_eq!(encode(0, code, Level::Pte4K).unwrap() & NO_EXECUTE, 0);
}

#[test]
fn default_flags_are_present_read_only_kernel_no_execute_write_back() {
    let entry = encode(0x1234_5000, PageFlags::default(), Level::Pte4K).unwrap();
    assert_eq!(entry, 0x1234_5000 | PRESENT | NO_EXECUTE);
}

#[test]
fn level_facts() {
    assert_eq!(Level::Pte4K.page_size(), 4096);
    assert_eq!(Level::Pde2M.page_size(), 2 * 1024 * 1024);
    assert_eq!(Level::Pdpte1G.page_size(), 1024 * 1024 * 1024);
    assert_eq!(Level::ALL.map(Level::number), [1, 2, 3]);
}
