//! Scalar results: one group per result under `/results`, attributes name, method,
//! n_particles, temperature, density, value, stderr, units (and optional notes).

use super::h5util::{get_f64, get_i64, get_str, set_f64, set_i64, set_str};
use anyhow::Result;
use hdf5::Group;
use serde::Serialize;

/// One scalar result with its standard error (NaN when not defined; `null` in JSON).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScalarResult {
    /// What was measured (e.g. "potential_energy_per_particle", "beta_mu_ex").
    pub name: String,
    /// How (e.g. "mc", "langevin", "widom").
    pub method: String,
    /// Number of particles.
    pub n_particles: usize,
    /// Temperature (epsilon / k_B).
    pub temperature: f64,
    /// Number density (sigma^-3).
    pub density: f64,
    /// Value.
    #[serde(serialize_with = "nan_as_null")]
    pub value: f64,
    /// Standard error.
    #[serde(serialize_with = "nan_as_null")]
    pub stderr: f64,
    /// Units ("epsilon", "epsilon/sigma^3", "kT", "1", ...).
    pub units: String,
}

fn nan_as_null<S: serde::Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.is_finite() {
        s.serialize_f64(*v)
    } else {
        s.serialize_none()
    }
}

impl ScalarResult {
    /// Group name under `/results`: name, method and N, unique per result.
    pub fn key(&self) -> String {
        format!("{}__{}__N{}", self.name, self.method, self.n_particles)
    }

    /// Writes this result as a group under `results`.
    pub fn write(&self, results: &Group) -> Result<()> {
        let g = results.create_group(&self.key())?;
        set_str(&g, "name", &self.name)?;
        set_str(&g, "method", &self.method)?;
        set_i64(&g, "n_particles", self.n_particles as i64)?;
        set_f64(&g, "temperature", self.temperature)?;
        set_f64(&g, "density", self.density)?;
        set_f64(&g, "value", self.value)?;
        set_f64(&g, "stderr", self.stderr)?;
        set_str(&g, "units", &self.units)?;
        Ok(())
    }

    /// Reads a result group.
    pub fn read(g: &Group) -> Result<Self> {
        Ok(Self {
            name: get_str(g, "name")?,
            method: get_str(g, "method")?,
            n_particles: get_i64(g, "n_particles")? as usize,
            temperature: get_f64(g, "temperature")?,
            density: get_f64(g, "density")?,
            value: get_f64(g, "value")?,
            stderr: get_f64(g, "stderr")?,
            units: get_str(g, "units")?,
        })
    }
}
