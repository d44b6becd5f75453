//! One trait per primitive family, implemented for anysync and each peer.
//!
//! The id of each implementation (`ID`) is the criterion function name and
//! the crate's row in `RESULTS.md`. `FAIR` says whether it gives the same
//! guarantee as anysync's default (strict FIFO hand-off): the report
//! compares anysync with the best fair peer, and with the best peer of all.
//!
//! The lock and semaphore traits write each workload operation once, as a
//! provided method that wraps the crate's own acquisition future in
//! [`count`], so the benches know how many acquisitions had to wait; each
//! implementation only names its crate's constructor, acquisition and
//! guard. Channel sends and receives and notifier waits are wrapped where
//! the benches call them.

use std::{
    future::Future,
    ops::{Deref, DerefMut},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
};

use crate::{
    wait::{count, Op},
    yield_now,
};

/// An async mutex around a `u64`.
pub trait BenchMutex: Send + Sync + 'static {
    /// Crate id (criterion function name).
    const ID: &'static str;
    /// Strict FIFO hand-off, like anysync's default.
    const FAIR: bool;
    /// The crate's guard.
    type Guard<'a>: DerefMut<Target = u64> + Send
    where
        Self: 'a;
    /// A new unlocked mutex holding `0`.
    fn create() -> Self;
    /// The crate's own lock future, returned as it is:
    /// [`critical`](Self::critical) wraps it in [`count`].
    fn lock(&self) -> impl Future<Output = Self::Guard<'_>> + Send + '_;
    /// Locks, increments the value, yields once while still holding the
    /// guard if `hold`, and unlocks.
    fn critical(&self, hold: bool) -> impl Future<Output = ()> + Send + '_ {
        async move {
            let mut guard = count(Op::Acquire, async { self.lock().await }).await;
            *guard += 1;
            if hold {
                yield_now().await;
            }
            drop(guard);
        }
    }
}

// In the impls below, `tokio::sync::Mutex::lock(self)` and the like call the
// crate's inherent method (an inherent method wins over a trait method of
// the same name), so each `lock` returns the crate's future itself.

impl BenchMutex for anysync::sync::Mutex<u64> {
    const ID: &'static str = "anysync";
    const FAIR: bool = true;
    type Guard<'a> = anysync::sync::MutexGuard<'a, u64>;
    fn create() -> Self {
        anysync::sync::Mutex::new(0)
    }
    fn lock(&self) -> impl Future<Output = Self::Guard<'_>> + Send + '_ {
        anysync::sync::Mutex::lock(self)
    }
}

impl BenchMutex for tokio::sync::Mutex<u64> {
    const ID: &'static str = "tokio";
    const FAIR: bool = true;
    type Guard<'a> = tokio::sync::MutexGuard<'a, u64>;
    fn create() -> Self {
        tokio::sync::Mutex::new(0)
    }
    fn lock(&self) -> impl Future<Output = Self::Guard<'_>> + Send + '_ {
        tokio::sync::Mutex::lock(self)
    }
}

impl BenchMutex for maitake_sync::Mutex<u64> {
    const ID: &'static str = "maitake_sync";
    const FAIR: bool = true;
    type Guard<'a> = maitake_sync::MutexGuard<'a, u64>;
    fn create() -> Self {
        maitake_sync::Mutex::new(0)
    }
    fn lock(&self) -> impl Future<Output = Self::Guard<'_>> + Send + '_ {
        maitake_sync::Mutex::lock(self)
    }
}

/// futures-intrusive's mutex in fair mode.
#[derive(Debug)]
pub struct FiFairMutex(futures_intrusive::sync::Mutex<u64>);

impl BenchMutex for FiFairMutex {
    const ID: &'static str = "futures_intrusive_fair";
    const FAIR: bool = true;
    type Guard<'a> = futures_intrusive::sync::MutexGuard<'a, u64>;
    fn create() -> Self {
        FiFairMutex(futures_intrusive::sync::Mutex::new(0, true))
    }
    fn lock(&self) -> impl Future<Output = Self::Guard<'_>> + Send + '_ {
        self.0.lock()
    }
}

/// futures-intrusive's mutex in unfair mode.
#[derive(Debug)]
pub struct FiUnfairMutex(futures_intrusive::sync::Mutex<u64>);

impl BenchMutex for FiUnfairMutex {
    const ID: &'static str = "futures_intrusive_unfair";
    const FAIR: bool = false;
    type Guard<'a> = futures_intrusive::sync::MutexGuard<'a, u64>;
    fn create() -> Self {
        FiUnfairMutex(futures_intrusive::sync::Mutex::new(0, false))
    }
    fn lock(&self) -> impl Future<Output = Self::Guard<'_>> + Send + '_ {
        self.0.lock()
    }
}

impl BenchMutex for async_lock::Mutex<u64> {
    const ID: &'static str = "async_lock";
    const FAIR: bool = false;
    type Guard<'a> = async_lock::MutexGuard<'a, u64>;
    fn create() -> Self {
        async_lock::Mutex::new(0)
    }
    fn lock(&self) -> impl Future<Output = Self::Guard<'_>> + Send + '_ {
        async_lock::Mutex::lock(self)
    }
}

impl BenchMutex for futures_util::lock::Mutex<u64> {
    const ID: &'static str = "futures_util";
    const FAIR: bool = false;
    type Guard<'a> = futures_util::lock::MutexGuard<'a, u64>;
    fn create() -> Self {
        futures_util::lock::Mutex::new(0)
    }
    fn lock(&self) -> impl Future<Output = Self::Guard<'_>> + Send + '_ {
        futures_util::lock::Mutex::lock(self)
    }
}

/// Calls `$f::<T>($args)` for every mutex implementation.
#[macro_export]
macro_rules! for_each_mutex {
    ($f:ident($($args:expr),* $(,)?)) => {{
        $f::<anysync::sync::Mutex<u64>>($($args),*);
        $f::<tokio::sync::Mutex<u64>>($($args),*);
        $f::<maitake_sync::Mutex<u64>>($($args),*);
        $f::<$crate::peers::FiFairMutex>($($args),*);
        $f::<$crate::peers::FiUnfairMutex>($($args),*);
        $f::<async_lock::Mutex<u64>>($($args),*);
        $f::<futures_util::lock::Mutex<u64>>($($args),*);
    }};
}

/// An async reader-writer lock around a `u64`.
pub trait BenchRwLock: Send + Sync + 'static {
    /// Crate id.
    const ID: &'static str;
    /// Fair between readers and writers (no writer starvation, FIFO).
    const FAIR: bool;
    /// The crate's read guard.
    type ReadGuard<'a>: Deref<Target = u64> + Send
    where
        Self: 'a;
    /// The crate's write guard.
    type WriteGuard<'a>: DerefMut<Target = u64> + Send
    where
        Self: 'a;
    /// A new unlocked lock holding `0`.
    fn create() -> Self;
    /// The crate's own read-lock future, returned as it is:
    /// [`read`](Self::read) wraps it in [`count`].
    fn lock_read(&self) -> impl Future<Output = Self::ReadGuard<'_>> + Send + '_;
    /// The crate's own write-lock future, returned as it is:
    /// [`write`](Self::write) wraps it in [`count`].
    fn lock_write(&self) -> impl Future<Output = Self::WriteGuard<'_>> + Send + '_;
    /// Read-locks, reads, optionally yields while holding, unlocks.
    fn read(&self, hold: bool) -> impl Future<Output = u64> + Send + '_ {
        async move {
            let guard = count(Op::Acquire, async { self.lock_read().await }).await;
            let v = *guard;
            if hold {
                yield_now().await;
            }
            drop(guard);
            v
        }
    }
    /// Write-locks, increments, optionally yields while holding, unlocks.
    fn write(&self, hold: bool) -> impl Future<Output = ()> + Send + '_ {
        async move {
            let mut guard = count(Op::Acquire, async { self.lock_write().await }).await;
            *guard += 1;
            if hold {
                yield_now().await;
            }
            drop(guard);
        }
    }
}

// As for the mutexes, `tokio::sync::RwLock::read(self)` and the like call the
// crates' inherent methods, whose futures `lock_read` and `lock_write` return.

impl BenchRwLock for anysync::sync::RwLock<u64> {
    const ID: &'static str = "anysync";
    const FAIR: bool = true;
    type ReadGuard<'a> = anysync::sync::RwLockReadGuard<'a, u64>;
    type WriteGuard<'a> = anysync::sync::RwLockWriteGuard<'a, u64>;
    fn create() -> Self {
        anysync::sync::RwLock::new(0)
    }
    fn lock_read(&self) -> impl Future<Output = Self::ReadGuard<'_>> + Send + '_ {
        anysync::sync::RwLock::read(self)
    }
    fn lock_write(&self) -> impl Future<Output = Self::WriteGuard<'_>> + Send + '_ {
        anysync::sync::RwLock::write(self)
    }
}

impl BenchRwLock for tokio::sync::RwLock<u64> {
    const ID: &'static str = "tokio";
    const FAIR: bool = true;
    type ReadGuard<'a> = tokio::sync::RwLockReadGuard<'a, u64>;
    type WriteGuard<'a> = tokio::sync::RwLockWriteGuard<'a, u64>;
    fn create() -> Self {
        tokio::sync::RwLock::new(0)
    }
    fn lock_read(&self) -> impl Future<Output = Self::ReadGuard<'_>> + Send + '_ {
        tokio::sync::RwLock::read(self)
    }
    fn lock_write(&self) -> impl Future<Output = Self::WriteGuard<'_>> + Send + '_ {
        tokio::sync::RwLock::write(self)
    }
}

impl BenchRwLock for maitake_sync::RwLock<u64> {
    const ID: &'static str = "maitake_sync";
    const FAIR: bool = true;
    type ReadGuard<'a> = maitake_sync::RwLockReadGuard<'a, u64>;
    type WriteGuard<'a> = maitake_sync::RwLockWriteGuard<'a, u64>;
    fn create() -> Self {
        maitake_sync::RwLock::new(0)
    }
    fn lock_read(&self) -> impl Future<Output = Self::ReadGuard<'_>> + Send + '_ {
        maitake_sync::RwLock::read(self)
    }
    fn lock_write(&self) -> impl Future<Output = Self::WriteGuard<'_>> + Send + '_ {
        maitake_sync::RwLock::write(self)
    }
}

impl BenchRwLock for async_lock::RwLock<u64> {
    const ID: &'static str = "async_lock";
    const FAIR: bool = false;
    type ReadGuard<'a> = async_lock::RwLockReadGuard<'a, u64>;
    type WriteGuard<'a> = async_lock::RwLockWriteGuard<'a, u64>;
    fn create() -> Self {
        async_lock::RwLock::new(0)
    }
    fn lock_read(&self) -> impl Future<Output = Self::ReadGuard<'_>> + Send + '_ {
        async_lock::RwLock::read(self)
    }
    fn lock_write(&self) -> impl Future<Output = Self::WriteGuard<'_>> + Send + '_ {
        async_lock::RwLock::write(self)
    }
}

/// Calls `$f::<T>($args)` for every reader-writer lock implementation.
#[macro_export]
macro_rules! for_each_rwlock {
    ($f:ident($($args:expr),* $(,)?)) => {{
        $f::<anysync::sync::RwLock<u64>>($($args),*);
        $f::<tokio::sync::RwLock<u64>>($($args),*);
        $f::<maitake_sync::RwLock<u64>>($($args),*);
        $f::<async_lock::RwLock<u64>>($($args),*);
    }};
}

/// An async counting semaphore.
pub trait BenchSemaphore: Send + Sync + 'static {
    /// Crate id.
    const ID: &'static str;
    /// Strict FIFO, like anysync's.
    const FAIR: bool;
    /// Can acquire several permits at once.
    const WEIGHTED: bool;
    /// What holds the permits until dropped.
    type Permit<'a>: Send
    where
        Self: 'a;
    /// A semaphore with `permits` permits.
    fn create(permits: usize) -> Self;
    /// Acquires `n` permits: an `async` block around the crate's own
    /// acquisition (and the unwrap of its result, where it has one). This
    /// is the future [`critical`](Self::critical) wraps in [`count`].
    fn acquire_permits(&self, n: usize) -> impl Future<Output = Self::Permit<'_>> + Send + '_;
    /// Acquires `n` permits, optionally yields while holding them, releases.
    fn critical(&self, n: usize, hold: bool) -> impl Future<Output = ()> + Send + '_ {
        async move {
            // Where the mutexes write `async { self.lock().await }`, the
            // semaphores' `async` block is the one `acquire_permits`
            // returns, so that the unwrap stays inside the counted future.
            let permit = count(Op::Acquire, self.acquire_permits(n)).await;
            if hold {
                yield_now().await;
            }
            drop(permit);
        }
    }
}

impl BenchSemaphore for anysync::sync::Semaphore {
    const ID: &'static str = "anysync";
    const FAIR: bool = true;
    const WEIGHTED: bool = true;
    type Permit<'a> = anysync::sync::SemaphorePermit<'a>;
    fn create(permits: usize) -> Self {
        anysync::sync::Semaphore::new(permits)
    }
    fn acquire_permits(&self, n: usize) -> impl Future<Output = Self::Permit<'_>> + Send + '_ {
        async move { self.acquire_many(n).await.unwrap() }
    }
}

impl BenchSemaphore for tokio::sync::Semaphore {
    const ID: &'static str = "tokio";
    const FAIR: bool = true;
    const WEIGHTED: bool = true;
    type Permit<'a> = tokio::sync::SemaphorePermit<'a>;
    fn create(permits: usize) -> Self {
        tokio::sync::Semaphore::new(permits)
    }
    fn acquire_permits(&self, n: usize) -> impl Future<Output = Self::Permit<'_>> + Send + '_ {
        async move { self.acquire_many(n as u32).await.unwrap() }
    }
}

impl BenchSemaphore for maitake_sync::Semaphore {
    const ID: &'static str = "maitake_sync";
    const FAIR: bool = true;
    const WEIGHTED: bool = true;
    type Permit<'a> = maitake_sync::semaphore::Permit<'a>;
    fn create(permits: usize) -> Self {
        maitake_sync::Semaphore::new(permits)
    }
    fn acquire_permits(&self, n: usize) -> impl Future<Output = Self::Permit<'_>> + Send + '_ {
        async move { self.acquire(n).await.unwrap() }
    }
}

/// futures-intrusive's semaphore in fair mode.
#[derive(Debug)]
pub struct FiFairSemaphore(futures_intrusive::sync::Semaphore);

impl BenchSemaphore for FiFairSemaphore {
    const ID: &'static str = "futures_intrusive_fair";
    const FAIR: bool = true;
    const WEIGHTED: bool = true;
    type Permit<'a> = futures_intrusive::sync::SemaphoreReleaser<'a>;
    fn create(permits: usize) -> Self {
        FiFairSemaphore(futures_intrusive::sync::Semaphore::new(true, permits))
    }
    fn acquire_permits(&self, n: usize) -> impl Future<Output = Self::Permit<'_>> + Send + '_ {
        async move { self.0.acquire(n).await }
    }
}

/// futures-intrusive's semaphore in unfair mode.
#[derive(Debug)]
pub struct FiUnfairSemaphore(futures_intrusive::sync::Semaphore);

impl BenchSemaphore for FiUnfairSemaphore {
    const ID: &'static str = "futures_intrusive_unfair";
    const FAIR: bool = false;
    const WEIGHTED: bool = true;
    type Permit<'a> = futures_intrusive::sync::SemaphoreReleaser<'a>;
    fn create(permits: usize) -> Self {
        FiUnfairSemaphore(futures_intrusive::sync::Semaphore::new(false, permits))
    }
    fn acquire_permits(&self, n: usize) -> impl Future<Output = Self::Permit<'_>> + Send + '_ {
        async move { self.0.acquire(n).await }
    }
}

impl BenchSemaphore for async_lock::Semaphore {
    const ID: &'static str = "async_lock";
    const FAIR: bool = false;
    const WEIGHTED: bool = false;
    type Permit<'a> = async_lock::SemaphoreGuard<'a>;
    fn create(permits: usize) -> Self {
        async_lock::Semaphore::new(permits)
    }
    fn acquire_permits(&self, n: usize) -> impl Future<Output = Self::Permit<'_>> + Send + '_ {
        async move {
            assert_eq!(n, 1);
            self.acquire().await
        }
    }
}

/// Calls `$f::<T>($args)` for every semaphore implementation.
#[macro_export]
macro_rules! for_each_semaphore {
    ($f:ident($($args:expr),* $(,)?)) => {{
        $f::<anysync::sync::Semaphore>($($args),*);
        $f::<tokio::sync::Semaphore>($($args),*);
        $f::<maitake_sync::Semaphore>($($args),*);
        $f::<$crate::peers::FiFairSemaphore>($($args),*);
        $f::<$crate::peers::FiUnfairSemaphore>($($args),*);
        $f::<async_lock::Semaphore>($($args),*);
    }};
}

/// Wake one waiting task, or remember one wake-up if none waits.
pub trait BenchNotify: Send + Sync + 'static {
    /// Crate id.
    const ID: &'static str;
    /// A new notifier with nothing stored.
    fn create() -> Self;
    /// Wakes the waiter (or stores the wake-up).
    fn notify(&self);
    /// Waits for a wake-up (consuming a stored one).
    fn wait(&self) -> impl Future<Output = ()> + Send + '_;
}

impl BenchNotify for anysync::sync::Notify {
    const ID: &'static str = "anysync";
    fn create() -> Self {
        anysync::sync::Notify::new()
    }
    fn notify(&self) {
        self.notify_one();
    }
    fn wait(&self) -> impl Future<Output = ()> + Send + '_ {
        // An `async move` block like the other adapters: it starts as one
        // reference, so no adapter moves a large future out of a call.
        async move { self.notified().await }
    }
}

/// anysync's `Event` used as a manual-reset event (set, wait, clear).
#[derive(Debug, Default)]
pub struct AnysyncEvent(anysync::sync::Event);

impl BenchNotify for AnysyncEvent {
    const ID: &'static str = "anysync_event";
    fn create() -> Self {
        Self::default()
    }
    fn notify(&self) {
        self.0.set();
    }
    fn wait(&self) -> impl Future<Output = ()> + Send + '_ {
        async move {
            self.0.wait().await;
            self.0.clear();
        }
    }
}

impl BenchNotify for tokio::sync::Notify {
    const ID: &'static str = "tokio";
    fn create() -> Self {
        tokio::sync::Notify::new()
    }
    fn notify(&self) {
        self.notify_one();
    }
    fn wait(&self) -> impl Future<Output = ()> + Send + '_ {
        // An `async move` block like the other adapters: it starts as one
        // reference, so no adapter moves a large future out of a call.
        async move { self.notified().await }
    }
}

impl BenchNotify for maitake_sync::WaitQueue {
    const ID: &'static str = "maitake_sync";
    fn create() -> Self {
        maitake_sync::WaitQueue::new()
    }
    fn notify(&self) {
        self.wake();
    }
    fn wait(&self) -> impl Future<Output = ()> + Send + '_ {
        async move { self.wait().await.unwrap() }
    }
}

/// event-listener's `Event` plus the flag it needs to store a wake-up
/// (event-listener itself stores none): the documented check, listen,
/// check-again pattern.
#[derive(Debug, Default)]
pub struct EventListenerNotify {
    flag: AtomicBool,
    event: event_listener::Event,
}

impl BenchNotify for EventListenerNotify {
    const ID: &'static str = "event_listener";
    fn create() -> Self {
        Self::default()
    }
    fn notify(&self) {
        self.flag.store(true, Ordering::Release);
        self.event.notify(1);
    }
    fn wait(&self) -> impl Future<Output = ()> + Send + '_ {
        async move {
            loop {
                if self.flag.swap(false, Ordering::AcqRel) {
                    return;
                }
                let listener = self.event.listen();
                if self.flag.swap(false, Ordering::AcqRel) {
                    return;
                }
                listener.await;
            }
        }
    }
}

/// futures-intrusive's `ManualResetEvent` used as set, wait, reset.
#[derive(Debug)]
pub struct FiEvent(futures_intrusive::sync::ManualResetEvent);

impl BenchNotify for FiEvent {
    const ID: &'static str = "futures_intrusive";
    fn create() -> Self {
        FiEvent(futures_intrusive::sync::ManualResetEvent::new(false))
    }
    fn notify(&self) {
        self.0.set();
    }
    fn wait(&self) -> impl Future<Output = ()> + Send + '_ {
        async move {
            self.0.wait().await;
            self.0.reset();
        }
    }
}

/// Calls `$f::<T>($args)` for every notifier.
#[macro_export]
macro_rules! for_each_notify {
    ($f:ident($($args:expr),* $(,)?)) => {{
        $f::<anysync::sync::Notify>($($args),*);
        $f::<$crate::peers::AnysyncEvent>($($args),*);
        $f::<tokio::sync::Notify>($($args),*);
        $f::<maitake_sync::WaitQueue>($($args),*);
        $f::<$crate::peers::EventListenerNotify>($($args),*);
        $f::<$crate::peers::FiEvent>($($args),*);
    }};
}

/// A single-use channel carrying a `u64`.
pub trait BenchOneshot: 'static {
    /// Crate id.
    const ID: &'static str;
    /// Sending half.
    type Tx: Send + 'static;
    /// Receiving half.
    type Rx: Send + 'static;
    /// A new channel.
    fn pair() -> (Self::Tx, Self::Rx);
    /// Sends `v`; the receiver is alive.
    fn send(tx: Self::Tx, v: u64);
    /// Receives the value.
    fn recv(rx: Self::Rx) -> impl Future<Output = u64> + Send;
}

/// anysync's `channel::oneshot`.
#[derive(Debug)]
pub enum AnysyncOneshot {}
/// tokio's `sync::oneshot`.
#[derive(Debug)]
pub enum TokioOneshot {}
/// futures-channel's `oneshot`.
#[derive(Debug)]
pub enum FuturesChannelOneshot {}
/// futures-intrusive's shared `oneshot_channel`.
#[derive(Debug)]
pub enum FiOneshot {}

impl BenchOneshot for AnysyncOneshot {
    const ID: &'static str = "anysync";
    type Tx = anysync::channel::oneshot::Sender<u64>;
    type Rx = anysync::channel::oneshot::Receiver<u64>;
    fn pair() -> (Self::Tx, Self::Rx) {
        anysync::channel::oneshot::channel()
    }
    fn send(tx: Self::Tx, v: u64) {
        tx.send(v).unwrap();
    }
    fn recv(mut rx: Self::Rx) -> impl Future<Output = u64> + Send {
        async move { rx.recv().await.unwrap() }
    }
}

impl BenchOneshot for TokioOneshot {
    const ID: &'static str = "tokio";
    type Tx = tokio::sync::oneshot::Sender<u64>;
    type Rx = tokio::sync::oneshot::Receiver<u64>;
    fn pair() -> (Self::Tx, Self::Rx) {
        tokio::sync::oneshot::channel()
    }
    fn send(tx: Self::Tx, v: u64) {
        tx.send(v).unwrap();
    }
    fn recv(rx: Self::Rx) -> impl Future<Output = u64> + Send {
        async move { rx.await.unwrap() }
    }
}

impl BenchOneshot for FuturesChannelOneshot {
    const ID: &'static str = "futures_channel";
    type Tx = futures_channel::oneshot::Sender<u64>;
    type Rx = futures_channel::oneshot::Receiver<u64>;
    fn pair() -> (Self::Tx, Self::Rx) {
        futures_channel::oneshot::channel()
    }
    fn send(tx: Self::Tx, v: u64) {
        tx.send(v).unwrap();
    }
    fn recv(rx: Self::Rx) -> impl Future<Output = u64> + Send {
        async move { rx.await.unwrap() }
    }
}

impl BenchOneshot for FiOneshot {
    const ID: &'static str = "futures_intrusive";
    type Tx = futures_intrusive::channel::shared::OneshotSender<u64>;
    type Rx = futures_intrusive::channel::shared::OneshotReceiver<u64>;
    fn pair() -> (Self::Tx, Self::Rx) {
        futures_intrusive::channel::shared::oneshot_channel()
    }
    fn send(tx: Self::Tx, v: u64) {
        tx.send(v).unwrap();
    }
    fn recv(rx: Self::Rx) -> impl Future<Output = u64> + Send {
        async move { rx.receive().await.unwrap() }
    }
}

/// Calls `$f::<T>($args)` for every oneshot channel.
#[macro_export]
macro_rules! for_each_oneshot {
    ($f:ident($($args:expr),* $(,)?)) => {{
        $f::<$crate::peers::AnysyncOneshot>($($args),*);
        $f::<$crate::peers::TokioOneshot>($($args),*);
        $f::<$crate::peers::FuturesChannelOneshot>($($args),*);
        $f::<$crate::peers::FiOneshot>($($args),*);
    }};
}

/// A bounded channel of `u64`s.
pub trait BenchChannel: 'static {
    /// Crate id.
    const ID: &'static str;
    /// Several receivers may share the channel.
    const MPMC: bool;
    /// Sending handle.
    type Tx: Clone + Send + Sync + 'static;
    /// Receiving handle.
    type Rx: Send + 'static;
    /// A channel holding at most `cap` messages.
    fn bounded(cap: usize) -> (Self::Tx, Self::Rx);
    /// Another sending handle.
    fn clone_tx(tx: &Self::Tx) -> Self::Tx {
        tx.clone()
    }
    /// Another receiving handle (only called if [`MPMC`](Self::MPMC)).
    fn clone_rx(rx: &Self::Rx) -> Self::Rx;
    /// Sends `v`, waiting for room.
    fn send(tx: &Self::Tx, v: u64) -> impl Future<Output = ()> + Send + '_;
    /// Receives a message, waiting for one.
    fn recv(rx: &mut Self::Rx) -> impl Future<Output = u64> + Send + '_;
    /// The crate reserves a slot first and sends through the permit
    /// (tokio's `reserve`).
    const RESERVES: bool = false;
    /// Reserves a slot, waiting for room, then sends `v` into it (only
    /// called if [`RESERVES`](Self::RESERVES)).
    fn reserve_send(tx: &Self::Tx, v: u64) -> impl Future<Output = ()> + Send + '_ {
        async move {
            let _ = (tx, v);
            unreachable!("{} has no reservations", Self::ID)
        }
    }
}

/// `anysync` in the channel benches: `anysync::channel::bounded`.
#[derive(Debug)]
pub enum AnysyncChannel {}

impl BenchChannel for AnysyncChannel {
    const ID: &'static str = "anysync";
    const MPMC: bool = true;
    type Tx = anysync::channel::Sender<u64>;
    type Rx = anysync::channel::Receiver<u64>;
    fn bounded(cap: usize) -> (Self::Tx, Self::Rx) {
        anysync::channel::bounded(cap)
    }
    fn clone_rx(rx: &Self::Rx) -> Self::Rx {
        rx.clone()
    }
    fn send(tx: &Self::Tx, v: u64) -> impl Future<Output = ()> + Send + '_ {
        async move { tx.send(v).await.unwrap() }
    }
    fn recv(rx: &mut Self::Rx) -> impl Future<Output = u64> + Send + '_ {
        async move { rx.recv().await.unwrap() }
    }
    const RESERVES: bool = true;
    fn reserve_send(tx: &Self::Tx, v: u64) -> impl Future<Output = ()> + Send + '_ {
        async move { tx.reserve().await.unwrap().send(v).unwrap() }
    }
}

/// `anysync_queue` in the channel benches: a bounded
/// `anysync::queue::Queue` shared by every sender and receiver.
#[derive(Debug)]
pub enum AnysyncQueue {}

impl BenchChannel for AnysyncQueue {
    const ID: &'static str = "anysync_queue";
    const MPMC: bool = true;
    type Tx = Arc<anysync::queue::Queue<u64>>;
    type Rx = Arc<anysync::queue::Queue<u64>>;
    fn bounded(cap: usize) -> (Self::Tx, Self::Rx) {
        let q = Arc::new(anysync::queue::Queue::bounded(cap));
        (q.clone(), q)
    }
    fn clone_rx(rx: &Self::Rx) -> Self::Rx {
        rx.clone()
    }
    fn send(tx: &Self::Tx, v: u64) -> impl Future<Output = ()> + Send + '_ {
        async move { tx.put(v).await.unwrap() }
    }
    fn recv(rx: &mut Self::Rx) -> impl Future<Output = u64> + Send + '_ {
        async move { rx.get().await.unwrap() }
    }
}

/// `async_channel` in the channel benches: `async_channel::bounded`.
#[derive(Debug)]
pub enum AsyncChannel {}

impl BenchChannel for AsyncChannel {
    const ID: &'static str = "async_channel";
    const MPMC: bool = true;
    type Tx = async_channel::Sender<u64>;
    type Rx = async_channel::Receiver<u64>;
    fn bounded(cap: usize) -> (Self::Tx, Self::Rx) {
        async_channel::bounded(cap)
    }
    fn clone_rx(rx: &Self::Rx) -> Self::Rx {
        rx.clone()
    }
    fn send(tx: &Self::Tx, v: u64) -> impl Future<Output = ()> + Send + '_ {
        async move { tx.send(v).await.unwrap() }
    }
    fn recv(rx: &mut Self::Rx) -> impl Future<Output = u64> + Send + '_ {
        async move { rx.recv().await.unwrap() }
    }
}

/// `flume` in the channel benches: `flume::bounded`, used through its
/// async methods.
#[derive(Debug)]
pub enum Flume {}

impl BenchChannel for Flume {
    const ID: &'static str = "flume";
    // MPMC excluded: with 4 async receivers flume 0.11 hung here (every
    // thread parked, a lost wake-up), so it runs SPSC only.
    const MPMC: bool = false;
    type Tx = flume::Sender<u64>;
    type Rx = flume::Receiver<u64>;
    fn bounded(cap: usize) -> (Self::Tx, Self::Rx) {
        flume::bounded(cap)
    }
    fn clone_rx(rx: &Self::Rx) -> Self::Rx {
        rx.clone()
    }
    fn send(tx: &Self::Tx, v: u64) -> impl Future<Output = ()> + Send + '_ {
        async move { tx.send_async(v).await.unwrap() }
    }
    fn recv(rx: &mut Self::Rx) -> impl Future<Output = u64> + Send + '_ {
        async move { rx.recv_async().await.unwrap() }
    }
}

/// `kanal` in the channel benches: `kanal::bounded_async`.
#[derive(Debug)]
pub enum Kanal {}

impl BenchChannel for Kanal {
    const ID: &'static str = "kanal";
    const MPMC: bool = true;
    type Tx = kanal::AsyncSender<u64>;
    type Rx = kanal::AsyncReceiver<u64>;
    fn bounded(cap: usize) -> (Self::Tx, Self::Rx) {
        kanal::bounded_async(cap)
    }
    fn clone_rx(rx: &Self::Rx) -> Self::Rx {
        rx.clone()
    }
    fn send(tx: &Self::Tx, v: u64) -> impl Future<Output = ()> + Send + '_ {
        async move { tx.send(v).await.unwrap() }
    }
    fn recv(rx: &mut Self::Rx) -> impl Future<Output = u64> + Send + '_ {
        async move { rx.recv().await.unwrap() }
    }
}

/// `tokio_mpsc` in the channel benches: `tokio::sync::mpsc::channel`.
#[derive(Debug)]
pub enum TokioMpsc {}

impl BenchChannel for TokioMpsc {
    const ID: &'static str = "tokio_mpsc";
    const MPMC: bool = false;
    type Tx = tokio::sync::mpsc::Sender<u64>;
    type Rx = tokio::sync::mpsc::Receiver<u64>;
    fn bounded(cap: usize) -> (Self::Tx, Self::Rx) {
        tokio::sync::mpsc::channel(cap)
    }
    fn clone_rx(_rx: &Self::Rx) -> Self::Rx {
        unreachable!("tokio's mpsc has one receiver")
    }
    fn send(tx: &Self::Tx, v: u64) -> impl Future<Output = ()> + Send + '_ {
        async move { tx.send(v).await.unwrap() }
    }
    fn recv(rx: &mut Self::Rx) -> impl Future<Output = u64> + Send + '_ {
        async move { rx.recv().await.unwrap() }
    }
    const RESERVES: bool = true;
    fn reserve_send(tx: &Self::Tx, v: u64) -> impl Future<Output = ()> + Send + '_ {
        async move { tx.reserve().await.unwrap().send(v) }
    }
}

/// Calls `$f::<T>($args)` for every channel.
#[macro_export]
macro_rules! for_each_channel {
    ($f:ident($($args:expr),* $(,)?)) => {{
        $f::<$crate::peers::AnysyncChannel>($($args),*);
        $f::<$crate::peers::AnysyncQueue>($($args),*);
        $f::<$crate::peers::AsyncChannel>($($args),*);
        $f::<$crate::peers::Flume>($($args),*);
        $f::<$crate::peers::Kanal>($($args),*);
        $f::<$crate::peers::TokioMpsc>($($args),*);
    }};
}
