//! Lectern's object storage: files' bytes live in S3 (or, locally, in the embedded S3 endpoint) and
//! move only through presigned URLs; the API decides who gets one.
//!
//! # Layout
//! - [`limits`]: what each file purpose accepts (content types, largest size), as data, and the check
//!   of an upload request against it.
//! - [`object_key`]: tenant- and owner-scoped object keys, and the `pending/` prefix of unconfirmed
//!   uploads that the bucket's lifecycle rule expires.
//! - [`disposition`]: the RFC 6266 `content-disposition` that carries a file's original name.
//! - [`store`]: `ObjectStore` over aws-sdk-s3: presigned PUT and GET, head, copy, delete; its
//!   configuration.

pub mod disposition;
pub mod limits;
pub mod object_key;
pub mod store;

pub use limits::{Category, LimitError, category};
pub use store::{ObjectInfo, ObjectStore, ObjectStoreConfig, ObjectStoreError, PresignedUrl};
