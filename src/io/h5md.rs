//! H5MD 1.1 (de Buyl, Colberg & Höfling, Comput. Phys. Commun. 185, 1546 (2014)):
//! `/h5md` metadata, `/particles/<group>/{position,box}`, `/observables/<group>/<name>`.
//! Time-dependent elements hold `value` (frames first), `step` and `time`.

use super::h5util::{group_p, set_str, write_f64};
use anyhow::Result;
use hdf5::File;

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

/// Writes positions (F frames of N particles, flattened (F, N, 3)) and the cubic box of side `l`
/// as `/particles/<name>`.
pub fn write_trajectory(
    f: &File,
    name: &str,
    frames: &[f64],
    n: usize,
    l: f64,
    step: &[f64],
    time: &[f64],
) -> Result<()> {
    let g = group_p(f, &format!("particles/{name}"))?;
    let b = g.create_group("box")?;
    b.new_attr::<i32>().create("dimension")?.write_scalar(&3)?;
    let periodic: hdf5::types::VarLenUnicode = "periodic".parse().expect("ascii");
    b.new_attr::<hdf5::types::VarLenUnicode>().shape([3]).create("boundary")?.write(&[
        periodic.clone(),
        periodic.clone(),
        periodic,
    ])?;
    write_f64(&b, "edges", &[3], &[l, l, l])?;
    let p = g.create_group("position")?;
    let nf = if n == 0 { 0 } else { frames.len() / (3 * n) };
    write_f64(&p, "value", &[nf, n, 3], frames)?;
    write_steps(&p, step, time)?;
    Ok(())
}

/// Writes a scalar time series as `/observables/<path>/{value,step,time}`.
pub fn write_observable(f: &File, path: &str, value: &[f64], step: &[f64], time: &[f64]) -> Result<()> {
    let g = group_p(f, &format!("observables/{path}"))?;
    write_f64(&g, "value", &[value.len()], value)?;
    write_steps(&g, step, time)?;
    Ok(())
}

fn write_steps(g: &hdf5::Group, step: &[f64], time: &[f64]) -> Result<()> {
    let s: Vec<i64> = step.iter().map(|&x| x as i64).collect();
    g.new_dataset_builder().with_data(&s[..]).create("step")?;
    write_f64(g, "time", &[time.len()], time)?;
    Ok(())
}
