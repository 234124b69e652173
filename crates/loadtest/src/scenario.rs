//! Scenarios: the weighted mix of REST requests a run sends.
//!
//! A scenario is a JSON file ([`builtin`] is `scenarios/builtin.json`, which doubles as the
//! example of the format). Each request has a name (its row in the reports), a weight, a method,
//! a path with query, and optionally headers and a JSON body. Paths, headers and bodies may use
//! placeholders:
//! - `{symbol}`: one of the scenario's `symbols`, drawn at random for each request;
//! - `{portfolio}`: the portfolio the run created for the tier's key (needs `portfolio`);
//! - `{seq}`: a number unique within the run (e.g. for `Idempotency-Key`).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context as _;
use rand::RngExt as _;
use rand::distr::Distribution as _;
use rand::distr::weighted::WeightedIndex;
use rand::rngs::StdRng;
use reqwest::Method;
use serde::Deserialize;

const BUILTIN: &str = include_str!("../scenarios/builtin.json");

/// A validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub symbols: Vec<String>,
    /// The portfolio created for each tier's key before the load, when requests need one.
    pub portfolio: Option<PortfolioSetup>,
    pub requests: Vec<RequestTemplate>,
    weights: WeightedIndex<f64>,
}

/// What a scenario file holds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    name: String,
    #[serde(default)]
    #[expect(dead_code, reason = "documents the scenario in its file")]
    description: String,
    #[serde(default)]
    symbols: Vec<String>,
    portfolio: Option<PortfolioSetup>,
    requests: Vec<RequestFile>,
}

/// A portfolio to create for each tier's key: its cash and the market buys that fill it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortfolioSetup {
    /// Initial cash, an exact decimal as text.
    pub cash: String,
    #[serde(default)]
    pub holdings: Vec<Holding>,
}

/// One market buy of the set-up.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holding {
    pub symbol: String,
    pub quantity: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestFile {
    name: String,
    weight: f64,
    method: String,
    path: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    body: Option<serde_json::Value>,
}

/// One kind of request of the mix, placeholders unfilled.
#[derive(Debug, Clone)]
pub struct RequestTemplate {
    pub name: String,
    pub weight: f64,
    pub method: Method,
    pub path: String,
    pub headers: Vec<(String, String)>,
    /// The JSON body as text.
    pub body: Option<String>,
}

/// A request ready to send: placeholders filled.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Index of its template in [`Scenario::requests`].
    pub template: usize,
    pub method: Method,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

/// The values of a tier's placeholders other than `{symbol}` and `{seq}`.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    pub portfolio: Option<String>,
}

/// The scenario that ships with Bourse.
pub fn builtin() -> Scenario {
    // The file is part of the source and a test parses it, so this cannot fail at run time.
    Scenario::parse(BUILTIN).expect("the built-in scenario is valid")
}

impl Scenario {
    /// `builtin`, or a scenario file.
    pub fn load(name_or_path: &str) -> anyhow::Result<Self> {
        if name_or_path == "builtin" {
            return Ok(builtin());
        }
        let path = Path::new(name_or_path);
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the scenario {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("in the scenario {}", path.display()))
    }

    /// Parses and checks a scenario, naming the offending request and field.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let file: ScenarioFile = serde_json::from_str(text).context("not a scenario")?;
        anyhow::ensure!(!file.requests.is_empty(), "`requests` is empty");
        let mut requests = Vec::with_capacity(file.requests.len());
        for (index, request) in file.requests.into_iter().enumerate() {
            let at = format!("requests[{index}] ({:?})", request.name);
            anyhow::ensure!(
                request.weight.is_finite() && request.weight > 0.0,
                "{at}.weight must be a positive number, got {}",
                request.weight
            );
            let method = match request.method.to_ascii_uppercase().as_str() {
                "GET" => Method::GET,
                "POST" => Method::POST,
                "PUT" => Method::PUT,
                "PATCH" => Method::PATCH,
                "DELETE" => Method::DELETE,
                other => anyhow::bail!(
                    "{at}.method must be GET, POST, PUT, PATCH or DELETE, got {other:?}"
                ),
            };
            anyhow::ensure!(
                request.path.starts_with('/'),
                "{at}.path must start with '/', got {:?}",
                request.path
            );
            let body = request.body.map(|body| body.to_string());
            let uses = |placeholder: &str| {
                request.path.contains(placeholder)
                    || body
                        .as_deref()
                        .is_some_and(|body| body.contains(placeholder))
                    || request
                        .headers
                        .values()
                        .any(|value| value.contains(placeholder))
            };
            anyhow::ensure!(
                !uses("{portfolio}") || file.portfolio.is_some(),
                "{at} uses {{portfolio}}, so the scenario needs a `portfolio` to create"
            );
            anyhow::ensure!(
                !uses("{symbol}") || !file.symbols.is_empty(),
                "{at} uses {{symbol}}, so the scenario needs `symbols`"
            );
            anyhow::ensure!(
                requests
                    .iter()
                    .all(|known: &RequestTemplate| known.name != request.name),
                "{at}.name is used twice"
            );
            requests.push(RequestTemplate {
                name: request.name,
                weight: request.weight,
                method,
                path: request.path,
                headers: request.headers.into_iter().collect(),
                body,
            });
        }
        let weights = WeightedIndex::new(requests.iter().map(|request| request.weight))
            .context("the request weights")?;
        Ok(Self {
            name: file.name,
            symbols: file.symbols,
            portfolio: file.portfolio,
            requests,
            weights,
        })
    }

    /// Draws the next request of the mix and fills its placeholders.
    pub fn next(&self, rng: &mut StdRng, vars: &Vars, seq: u64) -> Prepared {
        let template = self.weights.sample(rng);
        let request = &self.requests[template];
        let symbol = match self.symbols.len() {
            0 => "",
            n => &self.symbols[rng.random_range(0..n)],
        };
        let fill = |text: &str| fill(text, symbol, vars, seq);
        Prepared {
            template,
            method: request.method.clone(),
            path: fill(&request.path),
            headers: request
                .headers
                .iter()
                .map(|(name, value)| (name.clone(), fill(value)))
                .collect(),
            body: request.body.as_deref().map(fill),
        }
    }
}

fn fill(text: &str, symbol: &str, vars: &Vars, seq: u64) -> String {
    if !text.contains('{') {
        return text.to_owned();
    }
    let mut text = text.replace("{symbol}", symbol);
    if let Some(portfolio) = &vars.portfolio {
        text = text.replace("{portfolio}", portfolio);
    }
    text.replace("{seq}", &seq.to_string())
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng as _;

    use super::*;

    #[test]
    fn the_builtin_mix_follows_the_design_weights() {
        let scenario = builtin();
        let weight = |names: &[&str]| -> f64 {
            scenario
                .requests
                .iter()
                .filter(|request| names.contains(&request.name.as_str()))
                .map(|request| request.weight)
                .sum()
        };
        assert_eq!(weight(&["portfolio", "positions", "valuation"]), 3.0);
        assert_eq!(weight(&["quote", "quotes", "bars"]), 2.0);
        assert_eq!(weight(&["score", "sentiment"]), 1.0);
        assert!(weight(&["risk"]) < 1.0 && weight(&["order"]) < weight(&["risk"]));

        // Drawn over many requests, each kind's share follows its weight.
        let mut rng = StdRng::seed_from_u64(7);
        let vars = Vars {
            portfolio: Some("p-1".into()),
        };
        let mut counts = vec![0u32; scenario.requests.len()];
        let draws = 64_000;
        for seq in 0..draws {
            counts[scenario.next(&mut rng, &vars, seq).template] += 1;
        }
        let total: f64 = scenario.requests.iter().map(|request| request.weight).sum();
        for (request, count) in scenario.requests.iter().zip(counts) {
            let expected = f64::from(draws as u32) * request.weight / total;
            let off = (f64::from(count) - expected).abs() / expected;
            assert!(
                off < 0.1,
                "{}: {count} drawn, {expected:.0} expected",
                request.name
            );
        }
    }

    #[test]
    fn placeholders_are_filled_everywhere() {
        let scenario = builtin();
        let order = scenario
            .requests
            .iter()
            .position(|request| request.name == "order")
            .expect("an order request");
        let vars = Vars {
            portfolio: Some("p-42".into()),
        };
        let mut rng = StdRng::seed_from_u64(1);
        let prepared = (0..10_000)
            .map(|seq| scenario.next(&mut rng, &vars, seq))
            .find(|prepared| prepared.template == order)
            .expect("orders are drawn");
        assert!(prepared.path.starts_with("/v1/portfolios/p-42/orders"));
        let (_, key) = &prepared.headers[0];
        assert!(key.starts_with("loadtest-") && !key.contains('{'), "{key}");
        let body: serde_json::Value =
            serde_json::from_str(prepared.body.as_deref().expect("a body")).expect("JSON");
        assert!(
            scenario
                .symbols
                .iter()
                .any(|symbol| body["symbol"] == **symbol)
        );
    }

    #[test]
    fn a_bad_scenario_names_the_request_and_field() {
        let cases = [
            (r#"{"name":"x","requests":[]}"#, "`requests` is empty"),
            (
                r#"{"name":"x","requests":[{"name":"a","weight":0,"method":"GET","path":"/"}]}"#,
                "requests[0] (\"a\").weight",
            ),
            (
                r#"{"name":"x","requests":[{"name":"a","weight":1,"method":"TRACE","path":"/"}]}"#,
                "requests[0] (\"a\").method",
            ),
            (
                r#"{"name":"x","requests":[{"name":"a","weight":1,"method":"GET","path":"v1"}]}"#,
                ".path must start",
            ),
            (
                r#"{"name":"x","requests":[{"name":"a","weight":1,"method":"GET","path":"/v1/portfolios/{portfolio}"}]}"#,
                "needs a `portfolio`",
            ),
            (
                r#"{"name":"x","requests":[{"name":"a","weight":1,"method":"GET","path":"/v1/quotes/{symbol}"}]}"#,
                "needs `symbols`",
            ),
            (
                r#"{"name":"x","requests":[{"name":"a","weight":1,"method":"GET","path":"/"},{"name":"a","weight":1,"method":"GET","path":"/"}]}"#,
                "requests[1] (\"a\").name is used twice",
            ),
        ];
        for (text, expected) in cases {
            let error = format!("{:#}", Scenario::parse(text).expect_err(text));
            assert!(error.contains(expected), "{text}: {error}");
        }
    }
}
