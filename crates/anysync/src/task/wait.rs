//! Wait modes: asyncio's `wait(..., return_when, timeout)`, on
//! futures-util's `FuturesUnordered`.

use alloc::vec::Vec;
use core::{
    fmt,
    future::{Future, Pending},
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use futures_core::{FusedFuture, TryFuture};
use futures_util::{stream::FuturesUnordered, StreamExt};
use pin_project_lite::pin_project;

use crate::rt::Timer;

/// One completed future's input position and output.
type Done<F> = (usize, Result<<F as TryFuture>::Ok, <F as TryFuture>::Error>);

/// When [`wait`] returns (asyncio's `return_when`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReturnWhen {
    /// As soon as any future completes (`FIRST_COMPLETED`).
    FirstCompleted,
    /// As soon as any future returns `Err`, or when all have completed
    /// (`FIRST_EXCEPTION`).
    FirstError,
    /// When every future has completed (`ALL_COMPLETED`).
    AllCompleted,
}

/// What [`wait`] returns: the outputs of the futures that completed and the
/// futures still pending, each with its position in the input.
#[non_exhaustive]
pub struct Waited<F: TryFuture> {
    /// `(index, output)` of each completed future, in completion order.
    pub done: Vec<Done<F>>,
    /// `(index, future)` of each future not yet complete; they can be
    /// awaited or waited for again, or dropped to cancel them.
    pub pending: Vec<(usize, F)>,
}

impl<F> fmt::Debug for Waited<F>
where
    F: TryFuture + fmt::Debug,
    F::Ok: fmt::Debug,
    F::Error: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Waited")
            .field("done", &self.done)
            .field("pending", &self.pending)
            .finish()
    }
}

/// Waits for `futures` until `when` says to return (asyncio's `wait`),
/// giving back the outputs so far and the futures still pending (asyncio's
/// `(done, pending)`). Nothing is cancelled: the pending futures are
/// returned as they are, to await further or drop.
///
/// The futures run concurrently in one task (on futures-util's
/// `FuturesUnordered`); they must be `Unpin` (`Box::pin` them if not) so
/// they can be handed back. For a timeout, see [`wait_timeout`].
///
/// | asyncio | anysync / futures-util |
/// |---|---|
/// | `wait(fs, return_when=FIRST_COMPLETED)` | `wait(fs, ReturnWhen::FirstCompleted)`, or futures-util's `select_all` |
/// | `wait(fs, return_when=FIRST_EXCEPTION)` | `wait(fs, ReturnWhen::FirstError)` |
/// | `wait(fs)` (all) | `wait(fs, ReturnWhen::AllCompleted)` |
/// | `as_completed(fs)` | futures-util's `FuturesUnordered` (a `Stream`), or [`TaskGroup::into_stream`](super::TaskGroup::into_stream) |
/// | `gather(*fs, return_exceptions=True)` | futures-util's `join_all` (outputs in input order, errors kept as values) |
/// | `gather(*fs)` | futures-util's `try_join_all` (first error returned, the rest dropped) |
///
/// # Cancel safety
/// This method is **not** cancel safe: dropping the future drops every future it holds,
/// and the outputs collected so far. Use [`wait_timeout`] rather than wrapping it in a timeout.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use anysync::{rt::virtual_time::VirtualTime, task::{wait, ReturnWhen}};
///
/// VirtualTime::new().block_on(|rt| async move {
///     let sources = [3u64, 1, 2].map(|s| {
///         let rt = rt.clone();
///         Box::pin(async move {
///             rt.sleep(Duration::from_secs(s)).await;
///             Ok::<_, ()>(s)
///         })
///     });
///     let waited = wait(sources, ReturnWhen::FirstCompleted).await;
///     assert_eq!(waited.done.len(), 1);
///     assert_eq!(waited.done[0], (1, Ok(1))); // the fastest, at index 1
///     assert_eq!(waited.pending.len(), 2); // drop them to cancel them
/// });
/// ```
pub fn wait<I>(futures: I, when: ReturnWhen) -> WaitFor<I::Item, Pending<()>>
where
    I: IntoIterator,
    I::Item: TryFuture + Unpin,
{
    WaitFor::new(futures, when, core::future::pending())
}

/// [`wait`], returning also when `timeout` passes on `timer`'s clock (with
/// whatever has completed by then). `Duration::MAX` never times out and
/// does not panic.
///
/// # Cancel safety
/// This method is **not** cancel safe: dropping the future drops every future it holds,
/// and the outputs collected so far. Use the `timeout` argument instead of an outer timeout.
pub fn wait_timeout<T, I>(
    timer: &T,
    futures: I,
    when: ReturnWhen,
    timeout: Duration,
) -> WaitFor<I::Item, T::Sleep>
where
    T: Timer,
    I: IntoIterator,
    I::Item: TryFuture + Unpin,
{
    WaitFor::new(futures, when, timer.sleep(timeout))
}

/// A future with its input position.
struct Indexed<F> {
    index: usize,
    future: F,
}

impl<F: TryFuture + Unpin> Future for Indexed<F> {
    type Output = (usize, Result<F::Ok, F::Error>);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let index = self.index;
        Pin::new(&mut self.future)
            .try_poll(cx)
            .map(|out| (index, out))
    }
}

pin_project!(
    /// Future returned by [`wait`] and [`wait_timeout`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct WaitFor<F: TryFuture, S> {
        set: FuturesUnordered<Indexed<F>>,
        done: Vec<Done<F>>,
        when: ReturnWhen,
        #[pin]
        timeout: S,
        finished: bool,
    }
);

impl<F: TryFuture, S> WaitFor<F, S> {
    fn new<I: IntoIterator<Item = F>>(futures: I, when: ReturnWhen, timeout: S) -> Self {
        WaitFor {
            set: futures
                .into_iter()
                .enumerate()
                .map(|(index, future)| Indexed { index, future })
                .collect(),
            done: Vec::new(),
            when,
            timeout,
            finished: false,
        }
    }
}

impl<F, S> Future for WaitFor<F, S>
where
    F: TryFuture + Unpin,
    S: Future<Output = ()>,
{
    type Output = Waited<F>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Waited<F>> {
        let this = self.project();
        assert!(!*this.finished, "`WaitFor` polled after completion");
        let mut ready = this.set.is_empty();
        while !ready {
            match this.set.poll_next_unpin(cx) {
                Poll::Ready(Some((index, out))) => {
                    let failed = out.is_err();
                    this.done.push((index, out));
                    ready = match this.when {
                        ReturnWhen::FirstCompleted => true,
                        ReturnWhen::FirstError => failed || this.set.is_empty(),
                        ReturnWhen::AllCompleted => this.set.is_empty(),
                    };
                }
                Poll::Ready(None) => ready = true,
                Poll::Pending => break,
            }
        }
        if !ready && this.timeout.poll(cx).is_pending() {
            return Poll::Pending;
        }
        *this.finished = true;
        let set = core::mem::take(this.set);
        let mut pending: Vec<_> = set.into_iter().map(|i| (i.index, i.future)).collect();
        pending.sort_by_key(|(index, _)| *index);
        Poll::Ready(Waited {
            done: core::mem::take(this.done),
            pending,
        })
    }
}

impl<F, S> FusedFuture for WaitFor<F, S>
where
    F: TryFuture + Unpin,
    S: Future<Output = ()>,
{
    fn is_terminated(&self) -> bool {
        self.finished
    }
}

impl<F: TryFuture, S> fmt::Debug for WaitFor<F, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitFor")
            .field("when", &self.when)
            .field("pending", &self.set.len())
            .field("done", &self.done.len())
            .finish()
    }
}
