//! Community detection on a small weighted graph: deterministic Louvain modularity
//! optimization (Blondel et al., 2008).
//!
//! Gap discovery uses it to group paraphrase clusters into topics without being told how
//! many topics there are. It is written here rather than taken from a graph crate because
//! the engine must give the same result for the same input on every run and for every
//! input order: nodes are visited in index order, ties go to the lowest community, and
//! no random shuffling is involved.

use std::collections::BTreeMap;

/// An undirected weighted graph in adjacency-list form. `self_loops[i]` is `A_ii` in the
/// convention of aggregated graphs (each internal edge of a merged node counted twice).
#[derive(Debug, Clone)]
struct Graph {
    adjacency: Vec<Vec<(usize, f64)>>,
    self_loops: Vec<f64>,
}

impl Graph {
    fn from_edges(nodes: usize, edges: &[(usize, usize, f64)]) -> Self {
        let mut weights: Vec<BTreeMap<usize, f64>> = vec![BTreeMap::new(); nodes];
        let mut self_loops = vec![0.0; nodes];
        for &(a, b, w) in edges {
            // NaN and non-positive weights are no edge.
            if w.is_nan() || w <= 0.0 || a >= nodes || b >= nodes {
                continue;
            }
            if a == b {
                self_loops[a] += 2.0 * w;
            } else {
                *weights[a].entry(b).or_insert(0.0) += w;
                *weights[b].entry(a).or_insert(0.0) += w;
            }
        }
        Self { adjacency: weights.into_iter().map(|m| m.into_iter().collect()).collect(), self_loops }
    }

    fn nodes(&self) -> usize {
        self.adjacency.len()
    }

    /// Weighted degree `k_i` (self loop included).
    fn degree(&self, node: usize) -> f64 {
        self.self_loops[node] + self.adjacency[node].iter().map(|&(_, w)| w).sum::<f64>()
    }

    /// The graph whose nodes are the communities of `membership` (numbered `0..count`).
    fn aggregate(&self, membership: &[usize], count: usize) -> Self {
        let mut weights: Vec<BTreeMap<usize, f64>> = vec![BTreeMap::new(); count];
        let mut self_loops = vec![0.0; count];
        for node in 0..self.nodes() {
            let c = membership[node];
            self_loops[c] += self.self_loops[node];
            for &(other, w) in &self.adjacency[node] {
                let d = membership[other];
                if c == d {
                    // Seen from both ends: each internal edge adds 2w, as the convention wants.
                    self_loops[c] += w;
                } else {
                    *weights[c].entry(d).or_insert(0.0) += w;
                }
            }
        }
        Self { adjacency: weights.into_iter().map(|m| m.into_iter().collect()).collect(), self_loops }
    }
}

/// One local-moving phase: moves single nodes to the neighboring community with the best
/// modularity gain until no move improves it. Returns the communities renumbered `0..k`
/// in order of their lowest node, their count, and whether anything moved.
fn local_moving(graph: &Graph, resolution: f64) -> (Vec<usize>, usize, bool) {
    let n = graph.nodes();
    let degrees: Vec<f64> = (0..n).map(|i| graph.degree(i)).collect();
    let two_m: f64 = degrees.iter().sum();
    let mut community: Vec<usize> = (0..n).collect();
    if two_m <= 0.0 {
        return (community, n, false);
    }
    let mut totals = degrees.clone();
    let mut moved_any = false;
    // Each pass strictly increases modularity, so this terminates; the cap only bounds
    // the work on adversarial inputs.
    for _pass in 0..100 {
        let mut moved = false;
        for node in 0..n {
            let current = community[node];
            let k = degrees[node];
            totals[current] -= k;
            let mut links: BTreeMap<usize, f64> = BTreeMap::new();
            links.insert(current, 0.0);
            for &(other, w) in &graph.adjacency[node] {
                *links.entry(community[other]).or_insert(0.0) += w;
            }
            let gain = |c: usize, link: f64| link - resolution * totals[c] * k / two_m;
            let mut best = (current, gain(current, links[&current]));
            for (&c, &link) in &links {
                let g = gain(c, link);
                if g > best.1 + 1e-12 {
                    best = (c, g);
                }
            }
            totals[best.0] += k;
            if best.0 != current {
                community[node] = best.0;
                moved = true;
                moved_any = true;
            }
        }
        if !moved {
            break;
        }
    }
    let (renumbered, count) = renumber(&community);
    (renumbered, count, moved_any)
}

/// Renumbers labels `0..k` in order of first appearance.
fn renumber(labels: &[usize]) -> (Vec<usize>, usize) {
    let mut map: BTreeMap<usize, usize> = BTreeMap::new();
    let out = labels
        .iter()
        .map(|&l| {
            let next = map.len();
            *map.entry(l).or_insert(next)
        })
        .collect();
    (out, map.len())
}

/// Louvain communities of an undirected graph given as weighted edges `(a, b, weight)`
/// with positive weights (repeated edges add up). Returns one community number per node,
/// numbered `0..k` in order of each community's lowest node. Isolated nodes are
/// communities of their own. `resolution` 1.0 is standard modularity; higher values give
/// smaller communities.
pub fn louvain(nodes: usize, edges: &[(usize, usize, f64)], resolution: f64) -> Vec<usize> {
    let mut graph = Graph::from_edges(nodes, edges);
    let mut membership: Vec<usize> = (0..nodes).collect();
    loop {
        let (local, count, moved) = local_moving(&graph, resolution);
        if !moved {
            break;
        }
        for c in &mut membership {
            *c = local[*c];
        }
        graph = graph.aggregate(&local, count);
    }
    renumber(&membership).0
}

/// Newman modularity of a partition (for tests and diagnostics).
pub fn modularity(nodes: usize, edges: &[(usize, usize, f64)], membership: &[usize], resolution: f64) -> f64 {
    let graph = Graph::from_edges(nodes, edges);
    let two_m: f64 = (0..nodes).map(|i| graph.degree(i)).sum();
    if two_m <= 0.0 {
        return 0.0;
    }
    let mut internal: BTreeMap<usize, f64> = BTreeMap::new();
    let mut totals: BTreeMap<usize, f64> = BTreeMap::new();
    for node in 0..nodes {
        let c = membership[node];
        *totals.entry(c).or_insert(0.0) += graph.degree(node);
        *internal.entry(c).or_insert(0.0) += graph.self_loops[node];
        for &(other, w) in &graph.adjacency[node] {
            if membership[other] == c {
                *internal.entry(c).or_insert(0.0) += w;
            }
        }
    }
    totals
        .iter()
        .map(|(c, &tot)| internal.get(c).copied().unwrap_or(0.0) / two_m - resolution * (tot / two_m).powi(2))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cliques(sizes: &[usize], bridge: f64) -> (usize, Vec<(usize, usize, f64)>, Vec<usize>) {
        let mut edges = Vec::new();
        let mut truth = Vec::new();
        let mut start = 0;
        for (c, &size) in sizes.iter().enumerate() {
            for i in start..start + size {
                truth.push(c);
                for j in (i + 1)..start + size {
                    edges.push((i, j, 1.0));
                }
            }
            if start > 0 {
                edges.push((start - 1, start, bridge));
            }
            start += size;
        }
        (start, edges, truth)
    }

    #[test]
    fn finds_cliques_joined_by_weak_bridges() {
        let (n, edges, truth) = cliques(&[5, 6, 4, 7], 0.3);
        assert_eq!(louvain(n, &edges, 1.0), truth);
    }

    #[test]
    fn two_triangles_with_a_bridge() {
        let edges =
            [(0, 1, 1.0), (0, 2, 1.0), (1, 2, 1.0), (3, 4, 1.0), (3, 5, 1.0), (4, 5, 1.0), (2, 3, 1.0)];
        let m = louvain(6, &edges, 1.0);
        assert_eq!(m, vec![0, 0, 0, 1, 1, 1]);
        assert!(modularity(6, &edges, &m, 1.0) > 0.35);
    }

    #[test]
    fn isolated_nodes_stay_alone_and_an_empty_graph_is_all_singletons() {
        assert_eq!(louvain(3, &[], 1.0), vec![0, 1, 2]);
        assert_eq!(louvain(4, &[(0, 1, 1.0)], 1.0), vec![0, 0, 1, 2]);
    }

    #[test]
    fn a_chain_of_cliques_is_not_merged_into_one_community() {
        // The resolution limit of modularity merges small cliques in a long ring; a short
        // chain of strong cliques with weak bridges must stay apart.
        let (n, edges, _) = cliques(&[6; 8], 0.05);
        let m = louvain(n, &edges, 1.0);
        assert_eq!(m.iter().max().copied(), Some(7));
    }

    proptest! {
        #[test]
        fn louvain_never_loses_to_singletons_and_is_deterministic(
            raw in proptest::collection::vec((0usize..30, 0usize..30, 0.01f64..2.0), 0..120)
        ) {
            let a = louvain(30, &raw, 1.0);
            prop_assert_eq!(&a, &louvain(30, &raw, 1.0));
            let singletons: Vec<usize> = (0..30).collect();
            prop_assert!(modularity(30, &raw, &a, 1.0) >= modularity(30, &raw, &singletons, 1.0) - 1e-9);
            // Numbered in order of first appearance.
            let mut next = 0;
            for &c in &a {
                prop_assert!(c <= next);
                if c == next { next += 1; }
            }
        }
    }
}
