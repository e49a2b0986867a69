//! Test-only views of the server's own tables: a snapshot to compare before and after a
//! request, and the invariants that tie its counts and bounds together.

use super::limits::Usage;
use super::Server;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

impl Server {
    /// Everything dmad itself holds (not the pools): clients, handles, mappings, counts and
    /// the next numbers it will hand out. Equal snapshots mean a request changed nothing.
    pub(crate) fn snapshot(&self) -> String {
        let clients: Vec<u32> = self.clients.keys().copied().collect();
        let handles: Vec<(u32, u64)> = self.handles.keys().copied().collect();
        let mappings: Vec<_> = self
            .mappings
            .iter()
            .map(|(key, mapping)| (*key, mapping.remaining))
            .collect();
        format!(
            "clients {clients:?}\nhandles {handles:?}\nmappings {mappings:?}\nusage {:?}\nnext {} {}",
            self.usage, self.next_handle, self.next_mapping
        )
    }

    /// The number of (client records, handles, mappings) dmad holds.
    pub(crate) fn occupancy(&self) -> (usize, usize, usize) {
        (self.clients.len(), self.handles.len(), self.mappings.len())
    }

    /// Checks that the per-process counts match the tables, that no table is past its
    /// limit, and that dmad keeps a client record only for a process with a handle.
    pub(crate) fn check_bounds(&self) -> Result<(), String> {
        let mut counted: BTreeMap<u32, Usage> = BTreeMap::new();
        for (owner, _) in self.handles.keys() {
            counted.entry(*owner).or_default().handles += 1;
        }
        for (owner, ..) in self.mappings.keys() {
            counted.entry(*owner).or_default().mappings += 1;
        }
        if counted != self.usage {
            return Err(format!(
                "counts {:?} but tables hold {counted:?}",
                self.usage
            ));
        }
        let limits = self.limits;
        if self.handles.len() > limits.handles
            || self.mappings.len() > limits.mappings
            || self.clients.len() > limits.clients
        {
            return Err(format!(
                "a table is past its limit: {:?} of {limits:?}",
                self.occupancy()
            ));
        }
        if let Some((pid, usage)) = self.usage.iter().find(|(_, usage)| {
            usage.handles > limits.handles_per_client || usage.mappings > limits.mappings_per_client
        }) {
            return Err(format!("pid {pid} holds {usage:?}, past {limits:?}"));
        }
        if let Some(pid) = self
            .clients
            .keys()
            .find(|pid| self.usage(**pid).handles == 0)
        {
            return Err(format!("client record for pid {pid}, which has no handle"));
        }
        Ok(())
    }
}
