//! `hostile-attacker MODE [ARG]`: the `hostile` suite's attacker, spawned with no rights.
//!
//! Each mode is one attack on the kernel or dmad; `partial-map` and `munmap-flood` (in
//! `granted`) run with the `hostile-client` section's device grant, every other mode with
//! no rights. It exits 0 when every refusal came with
//! the errno the ABI names (and nothing was gained), [`FAILED_STATUS`] with the reasons on
//! the console otherwise, and [`USAGE_STATUS`] on bad arguments. Modes that end in a fault
//! on purpose (`handles-then-crash`) are killed by the kernel instead. The driver,
//! `hostile-tests`, checks afterwards that the kernel and dmad are alive and whole.
#![no_std]
#![no_main]

extern crate alloc;

mod granted;
mod killing;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;
use dma_tests::buffer::map_raw;
use dma_tests::{FAILED_STATUS, PAGE_SIZE, USAGE_STATUS};
use process_tests::check::{errno_name, expect_errno, expect_ok, Outcome};
use process_tests::ensure;
use userlib::sys::abi::{SpawnRights, SYS_POWER_OFF, SYS_SPAWN};
use userlib::sys::error::{EACCES, EAGAIN, EBADF, EFAULT, EINVAL, EMFILE, ENOENT, ENOMEM, EPERM};
use userlib::sys::flag::{O_RDONLY, O_RDWR};
use userlib::sys::{self, Ending, Map, MapFlags};
use userlib::syscall::{self, number};
use userlib::{println, time, Args};

userlib::entry!(main);

/// The device the test images grant (to the driver, never to the attacker).
const DEVICE: &str = "virtio-blk0";
/// The attacker itself, for children it spawns.
pub(crate) const SELF: &str = "/bin/hostile-attacker";
/// How many children `spawn-flood` tries at most (the kernel's limit is below it).
const SPAWN_FLOOD_LIMIT: usize = 200;
/// How many opens `descriptor-table` tries at most (the kernel's limit is below it).
const DESCRIPTOR_FLOOD_LIMIT: usize = 1000;
/// Open-close pairs in `request-flood`.
const REQUEST_FLOOD: usize = 1000;
/// Descriptors held at once in `request-flood` and `handles-then-crash`.
const HELD: usize = 200;
/// Regions `region-flood` tries at most (the kernel's limit is below it).
const REGION_FLOOD_LIMIT: usize = 8192;
/// The size of each `memory-flood` mapping.
const FLOOD_CHUNK: usize = 16 << 20;
/// Random system calls in `syscall-fuzz`.
const FUZZ_CALLS: usize = 3000;

fn main(args: Args) -> i32 {
    let outcome = match args.get(1) {
        Some("noop") => Ok(()),
        Some("sleep") => time::sleep(Duration::from_millis(300)).map_err(|_| "sleep".into()),
        Some("spawn") => spawn_privileged(args.get(2).unwrap_or("")),
        Some("register-schemes") => register_schemes(),
        Some("kernel-rights") => kernel_rights(),
        Some("spawn-with-rights") => spawn_with_rights(),
        Some("declare-pool") => declare_pool(),
        Some("forge-descriptors") => forge_descriptors(args.get(2)),
        Some("descriptor-table") => descriptor_table(),
        Some("memory-flood") => memory_flood(),
        Some("region-flood") => region_flood(),
        Some("spawn-flood") => spawn_flood(),
        Some("request-flood") => request_flood(),
        Some("handles-then-crash") => handles_then_crash(),
        Some("power-off") => power_off(),
        Some("forge-identity") => forge_identity(),
        Some("syscall-fuzz") => syscall_fuzz(),
        Some("kill") => killing::kill(),
        Some("through-restart") => killing::through_restart(),
        Some("partial-map") => granted::partial_map(),
        Some("munmap-flood") => granted::munmap_flood(),
        _ => {
            println!("usage: hostile-attacker MODE [ARG]");
            return USAGE_STATUS;
        }
    };
    match outcome {
        Ok(()) => 0,
        Err(reason) => {
            println!("{reason}");
            FAILED_STATUS
        }
    }
}

/// Spawns privileged program `path` with no rights (the way anyone may) and waits: it must
/// end on its own, unable to do its job.
fn spawn_privileged(path: &str) -> Outcome {
    let pid = expect_ok(&format!("spawn {path}"), sys::spawn(path, &[]))?;
    let (_, status) = expect_ok("waitpid", sys::waitpid(pid, false))?;
    match Ending::from_status(status) {
        Ending::Exited(0) => Err(format!("{path} without rights exited 0, as if it worked")),
        _ => Ok(()),
    }
}

/// Registering any scheme — a service's, a kernel's, a new one — is `EACCES`.
fn register_schemes() -> Outcome {
    for name in [":dma", ":disk", ":memory", ":sys", ":evil"] {
        expect_errno(&format!("open {name}"), sys::open(name, O_RDWR), EACCES)?;
    }
    Ok(())
}

/// `memory:` and `device:` are `EACCES` without the rights.
fn kernel_rights() -> Outcome {
    expect_errno(
        "open memory:pools",
        sys::open("memory:pools", O_RDONLY),
        EACCES,
    )?;
    let pool = format!("memory:pool/{DEVICE}");
    expect_errno(&format!("open {pool}"), sys::open(&pool, O_RDWR), EACCES)?;
    let device = format!("device:{DEVICE}");
    match sys::open(&device, O_RDWR) {
        Err(error) if [EACCES, ENOENT].contains(&error.errno) => Ok(()),
        other => Err(format!("open {device}: expected EACCES, got {other:?}")),
    }
}

/// Naming a section whose rights the attacker lacks is `EPERM`; an unknown one `ENOENT`; a
/// bad request `EFAULT` / `EINVAL`. Nothing is started.
fn spawn_with_rights() -> Outcome {
    // The hostile image's sections: dmad's (schemes dma and memory) and the driver's
    // (device virtio-blk0); the attacker holds neither.
    for (path, section) in [
        ("/bin/dmad", "dmad"),
        (SELF, "dmad"),
        ("/bin/hostile-tests", "hostile-tests"),
        (SELF, "hostile-tests"),
    ] {
        let what = format!("spawn {path} as {section}");
        expect_errno(
            &what,
            sys::spawn_with_rights(path, &["noop"], section),
            EPERM,
        )?;
    }
    expect_errno(
        "spawn as a section that does not exist",
        sys::spawn_with_rights(SELF, &["noop"], "no-such-section"),
        ENOENT,
    )?;
    let long = "x".repeat(200);
    expect_errno(
        "spawn with a 200-byte section name",
        sys::spawn_with_rights(SELF, &["noop"], &long),
        EINVAL,
    )?;
    let bogus = [0x10usize, usize::MAX - 7, 0xffff_8000_0000_0000];
    for address in bogus {
        // SAFETY: the kernel only reads the buffers; `address` is checked by it, not used here.
        let result = unsafe {
            syscall::syscall5(SYS_SPAWN, SELF.as_ptr() as usize, SELF.len(), 0, 0, address)
        };
        expect_errno(
            &format!("spawn with rights at {address:#x}"),
            result,
            EFAULT,
        )?;
    }
    let forged = SpawnRights {
        section_address: 0xffff_8000_0000_0000,
        section_length: 4,
    };
    // SAFETY: as above; `forged` lives across the call.
    let result = unsafe {
        syscall::syscall5(
            SYS_SPAWN,
            SELF.as_ptr() as usize,
            SELF.len(),
            0,
            0,
            &forged as *const SpawnRights as usize,
        )
    };
    expect_errno("spawn naming a section in kernel memory", result, EFAULT)
}

/// Declaring or retiring a pool, or allocating from it, is `EACCES` from dmad.
fn declare_pool() -> Outcome {
    let declare = format!("dma:/declare?name=evil&device={DEVICE}&phys=0x40000000&size=0x100000");
    expect_errno("open dma:/declare", sys::open(&declare, O_RDWR), EACCES)?;
    let release = format!("dma:/{DEVICE}/release-pool");
    expect_errno(
        &format!("open {release}"),
        sys::open(&release, O_RDWR),
        EACCES,
    )?;
    let alloc = format!("dma:/{DEVICE}/alloc?size=4096");
    expect_errno(&format!("open {alloc}"), sys::open(&alloc, O_RDWR), EACCES)
}

/// Descriptor numbers it never opened — including `victim`, a buffer open in its parent —
/// are `EBADF` for every call; unmapping what is not mapped is refused.
fn forge_descriptors(victim: Option<&str>) -> Outcome {
    let mut numbers: Vec<usize> = (16..300).collect();
    numbers.extend([usize::MAX - 1, 1 << 40]);
    if let Some(victim) = victim.and_then(|text| text.parse().ok()) {
        numbers.push(victim);
    }
    let mut bytes = [0u8; 64];
    for fd in numbers {
        expect_errno(&format!("read({fd})"), sys::read(fd, &mut bytes), EBADF)?;
        expect_errno(&format!("write({fd})"), sys::write(fd, b"x"), EBADF)?;
        expect_errno(&format!("fmap({fd})"), map_raw(fd, 0, PAGE_SIZE), EBADF)?;
        expect_errno(&format!("dup({fd})"), sys::dup(fd), EBADF)?;
        expect_errno(&format!("close({fd})"), sys::close(fd), EBADF)?;
    }
    for address in [0x1000_0000usize, 0xffff_8000_0000_0000] {
        // SAFETY: nothing is mapped there in this process, so nothing it uses goes away.
        let result = unsafe { sys::funmap(address, PAGE_SIZE) };
        ensure!(result.is_err(), "funmap({address:#x}) of nothing succeeded");
    }
    Ok(())
}

/// Fills the descriptor table, then one more request of every kind is `EMFILE`; spawning
/// still works; one close makes room again.
fn descriptor_table() -> Outcome {
    let mut held = Vec::new();
    let full = loop {
        match sys::open("sys:uptime", O_RDONLY) {
            Ok(fd) => held.push(fd),
            Err(error) => break error,
        }
        ensure!(
            held.len() < DESCRIPTOR_FLOOD_LIMIT,
            "{} descriptors and no limit",
            held.len()
        );
    };
    ensure!(
        full.errno == EMFILE,
        "the table filled with {}",
        errno_name(full.errno)
    );
    expect_errno(
        "open sys:memory when full",
        sys::open("sys:memory", O_RDONLY),
        EMFILE,
    )?;
    expect_errno("open dma:/ when full", sys::open("dma:/", O_RDONLY), EMFILE)?;
    expect_errno("dup when full", sys::dup(held[0]), EMFILE)?;
    let child = expect_ok("spawn when full", sys::spawn(SELF, &["noop"]))?;
    let (_, status) = expect_ok("waitpid", sys::waitpid(child, false))?;
    ensure!(
        status == 0,
        "the child of a full process ended with {status:#x}"
    );
    expect_ok("close", sys::close(held.pop().expect("held some")))?;
    let fd = expect_ok("open dma:/ after a close", sys::open("dma:/", O_RDONLY))?;
    held.push(fd);
    // Exit holding them all: the kernel closes them, and dmad sees its one close.
    Ok(())
}

/// Anonymous memory until `ENOMEM`: refused, not a panic, and the kernel still answers.
fn memory_flood() -> Outcome {
    let mut mapped = 0usize;
    let error = loop {
        match anonymous(FLOOD_CHUNK) {
            Ok(_) => mapped += FLOOD_CHUNK,
            Err(error) => break error,
        }
        ensure!(mapped < (64usize << 30), "mapped 64 GiB without ENOMEM");
    };
    ensure!(
        error.errno == ENOMEM,
        "anonymous flood ended with {}",
        errno_name(error.errno)
    );
    // Small requests from an empty machine fail cleanly too, and the kernel still answers.
    let _ = anonymous(PAGE_SIZE);
    expect_ok("getpid after the flood", sys::getpid())?;
    expect_ok(
        "open sys:memory after the flood",
        sys::open("sys:memory", O_RDONLY),
    )?;
    Ok(())
}

/// One-page mappings until the region table is full: `ENOMEM` before the attacker's limit.
fn region_flood() -> Outcome {
    for count in 0..REGION_FLOOD_LIMIT {
        if let Err(error) = anonymous(PAGE_SIZE) {
            ensure!(
                error.errno == ENOMEM,
                "region {count} refused with {}",
                errno_name(error.errno)
            );
            ensure!(count > 100, "only {count} regions before ENOMEM");
            return Ok(());
        }
    }
    Err(format!(
        "{REGION_FLOOD_LIMIT} one-page mappings and no limit"
    ))
}

/// Children until the kernel refuses (`EAGAIN`, or `ENOMEM`), then reaps them all.
fn spawn_flood() -> Outcome {
    let mut children = 0;
    let refusal = loop {
        match sys::spawn(SELF, &["sleep"]) {
            Ok(_) => children += 1,
            Err(error) => break error,
        }
        ensure!(
            children < SPAWN_FLOOD_LIMIT,
            "{children} children and no limit"
        );
    };
    ensure!(
        [EAGAIN, ENOMEM].contains(&refusal.errno),
        "spawn {children} refused with {}",
        errno_name(refusal.errno)
    );
    for _ in 0..children {
        expect_ok("waitpid", sys::waitpid(0, false))?;
    }
    Ok(())
}

/// Opens and closes at dmad as fast as it can, then holds many and lets them go at once (a
/// burst of one-way `Close`s). dmad must still answer.
fn request_flood() -> Outcome {
    for round in 0..REQUEST_FLOOD {
        let fd = expect_ok(
            &format!("open dma:/ round {round}"),
            sys::open("dma:/", O_RDONLY),
        )?;
        let _ = sys::close(fd);
        // Now and then an allocation it is not granted (each refusal is logged, so not all).
        if round % 100 == 0 {
            let alloc = format!("dma:/{DEVICE}/alloc?size=4096");
            expect_errno(&alloc, sys::open(&alloc, O_RDWR), EACCES)?;
        }
    }
    let mut held = Vec::new();
    for _ in 0..HELD {
        held.push(expect_ok("open dma:/", sys::open("dma:/", O_RDONLY))?);
    }
    for fd in held {
        let _ = sys::close(fd);
    }
    let fd = expect_ok("open dma:/ after the flood", sys::open("dma:/", O_RDONLY))?;
    let mut text = [0u8; 256];
    let length = expect_ok("read dma:/", sys::read(fd, &mut text))?;
    ensure!(length > 0, "dma:/ reads empty after the flood");
    Ok(())
}

/// Holds many dmad handles and then faults: the kernel kills it and dmad sees the closes.
fn handles_then_crash() -> Outcome {
    let mut held = Vec::new();
    for _ in 0..HELD {
        held.push(expect_ok("open dma:/", sys::open("dma:/", O_RDONLY))?);
    }
    // SAFETY: none — this is the fault the mode exists for: nothing is mapped at the null
    // page, and the kernel kills the process.
    unsafe { core::ptr::write_volatile(core::ptr::dangling_mut::<u64>(), 1) };
    Err(String::from("writing the null page did not fault"))
}

/// Asking the kernel for a caller's rights needs a scheme socket with that request pending:
/// on a kernel file, a dmad handle or a number it never opened, it learns nothing.
fn forge_identity() -> Outcome {
    let file = expect_ok("open sys:uptime", sys::open("sys:uptime", O_RDONLY))?;
    for tag in [0u32, 1, 2, u32::MAX] {
        let what = format!("caller_rights(sys:uptime, tag {tag})");
        expect_errno(&what, sys::caller_rights(file, tag), EBADF)?;
        let what = format!("caller_rights(999, tag {tag})");
        expect_errno(&what, sys::caller_rights(999, tag), EBADF)?;
    }
    let dma = expect_ok("open dma:/", sys::open("dma:/", O_RDONLY))?;
    // On a dmad handle the call goes to dmad, which answers with its table, not rights.
    ensure!(
        sys::caller_rights(dma, 1).is_err(),
        "a call on a dma: handle read as someone's rights"
    );
    Ok(())
}

/// Only init in a test image may power off.
fn power_off() -> Outcome {
    // SAFETY: no memory is passed; the kernel refuses.
    let result = unsafe { syscall::syscall1(SYS_POWER_OFF, 0) };
    expect_errno("power_off", result, EPERM)
}

/// Thousands of calls with hostile arguments (kernel addresses, huge lengths, wild
/// descriptors): each returns an errno or succeeds harmlessly; the kernel survives.
fn syscall_fuzz() -> Outcome {
    const CALLS: [usize; 10] = [
        number::SYS_READ,
        number::SYS_WRITE,
        number::SYS_CLOSE,
        number::SYS_LSEEK,
        number::SYS_FSTAT,
        number::SYS_CALL,
        number::SYS_FMAP,
        userlib::sys::abi::SYS_OPEN,
        userlib::sys::abi::SYS_DUP,
        userlib::sys::abi::SYS_WAITPID,
    ];
    const WORDS: [usize; 10] = [
        0,
        1,
        4096,
        0xffff_8000_0000_0000,
        0xffff_ffff_ffff_f000,
        usize::MAX,
        0x7fff_ffff_f000,
        0x0000_8000_0000_0000,
        1 << 40,
        3,
    ];
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..FUZZ_CALLS {
        let call = CALLS[next() as usize % CALLS.len()];
        let mut word = || WORDS[next() as usize % WORDS.len()];
        let (a, b, c) = (word(), word(), word());
        // Never a descriptor it holds (0-2 may be its console): those from WORDS are either
        // huge or 3, which it never opens.
        // SAFETY: every pointer argument is either unmapped, in the kernel half, or a
        // length the kernel must check; none points at memory this process uses.
        let result = unsafe { syscall::syscall3(call, a, b, c) };
        if call == userlib::sys::abi::SYS_WAITPID {
            continue;
        }
        if let Ok(value) = result {
            // A call that succeeded must not have handed over anything; drop what it made.
            if call == userlib::sys::abi::SYS_OPEN || call == userlib::sys::abi::SYS_DUP {
                let _ = sys::close(value);
            }
        }
    }
    expect_ok("getpid after the fuzz", sys::getpid())?;
    Ok(())
}

/// Maps `size` bytes of fresh anonymous memory.
pub(crate) fn anonymous(size: usize) -> sys::Result<usize> {
    let map = Map {
        offset: 0,
        size,
        flags: MapFlags::PROT_READ | MapFlags::PROT_WRITE | MapFlags::MAP_PRIVATE,
        address: 0,
    };
    // SAFETY: a fresh mapping at an address the kernel picks replaces nothing.
    unsafe { sys::fmap(usize::MAX, &map) }
}
