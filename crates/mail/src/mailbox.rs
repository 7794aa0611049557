//! Reading messages from `.eml` files, mbox files and Maildir folders.
