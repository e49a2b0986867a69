//! The test kernel's side of `test_hooks`: the self-test switches, the in-kernel suites, the
//! accelerator probe, and what a test image may do that a product image may not.

use super::{deliberate_fault, is_in_kernel, run};
use crate::arch::{Arch, Cpu, ExitStatus};
use crate::memory::physical::PhysicalLayout;
use crate::platform::Platform;
use alloc::string::String;
use core::sync::atomic::{AtomicBool, Ordering};

/// Set by the accelerator probe (`coherent.selftest=probe`): the first system call ends the
/// run with success.
static PROBING: AtomicBool = AtomicBool::new(false);

/// Set when the image names a suite that runs in user space: init may then power off.
static TEST_IMAGE: AtomicBool = AtomicBool::new(false);

/// Runs before init starts: obeys `coherent.selftest=panic|fault|probe`, runs an in-kernel
/// suite named by the command line (`coherent.suite`) or the manifest (`test-suite`) and
/// powers off with its result, or notes that this is a test image and returns.
pub fn before_init(platform: &Platform, layout: &PhysicalLayout) {
    match platform.command_line.get("coherent.selftest") {
        Some("panic") => panic!("deliberate panic requested by coherent.selftest=panic"),
        Some("fault") => deliberate_fault(),
        Some("probe") => {
            // The harness asks whether this accelerator can run us: take a breakpoint (some
            // nested KVM hosts cannot deliver one), then start init and report success at
            // its first system call, so user mode and the system-call path are proven too.
            Cpu::breakpoint();
            PROBING.store(true, Ordering::SeqCst);
            return;
        }
        _ => {}
    }
    let suite = platform.requested_test_suite();
    if let Some(name) = suite.filter(|name| is_in_kernel(name)) {
        Cpu::power_off(run(name, platform, layout));
    }
    TEST_IMAGE.store(suite.is_some(), Ordering::SeqCst);
}

/// On every system call from user mode: the probe's first one powers off with success.
pub fn on_system_call() {
    if PROBING.load(Ordering::Relaxed) {
        Cpu::power_off(ExitStatus::Success);
    }
}

/// Whether the image runs a user-space suite (init may power off to end it).
pub fn is_test_image() -> bool {
    TEST_IMAGE.load(Ordering::Relaxed)
}

/// The test-only `sys:` texts: `translate/PID/ADDRESS`; `quiesce-fail/NAME` and
/// `quiesce-works/NAME`, whose open makes the quiesce of device `NAME` report failure or
/// work again (the quarantine tests' switch); `None` for any other name.
pub fn system_text(name: &str) -> Option<Result<String, kernel_core::Error>> {
    if let Some(device) = name.strip_prefix("quiesce-fail/") {
        return Some(switch_quiesce(device, true));
    }
    if let Some(device) = name.strip_prefix("quiesce-works/") {
        return Some(switch_quiesce(device, false));
    }
    match name {
        "user-precheck-off" => return Some(switch_user_precheck(false)),
        "user-precheck-on" => return Some(switch_user_precheck(true)),
        _ => {}
    }
    name.strip_prefix("translate/").map(super::translate::text)
}

/// Whether `UserSlice::check_in`/`check_writable` look at the page tables (test
/// switch `sys:user-precheck-off`: then only the copy's own fault recovery refuses).
static USER_PRECHECK: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(true);

/// Whether user ranges are checked against the page tables before a call changes anything.
pub fn user_precheck() -> bool {
    USER_PRECHECK.load(core::sync::atomic::Ordering::Relaxed)
}

/// Sets the user-precheck switch and says so.
fn switch_user_precheck(on: bool) -> Result<String, kernel_core::Error> {
    USER_PRECHECK.store(on, core::sync::atomic::Ordering::Relaxed);
    let verdict = if on { "on" } else { "off" };
    log::info!("test switch: user-range pre-checks {verdict}");
    Ok(alloc::format!("user-precheck {verdict}\n"))
}

/// Sets the quiesce switch of `device` and says so.
fn switch_quiesce(device: &str, refuse: bool) -> Result<String, kernel_core::Error> {
    crate::devices::quiesce::set_refused(device, refuse)?;
    let verdict = if refuse { "fail" } else { "work" };
    log::info!("test switch: the quiesce of device {device} will {verdict}");
    Ok(alloc::format!("quiesce of {device} will {verdict}\n"))
}
