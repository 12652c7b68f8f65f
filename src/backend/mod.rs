//! The backend: owns Python processes. A warm zygote imports the preload modules once; each
//! page runs in a process forked from it, driven example by example over a private socket.

mod acceptor;
pub mod checkpoint;
pub mod inspect;
pub mod interpreter;
pub mod procs;
pub mod protocol;
pub mod shutdown;
pub mod worker;

pub use checkpoint::Checkpoint;
pub use inspect::InspectQuery;
pub use protocol::{ExampleResult, RaisedException};
pub use worker::{
    Backend, BackendError, BackendOptions, ExitStatus, Fault, PageProcess, PageSetup,
};
