//! Request paths: what a client opens, and how dmad reads it.
//!
//! Grammar (after `dma:` and any leading slashes):
//!
//! ```text
//! ""                                   root table
//! DEV/stats                            one device's table
//! DEV/map                              the device's pool as a grid of page states
//! DEV/alloc?size=N[&align=A][&mask=M][&boundary=B]
//!                                      allocate (query keys in any order, each once)
//! DEV/release-pool                     retire DEV's pool (declare-pools right)
//! declare?name=P&device=DEV&phys=X&size=N[&device-base=Y]   declare a pool (declare-pools right)
//! ```
//!
//! Numbers are decimal or `0x` hexadecimal. Syntax is checked before anything else: a
//! malformed query, a size of zero, an alignment that is not a power of two or a number that
//! overflows, a mask not of the form `2^n - 1` (at least a page) or a boundary that is not a
//! power of two is [`DmaError::Invalid`] whatever the device; a well-formed path naming nothing
//! (`DEV/other`, `DEV`) is [`DmaError::UnknownDevice`].

use crate::{parse_number, DmaError, SCHEME};
use core::fmt;

/// A parsed request path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DmaPath<'a> {
    /// `""`: the table of every pool.
    Root,
    /// `DEV/stats`: one device's table.
    Stats {
        /// The device.
        device: &'a str,
    },
    /// `DEV/map`: the device's pool drawn as a grid, one cell per page or run of pages.
    Map {
        /// The device.
        device: &'a str,
    },
    /// `DEV/alloc?size=N[&align=A][&mask=M][&boundary=B]`: a new buffer.
    Alloc {
        /// The device.
        device: &'a str,
        /// Bytes wanted (non-zero); the buffer is this rounded up to a power-of-two page count.
        size: u64,
        /// A larger alignment than the buffer's size, if wanted (a power of two).
        align: Option<u64>,
        /// The highest device address the device reaches (`dma_set_mask`): `2^n - 1`.
        mask: Option<u64>,
        /// A power of two the buffer must not cross a multiple of.
        boundary: Option<u64>,
    },
    /// `declare?...`: carve a pool from declared DMA memory.
    Declare(DeclareRequest<'a>),
    /// `DEV/release-pool`: retire a device's pool.
    ReleasePool {
        /// The device.
        device: &'a str,
    },
}

/// The fields of a `declare` request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeclareRequest<'a> {
    /// The pool's name, for tables and logs.
    pub name: &'a str,
    /// The device it serves.
    pub device: &'a str,
    /// Physical address of its first byte.
    pub phys: u64,
    /// The device's address for its first byte (`phys` unless given).
    pub device_base: u64,
    /// Length in bytes.
    pub size: u64,
}

impl<'a> DmaPath<'a> {
    /// Reads `path` (the part after `dma:`).
    ///
    /// # Errors
    ///
    /// [`DmaError::Invalid`] for malformed paths, [`DmaError::UnknownDevice`] for a
    /// well-formed path that names nothing.
    pub fn parse(path: &'a str) -> Result<Self, DmaError> {
        let path = path.trim_start_matches('/');
        if path.is_empty() {
            return Ok(DmaPath::Root);
        }
        let (target, query) = match path.split_once('?') {
            Some((target, query)) => (target, Some(query)),
            None => (path, None),
        };
        if target == "declare" {
            return parse_declare(query.ok_or(DmaError::Invalid)?).map(DmaPath::Declare);
        }
        let Some((device, action)) = target.split_once('/') else {
            return Err(if is_name(target) && query.is_none() {
                DmaError::UnknownDevice
            } else {
                DmaError::Invalid
            });
        };
        if !is_name(device) {
            return Err(DmaError::Invalid);
        }
        match (action, query) {
            ("alloc", Some(query)) => parse_alloc(device, query),
            ("alloc", None) => Err(DmaError::Invalid),
            ("stats", None) => Ok(DmaPath::Stats { device }),
            ("map", None) => Ok(DmaPath::Map { device }),
            ("release-pool", None) => Ok(DmaPath::ReleasePool { device }),
            ("stats" | "map" | "release-pool", Some(_)) => Err(DmaError::Invalid),
            _ => Err(DmaError::UnknownDevice),
        }
    }

    /// The device the path names, if any.
    pub fn device(&self) -> Option<&'a str> {
        match *self {
            DmaPath::Root => None,
            DmaPath::Stats { device }
            | DmaPath::Map { device }
            | DmaPath::Alloc { device, .. }
            | DmaPath::ReleasePool { device } => Some(device),
            DmaPath::Declare(request) => Some(request.device),
        }
    }
}

/// Whether `name` can be a device or pool name: non-empty printable ASCII without the
/// characters paths use (`/ : ? & =`), like the manifest's device names.
fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|byte| byte.is_ascii_graphic() && !b"/:?&=".contains(&byte))
}

/// Calls `take(key, value)` for each `key=value` of `query`, refusing empty pairs, pairs
/// without `=`, and any key seen twice (`keys` lists the allowed keys; an unknown one is
/// refused).
fn for_each_pair<'a>(
    query: &'a str,
    keys: &[&str],
    mut take: impl FnMut(usize, &'a str) -> Result<(), DmaError>,
) -> Result<(), DmaError> {
    let mut seen = 0u32;
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').ok_or(DmaError::Invalid)?;
        let index = keys
            .iter()
            .position(|known| *known == key)
            .ok_or(DmaError::Invalid)?;
        if seen & (1 << index) != 0 {
            return Err(DmaError::Invalid);
        }
        seen |= 1 << index;
        take(index, value)?;
    }
    Ok(())
}

fn number(text: &str) -> Result<u64, DmaError> {
    parse_number(text).ok_or(DmaError::Invalid)
}

fn parse_alloc<'a>(device: &'a str, query: &str) -> Result<DmaPath<'a>, DmaError> {
    let mut values: [Option<u64>; 4] = [None; 4];
    for_each_pair(
        query,
        &["size", "align", "mask", "boundary"],
        |index, value| {
            values[index] = Some(number(value)?);
            Ok(())
        },
    )?;
    let [size, align, mask, boundary] = values;
    let size = size.filter(|size| *size != 0).ok_or(DmaError::Invalid)?;
    let power_of_two = |value: Option<u64>| value.is_none_or(u64::is_power_of_two);
    let mask_shaped = mask.is_none_or(|mask| {
        mask >= crate::PAGE_SIZE - 1 && (mask == u64::MAX || (mask + 1).is_power_of_two())
    });
    if !power_of_two(align) || !power_of_two(boundary) || !mask_shaped {
        return Err(DmaError::Invalid);
    }
    Ok(DmaPath::Alloc {
        device,
        size,
        align,
        mask,
        boundary,
    })
}

fn parse_declare(query: &str) -> Result<DeclareRequest<'_>, DmaError> {
    let (mut name, mut device) = (None, None);
    let mut numbers: [Option<u64>; 3] = [None; 3];
    for_each_pair(
        query,
        &["name", "device", "phys", "size", "device-base"],
        |index, value| {
            match index {
                0 | 1 if !is_name(value) => return Err(DmaError::Invalid),
                0 => name = Some(value),
                1 => device = Some(value),
                _ => numbers[index - 2] = Some(number(value)?),
            }
            Ok(())
        },
    )?;
    let [phys, size, device_base] = numbers;
    let (name, device, phys, size) = match (name, device, phys, size) {
        (Some(name), Some(device), Some(phys), Some(size)) if size != 0 => {
            (name, device, phys, size)
        }
        _ => return Err(DmaError::Invalid),
    };
    Ok(DeclareRequest {
        name,
        device,
        phys,
        device_base: device_base.unwrap_or(phys),
        size,
    })
}

/// What a client opens to allocate: displays as
/// `dma:/DEV/alloc?size=N[&align=A][&mask=M][&boundary=B]`; a request without mask and
/// boundary is exactly what clients sent before those keys existed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AllocPath<'a> {
    /// The device.
    pub device: &'a str,
    /// Bytes wanted.
    pub size: u64,
    /// A larger alignment, if wanted.
    pub align: Option<u64>,
    /// The device's address mask (`2^n - 1`), if limited.
    pub mask: Option<u64>,
    /// A boundary the buffer must not cross, if any.
    pub boundary: Option<u64>,
}

impl fmt::Display for AllocPath<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{SCHEME}:/{}/alloc?size={}",
            self.device, self.size
        )?;
        if let Some(align) = self.align {
            write!(formatter, "&align={align:#x}")?;
        }
        if let Some(mask) = self.mask {
            write!(formatter, "&mask={mask:#x}")?;
        }
        match self.boundary {
            Some(boundary) => write!(formatter, "&boundary={boundary:#x}"),
            None => Ok(()),
        }
    }
}

impl fmt::Display for DeclareRequest<'_> {
    /// `dma:/declare?name=P&device=DEV&phys=X&size=N&device-base=Y`.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{SCHEME}:/declare?name={}&device={}&phys={:#x}&size={:#x}&device-base={:#x}",
            self.name, self.device, self.phys, self.size, self.device_base
        )
    }
}

#[cfg(test)]
mod tests;
