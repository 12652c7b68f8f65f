//! Panics are bug reports, not outages: a future wrapped in [`CatchPanic`] resolves to
//! `Err(message)` when it panics, so a handler can answer with an internal error and an actor
//! can be restarted, while the server keeps serving.
//!
//! Also the hidden test hook `OBJGRAPH_DOCTEST_TEST_PANIC`: a comma-separated list of places
//! (`hover`, `codeAction`, `didChange`, `actor`, ...) that panic once each, so that tests can
//! prove a panic there is survived. Unset, it costs one lookup at start.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

/// A future that turns a panic while polling `inner` into `Err(message)`.
pub struct CatchPanic<F> {
    inner: Pin<Box<F>>,
}

impl<F: Future> CatchPanic<F> {
    pub fn new(inner: F) -> CatchPanic<F> {
        CatchPanic {
            inner: Box::pin(inner),
        }
    }
}

impl<F: Future> Future for CatchPanic<F> {
    type Output = Result<F::Output, String>;

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        // The inner future is not polled again after a panic (we resolve with the error), so
        // whatever half-updated state it held is dropped, never observed.
        let inner = self.inner.as_mut();
        match catch_unwind(AssertUnwindSafe(|| inner.poll(context))) {
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(panic_message(payload.as_ref()))),
        }
    }
}

/// The text a panic was raised with.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

/// Places that still have to panic once (from `OBJGRAPH_DOCTEST_TEST_PANIC`).
pub struct PanicHook {
    armed: Mutex<Vec<String>>,
}

impl PanicHook {
    pub fn from_env() -> PanicHook {
        let armed = std::env::var("OBJGRAPH_DOCTEST_TEST_PANIC")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|place| !place.is_empty())
            .map(str::to_owned)
            .collect();
        PanicHook {
            armed: Mutex::new(armed),
        }
    }

    /// Panics if the test hook asked for a panic at `place` and it has not happened yet.
    pub fn at(&self, place: &str) {
        let fire = self.armed.lock().is_ok_and(|mut armed| {
            let found = armed.iter().position(|armed| armed == place);
            found.map(|position| armed.remove(position)).is_some()
        });
        if fire {
            panic!("test panic at {place} (OBJGRAPH_DOCTEST_TEST_PANIC)");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_future_resolves_to_its_message() {
        let caught = CatchPanic::new(async { panic!("boom {}", 1) }).await;
        assert_eq!(caught, Err::<(), _>("boom 1".to_owned()));
        assert_eq!(CatchPanic::new(async { 7 }).await, Ok(7));
    }

    #[test]
    fn the_hook_fires_once_per_place() {
        let hook = PanicHook {
            armed: Mutex::new(vec!["hover".to_owned()]),
        };
        hook.at("codeAction");
        assert!(catch_unwind(AssertUnwindSafe(|| hook.at("hover"))).is_err());
        hook.at("hover");
    }
}
