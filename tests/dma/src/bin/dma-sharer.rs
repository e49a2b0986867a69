//! `dma-sharer BUFFER_TOKEN MAILBOX_TOKEN`: the `dma-api` suite's importer, granted `edu0`
//! only (manifest section `dma-sharer`), started by `dma-api-tests`.
//!
//! 1. imports the mailbox for the CPU (`dma:/import?token=M`) after checking that an import
//!    for `virtio-blk0`, which it is not granted, is `EACCES` and used nothing up;
//! 2. imports the parent's buffer for edu (`dma:/edu0/import?token=B`), finds the parent's
//!    pattern in it, and has edu copy 64 bytes of it from page 0 to page 1 *through edu's
//!    IOMMU domain* at the device address dmad gave, with no fault; a second import of the
//!    same token is `ENOENT`; posts the address and [`IMPORTED`];
//! 3. waits for the parent's [`RELEASED`], then checks the buffer still holds the pattern
//!    and the copy (the pages outlived the exporter's release);
//! 4. unmaps and closes its import, has edu write the same address again, which must now
//!    fault (dmad took the buffer out of edu's domain), posts the faults and [`DONE`].
//!
//! Exits 0 after all of it, [`FAILED_STATUS`] (and [`FAILED`] in the mailbox when it has
//! one) otherwise, [`USAGE_STATUS`] on bad arguments.
#![no_std]
#![no_main]

extern crate alloc;

#[allow(
    dead_code,
    reason = "the iommu suite's edu driver, shared whole; some of it is unused here"
)]
#[path = "../../../iommu/src/edu.rs"]
mod edu;

use alloc::format;
use alloc::string::String;
use core::time::Duration;
use dma_tests::share::{
    self, Mailbox, DEVICE_ADDRESS, DONE, FAILED, FAULTS_AFTER, IMPORTED, RELEASED, STATE,
};
use dma_tests::{FAILED_STATUS, PAGE_SIZE, USAGE_STATUS};
use edu::{Edu, INTERNAL};
use process_tests::check::errno_name;
use userlib::{println, Args};

userlib::entry!(main);

fn main(args: Args) -> i32 {
    let (Some(buffer), Some(mailbox)) = (args.get(1), args.get(2)) else {
        println!("usage: dma-sharer BUFFER_TOKEN MAILBOX_TOKEN");
        return USAGE_STATUS;
    };
    match run(buffer, mailbox) {
        Ok(()) => 0,
        Err(reason) => {
            println!("dma-sharer: {reason}");
            FAILED_STATUS
        }
    }
}

fn run(buffer_token: &str, mailbox_token: &str) -> Result<(), String> {
    // Not granted virtio-blk0: refused, and the token is still good for the CPU.
    let refused = format!("dma:/virtio-blk0/import?token={mailbox_token}");
    match share::import(&refused) {
        Err(error) if error.errno == userlib::sys::error::EACCES => {}
        other => {
            return Err(format!(
                "{refused}: {:?}, expected EACCES",
                other.map(|_| ())
            ))
        }
    }
    let path = format!("dma:/import?token={mailbox_token}");
    let mailbox_buffer =
        share::import(&path).map_err(|e| format!("{path}: {}", errno_name(e.errno)))?;
    let mailbox_mapping = mailbox_buffer
        .map_all()
        .map_err(|e| format!("fmap the mailbox: {}", errno_name(e.errno)))?;
    let mailbox = Mailbox::at(mailbox_mapping.address());
    let result = share_with_edu(buffer_token, &mailbox);
    if result.is_err() {
        mailbox.write(STATE, FAILED);
    }
    result
}

fn share_with_edu(token: &str, mailbox: &Mailbox) -> Result<(), String> {
    let path = format!("dma:/edu0/import?token={token}");
    let buffer = share::import(&path).map_err(|e| format!("{path}: {}", errno_name(e.errno)))?;
    match share::import(&path) {
        Err(error) if error.errno == userlib::sys::error::ENOENT => {}
        other => {
            return Err(format!(
                "{path} again: {:?}, expected ENOENT",
                other.map(|_| ())
            ))
        }
    }
    let address = buffer.info().device_address;
    let mapping = buffer
        .map_all()
        .map_err(|e| format!("fmap the import: {}", errno_name(e.errno)))?;
    check_pattern(&mapping, "the imported buffer")?;
    let edu = Edu::open()?;
    let faults_before = edu.faults()?.count;
    edu.transfer(address, INTERNAL, 64)?;
    edu.transfer(INTERNAL, address + PAGE_SIZE as u64, 64)?;
    let faults = edu.faults()?.count;
    if faults != faults_before {
        return Err(format!(
            "edu faulted on the imported buffer at {address:#x}: {faults_before} -> {faults}"
        ));
    }
    check_copy(&mapping, "after edu's copy")?;
    mailbox.write(DEVICE_ADDRESS, address);
    mailbox.write(STATE, IMPORTED);
    if mailbox
        .wait_for(&[RELEASED], Duration::from_secs(20))
        .is_none()
    {
        return Err(String::from("the parent never released its buffer"));
    }
    // The exporter let go; the pages are still ours.
    check_pattern(&mapping, "the buffer after the exporter's release")?;
    check_copy(&mapping, "after the exporter's release")?;
    drop(mapping);
    buffer
        .close()
        .map_err(|e| format!("close the import: {}", errno_name(e.errno)))?;
    // Out of edu's domain now: the same write faults.
    edu.transfer(INTERNAL, address + PAGE_SIZE as u64, 64)?;
    let after = edu.faults()?.count;
    if after <= faults {
        return Err(format!(
            "edu wrote {address:#x} after the import was closed without a fault"
        ));
    }
    mailbox.write(FAULTS_AFTER, after - faults);
    mailbox.write(STATE, DONE);
    Ok(())
}

/// Word `index` of `mapping`.
fn mapping_word(mapping: &dma_tests::buffer::Mapping, index: usize) -> u64 {
    // SAFETY: `index` is below the mapping's word count (the caller's range), mapped
    // readable for as long as `mapping` lives.
    unsafe { (mapping.address() as *const u64).add(index).read_volatile() }
}

/// Page 0 holds the parent's pattern.
fn check_pattern(mapping: &dma_tests::buffer::Mapping, what: &str) -> Result<(), String> {
    for index in 0..PAGE_SIZE / 8 {
        let found = mapping_word(mapping, index);
        if found != share::pattern(index) {
            return Err(format!(
                "{what}: word {index} holds {found:#x}, the exporter wrote {:#x}",
                share::pattern(index)
            ));
        }
    }
    Ok(())
}

/// edu copied the first 64 bytes of page 0 to page 1.
fn check_copy(mapping: &dma_tests::buffer::Mapping, when: &str) -> Result<(), String> {
    let page = PAGE_SIZE / 8;
    for index in 0..8 {
        let found = mapping_word(mapping, page + index);
        if found != share::pattern(index) {
            return Err(format!(
                "{when}: word {index} of page 1 holds {found:#x}, edu should have copied {:#x}",
                share::pattern(index)
            ));
        }
    }
    Ok(())
}
