//! The program's arguments, read from the block the kernel leaves on the user stack.
//!
//! Layout (all words native `usize`): `[argc][argv[0]] .. [argv[argc - 1]][0]`, each
//! `argv[i]` pointing at a NUL-terminated string; `argv[0]` is the program's path. The block
//! and the strings stay valid for the life of the process (nothing below `_start` pops them).

use core::ffi::CStr;

/// The program's arguments as `&str`s, `argv[0]` (the program path) first.
///
/// An argument that is not valid UTF-8 is yielded up to its first invalid byte; [`Args::raw`]
/// gives the bytes as they are.
#[derive(Clone, Debug)]
pub struct Args<'a> {
    pointers: &'a [*const u8],
    next: usize,
}

impl<'a> Args<'a> {
    /// Reads the argument block at `block`. A null `block` gives no arguments.
    ///
    /// # Safety
    ///
    /// A non-null `block` must point at a block laid out as this module describes, whose
    /// words and strings stay valid and unchanged for `'a`.
    pub unsafe fn from_block(block: *const usize) -> Self {
        if block.is_null() {
            return Self::empty();
        }
        // SAFETY: the caller promises `block` starts with the argument count...
        let count = unsafe { block.read() };
        // SAFETY: ...followed by `count` pointers, all valid for `'a`.
        let pointers = unsafe { core::slice::from_raw_parts(block.add(1).cast(), count) };
        Self { pointers, next: 0 }
    }

    /// No arguments at all.
    pub fn empty() -> Self {
        Self {
            pointers: &[],
            next: 0,
        }
    }

    /// The program's path (`argv[0]`), or `""` if the kernel passed no arguments.
    pub fn program(&self) -> &'a str {
        self.get(0).unwrap_or("")
    }

    /// Argument `index`, counting `argv[0]` as 0, regardless of how far iteration went.
    pub fn get(&self, index: usize) -> Option<&'a str> {
        self.raw(index).map(utf8_prefix)
    }

    /// The bytes of argument `index` without its NUL.
    pub fn raw(&self, index: usize) -> Option<&'a [u8]> {
        let pointer = *self.pointers.get(index)?;
        if pointer.is_null() {
            return None;
        }
        // SAFETY: `from_block`'s caller promised every pointer names a NUL-terminated string
        // valid for `'a`.
        Some(unsafe { CStr::from_ptr(pointer.cast()) }.to_bytes())
    }

    /// How many arguments there are in all, `argv[0]` included.
    pub fn total(&self) -> usize {
        self.pointers.len()
    }
}

impl<'a> Iterator for Args<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let argument = self.get(self.next)?;
        self.next += 1;
        Some(argument)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.pointers.len().saturating_sub(self.next);
        (left, Some(left))
    }
}

impl ExactSizeIterator for Args<'_> {}

/// The longest valid UTF-8 prefix of `bytes`.
fn utf8_prefix(bytes: &[u8]) -> &str {
    match core::str::from_utf8(bytes) {
        Ok(text) => text,
        // `valid_up_to` marks a character boundary, so the prefix is valid UTF-8.
        Err(error) => core::str::from_utf8(&bytes[..error.valid_up_to()]).unwrap_or(""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;
    use std::vec::Vec;

    /// Builds a block as the kernel would; the strings must outlive the block's use.
    fn block(strings: &[CString]) -> Vec<usize> {
        let mut words = vec![strings.len()];
        words.extend(strings.iter().map(|string| string.as_ptr() as usize));
        words.push(0);
        words
    }

    fn strings(arguments: &[&[u8]]) -> Vec<CString> {
        arguments
            .iter()
            .map(|argument| CString::new(*argument).unwrap())
            .collect()
    }

    #[test]
    fn reads_every_argument_in_order() {
        let strings = strings(&[b"/bin/spin", b"300", b"", b"two words"]);
        let words = block(&strings);
        // SAFETY: `words` is a well-formed block over `strings`, both alive below.
        let args = unsafe { Args::from_block(words.as_ptr()) };
        assert_eq!(args.total(), 4);
        assert_eq!(args.program(), "/bin/spin");
        assert_eq!(args.len(), 4);
        let collected: Vec<&str> = args.clone().collect();
        assert_eq!(collected, ["/bin/spin", "300", "", "two words"]);
        assert_eq!(args.get(3), Some("two words"));
        assert_eq!(args.get(4), None);
    }

    #[test]
    fn iteration_counts_down() {
        let strings = strings(&[b"/bin/a", b"x"]);
        let words = block(&strings);
        // SAFETY: as above.
        let mut args = unsafe { Args::from_block(words.as_ptr()) };
        assert_eq!(args.next(), Some("/bin/a"));
        assert_eq!(args.len(), 1);
        assert_eq!(args.next(), Some("x"));
        assert_eq!(args.next(), None);
        assert_eq!(args.len(), 0);
        // `get` and `program` ignore how far iteration went.
        assert_eq!(args.program(), "/bin/a");
    }

    #[test]
    fn empty_and_null_blocks_give_nothing() {
        let words = block(&[]);
        // SAFETY: a block with argc = 0 and its terminator.
        let args = unsafe { Args::from_block(words.as_ptr()) };
        assert_eq!(args.total(), 0);
        assert_eq!(args.program(), "");
        // SAFETY: null is allowed.
        let args = unsafe { Args::from_block(core::ptr::null()) };
        assert_eq!(args.total(), 0);
    }

    #[test]
    fn invalid_utf8_is_cut_at_the_first_bad_byte() {
        let strings = strings(&[b"ok\xFFrest"]);
        let words = block(&strings);
        // SAFETY: as above.
        let args = unsafe { Args::from_block(words.as_ptr()) };
        assert_eq!(args.get(0), Some("ok"));
        assert_eq!(args.raw(0), Some(&b"ok\xFFrest"[..]));
    }
}
