//! `hostile-tests`: the `hostile` suite's driver, started by the test image's manifest.
//!
//! Each test spawns `hostile-attacker MODE` with no rights — or, for the attacks that need
//! a buffer (`partial-map`, `munmap-flood`), with the `hostile-client` section's, the pool's
//! device and nothing else (see that program for the attacks) — and expects it to end as planned — exit 0 (every refusal had the right errno)
//! or killed for its own fault. Then it proves nothing was harmed or leaked, once the
//! attacker is reaped: dmad still serves `dma:` under the same pid and answers, no new
//! scheme appeared, the pool's stats are as before, no process is left over, and the
//! kernel's free frames plus the pages every process owns are as before (so frames neither
//! leaked nor went to someone who should not have them). The driver is granted
//! `virtio-blk0` to hold buffers (a victim whose descriptor number the attacker tries, and
//! those it holds while dmad dies) and `kills = ["dmad"]`, the only kill right in any image,
//! for the last test: dmad killed and restarted by init (`restart`), after which the same
//! checks hold with dmad's new pid.
#![no_std]
#![no_main]

extern crate alloc;

mod restart;
mod snapshot;

use alloc::format;
use alloc::string::ToString;
use core::time::Duration;
use dma_tests::buffer::Buffer;
use dma_tests::{DEVICE, PAGE_SIZE};
use process_tests::check::{errno_name, expect_ending, Outcome};
use process_tests::runner::Suite;
use process_tests::{child, ensure};
use snapshot::Snapshot;
use userlib::sys::Ending;
use userlib::{time, Args};

userlib::entry!(main);

/// The attacker program.
pub(crate) const ATTACKER: &str = "/bin/hostile-attacker";
/// The manifest section granting the attacker the pool's device, for attacks that need a
/// buffer.
const CLIENT: &str = "hostile-client";
/// How long the after-checks wait for one-way closes to reach dmad.
pub(crate) const SETTLE_TIME: Duration = Duration::from_secs(5);

fn main(_args: Args) -> i32 {
    let mut suite = Suite::new("hostile");
    // Warm up first, so whatever the kernel sets up once (a page table for the first child,
    // say) is in place before the first count.
    for _ in 0..2 {
        let _ = child::run(ATTACKER, &["noop"]);
        let _ = child::run(ATTACKER, &["spawn", "/bin/dmad"]);
    }
    suite.run("spawned_dmad_gains_no_rights", || {
        attack(&["spawn", "/bin/dmad"], Ending::Exited(0))
    });
    suite.run("spawned_virtio_blk_gains_no_rights", || {
        attack(&["spawn", "/bin/virtio-blk"], Ending::Exited(0))
    });
    suite.run("spawned_init_gains_no_rights", || {
        attack(&["spawn", "/bin/init"], Ending::Exited(0))
    });
    suite.run("registering_a_scheme_is_eacces", || {
        attack(&["register-schemes"], Ending::Exited(0))
    });
    suite.run("memory_and_device_are_eacces", || {
        attack(&["kernel-rights"], Ending::Exited(0))
    });
    suite.run("spawning_with_rights_it_lacks_is_eperm", || {
        attack(&["spawn-with-rights"], Ending::Exited(0))
    });
    suite.run("declaring_and_retiring_pools_is_eacces", || {
        attack(&["declare-pool"], Ending::Exited(0))
    });
    suite.run("forged_descriptors_are_ebadf", forged_descriptors);
    suite.run("a_full_descriptor_table_is_emfile", || {
        attack(&["descriptor-table"], Ending::Exited(0))
    });
    suite.run("an_anonymous_memory_flood_is_enomem", || {
        attack(&["memory-flood"], Ending::Exited(0))
    });
    suite.run("a_region_flood_is_enomem", || {
        attack(&["region-flood"], Ending::Exited(0))
    });
    suite.run("a_spawn_flood_is_bounded", || {
        attack(&["spawn-flood"], Ending::Exited(0))
    });
    suite.run("a_request_flood_leaves_dmad_serving", || {
        attack(&["request-flood"], Ending::Exited(0))
    });
    suite.run("a_crash_holding_dmad_handles_is_cleaned_up", || {
        attack(&["handles-then-crash"], Ending::Killed)
    });
    suite.run("asking_for_rights_without_a_socket_learns_nothing", || {
        attack(&["forge-identity"], Ending::Exited(0))
    });
    suite.run("power_off_is_eperm", || {
        attack(&["power-off"], Ending::Exited(0))
    });
    suite.run("a_syscall_fuzz_leaves_the_kernel_whole", || {
        attack(&["syscall-fuzz"], Ending::Exited(0))
    });
    suite.run("killing_without_a_kill_right_is_eperm", || {
        attack(&["kill"], Ending::Exited(0))
    });
    suite.run("a_mapping_failing_part_way_is_undone", || {
        attack_as(CLIENT, &["partial-map"], Ending::Exited(0))
    });
    suite.run("a_munmap_flood_leaves_dmad_serving", || {
        attack_as(CLIENT, &["munmap-flood"], Ending::Exited(0))
    });
    suite.run(
        "dmad_killed_while_clients_hold_buffers_is_restarted_whole",
        restart::kill_dmad_holding_buffers,
    );
    suite.finish()
}

/// The attacker tries every call on descriptor numbers it never opened, among them the
/// number of a buffer open here; the buffer is untouched.
fn forged_descriptors() -> Outcome {
    let victim = Buffer::allocate(DEVICE, PAGE_SIZE)
        .map_err(|error| format!("allocate the victim buffer: {}", errno_name(error.errno)))?;
    let info = victim.info();
    let fd = victim.fd().to_string();
    attack(&["forge-descriptors", &fd], Ending::Exited(0))?;
    ensure!(
        victim.info() == info,
        "the victim buffer changed: {info:?} became {:?}",
        victim.info()
    );
    Ok(())
}

/// Runs the attacker with `args` and no rights, expects `ending`, then checks the system is
/// as before.
fn attack(args: &[&str], ending: Ending) -> Outcome {
    let before = Snapshot::take()?;
    let what = format!("hostile-attacker {}", args.join(" "));
    expect_ending(&what, child::run(ATTACKER, args)?, ending)?;
    settle(&what, &before)
}

/// Like [`attack`], with the rights of manifest section `section`.
fn attack_as(section: &str, args: &[&str], ending: Ending) -> Outcome {
    let before = Snapshot::take()?;
    let what = format!("hostile-attacker {} (as {section})", args.join(" "));
    expect_ending(&what, child::run_as(section, ATTACKER, args)?, ending)?;
    settle(&what, &before)
}

/// Waits (up to [`SETTLE_TIME`]) until the system is as `before`; the reason names `what`.
pub fn settle(what: &str, before: &Snapshot) -> Outcome {
    let start = time::monotonic().unwrap_or_default();
    loop {
        let after = Snapshot::take();
        match &after {
            Ok(after) if after == before => return Ok(()),
            _ => {}
        }
        let now = time::monotonic().unwrap_or_default();
        if now.saturating_sub(start) > SETTLE_TIME {
            return Err(match after {
                Ok(after) => format!("after {what}:\n  before {before:?}\n  after  {after:?}"),
                Err(reason) => format!("after {what}: {reason}"),
            });
        }
        let _ = time::sleep(Duration::from_millis(20));
    }
}
