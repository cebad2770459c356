//! The time-dependent energy of Neural TI for Lennard-Jones particles (docs/design.md sec. 2 and 6):
//!   E_theta(x, t) = t (1 - t) E_NN(x, t) + (1 - t) sigma_min beta U_soft(x; a = t),
//!   u = beta U_t(x) = E_theta / sigma(t),  sigma(t) = sigma_min^(1-t) sigma_max^t,
//! with U_soft the soft-core LJ sum (same cutoff mode as the system, tail correction of the
//! soft-core potential at a = t included when the system uses one) and
//! E_NN = sum_i MLP([G_i(x), tau(t)]) + E_lin(x, t) + E_pair(x, t): a per-particle network on
//! invariant descriptors, an optional time-modulated linear term on the same descriptors
//! (E_lin = sum_i sum_{f,q} A_fq rho_q(t) G_if, [`LjModelSpec::linear_time_basis`]) and learned
//! time-dependent pair walls ([`super::pair_term`]).
//! At t = 0, u = beta U_LJ exactly (sigma(0) = sigma_min); at t = 1, u = 0 (ideal gas).
//! Noise coordinates are fractional, y = x / L, so grad_y = L grad_x.
//! Reference: Máté, Fleuret & Bereau, J. Phys. Chem. Lett. 15, 11395 (2024).

use super::descriptors::DescriptorSpec;
use super::mlp::{matrix, Forward, Mlp};
use super::mp::{MpNet, MpSpec};
use super::pair_term::PairTermSpec;
use super::{Conf, EnergyModel, Terms, TimeEmbedding};
use crate::potential::{numeric_tail_integral, Alchemical, CutoffMode, PairPotential, SoftCore, Truncated};
use crate::schedule::{NoiseSchedule, VeSchedule};
use crate::system::{Positions, SimBox};
use ndarray::Array1;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

#[path = "dsm_grad.rs"]
mod dsm_grad;
#[path = "lj_mp.rs"]
mod lj_mp;
#[path = "time_score.rs"]
mod time_score;

/// Interaction mode of the prior term (serialisable form of [`CutoffMode`]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PriorCutoff {
    /// Spherical cutoff radius; `None` for min-image (all pairs).
    pub rc: Option<f64>,
    /// Shifted at rc.
    pub shift: bool,
    /// Tail correction included.
    pub tail: bool,
}

impl PriorCutoff {
    /// From the engine's mode.
    pub fn from_mode(m: CutoffMode) -> Self {
        match m {
            CutoffMode::Spherical { rc, shift, tail } => Self { rc: Some(rc), shift, tail },
            CutoffMode::MinImage => Self { rc: None, shift: false, tail: false },
        }
    }
}

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
    /// Descriptor standardisation G' = (G - shift) / scale, per feature (length 3K), fixed from the
    /// training data before training ([`feature_statistics`]); empty = identity (older models).
    #[serde(default)]
    pub feature_shift: Vec<f64>,
    /// See `feature_shift`.
    #[serde(default)]
    pub feature_scale: Vec<f64>,
    /// Energy zero of the network: subtract MLP(G = 0, tau(t)), the energy of a particle without
    /// neighbours, from every particle's E_i. Score matching sees only grad_x E, so an
    /// x-independent part h(t) of E_NN is left free by training; through t(1-t) h(t) / sigma(t) it
    /// adds an integrand that integrates to zero but oscillates by hundreds of kT, which defeats
    /// coarse t-quadratures (windows). Pinning isolated particles to zero removes most of it
    /// (all of it for a dilute gas). Gradients, training and samples are unchanged. False for
    /// models written before it existed.
    #[serde(default)]
    pub isolated_zero: bool,
    /// Number Q_lin of Gaussian time bumps of the time-modulated linear term
    /// E_lin = sum_i sum_{f, q} A_fq rho_q(t) G_if / s_f of E_NN (s_f the feature scale, 1 without
    /// standardisation); 0 (the default, also for older models) = absent. An MLP on [G_i, tau(t)]
    /// has to build products of time features and descriptors out of SiLUs; this term gives the
    /// time-dependent pair-and-moment potential that the path needs between its endpoints directly,
    /// linear in A (exact attribution, cheap derivatives).
    #[serde(default)]
    pub linear_time_basis: usize,
    /// Number Q_r of Gaussian time bumps of the time-dependent readout: the MLP's output layer is
    /// (w_out + sum_q rho_q(t) R_q, b_out + sum_q rho_q(t) r_q), so the last hidden features are
    /// combined differently at every t (multiplicative time conditioning; FiLM-like, E. Perez et
    /// al., AAAI 2018). 0 (the default, also for older models) = absent.
    #[serde(default)]
    pub readout_time_basis: usize,
    /// Message-passing network for E_NN instead of the descriptor MLP ([`super::mp`]); None (the
    /// default, also for older models) = the descriptor network. With it, the linear and readout
    /// time terms and the standardisation must be absent; the pair walls are kept (models of
    /// nti before 2026-12-06 were written without them).
    #[serde(default)]
    pub message_passing: Option<MpSpec>,
}

/// Mean and standard deviation of every descriptor over all particles of `confs` (the training
/// frames), for [`LjModelSpec::feature_shift`] / `feature_scale`. Descriptors span O(0.01)-O(100)
/// (radial sums, squared moment norms); standardised inputs keep the MLP's first layer well
/// conditioned (J. Behler, J. Chem. Phys. 134, 074106 (2011), sec. on symmetry-function scaling).
/// A feature that never varies gets scale 1.
pub fn feature_statistics(spec: &DescriptorSpec, confs: &[Conf]) -> (Vec<f64>, Vec<f64>) {
    let nf = spec.n_features();
    let (mut sum, mut sum2, mut count) = (vec![0.0; nf], vec![0.0; nf], 0usize);
    for c in confs {
        let d = spec.compute(&LjModel::positions(c), &SimBox::new(c.side));
        for row in d.values().chunks_exact(nf) {
            for (k, v) in row.iter().enumerate() {
                sum[k] += v;
                sum2[k] += v * v;
            }
            count += 1;
        }
    }
    let m = count.max(1) as f64;
    let mean: Vec<f64> = sum.iter().map(|s| s / m).collect();
    let sd = sum2
        .iter()
        .zip(&mean)
        .map(|(s2, mu)| {
            let v = (s2 / m - mu * mu).max(0.0).sqrt();
            if v > 1e-8 * mu.abs().max(1e-300) && v > 0.0 {
                v
            } else {
                1.0
            }
        })
        .collect();
    (mean, sd)
}

/// The model: spec, network and parameters.
#[derive(Clone, Debug)]
pub struct LjModel {
    /// Shape and physics.
    pub spec: LjModelSpec,
    /// Per-particle network.
    pub mlp: Mlp,
    /// Parameters theta: the MLP's, then the time-dependent readout's R (Q_r x (H + 1), row-major:
    /// H output weights and one bias per bump), then the linear term's A (nf x Q_lin, row-major), then
    /// the pair term's W (R, A and W initialised to zero). With message passing: the network's, then
    /// the pair term's W.
    pub params: Vec<f64>,
    /// The message-passing network, when the spec asks for one.
    pub mp: Option<MpNet>,
}

/// Everything one evaluation produces (absolute-coordinate quantities).
struct Eval {
    /// E_NN per particle.
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
        let mlp = Mlp::new(spec.descriptors.n_features() + spec.time.n_features(), &spec.hidden);
        if let Some(ms) = &spec.message_passing {
            let net = MpNet::new(ms.clone(), spec.time.n_features());
            let mut params = net.init_params(rng);
            params.resize(params.len() + spec.pair.n_params(), 0.0);
            return Self { spec, mlp, params, mp: Some(net) };
        }
        let mut params = mlp.init_params(rng, 0.1);
        let n_readout = spec.readout_time_basis * (mlp.sizes[mlp.sizes.len() - 2] + 1);
        params.resize(
            params.len() + n_readout + spec.descriptors.n_features() * spec.linear_time_basis + spec.pair.n_params(),
            0.0,
        );
        Self { spec, mlp, params, mp: None }
    }

    pub(crate) fn positions(c: &Conf) -> Positions {
        c.y.chunks_exact(3).map(|p| [p[0] * c.side, p[1] * c.side, p[2] * c.side]).collect()
    }

    /// beta U_soft(x; a) per particle, its a-derivative per particle, and its gradient.
    fn prior(&self, x: &Positions, simbox: &SimBox, a: f64) -> (Vec<f64>, Vec<f64>, Vec<[f64; 3]>) {
        let n = x.len();
        let beta = 1.0 / self.spec.temperature;
        let sc = SoftCore { a };
        let pot = match self.spec.cutoff.rc {
            Some(rc) => Truncated::new(sc, rc, self.spec.cutoff.shift),
            None => Truncated::untruncated(sc),
        };
        let (mut e, mut de, mut g) = (vec![0.0; n], vec![0.0; n], vec![[0.0; 3]; n]);
        for i in 0..n {
            for j in i + 1..n {
                let d = simbox.delta(&x[i], &x[j]);
                let r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
                let (u, f) = pot.energy_force(r2);
                let du = pot.denergy_dlambda(r2);
                e[i] += 0.5 * beta * u;
                e[j] += 0.5 * beta * u;
                de[i] += 0.5 * beta * du;
                de[j] += 0.5 * beta * du;
                for k in 0..3 {
                    g[i][k] -= beta * f * d[k];
                    g[j][k] += beta * f * d[k];
                }
            }
        }
        if let (Some(rc), true) = (self.spec.cutoff.rc, self.spec.cutoff.tail) {
            // Per particle (rho / 2) int_rc^inf 4 pi r^2 u dr, and the same for du/da.
            let rho = n as f64 / simbox.volume();
            let tu = 0.5 * rho * numeric_tail_integral(|r2| sc.energy(r2), rc);
            let td = 0.5 * rho * numeric_tail_integral(|r2| sc.denergy_dlambda(r2), rc);
            for i in 0..n {
                e[i] += beta * tu;
                de[i] += beta * td;
            }
        }
        (e, de, g)
    }

    fn forward(&self, x: &Positions, simbox: &SimBox, t: f64) -> (super::descriptors::Descriptors, Forward) {
        let d = self.spec.descriptors.compute(x, simbox);
        let (nf, nt) = (self.spec.descriptors.n_features(), self.spec.time.n_features());
        let tau = self.spec.time.features(t);
        let mut data = Vec::with_capacity(x.len() * (nf + nt));
        let (shift, scale) = (&self.spec.feature_shift, &self.spec.feature_scale);
        for row in d.values().chunks_exact(nf) {
            if shift.is_empty() {
                data.extend_from_slice(row);
            } else {
                data.extend(row.iter().zip(shift).zip(scale).map(|((g, a), b)| (g - a) / b));
            }
            data.extend_from_slice(&tau);
        }
        let fw = self.mlp.forward(&self.mlp_params(t), matrix(x.len(), nf + nt, data));
        (d, fw)
    }

    /// 1 / scale of every feature (ones without standardisation).
    fn inv_scale(&self) -> Vec<f64> {
        let nf = self.spec.descriptors.n_features();
        if self.spec.feature_scale.is_empty() {
            vec![1.0; nf]
        } else {
            self.spec.feature_scale.iter().map(|s| 1.0 / s).collect()
        }
    }

    /// The MLP's parameters, the linear term's and the pair term's.
    fn mlp_base(&self) -> &[f64] {
        &self.params[..self.mlp.n_params()]
    }
    /// Width H + 1 of one readout row (last hidden width plus the bias).
    fn readout_width(&self) -> usize {
        self.mlp.sizes[self.mlp.sizes.len() - 2] + 1
    }
    fn readout_params(&self) -> &[f64] {
        let o = self.mlp.n_params();
        &self.params[o..o + self.spec.readout_time_basis * self.readout_width()]
    }
    fn lin_params(&self) -> &[f64] {
        let o = self.mlp.n_params() + self.spec.readout_time_basis * self.readout_width();
        &self.params[o..self.params.len() - self.spec.pair.n_params()]
    }

    /// The MLP's parameters at time t: the base parameters, with the output layer shifted by
    /// sum_q rho_q(t) R_q when the time-dependent readout is present.
    fn mlp_params(&self, t: f64) -> Cow<'_, [f64]> {
        let q_n = self.spec.readout_time_basis;
        if q_n == 0 {
            return Cow::Borrowed(self.mlp_base());
        }
        let (rho, _) = super::pair_term::gaussian_time_bumps(q_n, t);
        let mut p = self.mlp_base().to_vec();
        let hw = self.readout_width();
        let off = p.len() - hw;
        for (row, r) in self.readout_params().chunks_exact(hw).zip(&rho) {
            for (a, b) in p[off..].iter_mut().zip(row) {
                *a += r * b;
            }
        }
        Cow::Owned(p)
    }

    /// d/dt of the MLP output through the readout, per row: h_L . sum_q rho_q' R_q + sum_q rho_q' r_q.
    fn readout_dt(&self, fw: &Forward, t: f64) -> Option<Vec<f64>> {
        let q_n = self.spec.readout_time_basis;
        if q_n == 0 {
            return None;
        }
        let (_, drho) = super::pair_term::gaussian_time_bumps(q_n, t);
        let hw = self.readout_width();
        let mut dw = vec![0.0; hw];
        for (row, r) in self.readout_params().chunks_exact(hw).zip(&drho) {
            for (a, b) in dw.iter_mut().zip(row) {
                *a += r * b;
            }
        }
        let h = &fw.post[fw.post.len() - 1];
        Some(
            h.rows().into_iter().map(|row| row.iter().zip(&dw).map(|(a, b)| a * b).sum::<f64>() + dw[hw - 1]).collect(),
        )
    }

    /// Coefficients of the linear term per feature, c_f(t) = sum_q A_fq rho_q(t) / s_f, and their
    /// t-derivatives (empty when the term is absent).
    fn lin_coefficients(&self, t: f64) -> (Vec<f64>, Vec<f64>) {
        let q_n = self.spec.linear_time_basis;
        if q_n == 0 {
            return (vec![], vec![]);
        }
        let (c, dc) = super::pair_term::bump_coefficients(self.lin_params(), q_n, t);
        let inv = self.inv_scale();
        (c.iter().zip(&inv).map(|(a, s)| a * s).collect(), dc.iter().zip(&inv).map(|(a, s)| a * s).collect())
    }

    fn pair_params(&self) -> &[f64] {
        &self.params[self.params.len() - self.spec.pair.n_params()..]
    }

    fn eval(&self, c: &Conf, t: f64) -> Eval {
        if self.mp.is_some() {
            return self.eval_mp(c, t, true);
        }
        let x = Self::positions(c);
        let simbox = SimBox::new(c.side);
        let (d, fw) = self.forward(&x, &simbox, t);
        self.eval_from(&x, &simbox, t, &d, &fw, true)
    }

    /// [`Self::eval`] from a forward pass already made at (x, t); without `with_grad` the network
    /// gradient `g_nn` is left at zero (its descriptor VJP is the most expensive part).
    fn eval_from(
        &self,
        x: &Positions,
        simbox: &SimBox,
        t: f64,
        d: &super::descriptors::Descriptors,
        fw: &Forward,
        with_grad: bool,
    ) -> Eval {
        let n = x.len();
        let nf = self.spec.descriptors.n_features();
        let gin = self.mlp.input_grad(&self.mlp_params(t), fw, &Array1::ones(n));
        let dtau = self.spec.time.derivative(t);
        let mut gbar = Vec::with_capacity(n * nf);
        let mut de_i = Vec::with_capacity(n);
        let ro_dt = self.readout_dt(fw, t);
        let inv = self.inv_scale();
        let mut e_i = fw.out.to_vec();
        let (lc, ldc) = self.lin_coefficients(t);
        for i in 0..n {
            let row = gin.row(i);
            gbar.extend(row.iter().take(nf).zip(&inv).map(|(g, s)| g * s));
            de_i.push(row.iter().skip(nf).zip(&dtau).map(|(a, b)| a * b).sum());
            if let Some(r) = &ro_dt {
                de_i[i] += r[i];
            }
            if !lc.is_empty() {
                let g = &d.values()[i * nf..(i + 1) * nf];
                e_i[i] += g.iter().zip(&lc).map(|(a, b)| a * b).sum::<f64>();
                de_i[i] += g.iter().zip(&ldc).map(|(a, b)| a * b).sum::<f64>();
                for (gb, c) in gbar[i * nf..(i + 1) * nf].iter_mut().zip(&lc) {
                    *gb += c;
                }
            }
        }
        let mut g_nn = if with_grad { d.vjp(&gbar) } else { vec![[0.0; 3]; n] };
        let pe = self.spec.pair.evaluate(d, self.pair_params(), t);
        for i in 0..n {
            e_i[i] += pe.e_i[i];
            de_i[i] += pe.de_i[i];
            for (g, p) in g_nn[i].iter_mut().zip(&pe.grad[i]) {
                *g += p;
            }
        }
        if self.spec.isolated_zero {
            let (e0, de0) = self.isolated(t);
            for i in 0..n {
                e_i[i] -= e0;
                de_i[i] -= de0;
            }
        }
        let (p_i, dp_i, g_p) = self.prior(x, simbox, t);
        Eval { e_i, de_i, g_nn, p_i, dp_i, g_p }
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

    /// The MLP input row of a particle without neighbours (raw descriptors G = 0) at time t.
    fn isolated_row(&self, t: f64) -> Vec<f64> {
        let nf = self.spec.descriptors.n_features();
        let mut row: Vec<f64> = if self.spec.feature_shift.is_empty() {
            vec![0.0; nf]
        } else {
            self.spec.feature_shift.iter().zip(&self.spec.feature_scale).map(|(a, b)| -a / b).collect()
        };
        row.extend(self.spec.time.features(t));
        row
    }

    /// MLP energy of a particle without neighbours (raw descriptors G = 0) and its t-derivative.
    fn isolated(&self, t: f64) -> (f64, f64) {
        let nf = self.spec.descriptors.n_features();
        let row = self.isolated_row(t);
        let len = row.len();
        let p = self.mlp_params(t);
        let fw = self.mlp.forward(&p, matrix(1, len, row));
        let gin = self.mlp.input_grad(&p, &fw, &Array1::ones(1));
        let dtau = self.spec.time.derivative(t);
        let ro = self.readout_dt(&fw, t).map_or(0.0, |r| r[0]);
        (fw.out[0], gin.row(0).iter().skip(nf).zip(&dtau).map(|(a, b)| a * b).sum::<f64>() + ro)
    }

    /// sigma(t) and sigma_min.
    fn sig(&self, t: f64) -> (f64, f64) {
        (self.spec.schedule.sigma(t), self.spec.schedule.sigma_min)
    }
}

impl EnergyModel for LjModel {
    fn kind(&self) -> &'static str {
        if self.mp.is_some() {
            "lj-message-passing"
        } else {
            "lj-descriptor-mlp"
        }
    }
    fn spec(&self) -> String {
        serde_json::to_string(&self.spec).expect("spec serialises")
    }
    /// Compares parsed specs, so that fields added later (absent from older files) take their
    /// serde defaults instead of making an old checkpoint "another shape".
    fn same_shape(&self, spec: &str) -> bool {
        serde_json::from_str::<LjModelSpec>(spec).is_ok_and(|s| s == self.spec)
    }
    fn params(&self) -> &[f64] {
        &self.params
    }
    fn params_mut(&mut self) -> &mut [f64] {
        &mut self.params
    }
    fn pair_param_range(&self) -> Option<std::ops::Range<usize>> {
        let n = self.params.len();
        self.spec.pair.enabled().then(|| n - self.spec.pair.n_params()..n)
    }
    fn schedule(&self) -> &dyn NoiseSchedule {
        &self.spec.schedule
    }

    fn energy_terms(&self, c: &Conf, t: f64) -> Terms {
        self.energy_terms_from(&self.eval(c, t), t)
    }

    fn energy_grad(&self, c: &Conf, t: f64) -> (f64, Vec<f64>) {
        let e = self.eval(c, t);
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

    /// du/dt (see `LjModel::dt_terms_from`).
    fn dt_terms(&self, c: &Conf, t: f64) -> Terms {
        self.dt_terms_from(&self.eval(c, t), t)
    }

    /// Prior and pair walls binned by pair distance ([`super::shells`]).
    fn dt_terms_shells(&self, c: &Conf, t: f64, edges: &[f64]) -> (Terms, Option<super::ShellSplit>) {
        let terms = self.dt_terms(c, t);
        let shells = super::shells::lj_dt_shells(self, c, t, edges, &terms);
        (terms, Some(shells))
    }

    fn time_score_loss_grad(
        &self,
        a: (&Conf, &[f64]),
        b: (&Conf, &[f64]),
        t: f64,
        weight: f64,
        grad: &mut [f64],
    ) -> Option<f64> {
        (self.spec.readout_time_basis == 0).then(|| self.time_score_loss(a, b, t, weight, grad))
    }

    fn energy_param_grad(&self, c: &Conf, t: f64, weight: f64, grad: &mut [f64]) -> Option<f64> {
        (self.spec.readout_time_basis == 0).then(|| LjModel::energy_param_grad(self, c, t, weight, grad))
    }

    fn dsm_loss_grad(&self, c: &Conf, t: f64, z: &[f64], weight: f64, grad: &mut [f64]) -> f64 {
        self.dsm_loss_grad_impl(c, t, z, weight, grad)
    }
}
