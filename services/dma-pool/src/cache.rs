//! Memory types a pool's pages are mapped with (a copy of the kernel's own `CacheType`).

/// The memory type of a mapping. dmad maps pool memory with the pool's type; the kernel maps
/// the same frames into clients with the same type, never a different one.
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
