//! The saved state of a work item in progress (a sampling replica, a lambda window) as one flat
//! f64 buffer, the form the work-item store keeps (`crate::run::items`). Integers are written as
//! two 32-bit halves, each exact in an f64, so counters and random-stream states survive bitwise;
//! f64 values are stored as they are (NaN included). The buffer starts with a tag naming what it
//! holds and a format version, so a state of another kind or layout is refused, not misread.

use crate::rng::{from_state_words, state_words, Stream};
use anyhow::{bail, Result};

/// The safe-point callback of a work item's loop: given a builder of the item's state buffer, it
/// saves the state when due (a stop request, the periodic interval) and returns true when the
/// item must stop now (`crate::run::safe_point`).
pub type SafePointFn<'a> = dyn FnMut(&dyn Fn() -> Vec<f64>) -> Result<bool> + 'a;

/// Builds a state buffer.
#[derive(Debug)]
pub struct StateWriter {
    buf: Vec<f64>,
}

/// The tag of a kind of state: its name's bytes folded into a u64 (FNV-1a).
fn tag_of(kind: &str) -> u64 {
    kind.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

impl StateWriter {
    /// A buffer for a state of `kind` in layout `version`.
    pub fn new(kind: &str, version: u64) -> Self {
        let mut w = Self { buf: Vec::new() };
        w.u64(tag_of(kind));
        w.u64(version);
        w
    }

    /// An unsigned integer, exactly.
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.buf.push((v >> 32) as f64);
        self.buf.push((v & 0xffff_ffff) as f64);
        self
    }

    /// One f64, bitwise.
    pub fn f64(&mut self, v: f64) -> &mut Self {
        self.buf.push(v);
        self
    }

    /// A slice of f64, with its length.
    pub fn f64s(&mut self, v: &[f64]) -> &mut Self {
        self.u64(v.len() as u64);
        self.buf.extend_from_slice(v);
        self
    }

    /// A slice of u32 (each exact in an f64), with its length.
    pub fn u32s(&mut self, v: &[u32]) -> &mut Self {
        self.u64(v.len() as u64);
        self.buf.extend(v.iter().map(|&x| x as f64));
        self
    }

    /// Particle positions or velocities (N, 3), with N.
    pub fn vec3s(&mut self, v: &[[f64; 3]]) -> &mut Self {
        self.u64(v.len() as u64);
        self.buf.extend(v.iter().flatten());
        self
    }

    /// The state of a random stream.
    pub fn rng(&mut self, r: &Stream) -> &mut Self {
        for w in state_words(r) {
            self.u64(w);
        }
        self
    }

    /// The finished buffer.
    pub fn finish(self) -> Vec<f64> {
        self.buf
    }
}

/// Reads a state buffer in the order it was written; every read checks what it finds.
#[derive(Debug)]
pub struct StateReader<'a> {
    buf: &'a [f64],
    pos: usize,
}

impl<'a> StateReader<'a> {
    /// Opens `buf` as a state of `kind` in layout `version`, or says why it is not one.
    pub fn new(buf: &'a [f64], kind: &str, version: u64) -> Result<Self> {
        let mut r = Self { buf, pos: 0 };
        if r.u64()? != tag_of(kind) {
            bail!("not a saved state of a {kind}");
        }
        let v = r.u64()?;
        if v != version {
            bail!("saved state of a {kind} in layout {v}, this version reads layout {version}");
        }
        Ok(r)
    }

    fn take(&mut self, n: usize) -> Result<&'a [f64]> {
        if self.buf.len() - self.pos < n {
            bail!("saved state ends early ({} values, {} more needed at {})", self.buf.len(), n, self.pos);
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// An unsigned integer written by [`StateWriter::u64`].
    pub fn u64(&mut self) -> Result<u64> {
        let s = self.take(2)?;
        let half = |x: f64| -> Result<u64> {
            if x.fract() != 0.0 || !(0.0..=u32::MAX as f64).contains(&x) {
                bail!("saved state holds {x} where a 32-bit half of an integer belongs");
            }
            Ok(x as u64)
        };
        Ok((half(s[0])? << 32) | half(s[1])?)
    }

    /// A length, at most what is left in the buffer times `per` values each.
    fn len(&mut self, per: usize) -> Result<usize> {
        let n = self.u64()? as usize;
        if n.saturating_mul(per) > self.buf.len() - self.pos {
            bail!("saved state names {n} entries where only {} values are left", self.buf.len() - self.pos);
        }
        Ok(n)
    }

    /// One f64.
    pub fn f64(&mut self) -> Result<f64> {
        Ok(self.take(1)?[0])
    }

    /// A slice written by [`StateWriter::f64s`].
    pub fn f64s(&mut self) -> Result<Vec<f64>> {
        let n = self.len(1)?;
        Ok(self.take(n)?.to_vec())
    }

    /// A slice written by [`StateWriter::u32s`].
    pub fn u32s(&mut self) -> Result<Vec<u32>> {
        let n = self.len(1)?;
        self.take(n)?
            .iter()
            .map(|&x| {
                if x.fract() != 0.0 || !(0.0..=u32::MAX as f64).contains(&x) {
                    bail!("saved state holds {x} where an index belongs");
                }
                Ok(x as u32)
            })
            .collect()
    }

    /// Positions or velocities written by [`StateWriter::vec3s`]; `n` of them expected.
    pub fn vec3s(&mut self, n: usize) -> Result<Vec<[f64; 3]>> {
        let m = self.len(3)?;
        if m != n {
            bail!("saved state holds {m} particles, {n} expected");
        }
        Ok(self.take(3 * n)?.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect())
    }

    /// A random stream written by [`StateWriter::rng`].
    pub fn rng(&mut self) -> Result<Stream> {
        let mut w = [0u64; 4];
        for x in &mut w {
            *x = self.u64()?;
        }
        if w == [0; 4] {
            bail!("saved state holds the all-zero random-stream state, which no stream reaches");
        }
        Ok(from_state_words(w))
    }

    /// Checks that the whole buffer was read.
    pub fn finish(self) -> Result<()> {
        if self.pos != self.buf.len() {
            bail!("saved state has {} values beyond its end", self.buf.len() - self.pos);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, Purpose};
    use rand::Rng;

    #[test]
    fn a_state_reads_back_bitwise_and_other_states_are_refused() {
        let mut r = stream(1, Purpose::MonteCarlo, 2);
        r.next_u64();
        let mut w = StateWriter::new("replica", 1);
        w.u64(u64::MAX - 5).f64(f64::NAN).f64s(&[1.5, -0.0]).u32s(&[7, 0]).vec3s(&[[0.1, 0.2, 0.3]]).rng(&r);
        let b = w.finish();
        let mut s = StateReader::new(&b, "replica", 1).unwrap();
        assert_eq!(s.u64().unwrap(), u64::MAX - 5);
        assert_eq!(s.f64().unwrap().to_bits(), f64::NAN.to_bits());
        assert_eq!(
            s.f64s().unwrap().iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            [1.5f64.to_bits(), (-0.0f64).to_bits()]
        );
        assert_eq!(s.u32s().unwrap(), [7, 0]);
        assert_eq!(s.vec3s(1).unwrap(), [[0.1, 0.2, 0.3]]);
        assert_eq!(s.rng().unwrap().next_u64(), r.next_u64());
        s.finish().unwrap();
        assert!(StateReader::new(&b, "window", 1).unwrap_err().to_string().contains("not a saved state of a window"));
        assert!(StateReader::new(&b, "replica", 2).unwrap_err().to_string().contains("layout 1"));
        let mut t = StateReader::new(&b[..b.len() - 1], "replica", 1).unwrap();
        t.u64().unwrap();
        t.f64().unwrap();
        t.f64s().unwrap();
        t.u32s().unwrap();
        t.vec3s(1).unwrap();
        assert!(t.rng().unwrap_err().to_string().contains("ends early"));
    }
}
