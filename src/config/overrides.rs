//! `--set section.key=value` overrides on the parsed TOML table.

use super::ConfigError;

/// Applies one override. The value is read as a TOML value (`0.5`, `true`, `"mc"`, `[1, 2]`);
/// anything that is not valid TOML is taken as a bare string (`--set sample.method=mc`).
pub fn apply_override(table: &mut toml::Table, given: &str) -> Result<(), ConfigError> {
    let bad = |expected: &str| ConfigError::Override { given: given.to_string(), expected: expected.to_string() };
    let (path, raw) = given.split_once('=').ok_or_else(|| bad("expected section.key=value"))?;
    let path = path.trim();
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(bad("the value after '=' is empty"));
    }
    let value = match format!("v = {raw}").parse::<toml::Table>() {
        Ok(mut t) => t.remove("v").expect("parsed key"),
        Err(_) => toml::Value::String(raw.to_string()),
    };
    let parts: Vec<&str> = path.split('.').collect();
    match parts.as_slice() {
        ["version"] => {
            table.insert("version".into(), value);
        }
        [section, key] if !section.is_empty() && !key.is_empty() => {
            let entry = table.entry(section.to_string()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
            let sub = entry.as_table_mut().ok_or_else(|| bad(&format!("'{section}' is not a section in the input")))?;
            sub.insert(key.to_string(), value);
        }
        _ => return Err(bad("expected section.key=value, e.g. --set system.density=0.5")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_parse_typed_values_and_bare_strings() {
        let mut t: toml::Table = "[system]\ndensity = 0.3\n".parse().unwrap();
        apply_override(&mut t, "system.density=0.5").unwrap();
        apply_override(&mut t, "sample.method=langevin").unwrap();
        apply_override(&mut t, "system.cutoff=\"min-image\"").unwrap();
        assert_eq!(t["system"]["density"].as_float(), Some(0.5));
        assert_eq!(t["sample"]["method"].as_str(), Some("langevin"));
        assert_eq!(t["system"]["cutoff"].as_str(), Some("min-image"));
        assert!(apply_override(&mut t, "density").is_err());
        assert!(apply_override(&mut t, "a.b.c=1").is_err());
        assert!(apply_override(&mut t, "system.density=").is_err());
    }
}
