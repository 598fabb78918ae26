//! Randomness: a seedable generator for reproducible sequences (the simulator's ids, prices and
//! faults; retry jitter) and [`entropy`], 64 bits from the operating system's CSPRNG for ids that
//! must not collide (installations, lease holders) and for seeds. SplitMix64 is not for secrets.

/// SplitMix64: tiny, fast, and the same sequence for the same seed on every platform.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator that yields the same sequence for the same seed.
    pub fn seeded(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// A generator seeded from the process's random state and the clock.
    pub fn from_entropy() -> Self {
        SplitMix64(entropy())
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (0 when `bound` is 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 { 0 } else { self.next_u64() % bound }
    }

    /// True with probability `per_million` / 1,000,000.
    pub fn chance(&mut self, per_million: u32) -> bool {
        self.below(1_000_000) < u64::from(per_million)
    }

    /// `len` lowercase hex-and-letters characters, for ids like `ins-1a2b3c4d`.
    pub fn id_chars(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
        (0..len)
            .map(|_| ALPHABET[self.below(ALPHABET.len() as u64) as usize] as char)
            .collect()
    }

    /// A random version-4 UUID in its text form (Tencent's RequestId format).
    pub fn uuid(&mut self) -> String {
        let (a, b) = (self.next_u64(), self.next_u64());
        let b = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
        let a = (a & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000;
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xFFFF,
            a & 0xFFFF,
            b >> 48,
            b & 0xFFFF_FFFF_FFFF
        )
    }
}

/// 64 bits from the operating system's CSPRNG (getrandom).
pub fn entropy() -> u64 {
    // The OS generator does not fail on the systems cvmbot runs on; if it ever did, an id made
    // from a panic is worse than none, so say so plainly.
    getrandom::u64().expect("the operating system's random number generator is unavailable")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_sequence() {
        let mut a = SplitMix64::seeded(7);
        let mut b = SplitMix64::seeded(7);
        assert_eq!(
            (0..5).map(|_| a.next_u64()).collect::<Vec<_>>(),
            (0..5).map(|_| b.next_u64()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn uuids_have_the_version_4_shape() {
        let id = SplitMix64::seeded(1).uuid();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
    }
}
