//! Which pages a request to map device registers needs, and whether it may have them.
//!
//! A driver asks for `[offset, offset + size)` of physical address space. It may have it only
//! when every byte lies inside one of its device's ranges; the kernel then maps the whole
//! pages around it (a 0x200-byte virtio-mmio window gets its containing page) and hands back
//! the address of byte `offset`.

#[cfg(test)]
mod tests;

use crate::layout::PAGE_SIZE;

/// The pages that cover an allowed request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceWindow {
    /// Physical address of the first page.
    pub first_page: u64,
    /// How many 4 KiB pages.
    pub pages: u64,
    /// Where byte `offset` lies in the first page.
    pub offset_in_page: u64,
}

/// The pages covering `[offset, offset + size)` if it is non-empty and lies entirely inside
/// one of `ranges` (each `(physical base, size)`); `None` otherwise.
pub fn device_window(
    ranges: impl IntoIterator<Item = (u64, u64)>,
    offset: u64,
    size: u64,
) -> Option<DeviceWindow> {
    let end = offset.checked_add(size).filter(|_| size > 0)?;
    let inside = ranges.into_iter().any(|(base, length)| {
        base.checked_add(length)
            .is_some_and(|limit| base <= offset && end <= limit)
    });
    if !inside {
        return None;
    }
    let first_page = offset - offset % PAGE_SIZE;
    let last_page = end.checked_next_multiple_of(PAGE_SIZE)?;
    Some(DeviceWindow {
        first_page,
        pages: (last_page - first_page) / PAGE_SIZE,
        offset_in_page: offset % PAGE_SIZE,
    })
}
