//! Range and consistency checks of `[generate]`, `[ti]` and `[baseline]` that depend only on the
//! input (run by [`Config::validate`] before any work, on every rank), and what `nti generate` and
//! `nti ti` additionally require of `[generate]` ([`Config::require_generate`]).

use super::schema::{Config, Spacing, WindowRule, WindowStart};
use super::ConfigError;
use crate::sampling::chain::ChainKind;

/// Highest number density a box is filled to: N / L^3 <= 0.95 (the densest LJ liquid states of the
/// NIST table and the paper; denser systems freeze and are not what the model or the baselines are for).
pub const MAX_DENSITY: f64 = 0.95;

/// The largest N a cubic box of side `side` takes at density <= [`MAX_DENSITY`].
pub fn max_particles(side: f64) -> usize {
    (MAX_DENSITY * side.powi(3)).floor() as usize
}

/// A length for messages: at most 6 decimals, without trailing zeros.
pub fn short(x: f64) -> String {
    let s = format!("{x:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// `[generate] corrector_*`: times distinct and in [0, 1), at least 2 steps when any time is
/// given (and no steps without times), a positive finite initial step and a target acceptance in (0, 1).
fn validate_corrector(g: &super::GenerateConfig) -> Result<(), ConfigError> {
    let key = "corrector_t";
    for (i, &t) in g.corrector_t.iter().enumerate() {
        if !(t.is_finite() && (0.0..1.0).contains(&t)) {
            return Err(ConfigError::invalid("generate", key, t, "corrector times in [0, 1)"));
        }
        if g.corrector_t[..i].contains(&t) {
            return Err(ConfigError::invalid(
                "generate",
                key,
                format!("{:?}", g.corrector_t),
                format!("distinct corrector times ({t} is listed more than once)"),
            ));
        }
    }
    if !g.corrector_t.is_empty() && g.corrector_steps < 2 {
        return Err(ConfigError::invalid(
            "generate",
            "corrector_steps",
            g.corrector_steps,
            "at least 2 MALA steps per corrector time when corrector_t is given (the first half adapts the step)",
        ));
    }
    if g.corrector_t.is_empty() && g.corrector_steps > 0 {
        return Err(ConfigError::invalid(
            "generate",
            "corrector_steps",
            g.corrector_steps,
            "0 when corrector_t is empty (no corrector times were given)",
        ));
    }
    if !(g.corrector_step.is_finite() && g.corrector_step > 0.0) {
        return Err(ConfigError::invalid(
            "generate",
            "corrector_step",
            g.corrector_step,
            "a positive eps / sigma(t)^2",
        ));
    }
    if !(g.corrector_acceptance > 0.0 && g.corrector_acceptance < 1.0) {
        return Err(ConfigError::invalid(
            "generate",
            "corrector_acceptance",
            g.corrector_acceptance,
            "a target acceptance in (0, 1)",
        ));
    }
    Ok(())
}

/// Checks that the particle numbers `list` of `[section] key` are distinct and 2 <= N (<= the
/// box's limit when a box is given as (side, how the input defines it)).
pub fn check_particle_numbers(
    section: &str,
    key: &str,
    list: &[usize],
    bx: Option<(f64, &str)>,
) -> Result<(), ConfigError> {
    let max_n = bx.map_or(usize::MAX, |(l, _)| max_particles(l));
    if let Some(&n) = list.iter().find(|&&n| n < 2 || n > max_n) {
        let expected = match bx {
            Some((l, from)) => format!(
                "particle numbers 2 <= N <= {max_n}: density N / L^3 <= {MAX_DENSITY} in the box of side L = {} \
                 ({from})",
                short(l)
            ),
            None => "particle numbers N >= 2".to_string(),
        };
        return Err(ConfigError::invalid(section, key, n, expected));
    }
    let mut sorted = list.to_vec();
    sorted.sort_unstable();
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        return Err(ConfigError::invalid(
            section,
            key,
            format!("{list:?}"),
            format!("distinct particle numbers (N = {} is listed more than once)", w[0]),
        ));
    }
    Ok(())
}

impl Config {
    /// `[generate]`, `[ti]` and `[baseline]` on their own (whatever the command).
    pub(super) fn validate_stages(&self) -> Result<(), ConfigError> {
        self.validate_generate()?;
        self.validate_ti()?;
        self.validate_baseline()
    }

    fn validate_generate(&self) -> Result<(), ConfigError> {
        let g = &self.generate;
        if let Some(l) = g.box_side {
            if !(l.is_finite() && l > 0.0) {
                return Err(ConfigError::invalid("generate", "box_side", l, "a positive box side L (sigma)"));
            }
        }
        let bx = g.box_side.map(|l| (l, "[generate] box_side"));
        check_particle_numbers("generate", "n_particles", &g.n_particles, bx)?;
        if g.trajectories < 2 {
            return Err(ConfigError::invalid(
                "generate",
                "trajectories",
                g.trajectories,
                "at least 2 reverse-SDE trajectories per N (the error bar needs two)",
            ));
        }
        if g.steps == 0 {
            return Err(ConfigError::invalid("generate", "steps", 0, "a positive number of reverse-SDE steps"));
        }
        if g.batch == 0 {
            return Err(ConfigError::invalid("generate", "batch", 0, "a positive number of trajectories per batch"));
        }
        validate_corrector(g)
    }

    fn validate_ti(&self) -> Result<(), ConfigError> {
        let ti = &self.ti;
        if ti.windows == 1 {
            return Err(ConfigError::invalid(
                "ti",
                "windows",
                1,
                "0 (no windows: reverse SDE and AIS only) or at least 2 Gauss-Legendre nodes; one node is the \
                 midpoint rule, whose quadrature error on the t-integrand (which varies by tens to hundreds of kT \
                 over t) is neither small nor estimated",
            ));
        }
        if ti.window_rule == WindowRule::ClenshawCurtis && ti.windows > 0 && ti.windows % 2 == 0 {
            return Err(ConfigError::invalid(
                "ti",
                "windows",
                ti.windows,
                "an odd number of windows (>= 3) with window_rule = \"clenshaw-curtis\": its half rule, the \
                 error estimate, uses every other node (e.g. 13 or 25)",
            ));
        }
        if ti.windows > 0 {
            let off = "or windows = 0 to switch the corrected windows off";
            if ti.window_chains == 0 {
                return Err(ConfigError::invalid(
                    "ti",
                    "window_chains",
                    0,
                    format!("at least 1 MALA chain per window with windows = {} ({off})", ti.windows),
                ));
            }
            if ti.window_start != WindowStart::ReverseSde && ti.window_data.is_empty() {
                return Err(ConfigError::invalid(
                    "ti",
                    "window_data",
                    "[]",
                    format!(
                        "the nti sample results files to start from with window_start = \"{}\", e.g. \
                         window_data = [\"lj_n200.h5\"] (or window_start = \"reverse-sde\")",
                        if ti.window_start == WindowStart::Data { "data" } else { "both" }
                    ),
                ));
            }
            if ti.window_start == WindowStart::ReverseSde && !ti.window_data.is_empty() {
                return Err(ConfigError::invalid(
                    "ti",
                    "window_start",
                    "\"reverse-sde\"",
                    "\"data\" or \"both\" when window_data is given (reverse-SDE starts would not use it)",
                ));
            }
            if ti.window_start == WindowStart::Both && ti.window_chains < 2 {
                return Err(ConfigError::invalid(
                    "ti",
                    "window_chains",
                    ti.window_chains,
                    "at least 2 with window_start = \"both\" (one chain from data, one from the reverse SDE)",
                ));
            }
            if ti.window_sampler == ChainKind::Hmc && ti.hmc_leapfrog == 0 {
                return Err(ConfigError::invalid(
                    "ti",
                    "hmc_leapfrog",
                    0,
                    "at least 1 leapfrog step per HMC proposal (1 is MALA; about 10 moves dense liquids)",
                ));
            }
            if ti.window_stride == 0 {
                return Err(ConfigError::invalid(
                    "ti",
                    "window_stride",
                    0,
                    format!("a positive number of MALA steps between recorded samples ({off})"),
                ));
            }
            if ti.window_steps < 2 * ti.window_stride {
                return Err(ConfigError::invalid(
                    "ti",
                    "window_steps",
                    ti.window_steps,
                    format!(
                        "at least 2 * window_stride = {} MALA steps: two recorded samples per chain ({off})",
                        2 * ti.window_stride
                    ),
                ));
            }
            if !(ti.target_acceptance > 0.0 && ti.target_acceptance < 1.0) {
                return Err(ConfigError::invalid(
                    "ti",
                    "target_acceptance",
                    ti.target_acceptance,
                    "a MALA acceptance ratio in (0, 1)",
                ));
            }
        }
        if !(ti.mala_eps > 0.0 && ti.mala_eps.is_finite()) {
            return Err(ConfigError::invalid("ti", "mala_eps", ti.mala_eps, "a positive MALA step size"));
        }
        if ti.ais_chains == 1 {
            return Err(ConfigError::invalid(
                "ti",
                "ais_chains",
                1,
                "0 (no annealed importance sampling) or at least 2 chains (the error bar needs two)",
            ));
        }
        if ti.ais_chains > 0 && ti.ais_switches == 0 {
            return Err(ConfigError::invalid(
                "ti",
                "ais_switches",
                0,
                format!(
                    "at least 1 energy switch from t = 1 to 0 with ais_chains = {} (or ais_chains = 0 to switch \
                     AIS off)",
                    ti.ais_chains
                ),
            ));
        }
        Ok(())
    }

    fn validate_baseline(&self) -> Result<(), ConfigError> {
        let b = &self.baseline;
        match b.spacing {
            Spacing::Uniform if b.windows < 2 => {
                return Err(ConfigError::invalid(
                    "baseline",
                    "windows",
                    b.windows,
                    "at least 2 windows with spacing = \"uniform\" (the trapezoid rule needs both end states, \
                     lambda = 0 and 1)",
                ))
            }
            Spacing::GaussLegendre if b.windows == 0 => {
                return Err(ConfigError::invalid(
                    "baseline",
                    "windows",
                    0,
                    "at least 1 window with spacing = \"gauss-legendre\"",
                ))
            }
            Spacing::GaussLegendre if b.mbar => {
                return Err(ConfigError::invalid(
                    "baseline",
                    "mbar",
                    true,
                    "false with spacing = \"gauss-legendre\": MBAR needs samples of the end states lambda = 0 \
                     and 1, which Gauss-Legendre nodes exclude (use spacing = \"uniform\" for MBAR)",
                ))
            }
            _ => {}
        }
        if b.stride == 0 {
            return Err(ConfigError::invalid(
                "baseline",
                "stride",
                0,
                "a positive number of MC sweeps between samples",
            ));
        }
        if b.production < 2 * b.stride {
            return Err(ConfigError::invalid(
                "baseline",
                "production",
                b.production,
                format!("at least 2 * stride = {} MC sweeps: two samples per window", 2 * b.stride),
            ));
        }
        Ok(())
    }

    /// What `nti generate` and `nti ti` need of `[generate]` beyond [`Config::validate`]: a model
    /// file, at least one N and the box side; returns the box side.
    pub fn require_generate(&self) -> Result<f64, ConfigError> {
        let g = &self.generate;
        if g.model.trim().is_empty() {
            return Err(ConfigError::Missing {
                section: "generate".into(),
                key: "model".into(),
                expected: "the path of a trained model, e.g. model = \"train.h5\" (an nti train results file or \
                           its checkpoint)"
                    .into(),
            });
        }
        if g.n_particles.is_empty() {
            return Err(ConfigError::invalid(
                "generate",
                "n_particles",
                "[]",
                "a non-empty list of particle numbers, e.g. n_particles = [60, 120] (an absent key is an empty list)",
            ));
        }
        g.box_side.ok_or_else(|| ConfigError::Missing {
            section: "generate".into(),
            key: "box_side".into(),
            expected: "the side L (sigma) of the cubic box every N is simulated in, e.g. box_side = 6.0".into(),
        })
    }
}
