//! coherent's first process: starts the programs the image manifest declares, then reaps them.
//!
//! init reads `initfs:manifest.toml`, and for each `[process.NAME]` section, in file order,
//! spawns `path` with `args`, logging `starting NAME (PATH)`; a section with
//! `autostart = false` is skipped (it only declares grants for dmad, for a process someone
//! else starts). Then it waits for its children
//! and logs how each ended (`NAME exited with status S` or `NAME was killed`).
//!
//! - In a **test image** (`[image] test-suite` is set) init waits until every child that is
//!   not a service (a process granted `schemes`, like dmad, serves until the machine stops)
//!   has ended, and then powers the machine off with status 0 when every process started and
//!   every reaped child exited with status 0, and 1 otherwise. The test programs' own lines carry the verdict
//!   per test; init's status is the verdict on the run.
//! - In a **normal image** init keeps reaping forever. Children are not restarted: a service
//!   that dies stays dead and its exit is in the log.
//!
//! A service's schemes are registered before the next process starts: init waits (up to
//! five seconds, then logs and goes on) until `sys:schemes` lists each scheme the service
//! is granted, so later processes find them.
//!
//! A manifest init cannot read or parse is fatal: init logs why and exits with status 1,
//! which the kernel treats as the end of the run. A single bad `[process]` section is logged
//! and skipped (and in a test image makes the run fail).
//!
//! Rights: the kernel gave init the manifest's rights; init spawns each process with exactly
//! the rights of its own section (`spawn_with_rights(path, args, NAME)`), never more. A
//! section's rights belong to the process started for it, not to a program name.
#![no_std]
#![no_main]

extern crate alloc;

mod children;

use children::{Children, Launch};
use image::manifest::Manifest;
use log::{error, info};
use userlib::{sys, Args};

userlib::entry!(main);

/// Where the image manifest is.
const MANIFEST_PATH: &str = "initfs:manifest.toml";

fn main(_args: Args) -> i32 {
    let bytes = match sys::read_file(MANIFEST_PATH) {
        Ok(bytes) => bytes,
        Err(error) => {
            error!("cannot read {MANIFEST_PATH}: {error}");
            return 1;
        }
    };
    let Ok(text) = core::str::from_utf8(&bytes) else {
        error!("{MANIFEST_PATH} is not UTF-8");
        return 1;
    };
    let manifest = match Manifest::parse(text) {
        Ok(manifest) => manifest,
        Err(error) => {
            error!("{MANIFEST_PATH}: {error}");
            return 1;
        }
    };
    let image = match manifest.image() {
        Ok(image) => image,
        Err(error) => {
            error!("{MANIFEST_PATH}: {error}");
            return 1;
        }
    };

    let mut children = Children::default();
    for declaration in manifest.processes() {
        match declaration {
            Ok(declaration) if !declaration.autostart => {
                info!("not starting {} (autostart = false)", declaration.name);
            }
            Ok(declaration) => children.spawn(Launch::from_declaration(&declaration)),
            Err(error) => {
                error!("{MANIFEST_PATH}: {error}; process skipped");
                children.note_failure();
            }
        }
    }

    match image.test_suite {
        Some(_) => {
            children.reap_all();
            sys::power_off(if children.all_succeeded() { 0 } else { 1 })
        }
        None => children.reap_forever(),
    }
}
