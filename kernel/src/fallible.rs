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

/// A copy of a name taken out from under a lock for one request (a scheme's name behind a
/// handle): kept inline, without the heap, when it is at most [`NameCopy::INLINE`] bytes
/// (every scheme name in practice), on the heap otherwise. A system call on the IPC path
/// copies such a name up to twice; with the heap's allocation and free each time that was
/// a fifth of a null scheme call.
pub enum NameCopy {
    /// The name's bytes, `length` of them.
    Inline {
        /// The bytes; only `..length` are the name.
        bytes: [u8; NameCopy::INLINE],
        /// How many bytes the name has.
        length: u8,
    },
    /// A longer name.
    Heap(String),
}

impl NameCopy {
    /// The longest name kept inline.
    pub const INLINE: usize = 48;

    /// A copy of `text`, or `OutOfMemory` when it is long and the heap refuses.
    pub fn new(text: &str) -> Result<Self, Error> {
        if text.len() <= Self::INLINE {
            let mut bytes = [0u8; Self::INLINE];
            bytes[..text.len()].copy_from_slice(text.as_bytes());
            Ok(NameCopy::Inline {
                bytes,
                length: text.len() as u8,
            })
        } else {
            try_string(text).map(NameCopy::Heap)
        }
    }
}

impl core::ops::Deref for NameCopy {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            NameCopy::Inline { bytes, length } => {
                // SAFETY: `new` copied these bytes whole from a `&str`, so they are UTF-8.
                unsafe { core::str::from_utf8_unchecked(&bytes[..usize::from(*length)]) }
            }
            NameCopy::Heap(name) => name,
        }
    }
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
