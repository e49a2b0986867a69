//! The controller: reset, admin queue, identify, one I/O queue pair, and block transfers
//! with PRP lists — every queue, the identify page and the data buffer from the device's
//! pool; the PRP list is a block of a small-block [`DmaPool`] (whose page comes from that
//! pool), sized for the data buffer's pages and never crossing a page boundary, as a list
//! that does not chain must not.
//!
//! A `disk:` read or write moves the request's own bytes through a streaming mapping
//! (`userlib::dma::StreamMapper`: bounced through a pool buffer, copied back after a read;
//! idle bounce buffers are listed with the others). The data buffer is for the bulk
//! requests (`WriteGeneration`, `ReadDigest`), which fill and digest it in place: for each
//! command it is lent to the controller (`Dma::lend_to_device`) and reclaimed after the
//! completion, so no `&mut` into it exists while the controller owns it.
//!
//! # Start-up (NVMe Base Specification §3.5.1)
//!
//! 1. read CAP; the NVM command set and 4 KiB pages must be supported;
//! 2. clear CC.EN and wait for CSTS.RDY = 0 (a controller a dead driver left running is
//!    reset here, which also stops its DMA); take an interrupt the dead driver left
//!    unacknowledged;
//! 3. admin queues from the pool, AQA/ASQ/ACQ;
//! 4. CC: enable, NVM command set, 4 KiB pages, 64/16-byte entries; wait for CSTS.RDY = 1
//!    (CAP.TO bounds both waits); release a pin interrupt the reset left asserted
//!    ([`release_stuck_line`]);
//! 5. Identify Controller, Identify Namespace 1 (512-byte blocks, no metadata required);
//! 6. Set Features Number of Queues (one pair), Create I/O Completion Queue 1 (interrupts
//!    enabled, vector 0), Create I/O Submission Queue 1.
//!
//! Both completion queues signal MSI-X vector 0 (or INTx), the interrupt `irq:NAME` holds;
//! the driver opens it before enabling the controller, since QEMU's controller only
//! signals a vector that was enabled when the queue was created.

use crate::bar::Bar;
use crate::queue::{CommandError, QueuePair};
use alloc::format;
use alloc::string::String;
use core::time::Duration;
use disk_api::SECTOR_SIZE;
use driver_kit::completion::Completions;
use nvme::command::{identify_structure, Command};
use nvme::identify::{self, IDENTIFY_SIZE};
use nvme::prp::{self, Prp};
use nvme::registers::{self as reg, Capabilities};
use nvme::PAGE_SIZE;
use userlib::dma::{self, DeviceOwned, Direction, Dma, DmaBlock, DmaPool, StreamMapper};
use userlib::server::Requests;
use userlib::{sys, time};

/// Entries in each queue.
pub const QUEUE_ENTRIES: u16 = 64;

/// The namespace the driver serves.
pub const NAMESPACE: u32 = 1;

/// Bytes in the data buffer: the largest transfer (256 sectors).
pub const DATA_BYTES: usize = 256 * SECTOR_SIZE as usize;

/// Bytes of the PRP list: an entry for every page of the data buffer (it needs one fewer).
const PRP_LIST_BYTES: usize = DATA_BYTES / PAGE_SIZE as usize * 8;

/// How long one I/O or admin command may take.
const COMMAND_PATIENCE: Duration = Duration::from_secs(10);

/// A running controller.
pub struct Controller {
    bar: Bar,
    wait: Completions,
    admin: QueuePair,
    io: QueuePair,
    identify_page: Dma<[u8]>,
    /// Small DMA blocks; the PRP list is one.
    blocks: DmaPool,
    prp_list: DmaBlock,
    /// The data buffer while it is the CPU's (between commands); during a transfer the
    /// controller owns it (`Dma::lend_to_device`), so no `&mut` into it exists.
    data: Option<Dma<[u8]>>,
    /// The data buffer's device address and length, which stay known while it is lent.
    data_address: u64,
    data_length: usize,
    /// The data buffer of a read started and never waited for (`start_read`).
    in_flight: Option<DeviceOwned<[u8]>>,
    /// Streaming mappings of `disk:` reads' and writes' bytes (bounced through the pool).
    mapper: StreamMapper,
    /// From Identify Controller.
    pub identity: identify::Controller,
    /// From Identify Namespace.
    pub namespace: identify::Namespace,
    /// The VS register.
    pub version: (u16, u8, u8),
}

impl Controller {
    /// Resets and starts the controller whose registers are `bar`, with memory from
    /// `device`'s pool.
    ///
    /// # Errors
    ///
    /// Why the controller cannot be used, for the log.
    pub fn start(device: &str, bar: Bar, mut wait: Completions) -> Result<Self, String> {
        let caps = Capabilities::decode(bar.read64(reg::CAP));
        if !caps.nvm_command_set {
            return Err("the controller does not offer the NVM command set".into());
        }
        if !(caps.min_page_size..=caps.max_page_size).contains(&PAGE_SIZE) {
            return Err(format!("4 KiB pages unsupported ({caps:?})"));
        }
        let entries = QUEUE_ENTRIES.min(caps.max_queue_entries.min(0xffff) as u16);
        let version = reg::version(bar.read32(reg::VS));
        let patience = Duration::from_millis(caps.timeout_ms.max(500));
        let dma = |error| format!("no DMA memory from dma:/{device}: {error}");

        let configuration = bar.read32(reg::CC);
        if configuration & 1 != 0 {
            log::info!(
                "{device}: the controller is enabled (left so by firmware or a previous driver); resetting it"
            );
        }
        bar.write32(reg::CC, configuration & !1);
        wait_status(&bar, false, patience)?;
        // Reset: the controller no longer signals what a dead driver left pending (QEMU 7.2 may
        // still hold its pin interrupt asserted: `release_stuck_line` after the enable).
        wait.take_inherited(|| ());
        let admin = QueuePair::new(device, 0, entries, &caps).map_err(dma)?;
        let (submissions, completions) = admin.addresses();
        bar.write32(reg::AQA, reg::admin_queue_attributes(entries));
        bar.write64(reg::ASQ, submissions);
        bar.write64(reg::ACQ, completions);
        bar.write32(reg::CC, reg::enable_configuration());
        wait_status(&bar, true, patience)?;
        release_stuck_line(&bar, &wait, caps.completion_doorbell(0), device);

        let mut blocks =
            DmaPool::new(device, PRP_LIST_BYTES, 64, PAGE_SIZE as usize).map_err(dma)?;
        let prp_list = blocks.alloc().map_err(dma)?;
        let data = Dma::<[u8]>::zeroed_slice(device, DATA_BYTES).map_err(dma)?;
        let mut controller = Controller {
            io: QueuePair::new(device, 1, entries, &caps).map_err(dma)?,
            admin,
            wait,
            identify_page: Dma::zeroed_slice(device, IDENTIFY_SIZE).map_err(dma)?,
            blocks,
            prp_list,
            data_address: data.dma_addr(),
            data_length: data.len(),
            data: Some(data),
            in_flight: None,
            mapper: StreamMapper::new(device),
            bar,
            identity: identify::Controller::parse(&[0; IDENTIFY_SIZE]),
            namespace: identify::Namespace {
                blocks: 0,
                block_size: SECTOR_SIZE,
                metadata: 0,
            },
            version,
        };
        controller.identify()?;
        controller.create_io_queues()?;
        Ok(controller)
    }

    fn identify(&mut self) -> Result<(), String> {
        let page = self.identify_page.dma_addr();
        let command = Command::identify(identify_structure::CONTROLLER, 0, page);
        self.admin(&command)
            .map_err(|error| format!("Identify Controller: {error}"))?;
        self.identity = identify::Controller::parse(&self.identify_bytes());
        if self.identity.namespaces < NAMESPACE {
            return Err("the controller has no namespace".into());
        }
        let command = Command::identify(identify_structure::NAMESPACE, NAMESPACE, page);
        self.admin(&command)
            .map_err(|error| format!("Identify Namespace {NAMESPACE}: {error}"))?;
        let namespace = identify::Namespace::parse(&self.identify_bytes())
            .ok_or("namespace 1 has no usable block format")?;
        if namespace.block_size != SECTOR_SIZE || namespace.metadata != 0 {
            return Err(format!(
                "namespace 1 has {}-byte blocks with {} metadata bytes; the driver serves 512-byte blocks without metadata",
                namespace.block_size, namespace.metadata
            ));
        }
        if let Some(limit) = self.identity.max_transfer(PAGE_SIZE) {
            if limit < DATA_BYTES as u64 {
                return Err(format!(
                    "the controller moves at most {limit} bytes per command"
                ));
            }
        }
        self.namespace = namespace;
        Ok(())
    }

    fn identify_bytes(&self) -> [u8; IDENTIFY_SIZE] {
        dma::read_barrier();
        let mut bytes = [0u8; IDENTIFY_SIZE];
        bytes.copy_from_slice(&self.identify_page);
        bytes
    }

    fn create_io_queues(&mut self) -> Result<(), String> {
        self.admin(&Command::set_queue_count(1))
            .map_err(|error| format!("Set Features (Number of Queues): {error}"))?;
        let (submissions, completions) = self.io.addresses();
        let entries = self.io.entries();
        self.admin(&Command::create_completion_queue(
            1,
            entries,
            completions,
            0,
        ))
        .map_err(|error| format!("Create I/O Completion Queue: {error}"))?;
        self.admin(&Command::create_submission_queue(
            1,
            entries,
            submissions,
            1,
        ))
        .map_err(|error| format!("Create I/O Submission Queue: {error}"))?;
        Ok(())
    }

    fn admin(&mut self, command: &Command) -> Result<(), CommandError> {
        self.admin
            .execute(&self.bar, &mut self.wait, None, command, COMMAND_PATIENCE)
            .map(|_| ())
    }

    /// How the driver waits for completions: `interrupt` or `polling`.
    pub fn wait_mode(&self) -> &'static str {
        self.wait.mode()
    }

    /// The `disk:/status` text, with `stashed` requests.
    pub fn status(&self, stashed: u64) -> String {
        self.wait.status_text(stashed)
    }

    /// The data buffer (for reads, what the last read brought; for writes, fill it first).
    ///
    /// # Panics
    ///
    /// After [`Controller::start_read`], which leaves it with the controller.
    pub fn data(&mut self) -> &mut [u8] {
        self.data
            .as_mut()
            .expect("the data buffer is the CPU's between commands")
    }

    /// Lends the data buffer to the controller for one command.
    fn lend_data(&mut self) -> DeviceOwned<[u8]> {
        self.data
            .take()
            .expect("the data buffer is the CPU's between commands")
            .lend_to_device()
    }

    /// Reads (`write == false`) or writes `blocks` blocks from `first` through the first
    /// `blocks * 512` bytes of the data buffer, in one command, stashing `requests` that
    /// arrive meanwhile.
    ///
    /// # Errors
    ///
    /// The controller's status, or no completion in time.
    ///
    /// # Panics
    ///
    /// If the transfer is larger than the data buffer (callers check counts first).
    pub fn transfer(
        &mut self,
        write: bool,
        first: u64,
        blocks: u32,
        requests: &mut Requests,
    ) -> Result<(), CommandError> {
        let command =
            self.transfer_command(write, first, blocks, self.data_address, self.data_length);
        let lent = self.lend_data();
        let executed = self.io.execute(
            &self.bar,
            &mut self.wait,
            Some(requests),
            &command,
            COMMAND_PATIENCE,
        );
        // Reclaimed after a completion, or after giving up on one: the controller is not
        // reset on a timeout, so a late completion could still write the buffer (the
        // client gets EIO either way).
        self.data = Some(lent.reclaim());
        executed.map(|_| ())
    }

    /// Starts a read of `blocks` blocks from `first` and returns without waiting (for the
    /// test of a driver that dies mid-I/O).
    ///
    /// # Errors
    ///
    /// As [`Controller::transfer`].
    pub fn start_read(&mut self, first: u64, blocks: u32) -> Result<u16, CommandError> {
        let command =
            self.transfer_command(false, first, blocks, self.data_address, self.data_length);
        let lent = self.lend_data();
        let submitted = self.io.submit(&self.bar, &command);
        self.in_flight = Some(lent);
        submitted
    }

    /// Reads `bytes.len() / 512` blocks from `first` into `bytes` through a streaming
    /// mapping (bounced through a pool buffer, copied back when the command completed).
    ///
    /// # Errors
    ///
    /// As [`Controller::transfer`]; [`CommandError::Mapping`] if no bounce buffer could be
    /// had.
    pub fn read_into(
        &mut self,
        first: u64,
        bytes: &mut [u8],
        requests: &mut Requests,
    ) -> Result<(), CommandError> {
        match self.mapper.map_single(bytes, Direction::FromDevice) {
            Ok(mapping) => {
                let address = mapping.dma_addr();
                let done = self.transfer_at(false, first, bytes_of(&mapping), address, requests);
                // Completed or abandoned, the bytes come back (`transfer`'s caveat).
                mapping.unmap();
                done
            }
            Err(error) => Err(CommandError::Mapping(error.errno)),
        }
    }

    /// Writes `bytes` (`bytes.len() / 512` blocks) from `first` on through a streaming
    /// mapping.
    ///
    /// # Errors
    ///
    /// As [`Controller::read_into`].
    pub fn write_from(
        &mut self,
        first: u64,
        bytes: &[u8],
        requests: &mut Requests,
    ) -> Result<(), CommandError> {
        match self.mapper.map_for_device(bytes) {
            Ok(mapping) => {
                let address = mapping.dma_addr();
                let done = self.transfer_at(true, first, bytes_of(&mapping), address, requests);
                mapping.unmap();
                done
            }
            Err(error) => Err(CommandError::Mapping(error.errno)),
        }
    }

    /// One transfer command on `length` bytes at device address `address`.
    fn transfer_at(
        &mut self,
        write: bool,
        first: u64,
        length: usize,
        address: u64,
        requests: &mut Requests,
    ) -> Result<(), CommandError> {
        let blocks = (length as u64 / SECTOR_SIZE) as u32;
        let command = self.transfer_command(write, first, blocks, address, length);
        self.io
            .execute(
                &self.bar,
                &mut self.wait,
                Some(requests),
                &command,
                COMMAND_PATIENCE,
            )
            .map(|_| ())
    }

    /// The command for a transfer through `available` bytes at device address `address`
    /// (the data buffer or a streaming mapping), its PRP list written if needed.
    fn transfer_command(
        &mut self,
        write: bool,
        first: u64,
        blocks: u32,
        address: u64,
        available: usize,
    ) -> Command {
        let bytes = u64::from(blocks) * SECTOR_SIZE;
        assert!(
            bytes as usize <= available && bytes as usize <= DATA_BYTES,
            "{blocks} blocks exceed the buffer"
        );
        let plan = prp::plan(address, bytes).expect("DMA buffers are page-aligned");
        if let Prp::List { first, entries } = plan {
            let list = self
                .blocks
                .bytes_mut(&self.prp_list)
                .expect("the PRP list is a live block of the pool");
            assert!(entries * 8 <= list.len(), "the PRP list is too short");
            for (slot, page) in list
                .chunks_exact_mut(8)
                .zip(prp::list_entries(first, entries))
            {
                slot.copy_from_slice(&page.to_le_bytes());
            }
        }
        // The data (for a write) and the PRP list reach memory before the doorbell, which
        // `submit` fences.
        let pointers = prp::pointers(plan, self.prp_list.dma_addr());
        Command::transfer(write, NAMESPACE, first, blocks, pointers)
    }

    /// Flushes the namespace's volatile write cache.
    ///
    /// # Errors
    ///
    /// As [`Controller::transfer`].
    pub fn flush(&mut self, requests: &mut Requests) -> Result<(), CommandError> {
        self.io
            .execute(
                &self.bar,
                &mut self.wait,
                Some(requests),
                &Command::flush(NAMESPACE),
                COMMAND_PATIENCE,
            )
            .map(|_| ())
    }

    /// `buffer NAME DEVICE-ADDRESS BYTES` for every DMA buffer the driver holds.
    pub fn buffers(&self) -> String {
        let mut text = self.admin.describe("admin");
        text.push_str(&self.io.describe("io"));
        for (name, address, bytes) in [
            (
                "identify",
                self.identify_page.dma_addr(),
                self.identify_page.len(),
            ),
            (
                "prp-list",
                self.prp_list.dma_addr(),
                self.blocks.block_size(),
            ),
            ("data", self.data_address, self.data_length),
        ] {
            text.push_str(&format!("buffer {name} {address:#x} {bytes}\n"));
        }
        for (address, bytes) in self.mapper.idle_bounce_buffer_addresses() {
            text.push_str(&format!("buffer bounce {address:#x} {bytes}\n"));
        }
        text
    }
}

/// Bytes a one-segment mapping covers.
fn bytes_of(mapping: &dma::Mapping<'_>) -> usize {
    mapping.device_segments().map(|(_, length)| length).sum()
}

/// Waits until CSTS.RDY is `ready`, failing on CSTS.CFS or after `patience`.
/// How long a freshly enabled controller's line is watched for an interrupt it has no
/// reason to send.
const STUCK_LINE_PATIENCE: Duration = Duration::from_millis(20);
/// The most redundant doorbell writes [`release_stuck_line`] makes.
const STUCK_LINE_REPAIRS: u32 = 8;

/// Releases a pin interrupt (INTx) that a reset left asserted — a QEMU 7.2 NVMe model bug.
///
/// QEMU drives INTx from `irq_status`, which it clears only while `cq_pending` (its count
/// of interrupt-enabled completion queues holding unconsumed entries) is 0, and its
/// controller reset frees the queues without lowering either. A driver killed after a
/// completion was posted but before it was consumed (the `nvme` suite does this on
/// purpose) thus leaves the line high for good: every later unmask re-fires at once, on
/// GICv2 and GICv3 alike, and the driver in effect polls through interrupts (the old
/// "two or more interrupts per completion" on aarch64). QEMU lowers `cq_pending` on every
/// completion-queue head doorbell write that leaves the queue empty, so here — controller
/// just enabled, admin queue empty, nothing submitted, the only time an interrupt proves
/// the state stale — one write of the admin queue's unchanged head per interrupt that
/// arrives undoes one leaked count. MSI-X and a sane controller send nothing here, so the
/// check then costs [`STUCK_LINE_PATIENCE`] and writes nothing.
fn release_stuck_line(bar: &Bar, wait: &Completions, admin_head_doorbell: usize, device: &str) {
    let Some(interrupt) = wait.interrupt() else {
        return;
    };
    let mut repairs = 0;
    while sys::wait_any(&[interrupt.descriptor()], Some(STUCK_LINE_PATIENCE)).is_ok() {
        if repairs == STUCK_LINE_REPAIRS {
            log::warn!(
                "{device}: the interrupt line stays asserted after {repairs} repairs; \
                 completions will be found by spurious interrupts"
            );
            return;
        }
        let Ok(count) = interrupt.wait() else {
            return;
        };
        bar.write32(admin_head_doorbell, 0);
        let _ = interrupt.acknowledge(count);
        repairs += 1;
    }
    if repairs > 0 {
        log::info!(
            "{device}: the interrupt line was asserted with nothing outstanding (state a reset \
             left); released by {repairs} admin completion doorbell write(s)"
        );
    }
}

fn wait_status(bar: &Bar, ready: bool, patience: Duration) -> Result<(), String> {
    let start = time::monotonic().map_err(|error| format!("no clock: {error}"))?;
    loop {
        let status = bar.read32(reg::CSTS);
        if status & reg::CSTS_FATAL != 0 && ready {
            return Err(format!("controller fatal status (CSTS {status:#x})"));
        }
        if (status & reg::CSTS_READY != 0) == ready {
            return Ok(());
        }
        let now = time::monotonic().map_err(|error| format!("no clock: {error}"))?;
        if now - start > patience {
            return Err(format!(
                "the controller did not become {} within {patience:?} (CSTS {status:#x})",
                if ready { "ready" } else { "idle" }
            ));
        }
        let _ = time::sleep(Duration::from_millis(1));
    }
}
