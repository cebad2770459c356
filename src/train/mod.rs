//! Training by denoising score matching: AdamW, learning-rate schedule, data sets and the
//! deterministic data-parallel step (docs/design.md sec. 2 and 7).

pub mod adamw;
pub mod dataset;
pub mod loss;
pub mod settings;
pub mod target;
pub mod trainer;

pub use adamw::AdamW;
pub use dataset::Dataset;
pub use settings::TrainSettings;
pub use trainer::{History, Trainer};
