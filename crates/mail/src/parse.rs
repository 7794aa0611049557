//! Decoding one raw message into a [`model::Mail`] within [`Limits`].
