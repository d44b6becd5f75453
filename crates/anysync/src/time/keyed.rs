//! `KeyedRateLimiter`: one GCRA state per key, idle keys forgotten.

use alloc::{sync::Arc, vec::Vec};
use core::{
    fmt,
    future::Future,
    hash::Hash,
    ops::Deref,
    pin::Pin,
    task::{Context, Poll},
};
use std::collections::HashMap;

use futures_core::FusedFuture;
use pin_project_lite::pin_project;

use super::{
    rate_limit::{
        check_capacity, limited_until, now_nanos, poll_phase, InsufficientCapacity, Phase, Tat,
    },
    Quota, TryAcquireError,
};
use crate::{
    rt::Timer,
    sync::{GuardVia, LockVia, Mutex},
};

/// The fewest keys at which an automatic sweep of idle keys runs.
const MIN_SWEEP: usize = 16;

/// One key's state: its GCRA word, taken from without a lock, and the FIFO
/// queue of its waiting acquires, as in [`RateLimiter`](super::RateLimiter).
struct KeyState {
    tat: Tat,
    queue: Mutex<()>,
}

type Entry = Arc<KeyState>;

/// A key's queue, reached through the entry it lives in: the pointer its
/// lock future and guard keep the entry alive with.
#[derive(Clone)]
struct KeyQueue(Entry);

impl Deref for KeyQueue {
    type Target = Mutex<()>;

    fn deref(&self) -> &Mutex<()> {
        &self.0.queue
    }
}

struct Keys<K> {
    entries: HashMap<K, Entry>,
    /// The latest clock reading seen by any key, so a key created after the
    /// clock went backwards does not start earlier than a forgotten one.
    last_now: u64,
    /// Sweep when `entries` reaches this many.
    next_sweep: usize,
    /// No automatic sweep below this many keys (at least [`MIN_SWEEP`]):
    /// the capacity given to [`KeyedRateLimiter::with_capacity`].
    floor: usize,
    /// Entries forgotten by the last sweep, nobody else's, kept for the
    /// next new keys: a key that comes back after being forgotten reuses
    /// one instead of allocating. With `entries`, never more than
    /// `next_sweep` in all.
    spare: Vec<Entry>,
}

impl<K: Hash + Eq> Keys<K> {
    fn sweep(&mut self, now: u64) {
        // An entry nobody holds (no waiter, no future) whose cells are all
        // back equals a fresh one: forgetting it changes nothing.
        let spare = &mut self.spare;
        self.entries.retain(|_, entry| {
            let keep =
                Arc::strong_count(entry) > 1 || entry.queue.is_locked() || !entry.tat.is_idle(now);
            if !keep {
                spare.push(Arc::clone(entry));
            }
            keep
        });
        self.next_sweep = (self.entries.len() * 2).max(self.floor);
        let room = self.next_sweep - self.entries.len();
        self.spare.truncate(room);
    }
}

/// A fresh state at `now` for a new key: a spare entry if there is one,
/// else a new allocation.
fn fresh_entry(spare: &mut Vec<Entry>, now: u64) -> Entry {
    if let Some(mut entry) = spare.pop() {
        // Spares are unshared (the sweep kept every entry someone holds),
        // so this always succeeds; a new entry is the fallback anyway.
        if let Some(state) = Arc::get_mut(&mut entry) {
            state.tat.reset(now);
            return entry;
        }
    }
    Arc::new(KeyState {
        tat: Tat::new(now),
        queue: Mutex::new(()),
    })
}

/// A rate limiter with a separate [`Quota`] budget per key (per user, per
/// host), whose memory stays bounded: keys that have been idle long enough
/// to be full again are forgotten.
///
/// Each key behaves exactly like its own [`RateLimiter`](super::RateLimiter):
/// FIFO waits per key, `n > burst` refused at once, cancel safe, robust to a
/// clock going backwards. Keys do not wait for each other.
///
/// # Memory
///
/// A key is kept while a future for it exists or while it still has cells
/// to give back (at most one burst period after its last grant). Idle keys
/// are removed by [`retain_recent`](Self::retain_recent), which also runs by
/// itself whenever the number of keys doubles since the last sweep, so the
/// map holds at most about twice the number of recently used keys (and at
/// least 16, or the capacity given to
/// [`with_capacity`](Self::with_capacity), before it sweeps). The states of
/// forgotten keys are reused for new keys, within that same bound, rather
/// than freed and allocated again. Forgetting an idle key is unobservable:
/// a full key and a new one behave the same.
///
/// A key whose cells come back quickly (a generous quota) is idle soon
/// after each use, so when many keys take turns a sweep forgets keys that
/// are about to come back, and each comes back as a new entry (a second
/// hash and a sweep now and then, not an allocation). If you know how many
/// keys are in use, [`with_capacity`](Self::with_capacity) keeps that many
/// without sweeping.
///
/// Needs the `std` feature (for the key map).
///
/// # Examples
/// ```
/// use std::num::NonZeroU32;
/// use anysync::{rt::virtual_time::VirtualTime, time::{KeyedRateLimiter, Quota}};
///
/// let limiter = KeyedRateLimiter::new(VirtualTime::new(), Quota::per_second(NonZeroU32::new(1).unwrap()));
/// assert!(limiter.try_acquire(&"alice").is_ok());
/// assert!(limiter.try_acquire(&"alice").is_err()); // alice used her second
/// assert!(limiter.try_acquire(&"bob").is_ok()); // bob has his own
/// ```
pub struct KeyedRateLimiter<K, T: Timer> {
    timer: T,
    quota: Quota,
    keys: std::sync::Mutex<Keys<K>>,
}

impl<K: Hash + Eq + Clone, T: Timer> KeyedRateLimiter<K, T> {
    /// A keyed limiter granting each key cells at `quota`.
    pub fn new(timer: T, quota: Quota) -> Self {
        Self::with_capacity(timer, quota, 0)
    }

    /// A keyed limiter granting each key cells at `quota` that keeps up to
    /// `capacity` keys without forgetting idle ones (and reserves room for
    /// them): its automatic sweep runs only once the map holds more than
    /// `capacity` keys, and then keeps at most about twice the recently
    /// used keys, or `capacity`, whichever is more. A
    /// [`retain_recent`](Self::retain_recent) call still forgets every idle
    /// key at once.
    pub fn with_capacity(timer: T, quota: Quota, capacity: usize) -> Self {
        let floor = capacity.max(MIN_SWEEP);
        KeyedRateLimiter {
            keys: std::sync::Mutex::new(Keys {
                entries: HashMap::with_capacity(capacity),
                last_now: now_nanos(&timer),
                next_sweep: floor,
                floor,
                spare: Vec::new(),
            }),
            timer,
            quota,
        }
    }

    /// The quota each key gets.
    pub fn quota(&self) -> Quota {
        self.quota
    }

    fn keys(&self) -> std::sync::MutexGuard<'_, Keys<K>> {
        // The map is never left half-updated by a panic, so a poisoned lock
        // is still consistent.
        self.keys.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn entry(&self, key: &K) -> Entry {
        let mut guard = self.keys();
        let keys = &mut *guard;
        let now = now_nanos(&self.timer).max(keys.last_now);
        keys.last_now = now;
        if keys.entries.len() >= keys.next_sweep {
            keys.sweep(now);
        }
        let spare = &mut keys.spare;
        keys.entries
            .entry(key.clone())
            .or_insert_with(|| fresh_entry(spare, now))
            .clone()
    }

    /// Waits for one cell of `key`'s budget.
    ///
    /// # Cancel safety
    /// This method is cancel safe. Dropping the future gives up its place in
    /// the queue; a wake-up it had already received is passed to the next
    /// waiter.
    ///
    /// # Errors
    /// Never for one cell; the type is shared with
    /// [`acquire_n`](Self::acquire_n).
    pub fn acquire(&self, key: &K) -> KeyedAcquire<'_, T> {
        self.acquire_n(key, 1)
    }

    /// Waits until `n` cells of `key`'s budget can be granted together,
    /// behind every earlier waiter for the same key, and takes them.
    ///
    /// # Cancel safety
    /// This method is cancel safe. Dropping the future gives up its place in
    /// the queue; a wake-up it had already received is passed to the next
    /// waiter. No cell is taken until the future completes.
    ///
    /// # Errors
    /// [`InsufficientCapacity`] at once if `n` exceeds the burst.
    pub fn acquire_n(&self, key: &K, n: u32) -> KeyedAcquire<'_, T> {
        let early = match check_capacity(&self.quota, n) {
            Err(e) => Some(Err(e)),
            Ok(()) if n == 0 => Some(Ok(())),
            Ok(()) => None,
        };
        let entry = match early {
            Some(_) => None,
            None => Some(self.entry(key)),
        };
        KeyedAcquire {
            timer: &self.timer,
            quota: self.quota,
            n,
            early,
            phase: match &entry {
                Some(entry) => Phase::Locking {
                    lock: Mutex::lock_via(KeyQueue(Arc::clone(entry))),
                },
                None => Phase::Done,
            },
            entry,
        }
    }

    /// Takes one cell of `key`'s budget if one is available now and nobody
    /// is waiting for that key.
    ///
    /// # Errors
    /// [`TryAcquireError::RateLimited`] otherwise.
    pub fn try_acquire(&self, key: &K) -> Result<(), TryAcquireError> {
        self.try_acquire_n(key, 1)
    }

    /// Takes `n` cells of `key`'s budget if available now and nobody is
    /// waiting for that key.
    ///
    /// # Errors
    /// [`TryAcquireError::RateLimited`] or
    /// [`TryAcquireError::InsufficientCapacity`], as for
    /// [`RateLimiter::try_acquire_n`](super::RateLimiter::try_acquire_n).
    pub fn try_acquire_n(&self, key: &K, n: u32) -> Result<(), TryAcquireError> {
        check_capacity(&self.quota, n)?;
        if n == 0 {
            return Ok(());
        }
        // One clock read and, for a known key, one lookup, all under the
        // map's lock: no key clone and no reference count taken.
        let mut guard = self.keys();
        let keys = &mut *guard;
        let now = now_nanos(&self.timer).max(keys.last_now);
        keys.last_now = now;
        if let Some(entry) = keys.entries.get(key) {
            return self.try_take(entry, now, n);
        }
        if keys.entries.len() >= keys.next_sweep {
            keys.sweep(now);
        }
        let spare = &mut keys.spare;
        let entry = keys
            .entries
            .entry(key.clone())
            .or_insert_with(|| fresh_entry(spare, now));
        self.try_take(entry, now, n)
    }

    /// Takes `n` cells of `entry` at `now` unless a task is waiting for it.
    fn try_take(&self, entry: &Entry, now: u64, n: u32) -> Result<(), TryAcquireError> {
        if entry.queue.is_locked() {
            return Err(TryAcquireError::RateLimited { ready_at: None });
        }
        entry.tat.take(&self.quota, now, n).map_err(limited_until)
    }

    /// Forgets every key that is idle now (no task waiting, every cell
    /// back). Runs by itself as keys accumulate; call it to trim at once.
    pub fn retain_recent(&self) {
        let mut keys = self.keys();
        let now = now_nanos(&self.timer).max(keys.last_now);
        keys.last_now = now;
        keys.sweep(now);
    }

    /// The number of keys remembered now.
    pub fn len(&self) -> usize {
        self.keys().entries.len()
    }

    /// `true` if no key is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<K, T: Timer> fmt::Debug for KeyedRateLimiter<K, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("KeyedRateLimiter");
        d.field("quota", &self.quota);
        match self.keys.try_lock() {
            Ok(keys) => d.field("keys", &keys.entries.len()),
            Err(_) => d.field("keys", &format_args!("<locked>")),
        };
        d.finish()
    }
}

pin_project!(
    /// Future returned by [`KeyedRateLimiter::acquire`] and
    /// [`KeyedRateLimiter::acquire_n`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct KeyedAcquire<'a, T: Timer> {
        timer: &'a T,
        quota: Quota,
        n: u32,
        early: Option<Result<(), InsufficientCapacity>>,
        // The key's state, whose `tat` the phase takes from (`None` for a
        // request refused or granted when it was made).
        entry: Option<Entry>,
        #[pin]
        phase: Phase<LockVia<KeyQueue>, GuardVia<KeyQueue>, T::Sleep>,
    }
);

impl<T: Timer> Future for KeyedAcquire<'_, T> {
    type Output = Result<(), InsufficientCapacity>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Some(early) = this.early.take() {
            return Poll::Ready(early);
        }
        let Some(entry) = this.entry.as_ref() else {
            panic!("rate limiter acquire future polled after completion");
        };
        // A keyed acquire is built queued (`Phase::Locking`): its lock
        // future holds the entry, so there is no start step.
        let start = || unreachable!("a keyed acquire starts queued");
        let done = poll_phase(
            this.phase,
            *this.timer,
            this.quota,
            &entry.tat,
            *this.n,
            cx,
            start,
        );
        if done.is_ready() {
            // A finished future keeps no key alive: it can be forgotten
            // once idle.
            *this.entry = None;
        }
        done.map(Ok)
    }
}

impl<T: Timer> FusedFuture for KeyedAcquire<'_, T> {
    fn is_terminated(&self) -> bool {
        self.early.is_none() && matches!(self.phase, Phase::Done)
    }
}

impl<T: Timer> fmt::Debug for KeyedAcquire<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedAcquire")
            .field("cells", &self.n)
            .field("phase", &self.phase.name())
            .finish()
    }
}
