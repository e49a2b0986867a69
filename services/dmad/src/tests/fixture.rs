//! A server over one 1 MiB region, known processes, and request helpers.

use crate::{Callers, Grants, MemoryPoolLine, PoolMemory, Request, Server};
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use dma_pool::{BufferInfo, OwnerUsage, PoolStats};
use kernel_core::rights::Rights;
use syscall::schemev2::Opcode;

/// Physical base of the region.
pub const PHYS: u64 = 0x8000_0000;
/// The device's address of its first byte (differs from `PHYS`).
pub const DEVICE_BASE: u64 = 0xc000_0000;
/// Its size: 256 pages.
pub const SIZE: u64 = 0x10_0000;
/// Where dmad "mapped" it.
pub const MAPPING: u64 = 0x10_0000_0000;
/// What fresh (never zeroed) pool memory holds in the tests.
pub const GARBAGE: u8 = 0xa5;

pub const INIT: u64 = 1;
/// Granted `blk0` with a quota of 8 pages.
pub const BLK: u64 = 10;
/// Granted nothing.
pub const OTHER: u64 = 11;
/// Granted `blk0` without a quota.
pub const GREEDY: u64 = 12;
/// Has no name the kernel knows.
pub const NAMELESS: u64 = 13;
/// A process whose rights came from a section called `init` but hold nothing: a name is no
/// right.
pub const IMPOSTOR: u64 = 14;
/// A process of section `other` that holds the `declare-pools` right.
pub const DECLARER: u64 = 15;

const MANIFEST: &str = "[image]\nname = \"t\"\n\
    [process.blk]\npath = \"/bin/virtio-blk\"\ndevices = [\"blk0\"]\nquota-pages = 8\n\
    [process.other]\npath = \"/bin/other\"\n\
    [process.greedy]\npath = \"/bin/greedy\"\nautostart = false\ndevices = [\"blk0\", \"net0\"]\n";

/// Where the global pool's region lies (right after the first) and where dmad mapped it.
pub const DEFAULT_PHYS: u64 = PHYS + SIZE;

/// Everything observable about the pools and owners, but the failure counters.
pub type Fingerprint = (Vec<(PoolStats, Vec<BufferInfo>)>, Vec<(u32, OwnerUsage)>);

/// Rights by pid, as the kernel would give them: init may declare pools; the others hold
/// their section's devices. Device quiesce states are what the test set in `devices`
/// (absent: the kernel does not answer).
struct Names {
    devices: DeviceStates,
}

/// The quiesce states a test makes the fake kernel report, by device.
pub type DeviceStates =
    alloc::rc::Rc<core::cell::RefCell<alloc::collections::BTreeMap<String, crate::DeviceState>>>;

impl Callers for Names {
    fn rights(&mut self, pid: u32, _tag: u32) -> Option<Rights> {
        let (section, devices): (&str, &[&str]) = match u64::from(pid) {
            INIT => ("init", &[]),
            BLK => ("blk", &["blk0"]),
            OTHER => ("other", &[]),
            GREEDY => ("greedy", &["blk0", "net0"]),
            IMPOSTOR => ("init", &[]),
            DECLARER => ("other", &[]),
            _ => return None,
        };
        Some(Rights {
            section: Some(section.into()),
            devices: devices.iter().map(|device| String::from(*device)).collect(),
            // As the manifest below says.
            quota_pages: (u64::from(pid) == BLK).then_some(8),
            declare_pools: [INIT, DECLARER].contains(&u64::from(pid)),
            ..Rights::none()
        })
    }

    fn device_state(&mut self, device: &str) -> Option<crate::DeviceState> {
        self.devices.borrow().get(device).copied()
    }
}

/// The region's bytes, and every zeroing call.
pub struct FakeMemory {
    pub bytes: Vec<u8>,
    pub zeroed: Vec<(u64, u64)>,
}

impl PoolMemory for FakeMemory {
    fn zero(&mut self, address: u64, len: u64) {
        let start = (address - MAPPING) as usize;
        self.bytes[start..start + len as usize].fill(0);
        self.zeroed.push((address, len));
    }

    fn poison(&mut self, address: u64, len: u64) {
        let start = (address - MAPPING) as usize;
        for word in self.bytes[start..start + len as usize].chunks_exact_mut(8) {
            word.copy_from_slice(&dma_pool::POISON.to_le_bytes());
        }
    }

    fn check_poison(&mut self, address: u64, len: u64) -> Option<(u64, u64)> {
        let start = (address - MAPPING) as usize;
        let words: Vec<u64> = self.bytes[start..start + len as usize]
            .chunks_exact(8)
            .map(|word| u64::from_le_bytes(word.try_into().unwrap()))
            .collect();
        dma_pool::first_unpoisoned(&words).map(|index| (index as u64 * 8, words[index]))
    }
}

/// A server and its memory.
pub struct Fixture {
    pub server: Server,
    pub memory: FakeMemory,
    pub devices: DeviceStates,
}

impl Fixture {
    /// The region `blk0` serves.
    pub fn new() -> Self {
        Fixture::with_states(DeviceStates::default())
    }

    /// [`Fixture::new`] with the fake kernel already reporting `devices` when the pool is
    /// declared (a restarted dmad).
    pub fn with_states(devices: DeviceStates) -> Self {
        let names = Names {
            devices: devices.clone(),
        };
        let mut server = Server::new(Grants::from_manifest(MANIFEST).unwrap(), Box::new(names));
        let line =
            MemoryPoolLine::parse("pool blk0-pool 0x80000000 0xc0000000 0x100000 no-map blk0")
                .unwrap();
        server.add_memory_pool(&line, MAPPING).unwrap();
        Fixture {
            server,
            memory: FakeMemory {
                bytes: alloc::vec![GARBAGE; SIZE as usize],
                zeroed: Vec::new(),
            },
            devices,
        }
    }

    /// [`Fixture::new`] plus a 1 MiB global pool `global` serving no device of its own, at
    /// [`DEFAULT_PHYS`] (device address = physical), mapped right after the first region.
    /// `net0` is granted to `greedy` but has no pool.
    pub fn with_default_pool() -> Self {
        let mut fixture = Fixture::new();
        let text = alloc::format!(
            "pool global {DEFAULT_PHYS:#x} {DEFAULT_PHYS:#x} {SIZE:#x} map - default"
        );
        let line = MemoryPoolLine::parse(&text).unwrap();
        fixture
            .server
            .add_memory_pool(&line, MAPPING + SIZE)
            .unwrap();
        fixture.memory.bytes.resize(2 * SIZE as usize, GARBAGE);
        fixture
    }

    pub fn request(
        &mut self,
        opcode: Opcode,
        caller: u64,
        args: [u64; 6],
        payload: &[u8],
    ) -> crate::Reply {
        let request = Request {
            opcode: opcode as u8,
            caller,
            tag: 1,
            args,
            payload,
        };
        let reply = self.server.handle(request, &mut self.memory);
        self.server.registry().check_invariants().unwrap();
        self.server.check_bounds().unwrap();
        reply
    }

    pub fn open(&mut self, caller: u64, path: &str) -> Result<u64, i32> {
        self.open_bytes(caller, path.as_bytes())
    }

    pub fn open_bytes(&mut self, caller: u64, path: &[u8]) -> Result<u64, i32> {
        let args = [0, path.len() as u64, 0, 0, 0, 0];
        self.request(Opcode::OpenAt, caller, args, path).result
    }

    pub fn read(&mut self, caller: u64, handle: u64, capacity: u64) -> Result<Vec<u8>, i32> {
        let reply = self.request(Opcode::Read, caller, [handle, 0, capacity, 0, 0, 0], &[]);
        let length = reply.result?;
        assert_eq!(length as usize, reply.payload.len());
        assert!(reply.payload.len() as u64 <= capacity);
        Ok(reply.payload)
    }

    /// Reads a text handle to its end in pieces of `piece` bytes.
    pub fn read_text(&mut self, caller: u64, handle: u64, piece: u64) -> String {
        let mut text = Vec::new();
        loop {
            let bytes = self.read(caller, handle, piece).unwrap();
            if bytes.is_empty() {
                return String::from_utf8(text).unwrap();
            }
            text.extend(bytes);
        }
    }

    pub fn map(&mut self, caller: u64, handle: u64, offset: u64, size: u64) -> Result<u64, i32> {
        let args = [handle, offset, size, 3, 0, 0];
        self.request(Opcode::MmapPrep, caller, args, &[]).result
    }

    pub fn unmap(&mut self, caller: u64, handle: u64, offset: u64, size: u64) -> Result<u64, i32> {
        let args = [handle, offset, size, 0, 0, 0];
        self.request(Opcode::Munmap, caller, args, &[]).result
    }

    pub fn close(&mut self, caller: u64, handle: u64) -> Result<u64, i32> {
        self.request(Opcode::Close, caller, [handle, 0, 0, 0, 0, 0], &[])
            .result
    }

    /// Allocates and reads the descriptor.
    pub fn alloc(&mut self, caller: u64, path: &str) -> Result<(u64, dma_api::DmaBufferInfo), i32> {
        let handle = self.open(caller, path)?;
        let bytes = self.read(caller, handle, 64).unwrap();
        Ok((handle, dma_api::DmaBufferInfo::from_bytes(&bytes).unwrap()))
    }

    pub fn stats(&self) -> PoolStats {
        self.server
            .registry()
            .pool_for_device("blk0")
            .unwrap()
            .stats()
    }

    /// Everything observable about the pools and owners, but the failure counters.
    pub fn fingerprint(&self) -> Fingerprint {
        let registry = self.server.registry();
        let pools = registry
            .pools()
            .map(|pool| {
                let mut stats = pool.stats();
                stats.failed_allocations = 0;
                (stats, pool.buffers().collect())
            })
            .collect();
        let owners = registry
            .owners()
            .map(|(owner, usage)| (owner.0, usage))
            .collect();
        (pools, owners)
    }
}

pub fn errno(error: dma_api::DmaError) -> Result<u64, i32> {
    Err(error.errno())
}
