//! `NodeState::route` on a state built from arbitrary learns and forgets: see
//! `pastry_kernel::fuzzing::check_route`.
#![no_main]
use pastry_kernel::fuzzing::{check_route, RouteInput};
libfuzzer_sys::fuzz_target!(|input: RouteInput| check_route(&input));
