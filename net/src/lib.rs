//! Network layer.
