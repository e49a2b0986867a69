//! Quiesce before reuse: what dmad checks before a released buffer's pages go back to a
//! pool, and the quarantine of those whose device may still write into them.
//!
//! The kernel quiesces a device when its holder (the process that opened `device:NAME`)
//! closes it or dies — and at exit does so *before* the holder's mappings and descriptors
//! go, so every `Munmap` and `Close` dmad gets from a dead driver comes after its device
//! was stopped (see the kernel crate's doc). The order of steps for each released buffer
//! (quiesced, unmapped from the IOMMU, then released or quarantined) is in the crate doc,
//! "Releasing a buffer". A buffer is quarantined for a quiesce reason when the device's last
//! quiesce was *not* confirmed and its owner is the holder whose hold ended with it
//! (`last-holder`: the dead driver); an owner that never held the device could not have
//! given it a buffer's address (a driver bounces its clients' data through its own buffers).
//!
//! **A restarted dmad.** Quarantine lives in dmad's memory, and init restarts dmad if it
//! dies; the new one cannot know which pages the old one held back. So when it declares a
//! device's pool it asks the kernel for that device's state, and if the last quiesce is
//! unconfirmed it holds back the *whole* pool (allocated to pid 0 and quarantined at once,
//! shown as `quarantined-pages` like any quarantine) until step 4 lifts it.
//!
//! dmad looks again at quarantined devices on every `open` while any quarantine is held, so
//! the cost of asking is paid only on releases and while something is quarantined. A kernel
//! that does not answer (`None`) is taken as confirming: dmad then behaves as before.

use alloc::collections::BTreeMap;
use alloc::string::String;
use dma_pool::PoolId;

/// A device's quiesce state as the kernel reports it: `NAME holder PID|- state STATE
/// generation G confirmed C`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeviceState {
    /// The process holding the device now, if any.
    pub holder: Option<u32>,
    /// The generation of the device's last quiesce attempt (0: none).
    pub generation: u64,
    /// The generation of its last confirmed quiesce (0: none).
    pub confirmed: u64,
    /// The process whose hold on the device ended last.
    pub last_holder: Option<u32>,
}

impl DeviceState {
    /// Reads the kernel's state line; `None` if it is not one.
    pub fn parse(line: &str) -> Option<DeviceState> {
        let mut words = line.split_whitespace();
        let _name = words.next()?;
        let mut state = DeviceState::default();
        while let (Some(key), Some(value)) = (words.next(), words.next()) {
            match key {
                "holder" => state.holder = value.parse().ok(),
                "last-holder" => state.last_holder = value.parse().ok(),
                "generation" => state.generation = value.parse().ok()?,
                "confirmed" => state.confirmed = value.parse().ok()?,
                _ => {}
            }
        }
        Some(state)
    }

    /// Whether the device's last quiesce was confirmed, or it never needed one.
    pub fn is_confirmed(&self) -> bool {
        self.confirmed == self.generation
    }

    /// Whether a buffer `owner` releases now may still be reached by the device: the
    /// device's last quiesce is unconfirmed and `owner` is the holder whose hold ended
    /// with it (or still holds it — a holder that lost its device to a failed quiesce
    /// cannot have re-opened it, so this means the kernel knows of no later stop).
    pub fn may_still_reach(&self, owner: u32) -> bool {
        !self.is_confirmed() && self.last_holder == Some(owner)
    }
}

/// What dmad decided for the last buffer released for a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reclaim {
    /// Who released it (a dead driver's pid, for buffers reclaimed at its exit).
    pub owner: u32,
    /// The device state dmad checked.
    pub state: DeviceState,
    /// Whether the buffer was quarantined.
    pub quarantined: bool,
}

/// A device whose buffers are quarantined: in which pool, the failed generation a later
/// confirmed quiesce must pass, and whether an IOMMU unmap failed (then never lifted: the
/// device may still reach the pages whatever its quiesce state).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Held {
    pub(crate) pool: PoolId,
    pub(crate) failed_generation: u64,
    pub(crate) unmap_failed: bool,
}

/// dmad's quiesce records: the last reclaim per device, and the quarantined devices.
#[derive(Clone, Debug, Default)]
pub(crate) struct QuiesceRecords {
    pub(crate) reclaims: BTreeMap<String, Reclaim>,
    pub(crate) held: BTreeMap<String, Held>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_kernel_state_line() {
        let state = DeviceState::parse(
            "virtio-blk0 holder - state failed generation 3 confirmed 2 last-holder 7\n",
        )
        .unwrap();
        assert_eq!(
            state,
            DeviceState {
                holder: None,
                generation: 3,
                confirmed: 2,
                last_holder: Some(7),
            }
        );
        assert!(!state.is_confirmed());
        assert!(state.may_still_reach(7) && !state.may_still_reach(8));
        let idle = DeviceState::parse("x holder - state idle generation 0 confirmed 0").unwrap();
        assert!(idle.is_confirmed() && idle.holder.is_none());
        assert_eq!(DeviceState::parse(""), None);
        assert_eq!(DeviceState::parse("x generation nine"), None);
    }
}
