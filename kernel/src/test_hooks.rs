//! Where the kernel meets its test machinery, and the one place that asks whether it has any.
//!
//! Test kernels are built with the cargo feature `test-suites` (`cargo xtask test` and the
//! guest benchmark do): they carry the in-kernel suites (`suites`, `testing`), the self-test
//! switches (`coherent.selftest=panic|fault|probe`), the accelerator probe's power-off at the
//! first system call, init's power-off in a test image and `sys:translate`. The product
//! kernel, which `cargo xtask run` boots, is built without it: there these hooks do nothing,
//! a manifest's `test-suite` is ignored, and no code of the suites is linked in —
//! `cargo xtask test` reads the product kernel's symbol table to prove it (STYLE.md 13).

#[cfg(feature = "test-suites")]
pub use crate::suites::hooks::{
    before_init, is_test_image, on_system_call, system_text, user_precheck,
};

#[cfg(not(feature = "test-suites"))]
pub use product::{before_init, is_test_image, on_system_call, system_text, user_precheck};

/// The product kernel's hooks: nothing runs, nothing is a test image.
#[cfg(not(feature = "test-suites"))]
mod product {
    use crate::memory::physical::PhysicalLayout;
    use crate::platform::Platform;
    use alloc::string::String;

    /// Says so when an image asks for a test suite this kernel does not have.
    pub fn before_init(platform: &Platform, _layout: &PhysicalLayout) {
        let suite = platform.requested_test_suite();
        if let Some(suite) = suite {
            log::warn!(
                "this kernel is built without test suites; ignoring test suite `{suite}` (cargo xtask test builds the test kernel)"
            );
        }
        if platform.command_line.get("coherent.selftest").is_some() {
            log::warn!("this kernel is built without self-tests; ignoring coherent.selftest");
        }
    }

    /// Nothing to do on a system call.
    #[inline(always)]
    pub fn on_system_call() {}

    /// The product kernel never runs a test image: init may not power off.
    pub fn is_test_image() -> bool {
        false
    }

    /// User ranges are always pre-checked against the page tables.
    pub fn user_precheck() -> bool {
        true
    }

    /// No test-only `sys:` texts.
    pub fn system_text(_name: &str) -> Option<Result<String, kernel_core::Error>> {
        None
    }
}
