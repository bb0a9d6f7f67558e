//! digit, shl, cw, dist and closer against bit-by-bit references: see
//! `pastry_kernel::fuzzing::check_arith`.
#![no_main]
use pastry_kernel::fuzzing::{check_arith, ArithInput};
libfuzzer_sys::fuzz_target!(|input: ArithInput| check_arith(&input));
