//! `cargo bench -p dmad`: what one allocation costs in dmad's request handling, on the host.
//!
//! A [`Server`] over a 16 MiB pool for `blk0` serves a driver process the requests a
//! `userlib::dma::Dma` allocation sends (open `blk0/alloc?size=N`, read the descriptor,
//! `MmapPrep`, then `Munmap` and close when it is dropped) and the shorter open + read +
//! close sequence. Zeroing goes through a real 16 MiB buffer, as dmad zeroes through its
//! mapping. Times are ns per whole sequence, for sizes 4 KiB, 64 KiB and 1 MiB (zeroing
//! dominates the larger ones); the kernel's part (message passing, page-table work) is not
//! included. The open+read+close sequence is measured again with debug mode on (freed pages
//! poisoned, checked word by word when reused: `server/debug.rs`), the cost of leaving it
//! on. Prints a table and writes `target/bench/dmad-request.json`.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use dmad::{Callers, Grants, MemoryPoolLine, PoolMemory, Request, Server};
use kernel_core::rights::Rights;
use syscall::schemev2::Opcode;

/// The driver's pid.
const DRIVER: u64 = 10;
/// Physical base and size of the pool; where "dmad mapped" it.
const PHYS: u64 = 0x8000_0000;
const SIZE: u64 = 16 << 20;
const MAPPING: u64 = 0x10_0000_0000;

const MANIFEST: &str = "[image]\nname = \"bench\"\n\
    [process.blk]\npath = \"/bin/virtio-blk\"\ndevices = [\"blk0\"]\n";

/// How long each measurement runs.
const MEASURE: Duration = Duration::from_millis(300);

/// The kernel's answer for the driver: `blk0`, no quota.
struct Kernel;

impl Callers for Kernel {
    fn rights(&mut self, pid: u32, _tag: u32) -> Option<Rights> {
        (u64::from(pid) == DRIVER).then(|| Rights {
            section: Some("blk".into()),
            devices: vec!["blk0".into()],
            ..Rights::none()
        })
    }
}

/// The pool's memory, zeroed (and in debug mode poisoned and checked) for real.
struct Memory(Vec<u64>);

impl Memory {
    fn words(&mut self, address: u64, len: u64) -> &mut [u64] {
        let start = ((address - MAPPING) / 8) as usize;
        &mut self.0[start..start + (len / 8) as usize]
    }
}

impl PoolMemory for Memory {
    fn zero(&mut self, address: u64, len: u64) {
        self.words(address, len).fill(0);
    }

    fn poison(&mut self, address: u64, len: u64) {
        self.words(address, len).fill(dma_pool::POISON);
    }

    fn check_poison(&mut self, address: u64, len: u64) -> Option<(u64, u64)> {
        let words = self.words(address, len);
        dma_pool::first_unpoisoned(words).map(|index| (index as u64 * 8, words[index]))
    }

    fn check_and_zero(&mut self, address: u64, len: u64) -> Option<(u64, u64)> {
        dma_pool::check_and_zero_words(self.words(address, len))
            .map(|(index, word)| (index as u64 * 8, word))
    }
}

struct Bench {
    server: Server,
    memory: Memory,
}

impl Bench {
    fn new(debug: bool) -> Self {
        let mut server = Server::new(Grants::from_manifest(MANIFEST).unwrap(), Box::new(Kernel));
        server.set_debug(debug);
        let text = format!("pool blk0-pool {PHYS:#x} {PHYS:#x} {SIZE:#x} no-map blk0");
        let line = MemoryPoolLine::parse(&text).unwrap();
        server.add_memory_pool(&line, MAPPING).unwrap();
        Bench {
            server,
            memory: Memory(vec![0xa5a5_a5a5_a5a5_a5a5; (SIZE / 8) as usize]),
        }
    }

    fn request(&mut self, opcode: Opcode, args: [u64; 6], payload: &[u8]) -> Result<u64, i32> {
        let request = Request {
            opcode: opcode as u8,
            caller: DRIVER,
            tag: 1,
            args,
            payload,
        };
        self.server.handle(request, &mut self.memory).result
    }

    /// open + read (+ map + unmap) + close of one buffer of `size` bytes.
    fn allocation(&mut self, path: &[u8], size: u64, map: bool) {
        let handle = self
            .request(Opcode::OpenAt, [0, path.len() as u64, 0, 0, 0, 0], path)
            .expect("allocation refused");
        let read = self.request(Opcode::Read, [handle, 0, 64, 0, 0, 0], &[]);
        black_box(read.expect("descriptor read refused"));
        if map {
            black_box(
                self.request(Opcode::MmapPrep, [handle, 0, size, 3, 0, 0], &[])
                    .expect("map refused"),
            );
            self.request(Opcode::Munmap, [handle, 0, size, 0, 0, 0], &[])
                .expect("unmap refused");
        }
        self.request(Opcode::Close, [handle, 0, 0, 0, 0, 0], &[])
            .expect("close refused");
    }
}

/// Average ns per call of `sequence`, after a warm-up.
fn measure(mut sequence: impl FnMut()) -> f64 {
    let warm_up = Instant::now();
    while warm_up.elapsed() < MEASURE / 10 {
        sequence();
    }
    let start = Instant::now();
    let mut count = 0u64;
    while start.elapsed() < MEASURE {
        for _ in 0..16 {
            sequence();
        }
        count += 16;
    }
    start.elapsed().as_nanos() as f64 / count as f64
}

fn main() {
    let mut bench = Bench::new(false);
    let mut debug = Bench::new(true);
    println!("dmad: ns per allocation's requests (host, dmad's handling only)");
    println!(
        "{:>8} {:>22} {:>30} {:>26}",
        "size", "open+read+close ns", "open+read+map+unmap+close ns", "open+read+close debug ns"
    );
    let mut entries = Vec::new();
    for size in [4u64 << 10, 64 << 10, 1 << 20] {
        let path = format!("blk0/alloc?size={size}").into_bytes();
        let plain = measure(|| bench.allocation(&path, size, false));
        let mapped = measure(|| bench.allocation(&path, size, true));
        let checked = measure(|| debug.allocation(&path, size, false));
        println!(
            "{:>5} KiB {:>22.1} {:>30.1} {:>17.1} ({:+.0}%)",
            size >> 10,
            plain,
            mapped,
            checked,
            (checked / plain - 1.0) * 100.0
        );
        entries.push(format!(
            "  {{\"size_bytes\": {size}, \"open_read_close_ns\": {plain:.2}, \"with_map_ns\": {mapped:.2}, \"debug_open_read_close_ns\": {checked:.2}}}"
        ));
        let pool = debug.server.registry().pool_for_device("blk0").unwrap();
        assert!(
            pool.poison_stats().unwrap().checked_pages > 0,
            "debug mode checked nothing"
        );
        // Every buffer went back: the server holds nothing between sequences.
        let pool = bench.server.registry().pool_for_device("blk0").unwrap();
        assert_eq!(pool.used_pages(), 0, "a buffer leaked");
    }
    bench.server.registry().check_invariants().unwrap();
    let directory = target_directory().join("bench");
    std::fs::create_dir_all(&directory).expect("create target/bench");
    let path = directory.join("dmad-request.json");
    std::fs::write(&path, format!("[\n{}\n]\n", entries.join(",\n"))).expect("write the JSON");
    println!("wrote {}", path.display());
}

/// `CARGO_TARGET_DIR` if set (relative to the workspace root), else `target/` beside the
/// workspace's `Cargo.lock`.
fn target_directory() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = manifest
        .ancestors()
        .find(|directory| directory.join("Cargo.lock").exists())
        .unwrap_or(&manifest)
        .to_path_buf();
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(target) => root.join(target),
        None => root.join("target"),
    }
}
