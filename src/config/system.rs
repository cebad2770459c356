//! `[system]`: what is simulated (particle model, N, density, temperature, interaction cutoff), its
//! defaults and its checks.

use super::positive;
use super::ConfigError;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// Which system is simulated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SystemKind {
    /// Lennard-Jones particles, u(r) = 4 (r^-12 - r^-6).
    #[default]
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

impl Default for Cutoff {
    /// r_c = 3.0 sigma.
    fn default() -> Self {
        Cutoff::Radius(3.0)
    }
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
    #[serde(default)]
    pub kind: SystemKind,
    /// Number of particles N (required, >= 2).
    pub n_particles: usize,
    /// Number density rho = N / V in sigma^-3 (required, > 0); box side L = (N/rho)^(1/3).
    pub density: f64,
    /// Temperature T in epsilon / k_B (required, > 0).
    pub temperature: f64,
    /// Spherical cutoff r_c in sigma (<= L/2) or "min-image". Default 3.0.
    #[serde(default)]
    pub cutoff: Cutoff,
    /// Shift the potential to zero at r_c. Default false.
    #[serde(default)]
    pub shift: bool,
    /// Analytic long-range corrections (unshifted spherical cutoff only). Default true.
    #[serde(default = "tail_correction_default")]
    pub tail_correction: bool,
}

fn tail_correction_default() -> bool {
    true
}

impl Default for SystemConfig {
    /// The optional keys at their defaults; the required ones (N, density, temperature) at 0.
    fn default() -> Self {
        Self {
            kind: SystemKind::default(),
            n_particles: 0,
            density: 0.0,
            temperature: 0.0,
            cutoff: Cutoff::default(),
            shift: false,
            tail_correction: tail_correction_default(),
        }
    }
}

impl SystemConfig {
    /// Box side L = (N / rho)^(1/3).
    pub fn box_side(&self) -> f64 {
        (self.n_particles as f64 / self.density).cbrt()
    }

    /// N >= 2, positive density and temperature, and a cutoff that fits the box (a radius <= L/2
    /// or "min-image") with a consistent shift / tail-correction choice.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.n_particles < 2 {
            return Err(ConfigError::invalid("system", "n_particles", self.n_particles, "at least 2 particles"));
        }
        positive("system", "density", self.density, "number density in sigma^-3")?;
        positive("system", "temperature", self.temperature, "temperature in epsilon/k_B")?;
        let l = self.box_side();
        match self.cutoff {
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
                if self.shift && self.tail_correction {
                    return Err(ConfigError::invalid(
                        "system",
                        "tail_correction",
                        true,
                        "false when shift = true (tail corrections assume the unshifted truncated potential)",
                    ));
                }
            }
            Cutoff::MinImage => {
                if self.shift || self.tail_correction {
                    let key = if self.shift { "shift" } else { "tail_correction" };
                    return Err(ConfigError::invalid(
                        "system",
                        key,
                        true,
                        "false with cutoff = \"min-image\" (no spherical cutoff to shift or correct)",
                    ));
                }
            }
        }
        Ok(())
    }
}
