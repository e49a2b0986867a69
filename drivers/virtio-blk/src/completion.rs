//! Waiting for the device: by interrupt (`irq:NAME`), or by polling as the fallback.
//!
//! Interrupt mode: after submitting a request the driver waits (`sys::wait_any`) on its
//! `irq:` descriptor and its `disk:` socket together. A request arriving meanwhile is read
//! at once and handled after the current one ([`Requests::stash`]); an interrupt is taken
//! (`read`), the device's own status cleared (virtio ISR / used ring), then acknowledged
//! (`write`), which unmasks the line. If no interrupt comes within [`PATIENCE`], the used
//! ring is polled and the boot log says the fallback was taken.
//!
//! Polling mode — when `irq:` cannot be opened (no grant, no routable interrupt) — spins on
//! the used ring; the log names the fallback and why once, at start.

use crate::hal::PoolHal;
use crate::transport::Transport;
use core::time::Duration;
use log::{info, warn};
use userlib::server::Requests;
use userlib::sys::{self, Interrupt};
use virtio_drivers::device::blk::{BlkReq, BlkResp, VirtIOBlk};

/// The driven device.
type Block = VirtIOBlk<PoolHal, Transport>;

/// How long the driver waits for an interrupt before it polls the used ring.
const PATIENCE: Duration = Duration::from_secs(2);

/// What the driver counts for `disk:/status`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counters {
    /// Interrupts taken.
    pub interrupts: u64,
    /// Requests the device completed.
    pub completions: u64,
    /// Completions found by polling after an interrupt did not come.
    pub polled: u64,
    /// Interrupts a previous driver left unacknowledged, taken at start.
    pub inherited: u64,
}

/// How the driver learns of completions.
pub struct Completions {
    interrupt: Option<Interrupt>,
    /// The counters.
    pub counters: Counters,
}

impl Completions {
    /// Takes `device`'s interrupt if it can (routing a PCI function's queue to MSI-X entry 0
    /// through `common_configuration`), else falls back to polling, and says which.
    pub fn start(device: &str, block: &mut Block, common_configuration: Option<u64>) -> Self {
        let mut completions = Completions {
            interrupt: None,
            counters: Counters::default(),
        };
        let interrupt = match Interrupt::open(device) {
            Ok(interrupt) => interrupt,
            Err(error) => {
                warn!("{device}: no interrupt (irq:{device}: {error}); polling completions (fallback)");
                return completions;
            }
        };
        if let Some(physical) = common_configuration {
            if let Err(reason) = crate::transport::route_queue_to_entry_zero(physical) {
                warn!("{device}: {reason}; polling completions (fallback)");
                return completions;
            }
        }
        // A previous driver may have died between an interrupt and its acknowledgement: the
        // line is still masked with it pending. Take it (the device was reset since).
        if sys::wait_any(&[interrupt.descriptor()], Some(Duration::ZERO)).is_ok() {
            if let Ok(count) = interrupt.wait() {
                block.ack_interrupt();
                let _ = interrupt.acknowledge(count);
                completions.counters.inherited += 1;
                info!("{device}: took interrupt {count} a previous driver left unacknowledged");
            }
        }
        block.enable_interrupts();
        completions.interrupt = Some(interrupt);
        completions
    }

    /// `interrupt` or `polling`.
    pub fn mode(&self) -> &'static str {
        if self.interrupt.is_some() {
            "interrupt"
        } else {
            "polling"
        }
    }

    /// Reads `bytes` from sector `sector` on, waiting for the completion (see [`Self::wait`]).
    ///
    /// # Errors
    ///
    /// The device's or the ring's error.
    pub fn read(
        &mut self,
        block: &mut Block,
        sector: usize,
        bytes: &mut [u8],
        requests: &mut Requests,
    ) -> virtio_drivers::Result {
        let (mut header, mut status) = (BlkReq::default(), BlkResp::default());
        // SAFETY: the header, data and status buffers stay borrowed here until the request
        // completes (`wait` returns only once the device has used it).
        let token = unsafe { block.read_blocks_nb(sector, &mut header, bytes, &mut status) }?;
        self.wait(block, token, requests);
        // SAFETY: the same buffers as submitted, and the device has used them.
        unsafe { block.complete_read_blocks(token, &header, bytes, &mut status) }
    }

    /// Writes `bytes` from sector `sector` on, waiting for the completion.
    ///
    /// # Errors
    ///
    /// The device's or the ring's error.
    pub fn write(
        &mut self,
        block: &mut Block,
        sector: usize,
        bytes: &[u8],
        requests: &mut Requests,
    ) -> virtio_drivers::Result {
        let (mut header, mut status) = (BlkReq::default(), BlkResp::default());
        // SAFETY: as in `read`.
        let token = unsafe { block.write_blocks_nb(sector, &mut header, bytes, &mut status) }?;
        self.wait(block, token, requests);
        // SAFETY: as in `read`.
        unsafe { block.complete_write_blocks(token, &header, bytes, &mut status) }
    }

    /// Waits until the device has used request `token`, stashing `disk:` requests that
    /// arrive meanwhile.
    fn wait(&mut self, block: &mut Block, token: u16, requests: &mut Requests) {
        let Some(interrupt) = &self.interrupt else {
            while block.peek_used() != Some(token) {
                core::hint::spin_loop();
            }
            self.counters.completions += 1;
            return;
        };
        let sources = [interrupt.descriptor(), requests.socket()];
        loop {
            match sys::wait_any(&sources, Some(PATIENCE)) {
                Ok(0) => {
                    let Ok(count) = interrupt.wait() else {
                        continue;
                    };
                    self.counters.interrupts += 1;
                    block.ack_interrupt();
                    if let Err(error) = interrupt.acknowledge(count) {
                        warn!("cannot acknowledge interrupt {count}: {error}");
                    }
                    if block.peek_used() == Some(token) {
                        self.counters.completions += 1;
                        return;
                    }
                }
                Ok(_) => {
                    if let Err(error) = requests.stash() {
                        warn!("reading a disk: request while waiting: {error}");
                    }
                }
                Err(_) if block.peek_used() == Some(token) => {
                    if self.counters.polled == 0 {
                        warn!(
                            "no interrupt within {} s of a completion; polled the used ring \
                             (fallback)",
                            PATIENCE.as_secs()
                        );
                    }
                    self.counters.polled += 1;
                    self.counters.completions += 1;
                    return;
                }
                Err(_) => {}
            }
        }
    }

    /// For tests (`--exit-unacknowledged`): reads sector 0, takes its interrupt and returns
    /// its count without acknowledging it.
    pub fn take_without_acknowledging(&mut self, block: &mut Block) -> Option<u64> {
        let interrupt = self.interrupt.as_ref()?;
        let (mut request, mut response) = (BlkReq::default(), BlkResp::default());
        let mut sector = [0u8; 512];
        // SAFETY: the three buffers live on this frame until the request completes below
        // (the interrupt says the device used it; `complete_read_blocks` takes it back).
        let token =
            unsafe { block.read_blocks_nb(0, &mut request, &mut sector, &mut response) }.ok()?;
        let count = interrupt.wait().ok()?;
        while block.peek_used() != Some(token) {
            core::hint::spin_loop();
        }
        // SAFETY: the same buffers as submitted, and the device has used them.
        unsafe { block.complete_read_blocks(token, &request, &mut sector, &mut response) }.ok()?;
        Some(count)
    }
}
