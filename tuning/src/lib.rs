//! Host checks and limits.
