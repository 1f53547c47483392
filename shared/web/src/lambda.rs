//! Serving a router on Lambda: [`serve`] is `lambda_http::run` with the router's responses handed
//! over as they are, text or bytes.
//!
//! `lambda_http` turns a response into API Gateway's JSON by decoding every text body (`text/*`,
//! JSON, XML) from the charset its `Content-Type` names, for which it links `encoding_rs`: the
//! decoders and tables of some forty legacy encodings (about 155 kB in each HTTP function, two
//! thirds of it tables), for responses this project writes in UTF-8 only. [`LambdaResponse`]
//! implements `lambda_http`'s own [`IntoResponse`] instead: a text body that is UTF-8 goes out as
//! text, any other body as bytes (base64 in the event, decoded by API Gateway), unchanged. A text
//! body in another charset (none here) would keep its bytes and its header, where `lambda_http`
//! would have re-encoded it to UTF-8 under the old charset's name.

use std::future::Future;
use std::pin::Pin;

use axum::Router;
use axum::response::Response;
use http::HeaderMap;
use http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use http_body_util::BodyExt;
use lambda_http::{Body, IntoResponse};
use tower::ServiceExt;

/// Runs `router` as this Lambda function's handler until the runtime stops it.
pub async fn serve(router: Router) -> Result<(), lambda_http::Error> {
    lambda_http::run(ServiceExt::<lambda_http::Request>::map_response(router, LambdaResponse)).await
}

/// A router's response on its way to API Gateway.
#[derive(Debug)]
pub struct LambdaResponse(pub Response);

/// Media types whose bodies are text (as `lambda_http` counts them): `text/*`, JSON, JavaScript,
/// XML, and any `+json` or `+xml` type.
fn is_text(headers: &HeaderMap) -> bool {
    if headers.contains_key(CONTENT_ENCODING) {
        // Compressed: bytes, whatever the type underneath.
        return false;
    }
    let Some(content_type) = headers.get(CONTENT_TYPE) else {
        return true;
    };
    let Ok(content_type) = content_type.to_str() else {
        return false;
    };
    let mut parameters = content_type.split(';');
    let media_type = parameters.next().unwrap_or_default().trim().to_ascii_lowercase();
    let textual = media_type.starts_with("text/")
        || ["application/json", "application/javascript", "application/xml"].contains(&media_type.as_str())
        || media_type.ends_with("+json")
        || media_type.ends_with("+xml");
    let utf8 = parameters.all(|parameter| match parameter.split_once('=') {
        Some((name, value)) if name.trim().eq_ignore_ascii_case("charset") => {
            let charset = value.trim().trim_matches('"');
            charset.eq_ignore_ascii_case("utf-8") || charset.eq_ignore_ascii_case("utf8")
        }
        _ => true,
    });
    textual && utf8
}

impl IntoResponse for LambdaResponse {
    fn into_response(self) -> Pin<Box<dyn Future<Output = http::Response<Body>> + Send>> {
        let (parts, body) = self.0.into_parts();
        Box::pin(async move {
            // The project's bodies are whole in memory; reading one fails only if a handler
            // streamed and its stream broke, and then there is no response to give.
            let bytes = match body.collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(error) => {
                    tracing::error!(%error, "the response body could not be read");
                    let mut failed = http::Response::new(Body::Empty);
                    *failed.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
                    return failed;
                }
            };
            let body = if bytes.is_empty() {
                Body::Empty
            } else if is_text(&parts.headers) {
                match String::from_utf8(bytes.into()) {
                    Ok(text) => Body::Text(text),
                    Err(not_utf8) => Body::Binary(not_utf8.into_bytes()),
                }
            } else {
                Body::Binary(bytes.into())
            };
            http::Response::from_parts(parts, body)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn converted(content_type: Option<&str>, encoding: Option<&str>, body: &[u8]) -> Body {
        let mut response = Response::new(axum::body::Body::from(body.to_vec()));
        if let Some(content_type) = content_type {
            response.headers_mut().insert(CONTENT_TYPE, content_type.parse().unwrap());
        }
        if let Some(encoding) = encoding {
            response.headers_mut().insert(CONTENT_ENCODING, encoding.parse().unwrap());
        }
        let converted = LambdaResponse(response).into_response().await;
        // The head is passed through as it was.
        assert_eq!(converted.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()), content_type);
        converted.into_body()
    }

    fn text(body: &str) -> Body {
        Body::Text(body.to_owned())
    }

    #[tokio::test]
    async fn utf8_text_json_and_html_go_out_as_text() {
        let json = r#"{"name":"Zoë"}"#;
        assert_eq!(converted(Some("application/json"), None, json.as_bytes()).await, text(json));
        let html = "<p>Grüße</p>";
        assert_eq!(converted(Some("text/html; charset=utf-8"), None, html.as_bytes()).await, text(html));
        assert_eq!(converted(Some("Text/CSS;Charset=\"UTF-8\""), None, b"p{}").await, text("p{}"));
        assert_eq!(converted(Some("application/problem+json"), None, b"{}").await, text("{}"));
        assert_eq!(converted(None, None, b"ok").await, text("ok"));
    }

    #[tokio::test]
    async fn bytes_and_other_charsets_go_out_as_the_same_bytes() {
        assert_eq!(converted(Some("image/png"), None, &[0x89, b'P']).await, Body::Binary(vec![0x89, b'P']));
        // Compressed JSON is bytes.
        assert_eq!(
            converted(Some("application/json"), Some("gzip"), b"{}").await,
            Body::Binary(b"{}".to_vec())
        );
        // Latin-1 "é" is not re-encoded: the bytes and the header stay as the handler wrote them.
        assert_eq!(
            converted(Some("text/plain; charset=iso-8859-1"), None, &[b'n', 0xe9]).await,
            Body::Binary(vec![b'n', 0xe9])
        );
        // Text that is not valid UTF-8 is passed on as bytes rather than altered.
        assert_eq!(converted(Some("text/plain"), None, &[0xff, 0xfe]).await, Body::Binary(vec![0xff, 0xfe]));
    }

    #[tokio::test]
    async fn an_empty_body_is_empty_and_the_status_is_kept() {
        let mut response = Response::new(axum::body::Body::empty());
        *response.status_mut() = http::StatusCode::NO_CONTENT;
        let converted = LambdaResponse(response).into_response().await;
        assert_eq!(converted.status(), http::StatusCode::NO_CONTENT);
        assert_eq!(converted.body(), &Body::Empty);
    }
}
