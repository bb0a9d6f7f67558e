//! [`NodeConfig`]: every timer and every cap of a node, with the protocol's defaults.

use core::fmt;
use core::time::Duration;

use pastry_kernel::Config;

/// Microseconds since an epoch of the host's choosing: the engine's only notion of time.
///
/// The host passes `now` into every call; the engine never reads a clock.
pub type Time = u64;

/// The timers and caps of a node. [`NodeConfig::default`] gives the protocol's defaults, which
/// follow MSPastry and FreePastry where the protocol description is silent (each field says
/// where its default comes from).
///
/// Every queue and table of the engine has a cap here; reaching one is a counted drop
/// ([`Counters::dropped`](crate::Counters::dropped)), never growth.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct NodeConfig {
    /// The routing parameters b, L and |M| (default [`Config::PAPER`]: 4, 16, 32).
    pub routing: Config,
    /// `T_ls`: a node sends a heartbeat to both immediate leaf-set neighbours this often, and
    /// suspects one it has not heard from for `T_ls + T_o` (default 20 s, FreePastry's leaf-set
    /// protocol period).
    pub heartbeat: Duration,
    /// `T_o`: the first probe timeout; each retry doubles it (default 1 s).
    pub probe_timeout: Duration,
    /// Probes sent to a suspect before it is declared failed (default 3).
    pub probe_attempts: u8,
    /// `T_rt`: every row of the routing table has one random entry asked for its row this often
    /// (default 15 min, FreePastry's route-set maintenance).
    pub row_maintenance: Duration,
    /// The hop timeout before any round-trip time is measured or estimated (default 1 s;
    /// TCP's initial RTO). With a host's estimate R the first timeout is 3R (RFC 6298's rule
    /// for the first sample).
    pub rto_initial: Duration,
    /// The least hop timeout (default 50 ms).
    pub rto_min: Duration,
    /// The largest hop timeout (default 10 s).
    pub rto_max: Duration,
    /// Re-routes of one message after hop timeouts before it is given up (default 10, as
    /// FreePastry).
    pub route_retries: u8,
    /// Join attempts before [`Event::JoinFailed`](crate::Event::JoinFailed) (default 10).
    pub join_attempts: u8,
    /// The wait before a join request is sent again after a busy root or a timeout; doubled
    /// on each attempt (default 1 s).
    pub join_retry: Duration,
    /// How long a root keeps a side reserved for a joining node that has not become active
    /// (default 30 s, FreePastry's re-probe period).
    pub join_grant: Duration,
    /// The largest application payload of a routed message (default 64 KiB); a larger one is
    /// refused at the sender.
    pub max_payload: usize,
    /// Whether routed application messages are shown to the application at every hop as
    /// [`Event::Forward`](crate::Event::Forward) (Common API `forward`), held until the
    /// application answers with [`Node::forward`](crate::Node::forward) (default off).
    pub forward_upcall: bool,
    /// Route with the leaf set alone (default off): every next hop is a leaf-set member,
    /// chosen by the kernel's rules with every other node avoided — the "circular routing" of
    /// a ring without routing tables: correct, but about N / L hops instead of log N. For
    /// experiments that show what the routing table gains; the table is still built and
    /// kept, and joins route as usual.
    pub leaf_set_routing: bool,
    /// Cap of the queue of messages waiting for [`Node::poll_transmit`](crate::Node::poll_transmit)
    /// (default 4096).
    pub max_transmits: usize,
    /// Cap of the queue of events waiting for [`Node::poll_event`](crate::Node::poll_event)
    /// (default 4096).
    pub max_events: usize,
    /// Cap of outstanding requests: probes, row, neighborhood and leaf-set requests
    /// (default 1024).
    pub max_requests: usize,
    /// Cap of routed messages waiting for their next hop's acknowledgement (default 1024).
    pub max_in_flight: usize,
    /// Cap of merges waiting for their probes to be answered (default 256).
    pub max_merges: usize,
    /// Cap of the remembered (origin, message id) pairs for duplicate suppression
    /// (default 4096).
    pub dedup_capacity: usize,
    /// Cap of the per-peer table (round-trip times, liveness) beyond the nodes of the state
    /// (default 1024).
    pub max_peers: usize,
    /// Cap of the recently failed ids a node remembers and reports (default 32).
    pub max_failed: usize,
    /// For tests of the checks only: a known bug to plant (default none). Not part of the
    /// protocol; the model checker and the property tests must reject every one of them.
    #[doc(hidden)]
    pub planted: Option<PlantedBug>,
}

/// A known protocol bug, planted in a node to show that the checks find it.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PlantedBug {
    /// The joining node turns active as soon as the root answers, before its would-be
    /// leaf-set members have answered its probes (taking every node the join named).
    EarlyActivation,
    /// A root serves every joining node at once (no one-joiner-per-side rule).
    NoJoinGrant,
}

impl NodeConfig {
    /// The defaults, for `routing`.
    #[must_use]
    pub const fn new(routing: Config) -> Self {
        NodeConfig {
            routing,
            heartbeat: Duration::from_secs(20),
            probe_timeout: Duration::from_secs(1),
            probe_attempts: 3,
            row_maintenance: Duration::from_secs(15 * 60),
            rto_initial: Duration::from_secs(1),
            rto_min: Duration::from_millis(50),
            rto_max: Duration::from_secs(10),
            route_retries: 10,
            join_attempts: 10,
            join_retry: Duration::from_secs(1),
            join_grant: Duration::from_secs(30),
            max_payload: 64 * 1024,
            forward_upcall: false,
            leaf_set_routing: false,
            max_transmits: 4096,
            max_events: 4096,
            max_requests: 1024,
            max_in_flight: 1024,
            max_merges: 256,
            dedup_capacity: 4096,
            max_peers: 1024,
            max_failed: 32,
            planted: None,
        }
    }

    /// Checks that every timer is positive, the hop-timeout bounds are ordered and every cap
    /// is at least 1 (the payload cap may be 0).
    ///
    /// # Errors
    /// The first field out of range, as a [`NodeConfigError`].
    pub fn validate(&self) -> Result<(), NodeConfigError> {
        let timers = [
            ("heartbeat", self.heartbeat),
            ("probe_timeout", self.probe_timeout),
            ("row_maintenance", self.row_maintenance),
            ("rto_initial", self.rto_initial),
            ("rto_min", self.rto_min),
            ("rto_max", self.rto_max),
            ("join_retry", self.join_retry),
            ("join_grant", self.join_grant),
        ];
        if let Some((name, _)) = timers.iter().find(|(_, d)| d.is_zero()) {
            return Err(NodeConfigError::ZeroTimer(name));
        }
        if self.rto_min > self.rto_max
            || self.rto_initial < self.rto_min
            || self.rto_initial > self.rto_max
        {
            return Err(NodeConfigError::RtoBounds);
        }
        let caps = [
            ("probe_attempts", usize::from(self.probe_attempts)),
            ("join_attempts", usize::from(self.join_attempts)),
            ("max_transmits", self.max_transmits),
            ("max_events", self.max_events),
            ("max_requests", self.max_requests),
            ("max_in_flight", self.max_in_flight),
            ("max_merges", self.max_merges),
            ("dedup_capacity", self.dedup_capacity),
            ("max_peers", self.max_peers),
            ("max_failed", self.max_failed),
        ];
        if let Some((name, _)) = caps.iter().find(|(_, c)| *c == 0) {
            return Err(NodeConfigError::ZeroCap(name));
        }
        if self.max_payload > crate::message::MAX_PAYLOAD {
            return Err(NodeConfigError::PayloadCap(self.max_payload));
        }
        Ok(())
    }

    /// A duration in microseconds, saturating.
    pub(crate) fn micros(d: Duration) -> Time {
        u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
    }
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig::new(Config::PAPER)
    }
}

/// Why a [`NodeConfig`] was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NodeConfigError {
    /// A timer is zero.
    ZeroTimer(&'static str),
    /// A cap is zero.
    ZeroCap(&'static str),
    /// Not `rto_min <= rto_initial <= rto_max`.
    RtoBounds,
    /// The payload cap is over what the wire format can carry.
    PayloadCap(usize),
    /// A state built for other routing parameters than the configuration's.
    StateMismatch,
}

impl fmt::Display for NodeConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeConfigError::ZeroTimer(name) => write!(f, "timer {name} is zero"),
            NodeConfigError::ZeroCap(name) => write!(f, "cap {name} is zero"),
            NodeConfigError::RtoBounds => {
                f.write_str("the hop timeouts are not ordered: rto_min <= rto_initial <= rto_max")
            }
            NodeConfigError::StateMismatch => {
                f.write_str("the state was built for other routing parameters")
            }
            NodeConfigError::PayloadCap(n) => write!(
                f,
                "max_payload {n} is over the wire format's limit of {} bytes",
                crate::message::MAX_PAYLOAD
            ),
        }
    }
}

impl core::error::Error for NodeConfigError {}
