//! Decoding the API's JSON answers from a parsed [`Value`], without serde's derived visitors.
//!
//! The server encodes with serde; the wasm UI decodes with [`FromJson`]. Serde's derived
//! `Deserialize` is several KB of wasm per type (a field visitor, a map visitor and a sequence
//! visitor, each with its error paths); a `FromJson` impl fills an `empty` value one call per
//! field (errors kept aside, not checked after each field), and the
//! JSON itself is parsed once into a `Value` by the single `Value` deserializer. Every impl is
//! checked against serde's encoding of the same value (here, natively, and on real server
//! answers in the test suite), and the struct macro names every field so none is forgotten.

mod dto;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value};

/// Why a JSON value is not the expected type: what was expected, and where. Boxed: every
/// decoder passes errors up through each field, and one pointer is less code to move than the
/// whole record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError(Box<Mismatch>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Mismatch {
    expected: &'static str,
    /// Keys and indexes from the top, innermost last.
    path: Vec<String>,
}

impl JsonError {
    #[inline(never)]
    pub fn expected(what: &'static str) -> JsonError {
        JsonError(Box::new(Mismatch {
            expected: what,
            path: Vec::new(),
        }))
    }

    /// The same error, one level down: at key `place` of the object around it.
    // Not inlined, like the other error paths here: each decoder instance only calls them.
    #[inline(never)]
    pub fn at(self, place: &str) -> JsonError {
        self.at_place(place.to_string())
    }

    /// The same error at item `index` of the list around it.
    #[inline(never)]
    pub fn at_index(self, index: usize) -> JsonError {
        self.at_place(format!("[{index}]"))
    }

    fn at_place(mut self, place: String) -> JsonError {
        self.0.path.insert(0, place);
        self
    }
}

/// A required key that is absent.
#[inline(never)]
fn missing(key: &str) -> JsonError {
    JsonError::expected("a value").at(key)
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Mismatch { expected, path } = &*self.0;
        if path.is_empty() {
            write!(f, "expected {expected}")
        } else {
            write!(f, "expected {expected} at {}", path.join("."))
        }
    }
}

impl std::error::Error for JsonError {}

/// A type the UI reads from the API's JSON.
pub trait FromJson: Sized {
    fn from_json(value: Value) -> Result<Self, JsonError>;

    /// The value of an absent key, when absence means something (none, empty); `None` makes
    /// the key required.
    fn absent() -> Option<Self> {
        None
    }

    /// Some value of the type, for a struct's decoder to fill in (it is overwritten, or
    /// dropped when decoding fails).
    fn empty() -> Self;
}

/// Parses `text` and decodes it as `T`.
pub fn decode<T: FromJson>(text: &str) -> Result<T, DecodeError> {
    T::from_json(parse(text)?).map_err(DecodeError::Shape)
}

/// The parse shared by every [`decode`]: one copy of serde_json's `Value` parser, not one
/// inlined per decoded type.
#[inline(never)]
pub fn parse(text: &str) -> Result<Value, DecodeError> {
    serde_json::from_str(text).map_err(|e| DecodeError::Syntax(e.to_string()))
}

/// A field a message kind needs, present: for flat wire records where every field is optional
/// (`LiveMessage`, `LogEvent`).
pub fn need<T>(v: Option<T>, field: &'static str) -> Result<T, DecodeError> {
    v.ok_or_else(|| DecodeError::Shape(missing(field)))
}

/// Why an answer could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("not JSON: {0}")]
    Syntax(String),
    #[error("{0}")]
    Shape(JsonError),
}

/// An object's fields, taken out one by one (so a flattened part can decode what is left).
pub struct Fields {
    map: Map<String, Value>,
    /// The first error of the `fill` calls.
    error: Option<JsonError>,
}

impl Fields {
    pub fn of(value: Value) -> Result<Fields, JsonError> {
        match value {
            Value::Object(map) => Ok(Fields { map, error: None }),
            _ => Err(JsonError::expected("an object")),
        }
    }

    /// The fields of `value` for a struct's decoder: a value that is not an object is kept as
    /// the first error (so the decoder has no early return to compile).
    #[inline(never)]
    pub fn of_struct(value: Value) -> Fields {
        match value {
            Value::Object(map) => Fields { map, error: None },
            _ => Fields {
                map: Map::new(),
                error: Some(JsonError::expected("an object")),
            },
        }
    }

    /// Decodes the field `key` into `slot` (an absent key is [`FromJson::absent`]); an error is
    /// kept for [`Fields::finish`]. A struct's decoder fills an [`FromJson::empty`] value in
    /// place, field by field: a call per field, with no result to check and move, which was
    /// most of each decoder's code (see BENCHMARKS.md, UI size).
    #[inline(never)]
    pub fn fill<T: FromJson>(&mut self, slot: &mut T, key: &'static str) {
        let got = match self.remove(key) {
            Some(v) => T::from_json(v).map_err(|e| e.at(key)),
            None => T::absent().ok_or_else(|| missing(key)),
        };
        self.put(slot, got);
    }

    /// [`Fields::fill`] with the type's default when absent (serde's `#[serde(default)]`).
    #[inline(never)]
    pub fn fill_or_default<T: FromJson + Default>(&mut self, slot: &mut T, key: &'static str) {
        let got = match self.remove(key) {
            Some(v) => T::from_json(v).map_err(|e| e.at(key)),
            None => Ok(T::default()),
        };
        self.put(slot, got);
    }

    /// [`Fields::fill`] from the fields not taken yet, as an object (serde's `#[serde(flatten)]`).
    #[inline(never)]
    pub fn fill_rest<T: FromJson>(&mut self, slot: &mut T) {
        let got = T::from_json(Value::Object(std::mem::take(&mut self.map)));
        self.put(slot, got);
    }

    fn put<T>(&mut self, slot: &mut T, got: Result<T, JsonError>) {
        match got {
            Ok(v) => *slot = v,
            Err(e) => self.fail(e),
        }
    }

    #[inline(never)]
    fn fail(&mut self, e: JsonError) {
        if self.error.is_none() {
            self.error = Some(e);
        }
    }

    /// `out`, filled, or the first error of its fields.
    pub fn finish<T>(self, out: T) -> Result<T, JsonError> {
        match self.error {
            None => Ok(out),
            Some(e) => Err(e),
        }
    }

    /// The field `key`, decoded; an absent key is [`FromJson::absent`] or an error (for the
    /// hand-written decoders of tagged enums).
    pub fn take<T: FromJson>(&mut self, key: &'static str) -> Result<T, JsonError> {
        match self.remove(key) {
            Some(v) => T::from_json(v).map_err(|e| e.at(key)),
            None => T::absent().ok_or_else(|| missing(key)),
        }
    }

    /// The field `key`, or the type's default when absent (serde's `#[serde(default)]`).
    #[inline(never)]
    fn remove(&mut self, key: &str) -> Option<Value> {
        self.map.remove(key)
    }
}

/// `FromJson` for a struct, naming each field: `required` ones must be present (an `Option`
/// may be absent), `default` ones default when absent, a `flatten` one decodes from the fields
/// left over. The struct literal of `empty` fails to compile if a field is left out.
#[macro_export]
macro_rules! from_json_struct {
    ($ty:ident { $($field:ident),* $(,)? }
        $(default { $($dfield:ident),* $(,)? })?
        $(flatten { $flat:ident })?) => {
        impl $crate::json::FromJson for $ty {
            fn from_json(value: serde_json::Value) -> Result<Self, $crate::json::JsonError> {
                #[allow(unused_mut)]
                let mut fields = $crate::json::Fields::of_struct(value);
                let mut out = <Self as $crate::json::FromJson>::empty();
                $(fields.fill(&mut out.$field, stringify!($field));)*
                $($(fields.fill_or_default(&mut out.$dfield, stringify!($dfield));)*)?
                $(fields.fill_rest(&mut out.$flat);)?
                fields.finish(out)
            }

            fn empty() -> Self {
                $ty {
                    $($field: $crate::json::FromJson::empty(),)*
                    $($($dfield: $crate::json::FromJson::empty(),)*)?
                    $($flat: $crate::json::FromJson::empty(),)?
                }
            }
        }
    };
}

/// `FromJson` for a unit-only enum, by the names the type already gives its variants (its
/// `ALL` list and name function, which are what serde writes; the tests compare).
#[macro_export]
macro_rules! from_json_named {
    ($ty:ident, $all:expr, $name:expr) => {
        impl $crate::json::FromJson for $ty {
            fn from_json(value: serde_json::Value) -> Result<Self, $crate::json::JsonError> {
                let name = value.as_str();
                $all.into_iter()
                    .find(|v| Some($name(*v)) == name)
                    .ok_or_else(|| {
                        $crate::json::JsonError::expected(concat!("a known ", stringify!($ty)))
                    })
            }

            fn empty() -> Self {
                $all[0]
            }
        }
    };
}

impl FromJson for Value {
    fn from_json(value: Value) -> Result<Self, JsonError> {
        Ok(value)
    }

    fn empty() -> Self {
        Value::Null
    }
}

impl FromJson for String {
    fn from_json(value: Value) -> Result<Self, JsonError> {
        match value {
            Value::String(s) => Ok(s),
            _ => Err(JsonError::expected("a string")),
        }
    }

    fn empty() -> Self {
        String::new()
    }
}

impl FromJson for bool {
    fn from_json(value: Value) -> Result<Self, JsonError> {
        value
            .as_bool()
            .ok_or_else(|| JsonError::expected("true or false"))
    }

    fn empty() -> Self {
        false
    }
}

macro_rules! integer {
    ($($ty:ty),*) => {$(
        impl FromJson for $ty {
            fn from_json(value: Value) -> Result<Self, JsonError> {
                let n = match &value {
                    Value::Number(n) => n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from)),
                    _ => None,
                };
                n.and_then(|n| <$ty>::try_from(n).ok())
                    .ok_or_else(|| JsonError::expected(concat!("a whole number (", stringify!($ty), ")")))
            }

            fn empty() -> Self {
                0
            }
        }
    )*};
}
integer!(i64, u64, u32, u16, usize);

impl<T: FromJson> FromJson for Option<T> {
    fn from_json(value: Value) -> Result<Self, JsonError> {
        match value {
            Value::Null => Ok(None),
            v => T::from_json(v).map(Some),
        }
    }

    fn absent() -> Option<Self> {
        Some(None)
    }

    fn empty() -> Self {
        None
    }
}

impl<T: FromJson> FromJson for Box<T> {
    fn from_json(value: Value) -> Result<Self, JsonError> {
        T::from_json(value).map(Box::new)
    }

    fn empty() -> Self {
        Box::new(T::empty())
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn from_json(value: Value) -> Result<Self, JsonError> {
        let Value::Array(items) = value else {
            return Err(JsonError::expected("a list"));
        };
        // A loop, not `collect` into a `Result`: its adapter is a sizeable copy per item type.
        let mut out = Vec::with_capacity(items.len());
        for (i, v) in items.into_iter().enumerate() {
            out.push(T::from_json(v).map_err(|e| e.at_index(i))?);
        }
        Ok(out)
    }

    fn absent() -> Option<Self> {
        Some(Vec::new())
    }

    fn empty() -> Self {
        Vec::new()
    }
}

impl<T: FromJson> FromJson for BTreeMap<String, T> {
    fn from_json(value: Value) -> Result<Self, JsonError> {
        let Value::Object(map) = value else {
            return Err(JsonError::expected("an object"));
        };
        // Inserted one by one: collecting would sort a buffer first (see `order`).
        let mut out = BTreeMap::new();
        for (k, v) in map {
            let item = T::from_json(v).map_err(|e| e.at(&k))?;
            out.insert(k, item);
        }
        Ok(out)
    }

    fn absent() -> Option<Self> {
        Some(BTreeMap::new())
    }

    fn empty() -> Self {
        BTreeMap::new()
    }
}

impl FromJson for Map<String, Value> {
    fn from_json(value: Value) -> Result<Self, JsonError> {
        match value {
            Value::Object(map) => Ok(map),
            _ => Err(JsonError::expected("an object")),
        }
    }

    fn absent() -> Option<Self> {
        Some(Map::new())
    }

    fn empty() -> Self {
        Map::new()
    }
}

impl<T: FromJson + Ord> FromJson for BTreeSet<T> {
    fn from_json(value: Value) -> Result<Self, JsonError> {
        let mut out = BTreeSet::new();
        for item in Vec::<T>::from_json(value)? {
            out.insert(item);
        }
        Ok(out)
    }

    fn absent() -> Option<Self> {
        Some(BTreeSet::new())
    }

    fn empty() -> Self {
        BTreeSet::new()
    }
}
