//! dmad's contact with the kernel: the manifest, the DMA regions, callers' rights, the scheme
//! socket and the request loop.

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::format;
use alloc::string::String;
use alloc::string::ToString;
use alloc::vec::Vec;
use dmad::{Callers, Confinement, Grants, MemoryPoolLine, PoolMemory, Server};
use kernel_core::cache::CacheType;
use kernel_core::dma_sync::SyncDirection;
use kernel_core::iommu::{Access, Request};
use log::{error, info, warn};
use userlib::sys::error::{Error, EINVAL, ENOENT, ENOSYS};
use userlib::sys::flag::O_RDWR;
use userlib::sys::{self, Map, MapFlags};

/// Where the image manifest is.
const MANIFEST_PATH: &str = "initfs:manifest.toml";

/// Starts dmad and serves requests; returns only on a failure (the exit status).
pub fn run(debug: bool) -> i32 {
    let grants = read_grants();
    let pools = match sys::read_file("memory:pools") {
        Ok(bytes) => bytes,
        Err(error) => return missing_feature("read memory:pools", error),
    };
    let socket = match sys::open(":dma", O_RDWR) {
        Ok(socket) => socket,
        Err(error) => return missing_feature("register dma:", error),
    };
    let mut server = Server::new(
        grants,
        Box::new(KernelCallers {
            socket,
            known: VecDeque::new(),
        }),
    );
    server.confine_with(Box::new(KernelIommu::default()));
    server.set_debug(debug);
    info!(
        "debug mode {}: freed pages poisoned and checked, leaks reported at exit",
        if debug { "on" } else { "off" }
    );
    // Handle numbers unique across every dmad this boot (pids are never reused). The kernel
    // already answers EBADF for a handle of a dmad that died, never asking this one; should
    // one arrive anyway, it gets EBADF here too, never another buffer.
    match sys::getpid() {
        Ok(pid) => server.number_handles_from((pid as u64) << 32),
        Err(error) => warn!("getpid failed ({error}); handle numbers start at 1"),
    }
    let memory = add_pools(&mut server, &String::from_utf8_lossy(&pools));
    server.seed_tokens(token_seed());
    info!("serving dma:");
    serve(&mut server, socket, memory)
}

/// The exit status when a start-up step fails: 0 when the kernel lacks the feature, 1
/// otherwise.
fn missing_feature(step: &str, error: Error) -> i32 {
    if [ENOENT, EINVAL, ENOSYS].contains(&error.errno) {
        warn!("cannot {step} ({error}): this kernel does not offer it; dmad exits");
        0
    } else {
        error!("cannot {step}: {error}");
        1
    }
}

/// The manifest's grants; none if it cannot be read (dmad still serves tables).
fn read_grants() -> Grants {
    let text = match sys::read_file(MANIFEST_PATH) {
        Ok(bytes) => bytes,
        Err(error) => {
            error!("cannot read {MANIFEST_PATH}: {error}; no process is granted a device");
            return Grants::default();
        }
    };
    match Grants::from_manifest(&String::from_utf8_lossy(&text)) {
        Ok(grants) => grants,
        Err(error) => {
            error!("{MANIFEST_PATH}: {error}; no process is granted a device");
            Grants::default()
        }
    }
}

/// Maps every region `memory:pools` lists and declares its pools; returns dmad's view of
/// their memory.
fn add_pools(server: &mut Server, pools: &str) -> PoolMappings {
    let mut memory = PoolMappings::default();
    for text in pools.lines().filter(|line| !line.trim().is_empty()) {
        let Some(line) = MemoryPoolLine::parse(text) else {
            error!("memory:pools: cannot read {text:?}");
            continue;
        };
        match map_region(&line) {
            Ok(mapping) => {
                if line.cache == CacheType::WriteBack {
                    memory
                        .write_back
                        .push((mapping, mapping.saturating_add(line.size)));
                }
                if let Err(error) = server.add_memory_pool(&line, mapping) {
                    error!("pool {}: {error}", line.name);
                }
            }
            Err(error) => error!("cannot map memory:pool/{}: {error}", line.name),
        }
    }
    memory
}

/// Maps region `line` whole, read-write (the kernel gives it the region's declared memory
/// type, `line.cache`), and returns
/// its address. The descriptor stays open for the life of dmad, like the mapping.
fn map_region(line: &MemoryPoolLine<'_>) -> sys::Result<u64> {
    let fd = sys::open(&format!("memory:pool/{}", line.name), O_RDWR)?;
    let size = usize::try_from(line.size).map_err(|_| Error::new(EINVAL))?;
    let map = Map {
        offset: 0,
        size,
        flags: MapFlags::PROT_READ | MapFlags::PROT_WRITE | MapFlags::MAP_SHARED,
        address: 0,
    };
    // SAFETY: dmad asks for a fresh mapping (address 0) of kernel-declared pool memory; the
    // kernel picks where, so nothing dmad uses is replaced.
    let address = unsafe { sys::fmap(fd, &map) }?;
    Ok(address as u64)
}

/// The request loop: `userlib::server::serve` with [`Server::handle`] as the handler.
fn serve(server: &mut Server, socket: usize, mut memory: PoolMappings) -> i32 {
    userlib::server::serve(socket, "dma", |request| {
        if request.opcode == syscall::schemev2::Opcode::Call as u8 {
            // An export may follow: its token's key takes in when it was asked.
            server.stir_tokens(userlib::cycles::now());
        }
        Some(server.handle(request, &mut memory).to_message(request.tag))
    })
}

/// The export tokens' key (`dmad::share`): 16 bytes of the kernel's `sys:random`, with the
/// cycle counter sampled around start-up work whose length varies (reading the manifest,
/// the process id) mixed in. If `sys:random` cannot be read the counter seed is all there
/// is, which is weak on an emulator; dmad says so in its log.
fn token_seed() -> [u64; 2] {
    let first = userlib::cycles::now();
    let pid = sys::getpid().unwrap_or(0) as u64;
    let _ = sys::read_file(MANIFEST_PATH);
    let second = userlib::cycles::now();
    let counters = [
        first.rotate_left(29) ^ pid,
        second ^ first.wrapping_mul(0x9e37_79b9_7f4a_7c15),
    ];
    let mut random = [0u8; 16];
    match sys::random(&mut random) {
        Ok(()) => {
            let word = |at: usize| {
                let mut bytes = [0u8; 8];
                bytes.copy_from_slice(&random[at..at + 8]);
                u64::from_le_bytes(bytes)
            };
            [counters[0] ^ word(0), counters[1] ^ word(8)]
        }
        Err(error) => {
            warn!(
                "sys:random failed ({error}); export tokens are keyed from the cycle counter only"
            );
            counters
        }
    }
}

/// Pool memory, written through dmad's mappings (each with its pool's memory type).
///
/// Write-combining and uncached regions need only a fence after dmad's stores. A write-back
/// region's lines may sit in dmad's cache, so its zeroes and poison are cleaned to memory
/// (`SYS_DMA_SYNC` to the device: a device that does not snoop sees them, and no dirty line
/// is later evicted over what the device wrote), and its pages are invalidated before the
/// poison is checked (so the check reads what a device wrote to memory, not dmad's cached
/// poison). Only write-back ranges cost the system call.
#[derive(Default)]
struct PoolMappings {
    /// dmad's `[start, end)` of each write-back region.
    write_back: Vec<(u64, u64)>,
}

impl PoolMappings {
    /// Syncs `[address, address + len)` for `direction` if it lies in a write-back region.
    fn sync(&self, address: u64, len: u64, direction: SyncDirection) {
        let write_back = self
            .write_back
            .iter()
            .any(|&(start, end)| address >= start && address < end);
        if !write_back {
            return;
        }
        if let Err(error) = userlib::dma::sync(address as usize, len as usize, direction) {
            warn!("syncing pool memory at {address:#x}+{len:#x} failed: {error}");
        }
    }
}

impl PoolMemory for PoolMappings {
    fn zero(&mut self, address: u64, len: u64) {
        // SAFETY: the server passes only ranges inside regions `map_region` mapped read-write
        // for the life of the process, and dmad holds no reference into pool memory.
        unsafe { core::ptr::write_bytes(address as usize as *mut u8, 0, len as usize) };
        // Drain write-combining buffers before the client (or its device) can look.
        core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
        self.sync(address, len, SyncDirection::ToDevice);
    }

    fn poison(&mut self, address: u64, len: u64) {
        // SAFETY: as in `zero` (a range dmad mapped, nothing else refers to it); pool ranges
        // are page-aligned, so the words are aligned. The slice lives only for the fill,
        // which compiles to wide stores like `write_bytes`.
        let words = unsafe {
            core::slice::from_raw_parts_mut(address as usize as *mut u64, (len / 8) as usize)
        };
        words.fill(dma_pool::POISON);
        core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
        self.sync(address, len, SyncDirection::ToDevice);
    }

    fn check_poison(&mut self, address: u64, len: u64) -> Option<(u64, u64)> {
        // Order after every earlier request's stores and the kernel's unmap.
        core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
        self.sync(address, len, SyncDirection::ForCpu);
        // SAFETY: as in `poison`. The pages are free: no process maps them and no device
        // reaches them through a mapping dmad made, so nothing writes them legitimately
        // while they are read; a write that races the check is the bug being looked for,
        // and at worst it is missed.
        let words = unsafe {
            core::slice::from_raw_parts(address as usize as *const u64, (len / 8) as usize)
        };
        dma_pool::first_unpoisoned(words).map(|index| (index as u64 * 8, words[index]))
    }

    fn check_and_zero(&mut self, address: u64, len: u64) -> Option<(u64, u64)> {
        core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
        self.sync(address, len, SyncDirection::ForCpu);
        // SAFETY: as in `check_poison`, and the pages are the new buffer's, which no one
        // has been given yet, so dmad may write them.
        let words = unsafe {
            core::slice::from_raw_parts_mut(address as usize as *mut u64, (len / 8) as usize)
        };
        let found = dma_pool::check_and_zero_words(words);
        // As `zero`: the zeroes are in memory before the client or its device looks.
        core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
        self.sync(address, len, SyncDirection::ToDevice);
        found.map(|(index, word)| (index as u64 * 8, word))
    }
}

/// How many callers' rights [`KernelCallers`] remembers after the server forgot them.
const KNOWN_CALLERS: usize = 16;

/// Callers' rights from the kernel, asked on the scheme socket while the request is pending.
///
/// A process's rights are fixed when it is spawned and the kernel never reuses a pid, so
/// the answer for a pid stays true for good: the last [`KNOWN_CALLERS`] answers are kept,
/// so a client that closes its last handle and opens again (an allocation after a free) is
/// not asked about once more (the kernel's text and its parsing cost more than the rest of
/// the open).
struct KernelCallers {
    socket: usize,
    known: VecDeque<(u32, sys::Rights)>,
}

impl Callers for KernelCallers {
    fn rights(&mut self, pid: u32, tag: u32) -> Option<sys::Rights> {
        if let Some((_, rights)) = self.known.iter().find(|(known, _)| *known == pid) {
            return Some(rights.clone());
        }
        match sys::caller_rights(self.socket, tag) {
            Ok(rights) => {
                if self.known.len() >= KNOWN_CALLERS {
                    self.known.pop_front();
                }
                if self.known.try_reserve(1).is_ok() {
                    self.known.push_back((pid, rights.clone()));
                }
                Some(rights)
            }
            Err(error) => {
                warn!("the kernel did not say what pid {pid} may do: {error}");
                None
            }
        }
    }

    fn device_state(&mut self, device: &str) -> Option<dmad::DeviceState> {
        let line = sys::device_quiesce_state(self.socket, device).ok()?;
        dmad::DeviceState::parse(&line)
    }
}

/// The kernel's IOMMU facility: one `iommu:DEVICE` descriptor per device, opened at the
/// device's first buffer. `ENODEV` there means the kernel confines no such device (no
/// IOMMU): remembered, and that device's buffers need nothing more.
#[derive(Default)]
struct KernelIommu {
    devices: BTreeMap<String, Option<usize>>,
}

impl KernelIommu {
    /// The descriptor for `device`, or `None` when the kernel does not confine it.
    fn descriptor(&mut self, device: &str) -> Result<Option<usize>, i32> {
        if let Some(known) = self.devices.get(device) {
            return Ok(*known);
        }
        let descriptor = match sys::open(&format!("iommu:{device}"), O_RDWR) {
            Ok(fd) => {
                info!("{device}: buffers are mapped into its IOMMU domain");
                Some(fd)
            }
            Err(error) if error.errno == userlib::sys::error::ENODEV => None,
            Err(error) => return Err(error.errno),
        };
        self.devices.insert(device.to_string(), descriptor);
        Ok(descriptor)
    }

    fn ask(&mut self, device: &str, request: Request) -> Result<(), i32> {
        let Some(fd) = self.descriptor(device)? else {
            return Ok(());
        };
        let mut bytes = request.encode();
        sys::call(fd, &mut bytes)
            .map(|_| ())
            .map_err(|error| error.errno)
    }
}

impl Confinement for KernelIommu {
    fn map(&mut self, device: &str, iova: u64, physical: u64, size: u64) -> Result<(), i32> {
        self.ask(
            device,
            Request::Map {
                iova,
                physical,
                size,
                access: Access::READ_WRITE,
            },
        )
    }

    fn unmap(&mut self, device: &str, iova: u64, size: u64) -> Result<(), i32> {
        self.ask(device, Request::Unmap { iova, size })
    }
}
