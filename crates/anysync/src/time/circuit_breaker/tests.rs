//! The breaker against a plain model of its specification, under random
//! calls, outcomes, drops and clock steps.

use alloc::{sync::Arc, vec::Vec};
use core::{future::Ready, time::Duration};

use proptest::prelude::*;

use super::*;
use crate::loom::sync::atomic::{AtomicUsize, Ordering};

/// A clock the test moves by hand, in milliseconds.
#[derive(Clone, Debug, Default)]
struct Clock(Arc<AtomicUsize>);

impl Timer for Clock {
    type Sleep = Ready<()>;

    fn sleep(&self, _: Duration) -> Ready<()> {
        core::future::ready(())
    }

    fn now(&self) -> Instant {
        Instant::from_origin(Duration::from_millis(self.0.load(Ordering::SeqCst) as u64))
    }
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Acquire,
    Success(usize),
    Failure(usize),
    Drop(usize),
    Advance(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Acquire),
        2 => any::<usize>().prop_map(Op::Success),
        2 => any::<usize>().prop_map(Op::Failure),
        1 => any::<usize>().prop_map(Op::Drop),
        2 => (0u8..40).prop_map(Op::Advance),
    ]
}

/// The specification, written as directly as possible.
#[derive(Debug)]
struct Model {
    n: u32,
    k: u32,
    m: u32,
    cooldown: usize,
    now: usize,
    state: CircuitState,
    /// Bumped on every state change; a call's outcome counts only if the
    /// state has not changed since it was admitted.
    epoch: u32,
    consecutive: u32,
    opened_at: usize,
    probes: u32,
    successes: u32,
}

impl Model {
    fn enter(&mut self, state: CircuitState) {
        self.state = state;
        self.epoch += 1;
        self.consecutive = 0;
        self.probes = 0;
        self.successes = 0;
        if state == CircuitState::Open {
            self.opened_at = self.now;
        }
    }

    fn observe(&mut self) {
        if self.state == CircuitState::Open && self.now >= self.opened_at + self.cooldown {
            self.enter(CircuitState::HalfOpen);
        }
    }

    /// `Some((epoch, probe))` if a call is admitted now.
    fn acquire(&mut self) -> Option<(u32, bool)> {
        self.observe();
        match self.state {
            CircuitState::Closed => Some((self.epoch, false)),
            CircuitState::Open => None,
            CircuitState::HalfOpen if self.probes < self.k => {
                self.probes += 1;
                Some((self.epoch, true))
            }
            CircuitState::HalfOpen => None,
        }
    }

    fn report(&mut self, epoch: u32, outcome: Outcome) {
        if epoch != self.epoch {
            return;
        }
        match (self.state, outcome) {
            (CircuitState::Closed, Outcome::Success) => self.consecutive = 0,
            (CircuitState::Closed, Outcome::Failure) => {
                self.consecutive += 1;
                if self.consecutive >= self.n {
                    self.enter(CircuitState::Open);
                }
            }
            (CircuitState::HalfOpen, Outcome::Success) => {
                self.probes -= 1;
                self.successes += 1;
                if self.successes >= self.m {
                    self.enter(CircuitState::Closed);
                }
            }
            (CircuitState::HalfOpen, Outcome::Failure) => self.enter(CircuitState::Open),
            (CircuitState::HalfOpen, Outcome::Abandoned) => self.probes -= 1,
            _ => {}
        }
    }
}

proptest!(
    #[test]
    fn breaker_matches_its_model(
        n in 1u32..4,
        k in 1u32..4,
        m in 1u32..4,
        cooldown in 0usize..60,
        ops in proptest::collection::vec(op(), 1..200),
    ) {
        let clock = Clock::default();
        let breaker = CircuitBreaker::builder()
            .consecutive_failures(n)
            .half_open_probes(k)
            .close_after(m)
            .cooldown(Duration::from_millis(cooldown as u64))
            .build(clock.clone())
            .unwrap();
        let mut model = Model {
            n, k, m, cooldown, now: 0,
            state: CircuitState::Closed,
            epoch: 0, consecutive: 0, opened_at: 0, probes: 0, successes: 0,
        };
        let mut held = Vec::new();
        for op in ops {
            match op {
                Op::Acquire => {
                    let real = breaker.try_acquire();
                    let expected = model.acquire();
                    prop_assert_eq!(real.is_ok(), expected.is_some(), "admission differs");
                    if let (Ok(permit), Some((epoch, probe))) = (real, expected) {
                        prop_assert_eq!(permit.is_probe(), probe);
                        held.push((permit, epoch));
                    }
                }
                Op::Success(i) | Op::Failure(i) | Op::Drop(i) if !held.is_empty() => {
                    let (permit, epoch) = held.swap_remove(i % held.len());
                    let outcome = match op {
                        Op::Success(_) => { permit.success(); Outcome::Success }
                        Op::Failure(_) => { permit.failure(); Outcome::Failure }
                        _ => { drop(permit); Outcome::Abandoned }
                    };
                    model.report(epoch, outcome);
                }
                Op::Advance(ms) => {
                    clock.0.fetch_add(usize::from(ms), Ordering::SeqCst);
                    model.now += usize::from(ms);
                }
                _ => {}
            }
            model.observe();
            prop_assert_eq!(breaker.state(), model.state);
            let stats = breaker.statistics();
            prop_assert!(stats.probes_in_flight <= k);
            prop_assert_eq!(stats.probes_in_flight, if model.state == CircuitState::HalfOpen { model.probes } else { 0 });
            prop_assert_eq!(*breaker.subscribe().borrow(), model.state);
        }
    }
);
