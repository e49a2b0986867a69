//! Making a fresh machine able to build and boot coherent: Rust targets and QEMU.
//!
//! The pinned toolchain comes from `rust-toolchain.toml` (rustup installs it and its
//! targets on first use); this module checks the bare-metal targets really are there and
//! adds them if not. QEMU comes from Debian: when running as root, `apt-get` installs it;
//! otherwise the error names the packages to install.

use std::path::Path;
use std::process::Command;

use crate::{fail, Result};

/// The Debian packages that provide both emulators.
const QEMU_PACKAGES: [&str; 2] = ["qemu-system-x86", "qemu-system-arm"];

/// Makes sure both bare-metal Rust targets are installed for the pinned toolchain.
pub fn ensure_rust_targets() -> Result<()> {
    let sysroot = output(Command::new("rustc").args(["--print", "sysroot"]))?;
    let missing: Vec<&str> = ["x86_64-unknown-none", "aarch64-unknown-none"]
        .into_iter()
        .filter(|target| {
            !Path::new(sysroot.trim())
                .join("lib/rustlib")
                .join(target)
                .exists()
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!(
        "xtask: installing Rust targets {} with rustup",
        missing.join(", ")
    );
    let status = Command::new("rustup")
        .arg("target")
        .arg("add")
        .args(&missing)
        .status();
    match status {
        Ok(status) if status.success() => Ok(()),
        _ => fail(format!(
            "could not install Rust targets {}: run `rustup target add {}`",
            missing.join(" "),
            missing.join(" ")
        )),
    }
}

/// Makes sure `qemu-system-x86_64` and `qemu-system-aarch64` run, installing them from
/// Debian when we are root.
pub fn ensure_qemu() -> Result<()> {
    if qemu_present() {
        return Ok(());
    }
    if !is_root() {
        return fail(format!(
            "QEMU is missing: install the Debian packages {} (for example `sudo apt-get install -y --no-install-recommends {}`)",
            QEMU_PACKAGES.join(" and "),
            QEMU_PACKAGES.join(" ")
        ));
    }
    eprintln!(
        "xtask: installing QEMU from Debian packages: {}",
        QEMU_PACKAGES.join(" ")
    );
    apt(&["update", "-q"])?;
    // Plain install works on a stock bookworm. When qemu-utils came from bookworm-backports
    // the plain install conflicts with it, so install the emulators from backports as well.
    let plain = apt_install(&[]);
    if plain.is_err() || !qemu_present() {
        eprintln!("xtask: plain install failed; installing QEMU from bookworm-backports");
        let sources = Path::new("/etc/apt/sources.list.d/coherent-backports.list");
        if !sources.exists() {
            std::fs::write(
                sources,
                "deb http://deb.debian.org/debian bookworm-backports main\n",
            )
            .map_err(|error| format!("cannot add bookworm-backports to apt sources: {error}"))?;
        }
        apt(&["update", "-q"])?;
        apt_install(&["-t", "bookworm-backports"])?;
    }
    if qemu_present() {
        Ok(())
    } else {
        fail(format!(
            "installed {} but QEMU still does not run",
            QEMU_PACKAGES.join(" ")
        ))
    }
}

fn qemu_present() -> bool {
    ["qemu-system-x86_64", "qemu-system-aarch64"]
        .iter()
        .all(|binary| {
            Command::new(binary)
                .arg("--version")
                .output()
                .map(|output| output.status.success())
                .unwrap_or(false)
        })
}

fn is_root() -> bool {
    output(Command::new("id").arg("-u"))
        .map(|id| id.trim() == "0")
        .unwrap_or(false)
}

fn apt(arguments: &[&str]) -> Result<()> {
    let status = Command::new("apt-get")
        .args(arguments)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .map_err(|error| format!("cannot run apt-get: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        fail(format!(
            "`apt-get {}` failed ({status})",
            arguments.join(" ")
        ))
    }
}

fn apt_install(extra: &[&str]) -> Result<()> {
    let mut arguments = vec!["install", "-y", "-q", "--no-install-recommends"];
    arguments.extend_from_slice(extra);
    arguments.extend_from_slice(&QEMU_PACKAGES);
    apt(&arguments)
}

fn output(command: &mut Command) -> Result<String> {
    let output = command
        .output()
        .map_err(|error| format!("cannot run {command:?}: {error}"))?;
    if !output.status.success() {
        return fail(format!("{command:?} failed ({})", output.status));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
