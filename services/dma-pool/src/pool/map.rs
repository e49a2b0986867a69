//! Each page's state, for the occupancy picture (`crate::page_map`).

use super::Pool;
use crate::buffers::RecordState;
use crate::page_map::PageState;
use alloc::vec::Vec;

impl Pool {
    /// Every page's state, in page order: free extents, then each buffer record's pages
    /// (live, deferred — released but still mapped — or quarantined); a page in neither is
    /// [`PageState::Reserved`]. O(pages + buffers); allocates one byte per page.
    pub fn page_states(&self) -> Vec<PageState> {
        let pages = self.space.pages() as usize;
        let mut states = alloc::vec![PageState::Reserved; pages];
        self.space.for_each_free_extent(|first, count| {
            for state in states.iter_mut().skip(first as usize).take(count as usize) {
                *state = PageState::Free;
            }
        });
        for (_, record) in self.buffers.iter() {
            let state = match record.state {
                RecordState::Vacant | RecordState::Parked => continue,
                RecordState::Live => PageState::Live,
                RecordState::Released => PageState::Deferred,
                RecordState::Quarantined => PageState::Quarantined,
            };
            let first = record.first_page as usize;
            for slot in states.iter_mut().skip(first).take(record.pages() as usize) {
                *slot = state;
            }
        }
        states
    }
}
