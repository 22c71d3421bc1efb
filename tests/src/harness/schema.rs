//! A JSON Schema (2020-12) checker for the subset vr's OpenAPI document uses: `$ref` into the
//! document, `type` (one or several), `properties`, `required`, `additionalProperties`,
//! `items`, `prefixItems`, `enum`, `const`, `anyOf`, `oneOf`, `allOf`, `minimum`, `maximum`.
//! Keywords it does not know are ignored, as a validator ignores annotations.

use serde_json::Value;

/// Checks `value` against `schema`, resolving references in `doc`; the first mismatch, with
/// where it is.
pub fn check(doc: &Value, schema: &Value, value: &Value) -> Result<(), String> {
    at(doc, schema, value, "$")
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64(),
        _ => false,
    }
}

fn at(doc: &Value, schema: &Value, v: &Value, path: &str) -> Result<(), String> {
    let s = match schema {
        Value::Bool(true) => return Ok(()),
        Value::Bool(false) => return Err(format!("{path}: no value is allowed here")),
        Value::Object(s) => s,
        _ => return Err(format!("{path}: schema is not an object: {schema}")),
    };
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let target = doc
            .pointer(r.trim_start_matches('#'))
            .ok_or_else(|| format!("{path}: dangling reference {r}"))?;
        at(doc, target, v, path)?;
    }
    if let Some(t) = s.get("type") {
        let ok = match t {
            Value::String(t) => type_ok(t, v),
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).any(|t| type_ok(t, v)),
            _ => true,
        };
        if !ok {
            return Err(format!("{path}: {v} is not of type {t}"));
        }
    }
    if let Some(allowed) = s.get("enum").and_then(Value::as_array)
        && !allowed.contains(v)
    {
        return Err(format!("{path}: {v} is not one of {allowed:?}"));
    }
    if let Some(c) = s.get("const")
        && c != v
    {
        return Err(format!("{path}: {v} is not {c}"));
    }
    if let (Some(n), Some(min)) = (v.as_f64(), s.get("minimum").and_then(Value::as_f64))
        && n < min
    {
        return Err(format!("{path}: {n} is below {min}"));
    }
    if let (Some(n), Some(max)) = (v.as_f64(), s.get("maximum").and_then(Value::as_f64))
        && n > max
    {
        return Err(format!("{path}: {n} is above {max}"));
    }
    if let Some(all) = s.get("allOf").and_then(Value::as_array) {
        for sub in all {
            at(doc, sub, v, path)?;
        }
    }
    if let Some(any) = s.get("anyOf").and_then(Value::as_array) {
        let errors: Vec<String> = any
            .iter()
            .filter_map(|sub| at(doc, sub, v, path).err())
            .collect();
        if errors.len() == any.len() {
            return Err(format!("{path}: matches none of anyOf: {errors:?}"));
        }
    }
    if let Some(one) = s.get("oneOf").and_then(Value::as_array) {
        let passing = one
            .iter()
            .filter(|sub| at(doc, sub, v, path).is_ok())
            .count();
        if passing != 1 {
            return Err(format!(
                "{path}: {v} matches {passing} of oneOf's {}",
                one.len()
            ));
        }
    }
    if let Value::Object(o) = v {
        let props = s.get("properties").and_then(Value::as_object);
        if let Some(req) = s.get("required").and_then(Value::as_array) {
            for k in req.iter().filter_map(Value::as_str) {
                if !o.contains_key(k) {
                    return Err(format!("{path}: required {k:?} is missing"));
                }
            }
        }
        for (k, val) in o {
            let sub_path = format!("{path}.{k}");
            match props.and_then(|p| p.get(k)) {
                Some(sub) => at(doc, sub, val, &sub_path)?,
                None => {
                    if let Some(extra) = s.get("additionalProperties") {
                        at(doc, extra, val, &sub_path)?;
                    }
                }
            }
        }
    }
    if let Value::Array(items) = v {
        let prefix = s.get("prefixItems").and_then(Value::as_array);
        for (i, item) in items.iter().enumerate() {
            let sub_path = format!("{path}[{i}]");
            match prefix.and_then(|p| p.get(i)) {
                Some(sub) => at(doc, sub, item, &sub_path)?,
                None => {
                    if let Some(sub) = s.get("items") {
                        at(doc, sub, item, &sub_path)?;
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;
    use serde_json::json;

    #[test]
    fn refs_types_required_and_alternatives() {
        let doc = json!({"components": {"schemas": {
            "P": {"type": "object", "required": ["n"], "properties": {
                "n": {"type": "integer", "minimum": 0},
                "s": {"type": ["string", "null"]},
                "k": {"enum": ["a", "b"]},
                "l": {"type": "array", "items": {"$ref": "#/components/schemas/Q"}}
            }, "additionalProperties": false},
            "Q": {"oneOf": [{"const": 1}, {"type": "string"}]}
        }}});
        let p = json!({"$ref": "#/components/schemas/P"});
        assert!(
            check(
                &doc,
                &p,
                &json!({"n": 1, "s": null, "k": "a", "l": [1, "x"]})
            )
            .is_ok()
        );
        for bad in [
            json!({"s": "x"}),
            json!({"n": -1}),
            json!({"n": 1.5}),
            json!({"n": 1, "k": "c"}),
            json!({"n": 1, "l": [2]}),
            json!({"n": 1, "extra": true}),
        ] {
            assert!(check(&doc, &p, &bad).is_err(), "{bad}");
        }
    }
}
