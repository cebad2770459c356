//! MBAR over the Metropolis-corrected t-windows of `nti ti` (issue 25): every recorded sample of
//! every window is used at every t, instead of window j's samples at its node t_j only.
//!
//! States: s_0 = 0 (u = beta U_LJ, the system), the K window nodes t_1 < ... < t_K, and
//! s_{K+1} = 1 (the ideal gas, u = 0 in fractional coordinates); [`mbar_times`]. Window j samples
//! state j + 1; the end states are unsampled (N = 0, [`super::mbar_unsampled`]). Each window's
//! chains record u(x, s_l) at every s_l for each recorded sample; per chain the discarded
//! equilibration (`[ti] window_discard`) is left out and the rest thinned by the window's
//! statistical inefficiency g ([`super::subsample::subsample_indices`], as the baseline's MBAR).
//! Then f_s = -ln Z_s and
//!   beta A_ex = -ln(Z_0 / Z_1) = f_0 - f_{K+1},
//! the same quantity as the windows' quadrature -sum_j w_j <du/dt>_j, with MBAR's asymptotic
//! standard error of the difference. Any x-independent gauge g(t) of a learned u_t shifts f at the
//! nodes only; the end states, where the model is exact, carry none, so it cancels.

use super::mbar::MbarResult;
use super::mbar_unsampled::mbar_with_unsampled;
use super::subsample::subsample_indices;
use anyhow::{bail, ensure, Result};
use ndarray::Array2;

/// The reduced energies one window recorded: for each of its chains' recorded samples (chain by
/// chain, the whole production, discarded start included) u(x, s) at every time of
/// [`mbar_times`], sample by sample.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowEnergies {
    /// Recorded samples per chain, in chain order.
    pub per_chain: Vec<usize>,
    /// Samples discarded from the start of each chain as its equilibration.
    pub discarded: Vec<usize>,
    /// The window's statistical inefficiency (of its du/dt; NaN or < 1 keep every sample).
    pub stat_ineff: f64,
    /// u(x, s_l), `times` values per sample, samples in chain order.
    pub u: Vec<f64>,
}

impl WindowEnergies {
    /// Flat buffer: [chains, stat. ineff., samples per chain..., discarded per chain..., u...].
    pub fn to_buffer(&self) -> Vec<f64> {
        let mut b = vec![self.per_chain.len() as f64, self.stat_ineff];
        b.extend(self.per_chain.iter().chain(&self.discarded).map(|&v| v as f64));
        b.extend_from_slice(&self.u);
        b
    }

    /// Reads [`WindowEnergies::to_buffer`]'s layout, or says why it does not fit.
    pub fn from_buffer(b: &[f64]) -> Result<Self> {
        ensure!(!b.is_empty(), "window energies: empty buffer");
        let c = b[0] as usize;
        ensure!(b.len() >= 2 + 2 * c, "window energies: buffer of {} values for {c} chains", b.len());
        let counts: Vec<usize> = b[2..2 + 2 * c].iter().map(|&v| v as usize).collect();
        Ok(Self {
            per_chain: counts[..c].to_vec(),
            discarded: counts[c..].to_vec(),
            stat_ineff: b[1],
            u: b[2 + 2 * c..].to_vec(),
        })
    }
}

/// The MBAR estimate over the windows.
#[derive(Clone, Debug)]
pub struct WindowMbar {
    /// The states' times: 0, the nodes, 1.
    pub times: Vec<f64>,
    /// Samples per state after discard and thinning (0 at the end states).
    pub n_k: Vec<usize>,
    /// beta A_ex = f(t = 0) - f(t = 1) and its asymptotic standard error (kT).
    pub value: f64,
    /// Its standard error.
    pub stderr: f64,
    /// The MBAR solution over all states (f relative to t = 0).
    pub mbar: MbarResult,
}

impl WindowMbar {
    /// The smallest overlap O_{j, j+1} between neighbouring sampled states (the nodes): MBAR's
    /// asymptotic error is not reliable when it is tiny.
    pub fn min_neighbour_overlap(&self) -> f64 {
        let k = self.times.len();
        (1..k.saturating_sub(2)).map(|j| self.mbar.overlap[[j, j + 1]]).fold(f64::INFINITY, f64::min)
    }
}

/// The states of MBAR over windows at `nodes`: 0, the nodes, 1.
pub fn mbar_times(nodes: &[f64]) -> Vec<f64> {
    std::iter::once(0.0).chain(nodes.iter().copied()).chain(std::iter::once(1.0)).collect()
}

/// u_kn (states x kept samples) and N_k from the windows' energies (window j sampling state j + 1
/// of `states` states): per chain the discarded start dropped, the rest thinned by the window's g.
pub fn assemble(states: usize, windows: &[WindowEnergies]) -> Result<(Array2<f64>, Vec<usize>)> {
    ensure!(windows.len() + 2 == states, "MBAR over windows: {} windows for {states} states", windows.len());
    let mut cols: Vec<&[f64]> = Vec::new();
    let mut n_k = vec![0; states];
    for (j, w) in windows.iter().enumerate() {
        let total: usize = w.per_chain.iter().sum();
        if w.u.len() != total * states || w.discarded.len() != w.per_chain.len() {
            bail!(
                "MBAR over windows: window {j} has {} energies for {total} samples at {states} times and {} \
                 discards for {} chains",
                w.u.len(),
                w.discarded.len(),
                w.per_chain.len()
            );
        }
        let samples: Vec<&[f64]> = w.u.chunks_exact(states).collect();
        let mut first = 0;
        for (&len, &t0) in w.per_chain.iter().zip(&w.discarded) {
            ensure!(t0 <= len, "MBAR over windows: window {j} discards {t0} of a chain's {len} samples");
            let kept = &samples[first + t0..first + len];
            let thinned = subsample_indices(kept.len(), w.stat_ineff);
            n_k[j + 1] += thinned.len();
            cols.extend(thinned.into_iter().map(|i| kept[i]));
            first += len;
        }
    }
    let mut u = Array2::zeros((states, cols.len()));
    for (c, col) in cols.iter().enumerate() {
        for (s, &v) in col.iter().enumerate() {
            u[[s, c]] = v;
        }
    }
    Ok((u, n_k))
}

/// MBAR over windows at `nodes` with their recorded energies (window order = node order).
pub fn window_mbar(nodes: &[f64], windows: &[WindowEnergies]) -> Result<WindowMbar> {
    let times = mbar_times(nodes);
    let (u, n_k) = assemble(times.len(), windows)?;
    let r = mbar_with_unsampled(&u, &n_k, 1e-10, 200)?;
    let last = times.len() - 1;
    // f is relative to f(t = 0) = 0: beta A_ex = f_0 - f_last = -f_last.
    Ok(WindowMbar { value: -r.f[last], stderr: r.df[[0, last]], times, n_k, mbar: r })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Energies of 2 windows at 4 states from per-sample rows (`u` of each sample at s_0..s_3).
    fn win(chains: &[&[[f64; 4]]], discarded: &[usize], g: f64) -> WindowEnergies {
        WindowEnergies {
            per_chain: chains.iter().map(|c| c.len()).collect(),
            discarded: discarded.to_vec(),
            stat_ineff: g,
            u: chains.iter().flat_map(|c| c.iter().flatten().copied()).collect(),
        }
    }

    /// BAR's free-energy difference f_b - f_a between two states from samples of each
    /// (energies of a's samples in a and b, and of b's): the root of the self-consistent equation
    /// sum_a 1 / (1 + N_a/N_b exp(du_a - df)) = sum_b 1 / (1 + N_b/N_a exp(-du_b + df)), by bisection.
    fn bar(a: &[(f64, f64)], b: &[(f64, f64)]) -> f64 {
        let (na, nb) = (a.len() as f64, b.len() as f64);
        let g = |df: f64| {
            let l: f64 = a.iter().map(|(ua, ub)| 1.0 / (1.0 + na / nb * (ub - ua - df).exp())).sum();
            let r: f64 = b.iter().map(|(ua, ub)| 1.0 / (1.0 + nb / na * (ua - ub + df).exp())).sum();
            l - r
        };
        let (mut lo, mut hi) = (-50.0, 50.0);
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if (g(mid) > 0.0) == (g(lo) > 0.0) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        0.5 * (lo + hi)
    }

    #[test]
    fn two_windows_give_bar_between_them_and_exponential_averages_to_the_ends() {
        // Window 1 (state 1): chain A of 3 samples, its first discarded as equilibration (with a
        // wild energy that would dominate if kept), chain B of 2 samples. Window 2 (state 2): one
        // chain of 4 samples thinned by g = 2 to samples 0 and 2 (samples 1 and 3 are wild).
        let wild = [40.0, -30.0, 25.0, -20.0];
        let w1 = win(&[&[wild, [1.0, 0.2, 0.9, 0.0], [1.4, 0.5, 0.6, 0.0]], &[[0.8, 0.1, 1.1, 0.0]]], &[1, 0], 1.0);
        let w2 = win(&[&[[1.5, 0.7, 0.3, 0.0], wild, [0.9, 0.4, 0.1, 0.0], wild]], &[0], 2.0);
        let (u, n_k) = assemble(4, &[w1.clone(), w2.clone()]).unwrap();
        assert_eq!(n_k, vec![0, 3, 2, 0]);
        assert_eq!(u.column(0).to_vec(), vec![1.0, 0.2, 0.9, 0.0]);
        assert_eq!(u.column(2).to_vec(), vec![0.8, 0.1, 1.1, 0.0]);
        assert_eq!(u.column(4).to_vec(), vec![0.9, 0.4, 0.1, 0.0]);
        let r = window_mbar(&[0.3, 0.7], &[w1, w2]).unwrap();
        assert_eq!(r.times, vec![0.0, 0.3, 0.7, 1.0]);
        // Hand computation: f_2 - f_1 by BAR over the kept samples; each end state by the MBAR
        // denominators D_n = N_1 exp(f_1 - u_1n) + N_2 exp(f_2 - u_2n): f_e = -ln sum_n exp(-u_en) / D_n.
        let kept = [
            [1.0, 0.2, 0.9, 0.0],
            [1.4, 0.5, 0.6, 0.0],
            [0.8, 0.1, 1.1, 0.0],
            [1.5, 0.7, 0.3, 0.0],
            [0.9, 0.4, 0.1, 0.0],
        ];
        let a: Vec<(f64, f64)> = kept[..3].iter().map(|s| (s[1], s[2])).collect();
        let b: Vec<(f64, f64)> = kept[3..].iter().map(|s| (s[1], s[2])).collect();
        let d21 = bar(&a, &b);
        let (f1, f2) = (0.0, d21);
        let f_end = |e: usize| {
            -kept.iter().map(|s| (-s[e]).exp() / (3.0 * (f1 - s[1]).exp() + 2.0 * (f2 - s[2]).exp())).sum::<f64>().ln()
        };
        let (f0, f3) = (f_end(0), f_end(3));
        assert!(((r.mbar.f[2] - r.mbar.f[1]) - d21).abs() < 1e-8, "BAR {d21}, MBAR {:?}", r.mbar.f);
        assert!((r.value - (f0 - f3)).abs() < 1e-8, "beta A_ex {} against {}", r.value, f0 - f3);
        assert!(r.stderr > 0.0 && r.stderr.is_finite());
    }

    #[test]
    fn buffers_round_trip() {
        let w = win(&[&[[1.0, 0.2, 0.9, 0.0], [1.5, 0.7, 0.3, 0.0]], &[[0.8, 0.1, 1.1, 0.0]]], &[1, 0], 2.5);
        assert_eq!(WindowEnergies::from_buffer(&w.to_buffer()).unwrap(), w);
        assert!(WindowEnergies::from_buffer(&[3.0, 1.0]).is_err());
    }

    #[test]
    fn inconsistent_energies_are_refused() {
        let w = win(&[&[[1.0, 0.2, 0.9, 0.0]]], &[0], 1.0);
        let short = WindowEnergies { u: vec![1.0; 3], ..w.clone() };
        assert!(assemble(4, &[w.clone(), short]).unwrap_err().to_string().contains("window 1 has 3 energies"));
        assert!(assemble(4, std::slice::from_ref(&w)).unwrap_err().to_string().contains("1 windows for 4 states"));
        let over = WindowEnergies { discarded: vec![2], ..w.clone() };
        assert!(assemble(4, &[w, over]).unwrap_err().to_string().contains("discards 2"));
    }
}
