"""examples/with_files: a multi-tenant file service on plumego.x.fileapi (local disk by default, S3 by URL)."""
