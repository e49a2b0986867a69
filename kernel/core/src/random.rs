//! The kernel's random-byte generator behind `sys:random`: a small SipHash-based mixing
//! pool, arch-neutral so host tests can check it.
//!
//! # Design
//!
//! The pool is SipHash's 256-bit state (`v0..v3`). [`Pool::absorb`] feeds it a 64-bit word
//! the way SipHash compresses a message word (`v3 ^= m`, two SipRounds, `v0 ^= m`), so every
//! input changes the whole state. [`Pool::next_word`] absorbs a fresh output counter and then
//! finalises a *copy* of the state (SipHash's `v2 ^= 0xff` and four SipRounds); the returned
//! word is that copy's `v0 ^ v1 ^ v2 ^ v3`, and the pool itself only ever moves forward.
//!
//! What goes in: the CPU's hardware generator (x86_64 RDRAND, aarch64 RNDR) when it has one,
//! a word per output word; counter readings at boot and around device discovery; and the
//! timer-tick jitter the kernel accumulates. A hardware word is *mixed in*, never returned
//! as is, so a failing or stuck source cannot give zeros or a constant stream: the output is
//! at least as unpredictable as the pool.
//!
//! # Strength
//!
//! With a working hardware source each output word has the hardware's entropy behind it.
//! Without one (e.g. QEMU's `cortex-a72`: no RNDR) the pool rests only on counter jitter,
//! which under an emulator is small and partly predictable: the fallback is **not
//! cryptographically strong**. It gives values that differ per boot and per read and are
//! not guessable by a process without the counter history, nothing more. SipHash-2-4 is a
//! keyed PRF, not a vetted DRBG; this is a best-effort mixer, written small on purpose.

/// One SipRound over the state.
fn sip_round(v: &mut [u64; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13);
    v[1] ^= v[0];
    v[0] = v[0].rotate_left(32);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(16);
    v[3] ^= v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(21);
    v[3] ^= v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(17);
    v[1] ^= v[2];
    v[2] = v[2].rotate_left(32);
}

/// The mixing pool (see the module doc).
#[derive(Clone, Debug)]
pub struct Pool {
    state: [u64; 4],
    outputs: u64,
}

impl Pool {
    /// A pool holding SipHash's initial constants with a zero key: predictable until
    /// something is absorbed.
    pub const fn new() -> Self {
        Pool {
            state: [
                0x736f_6d65_7073_6575,
                0x646f_7261_6e64_6f6d,
                0x6c79_6765_6e65_7261,
                0x7465_6462_7974_6573,
            ],
            outputs: 0,
        }
    }

    /// Mixes `word` into the whole state.
    pub fn absorb(&mut self, word: u64) {
        self.state[3] ^= word;
        sip_round(&mut self.state);
        sip_round(&mut self.state);
        self.state[0] ^= word;
    }

    /// The next output word; the pool moves on, so no two calls repeat a state.
    pub fn next_word(&mut self) -> u64 {
        self.outputs = self.outputs.wrapping_add(1);
        self.absorb(self.outputs);
        let mut copy = self.state;
        copy[2] ^= 0xff;
        for _ in 0..4 {
            sip_round(&mut copy);
        }
        copy[0] ^ copy[1] ^ copy[2] ^ copy[3]
    }

    /// Fills `bytes`, absorbing `extra()` (the hardware word, or `None`) before each output
    /// word.
    pub fn fill(&mut self, bytes: &mut [u8], mut extra: impl FnMut() -> Option<u64>) {
        for chunk in bytes.chunks_mut(8) {
            if let Some(word) = extra() {
                self.absorb(word);
            }
            let word = self.next_word().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }
}

impl Default for Pool {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    fn filled(pool: &mut Pool, length: usize, extra: impl FnMut() -> Option<u64>) -> Vec<u8> {
        let mut bytes = vec![0u8; length];
        pool.fill(&mut bytes, extra);
        bytes
    }

    #[test]
    fn successive_outputs_differ() {
        let mut pool = Pool::new();
        pool.absorb(1234);
        let words: Vec<u64> = (0..64).map(|_| pool.next_word()).collect();
        for (i, a) in words.iter().enumerate() {
            for b in &words[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn the_same_inputs_give_the_same_output() {
        let mut a = Pool::new();
        let mut b = Pool::new();
        a.absorb(42);
        b.absorb(42);
        assert_eq!(filled(&mut a, 40, || None), filled(&mut b, 40, || None));
    }

    #[test]
    fn one_input_bit_changes_about_half_the_output_bits() {
        let mut a = Pool::new();
        let mut b = Pool::new();
        a.absorb(0x1000);
        b.absorb(0x1001);
        let (x, y) = (filled(&mut a, 256, || None), filled(&mut b, 256, || None));
        let differing: u32 = x.iter().zip(&y).map(|(p, q)| (p ^ q).count_ones()).sum();
        // 2048 bits: a good mix differs in ~1024; 900..1150 is beyond 5 standard deviations.
        assert!((900..1150).contains(&differing), "{differing} bits differ");
    }

    #[test]
    fn a_stuck_hardware_source_does_not_give_its_value() {
        let mut pool = Pool::new();
        let bytes = filled(&mut pool, 64, || Some(0));
        assert!(bytes.chunks(8).all(|word| word != [0u8; 8]));
        let words: Vec<&[u8]> = bytes.chunks(8).collect();
        for (i, a) in words.iter().enumerate() {
            for b in &words[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn hardware_words_change_the_output() {
        let mut a = Pool::new();
        let mut b = Pool::new();
        let mut n = 0u64;
        let x = filled(&mut a, 32, || None);
        let y = filled(&mut b, 32, || {
            n += 1;
            Some(n)
        });
        assert_ne!(x, y);
    }

    #[test]
    fn a_partial_last_word_is_filled() {
        let mut pool = Pool::new();
        let mut bytes = [0u8; 13];
        pool.fill(&mut bytes, || None);
        assert_ne!(&bytes[8..], &[0u8; 5]);
    }
}
