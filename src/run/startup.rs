//! What every rank does before any work: load the input, agree that every rank loaded it, agree
//! that every rank has the same effective input (MPMD launches with another density or seed on
//! one rank would otherwise run silently and label the results with rank 0's values), and check
//! the memory estimate of the command's stages against the memory available.

use super::memory;
use crate::config::Input;
use crate::exit::BadInput;
use crate::parallel::Comm;
use anyhow::Result;
use std::path::Path;

/// Loads and validates the input on every rank (collective). Fails on every rank, with the error
/// printed by the rank(s) that had it, when any rank cannot load it, when the ranks' effective
/// inputs differ, or when the run would not fit in memory.
pub fn load_input(comm: &Comm, config: &Path, set: &[String], command: &str, need_system: bool) -> Result<Input> {
    let local = Input::load(config, set).and_then(|i| {
        if need_system {
            i.config.require_system()?;
        }
        Ok(i)
    });
    let input = comm.agree(local.map_err(anyhow::Error::from))?;
    if comm.size() > 1 {
        comm.agree(same_as_root(comm, &input))?;
    }
    let stages = memory::stages(&input.config, command);
    for s in &stages {
        log::debug!("nti {}: peak memory estimate {}", s.stage, memory::show(s.bytes));
    }
    comm.agree(memory::check(&stages, memory::available()).map_err(anyhow::Error::from))?;
    Ok(input)
}

/// Compares this rank's effective input with every other rank's: the lowest rank whose input
/// differs from rank 0's sends its text to all, and every rank reports the first difference.
fn same_as_root(comm: &Comm, input: &Input) -> Result<()> {
    let mine = input.effective_toml();
    let root = comm.broadcast_bytes(0, mine.as_bytes());
    let differs = root != mine.as_bytes();
    let size = comm.size() as i64;
    let first = comm.all_reduce_max_i64(if differs { size - comm.rank() as i64 } else { 0 });
    if first == 0 {
        return Ok(());
    }
    let count = comm.all_reduce_sum(&[differs as u8 as f64])[0] as usize;
    let k = (size - first) as usize;
    let other = comm.broadcast_bytes(k, mine.as_bytes());
    let (a, b) = (String::from_utf8_lossy(&root), String::from_utf8_lossy(&other));
    let more = if count > 1 { format!(" (and {} more ranks differ)", count - 1) } else { String::new() };
    Err(BadInput(format!(
        "the effective input of rank {k} differs from rank 0's{more}: {}; every rank must run the same \
         input (same file, same --set overrides)",
        first_difference(&a, &b, k)
    ))
    .into())
}

/// The first key (in sorted `section.key` order) whose values differ between rank 0's effective
/// input `a` and rank `k`'s `b`, with both values.
pub fn first_difference(a: &str, b: &str, k: usize) -> String {
    let (ta, tb): (toml::Table, toml::Table) = match (a.parse(), b.parse()) {
        (Ok(x), Ok(y)) => (x, y),
        _ => return "the inputs differ (not comparable key by key)".into(),
    };
    let show = |v: Option<&toml::Value>| v.map_or("(absent)".to_string(), |v| v.to_string());
    match diff(&ta, &tb, "") {
        Some((key, va, vb)) => format!("{key} = {} on rank 0, {} on rank {k}", show(va.as_ref()), show(vb.as_ref())),
        None => "the inputs differ in formatting only".into(),
    }
}

/// Depth-first comparison of two tables in sorted key order: (dotted key, value in a, value in b).
fn diff(a: &toml::Table, b: &toml::Table, prefix: &str) -> Option<(String, Option<toml::Value>, Option<toml::Value>)> {
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        let name = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match (a.get(k), b.get(k)) {
            (Some(toml::Value::Table(x)), Some(toml::Value::Table(y))) => {
                if let Some(d) = diff(x, y, &name) {
                    return Some(d);
                }
            }
            (x, y) if x != y => return Some((name, x.cloned(), y.cloned())),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_difference_names_the_dotted_key_and_both_values() {
        let a = "[run]\nseed = 1\n[system]\ndensity = 0.6\nn_particles = 10\n";
        let b = "[run]\nseed = 1\n[system]\ndensity = 0.7\nn_particles = 12\n";
        assert_eq!(first_difference(a, b, 1), "system.density = 0.6 on rank 0, 0.7 on rank 1");
        let c = "[run]\nseed = 1\n";
        assert_eq!(
            first_difference(c, a, 2),
            "system = (absent) on rank 0, { density = 0.6, n_particles = 10 } on rank 2"
        );
        assert_eq!(first_difference(a, a, 1), "the inputs differ in formatting only");
    }
}
