//! Message-passing energy network (PaiNN-like scalar and vector features, time-conditioned), an
//! alternative to the descriptor network for E_NN of the LJ model (docs/design.md sec. 6: "other
//! architectures (message passing) may follow behind the same trait"). Derivatives come from a
//! small hand-written tape with forward tangents and reverse mode over values and tangents.

pub mod eval;
pub mod graph;
mod heap;
mod kernels;
mod kernels_fixed;
pub mod message;
pub mod net;
pub mod tape;

pub use eval::NetEval;
pub use net::{MpNet, MpSpec};
