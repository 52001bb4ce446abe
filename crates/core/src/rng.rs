//! A small deterministic pseudo-random generator for the double-random draws
//! (`domain::sampling`, re-run to verify) and the demo seed: xoshiro256** seeded through
//! SplitMix64 (Blackman & Vigna, <https://prng.di.unimi.it/>).
//!
//! Why our own and not the `rand` crate: a draw must give the same result when re-run years
//! later, and the demo data set is part of what people compare when
//! they report "unit 91500112… looks wrong", and in tests we assert exact rows. `rand` has changed
//! its algorithms and its sampling of ranges between versions, so a seed would silently give other
//! data after a dependency bump. Everything here is a few lines of fixed arithmetic, and the unit
//! tests pin the first outputs so any change to it is a visible, deliberate one.
//!
//! Not for anything security-related: the output is predictable by design.

/// The golden-ratio increment of SplitMix64.
const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64: used only to expand one `u64` seed into xoshiro's 256-bit state, as its authors
/// recommend (a state of correlated or all-zero words would give poor first outputs).
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        mix64(self.state)
    }
}

/// The SplitMix64 finaliser: a bijective mix of 64 bits (also used to derive stream seeds).
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// xoshiro256**: fast, 256 bits of state, passes BigCrush; plenty for synthetic data.
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A generator for `seed`. The same seed gives the same sequence on every platform and build.
    pub fn new(seed: u64) -> Self {
        let mut sm = SplitMix64::new(seed);
        let s = [sm.next_u64(), sm.next_u64(), sm.next_u64(), sm.next_u64()];
        // SplitMix64 never yields four zero words from one seed, but the all-zero state is the one
        // state xoshiro cannot leave, so guard it anyway rather than rely on that.
        if s == [0; 4] {
            return Self {
                s: [GOLDEN_GAMMA, 1, 2, 3],
            };
        }
        Self { s }
    }

    /// An independent generator for sub-stream `stream` of `seed` (e.g. one per unit).
    ///
    /// Giving each generated unit its own stream keeps a unit's data independent of how much
    /// randomness the units before it consumed, so tuning one part of the generator (say, the
    /// outlet count) does not reshuffle every later unit.
    pub fn stream(seed: u64, stream: u64) -> Self {
        Self::new(mix64(seed) ^ mix64(stream.wrapping_add(GOLDEN_GAMMA)))
    }

    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in `0..n` without modulo bias (Lemire's multiply-and-reject). `below(0)` is 0.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let mut m = u128::from(self.next_u64()) * u128::from(n);
        if (m as u64) < n {
            // Reject the few low products that would over-represent some results.
            let threshold = n.wrapping_neg() % n;
            while (m as u64) < threshold {
                m = u128::from(self.next_u64()) * u128::from(n);
            }
        }
        (m >> 64) as u64
    }

    /// Uniform index in `0..len` (convenience for slices).
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// Uniform in `lo..=hi`, both ends included (reads like "2–6 outlets"). If `hi < lo`, `lo`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = hi.wrapping_sub(lo) as u64;
        match span.checked_add(1) {
            Some(n) => lo.wrapping_add(self.below(n) as i64),
            // The whole i64 range: every u64 is a valid offset.
            None => lo.wrapping_add(self.next_u64() as i64),
        }
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f64()
    }

    /// Log-uniform in `[lo, hi)` (both positive): quantities such as tonnes per year spread over
    /// orders of magnitude, and a plain uniform would make nearly every unit a large one.
    pub fn log_uniform(&mut self, lo: f64, hi: f64) -> f64 {
        if lo <= 0.0 || hi <= lo {
            return lo;
        }
        (lo.ln() + (hi.ln() - lo.ln()) * self.f64()).exp()
    }

    /// True with probability `p` (clamped to `[0, 1]`).
    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    /// A uniformly chosen element.
    ///
    /// # Panics
    /// If `items` is empty, like indexing an empty slice; the vocabularies are non-empty
    /// constants (checked by a test), so an empty one is a programming error.
    #[track_caller]
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }

    /// Index chosen with probability proportional to `weights[i]`. If all weights are zero, a
    /// uniform index; an empty slice gives 0.
    pub fn weighted_index(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        if total == 0 {
            return self.index(weights.len());
        }
        let mut target = self.below(total);
        for (i, &w) in weights.iter().enumerate() {
            let w = u64::from(w);
            if target < w {
                return i;
            }
            target -= w;
        }
        // Unreachable: target < total = Σ weights.
        weights.len().saturating_sub(1)
    }

    /// An element chosen with probability proportional to its weight.
    ///
    /// # Panics
    /// If `items` is empty (see [`Rng::pick`]).
    #[track_caller]
    pub fn pick_weighted<'a, T>(&mut self, items: &'a [(T, u32)]) -> &'a T {
        let mut target = {
            let total: u64 = items.iter().map(|(_, w)| u64::from(*w)).sum();
            if total == 0 {
                return &items[self.index(items.len())].0;
            }
            self.below(total)
        };
        for (item, w) in items {
            let w = u64::from(*w);
            if target < w {
                return item;
            }
            target -= w;
        }
        &items[items.len() - 1].0
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.index(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SplitMix64 reference outputs for seed 0 (from the authors' C code).
    #[test]
    fn splitmix64_matches_reference() {
        let mut sm = SplitMix64::new(0);
        assert_eq!(sm.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(sm.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(sm.next_u64(), 0x06C4_5D18_8009_454F);
        assert_eq!(sm.next_u64(), 0xF88B_B8A8_724C_81EC);
    }

    /// xoshiro256** reference outputs for the state [1, 2, 3, 4].
    #[test]
    fn xoshiro_matches_reference() {
        let mut r = Rng { s: [1, 2, 3, 4] };
        let got: Vec<u64> = (0..4).map(|_| r.next_u64()).collect();
        assert_eq!(got, [11520, 0, 1_509_978_240, 1_215_971_899_390_074_240]);
    }

    /// Pins the first outputs for the default demo seed: if this fails, the demo data set has
    /// changed for everyone. Only update the numbers on purpose.
    #[test]
    fn seed_2021_first_outputs_are_pinned() {
        let mut r = Rng::new(2021);
        let got: Vec<u64> = (0..5).map(|_| r.next_u64()).collect();
        assert_eq!(got, PINNED_2021);
    }

    #[test]
    fn derived_values_are_pinned() {
        let mut r = Rng::new(2021);
        let below: Vec<u64> = (0..8).map(|_| r.below(10)).collect();
        assert_eq!(below, PINNED_BELOW_10);
        let mut s = Rng::stream(2021, 7);
        assert_eq!(s.next_u64(), PINNED_STREAM_7);
    }

    #[test]
    fn ranges_stay_in_bounds_and_cover_them() {
        let mut r = Rng::new(1);
        let mut seen = [false; 5];
        for _ in 0..1000 {
            let v = r.range(2, 6);
            assert!((2..=6).contains(&v));
            seen[(v - 2) as usize] = true;
            let f = r.f64();
            assert!((0.0..1.0).contains(&f));
            let b = r.below(3);
            assert!(b < 3);
        }
        assert!(seen.iter().all(|&s| s));
        assert_eq!(r.range(5, 5), 5);
        assert_eq!(r.range(5, 1), 5);
        assert_eq!(r.below(0), 0);
        let full = r.range(i64::MIN, i64::MAX);
        let _ = full; // any value is in range; this only checks it does not overflow
    }

    #[test]
    fn weighted_pick_follows_weights() {
        let mut r = Rng::new(42);
        let items = [("a", 1u32), ("b", 0), ("c", 3)];
        let mut counts = [0u32; 3];
        for _ in 0..4000 {
            match *r.pick_weighted(&items) {
                "a" => counts[0] += 1,
                "b" => counts[1] += 1,
                _ => counts[2] += 1,
            }
        }
        assert_eq!(counts[1], 0);
        // Expect about 1000 : 3000.
        assert!((800..1200).contains(&counts[0]), "{counts:?}");
        assert_eq!(r.weighted_index(&[0, 0, 5]), 2);
    }

    #[test]
    fn streams_differ_and_repeat() {
        let a: Vec<u64> = {
            let mut r = Rng::stream(9, 1);
            (0..4).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = Rng::stream(9, 2);
            (0..4).map(|_| r.next_u64()).collect()
        };
        let a2: Vec<u64> = {
            let mut r = Rng::stream(9, 1);
            (0..4).map(|_| r.next_u64()).collect()
        };
        assert_ne!(a, b);
        assert_eq!(a, a2);
    }

    // Computed with an independent Python transcription of the reference C code.
    const PINNED_2021: [u64; 5] = [
        0xF616_12C2_FF4D_9BC1,
        0x584F_61AB_0B9A_78B4,
        0x8153_A824_0F70_A3E2,
        0xF782_5DE8_1809_F5F1,
        0xBFA6_B657_8E1A_9E26,
    ];
    const PINNED_BELOW_10: [u64; 8] = [9, 3, 5, 9, 7, 8, 4, 4];
    const PINNED_STREAM_7: u64 = 0xD55C_963F_1E4C_8E7D;
}
