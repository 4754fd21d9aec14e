//! The flattened forest: every tree of a model in one array of 16-byte nodes, walked for
//! single-row scores and explanations and for batches of categorical models; and the trees it
//! is flattened from, read from the booster for path explanations ([`PathTree`]).
//!
//! **Invariants:** [`path_nodes`] returns only trees whose splits' children are inside the tree
//! and whose splits read features of the feature set, and refuses a cycle (an error, never a
//! hang), each internal node carrying the cover-weighted mean of the leaves below it (the
//! expected value a split's contribution is measured from). [`Forest::new`] then keeps what the
//! walk relies on, since the walk does no bounds checks: every split reads a feature below
//! [`PAD`]; the node array's length is a power of two, so an index masked with `len - 1` is in
//! bounds; a leaf is its own right child. The leaves are summed in tree order, so the margin
//! equals one tree at a time to the bit (the unit tests here compare it with a plain walk of the
//! path trees and with the booster).

use super::model_err;
use crate::codes::CodeBook;
use crate::error::RiskError;
use crate::features::{self, FeatureVector, N_FEATURES};

/// One node of a tree, laid out for path explanations.
#[derive(Debug, Clone, Copy)]
struct PathNode {
    feature: u32,
    threshold: f32,
    default_left: bool,
    left: u32,
    right: u32,
    /// The leaf value, or the cover-weighted mean of the leaves below an internal node.
    value: f32,
    leaf: bool,
    /// A categorical split: the categories sent left are `categories[cats.0..cats.1]` of its
    /// [`PathTree`] (the threshold is unused).
    categorical: bool,
    cats: (u32, u32),
}

/// One tree, laid out for path explanations.
#[derive(Debug, Clone, Default)]
pub(super) struct PathTree {
    nodes: Vec<PathNode>,
    /// The categories of the categorical splits, ascending per split.
    categories: Vec<u32>,
}

#[cfg(test)]
impl PathTree {
    /// Whether a row goes left at internal node `n` (codes already categories).
    fn goes_left(&self, n: &PathNode, v: f32) -> bool {
        if v.is_nan() {
            n.default_left
        } else if n.categorical {
            let set = &self.categories[n.cats.0 as usize..n.cats.1 as usize];
            set.binary_search(&(v as u32)).is_ok()
        } else {
            v < n.threshold
        }
    }
}

pub(super) fn path_nodes(tree: &hessboost::tree::RegTree) -> Result<PathTree, RiskError> {
    let nodes = tree.nodes();
    if tree.is_vector_leaf() || tree.linear_leaves().is_some() {
        return Err(RiskError::Model("the model uses vector or linear leaves".into()));
    }
    let mut categories = Vec::new();
    let mut out: Vec<PathNode> = Vec::with_capacity(nodes.len());
    for (i, n) in nodes.iter().enumerate() {
        let categorical = n.is_categorical && !n.is_leaf();
        let begin = categories.len();
        if categorical {
            let mut set = tree.split_categories(i).to_vec();
            set.sort_unstable();
            categories.extend(set);
        }
        let cats = (u32::try_from(begin).map_err(model_err)?, u32::try_from(categories.len()).map_err(model_err)?);
        out.push(PathNode {
            feature: n.split_feature,
            threshold: n.split_cond,
            default_left: n.default_left,
            left: n.left.max(0) as u32,
            right: n.right.max(0) as u32,
            value: n.leaf_value,
            leaf: n.is_leaf(),
            categorical,
            cats,
        });
    }
    for n in out.iter().filter(|n| !n.leaf) {
        if n.left as usize >= nodes.len() || n.right as usize >= nodes.len() || n.feature as usize >= N_FEATURES {
            return Err(RiskError::Model("a tree node points outside its tree or feature set".into()));
        }
    }
    // Children come after their parent in hessboost's layout only by convention; compute the
    // means bottom-up by an explicit post-order instead of relying on it.
    let mut cover: Vec<f64> = nodes.iter().map(|n| f64::from(n.sum_hess.max(0.0))).collect();
    let mut stack = vec![(0usize, false)];
    let mut guard = 0usize;
    while let Some((i, expanded)) = stack.pop() {
        guard += 1;
        if guard > 4 * nodes.len() + 4 {
            return Err(RiskError::Model("a tree is not a tree (cycle)".into()));
        }
        let n = out[i];
        if n.leaf {
            continue;
        }
        if expanded {
            let (l, r) = (n.left as usize, n.right as usize);
            let (cl, cr) = (cover[l], cover[r]);
            let total = cl + cr;
            out[i].value = if total > 0.0 {
                ((f64::from(out[l].value) * cl + f64::from(out[r].value) * cr) / total) as f32
            } else {
                (out[l].value + out[r].value) / 2.0
            };
            cover[i] = total;
        } else {
            stack.push((i, true));
            stack.push((n.left as usize, false));
            stack.push((n.right as usize, false));
        }
    }
    Ok(PathTree { nodes: out, categories })
}

/// A node of the flattened forest: 16 bytes, children adjacent (`right = left + 1`), each
/// tree breadth-first so that the top levels of a tree share cache lines.
#[derive(Debug, Clone, Copy)]
struct FlatNode {
    /// The split's threshold (NaN for a categorical split and for a leaf: nothing is below it).
    threshold: f32,
    /// Bits 0–6: where the walk reads the split's value: the feature index, plus [`PAD`] when
    /// a missing value goes left (see [`Forest::margin`]); above them ([`ID_SHIFT`]): a
    /// categorical split's bit in a row's bits ([`Forest::fill_bits`]), 0 for a numeric split or
    /// a leaf.
    bits: u32,
    left: u32,
    /// Leaf value, or the expected value below an internal node.
    value: f32,
}

/// Where a categorical split's number starts in [`FlatNode::bits`].
const ID_SHIFT: u32 = 7;
/// Words of a row's bits ([`Forest::fill_bits`]): at most 32,736 categorical splits (word 0
/// is never a split's).
const ROW_WORDS: usize = 1024;
/// The slot a leaf reads: past every feature, so never a categorical one.
const LEAF_SLOT: u32 = PAD as u32 - 1;

/// Width of the padded row (a power of two, at least [`N_FEATURES`]); the walk reads a row
/// twice as wide (see [`Forest::margin`]).
const PAD: usize = 64;
/// Width of the row the walk reads: the row with missing values as −∞, then as +∞.
const SLOTS: usize = 2 * PAD;

/// Every tree of a model in one array, walked for single-row scores and explanations.
#[derive(Debug, Clone, Default)]
pub(super) struct Forest {
    nodes: Vec<FlatNode>,
    roots: Vec<u32>,
    /// The longest root-to-leaf path, in splits.
    depth: usize,
    /// The longest root-to-leaf path of each group of [`LANES`] trees walked side by side: a
    /// group stops there instead of stepping its leaves in place down to [`Self::depth`].
    group_depth: Vec<usize>,
    /// The roots of each group and how many of its lanes are trees.
    groups: Vec<([u32; LANES], usize)>,
    /// The sets of the categorical splits, transposed: for each categorical feature, one row
    /// of bits per category — bit `i` of a category's row is set when the feature's `i`-th
    /// categorical split sends that category left — and a first row for a missing or unknown
    /// code (set where the split sends missing values left). A row scored copies its own
    /// category's row of each feature into its bits ([`Self::fill_bits`]): a few contiguous
    /// cache lines, and then each categorical split is one bit test.
    table: Vec<u32>,
    /// Each categorical feature with splits: its column, its number of categories, where its
    /// rows start in [`Self::table`], how many words a row has and where it goes in a row's
    /// bits.
    layout: Vec<(usize, usize, usize, usize, usize)>,
}

impl Forest {
    /// Flattens checked trees (see [`path_nodes`]: in bounds, acyclic) whose categorical
    /// splits read the categories of `book`.
    pub(super) fn new(trees: &[PathTree], book: &CodeBook) -> Result<Self, RiskError> {
        if N_FEATURES >= PAD || trees.iter().flat_map(|t| &t.nodes).any(|n| !n.leaf && n.feature as usize >= N_FEATURES)
        {
            return Err(RiskError::Model("a split reads a feature outside the feature set".into()));
        }
        let empty = FlatNode { threshold: 0.0, bits: LEAF_SLOT, left: 0, value: 0.0 };
        let mut f = Forest::default();
        // Each categorical feature's splits get consecutive bits of a row's bits,
        // from a word of their own; word 0 is left 0 for the numeric splits and leaves.
        let mut counts = [0u32; PAD];
        for n in trees.iter().flat_map(|t| &t.nodes).filter(|n| n.categorical && !n.leaf) {
            counts[n.feature as usize] += 1;
        }
        let mut first = [0u32; PAD];
        let mut words_used = 1;
        for j in book.columns().filter(|j| counts[*j] > 0) {
            first[j] = u32::try_from(words_used * 32).map_err(model_err)?;
            words_used += (counts[j] as usize).div_ceil(32);
        }
        if words_used > ROW_WORDS {
            return Err(RiskError::Model(format!(
                "the model has {} categorical splits; at most {} can be scored",
                counts.iter().sum::<u32>(),
                (ROW_WORDS - 1) * 32
            )));
        }
        // Each categorical split's feature, number among the feature's, missing direction, set.
        let mut numbered = [0u32; PAD];
        let mut sets: Vec<(usize, u32, bool, &[u32])> = Vec::new();
        let mut tree_depth = Vec::with_capacity(trees.len());
        for path_tree in trees {
            let tree = &path_tree.nodes;
            let root = f.nodes.len();
            f.roots.push(u32::try_from(root).map_err(model_err)?);
            f.nodes.push(empty);
            let mut deepest = 0;
            // Breadth-first: each internal node's children are appended side by side.
            let mut queue = std::collections::VecDeque::from([(0usize, root, 0usize)]);
            while let Some((src, dst, depth)) = queue.pop_front() {
                deepest = deepest.max(depth);
                let n = tree.get(src).ok_or_else(|| RiskError::Model("a tree node points outside its tree".into()))?;
                if f.nodes.len() > root + 2 * tree.len() + 1 {
                    return Err(RiskError::Model("a tree is not a tree".into()));
                }
                f.nodes[dst] = if n.leaf {
                    // A leaf is its own right child (NaN threshold, missing goes right), so a
                    // walk that reached it stays there without a branch.
                    let me = u32::try_from(dst).map_err(model_err)?;
                    FlatNode { threshold: f32::NAN, bits: LEAF_SLOT, left: me.wrapping_sub(1), value: n.value }
                } else {
                    let name = features::FEATURES[n.feature as usize].name;
                    // How the split reads its feature: a threshold (missing values in the
                    // copy of the row its default direction needs), or its bit of the row's
                    // categories (missing values in the set's first row).
                    let (threshold, bits) = match (n.categorical, book.len_of(n.feature as usize)) {
                        (false, None) => (n.threshold, n.feature + if n.default_left { PAD as u32 } else { 0 }),
                        (false, Some(_)) => {
                            // Its value is a category, not a number: no threshold means anything.
                            return Err(RiskError::Model(format!(
                                "a split reads {name} as a number, but the model holds it as categories"
                            )));
                        }
                        (true, None) => {
                            return Err(RiskError::Model(format!(
                                "a split reads {name} as categories, but the model holds no codes for it"
                            )));
                        }
                        (true, Some(count)) => {
                            let set = &path_tree.categories[n.cats.0 as usize..n.cats.1 as usize];
                            if let Some(c) = set.iter().find(|c| **c as usize >= count) {
                                return Err(RiskError::Model(format!(
                                    "a split of {name} names category {c} of {count}"
                                )));
                            }
                            let id = numbered[n.feature as usize];
                            numbered[n.feature as usize] += 1;
                            sets.push((n.feature as usize, id, n.default_left, set));
                            (f32::NAN, n.feature | ((first[n.feature as usize] + id) << ID_SHIFT))
                        }
                    };
                    let left = f.nodes.len();
                    f.nodes.push(empty);
                    f.nodes.push(empty);
                    queue.push_back((n.left as usize, left, depth + 1));
                    queue.push_back((n.right as usize, left + 1, depth + 1));
                    FlatNode { threshold, bits, left: u32::try_from(left).map_err(model_err)?, value: n.value }
                };
            }
            tree_depth.push(deepest);
        }
        f.depth = tree_depth.iter().copied().max().unwrap_or(0);
        f.group_depth = tree_depth.chunks(LANES).map(|g| g.iter().copied().max().unwrap_or(0)).collect();
        // A last, partial group is filled with one extra leaf of value 0 that the walk never
        // adds: every group is then a fixed-size array the compiler unrolls.
        let idle = u32::try_from(f.nodes.len()).map_err(model_err)?;
        f.nodes.push(FlatNode { threshold: f32::NAN, bits: LEAF_SLOT, left: idle.wrapping_sub(1), value: 0.0 });
        f.groups = f
            .roots
            .chunks(LANES)
            .map(|g| {
                let mut lanes = [idle; LANES];
                lanes[..g.len()].copy_from_slice(g);
                (lanes, g.len())
            })
            .collect();
        // The node array's length is a power of two, so that an index masked with `len - 1`
        // is always in bounds (the walk needs no bounds check); the padding is never reached.
        let len = f.nodes.len().next_power_of_two();
        f.nodes.resize(len, empty);
        // The transposed sets: each feature's rows (missing, then its categories).
        for j in book.columns() {
            let (Some(categories), splits) = (book.len_of(j), counts[j] as usize) else { continue };
            if splits == 0 {
                continue;
            }
            let words = splits.div_ceil(32);
            f.layout.push((j, categories, f.table.len(), words, first[j] as usize / 32));
            f.table.resize(f.table.len() + (categories + 1) * words, 0);
        }
        for (j, id, default_left, set) in sets {
            let Some(&(_, _, base, words, _)) = f.layout.iter().find(|l| l.0 == j) else { continue };
            let rows = std::iter::once(0).filter(|_| default_left).chain(set.iter().map(|c| *c as usize + 1));
            for row in rows {
                f.table[base + row * words + id as usize / 32] |= 1 << (id % 32);
            }
        }
        Ok(f)
    }

    /// Number of trees.
    pub(super) fn num_trees(&self) -> usize {
        self.roots.len()
    }

    /// Sum of the leaf values `row` reaches; with `contributions`, each split's change of
    /// expected value is credited to the split's feature.
    ///
    /// Trees are walked [`LANES`] at a time, one level per step: the walks are independent, so
    /// their node loads overlap instead of waiting for each other (a single walk is one
    /// dependent load per level). Measured on the KCS model: 23.5 µs → see docs/benchmarks.md.
    /// The leaves are summed in tree order, whatever the grouping, so the margin does not
    /// depend on how the walk is organised (a unit test compares it with one tree at a time).
    pub(super) fn margin(&self, row: &FeatureVector, contributions: Option<&mut [f32; N_FEATURES]>) -> f32 {
        let slots = slots(row);
        if self.layout.is_empty() {
            return self.margin_with(&slots, &NO_BITS, contributions);
        }
        // The row's bits of the categorical splits, in a buffer of this thread's: zeroed once,
        // and each row overwrites the words its forest uses (word 0 stays 0).
        thread_local! {
            static BITS: std::cell::RefCell<Box<[u32; ROW_WORDS]>> =
                std::cell::RefCell::new(Box::new([0; ROW_WORDS]));
        }
        BITS.with_borrow_mut(|bits| {
            self.fill_bits(row, bits);
            self.margin_with(&slots, bits, contributions)
        })
    }

    fn margin_with(
        &self,
        slots: &[f32; SLOTS],
        bits: &[u32; ROW_WORDS],
        contributions: Option<&mut [f32; N_FEATURES]>,
    ) -> f32 {
        let all = 0..self.groups.len();
        let mut sum = 0.0;
        match contributions {
            None => self.walk_row::<false>(all, slots, bits, &mut [[0.0; PAD]; ROWS], &mut sum),
            Some(out) => {
                // One row of contributions per lane: lanes that split on the same feature do
                // not wait for each other's read-modify-write of one shared cell.
                let mut local = [[0f32; PAD]; ROWS];
                self.walk_row::<true>(all, slots, bits, &mut local, &mut sum);
                for (j, o) in out.iter_mut().enumerate() {
                    *o += local.iter().map(|l| l[j]).sum::<f32>();
                }
            }
        }
        sum
    }

    /// The margins of many rows (row-major, each made ready by `prepare`: codes as categories),
    /// the same to the bit as [`Self::margin`] of each. Rows go in blocks: each group of trees
    /// is walked for every row of a block before the next group, so its nodes are read from
    /// cache by all but the first row.
    pub(super) fn margins(&self, rows: &[f32], prepare: &dyn Fn(&FeatureVector) -> FeatureVector, out: &mut [f32]) {
        const BLOCK: usize = 16;
        let cat = !self.layout.is_empty();
        let mut slots = vec![[0f32; SLOTS]; BLOCK];
        let mut bits = vec![[0u32; ROW_WORDS]; if cat { BLOCK } else { 0 }];
        for (rows, out) in rows.chunks(BLOCK * N_FEATURES).zip(out.chunks_mut(BLOCK)) {
            for (i, row) in rows.chunks_exact(N_FEATURES).enumerate() {
                let row = prepare(&row.try_into().unwrap_or([f32::NAN; N_FEATURES]));
                slots[i] = self::slots(&row);
                if cat {
                    self.fill_bits(&row, &mut bits[i]);
                }
            }
            out.fill(0.0);
            let none = &mut [[0.0; PAD]; ROWS];
            for g in 0..self.groups.len() {
                for (i, sum) in out.iter_mut().enumerate() {
                    self.walk_row::<false>(g..g + 1, &slots[i], bits.get(i).unwrap_or(&NO_BITS), none, sum);
                }
            }
        }
    }

    /// Writes the row's bit of every categorical split into the words of `bits` the forest
    /// uses: each categorical feature's row of the table for this row's category (the first
    /// row when the code is missing or not a category of the book). Every word the forest
    /// reads is written: `bits` is reused from row to row without zeroing.
    fn fill_bits(&self, row: &FeatureVector, bits: &mut [u32; ROW_WORDS]) {
        for &(j, categories, base, words, at) in &self.layout {
            let v = row[j];
            let r = if v >= 0.0 && (v as usize) < categories { v as usize + 1 } else { 0 };
            let start = base + r * words;
            if let (Some(from), Some(to)) = (self.table.get(start..start + words), bits.get_mut(at..at + words)) {
                to.copy_from_slice(from);
            }
        }
    }

    /// [`Self::walk`], with the categorical bit tests when the forest has categorical splits.
    fn walk_row<const EXPLAIN: bool>(
        &self,
        groups: std::ops::Range<usize>,
        slots: &[f32; SLOTS],
        bits: &[u32; ROW_WORDS],
        local: &mut [[f32; PAD]; ROWS],
        sum: &mut f32,
    ) {
        if self.layout.is_empty() {
            self.walk::<EXPLAIN, false>(groups, slots, bits, local, sum);
        } else {
            self.walk::<EXPLAIN, true>(groups, slots, bits, local, sum);
        }
    }

    /// Walks the groups of trees `groups` for one row, adding each tree's leaf to `sum` in
    /// tree order.
    fn walk<const EXPLAIN: bool, const CAT: bool>(
        &self,
        groups: std::ops::Range<usize>,
        slots: &[f32; SLOTS],
        row_bits: &[u32; ROW_WORDS],
        local: &mut [[f32; PAD]; ROWS],
        sum: &mut f32,
    ) {
        let nodes = &self.nodes[..];
        // A power of two (see `new`): `i & mask` is in bounds.
        let mask = nodes.len().wrapping_sub(1);
        let groups = self
            .groups
            .get(groups.clone())
            .unwrap_or_default()
            .iter()
            .zip(self.group_depth.get(groups).unwrap_or_default());
        for ((roots, trees), &depth) in groups {
            let mut at = roots.map(|r| r as usize & mask);
            let mut step = |lane: usize| {
                let n = nodes[at[lane] & mask];
                let slot = (n.bits as usize) & (SLOTS - 1);
                // A leaf has a NaN threshold: it is its own right child.
                let mut left = slots[slot] < n.threshold;
                if CAT {
                    // A categorical split (NaN threshold) goes left when its bit is set; a
                    // numeric split or a leaf reads bit 0, which is 0. No branch: a mispredicted
                    // one costs more than this bit test at every step.
                    let id = n.bits >> ID_SHIFT;
                    left |= row_bits[(id / 32) as usize & (ROW_WORDS - 1)].wrapping_shr(id) & 1 != 0;
                }
                let child = n.left.wrapping_add(u32::from(!left)) as usize & mask;
                if EXPLAIN {
                    // Both copies of a feature's slot credit the feature.
                    local[lane][slot & (PAD - 1)] += nodes[child].value - n.value;
                }
                at[lane] = child;
            };
            for _ in 0..depth {
                // Four lanes per iteration, written out: less loop overhead per step.
                for quad in (0..LANES).step_by(4) {
                    step(quad);
                    step(quad + 1);
                    step(quad + 2);
                    step(quad + 3);
                }
            }
            for a in &at[..*trees] {
                *sum += nodes[*a & mask].value;
            }
        }
    }
}

/// The bits of a forest without categorical splits: never read but for word 0.
static NO_BITS: [u32; ROW_WORDS] = [0; ROW_WORDS];

/// The row twice, indexed with a mask (no bounds check in the inner loop; features are checked
/// below PAD when the forest is built): first with missing values as +∞, which are above every
/// threshold and go right, then as −∞, which go left. A split whose missing values go left
/// reads the second copy, the others the first, so the walk needs one comparison and no test
/// for NaN. Rows hold no infinities (`sanitize`).
fn slots(row: &FeatureVector) -> [f32; SLOTS] {
    let mut slots = [f32::NAN; SLOTS];
    for (j, v) in row.iter().enumerate() {
        slots[j] = if v.is_nan() { f32::INFINITY } else { *v };
        slots[PAD + j] = if v.is_nan() { f32::NEG_INFINITY } else { *v };
    }
    slots
}

/// Trees walked side by side by [`Forest::margin`].
const LANES: usize = 16;
/// Rows of contributions: one per lane.
const ROWS: usize = LANES;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Outcome;
    use crate::model::{Prediction, RiskModel, TrainParams, train};

    /// One tree at a time, each from its root, with the tree-path attribution computed the
    /// plain way: the reference the flattened walk must agree with.
    fn reference(trees: &[PathTree], row: &FeatureVector) -> (f32, Vec<f32>) {
        let mut sum = 0f32;
        let mut contributions = vec![0f32; N_FEATURES];
        for tree in trees {
            let t = &tree.nodes;
            let mut i = 0;
            loop {
                let n = t[i];
                if n.leaf {
                    sum += n.value;
                    break;
                }
                let left = tree.goes_left(&n, row[n.feature as usize]);
                let next = (if left { n.left } else { n.right }) as usize;
                contributions[n.feature as usize] += t[next].value - n.value;
                i = next;
            }
        }
        (sum, contributions)
    }

    fn rows(n: usize, seed: u64) -> Vec<FeatureVector> {
        let mut x = seed;
        let mut next = move || {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (x >> 40) as f32 / (1u64 << 24) as f32
        };
        (0..n)
            .map(|_| {
                let mut r = [0f32; N_FEATURES];
                for v in &mut r {
                    let u = next();
                    // Some missing values, so that default directions are exercised.
                    *v = if u < 0.1 { f32::NAN } else { u };
                }
                r
            })
            .collect()
    }

    /// The walk against one tree at a time, and against the booster's own prediction.
    fn check_walk(m: &RiskModel, rows: &[FeatureVector]) {
        let trees: Vec<PathTree> = m.booster.trees().iter().map(|t| path_nodes(t).unwrap()).collect();
        for row in rows {
            let coded = m.prepare(row);
            let (want, want_c) = reference(&trees, &coded);
            let mut c = [0f32; N_FEATURES];
            assert_eq!(m.forest.margin(&coded, None).to_bits(), want.to_bits());
            assert_eq!(m.forest.margin(&coded, Some(&mut c)).to_bits(), want.to_bits());
            for (a, b) in c.iter().zip(&want_c) {
                assert!((a - b).abs() < 1e-5, "{a} vs {b}");
            }
            let fast = m.probability_fast(row);
            assert_eq!(m.predict_into(row, &mut [0f32; N_FEATURES]).to_bits(), fast.to_bits());
            let booster = m.probability(row).unwrap();
            assert!((fast - booster).abs() < 1e-5, "walk {fast} vs booster {booster}");
        }
    }

    #[test]
    fn the_flattened_walk_gives_the_margin_of_one_tree_at_a_time_to_the_bit() {
        let x = rows(600, 1);
        let outcomes: Vec<Outcome> = x
            .iter()
            .map(|r| Outcome { fraud: r[3].is_nan() || r[3] + r[7] > 1.1, critical: false, revenue: 0.0 })
            .collect();
        // 37 trees: two full groups of 16 and a partial one, of uneven depths.
        let params = TrainParams { max_depth: 6, rounds: 37, bag: 1, categorical: false, ..TrainParams::default() };
        let m = train("t", &x, &outcomes, &[], &params, None, |_, _| {}).unwrap();
        assert_eq!(m.num_trees(), 37);
        check_walk(&m, &rows(300, 2));
    }

    #[test]
    fn categorical_splits_send_a_code_left_by_set_and_an_unknown_code_the_missing_way() {
        let origin = features::FEATURES.iter().position(|f| f.name == "origin").unwrap();
        let office = features::FEATURES.iter().position(|f| f.name == "office").unwrap();
        // Origins whose codes say nothing in order: every third one is risky.
        let code = |r: &FeatureVector, j: usize, salt: f32| {
            if r[j].is_nan() { f32::NAN } else { 100.0 + 7.0 * ((r[j] * 40.0 + salt) as u32 % 40) as f32 }
        };
        let with_codes = |rows: Vec<FeatureVector>| -> Vec<FeatureVector> {
            rows.into_iter()
                .map(|mut r| {
                    r[origin] = code(&r, origin, 0.0);
                    r[office] = code(&r, office, 3.0);
                    r
                })
                .collect()
        };
        let x = with_codes(rows(1500, 3));
        let risky = |v: f32| v.is_finite() && (((v - 100.0) / 7.0) as u32).is_multiple_of(3);
        let outcomes: Vec<Outcome> = x
            .iter()
            .map(|r| Outcome { fraud: risky(r[origin]) || r[3] > 0.95, critical: false, revenue: 0.0 })
            .collect();
        let params = TrainParams { max_depth: 5, rounds: 37, bag: 1, ..TrainParams::default() };
        let m = train("t", &x, &outcomes, &[], &params, None, |_, _| {}).unwrap();
        assert!(m.booster.trees().iter().any(|t| t.has_categorical_splits()), "the trees split origins by sets");
        let mut seen: Vec<u32> = x.iter().filter(|r| r[origin].is_finite()).map(|r| r[origin] as u32).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(m.code_book().len_of(origin), Some(seen.len()));
        let mut check = with_codes(rows(300, 4));
        // Codes never seen in training: read as missing, by the walk and the booster alike.
        for r in check.iter_mut().take(30) {
            r[origin] = 99_999.0;
        }
        check_walk(&m, &check);
        // The batch scores every row as the one-row walk does, to the bit.
        let flat: Vec<f32> = check.iter().flatten().copied().collect();
        let batch = m.predict_batch(&flat).unwrap();
        for (row, p) in check.iter().zip(&batch) {
            assert_eq!(p.to_bits(), m.probability_fast(row).to_bits());
        }
        assert!(m.predict_batch(&flat[1..]).is_err(), "a partial row is refused");
        // A category beyond the book (a row not coded by it) is read as missing, never as
        // another feature's bits or the previous row's.
        let mut far = m.prepare(&check[40]);
        let mut missing = far;
        far[origin] = 1e6;
        missing[origin] = f32::NAN;
        assert_eq!(m.forest.margin(&far, None).to_bits(), m.forest.margin(&missing, None).to_bits());
        // A risky origin scores above a clean one, all else equal, and the origin is the
        // feature its explanation names first.
        let mut a = x[0];
        a[origin] = 142.0;
        a[3] = 0.1;
        let mut b = a;
        b[origin] = 149.0;
        let (pa, pb) = (m.predict(&a), m.predict(&b));
        assert!(pa.probability > pb.probability + 0.2, "{} vs {}", pa.probability, pb.probability);
        let top = |p: &Prediction| {
            (0..N_FEATURES).max_by(|&i, &j| p.contributions[i].abs().total_cmp(&p.contributions[j].abs())).unwrap()
        };
        assert_eq!(top(&pa), origin);
        // The file keeps the codes: read back, it scores the same.
        let mut file = Vec::new();
        m.write(&mut file).unwrap();
        let back = RiskModel::read(file.as_slice()).unwrap();
        assert_eq!(back.probability_fast(&a).to_bits(), pa.probability.to_bits());
        // Trees that read a code as categories with no codes in the file are refused.
        let mut meta = m.meta().clone();
        meta.categories.clear();
        let err = RiskModel::new(meta, m.booster.clone()).unwrap_err().to_string();
        assert!(err.contains("holds no codes"), "{err}");
    }
}
