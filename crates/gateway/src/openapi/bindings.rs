//! The REST bindings declared in the contract: every RPC's `google.api.http` option (and its
//! `additional_bindings`), read from the compiled-in descriptor set.

use bourse_proto::google::api::HttpRule;
use bourse_proto::google::api::http_rule::Pattern;
use prost_reflect::{DescriptorError, DescriptorPool, MethodDescriptor};

/// The full name of the `google.api.http` method option.
const HTTP_OPTION: &str = "google.api.http";

/// One REST binding of an RPC: an HTTP method and path template, and where the body goes.
#[derive(Debug, Clone)]
pub struct HttpBinding {
    /// The HTTP method, upper case (`GET`, `POST`, ...).
    pub method: &'static str,
    /// The path template as written in the contract, e.g. `/v1/quotes/{symbol}`.
    pub path: String,
    /// The request field carried by the body: `*` for the whole message, empty for none.
    pub body: String,
    /// The response field returned as the body; empty for the whole message.
    pub response_body: String,
    /// The RPC the binding calls.
    pub rpc: MethodDescriptor,
}

impl HttpBinding {
    /// `Service.Method`, the OpenAPI operation id of the first binding of an RPC.
    pub fn operation_id(&self) -> String {
        format!("{}.{}", self.rpc.parent_service().name(), self.rpc.name())
    }

    /// The names of the path parameters, in order: `{field}` or `{field=pattern}` segments.
    pub fn path_params(&self) -> Vec<String> {
        path_params(&self.path)
    }

    /// The path in OpenAPI's template syntax (`{field=pattern}` becomes `{field}`).
    pub fn openapi_path(&self) -> String {
        let mut out = String::with_capacity(self.path.len());
        let mut rest = self.path.as_str();
        while let Some((before, after)) = rest.split_once('{') {
            let (inner, tail) = after.split_once('}').unwrap_or((after, ""));
            out.push_str(before);
            out.push('{');
            out.push_str(inner.split('=').next().unwrap_or(inner));
            out.push('}');
            rest = tail;
        }
        out.push_str(rest);
        out
    }
}

/// The parameter names of a path template.
fn path_params(path: &str) -> Vec<String> {
    path.split('{')
        .skip(1)
        .filter_map(|part| part.split('}').next())
        .map(|inner| inner.split('=').next().unwrap_or(inner).to_owned())
        .collect()
}

/// The contract's descriptor pool, decoded from `bourse_proto::FILE_DESCRIPTOR_SET`.
pub fn contract() -> Result<DescriptorPool, DescriptorError> {
    DescriptorPool::decode(bourse_proto::FILE_DESCRIPTOR_SET)
}

/// Every REST binding in the contract, in declaration order (services, methods, bindings).
pub fn http_bindings(pool: &DescriptorPool) -> Vec<HttpBinding> {
    let Some(option) = pool.get_extension_by_name(HTTP_OPTION) else {
        return Vec::new();
    };
    let mut bindings = Vec::new();
    for service in pool.services() {
        for rpc in service.methods() {
            let options = rpc.options();
            if !options.has_extension(&option) {
                continue;
            }
            let Some(rule) = options
                .get_extension(&option)
                .as_message()
                .and_then(|message| message.transcode_to::<HttpRule>().ok())
            else {
                continue;
            };
            push_rule(&mut bindings, &rpc, &rule);
            for additional in &rule.additional_bindings {
                push_rule(&mut bindings, &rpc, additional);
            }
        }
    }
    bindings
}

fn push_rule(bindings: &mut Vec<HttpBinding>, rpc: &MethodDescriptor, rule: &HttpRule) {
    let (method, path) = match &rule.pattern {
        Some(Pattern::Get(path)) => ("GET", path),
        Some(Pattern::Post(path)) => ("POST", path),
        Some(Pattern::Put(path)) => ("PUT", path),
        Some(Pattern::Delete(path)) => ("DELETE", path),
        Some(Pattern::Patch(path)) => ("PATCH", path),
        Some(Pattern::Custom(_)) | None => return,
    };
    bindings.push(HttpBinding {
        method,
        path: path.clone(),
        body: rule.body.clone(),
        response_body: rule.response_body.clone(),
        rpc: rpc.clone(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_binding_including_additional_ones() {
        let pool = contract().expect("the contract decodes");
        let bindings = http_bindings(&pool);
        let has = |method: &str, path: &str| {
            bindings
                .iter()
                .any(|binding| binding.method == method && binding.path == path)
        };
        assert!(has("GET", "/v1/quotes/{symbol}"));
        assert!(has("POST", "/v1/quotes:batchGet"), "the primary binding");
        assert!(has("GET", "/v1/quotes"), "the additional binding");
        assert!(has("DELETE", "/v1/portfolios/{portfolio_id}"));
        assert!(has("POST", "/v1/sentiment:batchScore"));
        assert!(bindings.len() >= 25, "{} bindings", bindings.len());
    }

    #[test]
    fn path_parameters_come_from_the_template() {
        assert_eq!(
            path_params("/v1/portfolios/{portfolio_id}/orders/{order_id}:cancel"),
            ["portfolio_id", "order_id"]
        );
        assert_eq!(path_params("/v1/{name=shelves/*}/books"), ["name"]);
        assert!(path_params("/v1/instruments").is_empty());
    }
}
