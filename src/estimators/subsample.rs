//! Thinning of correlated samples by their statistical inefficiency, so that the kept ones are
//! about independent (MBAR's asymptotic errors assume independent samples): used by MBAR over the
//! baseline's lambda windows and over the t-windows of `nti ti`.

/// Indices of `n` correlated samples thinned by the statistical inefficiency `g`: round(m g) for
/// m = 0, 1, ... below n, without repeats, so about n / max(g, 1) are kept (the fractional stride
/// of J. D. Chodera, J. Chem. Theory Comput. 12, 1799 (2016) and pymbar's
/// `subsample_correlated_data`). An integer stride ceil(g) would drop half the data for g = 1.01.
pub fn subsample_indices(n: usize, g: f64) -> Vec<usize> {
    let g = if g.is_finite() { g.max(1.0) } else { 1.0 };
    let mut out: Vec<usize> = Vec::with_capacity((n as f64 / g) as usize + 1);
    for m in 0.. {
        let i = (m as f64 * g).round() as usize;
        if i >= n {
            break;
        }
        if out.last() != Some(&i) {
            out.push(i);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::subsample_indices;

    #[test]
    fn fractional_stride_keeps_n_over_g() {
        assert_eq!(subsample_indices(10, 1.0), (0..10).collect::<Vec<_>>());
        assert_eq!(subsample_indices(10, 0.3), (0..10).collect::<Vec<_>>());
        assert_eq!(subsample_indices(10, f64::NAN), (0..10).collect::<Vec<_>>());
        assert_eq!(subsample_indices(10, 2.0), vec![0, 2, 4, 6, 8]);
        // g slightly above 1 keeps almost everything (ceil(g) = 2 would keep 500)
        assert!((subsample_indices(1000, 1.05).len() as f64 - 1000.0 / 1.05).abs() <= 1.0);
        let k = subsample_indices(10000, 3.7);
        assert!((k.len() as f64 - 10000.0 / 3.7).abs() <= 1.0, "{}", k.len());
        assert!(k.windows(2).all(|w| w[1] > w[0]) && *k.last().unwrap() < 10000);
    }
}
