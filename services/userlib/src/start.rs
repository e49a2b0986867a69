//! Program entry: the start-up sequence and the [`entry!`] macro (`_start`, which differs by
//! CPU, is in [`crate::arch`]).
//!
//! The kernel enters `_start` with a 16-byte aligned stack and, in the first argument
//! register (`rdi` / `x0`), the address of the argument block described in [`Args`]. `_start`
//! clears the frame pointer (so stack walks end here) and calls [`start`], which sets up the
//! heap and the logger, runs the program's `main` (named with [`entry!`]) and exits with the
//! status it returns.
//!
//! [`Args`]: crate::Args

/// Names the program's `main`, a `fn(userlib::Args) -> i32` whose result is the exit status.
///
/// Expands to the `userlib_main` symbol the start-up code calls; use it once per program.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        /// The program's `main`, as `userlib`'s start-up code calls it.
        #[unsafe(no_mangle)]
        pub fn userlib_main(args: $crate::Args<'static>) -> i32 {
            let main: fn($crate::Args<'static>) -> i32 = $main;
            main(args)
        }
    };
}

#[cfg(target_os = "none")]
pub(crate) mod bare_metal {
    use crate::{heap, logger, sys, Args};

    extern "Rust" {
        /// Defined by [`entry!`] in the program.
        fn userlib_main(args: Args<'static>) -> i32;
    }

    /// Sets up the runtime, runs `main` and exits with its status.
    pub(crate) extern "C" fn start(block: *const usize) -> ! {
        heap::initialize();
        logger::install();
        // SAFETY: the kernel built the block on this process's stack, which nothing below
        // `_start` ever pops, so it lives as long as the process.
        let args = unsafe { Args::from_block(block) };
        // SAFETY: `entry!` defines `userlib_main` with exactly this signature.
        let status = unsafe { userlib_main(args) };
        sys::exit(status)
    }
}
