//! Kernel allocations a process can cause, asked of the heap first: a dry kernel heap then
//! refuses the request with `ENOMEM` instead of panicking the kernel.
//!
//! `alloc`'s `try_reserve` covers vectors and strings; this adds a fallible `Box` and a
//! text buffer for `write!`. What stable Rust cannot make fallible (an `Arc`, a `BTreeMap`
//! node) stays bounded by a per-process limit instead (see the crate doc's limits).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use kernel_core::Error;

/// `value` in a new box, or `OutOfMemory`.
pub fn try_box<T>(value: T) -> Result<Box<T>, Error> {
    let mut one = Vec::new();
    one.try_reserve_exact(1)?;
    one.push(value);
    let array: Box<[T; 1]> = one
        .into_boxed_slice()
        .try_into()
        .map_err(|_| Error::OutOfMemory)?;
    // SAFETY: `[T; 1]` has exactly the layout of `T`, so the allocation `array` owns is a
    // valid allocation for a `Box<T>`; ownership passes from one box to the other.
    Ok(unsafe { Box::from_raw(Box::into_raw(array).cast::<T>()) })
}

/// A copy of `text`, or `OutOfMemory`.
pub fn try_string(text: &str) -> Result<String, Error> {
    let mut copy = String::new();
    copy.try_reserve_exact(text.len())?;
    copy.push_str(text);
    Ok(copy)
}

/// A `String` that `write!` grows only as far as the heap allows: a write that cannot
/// reserve its bytes fails, and [`Text::finish`] turns that into `OutOfMemory`.
#[derive(Default)]
pub struct Text {
    text: String,
    out_of_memory: bool,
}

impl Text {
    /// An empty text.
    pub fn new() -> Self {
        Self::default()
    }

    /// The text, unless the heap refused part of it.
    pub fn finish(self) -> Result<String, Error> {
        if self.out_of_memory {
            Err(Error::OutOfMemory)
        } else {
            Ok(self.text)
        }
    }
}

impl fmt::Write for Text {
    fn write_str(&mut self, piece: &str) -> fmt::Result {
        if self.text.try_reserve(piece.len()).is_err() {
            self.out_of_memory = true;
            return Err(fmt::Error);
        }
        self.text.push_str(piece);
        Ok(())
    }
}
