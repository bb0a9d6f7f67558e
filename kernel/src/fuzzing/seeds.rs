//! The names of the committed fuzz seeds: [`seed_names`].

/// The shapes of the committed fuzz seeds (`fuzz/README.md`, *Seeds*): a node that knows
/// nobody, a three-node ring, a full b = 4 state, ids at both ends of the ring and a key
/// equidistant from two nodes.
pub const SEED_SHAPES: [&str; 6] = [
    "empty_state",
    "three_node_ring",
    "full_b4_state",
    "ids_near_zero",
    "ids_near_max",
    "equidistant_tie",
];

/// The fuzz targets that have committed seeds.
pub const SEED_TARGETS: [&str; 5] = [
    "arith",
    "codec_decode",
    "codec_roundtrip",
    "route",
    "state_ops",
];

/// The names of the committed seeds of the fuzz target `target`, sorted: exactly the files
/// that `fuzz/examples/write_seeds.rs` writes to `fuzz/seeds/<target>/` and that the seed-replay
/// tests read back. Empty for a target that has no seeds.
///
/// ```
/// let names = pastry_kernel::fuzzing::seed_names("codec_decode");
/// assert_eq!(names.len(), 24);
/// assert!(names.contains(&"three_node_ring.leaf_set".to_string()));
/// ```
#[must_use]
pub fn seed_names(target: &str) -> Vec<String> {
    let per_shape = |patterns: &[&str]| -> Vec<String> {
        SEED_SHAPES
            .iter()
            .flat_map(|s| patterns.iter().map(move |p| p.replace("{}", s)))
            .collect()
    };
    let mut names = match target {
        "arith" => {
            let mut n = per_shape(&["{}.b1", "{}.b2", "{}.b4", "{}.b8"]);
            n.extend(
                ["tie_k_plus_minus_d", "opposite_point", "wrap_max_to_zero"].map(String::from),
            );
            n
        }
        "codec_decode" => per_shape(&["{}.state", "{}.leaf_set", "{}.neighborhood", "{}.row0"]),
        "codec_roundtrip" | "route" => per_shape(&["{}"]),
        "state_ops" => per_shape(&["{}", "join_merge.{}", "join_merge_u16.{}"]),
        _ => Vec::new(),
    };
    names.sort();
    names
}

/// The committed seeds in `dir` (a `fuzz/seeds/<target>/` folder) as (file name, bytes),
/// sorted by name: what a seed-replay test compares with the seeds it expects.
///
/// # Panics
/// When the folder or one of its files cannot be read, or a name is not UTF-8 (a test helper:
/// the panic message names the path).
#[must_use]
pub fn committed_seeds(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("seed folder {}: {e}", dir.display()));
    let mut seeds: Vec<(String, Vec<u8>)> = entries
        .map(|e| {
            let e = e.unwrap_or_else(|e| panic!("seed folder {}: {e}", dir.display()));
            let path = e.path();
            let name = e
                .file_name()
                .into_string()
                .unwrap_or_else(|n| panic!("seed name {n:?} is not UTF-8"));
            let bytes =
                std::fs::read(&path).unwrap_or_else(|e| panic!("seed {}: {e}", path.display()));
            (name, bytes)
        })
        .collect();
    seeds.sort();
    seeds
}
