//! Page permissions by meaning, safe by default.

use crate::CacheType;

/// What a mapping allows, built from meaning rather than bits.
///
/// The default is the safest mapping there is: kernel-only, read-only, not executable,
/// write-back. Each widening is an explicit call, so a reader sees every right a mapping has.
/// Each arch crate turns this into descriptor bits in one pure, host-tested function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct PageFlags {
    user: bool,
    writable: bool,
    executable: bool,
    cache: CacheType,
}

impl PageFlags {
    /// A kernel-only, read-only, non-executable, write-back mapping.
    pub const fn kernel() -> Self {
        PageFlags {
            user: false,
            writable: false,
            executable: false,
            cache: CacheType::WriteBack,
        }
    }

    /// A user-accessible, read-only, non-executable, write-back mapping.
    pub const fn user() -> Self {
        PageFlags {
            user: true,
            ..Self::kernel()
        }
    }

    /// The same mapping, also writable.
    pub const fn writable(self) -> Self {
        PageFlags {
            writable: true,
            ..self
        }
    }

    /// The same mapping, also executable.
    pub const fn executable(self) -> Self {
        PageFlags {
            executable: true,
            ..self
        }
    }

    /// The same mapping with memory type `cache`.
    pub const fn cache(self, cache: CacheType) -> Self {
        PageFlags { cache, ..self }
    }

    /// Whether user mode may access the mapping.
    pub const fn is_user(self) -> bool {
        self.user
    }

    /// Whether the mapping may be written.
    pub const fn is_writable(self) -> bool {
        self.writable
    }

    /// Whether instructions may be fetched from the mapping.
    pub const fn is_executable(self) -> bool {
        self.executable
    }

    /// The mapping's memory type.
    pub const fn cache_type(self) -> CacheType {
        self.cache
    }

    /// Whether `self` grants nothing that `other` does not (used to refuse widening a mapping).
    pub const fn is_within(self, other: PageFlags) -> bool {
        (!self.user || other.user)
            && (!self.writable || other.writable)
            && (!self.executable || other.executable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_kernel_read_only_no_execute_write_back() {
        let flags = PageFlags::default();
        assert_eq!(flags, PageFlags::kernel());
        assert!(!flags.is_user() && !flags.is_writable() && !flags.is_executable());
        assert_eq!(flags.cache_type(), CacheType::WriteBack);
    }

    #[test]
    fn builders_widen_one_right_each() {
        let flags = PageFlags::user()
            .writable()
            .cache(CacheType::WriteCombining);
        assert!(flags.is_user() && flags.is_writable() && !flags.is_executable());
        assert_eq!(flags.cache_type(), CacheType::WriteCombining);
    }

    #[test]
    fn within_refuses_wider_rights() {
        let read = PageFlags::user();
        let write = PageFlags::user().writable();
        assert!(read.is_within(write));
        assert!(!write.is_within(read));
        assert!(!PageFlags::user().is_within(PageFlags::kernel()));
    }
}
