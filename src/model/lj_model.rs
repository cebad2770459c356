//! The time-dependent energy of Neural TI for Lennard-Jones particles (docs/design.md sec. 2 and 6):
//!   E_theta(x, t) = t (1 - t) E_NN(x, t) + (1 - t) sigma_min beta U_soft(x; a = t),
//!   u = beta U_t(x) = E_theta / sigma(t),  sigma(t) = sigma_min^(1-t) sigma_max^t,
//! with U_soft the soft-core LJ sum (same cutoff mode as the system, tail correction of the
//! soft-core potential at a = t included when the system uses one) and
//! E_NN = sum_i E_i(x, t) + E_pair(x, t): a network behind the [`Network`] trait (per-particle
//! MLP on invariant descriptors, or message passing) and learned time-dependent pair walls
//! ([`super::pair_term`]), minus the energy of an isolated particle when `isolated_zero` is set.
//!
//! The model is the sum of these terms, each owning its parameter slice (network, then walls; the
//! prior has none) and giving its value, t-derivative and gradient per particle, so that the
//! attribution by term and by particle is exact. One neighbour structure per configuration
//! ([`PairList`], at the largest range any term needs) feeds them all.
//! At t = 0, u = beta U_LJ exactly (sigma(0) = sigma_min); at t = 1, u = 0 (ideal gas).
//! Noise coordinates are fractional, y = x / L, so grad_y = L grad_x.
//! Reference: Máté, Fleuret & Bereau, J. Phys. Chem. Lett. 15, 11395 (2024).

use super::descriptors::DescriptorSpec;
use super::mp::MpSpec;
use super::network::{self, At, NetOut, Network, Want};
use super::pair_term::PairTermSpec;
use super::prior::Prior;
pub use super::prior::PriorCutoff;
use super::shells::{check_edges, shell_index, ShellSplit};
use super::{Conf, EnergyModel, NoiseCotangent, ParticleModel, Terms, TimeEmbedding};
use crate::potential::{Alchemical, PairPotential};
use crate::schedule::{NoiseSchedule, VeSchedule};
use crate::system::{PairList, Positions, SimBox};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Shape and physics of an LJ diffusion model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LjModelSpec {
    /// Descriptors.
    pub descriptors: DescriptorSpec,
    /// Time features.
    pub time: TimeEmbedding,
    /// Hidden layer widths of the per-particle MLP.
    pub hidden: Vec<usize>,
    /// Noise schedule (fractional units).
    pub schedule: VeSchedule,
    /// Temperature of the t = 0 system (beta = 1/T).
    pub temperature: f64,
    /// Interaction mode of the t = 0 system.
    pub cutoff: PriorCutoff,
    /// Learned pair term of E_NN (absent in models written before it existed).
    #[serde(default)]
    pub pair: PairTermSpec,
    /// Energy zero of the network: subtract MLP(G = 0, tau(t)), the energy of a particle without
    /// neighbours, from every particle's E_i. Score matching sees only grad_x E, so an
    /// x-independent part h(t) of E_NN is left free by training; through t(1-t) h(t) / sigma(t) it
    /// adds an integrand that integrates to zero but oscillates by hundreds of kT, which defeats
    /// coarse t-quadratures (windows). Pinning isolated particles to zero removes most of it
    /// (all of it for a dilute gas). Gradients, training and samples are unchanged. False for
    /// models written before it existed.
    #[serde(default)]
    pub isolated_zero: bool,
    /// Message-passing network for E_NN instead of the descriptor MLP ([`super::mp`]); None (the
    /// default, also for older models) = the descriptor network. The pair walls serve both
    /// networks (models of nti before 2026-12-06 were written without them).
    #[serde(default)]
    pub message_passing: Option<MpSpec>,
}

impl Default for LjModelSpec {
    /// The descriptor network of the `[model]` defaults (K = 8 channels on [0.5, 3] sigma, MLP
    /// 64-64, 4 time frequencies, the paper's schedule), T = 1, min-image interactions, no pair
    /// walls, isolated particles pinned to zero. Tests and tools override what they need.
    fn default() -> Self {
        Self {
            descriptors: DescriptorSpec { n_radial: 8, r_min: 0.5, r_cut: 3.0 },
            time: TimeEmbedding { n_freq: 4 },
            hidden: vec![64, 64],
            schedule: VeSchedule::default(),
            temperature: 1.0,
            cutoff: PriorCutoff { rc: None, shift: false, tail: false },
            pair: PairTermSpec::default(),
            isolated_zero: true,
            message_passing: None,
        }
    }
}

/// Spec fields of experimental variants that were removed (docs/experiments.md) and the value they
/// had when the variant was off; a stored model that used one cannot be evaluated any more.
const REMOVED_VARIANTS: [(&str, &str); 5] = [
    ("feature_shift", "[]"),
    ("feature_scale", "[]"),
    ("linear_time_basis", "0"),
    ("readout_time_basis", "0"),
    ("n_two_hop", "0"),
];

impl LjModelSpec {
    /// The analytic prior term: beta U_soft at this spec's temperature and interaction mode.
    pub fn prior(&self) -> Prior {
        Prior { temperature: self.temperature, cutoff: self.cutoff }
    }

    /// Parses a spec as written by [`EnergyModel::spec`], by this or an older version; a model
    /// that used a removed experimental variant (see `REMOVED_VARIANTS`) is an error naming it.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        for (key, off) in REMOVED_VARIANTS {
            let found = v.get(key).or_else(|| v.get("descriptors").and_then(|d| d.get(key)));
            if let Some(x) = found {
                let off: serde_json::Value = serde_json::from_str(off).expect("literal");
                if *x != off {
                    return Err(format!(
                        "the model uses `{key}` = {x}, an experimental variant that was removed (docs/experiments.md); \
                         retrain, or use nti at commit 903b8f7 (the last with it)"
                    ));
                }
            }
        }
        serde_json::from_value(v).map_err(|e| e.to_string())
    }
}

/// The model: spec, network and parameters.
#[derive(Clone, Debug)]
pub struct LjModel {
    /// Shape and physics.
    pub spec: LjModelSpec,
    /// Parameters theta: the network's, then the pair term's W (initialised to zero).
    pub params: Vec<f64>,
    /// The network E_NN (built from the spec; holds no parameters).
    net: Arc<dyn Network>,
}

/// Everything one evaluation produces (absolute-coordinate quantities).
struct Eval {
    /// E_NN per particle (network, pair walls, isolated-particle zero).
    e_i: Vec<f64>,
    /// dE_NN/dt per particle.
    de_i: Vec<f64>,
    /// grad_x E_NN.
    g_nn: Vec<[f64; 3]>,
    /// Prior beta U_soft per particle (pair halves plus tail), and its a-derivative.
    p_i: Vec<f64>,
    dp_i: Vec<f64>,
    /// grad_x beta U_soft.
    g_p: Vec<[f64; 3]>,
}

impl LjModel {
    /// A model with parameters drawn from `rng`.
    pub fn new(spec: LjModelSpec, rng: &mut crate::rng::Stream) -> Self {
        let net = network::build(&spec);
        let mut params = net.init_params(rng);
        params.resize(params.len() + spec.pair.n_params(), 0.0);
        Self { spec, params, net }
    }

    /// A model with the network `net` in place of the one `spec` describes (spec's descriptor,
    /// hidden and message-passing fields are then unused): how a new architecture is tried before
    /// it gets its arm in [`network::build`]. Parameters: `net`'s initial ones, then zero walls.
    pub fn with_network(spec: LjModelSpec, net: Arc<dyn Network>, rng: &mut crate::rng::Stream) -> Self {
        let mut params = net.init_params(rng);
        params.resize(params.len() + spec.pair.n_params(), 0.0);
        Self { spec, params, net }
    }

    /// The network E_NN.
    pub fn network(&self) -> &dyn Network {
        self.net.as_ref()
    }

    pub(crate) fn positions(c: &Conf) -> Positions {
        c.y.chunks_exact(3).map(|p| [p[0] * c.side, p[1] * c.side, p[2] * c.side]).collect()
    }

    /// The network's parameters.
    fn net_params(&self) -> &[f64] {
        &self.params[..self.params.len() - self.spec.pair.n_params()]
    }

    /// The pair walls' parameters W.
    pub(crate) fn pair_params(&self) -> &[f64] {
        &self.params[self.params.len() - self.spec.pair.n_params()..]
    }

    /// Range of the shared neighbour list: the largest of the network's cutoff, the walls'
    /// reach and the prior's range (infinite for min-image: all pairs).
    fn list_range(&self) -> f64 {
        self.net.cutoff().max(self.spec.pair.reach()).max(self.spec.prior().range())
    }

    /// Positions (sigma), box and neighbour pairs of a configuration.
    fn neighbourhood(&self, c: &Conf) -> (Positions, SimBox, PairList) {
        let x = Self::positions(c);
        let simbox = SimBox::new(c.side);
        let pairs = PairList::new(&x, &simbox, self.list_range());
        (x, simbox, pairs)
    }

    /// E_NN (network plus pair walls, minus the isolated-particle energy when `isolated_zero` is
    /// set) and the prior at (x, t); the network's gradient and t-derivative as `want` asks (zero
    /// where not asked for).
    fn eval(&self, x: &Positions, simbox: &SimBox, pairs: &PairList, t: f64, want: Want) -> Eval {
        let with_grad = want.grad;
        let at = At { params: self.net_params(), x, simbox, pairs, t };
        let NetOut { mut e_i, mut de_i, grad: mut g_nn } = self.net.evaluate(&at, want);
        if self.spec.pair.enabled() {
            let walls = self.spec.pair.evaluate(x.len(), pairs.within(self.spec.pair.reach()), self.pair_params(), t);
            for i in 0..x.len() {
                e_i[i] += walls.e_i[i];
                de_i[i] += walls.de_i[i];
                if with_grad {
                    for (g, p) in g_nn[i].iter_mut().zip(&walls.grad[i]) {
                        *g += p;
                    }
                }
            }
        }
        if self.spec.isolated_zero {
            let (e0, de0) = self.net.isolated(self.net_params(), simbox.side(), t);
            for (e, d) in e_i.iter_mut().zip(de_i.iter_mut()) {
                *e -= e0;
                *d -= de0;
            }
        }
        let prior = self.spec.prior().split(pairs, simbox, t);
        Eval { e_i, de_i, g_nn, p_i: prior.e_i, dp_i: prior.de_i, g_p: prior.grad }
    }

    /// eval at a configuration.
    fn eval_conf(&self, c: &Conf, t: f64, want: Want) -> Eval {
        let (x, simbox, pairs) = self.neighbourhood(c);
        self.eval(&x, &simbox, &pairs, t, want)
    }

    /// The parameter VJP of the predicted noise eps = sigma grad_y u = L grad_x E_theta
    /// (reverse over forward, docs/design.md sec. 6). Only E_NN depends on theta, so for the
    /// direction v and weight w that `cotangent` returns,
    /// (w / D) v . d eps / d theta = (w L t(1-t) / D) d/dtheta [grad_x E_NN . v], from the network
    /// ([`Network::score_param_grad`], whose forward pass also gives eps) and the pair walls.
    fn noise_vjp_impl(&self, c: &Conf, t: f64, cotangent: &mut NoiseCotangent<'_>, grad: &mut [f64]) {
        let (x, simbox, pairs) = self.neighbourhood(c);
        let n = x.len();
        let (_, smin) = self.sig(t);
        let cnn = t * (1.0 - t);
        let dim = 3 * n;
        let n_net = self.params.len() - self.spec.pair.n_params();
        let (g_net, g_pair) = grad.split_at_mut(n_net);
        let mut walls: Option<(Vec<[f64; 3]>, f64)> = None;
        let reach = self.spec.pair.reach();
        self.net.score_param_grad(
            &At { params: self.net_params(), x: &x, simbox: &simbox, pairs: &pairs, t },
            &mut |out: &NetOut| {
                let mut g_nn = out.grad.clone();
                if self.spec.pair.enabled() {
                    let pe = self.spec.pair.evaluate(n, pairs.within(reach), self.pair_params(), t);
                    for (g, p) in g_nn.iter_mut().zip(&pe.grad) {
                        for a in 0..3 {
                            g[a] += p[a];
                        }
                    }
                }
                let g_p = self.spec.prior().split(&pairs, &simbox, t).grad;
                let mut eps = Vec::with_capacity(dim);
                for i in 0..n {
                    for k in 0..3 {
                        let ge = cnn * g_nn[i][k] + (1.0 - t) * smin * g_p[i][k];
                        eps.push(c.side * ge);
                    }
                }
                let (v, w) = cotangent(&eps);
                assert_eq!(v.len(), dim, "cotangent direction length");
                if cnn > 0.0 {
                    let r: Vec<[f64; 3]> = v.chunks_exact(3).map(|a| [a[0], a[1], a[2]]).collect();
                    let scale = w * c.side * cnn / dim as f64;
                    walls = Some((r.clone(), scale));
                    Some((r, scale))
                } else {
                    None
                }
            },
            g_net,
        );
        if let Some((r, scale)) = walls {
            self.spec.pair.tangent_param_grad(pairs.within(reach), t, &r, scale, g_pair);
        }
    }

    /// beta U_t split into terms, from an evaluation at (., t).
    fn energy_terms_from(&self, e: &Eval, t: f64) -> Terms {
        let (s, smin) = self.sig(t);
        let cnn = t * (1.0 - t);
        let per_particle: Vec<[f64; 2]> =
            e.p_i.iter().zip(&e.e_i).map(|(p, en)| [(1.0 - t) * smin * p / s, cnn * en / s]).collect();
        Terms::from_per_particle(per_particle)
    }

    /// d(beta U_t)/dt split into terms, from an evaluation at (., t):
    /// du/dt = (dE/dt) / sigma - u ln(sigma_max / sigma_min) with
    /// dE/dt = (1 - 2t) E_NN + t (1-t) dE_NN/dt - sigma_min bU_soft + (1-t) sigma_min dbU_soft/da.
    fn dt_terms_from(&self, e: &Eval, t: f64) -> Terms {
        let (s, smin) = self.sig(t);
        let lr = self.spec.schedule.log_ratio();
        let cnn = t * (1.0 - t);
        let per_particle: Vec<[f64; 2]> = (0..e.e_i.len())
            .map(|i| {
                let prior_e = (1.0 - t) * smin * e.p_i[i];
                let prior_dt = -smin * e.p_i[i] + (1.0 - t) * smin * e.dp_i[i];
                let nn_e = cnn * e.e_i[i];
                let nn_dt = (1.0 - 2.0 * t) * e.e_i[i] + cnn * e.de_i[i];
                [(prior_dt - prior_e * lr) / s, (nn_dt - nn_e * lr) / s]
            })
            .collect();
        Terms::from_per_particle(per_particle)
    }

    /// du/dt binned by pair distance into the shells of `edges` ([`super::shells`]): per pair
    /// (sigma_min / sigma) [-(1 + (1-t) ln(s_max/s_min)) b u_soft + (1-t) b du_soft/da] for the
    /// prior and [(1-2t) e_ij + t(1-t) de_ij/dt - t(1-t) ln(s_max/s_min) e_ij] / sigma for the
    /// walls; the unbinned column holds the prior's tail and the network's per-particle part
    /// (`terms.network` minus the walls). Panics on invalid `edges` ([`check_edges`]).
    fn dt_shells(&self, pairs: &PairList, simbox: &SimBox, t: f64, edges: &[f64], terms: &Terms) -> ShellSplit {
        if let Err(e) = check_edges(edges) {
            panic!("{e}");
        }
        let cols = edges.len() + 1;
        let (mut prior, mut network) = (vec![0.0; cols], vec![0.0; cols]);
        let n = pairs.n_particles();
        let spec = &self.spec;
        let beta = spec.prior().beta();
        let (sigma, smin) = self.sig(t);
        let lr = spec.schedule.log_ratio();
        let cnn = t * (1.0 - t);
        // Same algebra as dt_terms_from, per pair: (prior_dt - prior_e lr) / sigma.
        let prior_of = |p: f64, dp: f64| (-smin * p + (1.0 - t) * smin * dp - (1.0 - t) * smin * p * lr) / sigma;
        let net_of = |e: f64, de: f64| ((1.0 - 2.0 * t) * e + cnn * de - cnn * e * lr) / sigma;
        let pe = spec.prior().pair_energy(*simbox, n, t);
        // Pair walls: c_m(t) = sum_q W_mq rho_q(t) and dc_m/dt.
        let pair = &spec.pair;
        let (cw, dcw) = if pair.enabled() { pair.coefficients(self.pair_params(), t) } else { (vec![], vec![]) };
        let (mut b, mut db) = (vec![0.0; cw.len()], vec![0.0; cw.len()]);
        let wall_max = pair.reach();
        for p in pairs.pairs() {
            let s = shell_index(edges, p.r);
            prior[s] += prior_of(beta * pe.potential.energy(p.r2), beta * pe.potential.denergy_dlambda(p.r2));
            if pair.enabled() && p.r < wall_max {
                pair.radial(p.r, &mut b, &mut db);
                let e: f64 = cw.iter().zip(&b).map(|(a, v)| a * v).sum();
                let de: f64 = dcw.iter().zip(&b).map(|(a, v)| a * v).sum();
                network[s] += net_of(e, de);
            }
        }
        if let Some((tu, td)) = pe.tail_by_particle() {
            prior[cols - 1] = n as f64 * prior_of(beta * tu, beta * td);
        }
        network[cols - 1] = terms.network - network[..cols - 1].iter().sum::<f64>();
        ShellSplit { edges: edges.to_vec(), values: [prior, network] }
    }

    /// sigma(t) and sigma_min.
    fn sig(&self, t: f64) -> (f64, f64) {
        (self.spec.schedule.sigma(t), self.spec.schedule.sigma_min)
    }
}

impl ParticleModel for LjModel {
    fn temperature(&self) -> f64 {
        self.spec.temperature
    }
    fn interactions(&self) -> PriorCutoff {
        self.spec.cutoff
    }
    fn network_cutoff(&self) -> f64 {
        self.net.cutoff()
    }
    fn boxed_clone(&self) -> Box<dyn ParticleModel> {
        Box::new(self.clone())
    }
}

impl EnergyModel for LjModel {
    fn kind(&self) -> &'static str {
        self.net.kind()
    }
    fn spec(&self) -> String {
        serde_json::to_string(&self.spec).expect("spec serialises")
    }
    /// Compares parsed specs, so that fields added later (absent from older files) take their
    /// serde defaults instead of making an old checkpoint "another shape".
    fn same_shape(&self, spec: &str) -> bool {
        LjModelSpec::from_json(spec).is_ok_and(|s| s == self.spec)
    }
    fn params(&self) -> &[f64] {
        &self.params
    }
    fn params_mut(&mut self) -> &mut [f64] {
        &mut self.params
    }
    fn schedule(&self) -> &dyn NoiseSchedule {
        &self.spec.schedule
    }

    fn energy_terms(&self, c: &Conf, t: f64) -> Terms {
        self.energy_terms_from(&self.eval_conf(c, t, Want::default()), t)
    }

    fn energy_grad(&self, c: &Conf, t: f64) -> (f64, Vec<f64>) {
        self.energy_grad_from(c, &self.eval_conf(c, t, Want { grad: true, dt: false }), t)
    }

    /// du/dt (see `LjModel::dt_terms_from`).
    fn dt_terms(&self, c: &Conf, t: f64) -> Terms {
        self.dt_terms_from(&self.eval_conf(c, t, Want { grad: false, dt: true }), t)
    }

    /// One evaluation per configuration for both.
    fn grad_dt_batch(&self, cs: &[Conf], t: f64) -> Vec<(Vec<f64>, Terms)> {
        cs.iter()
            .map(|c| {
                let e = self.eval_conf(c, t, Want { grad: true, dt: true });
                (self.energy_grad_from(c, &e, t).1, self.dt_terms_from(&e, t))
            })
            .collect()
    }

    /// Prior and pair walls binned by pair distance ([`super::shells`]).
    fn dt_terms_shells(&self, c: &Conf, t: f64, edges: &[f64]) -> (Terms, Option<ShellSplit>) {
        let (x, simbox, pairs) = self.neighbourhood(c);
        let terms = self.dt_terms_from(&self.eval(&x, &simbox, &pairs, t, Want { grad: false, dt: true }), t);
        let shells = self.dt_shells(&pairs, &simbox, t, edges, &terms);
        (terms, Some(shells))
    }

    fn noise_vjp(&self, c: &Conf, t: f64, cotangent: &mut NoiseCotangent<'_>, grad: &mut [f64]) {
        self.noise_vjp_impl(c, t, cotangent, grad)
    }
}

impl LjModel {
    /// (u, grad_y u) from an evaluation with the gradient.
    fn energy_grad_from(&self, c: &Conf, e: &Eval, t: f64) -> (f64, Vec<f64>) {
        let (s, smin) = self.sig(t);
        let cnn = t * (1.0 - t);
        let u = ((1.0 - t) * smin * e.p_i.iter().sum::<f64>() + cnn * e.e_i.iter().sum::<f64>()) / s;
        let k = c.side / s;
        let g = e
            .g_nn
            .iter()
            .zip(&e.g_p)
            .flat_map(|(a, b)| (0..3).map(move |d| k * (cnn * a[d] + (1.0 - t) * smin * b[d])))
            .collect();
        (u, g)
    }
}
