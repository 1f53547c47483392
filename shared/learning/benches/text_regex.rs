//! The learning engine's regexes (`text`): masking of personal data and the extraction of
//! contact details, links and numbers, on a customer-length message in ASCII, the same message
//! with non-ASCII punctuation and symbols (curly quotes, €, an accented name), and that message
//! 40 times (13 kB). Numbers: docs/performance.md, "Binary sizes (#20)".

use std::hint::black_box;

use autolearn_learning::text;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

const ASCII: &str = "Hi, I'm Maria. I saw the listing for the 2-bed at 1450 Oak Street, Apt 3B and I'd like \
to book a showing on Saturday around 10am. Is the rent still $1,850 per month? My number is \
(555) 123-4567, or email me at maria.lopez@example.com. I also found https://example.com/tour \
but the photos did not load. Thanks!";

const NON_ASCII: &str = "Hi, I’m María. I saw the listing for the 2‑bed at 1450 Oak Street, Apt 3B and I’d like \
to book a showing on Saturday around 10am. Is the rent still €1,850 per month? My number is \
(555) 123-4567, or email me at maria.lopez@example.com. I also found https://example.com/tour \
but the photos did not load — thanks! 😊";

fn texts() -> [(&'static str, String); 3] {
    [
        ("ascii", ASCII.to_string()),
        ("non_ascii", NON_ASCII.to_string()),
        ("long_non_ascii", NON_ASCII.repeat(40)),
    ]
}

fn regexes(c: &mut Criterion) {
    let mut group = c.benchmark_group("text");
    for (name, text) in texts() {
        group.bench_with_input(BenchmarkId::new("mask_personal_data", name), &text, |b, t| {
            b.iter(|| text::mask_personal_data(black_box(t)))
        });
        group.bench_with_input(BenchmarkId::new("contacts_links_numbers", name), &text, |b, t| {
            b.iter(|| (text::emails(black_box(t)), text::phones(t), text::links(t), text::numbers(t)))
        });
    }
    group.finish();
}

criterion_group!(benches, regexes);
criterion_main!(benches);
