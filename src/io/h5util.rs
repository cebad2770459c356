//! Small helpers over the hdf5 crate: string and scalar attributes, n-d datasets.

use anyhow::{Context, Result};
use hdf5::types::VarLenUnicode;
use hdf5::{Dataset, Group, Location};
use ndarray::{ArrayD, IxDyn};

/// Writes a UTF-8 string attribute.
pub fn set_str(loc: &Location, name: &str, value: &str) -> Result<()> {
    let v: VarLenUnicode = value.replace('\0', "").parse().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    loc.new_attr::<VarLenUnicode>().create(name)?.write_scalar(&v)?;
    Ok(())
}

/// Writes an f64 attribute.
pub fn set_f64(loc: &Location, name: &str, value: f64) -> Result<()> {
    loc.new_attr::<f64>().create(name)?.write_scalar(&value)?;
    Ok(())
}

/// Writes an i64 attribute.
pub fn set_i64(loc: &Location, name: &str, value: i64) -> Result<()> {
    loc.new_attr::<i64>().create(name)?.write_scalar(&value)?;
    Ok(())
}

/// Reads a string attribute.
pub fn get_str(loc: &Location, name: &str) -> Result<String> {
    let v: VarLenUnicode = loc.attr(name).with_context(|| format!("attribute '{name}'"))?.read_scalar()?;
    Ok(v.as_str().to_string())
}

/// Reads an f64 attribute.
pub fn get_f64(loc: &Location, name: &str) -> Result<f64> {
    Ok(loc.attr(name).with_context(|| format!("attribute '{name}'"))?.read_scalar()?)
}

/// Reads an i64 attribute.
pub fn get_i64(loc: &Location, name: &str) -> Result<i64> {
    Ok(loc.attr(name).with_context(|| format!("attribute '{name}'"))?.read_scalar()?)
}

/// Writes `data` (row-major) as an f64 dataset of the given shape.
pub fn write_f64(g: &Group, name: &str, shape: &[usize], data: &[f64]) -> Result<Dataset> {
    let arr = ArrayD::from_shape_vec(IxDyn(shape), data.to_vec())
        .with_context(|| format!("dataset '{name}': {} values do not fit shape {shape:?}", data.len()))?;
    Ok(g.new_dataset_builder().with_data(&arr).create(name)?)
}

/// Creates `path` as nested groups (like `mkdir -p`).
pub fn group_p(root: &Group, path: &str) -> Result<Group> {
    let mut g = root.clone();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        g = match g.group(part) {
            Ok(x) => x,
            Err(_) => g.create_group(part)?,
        };
    }
    Ok(g)
}
