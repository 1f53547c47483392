//! The route table: the one way the API functions add routes, so that the set of served
//! (method, path) pairs is known and can be checked against the OpenAPI document.

use axum::Router;
use axum::http::Method;
use axum::routing::{MethodRouter, get};

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

    pub fn into_router(self) -> Router<S> {
        self.router
    }
}

/// `GET /health`: answers 200 with the service name, for load balancers and `make demo`.
pub fn health<S: Clone + Send + Sync + 'static>(service: &'static str) -> RouteTable<S> {
    RouteTable::new().route(
        Method::GET,
        "/health",
        get(move || async move { axum::Json(serde_json::json!({"status": "ok", "service": service})) }),
    )
}
