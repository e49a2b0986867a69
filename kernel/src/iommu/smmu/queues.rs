//! The SMMU's register window and its two queues in kernel memory: commands out (with
//! `CMD_SYNC` completion polled) and events in.

use crate::memory::{frames, physical_to_virtual};
use core::sync::atomic::{fence, Ordering};
use kernel_core::iommu::smmu::{
    command_error_name, queue_base, Command, Event, CMDQ_BASE, CMDQ_CONS, CMDQ_CONS_ERROR_SHIFT,
    CMDQ_PROD, COMMAND_BYTES, EVENTQ_BASE, EVENTQ_CONS, EVENTQ_PROD, EVENT_BYTES, GERROR, GERRORN,
};
use kernel_core::Error;

/// How many times a register is polled before the SMMU is declared stuck (TCG answers in a
/// few; real hardware in microseconds).
pub const POLL_LIMIT: u32 = 1_000_000;

/// The SMMU's registers, mapped as device memory in the kernel's device window.
#[derive(Clone, Copy, Debug)]
pub struct Registers {
    /// Virtual address of register page 0 (page 1 follows at +64 KiB).
    pub base: u64,
}

impl Registers {
    /// Reads the 32-bit register at `offset`.
    pub fn read(self, offset: usize) -> u32 {
        // SAFETY: `base` maps the SMMU's whole 128 KiB register window (see `probe`), and
        // every offset used is a register of it, 4-byte aligned.
        unsafe { ((self.base as usize + offset) as *const u32).read_volatile() }
    }

    /// Writes the 32-bit register at `offset`.
    pub fn write(self, offset: usize, value: u32) {
        // SAFETY: as for `read`.
        unsafe { ((self.base as usize + offset) as *mut u32).write_volatile(value) }
    }

    /// Writes the 64-bit register at `offset` (base registers).
    pub fn write64(self, offset: usize, value: u64) {
        // SAFETY: as for `read`; 64-bit registers are 8-byte aligned.
        unsafe { ((self.base as usize + offset) as *mut u64).write_volatile(value) }
    }

    /// Polls until `done(register)` or [`POLL_LIMIT`] reads.
    pub fn poll(self, offset: usize, done: impl Fn(u32) -> bool) -> Result<(), Error> {
        for _ in 0..POLL_LIMIT {
            if done(self.read(offset)) {
                return Ok(());
            }
            core::hint::spin_loop();
        }
        Err(Error::TimedOut)
    }
}

/// A circular queue of `2^log2` entries of `entry_bytes` each, in one frame run. Indices
/// carry a wrap bit just above the index bits, as the PROD and CONS registers do.
pub struct Queue {
    /// Physical address of entry 0.
    pub physical: u64,
    /// log2 of the entry count.
    pub log2: u32,
    entry_bytes: usize,
    /// Software's index: PROD for the command queue, CONS for the event queue.
    index: u32,
}

impl Queue {
    /// A zeroed queue of `2^log2` entries, or `None` without memory.
    pub fn new(log2: u32, entry_bytes: usize) -> Option<Self> {
        let bytes = (entry_bytes << log2) as u64;
        let pages = bytes
            .div_ceil(kernel_core::layout::PAGE_SIZE)
            .next_power_of_two();
        let run = frames::allocate_zeroed(pages)?;
        Some(Queue {
            physical: run.physical,
            log2,
            entry_bytes,
            index: 0,
        })
    }

    /// The base register value.
    pub fn base_register(&self) -> u64 {
        queue_base(self.physical, self.log2)
    }

    fn wrap_mask(&self) -> u32 {
        (2 << self.log2) - 1
    }

    fn slot(&self, index: u32) -> *mut u64 {
        let entry = (index & ((1 << self.log2) - 1)) as usize;
        (physical_to_virtual(self.physical) + entry * self.entry_bytes) as *mut u64
    }

    /// Appends `command` and tells the SMMU, waiting for room first.
    pub fn push(&mut self, registers: Registers, command: Command) -> Result<(), Error> {
        let full = |consumer: u32| {
            let distance = self.index.wrapping_sub(consumer) & self.wrap_mask();
            distance >= 1 << self.log2
        };
        registers.poll(CMDQ_CONS, |consumer| !full(consumer))?;
        let words = command.encode();
        let slot = self.slot(self.index);
        for (at, word) in words.iter().enumerate() {
            // SAFETY: `slot` is an entry of this queue's frames (reached through the linear
            // map, RAM from the frame allocator), COMMAND_BYTES = two words long.
            unsafe { slot.add(at).write_volatile(*word) };
        }
        const _: () = assert!(COMMAND_BYTES == 16);
        // The entry must be visible to the SMMU before the producer index moves.
        fence(Ordering::SeqCst);
        self.index = (self.index + 1) & self.wrap_mask();
        registers.write(CMDQ_PROD, self.index);
        Ok(())
    }

    /// Appends `CMD_SYNC` and waits until the SMMU has consumed it, i.e. finished every
    /// command before it. A command error is logged, acknowledged and returned as `Io`.
    pub fn sync(&mut self, registers: Registers) -> Result<(), Error> {
        self.push(registers, Command::Sync)?;
        let target = self.index;
        let mask = self.wrap_mask();
        let outcome = registers.poll(CMDQ_CONS, |consumer| {
            (consumer & mask) == target || registers.read(GERROR) & 1 != registers.read(GERRORN) & 1
        });
        let error = registers.read(GERROR) ^ registers.read(GERRORN);
        if error & 1 != 0 {
            let code = (registers.read(CMDQ_CONS) >> CMDQ_CONS_ERROR_SHIFT) & 0x7f;
            log::error!(
                "smmu: command queue stopped: {} (code {code})",
                command_error_name(code)
            );
            registers.write(GERRORN, registers.read(GERRORN) ^ 1);
            return Err(Error::Io);
        }
        if outcome.is_err() {
            log::error!("smmu: CMD_SYNC did not complete");
        }
        outcome
    }

    /// The next event record the SMMU wrote, if any, consumed.
    pub fn pop_event(&mut self, registers: Registers) -> Option<Event> {
        let producer = registers.read(EVENTQ_PROD) & self.wrap_mask();
        if producer == self.index {
            return None;
        }
        let slot = self.slot(self.index);
        let mut words = [0u64; 4];
        for (at, word) in words.iter_mut().enumerate() {
            // SAFETY: `slot` is an entry of this queue's frames, EVENT_BYTES = four words.
            *word = unsafe { slot.add(at).read_volatile() };
        }
        const _: () = assert!(EVENT_BYTES == 32);
        self.index = (self.index + 1) & self.wrap_mask();
        // Acknowledge an overflow (bit 31) along with the new consumer index.
        let overflow = registers.read(EVENTQ_PROD) & (1 << 31);
        registers.write(EVENTQ_CONS, self.index | overflow);
        Some(Event::decode(words))
    }
}

/// Programs both queue base registers and zeroes their indices (SMMU disabled).
pub fn install(registers: Registers, commands: &Queue, events: &Queue) {
    registers.write64(CMDQ_BASE, commands.base_register());
    registers.write(CMDQ_PROD, 0);
    registers.write(CMDQ_CONS, 0);
    registers.write64(EVENTQ_BASE, events.base_register());
    registers.write(EVENTQ_PROD, 0);
    registers.write(EVENTQ_CONS, 0);
}
