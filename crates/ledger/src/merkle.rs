//! Merkle trees over a block's transactions, after RFC 6962 / RFC 9162 (Certificate
//! Transparency): leaves and inner nodes are hashed with distinct prefixes (0x00, 0x01) so that
//! a leaf can never be passed off as an inner node, and an unbalanced tree splits at the largest
//! power of two below its size.

use crate::Hash;

/// The hash of a leaf.
pub fn leaf_hash(data: &Hash) -> Hash {
    Hash::of_parts(&[&[0u8], &data.0])
}

fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Hash::of_parts(&[&[1u8], &left.0, &right.0])
}

fn split(n: usize) -> usize {
    // The largest power of two strictly smaller than n (n >= 2).
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

fn root_of_leaves(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Hash::of(&[]),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root_of_leaves(&leaves[..k]), &root_of_leaves(&leaves[k..]))
        }
    }
}

/// The Merkle root of a list of items (transaction hashes).
pub fn root(items: &[Hash]) -> Hash {
    let leaves: Vec<Hash> = items.iter().map(leaf_hash).collect();
    root_of_leaves(&leaves)
}

/// The audit path of item `index`: the sibling hashes from the leaf up to the root.
pub fn path(items: &[Hash], index: usize) -> Option<Vec<Hash>> {
    if index >= items.len() {
        return None;
    }
    let leaves: Vec<Hash> = items.iter().map(leaf_hash).collect();
    let mut out = Vec::new();
    build_path(&leaves, index, &mut out);
    Some(out)
}

fn build_path(leaves: &[Hash], index: usize, out: &mut Vec<Hash>) {
    let n = leaves.len();
    if n <= 1 {
        return;
    }
    let k = split(n);
    if index < k {
        build_path(&leaves[..k], index, out);
        out.push(root_of_leaves(&leaves[k..]));
    } else {
        build_path(&leaves[k..], index - k, out);
        out.push(root_of_leaves(&leaves[..k]));
    }
}

/// Recomputes the root from an item, its index, the tree size and its audit path (RFC 9162 §2.1.3.2).
pub fn root_from_path(item: &Hash, index: u64, size: u64, path: &[Hash]) -> Option<Hash> {
    if index >= size {
        return None;
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = leaf_hash(item);
    for p in path {
        if snode == 0 {
            return None;
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode == 0 { Some(r) } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_verifies_for_every_size() {
        for n in 1..=33usize {
            let items: Vec<Hash> = (0..n).map(|i| Hash::of(&i.to_be_bytes())).collect();
            let r = root(&items);
            for i in 0..n {
                let p = path(&items, i).unwrap();
                assert_eq!(root_from_path(&items[i], i as u64, n as u64, &p), Some(r), "n={n} i={i}");
                // A wrong index or a wrong item does not reach the root.
                let wrong = Hash::of(b"other");
                assert_ne!(root_from_path(&wrong, i as u64, n as u64, &p), Some(r));
                if n > 1 {
                    assert_ne!(root_from_path(&items[i], ((i + 1) % n) as u64, n as u64, &p), Some(r));
                }
            }
        }
    }
}
