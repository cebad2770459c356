//! Particle numbers: the density limit of a box and the check of the lists of N in `[generate]`
//! and `[pipeline]`.

use super::ConfigError;

/// Highest number density a box is filled to: N / L^3 <= 0.95 (the densest LJ liquid states of the
/// NIST table and the paper; denser systems freeze and are not what the model or the baselines are for).
pub const MAX_DENSITY: f64 = 0.95;

/// The largest N a cubic box of side `side` takes at density <= [`MAX_DENSITY`].
pub fn max_particles(side: f64) -> usize {
    (MAX_DENSITY * side.powi(3)).floor() as usize
}

/// A length for messages: at most 6 decimals, without trailing zeros.
fn short(x: f64) -> String {
    let s = format!("{x:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
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
