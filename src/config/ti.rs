//! `[ti]`: the estimators of nti ti beyond the reverse SDE (Metropolis-corrected t-windows and
//! annealed importance sampling); defaults and checks.

use super::ConfigError;
pub use crate::estimators::equilibration::WindowDiscard;
use crate::sampling::chain::ChainKind;
use serde::{Deserialize, Serialize};

/// Upper bound of `window_stein_probes` (a typo guard: beyond ~16 probes the Hutchinson noise is
/// no longer what limits the control variate).
const MAX_STEIN_PROBES: usize = 256;

/// `[ti]`: estimators of nti ti beyond the reverse SDE.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TiConfig {
    /// Gauss-Legendre t-windows (0 = none). Default 24: the learned integrand varies on scales of
    /// ~1/ln(sigma_max/sigma_min) in t with amplitudes of tens to hundreds of kT, and 6-8 nodes
    /// left quadrature errors of ~0.7 kT (validation/neural_ti_lj.py).
    pub windows: usize,
    /// Quadrature rule of the windows: "gauss-legendre" (default; exact to degree 2K - 1, no error
    /// estimate) or "clenshaw-curtis" (K Chebyshev extreme points including t = 0 and 1, K odd >= 3;
    /// exact to degree K, and its nested (K + 1)/2-point half rule on every other window gives an
    /// estimate of the quadrature error at no extra cost: `quadrature_error` in the results;
    /// crate::estimators::clenshaw_curtis).
    pub window_rule: WindowRule,
    /// Chains per window (each warm-started by its own reverse-SDE trajectory). Default 4.
    pub window_chains: usize,
    /// Warm-up steps (proposals) per chain (step size adapted). Default 300.
    pub window_warmup: usize,
    /// Production steps (proposals) per chain. Default 500.
    pub window_steps: usize,
    /// Where the window chains start: "reverse-sde" (default; each chain from its own reverse-SDE
    /// trajectory), "data" (frames of `window_data` noised to the node's t) or "both" (even chains
    /// from data, odd from the reverse SDE; their disagreement is reported as `start_z`, a
    /// convergence check). Particle numbers without a data file use reverse-SDE starts.
    pub window_start: WindowStart,
    /// nti sample results files (with trajectories) of the model's physics, at most one per N, for
    /// `window_start = "data"` or `"both"`. Default none.
    pub window_data: Vec<String>,
    /// The window chains' sampler: "mala" (default; one gradient evaluation per step) or "hmc"
    /// (Hamiltonian Monte Carlo with `hmc_leapfrog` gradient evaluations per step, which moves dense
    /// liquids much further per evaluation; crate::sampling::hmc). `window_warmup`,
    /// `window_steps` and `window_stride` count proposals either way.
    pub window_sampler: ChainKind,
    /// Leapfrog steps per HMC proposal (`window_sampler = "hmc"`). Default 10.
    pub hmc_leapfrog: usize,
    /// Record du/dt every `window_stride` steps. Default 5.
    pub window_stride: usize,
    /// Initial part of each chain's production discarded before averaging: "none" (default) or
    /// "auto" (Chodera 2016 equilibration detection per chain, at most half;
    /// crate::estimators::equilibration). The full production series is stored either way.
    pub window_discard: WindowDiscard,
    /// MBAR over the corrected windows (crate::estimators::window_mbar): every recorded sample's
    /// reduced energy is also evaluated at every node and at t = 0 and 1 (energies only, no
    /// gradients), and beta A_ex comes from all samples at every t as its own result
    /// (`windows-<rule><K>-<sampler>-mbar`) beside the windows' quadrature. Default true: about
    /// +13 % of the `ti` stage's wall time on the quickstart for 3x less variance
    /// (validation/README.md, "MBAR over the t-windows").
    pub window_mbar: bool,
    /// Configurational temperature (crate::diffusion::consistency) of the window chains every
    /// `tconf_every` MALA steps and of the reverse-SDE samples at every node; 0 = off. Default 20
    /// (3 gradient evaluations per measurement: about +10 % of the window cost).
    pub tconf_every: usize,
    /// Rademacher probes per recorded sample of the windows' Fokker-Planck control variate
    /// (crate::diffusion::stein): every recorded du/dt gets the Fokker-Planck term F (the
    /// (g^2/2)(|grad u|^2 - laplacian u) of the VE torus), which has mean 0 in the window's
    /// ensemble, and <du/dt> is estimated from du/dt + a F with the
    /// least-squares a, as its own result `windows-<rule><K>-<sampler>-stein` (used by /ti/fit
    /// when present; not for windows with fewer than 20 kept samples). One gradient evaluation per
    /// probe; 0 = off. Default 4: at T = 1.5, N = 200
    /// (models/lj_T1.5_L8_rc3.h5, 24 windows x 4 chains) 4.3x less variance of beta A_ex for 1.4x
    /// the CPU time (validation/README.md, "Fokker-Planck control variate").
    pub window_stein_probes: usize,
    /// An earlier `nti ti` results file of the same model, nodes and N (a pilot, e.g. with a fifth of
    /// the steps): the production steps of the windows are then allocated by Neyman's rule,
    /// n_j ~ |w_j| a_j with the pilot's per-sample spread a_j = se_j sqrt(n_j) (of the
    /// Stein-controlled samples when `window_stein_probes` > 0 and the pilot has them), within the
    /// same total K x `window_steps` and with a floor per window (crate::run::ti allocation). The
    /// estimate stays unbiased (the allocation is fixed before the run); its variance falls where
    /// the windows' errors differ. Default "" (every window `window_steps`).
    pub window_pilot: String,
    /// Initial step size eps (fractional coordinates squared; HMC's leapfrog step is sqrt(2 eps);
    /// MALA's is capped at 1.25e-3 on the torus). Default 1e-7.
    pub mala_eps: f64,
    /// Target acceptance during warm-up. Default 0.6.
    pub target_acceptance: f64,
    /// Annealed-importance-sampling chains (0 = none). Default 0.
    pub ais_chains: usize,
    /// AIS energy switches from t = 1 to 0. Default 200.
    pub ais_switches: usize,
    /// MALA steps after each switch. Default 5.
    pub ais_mala_steps: usize,
}

impl Default for TiConfig {
    fn default() -> Self {
        Self {
            windows: 24,
            window_rule: WindowRule::default(),
            window_chains: 4,
            window_warmup: 300,
            window_steps: 500,
            window_start: WindowStart::default(),
            window_data: Vec::new(),
            window_sampler: ChainKind::default(),
            hmc_leapfrog: 10,
            window_stride: 5,
            window_discard: WindowDiscard::default(),
            window_mbar: true,
            tconf_every: 20,
            window_stein_probes: 4,
            window_pilot: String::new(),
            mala_eps: 1e-7,
            target_acceptance: 0.6,
            ais_chains: 0,
            ais_switches: 200,
            ais_mala_steps: 5,
        }
    }
}

impl TiConfig {
    /// Range and consistency checks that depend only on the input (whatever the command).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.windows == 1 {
            return Err(ConfigError::invalid(
                "ti",
                "windows",
                1,
                "0 (no windows: reverse SDE and AIS only) or at least 2 Gauss-Legendre nodes; one node is the \
                 midpoint rule, whose quadrature error on the t-integrand (which varies by tens to hundreds of kT \
                 over t) is neither small nor estimated",
            ));
        }
        if self.window_rule == WindowRule::ClenshawCurtis && self.windows > 0 && self.windows % 2 == 0 {
            return Err(ConfigError::invalid(
                "ti",
                "windows",
                self.windows,
                "an odd number of windows (>= 3) with window_rule = \"clenshaw-curtis\": its half rule, the \
                 error estimate, uses every other node (e.g. 13 or 25)",
            ));
        }
        if self.windows > 0 {
            let off = "or windows = 0 to switch the corrected windows off";
            if self.window_chains == 0 {
                return Err(ConfigError::invalid(
                    "ti",
                    "window_chains",
                    0,
                    format!("at least 1 MALA chain per window with windows = {} ({off})", self.windows),
                ));
            }
            if self.window_start != WindowStart::ReverseSde && self.window_data.is_empty() {
                return Err(ConfigError::invalid(
                    "ti",
                    "window_data",
                    "[]",
                    format!(
                        "the nti sample results files to start from with window_start = \"{}\", e.g. \
                         window_data = [\"lj_n200.h5\"] (or window_start = \"reverse-sde\")",
                        if self.window_start == WindowStart::Data { "data" } else { "both" }
                    ),
                ));
            }
            if self.window_start == WindowStart::ReverseSde && !self.window_data.is_empty() {
                return Err(ConfigError::invalid(
                    "ti",
                    "window_start",
                    "\"reverse-sde\"",
                    "\"data\" or \"both\" when window_data is given (reverse-SDE starts would not use it)",
                ));
            }
            if self.window_start == WindowStart::Both && self.window_chains < 2 {
                return Err(ConfigError::invalid(
                    "ti",
                    "window_chains",
                    self.window_chains,
                    "at least 2 with window_start = \"both\" (one chain from data, one from the reverse SDE)",
                ));
            }
            if self.window_sampler == ChainKind::Hmc && self.hmc_leapfrog == 0 {
                return Err(ConfigError::invalid(
                    "ti",
                    "hmc_leapfrog",
                    0,
                    "at least 1 leapfrog step per HMC proposal (1 is MALA; about 10 moves dense liquids)",
                ));
            }
            if self.window_stride == 0 {
                return Err(ConfigError::invalid(
                    "ti",
                    "window_stride",
                    0,
                    format!("a positive number of MALA steps between recorded samples ({off})"),
                ));
            }
            if self.window_steps < 2 * self.window_stride {
                return Err(ConfigError::invalid(
                    "ti",
                    "window_steps",
                    self.window_steps,
                    format!(
                        "at least 2 * window_stride = {} MALA steps: two recorded samples per chain ({off})",
                        2 * self.window_stride
                    ),
                ));
            }
            if self.window_stein_probes > MAX_STEIN_PROBES {
                return Err(ConfigError::invalid(
                    "ti",
                    "window_stein_probes",
                    self.window_stein_probes,
                    format!(
                        "at most {MAX_STEIN_PROBES} probes per recorded sample (0 = off; the default 4 gave 4.3x less \
                         variance for 1.4x the CPU time on a dense liquid)"
                    ),
                ));
            }
            if !(self.target_acceptance > 0.0 && self.target_acceptance < 1.0) {
                return Err(ConfigError::invalid(
                    "ti",
                    "target_acceptance",
                    self.target_acceptance,
                    "a MALA acceptance ratio in (0, 1)",
                ));
            }
        }
        if !(self.mala_eps > 0.0 && self.mala_eps.is_finite()) {
            return Err(ConfigError::invalid("ti", "mala_eps", self.mala_eps, "a positive MALA step size"));
        }
        if self.ais_chains == 1 {
            return Err(ConfigError::invalid(
                "ti",
                "ais_chains",
                1,
                "0 (no annealed importance sampling) or at least 2 chains (the error bar needs two)",
            ));
        }
        if self.ais_chains > 0 && self.ais_switches == 0 {
            return Err(ConfigError::invalid(
                "ti",
                "ais_switches",
                0,
                format!(
                    "at least 1 energy switch from t = 1 to 0 with ais_chains = {} (or ais_chains = 0 to switch \
                     AIS off)",
                    self.ais_chains
                ),
            ));
        }
        Ok(())
    }
}

/// Start of the MALA chains of the corrected windows (`[ti] window_start`; crate::run::ti::starts).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WindowStart {
    /// Each chain from its own reverse-SDE trajectory stopped at the node.
    #[default]
    ReverseSde,
    /// Each chain from a reference-simulation frame noised to the node's t.
    Data,
    /// Even chains from data, odd chains from the reverse SDE.
    Both,
}

/// Quadrature rule of the corrected windows (`[ti] window_rule`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WindowRule {
    /// Gauss-Legendre nodes on [0, 1].
    #[default]
    GaussLegendre,
    /// Clenshaw-Curtis nodes on [0, 1] with the embedded half-rule error estimate.
    ClenshawCurtis,
}

impl WindowRule {
    /// Short tag in the estimates' method names ("gl" or "cc").
    pub fn tag(self) -> &'static str {
        match self {
            WindowRule::GaussLegendre => "gl",
            WindowRule::ClenshawCurtis => "cc",
        }
    }
}
