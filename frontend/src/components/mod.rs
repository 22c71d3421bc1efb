//! Components shared by the pages.

pub mod age;
pub mod collect;
pub mod confirm;
pub mod copy_button;
pub mod data_table;
pub mod empty_row;
pub mod facts;
pub mod field;
pub mod log_viewer;
pub mod modal;
pub mod notice;
pub mod numbered_page;
pub mod show;
pub mod status_badge;
pub mod steps;
pub mod tabs;
pub mod text_area;
pub mod toast;

pub use age::Age;
pub use collect::{CollectAny, CollectVec};
pub use confirm::ConfirmDialog;
pub use copy_button::CopyButton;
pub use data_table::{Column, DataTable, SortKey, int_key};
pub use empty_row::{EmptyRow, loading_or};
pub use facts::{Fact, Facts};
pub use field::{Check, FieldSpec, FormError, FormErrors, password_hint};
pub use log_viewer::LogViewer;
pub use modal::Modal;
pub use notice::{MissingNotice, numbered_missing_text};
pub use numbered_page::NumberedPage;
pub use show::Show;
pub use status_badge::{StatusBadge, Tone, tone_of};
pub use steps::{StepLine, StepList};
pub use tabs::tab_button;
pub use text_area::TextArea;
pub use toast::{ToastContainer, Toasts, provide_toasts, use_toasts};
