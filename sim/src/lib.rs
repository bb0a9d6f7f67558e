//! # pastry-sim
//!
//! A deterministic discrete-event simulator that hosts many `pastry-node` engines and re-runs
//! the experiments of the Pastry paper (Rowstron & Druschel, Middleware 2001) and MSPastry's
//! dependability experiment (Castro, Costa, Rowstron, DSN 2004) through messages.
//!
//! * [`model`]: the paper's network model — random ids, random points of a 1000 × 1000 plane,
//!   the Euclidean distance as proximity — and the one-way latency the plane gives messages;
//! * [`engine`]: the discrete-event engine: one queue ordered by (time, sequence), every
//!   message encoded and decoded through the node codec, latency and loss, the [`engine::Peer`]
//!   trait any sans-I/O engine implements to be hosted;
//! * [`overlay`]: Pastry nodes on the engine — the host's calls (join through a nearby node,
//!   crash, leave, lookups) and the meter that keeps the truth the measures need;
//! * [`experiment`]: the paper's experiments (hops, locality, failures) and their statistics;
//! * [`churn`]: churn from sessions or a trace, and the dependability measures over time;
//! * [`dht`]: a `pastry-dht` engine on every node: values stored, read, updated and removed
//!   under churn and loss, against what the writers were told;
//! * [`quality`]: routing-table quality against the proximity-best choice (figure 7);
//! * [`paper`]: the published figures, printed beside the measured ones;
//! * [`trace`]: route traces and node lists, and an independent checker for them;
//! * [`plot`]: SVG charts.
//!
//! The simulator is a host: it moves bytes, runs the clock and measures. Every protocol
//! decision — whom to ask, when to retry, what to merge — is the nodes'. It reads node states
//! only to measure them (a leaf set against the true one, a table against the best).
//!
//! Every random choice comes from seeded ChaCha streams, one per purpose, so the same seed
//! gives the same output.

pub mod churn;
pub mod dht;
pub mod engine;
pub mod experiment;
pub mod grid;
pub mod model;
pub mod overlay;
pub mod paper;
pub mod plot;
pub mod progress;
pub mod quality;
pub mod trace;
