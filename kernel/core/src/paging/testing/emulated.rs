//! Emulated physical memory holding only tables, and a frame source that counts live tables.

use super::std::boxed::Box;
use super::std::cell::RefCell;
use super::std::collections::BTreeMap;
use super::std::rc::Rc;
use crate::paging::{PhysicalAccess, TableFrames, ENTRIES_PER_TABLE, PAGE_SIZE};

/// The first frame address handed out; well away from zero so a stray zero entry is caught.
const FIRST_FRAME: u64 = 0x10_0000;

/// What the memory and the frame source share.
struct Machine {
    tables: BTreeMap<u64, Box<[u64; ENTRIES_PER_TABLE]>>,
    next_frame: u64,
    allocations_left: Option<usize>,
}

/// Physical memory that holds exactly the live tables.
///
/// Reading or writing a frame that is not a live table panics, so a walker that follows a
/// leaf as a table, or touches a table after freeing it, fails its test at once.
pub struct EmulatedMemory {
    machine: Rc<RefCell<Machine>>,
}

/// A frame source for [`EmulatedMemory`]: hands out fresh zeroed tables (never reusing an
/// address), panics when a frame that is not a live table is freed, and can be told to fail.
pub struct EmulatedFrames {
    machine: Rc<RefCell<Machine>>,
}

/// A new, empty emulated machine: its memory and its frame source.
pub fn emulated_machine() -> (EmulatedMemory, EmulatedFrames) {
    let machine = Rc::new(RefCell::new(Machine {
        tables: BTreeMap::new(),
        next_frame: FIRST_FRAME,
        allocations_left: None,
    }));
    let frames = EmulatedFrames {
        machine: Rc::clone(&machine),
    };
    (EmulatedMemory { machine }, frames)
}

impl EmulatedMemory {
    /// A copy of every live table, by physical address, for bit-identical comparisons.
    pub fn snapshot(&self) -> BTreeMap<u64, [u64; ENTRIES_PER_TABLE]> {
        let machine = self.machine.borrow();
        machine
            .tables
            .iter()
            .map(|(&address, table)| (address, **table))
            .collect()
    }
}

impl PhysicalAccess for EmulatedMemory {
    fn read_entry(&self, table: u64, index: usize) -> u64 {
        let machine = self.machine.borrow();
        let Some(entries) = machine.tables.get(&table) else {
            panic!("read of {table:#x}, which is not a live table");
        };
        entries[index]
    }

    fn write_entry(&mut self, table: u64, index: usize, value: u64) {
        let mut machine = self.machine.borrow_mut();
        let Some(entries) = machine.tables.get_mut(&table) else {
            panic!("write to {table:#x}, which is not a live table");
        };
        entries[index] = value;
    }
}

impl EmulatedFrames {
    /// The number of tables allocated and not yet freed.
    pub fn live_tables(&self) -> usize {
        self.machine.borrow().tables.len()
    }

    /// Lets only `allocations` more allocations succeed; every later one fails.
    pub fn fail_after(&mut self, allocations: usize) {
        self.machine.borrow_mut().allocations_left = Some(allocations);
    }

    /// Lets every later allocation succeed.
    pub fn never_fail(&mut self) {
        self.machine.borrow_mut().allocations_left = None;
    }
}

impl TableFrames for EmulatedFrames {
    fn allocate_table(&mut self) -> Option<u64> {
        let mut machine = self.machine.borrow_mut();
        match &mut machine.allocations_left {
            Some(0) => return None,
            Some(left) => *left -= 1,
            None => {}
        }
        let frame = machine.next_frame;
        machine.next_frame += PAGE_SIZE;
        machine
            .tables
            .insert(frame, Box::new([0; ENTRIES_PER_TABLE]));
        Some(frame)
    }

    fn free_table(&mut self, physical: u64) {
        let mut machine = self.machine.borrow_mut();
        if machine.tables.remove(&physical).is_none() {
            panic!("free of {physical:#x}, which is not a live table");
        }
    }
}
