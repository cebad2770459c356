//! The input schema (version 1). Every key, its unit and its default; `inputs/example.toml`
//! shows the same with comments (a test keeps the two in step).

use super::{ConfigError, WindowDiscard, INPUT_VERSION};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A validated input.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Config {
    /// Input format version (must be 1).
    pub version: i64,
    /// `[system]`: what is simulated (required by `nti sample`; `nti train` takes the physics from
    /// its data files).
    pub system: Option<SystemConfig>,
    /// `[sample]`: the reference simulation.
    pub sample: SampleConfig,
    /// `[run]`: seeds and run control.
    pub run: RunConfig,
    /// `[output]`: the results file.
    pub output: OutputConfig,
    /// `[model]`: the energy network (nti train).
    pub model: ModelConfig,
    /// `[train]`: score-matching training (nti train).
    pub train: crate::train::TrainSettings,
    /// `[generate]`: reverse-SDE sampling from a trained model (nti generate).
    pub generate: GenerateConfig,
    /// `[baseline]`: conventional TI and MBAR along the soft-core lambda path (nti baseline).
    pub baseline: BaselineConfig,
    /// `[ti]`: Metropolis-corrected windows and annealed importance sampling (nti ti; the reverse-SDE
    /// part is configured in `[generate]`).
    pub ti: TiConfig,
    /// `[pipeline]`: the stages of nti run.
    pub pipeline: super::pipeline::PipelineConfig,
}

/// `[ti]`: estimators of nti ti beyond the reverse SDE.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TiConfig {
    /// Gauss-Legendre t-windows (0 = none). Default 24: the learned integrand varies on scales of
    /// ~1/ln(sigma_max/sigma_min) in t with amplitudes of tens to hundreds of kT, and 6-8 nodes
    /// left quadrature errors of ~0.7 kT (validation/neural_ti_lj.py).
    #[serde(default = "d_tiw")]
    pub windows: usize,
    /// Quadrature rule of the windows: "gauss-legendre" (default; exact to degree 2K - 1, no error
    /// estimate) or "clenshaw-curtis" (K Chebyshev extreme points including t = 0 and 1, K odd >= 3;
    /// exact to degree K, and its nested (K + 1)/2-point half rule on every other window gives an
    /// estimate of the quadrature error at no extra cost: `quadrature_error` in the results;
    /// crate::estimators::clenshaw_curtis).
    #[serde(default)]
    pub window_rule: WindowRule,
    /// Chains per window (each warm-started by its own reverse-SDE trajectory). Default 4.
    #[serde(default = "d_tic")]
    pub window_chains: usize,
    /// Warm-up steps (proposals) per chain (step size adapted). Default 300.
    #[serde(default = "d_tiwu")]
    pub window_warmup: usize,
    /// Production steps (proposals) per chain. Default 500.
    #[serde(default = "d_tis")]
    pub window_steps: usize,
    /// Where the window chains start: "reverse-sde" (default; each chain from its own reverse-SDE
    /// trajectory), "data" (frames of `window_data` noised to the node's t) or "both" (even chains
    /// from data, odd from the reverse SDE; their disagreement is reported as `start_z`, a
    /// convergence check). Particle numbers without a data file use reverse-SDE starts.
    #[serde(default)]
    pub window_start: WindowStart,
    /// nti sample results files (with trajectories) of the model's physics, at most one per N, for
    /// `window_start = "data"` or `"both"`. Default none.
    #[serde(default)]
    pub window_data: Vec<String>,
    /// The window chains' sampler: "mala" (default; one gradient evaluation per step) or "hmc"
    /// (Hamiltonian Monte Carlo with `hmc_leapfrog` gradient evaluations per step, which moves dense
    /// liquids much further per evaluation; crate::sampling::hmc). `window_warmup`,
    /// `window_steps` and `window_stride` count proposals either way.
    #[serde(default)]
    pub window_sampler: crate::sampling::chain::ChainKind,
    /// Leapfrog steps per HMC proposal (`window_sampler = "hmc"`). Default 10.
    #[serde(default = "d_hmc_leapfrog")]
    pub hmc_leapfrog: usize,
    /// Record du/dt every `window_stride` steps. Default 5.
    #[serde(default = "d_tistr")]
    pub window_stride: usize,
    /// Initial part of each chain's production discarded before averaging: "none" (default) or
    /// "auto" (Chodera 2016 equilibration detection per chain, at most half;
    /// crate::estimators::equilibration). The full production series is stored either way.
    #[serde(default)]
    pub window_discard: WindowDiscard,
    /// Configurational temperature (crate::diffusion::consistency) of the window chains every
    /// `tconf_every` MALA steps and of the reverse-SDE samples at every node; 0 = off. Default 20
    /// (3 gradient evaluations per measurement: about +10 % of the window cost).
    #[serde(default = "d_tconf")]
    pub tconf_every: usize,
    /// Initial step size eps (fractional coordinates squared; HMC's leapfrog step is sqrt(2 eps);
    /// MALA's is capped at 1.25e-3 on the torus). Default 1e-7.
    #[serde(default = "d_mala_eps")]
    pub mala_eps: f64,
    /// Target acceptance during warm-up. Default 0.6.
    #[serde(default = "d_tiacc")]
    pub target_acceptance: f64,
    /// Annealed-importance-sampling chains (0 = none). Default 0.
    #[serde(default)]
    pub ais_chains: usize,
    /// AIS energy switches from t = 1 to 0. Default 200.
    #[serde(default = "d_aisn")]
    pub ais_switches: usize,
    /// MALA steps after each switch. Default 5.
    #[serde(default = "d_aism")]
    pub ais_mala_steps: usize,
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

/// Spacing of the lambda windows of the baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Spacing {
    /// K uniform windows including lambda = 0 and 1, trapezoid rule.
    Uniform,
    /// K Gauss-Legendre nodes on (0, 1).
    GaussLegendre,
}

/// `[baseline]`: conventional TI along U_lambda = (1 - lambda) u_soft(r; lambda) with MC at K windows,
/// MBAR over the same windows, and optionally Widom insertion at lambda = 0 (docs/design.md sec. 3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineConfig {
    /// Number of lambda windows K (paper: 5 to 100). Default 20.
    #[serde(default = "d_windows")]
    pub windows: usize,
    /// "uniform" (trapezoid, includes both ends) or "gauss-legendre". Default "uniform".
    #[serde(default = "d_spacing")]
    pub spacing: Spacing,
    /// MC sweeps discarded per window (paper: 2000 samples). Default 2000.
    #[serde(default = "d_bequil")]
    pub equilibration: u64,
    /// MC sweeps of production per window (paper: 10000 samples). Default 10000.
    #[serde(default = "d_prod")]
    pub production: u64,
    /// Sweeps between samples. Default 10.
    #[serde(default = "d_stride")]
    pub stride: u64,
    /// Also estimate with MBAR (samples subsampled by their statistical inefficiency). Default true.
    #[serde(default = "d_true")]
    pub mbar: bool,
    /// Widom insertions per sample in an extra full-LJ run (0 = off). Default 0.
    #[serde(default)]
    pub widom_insertions: usize,
}

/// `[model]`: shape of the LJ energy network (docs/design.md sec. 6) and the noise schedule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Gaussian radial channels K of the descriptors (3K features per particle). Default 8.
    #[serde(default = "d_nrad")]
    pub n_radial: usize,
    /// Centre of the first radial channel (sigma). Default 0.5 (a first channel centred at 0.8 has zero
    /// slope there, so the learned repulsion peaks inside the LJ core and lets pairs collapse; see
    /// validation/paper_lj/README.md).
    #[serde(default = "d_rmin")]
    pub r_min: f64,
    /// Descriptor cutoff (sigma), at most half the smallest box side. Default 3.0.
    #[serde(default = "d_rcut")]
    pub r_cut: f64,
    /// Hidden layer widths of the per-particle MLP. Default [64, 64].
    #[serde(default = "d_hidden")]
    pub hidden: Vec<usize>,
    /// Fourier frequencies of the time embedding. Default 4.
    #[serde(default = "d_nfreq")]
    pub n_freq: usize,
    /// Contact distances r_l (sigma) of the learned pair walls ((r_l - r)/kappa)^3 of E_NN, each below
    /// r_cut; an empty list disables them. Default [0.7, 0.8, 0.9, 1.0, 1.1, 1.2].
    #[serde(default = "d_pair_walls")]
    pub pair_walls: Vec<f64>,
    /// Length scale kappa (sigma) of the pair walls. Default 0.1.
    #[serde(default = "d_pair_width")]
    pub pair_wall_width: f64,
    /// Gaussian time bumps Q of the learned pair term. Default 12.
    #[serde(default = "d_pair_time")]
    pub pair_time_basis: usize,
    /// The network of E_NN: "descriptor" (invariant descriptors and a per-particle MLP; default) or
    /// "message-passing" (PaiNN-like scalar and vector features, `mp_*` keys). The pair walls serve
    /// both.
    #[serde(default)]
    pub network: Network,
    /// Message-passing layers. Default 3.
    #[serde(default = "d_mp_layers")]
    pub mp_layers: usize,
    /// Scalar features per particle. Default 32.
    #[serde(default = "d_mp_scalars")]
    pub mp_scalars: usize,
    /// Vector features per particle. Default 8.
    #[serde(default = "d_mp_vectors")]
    pub mp_vectors: usize,
    /// Gaussian radial channels of the messages (first centred at r_min). Default 16.
    #[serde(default = "d_mp_radial")]
    pub mp_radial: usize,
    /// Message cutoff (sigma), at most half the smallest box side. Default 2.0.
    #[serde(default = "d_mp_cutoff")]
    pub mp_cutoff: f64,
    /// sigma(0) in units of the box side. Default 1e-3.
    #[serde(default = "d_smin")]
    pub sigma_min: f64,
    /// sigma(1) in units of the box side. Default 0.5.
    #[serde(default = "d_smax")]
    pub sigma_max: f64,
}

impl ModelConfig {
    /// The key and value of the cutoff the chosen network uses (`r_cut` of the descriptors or
    /// `mp_cutoff` of the messages); it must fit in half the box.
    pub fn network_cutoff(&self) -> (&'static str, f64) {
        match self.network {
            Network::Descriptor => ("r_cut", self.r_cut),
            Network::MessagePassing => ("mp_cutoff", self.mp_cutoff),
        }
    }
}

/// `[model] network`: the architecture of E_NN.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Network {
    /// Invariant descriptors and a per-particle MLP (docs/design.md sec. 6).
    #[default]
    Descriptor,
    /// Equivariant message passing ([`crate::model::mp`]).
    MessagePassing,
}

/// `[generate]`: samples from a trained model with the reverse SDE.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerateConfig {
    /// Trained model: a checkpoint or `nti train` results file. Required by nti generate.
    #[serde(default)]
    pub model: String,
    /// Particle numbers to generate (any N, not only those trained on). Required by nti generate.
    #[serde(default)]
    pub n_particles: Vec<usize>,
    /// Box side L (sigma). Required by nti generate and nti ti.
    #[serde(default)]
    pub box_side: Option<f64>,
    /// Trajectories per N. Default 64.
    #[serde(default = "d_traj")]
    pub trajectories: usize,
    /// Reverse-SDE steps from t = 1 to 0 (paper: 1000). Default 1000.
    #[serde(default = "d_rsteps")]
    pub steps: usize,
    /// Trajectories integrated together. Default 16.
    #[serde(default = "d_gbatch")]
    pub batch: usize,
    /// RDF bins of the t = 0 samples. Default 100.
    #[serde(default = "d_gbins")]
    pub rdf_bins: usize,
    /// Times t_c in [0, 1) at which every reverse-SDE trajectory pauses for Metropolis-adjusted
    /// corrector steps on the model's ensemble exp(-u(., t_c)) (crate::diffusion::corrector).
    /// Default [] (the plain reverse SDE of the paper).
    #[serde(default)]
    pub corrector_t: Vec<f64>,
    /// MALA steps per corrector time (>= 2 with corrector_t; the first half adapts the step).
    /// Default 0.
    #[serde(default)]
    pub corrector_steps: usize,
    /// Initial MALA step eps of a corrector as a multiple of sigma(t_c)^2. Default 0.02.
    #[serde(default = "d_cstep")]
    pub corrector_step: f64,
    /// Acceptance targeted while a corrector adapts its step. Default 0.6.
    #[serde(default = "d_cacc")]
    pub corrector_acceptance: f64,
}

impl GenerateConfig {
    /// The corrector settings of the reverse SDE.
    pub fn corrector(&self) -> crate::diffusion::corrector::Corrector {
        crate::diffusion::corrector::Corrector {
            times: self.corrector_t.clone(),
            steps: self.corrector_steps,
            step_factor: self.corrector_step,
            target_acceptance: self.corrector_acceptance,
        }
    }
}

/// Which system is simulated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SystemKind {
    /// Lennard-Jones particles, u(r) = 4 (r^-12 - r^-6).
    LennardJones,
}

/// `[system] cutoff`: a distance (sigma) or the string "min-image".
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cutoff {
    /// Spherical cutoff radius r_c (sigma).
    Radius(f64),
    /// All pairs at their minimum-image distance.
    MinImage,
}

impl Serialize for Cutoff {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Cutoff::Radius(r) => s.serialize_f64(*r),
            Cutoff::MinImage => s.serialize_str("min-image"),
        }
    }
}

impl<'de> Deserialize<'de> for Cutoff {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Cutoff;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a cutoff radius in sigma (e.g. 3.0) or the string \"min-image\"")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Cutoff, E> {
                Ok(Cutoff::Radius(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Cutoff, E> {
                Ok(Cutoff::Radius(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Cutoff, E> {
                Ok(Cutoff::Radius(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Cutoff, E> {
                if v == "min-image" {
                    Ok(Cutoff::MinImage)
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(v), &self))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// `[system]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemConfig {
    /// Particle model; only "lennard-jones" for now.
    #[serde(default = "d_kind")]
    pub kind: SystemKind,
    /// Number of particles N (required, >= 2).
    pub n_particles: usize,
    /// Number density rho = N / V in sigma^-3 (required, > 0); box side L = (N/rho)^(1/3).
    pub density: f64,
    /// Temperature T in epsilon / k_B (required, > 0).
    pub temperature: f64,
    /// Spherical cutoff r_c in sigma (<= L/2) or "min-image". Default 3.0.
    #[serde(default = "d_cutoff")]
    pub cutoff: Cutoff,
    /// Shift the potential to zero at r_c. Default false.
    #[serde(default)]
    pub shift: bool,
    /// Analytic long-range corrections (unshifted spherical cutoff only). Default true.
    #[serde(default = "d_true")]
    pub tail_correction: bool,
}

/// Reference-simulation method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SampleMethod {
    /// Metropolis Monte Carlo, single-particle displacements; one step = one sweep of N trial moves.
    Mc,
    /// Langevin dynamics, BAOAB splitting; one step = one time step.
    Langevin,
}

/// `[sample]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleConfig {
    /// "mc" or "langevin". Default "mc".
    #[serde(default = "d_method")]
    pub method: SampleMethod,
    /// Independent replicas, spread over MPI ranks. Default 2.
    #[serde(default = "d_replicas")]
    pub replicas: usize,
    /// Equilibration steps (MC sweeps or MD steps), discarded. Default 1000.
    #[serde(default = "d_equil")]
    pub equilibration: u64,
    /// Production steps. Default 10000.
    #[serde(default = "d_prod")]
    pub production: u64,
    /// MC sweeps at `melt_temperature` that melt the initial fcc lattice before equilibration, so that
    /// dense states start from a disordered fluid (an fcc start at rho >~ 0.9 stays crystalline).
    /// Default 200.
    #[serde(default = "d_melt")]
    pub melt_sweeps: u64,
    /// Temperature of the melting stage (epsilon/k_B). Default 3.0.
    #[serde(default = "d_melt_t")]
    pub melt_temperature: f64,
    /// Observe (energy, pressure, Widom, RDF, frame) every `stride` steps. Default 10.
    #[serde(default = "d_stride")]
    pub stride: u64,
    /// Initial MC maximum displacement per coordinate (sigma); adapted during equilibration only. Default 0.2.
    #[serde(default = "d_mc_step")]
    pub mc_step: f64,
    /// Target MC acceptance ratio for the step adaptation. Default 0.4.
    #[serde(default = "d_acc")]
    pub target_acceptance: f64,
    /// Langevin time step (reduced time units). Default 0.005.
    #[serde(default = "d_dt")]
    pub timestep: f64,
    /// Langevin friction gamma (inverse reduced time). Default 1.0.
    #[serde(default = "d_friction")]
    pub friction: f64,
    /// Widom test-particle insertions per observation (0 = off). Default 0.
    #[serde(default)]
    pub widom_insertions: usize,
    /// Radial distribution function bins (0 = off). Default 200.
    #[serde(default = "d_rdf_bins")]
    pub rdf_bins: usize,
    /// RDF range in sigma (<= L/2); default L/2.
    #[serde(default)]
    pub rdf_max: Option<f64>,
    /// Store trajectory frames (H5MD) at every observation. Default true.
    #[serde(default = "d_true")]
    pub trajectory: bool,
}

/// `[run]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Master seed; every random stream is keyed by (seed, purpose, replica id). Default 2024.
    #[serde(default = "d_seed")]
    pub seed: u64,
}

/// `[output]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// Results file (HDF5). Default "nti_results.h5".
    #[serde(default = "d_file")]
    pub file: String,
    /// Replace an existing results file. Default false (an existing file is an error).
    #[serde(default)]
    pub overwrite: bool,
}

fn d_hmc_leapfrog() -> usize {
    10
}
fn d_mala_eps() -> f64 {
    1e-7
}
fn d_tiw() -> usize {
    24
}
fn d_tic() -> usize {
    4
}
fn d_tiwu() -> usize {
    300
}
fn d_tis() -> usize {
    500
}
fn d_tconf() -> usize {
    20
}
fn d_tistr() -> usize {
    5
}
fn d_tiacc() -> f64 {
    0.6
}
fn d_aisn() -> usize {
    200
}
fn d_aism() -> usize {
    5
}
impl Default for TiConfig {
    fn default() -> Self {
        section_default("ti")
    }
}

fn d_bequil() -> u64 {
    2000
}
fn d_windows() -> usize {
    20
}
fn d_spacing() -> Spacing {
    Spacing::Uniform
}
impl Default for BaselineConfig {
    fn default() -> Self {
        section_default("baseline")
    }
}

fn d_nrad() -> usize {
    8
}
fn d_rmin() -> f64 {
    0.5
}
fn d_rcut() -> f64 {
    3.0
}
fn d_hidden() -> Vec<usize> {
    vec![64, 64]
}
fn d_nfreq() -> usize {
    4
}
fn d_pair_walls() -> Vec<f64> {
    vec![0.7, 0.8, 0.9, 1.0, 1.1, 1.2]
}
fn d_true() -> bool {
    true
}
fn d_pair_width() -> f64 {
    0.1
}
fn d_pair_time() -> usize {
    12
}
fn d_mp_layers() -> usize {
    3
}
fn d_mp_scalars() -> usize {
    32
}
fn d_mp_vectors() -> usize {
    8
}
fn d_mp_radial() -> usize {
    16
}
fn d_mp_cutoff() -> f64 {
    2.0
}
fn d_smin() -> f64 {
    1e-3
}
fn d_smax() -> f64 {
    0.5
}
fn d_traj() -> usize {
    64
}
fn d_rsteps() -> usize {
    1000
}
fn d_gbatch() -> usize {
    16
}
fn d_gbins() -> usize {
    100
}
fn d_cstep() -> f64 {
    0.02
}
fn d_cacc() -> f64 {
    0.6
}

impl Default for ModelConfig {
    fn default() -> Self {
        section_default("model")
    }
}
impl Default for GenerateConfig {
    fn default() -> Self {
        section_default("generate")
    }
}

fn d_kind() -> SystemKind {
    SystemKind::LennardJones
}
fn d_cutoff() -> Cutoff {
    Cutoff::Radius(3.0)
}
fn d_method() -> SampleMethod {
    SampleMethod::Mc
}
fn d_replicas() -> usize {
    2
}
fn d_equil() -> u64 {
    1000
}
fn d_prod() -> u64 {
    10000
}
fn d_stride() -> u64 {
    10
}
fn d_melt() -> u64 {
    200
}
fn d_melt_t() -> f64 {
    3.0
}
fn d_mc_step() -> f64 {
    0.2
}
fn d_acc() -> f64 {
    0.4
}
fn d_dt() -> f64 {
    0.005
}
fn d_friction() -> f64 {
    1.0
}
fn d_rdf_bins() -> usize {
    200
}
fn d_seed() -> u64 {
    2024
}
fn d_file() -> String {
    "nti_results.h5".to_string()
}

impl Default for SampleConfig {
    fn default() -> Self {
        section_default("sample")
    }
}
impl Default for RunConfig {
    fn default() -> Self {
        section_default("run")
    }
}
impl Default for OutputConfig {
    fn default() -> Self {
        section_default("output")
    }
}

fn section_default<T: for<'de> Deserialize<'de>>(name: &str) -> T {
    T::deserialize(toml::Value::Table(toml::Table::new())).unwrap_or_else(|e| panic!("[{name}] has required keys: {e}"))
}

const SECTIONS: &[&str] =
    &["version", "system", "sample", "run", "output", "model", "train", "generate", "baseline", "ti", "pipeline"];

/// Deserialises one section, turning serde's messages into errors that name section and key.
fn section<T: for<'de> Deserialize<'de> + Default>(
    table: &mut toml::Table,
    name: &str,
    required: bool,
) -> Result<T, ConfigError> {
    let value = match table.remove(name) {
        None if !required => return Ok(T::default()),
        None => return Err(ConfigError::MissingSection { section: name.to_string() }),
        Some(v) => v,
    };
    let sub = match value {
        toml::Value::Table(t) => t,
        other => return Err(ConfigError::invalid("top level", name, other, format!("a [{name}] section (table)"))),
    };
    T::deserialize(toml::Value::Table(sub.clone())).map_err(|e| serde_to_config_error(name, &sub, &e.to_string()))
}

/// Maps a serde/toml message onto a [`ConfigError`] naming the section and key.
/// Keys of experimental options that were removed (docs/experiments.md); an input that still sets
/// one gets an error that says so instead of "unknown key".
const REMOVED_KEYS: [(&str, &str); 14] = [
    ("model", "standardize"),
    ("model", "linear_time_basis"),
    ("model", "readout_time_basis"),
    ("model", "n_two_hop"),
    ("train", "time_score_weight"),
    ("train", "time_score_t_max"),
    ("train", "time_score_t_min"),
    ("train", "cd_weight"),
    ("train", "cd_steps"),
    ("train", "cd_step_size"),
    ("train", "cd_fraction"),
    ("train", "cd_t_range"),
    ("train", "score_weight"),
    ("train", "trainable"),
];

fn serde_to_config_error(section: &str, table: &toml::Table, msg: &str) -> ConfigError {
    let first = msg.lines().next().unwrap_or(msg).trim().to_string();
    let between = |s: &str| s.split('`').nth(1).map(str::to_string);
    if let Some(rest) = first.strip_prefix("unknown field ") {
        let key = between(rest).unwrap_or_default();
        let expected = rest
            .split_once("expected ")
            .map(|x| x.1.replace('`', "").trim_start_matches("one of ").to_string())
            .unwrap_or_default();
        if REMOVED_KEYS.contains(&(section, key.as_str())) {
            return ConfigError::Removed { section: section.into(), key };
        }
        return ConfigError::UnknownKey { section: section.into(), key, expected };
    }
    if let Some(rest) = first.strip_prefix("missing field ") {
        let key = between(rest).unwrap_or_default();
        return ConfigError::Missing {
            section: section.into(),
            key,
            expected: "a value (this key has no default)".into(),
        };
    }
    let key = msg.lines().find_map(|l| l.trim().strip_prefix("in ").and_then(between)).unwrap_or_default();
    let value = table.get(&key).map(|v| v.to_string()).unwrap_or_else(|| "?".into());
    let expected = first.split_once("expected ").map(|x| friendly_type(x.1)).unwrap_or(first.clone());
    ConfigError::Invalid { section: section.into(), key, value, expected }
}

/// Replaces Rust type names in serde messages by what a user would write.
fn friendly_type(expected: &str) -> String {
    match expected.trim() {
        "usize" | "u64" | "u32" => "a non-negative integer".into(),
        "i64" | "i32" => "an integer".into(),
        "f64" | "f32" => "a number".into(),
        "a boolean" | "bool" => "true or false".into(),
        other => other.replace('`', "\""),
    }
}

impl Default for SystemConfig {
    fn default() -> Self {
        Self {
            kind: d_kind(),
            n_particles: 0,
            density: 0.0,
            temperature: 0.0,
            cutoff: d_cutoff(),
            shift: false,
            tail_correction: true,
        }
    }
}

impl Config {
    /// Deserialises a parsed table section by section.
    pub fn from_table(mut table: toml::Table) -> Result<Self, ConfigError> {
        for key in table.keys() {
            if !SECTIONS.contains(&key.as_str()) {
                return Err(ConfigError::UnknownKey {
                    section: "top level".into(),
                    key: key.clone(),
                    expected: SECTIONS.join(", "),
                });
            }
        }
        let version = match table.remove("version") {
            None => {
                return Err(ConfigError::Missing {
                    section: "top level".into(),
                    key: "version".into(),
                    expected: format!("version = {INPUT_VERSION}"),
                })
            }
            Some(toml::Value::Integer(v)) if v == INPUT_VERSION => v,
            Some(v) => {
                return Err(ConfigError::invalid(
                    "top level",
                    "version",
                    v,
                    format!("{INPUT_VERSION} (the input version this nti reads)"),
                ))
            }
        };
        let system = if table.contains_key("system") { Some(section(&mut table, "system", true)?) } else { None };
        let sample = section(&mut table, "sample", false)?;
        let run = section(&mut table, "run", false)?;
        let output = section(&mut table, "output", false)?;
        let model = section(&mut table, "model", false)?;
        let train = section(&mut table, "train", false)?;
        let generate = section(&mut table, "generate", false)?;
        let baseline = section(&mut table, "baseline", false)?;
        let ti = section(&mut table, "ti", false)?;
        let pipeline = section(&mut table, "pipeline", false)?;
        Ok(Self { version, system, sample, run, output, model, train, generate, baseline, ti, pipeline })
    }

    /// The `[system]` section; callers have checked it is present (see [`Config::require_system`]).
    pub fn sys(&self) -> &SystemConfig {
        self.system.as_ref().expect("[system] checked by require_system")
    }

    /// Error unless the input has a `[system]` section.
    pub fn require_system(&self) -> Result<&SystemConfig, ConfigError> {
        self.system.as_ref().ok_or_else(|| ConfigError::MissingSection { section: "system".into() })
    }

    /// Box side L = (N / rho)^(1/3).
    pub fn box_side(&self) -> f64 {
        (self.sys().n_particles as f64 / self.sys().density).cbrt()
    }

    /// Range checks that serde cannot express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.validate_output()?;
        self.validate_model_train()?;
        let Some(s) = &self.system else { return Ok(()) };
        let pos = |sec: &str, key: &str, v: f64, what: &str| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(ConfigError::invalid(sec, key, v, format!("a positive number ({what})")))
            }
        };
        if s.n_particles < 2 {
            return Err(ConfigError::invalid("system", "n_particles", s.n_particles, "at least 2 particles"));
        }
        pos("system", "density", s.density, "number density in sigma^-3")?;
        pos("system", "temperature", s.temperature, "temperature in epsilon/k_B")?;
        let l = self.box_side();
        self.pipeline.validate(l)?;
        match s.cutoff {
            Cutoff::Radius(rc) => {
                if !(rc.is_finite() && rc > 0.0 && rc <= 0.5 * l) {
                    return Err(ConfigError::invalid(
                        "system",
                        "cutoff",
                        rc,
                        format!(
                            "a radius in (0, L/2] = (0, {:.6}] for this box (L = {:.6}), or \"min-image\"",
                            0.5 * l,
                            l
                        ),
                    ));
                }
                if s.shift && s.tail_correction {
                    return Err(ConfigError::invalid(
                        "system",
                        "tail_correction",
                        true,
                        "false when shift = true (tail corrections assume the unshifted truncated potential)",
                    ));
                }
            }
            Cutoff::MinImage => {
                if s.shift || s.tail_correction {
                    let key = if s.shift { "shift" } else { "tail_correction" };
                    return Err(ConfigError::invalid(
                        "system",
                        key,
                        true,
                        "false with cutoff = \"min-image\" (no spherical cutoff to shift or correct)",
                    ));
                }
            }
        }
        let p = &self.sample;
        if !(p.melt_temperature.is_finite() && p.melt_temperature > 0.0) {
            return Err(ConfigError::invalid(
                "sample",
                "melt_temperature",
                p.melt_temperature,
                "a positive temperature",
            ));
        }
        if p.replicas == 0 {
            return Err(ConfigError::invalid("sample", "replicas", 0, "at least 1 replica"));
        }
        if p.stride == 0 {
            return Err(ConfigError::invalid("sample", "stride", 0, "a positive number of steps"));
        }
        if p.production < 2 * p.stride {
            return Err(ConfigError::invalid(
                "sample",
                "production",
                p.production,
                format!("at least 2 * stride = {} steps (two observations)", 2 * p.stride),
            ));
        }
        if !(p.mc_step.is_finite() && p.mc_step > 0.0 && p.mc_step <= 0.5 * l) {
            return Err(ConfigError::invalid(
                "sample",
                "mc_step",
                p.mc_step,
                format!("a displacement in (0, L/2 = {:.6}]", 0.5 * l),
            ));
        }
        if !(p.target_acceptance > 0.0 && p.target_acceptance < 1.0) {
            return Err(ConfigError::invalid("sample", "target_acceptance", p.target_acceptance, "a ratio in (0, 1)"));
        }
        pos("sample", "timestep", p.timestep, "reduced time units")?;
        if !(p.friction.is_finite() && p.friction >= 0.0) {
            return Err(ConfigError::invalid(
                "sample",
                "friction",
                p.friction,
                "a non-negative friction (inverse time)",
            ));
        }
        if let Some(r) = p.rdf_max {
            if !(r.is_finite() && r > 0.0 && r <= 0.5 * l) {
                return Err(ConfigError::invalid(
                    "sample",
                    "rdf_max",
                    r,
                    format!("a distance in (0, L/2 = {:.6}]", 0.5 * l),
                ));
            }
        }
        Ok(())
    }

    fn validate_model_train(&self) -> Result<(), ConfigError> {
        let m = &self.model;
        if m.n_radial < 2 {
            return Err(ConfigError::invalid("model", "n_radial", m.n_radial, "at least 2 radial channels"));
        }
        if !(m.r_min >= 0.0 && m.r_cut > m.r_min && m.r_cut.is_finite()) {
            return Err(ConfigError::invalid(
                "model",
                "r_cut",
                m.r_cut,
                format!("a cutoff larger than r_min = {}", m.r_min),
            ));
        }
        if m.hidden.is_empty() || m.hidden.contains(&0) {
            return Err(ConfigError::invalid(
                "model",
                "hidden",
                format!("{:?}", m.hidden),
                "a non-empty list of positive widths",
            ));
        }
        if !(m.pair_wall_width > 0.0 && m.pair_wall_width.is_finite()) {
            return Err(ConfigError::invalid(
                "model",
                "pair_wall_width",
                m.pair_wall_width,
                "a positive length (sigma)",
            ));
        }
        if m.network == Network::MessagePassing {
            for (key, v) in [("mp_layers", m.mp_layers), ("mp_scalars", m.mp_scalars), ("mp_vectors", m.mp_vectors)] {
                if v == 0 {
                    return Err(ConfigError::invalid("model", key, v, "a positive integer"));
                }
            }
            if m.mp_radial < 2 {
                return Err(ConfigError::invalid("model", "mp_radial", m.mp_radial, "at least 2 radial channels"));
            }
            if !(m.mp_cutoff > m.r_min && m.mp_cutoff.is_finite()) {
                return Err(ConfigError::invalid(
                    "model",
                    "mp_cutoff",
                    m.mp_cutoff,
                    format!("a cutoff larger than r_min = {}", m.r_min),
                ));
            }
        }
        let (cut_key, cut) = m.network_cutoff();
        if m.pair_walls.iter().any(|r| !(*r > 0.0 && *r < cut)) {
            return Err(ConfigError::invalid(
                "model",
                "pair_walls",
                format!("{:?}", m.pair_walls),
                format!("contact distances in (0, {cut_key} = {cut}) (or [] for no pair walls)"),
            ));
        }
        if !m.pair_walls.is_empty() && m.pair_time_basis < 2 {
            return Err(ConfigError::invalid("model", "pair_time_basis", m.pair_time_basis, "at least 2 time bumps"));
        }
        if !(m.sigma_min > 0.0 && m.sigma_max > m.sigma_min && m.sigma_max.is_finite()) {
            return Err(ConfigError::invalid(
                "model",
                "sigma_max",
                m.sigma_max,
                format!("a noise scale above sigma_min = {}", m.sigma_min),
            ));
        }
        let t = &self.train;
        if t.batch == 0 || t.micro_batch == 0 {
            let (k, v) = if t.batch == 0 { ("batch", t.batch) } else { ("micro_batch", t.micro_batch) };
            return Err(ConfigError::invalid("train", k, v, "a positive number of configurations"));
        }
        if !(t.lr > 0.0 && t.lr.is_finite()) {
            return Err(ConfigError::invalid("train", "lr", t.lr, "a positive learning rate"));
        }
        if !(0.0..1.0).contains(&t.validation_fraction) {
            return Err(ConfigError::invalid(
                "train",
                "validation_fraction",
                t.validation_fraction,
                "a fraction in [0, 1)",
            ));
        }
        if !(0.0..=1.0).contains(&t.t_focus_fraction) {
            return Err(ConfigError::invalid("train", "t_focus_fraction", t.t_focus_fraction, "a fraction in [0, 1]"));
        }
        if t.t_focus.len() != 2 || !(0.0 <= t.t_focus[0] && t.t_focus[0] < t.t_focus[1] && t.t_focus[1] <= 1.0) {
            return Err(ConfigError::invalid(
                "train",
                "t_focus",
                format!("{:?}", t.t_focus),
                "[t_lo, t_hi] with 0 <= t_lo < t_hi <= 1",
            ));
        }
        if !(0.0..1.0).contains(&t.beta1) || !(0.0..1.0).contains(&t.beta2) {
            return Err(ConfigError::invalid("train", "beta1", t.beta1, "beta1 and beta2 in [0, 1)"));
        }
        self.validate_stages()?;
        Ok(())
    }

    fn validate_output(&self) -> Result<(), ConfigError> {
        if self.output.file.trim().is_empty() {
            return Err(ConfigError::invalid("output", "file", "\"\"", "a file name"));
        }
        Ok(())
    }
}
