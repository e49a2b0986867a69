//! Memory types: how the CPU may cache a mapping.

/// The memory type of a mapping. Each arch crate encodes it into descriptor bits through one
/// pure function (x86 PAT index, aarch64 MAIR index).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum CacheType {
    /// Normal memory, write-back cacheable: ordinary RAM.
    #[default]
    WriteBack,
    /// Normal memory, not cached, writes may be combined: DMA buffers shared with devices.
    WriteCombining,
    /// Strongly ordered, not cached (x86 UC; aarch64 Device-nGnRnE).
    Uncached,
    /// Device registers (x86 UC; aarch64 Device-nGnRE, allowing early write acknowledgement).
    Device,
}

impl CacheType {
    /// Every memory type, in a fixed order (handy for tables and tests).
    pub const ALL: [CacheType; 4] = [
        CacheType::WriteBack,
        CacheType::WriteCombining,
        CacheType::Uncached,
        CacheType::Device,
    ];

    /// A short lower-case name for logs and text tables.
    pub const fn name(self) -> &'static str {
        match self {
            CacheType::WriteBack => "write-back",
            CacheType::WriteCombining => "write-combining",
            CacheType::Uncached => "uncached",
            CacheType::Device => "device",
        }
    }
}
