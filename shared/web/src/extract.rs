//! The extractors the routers use, with every rejection answered as an [`ApiError`]: the
//! documented `{"error": {"code", "message", "field"}}` instead of axum's plain text.
//!
//! Each one runs axum's own extractor and maps its rejection: a parameter that cannot be read
//! as its type (a duplicate, an unknown variant, a wrong type, a missing required one) is 422
//! `invalid_request` naming it in `field`; a request that cannot be read at all (a form that is
//! not `application/x-www-form-urlencoded`, a body that cannot be buffered) is 400
//! `malformed_request`. Handlers import these instead of `axum::extract::{Query, Path, Form}`
//! and `axum::body::Bytes`; the patterns (`Query(query): Query<T>`) stay the same.

use std::error::Error as StdError;

use axum::extract::rejection::{
    BytesRejection, FailedToBufferBody, FormRejection, PathRejection, QueryRejection,
};
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use garde::Validate;
use serde::de::DeserializeOwned;

use crate::ApiError;

/// The largest body the routers buffer: axum's default, as no router changes it.
pub const DEFAULT_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// The query string, deserialized into `T` (`axum::extract::Query` with JSON rejections).
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// The form body (`application/x-www-form-urlencoded`; the query string on GET), deserialized
/// into `T` (`axum::Form` with JSON rejections).
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Form), rejection(ApiError))]
pub struct Form<T>(pub T);

/// The path parameters, deserialized into `T` (`axum::extract::Path` with JSON rejections; a
/// parameter axum does not name is named from the matched route when there is only one).
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(rejection) => {
                let names: Vec<String> = RawPathParams::from_request_parts(parts, state)
                    .await
                    .map(|params| params.iter().map(|(name, _)| name.to_owned()).collect())
                    .unwrap_or_default();
                Err(path_error(rejection, &names))
            }
        }
    }
}

/// The raw request body (`axum::body::Bytes` with JSON rejections). Dereferences to the bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bytes(pub bytes::Bytes);

impl<S: Send + Sync> FromRequest<S> for Bytes {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(bytes::Bytes::from_request(request, state).await?))
    }
}

/// A JSON body read with [`crate::json::parse`]: typed, validated, errors naming the field.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned + Validate<Context = ()>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Bytes(body) = Bytes::from_request(request, state).await?;
        Ok(Self(crate::json::parse(&body)?))
    }
}

macro_rules! deref_to_inner {
    ($($wrapper:ident),*) => {$(
        impl<T> std::ops::Deref for $wrapper<T> {
            type Target = T;
            fn deref(&self) -> &T {
                &self.0
            }
        }

        impl<T> std::ops::DerefMut for $wrapper<T> {
            fn deref_mut(&mut self) -> &mut T {
                &mut self.0
            }
        }
    )*};
}

deref_to_inner!(Query, Form, Path, Json);

impl std::ops::Deref for Bytes {
    type Target = bytes::Bytes;
    fn deref(&self) -> &bytes::Bytes {
        &self.0
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        match rejection {
            QueryRejection::FailedToDeserializeQueryString(error) => {
                urlencoded_error(&error, "query parameter")
                    .unwrap_or_else(|| ApiError::Invalid { field: None, message: error.body_text() })
            }
            other => ApiError::Invalid { field: None, message: other.body_text() },
        }
    }
}

impl From<FormRejection> for ApiError {
    fn from(rejection: FormRejection) -> Self {
        match rejection {
            FormRejection::InvalidFormContentType(_) => ApiError::Malformed(
                "the form must be sent as Content-Type: application/x-www-form-urlencoded".into(),
            ),
            FormRejection::FailedToDeserializeForm(error) => urlencoded_error(&error, "query parameter")
                .unwrap_or_else(|| ApiError::Invalid { field: None, message: error.body_text() }),
            FormRejection::FailedToDeserializeFormBody(error) => urlencoded_error(&error, "form field")
                .unwrap_or_else(|| ApiError::Invalid { field: None, message: error.body_text() }),
            FormRejection::BytesRejection(error) => error.into(),
            other => ApiError::Malformed(other.body_text()),
        }
    }
}

impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> Self {
        match rejection {
            BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_)) => {
                ApiError::PayloadTooLarge { limit: DEFAULT_BODY_LIMIT }
            }
            _ => ApiError::Malformed("could not read the request body".into()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        path_error(rejection, &[])
    }
}

/// A path rejection; `names` are the matched route's parameters, to name the one axum's error
/// does not (a single `Path<u32>`, or a tuple's element).
fn path_error(rejection: PathRejection, names: &[String]) -> ApiError {
    use axum::extract::path::ErrorKind;
    let PathRejection::FailedToDeserializePathParams(error) = rejection else {
        // No parameters matched at all: the handler extracts what its route does not capture.
        return ApiError::Internal(rejection.body_text());
    };
    let invalid = |field: Option<&str>, kind: &ErrorKind| match field {
        Some(field) => ApiError::invalid(field, format!("path parameter {field}: {kind}")),
        None => ApiError::Invalid { field: None, message: format!("path parameter: {kind}") },
    };
    let only = match names {
        [name] => Some(name.as_str()),
        _ => None,
    };
    match error.kind() {
        kind @ (ErrorKind::ParseErrorAtKey { key, .. }
        | ErrorKind::InvalidUtf8InPathParam { key }
        | ErrorKind::DeserializeError { key, .. }) => invalid(Some(key), kind),
        kind @ ErrorKind::ParseErrorAtIndex { index, .. } => {
            invalid(names.get(*index).map(String::as_str), kind)
        }
        kind @ (ErrorKind::ParseError { .. } | ErrorKind::Message(_)) => invalid(only, kind),
        // The handler's type does not fit its route: a bug, not a bad request.
        kind @ (ErrorKind::WrongNumberOfParameters { .. } | ErrorKind::UnsupportedType { .. }) => {
            ApiError::Internal(kind.to_string())
        }
        kind => invalid(only, kind),
    }
}

/// A `serde_urlencoded` failure (query string or form body) as a 422 naming the parameter:
/// axum keeps serde_path_to_error's error as the rejection's source, whose path names the
/// parameter whose value failed; failures of the whole map (a duplicate, a missing or an unknown
/// parameter) name it in serde's message instead. `None` when the source is not that error.
fn urlencoded_error(rejection: &(dyn StdError + 'static), what: &str) -> Option<ApiError> {
    type UrlencodedError = serde_path_to_error::Error<serde::de::value::Error>;
    let mut source = rejection.source();
    let error = loop {
        let error = source?;
        if let Some(found) = error.downcast_ref::<UrlencodedError>() {
            break found;
        }
        source = error.source();
    };
    let path = error.path().to_string();
    let message = error.inner().to_string();
    let field = match path.as_str() {
        "." | "" => named_in_message(&message).map(str::to_owned),
        path => Some(path.to_owned()),
    };
    Some(match field {
        Some(field) => ApiError::invalid(field.clone(), format!("{what} {field}: {message}")),
        None => ApiError::Invalid { field: None, message: format!("{what}: {message}") },
    })
}

/// The field named by serde's messages about a whole struct.
fn named_in_message(message: &str) -> Option<&str> {
    ["missing field `", "duplicate field `", "unknown field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))?
        .split('`')
        .next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::http::{StatusCode, header};
    use axum::routing::{get, post};
    use http_body_util::BodyExt;
    use serde::Deserialize;
    use serde_json::Value;
    use tower::ServiceExt;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    #[allow(dead_code, reason = "read by serde only")]
    struct Params {
        days: u32,
        order: Option<Order>,
        page_size: Option<u8>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Order {
        Asc,
        Desc,
    }

    #[derive(Debug, Deserialize, Validate)]
    struct Note {
        #[garde(length(min = 1, max = 5))]
        note: String,
    }

    fn app() -> Router {
        Router::new()
            .route("/query", get(|Query(params): Query<Params>| async move { params.days.to_string() }))
            .route("/items/{id}", get(|Path(id): Path<u32>| async move { id.to_string() }))
            .route(
                "/items/{id}/notes/{n}",
                get(|Path((id, n)): Path<(String, u16)>| async move { format!("{id}/{n}") }),
            )
            .route("/form", post(|Form(note): Form<Params>| async move { note.days.to_string() }))
            .route("/bytes", post(|body: Bytes| async move { body.len().to_string() }))
            .route("/json", post(|Json(note): Json<Note>| async move { note.note }))
    }

    async fn call(method: &str, uri: &str, content_type: Option<&str>, body: &str) -> (StatusCode, String) {
        let mut request = axum::http::Request::builder().method(method).uri(uri);
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        let response = app().oneshot(request.body(Body::from(body.to_owned())).unwrap()).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The body of a successful answer.
    async fn ok(method: &str, uri: &str, content_type: Option<&str>, body: &str) -> String {
        let (status, text) = call(method, uri, content_type, body).await;
        assert_eq!(status, StatusCode::OK, "{text}");
        text
    }

    /// Status, `error.code` and `error.field` of an answer, which must be the JSON error.
    async fn error_of(
        method: &str,
        uri: &str,
        content_type: Option<&str>,
        body: &str,
    ) -> (u16, String, Option<String>) {
        let (status, text) = call(method, uri, content_type, body).await;
        let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
        let code = body["error"]["code"].as_str().unwrap_or_else(|| panic!("not the JSON error: {body}"));
        assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
        (status.as_u16(), code.to_owned(), body["error"]["field"].as_str().map(str::to_owned))
    }

    fn invalid(field: &str) -> (u16, String, Option<String>) {
        (422, "invalid_request".into(), Some(field.into()))
    }

    #[tokio::test]
    async fn query_rejections_name_the_parameter() {
        assert_eq!(ok("GET", "/query?days=3&order=asc", None, "").await, "3");
        assert_eq!(error_of("GET", "/query?days=1&days=2", None, "").await, invalid("days"));
        assert_eq!(error_of("GET", "/query?days=many", None, "").await, invalid("days"));
        assert_eq!(error_of("GET", "/query?days=1&pageSize=300", None, "").await, invalid("pageSize"));
        assert_eq!(error_of("GET", "/query?days=1&order=sideways", None, "").await, invalid("order"));
        assert_eq!(error_of("GET", "/query?order=asc", None, "").await, invalid("days"));
        assert_eq!(error_of("GET", "/query", None, "").await, invalid("days"));
        assert_eq!(error_of("GET", "/query?days=1&color=red", None, "").await, invalid("color"));
    }

    #[tokio::test]
    async fn path_rejections_name_the_parameter() {
        assert_eq!(ok("GET", "/items/7", None, "").await, "7");
        assert_eq!(error_of("GET", "/items/seven", None, "").await, invalid("id"));
        assert_eq!(error_of("GET", "/items/%FF", None, "").await, invalid("id"));
        assert_eq!(error_of("GET", "/items/a/notes/-1", None, "").await, invalid("n"));
        assert_eq!(error_of("GET", "/items/%C3%28/notes/1", None, "").await, invalid("id"));
    }

    #[tokio::test]
    async fn form_rejections_name_the_field_or_say_the_body_is_no_form() {
        let form = Some("application/x-www-form-urlencoded");
        assert_eq!(ok("POST", "/form", form, "days=4").await, "4");
        assert_eq!(error_of("POST", "/form", form, "days=1&days=2").await, invalid("days"));
        assert_eq!(error_of("POST", "/form", form, "days=x").await, invalid("days"));
        assert_eq!(error_of("POST", "/form", form, "order=asc").await, invalid("days"));
        let malformed = (400, "malformed_request".to_owned(), None);
        assert_eq!(error_of("POST", "/form", Some("application/json"), r#"{"days": 4}"#).await, malformed);
        assert_eq!(
            error_of("POST", "/form", Some("multipart/form-data; boundary=x"), "--x--").await,
            malformed
        );
        assert_eq!(error_of("POST", "/form", None, "days=4").await, malformed);
        let (_, text) = call("POST", "/form", None, "days=4").await;
        assert!(text.contains("application/x-www-form-urlencoded"), "{text}");
    }

    #[tokio::test]
    async fn bytes_and_json_bodies_answer_the_json_error() {
        assert_eq!(ok("POST", "/bytes", None, "abc").await, "3");
        let huge = "x".repeat(DEFAULT_BODY_LIMIT + 1);
        assert_eq!(error_of("POST", "/bytes", None, &huge).await, (413, "payload_too_large".into(), None));
        assert_eq!(ok("POST", "/json", None, r#"{"note": "hi"}"#).await, "hi");
        assert_eq!(error_of("POST", "/json", None, r#"{"note": "too long"}"#).await, invalid("note"));
        assert_eq!(
            error_of("POST", "/json", None, r#"{"note": "#).await,
            (400, "malformed_request".into(), None)
        );
    }
}
