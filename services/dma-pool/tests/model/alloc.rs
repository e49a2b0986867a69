//! The allocation step: predicting the result from the page map and checking the buffer.

use dma_pool::{OwnerId, PoolError, PAGE_SIZE};

use super::{Model, ModelBuffer, DEVICES};

impl Model {
    /// Allocates, compares with the prediction, and checks placement and zeroing.
    pub(super) fn alloc(
        &mut self,
        device: usize,
        size: u64,
        align_shift: Option<u32>,
        owner: OwnerId,
    ) -> Result<(), String> {
        let calls_before = self.zeroer.calls.len();
        let align = align_shift.map(|shift| 1u64 << shift);
        let result = self
            .registry
            .alloc(DEVICES[device], size, align, owner, &mut self.zeroer);
        let new_calls = self.zeroer.calls.len() - calls_before;
        let Some(pool) = self.pools[device].as_ref() else {
            ensure!(
                result == Err(PoolError::UnknownDevice),
                "alloc on a missing pool: {result:?}"
            );
            return Ok(());
        };
        let pages = size.div_ceil(PAGE_SIZE).next_power_of_two();
        let order = pages.trailing_zeros();
        let align_order = order.max(align_shift.unwrap_or(0).saturating_sub(12));
        let expected = if pages > pool.free.len() as u64 {
            Err(PoolError::InvalidRequest("size exceeds the pool"))
        } else if self
            .quotas
            .get(&owner)
            .is_some_and(|&quota| self.charged(owner) + pages > quota)
            || pool
                .device_quota
                .is_some_and(|quota| pool.used_pages() + pages > quota)
        {
            Err(PoolError::OverQuota)
        } else {
            pool.fit(order, align_order).ok_or(PoolError::OutOfMemory)
        };
        match (result, expected) {
            (Ok(allocation), Ok(_)) => {
                let first_page = (allocation.device_address - pool.device_base) / PAGE_SIZE;
                let range = first_page as usize..(first_page + pages) as usize;
                ensure!(
                    allocation.size_bytes == pages * PAGE_SIZE,
                    "size {}",
                    allocation.size_bytes
                );
                ensure!(
                    allocation.device_address % (PAGE_SIZE << align_order) == 0,
                    "misaligned: {allocation:?}"
                );
                ensure!(
                    allocation.phys == pool.phys_base + first_page * PAGE_SIZE,
                    "phys and device address disagree"
                );
                ensure!(range.end <= pool.free.len(), "buffer outside its pool");
                ensure!(
                    pool.free[range.clone()].iter().all(|&free| free),
                    "buffer overlaps a live one"
                );
                ensure!(
                    new_calls == 1
                        && self.zeroer.calls.last()
                            == Some(&(allocation.phys, allocation.size_bytes)),
                    "zeroing"
                );
                let pool = self.pools[device].as_mut().unwrap();
                pool.free[range].iter_mut().for_each(|free| *free = false);
                self.buffers.push(ModelBuffer {
                    device,
                    handle: allocation.handle,
                    owner,
                    first_page,
                    pages,
                    mappings: 0,
                    released: false,
                });
            }
            (result, expected) => {
                ensure!(
                    result.as_ref().err() == expected.as_ref().err() && result.is_err(),
                    "alloc: {result:?}, expected {expected:?}"
                );
                ensure!(new_calls == 0, "a refused allocation was zeroed");
            }
        }
        Ok(())
    }
}
