//! The typed views the OS reads: `[image]`, `[pool.NAME]` and `[process.NAME]`.
//!
//! Unknown sections and unknown keys are errors, so that a typo cannot silently drop a
//! setting. [`Manifest::validate`] runs every check; `xtask` calls it before packing an image.

use super::document::{Manifest, Section, Sections};
use super::error::ManifestError;
use super::fields::{
    check_keys, is_device_name, is_scheme_name, optional_bool, optional_names, optional_str,
    optional_strings, optional_u64, required_str, required_u64, Names,
};
use super::line::is_bare_name;
use super::value::Strings;
use crate::pool::{Placement, PoolCache, PoolDeclaration, MAX_ALLOC_RANGES, PAGE_SIZE};

/// The `[image]` section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageConfig<'a> {
    /// The image's name.
    pub name: &'a str,
    /// For a test image, the guest test suite to run (`boot`, `memory`, `dma`, ...).
    pub test_suite: Option<&'a str>,
}

/// One `[process.NAME]` section: a program init starts, in file order.
#[derive(Clone, Debug)]
pub struct ProcessDeclaration<'a> {
    /// The section's last segment.
    pub name: &'a str,
    /// The program's path in the initfs.
    pub path: &'a str,
    /// Arguments after the program name (may hold escapes, so they are [`Text`]s).
    ///
    /// [`Text`]: super::Text
    pub args: Strings<'a>,
    /// Scheme names the process may register.
    pub schemes: Names<'a>,
    /// DMA devices the process may allocate from.
    pub devices: Names<'a>,
    /// How many pool pages the process may hold at once, if limited.
    pub quota_pages: Option<u64>,
    /// Whether it may declare and retire DMA pools (`declare-pools`, default `false`).
    pub declare_pools: bool,
    /// Manifest sections whose rights it may hand to the children it spawns (`spawns`),
    /// beyond any subset of its own rights.
    pub spawns: Names<'a>,
    /// Manifest sections whose processes it may kill (`kills`): a supervisor's or a test
    /// driver's right, e.g. `kills = ["dmad"]` in a test image so a test can show init
    /// restarting dmad. Nobody else may kill a process but its parent.
    pub kills: Names<'a>,
    /// Whether init starts it (`autostart`, default `true`). A process declared with
    /// `autostart = false` still has its grants (devices, quota) but is started by someone
    /// else, e.g. a test program spawning a DMA client.
    pub autostart: bool,
    /// Whether it may read the serial console (`console`, default `false`): the kernel's
    /// `console:` scheme, one reader at a time (the shell).
    pub console: bool,
    /// Whether it may turn the machine off (`power`, default `false`): the shell's
    /// `poweroff`.
    pub power: bool,
    /// The line of the section header.
    pub line: usize,
}

const IMAGE_KEYS: &[&str] = &["name", "test-suite"];
const POOL_KEYS: &[&str] = &[
    "device",
    "size",
    "align",
    "limit",
    "device-offset",
    "no-map",
    "default",
    "cache",
];
const PROCESS_KEYS: &[&str] = &[
    "path",
    "args",
    "schemes",
    "devices",
    "quota-pages",
    "declare-pools",
    "spawns",
    "kills",
    "autostart",
    "console",
    "power",
];

impl<'a> Manifest<'a> {
    /// The `[image]` section.
    ///
    /// # Errors
    ///
    /// A missing section or `name`, a wrong type, or an unknown key.
    pub fn image(&self) -> Result<ImageConfig<'a>, ManifestError> {
        let section = self
            .section("image")
            .ok_or(ManifestError::new(0, "missing [image] section"))?;
        check_keys(&section, IMAGE_KEYS)?;
        Ok(ImageConfig {
            name: required_str(&section, "name", "[image] lacks 'name'")?,
            test_suite: optional_str(&section, "test-suite")?,
        })
    }

    /// The `[pool.NAME]` sections in file order, each read and checked.
    pub fn pools(&self) -> Pools<'a> {
        Pools {
            sections: self.sections(),
        }
    }

    /// The `[process.NAME]` sections in file order, each read and checked.
    pub fn processes(&self) -> Processes<'a> {
        Processes {
            sections: self.sections(),
        }
    }

    /// Runs every schema check: `[image]`, each pool and process, no unknown section, and no
    /// device served by two pools.
    ///
    /// # Errors
    ///
    /// The first problem found.
    pub fn validate(&self) -> Result<(), ManifestError> {
        self.image()?;
        for section in self.sections() {
            let name = section.name();
            let known = name == "image"
                || name.strip_prefix("pool.").is_some()
                || name.strip_prefix("process.").is_some();
            if !known {
                return Err(ManifestError::new(section.line(), "unknown section"));
            }
        }
        for (index, pool) in self.pools().enumerate() {
            let pool = pool?;
            for earlier in self.pools().take(index).flatten() {
                if pool.devices().any(|device| earlier.serves(device)) {
                    let line = self.section_line("pool.", pool.name);
                    return Err(ManifestError::new(line, "device already has a pool"));
                }
            }
        }
        for process in self.processes() {
            process?;
        }
        Ok(())
    }

    fn section_line(&self, prefix: &str, name: &str) -> usize {
        self.sections()
            .find(|section| section.name().strip_prefix(prefix) == Some(name))
            .map_or(0, |section| section.line())
    }
}

/// The last segment of `[KIND.NAME]`, which must be one segment.
fn declared_name<'a>(
    section: &Section<'a>,
    prefix: &str,
) -> Option<Result<&'a str, ManifestError>> {
    let name = section.name().strip_prefix(prefix)?;
    Some(if is_bare_name(name) {
        Ok(name)
    } else {
        Err(ManifestError::new(
            section.line(),
            "section name must be KIND.NAME with one NAME",
        ))
    })
}

fn read_pool<'a>(
    section: &Section<'a>,
    name: &'a str,
) -> Result<PoolDeclaration<'a>, ManifestError> {
    check_keys(section, POOL_KEYS)?;
    let line_of = |key| {
        section
            .entry(key)
            .map_or(section.line(), |entry| entry.line)
    };
    let default = optional_bool(section, "default")?.unwrap_or(false);
    // The global pool needs no device of its own: it serves every granted device that has
    // no pool.
    let device = if default {
        optional_str(section, "device")?
    } else {
        Some(required_str(section, "device", "pool lacks 'device'")?)
    };
    if device.is_some_and(|device| !is_device_name(device)) {
        return Err(ManifestError::new(
            line_of("device"),
            "device name holds a reserved character",
        ));
    }
    let size = required_u64(section, "size", "pool lacks 'size'")?;
    if size == 0 || !size.is_multiple_of(PAGE_SIZE) {
        return Err(ManifestError::new(
            line_of("size"),
            "pool size must be a non-zero multiple of 4096",
        ));
    }
    let align = optional_u64(section, "align")?.unwrap_or(PAGE_SIZE);
    if !align.is_power_of_two() || align < PAGE_SIZE {
        return Err(ManifestError::new(
            line_of("align"),
            "pool align must be a power of two of at least 4096",
        ));
    }
    let limit = optional_u64(section, "limit")?;
    if limit.is_some_and(|limit| limit < size) {
        return Err(ManifestError::new(
            line_of("limit"),
            "pool limit is below the pool size",
        ));
    }
    let device_offset = optional_u64(section, "device-offset")?.unwrap_or(0);
    // The device address of the pool's last byte must not wrap. Without a limit the kernel
    // enforces this when it places the pool (see `PoolDeclaration::address_limit`).
    let highest_physical = limit.map_or(size - 1, |limit| limit - 1);
    if highest_physical.checked_add(device_offset).is_none() {
        return Err(ManifestError::new(
            line_of("device-offset"),
            "device-offset makes device addresses wrap past 2^64",
        ));
    }
    let mut pool = PoolDeclaration::new(
        name,
        Placement::Dynamic {
            size,
            align,
            limit,
            alloc_ranges: [None; MAX_ALLOC_RANGES],
        },
    );
    pool.device_names[0] = device;
    pool.default = default;
    pool.no_map = optional_bool(section, "no-map")?.unwrap_or(false);
    pool.device_offset = device_offset;
    if let Some(cache) = optional_str(section, "cache")? {
        pool.cache = PoolCache::from_token(cache).ok_or(ManifestError::new(
            line_of("cache"),
            "pool cache must be \"wb\", \"wc\" or \"uc\"",
        ))?;
    }
    Ok(pool)
}

fn read_process<'a>(
    section: &Section<'a>,
    name: &'a str,
) -> Result<ProcessDeclaration<'a>, ManifestError> {
    check_keys(section, PROCESS_KEYS)?;
    Ok(ProcessDeclaration {
        name,
        path: required_str(section, "path", "process lacks 'path'")?,
        args: optional_strings(section, "args")?,
        schemes: optional_names(
            section,
            "schemes",
            is_scheme_name,
            "scheme names must be letters, digits, '-' or '_'",
        )?,
        devices: optional_names(
            section,
            "devices",
            is_device_name,
            "device names must be non-empty without '/', ':', '?', '&' or '='",
        )?,
        quota_pages: optional_u64(section, "quota-pages")?,
        declare_pools: optional_bool(section, "declare-pools")?.unwrap_or(false),
        spawns: optional_names(
            section,
            "spawns",
            is_scheme_name,
            "section names in 'spawns' must be letters, digits, '-' or '_'",
        )?,
        kills: optional_names(
            section,
            "kills",
            is_scheme_name,
            "section names in 'kills' must be letters, digits, '-' or '_'",
        )?,
        autostart: optional_bool(section, "autostart")?.unwrap_or(true),
        console: optional_bool(section, "console")?.unwrap_or(false),
        power: optional_bool(section, "power")?.unwrap_or(false),
        line: section.line(),
    })
}

/// Iterator over the manifest's pools, from [`Manifest::pools`].
#[derive(Clone, Debug)]
pub struct Pools<'a> {
    sections: Sections<'a>,
}

impl<'a> Iterator for Pools<'a> {
    type Item = Result<PoolDeclaration<'a>, ManifestError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.sections.by_ref().find_map(|section| {
            declared_name(&section, "pool.").map(|name| read_pool(&section, name?))
        })
    }
}

/// Iterator over the manifest's processes, from [`Manifest::processes`].
#[derive(Clone, Debug)]
pub struct Processes<'a> {
    sections: Sections<'a>,
}

impl<'a> Iterator for Processes<'a> {
    type Item = Result<ProcessDeclaration<'a>, ManifestError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.sections.by_ref().find_map(|section| {
            declared_name(&section, "process.").map(|name| read_process(&section, name?))
        })
    }
}
