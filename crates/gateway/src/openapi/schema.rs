//! JSON Schemas of the contract's messages, following the proto3 canonical JSON mapping the
//! gateway speaks (pbjson with proto field names): 64-bit integers as strings, enums as their
//! value names, `Timestamp` as an RFC 3339 string, repeated fields as arrays, maps as objects.

use std::collections::BTreeMap;

use prost_reflect::{EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor};
use serde_json::{Map, Value, json};

use super::comments::description;

/// Where component schemas are referenced from.
const REF_PREFIX: &str = "#/components/schemas/";

/// Collects the component schemas an OpenAPI document references.
#[derive(Debug, Default)]
pub(crate) struct Schemas {
    components: BTreeMap<String, Value>,
}

impl Schemas {
    /// The component schemas collected so far, by name.
    pub(crate) fn into_components(self) -> Map<String, Value> {
        self.components.into_iter().collect()
    }

    /// Adds a component schema written by hand, e.g. `Problem`.
    pub(crate) fn insert(&mut self, name: &str, schema: Value) {
        self.components.insert(name.to_owned(), schema);
    }

    /// The schema of a message: a well-known type inline, anything else a `$ref` to a component
    /// that is generated (with everything it references) on first use.
    pub(crate) fn message(&mut self, message: &MessageDescriptor) -> Value {
        if let Some(schema) = well_known(message.full_name()) {
            return schema;
        }
        let name = message.full_name().to_owned();
        if !self.components.contains_key(&name) {
            // A placeholder first, so recursive messages terminate.
            self.components.insert(name.clone(), Value::Null);
            let schema = self.object(message);
            self.components.insert(name.clone(), schema);
        }
        json!({ "$ref": format!("{REF_PREFIX}{name}") })
    }

    /// The schema of one field's JSON value.
    pub(crate) fn field(&mut self, field: &FieldDescriptor) -> Value {
        let mut schema = if field.is_map() {
            let value = match field.kind() {
                Kind::Message(entry) => self.singular(&entry.map_entry_value_field()),
                _ => json!({}),
            };
            json!({ "type": "object", "additionalProperties": value })
        } else if field.is_list() {
            json!({ "type": "array", "items": self.singular(field) })
        } else {
            self.singular(field)
        };
        // `$ref` with siblings is valid in 3.1, so a referenced field keeps its description too.
        if let (Some(text), Value::Object(object)) =
            (description(&field.parent_file(), field.path()), &mut schema)
        {
            object.insert("description".to_owned(), Value::String(text));
        }
        schema
    }

    fn singular(&mut self, field: &FieldDescriptor) -> Value {
        match field.kind() {
            Kind::Double | Kind::Float => json!({ "type": "number" }),
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
                json!({ "type": "integer", "format": "int32" })
            }
            Kind::Uint32 | Kind::Fixed32 => {
                json!({ "type": "integer", "format": "int32", "minimum": 0 })
            }
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
                json!({ "type": "string", "format": "int64", "pattern": "^-?[0-9]+$" })
            }
            Kind::Uint64 | Kind::Fixed64 => {
                json!({ "type": "string", "format": "uint64", "pattern": "^[0-9]+$" })
            }
            Kind::Bool => json!({ "type": "boolean" }),
            Kind::String => json!({ "type": "string" }),
            Kind::Bytes => json!({ "type": "string", "contentEncoding": "base64" }),
            Kind::Enum(enumeration) => self.enumeration(&enumeration),
            Kind::Message(message) => self.message(&message),
        }
    }

    fn enumeration(&mut self, enumeration: &EnumDescriptor) -> Value {
        let name = enumeration.full_name().to_owned();
        if !self.components.contains_key(&name) {
            let values: Vec<String> = enumeration
                .values()
                .map(|value| value.name().to_owned())
                .collect();
            let mut schema = json!({ "type": "string", "enum": values });
            if let (Some(text), Value::Object(object)) = (
                description(&enumeration.parent_file(), enumeration.path()),
                &mut schema,
            ) {
                object.insert("description".to_owned(), Value::String(text));
            }
            self.components.insert(name.clone(), schema);
        }
        json!({ "$ref": format!("{REF_PREFIX}{name}") })
    }

    fn object(&mut self, message: &MessageDescriptor) -> Value {
        let mut properties = Map::new();
        for field in message.fields() {
            properties.insert(field.name().to_owned(), self.field(&field));
        }
        let mut schema = Map::new();
        schema.insert("type".to_owned(), json!("object"));
        if let Some(text) = description(&message.parent_file(), message.path()) {
            schema.insert("description".to_owned(), Value::String(text));
        }
        schema.insert("properties".to_owned(), Value::Object(properties));
        Value::Object(schema)
    }
}

/// The JSON mapping of the well-known types the contract uses.
fn well_known(full_name: &str) -> Option<Value> {
    let schema = match full_name {
        "google.protobuf.Timestamp" => json!({ "type": "string", "format": "date-time" }),
        "google.protobuf.Duration" => {
            json!({ "type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?s$" })
        }
        "google.protobuf.Empty" => json!({ "type": "object", "properties": {} }),
        "google.protobuf.Struct" => json!({ "type": "object" }),
        "google.protobuf.Value" => json!({}),
        "google.protobuf.ListValue" => json!({ "type": "array" }),
        "google.protobuf.FieldMask" => json!({ "type": "string" }),
        "google.protobuf.DoubleValue" | "google.protobuf.FloatValue" => json!({ "type": "number" }),
        "google.protobuf.Int32Value" | "google.protobuf.UInt32Value" => {
            json!({ "type": "integer" })
        }
        "google.protobuf.Int64Value" | "google.protobuf.UInt64Value" => {
            json!({ "type": "string", "pattern": "^-?[0-9]+$" })
        }
        "google.protobuf.BoolValue" => json!({ "type": "boolean" }),
        "google.protobuf.StringValue" => json!({ "type": "string" }),
        "google.protobuf.BytesValue" => json!({ "type": "string", "contentEncoding": "base64" }),
        _ => return None,
    };
    Some(schema)
}
