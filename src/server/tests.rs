//! Handler tests: every endpoint and error code through `router(state).oneshot(..)`.
