//! Loom models of the rate limiter's state word.

use core::{num::NonZeroU32, time::Duration};

use super::super::{Quota, Tat};
use crate::loom::{self, sync::Arc, thread};

fn quota() -> Quota {
    let one = NonZeroU32::new(1).unwrap();
    Quota::per(one, Duration::from_nanos(100))
        .unwrap()
        .allow_burst(NonZeroU32::new(2).unwrap())
}

// Two takers race for the last cell: exactly one gets it, and the word
// moves by exactly one cell.
#[test]
fn loom_two_takers_never_share_the_last_cell() {
    loom::model(|| {
        let tat = Arc::new(Tat::new(0));
        tat.take(&quota(), 0, 1).unwrap();
        let other = {
            let tat = Arc::clone(&tat);
            thread::spawn(move || tat.take(&quota(), 0, 1).is_ok())
        };
        let mine = tat.take(&quota(), 0, 1).is_ok();
        let theirs = other.join().unwrap();
        assert!(mine != theirs, "one taker, and only one, gets the cell");
        assert_eq!(tat.load(), 200);
        // Both are now refused, due one interval on.
        assert_eq!(tat.take(&quota(), 0, 1), Err(100));
    });
}

// Takers that read different instants race: each is judged at its own
// reading. The one at 200 is always due; the one at 100 only if it goes
// first, because after a grant at 200 a reading of 100 is behind it and has
// that much less credit. Whatever the order, no cell is granted twice.
#[test]
fn loom_takers_at_different_readings_are_each_judged_at_their_own() {
    loom::model(|| {
        let tat = Arc::new(Tat::new(0));
        tat.take(&quota(), 0, 2).unwrap();
        let late = {
            let tat = Arc::clone(&tat);
            thread::spawn(move || tat.take(&quota(), 200, 1).is_ok())
        };
        let early = tat.take(&quota(), 100, 1).is_ok();
        assert!(late.join().unwrap(), "at 200 a cell is due in any order");
        assert_eq!(tat.load(), if early { 400 } else { 300 });
    });
}
