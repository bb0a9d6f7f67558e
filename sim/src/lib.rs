//! # pastry-sim
//!
//! A deterministic network simulator that re-runs the experiments of the Pastry paper
//! (Rowstron & Druschel, Middleware 2001) on `pastry-kernel`.
//!
//! * [`model`]: the paper's network model: random ids, random points of a 1000 × 1000 plane,
//!   Euclidean distance as the proximity figure;
//! * [`network`]: every node's kernel state; messages move hop by hop by calling each node's
//!   `route`, and every lookup's end is compared with the brute-force root among live nodes;
//! * [`experiment`]: the experiments (hops, locality, failure, churn) and their statistics;
//! * [`quality`]: routing-table quality against the proximity-best choice (figure 7);
//! * [`paper`]: the paper's published figures, printed beside the measured ones;
//! * [`trace`]: route traces and live-node lists, and an independent checker for them;
//! * [`plot`]: SVG charts.
//!
//! Every random choice comes from one seeded ChaCha generator, so the same seed gives the same
//! output; parallel work is split so that its results do not depend on thread timing.

pub mod experiment;
pub mod grid;
pub mod model;
pub mod network;
pub mod paper;
pub mod plot;
pub mod progress;
pub mod quality;
pub mod trace;
