//! One trait per primitive family, implemented for anysync and each peer.
//!
//! The id of each implementation (`ID`) is the criterion function name and
//! the crate's row in `RESULTS.md`. `FAIR` says whether it gives the same
//! guarantee as anysync's default (strict FIFO hand-off): the report
//! compares anysync with the best fair peer, and with the best peer of all.
//!
//! Each lock, acquire and semaphore implementation wraps its crate's own
//! acquisition future in [`count`], so the benches know how many
//! acquisitions had to wait; channel sends and receives and notifier waits
//! are wrapped where the benches call them.

use std::{
    future::Future,
    sync::atomic::{AtomicBool, Ordering},
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
    /// A new unlocked mutex holding `0`.
    fn create() -> Self;
    /// Locks, increments the value, yields once while still holding the
    /// guard if `hold`, and unlocks.
    fn critical(&self, hold: bool) -> impl Future<Output = ()> + Send + '_;
}

macro_rules! impl_mutex {
    ($ty:ty, $id:literal, fair: $fair:expr, new: $new:expr, lock: |$m:ident| $lock:expr) => {
        impl BenchMutex for $ty {
            const ID: &'static str = $id;
            const FAIR: bool = $fair;
            fn create() -> Self {
                $new
            }
            fn critical(&self, hold: bool) -> impl Future<Output = ()> + Send + '_ {
                async move {
                    let $m = self;
                    let mut guard = count(Op::Acquire, async { $lock }).await;
                    *guard += 1;
                    if hold {
                        yield_now().await;
                    }
                    drop(guard);
                }
            }
        }
    };
}

/// futures-intrusive's mutex in fair mode.
#[derive(Debug)]
pub struct FiFairMutex(futures_intrusive::sync::Mutex<u64>);
/// futures-intrusive's mutex in unfair mode.
#[derive(Debug)]
pub struct FiUnfairMutex(futures_intrusive::sync::Mutex<u64>);

impl_mutex!(anysync::sync::Mutex<u64>, "anysync", fair: true,
    new: anysync::sync::Mutex::new(0), lock: |m| m.lock().await);
impl_mutex!(tokio::sync::Mutex<u64>, "tokio", fair: true,
    new: tokio::sync::Mutex::new(0), lock: |m| m.lock().await);
impl_mutex!(maitake_sync::Mutex<u64>, "maitake_sync", fair: true,
    new: maitake_sync::Mutex::new(0), lock: |m| m.lock().await);
impl_mutex!(FiFairMutex, "futures_intrusive_fair", fair: true,
    new: FiFairMutex(futures_intrusive::sync::Mutex::new(0, true)), lock: |m| m.0.lock().await);
impl_mutex!(FiUnfairMutex, "futures_intrusive_unfair", fair: false,
    new: FiUnfairMutex(futures_intrusive::sync::Mutex::new(0, false)), lock: |m| m.0.lock().await);
impl_mutex!(async_lock::Mutex<u64>, "async_lock", fair: false,
    new: async_lock::Mutex::new(0), lock: |m| m.lock().await);
impl_mutex!(futures_util::lock::Mutex<u64>, "futures_util", fair: false,
    new: futures_util::lock::Mutex::new(0), lock: |m| m.lock().await);

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
    /// A new unlocked lock holding `0`.
    fn create() -> Self;
    /// Read-locks, reads, optionally yields while holding, unlocks.
    fn read(&self, hold: bool) -> impl Future<Output = u64> + Send + '_;
    /// Write-locks, increments, optionally yields while holding, unlocks.
    fn write(&self, hold: bool) -> impl Future<Output = ()> + Send + '_;
}

macro_rules! impl_rwlock {
    ($ty:ty, $id:literal, fair: $fair:expr, new: $new:expr,
     read: |$r:ident| $read:expr, write: |$w:ident| $write:expr) => {
        impl BenchRwLock for $ty {
            const ID: &'static str = $id;
            const FAIR: bool = $fair;
            fn create() -> Self {
                $new
            }
            fn read(&self, hold: bool) -> impl Future<Output = u64> + Send + '_ {
                async move {
                    let $r = self;
                    let guard = count(Op::Acquire, async { $read }).await;
                    let v = *guard;
                    if hold {
                        yield_now().await;
                    }
                    drop(guard);
                    v
                }
            }
            fn write(&self, hold: bool) -> impl Future<Output = ()> + Send + '_ {
                async move {
                    let $w = self;
                    let mut guard = count(Op::Acquire, async { $write }).await;
                    *guard += 1;
                    if hold {
                        yield_now().await;
                    }
                    drop(guard);
                }
            }
        }
    };
}

impl_rwlock!(anysync::sync::RwLock<u64>, "anysync", fair: true,
    new: anysync::sync::RwLock::new(0), read: |l| l.read().await, write: |l| l.write().await);
impl_rwlock!(tokio::sync::RwLock<u64>, "tokio", fair: true,
    new: tokio::sync::RwLock::new(0), read: |l| l.read().await, write: |l| l.write().await);
impl_rwlock!(maitake_sync::RwLock<u64>, "maitake_sync", fair: true,
    new: maitake_sync::RwLock::new(0), read: |l| l.read().await, write: |l| l.write().await);
impl_rwlock!(async_lock::RwLock<u64>, "async_lock", fair: false,
    new: async_lock::RwLock::new(0), read: |l| l.read().await, write: |l| l.write().await);

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
    /// A semaphore with `permits` permits.
    fn create(permits: usize) -> Self;
    /// Acquires `n` permits, optionally yields while holding them, releases.
    fn critical(&self, n: usize, hold: bool) -> impl Future<Output = ()> + Send + '_;
}

macro_rules! impl_semaphore {
    ($ty:ty, $id:literal, fair: $fair:expr, weighted: $w:expr, new: |$p:ident| $new:expr,
     acquire: |$s:ident, $n:ident| $acq:expr) => {
        impl BenchSemaphore for $ty {
            const ID: &'static str = $id;
            const FAIR: bool = $fair;
            const WEIGHTED: bool = $w;
            fn create($p: usize) -> Self {
                $new
            }
            fn critical(&self, n: usize, hold: bool) -> impl Future<Output = ()> + Send + '_ {
                async move {
                    let ($s, $n) = (self, n);
                    let permit = count(Op::Acquire, async { $acq }).await;
                    if hold {
                        yield_now().await;
                    }
                    drop(permit);
                }
            }
        }
    };
}

/// futures-intrusive's semaphore in fair mode.
#[derive(Debug)]
pub struct FiFairSemaphore(futures_intrusive::sync::Semaphore);
/// futures-intrusive's semaphore in unfair mode.
#[derive(Debug)]
pub struct FiUnfairSemaphore(futures_intrusive::sync::Semaphore);

impl_semaphore!(anysync::sync::Semaphore, "anysync", fair: true, weighted: true,
    new: |p| anysync::sync::Semaphore::new(p), acquire: |s, n| s.acquire_many(n).await.unwrap());
impl_semaphore!(tokio::sync::Semaphore, "tokio", fair: true, weighted: true,
    new: |p| tokio::sync::Semaphore::new(p),
    acquire: |s, n| s.acquire_many(n as u32).await.unwrap());
impl_semaphore!(maitake_sync::Semaphore, "maitake_sync", fair: true, weighted: true,
    new: |p| maitake_sync::Semaphore::new(p), acquire: |s, n| s.acquire(n).await.unwrap());
impl_semaphore!(FiFairSemaphore, "futures_intrusive_fair", fair: true, weighted: true,
    new: |p| FiFairSemaphore(futures_intrusive::sync::Semaphore::new(true, p)),
    acquire: |s, n| s.0.acquire(n).await);
impl_semaphore!(FiUnfairSemaphore, "futures_intrusive_unfair", fair: false, weighted: true,
    new: |p| FiUnfairSemaphore(futures_intrusive::sync::Semaphore::new(false, p)),
    acquire: |s, n| s.0.acquire(n).await);
impl_semaphore!(async_lock::Semaphore, "async_lock", fair: false, weighted: false,
    new: |p| async_lock::Semaphore::new(p), acquire: |s, n| { assert_eq!(n, 1); s.acquire().await });

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
    type Tx: Send + Sync + 'static;
    /// Receiving handle.
    type Rx: Send + 'static;
    /// A channel holding at most `cap` messages.
    fn bounded(cap: usize) -> (Self::Tx, Self::Rx);
    /// Another sending handle.
    fn clone_tx(tx: &Self::Tx) -> Self::Tx;
    /// Another receiving handle (only called if [`MPMC`](Self::MPMC)).
    fn clone_rx(rx: &Self::Rx) -> Self::Rx;
    /// Sends `v`, waiting for room.
    fn send(tx: &Self::Tx, v: u64) -> impl Future<Output = ()> + Send + '_;
    /// Receives a message, waiting for one.
    fn recv(rx: &mut Self::Rx) -> impl Future<Output = u64> + Send + '_;
}

macro_rules! impl_channel {
    ($name:ident, $id:literal, mpmc: $mpmc:expr, tx: $tx:ty, rx: $rx:ty,
     bounded: |$cap:ident| $bounded:expr,
     clone_rx: |$crx:ident| $clone_rx:expr,
     send: |$stx:ident, $v:ident| $send:expr,
     recv: |$rrx:ident| $recv:expr) => {
        #[doc = concat!("`", $id, "` in the channel benches.")]
        #[derive(Debug)]
        pub enum $name {}
        impl BenchChannel for $name {
            const ID: &'static str = $id;
            const MPMC: bool = $mpmc;
            type Tx = $tx;
            type Rx = $rx;
            fn bounded($cap: usize) -> (Self::Tx, Self::Rx) {
                $bounded
            }
            fn clone_tx(tx: &Self::Tx) -> Self::Tx {
                tx.clone()
            }
            fn clone_rx($crx: &Self::Rx) -> Self::Rx {
                $clone_rx
            }
            fn send($stx: &Self::Tx, $v: u64) -> impl Future<Output = ()> + Send + '_ {
                async move { $send }
            }
            fn recv($rrx: &mut Self::Rx) -> impl Future<Output = u64> + Send + '_ {
                async move { $recv }
            }
        }
    };
}

impl_channel!(AnysyncChannel, "anysync", mpmc: true,
    tx: anysync::channel::Sender<u64>, rx: anysync::channel::Receiver<u64>,
    bounded: |cap| anysync::channel::bounded(cap),
    clone_rx: |rx| rx.clone(),
    send: |tx, v| tx.send(v).await.unwrap(),
    recv: |rx| rx.recv().await.unwrap());
impl_channel!(AnysyncQueue, "anysync_queue", mpmc: true,
    tx: std::sync::Arc<anysync::queue::Queue<u64>>, rx: std::sync::Arc<anysync::queue::Queue<u64>>,
    bounded: |cap| {
        let q = std::sync::Arc::new(anysync::queue::Queue::bounded(cap));
        (q.clone(), q)
    },
    clone_rx: |rx| rx.clone(),
    send: |tx, v| tx.put(v).await.unwrap(),
    recv: |rx| rx.get().await.unwrap());
impl_channel!(AsyncChannel, "async_channel", mpmc: true,
    tx: async_channel::Sender<u64>, rx: async_channel::Receiver<u64>,
    bounded: |cap| async_channel::bounded(cap),
    clone_rx: |rx| rx.clone(),
    send: |tx, v| tx.send(v).await.unwrap(),
    recv: |rx| rx.recv().await.unwrap());
// MPMC excluded: with 4 async receivers flume 0.11 hung here (every thread
// parked, a lost wake-up), so it runs SPSC only.
impl_channel!(Flume, "flume", mpmc: false,
    tx: flume::Sender<u64>, rx: flume::Receiver<u64>,
    bounded: |cap| flume::bounded(cap),
    clone_rx: |rx| rx.clone(),
    send: |tx, v| tx.send_async(v).await.unwrap(),
    recv: |rx| rx.recv_async().await.unwrap());
impl_channel!(Kanal, "kanal", mpmc: true,
    tx: kanal::AsyncSender<u64>, rx: kanal::AsyncReceiver<u64>,
    bounded: |cap| kanal::bounded_async(cap),
    clone_rx: |rx| rx.clone(),
    send: |tx, v| tx.send(v).await.unwrap(),
    recv: |rx| rx.recv().await.unwrap());
impl_channel!(TokioMpsc, "tokio_mpsc", mpmc: false,
    tx: tokio::sync::mpsc::Sender<u64>, rx: tokio::sync::mpsc::Receiver<u64>,
    bounded: |cap| tokio::sync::mpsc::channel(cap),
    clone_rx: |_rx| unreachable!("tokio's mpsc has one receiver"),
    send: |tx, v| tx.send(v).await.unwrap(),
    recv: |rx| rx.recv().await.unwrap());

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
