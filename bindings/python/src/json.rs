//! Python objects to JSON values and back: the plugin's config, a tool's result and the
//! returned metadata cross here, so that the JSON-to-WIT conversion stays the host library's
//! (`retry_host::payload`), written once.

use std::borrow::Cow;
use std::cell::Cell;
use std::rc::Rc;

use pyo3::exceptions::PyValueError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use retry_host::payload::JsonLike;
use serde::ser::{Error as _, Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

/// How deep a Python value is read: deeper parts become null. Nothing the plugin classifies
/// lies that deep, and the component bounds its own parsing alike.
const MAX_DEPTH: usize = 128;

/// How many values one conversion reads at most: later ones become null. A cycle (a list that
/// contains itself twice) or a shared value nested in itself would otherwise be walked an
/// exponential number of times while the GIL is held.
const MAX_NODES: usize = 1_000_000;

/// A Python value seen as JSON: `dict` (string keys; other keys through `str`), `list` or
/// `tuple`, `str`, `bool`, `int`, `float` (NaN and infinities become null), `None`. Any other
/// object is read through its `model_dump(mode="json", by_alias=True)` when it has one (a
/// pydantic model), else it becomes its `str`. A `dict` subclass (the gateway's copy-on-write
/// views) is read through its own mapping methods, which may keep data outside the C-level
/// storage.
pub(crate) struct PyJson<'py> {
    value: Bound<'py, PyAny>,
    depth: usize,
    /// Values this conversion may still read, shared by every part of it.
    budget: Rc<Cell<usize>>,
}

impl<'py> PyJson<'py> {
    /// `value`, read from the top.
    pub(crate) fn new(value: Bound<'py, PyAny>) -> Self {
        Self {
            value: plain(value),
            depth: 0,
            budget: Rc::new(Cell::new(MAX_NODES)),
        }
    }

    fn child(&self, value: Bound<'py, PyAny>) -> Self {
        Self {
            value: plain(value),
            depth: self.depth + 1,
            budget: Rc::clone(&self.budget),
        }
    }

    /// Takes one value from the budget; false when it is spent.
    fn spend(&self) -> bool {
        let left = self.budget.get();
        self.budget.set(left.saturating_sub(1));
        left > 0
    }

    /// The value as compact JSON text.
    ///
    /// # Errors
    /// An exception raised while reading the object (`items`, `model_dump`, `str`).
    pub(crate) fn to_text(&self) -> PyResult<String> {
        serde_json::to_string(self).map_err(|err| PyValueError::new_err(err.to_string()))
    }
}

impl JsonLike for PyJson<'_> {
    fn is_object(&self) -> bool {
        self.value.cast::<PyDict>().is_ok()
    }

    fn member(&self, key: &str) -> Option<Self> {
        let key = interned_key(self.value.py(), key);
        let found = if let Ok(dict) = self.value.cast_exact::<PyDict>() {
            dict.get_item(&key).ok().flatten()
        } else if self.value.cast::<PyDict>().is_ok() {
            // A subclass may keep its data outside the C-level storage (the gateway's
            // copy-on-write views): ask its own `get`, which neither creates missing keys (as a
            // defaultdict's `[]` would) nor hides them. A key that cannot be read, or whose
            // value is None, counts as absent.
            self.value
                .call_method1(intern!(self.value.py(), "get"), (&key,))
                .ok()
                .filter(|value| !value.is_none())
        } else {
            None
        };
        found.map(|value| self.child(value))
    }

    fn as_text(&self) -> Option<Cow<'_, str>> {
        let text = self.value.cast::<PyString>().ok()?;
        text.to_str().ok().map(Cow::Borrowed)
    }

    fn as_boolean(&self) -> Option<bool> {
        self.value.cast::<PyBool>().ok().map(|flag| flag.is_true())
    }

    fn is_null(&self) -> bool {
        self.value.is_none()
    }

    fn elements(&self) -> Option<Vec<Self>> {
        if let Ok(list) = self.value.cast::<PyList>() {
            return Some(list.iter().map(|item| self.child(item)).collect());
        }
        let tuple = self.value.cast::<PyTuple>().ok()?;
        Some(tuple.iter().map(|item| self.child(item)).collect())
    }

    fn to_json_text(&self) -> String {
        // A value that cannot be read carries no signal: null, never an error.
        self.to_text().unwrap_or_else(|_| "null".to_owned())
    }
}

/// `key` as a Python string: the MCP field names the conversion reads are interned once (a new
/// string per lookup, hashed each time, was a visible share of a call), others made afresh.
fn interned_key<'py>(py: Python<'py>, key: &str) -> Bound<'py, PyString> {
    let interned = match key {
        "content" => intern!(py, "content"),
        "isError" => intern!(py, "isError"),
        "structuredContent" => intern!(py, "structuredContent"),
        "_meta" => intern!(py, "_meta"),
        "type" => intern!(py, "type"),
        "text" => intern!(py, "text"),
        "annotations" => intern!(py, "annotations"),
        "data" => intern!(py, "data"),
        "mimeType" => intern!(py, "mimeType"),
        "uri" => intern!(py, "uri"),
        "name" => intern!(py, "name"),
        "resource" => intern!(py, "resource"),
        _ => return PyString::new(py, key),
    };
    interned.clone()
}

impl Serialize for PyJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let value = &self.value;
        let fail = |err: PyErr| S::Error::custom(err.to_string());
        if self.depth > MAX_DEPTH || !self.spend() || value.is_none() {
            return serializer.serialize_unit();
        }
        if let Ok(text) = value.cast::<PyString>() {
            return serializer.serialize_str(text.to_str().map_err(fail)?);
        }
        if let Ok(dict) = value.cast_exact::<PyDict>() {
            let mut map = serializer.serialize_map(Some(dict.len()))?;
            for (key, item) in dict.iter() {
                map.serialize_entry(&key_text(&key).map_err(fail)?, &self.child(item))?;
            }
            return map.end();
        }
        if value.cast::<PyDict>().is_ok() {
            let mut map = serializer.serialize_map(None)?;
            for pair in value
                .call_method0("items")
                .and_then(|items| items.try_iter())
                .map_err(fail)?
            {
                let (key, item): (Bound<'_, PyAny>, Bound<'_, PyAny>) =
                    pair.and_then(|pair| pair.extract()).map_err(fail)?;
                map.serialize_entry(&key_text(&key).map_err(fail)?, &self.child(item))?;
            }
            return map.end();
        }
        // bool is a subclass of int: test it first.
        if let Ok(flag) = value.cast::<PyBool>() {
            return serializer.serialize_bool(flag.is_true());
        }
        if let Ok(int) = value.cast::<PyInt>() {
            if let Ok(small) = int.extract::<i64>() {
                return serializer.serialize_i64(small);
            }
            if let Ok(large) = int.extract::<u64>() {
                return serializer.serialize_u64(large);
            }
            let float: f64 = int.extract().map_err(fail)?;
            return serialize_float(serializer, float);
        }
        if let Ok(float) = value.cast::<PyFloat>() {
            return serialize_float(serializer, float.value());
        }
        if let Some(items) = self.elements() {
            let mut seq = serializer.serialize_seq(Some(items.len()))?;
            for item in &items {
                seq.serialize_element(item)?;
            }
            return seq.end();
        }
        if value.hasattr("model_dump").map_err(fail)? {
            return self
                .child(model_dump(value).map_err(fail)?)
                .serialize(serializer);
        }
        serializer.serialize_str(value.str().map_err(fail)?.to_str().map_err(fail)?)
    }
}

/// JSON has no NaN or infinities: they become null.
fn serialize_float<S: Serializer>(serializer: S, float: f64) -> Result<S::Ok, S::Error> {
    if float.is_finite() {
        serializer.serialize_f64(float)
    } else {
        serializer.serialize_unit()
    }
}

/// `value` itself, or its `model_dump(...)` when it is a model rather than plain data (a
/// pydantic MCP type nested in a gateway's dict); a dump that fails leaves the value as it is.
fn plain(value: Bound<'_, PyAny>) -> Bound<'_, PyAny> {
    let plain_type = value.cast::<PyDict>().is_ok()
        || value.cast::<PyString>().is_ok()
        || value.cast::<PyList>().is_ok()
        || value.cast::<PyInt>().is_ok()
        || value.cast::<PyFloat>().is_ok()
        || value.cast::<PyTuple>().is_ok()
        || value.is_none();
    if plain_type
        || !value
            .hasattr(intern!(value.py(), "model_dump"))
            .unwrap_or(false)
    {
        return value;
    }
    model_dump(&value).unwrap_or(value)
}

/// `value.model_dump(mode="json", by_alias=True)`: a pydantic model as plain data, with the
/// MCP field names (`isError`, `structuredContent`).
pub(crate) fn model_dump<'py>(value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let kwargs = PyDict::new(value.py());
    kwargs.set_item("mode", "json")?;
    kwargs.set_item("by_alias", true)?;
    value.call_method("model_dump", (), Some(&kwargs))
}

/// A mapping key as a JSON object key: a string as it is, anything else through `str`.
fn key_text(key: &Bound<'_, PyAny>) -> PyResult<String> {
    match key.cast::<PyString>() {
        Ok(text) => Ok(text.to_str()?.to_owned()),
        Err(_) => Ok(key.str()?.to_str()?.to_owned()),
    }
}

/// The Python object of a JSON value: `dict`, `list`, `str`, `int`, `float`, `bool`, `None`.
///
/// # Errors
/// Python could not allocate the objects.
pub(crate) fn to_python<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(flag) => PyBool::new(py, *flag).to_owned().into_any(),
        Value::Number(number) => {
            if let Some(int) = number.as_i64() {
                int.into_pyobject(py)?.into_any()
            } else if let Some(int) = number.as_u64() {
                int.into_pyobject(py)?.into_any()
            } else {
                number
                    .as_f64()
                    .unwrap_or(f64::NAN)
                    .into_pyobject(py)?
                    .into_any()
            }
        }
        Value::String(text) => PyString::new(py, text).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_python(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (key, item) in map {
                dict.set_item(key, to_python(py, item)?)?;
            }
            dict.into_any()
        }
    })
}

/// The Python object of a JSON text the component returned; an empty object (`{}`, the common
/// case) costs no parse.
///
/// # Errors
/// The text is not JSON (a component bug).
pub(crate) fn parse_to_python<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    if text == "{}" {
        return Ok(PyDict::new(py).into_any());
    }
    let value: Value = serde_json::from_str(text).map_err(|err| {
        PyValueError::new_err(format!("the component returned invalid JSON: {err}"))
    })?;
    to_python(py, &value)
}
