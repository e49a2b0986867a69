//! x86 I/O APIC routing, the pure part: which global system interrupt (GSI) and which
//! trigger and polarity an ISA IRQ has after the MADT's interrupt source overrides, and the
//! 64-bit redirection entry that sends a GSI to a local-APIC vector.

use super::{Polarity, Trigger, WiredLine};
use crate::machine::InterruptOverride;

/// Redirection entry bit 13: the input is active low.
pub const ACTIVE_LOW: u64 = 1 << 13;
/// Redirection entry bit 15: the input is level-triggered.
pub const LEVEL: u64 = 1 << 15;
/// Redirection entry bit 16: the input is masked.
pub const MASKED: u64 = 1 << 16;

/// ISA IRQ `irq` as a wired line: its override's GSI, trigger and polarity if the MADT has
/// one for it (flags the table left "conforming" already resolved to the ISA default when it
/// was read), else GSI = `irq`, edge-triggered, active high (the ISA bus's convention).
pub fn isa_line<'a>(
    irq: u8,
    overrides: impl IntoIterator<Item = &'a InterruptOverride>,
) -> WiredLine {
    match overrides.into_iter().find(|entry| entry.source == irq) {
        Some(entry) => WiredLine {
            number: entry.target,
            trigger: if entry.level_triggered {
                Trigger::Level
            } else {
                Trigger::Edge
            },
            polarity: if entry.active_low {
                Polarity::ActiveLow
            } else {
                Polarity::ActiveHigh
            },
        },
        None => WiredLine {
            number: u32::from(irq),
            trigger: Trigger::Edge,
            polarity: Polarity::ActiveHigh,
        },
    }
}

/// The redirection entry delivering `line` as `vector` to the local APIC `destination`
/// (fixed delivery, physical destination), masked or not.
pub fn redirection_entry(vector: u8, destination: u8, line: WiredLine, masked: bool) -> u64 {
    let mut entry = u64::from(vector) | (u64::from(destination) << 56);
    if line.polarity == Polarity::ActiveLow {
        entry |= ACTIVE_LOW;
    }
    if line.trigger == Trigger::Level {
        entry |= LEVEL;
    }
    if masked {
        entry |= MASKED;
    }
    entry
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sci() -> InterruptOverride {
        InterruptOverride {
            source: 9,
            target: 9,
            active_low: false,
            level_triggered: true,
        }
    }

    #[test]
    fn overrides_change_the_gsi_and_the_signal() {
        let timer = InterruptOverride {
            source: 0,
            target: 2,
            active_low: false,
            level_triggered: false,
        };
        let overrides = [timer, sci()];
        assert_eq!(isa_line(0, &overrides).number, 2);
        let line = isa_line(9, &overrides);
        assert_eq!((line.number, line.trigger), (9, Trigger::Level));
        let plain = isa_line(4, &overrides);
        assert_eq!(
            plain,
            WiredLine {
                number: 4,
                trigger: Trigger::Edge,
                polarity: Polarity::ActiveHigh
            }
        );
    }

    #[test]
    fn entries_encode_vector_destination_and_flags() {
        let line = WiredLine {
            number: 11,
            trigger: Trigger::Level,
            polarity: Polarity::ActiveLow,
        };
        let entry = redirection_entry(0x31, 2, line, true);
        assert_eq!(entry & 0xff, 0x31);
        assert_eq!(entry >> 56, 2);
        assert_eq!(
            entry & (ACTIVE_LOW | LEVEL | MASKED),
            ACTIVE_LOW | LEVEL | MASKED
        );
        assert_eq!(entry & 0x700, 0, "fixed delivery");
        let edge = isa_line(4, &[]);
        assert_eq!(redirection_entry(0x30, 0, edge, false), 0x30);
    }
}
