//! The Pressero connector.
