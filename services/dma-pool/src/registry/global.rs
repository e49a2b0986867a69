//! The global coherent pool (Linux `CONFIG_DMA_GLOBAL_POOL`, `dma_alloc_from_global_coherent`).
//!
//! At most one pool is global. A device with a pool of its own always uses that pool; a
//! device without one is served by the global pool, if there is one. Whether such a device
//! may use it at all (it must be known, and the caller granted it) is the server's check,
//! made before it asks here. Retiring the global pool leaves none.

use super::PoolRegistry;
use crate::{Pool, PoolError};

impl PoolRegistry {
    /// Makes the pool serving `device` (its own, by device name) the global pool.
    ///
    /// # Errors
    ///
    /// [`PoolError::UnknownDevice`] if no pool serves `device`;
    /// [`PoolError::InvalidRequest`] if another live pool is already global (nothing
    /// changes).
    pub fn set_global(&mut self, device: &str) -> Result<(), PoolError> {
        let id = self.pool_for_device(device)?.id();
        match self.global_pool() {
            Some(global) if global.id() != id => {
                Err(PoolError::InvalidRequest("there is already a global pool"))
            }
            _ => {
                self.global = Some(id);
                Ok(())
            }
        }
    }

    /// The global pool, if one is set and not retired.
    pub fn global_pool(&self) -> Option<&Pool> {
        self.pool(self.global?)
    }

    /// Whether `pool` is the global pool.
    pub fn is_global(&self, pool: &Pool) -> bool {
        self.global == Some(pool.id()) && self.pool(pool.id()).is_some()
    }

    /// The pool that serves `device`: its own, else the global pool.
    ///
    /// # Errors
    ///
    /// [`PoolError::UnknownDevice`] if neither exists.
    pub fn pool_serving(&self, device: &str) -> Result<&Pool, PoolError> {
        self.pool_for_device(device)
            .or_else(|_| self.global_pool().ok_or(PoolError::UnknownDevice))
    }
}
