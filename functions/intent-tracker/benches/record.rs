//! CPU time of the tracker's request handling without the network: signature check, parsing,
//! validation and building the transaction, for the sample execution. The baseline in the same
//! run is parsing alone, so the report reads as a ratio that does not depend on the machine.

use autolearn_web::signature::WebhookAuth;
use axum::http::{HeaderMap, HeaderValue};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn sample_body() -> Vec<u8> {
    let event: serde_json::Value =
        serde_json::from_str(include_str!("../../../events/post-execution-matched.json")).unwrap();
    event["body"].as_str().unwrap().as_bytes().to_vec()
}

fn handler_cpu(c: &mut Criterion) {
    let body = sample_body();
    let auth = WebhookAuth::new("bench-secret-0123456789");
    let now = chrono::Utc::now();
    let mut headers = HeaderMap::new();
    headers.insert("x-autolearn-timestamp", HeaderValue::from_str(&now.timestamp().to_string()).unwrap());
    headers
        .insert("x-autolearn-signature", HeaderValue::from_str(&auth.sign(now.timestamp(), &body)).unwrap());

    let mut group = c.benchmark_group("intent_tracker_request");
    group.bench_function("baseline: serde_json parse only", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&body)).unwrap())
    });
    group.bench_function("verify + parse + validate + build transaction", |b| {
        b.iter(|| {
            auth.verify(black_box(&headers), black_box(&body), now).unwrap();
            intent_tracker::record::prepare(black_box(&body), now).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, handler_cpu);
criterion_main!(benches);
