//! `[model]`: the energy network E_NN (descriptor or message-passing), its pair walls and the noise
//! schedule; defaults and checks.

use super::ConfigError;
use serde::{Deserialize, Serialize};

/// `[model]`: shape of the LJ energy network (crate::model::lj_model, crate::model::lj_mp) and the noise schedule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelConfig {
    /// Gaussian radial channels K of the descriptors (3K features per particle). Default 8.
    pub n_radial: usize,
    /// Centre of the first radial channel (sigma). Default 0.5 (a first channel centred at 0.8 has zero
    /// slope there, so the learned repulsion peaks inside the LJ core and lets pairs collapse; see
    /// validation/paper_lj/README.md).
    pub r_min: f64,
    /// Descriptor cutoff (sigma), at most half the smallest box side. Default 3.0.
    pub r_cut: f64,
    /// Hidden layer widths of the per-particle MLP. Default [64, 64].
    pub hidden: Vec<usize>,
    /// Fourier frequencies of the time embedding. Default 4.
    pub n_freq: usize,
    /// Contact distances r_l (sigma) of the learned pair walls ((r_l - r)/kappa)^3 of E_NN, each below
    /// r_cut; an empty list disables them. Default [0.7, 0.8, 0.9, 1.0, 1.1, 1.2].
    pub pair_walls: Vec<f64>,
    /// Length scale kappa (sigma) of the pair walls. Default 0.1.
    pub pair_wall_width: f64,
    /// Gaussian time bumps Q of the learned pair term. Default 12.
    pub pair_time_basis: usize,
    /// The network of E_NN: "descriptor" (invariant descriptors and a per-particle MLP; default) or
    /// "message-passing" (PaiNN-like scalar and vector features, `mp_*` keys). The pair walls serve
    /// both.
    pub network: Network,
    /// Message-passing layers. Default 3.
    pub mp_layers: usize,
    /// Scalar features per particle. Default 32.
    pub mp_scalars: usize,
    /// Vector features per particle. Default 8.
    pub mp_vectors: usize,
    /// Gaussian radial channels of the messages (first centred at r_min). Default 16.
    pub mp_radial: usize,
    /// Message cutoff (sigma), at most half the smallest box side. Default 2.0.
    pub mp_cutoff: f64,
    /// sigma(0) in units of the box side. Default 1e-3.
    pub sigma_min: f64,
    /// sigma(1) in units of the box side. Default 0.5.
    pub sigma_max: f64,
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            n_radial: 8,
            r_min: 0.5,
            r_cut: 3.0,
            hidden: vec![64, 64],
            n_freq: 4,
            pair_walls: vec![0.7, 0.8, 0.9, 1.0, 1.1, 1.2],
            pair_wall_width: 0.1,
            pair_time_basis: 12,
            network: Network::default(),
            mp_layers: 3,
            mp_scalars: 32,
            mp_vectors: 8,
            mp_radial: 16,
            mp_cutoff: 2.0,
            sigma_min: 1e-3,
            sigma_max: 0.5,
        }
    }
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

    /// Shape checks that need no box (the cutoff against the box is checked where the box is known).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.n_radial < 2 {
            return Err(ConfigError::invalid("model", "n_radial", self.n_radial, "at least 2 radial channels"));
        }
        if !(self.r_min >= 0.0 && self.r_cut > self.r_min && self.r_cut.is_finite()) {
            return Err(ConfigError::invalid(
                "model",
                "r_cut",
                self.r_cut,
                format!("a cutoff larger than r_min = {}", self.r_min),
            ));
        }
        if self.hidden.is_empty() || self.hidden.contains(&0) {
            return Err(ConfigError::invalid(
                "model",
                "hidden",
                format!("{:?}", self.hidden),
                "a non-empty list of positive widths",
            ));
        }
        if !(self.pair_wall_width > 0.0 && self.pair_wall_width.is_finite()) {
            return Err(ConfigError::invalid(
                "model",
                "pair_wall_width",
                self.pair_wall_width,
                "a positive length (sigma)",
            ));
        }
        if self.network == Network::MessagePassing {
            self.validate_message_passing()?;
        }
        let (cut_key, cut) = self.network_cutoff();
        if self.pair_walls.iter().any(|r| !(*r > 0.0 && *r < cut)) {
            return Err(ConfigError::invalid(
                "model",
                "pair_walls",
                format!("{:?}", self.pair_walls),
                format!("contact distances in (0, {cut_key} = {cut}) (or [] for no pair walls)"),
            ));
        }
        if !self.pair_walls.is_empty() && self.pair_time_basis < 2 {
            return Err(ConfigError::invalid(
                "model",
                "pair_time_basis",
                self.pair_time_basis,
                "at least 2 time bumps",
            ));
        }
        if !(self.sigma_min > 0.0 && self.sigma_max > self.sigma_min && self.sigma_max.is_finite()) {
            return Err(ConfigError::invalid(
                "model",
                "sigma_max",
                self.sigma_max,
                format!("a noise scale above sigma_min = {}", self.sigma_min),
            ));
        }
        Ok(())
    }

    /// The `mp_*` keys of `network = "message-passing"`.
    fn validate_message_passing(&self) -> Result<(), ConfigError> {
        for (key, v) in
            [("mp_layers", self.mp_layers), ("mp_scalars", self.mp_scalars), ("mp_vectors", self.mp_vectors)]
        {
            if v == 0 {
                return Err(ConfigError::invalid("model", key, v, "a positive integer"));
            }
        }
        if self.mp_radial < 2 {
            return Err(ConfigError::invalid("model", "mp_radial", self.mp_radial, "at least 2 radial channels"));
        }
        if !(self.mp_cutoff > self.r_min && self.mp_cutoff.is_finite()) {
            return Err(ConfigError::invalid(
                "model",
                "mp_cutoff",
                self.mp_cutoff,
                format!("a cutoff larger than r_min = {}", self.r_min),
            ));
        }
        Ok(())
    }
}

/// `[model] network`: the architecture of E_NN.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Network {
    /// Invariant descriptors and a per-particle MLP ([`crate::model::descriptors`]).
    #[default]
    Descriptor,
    /// Equivariant message passing ([`crate::model::mp`]).
    MessagePassing,
}
