//! Memory a scheme server lends through `fmap`: its frames are counted, so they outlive the
//! server's own mapping, and when the server dies every mapping it lent is revoked. And a
//! descriptor outlives its server only as a stale handle a new server never hears of.

use alloc::format;
use process_tests::check::{expect_ending, expect_errno, expect_ok, Outcome};
use process_tests::lending::{self, PAGE};
use process_tests::{child, ensure, sys_memory};
use userlib::sys::error::{EBADF, EIO};
use userlib::sys::{self, flag::O_RDWR, Ending, Map, MapFlags};

const LENDER: &str = "/bin/lender";

/// The server unmaps the page it lent: the frame stays allocated (the free-frame count does
/// not move) and keeps its contents while the client maps it, even as the client allocates
/// fresh pages; it is freed when the client unmaps it.
pub fn lent_page_outlives_the_lenders_unmap() -> Outcome {
    with_server(outlives_the_unmap)
}

fn outlives_the_unmap(file: usize) -> Outcome {
    let address = lending::map(file)?;
    lending::check_pattern(address)?;
    let before = sys_memory::free_pages()?;
    expect_ok(
        "ask the server to unmap its page",
        sys::write(file, b"unmap"),
    )?;
    let after = sys_memory::free_pages()?;
    ensure!(
        after == before,
        "the server's unmap of a page it lent freed {} frames while the client maps it",
        after as i64 - before as i64
    );
    let fresh = Map {
        offset: 0,
        size: PAGE,
        flags: MapFlags::PROT_READ | MapFlags::PROT_WRITE | MapFlags::MAP_PRIVATE,
        address: 0,
    };
    let mut pages = alloc::vec::Vec::new();
    for _ in 0..16 {
        // SAFETY: fresh anonymous memory at an address the kernel chooses.
        let page = expect_ok("fmap a fresh page", unsafe {
            sys::fmap(usize::MAX, &fresh)
        })?;
        // SAFETY: the kernel just mapped `PAGE` writable bytes there for this process.
        unsafe { core::ptr::write_bytes(page as *mut u8, 0x5a, PAGE) };
        pages.push(page);
    }
    let kept = lending::check_pattern(address).map_err(|reason| {
        format!("after the server unmapped it and the client allocated 16 pages: {reason}")
    });
    for page in pages {
        // SAFETY: unmaps a page mapped above that nothing uses any more.
        expect_ok("funmap a fresh page", unsafe { sys::funmap(page, PAGE) })?;
    }
    kept?;
    let before = sys_memory::free_pages()?;
    // SAFETY: unmaps the lent page, which nothing reads any more.
    expect_ok("funmap the lent page", unsafe {
        sys::funmap(address, PAGE)
    })?;
    let after = sys_memory::free_pages()?;
    ensure!(
        after > before,
        "the client's unmap of the last mapping of a lent page freed no frame"
    );
    Ok(())
}

/// The server exits while a client maps a page it lent: the kernel revokes the mapping, so
/// the client's next touch kills it instead of reading a frame that may belong to someone
/// else by then.
pub fn revoked_mapping_kills_its_toucher() -> Outcome {
    let server = start_server()?;
    lending::wait_for_server()?;
    let borrower = child::run(LENDER, &["borrow-and-touch"])?;
    let server = child::wait(server)?;
    expect_ending("lender borrow-and-touch", borrower, Ending::Killed)?;
    expect_ending("lender serve", server, Ending::Exited(0))
}

/// A client whose mapping of a lent page fails (its region table is full) is left with no
/// trace of it: no frame counted as shared, and the server got the `Munmap` that balances
/// its `MmapPrep`.
pub fn failed_lent_mapping_undoes_everything() -> Outcome {
    with_server(|file| {
        let shared = sys_memory::shared_pages()?;
        let (pages, refused) = crate::tables::fill_region_table();
        let failed = lending::map(file);
        crate::tables::unmap_all(pages);
        ensure!(refused.is_some(), "the region table never filled");
        match failed {
            Err(reason) if reason.ends_with("ENOMEM") => {}
            Err(reason) => return Err(format!("{reason}, not ENOMEM")),
            Ok(address) => return Err(format!("fmap with a full table gave {address:#x}")),
        }
        let now = sys_memory::shared_pages()?;
        ensure!(
            now == shared,
            "shared pages: {shared} before the failed mapping, {now} after"
        );
        let held = expect_ok("ask the server its count", sys::write(file, b"count"))?;
        ensure!(
            held == 0,
            "the server counts {held} mappings after the client's mapping failed"
        );
        Ok(())
    })
}

/// How many mappings `unmap_flood_reaches_the_server` makes and then unmaps in one burst:
/// more than the kernel queues from one client at one server (64), so the client must wait
/// for room rather than lose a `Munmap` or fail.
const UNMAP_FLOOD: usize = 200;

/// A client unmaps [`UNMAP_FLOOD`] mappings of a lent page back to back: every `funmap`
/// succeeds, the server hears every `Munmap` (its count returns to 0), and no frame stays
/// counted as shared.
pub fn unmap_flood_reaches_the_server() -> Outcome {
    with_server(|file| {
        let shared = sys_memory::shared_pages()?;
        let mut addresses = alloc::vec::Vec::new();
        for _ in 0..UNMAP_FLOOD {
            addresses.push(lending::map(file)?);
        }
        let held = expect_ok("ask the server its count", sys::write(file, b"count"))?;
        ensure!(
            held == UNMAP_FLOOD,
            "the server counts {held} mappings, not {UNMAP_FLOOD}"
        );
        for address in addresses {
            // SAFETY: unmaps a read-only mapping made above that nothing reads any more.
            expect_ok("funmap a lent page", unsafe { sys::funmap(address, PAGE) })?;
        }
        let held = expect_ok("ask the server its count", sys::write(file, b"count"))?;
        ensure!(
            held == 0,
            "the server counts {held} mappings after the client unmapped them all"
        );
        let now = sys_memory::shared_pages()?;
        ensure!(
            now == shared,
            "shared pages: {shared} before the flood, {now} after"
        );
        Ok(())
    })
}

/// A server exits while a client holds a descriptor on its scheme, and a new server registers
/// the same name: the descriptor is stale. While nobody serves the name, requests on it get
/// `EIO`; once the new server does, `EBADF` from the kernel — the new server (which numbers
/// its handles exactly as the old one did) is never asked, and closing the descriptor sends
/// it no `Close`.
pub fn stale_handle_never_reaches_a_new_server() -> Outcome {
    let old = start_server()?;
    lending::wait_for_server()?;
    let stale = expect_ok("open lender:page", sys::open("lender:page", O_RDWR))?;
    let checked = stale_handle_checks(old, stale);
    let _ = sys::close(stale);
    checked
}

fn stale_handle_checks(old: usize, stale: usize) -> Outcome {
    expect_ok("ask the first server to exit", sys::write(stale, b"exit"))?;
    expect_ending("the first lender", child::wait(old)?, Ending::Exited(0))?;
    expect_errno(
        "write on a descriptor whose server is gone",
        sys::write(stale, b"count"),
        EIO,
    )?;
    with_server(|fresh| {
        expect_errno(
            "write on the old server's descriptor, a new server serving",
            sys::write(stale, b"count"),
            EBADF,
        )?;
        let mut bytes = [0u8; 8];
        expect_errno(
            "read on the old server's descriptor",
            sys::read(stale, &mut bytes),
            EBADF,
        )?;
        expect_errno(
            "fmap of the old server's descriptor",
            lending::map_raw(stale),
            EBADF,
        )?;
        let closes = expect_ok(
            "ask the new server its closes",
            sys::write(fresh, b"closes"),
        )?;
        expect_ok("close the old server's descriptor", sys::close(stale))?;
        let after = expect_ok(
            "ask the new server its closes",
            sys::write(fresh, b"closes"),
        )?;
        ensure!(
            after == closes,
            "the new server got {} Close(s) for its predecessor's handle",
            after - closes
        );
        Ok(())
    })
}

/// Starts the lender, opens `lender:page` and runs `body` on that descriptor; then, whatever
/// happened, stops the server (so the next test can register the scheme again) and checks
/// it exited 0. It answers `exit` and exits at once: the answer must reach us all the same.
fn with_server(body: impl FnOnce(usize) -> Outcome) -> Outcome {
    let server = start_server()?;
    lending::wait_for_server()?;
    let file = expect_ok("open lender:page", sys::open("lender:page", O_RDWR))?;
    let checked = body(file);
    let stopped = expect_ok("ask the server to exit", sys::write(file, b"exit"));
    let _ = sys::close(file);
    let ending = child::wait(server)?;
    checked?;
    stopped?;
    expect_ending("lender serve", ending, Ending::Exited(0))
}

/// Starts `lender serve` with the rights of its manifest section (serving `lender`).
fn start_server() -> Result<usize, alloc::string::String> {
    sys::spawn_with_rights(LENDER, &["serve"], "lender").map_err(|error| {
        format!(
            "spawn {LENDER} serve with its rights: {}",
            process_tests::check::errno_name(error.errno)
        )
    })
}
