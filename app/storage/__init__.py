"""Content-addressed blob storage for attachments, documents and PDFs."""

from app.storage.blobs import BlobStore, StoredBlob, blob_store

__all__ = ["BlobStore", "StoredBlob", "blob_store"]
