//! [`Prover`]: asks Z3 for a counterexample to a claim over free symbolic words.
//!
//! A theorem declares its variables with [`Prover::word`], states hypotheses with
//! [`Prover::assume`] and asks [`Prover::prove`] for a verdict. The solver is given the
//! hypotheses and the *negation* of the claim: `unsat` means no assignment of the variables
//! violates the claim, so it holds for every input; `sat` yields a counterexample, which the
//! verdict prints with every variable's value.

use core::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use z3::ast::Bool;
use z3::{Model, SatResult, Solver};

use crate::sym::{Sym, SymBool};

static SOLVER_NANOS: AtomicU64 = AtomicU64::new(0);
static SOLVER_CALLS: AtomicU64 = AtomicU64::new(0);

/// Total time spent inside Z3's `check` by this process, and the number of checks.
#[must_use]
pub fn solver_time() -> (Duration, u64) {
    (
        Duration::from_nanos(SOLVER_NANOS.load(Ordering::Relaxed)),
        SOLVER_CALLS.load(Ordering::Relaxed),
    )
}

/// One variable's value in a counterexample.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    /// The variable's name.
    pub name: String,
    /// Its width in bits.
    pub width: u32,
    /// Its value.
    pub value: u128,
}

/// An assignment of every variable of a theorem under which its claim is false.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Counterexample(pub Vec<Assignment>);

impl Counterexample {
    /// The value of the variable `name`, if it has one.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<u128> {
        self.0.iter().find(|a| a.name == name).map(|a| a.value)
    }
}

impl fmt::Display for Counterexample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            let digits = a.width.div_ceil(4) as usize;
            write!(f, "{} = {:#0w$x}", a.name, a.value, w = digits + 2)?;
        }
        Ok(())
    }
}

/// The outcome of one proof attempt.
#[derive(Clone, Debug)]
pub enum Verdict {
    /// The negated claim is unsatisfiable under the hypotheses: the claim holds for all inputs.
    Proved {
        /// The theorem's name.
        name: String,
        /// Time spent in the solver.
        time: Duration,
    },
    /// Z3 found inputs that satisfy the hypotheses and violate the claim.
    Refuted {
        /// The theorem's name.
        name: String,
        /// The inputs.
        counterexample: Counterexample,
        /// Time spent in the solver.
        time: Duration,
    },
    /// Z3 gave up (`unknown`); neither proved nor refuted.
    Unknown {
        /// The theorem's name.
        name: String,
        /// Z3's reason.
        reason: String,
        /// Time spent in the solver.
        time: Duration,
    },
}

impl Verdict {
    /// The theorem's name.
    #[must_use]
    pub fn name(&self) -> &str {
        match self {
            Verdict::Proved { name, .. }
            | Verdict::Refuted { name, .. }
            | Verdict::Unknown { name, .. } => name,
        }
    }

    /// Time spent in the solver.
    #[must_use]
    pub fn time(&self) -> Duration {
        match self {
            Verdict::Proved { time, .. }
            | Verdict::Refuted { time, .. }
            | Verdict::Unknown { time, .. } => *time,
        }
    }

    /// Whether the claim was proved.
    #[must_use]
    pub fn is_proved(&self) -> bool {
        matches!(self, Verdict::Proved { .. })
    }

    /// The counterexample, when the claim was refuted.
    #[must_use]
    pub fn counterexample(&self) -> Option<&Counterexample> {
        match self {
            Verdict::Refuted { counterexample, .. } => Some(counterexample),
            _ => None,
        }
    }

    /// Prints the verdict and panics, showing the counterexample, unless the claim was proved.
    ///
    /// # Panics
    /// When the claim was refuted or Z3 answered `unknown`.
    pub fn assert_proved(&self) {
        println!("{self}");
        assert!(self.is_proved(), "{self}");
    }

    /// Prints the verdict and panics unless Z3 refuted the claim with a counterexample: used to
    /// show that a deliberately wrong variant of a definition is caught.
    ///
    /// # Panics
    /// When the claim was proved or Z3 answered `unknown`.
    pub fn assert_refuted(&self) {
        println!("{self}");
        assert!(
            self.counterexample().is_some(),
            "expected a counterexample: {self}"
        );
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.time().as_secs_f64() * 1e3;
        match self {
            Verdict::Proved { name, .. } => write!(f, "proved   {name} ({ms:.1} ms)"),
            Verdict::Refuted {
                name,
                counterexample,
                ..
            } => write!(
                f,
                "REFUTED  {name} ({ms:.1} ms); counterexample: {counterexample}"
            ),
            Verdict::Unknown { name, reason, .. } => {
                write!(f, "UNKNOWN  {name} ({ms:.1} ms): {reason}")
            }
        }
    }
}

/// Reads a variable's value from a model.
type Reader = Box<dyn Fn(&Model) -> Option<u128>>;

/// A declared variable: its name, width and how to read its value from a model.
struct Variable {
    name: String,
    width: u32,
    value: Reader,
}

/// A proof obligation under construction: free variables and hypotheses.
pub struct Prover {
    name: String,
    vars: Vec<Variable>,
    hypotheses: Vec<Bool>,
}

impl Prover {
    /// A new obligation named `name` (shown in verdicts).
    #[must_use]
    pub fn new(name: impl Into<String>) -> Prover {
        Prover {
            name: name.into(),
            vars: Vec::new(),
            hypotheses: Vec::new(),
        }
    }

    /// A fresh free word variable; it ranges over all 2^N values and appears in
    /// counterexamples under `name`.
    pub fn word<S: Sym + 'static>(&mut self, name: &str) -> S {
        let (w, range) = S::fresh(&format!("{}!{}", name, self.vars.len()));
        self.hypotheses.extend(range.into_iter().map(|h| h.0));
        let term = w.clone();
        self.vars.push(Variable {
            name: name.to_owned(),
            width: S::BITS,
            value: Box::new(move |m| term.eval(m)),
        });
        w
    }

    /// Restricts the inputs to those satisfying `h`.
    pub fn assume(&mut self, h: &SymBool) {
        self.hypotheses.push(h.0.clone());
    }

    /// Asks Z3 whether some input satisfies the hypotheses and violates `claim`.
    #[must_use]
    pub fn prove(self, claim: &SymBool) -> Verdict {
        let solver = Solver::new();
        for h in &self.hypotheses {
            solver.assert(h);
        }
        solver.assert(claim.0.not());
        let start = Instant::now();
        let result = solver.check();
        let time = start.elapsed();
        let nanos = u64::try_from(time.as_nanos()).unwrap_or(u64::MAX);
        SOLVER_NANOS.fetch_add(nanos, Ordering::Relaxed);
        SOLVER_CALLS.fetch_add(1, Ordering::Relaxed);
        let name = self.name;
        match result {
            SatResult::Unsat => Verdict::Proved { name, time },
            SatResult::Sat => {
                let model = solver.get_model();
                let counterexample = Counterexample(
                    self.vars
                        .iter()
                        .map(|v| Assignment {
                            name: v.name.clone(),
                            width: v.width,
                            value: model
                                .as_ref()
                                .and_then(|m| (v.value)(m))
                                .unwrap_or_default(),
                        })
                        .collect(),
                );
                Verdict::Refuted {
                    name,
                    counterexample,
                    time,
                }
            }
            SatResult::Unknown => Verdict::Unknown {
                name,
                reason: solver.get_reason_unknown().unwrap_or_default(),
                time,
            },
        }
    }
}
