//! The engine: pages in, examples and verdicts out. Pure functions over bytes and strings;
//! no I/O, no processes, no editor types. Everything CPython's `doctest` decides is decided
//! here, the same way.

pub mod check;
pub mod diff;
pub mod doctest;
pub mod doctestplus;
pub mod dot;
pub mod figures;
pub mod flags;
pub mod graph;
pub mod graph_diff;
pub mod judge;
pub mod markdown;
pub mod page;
pub mod profile;
pub mod pystr;
pub mod pytest_flags;
pub mod rst;
pub mod sphinx;
pub mod update;

pub use flags::{Flag, FlagBehavior, FlagRegistry, FlagSet};
pub use page::{Example, Page, PageFormat, ParseError, parse_page, parse_page_as};
pub use profile::{Profile, Reading};
