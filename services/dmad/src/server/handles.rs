//! `Read`/`Call` and `Close` on open handles.

use super::{Handle, Server};
use crate::{Refusal, Reply};
use alloc::vec::Vec;
use log::info;

impl Server {
    /// A read (or call) of at most `capacity` bytes: a buffer's descriptor, or the next part
    /// of a text table (empty at its end).
    pub(super) fn read(
        &mut self,
        caller: u32,
        number: u64,
        capacity: u64,
    ) -> Result<Reply, Refusal> {
        self.owned(caller, number)?;
        let capacity = usize::try_from(capacity).unwrap_or(usize::MAX);
        let open = self
            .handles
            .get_mut(&(caller, number))
            .expect("owned handle exists");
        let bytes: Vec<u8> = match &mut open.handle {
            Handle::Text { bytes, offset } => {
                let start = (*offset).min(bytes.len());
                let end = start + capacity.min(bytes.len() - start);
                *offset = end;
                bytes[start..end].to_vec()
            }
            Handle::Buffer { info, .. } | Handle::Import(super::share::Import { info, .. }) => {
                let bytes = info.to_bytes();
                bytes[..capacity.min(bytes.len())].to_vec()
            }
            Handle::Done => Vec::new(),
        };
        Ok(Reply::bytes(bytes))
    }

    /// Closes a handle: a buffer is released (its pages return once nothing maps it), or
    /// quarantined if its device is not confirmed quiet (`quiesce`). When
    /// it was the caller's last handle, dmad forgets the caller. `at_exit`: the kernel closed
    /// it for an exiting caller, so a buffer was leaked (`debug.rs`).
    pub(super) fn close(
        &mut self,
        caller: u32,
        number: u64,
        at_exit: bool,
    ) -> Result<Reply, Refusal> {
        self.owned(caller, number)?;
        let open = self
            .handles
            .remove(&(caller, number))
            .expect("owned handle exists");
        self.count(caller, |usage| usage.handles -= 1);
        if let Handle::Import(import) = open.handle {
            self.release_import(caller, import);
        } else if let Handle::Buffer {
            handle, mapping, ..
        } = open.handle
        {
            self.shares.revoke(caller, Some(number));
            if at_exit {
                self.note_leak(caller, &mapping.device, mapping.size);
            }
            let reclaimed = self.reclaim(handle, caller, &mapping);
            if let Err(error) = reclaimed {
                info!("handle {number} of pid {caller}: buffer already gone ({error})");
            }
        }
        if self.usage(caller).handles == 0 {
            self.forget_client(caller);
        }
        Ok(Reply::value(0))
    }
}
