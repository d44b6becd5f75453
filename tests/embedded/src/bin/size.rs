//! The size probe: the smallest firmware that uses one primitive, built
//! once per `size-*` feature by `size.sh`. With only the `size` feature it
//! is the baseline (executor, semihosting, panic handler, exit); each
//! variant adds one primitive in a `static`, used the ordinary way: the
//! waiting path, the non-waiting path and the release path. The flash and
//! RAM a variant adds over the baseline is the primitive's cost.
//!
//! Running a variant prints `size_of` the primitive's `static` and of the
//! future a task holds while it waits on it (for a channel, `recv`), so the
//! table's RAM columns come from the target itself.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use core::{hint::black_box, mem::size_of_val};

use cortex_m_semihosting::{debug, hprintln};
use embassy_executor::Spawner;

#[embassy_executor::main]
async fn main(_spawner: Spawner) {
    let (static_bytes, future_bytes) = exercise().await;
    hprintln!("static bytes: {}", static_bytes);
    hprintln!("future bytes: {}", future_bytes);
    debug::exit(debug::EXIT_SUCCESS);
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    hprintln!("size probe failed: {}", info);
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}

/// Runs the primitives this build's features select (none for the
/// baseline) and returns the bytes of their `static`s and of the largest
/// future a task holds while it waits on one of them.
async fn exercise() -> (usize, usize) {
    let mut total = Sizes(0, 0);
    total.add((black_box(size_of_val(&())), 0)); // all the baseline has
    #[cfg(feature = "size-mutex")]
    total.add(mutex().await);
    #[cfg(feature = "size-rwlock")]
    total.add(rwlock().await);
    #[cfg(feature = "size-semaphore")]
    total.add(semaphore().await);
    #[cfg(feature = "size-bounded-semaphore")]
    total.add(bounded_semaphore().await);
    #[cfg(feature = "size-event")]
    total.add(event().await);
    #[cfg(feature = "size-notify")]
    total.add(notify().await);
    #[cfg(feature = "size-condvar")]
    total.add(condvar().await);
    #[cfg(feature = "size-barrier")]
    total.add(barrier().await);
    #[cfg(feature = "size-once-cell")]
    total.add(once_cell().await);
    #[cfg(feature = "size-static-channel")]
    total.add(static_channel().await);
    #[cfg(feature = "size-embassy-mutex")]
    total.add(embassy_mutex().await);
    #[cfg(feature = "size-embassy-rwlock")]
    total.add(embassy_rwlock().await);
    #[cfg(feature = "size-embassy-semaphore")]
    total.add(embassy_semaphore().await);
    #[cfg(feature = "size-embassy-signal")]
    total.add(embassy_signal().await);
    #[cfg(feature = "size-embassy-channel")]
    total.add(embassy_channel().await);
    (total.0, total.1)
}

/// Bytes of `static`s (summed) and of a waiting future (the largest).
struct Sizes(usize, usize);

impl Sizes {
    fn add(&mut self, (static_bytes, future_bytes): (usize, usize)) {
        self.0 += static_bytes;
        self.1 = self.1.max(future_bytes);
    }
}

#[cfg(feature = "size-mutex")]
async fn mutex() -> (usize, usize) {
    static M: anysync::sync::Mutex<u32> = anysync::sync::Mutex::new(0);
    *M.lock().await += black_box(1);
    black_box(M.try_lock().is_ok());
    (size_of_val(&M), size_of_val(&M.lock()))
}

#[cfg(feature = "size-rwlock")]
async fn rwlock() -> (usize, usize) {
    static L: anysync::sync::RwLock<u32> = anysync::sync::RwLock::new(0);
    *L.write().await += black_box(1);
    black_box(*L.read().await);
    black_box(L.try_read().is_ok());
    (size_of_val(&L), size_of_val(&L.write()))
}

#[cfg(feature = "size-semaphore")]
async fn semaphore() -> (usize, usize) {
    static S: anysync::sync::Semaphore = anysync::sync::Semaphore::new(1);
    let permit = S.acquire().await.unwrap();
    black_box(S.try_acquire().is_ok());
    drop(permit);
    (size_of_val(&S), size_of_val(&S.acquire()))
}

#[cfg(feature = "size-bounded-semaphore")]
async fn bounded_semaphore() -> (usize, usize) {
    static S: anysync::sync::BoundedSemaphore = anysync::sync::BoundedSemaphore::new(1);
    S.acquire().await.unwrap();
    black_box(S.try_acquire().is_ok());
    S.release().unwrap();
    (size_of_val(&S), size_of_val(&S.acquire()))
}

#[cfg(feature = "size-event")]
async fn event() -> (usize, usize) {
    static E: anysync::sync::Event = anysync::sync::Event::new();
    E.set();
    E.wait().await;
    E.clear();
    black_box(E.is_set());
    (size_of_val(&E), size_of_val(&E.wait()))
}

#[cfg(feature = "size-notify")]
async fn notify() -> (usize, usize) {
    static N: anysync::sync::Notify = anysync::sync::Notify::new();
    N.notify_one();
    N.notified().await;
    black_box(N.waiters());
    (size_of_val(&N), size_of_val(&N.notified()))
}

#[cfg(feature = "size-condvar")]
async fn condvar() -> (usize, usize) {
    use core::{future::Future, pin::pin, task::Poll};
    static M: anysync::sync::Mutex<bool> = anysync::sync::Mutex::new(false);
    static CV: anysync::sync::Condvar = anysync::sync::Condvar::new();
    // One wait that is notified while pending, as a condvar is used.
    let mut wait = pin!(CV.wait(M.lock().await));
    core::future::poll_fn(|cx| {
        assert!(wait.as_mut().poll(cx).is_pending());
        Poll::Ready(())
    })
    .await;
    CV.notify_one();
    let future_bytes = size_of_val(&*wait);
    *wait.await = black_box(true);
    (size_of_val(&M) + size_of_val(&CV), future_bytes)
}

#[cfg(feature = "size-barrier")]
async fn barrier() -> (usize, usize) {
    static B: anysync::sync::Barrier = anysync::sync::Barrier::new(1);
    black_box(B.wait().await.unwrap().is_leader());
    (size_of_val(&B), size_of_val(&B.wait()))
}

#[cfg(feature = "size-once-cell")]
async fn once_cell() -> (usize, usize) {
    static C: anysync::sync::OnceCell<u32> = anysync::sync::OnceCell::new();
    black_box(*C.get_or_init(|| async { black_box(7) }).await);
    black_box(C.get());
    let init = C.get_or_init(|| async { black_box(8) });
    (size_of_val(&C), size_of_val(&init))
}

#[cfg(feature = "size-static-channel")]
async fn static_channel() -> (usize, usize) {
    static C: anysync::channel::StaticChannel<u32, 4> = anysync::channel::StaticChannel::new();
    C.send(black_box(1)).await.unwrap();
    black_box(C.recv().await.unwrap());
    black_box(C.try_send(2).is_ok());
    black_box(C.try_recv().is_ok());
    (size_of_val(&C), size_of_val(&C.recv()))
}

#[cfg(any(
    feature = "size-embassy-mutex",
    feature = "size-embassy-rwlock",
    feature = "size-embassy-semaphore",
    feature = "size-embassy-signal",
    feature = "size-embassy-channel",
))]
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex as Raw;

#[cfg(feature = "size-embassy-mutex")]
async fn embassy_mutex() -> (usize, usize) {
    static M: embassy_sync::mutex::Mutex<Raw, u32> = embassy_sync::mutex::Mutex::new(0);
    *M.lock().await += black_box(1);
    black_box(M.try_lock().is_ok());
    (size_of_val(&M), size_of_val(&M.lock()))
}

#[cfg(feature = "size-embassy-rwlock")]
async fn embassy_rwlock() -> (usize, usize) {
    static L: embassy_sync::rwlock::RwLock<Raw, u32> = embassy_sync::rwlock::RwLock::new(0);
    *L.write().await += black_box(1);
    black_box(*L.read().await);
    black_box(L.try_read().is_ok());
    (size_of_val(&L), size_of_val(&L.write()))
}

#[cfg(feature = "size-embassy-semaphore")]
async fn embassy_semaphore() -> (usize, usize) {
    use embassy_sync::semaphore::{FairSemaphore, Semaphore};
    // FIFO like anysync's; room for 8 queued tasks.
    static S: FairSemaphore<Raw, 8> = FairSemaphore::new(1);
    let permit = S.acquire(1).await.unwrap();
    black_box(S.try_acquire(1).is_some());
    drop(permit);
    (size_of_val(&S), size_of_val(&S.acquire(1)))
}

#[cfg(feature = "size-embassy-signal")]
async fn embassy_signal() -> (usize, usize) {
    static S: embassy_sync::signal::Signal<Raw, u32> = embassy_sync::signal::Signal::new();
    S.signal(black_box(1));
    black_box(S.wait().await);
    black_box(S.signaled());
    (size_of_val(&S), size_of_val(&S.wait()))
}

#[cfg(feature = "size-embassy-channel")]
async fn embassy_channel() -> (usize, usize) {
    static C: embassy_sync::channel::Channel<Raw, u32, 4> = embassy_sync::channel::Channel::new();
    C.send(black_box(1)).await;
    black_box(C.receive().await);
    black_box(C.try_send(2).is_ok());
    black_box(C.try_receive().is_ok());
    (size_of_val(&C), size_of_val(&C.receive()))
}
