//! `nti fit POINTS.json`: the weighted least-squares fit beta*A_ex(N) = N sum_k c_k rho^k of `/ti/fit`
//! ([`crate::estimators::density_fit`]) through points given as JSON, for scripts that combine
//! `nti ti` runs at different N (validation/paper_lj/a_of_n.py) and so cannot read one `/ti/fit`.
//!
//! Request (one file, or standard input with `-`), any number of independent point sets:
//!
//! ```text
//! {"volume": 216.0, "sets": [{"degree": 5, "points": [[40, -60.1, 0.9], [60, -81.7, 1.1], ...]}, ...]}
//! ```
//!
//! points are [N, beta*A_ex (kT), stderr (kT)]; the degree m must satisfy 1 <= m < number of points.
//! Answer, one entry per set in request order:
//!
//! ```text
//! {"fits": [{"degree", "n_points", "chi2", "dof", "coefficients": [m], "covariance": [[m] x m]}, ...]}
//! ```

use crate::estimators::density_fit::AexFit;
use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

/// Parses a request (`source` names it in errors), fits every set and returns the answer.
pub fn fit_request(text: &str, source: &str) -> Result<Value> {
    let req: Value = serde_json::from_str(text).with_context(|| format!("{source}: not valid JSON"))?;
    let bad = |key: &str, expected: &str, found: &Value| -> anyhow::Error {
        anyhow::anyhow!("{source}: key '{key}': expected {expected}, found {found}")
    };
    let Some(obj) = req.as_object() else {
        bail!("{source}: expected a JSON object {{\"volume\": V, \"sets\": [...]}}")
    };
    if let Some(k) = obj.keys().find(|k| !matches!(k.as_str(), "volume" | "sets")) {
        bail!("{source}: unknown key '{k}' (expected 'volume' and 'sets')");
    }
    let missing = Value::Null;
    let v = obj.get("volume").unwrap_or(&missing);
    let volume =
        v.as_f64().filter(|x| x.is_finite() && *x > 0.0).ok_or_else(|| bad("volume", "a positive number", v))?;
    let s = obj.get("sets").unwrap_or(&missing);
    let sets = s.as_array().ok_or_else(|| bad("sets", "an array of {\"degree\", \"points\"}", s))?;
    let mut fits = Vec::with_capacity(sets.len());
    for (i, set) in sets.iter().enumerate() {
        let (degree, points) = parse_set(set, &format!("sets[{i}]"), &bad)?;
        let f = AexFit::fit(&points, volume, degree).with_context(|| format!("{source}: sets[{i}]"))?;
        fits.push(json!({
            "degree": f.degree,
            "n_points": f.n_points,
            "chi2": f.chi2,
            "dof": f.dof(),
            "coefficients": f.coef.to_vec(),
            "covariance": f.cov.rows().into_iter().map(|r| r.to_vec()).collect::<Vec<_>>(),
        }));
    }
    Ok(json!({ "fits": fits }))
}

/// A point (N, beta*A_ex, stderr) as [`AexFit::fit`] takes it.
type Point = (usize, f64, f64);

/// One set: its degree and points (N, value, stderr), with errors naming `key`.
fn parse_set(set: &Value, key: &str, bad: &dyn Fn(&str, &str, &Value) -> anyhow::Error) -> Result<(usize, Vec<Point>)> {
    let Some(obj) = set.as_object() else { return Err(bad(key, "an object {\"degree\", \"points\"}", set)) };
    if let Some(k) = obj.keys().find(|k| !matches!(k.as_str(), "degree" | "points")) {
        return Err(bad(key, "only the keys 'degree' and 'points'", &Value::String(k.clone())));
    }
    let missing = Value::Null;
    let p = obj.get("points").unwrap_or(&missing);
    let rows = p.as_array().ok_or_else(|| bad(&format!("{key}.points"), "an array of [N, beta_a_ex, stderr]", p))?;
    let mut points = Vec::with_capacity(rows.len());
    for (j, r) in rows.iter().enumerate() {
        let k = format!("{key}.points[{j}]");
        let expected = "[N, beta_a_ex, stderr] with N a positive integer and a positive finite stderr";
        let Some([n, a, s]) = r.as_array().map(|v| v.as_slice()) else { return Err(bad(&k, expected, r)) };
        match (n.as_u64().filter(|n| *n > 0), a.as_f64().filter(|a| a.is_finite()), s.as_f64()) {
            (Some(n), Some(a), Some(s)) if s.is_finite() && s > 0.0 => points.push((n as usize, a, s)),
            _ => return Err(bad(&k, expected, r)),
        }
    }
    let d = obj.get("degree").unwrap_or(&missing);
    let degree = d.as_u64().map(|m| m as usize).filter(|m| *m >= 1 && *m < points.len()).ok_or_else(|| {
        bad(&format!("{key}.degree"), &format!("an integer from 1 to {} (points - 1)", points.len().max(2) - 1), d)
    })?;
    Ok((degree, points))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_every_set_in_order_like_aexfit() {
        let pts: Vec<(usize, f64, f64)> =
            (40..=200).step_by(20).map(|n| (n, -0.02 * n as f64 + 1e-4 * (n * n) as f64, 0.5)).collect();
        let rows: Vec<Value> = pts.iter().map(|p| json!([p.0, p.1, p.2])).collect();
        let text = json!({"volume": 216.0, "sets": [{"degree": 2, "points": rows}, {"degree": 4, "points": rows}]});
        let out = fit_request(&text.to_string(), "req.json").unwrap();
        for (k, m) in [(0, 2), (1, 4)] {
            let f = AexFit::fit(&pts, 216.0, m).unwrap();
            let got = &out["fits"][k];
            assert_eq!(got["degree"], m);
            assert_eq!(got["chi2"].as_f64().unwrap(), f.chi2);
            let c: Vec<f64> = got["coefficients"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
            assert_eq!(c, f.coef.to_vec());
            assert_eq!(got["covariance"][m - 1][0].as_f64().unwrap(), f.cov[[m - 1, 0]]);
        }
    }

    #[test]
    fn bad_requests_name_the_key() {
        let cases = [
            ("[1, 2]", "expected a JSON object"),
            (r#"{"volume": 216, "sets": [], "x": 1}"#, "unknown key 'x'"),
            (r#"{"volume": -1, "sets": []}"#, "key 'volume'"),
            (r#"{"volume": 216}"#, "key 'sets'"),
            (r#"{"volume": 216, "sets": [{"degree": 1, "points": [[40, 1, 1], [60, 2]]}]}"#, "sets[0].points[1]"),
            (r#"{"volume": 216, "sets": [{"degree": 1, "points": [[40, 1, 0], [60, 2, 1]]}]}"#, "sets[0].points[0]"),
            (r#"{"volume": 216, "sets": [{"degree": 2, "points": [[40, 1, 1], [60, 2, 1]]}]}"#, "sets[0].degree"),
            (r#"{"volume": 216, "sets": [{"points": [[40, 1, 1], [60, 2, 1]]}]}"#, "sets[0].degree"),
            (r#"{"volume": 216, "sets": [{"degree": 1, "points": [[40, 1, 1], [40, 2, 1]], "w": 0}]}"#, "sets[0]"),
            ("{", "not valid JSON"),
        ];
        for (text, want) in cases {
            let e = format!("{:#}", fit_request(text, "req.json").unwrap_err());
            assert!(e.contains("req.json") && e.contains(want), "{text}: {e}");
        }
    }
}
