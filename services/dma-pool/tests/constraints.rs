//! Property tests of allocation constraints (alignment, device address mask, boundary)
//! against a simple model: a flag per page. Every buffer returned meets every constraint and
//! covers only free pages; a request is refused as impossible (`EINVAL`) exactly when the
//! model says no buffer of the pool could ever meet it (an unconstrained request with no
//! aligned run anywhere stays `ENOMEM`, as before constraints existed), and as unmet (`ENOMEM`) only when the
//! model finds no free fitting run — or, for a masked request, more free runs above the mask
//! than the registry sets aside while searching (documented in `request.rs`).

mod common;

use dma_pool::{
    AllocConstraints, BufferHandle, CacheType, OwnerId, PoolDeclaration, PoolError, PoolRegistry,
    PAGE_SIZE,
};
use proptest::prelude::*;

const REGION_BASE: u64 = 0x8000_0000;
const OWNER: OwnerId = OwnerId(7);
/// `Pool::allocate_below`'s search depth (`MASK_TRIES`).
const MASK_TRIES: usize = 32;

#[derive(Clone, Debug)]
enum Step {
    Alloc {
        pages: u64,
        align_shift: Option<u32>,
        mask_bits: Option<u32>,
        boundary_shift: Option<u32>,
    },
    Release {
        pick: usize,
    },
}

struct Model {
    registry: PoolRegistry,
    /// Device frame of the pool's first page.
    first_frame: u64,
    used: Vec<bool>,
    live: Vec<(BufferHandle, u64, u64)>,
}

impl Model {
    fn new(device_base: u64, pages: u64) -> Self {
        let mut registry = PoolRegistry::new();
        registry.add_reserved_region(REGION_BASE, 64 << 20).unwrap();
        registry
            .declare(&PoolDeclaration::new(
                "dev-pool",
                "dev",
                REGION_BASE,
                device_base,
                pages * PAGE_SIZE,
                CacheType::WriteCombining,
            ))
            .unwrap();
        Model {
            registry,
            first_frame: device_base / PAGE_SIZE,
            used: vec![false; pages as usize],
            live: Vec::new(),
        }
    }

    fn alloc(
        &mut self,
        pages: u64,
        align_shift: Option<u32>,
        mask_bits: Option<u32>,
        boundary_shift: Option<u32>,
    ) -> Result<(), TestCaseError> {
        let size = pages * PAGE_SIZE;
        let rounded = pages.next_power_of_two();
        let align = align_shift.map(|shift| 1u64 << shift);
        let mask = mask_bits.map(|bits| (1u64 << bits) - 1);
        let boundary = boundary_shift.map(|shift| 1u64 << shift);
        let constraints = AllocConstraints {
            align,
            mask,
            boundary,
        };
        let result = self.registry.alloc_constrained(
            "dev",
            size,
            constraints,
            OWNER,
            &mut |_: u64, _: u64| {},
        );
        // The model's view.
        let pool_pages = self.used.len() as u64;
        let align_pages = align
            .map_or(1, |align| (align / PAGE_SIZE).max(1))
            .max(rounded);
        let limit = mask.map_or(u64::MAX, |mask| (mask + 1) / PAGE_SIZE);
        let aligned_starts = || {
            (0..pool_pages)
                .filter(|page| (self.first_frame + page).is_multiple_of(align_pages))
                .filter(|page| page + rounded <= pool_pages)
        };
        let below = |page: &u64| self.first_frame + page + rounded <= limit;
        let impossible = rounded > pool_pages
            || boundary.is_some_and(|boundary| boundary < rounded * PAGE_SIZE)
            || (self.first_frame + pool_pages > limit
                && !aligned_starts().any(|page| below(&page)));
        let free = |page: &u64| (*page..page + rounded).all(|p| !self.used[p as usize]);
        let fitting = aligned_starts()
            .filter(|page| free(page) && below(page))
            .count();
        let above = aligned_starts()
            .filter(|page| free(page) && !below(page))
            .count();
        match result {
            Err(PoolError::InvalidRequest(_)) => prop_assert!(impossible, "refused as impossible"),
            Err(PoolError::OutOfMemory) => {
                prop_assert!(!impossible, "impossible request answered ENOMEM");
                prop_assert!(
                    fitting == 0 || above >= MASK_TRIES,
                    "ENOMEM with {fitting} fitting runs free and {above} above the mask"
                );
            }
            Err(other) => prop_assert!(false, "unexpected {other:?}"),
            Ok(allocation) => {
                prop_assert!(!impossible, "impossible request met");
                prop_assert_eq!(allocation.size_bytes, rounded * PAGE_SIZE);
                let address = allocation.device_address;
                let last = address + allocation.size_bytes - 1;
                prop_assert_eq!(address % (align_pages * PAGE_SIZE), 0, "misaligned");
                if let Some(mask) = mask {
                    prop_assert!(last <= mask, "{address:#x}..={last:#x} above {mask:#x}");
                }
                if let Some(boundary) = boundary {
                    prop_assert_eq!(address / boundary, last / boundary, "crosses the boundary");
                }
                let page = address / PAGE_SIZE - self.first_frame;
                prop_assert!(free(&page), "buffer over used pages");
                for p in page..page + rounded {
                    self.used[p as usize] = true;
                }
                self.live.push((allocation.handle, page, rounded));
            }
        }
        Ok(())
    }

    fn release(&mut self, pick: usize) {
        if self.live.is_empty() {
            return;
        }
        let (handle, page, pages) = self.live.swap_remove(pick % self.live.len());
        self.registry.release(handle, OWNER).unwrap();
        for p in page..page + pages {
            self.used[p as usize] = false;
        }
    }

    fn check(&self) -> Result<(), TestCaseError> {
        self.registry
            .check_invariants()
            .map_err(|error| TestCaseError::fail(format!("{error:?}")))?;
        let used = self.used.iter().filter(|used| **used).count() as u64;
        let pool = self.registry.pools().next().unwrap();
        prop_assert_eq!(pool.used_pages(), used);
        Ok(())
    }
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (
            1u64..80,
            prop::option::weighted(0.2, 12u32..20),
            prop::option::weighted(0.7, 20u32..24),
            prop::option::weighted(0.4, 12u32..22),
        )
            .prop_map(|(pages, align_shift, mask_bits, boundary_shift)| Step::Alloc {
                pages,
                align_shift,
                mask_bits,
                boundary_shift,
            }),
        2 => any::<usize>().prop_map(|pick| Step::Release { pick }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    /// A pool of 200..700 pages starting at 1 MiB plus 0..70 pages, so that masks of 20..23
    /// bits lie below it, cut it, or cover it.
    #[test]
    fn constrained_allocations_match_the_model(
        offset in 0u64..70,
        pages in 200u64..700,
        steps in prop::collection::vec(step(), 1..60),
    ) {
        let mut model = Model::new((1 << 20) + offset * PAGE_SIZE, pages);
        for step in steps {
            match step {
                Step::Alloc { pages, align_shift, mask_bits, boundary_shift } => {
                    model.alloc(pages, align_shift, mask_bits, boundary_shift)?;
                }
                Step::Release { pick } => model.release(pick),
            }
            model.check()?;
        }
    }
}

#[test]
fn malformed_constraints_are_invalid_and_old_requests_unchanged() {
    let mut model = Model::new(1 << 20, 512);
    let mut zero = |_: u64, _: u64| {};
    let mut alloc = |constraints| {
        model
            .registry
            .alloc_constrained("dev", 4096, constraints, OWNER, &mut zero)
    };
    let invalid =
        |result: Result<_, PoolError>| matches!(result, Err(PoolError::InvalidRequest(_)));
    assert!(invalid(alloc(AllocConstraints {
        mask: Some(0x1234_5678),
        ..Default::default()
    })));
    assert!(invalid(alloc(AllocConstraints {
        mask: Some(0x7ff),
        ..Default::default()
    })));
    assert!(invalid(alloc(AllocConstraints {
        boundary: Some(0x3000),
        ..Default::default()
    })));
    assert!(invalid(alloc(AllocConstraints {
        boundary: Some(0x800),
        ..Default::default()
    })));
    // The pool lies at 1..3 MiB: a 20-bit mask is below all of it.
    assert!(invalid(alloc(AllocConstraints {
        mask: Some((1 << 20) - 1),
        ..Default::default()
    })));
    let met = alloc(AllocConstraints {
        mask: Some(u64::MAX),
        boundary: Some(4096),
        align: None,
    })
    .unwrap();
    assert_eq!(met.size_bytes, 4096);
    let plain = alloc(AllocConstraints::default()).unwrap();
    assert_ne!(plain.device_address, met.device_address);
}
