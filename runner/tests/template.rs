//! `infra/template.yaml` and the code agree:
//! - every operation a function's router serves is an `HttpApi` event (method and path) of that
//!   function in the template (`GET /health`, which every router serves, is routed to one of them);
//! - every environment variable a function reads (its crate's `ENV_VARS`) is set for that function,
//!   in its own `Environment.Variables` or in `Globals`;
//! - an admin route opts out of the API's JWT authorizer (`Authorizer: NONE`) exactly when the
//!   function authenticates it itself (`dashboard_api::SELF_AUTHENTICATED`: the page's routes,
//!   which browsers reach with a session cookie);
//! - every parameter that feeds a variable accepts exactly the values the code's check of that
//!   variable accepts, on boundary and just-outside values derived from the parameter's own
//!   constraints (`MinValue`/`MaxValue`, `MinLength`/`MaxLength`, `AllowedValues`, and for
//!   `AllowedPattern` a list of representative values matched against the pattern);
//! - every EventBridge rule whose dead-letter queue is the stack's may send to it (the queue's
//!   policy names the rule), so an event EventBridge could not deliver is kept, not dropped.
//!
//! The functions are found in the template by their build metadata
//! (`Metadata.BuildProperties.Binary`), which is also what `sam build` builds. The other tests run
//! each check on a copy of the template (or of the code's list) with one route, variable,
//! constraint or dead-letter source changed, and expect it to fail.

mod common;

use std::collections::BTreeSet;

use autolearn_web::routes::{Operation, health};
use autolearn_web::{promotion, webhook};
use proposal_analyst::analyst;
use regex::Regex;
use serde_yaml::{Mapping, Value};
use weekly_batch::{embeddings, handoff};

const TEMPLATE: &str = include_str!("../../infra/template.yaml");

/// What the code of one function serves and reads.
#[derive(Debug, Clone)]
struct FunctionCode {
    /// The binary, as in `Metadata.BuildProperties.Binary`.
    binary: &'static str,
    /// The operations its router serves, `/health` included (empty for the batch).
    operations: Vec<Operation>,
    env_vars: &'static [&'static str],
    /// Admin functions: every route but `/health` and the self-authenticated ones must go
    /// through the JWT authorizer.
    admin: bool,
}

fn health_operation() -> Operation {
    health::<()>("any").operations()[0].clone()
}

fn with_health(operations: &[Operation]) -> Vec<Operation> {
    // Each function's main.rs merges `health(SERVICE)` into its routes.
    let mut operations = operations.to_vec();
    operations.push(health_operation());
    operations
}

/// The six functions, as their crates define them. The states are built as in
/// `autolearn_runner::all_routes`, which serves the same routers.
fn code() -> Vec<FunctionCode> {
    let env_vars = |service: &str| match service {
        intent_tracker::SERVICE => intent_tracker::ENV_VARS,
        feedback_webhook::SERVICE => feedback_webhook::ENV_VARS,
        dashboard_api::SERVICE => dashboard_api::ENV_VARS,
        customer_data_api::SERVICE => customer_data_api::ENV_VARS,
        other => panic!("a function the template test does not know: {other}"),
    };
    let mut functions: Vec<FunctionCode> = autolearn_runner::function_routes(&common::offline_services())
        .into_iter()
        .map(|(binary, routes)| FunctionCode {
            binary,
            operations: with_health(routes.operations()),
            env_vars: env_vars(binary),
            admin: binary == dashboard_api::SERVICE || binary == customer_data_api::SERVICE,
        })
        .collect();
    functions.push(FunctionCode {
        binary: weekly_batch::SERVICE,
        operations: Vec::new(),
        env_vars: weekly_batch::ENV_VARS,
        admin: false,
    });
    functions.push(FunctionCode {
        binary: proposal_analyst::SERVICE,
        operations: Vec::new(),
        env_vars: proposal_analyst::ENV_VARS,
        admin: false,
    });
    functions
}

// ---- reading the template -------------------------------------------------------------------

/// One `HttpApi` event of a function.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Route {
    operation: Operation,
    /// `Auth.Authorizer` of the event; `None` means the API's default authorizer.
    authorizer: Option<String>,
}

/// What the template declares for one function.
#[derive(Debug)]
struct TemplateFunction {
    logical_id: String,
    routes: Vec<Route>,
    env_vars: BTreeSet<String>,
}

fn parse(template: &str) -> Value {
    serde_yaml::from_str(template).expect("infra/template.yaml parses")
}

fn str_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    value_at(value, path)?.as_str()
}

fn value_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |value, key| value.get(*key))
}

fn keys(mapping: Option<&Value>) -> BTreeSet<String> {
    mapping
        .and_then(Value::as_mapping)
        .map(|mapping| mapping.keys().filter_map(|key| key.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// The template's function whose build metadata names `binary`.
fn function(template: &Value, binary: &str) -> Option<TemplateFunction> {
    let globals = keys(value_at(template, &["Globals", "Function", "Environment", "Variables"]));
    let resources = template.get("Resources")?.as_mapping()?;
    resources.iter().find_map(|(logical_id, resource)| {
        if str_at(resource, &["Type"]) != Some("AWS::Serverless::Function")
            || str_at(resource, &["Metadata", "BuildProperties", "Binary"]) != Some(binary)
        {
            return None;
        }
        let properties = resource.get("Properties")?;
        let routes = properties
            .get("Events")
            .and_then(Value::as_mapping)
            .into_iter()
            .flatten()
            .filter(|(_, event)| str_at(event, &["Type"]) == Some("HttpApi"))
            .filter_map(|(_, event)| {
                let method = str_at(event, &["Properties", "Method"])?.to_uppercase();
                let path = str_at(event, &["Properties", "Path"])?.to_owned();
                let authorizer = str_at(event, &["Properties", "Auth", "Authorizer"]).map(str::to_owned);
                Some(Route { operation: Operation { method, path }, authorizer })
            })
            .collect();
        let mut env_vars = globals.clone();
        env_vars.extend(keys(value_at(properties, &["Environment", "Variables"])));
        Some(TemplateFunction { logical_id: logical_id.as_str()?.to_owned(), routes, env_vars })
    })
}

// ---- the checks -----------------------------------------------------------------------------

/// Served operations the template does not route to the function serving them (or, for
/// `/health`, to none of the functions serving it).
fn missing_routes(template: &Value, code: &[FunctionCode]) -> Vec<String> {
    let health = health_operation();
    let mut problems = Vec::new();
    let mut health_routed = false;
    for function_code in code {
        let Some(declared) = function(template, function_code.binary) else {
            problems.push(format!("no function with BuildProperties.Binary {}", function_code.binary));
            continue;
        };
        let routed: BTreeSet<&Operation> = declared.routes.iter().map(|route| &route.operation).collect();
        health_routed |= routed.contains(&health);
        for operation in &function_code.operations {
            if *operation != health && !routed.contains(operation) {
                problems.push(format!(
                    "{} serves {} {} but the template has no HttpApi event for it on {}",
                    function_code.binary, operation.method, operation.path, declared.logical_id
                ));
            }
        }
    }
    let serves_health = code.iter().any(|function| function.operations.contains(&health));
    if serves_health && !health_routed {
        problems.push(format!(
            "the functions serve {} {} but the template routes it to none of them",
            health.method, health.path
        ));
    }
    problems
}

/// Variables a function reads that the template does not set for it.
fn missing_variables(template: &Value, code: &[FunctionCode]) -> Vec<String> {
    let mut problems = Vec::new();
    for function_code in code {
        let Some(declared) = function(template, function_code.binary) else {
            problems.push(format!("no function with BuildProperties.Binary {}", function_code.binary));
            continue;
        };
        for name in function_code.env_vars {
            if !declared.env_vars.contains(*name) {
                problems.push(format!(
                    "{} reads {name} but the template does not set it for {}",
                    function_code.binary, declared.logical_id
                ));
            }
        }
    }
    problems
}

fn self_authenticated(operation: &Operation) -> bool {
    dashboard_api::SELF_AUTHENTICATED
        .iter()
        .any(|(method, path)| operation.method == *method && operation.path == *path)
}

/// Admin routes that opt out of the JWT authorizer though the function leaves authentication to
/// it, self-authenticated routes left behind it (a browser's cookie would never pass), or an API
/// without a default authorizer.
fn unauthenticated_admin_routes(template: &Value, code: &[FunctionCode]) -> Vec<String> {
    let mut problems = Vec::new();
    let apis = template
        .get("Resources")
        .and_then(Value::as_mapping)
        .into_iter()
        .flatten()
        .filter(|(_, resource)| str_at(resource, &["Type"]) == Some("AWS::Serverless::HttpApi"));
    for (logical_id, api) in apis {
        if str_at(api, &["Properties", "Auth", "DefaultAuthorizer"]).is_none_or(|name| name == "NONE") {
            problems.push(format!("{} has no DefaultAuthorizer", logical_id.as_str().unwrap_or("?")));
        }
    }
    let health = health_operation();
    for function_code in code.iter().filter(|function| function.admin) {
        let Some(declared) = function(template, function_code.binary) else { continue };
        for route in &declared.routes {
            if route.operation == health {
                continue;
            }
            let opted_out = route.authorizer.as_deref() == Some("NONE");
            if opted_out && !self_authenticated(&route.operation) {
                problems.push(format!(
                    "admin route {} {} of {} has Authorizer NONE but the function leaves its \
                     authentication to the JWT authorizer",
                    route.operation.method, route.operation.path, declared.logical_id
                ));
            }
            if !opted_out && self_authenticated(&route.operation) {
                problems.push(format!(
                    "admin route {} {} of {} authenticates itself (session cookie) but sits behind \
                     the JWT authorizer, which refuses every browser: set Authorizer NONE",
                    route.operation.method, route.operation.path, declared.logical_id
                ));
            }
        }
    }
    problems
}

/// Routes in the template that the function they go to does not serve.
fn unserved_routes(template: &Value, code: &[FunctionCode]) -> Vec<String> {
    let mut problems = Vec::new();
    for function_code in code {
        let Some(declared) = function(template, function_code.binary) else { continue };
        for route in &declared.routes {
            if !function_code.operations.contains(&route.operation) {
                problems.push(format!(
                    "the template routes {} {} to {} but {} does not serve it",
                    route.operation.method, route.operation.path, declared.logical_id, function_code.binary
                ));
            }
        }
    }
    problems
}

// ---- the template as it is ------------------------------------------------------------------

#[test]
fn every_served_operation_is_routed_to_its_function() {
    let problems = missing_routes(&parse(TEMPLATE), &code());
    assert!(problems.is_empty(), "infra/template.yaml lacks routes:\n{}", problems.join("\n"));
}

#[test]
fn every_variable_a_function_reads_is_set_for_it() {
    let problems = missing_variables(&parse(TEMPLATE), &code());
    assert!(problems.is_empty(), "infra/template.yaml lacks variables:\n{}", problems.join("\n"));
}

#[test]
fn admin_routes_use_the_jwt_authorizer_unless_the_function_authenticates_them() {
    let problems = unauthenticated_admin_routes(&parse(TEMPLATE), &code());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The other direction: no route in the template leads to a 404.
#[test]
fn every_routed_operation_is_served() {
    let problems = unserved_routes(&parse(TEMPLATE), &code());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---- the checks fail when the template loses a route or a variable --------------------------

fn resource_mut<'a>(template: &'a mut Value, binary: &str) -> &'a mut Mapping {
    template
        .get_mut("Resources")
        .and_then(Value::as_mapping_mut)
        .unwrap()
        .values_mut()
        .find(|resource| str_at(resource, &["Metadata", "BuildProperties", "Binary"]) == Some(binary))
        .and_then(Value::as_mapping_mut)
        .unwrap_or_else(|| panic!("no function {binary}"))
}

/// The template without the `HttpApi` event of `operation` on `binary`'s function.
fn without_route(template: &Value, binary: &str, operation: &Operation) -> Value {
    let mut template = template.clone();
    let events = resource_mut(&mut template, binary)
        .get_mut("Properties")
        .and_then(|properties| properties.get_mut("Events"))
        .and_then(Value::as_mapping_mut)
        .unwrap();
    let before = events.len();
    events.retain(|_, event| {
        !(str_at(event, &["Type"]) == Some("HttpApi")
            && str_at(event, &["Properties", "Method"]).map(str::to_uppercase).as_deref()
                == Some(operation.method.as_str())
            && str_at(event, &["Properties", "Path"]) == Some(operation.path.as_str()))
    });
    assert_eq!(events.len(), before - 1, "{binary} has one event for {operation:?}");
    template
}

/// The template without `name` for `binary`'s function, wherever it was set (the function or
/// Globals).
fn without_variable(template: &Value, binary: &str, name: &str) -> Value {
    let mut template = template.clone();
    let mut removed = false;
    if let Some(globals) = template
        .get_mut("Globals")
        .and_then(|globals| globals.get_mut("Function"))
        .and_then(|function| function.get_mut("Environment"))
        .and_then(|environment| environment.get_mut("Variables"))
        .and_then(Value::as_mapping_mut)
    {
        removed |= globals.remove(name).is_some();
    }
    if let Some(variables) = resource_mut(&mut template, binary)
        .get_mut("Properties")
        .and_then(|properties| properties.get_mut("Environment"))
        .and_then(|environment| environment.get_mut("Variables"))
        .and_then(Value::as_mapping_mut)
    {
        removed |= variables.remove(name).is_some();
    }
    assert!(removed, "{name} was set for {binary}");
    template
}

/// Every operation the template routes, with the index in `code` of the function it goes to.
fn routed_operations(template: &Value, code: &[FunctionCode]) -> Vec<(usize, Operation)> {
    let routed: Vec<(usize, Operation)> = code
        .iter()
        .enumerate()
        .flat_map(|(index, function_code)| {
            let declared =
                function(template, function_code.binary).expect("every function is in the template");
            declared.routes.into_iter().map(move |route| (index, route.operation))
        })
        .collect();
    assert!(!routed.is_empty());
    routed
}

/// `problems` is one problem, about `operation` (`change`: what was changed, for the message).
fn assert_reports_only(problems: &[String], operation: &Operation, change: &str) {
    assert_eq!(problems.len(), 1, "{operation:?}, {change}: {problems:?}");
    assert!(problems[0].contains(&operation.path), "{problems:?}");
}

#[test]
fn the_route_check_fails_when_any_route_is_removed() {
    let template = parse(TEMPLATE);
    let code = code();
    assert!(missing_routes(&template, &code).is_empty());
    for (index, operation) in routed_operations(&template, &code) {
        let binary = code[index].binary;
        let problems = missing_routes(&without_route(&template, binary, &operation), &code);
        assert_reports_only(&problems, &operation, &format!("removed from {binary}"));
    }
}

#[test]
fn the_serving_check_fails_when_a_router_stops_serving_any_route() {
    let template = parse(TEMPLATE);
    for (index, operation) in routed_operations(&template, &code()) {
        let mut code = code();
        code[index].operations.retain(|served| *served != operation);
        let problems = unserved_routes(&template, &code);
        assert_reports_only(&problems, &operation, &format!("{} not serving it", code[index].binary));
    }
}

#[test]
fn the_variable_check_fails_when_any_variable_is_removed() {
    let template = parse(TEMPLATE);
    let code = code();
    for function in &code {
        for name in function.env_vars {
            let mutated = without_variable(&template, function.binary, name);
            let problems = missing_variables(&mutated, &code);
            assert!(
                problems
                    .iter()
                    .any(|problem| problem.starts_with(&format!("{} reads {name} ", function.binary))),
                "removing {name} from {} gives {problems:?}",
                function.binary
            );
        }
    }
}

#[test]
fn the_admin_check_fails_when_an_admin_route_opts_out() {
    let template = parse(TEMPLATE);
    let code = code();
    let mut mutated = template.clone();
    let events = resource_mut(&mut mutated, dashboard_api::SERVICE)
        .get_mut("Properties")
        .and_then(|properties| properties.get_mut("Events"))
        .and_then(Value::as_mapping_mut)
        .unwrap();
    let (_, event) = events.iter_mut().next().unwrap();
    let properties = event.get_mut("Properties").and_then(Value::as_mapping_mut).unwrap();
    let auth: Value = serde_yaml::from_str("Authorizer: NONE").unwrap();
    properties.insert("Auth".into(), auth);
    assert_eq!(unauthenticated_admin_routes(&mutated, &code).len(), 1);
}

#[test]
fn the_admin_check_fails_when_a_cookie_route_stays_behind_the_authorizer() {
    let template = parse(TEMPLATE);
    let code = code();
    assert!(unauthenticated_admin_routes(&template, &code).is_empty());
    for (method, path) in dashboard_api::SELF_AUTHENTICATED {
        let mut mutated = template.clone();
        let events = resource_mut(&mut mutated, dashboard_api::SERVICE)
            .get_mut("Properties")
            .and_then(|properties| properties.get_mut("Events"))
            .and_then(Value::as_mapping_mut)
            .unwrap();
        let event = events
            .values_mut()
            .find(|event| {
                str_at(event, &["Properties", "Method"]).map(str::to_uppercase).as_deref() == Some(*method)
                    && str_at(event, &["Properties", "Path"]) == Some(*path)
            })
            .unwrap_or_else(|| panic!("no event for {method} {path}"));
        event.get_mut("Properties").and_then(Value::as_mapping_mut).unwrap().remove("Auth");
        let problems = unauthenticated_admin_routes(&mutated, &code);
        assert_eq!(problems.len(), 1, "{method} {path}: {problems:?}");
        assert!(problems[0].contains(path) && problems[0].contains("set Authorizer NONE"), "{problems:?}");
    }
}

#[test]
fn a_function_missing_from_the_template_is_reported() {
    let mut template = parse(TEMPLATE);
    let resources = template.get_mut("Resources").and_then(Value::as_mapping_mut).unwrap();
    resources.retain(|_, resource| {
        str_at(resource, &["Metadata", "BuildProperties", "Binary"]) != Some(weekly_batch::SERVICE)
    });
    let problems = missing_variables(&template, &code());
    assert!(problems.iter().any(|problem| problem.contains("weekly-batch")), "{problems:?}");
}

// ---- parameter values: the template accepts exactly what the code accepts -------------------

/// The code's check of a variable's value: what its `Config::from_env` applies to a value that is
/// set (an empty value is an unset variable, see [`parameter_mismatches`]).
type Check = fn(&str) -> bool;

/// The check of each variable a template parameter feeds, by the variable's name (a variable read
/// by several functions is checked the same way by each).
fn code_check(variable: &str) -> Option<Check> {
    Some(match variable {
        feedback_webhook::EDIT_THRESHOLD => |raw| feedback_webhook::parse_edit_threshold(raw).is_ok(),
        webhook::MAX_BODY_BYTES => |raw| webhook::parse_max_body_bytes(raw).is_ok(),
        // Any secret name or ARN (Secrets Manager refuses an unknown one at cold start, and the
        // error names the variable).
        webhook::WEBHOOK_SECRET_ID => |raw| !raw.trim().is_empty(),
        dashboard_api::SESSION_KEY_SECRET_ID => |raw| !raw.trim().is_empty(),
        // `Config::from_env` reads an empty origin as none, and parses any other.
        autolearn_web::cors::CORS_ORIGIN => {
            |raw| raw.is_empty() || autolearn_web::cors::parse_origin(raw).is_ok()
        }
        // Any group name; an empty one is the default group.
        autolearn_web::admin::ADMIN_GROUP => |_| true,
        dashboard_api::OIDC_ISSUER => |raw| dashboard_api::parse_issuer(raw).is_ok(),
        // Any client id; an empty one is a missing variable.
        dashboard_api::OIDC_CLIENT_ID => |raw| !raw.trim().is_empty(),
        weekly_batch::LOOKBACK_DAYS => |raw| weekly_batch::parse_lookback_days(raw).is_ok(),
        autolearn_web::config::RETENTION_DAYS => {
            |raw| autolearn_web::config::parse_retention_days(raw).is_ok()
        }
        promotion::PROMOTE_MIN_APPROVAL => {
            |raw| promotion::parse_rate(promotion::PROMOTE_MIN_APPROVAL, raw).is_ok()
        }
        promotion::DEMOTE_MAX_APPROVAL => {
            |raw| promotion::parse_rate(promotion::DEMOTE_MAX_APPROVAL, raw).is_ok()
        }
        promotion::PROMOTION_BASELINE_PRIOR => {
            |raw| promotion::parse_rate(promotion::PROMOTION_BASELINE_PRIOR, raw).is_ok()
        }
        promotion::PROMOTE_MIN_HITS => {
            |raw| promotion::parse_min_hits(promotion::PROMOTE_MIN_HITS, raw).is_ok()
        }
        promotion::DEMOTE_MIN_HITS => {
            |raw| promotion::parse_min_hits(promotion::DEMOTE_MIN_HITS, raw).is_ok()
        }
        promotion::PROMOTION_GUARD => |raw| promotion::parse_guard(raw).is_ok(),
        weekly_batch::SENDER_EMAIL => |raw| weekly_batch::parse_sender_email(raw).is_ok(),
        weekly_batch::ADMIN_EMAILS => |raw| weekly_batch::parse_admin_emails(raw).is_ok(),
        // An empty DashboardUrl never reaches the code: the template passes the stack's own page.
        weekly_batch::DASHBOARD_URL => |raw| raw.is_empty() || weekly_batch::parse_dashboard_url(raw).is_ok(),
        handoff::ANALYST => |raw| handoff::parse_analyst(raw).is_ok(),
        // Read only with ANALYST=bedrock, then checked like this.
        analyst::BEDROCK_MODEL_ID => |raw| analyst::parse_model_id(raw).is_ok(),
        analyst::ANALYST_MAX_CALLS => |raw| analyst::parse_max_calls(raw).is_ok(),
        analyst::ANALYST_MAX_TOKENS => |raw| analyst::parse_max_tokens(raw).is_ok(),
        embeddings::EMBEDDINGS => |raw| embeddings::parse_embeddings(raw).is_ok(),
        // Read only with EMBEDDINGS=bedrock, then checked like this.
        embeddings::EMBEDDINGS_MODEL_ID => |raw| embeddings::parse_model_id(raw).is_ok(),
        embeddings::EMBEDDINGS_MAX_MESSAGES => |raw| embeddings::parse_max_messages(raw).is_ok(),
        _ => return None,
    })
}

/// Variables fed by a parameter that no `Config` reads, and why.
const UNCHECKED: &[(&str, &str)] =
    &[("RUST_LOG", "read by the log filter at start-up, which falls back to info on any value")];

/// One template parameter and the constraints CloudFormation checks a value against.
#[derive(Debug)]
struct Parameter {
    number: bool,
    default: Option<String>,
    min_value: Option<f64>,
    max_value: Option<f64>,
    min_length: Option<usize>,
    max_length: Option<usize>,
    allowed_values: Option<Vec<String>>,
    allowed_pattern: Option<Regex>,
}

/// A scalar as CloudFormation passes it on: numbers and booleans as their text.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

fn parameter(template: &Value, name: &str) -> Parameter {
    let declared = value_at(template, &["Parameters", name]).unwrap_or_else(|| panic!("no parameter {name}"));
    let number_at = |key: &str| declared.get(key).and_then(Value::as_f64);
    let length_at = |key: &str| declared.get(key).and_then(Value::as_u64).map(|length| length as usize);
    Parameter {
        number: str_at(declared, &["Type"]) == Some("Number"),
        default: declared.get("Default").and_then(scalar),
        min_value: number_at("MinValue"),
        max_value: number_at("MaxValue"),
        min_length: length_at("MinLength"),
        max_length: length_at("MaxLength"),
        allowed_values: declared
            .get("AllowedValues")
            .and_then(Value::as_sequence)
            .map(|values| values.iter().filter_map(scalar).collect()),
        // CloudFormation matches the whole value against the pattern.
        allowed_pattern: str_at(declared, &["AllowedPattern"])
            .map(|pattern| Regex::new(&format!("^(?:{pattern})$")).expect("AllowedPattern compiles")),
    }
}

impl Parameter {
    /// Whether CloudFormation accepts `raw` for this parameter.
    fn accepts(&self, raw: &str) -> bool {
        if self.number {
            let Ok(number) = raw.parse::<f64>() else { return false };
            if !number.is_finite()
                || self.min_value.is_some_and(|min| number < min)
                || self.max_value.is_some_and(|max| number > max)
            {
                return false;
            }
        }
        let length = raw.chars().count();
        !(self.min_length.is_some_and(|min| length < min)
            || self.max_length.is_some_and(|max| length > max)
            || self.allowed_values.as_ref().is_some_and(|values| !values.iter().any(|value| value == raw))
            || self.allowed_pattern.as_ref().is_some_and(|pattern| !pattern.is_match(raw)))
    }

    /// Values around each of the parameter's constraints: for numbers each bound, its neighbours and
    /// (without a bound) far values; for strings the lengths at and beyond each bound, the allowed
    /// values and their near misses, and the [`REPRESENTATIVE`] values a pattern is matched against.
    fn candidates(&self) -> Vec<String> {
        let mut candidates: Vec<String> = self.default.iter().cloned().collect();
        if self.number {
            let mut numbers: Vec<i128> = Vec::new();
            for bound in [self.min_value, self.max_value].into_iter().flatten() {
                let bound = bound as i128;
                numbers.extend([bound - 1, bound, bound + 1]);
            }
            if self.min_value.is_none() {
                numbers.extend([-1, 0]);
            }
            if self.max_value.is_none() {
                numbers.extend([1_000_000, 1 << 32]);
            }
            candidates.extend(numbers.into_iter().map(|number| number.to_string()));
        } else {
            for bound in [self.min_length, self.max_length].into_iter().flatten() {
                for length in [bound.saturating_sub(1), bound, bound + 1] {
                    candidates.push("a".repeat(length));
                }
            }
            for value in self.allowed_values.iter().flatten() {
                candidates.extend([value.clone(), value.to_uppercase(), format!("{value}x")]);
            }
            candidates.extend(REPRESENTATIVE.iter().map(|value| (*value).to_owned()));
        }
        candidates.sort();
        candidates.dedup();
        candidates
    }
}

/// Values a pattern is matched against: the shapes the template's patterns describe (decimals in
/// [0, 1], origins, email addresses, lists of them) with the near misses of each.
const REPRESENTATIVE: &[&str] = &[
    "",
    "a",
    "abc",
    // decimals
    "0",
    "0.0",
    "0.2",
    "0.25",
    "0.999",
    "1",
    "1.0",
    "1.00",
    "1.01",
    "1.5",
    "2",
    "10",
    "-0",
    "-0.1",
    "-1",
    ".5",
    "0.",
    "1.",
    "01",
    "00.5",
    "+0.5",
    "1e-1",
    "0,5",
    "NaN",
    "inf",
    // origins
    "https://admin.example.com",
    "http://localhost:3000",
    "https://admin.example.com/",
    "https://admin.example.com/review",
    "https://*.example.com",
    "https://admin.example.com?x=1",
    "https://admin.example.com#top",
    "https://",
    "ftp://admin.example.com",
    "admin.example.com",
    "*",
    // email addresses and lists of them
    "reports@example.com",
    "a@b",
    "@example.com",
    "reports@",
    "two@@example.com",
    "an admin@example.com",
    "ops@example.com,lead@example.com",
    "ops@example.com, lead@example.com",
    "ops@example.com,",
    "ops@example.com,,lead@example.com",
    "ops@example.com;lead@example.com",
];

/// The parameters that feed each function's variables, directly or through `!If`: (variable,
/// parameter). A parameter reached only through `!Sub` (the webhook secret's dynamic reference)
/// does not feed its value to the variable.
fn parameter_variables(template: &Value) -> Vec<(String, String)> {
    fn refs(value: &Value, found: &mut Vec<String>) {
        match value {
            Value::Tagged(tagged) if tagged.tag == "Ref" => {
                found.extend(tagged.value.as_str().map(str::to_owned))
            }
            Value::Tagged(tagged) if tagged.tag == "If" => refs(&tagged.value, found),
            Value::Sequence(items) => items.iter().for_each(|item| refs(item, found)),
            _ => {}
        }
    }
    let parameters = keys(template.get("Parameters"));
    let mut environments = vec![value_at(template, &["Globals", "Function", "Environment", "Variables"])];
    let resources = template.get("Resources").and_then(Value::as_mapping).into_iter().flatten();
    environments.extend(
        resources
            .filter(|(_, resource)| str_at(resource, &["Type"]) == Some("AWS::Serverless::Function"))
            .map(|(_, resource)| value_at(resource, &["Properties", "Environment", "Variables"])),
    );
    let mut pairs = Vec::new();
    for (variable, value) in environments.into_iter().flatten().filter_map(Value::as_mapping).flatten() {
        let mut found = Vec::new();
        refs(value, &mut found);
        for name in found.into_iter().filter(|name| parameters.contains(name)) {
            pairs.push((variable.as_str().unwrap_or_default().to_owned(), name));
        }
    }
    pairs.sort();
    pairs.dedup();
    pairs
}

/// Where a parameter and the check of the variable it feeds disagree, and variables fed by a
/// parameter that nothing checks. An empty value is an unset variable to the code (its default
/// applies, or a required one is missing): it is checked one way only, that when the template
/// accepts it, the code does.
fn parameter_mismatches(template: &Value) -> Vec<String> {
    let listed = |list: &[(&str, &str)], variable: &str| list.iter().any(|(name, _)| *name == variable);
    let mut problems = Vec::new();
    for (variable, name) in parameter_variables(template) {
        let Some(check) = code_check(&variable) else {
            if !listed(UNCHECKED, &variable) {
                problems.push(format!("{name} feeds {variable}, which has no check in code_check"));
            }
            continue;
        };
        let parameter = parameter(template, &name);
        for candidate in parameter.candidates() {
            let template_accepts = parameter.accepts(&candidate);
            let code_accepts = check(&candidate);
            if candidate.is_empty() && !template_accepts {
                continue;
            }
            if template_accepts != code_accepts {
                let (yes, no) = if template_accepts {
                    ("the template", "the code")
                } else {
                    ("the code", "the template")
                };
                problems.push(format!(
                    "{name} = {candidate:?}: {yes} accepts it for {variable} but {no} refuses it"
                ));
            }
        }
    }
    problems
}

#[test]
fn every_parameter_accepts_exactly_what_the_code_accepts() {
    let template = parse(TEMPLATE);
    let fed = parameter_variables(&template);
    assert!(fed.iter().any(|(variable, _)| variable == "EDIT_THRESHOLD"), "{fed:?}");
    let problems = parameter_mismatches(&template);
    assert!(problems.is_empty(), "infra/template.yaml and the code disagree:\n{}", problems.join("\n"));
}

/// The template with `key` of parameter `name` set to `value` (YAML).
fn with_constraint(template: &Value, name: &str, key: &str, value: &str) -> Value {
    let mut template = template.clone();
    let declared = template
        .get_mut("Parameters")
        .and_then(|parameters| parameters.get_mut(name))
        .and_then(Value::as_mapping_mut)
        .unwrap_or_else(|| panic!("no parameter {name}"));
    declared.insert(key.into(), serde_yaml::from_str(value).unwrap());
    template
}

#[test]
fn the_value_check_fails_when_a_parameter_accepts_more_or_less_than_the_code() {
    let template = parse(TEMPLATE);
    assert!(parameter_mismatches(&template).is_empty());
    let cases = [
        // The mismatch this check was written for: a threshold above 1.
        (
            "EditThreshold",
            "AllowedPattern",
            r"^\d+(\.\d+)?$",
            "EditThreshold = \"1.5\": the template accepts",
        ),
        ("EditThreshold", "AllowedPattern", r"^0\.\d+$", "EditThreshold = \"1\": the code accepts"),
        ("MaxBodyBytes", "MaxValue", "10000000", "MaxBodyBytes = \"10000000\": the template accepts"),
        ("MaxBodyBytes", "MinValue", "2048", "MaxBodyBytes = \"2047\": the code accepts"),
        ("CorsOrigin", "AllowedPattern", r"^(https?://[^/\s]+)?$", "CorsOrigin = \"https://*.example.com\""),
    ];
    for (name, key, value, expected) in cases {
        let problems = parameter_mismatches(&with_constraint(&template, name, key, value));
        assert!(
            problems.iter().any(|problem| problem.starts_with(expected)),
            "{name} {key} {value}: {problems:#?}"
        );
    }
    // A variable fed by a parameter that nothing checks is reported.
    let mut unknown = template.clone();
    let globals = unknown
        .get_mut("Globals")
        .and_then(|globals| globals.get_mut("Function"))
        .and_then(|function| function.get_mut("Environment"))
        .and_then(|environment| environment.get_mut("Variables"))
        .and_then(Value::as_mapping_mut)
        .unwrap();
    globals.insert("NEW_SETTING".into(), serde_yaml::from_str("!Ref MaxBodyBytes").unwrap());
    let problems = parameter_mismatches(&unknown);
    assert_eq!(problems, vec!["MaxBodyBytes feeds NEW_SETTING, which has no check in code_check"]);
}

// ---- alarms: they watch what the code serves -------------------------------------------------

/// The routes (`METHOD /path`) a metric filter of the access log matches on.
fn filtered_routes(template: &Value, filter: &str) -> BTreeSet<String> {
    let pattern = str_at(template, &["Resources", filter, "Properties", "FilterPattern"])
        .unwrap_or_else(|| panic!("{filter} has a FilterPattern"));
    Regex::new(r#"\$\.routeKey = "([^"]+)""#)
        .unwrap()
        .captures_iter(pattern)
        .map(|captures| captures[1].to_owned())
        .collect()
}

#[test]
fn the_webhook_alarms_count_exactly_the_webhook_routes_and_the_5xx_alarm_watches_the_api() {
    let webhooks: BTreeSet<String> = code()
        .iter()
        .filter(|function| [intent_tracker::SERVICE, feedback_webhook::SERVICE].contains(&function.binary))
        .flat_map(|function| function.operations.clone())
        .filter(|operation| *operation != health_operation())
        .map(|operation| format!("{} {}", operation.method, operation.path))
        .collect();
    assert_eq!(webhooks.len(), 2, "{webhooks:?}");
    let template = parse(TEMPLATE);
    for filter in ["WebhookRequestsMetric", "Webhook401Metric"] {
        assert_eq!(filtered_routes(&template, filter), webhooks, "{filter}");
    }
    let pattern =
        str_at(&template, &["Resources", "Webhook401Metric", "Properties", "FilterPattern"]).unwrap();
    assert!(pattern.contains(r#"$.status = "401""#), "{pattern}");
    let dimensions = value_at(&template, &["Resources", "Api5xxRateAlarm", "Properties", "Dimensions"])
        .and_then(Value::as_sequence)
        .expect("the 5xx alarm has dimensions");
    let api =
        dimensions.iter().find(|dimension| str_at(dimension, &["Name"]) == Some("ApiId")).expect("ApiId");
    assert_eq!(serde_yaml::to_string(&api["Value"]).unwrap().trim(), "!Ref HttpApi");
}

// ---- dead letters: every rule that names the queue may send to it ---------------------------

/// Whether `value` is `!GetAtt DeadLetterQueue.Arn`.
fn is_dead_letter_queue(value: Option<&Value>) -> bool {
    value.is_some_and(|arn| {
        serde_yaml::to_string(arn).is_ok_and(|arn| arn.trim() == "!GetAtt DeadLetterQueue.Arn")
    })
}

/// The rules whose dead-letter queue is `DeadLetterQueue`, by logical id: those SAM makes of a
/// function's `Schedule` and `EventBridgeRule` events (the function's id and the event's name)
/// and `AWS::Events::Rule` resources with such a target.
fn rules_with_dead_letter_queue(template: &Value) -> BTreeSet<String> {
    let resources = template.get("Resources").and_then(Value::as_mapping).expect("Resources");
    let mut rules = BTreeSet::new();
    for (id, resource) in resources {
        let id = id.as_str().expect("logical id");
        match str_at(resource, &["Type"]) {
            Some("AWS::Serverless::Function") => {
                let events = value_at(resource, &["Properties", "Events"]).and_then(Value::as_mapping);
                for (name, event) in events.into_iter().flatten() {
                    if is_dead_letter_queue(value_at(event, &["Properties", "DeadLetterConfig", "Arn"])) {
                        rules.insert(format!("{id}{}", name.as_str().expect("event name")));
                    }
                }
            }
            Some("AWS::Events::Rule") => {
                let targets = value_at(resource, &["Properties", "Targets"]).and_then(Value::as_sequence);
                if targets
                    .into_iter()
                    .flatten()
                    .any(|t| is_dead_letter_queue(value_at(t, &["DeadLetterConfig", "Arn"])))
                {
                    rules.insert(id.to_owned());
                }
            }
            _ => {}
        }
    }
    rules
}

/// The rules the queue's policy lets send to it: each `!GetAtt Rule.Arn` of its
/// `aws:SourceArn` condition, conditional (`!If`) or not.
fn rules_allowed_to_dead_letter(template: &Value) -> BTreeSet<String> {
    let statements = value_at(
        template,
        &["Resources", "DeadLetterQueuePolicy", "Properties", "PolicyDocument", "Statement"],
    )
    .and_then(Value::as_sequence)
    .expect("the dead-letter queue has a policy");
    let get_att = Regex::new(r"!GetAtt ([A-Za-z0-9]+)\.Arn").unwrap();
    statements
        .iter()
        .filter(|statement| str_at(statement, &["Principal", "Service"]) == Some("events.amazonaws.com"))
        .filter_map(|statement| value_at(statement, &["Condition", "ArnEquals", "aws:SourceArn"]))
        .flat_map(|sources| {
            let text = serde_yaml::to_string(sources).unwrap();
            get_att.captures_iter(&text).map(|c| c[1].to_owned()).collect::<Vec<_>>()
        })
        .collect()
}

/// Rules that name the dead-letter queue but may not send to it: EventBridge drops what they
/// could not deliver (EventBridge User Guide, "Granting permissions to the dead-letter queue").
fn rules_the_dead_letter_queue_refuses(template: &Value) -> Vec<String> {
    let allowed = rules_allowed_to_dead_letter(template);
    rules_with_dead_letter_queue(template).into_iter().filter(|rule| !allowed.contains(rule)).collect()
}

#[test]
fn every_rule_with_the_dead_letter_queue_may_send_to_it() {
    let template = parse(TEMPLATE);
    // The batch's three triggers, the analyst's trigger and the analyst's failure.
    let expected: BTreeSet<String> = [
        "ProposalAnalystFailedRule",
        "ProposalAnalystFunctionWordingRequested",
        "WeeklyBatchFunctionBatchContinuationRequested",
        "WeeklyBatchFunctionBatchLearningRequested",
        "WeeklyBatchFunctionWeeklySchedule",
    ]
    .map(String::from)
    .into();
    assert_eq!(rules_the_dead_letter_queue_refuses(&template), Vec::<String>::new());
    assert_eq!(rules_with_dead_letter_queue(&template), expected);
}

#[test]
fn the_dead_letter_check_fails_when_the_policy_leaves_a_rule_out() {
    for rule in rules_with_dead_letter_queue(&parse(TEMPLATE)) {
        let mut template = parse(TEMPLATE);
        let sources = template["Resources"]["DeadLetterQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
            ["Condition"]["ArnEquals"]["aws:SourceArn"]
            .as_sequence_mut()
            .expect("a list of sources");
        let before = sources.len();
        sources.retain(|source| {
            !serde_yaml::to_string(source).unwrap().contains(&format!("!GetAtt {rule}.Arn"))
        });
        assert_eq!(sources.len(), before - 1, "{rule} is listed once");
        assert_eq!(rules_the_dead_letter_queue_refuses(&template), vec![rule.clone()]);
    }
}
