//! Fuzzing dmad's request handling: a million random and mutated requests against the real
//! `dma-pool`, with the pool's invariants and the wire contract checked after every one.
//!
//! Requests come from a seeded generator (reproducible: the seed and step are printed on a
//! failure), from five callers with different grants, and mix well-formed paths with mutated
//! ones (flipped, cut and random bytes). After each request: the registry's own invariants
//! hold (free + live = total, no overlap, alignment), the result is a value or an errno from
//! the documented set, a `MmapPrep` answer lies inside dmad's mapping, and every allocation
//! was zeroed exactly once; dmad's own counts match its tables and no table is past its
//! limit. Half the seeds run with tiny limits, so every bound is reached again and again.
//! Set `COHERENT_FUZZ_REQUESTS` to run more or fewer.

use super::fixture::{Fixture, BLK, GREEDY, INIT, MAPPING, NAMELESS, OTHER, SIZE};
use crate::Limits;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use syscall::error::{
    EACCES, EAGAIN, EBADF, EBUSY, EDQUOT, EINVAL, EMFILE, ENFILE, ENOENT, ENOMEM, ENOSYS,
};
use syscall::schemev2::Opcode;

/// A small, fast, seeded generator (xorshift64*).
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

const CALLERS: [u64; 5] = [INIT, BLK, OTHER, GREEDY, NAMELESS];
const ERRNOS: [i32; 11] = [
    EACCES, EBADF, EBUSY, EDQUOT, EINVAL, ENOENT, ENOMEM, ENOSYS, EMFILE, ENFILE, EAGAIN,
];

/// Limits small enough for random requests to hit every one.
const TINY: Limits = Limits {
    handles_per_client: 5,
    handles: 8,
    mappings_per_client: 4,
    mappings: 7,
    clients: 3,
};

fn path(random: &mut Random) -> Vec<u8> {
    let size = match random.below(4) {
        0 => random.below(8) * 4096,
        1 => random.below(1 << 21),
        2 => 1 << random.below(22),
        _ => random.next(),
    };
    let align = 1u64 << random.below(24);
    let text: String = match random.below(10) {
        0..=3 => format!("blk0/alloc?size={size}"),
        4 => format!("blk0/alloc?size={size}&align={align}"),
        5 => format!("blk0/alloc?align={}&size={size:#x}", random.below(1 << 20)),
        6 => String::from(random.pick(&[
            "",
            "blk0/stats",
            "nope/stats",
            "blk0/release-pool",
            "blk0",
        ])),
        7 => format!(
            "declare?name=p{}&device=d{}&phys={:#x}&size={size}",
            random.below(3),
            random.below(3),
            0x8000_0000 + random.below(512) * 4096
        ),
        8 => format!("nope/alloc?size={size}"),
        _ => format!("blk0/alloc?size={size}&size={size}"),
    };
    let mut bytes = text.into_bytes();
    match random.below(6) {
        0 if !bytes.is_empty() => {
            let index = random.below(bytes.len() as u64) as usize;
            bytes[index] ^= 1 << random.below(8);
        }
        1 => bytes.truncate(random.below(bytes.len() as u64 + 1) as usize),
        2 => bytes = (0..random.below(40)).map(|_| random.next() as u8).collect(),
        _ => {}
    }
    bytes
}

/// Runs `requests` requests; returns every errno seen.
fn run(seed: u64, requests: u64, limits: Limits) -> Vec<i32> {
    let mut seen = Vec::new();
    let mut random = Random(seed | 1);
    let mut fixture = Fixture::new();
    fixture.server.set_limits(limits);
    let mut handles: Vec<(u64, u64)> = Vec::new();
    for step in 0..requests {
        let caller = random.pick(&CALLERS);
        let handle = match handles.len() {
            0 => random.next(),
            length if random.below(8) != 0 => handles[random.below(length as u64) as usize].1,
            _ => random.below(64),
        };
        let zeroed_before = fixture.memory.zeroed.len();
        let live_before = fixture
            .server
            .registry()
            .pools()
            .map(|pool| pool.stats().live_buffers)
            .sum::<u64>();
        let opcode = random.pick(&[
            Opcode::OpenAt,
            Opcode::OpenAt,
            Opcode::Read,
            Opcode::Call,
            Opcode::Write,
            Opcode::MmapPrep,
            Opcode::Munmap,
            Opcode::Close,
            Opcode::Fsync,
        ]);
        let offset = if random.below(2) == 0 {
            random.below(4) * 4096
        } else {
            random.next()
        };
        let size = if random.below(2) == 0 {
            random.below(8) * 4096
        } else {
            random.next()
        };
        let payload = if opcode as u8 == Opcode::OpenAt as u8 {
            path(&mut random)
        } else {
            Vec::new()
        };
        let args = [
            handle,
            if payload.is_empty() {
                offset
            } else {
                payload.len() as u64
            },
            size,
            3,
            0,
            0,
        ];
        let reply = fixture.request(opcode, caller, args, &payload);
        let context = || {
            format!(
                "seed {seed:#x} step {step}: {opcode:?} by {caller} args {args:x?} payload {:?}",
                String::from_utf8_lossy(&payload)
            )
        };
        if let Err(errno) = reply.result {
            if !seen.contains(&errno) {
                seen.push(errno);
            }
            assert!(
                ERRNOS.contains(&errno),
                "undocumented errno {errno}: {}",
                context()
            );
        }
        let live_after = fixture
            .server
            .registry()
            .pools()
            .map(|pool| pool.stats().live_buffers)
            .sum::<u64>();
        let zeroings = fixture.memory.zeroed.len() - zeroed_before;
        match opcode {
            Opcode::OpenAt => {
                if let Ok(value) = reply.result {
                    handles.push((caller, value));
                }
                assert_eq!(
                    zeroings as u64,
                    live_after.saturating_sub(live_before),
                    "zeroing once per allocation: {}",
                    context()
                );
            }
            Opcode::MmapPrep => {
                if let Ok(address) = reply.result {
                    assert!(
                        address >= MAPPING && address + size <= MAPPING + SIZE,
                        "mapping outside dmad's: {}",
                        context()
                    );
                }
                assert_eq!(zeroings, 0, "{}", context());
            }
            _ => assert_eq!(zeroings, 0, "only allocations zero: {}", context()),
        }
        if opcode as u8 == Opcode::Close as u8 {
            handles.retain(|entry| *entry != (caller, handle));
        }
    }
    for caller in CALLERS {
        fixture.server.reap(caller as u32);
    }
    fixture.server.registry().check_invariants().unwrap();
    fixture.server.check_bounds().unwrap();
    seen
}

#[test]
fn a_million_random_and_mutated_requests_keep_every_invariant() {
    extern crate std;
    let requests: u64 = std::env::var("COHERENT_FUZZ_REQUESTS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(1_000_000);
    let seeds = [0x5eed_0001, 0xc0ff_ee00, 0xdead_beef, 0x1234_5678];
    for (index, seed) in seeds.into_iter().enumerate() {
        let limits = if index % 2 == 0 {
            Limits::DEFAULT
        } else {
            TINY
        };
        let seen = run(seed, requests / seeds.len() as u64, limits);
        if limits == TINY && requests >= 10_000 {
            for errno in [EMFILE, ENFILE, EAGAIN] {
                assert!(
                    seen.contains(&errno),
                    "seed {seed:#x} never hit errno {errno}"
                );
            }
        }
    }
}
