//! Observables measured on configurations: radial distribution function and Widom insertion.
//! (Energy and virial pressure come from `crate::energy`.)

pub mod rdf;
pub mod widom;

pub use rdf::RdfHistogram;
pub use widom::widom_boltzmann_mean;
