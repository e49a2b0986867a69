//! coherent's boot image: initfs archive, manifest and platform description.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![forbid(unsafe_code)]
