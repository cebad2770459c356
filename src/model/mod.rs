//! Energy models: the time-dependent reduced energy u_theta(y, t) = beta U_t(y) of Neural TI,
//! its network, descriptors and hand-written derivatives (docs/design.md sec. 2 and 6).
//!
//! Conventions: `y` are the coordinates the diffusion noise acts on (fractional coordinates x / L
//! on the unit torus for particles in a periodic box; raw coordinates for the exact-answer toy
//! systems). The forward process is y_t = alpha(t) y_0 + sigma(t) z, so the denoising
//! score-matching loss of one sample is l = (1/D) || sigma(t) grad_y u(y_t, t) - z ||^2
//! (D = dimension), which for the VE schedule equals (1/D) || grad_y E_theta - z ||^2 with
//! E_theta = sigma(t) u (docs/design.md sec. 2).

mod descriptor_kernels;
pub mod descriptors;
pub mod exact;
pub mod exact_path;
pub mod gemm;
pub mod lj_model;
pub mod mlp;
pub mod mp;
pub mod network;
pub mod pair_term;
pub mod prior;
mod radial_basis;
pub mod shells;
pub mod simd;
pub mod time_embedding;
pub mod toy;

pub use shells::ShellSplit;
pub use time_embedding::TimeEmbedding;

pub use prior::PriorCutoff;

use crate::schedule::NoiseSchedule;

/// One configuration in noise coordinates, with the box side it lives in (1 for toy systems).
#[derive(Clone, Debug, PartialEq)]
pub struct Conf {
    /// Coordinates, flattened (N, 3) for particles.
    pub y: Vec<f64>,
    /// Box side L (absolute positions are x = L y).
    pub side: f64,
}

/// A scalar split into the model's named terms: the analytic prior/LJ term and the network term,
/// in total and per particle (pair terms split half and half between the two particles).
/// The parts add up to the total exactly (up to round-off), which attribution relies on.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Terms {
    /// Analytic term (LJ prior for particles; (1-t) E_0 + t E_1 for toy systems).
    pub prior: f64,
    /// Network term t (1 - t) E_NN (scaled like the total).
    pub network: f64,
    /// Per particle [prior, network]; empty for toy systems.
    pub per_particle: Vec<[f64; 2]>,
}

impl Terms {
    /// prior + network.
    pub fn total(&self) -> f64 {
        self.prior + self.network
    }

    /// Terms whose totals are the sums of the per-particle [prior, network] rows.
    pub fn from_per_particle(per_particle: Vec<[f64; 2]>) -> Self {
        Self {
            prior: per_particle.iter().map(|v| v[0]).sum(),
            network: per_particle.iter().map(|v| v[1]).sum(),
            per_particle,
        }
    }
}

/// A time-dependent energy model u_theta(y, t) = beta U_t(y) with exact endpoints.
pub trait EnergyModel: Send + Sync {
    /// Short name (for files and logs).
    fn kind(&self) -> &'static str;
    /// The model's shape and physics as JSON (checkpoints refuse to load into another shape).
    fn spec(&self) -> String;
    /// True if `spec` (as written by [`EnergyModel::spec`], possibly by an older version that
    /// lacked later optional fields) describes this model's shape. Default: equal strings.
    fn same_shape(&self, spec: &str) -> bool {
        spec == self.spec()
    }
    /// Trainable parameters theta.
    fn params(&self) -> &[f64];
    /// Mutable parameters.
    fn params_mut(&mut self) -> &mut [f64];
    /// The forward noising process the model is trained for.
    fn schedule(&self) -> &dyn NoiseSchedule;
    /// u = beta U_t(y) split into terms.
    fn energy_terms(&self, c: &Conf, t: f64) -> Terms;
    /// u = beta U_t(y).
    fn energy(&self, c: &Conf, t: f64) -> f64 {
        self.energy_terms(c, t).total()
    }
    /// u and grad_y u (length D).
    fn energy_grad(&self, c: &Conf, t: f64) -> (f64, Vec<f64>);
    /// d u / dt at fixed y (the TI integrand), split into terms.
    fn dt_terms(&self, c: &Conf, t: f64) -> Terms;
    /// du/dt split into terms (exactly [`EnergyModel::dt_terms`]) and, for models whose terms are
    /// pair sums, each term further binned by pair distance into the shells of `edges` (sigma,
    /// r_0 = 0 < ... < r_S; see [`shells`]). The default (models without pair terms) gives `None`.
    fn dt_terms_shells(&self, c: &Conf, t: f64, edges: &[f64]) -> (Terms, Option<ShellSplit>) {
        let _ = edges;
        (self.dt_terms(c, t), None)
    }
    /// grad_y u and du/dt (split into terms) for a batch of configurations at a common time;
    /// models that batch internally override this (the default goes one by one).
    fn grad_dt_batch(&self, cs: &[Conf], t: f64) -> Vec<(Vec<f64>, Terms)> {
        cs.iter().map(|c| (self.energy_grad(c, t).1, self.dt_terms(c, t))).collect()
    }
    /// The vector-Jacobian product of the predicted noise with respect to the parameters, for
    /// training: the predicted noise eps = sigma(t) grad_y u(y, t) (length D) is passed to
    /// `cotangent`, which returns a direction v (length D) and a weight w; then
    /// (w / D) sum_k v_k d eps_k / d theta (the weighted mean over the D components) is added
    /// into `grad`. One forward pass serves both where the model can. The training loss that
    /// builds on it lives in the training module (`train::loss`).
    fn noise_vjp(&self, c: &Conf, t: f64, cotangent: &mut NoiseCotangent<'_>, grad: &mut [f64]);
    /// [`EnergyModel::noise_vjp`] for a batch of configurations, each at its own time;
    /// `cotangent` gets the index b of the configuration. Models that batch internally override
    /// this (the default goes one by one, in order).
    fn noise_vjp_batch(&self, cs: &[Conf], ts: &[f64], cotangent: &mut BatchCotangent<'_>, grad: &mut [f64]) {
        for (b, (c, &t)) in cs.iter().zip(ts).enumerate() {
            self.noise_vjp(c, t, &mut |eps: &[f64]| cotangent(b, eps), grad);
        }
    }
}

/// An energy model of particles in a periodic box: what the drivers (training, generation, TI)
/// need of a model beside its energy, the physics of its t = 0 end and the range of its network.
/// Drivers hold models as this trait; the concrete model is chosen where it is built or loaded.
pub trait ParticleModel: EnergyModel {
    /// Temperature T of the t = 0 system (epsilon / k_B); u = beta U at t = 0.
    fn temperature(&self) -> f64;
    /// Interaction mode of the t = 0 system.
    fn interactions(&self) -> PriorCutoff;
    /// Cutoff of the learned part (sigma); the box must be at least twice the largest range.
    fn network_cutoff(&self) -> f64;
    /// A copy of the model (shape and parameters).
    fn boxed_clone(&self) -> Box<dyn ParticleModel>;
}

/// The cotangent of [`EnergyModel::noise_vjp`]: from the predicted noise eps (length D), the
/// direction v (length D) and the weight w.
pub type NoiseCotangent<'a> = dyn FnMut(&[f64]) -> (Vec<f64>, f64) + 'a;

/// The cotangent of [`EnergyModel::noise_vjp_batch`]: as [`NoiseCotangent`], for configuration b.
pub type BatchCotangent<'a> = dyn FnMut(usize, &[f64]) -> (Vec<f64>, f64) + 'a;
