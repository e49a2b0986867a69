//! Sharing buffers between processes and devices (`dmad::share`): export tokens, imports for
//! another process and another device, lifetime to the last holder, refused tokens.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;
use dma_tests::buffer::Buffer;
use dma_tests::share::{
    self, Mailbox, DEVICE_ADDRESS, DONE, FAILED, FAULTS_AFTER, IMPORTED, RELEASED, STATE,
};
use dma_tests::{stats, DEVICE, PAGE_SIZE};
use process_tests::check::{errno_name, expect_errno, expect_ok, Outcome};
use process_tests::{child, ensure};
use userlib::dma::{Dma, ExportTo, SharedDma};
use userlib::sys::error::{EACCES, EINVAL, ENOENT, ENOSPC};
use userlib::sys::Ending;

use crate::constraints::HIGH_DEVICE;

/// Runs this module's tests.
pub fn run(suite: &mut process_tests::runner::Suite) {
    suite.run(
        "a_shared_buffer_reaches_another_process_and_device_and_outlives_its_exporter",
        a_shared_buffer_reaches_another_process_and_device_and_outlives_its_exporter,
    );
    suite.run(
        "an_import_for_a_second_device_gets_its_address_and_the_same_bytes",
        an_import_for_a_second_device_gets_its_address_and_the_same_bytes,
    );
    suite.run(
        "bad_forged_reused_and_revoked_tokens_are_refused",
        bad_forged_reused_and_revoked_tokens_are_refused,
    );
}

/// The device address offset of `dma-api0`'s pool (its manifest's `device-offset`).
const HIGH_OFFSET: u64 = 1 << 32;

fn export(buffer: &Buffer, request: &str) -> Result<String, String> {
    let token = share::export(buffer.fd(), request)
        .map_err(|e| format!("{request} on a buffer: {}", errno_name(e.errno)))?;
    ensure!(
        token.len() == 32 && token.bytes().all(|byte| byte.is_ascii_hexdigit()),
        "{request}: the token {token:?} is not 32 hex digits"
    );
    Ok(token)
}

/// The shared buffer as the parent writes it: the pattern in page 0, zeros in page 1.
fn expected_before_copy(index: usize) -> u64 {
    if index < PAGE_SIZE / 8 {
        share::pattern(index)
    } else {
        0
    }
}

/// The same after edu copied page 0's first 64 bytes (8 words) to page 1.
fn expected_after_copy(index: usize) -> u64 {
    let page = PAGE_SIZE / 8;
    if (page..page + 8).contains(&index) {
        share::pattern(index - page)
    } else {
        expected_before_copy(index)
    }
}

/// The parent exports a two-page buffer of `virtio-blk0` for `edu0` and a mailbox page;
/// `dma-sharer` (granted edu0 only) imports both, finds the parent's bytes, and has edu copy
/// within the buffer through edu's own IOMMU domain, which the parent then sees. The parent
/// releases its buffer: the pool still counts its pages until the child, which still finds
/// its bytes there, lets go too; after that edu's write to the same address faults.
pub fn a_shared_buffer_reaches_another_process_and_device_and_outlives_its_exporter() -> Outcome {
    let before = stats::read(DEVICE)?;
    let buffer = expect_ok("alloc", Buffer::allocate(DEVICE, 2 * PAGE_SIZE))?;
    let mapping = expect_ok("fmap", buffer.map_all())?;
    mapping.fill(expected_before_copy);
    let mailbox_buffer = expect_ok("alloc the mailbox", Buffer::allocate(DEVICE, PAGE_SIZE))?;
    let mailbox_mapping = expect_ok("fmap the mailbox", mailbox_buffer.map_all())?;
    let mailbox = Mailbox::at(mailbox_mapping.address());
    let token = export(&buffer, "export?device=edu0")?;
    let mailbox_token = export(&mailbox_buffer, "export")?;
    let pid = child::start_as("dma-sharer", "/bin/dma-sharer", &[&token, &mailbox_token])?;
    let state = mailbox.wait_for(&[IMPORTED, FAILED], Duration::from_secs(30));
    if state != Some(IMPORTED) {
        let ending = child::wait(pid)?;
        return Err(format!(
            "dma-sharer never imported (state {state:?}, it ended {ending:?})"
        ));
    }
    // edu copied page 0's first 64 bytes to page 1, and the exporter sees it.
    mapping.expect(
        "the exporter's mapping after edu's copy",
        expected_after_copy,
    )?;
    // Both pools serve edu0 and virtio-blk0 at offset 0: the same device address.
    let address = mailbox.read(DEVICE_ADDRESS);
    ensure!(
        address == buffer.info().device_address,
        "edu0's address of the buffer is {address:#x}, virtio-blk0's {:#x}",
        buffer.info().device_address
    );
    // The exporter lets go: the pages stay out of the pool, the buffer is no longer live.
    drop(mapping);
    expect_ok("close the exported buffer", buffer.close())?;
    let now = stats::read(DEVICE)?;
    ensure!(
        now.free_pages == before.free_pages - 3 && now.live_buffers == before.live_buffers + 1,
        "after the exporter's release the pool says {now}, expected 3 pages in use and 1 more live buffer than {before}"
    );
    mailbox.write(STATE, RELEASED);
    let ending = child::wait(pid)?;
    ensure!(
        ending == Ending::Exited(0) && mailbox.read(STATE) == DONE,
        "dma-sharer ended {ending:?} with state {:#x}",
        mailbox.read(STATE)
    );
    ensure!(
        mailbox.read(FAULTS_AFTER) >= 1,
        "edu's write after release did not fault"
    );
    // The child is gone: only the mailbox is left.
    stats::settle_free_pages(DEVICE, before.free_pages - 1, "after the importer's exit")?;
    drop(mailbox_mapping);
    drop(mailbox_buffer);
    stats::settle(DEVICE, before, "after the mailbox went")
}

/// Through userlib (`Dma::export`, `SharedDma::import`): a buffer of `virtio-blk0` (device
/// offset 0) imported for `dma-api0` (offset 4 GiB) in the same process gets that device's
/// address — the physical address plus its offset — and maps the very bytes the buffer
/// holds, which stay after the buffer is dropped until the import is.
pub fn an_import_for_a_second_device_gets_its_address_and_the_same_bytes() -> Outcome {
    let before = stats::read(DEVICE)?;
    let mut buffer = expect_ok("alloc", Dma::<[u64]>::zeroed_slice(DEVICE, PAGE_SIZE / 8))?;
    let to = ExportTo {
        device: Some(HIGH_DEVICE),
        pid: None,
    };
    let token = expect_ok("Dma::export", buffer.export(to))?;
    let imported = expect_ok(
        "SharedDma::import",
        SharedDma::import(Some(HIGH_DEVICE), &token),
    )?;
    let (own, seen) = (buffer.info(), imported.info());
    ensure!(
        seen.device_address == own.device_address + HIGH_OFFSET
            && imported.dma_addr() == seen.device_address
            && seen.size == own.size
            && seen.cache_type == own.cache_type,
        "the import for {HIGH_DEVICE}: {seen:?}, the buffer is {own:?}"
    );
    let words = imported.as_ptr().cast::<u64>();
    for index in 0..PAGE_SIZE / 8 {
        // SAFETY: the import maps a whole page, read-write, while `imported` lives.
        unsafe { words.add(index).write_volatile(!(index as u64)) };
    }
    userlib::dma::write_barrier();
    for (index, word) in buffer.iter_mut().enumerate() {
        // SAFETY: a valid `u64` in the buffer's mapping; volatile, as another mapping wrote it.
        let found = unsafe { core::ptr::read_volatile(word) };
        ensure!(
            found == !(index as u64),
            "word {index} written through the import reads {found:#x} in the buffer"
        );
    }
    drop(buffer);
    for index in 0..PAGE_SIZE / 8 {
        // SAFETY: as above.
        let found = unsafe { words.add(index).read_volatile() };
        ensure!(
            found == !(index as u64),
            "word {index} of the import changed to {found:#x} when the buffer was dropped"
        );
    }
    let held = stats::read(DEVICE)?;
    ensure!(
        held.free_pages == before.free_pages - 1 && held.live_buffers == before.live_buffers,
        "with only the import left the pool says {held}, expected 1 page in use of {before}"
    );
    drop(imported);
    stats::settle(DEVICE, before, "after the import went")
}

/// Forged, malformed, reused, misdirected and revoked tokens are refused, each leaving the
/// pool as it was; an import cannot be exported again; a buffer has at most 16 holders
/// besides its owner (`ENOSPC`).
pub fn bad_forged_reused_and_revoked_tokens_are_refused() -> Outcome {
    let buffer = expect_ok("alloc", Buffer::allocate(DEVICE, PAGE_SIZE))?;
    let before = stats::read(DEVICE)?;
    let token = export(&buffer, &format!("export?device={HIGH_DEVICE}"))?;
    let forged: String = token.chars().rev().collect::<String>().replace('0', "1");
    let refused = [
        (format!("dma:/{HIGH_DEVICE}/import?token={forged}"), ENOENT),
        (
            format!("dma:/{HIGH_DEVICE}/import?token={}", &token[..31]),
            EINVAL,
        ),
        (format!("dma:/{HIGH_DEVICE}/import?token={token}x"), EINVAL),
        (format!("dma:/{HIGH_DEVICE}/import"), EINVAL),
        (format!("dma:/{DEVICE}/import?token={token}"), EACCES),
        (format!("dma:/import?token={token}"), EACCES),
        (format!("dma:/nosuch0/import?token={token}"), ENOENT),
    ];
    for (path, errno) in &refused {
        expect_errno(path, share::import(path), *errno)?;
        stats::settle(DEVICE, before, &format!("after {path}"))?;
    }
    // The restriction holds for another pid too.
    let pid_token = export(&buffer, "export?pid=1")?;
    let path = format!("dma:/import?token={pid_token}");
    expect_errno(&path, share::import(&path), EACCES)?;
    for request in ["export?", "export?pid=x", "export?colour=red"] {
        expect_errno(request, share::export(buffer.fd(), request), EINVAL)?;
    }
    // The right use works once.
    let path = format!("dma:/{HIGH_DEVICE}/import?token={token}");
    let imported = expect_ok(&path, share::import(&path))?;
    expect_errno(&format!("{path} again"), share::import(&path), ENOENT)?;
    expect_errno(
        "export of an import",
        share::export(imported.fd(), "export"),
        EACCES,
    )?;
    // Holders: the import and the pid-restricted token, then 14 more, then no room.
    let mut tokens = Vec::new();
    for _ in 0..14 {
        tokens.push(export(&buffer, "export")?);
    }
    expect_errno(
        "a 17th holder",
        share::export(buffer.fd(), "export"),
        ENOSPC,
    )?;
    // Closing the buffer revokes every unused token; the import keeps the page.
    expect_ok("close", buffer.close())?;
    for token in tokens.iter().take(2).chain([&pid_token]) {
        let path = format!("dma:/import?token={token}");
        expect_errno(&format!("{path} (revoked)"), share::import(&path), ENOENT)?;
    }
    let held = stats::read(DEVICE)?;
    ensure!(
        held.free_pages == before.free_pages && held.live_buffers + 1 == before.live_buffers,
        "the import holds the page: expected {before} but one live buffer fewer, found {held}"
    );
    drop(imported);
    stats::settle_free_pages(DEVICE, before.free_pages + 1, "after the import went")
}
