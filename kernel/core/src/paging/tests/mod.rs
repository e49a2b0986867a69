//! Host tests for the walker: the shared scenarios and the random model check against a tiny
//! format, plus the address arithmetic and trees the walker did not build itself.

extern crate std;

mod addresses;
mod foreign_trees;
mod tiny_format;

use super::testing::model::{check_sequence, Operation};
use proptest::collection::vec;
use proptest::prelude::*;
use std::vec::Vec;
use tiny_format::TinyFormat;

crate::page_table_scenarios!(TinyFormat);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn random_sequences_agree_with_the_model(
        random in vec(any::<(u32, u32, u32, u8)>(), 1..40)
    ) {
        let operations: Vec<Operation> = random.into_iter().map(Operation::from_random).collect();
        check_sequence::<TinyFormat>(&operations);
    }
}
