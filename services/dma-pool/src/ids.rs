//! Names for owners, pools, buffers and mappings: small copyable values dmad keeps per file.

/// Who owns a buffer: opaque to the pool, a process id in dmad.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OwnerId(pub u32);

/// One declaration of a pool: its slot in the registry and a serial number that is never
/// reused, so handles into a retired pool stay stale even if the slot is reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PoolId {
    pub(crate) index: u32,
    pub(crate) serial: u32,
}

impl PoolId {
    /// The pool's slot in the registry (see [`PoolRegistry::pool_by_index`](crate::PoolRegistry::pool_by_index)).
    pub const fn index(self) -> usize {
        self.index as usize
    }

    /// The declaration's serial number, unique for the registry's lifetime.
    pub const fn serial(self) -> u32 {
        self.serial
    }
}

/// A live buffer, as its owner names it: the pool, the buffer table slot and the slot's
/// generation. Releasing the buffer bumps the generation when its pages return, and makes the
/// handle invalid for release at once, so a second release is refused, never misapplied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BufferHandle {
    pub(crate) pool: PoolId,
    pub(crate) slot: u32,
    pub(crate) generation: u32,
}

impl BufferHandle {
    /// The pool holding the buffer.
    pub const fn pool(self) -> PoolId {
        self.pool
    }

    /// The buffer table slot (for logs).
    pub const fn slot(self) -> u32 {
        self.slot
    }

    /// The slot's generation when the buffer was allocated (for logs).
    pub const fn generation(self) -> u32 {
        self.generation
    }
}

/// One mapping of a buffer, as dmad remembers it until the kernel reports the unmap. Unlike a
/// [`BufferHandle`] it stays valid after the owner releases the buffer, until the last
/// mapping is removed; every token of one buffer is equal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MappingToken {
    pub(crate) pool: PoolId,
    pub(crate) slot: u32,
    pub(crate) generation: u32,
}

impl MappingToken {
    /// The pool holding the mapped buffer.
    pub const fn pool(self) -> PoolId {
        self.pool
    }
}
