//! The SDK's HTTP client: hyper over HTTP/1.1, rustls over ring, Mozilla's root certificates.
//!
//! The SDK's own hyper client (`aws-smithy-http-client`) cannot be narrowed to what the functions
//! need: its client always builds hyper with HTTP/2 (the `h2` crate, about 110 KiB of code in
//! every binary) and offers it in ALPN, and it takes trust roots other than the platform's only
//! as PEM, parsed again for every SDK client built (0.5 ms for Mozilla's 118 roots, measured at
//! `opt-level = "z"`). This client keeps what the functions use of it:
//!
//! - **HTTP/1.1 only.** DynamoDB, EventBridge, SES, Secrets Manager and Bedrock's `Converse`
//!   and `InvokeModel` (the calls the project makes) answer over HTTP/1.1; no ALPN is offered,
//!   so a server speaks HTTP/1.1. Plain `http://` works too, for the local emulator.
//! - **Mozilla's roots, compiled in** (the `webpki-roots` crate), as trust anchors ready to use:
//!   nothing read from disk or parsed at cold start. The platform's store, what the SDK's client
//!   loads by default (`rustls-native-certs`), is read from disk when the first SDK client is
//!   built: on Debian the bundle and then each of the ~146 certificate files in
//!   `/etc/ssl/certs`, a few milliseconds of every cold start. The functions call only AWS
//!   endpoints, whose certificates chain to the Amazon Trust Services roots that Mozilla's program
//!   includes (the dashboard's OpenID Connect issuer, Cognito, too); the local runner and the tests
//!   speak plain http to the emulator. So compiled-in roots are sound here, and the same on every
//!   machine. They change with the crate's releases, not with the OS image.
//! - **What the SDK's client does around a request**: the connect timeout and read timeout of
//!   the SDK's settings (3.1 s to connect by default), TCP_NODELAY, one connection pool per
//!   settings shared by every SDK client made from the same config, the same cipher suites, the
//!   same classification of errors into timeouts, I/O errors (retried by the SDK) and others, and
//!   the poisoning of a connection the SDK's retry logic no longer trusts.
//!
//! Not kept: an HTTPS proxy (the SDK's client uses one only when configured in code, which the
//! project never does), the addresses in the connection metadata and the connector-call timing
//! the SDK's client records for metrics (the project reads neither), and building a connector
//! when an SDK client is validated rather than on its first request.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connection::{CaptureSmithyConnection, ConnectionMetadata};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::ErrorKind;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{HttpConnector as TcpConnector, capture_connection};
use hyper_util::rt::{TokioExecutor, TokioTimer};

/// The client for SDK configs: one per config, its connectors made on demand.
pub fn http_client() -> SharedHttpClient {
    SharedHttpClient::new(Http1Client::default())
}

/// rustls over ring with Mozilla's roots and the cipher suites the SDK's own client allows; built
/// once per process, on the first connector.
static TLS: LazyLock<rustls::ClientConfig> = LazyLock::new(|| {
    let ring = rustls::crypto::ring::default_provider();
    let suites = [
        rustls::CipherSuite::TLS13_AES_256_GCM_SHA384,
        rustls::CipherSuite::TLS13_AES_128_GCM_SHA256,
        rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        rustls::CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ];
    let cipher_suites = suites
        .iter()
        .filter_map(|wanted| ring.cipher_suites.iter().find(|suite| suite.suite() == *wanted).copied())
        .collect();
    let provider = rustls::crypto::CryptoProvider { cipher_suites, ..ring };
    let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .expect("ring supports TLS 1.2 and 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth()
});

/// What a connector depends on in the SDK's settings.
type Timeouts = (Option<Duration>, Option<Duration>);

#[derive(Debug, Default)]
struct Http1Client {
    /// One connector (and so one connection pool) per distinct settings, as the SDK's client.
    connectors: Mutex<Vec<(Timeouts, SharedHttpConnector)>>,
}

impl HttpClient for Http1Client {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let timeouts = (settings.connect_timeout(), settings.read_timeout());
        let mut connectors = self.connectors.lock().expect("connector cache lock");
        if let Some((_, connector)) = connectors.iter().find(|(key, _)| *key == timeouts) {
            return connector.clone();
        }
        let connector = SharedHttpConnector::new(Http1Connector::new(timeouts));
        connectors.push((timeouts, connector.clone()));
        connector
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        Some(ConnectorMetadata::new("hyper", Some(Cow::Borrowed("1.x"))))
    }
}

#[derive(Debug)]
struct Http1Connector {
    client: Client<HttpsConnector<TcpConnector>, SdkBody>,
    read_timeout: Option<Duration>,
}

impl Http1Connector {
    fn new((connect_timeout, read_timeout): Timeouts) -> Self {
        Self { client: pooled_client(connect_timeout), read_timeout }
    }
}

/// A hyper client over the project's TLS stack: HTTP/1.1, `https://` or plain `http://`,
/// TCP_NODELAY, the given connect timeout, idle connections kept in a pool (expiring after
/// 90 s, hyper's default). The SDK's connectors and [`crate::https::HttpsClient`] both use it.
pub(crate) fn pooled_client<B>(connect_timeout: Option<Duration>) -> Client<HttpsConnector<TcpConnector>, B>
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
{
    let mut tcp = TcpConnector::new();
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    tcp.set_connect_timeout(connect_timeout);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(TLS.clone())
        .https_or_http()
        .enable_http1()
        .wrap_connector(tcp);
    Client::builder(TokioExecutor::new()).pool_timer(TokioTimer::new()).build(https)
}

impl HttpConnector for Http1Connector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let mut request = match request.try_into_http1x() {
            Ok(request) => request,
            Err(error) => return HttpConnectorFuture::ready(Err(ConnectorError::user(error.into()))),
        };
        // Lets the SDK's retry logic take the connection out of the pool after a transient error.
        let connection = capture_connection(&mut request);
        if let Some(smithy) = request.extensions().get::<CaptureSmithyConnection>() {
            smithy.set_connection_retriever(move || {
                connection.connection_metadata().as_ref()?;
                let connection = connection.clone();
                Some(
                    ConnectionMetadata::builder()
                        .proxied(false)
                        .poison_fn(move || {
                            if let Some(connected) = connection.connection_metadata().as_ref() {
                                connected.poison();
                            }
                        })
                        .build(),
                )
            });
        }
        let response = self.client.request(request);
        let read_timeout = self.read_timeout;
        HttpConnectorFuture::new(async move {
            let response = match read_timeout {
                None => response.await,
                Some(limit) => match tokio::time::timeout(limit, response).await {
                    Ok(response) => response,
                    Err(_) => {
                        let message = format!("no HTTP response within the read timeout of {limit:?}");
                        return Err(ConnectorError::timeout(message.into()));
                    }
                },
            };
            match response {
                Ok(response) => HttpResponse::try_from(response.map(SdkBody::from_body_1_x))
                    .map_err(|error| ConnectorError::other(error.into(), None)),
                Err(error) => Err(classify(error)),
            }
        })
    }
}

/// The SDK's client's classification: timeouts and I/O errors are transient (the SDK retries
/// them), a request the client could not send is the caller's, anything else is unknown.
fn classify(error: hyper_util::client::legacy::Error) -> ConnectorError {
    let error_kind = kind(&error);
    error_kind(error.into())
}

fn kind(error: &hyper_util::client::legacy::Error) -> fn(BoxError) -> ConnectorError {
    let chain = || error_chain(error);
    let io = || chain().filter_map(|error| error.downcast_ref::<std::io::Error>());
    if io().any(|error| error.kind() == std::io::ErrorKind::TimedOut) {
        return ConnectorError::timeout;
    }
    if let Some(hyper) = chain().find_map(|error| error.downcast_ref::<hyper::Error>()) {
        if hyper.is_timeout() {
            return ConnectorError::timeout;
        }
        if hyper.is_user() {
            return ConnectorError::user;
        }
        if hyper.is_closed() || hyper.is_canceled() || io().next().is_some() {
            return ConnectorError::io;
        }
        if hyper.is_incomplete_message() {
            return |error| ConnectorError::other(error, Some(ErrorKind::TransientError));
        }
        return |error| ConnectorError::other(error, None);
    }
    if error.is_connect() || io().next().is_some() {
        return ConnectorError::io;
    }
    |error| ConnectorError::other(error, None)
}

/// `error` and its sources; after an `io::Error`, its payload (which `io::Error::source` skips).
fn error_chain<'a>(
    error: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(error), |&error| match error.downcast_ref::<std::io::Error>() {
        Some(io) => io.get_ref().map(|inner| inner as &(dyn StdError + 'static)),
        None => error.source(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn get(url: &str) -> HttpRequest {
        HttpRequest::try_from(::http::Request::get(url).body(SdkBody::empty()).unwrap()).unwrap()
    }

    /// A loopback server that reads a request and then writes `answer` (none: it never answers).
    async fn server(answer: Option<&'static str>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 1024];
            let _ = socket.read(&mut request).await.unwrap();
            match answer {
                Some(answer) => socket.write_all(answer.as_bytes()).await.unwrap(),
                None => tokio::time::sleep(Duration::from_secs(60)).await,
            }
        });
        format!("http://{address}/")
    }

    #[test]
    fn trusts_mozillas_roots_with_the_sdks_cipher_suites_and_offers_no_http2() {
        assert!(TLS.alpn_protocols.is_empty());
        assert_eq!(TLS.crypto_provider().cipher_suites.len(), 7);
        // Amazon Root CA 1, which AWS endpoints chain to.
        assert!(webpki_roots::TLS_SERVER_ROOTS.iter().any(|anchor| {
            let subject: &[u8] = anchor.subject.as_ref();
            subject.windows(b"Amazon Root CA 1".len()).any(|window| window == b"Amazon Root CA 1")
        }));
    }

    #[tokio::test]
    async fn answers_over_http1() {
        let url =
            server(Some("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-amzn-requestid: r1\r\n\r\nok")).await;
        let response =
            Http1Connector::new((Some(Duration::from_secs(1)), None)).call(get(&url)).await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.headers().get("x-amzn-requestid"), Some("r1"));
        assert_eq!(response.body().bytes(), None, "a streamed body, read by the SDK");
    }

    #[tokio::test]
    async fn a_closed_port_is_an_io_error_the_sdk_retries() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        drop(listener);
        let error =
            Http1Connector::new((Some(Duration::from_secs(1)), None)).call(get(&url)).await.unwrap_err();
        assert!(error.is_io(), "{error:?}");
    }

    #[tokio::test]
    async fn no_answer_within_the_read_timeout_is_a_timeout() {
        let url = server(None).await;
        let connector = Http1Connector::new((Some(Duration::from_secs(1)), Some(Duration::from_millis(100))));
        let error = connector.call(get(&url)).await.unwrap_err();
        assert!(error.is_timeout(), "{error:?}");
    }

    #[tokio::test]
    async fn a_connection_closed_before_the_answer_is_an_io_error() {
        let url = server(Some("")).await;
        let error = Http1Connector::new((None, None)).call(get(&url)).await.unwrap_err();
        assert!(error.is_io() || error.as_other() == Some(ErrorKind::TransientError), "{error:?}");
    }

    /// A self-signed certificate for `localhost` and its key, made for this test only (`openssl req
    /// -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost -addext
    /// basicConstraints=critical,CA:FALSE`): no
    /// Mozilla root vouches for it.
    const SELF_SIGNED_CERT: &str = "-----BEGIN CERTIFICATE-----\n\
MIIBkzCCATigAwIBAgIUVk634fk6fpaFyZKwJ844oUEUIswwCgYIKoZIzj0EAwIw\n\
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEzMDExNDIwMFoYDzIxMjYxMTA2\n\
MTE0MjAwWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO\n\
PQMBBwNCAAQ3nXo9G4u8A7PJFpMfOPLuwylthvV5WFpoIqS7m+AwcSW+kgIvqmt0\n\
mkIlN2yTYWEJ+qOUeCVedzu8hQLHMSRno2YwZDAdBgNVHQ4EFgQUlxqU2Xwov9HB\n\
zsu5sKFLjxvOf8AwHwYDVR0jBBgwFoAUlxqU2Xwov9HBzsu5sKFLjxvOf8AwFAYD\n\
VR0RBA0wC4IJbG9jYWxob3N0MAwGA1UdEwEB/wQCMAAwCgYIKoZIzj0EAwIDSQAw\n\
RgIhAIz1QGuIkpx4Tp5SVI+DjobspHWLfcshFc/rvAUjEGo/AiEAiyoUwNjB1vHU\n\
QPN0mW/VJmoZf74w/RqN3MFz/lESD40=\n\
-----END CERTIFICATE-----";
    const SELF_SIGNED_KEY: &str = "-----BEGIN PRIVATE KEY-----\n\
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg4HeRvxfq1EtHcubT\n\
RQ/g/VEUBtlwNErY4WSy4+9XuU6hRANCAAQ3nXo9G4u8A7PJFpMfOPLuwylthvV5\n\
WFpoIqS7m+AwcSW+kgIvqmt0mkIlN2yTYWEJ+qOUeCVedzu8hQLHMSRn\n\
-----END PRIVATE KEY-----";

    #[tokio::test]
    async fn https_refuses_a_certificate_no_mozilla_root_vouches_for() {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let cert = CertificateDer::from_pem_slice(SELF_SIGNED_CERT.as_bytes()).unwrap();
        let key = PrivateKeyDer::from_pem_slice(SELF_SIGNED_KEY.as_bytes()).unwrap();
        let server =
            rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(vec![cert], key)
                .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (socket, _) = listener.accept().await.unwrap();
            // The handshake fails on the client's side: it refuses the certificate.
            let _ = acceptor.accept(socket).await;
        });
        let error = Http1Connector::new((Some(Duration::from_secs(1)), None))
            .call(get(&format!("https://localhost:{port}/")))
            .await
            .unwrap_err();
        let refused = error_chain(&error).any(|error| {
            matches!(
                error.downcast_ref::<rustls::Error>(),
                Some(rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer))
            )
        });
        assert!(refused, "{error:?}");
    }
}
