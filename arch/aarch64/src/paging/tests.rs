//! Host tests: every memory type, level and permission, and the system register values.

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

fn is_normal(cache: CacheType) -> bool {
    matches!(cache, CacheType::WriteBack | CacheType::WriteCombining)
}

/// An aligned address using the top bit and the lowest bit the level allows.
fn sample_address(level: Level) -> u64 {
    (1 << 47) | (1 << 30) | level.page_size()
}

fn field(value: u64, low: u32, width: u32) -> u64 {
    (value >> low) & ((1 << width) - 1)
}

#[test]
fn mair_holds_each_documented_attribute() {
    assert_eq!(mair_attribute(0), 0xFF);
    assert_eq!(mair_attribute(1), 0x44);
    assert_eq!(mair_attribute(2), 0x04);
    assert_eq!(mair_attribute(3), 0x00);
    for index in 4..8 {
        assert_eq!(mair_attribute(index), 0);
    }
    assert_eq!(MAIR_VALUE, 0x0004_44FF);
}

#[test]
fn attribute_index_selects_the_right_attribute() {
    let expected = [
        (CacheType::WriteBack, 0, ATTRIBUTE_NORMAL_WRITE_BACK),
        (CacheType::WriteCombining, 1, ATTRIBUTE_NORMAL_NON_CACHEABLE),
        (CacheType::Device, 2, ATTRIBUTE_DEVICE_NGNRE),
        (CacheType::Uncached, 3, ATTRIBUTE_DEVICE_NGNRNE),
    ];
    for (cache, index, attribute) in expected {
        assert_eq!(attribute_index(cache), index);
        assert_eq!(mair_attribute(index), attribute);
        assert_eq!(cache_type_of_attribute_index(index), cache);
    }
    assert_eq!(cache_type_of_attribute_index(5), CacheType::Uncached);
}

#[test]
fn every_type_level_and_permission_sets_exactly_the_documented_bits() {
    let mut checked = 0;
    for level in Level::ALL {
        for cache in CacheType::ALL {
            for flags in permissions(cache) {
                let physical = sample_address(level);
                let result = encode(physical, flags, level);
                if flags.is_executable() && !is_normal(cache) {
                    assert_eq!(result, Err(EncodeError::ExecutableDeviceMemory));
                    continue;
                }
                let entry = result.unwrap();
                let (user, writable, executable) =
                    (flags.is_user(), flags.is_writable(), flags.is_executable());
                assert_eq!(entry & ADDRESS_MASK, physical, "{level:?} {flags:?}");
                assert_eq!(field(entry, 0, 1), 1, "valid");
                let page = level == Level::L3Page4K;
                assert_eq!(field(entry, 1, 1), page as u64, "page or block");
                assert_eq!(field(entry, 2, 3), attribute_index(cache), "AttrIndx");
                let access = match (user, writable) {
                    (false, true) => 0b00,
                    (true, true) => 0b01,
                    (false, false) => 0b10,
                    (true, false) => 0b11,
                };
                assert_eq!(field(entry, 6, 2), access, "AP[2:1] {flags:?}");
                let shareability = if is_normal(cache) { 0b11 } else { 0b00 };
                assert_eq!(field(entry, 8, 2), shareability, "SH");
                assert_eq!(field(entry, 10, 1), 1, "AF");
                assert_eq!(field(entry, 11, 1), user as u64, "nG");
                let privileged_never = user || !executable;
                let unprivileged_never = !user || !executable;
                assert_eq!(
                    field(entry, 53, 1),
                    privileged_never as u64,
                    "PXN {flags:?}"
                );
                assert_eq!(
                    field(entry, 54, 1),
                    unprivileged_never as u64,
                    "UXN {flags:?}"
                );
                assert_eq!(entry & !(ADDRESS_MASK | 0xFFF | (0b11 << 53)), 0);
                checked += 1;
            }
        }
    }
    // 3 levels x (2 normal types x 8 + 2 device types x 4 non-executable).
    assert_eq!(checked, 3 * (2 * 8 + 2 * 4));
}

#[test]
fn device_memory_is_always_execute_never() {
    for cache in [CacheType::Device, CacheType::Uncached] {
        for flags in permissions(cache).filter(|flags| !flags.is_executable()) {
            let entry = encode(0, flags, Level::L3Page4K).unwrap();
            assert_ne!(entry & PRIVILEGED_EXECUTE_NEVER, 0);
            assert_ne!(entry & UNPRIVILEGED_EXECUTE_NEVER, 0);
        }
    }
}

#[test]
fn user_mappings_are_never_kernel_executable() {
    for cache in [CacheType::WriteBack, CacheType::WriteCombining] {
        for flags in permissions(cache).filter(|flags| flags.is_user()) {
            let entry = encode(0x20_0000, flags, Level::L2Block2M).unwrap();
            assert_ne!(entry & PRIVILEGED_EXECUTE_NEVER, 0, "{flags:?}");
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
                assert_eq!(decode(entry, level), Some((physical, flags)));
                assert_eq!(cache_of(entry, level), cache);
            }
        }
    }
}

#[test]
fn decode_refuses_invalid_tables_and_reserved_forms() {
    let block = encode(0x4000_0000, PageFlags::kernel(), Level::L1Block1G).unwrap();
    assert_eq!(decode(block & !VALID, Level::L1Block1G), None);
    let table = encode_table(0x8_0000);
    assert_eq!(table, 0x8_0003);
    assert_eq!(decode(table, Level::L1Block1G), None);
    assert_eq!(decode(table, Level::L2Block2M), None);
    assert_eq!(decode_table(table), Some(0x8_0000));
    assert_eq!(decode_table(block), None);
    let page = encode(0x1000, PageFlags::kernel(), Level::L3Page4K).unwrap();
    assert_eq!(decode(page & !PAGE_OR_TABLE, Level::L3Page4K), None);
}

#[test]
fn table_descriptors_restrict_nothing() {
    let table = encode_table(u64::MAX);
    assert_eq!(table, ADDRESS_MASK | 0b11);
    assert_eq!(
        field(table, 59, 5),
        0,
        "PXNTable, UXNTable, APTable, NSTable"
    );
}

#[test]
fn misaligned_and_too_wide_addresses_are_refused() {
    let flags = PageFlags::kernel();
    for level in Level::ALL {
        let size = level.page_size();
        assert_eq!(encode(size / 2, flags, level), Err(EncodeError::Misaligned));
        assert_eq!(
            encode(size + 0x800, flags, level),
            Err(EncodeError::Misaligned)
        );
        assert_eq!(
            encode(1 << 48, flags, level),
            Err(EncodeError::AddressTooWide)
        );
        assert_eq!(
            encode(!(size - 1), flags, level),
            Err(EncodeError::AddressTooWide)
        );
        assert!(encode((1 << 48) - size, flags, level).is_ok());
    }
}

#[test]
fn default_flags_make_a_global_read_only_kernel_page() {
    let entry = encode(0x1234_5000, PageFlags::default(), Level::L3Page4K).unwrap();
    let expected = 0x1234_5000
        | VALID
        | PAGE_OR_TABLE
        | READ_ONLY
        | INNER_SHAREABLE
        | ACCESS_FLAG
        | PRIVILEGED_EXECUTE_NEVER
        | UNPRIVILEGED_EXECUTE_NEVER;
    assert_eq!(entry, expected);
}

#[test]
fn tcr_fields_match_the_documented_layout() {
    let tcr = tcr_value(0b0101);
    assert_eq!(field(tcr, 0, 6), 16, "T0SZ");
    assert_eq!(field(tcr, 7, 1), 0, "EPD0");
    assert_eq!(field(tcr, 8, 2), 0b01, "IRGN0");
    assert_eq!(field(tcr, 10, 2), 0b01, "ORGN0");
    assert_eq!(field(tcr, 12, 2), 0b11, "SH0");
    assert_eq!(field(tcr, 14, 2), 0b00, "TG0");
    assert_eq!(field(tcr, 16, 6), 16, "T1SZ");
    assert_eq!(field(tcr, 22, 2), 0, "A1, EPD1");
    assert_eq!(field(tcr, 24, 2), 0b01, "IRGN1");
    assert_eq!(field(tcr, 26, 2), 0b01, "ORGN1");
    assert_eq!(field(tcr, 28, 2), 0b11, "SH1");
    assert_eq!(field(tcr, 30, 2), 0b10, "TG1");
    assert_eq!(field(tcr, 32, 3), 0b101, "IPS");
    assert_eq!(tcr >> 35, 0, "AS, TBI and above");
}

#[test]
fn tcr_ips_follows_the_physical_address_range() {
    let bits = [32, 36, 40, 42, 44, 48, 48, 48];
    for (range, expected_bits) in bits.into_iter().enumerate() {
        let range = range as u64;
        assert_eq!(field(tcr_value(range), 32, 3), range.min(0b101));
        assert_eq!(physical_address_bits(range), expected_bits);
        assert_eq!(
            tcr_value(range) & !(0b111 << 32),
            tcr_value(0) & !(0b111 << 32)
        );
    }
    assert_eq!(
        tcr_value(0xF),
        tcr_value(0b101),
        "reserved values cap at 48 bits"
    );
    assert_eq!(
        tcr_value(0xF0 | 2),
        tcr_value(2),
        "only PARange's four bits count"
    );
}

#[test]
fn sctlr_sets_exactly_the_documented_bits() {
    let set = [0, 2, 3, 11, 12, 20, 22, 23, 28, 29];
    for bit in 0..64 {
        assert_eq!(
            field(SCTLR_VALUE, bit, 1),
            set.contains(&bit) as u64,
            "bit {bit}"
        );
    }
    assert_eq!(field(SCTLR_VALUE, 19, 1), 0, "WXN off");
    assert_eq!(field(SCTLR_VALUE, 25, 1), 0, "little-endian");
}

#[test]
fn level_facts() {
    assert_eq!(Level::L3Page4K.page_size(), 4096);
    assert_eq!(Level::L2Block2M.page_size(), 2 * 1024 * 1024);
    assert_eq!(Level::L1Block1G.page_size(), 1024 * 1024 * 1024);
    assert_eq!(Level::ALL.map(Level::number), [3, 2, 1]);
}
