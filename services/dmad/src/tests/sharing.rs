//! Sharing buffers (`crate::share`): export tokens, imports for the CPU and for devices,
//! lifetime to the last holder, refusals that change nothing, limits, IOMMU domains; and a
//! seeded random walk of exports, imports, closes, mappings and exits against a model.

use super::fixture::*;
use crate::share::{ShareLimits, NO_DEVICE_ADDRESS};
use crate::Confinement;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;
use dma_api::{DmaBufferInfo, DmaError};
use syscall::error::{EACCES, EAGAIN, EBADF, EINVAL, ENOENT, ENOSPC};
use syscall::schemev2::Opcode;

/// The IOMMU domains as the fake kernel keeps them: (device, IOVA) → (physical, size).
/// Mapping what is mapped or unmapping what is not is a test failure.
#[derive(Default)]
struct Domains {
    live: BTreeMap<(String, u64), (u64, u64)>,
    maps: usize,
    unmaps: usize,
    /// Refuse every unmap (as a kernel whose IOMMU did not answer).
    refuse_unmap: bool,
}

struct Kernel(Rc<RefCell<Domains>>);

impl Confinement for Kernel {
    fn map(&mut self, device: &str, iova: u64, physical: u64, size: u64) -> Result<(), i32> {
        let mut domains = self.0.borrow_mut();
        domains.maps += 1;
        let previous = domains.live.insert((device.into(), iova), (physical, size));
        assert_eq!(previous, None, "{device} {iova:#x} mapped twice");
        Ok(())
    }

    fn unmap(&mut self, device: &str, iova: u64, size: u64) -> Result<(), i32> {
        let mut domains = self.0.borrow_mut();
        domains.unmaps += 1;
        if domains.refuse_unmap {
            return Err(5);
        }
        let removed = domains.live.remove(&(device.into(), iova));
        assert_eq!(
            removed.map(|(_, size)| size),
            Some(size),
            "{device} {iova:#x} not mapped"
        );
        Ok(())
    }
}

/// A server with `blk0`'s pool and the global pool (`net0`, granted to `greedy`, has no
/// pool of its own: device address = physical), confined by a recording fake kernel.
fn shared() -> (Fixture, Rc<RefCell<Domains>>) {
    let mut fixture = Fixture::with_default_pool();
    let domains = Rc::new(RefCell::new(Domains::default()));
    fixture
        .server
        .confine_with(alloc::boxed::Box::new(Kernel(domains.clone())));
    (fixture, domains)
}

/// `call` on `handle` with `request`; the token on success.
fn export(fixture: &mut Fixture, caller: u64, handle: u64, request: &str) -> Result<String, i32> {
    let mut payload = Vec::from(request.as_bytes());
    payload.resize(64, 0);
    let reply = fixture.request(Opcode::Call, caller, [handle, 64, 64, 0, 0, 0], &payload);
    reply.result?;
    Ok(String::from_utf8(reply.payload).unwrap())
}

/// Opens an import and reads its descriptor.
fn import(fixture: &mut Fixture, caller: u64, path: &str) -> Result<(u64, DmaBufferInfo), i32> {
    let handle = fixture.open(caller, path)?;
    let bytes = fixture.read(caller, handle, 64).unwrap();
    Ok((handle, DmaBufferInfo::from_bytes(&bytes).unwrap()))
}

/// The physical address of a `blk0` buffer.
fn phys_of(info: &DmaBufferInfo) -> u64 {
    info.device_address - DEVICE_BASE + PHYS
}

/// dmad's address of a `blk0` buffer's first byte.
fn mapping_of(info: &DmaBufferInfo) -> u64 {
    MAPPING + (info.device_address - DEVICE_BASE)
}

#[test]
fn an_import_maps_the_same_pages_and_outlives_the_exporter() {
    let (mut fixture, domains) = shared();
    let (handle, info) = fixture.alloc(BLK, "blk0/alloc?size=8192").unwrap();
    let token = export(&mut fixture, BLK, handle, "export").unwrap();
    assert_eq!(token.len(), 32);
    let (imported, seen) = import(&mut fixture, OTHER, &format!("import?token={token}")).unwrap();
    assert_eq!((seen.size, seen.cache_type), (info.size, info.cache_type));
    assert_eq!(seen.device_address, NO_DEVICE_ADDRESS);
    // The importer maps the very bytes the exporter maps.
    assert_eq!(fixture.map(OTHER, imported, 0, 8192), Ok(mapping_of(&info)));
    assert_eq!(
        fixture.map(BLK, handle, 4096, 4096),
        Ok(mapping_of(&info) + 4096)
    );
    // The exporter lets go: the pages stay, charged to it, deferred.
    fixture.unmap(BLK, handle, 4096, 4096).unwrap();
    fixture.close(BLK, handle).unwrap();
    let stats = fixture.stats();
    assert_eq!(
        (stats.free_pages, stats.deferred_pages),
        (SIZE / 4096 - 2, 2)
    );
    let usage = fixture
        .server
        .registry()
        .owner_usage(dma_pool::OwnerId(BLK as u32));
    assert_eq!((usage.live_pages, usage.deferred_pages), (0, 2));
    assert_eq!(
        fixture
            .server
            .registry()
            .owner_usage(dma_pool::OwnerId(OTHER as u32))
            .charged_pages(),
        0
    );
    // The importer still reads and maps it.
    assert_eq!(fixture.read(OTHER, imported, 64).unwrap(), seen.to_bytes());
    assert_eq!(
        fixture.map(OTHER, imported, 4096, 4096),
        Ok(mapping_of(&info) + 4096)
    );
    fixture.close(OTHER, imported).unwrap();
    fixture.unmap(OTHER, imported, 0, 8192).unwrap();
    assert_eq!(fixture.stats().deferred_pages, 2, "one mapping is left");
    fixture.unmap(OTHER, imported, 4096, 4096).unwrap();
    assert_eq!(fixture.stats().free_pages, SIZE / 4096);
    assert_eq!(
        fixture
            .server
            .registry()
            .owner_usage(dma_pool::OwnerId(BLK as u32))
            .charged_pages(),
        0
    );
    // Only the exporter's own mapping in blk0's domain ever existed.
    assert!(domains.borrow().live.is_empty());
    assert_eq!(domains.borrow().maps, 1);
}

#[test]
fn an_import_for_a_second_device_is_mapped_in_its_domain_until_the_last_import() {
    let (mut fixture, domains) = shared();
    let (handle, info) = fixture.alloc(BLK, "blk0/alloc?size=4096").unwrap();
    let first = export(&mut fixture, BLK, handle, "export?device=net0").unwrap();
    let second = export(&mut fixture, BLK, handle, "export").unwrap();
    let (a, seen) = import(&mut fixture, GREEDY, &format!("net0/import?token={first}")).unwrap();
    // net0 is served by the global pool (offset 0): its address is the physical one.
    assert_eq!(seen.device_address, phys_of(&info));
    let (b, again) = import(&mut fixture, GREEDY, &format!("net0/import?token={second}")).unwrap();
    assert_eq!(again.device_address, seen.device_address);
    let live = |domains: &Rc<RefCell<Domains>>| -> Vec<(String, u64)> {
        domains.borrow().live.keys().cloned().collect()
    };
    let both = alloc::vec![
        (String::from("blk0"), info.device_address),
        (String::from("net0"), phys_of(&info)),
    ];
    assert_eq!(live(&domains), both);
    fixture.close(BLK, handle).unwrap();
    fixture.close(GREEDY, a).unwrap();
    assert_eq!(
        live(&domains),
        both[1..],
        "net0 keeps it for the second import"
    );
    assert_eq!(fixture.stats().deferred_pages, 1);
    fixture.close(GREEDY, b).unwrap();
    assert!(live(&domains).is_empty());
    assert_eq!(fixture.stats().free_pages, SIZE / 4096);
}

#[test]
fn an_import_for_the_exporters_device_shares_its_mapping() {
    let (mut fixture, domains) = shared();
    let (handle, info) = fixture.alloc(BLK, "blk0/alloc?size=4096").unwrap();
    let token = export(&mut fixture, BLK, handle, "export?device=blk0").unwrap();
    let (imported, seen) =
        import(&mut fixture, GREEDY, &format!("blk0/import?token={token}")).unwrap();
    assert_eq!(seen.device_address, info.device_address);
    assert_eq!(domains.borrow().maps, 1, "already mapped there");
    // The exporter goes first: the mapping stays for the import, then goes with it.
    fixture.close(BLK, handle).unwrap();
    assert_eq!(domains.borrow().live.len(), 1);
    fixture.close(GREEDY, imported).unwrap();
    assert!(domains.borrow().live.is_empty());
    assert_eq!(fixture.stats().free_pages, SIZE / 4096);
    // And the other way round: the import goes first, the exporter's close unmaps.
    let (handle, _) = fixture.alloc(BLK, "blk0/alloc?size=4096").unwrap();
    let token = export(&mut fixture, BLK, handle, "export").unwrap();
    let (imported, _) = import(&mut fixture, BLK, &format!("blk0/import?token={token}")).unwrap();
    fixture.close(BLK, imported).unwrap();
    assert_eq!(domains.borrow().live.len(), 1);
    fixture.close(BLK, handle).unwrap();
    assert!(domains.borrow().live.is_empty());
    assert_eq!(domains.borrow().unmaps, 2);
}

#[test]
fn bad_tokens_and_requests_are_refused_changing_nothing() {
    let (mut fixture, domains) = shared();
    let (handle, _) = fixture.alloc(BLK, "blk0/alloc?size=4096").unwrap();
    let token = export(&mut fixture, BLK, handle, "export?device=net0&pid=12").unwrap();
    let forged = "0123456789abcdef0123456789abcdef";
    let cases: Vec<(u64, String, i32)> = alloc::vec![
        (GREEDY, format!("net0/import?token={forged}"), ENOENT),
        (
            GREEDY,
            format!("net0/import?token={}", &token[..31]),
            EINVAL
        ),
        (GREEDY, format!("net0/import?token={token}0"), EINVAL),
        (GREEDY, format!("net0/import?tokens={token}"), EINVAL),
        (GREEDY, String::from("net0/import"), EINVAL),
        (GREEDY, format!("a/b/import?token={token}"), EINVAL),
        // Restricted to net0 and pid 12.
        (GREEDY, format!("blk0/import?token={token}"), EACCES),
        (GREEDY, format!("import?token={token}"), EACCES),
        (BLK, format!("net0/import?token={token}"), EACCES),
        // OTHER is granted no device.
        (OTHER, format!("net0/import?token={token}"), EACCES),
        (GREEDY, format!("nosuch0/import?token={token}"), ENOENT),
    ];
    let before = (
        fixture.fingerprint(),
        fixture.server.snapshot(),
        fixture.server.unused_tokens(),
    );
    for (caller, path, errno) in &cases {
        assert_eq!(fixture.open(*caller, path), Err(*errno), "{path}");
        let after = (
            fixture.fingerprint(),
            fixture.server.snapshot(),
            fixture.server.unused_tokens(),
        );
        assert_eq!(after, before, "{path} changed something");
    }
    // Bad exports: malformed, for an unknown device, a reply too small, not a buffer, not
    // the caller's.
    for request in [
        "export?",
        "export?pid=x",
        "export?device=",
        "export?colour=red",
        "export&pid=1",
    ] {
        assert_eq!(
            export(&mut fixture, BLK, handle, request),
            Err(EINVAL),
            "{request}"
        );
    }
    assert_eq!(
        export(&mut fixture, BLK, handle, "export?device=nosuch0"),
        Err(ENOENT)
    );
    let small = fixture.request(Opcode::Call, BLK, [handle, 6, 16, 0, 0, 0], b"export");
    assert_eq!(small.result, Err(EINVAL));
    assert_eq!(export(&mut fixture, GREEDY, handle, "export"), Err(EBADF));
    let table = fixture.open(BLK, "blk0/stats").unwrap();
    assert_eq!(export(&mut fixture, BLK, table, "export"), Err(EBADF));
    fixture.close(BLK, table).unwrap();
    // (Opening the table took a handle number; nothing else changed.)
    assert_eq!(
        (fixture.fingerprint(), fixture.server.unused_tokens()),
        (before.0, before.2)
    );
    // The right importer succeeds; the token is then used up.
    let (imported, _) =
        import(&mut fixture, GREEDY, &format!("net0/import?token={token}")).unwrap();
    assert_eq!(
        fixture.open(GREEDY, &format!("net0/import?token={token}")),
        Err(ENOENT)
    );
    // An importer cannot export again.
    assert_eq!(
        export(&mut fixture, GREEDY, imported, "export"),
        Err(EACCES)
    );
    // Closing the exported buffer revokes its unused tokens.
    let unused = export(&mut fixture, BLK, handle, "export").unwrap();
    fixture.close(BLK, handle).unwrap();
    assert_eq!(fixture.server.unused_tokens(), 0);
    assert_eq!(
        fixture.open(OTHER, &format!("import?token={unused}")),
        Err(ENOENT)
    );
    fixture.close(GREEDY, imported).unwrap();
    assert_eq!(fixture.stats().free_pages, SIZE / 4096);
    assert!(domains.borrow().live.is_empty());
}

#[test]
fn export_limits_are_enospc_and_eagain() {
    let (mut fixture, _) = shared();
    fixture.server.set_share_limits(ShareLimits {
        tokens_per_client: 3,
        tokens: 4,
        holders_per_buffer: 2,
    });
    let (first, _) = fixture.alloc(GREEDY, "blk0/alloc?size=4096").unwrap();
    let (second, _) = fixture.alloc(GREEDY, "blk0/alloc?size=4096").unwrap();
    let token = export(&mut fixture, GREEDY, first, "export").unwrap();
    export(&mut fixture, GREEDY, first, "export").unwrap();
    assert_eq!(export(&mut fixture, GREEDY, first, "export"), Err(ENOSPC));
    // An import keeps its place among the buffer's holders.
    let (imported, _) = import(&mut fixture, OTHER, &format!("import?token={token}")).unwrap();
    assert_eq!(export(&mut fixture, GREEDY, first, "export"), Err(ENOSPC));
    export(&mut fixture, GREEDY, second, "export").unwrap();
    export(&mut fixture, GREEDY, second, "export").unwrap();
    let (third, _) = fixture.alloc(GREEDY, "blk0/alloc?size=4096").unwrap();
    assert_eq!(
        export(&mut fixture, GREEDY, third, "export"),
        Err(EAGAIN),
        "3 per process"
    );
    let (own, _) = fixture.alloc(BLK, "blk0/alloc?size=4096").unwrap();
    export(&mut fixture, BLK, own, "export").unwrap();
    assert_eq!(
        export(&mut fixture, BLK, own, "export"),
        Err(EAGAIN),
        "4 in all"
    );
    // Closing frees the room.
    fixture.close(OTHER, imported).unwrap();
    assert_eq!(
        export(&mut fixture, GREEDY, first, "export"),
        Err(EAGAIN),
        "3 per process"
    );
    fixture.close(GREEDY, second).unwrap();
    export(&mut fixture, GREEDY, third, "export").unwrap();
}

#[test]
fn exits_revoke_tokens_and_release_imports() {
    let (mut fixture, domains) = shared();
    let (handle, _) = fixture.alloc(BLK, "blk0/alloc?size=16384").unwrap();
    let token = export(&mut fixture, BLK, handle, "export").unwrap();
    let unused = export(&mut fixture, BLK, handle, "export").unwrap();
    let (imported, _) =
        import(&mut fixture, GREEDY, &format!("net0/import?token={token}")).unwrap();
    fixture.map(GREEDY, imported, 0, 16384).unwrap();
    fixture.server.reap(BLK as u32);
    assert_eq!(
        fixture.open(OTHER, &format!("import?token={unused}")),
        Err(ENOENT)
    );
    assert_eq!(fixture.stats().deferred_pages, 4);
    // The dead exporter's charge stays until the pages return, then goes with its quota.
    fixture.unmap(GREEDY, imported, 0, 16384).unwrap();
    assert_eq!(fixture.stats().deferred_pages, 4);
    fixture.server.reap(GREEDY as u32);
    assert_eq!(fixture.stats().free_pages, SIZE / 4096);
    assert!(domains.borrow().live.is_empty());
    assert_eq!(fixture.server.registry().owners().count(), 0);
}

#[test]
fn a_dead_exporters_quota_goes_with_the_last_mapping_of_an_import() {
    let (mut fixture, _) = shared();
    let (handle, _) = fixture.alloc(BLK, "blk0/alloc?size=4096").unwrap();
    let token = export(&mut fixture, BLK, handle, "export").unwrap();
    let (imported, _) = import(&mut fixture, OTHER, &format!("import?token={token}")).unwrap();
    fixture.map(OTHER, imported, 0, 4096).unwrap();
    fixture.server.reap(BLK as u32);
    fixture.close(OTHER, imported).unwrap();
    // BLK's quota entry is kept while its page is charged...
    assert_eq!(fixture.server.registry().owners().count(), 1);
    fixture.unmap(OTHER, imported, 0, 4096).unwrap();
    // ...and goes with the page.
    assert_eq!(fixture.stats().free_pages, SIZE / 4096);
    assert_eq!(fixture.server.registry().owners().count(), 0);
}

#[test]
fn a_failed_unmap_keeps_the_import_hold_for_good() {
    let (mut fixture, domains) = shared();
    let (handle, _) = fixture.alloc(BLK, "blk0/alloc?size=4096").unwrap();
    let token = export(&mut fixture, BLK, handle, "export").unwrap();
    let (imported, _) =
        import(&mut fixture, GREEDY, &format!("net0/import?token={token}")).unwrap();
    fixture.close(BLK, handle).unwrap();
    domains.borrow_mut().refuse_unmap = true;
    fixture.close(GREEDY, imported).unwrap();
    // net0 may still reach the page: it never returns to the pool.
    assert_eq!(domains.borrow().live.len(), 1);
    let stats = fixture.stats();
    assert_eq!(
        (stats.free_pages, stats.deferred_pages),
        (SIZE / 4096 - 1, 1)
    );
    fixture.server.reap(GREEDY as u32);
    fixture.server.reap(BLK as u32);
    assert_eq!(fixture.stats().free_pages, SIZE / 4096 - 1);
}

// ---------------------------------------------------------------------------------------
// A random walk against a model.

/// A small, fast, seeded generator (xorshift64*).
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }
}

/// One buffer as the model sees it.
#[derive(Clone, Debug)]
struct Shared {
    owner: u64,
    /// The owner's handle while open.
    handle: Option<u64>,
    info: DmaBufferInfo,
    /// Unused tokens and the device each is restricted to.
    tokens: Vec<(String, Option<&'static str>)>,
    /// (importer, handle, device, mapped count).
    imports: Vec<(u64, u64, Option<&'static str>, u32)>,
    /// Importers' mappings whose handle is closed, by importer.
    orphan_mappings: Vec<(u64, u64)>,
}

impl Shared {
    fn alive(&self) -> bool {
        self.handle.is_some() || !self.imports.is_empty() || !self.orphan_mappings.is_empty()
    }

    /// (device, IOVA) mappings the domains must hold for it.
    fn domains(&self) -> BTreeSet<(String, u64)> {
        let mut set = BTreeSet::new();
        if self.handle.is_some() {
            set.insert((String::from("blk0"), self.info.device_address));
        }
        for (_, _, device, _) in &self.imports {
            match device {
                Some("blk0") => set.insert((String::from("blk0"), self.info.device_address)),
                Some(device) => set.insert((String::from(*device), phys_of(&self.info))),
                None => false,
            };
        }
        set
    }
}

/// Who may import for which device (the fixture's grants).
fn granted(pid: u64, device: Option<&str>) -> bool {
    match device {
        None => true,
        Some("blk0") => [BLK, GREEDY].contains(&pid),
        Some("net0") => pid == GREEDY,
        _ => false,
    }
}

const PROCESSES: [u64; 3] = [BLK, GREEDY, OTHER];
const DEVICES: [Option<&str>; 3] = [None, Some("blk0"), Some("net0")];
const LIMITS: ShareLimits = ShareLimits {
    tokens_per_client: 6,
    tokens: 10,
    holders_per_buffer: 4,
};

/// How often a walk saw each outcome: (imports, refused imports, refused exports, pages
/// outliving their exporter's close).
type Seen = [usize; 4];

fn walk(seed: u64, steps: usize, seen: &mut Seen) {
    let (mut fixture, domains) = shared();
    fixture.server.set_share_limits(LIMITS);
    let mut random = Random(seed);
    let mut buffers: Vec<Shared> = Vec::new();
    for step in 0..steps {
        let what = format!("seed {seed:#x} step {step}");
        match random.below(8) {
            // Allocate (BLK has a quota of 8 pages, which its deferred pages count against).
            0 => {
                let owner = [BLK, GREEDY][random.below(2)];
                let charged: u64 = buffers
                    .iter()
                    .filter(|buffer| buffer.owner == owner && buffer.alive())
                    .map(|buffer| buffer.info.size / 4096)
                    .sum();
                let result = fixture.alloc(owner, "blk0/alloc?size=4096");
                if owner == BLK && charged >= 8 {
                    assert_eq!(
                        result.map(|_| ()),
                        Err(DmaError::OverQuota.errno()),
                        "{what}"
                    );
                } else {
                    let (handle, info) = result.unwrap_or_else(|e| panic!("{what}: alloc {e}"));
                    buffers.push(Shared {
                        owner,
                        handle: Some(handle),
                        info,
                        tokens: Vec::new(),
                        imports: Vec::new(),
                        orphan_mappings: Vec::new(),
                    });
                }
            }
            // Export, maybe restricted to a device.
            1 | 2 if !buffers.is_empty() => {
                let index = random.below(buffers.len());
                let device = DEVICES[random.below(3)];
                let Some(handle) = buffers[index].handle else {
                    continue;
                };
                let owner = buffers[index].owner;
                let request = match device {
                    Some(device) => format!("export?device={device}"),
                    None => String::from("export"),
                };
                let of_owner: usize = buffers
                    .iter()
                    .filter(|buffer| buffer.owner == owner)
                    .map(|buffer| buffer.tokens.len())
                    .sum();
                let all: usize = buffers.iter().map(|buffer| buffer.tokens.len()).sum();
                let holders = buffers[index].tokens.len() + buffers[index].imports.len();
                let result = export(&mut fixture, owner, handle, &request);
                if of_owner >= LIMITS.tokens_per_client || all >= LIMITS.tokens {
                    assert_eq!(result, Err(EAGAIN), "{what}");
                    seen[2] += 1;
                } else if holders >= LIMITS.holders_per_buffer as usize {
                    assert_eq!(result, Err(ENOSPC), "{what}");
                    seen[2] += 1;
                } else {
                    let token = result.unwrap_or_else(|e| panic!("{what}: export {e}"));
                    buffers[index].tokens.push((token, device));
                }
            }
            // Import a token (or a used / revoked one).
            3 | 4 if !buffers.is_empty() => {
                let index = random.below(buffers.len());
                let importer = PROCESSES[random.below(3)];
                let device = DEVICES[random.below(3)];
                let buffer = &mut buffers[index];
                if buffer.tokens.is_empty() {
                    continue;
                }
                let slot = random.below(buffer.tokens.len());
                let (token, restricted) = buffer.tokens[slot].clone();
                let path = match device {
                    Some(device) => format!("{device}/import?token={token}"),
                    None => format!("import?token={token}"),
                };
                let result = import(&mut fixture, importer, &path);
                if !granted(importer, device) || restricted.is_some_and(|r| Some(r) != device) {
                    assert_eq!(result.map(|_| ()), Err(EACCES), "{what}: {path}");
                    seen[1] += 1;
                } else {
                    seen[0] += 1;
                    let (handle, info) = result.unwrap_or_else(|e| panic!("{what}: {path}: {e}"));
                    let expected = match device {
                        None => NO_DEVICE_ADDRESS,
                        Some("blk0") => buffer.info.device_address,
                        Some(_) => phys_of(&buffer.info),
                    };
                    assert_eq!(info.device_address, expected, "{what}");
                    buffer.tokens.remove(slot);
                    buffer.imports.push((importer, handle, device, 0));
                    // Used up.
                    assert_eq!(fixture.open(importer, &path), Err(ENOENT), "{what}");
                }
            }
            // The owner closes: its unused tokens die with its handle.
            5 if !buffers.is_empty() => {
                // Mostly a buffer someone imported: the interesting case.
                let imported: Vec<usize> = (0..buffers.len())
                    .filter(|&index| !buffers[index].imports.is_empty())
                    .collect();
                let index = if imported.is_empty() || random.below(3) == 0 {
                    random.below(buffers.len())
                } else {
                    imported[random.below(imported.len())]
                };
                let buffer = &mut buffers[index];
                if let Some(handle) = buffer.handle.take() {
                    fixture.close(buffer.owner, handle).unwrap();
                    seen[3] += usize::from(buffer.alive());
                    for (token, _) in buffer.tokens.drain(..) {
                        let path = format!("import?token={token}");
                        assert_eq!(fixture.open(OTHER, &path), Err(ENOENT), "{what}");
                    }
                }
            }
            // An importer maps, unmaps or closes.
            6 | 7 => {
                let imports: Vec<(usize, usize)> = buffers
                    .iter()
                    .enumerate()
                    .flat_map(|(index, buffer)| {
                        (0..buffer.imports.len()).map(move |slot| (index, slot))
                    })
                    .collect();
                if imports.is_empty() {
                    continue;
                }
                let (index, slot) = imports[random.below(imports.len())];
                let buffer = &mut buffers[index];
                let (importer, handle, _, mapped) = buffer.imports[slot];
                match random.below(3) {
                    0 => {
                        let address = fixture.map(importer, handle, 0, 4096);
                        assert_eq!(address, Ok(mapping_of(&buffer.info)), "{what}");
                        buffer.imports[slot].3 += 1;
                    }
                    1 if mapped > 0 => {
                        fixture.unmap(importer, handle, 0, 4096).unwrap();
                        buffer.imports[slot].3 -= 1;
                    }
                    _ => {
                        fixture.close(importer, handle).unwrap();
                        buffer.imports.remove(slot);
                        for _ in 0..mapped {
                            buffer.orphan_mappings.push((importer, handle));
                        }
                    }
                }
            }
            _ => {}
        }
        // Occasionally an orphaned mapping goes.
        if random.below(4) == 0 {
            if let Some(buffer) = buffers.iter_mut().find(|b| !b.orphan_mappings.is_empty()) {
                let (importer, handle) = buffer.orphan_mappings.pop().unwrap();
                fixture.unmap(importer, handle, 0, 4096).unwrap();
            }
        }
        check(&fixture, &domains, &buffers, &what);
    }
    // Everyone exits: the kernel unmaps what they mapped and closes what they hold; every
    // page returns and every domain is empty.
    for buffer in &mut buffers {
        for &(importer, handle, _, mapped) in &buffer.imports {
            for _ in 0..mapped {
                fixture.unmap(importer, handle, 0, 4096).unwrap();
            }
        }
        for (importer, handle) in buffer.orphan_mappings.drain(..) {
            fixture.unmap(importer, handle, 0, 4096).unwrap();
        }
    }
    for pid in PROCESSES {
        fixture.server.reap(pid as u32);
    }
    assert_eq!(fixture.stats().free_pages, SIZE / 4096, "seed {seed:#x}");
    assert!(domains.borrow().live.is_empty(), "seed {seed:#x}");
    assert_eq!(fixture.server.unused_tokens(), 0);
    assert_eq!(fixture.server.registry().owners().count(), 0);
}

/// The pool holds exactly the pages of buffers someone holds; the domains hold exactly
/// the mappings the model expects; dmad counts the tokens the model has.
fn check(fixture: &Fixture, domains: &Rc<RefCell<Domains>>, buffers: &[Shared], what: &str) {
    let held: u64 = buffers
        .iter()
        .filter(|buffer| buffer.alive())
        .map(|buffer| buffer.info.size / 4096)
        .sum();
    assert_eq!(fixture.stats().free_pages, SIZE / 4096 - held, "{what}");
    let expected: BTreeSet<(String, u64)> = buffers
        .iter()
        .filter(|buffer| buffer.alive())
        .flat_map(Shared::domains)
        .collect();
    let live: BTreeSet<(String, u64)> = domains.borrow().live.keys().cloned().collect();
    assert_eq!(live, expected, "{what}");
    let tokens: usize = buffers.iter().map(|buffer| buffer.tokens.len()).sum();
    assert_eq!(fixture.server.unused_tokens(), tokens, "{what}");
}

#[test]
fn random_sharing_agrees_with_the_model() {
    let mut seen = Seen::default();
    for seed in 1..=40u64 {
        walk(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1, 300, &mut seen);
    }
    assert!(
        seen.iter().all(|&count| count >= 20),
        "the walks saw too little: {seen:?}"
    );
}
