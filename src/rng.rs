//! Deterministic random streams keyed by (seed, purpose, id), never by MPI rank.
//!
//! Every stream is a xoshiro256++ generator whose 256-bit state is derived from the key
//! with the SplitMix64 finaliser (Steele, Lea & Flood, OOPSLA 2014), so two different keys
//! give statistically independent streams and the same key always gives the same stream,
//! whatever the number of ranks.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// The generator type used everywhere in nti.
pub type Stream = Xoshiro256PlusPlus;

/// What a random stream is used for; part of its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Purpose {
    /// Initial positions and velocities of a replica.
    Init = 1,
    /// Monte Carlo trial moves and acceptance tests.
    MonteCarlo = 2,
    /// Langevin thermostat noise.
    Langevin = 3,
    /// Widom test-particle positions.
    Widom = 4,
    /// Velocities drawn for NVE runs.
    Velocities = 5,
    /// Model parameter initialisation.
    ModelInit = 6,
    /// Order in which training data are visited (per epoch).
    DataOrder = 7,
    /// Diffusion time and noise of training samples (per global sample index).
    TrainNoise = 8,
    /// Held-out validation samples (fixed across steps).
    Validation = 9,
    /// Reverse-SDE trajectories (per trajectory index).
    Reverse = 10,
    /// Exact samples drawn from toy systems.
    ToyData = 11,
    /// Annealed importance sampling chains (per chain index).
    Ais = 12,
    /// Metropolis-corrected TI windows (per window and chain).
    Window = 13,
    /// Melting stage of the initial lattice (per replica).
    Melt = 14,
    /// Probe directions of the configurational-temperature diagnostic (per window chain / node).
    ConfTemperature = 15,
    /// Noise of the reference frames that start window chains (per window and chain).
    WindowStart = 16,
    /// Metropolis-adjusted corrector steps inside the reverse SDE (per trajectory and corrector).
    Corrector = 17,
    /// Hutchinson probes of the windows' Fokker-Planck control variate (per chain and sample).
    SteinProbe = 18,
}

/// SplitMix64 finaliser: a bijective 64-bit mixing function.
pub fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The stream for `(seed, purpose, id)`; `id` is a replica, batch or window index.
pub fn stream(seed: u64, purpose: Purpose, id: u64) -> Stream {
    let mut h = splitmix64(seed);
    h = splitmix64(h ^ (purpose as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93));
    h = splitmix64(h ^ id.wrapping_mul(0xA076_1D64_78BD_642F));
    let mut bytes = [0u8; 32];
    let mut s = h;
    for chunk in bytes.chunks_mut(8) {
        s = splitmix64(s);
        chunk.copy_from_slice(&s.to_le_bytes());
    }
    Xoshiro256PlusPlus::from_seed(bytes)
}

/// The 256-bit state of a stream, for saving a work item in progress (`crate::run::item_state`).
pub fn state_words(r: &Stream) -> [u64; 4] {
    let v = serde_json::to_value(r).expect("a xoshiro state serialises");
    let s = v.get("s").and_then(|s| s.as_array()).expect("xoshiro256++ serialises as {\"s\": [4 words]}");
    let mut w = [0u64; 4];
    for (o, x) in w.iter_mut().zip(s) {
        *o = x.as_u64().expect("a state word is a u64");
    }
    w
}

/// The stream in state `w` (inverse of [`state_words`]): it continues exactly where the saved one
/// stood.
pub fn from_state_words(w: [u64; 4]) -> Stream {
    serde_json::from_value(serde_json::json!({ "s": w })).expect("four words are a xoshiro state")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn same_key_same_stream_different_key_different_stream() {
        let a: Vec<u64> =
            (0..4).map(|_| 0).scan(stream(7, Purpose::MonteCarlo, 3), |r, _: u64| Some(r.next_u64())).collect();
        let b: Vec<u64> =
            (0..4).map(|_| 0).scan(stream(7, Purpose::MonteCarlo, 3), |r, _: u64| Some(r.next_u64())).collect();
        let c: Vec<u64> =
            (0..4).map(|_| 0).scan(stream(7, Purpose::MonteCarlo, 4), |r, _: u64| Some(r.next_u64())).collect();
        let d: Vec<u64> =
            (0..4).map(|_| 0).scan(stream(7, Purpose::Langevin, 3), |r, _: u64| Some(r.next_u64())).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn a_stream_restored_from_its_state_continues_identically() {
        let mut a = stream(7, Purpose::MonteCarlo, 3);
        for _ in 0..5 {
            a.next_u64();
        }
        let mut b = from_state_words(state_words(&a));
        let (x, y): (Vec<u64>, Vec<u64>) = (0..8).map(|_| (a.next_u64(), b.next_u64())).unzip();
        assert_eq!(x, y);
        assert_ne!(state_words(&a), state_words(&stream(7, Purpose::MonteCarlo, 3)));
    }
}
