//! Reverse-time SDE sampling with accumulation of the TI integrand (DESIGN.md sec. 2).
