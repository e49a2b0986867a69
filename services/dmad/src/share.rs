//! Sharing a buffer between processes and devices: export tokens, who holds what, and which
//! device domains map a shared buffer (in the spirit of Linux's dma-buf and Fuchsia's
//! sysmem). The requests are served in `server/share.rs`; this module is the bookkeeping.
//!
//! # Requests
//!
//! | request | answer |
//! | --- | --- |
//! | `call` on a buffer descriptor with `export[?device=DEV][&pid=P]` | a token: 32 hex digits |
//! | open `dma:/DEV/import?token=T` | a descriptor of the same pages; its info gives DEV's address |
//! | open `dma:/import?token=T` | the same, for the CPU only (device address [`NO_DEVICE_ADDRESS`]) |
//!
//! An import descriptor reads as a [`DmaBufferInfo`](dma_api::DmaBufferInfo), maps with
//! `fmap` like the buffer (same pages, same memory type) and is released with `close`.
//!
//! # Decisions
//!
//! - **Who may export**: only the process that allocated the buffer, on the descriptor it
//!   allocated it with. An import descriptor cannot be exported again (`EACCES`): the
//!   allocator decides who shares its memory.
//! - **Tokens** are 128 bits from a keyed pseudo-random function (SipHash-2-4) of a counter,
//!   under a key dmad seeds at start-up ([`TokenMint::new`]) and stirs with each export's
//!   time ([`TokenMint::stir`]); never sequential. The key is seeded from the kernel's
//!   `sys:random` (hardware RDRAND/RNDR where the CPU has it, else the kernel's
//!   jitter-seeded pool, which is not cryptographically strong) mixed with the cycle counter;
//!   if that read fails, the cycle counter alone (weak on an emulator) and a logged warning.
//! - **A token is single-use and revocable**: importing consumes it; closing the exported
//!   descriptor (or the exporter's death) revokes every token of it not yet used. An unused
//!   token holds nothing: only imports keep pages alive.
//! - **Restrictions**: `device=DEV` lets the token be imported only for DEV, `pid=P` only
//!   by process P; anything else is `EACCES` and leaves the token usable.
//! - **Rights**: an import for DEV needs DEV granted like an allocation (`EACCES`); a
//!   CPU-only import needs no device.
//! - **Lifetime**: an import holds the pages the way a mapping does (`dma-pool`'s holds):
//!   they return to the pool only when the exporter released the buffer and every import
//!   and every mapping of any holder is gone.
//! - **Quota**: the exporter stays charged for the pages until they return (as for a
//!   released buffer still mapped); an import costs the importer no quota. So exporting
//!   cannot take memory off the exporter's quota, and nobody can push an importer over its
//!   own. The exporter bounds what it lends by [`ShareLimits`].
//! - **Limits** ([`ShareLimits`]): per buffer at most 16 holders besides the owner
//!   (unused tokens and imports, `ENOSPC` for the next export); per process at most 16
//!   unused tokens and in all 256 (`EAGAIN`: some must be used or revoked first). An import
//!   is a handle, under the importer's handle limits.
//! - **Errors**: a token that is not 32 hex digits is `EINVAL`; one dmad does not know
//!   (forged, used, revoked) is `ENOENT`; a refused import or export changes nothing.
//! - **Device addresses**: a buffer imported for DEV is at `physical + DEV's offset`, the
//!   offset (device base − physical base) of the pool serving DEV: the address DEV uses for
//!   that physical byte without an IOMMU. With an IOMMU dmad maps it at that IOVA in DEV's
//!   domain (`iommu:DEV`); the same rule gives each buffer its own pool's device address,
//!   so IOVAs of different pages never collide within a domain. The IOMMU mapping is
//!   counted per (device, IOVA): the first import for DEV maps, the last one unmaps (the
//!   kernel invalidates the IOTLB before answering), and the exporter's own mapping (when
//!   DEV is the buffer's device) is left to whichever of the two goes last.
//! - **Release of an import**: the device mapping goes first, then the hold; if the
//!   unmap fails, or the importer died holding DEV and the kernel did not confirm DEV's
//!   quiesce, the hold is kept for good (the pages never return, logged): a device that may
//!   still reach pages must never see them reused.

use crate::Refusal;
use alloc::collections::BTreeMap;
use alloc::string::String;
use dma_api::DmaError;

/// The device address a CPU-only import reads as.
pub const NO_DEVICE_ADDRESS: u64 = u64::MAX;

/// Characters of a token's text form.
pub const TOKEN_DIGITS: usize = 32;

/// The request a `call` on a buffer descriptor carries to export it.
pub const EXPORT_REQUEST: &str = "export";

/// A buffer as the share table knows it: (pool serial, slot, generation) of its owner's
/// handle.
pub type BufferKey = (u32, u32, u32);

/// An unguessable name for one export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Token(pub u128);

impl Token {
    /// The token as 32 lowercase hex digits.
    pub fn to_text(self) -> String {
        alloc::format!("{:032x}", self.0)
    }

    /// Reads 32 hex digits; `None` otherwise.
    pub fn parse(text: &str) -> Option<Token> {
        if text.len() != TOKEN_DIGITS || !text.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return None;
        }
        u128::from_str_radix(text, 16).ok().map(Token)
    }
}

/// Makes tokens: SipHash-2-4 under a secret key, of a counter.
#[derive(Clone, Debug)]
pub struct TokenMint {
    key: [u64; 2],
    counter: u64,
}

impl TokenMint {
    /// A mint keyed by `seed` (keep it secret: whoever knows it can predict every token).
    pub fn new(seed: [u64; 2]) -> Self {
        TokenMint {
            key: seed,
            counter: 0,
        }
    }

    /// Mixes `entropy` into the key (the program passes the cycle counter at each export).
    pub fn stir(&mut self, entropy: u64) {
        self.key[0] = siphash(self.key, entropy ^ 0x5354_4952);
        self.key[1] ^= siphash(self.key, entropy.rotate_left(17));
    }

    /// The next token.
    pub fn mint(&mut self) -> Token {
        let counter = self.counter;
        self.counter += 1;
        let high = siphash(self.key, counter << 1);
        let low = siphash(self.key, (counter << 1) | 1);
        Token((u128::from(high) << 64) | u128::from(low))
    }
}

/// SipHash-2-4 of one 64-bit word.
fn siphash(key: [u64; 2], word: u64) -> u64 {
    let mut v = [
        key[0] ^ 0x736f_6d65_7073_6575,
        key[1] ^ 0x646f_7261_6e64_6f6d,
        key[0] ^ 0x6c79_6765_6e65_7261,
        key[1] ^ 0x7465_6462_7974_6573,
    ];
    let round = |v: &mut [u64; 4]| {
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13) ^ v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17) ^ v[2];
        v[2] = v[2].rotate_left(32);
    };
    // One 8-byte block, then the length block (8 bytes: 8 << 56).
    for block in [word, 8u64 << 56] {
        v[3] ^= block;
        round(&mut v);
        round(&mut v);
        v[0] ^= block;
    }
    v[2] ^= 0xff;
    for _ in 0..4 {
        round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

/// The bounds of the share table (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShareLimits {
    /// Unused tokens one process may have out (`EAGAIN` beyond).
    pub tokens_per_client: usize,
    /// Unused tokens of all processes (`EAGAIN` beyond).
    pub tokens: usize,
    /// Holders of one buffer besides its owner: unused tokens and imports (`ENOSPC`).
    pub holders_per_buffer: u32,
}

impl ShareLimits {
    /// The limits dmad runs with.
    pub const DEFAULT: ShareLimits = ShareLimits {
        tokens_per_client: 16,
        tokens: 256,
        holders_per_buffer: 16,
    };
}

/// One unused token: whose buffer, and who may import it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Export {
    /// The exporting process.
    pub exporter: u32,
    /// Its handle number of the buffer.
    pub number: u64,
    /// The buffer.
    pub buffer: BufferKey,
    /// The only device it may be imported for, if restricted.
    pub device: Option<String>,
    /// The only process that may import it, if restricted.
    pub pid: Option<u32>,
}

/// A shared buffer's mapping in one device's IOMMU domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceShare {
    /// Imports for this device at this IOVA.
    pub imports: u32,
    /// Whether the exporter's own allocation mapping is this one (and still held).
    pub owner_mapped: bool,
}

/// What dropping one import's use of a device mapping asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceRelease {
    /// Other imports (or the owner) still use the mapping: nothing to unmap.
    StillUsed,
    /// That was the last user: unmap it from the device's domain.
    Unmap,
}

/// Everything dmad knows about shared buffers.
#[derive(Clone, Debug)]
pub struct ShareTable {
    mint: TokenMint,
    tokens: BTreeMap<Token, Export>,
    tokens_of: BTreeMap<u32, usize>,
    /// Unused tokens plus imports, per buffer that has any.
    holders: BTreeMap<BufferKey, u32>,
    devices: BTreeMap<(String, u64), DeviceShare>,
    limits: ShareLimits,
}

impl Default for ShareTable {
    fn default() -> Self {
        ShareTable::new([0x636f_6865_7265_6e74, 0x7368_6172_6564_2121])
    }
}

impl ShareTable {
    /// An empty table whose tokens come from a mint keyed by `seed`.
    pub fn new(seed: [u64; 2]) -> Self {
        ShareTable {
            mint: TokenMint::new(seed),
            tokens: BTreeMap::new(),
            tokens_of: BTreeMap::new(),
            holders: BTreeMap::new(),
            devices: BTreeMap::new(),
            limits: ShareLimits::DEFAULT,
        }
    }

    /// Reseeds the mint (tokens already out stay valid).
    pub fn seed(&mut self, seed: [u64; 2]) {
        self.mint = TokenMint::new(seed);
    }

    /// Stirs `entropy` into the mint.
    pub fn stir(&mut self, entropy: u64) {
        self.mint.stir(entropy);
    }

    /// Sets the limits (tests use small ones).
    pub fn set_limits(&mut self, limits: ShareLimits) {
        self.limits = limits;
    }

    /// Whether `exporter` may make one more token for `buffer`: `EAGAIN` past the token
    /// limits, `ENOSPC` past the buffer's holder limit.
    pub fn admit_export(&self, exporter: u32, buffer: BufferKey) -> Result<(), Refusal> {
        if self.tokens_of.get(&exporter).copied().unwrap_or(0) >= self.limits.tokens_per_client {
            return Err(Refusal::new(
                DmaError::TooManyClients,
                "too many unused tokens in this process",
            ));
        }
        if self.tokens.len() >= self.limits.tokens {
            return Err(Refusal::new(
                DmaError::TooManyClients,
                "dmad's token table is full",
            ));
        }
        if self.holders(buffer) >= self.limits.holders_per_buffer {
            return Err(no_space("the buffer has as many holders as dmad allows"));
        }
        Ok(())
    }

    /// Records `export` (admitted by [`admit_export`](Self::admit_export)) under a new
    /// token.
    pub fn export(&mut self, export: Export) -> Token {
        let mut token = self.mint.mint();
        while self.tokens.contains_key(&token) {
            token = self.mint.mint();
        }
        *self.tokens_of.entry(export.exporter).or_default() += 1;
        *self.holders.entry(export.buffer).or_default() += 1;
        self.tokens.insert(token, export);
        token
    }

    /// The unused export `token` names.
    pub fn find(&self, token: Token) -> Option<&Export> {
        self.tokens.get(&token)
    }

    /// Consumes `token` for an import: the buffer's holder count passes from the token to
    /// the import.
    pub fn redeem(&mut self, token: Token) -> Option<Export> {
        let export = self.tokens.remove(&token)?;
        self.token_gone(export.exporter);
        Some(export)
    }

    /// Revokes the unused tokens of `exporter`'s handle `number` (or, with `None`, all of
    /// `exporter`'s); returns how many.
    pub fn revoke(&mut self, exporter: u32, number: Option<u64>) -> usize {
        let revoked: alloc::vec::Vec<Token> = self
            .tokens
            .iter()
            .filter(|(_, export)| {
                export.exporter == exporter && number.is_none_or(|number| export.number == number)
            })
            .map(|(token, _)| *token)
            .collect();
        for token in &revoked {
            let export = self.tokens.remove(token).expect("listed above");
            self.token_gone(exporter);
            self.holder_gone(export.buffer);
        }
        revoked.len()
    }

    /// An import of `buffer` ended.
    pub fn import_dropped(&mut self, buffer: BufferKey) {
        self.holder_gone(buffer);
    }

    /// Unused tokens and imports of `buffer`.
    pub fn holders(&self, buffer: BufferKey) -> u32 {
        self.holders.get(&buffer).copied().unwrap_or(0)
    }

    /// Unused tokens of all processes.
    pub fn tokens(&self) -> usize {
        self.tokens.len()
    }

    /// The mapping of `iova` in `device`'s domain, if imports use it.
    pub fn device(&self, device: &str, iova: u64) -> Option<DeviceShare> {
        self.devices.get(&(String::from(device), iova)).copied()
    }

    /// One more import uses `device`'s mapping at `iova`; `owner_mapped` says, for the
    /// first, whether the exporter's allocation mapping is that one.
    pub fn device_added(&mut self, device: &str, iova: u64, owner_mapped: bool) {
        self.devices
            .entry((String::from(device), iova))
            .or_insert(DeviceShare {
                imports: 0,
                owner_mapped,
            })
            .imports += 1;
    }

    /// One import fewer uses `device`'s mapping at `iova`.
    pub fn device_dropped(&mut self, device: &str, iova: u64) -> DeviceRelease {
        let key = (String::from(device), iova);
        let Some(share) = self.devices.get_mut(&key) else {
            return DeviceRelease::Unmap;
        };
        share.imports -= 1;
        if share.imports > 0 {
            return DeviceRelease::StillUsed;
        }
        let owner_mapped = share.owner_mapped;
        self.devices.remove(&key);
        if owner_mapped {
            DeviceRelease::StillUsed
        } else {
            DeviceRelease::Unmap
        }
    }

    /// The exporter lets go of its allocation mapping at `iova` in `device`'s domain:
    /// `true` if imports still use it (the last of them unmaps it), `false` if the exporter
    /// must unmap it now.
    pub fn owner_unmapping(&mut self, device: &str, iova: u64) -> bool {
        // Every buffer's close asks; without shared mappings that costs nothing.
        if self.devices.is_empty() {
            return false;
        }
        match self.devices.get_mut(&(String::from(device), iova)) {
            Some(share) => {
                share.owner_mapped = false;
                true
            }
            None => false,
        }
    }

    fn token_gone(&mut self, exporter: u32) {
        let count = self
            .tokens_of
            .get_mut(&exporter)
            .expect("exporter has tokens");
        *count -= 1;
        if *count == 0 {
            self.tokens_of.remove(&exporter);
        }
    }

    fn holder_gone(&mut self, buffer: BufferKey) {
        let count = self.holders.get_mut(&buffer).expect("buffer has holders");
        *count -= 1;
        if *count == 0 {
            self.holders.remove(&buffer);
        }
    }
}

/// `ENOSPC`: no room for one more holder of a buffer.
pub const fn no_space(reason: &'static str) -> Refusal {
    Refusal {
        errno: syscall::error::ENOSPC,
        name: "ENOSPC",
        reason,
    }
}

/// What `call` payload `bytes` asks, if it is an export (it starts with `export`): what
/// follows, up to the first NUL, for [`export_options`]. Any other payload (a zeroed
/// buffer) reads the descriptor.
pub fn export_request(bytes: &[u8]) -> Option<&[u8]> {
    let end = bytes
        .iter()
        .position(|&byte| byte == 0)
        .unwrap_or(bytes.len());
    bytes[..end].strip_prefix(EXPORT_REQUEST.as_bytes())
}

/// The options of an export: `?device=DEV&pid=P` in any order, each at most once, or
/// nothing. `EINVAL` otherwise.
pub fn export_options(options: &[u8]) -> Result<(Option<&str>, Option<u32>), Refusal> {
    let invalid = Refusal::new(DmaError::Invalid, "malformed export request");
    let options = core::str::from_utf8(options).map_err(|_| invalid)?;
    let Some(query) = options.strip_prefix('?') else {
        return if options.is_empty() {
            Ok((None, None))
        } else {
            Err(invalid)
        };
    };
    let (mut device, mut pid) = (None, None);
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("device", name)) if device.is_none() && is_name(name) => device = Some(name),
            Some(("pid", number)) if pid.is_none() => {
                pid = Some(number.parse::<u32>().map_err(|_| invalid)?);
            }
            _ => return Err(invalid),
        }
    }
    Ok((device, pid))
}

/// The device and token of an import path (`DEV/import?token=T` or `import?token=T`),
/// if `path` is one: `Some(Err(EINVAL))` for an import path with a malformed query.
pub fn import_path(path: &str) -> Option<Result<(Option<&str>, Token), Refusal>> {
    let path = path.trim_start_matches('/');
    let (target, query) = path.split_once('?').unwrap_or((path, ""));
    let device = match target.rsplit_once('/') {
        Some((device, "import")) => Some(device),
        None if target == "import" => None,
        _ => return None,
    };
    let invalid = Refusal::new(DmaError::Invalid, "malformed import request");
    if device.is_some_and(|device| !is_name(device)) {
        return Some(Err(invalid));
    }
    let token = query
        .strip_prefix("token=")
        .and_then(Token::parse)
        .ok_or(invalid);
    Some(token.map(|token| (device, token)))
}

/// A device name as paths allow it (as `dma_api`'s parser checks them).
fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|byte| byte.is_ascii_graphic() && !b"/:?&=".contains(&byte))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn siphash_matches_the_reference_vector() {
        // SipHash-2-4 of the 8 bytes 00..07 under key 00..0f (the paper's vector 8).
        let key = [0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908];
        assert_eq!(siphash(key, 0x0706_0504_0302_0100), 0x93f5_f579_9a93_2462);
    }

    #[test]
    fn tokens_are_not_sequential_and_round_trip() {
        let mut mint = TokenMint::new([1, 2]);
        let first = mint.mint();
        let second = mint.mint();
        assert_ne!(first, second);
        assert_ne!(second.0.wrapping_sub(first.0), 1);
        assert_eq!(Token::parse(&first.to_text()), Some(first));
        // Another key, other tokens; stirring changes what follows.
        let mut other = TokenMint::new([1, 3]);
        assert_ne!(other.mint(), first);
        let mut stirred = TokenMint::new([1, 2]);
        stirred.stir(42);
        assert_ne!(stirred.mint(), first);
    }

    #[test]
    fn token_text_is_exactly_32_hex_digits() {
        assert_eq!(Token::parse(&"0".repeat(31)), None);
        assert_eq!(Token::parse(&"0".repeat(33)), None);
        assert_eq!(Token::parse(&"g".repeat(32)), None);
        assert_eq!(Token::parse(&"+1".repeat(16)), None);
        assert_eq!(
            Token::parse(&"aF".repeat(16)),
            Some(Token(0xafaf_afaf_afaf_afaf_afaf_afaf_afaf_afaf))
        );
    }

    #[test]
    fn export_and_import_requests_parse() {
        assert_eq!(export_request(b"export\0\0"), Some(&b""[..]));
        assert_eq!(export_request(b"export?pid=3\0"), Some(&b"?pid=3"[..]));
        assert_eq!(export_request(b"exported"), Some(&b"ed"[..]));
        assert_eq!(export_request(b"\0\0"), None);
        assert_eq!(export_request(b"\0export"), None);
        assert_eq!(export_options(b""), Ok((None, None)));
        assert_eq!(
            export_options(b"?device=edu0&pid=7"),
            Ok((Some("edu0"), Some(7)))
        );
        for bad in [
            &b"?"[..],
            b"?pid=x",
            b"?pid=1&pid=2",
            b"?device=",
            b"?colour=red",
            b"x",
            b"ed",
        ] {
            assert!(export_options(bad).is_err(), "{bad:?}");
        }
        let token = Token(0x1234);
        let text = alloc::format!("edu0/import?token={}", token.to_text());
        assert_eq!(import_path(&text), Some(Ok((Some("edu0"), token))));
        let text = alloc::format!("/import?token={}", token.to_text());
        assert_eq!(import_path(&text), Some(Ok((None, token))));
        assert!(matches!(import_path("edu0/import?token=12"), Some(Err(_))));
        assert!(matches!(import_path("edu0/import"), Some(Err(_))));
        assert_eq!(import_path("edu0/alloc?size=1"), None);
        assert_eq!(import_path(""), None);
    }
}
