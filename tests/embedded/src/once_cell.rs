//! OnceCell: one initialiser runs however many tasks race, a cancelled
//! initialiser hands over to the next waiter, a failed one leaves the cell
//! empty, and `set` on a full cell hands the value back.

use core::pin::pin;

use anysync::sync::{Event, OnceCell, Semaphore, SetError};
use embassy_executor::Spawner;
use embassy_futures::yield_now;
use portable_atomic::{AtomicUsize, Ordering};

use crate::harness::{poll_once, run};

/// Runs every scenario of this family.
pub(crate) async fn run_all(spawner: Spawner) {
    run("once_cell_initialises_once_across_tasks", once_cell_initialises_once(spawner)).await;
    run("once_cell_cancelled_initialiser_hands_over", once_cell_cancelled_initialiser()).await;
    run("once_cell_failed_initialiser_leaves_it_empty", once_cell_failed_initialiser()).await;
    run("once_cell_set_on_a_full_cell_returns_the_value", once_cell_set_twice()).await;
    run("once_cell_set_while_initialising_returns_the_value", once_cell_set_while_initialising()).await;
}

/// Shared by the tasks of the race scenario.
struct Race {
    cell: OnceCell<u32>,
    runs: AtomicUsize,
    seen: AtomicUsize,
    done: Semaphore,
}

#[embassy_executor::task(pool_size = 8)]
async fn race_to_init(r: &'static Race, mine: u32) {
    let value = *r
        .cell
        .get_or_init(|| async move {
            r.runs.fetch_add(1, Ordering::SeqCst);
            yield_now().await;
            mine
        })
        .await;
    // Every task must see the same value: record it as a bit.
    r.seen.fetch_or(1 << value, Ordering::SeqCst);
    r.done.add_permits(1);
}

/// Eight tasks race to initialise: one initialiser runs, all see its value.
async fn once_cell_initialises_once(spawner: Spawner) {
    static R: Race =
        Race { cell: OnceCell::new(), runs: AtomicUsize::new(0), seen: AtomicUsize::new(0), done: Semaphore::new(0) };
    for i in 0..8 {
        spawner.must_spawn(race_to_init(&R, i));
    }
    R.done.acquire_many(8).await.unwrap().forget();
    assert_eq!(R.runs.load(Ordering::SeqCst), 1);
    let value = *R.cell.get().expect("initialised");
    assert_eq!(R.seen.load(Ordering::SeqCst), 1 << value, "every task saw the one value");
    assert_eq!(R.cell.statistics().waiters, 0);
}

/// A cancelled initialiser lets the next waiting caller run its own.
async fn once_cell_cancelled_initialiser() {
    static CELL: OnceCell<u32> = OnceCell::new();
    static NEVER: Event = Event::new();
    let mut second = pin!(CELL.get_or_init(|| async { 2 }));
    {
        let first = pin!(CELL.get_or_init(|| async {
            NEVER.wait().await;
            1
        }));
        assert!(poll_once(first).await.is_pending());
        assert!(CELL.statistics().initializing);
        assert!(poll_once(second.as_mut()).await.is_pending(), "waits for the first");
        assert_eq!(CELL.statistics().waiters, 1);
    } // the running initialiser is dropped here
    assert_eq!(*second.await, 2);
    assert_eq!(CELL.get(), Some(&2));
}

/// A failing initialiser leaves the cell empty for the next caller.
async fn once_cell_failed_initialiser() {
    static CELL: OnceCell<u32> = OnceCell::new();
    let r = CELL.get_or_try_init(|| async { Err::<u32, _>("offline") }).await;
    assert_eq!(r, Err("offline"));
    assert!(!CELL.is_initialized());
    let r = CELL.get_or_try_init(|| async { Ok::<_, &str>(7) }).await;
    assert_eq!(r, Ok(&7));
}

/// `set` fills an empty cell once; a second `set` returns its value.
async fn once_cell_set_twice() {
    static CELL: OnceCell<u32> = OnceCell::new();
    assert_eq!(CELL.get(), None);
    CELL.set(1).unwrap();
    assert_eq!(CELL.set(2), Err(SetError::AlreadyInitialized(2)));
    assert_eq!(CELL.get(), Some(&1));
    assert_eq!(*CELL.get_or_init(|| async { 3 }).await, 1);
}

/// `set` while an initialiser runs is refused with `Initializing`, and the
/// initialiser's value is the one kept.
async fn once_cell_set_while_initialising() {
    static CELL: OnceCell<u32> = OnceCell::new();
    static GO: Event = Event::new();
    let mut init = pin!(CELL.get_or_init(|| async {
        GO.wait().await;
        1
    }));
    assert!(poll_once(init.as_mut()).await.is_pending());
    assert_eq!(CELL.set(2), Err(SetError::Initializing(2)));
    GO.set();
    assert_eq!(*init.await, 1);
    assert_eq!(CELL.get(), Some(&1));
}
