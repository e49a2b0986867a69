//! Tests of dynamic placement and layout checks.

use crate::platform::{check_overlaps, place_dynamic, place_pool, LayoutProblem};
use crate::pool::{Placement, PoolDeclaration};

const RAM: [(u64, u64); 1] = [(0x4000_0000, 0x1000_0000)];
const RAM_END: u64 = 0x5000_0000;

#[test]
fn highest_fit_at_the_top_of_ram() {
    assert_eq!(
        place_dynamic(0x10_0000, 0x1000, None, &[], &RAM, &[]),
        Some(RAM_END - 0x10_0000)
    );
}

#[test]
fn skips_taken_ranges_and_respects_alignment() {
    let taken = [(RAM_END - 0x8000, 0x8000), (0x4f00_0000, 0x10_0000)];
    assert_eq!(
        place_dynamic(0x10_0000, 0x1000, None, &[], &RAM, &taken),
        Some(0x4fef_8000 & !0xfff)
    );
    assert_eq!(
        place_dynamic(0x10_0000, 0x100_0000, None, &[], &RAM, &taken),
        Some(0x4e00_0000)
    );
    // A gap exactly the pool's size between two taken ranges is used.
    let tight = [(0x4000_0000, 0xfff_f000 - 0x2000), (0x4fff_f000, 0x1000)];
    assert_eq!(
        place_dynamic(0x2000, 0x1000, None, &[], &RAM, &tight),
        Some(0x4fff_d000)
    );
}

#[test]
fn limit_and_alloc_ranges_bound_the_choice() {
    assert_eq!(
        place_dynamic(0x1000, 0x1000, Some(0x4800_0000), &[], &RAM, &[]),
        Some(0x47ff_f000)
    );
    let ranges = [(0x4100_0000, 0x10_0000), (0x4200_0000, 0x10_0000)];
    assert_eq!(
        place_dynamic(0x10_0000, 0x1000, None, &ranges, &RAM, &[]),
        Some(0x4200_0000)
    );
    assert_eq!(
        place_dynamic(
            0x10_0000,
            0x1000,
            None,
            &ranges,
            &RAM,
            &[(0x4200_0000, 0x1000)]
        ),
        Some(0x4100_0000)
    );
    // A range larger than the pool but outside RAM does not count.
    assert_eq!(
        place_dynamic(0x1000, 0x1000, None, &[(0x1000, 0x10_0000)], &RAM, &[]),
        None
    );
}

#[test]
fn nothing_fits() {
    assert_eq!(
        place_dynamic(0x2000_0000, 0x1000, None, &[], &RAM, &[]),
        None
    );
    assert_eq!(
        place_dynamic(0x1000, 0x1000, Some(0x4000_0000), &[], &RAM, &[]),
        None
    );
    assert_eq!(place_dynamic(0x1000, 0x1000, None, &[], &RAM, &RAM), None);
    assert_eq!(place_dynamic(0, 0x1000, None, &[], &RAM, &[]), None);
    assert_eq!(place_dynamic(0x1000, 0x1800, None, &[], &RAM, &[]), None);
    assert_eq!(place_dynamic(0x1000, 0x1000, None, &[], &[], &[]), None);
}

#[test]
fn ranges_at_the_top_of_the_address_space_do_not_overflow() {
    let ram = [(0xffff_ffff_0000_0000, 0x1_0000_0000)];
    assert_eq!(
        place_dynamic(0x1000, 0x1000, None, &[], &ram, &[]),
        Some(0xffff_ffff_ffff_e000)
    );
}

#[test]
fn place_pool_uses_the_declaration() {
    let mut pool = PoolDeclaration::new(
        "p",
        Placement::Dynamic {
            size: 0x1000,
            align: 0x1000,
            limit: None,
            alloc_ranges: [Some((0x4100_0000, 0x1000)), None, None, None],
        },
    );
    assert_eq!(place_pool(&pool, &RAM, &[]), Some(0x4100_0000));
    pool.placement = Placement::Dynamic {
        size: 0x1000,
        align: 0x1000,
        limit: Some(0x4400_0000),
        alloc_ranges: [None; 4],
    };
    assert_eq!(place_pool(&pool, &RAM, &[]), Some(0x43ff_f000));
    pool.device_offset = 0xffff_ffff_c000_0000;
    // Device addresses must stay below 2^64, so the pool must end at or below 0x4000_0000.
    assert_eq!(place_pool(&pool, &RAM, &[]), None);
    pool.placement = Placement::Static {
        base: 0x4800_0000,
        size: 0x1000,
    };
    assert_eq!(place_pool(&pool, &RAM, &[]), Some(0x4800_0000));
}

#[test]
fn layout_problems_in_order() {
    let pools = [
        (0x4000_0000, 0x2000),
        (0x4000_1000, 0x1000),
        (0x3000_0000, 0x1000),
        (0x4000_0000, 0),
        (0x4fff_f000, 0x1000),
        (0x4fff_f000, 0x1000),
    ];
    let problems: Vec<_> = check_overlaps(&pools, &RAM).collect();
    assert_eq!(
        problems,
        [
            LayoutProblem::OutsideRam { pool: 2 },
            LayoutProblem::Empty { pool: 3 },
            LayoutProblem::Overlap {
                first: 0,
                second: 1
            },
            LayoutProblem::Overlap {
                first: 4,
                second: 5
            },
        ]
    );
    assert_eq!(check_overlaps(&pools[..1], &RAM).count(), 0);
}
