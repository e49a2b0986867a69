//! Quarantine: released buffers whose device may still write into them.
//!
//! When dmad cannot be sure a dead driver's device has stopped doing DMA (the kernel could
//! not confirm its quiesce), the driver's buffers must not be handed to anyone else. A
//! quarantined buffer's handle is dead like a released one's, its owner is no longer
//! charged, but its pages stay out of the free space — counted in
//! [`PoolStats::quarantined_pages`](crate::PoolStats) — until dmad learns the device is
//! quiet and calls [`Pool::release_quarantined`]. Mappings of a quarantined buffer are still
//! counted; one still mapped when the quarantine is lifted stays quarantined until the next
//! lift after its last unmap.

use super::Pool;
use crate::buffers::RecordState;
use crate::{BufferHandle, OwnerId, PoolError};

impl Pool {
    /// Releases `owner`'s live buffer into quarantine; returns its page count.
    pub(crate) fn quarantine(
        &mut self,
        handle: BufferHandle,
        owner: OwnerId,
    ) -> Result<u64, PoolError> {
        let pages = self.live_record(handle, owner)?.pages();
        self.buffers
            .get_mut(handle.slot, handle.generation)
            .expect("checked above")
            .state = RecordState::Quarantined;
        self.quarantined_buffers += 1;
        self.quarantined_pages += pages;
        Ok(pages)
    }

    /// Returns every quarantined, unmapped buffer's pages to the free space; returns
    /// (buffers, pages) freed. O(buffer capacity); allocates nothing.
    pub(crate) fn release_quarantined(&mut self) -> (u64, u64) {
        let (mut buffers, mut pages) = (0, 0);
        let mut from = 0;
        loop {
            let next = self
                .buffers
                .iter_from(from)
                .find(|(_, record)| {
                    record.state == RecordState::Quarantined && record.mappings == 0
                })
                .map(|(slot, record)| (slot, *record));
            let Some((slot, record)) = next else {
                break;
            };
            from = slot + 1;
            self.quarantined_buffers -= 1;
            self.quarantined_pages -= record.pages();
            buffers += 1;
            pages += record.pages();
            self.free_record(slot, &record);
        }
        (buffers, pages)
    }
}
