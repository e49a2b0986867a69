//! The heap: a buddy allocator over a 1 MiB arena in `.bss`.
//!
//! Every program gets the same fixed arena, zero-filled by the kernel with the rest of
//! `.bss`, and [`start`](crate::start) hands it to `buddy_system_allocator`'s `LockedHeap`
//! before `main` runs — no system call is needed, and a program that allocates nothing costs
//! only the arena's pages. When the arena is exhausted an allocation fails, which `alloc`
//! turns into a panic (and so exit status 101). Growing the heap with `fmap` is left for
//! when a program needs more.

/// Bytes in the heap arena.
pub const ARENA_SIZE: usize = 1 << 20;

#[cfg(target_os = "none")]
mod arena {
    use super::ARENA_SIZE;
    use buddy_system_allocator::LockedHeap;
    use core::cell::UnsafeCell;

    /// The arena's storage. Only the allocator touches it, after [`initialize`].
    #[repr(C, align(4096))]
    struct Arena(UnsafeCell<[u8; ARENA_SIZE]>);

    // SAFETY: the arena is handed to the allocator once, which serialises all access to it
    // behind its lock; nothing else reads or writes it.
    unsafe impl Sync for Arena {}

    static ARENA: Arena = Arena(UnsafeCell::new([0; ARENA_SIZE]));

    /// Block sizes up to 2^32 bytes, far more than the arena.
    #[global_allocator]
    static HEAP: LockedHeap<32> = LockedHeap::empty();

    /// Gives the arena to the allocator. Called once by start-up, before `main`.
    pub(crate) fn initialize() {
        // SAFETY: start-up calls this exactly once; the arena is static, so valid for the
        // life of the process, and no other code uses it.
        unsafe { HEAP.lock().init(ARENA.0.get() as usize, ARENA_SIZE) };
    }
}

#[cfg(target_os = "none")]
pub(crate) use arena::initialize;
