//! [`QueueItem`]: an item got from a queue that marks itself done when
//! dropped, and the future that gets one.

use core::{
    fmt,
    future::Future,
    ops::{Deref, DerefMut},
    pin::Pin,
    task::{Context, Poll},
};

use futures_core::FusedFuture;
use pin_project_lite::pin_project;

use super::{
    types::{Core, Get},
    Fifo, Order, ShutDown,
};

/// An item got from a queue with [`get_tracked`](super::GenericQueue::get_tracked)
/// or [`try_get_tracked`](super::GenericQueue::try_get_tracked): it marks
/// itself [done](super::GenericQueue::task_done) when it is dropped.
///
/// It derefs to the item. However the worker holding it ends (it
/// finishes, returns early with `?`, or panics and unwinds), dropping the
/// `QueueItem` counts the item as processed, so
/// [`join`](super::GenericQueue::join) is never left waiting for an item
/// nobody will finish.
///
/// * [`done`](Self::done) marks it done now and hands the item out.
/// * [`into_inner`](Self::into_inner) hands the item out *without* marking
///   it done: the caller then owes the queue one
///   [`task_done`](super::GenericQueue::task_done), as after a plain
///   [`get`](super::GenericQueue::get).
///
/// The item is dropped first, then marked done (still marked done if its
/// `Drop` panics).
///
/// # Examples
///
/// ```
/// # futures_executor::block_on(async {
/// use anysync::queue::Queue;
///
/// let q = Queue::unbounded();
/// q.put(String::from("job")).await.unwrap();
/// {
///     let job = q.get_tracked().await.unwrap();
///     assert_eq!(job.len(), 3); // derefs to the item
/// } // dropped: marked done
/// assert_eq!(q.unfinished_tasks(), 0);
/// q.join().await;
/// # });
/// ```
#[must_use = "dropping it at once marks the item done unprocessed"]
pub struct QueueItem<'a, T, O: Order<T> = Fifo> {
    // Declared first: dropped before `done` marks the item done.
    item: T,
    done: DoneOnDrop<'a, T, O>,
}

/// Marks one item of its queue done when dropped.
struct DoneOnDrop<'a, T, O: Order<T>> {
    core: &'a Core<T, O>,
}

impl<T, O: Order<T>> Drop for DoneOnDrop<'_, T, O> {
    fn drop(&mut self) {
        // It cannot fail unless `task_done` was also called by hand for
        // this item, which already counted it: nothing left to do then.
        let _ = self.core.task_done();
    }
}

impl<'a, T, O: Order<T>> QueueItem<'a, T, O> {
    pub(super) fn new(item: T, core: &'a Core<T, O>) -> Self {
        Self {
            item,
            done: DoneOnDrop { core },
        }
    }

    /// Marks the item done and returns it.
    ///
    /// # Examples
    ///
    /// ```
    /// use anysync::queue::Queue;
    ///
    /// let q = Queue::unbounded();
    /// q.try_put(7).unwrap();
    /// let item = q.try_get_tracked().unwrap();
    /// assert_eq!(item.done(), 7);
    /// assert_eq!(q.unfinished_tasks(), 0);
    /// ```
    pub fn done(self) -> T {
        let QueueItem { item, done } = self;
        drop(done);
        item
    }

    /// Returns the item without marking it done: call
    /// [`task_done`](super::GenericQueue::task_done) once it is processed.
    ///
    /// # Examples
    ///
    /// ```
    /// use anysync::queue::Queue;
    ///
    /// let q = Queue::unbounded();
    /// q.try_put(7).unwrap();
    /// let item = q.try_get_tracked().unwrap().into_inner();
    /// assert_eq!(q.unfinished_tasks(), 1);
    /// # let _ = item;
    /// q.task_done().unwrap();
    /// assert_eq!(q.unfinished_tasks(), 0);
    /// ```
    pub fn into_inner(self) -> T {
        let QueueItem { item, done } = self;
        core::mem::forget(done);
        item
    }
}

impl<T, O: Order<T>> Deref for QueueItem<'_, T, O> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.item
    }
}

impl<T, O: Order<T>> DerefMut for QueueItem<'_, T, O> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.item
    }
}

impl<T: fmt::Debug, O: Order<T>> fmt::Debug for QueueItem<'_, T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("QueueItem").field(&self.item).finish()
    }
}

pin_project!(
    /// Future returned by [`get_tracked`](super::GenericQueue::get_tracked).
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct GetTracked<'a, T, O: Order<T> = Fifo> {
        #[pin]
        inner: Get<'a, T, O>,
        core: &'a Core<T, O>,
    }
);

impl<'a, T, O: Order<T>> GetTracked<'a, T, O> {
    pub(super) fn new(inner: Get<'a, T, O>, core: &'a Core<T, O>) -> Self {
        Self { inner, core }
    }
}

impl<'a, T, O: Order<T>> Future for GetTracked<'a, T, O> {
    type Output = Result<QueueItem<'a, T, O>, ShutDown>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let core: &'a Core<T, O> = this.core;
        this.inner
            .poll(cx)
            .map(|r| r.map(|item| QueueItem::new(item, core)))
    }
}

impl<T, O: Order<T>> FusedFuture for GetTracked<'_, T, O> {
    fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}

impl<T, O: Order<T>> fmt::Debug for GetTracked<'_, T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GetTracked")
            .field("inner", &self.inner)
            .finish()
    }
}
