//! Bounded per-process kernel tables: filling one gives its documented errno, the next
//! request of that kind gets it too, and everything works again once room is made.

use alloc::vec::Vec;
use process_tests::check::{expect_errno, expect_ok, Outcome};
use process_tests::{child, ensure};
use userlib::sys::error::{EAGAIN, ENOMEM};
use userlib::sys::{self, Map, MapFlags};

/// The kernel's limit on one space's mappings (`space::MAX_REGIONS`).
const MAX_REGIONS: usize = 4096;

/// The kernel's limit on one process's children (`process::MAX_CHILDREN`).
const MAX_CHILDREN: usize = 64;

const PAGE: usize = 4096;

/// Mapping one page at a time fills the region table: the next `fmap` is `ENOMEM`, and one
/// `funmap` makes room for exactly one more.
pub fn full_region_table_gives_enomem() -> Outcome {
    let map = one_page();
    let (pages, refused) = fill_region_table();
    let outcome = check_full(&pages, refused, &map);
    unmap_all(pages);
    outcome
}

/// A request for one anonymous read-write page.
fn one_page() -> Map {
    Map {
        offset: 0,
        size: PAGE,
        flags: MapFlags::PROT_READ | MapFlags::PROT_WRITE | MapFlags::MAP_PRIVATE,
        address: 0,
    }
}

/// Maps one anonymous page at a time until the kernel refuses (or [`MAX_REGIONS`] more went
/// through): the pages mapped and the refusal.
pub fn fill_region_table() -> (Vec<usize>, Option<sys::Error>) {
    let map = one_page();
    // Room for every address first: the heap must not need anything while the table is full.
    let mut pages: Vec<usize> = Vec::with_capacity(MAX_REGIONS);
    let refused = loop {
        // SAFETY: fresh anonymous memory at an address the kernel chooses.
        match unsafe { sys::fmap(usize::MAX, &map) } {
            Ok(page) if pages.len() < MAX_REGIONS => pages.push(page),
            Ok(page) => {
                // SAFETY: unmaps the page just mapped, which nothing uses.
                let _ = unsafe { sys::funmap(page, PAGE) };
                break None;
            }
            Err(error) => break Some(error),
        }
    };
    (pages, refused)
}

/// Unmaps pages [`fill_region_table`] mapped.
pub fn unmap_all(pages: Vec<usize>) {
    for page in pages {
        // SAFETY: unmaps an anonymous page mapped by `fill_region_table` that nothing uses.
        let _ = unsafe { sys::funmap(page, PAGE) };
    }
}

fn check_full(pages: &[usize], refused: Option<sys::Error>, map: &Map) -> Outcome {
    let Some(error) = refused else {
        return Err(alloc::format!(
            "{MAX_REGIONS} more mappings than the limit went through"
        ));
    };
    ensure!(
        error.errno == ENOMEM,
        "the mapping past the limit failed with errno {}, not ENOMEM",
        error.errno
    );
    ensure!(
        pages.len() > MAX_REGIONS / 2,
        "only {} mappings before the table was full",
        pages.len()
    );
    // SAFETY: fresh anonymous memory at an address the kernel chooses.
    let one_more = unsafe { sys::fmap(usize::MAX, map) };
    expect_errno("one more fmap", one_more, ENOMEM)?;
    let last = *pages.last().expect("at least one mapping");
    // SAFETY: unmaps one page mapped by the caller that nothing uses; the caller unmaps the
    // rest (its funmap of this one then fails harmlessly).
    expect_ok("funmap one page", unsafe { sys::funmap(last, PAGE) })?;
    // SAFETY: fresh anonymous memory at an address the kernel chooses.
    let again = expect_ok("fmap after making room", unsafe {
        sys::fmap(usize::MAX, map)
    })?;
    // SAFETY: unmaps the page just mapped.
    expect_ok("funmap it again", unsafe { sys::funmap(again, PAGE) })?;
    Ok(())
}

/// Children that have exited but are not reaped count: the spawn past the limit is `EAGAIN`,
/// and reaping one makes room for one more.
pub fn full_children_table_gives_eagain() -> Outcome {
    let mut children: Vec<usize> = Vec::with_capacity(MAX_CHILDREN + 1);
    let refused = loop {
        match sys::spawn("/bin/short-lived", &[]) {
            Ok(pid) if children.len() <= MAX_CHILDREN => {
                children.push(pid);
                // Let it run to its end, so at most one child holds memory at a time.
                let _ = sys::sched_yield();
            }
            Ok(pid) => {
                children.push(pid);
                break None;
            }
            Err(error) => break Some(error),
        }
    };
    let outcome = match refused {
        None => Err(alloc::format!(
            "{} children were all allowed",
            children.len()
        )),
        Some(error) if error.errno != EAGAIN => Err(alloc::format!(
            "the spawn past the limit failed with errno {}, not EAGAIN",
            error.errno
        )),
        Some(_) if children.len() != MAX_CHILDREN => Err(alloc::format!(
            "EAGAIN after {} children, not {MAX_CHILDREN}",
            children.len()
        )),
        Some(_) => expect_errno(
            "one more spawn",
            sys::spawn("/bin/short-lived", &[]),
            EAGAIN,
        ),
    };
    let mut reaped = Vec::with_capacity(children.len());
    for pid in children {
        reaped.push(child::wait(pid));
    }
    outcome?;
    for ending in reaped {
        ending?;
    }
    let ending = child::run("/bin/short-lived", &[])?;
    ensure!(
        ending.is_success(),
        "short-lived after the table emptied: {ending}"
    );
    Ok(())
}
