//! The route table: the one way the API functions add routes, so that the set of served
//! (method, path) pairs is known and can be checked against the OpenAPI document.

use axum::Router;
use axum::extract::Request;
use axum::http::{Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};

use crate::ApiError;

/// One served operation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Operation {
    pub method: String,
    pub path: String,
}

/// A router together with the operations it serves.
pub struct RouteTable<S = ()> {
    router: Router<S>,
    operations: Vec<Operation>,
}

impl<S: Clone + Send + Sync + 'static> Default for RouteTable<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Clone + Send + Sync + 'static> RouteTable<S> {
    pub fn new() -> Self {
        Self { router: Router::new(), operations: Vec::new() }
    }

    /// Adds one operation. `path` uses axum's (and OpenAPI's) `{param}` syntax.
    pub fn route(mut self, method: Method, path: &'static str, handler: MethodRouter<S>) -> Self {
        self.operations.push(Operation { method: method.as_str().to_owned(), path: path.to_owned() });
        self.router = self.router.route(path, handler);
        self
    }

    /// Adds the operations of another table.
    pub fn merge(mut self, other: RouteTable<S>) -> Self {
        self.operations.extend(other.operations);
        self.router = self.router.merge(other.router);
        self
    }

    /// Supplies the state, keeping the operation list.
    pub fn with_state<S2>(self, state: S) -> RouteTable<S2> {
        RouteTable { router: self.router.with_state(state), operations: self.operations }
    }

    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    /// The router, answering an unmatched path (404 `not_found`) and a method its path does not
    /// serve (405 `method_not_allowed`, keeping `Allow`) with the JSON error like every route.
    pub fn into_router(self) -> Router<S> {
        // A middleware rather than `method_not_allowed_fallback`: that would replace the
        // fallback of layered method routers, and with it the CORS layer's preflight answer.
        self.router.layer(middleware::from_fn(json_method_not_allowed)).fallback(no_route)
    }
}

async fn no_route(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!("operation {method} {}", uri.path()))
}

/// Gives axum's empty 405 the JSON error body, keeping its headers (`Allow`, CORS).
async fn json_method_not_allowed(request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    if response.status() != StatusCode::METHOD_NOT_ALLOWED
        || response.headers().contains_key(header::CONTENT_TYPE)
    {
        return response;
    }
    let mut json = ApiError::MethodNotAllowed { method, path }.into_response();
    for (name, value) in response.headers() {
        if name != header::CONTENT_LENGTH && !json.headers().contains_key(name) {
            json.headers_mut().append(name, value.clone());
        }
    }
    json
}

/// `GET /health`: answers 200 with the service name, for load balancers and `make demo`.
pub fn health<S: Clone + Send + Sync + 'static>(service: &'static str) -> RouteTable<S> {
    RouteTable::new().route(
        Method::GET,
        "/health",
        get(move || async move { axum::Json(serde_json::json!({"status": "ok", "service": service})) }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{StatusCode, header};
    use axum::routing::post;
    use http_body_util::BodyExt;
    use serde_json::Value;
    use tower::ServiceExt;

    /// Stands in for a CORS layer: answers OPTIONS itself, before any handler.
    async fn answer_options(request: Request, next: Next) -> Response {
        if request.method() == Method::OPTIONS {
            StatusCode::NO_CONTENT.into_response()
        } else {
            next.run(request).await
        }
    }

    async fn call(method: Method, uri: &str) -> (StatusCode, Option<String>, Value) {
        let table =
            RouteTable::<()>::new().route(Method::POST, "/v1/things", post(|| async { "made" })).route(
                Method::GET,
                "/v1/layered",
                get(|| async { "got" }).layer(middleware::from_fn(answer_options)),
            );
        let router = table.merge(health("test")).into_router();
        let request = axum::http::Request::builder().method(method).uri(uri).body(Body::empty()).unwrap();
        let response = router.oneshot(request).await.unwrap();
        let status = response.status();
        let allow = response.headers().get(header::ALLOW).map(|value| value.to_str().unwrap().to_owned());
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, allow, body)
    }

    #[tokio::test]
    async fn unmatched_paths_and_methods_answer_the_json_error() {
        let (status, _, body) = call(Method::GET, "/v1/nowhere?x=1").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["error"]["code"], "not_found", "{body}");
        assert_eq!(body["error"]["message"], "operation GET /v1/nowhere not found", "{body}");

        let (status, allow, body) = call(Method::GET, "/v1/things").await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(body["error"]["code"], "method_not_allowed", "{body}");
        assert_eq!(body["error"]["message"], "GET is not allowed on /v1/things", "{body}");
        assert_eq!(allow.as_deref(), Some("POST"));

        let (status, _, body) = call(Method::DELETE, "/health").await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(body["error"]["code"], "method_not_allowed", "{body}");

        let (status, _, _) = call(Method::POST, "/v1/things").await;
        assert_eq!(status, StatusCode::OK);

        // A layered route still answers through its layer where it has no handler (CORS preflight).
        let (status, _, _) = call(Method::OPTIONS, "/v1/layered").await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, allow, body) = call(Method::POST, "/v1/layered").await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(body["error"]["code"], "method_not_allowed", "{body}");
        assert_eq!(allow.as_deref(), Some("GET,HEAD"));
    }
}
