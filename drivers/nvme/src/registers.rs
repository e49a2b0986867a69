//! Controller registers (BAR0): offsets, the capabilities word and the configuration value.

/// Controller Capabilities (64 bits).
pub const CAP: usize = 0x00;
/// Version (32 bits).
pub const VS: usize = 0x08;
/// Interrupt Mask Set (32 bits; pin-based and MSI only).
pub const INTMS: usize = 0x0c;
/// Controller Configuration (32 bits).
pub const CC: usize = 0x14;
/// Controller Status (32 bits).
pub const CSTS: usize = 0x1c;
/// Admin Queue Attributes (32 bits).
pub const AQA: usize = 0x24;
/// Admin Submission Queue base address (64 bits).
pub const ASQ: usize = 0x28;
/// Admin Completion Queue base address (64 bits).
pub const ACQ: usize = 0x30;
/// The first doorbell register.
pub const DOORBELLS: usize = 0x1000;

/// `CSTS.RDY`: the controller is ready.
pub const CSTS_READY: u32 = 1 << 0;
/// `CSTS.CFS`: controller fatal status.
pub const CSTS_FATAL: u32 = 1 << 1;

/// The capabilities the driver uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// Most entries a queue may have (`MQES + 1`).
    pub max_queue_entries: u32,
    /// How long the controller may take to become ready or not ready, in milliseconds
    /// (`TO` × 500 ms).
    pub timeout_ms: u64,
    /// Bytes between doorbell registers (`4 << DSTRD`).
    pub doorbell_stride: usize,
    /// Whether the NVM command set is supported (`CSS` bit 0).
    pub nvm_command_set: bool,
    /// Smallest memory page size, bytes (`2^(12 + MPSMIN)`).
    pub min_page_size: u64,
    /// Largest memory page size, bytes.
    pub max_page_size: u64,
}

impl Capabilities {
    /// Decodes the CAP register.
    pub fn decode(cap: u64) -> Capabilities {
        Capabilities {
            max_queue_entries: (cap & 0xffff) as u32 + 1,
            timeout_ms: ((cap >> 24) & 0xff) * 500,
            doorbell_stride: 4 << ((cap >> 32) & 0xf),
            nvm_command_set: (cap >> 37) & 1 == 1,
            min_page_size: 1 << (12 + ((cap >> 48) & 0xf)),
            max_page_size: 1 << (12 + ((cap >> 52) & 0xf)),
        }
    }

    /// Offset of queue `queue`'s submission tail doorbell.
    pub fn submission_doorbell(&self, queue: u16) -> usize {
        DOORBELLS + 2 * usize::from(queue) * self.doorbell_stride
    }

    /// Offset of queue `queue`'s completion head doorbell.
    pub fn completion_doorbell(&self, queue: u16) -> usize {
        DOORBELLS + (2 * usize::from(queue) + 1) * self.doorbell_stride
    }

    /// Bytes of BAR0 the doorbells of queues `0..=last` need.
    pub fn register_bytes(&self, last: u16) -> usize {
        self.completion_doorbell(last) + 4
    }
}

/// The CC value that enables the controller: NVM command set, 4 KiB pages, round-robin
/// arbitration, 64-byte submission and 16-byte completion entries.
pub fn enable_configuration() -> u32 {
    const ENABLE: u32 = 1;
    const IO_SUBMISSION_ENTRY_LOG2: u32 = 6; // 64 bytes
    const IO_COMPLETION_ENTRY_LOG2: u32 = 4; // 16 bytes
    ENABLE | (IO_SUBMISSION_ENTRY_LOG2 << 16) | (IO_COMPLETION_ENTRY_LOG2 << 20)
}

/// The AQA value for admin queues of `entries` entries each.
pub fn admin_queue_attributes(entries: u16) -> u32 {
    let size = u32::from(entries - 1) & 0xfff;
    size | (size << 16)
}

/// `major.minor.tertiary` of the VS register.
pub fn version(vs: u32) -> (u16, u8, u8) {
    ((vs >> 16) as u16, (vs >> 8) as u8, vs as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_qemus_capabilities() {
        // QEMU 7.2 nvme: MQES 2047, CQR, TO 15, DSTRD 0, CSS NVM, MPSMIN 0, MPSMAX 4.
        let cap = 0x0040_0020_0f01_07ff_u64;
        let caps = Capabilities::decode(cap);
        assert_eq!(caps.max_queue_entries, 2048);
        assert_eq!(caps.timeout_ms, 7500);
        assert_eq!(caps.doorbell_stride, 4);
        assert!(caps.nvm_command_set);
        assert_eq!((caps.min_page_size, caps.max_page_size), (4096, 65536));
        assert_eq!(caps.submission_doorbell(0), 0x1000);
        assert_eq!(caps.completion_doorbell(0), 0x1004);
        assert_eq!(caps.submission_doorbell(1), 0x1008);
        assert_eq!(caps.completion_doorbell(1), 0x100c);
        assert_eq!(caps.register_bytes(1), 0x1010);
        let wide = Capabilities::decode(2 << 32);
        assert_eq!(wide.completion_doorbell(1), 0x1000 + 3 * 16);
    }

    #[test]
    fn encodes_configuration_and_attributes() {
        assert_eq!(enable_configuration(), 0x0046_0001);
        assert_eq!(admin_queue_attributes(64), 0x003f_003f);
        assert_eq!(version(0x0001_0400), (1, 4, 0));
    }
}
