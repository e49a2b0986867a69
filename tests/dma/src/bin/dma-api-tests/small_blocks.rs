//! userlib's small-block `DmaPool` (`dma_pool_create` / `dma_pool_alloc`) against real dmad
//! pages.

use alloc::format;
use alloc::vec::Vec;
use dma_tests::DEVICE;
use process_tests::check::{expect_errno, expect_ok, Outcome};
use process_tests::ensure;
use userlib::dma::DmaPool;
use userlib::sys::error::EINVAL;

/// 48-byte blocks aligned to 16 with a 256-byte boundary: over several pages' worth of
/// blocks, none crosses a multiple of 256, all are distinct, and each is zeroed and
/// writable (its bytes keep what was written).
pub fn small_blocks_never_straddle_the_boundary() -> Outcome {
    let mut pool = expect_ok("DmaPool::new", DmaPool::new(DEVICE, 48, 16, 256))?;
    let mut blocks = Vec::new();
    for index in 0..300u32 {
        let block = expect_ok("DmaPool::alloc", pool.alloc())?;
        let first = block.dma_addr();
        let last = first + 47;
        ensure!(
            first % 16 == 0 && first / 256 == last / 256,
            "block {index} at {first:#x} is misaligned or straddles a 256-byte boundary"
        );
        let bytes = expect_ok("bytes_mut", pool.bytes_mut(&block))?;
        ensure!(
            bytes.iter().all(|byte| *byte == 0),
            "block {index} not zeroed"
        );
        bytes.fill(index as u8);
        blocks.push(block);
    }
    ensure!(
        pool.pages() >= 2,
        "300 blocks fit in {} page(s)",
        pool.pages()
    );
    let mut addresses: Vec<u64> = blocks.iter().map(|block| block.dma_addr()).collect();
    addresses.sort_unstable();
    ensure!(
        addresses.windows(2).all(|pair| pair[1] >= pair[0] + 48),
        "two blocks overlap"
    );
    for (index, block) in blocks.iter().enumerate() {
        let bytes = expect_ok("bytes_mut", pool.bytes_mut(block))?;
        ensure!(
            bytes.iter().all(|byte| *byte == index as u8),
            "block {index} lost what was written to it"
        );
    }
    for block in blocks {
        expect_ok("DmaPool::free", pool.free(block))?;
    }
    Ok(())
}

/// Freeing a block twice (by device address) is `EINVAL` and changes nothing: the block is
/// handed out again exactly once.
pub fn small_block_double_free_is_caught() -> Outcome {
    let mut pool = expect_ok("DmaPool::new", DmaPool::new(DEVICE, 64, 64, 4096))?;
    let block = expect_ok("DmaPool::alloc", pool.alloc())?;
    let address = block.dma_addr();
    expect_ok("first free", pool.free_address(address))?;
    expect_errno("second free", pool.free_address(address), EINVAL)?;
    let again = expect_ok("alloc after the double free", pool.alloc())?;
    let other = expect_ok("another alloc", pool.alloc())?;
    ensure!(
        again.dma_addr() != other.dma_addr(),
        "{}",
        format!(
            "the double-freed block {address:#x} was handed out twice ({:#x}, {:#x})",
            again.dma_addr(),
            other.dma_addr()
        )
    );
    Ok(())
}
