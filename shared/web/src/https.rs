//! A small HTTPS client for the few requests outside AWS (the dashboard's OpenID Connect
//! issuer: its discovery document, its keys, the token exchange).
//!
//! It is the SDK's client underneath ([`crate::aws::http`]: hyper over HTTP/1.1, rustls over
//! ring, Mozilla's roots compiled in), so a function that calls both carries one HTTP and one
//! TLS stack; reqwest brought a second client (about 134 KiB of code in the dashboard) for
//! three requests. What those requests need of a client, and no more:
//!
//! - one time limit for the whole exchange (connect, send, the answer and its body);
//! - redirects are not followed: an issuer's endpoints answer where discovery says they are,
//!   and a redirect is an answer like any other (its status is returned);
//! - the answer's body is read whole, up to [`MAX_BODY_BYTES`]: an issuer's documents are a few
//!   kilobytes, and a larger answer is refused rather than held in memory.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;

/// The largest answer body read (1 MiB).
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum HttpsError {
    #[error("not a valid URL: {0}")]
    Url(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("{0}")]
    Connection(String),
    #[error("the answer's body is larger than {MAX_BODY_BYTES} bytes or was cut off: {0}")]
    Body(String),
}

/// An answer: its status and its whole body.
#[derive(Debug, Clone)]
pub struct HttpsResponse {
    pub status: StatusCode,
    pub body: Bytes,
}

/// A client with a pool of connections; cheap to clone (the pool is shared).
#[derive(Debug, Clone)]
pub struct HttpsClient {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

impl HttpsClient {
    /// A client whose every request (connect included) ends within `timeout`.
    pub fn new(timeout: Duration) -> Self {
        Self { client: crate::aws::http::pooled_client(Some(timeout)), timeout }
    }

    /// `GET url`, asking for JSON.
    pub async fn get_json(&self, url: &str) -> Result<HttpsResponse, HttpsError> {
        self.send(Method::GET, url, None).await
    }

    /// `POST url` with an `application/x-www-form-urlencoded` body of `fields`, asking for JSON.
    pub async fn post_form(&self, url: &str, fields: &[(&str, &str)]) -> Result<HttpsResponse, HttpsError> {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        self.send(Method::POST, url, Some(body)).await
    }

    async fn send(
        &self,
        method: Method,
        url: &str,
        form: Option<String>,
    ) -> Result<HttpsResponse, HttpsError> {
        let uri: hyper::Uri =
            url.parse().map_err(|error: hyper::http::uri::InvalidUri| HttpsError::Url(error.to_string()))?;
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header(ACCEPT, HeaderValue::from_static("application/json"));
        if form.is_some() {
            request =
                request.header(CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
        }
        let request = request
            .body(Full::new(Bytes::from(form.unwrap_or_default())))
            .map_err(|error| HttpsError::Url(error.to_string()))?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|error| HttpsError::Connection(with_causes(&error)))?;
            let status = response.status();
            let body = Limited::new(response.into_body(), MAX_BODY_BYTES)
                .collect()
                .await
                .map_err(|error| HttpsError::Body(error.to_string()))?
                .to_bytes();
            Ok(HttpsResponse { status, body })
        };
        tokio::time::timeout(self.timeout, exchange).await.map_err(|_| HttpsError::Timeout(self.timeout))?
    }
}

/// An error with its causes, `outer: inner: …` (hyper's own message alone says only "client
/// error (Connect)").
fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A loopback server that answers one connection with `answer` (raw HTTP/1.1) and hands
    /// back the request it read.
    async fn serve_once(answer: Vec<u8>) -> (String, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            // Headers, then as much body as Content-Length says.
            loop {
                let n = socket.read(&mut buf).await.unwrap();
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length: ")
                                .map(|v| v.trim().parse::<usize>().unwrap())
                        })
                        .unwrap_or(0);
                    if request.len() >= end + 4 + length {
                        break;
                    }
                }
                if n == 0 {
                    break;
                }
            }
            socket.write_all(&answer).await.unwrap();
            socket.flush().await.unwrap();
            String::from_utf8_lossy(&request).to_string()
        });
        (url, task)
    }

    fn answer(status: &str, headers: &str, body: &str) -> Vec<u8> {
        format!("HTTP/1.1 {status}\r\n{headers}content-length: {}\r\n\r\n{body}", body.len()).into_bytes()
    }

    #[tokio::test]
    async fn gets_the_answer_and_its_body() {
        let (url, server) =
            serve_once(answer("200 OK", "content-type: application/json\r\n", r#"{"issuer":"x"}"#)).await;
        let response = HttpsClient::new(Duration::from_secs(5))
            .get_json(&format!("{url}/.well-known/openid-configuration"))
            .await
            .unwrap();
        assert_eq!(response.status, StatusCode::OK);
        assert_eq!(&response.body[..], br#"{"issuer":"x"}"#);
        let request = server.await.unwrap();
        assert!(request.starts_with("GET /.well-known/openid-configuration HTTP/1.1\r\n"), "{request}");
        assert!(request.to_ascii_lowercase().contains("accept: application/json"), "{request}");
    }

    #[tokio::test]
    async fn posts_a_form_url_encoded() {
        let (url, server) = serve_once(answer("400 Bad Request", "", r#"{"error":"invalid_grant"}"#)).await;
        let fields = [("grant_type", "authorization_code"), ("redirect_uri", "https://a.example/cb?x=1&y=2")];
        let response = HttpsClient::new(Duration::from_secs(5))
            .post_form(&format!("{url}/token"), &fields)
            .await
            .unwrap();
        assert_eq!(response.status, StatusCode::BAD_REQUEST);
        assert_eq!(&response.body[..], br#"{"error":"invalid_grant"}"#);
        let request = server.await.unwrap();
        assert!(request.starts_with("POST /token HTTP/1.1\r\n"), "{request}");
        assert!(
            request.to_ascii_lowercase().contains("content-type: application/x-www-form-urlencoded"),
            "{request}"
        );
        assert!(
            request.ends_with(
                "grant_type=authorization_code&redirect_uri=https%3A%2F%2Fa.example%2Fcb%3Fx%3D1%26y%3D2"
            ),
            "{request}"
        );
    }

    #[tokio::test]
    async fn a_redirect_is_an_answer_not_followed() {
        let (url, server) =
            serve_once(answer("302 Found", "location: http://127.0.0.1:9/elsewhere\r\n", "")).await;
        let response = HttpsClient::new(Duration::from_secs(5)).get_json(&url).await.unwrap();
        assert_eq!(response.status, StatusCode::FOUND);
        server.await.unwrap();
    }

    #[tokio::test]
    async fn an_answer_larger_than_the_limit_is_refused() {
        let body = "x".repeat(MAX_BODY_BYTES + 1);
        let (url, _server) = serve_once(answer("200 OK", "", &body)).await;
        let error = HttpsClient::new(Duration::from_secs(5)).get_json(&url).await.unwrap_err();
        assert!(matches!(error, HttpsError::Body(_)), "{error}");
    }

    #[tokio::test]
    async fn a_server_that_never_answers_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks", listener.local_addr().unwrap());
        // Accepts and holds the connection without a word.
        let _server = tokio::spawn(async move {
            let (socket, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(30)).await;
            drop(socket);
        });
        let error = HttpsClient::new(Duration::from_millis(200)).get_json(&url).await.unwrap_err();
        assert!(matches!(error, HttpsError::Timeout(_)), "{error}");
    }

    #[tokio::test]
    async fn a_refused_connection_names_its_cause() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        drop(listener);
        let error = HttpsClient::new(Duration::from_secs(5)).get_json(&url).await.unwrap_err();
        match error {
            HttpsError::Connection(text) => assert!(text.to_lowercase().contains("refused"), "{text}"),
            other => panic!("{other}"),
        }
        assert!(matches!(
            HttpsClient::new(Duration::from_secs(1)).get_json("not a url").await,
            Err(HttpsError::Url(_))
        ));
    }
}
