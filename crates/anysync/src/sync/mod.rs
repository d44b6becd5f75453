//! Locks, semaphores, events and notifications.
