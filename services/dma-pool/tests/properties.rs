//! Property tests: random sequences of declare, retire, alloc, release, map, unmap,
//! release-all and quota changes over several owners, predicted step by step by a simple
//! model (a flag per page and a list of buffers) and checked against it.

mod common;
mod model;

use model::{Model, Step};
use proptest::prelude::*;

fn step() -> impl Strategy<Value = Step> {
    let device = 0usize..3;
    let owner = 0u32..3;
    prop_oneof![
        2 => (device.clone(), 1u64..200, 0u64..70).prop_map(|(device, pages, offset)| Step::Declare { device, pages, offset }),
        1 => device.clone().prop_map(|device| Step::Retire { device }),
        12 => (device.clone(), 1u64..(72 * 4096), prop::option::weighted(0.2, 12u32..24), owner.clone())
            .prop_map(|(device, size, align_shift, owner)| Step::Alloc { device, size, align_shift, owner }),
        6 => (any::<usize>(), prop::bool::weighted(0.9)).prop_map(|(pick, right_owner)| Step::Release { pick, right_owner }),
        2 => (any::<usize>(), 0u64..3).prop_map(|(pick, page)| Step::ReleaseAddress { pick, page }),
        3 => any::<usize>().prop_map(|pick| Step::Map { pick }),
        3 => any::<usize>().prop_map(|pick| Step::Unmap { pick }),
        1 => owner.clone().prop_map(|owner| Step::ReleaseAll { owner }),
        1 => (owner, prop::option::of(0u64..64)).prop_map(|(owner, pages)| Step::OwnerQuota { owner, pages }),
        1 => (device, prop::option::of(0u64..128)).prop_map(|(device, pages)| Step::DeviceQuota { device, pages }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6000))]

    /// Every step's result is the model's prediction, and afterwards the registry's pools,
    /// buffers, free extents, owner charges and zeroing calls match the model's.
    #[test]
    fn registry_matches_the_model(steps in prop::collection::vec(step(), 1..48)) {
        let mut model = Model::new();
        model.declare_initial();
        for step in steps {
            model.apply(step).map_err(TestCaseError::fail)?;
            model.compare().map_err(TestCaseError::fail)?;
        }
        model.drain().map_err(TestCaseError::fail)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Allocation-heavy runs on one pool: exactness under fragmentation.
    #[test]
    fn fragmentation_runs_match_the_model(
        steps in prop::collection::vec(
            prop_oneof![
                3 => (1u64..(40 * 4096), 0u32..2).prop_map(|(size, owner)| Step::Alloc { device: 0, size, align_shift: None, owner }),
                2 => any::<usize>().prop_map(|pick| Step::Release { pick, right_owner: true }),
            ],
            1..80,
        )
    ) {
        let mut model = Model::new();
        model.declare_initial();
        for step in steps {
            model.apply(step).map_err(TestCaseError::fail)?;
        }
        model.compare().map_err(TestCaseError::fail)?;
        model.drain().map_err(TestCaseError::fail)?;
    }
}
