//! H5MD 1.1 (de Buyl, Colberg & Höfling, Comput. Phys. Commun. 185, 1546 (2014)):
//! `/h5md` metadata, `/particles/<group>/{position,box}`, `/observables/<group>/<name>`.
//! Time-dependent elements hold `value` (frames first), `step` and `time`.
//!
//! The layout is the one MDAnalysis's H5MD reader (2.x) accepts as written: the box edges are a
//! time-dependent element (`box/edges/{value,step,time}`, value (frames, 3)), and every member of
//! `/observables` is a time series with as many entries as the trajectory has frames (the reader
//! attaches `value[frame]` to each frame), so anything that is not a time series lives outside
//! `/observables` (e.g. `/rdf`).
//!
//! Units (docs/design.md, "Files"): nti works in reduced Lennard-Jones units. `step` datasets and
//! observables carry the H5MD `unit` attribute ("1", "epsilon", "epsilon sigma-3", "tau",
//! "sweep", ...). The four datasets MDAnalysis converts (`position/value`, `position/time`,
//! `box/edges/value`, `box/edges/time`) carry the same string as `reduced_unit` instead: H5MD makes
//! `unit` optional, and MDAnalysis refuses any `unit` outside its table of physical units (nm,
//! Angstrom, ps, ...) even with `convert_units=False`, so a reduced unit there would make the file
//! unreadable. Open with `convert_units=False` (positions then stay in sigma).

use super::h5util::{group_p, set_str, write_f64};
use anyhow::Result;
use hdf5::types::VarLenAscii;
use hdf5::{File, Location};

/// Unit of positions and box edges.
pub const LENGTH_UNIT: &str = "sigma";

/// Writes the H5MD `unit` attribute (a variable-length ASCII string, read as `str` by h5py).
pub fn set_unit(loc: &Location, unit: &str) -> Result<()> {
    set_ascii(loc, "unit", unit)
}

/// Writes `reduced_unit`, the unit of a dataset that must not carry `unit` (see the module doc).
fn set_reduced_unit(loc: &Location, unit: &str) -> Result<()> {
    set_ascii(loc, "reduced_unit", unit)
}

fn set_ascii(loc: &Location, name: &str, value: &str) -> Result<()> {
    let v = VarLenAscii::from_ascii(value).map_err(|e| anyhow::anyhow!("unit '{value}' is not ASCII: {e:?}"))?;
    loc.new_attr::<VarLenAscii>().create(name)?.write_scalar(&v)?;
    Ok(())
}

/// Writes the `/h5md` group (version 1.1, author, creator).
pub fn write_header(f: &File) -> Result<()> {
    let h = f.create_group("h5md")?;
    h.new_attr::<i32>().shape([2]).create("version")?.write(&[1, 1])?;
    let author = h.create_group("author")?;
    set_str(&author, "name", &std::env::var("USER").unwrap_or_else(|_| "unknown".into()))?;
    let creator = h.create_group("creator")?;
    set_str(&creator, "name", "nti")?;
    set_str(&creator, "version", crate::VERSION)?;
    Ok(())
}

/// Frames of one particle group: positions (F frames of N particles, flattened (F, N, 3), in
/// sigma) in a cubic box of side `side`, recorded at `step` and `time` (unit `time_unit`).
pub struct Trajectory<'a> {
    /// Flattened positions.
    pub frames: &'a [f64],
    /// Particles per frame.
    pub n: usize,
    /// Box side (sigma), the same in every frame.
    pub side: f64,
    /// Step of each frame.
    pub step: &'a [f64],
    /// Time of each frame.
    pub time: &'a [f64],
    /// Unit of `time` ("tau" for dynamics, "sweep" for Monte Carlo, "1" where there is no time).
    pub time_unit: &'a str,
}

/// Writes `t` as `/particles/<name>`: `position` and `box` (periodic, cubic; `edges` a time series
/// whose `step` and `time` are hard links to the position's).
pub fn write_trajectory(f: &File, name: &str, t: &Trajectory) -> Result<()> {
    let root = format!("particles/{name}");
    let g = group_p(f, &root)?;
    let p = g.create_group("position")?;
    let nf = if t.n == 0 { 0 } else { t.frames.len() / (3 * t.n) };
    let v = write_f64(&p, "value", &[nf, t.n, 3], t.frames)?;
    set_reduced_unit(&v, LENGTH_UNIT)?;
    let time = write_steps(&p, t.step, t.time)?;
    set_reduced_unit(&time, t.time_unit)?;

    let b = g.create_group("box")?;
    b.new_attr::<i32>().create("dimension")?.write_scalar(&3)?;
    let periodic: hdf5::types::VarLenUnicode = "periodic".parse().expect("ascii");
    b.new_attr::<hdf5::types::VarLenUnicode>().shape([3]).create("boundary")?.write(&[
        periodic.clone(),
        periodic.clone(),
        periodic,
    ])?;
    let e = b.create_group("edges")?;
    let edges: Vec<f64> = (0..nf).flat_map(|_| [t.side; 3]).collect();
    let v = write_f64(&e, "value", &[nf, 3], &edges)?;
    set_reduced_unit(&v, LENGTH_UNIT)?;
    e.link_hard(&format!("/{root}/position/step"), "step")?;
    e.link_hard(&format!("/{root}/position/time"), "time")?;
    Ok(())
}

/// Writes a scalar time series as `/observables/<path>/{value,step,time}` with the unit of its
/// values and of its time.
pub fn write_observable(
    f: &File,
    path: &str,
    value: &[f64],
    unit: &str,
    step: &[f64],
    time: &[f64],
    time_unit: &str,
) -> Result<()> {
    let g = group_p(f, &format!("observables/{path}"))?;
    let v = write_f64(&g, "value", &[value.len()], value)?;
    set_unit(&v, unit)?;
    let t = write_steps(&g, step, time)?;
    set_unit(&t, time_unit)?;
    Ok(())
}

/// Writes `step` (integers, unit "1") and `time`; returns the `time` dataset for its unit.
fn write_steps(g: &hdf5::Group, step: &[f64], time: &[f64]) -> Result<hdf5::Dataset> {
    let s: Vec<i64> = step.iter().map(|&x| x as i64).collect();
    let sd = g.new_dataset_builder().with_data(&s[..]).create("step")?;
    set_unit(&sd, "1")?;
    write_f64(g, "time", &[time.len()], time)
}
