//! The reference model for the property tests: a flag per page, a list of buffers, and the
//! predicted result of every step.

/// Fails the test case with a message unless `condition` holds.
macro_rules! ensure {
    ($condition:expr, $($message:tt)+) => {
        if !$condition {
            return Err(format!($($message)+));
        }
    };
}

mod alloc;
mod check;
mod steps;

use std::collections::BTreeMap;

use dma_pool::{
    BufferHandle, CacheType, MappingToken, OwnerId, PoolDeclaration, PoolId, PoolRegistry,
    PAGE_SIZE,
};

use crate::common::RecordingZeroer;

/// Devices the steps pick from.
pub const DEVICES: [&str; 3] = ["blk0", "net0", "gpu0"];
/// Physical base of the reserved region; each device gets a 4 MiB window of it.
const REGION_BASE: u64 = 0x4000_0000;
/// Device addresses start here, plus the window, plus an offset that may break alignment.
const DEVICE_BASE: u64 = 0x1_0000_0000;
/// Bytes per device window.
const WINDOW: u64 = 4 << 20;

/// One step of a test run.
#[derive(Clone, Debug)]
pub enum Step {
    Declare {
        device: usize,
        pages: u64,
        offset: u64,
    },
    Retire {
        device: usize,
    },
    Alloc {
        device: usize,
        size: u64,
        align_shift: Option<u32>,
        owner: u32,
    },
    Release {
        pick: usize,
        right_owner: bool,
    },
    ReleaseAddress {
        pick: usize,
        page: u64,
    },
    Map {
        pick: usize,
    },
    Unmap {
        pick: usize,
    },
    ReleaseAll {
        owner: u32,
    },
    OwnerQuota {
        owner: u32,
        pages: Option<u64>,
    },
    DeviceQuota {
        device: usize,
        pages: Option<u64>,
    },
}

/// The model of one pool.
pub struct ModelPool {
    pub id: PoolId,
    pub phys_base: u64,
    pub device_base: u64,
    pub free: Vec<bool>,
    pub device_quota: Option<u64>,
}

impl ModelPool {
    /// Absolute device frame of page 0.
    pub fn first_frame(&self) -> u64 {
        self.device_base / PAGE_SIZE
    }

    /// The lowest page where `2^order` free pages start at a frame aligned to
    /// `2^align_order`, if any.
    pub fn fit(&self, order: u32, align_order: u32) -> Option<u64> {
        let length = 1usize << order;
        (0..self.free.len())
            .find(|&page| {
                let frame = self.first_frame() + page as u64;
                (align_order >= 64 && frame == 0
                    || align_order < 64 && frame.is_multiple_of(1u64 << align_order))
                    && page + length <= self.free.len()
                    && self.free[page..page + length].iter().all(|&free| free)
            })
            .map(|page| page as u64)
    }

    pub fn used_pages(&self) -> u64 {
        self.free.iter().filter(|&&free| !free).count() as u64
    }
}

/// The model of one buffer.
#[derive(Clone, Debug)]
pub struct ModelBuffer {
    pub device: usize,
    pub handle: BufferHandle,
    pub owner: OwnerId,
    pub first_page: u64,
    pub pages: u64,
    pub mappings: u32,
    pub released: bool,
}

/// The registry under test and the model beside it.
pub struct Model {
    pub registry: PoolRegistry,
    pub pools: [Option<ModelPool>; 3],
    pub buffers: Vec<ModelBuffer>,
    /// Handles of freed buffers, with their owners, to try again.
    pub stale: Vec<(BufferHandle, OwnerId)>,
    /// One entry per live mapping: the token and the buffer's handle.
    pub tokens: Vec<(MappingToken, BufferHandle)>,
    pub quotas: BTreeMap<OwnerId, u64>,
    pub zeroer: RecordingZeroer,
}

impl Model {
    pub fn new() -> Self {
        let mut registry = PoolRegistry::new();
        registry
            .add_reserved_region(REGION_BASE, WINDOW * DEVICES.len() as u64)
            .unwrap();
        Model {
            registry,
            pools: [None, None, None],
            buffers: Vec::new(),
            stale: Vec::new(),
            tokens: Vec::new(),
            quotas: BTreeMap::new(),
            zeroer: RecordingZeroer::default(),
        }
    }

    /// Declares a 100-page pool for the first device so every run has somewhere to allocate.
    pub fn declare_initial(&mut self) {
        self.apply(Step::Declare {
            device: 0,
            pages: 100,
            offset: 3,
        })
        .unwrap();
    }

    /// Declares `device`'s pool in its window, directly (the step checks the prediction).
    fn declare_pool(
        &mut self,
        device: usize,
        pages: u64,
        offset: u64,
    ) -> Result<PoolId, dma_pool::PoolError> {
        let phys_base = REGION_BASE + device as u64 * WINDOW;
        let device_base = DEVICE_BASE + device as u64 * WINDOW + offset * PAGE_SIZE;
        let declaration = PoolDeclaration::new(
            "pool",
            DEVICES[device],
            phys_base,
            device_base,
            pages * PAGE_SIZE,
            CacheType::WriteCombining,
        );
        let id = self.registry.declare(&declaration)?;
        self.pools[device] = Some(ModelPool {
            id,
            phys_base,
            device_base,
            free: vec![true; pages as usize],
            device_quota: None,
        });
        Ok(id)
    }

    /// Pages charged to `owner`: live and released-but-mapped buffers.
    pub fn charged(&self, owner: OwnerId) -> u64 {
        self.buffers
            .iter()
            .filter(|buffer| buffer.owner == owner)
            .map(|buffer| buffer.pages)
            .sum()
    }

    /// Frees a buffer's pages in the model and forgets it.
    fn free_buffer(&mut self, index: usize) {
        let buffer = self.buffers.swap_remove(index);
        let pool = self.pools[buffer.device].as_mut().unwrap();
        let range = buffer.first_page as usize..(buffer.first_page + buffer.pages) as usize;
        pool.free[range].iter_mut().for_each(|free| *free = true);
        self.stale.push((buffer.handle, buffer.owner));
    }
}

/// Owner number `index` as an id.
pub fn owner_id(index: u32) -> OwnerId {
    OwnerId(index + 1)
}
