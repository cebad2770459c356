//! Communicator abstraction (serial or MPI) and the decomposition of work items over ranks.
//!
//! Work items (replicas, windows, batches) are dealt round-robin, item k to rank k mod size;
//! every item carries its own random streams, so results never depend on the number of ranks.
//! Results are gathered to rank 0 and re-ordered by item id.

mod agree;

use mpi::environment::Universe;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

/// A communicator over all ranks of the run; serial when MPI is not initialised.
pub struct Comm {
    world: Option<SimpleCommunicator>,
    _universe: Option<Universe>,
}

impl Comm {
    /// Initialises MPI (works with and without `mpirun`).
    pub fn init_mpi() -> Self {
        match mpi::initialize() {
            Some(u) => {
                let world = u.world();
                Self { world: Some(world), _universe: Some(u) }
            }
            None => Self::serial(),
        }
    }

    /// A one-rank communicator without MPI (tests, tools).
    pub fn serial() -> Self {
        Self { world: None, _universe: None }
    }

    /// This rank's index.
    pub fn rank(&self) -> usize {
        self.world.as_ref().map_or(0, |w| w.rank() as usize)
    }

    /// Number of ranks.
    pub fn size(&self) -> usize {
        self.world.as_ref().map_or(1, |w| w.size() as usize)
    }

    /// True on rank 0.
    pub fn is_root(&self) -> bool {
        self.rank() == 0
    }

    /// Broadcasts an i64 from rank 0 (e.g. a status code after a root-only check).
    pub fn broadcast_i64(&self, v: i64) -> i64 {
        let mut x = v;
        if let Some(w) = &self.world {
            w.process_at_rank(0).broadcast_into(&mut x);
        }
        x
    }

    /// Largest value over ranks, result on every rank.
    pub fn all_reduce_max_i64(&self, v: i64) -> i64 {
        match &self.world {
            Some(w) => {
                let mut out = 0i64;
                w.all_reduce_into(&v, &mut out, mpi::collective::SystemOperation::max());
                out
            }
            None => v,
        }
    }

    /// Broadcasts a byte string from `root` to every rank (its length first).
    pub fn broadcast_bytes(&self, root: usize, bytes: &[u8]) -> Vec<u8> {
        let Some(w) = &self.world else { return bytes.to_vec() };
        let p = w.process_at_rank(root as i32);
        let mut n = bytes.len() as u64;
        p.broadcast_into(&mut n);
        let mut buf = if self.rank() == root { bytes.to_vec() } else { vec![0u8; n as usize] };
        if n > 0 {
            p.broadcast_into(&mut buf[..]);
        }
        buf
    }

    /// Ends every rank of the job with exit code `code` (MPI_Abort); in a serial run, exits.
    pub fn abort(&self, code: i32) -> ! {
        match &self.world {
            Some(w) => w.abort(code),
            None => std::process::exit(code),
        }
    }

    /// Element-wise sum over ranks, result on every rank.
    pub fn all_reduce_sum(&self, v: &[f64]) -> Vec<f64> {
        match &self.world {
            Some(w) => {
                let mut out = vec![0.0; v.len()];
                w.all_reduce_into(v, &mut out[..], mpi::collective::SystemOperation::sum());
                out
            }
            None => v.to_vec(),
        }
    }

    /// Gathers one f64 buffer from every rank to rank 0 (in rank order); `None` elsewhere.
    pub fn gather_to_root(&self, data: Vec<f64>) -> Option<Vec<Vec<f64>>> {
        match &self.world {
            None => Some(vec![data]),
            Some(w) => {
                if w.rank() == 0 {
                    let mut all = vec![data];
                    for r in 1..w.size() {
                        let (v, _) = w.process_at_rank(r).receive_vec::<f64>();
                        all.push(v);
                    }
                    Some(all)
                } else {
                    w.process_at_rank(0).send(&data[..]);
                    None
                }
            }
        }
    }
}

/// Items 0..n_items owned by `rank` of `size` (round-robin).
pub fn owned_items(n_items: usize, rank: usize, size: usize) -> Vec<usize> {
    (rank..n_items).step_by(size.max(1)).collect()
}

/// Packs variable-length f64 records into one buffer: [count, len_0, rec_0..., len_1, rec_1...].
pub fn pack(records: &[Vec<f64>]) -> Vec<f64> {
    let mut out = vec![records.len() as f64];
    for r in records {
        out.push(r.len() as f64);
        out.extend_from_slice(r);
    }
    out
}

/// Inverse of [`pack`].
pub fn unpack(buf: &[f64]) -> Vec<Vec<f64>> {
    let mut out = Vec::new();
    if buf.is_empty() {
        return out;
    }
    let n = buf[0] as usize;
    let mut p = 1;
    for _ in 0..n {
        let len = buf[p] as usize;
        out.push(buf[p + 1..p + 1 + len].to_vec());
        p += 1 + len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_robin_covers_every_item_once() {
        for size in 1..5 {
            let mut all: Vec<usize> = (0..size).flat_map(|r| owned_items(11, r, size)).collect();
            all.sort();
            assert_eq!(all, (0..11).collect::<Vec<_>>());
        }
        let recs = vec![vec![1.0, 2.0], vec![], vec![3.5]];
        assert_eq!(unpack(&pack(&recs)), recs);
    }
}
