//! The harness catches a guest that panics or takes an unexpected exception.
//!
//! These boot real kernels, so they are `#[ignore]`d in a plain `cargo test`; `cargo xtask
//! test` builds the kernels and runs them with `--ignored`, naming the images through
//! `COHERENT_KERNEL_<ARCH>` and `COHERENT_INITFS_<ARCH>`.

use harness::protocol::Ending;
use harness::{judge, Arch, Machine};
use std::time::Duration;

fn boot(arch: Arch, command_line: &str) -> (String, harness::Verdict) {
    let variable = arch.name().to_uppercase();
    let kernel = std::env::var(format!("COHERENT_KERNEL_{variable}")).unwrap_or_else(|_| {
        panic!("COHERENT_KERNEL_{variable} is not set: run through `cargo xtask test`")
    });
    let initrd = std::env::var(format!("COHERENT_INITFS_{variable}")).unwrap_or_else(|_| {
        panic!("COHERENT_INITFS_{variable} is not set: run through `cargo xtask test`")
    });
    let mut machine = Machine::new(arch, kernel.into(), initrd.into());
    machine.command_line = format!("coherent.expect-ram-mib=512 {command_line}");
    let run = harness::run(&machine, Duration::from_secs(60), |line| {
        println!("[{}] {line}", arch.name())
    })
    .expect("QEMU starts");
    assert_ne!(
        run.ending,
        Ending::TimedOut,
        "the failing guest must stop by itself, not hang"
    );
    (
        run.output.clone(),
        judge("boot", arch, &run.output, &run.ending),
    )
}

fn panic_is_caught(arch: Arch) {
    let (output, verdict) = boot(arch, "coherent.selftest=panic");
    assert!(!verdict.is_pass(), "a panicking guest must fail");
    assert!(
        output.contains("deliberate panic requested by coherent.selftest=panic"),
        "the panic message must reach the output"
    );
    assert!(verdict
        .problems
        .iter()
        .any(|problem| problem.contains("KERNEL PANIC")));
}

fn exception_is_caught(arch: Arch) {
    let (output, verdict) = boot(arch, "coherent.selftest=fault");
    assert!(!verdict.is_pass(), "a faulting guest must fail");
    assert!(
        output.contains("FATAL: unexpected exception"),
        "the exception report must reach the output"
    );
    assert!(
        output.contains("0x00007000dead0000"),
        "the report names the faulting address"
    );
}

#[test]
#[ignore = "boots a kernel; run by cargo xtask test"]
fn x86_64_panic_fails_the_run() {
    panic_is_caught(Arch::X86_64);
}

#[test]
#[ignore = "boots a kernel; run by cargo xtask test"]
fn x86_64_exception_fails_the_run() {
    exception_is_caught(Arch::X86_64);
}

#[test]
#[ignore = "boots a kernel; run by cargo xtask test"]
fn aarch64_panic_fails_the_run() {
    panic_is_caught(Arch::Aarch64);
}

#[test]
#[ignore = "boots a kernel; run by cargo xtask test"]
fn aarch64_exception_fails_the_run() {
    exception_is_caught(Arch::Aarch64);
}
