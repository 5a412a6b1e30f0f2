//! The name the public `/verify` page shows next to a genuine code: the domain's masking
//! (`domain::mask`), which the retention purge also applies to stored names.

pub use crate::domain::mask::mask_name;
