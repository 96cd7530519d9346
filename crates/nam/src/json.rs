//! A thin cursor over `serde_json::Value` that remembers its JSON path, so every error
//! about a field names exactly where in the file it is (`config.layers[1].dilations[3]`).

use serde_json::{Map, Value};

use super::error::{Error, Result};

pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A field of an object, with its full path.
#[derive(Clone)]
pub(crate) struct Field<'a> {
    pub value: &'a Value,
    pub path: String,
}

impl<'a> Field<'a> {
    pub fn root(value: &'a Value) -> Self {
        Field {
            value,
            path: String::new(),
        }
    }

    fn child_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{}", self.path, key)
        }
    }

    pub fn wrong_type(&self, expected: &'static str) -> Error {
        Error::WrongType {
            path: if self.path.is_empty() {
                "(top level)".into()
            } else {
                self.path.clone()
            },
            expected,
            found: type_name(self.value),
        }
    }

    pub fn object(&self) -> Result<&'a Map<String, Value>> {
        self.value
            .as_object()
            .ok_or_else(|| self.wrong_type("an object"))
    }

    pub fn array(&self) -> Result<&'a Vec<Value>> {
        self.value
            .as_array()
            .ok_or_else(|| self.wrong_type("an array"))
    }

    /// A field that may be absent (absent and `null` are the same: `None`).
    pub fn opt(&self, key: &str) -> Result<Option<Field<'a>>> {
        let obj = self.object()?;
        Ok(match obj.get(key) {
            None | Some(Value::Null) => None,
            Some(v) => Some(Field {
                value: v,
                path: self.child_path(key),
            }),
        })
    }

    pub fn req(&self, key: &str) -> Result<Field<'a>> {
        self.opt(key)?.ok_or_else(|| Error::MissingField {
            path: self.child_path(key),
        })
    }

    pub fn index(&self, i: usize) -> Result<Field<'a>> {
        let arr = self.array()?;
        Ok(Field {
            value: &arr[i],
            path: format!("{}[{}]", self.path, i),
        })
    }

    pub fn items(&self) -> Result<Vec<Field<'a>>> {
        let n = self.array()?.len();
        (0..n).map(|i| self.index(i)).collect()
    }

    pub fn str(&self) -> Result<&'a str> {
        self.value
            .as_str()
            .ok_or_else(|| self.wrong_type("a string"))
    }

    pub fn bool(&self) -> Result<bool> {
        self.value
            .as_bool()
            .ok_or_else(|| self.wrong_type("a boolean"))
    }

    pub fn f64(&self) -> Result<f64> {
        self.value
            .as_f64()
            .ok_or_else(|| self.wrong_type("a number"))
    }

    /// A number that must be a whole number within `min ..= max`. Sizes come through
    /// here, so a hostile `"channels": 1e12` stops before anything is allocated.
    pub fn usize_in(&self, min: usize, max: usize) -> Result<usize> {
        let v = match self.value {
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    u as f64
                } else if let Some(i) = n.as_i64() {
                    i as f64
                } else {
                    let f = n.as_f64().unwrap_or(f64::NAN);
                    if f.fract() != 0.0 {
                        return Err(self.wrong_type("a whole number"));
                    }
                    f
                }
            }
            _ => return Err(self.wrong_type("a whole number")),
        };
        if v < min as f64 || v > max as f64 {
            return Err(Error::OutOfRange {
                path: self.path.clone(),
                value: v,
                min: min as f64,
                max: max as f64,
            });
        }
        Ok(v as usize)
    }

    pub fn f64_in(&self, min: f64, max: f64) -> Result<f64> {
        let v = self.f64()?;
        if !(min..=max).contains(&v) {
            return Err(Error::OutOfRange {
                path: self.path.clone(),
                value: v,
                min,
                max,
            });
        }
        Ok(v)
    }

    pub fn f32_in(&self, min: f64, max: f64) -> Result<f32> {
        self.f64_in(min, max).map(|v| v as f32)
    }

    /// An optional boolean field, `default` when absent or null.
    pub fn bool_or(&self, key: &str, default: bool) -> Result<bool> {
        self.opt(key)?.map_or(Ok(default), |f| f.bool())
    }

    /// An optional whole-number field within `min ..= max`, `default` when absent or null.
    pub fn usize_or(&self, key: &str, default: usize, min: usize, max: usize) -> Result<usize> {
        self.opt(key)?.map_or(Ok(default), |f| f.usize_in(min, max))
    }

    /// The path of a child, for errors about a field that may be absent.
    pub fn path_of(&self, key: &str) -> String {
        self.child_path(key)
    }
}
