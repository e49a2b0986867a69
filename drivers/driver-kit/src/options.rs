//! The command line every block driver takes, and its test-only crash counter.
//!
//! `DRIVER [--device NAME] [--scheme NAME] [--crash-after N] [--exit-unacknowledged]`: the
//! device to drive, the scheme to serve, and for tests the transfer in whose middle the
//! driver dies, or whether it exits holding an interrupt it has not acknowledged.

use alloc::string::String;

/// What the command line asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The device (`device:NAME`, `dma:/NAME`).
    pub device: String,
    /// The scheme served.
    pub scheme: String,
    /// Die in the middle of this transfer (1 = the first).
    pub crash_after: Option<u64>,
    /// Take one interrupt and exit without acknowledging it (for the `irq` suite).
    pub exit_unacknowledged: bool,
}

impl Options {
    /// Reads `arguments` (without the program name) over the defaults; `None` for an
    /// unknown option, a missing value or a crash count that is not a positive number (the
    /// caller prints its usage line).
    pub fn parse<'a>(
        mut arguments: impl Iterator<Item = &'a str>,
        device: &str,
        scheme: &str,
    ) -> Option<Options> {
        let mut options = Options {
            device: device.into(),
            scheme: scheme.into(),
            crash_after: None,
            exit_unacknowledged: false,
        };
        while let Some(option) = arguments.next() {
            if option == "--exit-unacknowledged" {
                options.exit_unacknowledged = true;
                continue;
            }
            let value = arguments.next()?;
            match option {
                "--device" => options.device = value.into(),
                "--scheme" => options.scheme = value.into(),
                "--crash-after" => {
                    let count = value.parse::<u64>().ok().filter(|count| *count > 0)?;
                    options.crash_after = Some(count);
                }
                _ => return None,
            }
        }
        Some(options)
    }
}

/// Exit status for arguments a driver does not understand.
pub const USAGE_STATUS: i32 = 2;

/// A driver program's body: reads its options over the defaults (`device`, `scheme`),
/// runs `start`, and turns the outcome into the exit status — `start`'s status, 1 with the
/// reason logged when it fails, [`USAGE_STATUS`] with a usage line for bad arguments.
pub fn run_driver<'a>(
    program: &str,
    arguments: impl Iterator<Item = &'a str>,
    (device, scheme): (&str, &str),
    start: impl FnOnce(&Options) -> Result<i32, String>,
) -> i32 {
    let Some(options) = Options::parse(arguments, device, scheme) else {
        log::error!("usage: {program} [--device NAME] [--scheme NAME] [--crash-after N] [--exit-unacknowledged]");
        return USAGE_STATUS;
    };
    match start(&options) {
        Ok(status) => status,
        Err(reason) => {
            log::error!("{}: {reason}", options.device);
            1
        }
    }
}

/// Counts transfers and says when the `--crash-after` one has come.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CrashCounter {
    after: Option<u64>,
    transfers: u64,
}

impl CrashCounter {
    /// A counter that fires at transfer `after`, or never.
    pub fn new(after: Option<u64>) -> Self {
        CrashCounter {
            after,
            transfers: 0,
        }
    }

    /// Counts one transfer; `Some(count)` when the driver must now die with it in flight.
    pub fn count(&mut self) -> Option<u64> {
        self.transfers += 1;
        (self.after == Some(self.transfers)).then_some(self.transfers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_options_over_defaults() {
        let options = Options::parse([].into_iter(), "nvme0", "nvme").unwrap();
        assert_eq!(
            (options.device.as_str(), options.scheme.as_str()),
            ("nvme0", "nvme")
        );
        assert_eq!(options.crash_after, None);
        assert!(!options.exit_unacknowledged);
        let options = Options::parse(
            [
                "--crash-after",
                "20",
                "--exit-unacknowledged",
                "--device",
                "x1",
            ]
            .into_iter(),
            "nvme0",
            "nvme",
        )
        .unwrap();
        assert_eq!(
            (options.device.as_str(), options.crash_after),
            ("x1", Some(20))
        );
        assert!(options.exit_unacknowledged);
        for bad in [
            &["--crash-after", "0"][..],
            &["--crash-after", "many"],
            &["--device"],
            &["--speed", "9"],
        ] {
            assert_eq!(Options::parse(bad.iter().copied(), "d", "s"), None);
        }
    }

    #[test]
    fn the_counter_fires_once_at_its_transfer() {
        let mut counter = CrashCounter::new(Some(3));
        assert_eq!(
            [
                counter.count(),
                counter.count(),
                counter.count(),
                counter.count()
            ],
            [None, None, Some(3), None]
        );
        let mut never = CrashCounter::new(None);
        assert!((0..10).all(|_| never.count().is_none()));
    }
}
