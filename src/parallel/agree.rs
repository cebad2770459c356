//! Collective error agreement: every rank learns whether any rank failed at a point all ranks
//! reach, so that a failure on one rank (a bad input there, a data file it cannot read) ends every
//! rank together with one exit code instead of leaving the others waiting in the next collective.
//! The failing rank prints its own error; a rank whose error is word for word rank 0's stays quiet,
//! so an error every rank has is printed once.

use super::Comm;
use crate::exit::{code_of, Agreed};

/// FNV-1a hash of a message, as an i64 for a broadcast (0 stands for "no error").
fn message_hash(s: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h | 1) as i64
}

impl Comm {
    /// Collective (every rank must call it at the same point): returns `local` when no rank
    /// failed; otherwise an [`Agreed`] error on every rank, with the largest exit code of the
    /// failing ranks and this rank's own error, if any and unless rank 0 has the same message.
    /// Serial runs get `local` back unchanged.
    pub fn agree<T>(&self, local: anyhow::Result<T>) -> anyhow::Result<T> {
        if self.size() == 1 {
            return local;
        }
        let code = local.as_ref().err().map_or(0, code_of);
        let worst = self.all_reduce_max_i64(code as i64) as i32;
        if worst == 0 {
            return local;
        }
        let message = local.as_ref().err().map(|e| format!("{e:#}"));
        let mine = message.as_deref().map_or(0, message_hash);
        let roots = self.broadcast_i64(mine);
        match local {
            Ok(_) => Err(Agreed { code: worst, error: None }.into()),
            Err(e) => {
                let own = !matches!(e.downcast_ref::<Agreed>(), Some(Agreed { error: None, .. }));
                let print = own && (self.is_root() || mine != roots);
                Err(Agreed { code: worst, error: print.then_some(e) }.into())
            }
        }
    }
}
