//! Flows: orchestrations over the ports (store, queue, secrets, clock, HTTP). Lambda functions
//! and the local runner call these; the rules they apply live in `core` or beside them as pure
//! functions with unit tests.

pub mod delivery;
