//! Memory types a pool's pages are mapped with: the kernel's own `CacheType`.
//!
//! dmad maps pool memory with the pool's type; the kernel maps the same frames into clients
//! with the same type, never a different one. One definition serves both sides.

pub use kernel_core::CacheType;
