//! The learning engine of autolearn: pure, deterministic domain logic with no AWS dependency.
