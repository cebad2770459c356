//! Files: the HDF5 results file (H5MD 1.1 trajectories and observables, scalar results,
//! provenance), safe output creation, and `nti summary`.

pub mod attribution;
pub mod checkpoint;
pub mod fit_request;
pub mod h5md;
pub mod h5util;
pub mod output;
pub mod partial;
pub mod provenance;
pub mod results;
pub mod summary;
pub mod trajectories;
pub mod units;

pub use output::OutputFile;
pub use provenance::Provenance;
pub use results::ScalarResult;
