//! The runtime under the event loop: the [`reactor`], which waits on the
//! operating system for file descriptors (sockets, pipes, child processes)
//! and signals, and turns their readiness into ready-queue callbacks; and
//! [`signals`], what each signal does when it arrives.

pub mod reactor;
pub mod signals;
