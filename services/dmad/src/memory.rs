//! The kernel's DMA memory as dmad sees it: `memory:pools` lines, and where dmad mapped each
//! region in its own address space.
//!
//! dmad maps every region once, whole, at start-up (`fmap` of `memory:pool/NAME`; the kernel
//! gives the mapping the region's declared memory type, the `cache=` word of its line, which
//! every pool carved from it and every client mapping of it keep). Pools are carved only from these regions, so every pool byte has an
//! address in dmad: `mapping + (phys - region.phys)`. That address zeroes new buffers and
//! answers `MmapPrep` (the kernel maps the same frames into the client).

use alloc::vec::Vec;
use dma_api::parse_number;
use dma_pool::CacheType;

/// One line of `memory:pools`:
/// `pool NAME PHYSICAL DEVICE_BASE SIZE MAP|no-map DEVICE[,DEVICE...] [default] [cache=TYPE]`,
/// the device list being `-` for a pool serving no device of its own (the global pool may),
/// `TYPE` one of `wb`, `wc`, `uc` (write-combining when the word is absent).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryPoolLine<'a> {
    /// The region's name (`memory:pool/NAME`).
    pub name: &'a str,
    /// Physical address of its first byte.
    pub phys: u64,
    /// The devices' address for its first byte.
    pub device_base: u64,
    /// Length in bytes.
    pub size: u64,
    /// Whether the kernel's linear map covers it (`MAP`) or not (`no-map`).
    pub kernel_mapped: bool,
    /// The devices it serves, comma-separated (`-` for none).
    pub devices: &'a str,
    /// The global coherent pool, for granted devices without a pool of their own.
    pub default: bool,
    /// The memory type the kernel maps the region with.
    pub cache: CacheType,
}

/// The memory type of a `cache=` word's value.
fn cache_of(token: &str) -> Option<CacheType> {
    match token {
        "wb" => Some(CacheType::WriteBack),
        "wc" => Some(CacheType::WriteCombining),
        "uc" => Some(CacheType::Uncached),
        _ => None,
    }
}

impl<'a> MemoryPoolLine<'a> {
    /// Reads one line; `None` if it is not a well-formed `pool` line.
    pub fn parse(line: &'a str) -> Option<Self> {
        let mut words = line.split_whitespace();
        if words.next()? != "pool" {
            return None;
        }
        let name = words.next()?;
        let phys = parse_number(words.next()?)?;
        let device_base = parse_number(words.next()?)?;
        let size = parse_number(words.next()?)?;
        let kernel_mapped = match words.next()? {
            word if word.eq_ignore_ascii_case("map") => true,
            word if word.eq_ignore_ascii_case("no-map") => false,
            _ => return None,
        };
        let devices = words.next()?;
        let mut next = words.next();
        let default = next == Some("default");
        if default {
            next = words.next();
        }
        let cache = match next {
            None => CacheType::WriteCombining,
            Some(word) => cache_of(word.strip_prefix("cache=")?)?,
        };
        if words.next().is_some() || devices.split(',').any(str::is_empty) {
            return None;
        }
        Some(MemoryPoolLine {
            name,
            phys,
            device_base,
            size,
            kernel_mapped,
            devices,
            default,
            cache,
        })
    }

    /// The devices it serves (none for `-`).
    pub fn devices(&self) -> impl Iterator<Item = &'a str> {
        self.devices.split(',').filter(|device| *device != "-")
    }
}

/// A region of pool memory and where dmad mapped it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    /// Physical address of the first byte.
    pub phys: u64,
    /// Length in bytes.
    pub size: u64,
    /// Address of the first byte in dmad's space.
    pub mapping: u64,
    /// The memory type of that mapping (and of every client's).
    pub cache: CacheType,
}

/// Every mapped region.
#[derive(Clone, Debug, Default)]
pub struct Regions {
    regions: Vec<Region>,
}

impl Regions {
    /// Records a mapped region.
    pub fn add(&mut self, region: Region) {
        self.regions.push(region);
    }

    /// dmad's address of physical `phys`, if a mapped region holds `[phys, phys + len)`.
    pub fn address_of(&self, phys: u64, len: u64) -> Option<u64> {
        let end = phys.checked_add(len)?;
        self.regions
            .iter()
            .find(|region| phys >= region.phys && end <= region.phys + region.size)
            .map(|region| region.mapping + (phys - region.phys))
    }

    /// The memory type of the mapped region holding `[phys, phys + len)`, if one does.
    pub fn cache_of(&self, phys: u64, len: u64) -> Option<CacheType> {
        let end = phys.checked_add(len)?;
        self.regions
            .iter()
            .find(|region| phys >= region.phys && end <= region.phys + region.size)
            .map(|region| region.cache)
    }
}

/// Writes to pool memory through dmad's write-combining mappings.
pub trait PoolMemory {
    /// Fills `len` bytes at `address` (in dmad's space, inside a mapped region) with zeroes
    /// and makes the stores visible before returning.
    fn zero(&mut self, address: u64, len: u64);

    /// Fills `len` bytes at `address` (as [`zero`](Self::zero)) with
    /// [`dma_pool::POISON`] in every 64-bit word and makes the stores visible (debug mode).
    /// The default does nothing: a memory that never poisons is never found changed.
    fn poison(&mut self, address: u64, len: u64) {
        let _ = (address, len);
    }

    /// The first 64-bit word of the `len` bytes at `address` that is not
    /// [`dma_pool::POISON`], as (byte offset, value); `None` if all are. Word-wide reads.
    /// The default finds none.
    fn check_poison(&mut self, address: u64, len: u64) -> Option<(u64, u64)> {
        let _ = (address, len);
        None
    }

    /// [`check_poison`](Self::check_poison), then [`zero`](Self::zero): what a new buffer's
    /// poisoned run gets. Override to do both in one pass.
    fn check_and_zero(&mut self, address: u64, len: u64) -> Option<(u64, u64)> {
        let found = self.check_poison(address, len);
        self.zero(address, len);
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_lines() {
        let line = MemoryPoolLine::parse(
            "pool virtio-blk0 0x80000000 0xc0000000 0x800000 no-map virtio-blk0,net0",
        )
        .unwrap();
        assert_eq!(line.name, "virtio-blk0");
        assert_eq!(
            (line.phys, line.device_base, line.size),
            (0x8000_0000, 0xc000_0000, 0x80_0000)
        );
        assert!(!line.kernel_mapped);
        assert_eq!(line.devices().collect::<Vec<_>>(), ["virtio-blk0", "net0"]);
        assert!(!line.default);
        assert_eq!(line.cache, CacheType::WriteCombining);
        let global = MemoryPoolLine::parse("pool global 0x0 0x0 0x1000 map - default").unwrap();
        assert!(global.default);
        for (text, cache) in [
            ("pool a 0 0 4096 map d cache=wb", CacheType::WriteBack),
            (
                "pool a 0 0 4096 map d default cache=uc",
                CacheType::Uncached,
            ),
            ("pool a 0 0 4096 map d cache=wc", CacheType::WriteCombining),
        ] {
            assert_eq!(
                MemoryPoolLine::parse(text).map(|line| line.cache),
                Some(cache)
            );
        }
        assert_eq!(global.devices().count(), 0);
        assert!(
            MemoryPoolLine::parse("pool a 0x0 0x0 0x1000 MAP d")
                .unwrap()
                .kernel_mapped
        );
        for bad in [
            "",
            "pools a 0 0 4096 map d",
            "pool a 0 0 4096 map",
            "pool a 0 0 4096 maybe d",
            "pool a 0 0 4096 map d extra",
            "pool a 0 0 4096 map d default extra",
            "pool a 0 0 4096 map d,",
            "pool a 0 0 4096 map d cache=wt",
            "pool a 0 0 4096 map d cache=",
            "pool a 0 0 4096 map d cache=wb default",
            "pool a 0 0 4096 map d cache=wb cache=wb",
            "pool a zero 0 4096 map d",
        ] {
            assert_eq!(MemoryPoolLine::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn addresses_translate_inside_regions_only() {
        let mut regions = Regions::default();
        regions.add(Region {
            phys: 0x8000_0000,
            size: 0x10_0000,
            mapping: 0x10_0000_0000,
            cache: CacheType::Uncached,
        });
        assert_eq!(
            regions.cache_of(0x8000_0000, 0x10_0000),
            Some(CacheType::Uncached)
        );
        assert_eq!(regions.cache_of(0x8000_0000, 0x10_1000), None);
        assert_eq!(
            regions.address_of(0x8000_2000, 0x1000),
            Some(0x10_0000_2000)
        );
        assert_eq!(regions.address_of(0x800f_f000, 0x2000), None);
        assert_eq!(regions.address_of(0x7fff_f000, 0x1000), None);
        assert_eq!(regions.address_of(u64::MAX, 2), None);
    }
}
