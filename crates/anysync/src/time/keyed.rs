//! `KeyedRateLimiter`: one GCRA state per key, idle keys forgotten.

use alloc::sync::Arc;
use core::{
    fmt,
    future::Future,
    hash::Hash,
    pin::Pin,
    task::{Context, Poll},
};
use std::collections::HashMap;

use futures_core::FusedFuture;
use pin_project_lite::pin_project;

use super::{
    rate_limit::{
        check_capacity, gcra, limited_until, now_nanos, poll_phase, InsufficientCapacity, Phase,
    },
    Quota, TryAcquireError,
};
use crate::{
    rt::Timer,
    sync::{futures::LockOwned, Mutex, OwnedMutexGuard},
};

/// The fewest keys at which an automatic sweep of idle keys runs.
const MIN_SWEEP: usize = 16;

/// One key's state, kept in the map itself and only touched under the
/// map's lock: a `try_acquire` for a known key is one lookup and a little
/// arithmetic, with no allocation and no reference count.
struct Slot {
    /// The key's theoretical arrival time (see the plain limiter's notes).
    tat: u64,
    /// The FIFO queue of the key's waiting acquires, made by its first
    /// `acquire`. Every future of the key holds a clone, so a clone count
    /// above one means the key is in use.
    queue: Option<Arc<Mutex<()>>>,
}

impl Slot {
    /// `true` while a future for the key exists.
    fn in_use(&self) -> bool {
        self.queue
            .as_ref()
            .is_some_and(|q| Arc::strong_count(q) > 1)
    }

    /// Takes `n` cells at `now` unless a task is queued for the key.
    fn try_take(&mut self, quota: &Quota, now: u64, n: u32) -> Result<(), TryAcquireError> {
        if self.queue.as_ref().is_some_and(|q| q.is_locked()) {
            return Err(TryAcquireError::RateLimited { ready_at: None });
        }
        self.tat = gcra(self.tat, quota, now, n).map_err(limited_until)?;
        Ok(())
    }
}

struct Keys<K> {
    entries: HashMap<K, Slot>,
    /// The latest clock reading seen by any key, so a key created after the
    /// clock went backwards does not start earlier than a forgotten one.
    last_now: u64,
    /// Sweep when `entries` reaches this many.
    next_sweep: usize,
    /// No automatic sweep below this many keys (at least [`MIN_SWEEP`]):
    /// the capacity given to [`KeyedRateLimiter::with_capacity`].
    floor: usize,
}

impl<K: Hash + Eq> Keys<K> {
    /// `now`, or the latest reading if the clock went back since.
    fn observe(&mut self, now: u64) -> u64 {
        self.last_now = self.last_now.max(now);
        self.last_now
    }

    fn sweep(&mut self, now: u64) {
        // A key nobody uses (no future) whose cells are all back equals a
        // fresh one: forgetting it changes nothing.
        self.entries
            .retain(|_, slot| slot.in_use() || slot.tat > now);
        self.next_sweep = (self.entries.len() * 2).max(self.floor);
    }

    /// A fresh slot for `key`, which is not in the map, read at `now`
    /// (after a sweep, if the map has grown enough for one).
    fn insert(&mut self, key: &K, now: u64) -> &mut Slot
    where
        K: Clone,
    {
        if self.entries.len() >= self.next_sweep {
            self.sweep(now);
        }
        self.entries.entry(key.clone()).or_insert(Slot {
            tat: now,
            queue: None,
        })
    }
}

/// A rate limiter with a separate [`Quota`] budget per key (per user, per
/// host), whose memory stays bounded: keys that have been idle long enough
/// to be full again are forgotten.
///
/// Each key behaves like its own [`RateLimiter`](super::RateLimiter): FIFO
/// waits per key, `n > burst` refused at once, cancel safe, robust to a
/// clock going backwards (here a reading behind the latest one any key saw
/// counts as that latest one, so a forgotten key cannot come back with
/// more credit). Keys do not wait for each other.
///
/// # Keys that misbehave
///
/// A key's `Hash`, `Eq` or `Clone` that panics leaves the limiter usable:
/// the panic comes out of the call, and nothing is left locked. Keys are
/// kept in a `std` `HashMap`, which, if a `Hash` panics while the map grows,
/// drops the keys it had not moved yet: those start afresh (with a full
/// burst), and a task waiting on one of them panics, saying so. A key
/// whose `Hash` and `Eq` disagree is never found again; its waiting tasks
/// panic the same way.
///
/// # Memory
///
/// A key is kept while a future for it exists or while it still has cells
/// to give back (at most one burst period after its last grant). Idle keys
/// are removed by [`retain_recent`](Self::retain_recent), which also runs by
/// itself whenever the number of keys doubles since the last sweep, so the
/// map holds at most about twice the number of recently used keys (and at
/// least 16, or the capacity given to
/// [`with_capacity`](Self::with_capacity), before it sweeps). Forgetting
/// an idle key is unobservable: a full key and a new one behave the same.
///
/// A key's state lives in the map itself (a clone of the key and 16
/// bytes), so `try_acquire` allocates nothing beyond the map's own growth.
/// A key that is waited on (by [`acquire`](Self::acquire)) also gets a
/// queue, one small allocation kept as long as the key is.
///
/// A key whose cells come back quickly (a generous quota) is idle soon
/// after each use, so when many keys take turns a sweep forgets keys that
/// are about to come back, and each comes back as a new entry (a second
/// hash and a sweep now and then). If you know how many keys are in use,
/// [`with_capacity`](Self::with_capacity) keeps that many without
/// sweeping.
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
        // A panic under the lock comes only from a key's `Hash`, `Eq` or
        // `Clone`, or the clock, and leaves the map valid (a `Hash` that
        // panics while the map grows may drop keys, which then start
        // afresh), so a poisoned lock is still consistent.
        self.keys.lock().unwrap_or_else(|e| e.into_inner())
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
    pub fn acquire(&self, key: &K) -> KeyedAcquire<'_, K, T> {
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
    pub fn acquire_n(&self, key: &K, n: u32) -> KeyedAcquire<'_, K, T> {
        let early = match check_capacity(&self.quota, n) {
            Err(e) => Some(Err(e)),
            Ok(()) if n == 0 => Some(Ok(())),
            Ok(()) => None,
        };
        let (key, phase) = match early {
            Some(_) => (None, Phase::Done),
            None => {
                let queue = self.queue_of(key);
                let lock = queue.lock_owned();
                (Some(key.clone()), Phase::Locking { lock })
            }
        };
        KeyedAcquire {
            limiter: self,
            n,
            early,
            key,
            phase,
        }
    }

    /// The queue of `key`, made (with the key, if it is new) if it has
    /// none yet. The clone returned keeps the key from being forgotten.
    fn queue_of(&self, key: &K) -> Arc<Mutex<()>> {
        let mut guard = self.keys();
        let keys = &mut *guard;
        let now = keys.observe(now_nanos(&self.timer));
        let slot = match keys.entries.get_mut(key) {
            Some(slot) => slot,
            None => keys.insert(key, now),
        };
        Arc::clone(slot.queue.get_or_insert_with(|| Arc::new(Mutex::new(()))))
    }

    /// Takes `n` cells of `key` for the future at the head of its queue.
    fn take_queued(&self, key: &K, n: u32) -> Result<(), u64> {
        let mut guard = self.keys();
        let keys = &mut *guard;
        let now = keys.observe(now_nanos(&self.timer));
        let Some(slot) = keys.entries.get_mut(key) else {
            // A key with a future is never forgotten: only a key whose
            // `Hash` and `Eq` disagree with each other, or change, is not
            // found again. Its budget cannot be told apart any more.
            panic!("`KeyedRateLimiter`: a waiting key was not found again: its `Hash` and `Eq` are inconsistent");
        };
        slot.tat = gcra(slot.tat, &self.quota, now, n)?;
        Ok(())
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
        let now = keys.observe(now_nanos(&self.timer));
        if let Some(slot) = keys.entries.get_mut(key) {
            return slot.try_take(&self.quota, now, n);
        }
        keys.insert(key, now).try_take(&self.quota, now, n)
    }

    /// Forgets every key that is idle now (no task waiting, every cell
    /// back). Runs by itself as keys accumulate; call it to trim at once.
    pub fn retain_recent(&self) {
        let mut keys = self.keys();
        let now = keys.observe(now_nanos(&self.timer));
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
            // Poisoned by a key's panic: still consistent (see `keys`).
            Err(std::sync::TryLockError::Poisoned(keys)) => {
                d.field("keys", &keys.into_inner().entries.len())
            }
            Err(std::sync::TryLockError::WouldBlock) => d.field("keys", &format_args!("<locked>")),
        };
        d.finish()
    }
}

pin_project!(
    /// Future returned by [`KeyedRateLimiter::acquire`] and
    /// [`KeyedRateLimiter::acquire_n`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct KeyedAcquire<'a, K, T: Timer> {
        limiter: &'a KeyedRateLimiter<K, T>,
        n: u32,
        early: Option<Result<(), InsufficientCapacity>>,
        // The key (`None` for a request refused or granted when it was
        // made, and once granted).
        key: Option<K>,
        #[pin]
        phase: Phase<LockOwned<()>, OwnedMutexGuard<()>, T::Sleep>,
    }
);

impl<K: Hash + Eq + Clone, T: Timer> Future for KeyedAcquire<'_, K, T> {
    type Output = Result<(), InsufficientCapacity>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Some(early) = this.early.take() {
            return Poll::Ready(early);
        }
        let Some(key) = this.key.as_ref() else {
            panic!("rate limiter acquire future polled after completion");
        };
        let (limiter, n) = (*this.limiter, *this.n);
        // A keyed acquire is built queued (`Phase::Locking`): its lock
        // future holds the key's queue, so there is no start step.
        let start = || unreachable!("a keyed acquire starts queued");
        let take = || limiter.take_queued(key, n);
        let done = poll_phase(this.phase, &limiter.timer, cx, take, start);
        if done.is_ready() {
            *this.key = None;
        }
        done.map(Ok)
    }
}

impl<K, T: Timer> FusedFuture for KeyedAcquire<'_, K, T>
where
    Self: Future,
{
    fn is_terminated(&self) -> bool {
        self.early.is_none() && matches!(self.phase, Phase::Done)
    }
}

impl<K, T: Timer> fmt::Debug for KeyedAcquire<'_, K, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedAcquire")
            .field("cells", &self.n)
            .field("phase", &self.phase.name())
            .finish()
    }
}
