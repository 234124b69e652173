//! The generated document against the contract it is generated from.

use serde_json::Value;

use super::*;

fn generated() -> Value {
    document().expect("the contract decodes")
}

/// Every `$ref` in `value`, anywhere.
fn refs<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
    match value {
        Value::Object(object) => {
            if let Some(Value::String(target)) = object.get("$ref") {
                found.push(target);
            }
            object.values().for_each(|child| refs(child, found));
        }
        Value::Array(items) => items.iter().for_each(|child| refs(child, found)),
        _ => {}
    }
}

#[test]
fn is_openapi_3_1_with_the_security_schemes() {
    let document = generated();
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(document["info"]["title"], "Bourse REST API");
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["apiKey"]["name"], "X-API-Key");
    assert_eq!(
        document["paths"]["/openapi.json"]["get"]["security"],
        serde_json::json!([])
    );
}

#[test]
fn lists_every_google_api_http_binding() {
    let document = generated();
    let pool = contract().expect("the contract decodes");
    let bindings = http_bindings(&pool);
    assert!(!bindings.is_empty());
    let missing: Vec<String> = bindings
        .iter()
        .filter(|binding| {
            document["paths"][binding.openapi_path()][binding.method.to_ascii_lowercase()].is_null()
        })
        .map(|binding| format!("{} {}", binding.method, binding.path))
        .collect();
    assert!(missing.is_empty(), "missing from the document: {missing:?}");
    let ids: Vec<&str> = document["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|item| item.as_object().expect("path item").values())
        .filter_map(|operation| operation["operationId"].as_str())
        .collect();
    let unique: std::collections::HashSet<&&str> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "operation ids are unique: {ids:?}");
}

#[test]
fn every_reference_resolves() {
    let document = generated();
    let mut found = Vec::new();
    refs(&document, &mut found);
    assert!(found.len() > 20, "{} references", found.len());
    for target in found {
        let pointer = target.strip_prefix('#').expect("a local reference");
        let resolved = document.pointer(pointer);
        assert!(
            resolved.is_some_and(|schema| !schema.is_null()),
            "{target} does not resolve"
        );
    }
}

#[test]
fn maps_operations_and_schemas_as_the_json_the_gateway_speaks() {
    let document = generated();
    let quote = &document["paths"]["/v1/quotes/{symbol}"]["get"];
    assert_eq!(quote["operationId"], "MarketDataService.GetQuote");
    assert!(
        quote["summary"]
            .as_str()
            .is_some_and(|s| s.starts_with("Returns the latest quote")),
        "{}",
        quote["summary"]
    );
    assert_eq!(quote["parameters"][0]["in"], "path");
    assert_eq!(quote["parameters"][0]["name"], "symbol");
    let create = &document["paths"]["/v1/portfolios"]["post"];
    assert!(
        create["responses"]["201"]["headers"]["Location"].is_object(),
        "{create}"
    );
    assert!(create["requestBody"].is_object());
    let batch_get = &document["paths"]["/v1/quotes"]["get"];
    assert_eq!(
        batch_get["operationId"],
        "MarketDataService.BatchGetQuotes.get"
    );
    assert_eq!(batch_get["parameters"][0]["name"], "symbols");
    assert_eq!(batch_get["parameters"][0]["explode"], false);
    let schemas = &document["components"]["schemas"];
    let quote_schema = &schemas["bourse.market_data.v1.Quote"]["properties"];
    assert_eq!(quote_schema["ts"]["format"], "date-time");
    let bar = &schemas["bourse.market_data.v1.Bar"]["properties"];
    assert_eq!(bar["trades"]["type"], "string", "int64 is a JSON string");
    assert_eq!(
        document["paths"]["/v1/portfolios/{portfolio_id}"]["get"]["responses"]["404"]["$ref"],
        "#/components/responses/Problem"
    );
}

/// Writes the document to the file named by `BOURSE_OPENAPI_OUT`, for
/// `scripts/validate-openapi.sh`; does nothing without it.
#[test]
fn writes_the_document_when_asked() {
    let Some(path) = std::env::var_os("BOURSE_OPENAPI_OUT") else {
        return;
    };
    let text = serde_json::to_string_pretty(&generated()).expect("serializes");
    std::fs::write(&path, text).expect("writes the document");
}
