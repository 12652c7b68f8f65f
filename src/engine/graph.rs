//! The page graph: pages and the pages they include or list in a toctree, built with petgraph.
